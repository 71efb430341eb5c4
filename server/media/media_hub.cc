#include "media/media_hub.h"

#include <chrono>
#include <type_traits>

#include "absl/container/flat_hash_set.h"
#include "core/device_digits.h"
#include "linebridge/lineerr.h"

namespace linebridge::media {

static_assert(std::is_same_v<Frame, DeviceFrame>, "the hub's frame is the devices' frame");
namespace {

constexpr auto kTick = std::chrono::milliseconds(kFrameMs);
constexpr auto kMaxLag = std::chrono::milliseconds(100);

// What a simulated far end's prompt sounds like: 660 Hz, 800 ms on, 400 ms off.
std::unique_ptr<ToneSource> NewPrompt() {
  v1::GenerateTone t;
  t.set_kind(v1::TONE_KIND_CUSTOM);
  t.mutable_custom()->set_frequency1_hz(660);
  t.mutable_custom()->set_level_dbm0(-16);
  t.mutable_custom()->set_on_ms(800);
  t.mutable_custom()->set_off_ms(400);
  return *ToneSource::ForTone(t);
}

}  // namespace

MediaHub::MediaHub(CallDirectory* calls, HubOptions options) : calls_(calls), options_(options) {
  if (options_.run_clock) clock_ = std::thread([this] { Run(); });
}

MediaHub::~MediaHub() {
  Shutdown();
  if (clock_.joinable()) clock_.join();
}

absl::StatusOr<MediaHub::StreamId> MediaHub::Attach(const std::string& call_id, MediaSink* sink) {
  absl::MutexLock lock(&mu_);
  if (stopped_) return absl::UnavailableError("the server is shutting down");
  if (streams_.size() >= options_.max_streams) {
    return ResourceExhausted(LINEERR_RESOURCEUNAVAIL, "too many media streams on this server");
  }
  const StreamId id = next_id_++;
  Stream& s = streams_[id];
  s.call_id = call_id;
  s.sink = sink;
  dirty_ = true;
  return id;
}

std::optional<StreamCounters> MediaHub::Detach(StreamId id) {
  absl::MutexLock lock(&mu_);
  auto it = streams_.find(id);
  if (it == streams_.end()) return std::nullopt;
  const StreamCounters counters = it->second.counters;
  auto ep = endpoints_.find(it->second.call_id);
  if (ep != endpoints_.end()) std::erase(ep->second.streams, id);
  streams_.erase(it);
  dirty_ = true;
  return counters;
}

void MediaHub::PushFrame(StreamId id, const Frame& frame) {
  absl::MutexLock lock(&mu_);
  auto it = streams_.find(id);
  if (it == streams_.end()) return;
  Stream& s = it->second;
  if (s.input.size() >= options_.input_frames) {
    ++s.counters.overrun;
    return;
  }
  s.input.push_back(frame);
}

void MediaHub::PlayTone(StreamId id, std::unique_ptr<ToneSource> tone) {
  absl::MutexLock lock(&mu_);
  auto it = streams_.find(id);
  if (it == streams_.end()) return;
  if (it->second.tone != nullptr) it->second.sink->OnToneDone(true);
  it->second.tone = std::move(tone);
}

void MediaHub::StopTone(StreamId id) {
  absl::MutexLock lock(&mu_);
  auto it = streams_.find(id);
  if (it == streams_.end() || it->second.tone == nullptr) return;
  it->second.tone.reset();
  it->second.sink->OnToneDone(true);
}

void MediaHub::PlaySource(StreamId id, std::unique_ptr<FrameSource> source) {
  absl::MutexLock lock(&mu_);
  auto it = streams_.find(id);
  if (it == streams_.end()) return;
  if (it->second.source != nullptr) it->second.sink->OnSourceDone(true);
  it->second.source = std::move(source);
}

void MediaHub::StopSource(StreamId id) {
  absl::MutexLock lock(&mu_);
  auto it = streams_.find(id);
  if (it == streams_.end() || it->second.source == nullptr) return;
  it->second.source.reset();
  it->second.sink->OnSourceDone(true);
}

void MediaHub::Gather(StreamId id, DigitGatherer gatherer) {
  absl::MutexLock lock(&mu_);
  auto it = streams_.find(id);
  if (it == streams_.end()) return;
  if (it->second.gather) it->second.sink->OnDigitsGathered(it->second.gather->Cancel());
  it->second.gather = std::move(gatherer);
}

void MediaHub::StopGather(StreamId id) {
  absl::MutexLock lock(&mu_);
  auto it = streams_.find(id);
  if (it == streams_.end() || !it->second.gather) return;
  it->second.sink->OnDigitsGathered(it->second.gather->Cancel());
  it->second.gather.reset();
}

void MediaHub::EndStream(absl::flat_hash_map<StreamId, Stream>::iterator it, bool shutdown) {
  auto ep = endpoints_.find(it->second.call_id);
  if (ep != endpoints_.end()) std::erase(ep->second.streams, it->first);
  it->second.sink->OnCallEnded(it->second.counters, shutdown);
  streams_.erase(it);
}

void MediaHub::Shutdown() {
  absl::MutexLock lock(&mu_);
  stopped_ = true;
  while (!streams_.empty()) EndStream(streams_.begin(), true);
  DetachDevices(endpoints_);
  endpoints_.clear();
}

void MediaHub::DetachDevices(absl::flat_hash_map<std::string, Endpoint>& endpoints) {
  for (auto& [call_id, ep] : endpoints) {
    if (ep.route.device != nullptr) ep.route.device->Attached(false);
  }
}

MediaHub::Totals MediaHub::totals() {
  absl::MutexLock lock(&mu_);
  Totals t = totals_;
  t.streams = streams_.size();
  t.endpoints = endpoints_.size();
  return t;
}

void MediaHub::Refresh() {
  const uint64_t generation = calls_->generation();
  std::vector<std::string> ids;
  {
    absl::MutexLock lock(&mu_);
    if (!dirty_ && generation == seen_generation_) return;
    dirty_ = false;
    seen_generation_ = generation;
    absl::flat_hash_set<std::string> unique;
    for (const auto& [id, s] : streams_) {
      if (unique.insert(s.call_id).second) ids.push_back(s.call_id);
    }
    if (ids.empty()) {
      DetachDevices(endpoints_);
      endpoints_.clear();
      return;
    }
  }
  // The engine lock, without the hub's.
  absl::flat_hash_map<std::string, CallView> views = calls_->Lookup(ids, 2);
  absl::MutexLock lock(&mu_);
  // Streams on calls that are gone end; streams attached meanwhile wait for
  // the next refresh.
  for (auto it = streams_.begin(); it != streams_.end();) {
    auto next = std::next(it);
    auto v = views.find(it->second.call_id);
    if (v == views.end()) {
      dirty_ = true;
    } else if (!v->second.live || !v->second.carries_media) {
      EndStream(it, false);
    }
    it = next;
  }
  absl::flat_hash_map<std::string, Endpoint> endpoints;
  for (auto& [call_id, view] : views) {
    if (!view.live || !view.carries_media) continue;
    auto old = endpoints_.find(call_id);
    Endpoint& ep = endpoints[call_id];
    if (old != endpoints_.end()) ep = std::move(old->second);
    ep.streams.clear();
    if (view.route.far_end != MediaRoute::FarEnd::kPrompt) {
      ep.prompt.reset();
    } else if (ep.prompt == nullptr) {
      ep.prompt = NewPrompt();
    }
    if (ep.route.device != view.route.device) {
      if (ep.route.device != nullptr) ep.route.device->Attached(false);
      if (view.route.device != nullptr) view.route.device->Attached(true);
    }
    ep.route = std::move(view.route);
    if (old != endpoints_.end()) endpoints_.erase(old);
  }
  DetachDevices(endpoints_);  // endpoints that are gone
  for (const auto& [id, s] : streams_) {
    auto ep = endpoints.find(s.call_id);
    if (ep != endpoints.end()) ep->second.streams.push_back(id);
  }
  endpoints_ = std::move(endpoints);
}

void MediaHub::Tick() {
  absl::MutexLock tick_lock(&tick_mu_);
  Refresh();
  std::vector<std::pair<std::string, char>> digits;
  {
    absl::MutexLock lock(&mu_);
    if (stopped_) return;
    ++totals_.ticks;
    const bool stats = totals_.ticks % static_cast<uint64_t>(options_.stats_every_ticks) == 0;
    // What each call sends: its clients' frames and tones.
    Frame scratch;
    for (auto& [call_id, ep] : endpoints_) {
      ep.sent.fill(0);
      for (StreamId sid : ep.streams) {
        Stream& s = streams_.at(sid);
        if (!s.primed && s.input.size() >= options_.jitter_frames) s.primed = true;
        if (!s.primed || s.input.empty()) {
          ++s.counters.underrun;
          s.primed = false;
          if (s.talked) {
            s.concealer->Conceal(&scratch);
            MixInto(ep.sent, scratch);
          }
        } else {
          s.concealer->Received(&s.input.front());
          MixInto(ep.sent, s.input.front());
          s.input.pop_front();
          ++s.counters.received;
          s.talked = true;
        }
        if (s.tone != nullptr) {
          const bool more = s.tone->Next(&scratch);
          MixInto(ep.sent, scratch);
          if (!more) {
            s.tone.reset();
            s.sink->OnToneDone(false);
          }
        }
        if (s.source != nullptr) {
          if (s.source->Next(&scratch)) {
            MixInto(ep.sent, scratch);
          } else {
            s.source.reset();
            s.sink->OnSourceDone(false);
          }
        }
      }
    }
    // What each call hears, detected and delivered.
    Frame heard;
    Frame device_frame;
    std::string found;
    std::string device_digits;
    for (auto& [call_id, ep] : endpoints_) {
      heard.fill(0);
      for (const std::string& source : ep.route.hears) {
        auto it = endpoints_.find(source);
        if (it != endpoints_.end() && it->first != call_id) MixInto(heard, it->second.sent);
      }
      if (ep.route.far_end == MediaRoute::FarEnd::kEcho) MixInto(heard, ep.previous_sent);
      // A device that signals its digits is heard after the detector.
      bool device_heard = false, device_signals = false;
      device_digits.clear();
      if (ep.route.device != nullptr) {
        if (auto* signals = dynamic_cast<DeviceDigits*>(ep.route.device.get())) {
          device_signals = true;
          signals->TakeDigits(&device_digits);
        }
        device_heard = ep.route.device->Pull(&device_frame);
        ep.route.device->Push(ep.sent);
        if (device_heard && !device_signals) MixInto(heard, device_frame);
      }
      if (ep.prompt != nullptr) {
        if (!ep.prompt->Next(&scratch)) ep.prompt = NewPrompt();
        MixInto(heard, scratch);
      }
      found.clear();
      ep.dtmf->Feed(heard, &found);
      for (char d : found) digits.emplace_back(call_id, d);
      if (device_heard && device_signals) MixInto(heard, device_frame);
      found += device_digits;  // gathered, but already reported by the provider
      for (StreamId sid : ep.streams) {
        Stream& s = streams_.at(sid);
        s.sink->OnAudio(heard);
        s.sink->OnSent(ep.sent);
        if (s.gather) {
          std::optional<DigitGatherer::Result> done;
          for (size_t i = 0; i < found.size() && !done; ++i) done = s.gather->OnDigit(found[i]);
          if (!done) done = s.gather->OnTick();
          if (done) {
            s.gather.reset();
            s.sink->OnDigitsGathered(*done);
          }
        }
        if (stats) s.sink->OnStats(s.counters);
      }
    }
    for (auto& [call_id, ep] : endpoints_) ep.previous_sent = ep.sent;
    totals_.digits += digits.size();
  }
  calls_->DigitsDetected(digits);
}

void MediaHub::Run() {
  using Clock = std::chrono::steady_clock;
  Clock::time_point next = Clock::now();
  for (;;) {
    bool idle;
    {
      absl::MutexLock lock(&mu_);
      auto wake = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
        return stopped_ || !streams_.empty();
      };
      idle = !wake();
      mu_.Await(absl::Condition(&wake));
      if (stopped_) return;
    }
    if (idle) next = Clock::now();
    Tick();
    next += kTick;
    const Clock::time_point now = Clock::now();
    if (now > next + kMaxLag) {
      absl::MutexLock lock(&mu_);
      ++totals_.late_ticks;
      next = now;
    } else {
      std::this_thread::sleep_until(next);
    }
  }
}

}  // namespace linebridge::media
