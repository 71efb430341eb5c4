#include "media/call_tasks.h"

#include <algorithm>
#include <iterator>
#include <utility>

#include "linebridge/lineerr.h"
#include "linebridge/status_macros.h"
#include "media/tones.h"

namespace linebridge::media {

// A task's side of its hub stream: forwards to the tasks by id.
class CallTasks::Sink final : public MediaSink {
 public:
  Sink(CallTasks* owner, TaskId id) : owner_(owner), id_(id) {}
  void OnAudio(const Frame& heard) override { owner_->OnAudio(id_, heard); }
  void OnToneDone(bool cancelled) override { owner_->OnToneDone(id_, cancelled); }
  void OnDigitsGathered(const DigitGatherer::Result& result) override {
    owner_->OnGathered(id_, result);
  }
  void OnStats(const StreamCounters&) override {}
  void OnCallEnded(const StreamCounters&, bool) override { owner_->OnEnded(id_); }

 private:
  CallTasks* const owner_;
  const TaskId id_;
};

CallTasks::CallTasks(CallDirectory* calls, Deliver deliver)
    : calls_(calls), deliver_(std::move(deliver)) {}

CallTasks::~CallTasks() = default;

void CallTasks::set_hub(MediaHub* hub) { hub_ = hub; }

size_t CallTasks::num_streams() {
  absl::MutexLock lock(&mu_);
  size_t n = 0;
  for (const auto& [id, t] : tasks_) n += t.stream != 0 && !t.ended ? 1 : 0;
  return n;
}

CallTasks::Task* CallTasks::Find(const std::string& call_id, const std::string& session_id) {
  auto it = by_key_.find(std::make_pair(call_id, session_id));
  if (it == by_key_.end()) return nullptr;
  Task& t = tasks_.at(it->second);
  return t.ended ? nullptr : &t;
}

absl::StatusOr<MediaHub::StreamId> CallTasks::StreamOf(const std::string& call_id,
                                                       const std::string& session_id) {
  if (hub_ == nullptr) return FailedPrecondition(LINEERR_OPERATIONUNAVAIL, "no media hub");
  Sink* sink;
  TaskId id;
  {
    absl::MutexLock lock(&mu_);
    if (Task* t = Find(call_id, session_id)) return t->stream;
    // A task the hub ended (its call went) is forgotten at the next
    // settlement; a new one takes its place.
    auto old = by_key_.find(std::make_pair(call_id, session_id));
    if (old != by_key_.end()) by_key_.erase(old);
    id = next_id_++;
    Task& t = tasks_[id];
    t.call_id = call_id;
    t.session_id = session_id;
    t.sink = std::make_unique<Sink>(this, id);
    sink = t.sink.get();
    by_key_[std::make_pair(call_id, session_id)] = id;
  }
  absl::StatusOr<MediaHub::StreamId> stream = hub_->Attach(call_id, sink);
  absl::MutexLock lock(&mu_);
  if (!stream.ok()) {
    by_key_.erase(std::make_pair(call_id, session_id));
    tasks_.erase(id);
    return stream.status();
  }
  tasks_.at(id).stream = *stream;
  return *stream;
}

absl::Status CallTasks::GenerateTone(const std::string& call_id, const std::string& session_id,
                                     const v1::GenerateTone& tone, uint32_t end_to_end_id) {
  LB_ASSIGN_OR_RETURN(std::unique_ptr<ToneSource> source, ToneSource::ForTone(tone));
  absl::MutexLock ops(&ops_mu_);
  LB_ASSIGN_OR_RETURN(MediaHub::StreamId stream, StreamOf(call_id, session_id));
  {
    absl::MutexLock lock(&mu_);
    if (Task* t = Find(call_id, session_id)) t->tones.push_back(end_to_end_id);
  }
  hub_->PlayTone(stream, std::move(source));  // the running one ends, cancelled
  Settle();
  return absl::OkStatus();
}

absl::Status CallTasks::CancelTone(const std::string& call_id, const std::string& session_id) {
  absl::MutexLock ops(&ops_mu_);
  MediaHub::StreamId stream = 0;
  {
    absl::MutexLock lock(&mu_);
    if (Task* t = Find(call_id, session_id)) stream = t->stream;
  }
  if (stream != 0) hub_->StopTone(stream);
  Settle();
  return absl::OkStatus();
}

absl::Status CallTasks::GatherDigits(const std::string& call_id, const std::string& session_id,
                                     const v1::GatherDigits& rules, uint32_t end_to_end_id) {
  LB_ASSIGN_OR_RETURN(DigitGatherer gatherer, DigitGatherer::Start(rules));
  absl::MutexLock ops(&ops_mu_);
  LB_ASSIGN_OR_RETURN(MediaHub::StreamId stream, StreamOf(call_id, session_id));
  {
    absl::MutexLock lock(&mu_);
    if (Task* t = Find(call_id, session_id)) t->gathers.push_back(end_to_end_id);
  }
  hub_->Gather(stream, std::move(gatherer));  // the running one ends, cancelled
  Settle();
  return absl::OkStatus();
}

absl::Status CallTasks::CancelGather(const std::string& call_id, const std::string& session_id) {
  absl::MutexLock ops(&ops_mu_);
  MediaHub::StreamId stream = 0;
  {
    absl::MutexLock lock(&mu_);
    if (Task* t = Find(call_id, session_id)) stream = t->stream;
  }
  if (stream != 0) hub_->StopGather(stream);
  Settle();
  return absl::OkStatus();
}

absl::Status CallTasks::MonitorTones(const std::string& call_id, const std::string& session_id,
                                     const v1::MonitorTonesRequest& req) {
  std::unique_ptr<ToneMonitor> monitor;
  if (req.tones_size() > 0) {
    std::vector<ToneMonitor::Tone> tones;
    for (const v1::MonitoredTone& t : req.tones()) {
      tones.push_back(ToneMonitor::Tone{
          t.app_specific(), t.duration_ms(),
          std::vector<uint32_t>(t.frequencies_hz().begin(), t.frequencies_hz().end())});
    }
    monitor = std::make_unique<ToneMonitor>(std::move(tones));
  }
  absl::MutexLock ops(&ops_mu_);
  if (monitor != nullptr) LB_RETURN_IF_ERROR(StreamOf(call_id, session_id).status());
  {
    absl::MutexLock lock(&mu_);
    if (Task* t = Find(call_id, session_id)) {
      t->tone_monitor = std::move(monitor);
      t->tone_list_id = req.tone_list_id();
    }
  }
  Settle();
  return absl::OkStatus();
}

absl::Status CallTasks::MonitorMedia(const std::string& call_id, const std::string& session_id,
                                     const v1::MonitorMediaRequest& req) {
  absl::MutexLock ops(&ops_mu_);
  if (req.modes_size() > 0) LB_RETURN_IF_ERROR(StreamOf(call_id, session_id).status());
  {
    absl::MutexLock lock(&mu_);
    if (Task* t = Find(call_id, session_id)) {
      t->media_modes = std::set<int>(req.modes().begin(), req.modes().end());
      // A new set of modes keeps what was heard so far; stopping forgets it.
      if (req.modes_size() == 0) {
        t->media_monitor.reset();
      } else if (t->media_monitor == nullptr) {
        t->media_monitor = std::make_unique<MediaMonitor>();
      }
    }
  }
  Settle();
  return absl::OkStatus();
}

void CallTasks::DigitsDetected(const std::vector<std::pair<std::string, char>>& digits) {
  calls_->DigitsDetected(digits);
  absl::MutexLock ops(&ops_mu_);
  Settle();
}

void CallTasks::Settle() {
  std::vector<std::pair<std::string, v1::Event>> events;
  std::vector<MediaHub::StreamId> detach;
  {
    absl::MutexLock lock(&mu_);
    events.swap(pending_);
    for (auto it = tasks_.begin(); it != tasks_.end();) {
      auto next = std::next(it);
      Task& t = it->second;
      if (t.ended || t.idle()) {
        if (!t.ended && t.stream != 0) detach.push_back(t.stream);
        auto key = by_key_.find(std::make_pair(t.call_id, t.session_id));
        if (key != by_key_.end() && key->second == it->first) by_key_.erase(key);
        // The sink goes with the task: detached (below) or ended by the hub,
        // it is not called again.
        if (t.ended) tasks_.erase(it);
      }
      it = next;
    }
  }
  for (MediaHub::StreamId s : detach) hub_->Detach(s);
  if (!detach.empty()) {
    absl::MutexLock lock(&mu_);
    for (auto it = tasks_.begin(); it != tasks_.end();) {
      auto next = std::next(it);
      if (!it->second.ended && it->second.idle() &&
          std::find(detach.begin(), detach.end(), it->second.stream) != detach.end()) {
        tasks_.erase(it);
      }
      it = next;
    }
  }
  if (!events.empty()) deliver_(std::move(events));
}

void CallTasks::Queue(const Task& task, v1::Event event) {
  pending_.emplace_back(task.call_id, std::move(event));
}

void CallTasks::OnAudio(TaskId id, const Frame& heard) {
  absl::MutexLock lock(&mu_);
  auto it = tasks_.find(id);
  if (it == tasks_.end()) return;
  Task& t = it->second;
  if (t.tone_monitor != nullptr) {
    std::vector<uint32_t> found;
    t.tone_monitor->Feed(heard, &found);
    for (uint32_t app : found) {
      v1::Event ev;
      v1::ToneDetected* d = ev.mutable_tone_detected();
      d->set_call_id(t.call_id);
      d->set_session_id(t.session_id);
      d->set_tone_list_id(t.tone_list_id);
      d->set_app_specific(app);
      Queue(t, std::move(ev));
    }
  }
  if (t.media_monitor != nullptr) {
    std::optional<v1::MediaMode> mode = t.media_monitor->Feed(heard);
    if (mode && t.media_modes.contains(*mode)) {
      v1::Event ev;
      v1::MediaModeDetected* d = ev.mutable_media_detected();
      d->set_call_id(t.call_id);
      d->set_session_id(t.session_id);
      d->set_media_mode(*mode);
      Queue(t, std::move(ev));
    }
  }
}

void CallTasks::OnToneDone(TaskId id, bool cancelled) {
  absl::MutexLock lock(&mu_);
  auto it = tasks_.find(id);
  if (it == tasks_.end() || it->second.tones.empty()) return;
  Task& t = it->second;
  v1::Event ev;
  v1::ToneGenerated* g = ev.mutable_tone_generated();
  g->set_call_id(t.call_id);
  g->set_session_id(t.session_id);
  g->set_end_to_end_id(t.tones.front());
  g->set_cancelled(cancelled);
  t.tones.erase(t.tones.begin());
  Queue(t, std::move(ev));
}

void CallTasks::OnGathered(TaskId id, const DigitGatherer::Result& result) {
  absl::MutexLock lock(&mu_);
  auto it = tasks_.find(id);
  if (it == tasks_.end() || it->second.gathers.empty()) return;
  Task& t = it->second;
  v1::Event ev;
  v1::GatherCompleted* g = ev.mutable_gather_completed();
  g->set_call_id(t.call_id);
  g->set_session_id(t.session_id);
  g->set_end_to_end_id(t.gathers.front());
  g->set_digits(result.digits);
  g->set_termination(result.termination);
  t.gathers.erase(t.gathers.begin());
  Queue(t, std::move(ev));
}

void CallTasks::OnEnded(TaskId id) {
  absl::MutexLock lock(&mu_);
  auto it = tasks_.find(id);
  if (it != tasks_.end()) it->second.ended = true;
}

}  // namespace linebridge::media
