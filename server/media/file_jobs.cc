#include "media/file_jobs.h"

#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <optional>
#include <utility>

#include "absl/random/random.h"
#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "linebridge/lineerr.h"
#include "linebridge/status_macros.h"
#include "media/media_path.h"
#include "media/silence_detector.h"
#include "media/wav_file.h"

namespace linebridge::media {

namespace {
constexpr size_t kFlushFrames = 25;  // recorded frames handed to the worker at once (500 ms)
constexpr uint32_t kFrameBytes = kFrameSamples * 2;
}  // namespace

// A file's samples, frame by frame (on the media clock).
class FileJobs::Samples final : public FrameSource {
 public:
  Samples(std::vector<int16_t> samples, std::atomic<uint64_t>* frames)
      : samples_(std::move(samples)), frames_(frames) {}
  bool Next(Frame* out) override {
    if (at_ >= samples_.size()) return false;
    const size_t n = std::min(out->size(), samples_.size() - at_);
    std::copy_n(samples_.begin() + static_cast<ptrdiff_t>(at_), n, out->begin());
    std::fill(out->begin() + static_cast<ptrdiff_t>(n), out->end(), 0);
    at_ += n;
    frames_->fetch_add(1, std::memory_order_relaxed);
    return true;
  }

 private:
  const std::vector<int16_t> samples_;
  size_t at_ = 0;
  std::atomic<uint64_t>* const frames_;
};

// One job: the hub's sink for its stream.
class FileJobs::Job final : public MediaSink {
 public:
  Job(FileJobs* owner, v1::MediaJob info)
      : owner_(owner),
        id_(info.job_id()),
        line_id_(info.line_id()),
        kind_(info.kind()),
        info_(std::move(info)) {}

  const std::string& id() const { return id_; }
  const std::string& line_id() const { return line_id_; }

  // Set on the worker before the job is known to anyone else.
  MediaHub::StreamId stream = 0;
  std::atomic<uint64_t> played{0};  // PLAY: frames played
  std::unique_ptr<WavWriter> writer;  // RECORD: the worker's only
  std::string path;                   // RECORD: the file, removed if the job never starts
  uint32_t max_frames = 0;
  uint32_t silence_ms = 0;
  bool both = false;
  std::optional<SilenceDetector> silence;

  // Ends the job (the first reason wins) and hands it to the worker.
  void End(v1::MediaJobEnd why, std::string error = "") {
    absl::MutexLock lock(&mu_);
    EndLocked(why, std::move(error));
  }

  // The job keeps itself alive while it runs; the worker lets go when it
  // is over.
  void Own(std::shared_ptr<Job> self) {
    absl::MutexLock lock(&mu_);
    self_ = std::move(self);
  }
  void Disown() {
    absl::MutexLock lock(&mu_);
    self_.reset();
  }

  // Writing or closing the file failed at the end: that is why it ended.
  void Failed(std::string error) {
    absl::MutexLock lock(&mu_);
    info_.set_end(v1::MEDIA_JOB_END_FAILED);
    info_.set_error(std::move(error));
  }

  // The worker takes the frames recorded so far.
  std::vector<int16_t> TakePending() {
    absl::MutexLock lock(&mu_);
    flush_posted_ = false;
    return std::exchange(pending_, {});
  }

  // The worker has closed the file: the job is over.
  v1::MediaJob Done() {
    absl::MutexLock lock(&mu_);
    info_.set_state(v1::MEDIA_JOB_STATE_DONE);
    FillLocked();
    return info_;
  }

  v1::MediaJob Snapshot() {
    absl::MutexLock lock(&mu_);
    v1::MediaJob out = info_;
    if (out.state() != v1::MEDIA_JOB_STATE_DONE) {
      // Running until the worker has closed it, even if its end is decided.
      out.set_state(v1::MEDIA_JOB_STATE_RUNNING);
      out.set_end(v1::MEDIA_JOB_END_UNSPECIFIED);
      out.set_cancelled(false);
      out.clear_error();
      out.set_duration_ms(DurationLocked());
    }
    return out;
  }

  // MediaSink (hub lock held).
  void OnAudio(const Frame& heard) override {
    if (kind_ != v1::MEDIA_JOB_KIND_RECORD) return;
    absl::MutexLock lock(&mu_);
    if (both) {
      heard_ = heard;
    } else {
      TakeLocked(heard);
    }
  }
  void OnSent(const Frame& sent) override {
    if (kind_ != v1::MEDIA_JOB_KIND_RECORD || !both) return;
    absl::MutexLock lock(&mu_);
    Frame mixed = heard_;
    MixInto(mixed, sent);
    TakeLocked(mixed);
  }
  void OnSourceDone(bool cancelled) override {
    absl::MutexLock lock(&mu_);
    EndLocked(cancelled ? v1::MEDIA_JOB_END_STOPPED : v1::MEDIA_JOB_END_FINISHED, "");
  }
  void OnToneDone(bool) override {}
  void OnDigitsGathered(const DigitGatherer::Result&) override {}
  void OnStats(const StreamCounters&) override {}
  void OnCallEnded(const StreamCounters&, bool shutdown) override {
    absl::MutexLock lock(&mu_);
    EndLocked(shutdown ? v1::MEDIA_JOB_END_SHUTDOWN : v1::MEDIA_JOB_END_CALL_ENDED, "");
  }

 private:
  bool EndLocked(v1::MediaJobEnd why, std::string error) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    if (ended_) return false;
    ended_ = true;
    info_.set_end(why);
    info_.set_error(std::move(error));
    info_.set_cancelled(kind_ == v1::MEDIA_JOB_KIND_PLAY && why != v1::MEDIA_JOB_END_FINISHED);
    owner_->Post([owner = owner_, job = self_] { owner->Finish(job); });
    return true;
  }

  void TakeLocked(const Frame& frame) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    if (ended_) return;
    pending_.insert(pending_.end(), frame.begin(), frame.end());
    ++recorded_;
    silence->Feed(frame);
    const uint64_t bytes = WavWriter::kHeaderBytes + (recorded_ + 1) * uint64_t{kFrameBytes};
    if (silence_ms != 0 && silence->silence_ms() >= silence_ms) {
      EndLocked(v1::MEDIA_JOB_END_SILENCE, "");
    } else if (recorded_ >= max_frames) {
      EndLocked(v1::MEDIA_JOB_END_MAX_DURATION, "");
    } else if (bytes > owner_->options_.max_file_bytes) {
      EndLocked(v1::MEDIA_JOB_END_MAX_SIZE, "");
    } else if (pending_.size() >= kFlushFrames * kFrameSamples && !flush_posted_) {
      flush_posted_ = true;
      owner_->Post([owner = owner_, job = self_] { owner->Flush(job); });
    }
  }

  uint32_t DurationLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    const uint64_t frames = kind_ == v1::MEDIA_JOB_KIND_PLAY
                                ? played.load(std::memory_order_relaxed)
                                : recorded_;
    return static_cast<uint32_t>(std::min<uint64_t>(frames * kFrameMs, UINT32_MAX));
  }

  void FillLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    if (kind_ == v1::MEDIA_JOB_KIND_RECORD && writer != nullptr) {
      info_.set_duration_ms(static_cast<uint32_t>(writer->samples() * 1000 / kSampleRate));
    } else {
      info_.set_duration_ms(std::min(DurationLocked(), info_.file_duration_ms()));
    }
  }

  FileJobs* const owner_;
  const std::string id_;
  const std::string line_id_;
  const v1::MediaJobKind kind_;
  absl::Mutex mu_;
  v1::MediaJob info_ ABSL_GUARDED_BY(mu_);
  bool ended_ ABSL_GUARDED_BY(mu_) = false;
  std::vector<int16_t> pending_ ABSL_GUARDED_BY(mu_);
  bool flush_posted_ ABSL_GUARDED_BY(mu_) = false;
  uint64_t recorded_ ABSL_GUARDED_BY(mu_) = 0;
  Frame heard_ ABSL_GUARDED_BY(mu_) = Frame{};
  std::shared_ptr<Job> self_ ABSL_GUARDED_BY(mu_);
};

FileJobs::FileJobs(MediaHub* hub, FileJobsOptions options)
    : hub_(hub),
      options_(std::move(options)),
      id_prefix_(absl::StrFormat("%08x", absl::Uniform<uint32_t>(absl::BitGen()))),
      worker_([this] { Run(); }) {}

FileJobs::~FileJobs() { Shutdown(); }

std::string FileJobs::NewJobId() { return absl::StrCat(id_prefix_, "-", next_id_++); }

size_t FileJobs::running() {
  absl::MutexLock lock(&mu_);
  return reserved_;
}

absl::Status FileJobs::Reserve() {
  absl::MutexLock lock(&mu_);
  if (stopping_) return absl::UnavailableError("the server is shutting down");
  if (reserved_ >= options_.max_jobs) {
    return ResourceExhausted(LINEERR_RESOURCEUNAVAIL,
                             absl::StrCat("already ", reserved_,
                                          " media file jobs running (media.max_jobs)"));
  }
  ++reserved_;
  return absl::OkStatus();
}

void FileJobs::Release() {
  absl::MutexLock lock(&mu_);
  --reserved_;
}

void FileJobs::Post(std::function<void()> task) {
  absl::MutexLock lock(&mu_);
  tasks_.push_back(std::move(task));
}

void FileJobs::Play(const std::string& call_id, const std::string& line_id,
                    const v1::PlayFileRequest& req, Done done) {
  absl::Status st = CheckMediaFileName(req.file(), "file");
  if (st.ok()) st = Reserve();
  if (!st.ok()) {
    done(st);
    return;
  }
  Post([this, call_id, line_id, file = req.file(), done = std::move(done)]() mutable {
    StartPlay(call_id, line_id, file, std::move(done));
  });
}

void FileJobs::StartPlay(const std::string& call_id, const std::string& line_id,
                         const std::string& file, Done done) {
  absl::StatusOr<std::vector<int16_t>> samples = [&]() -> absl::StatusOr<std::vector<int16_t>> {
    LB_ASSIGN_OR_RETURN(const std::string path, ResolveExisting(options_.media_dir, file, "file"));
    return ReadWav(path, options_.max_file_bytes);
  }();
  if (!samples.ok()) {
    Release();
    done(samples.status());
    return;
  }
  v1::MediaJob info;
  info.set_kind(v1::MEDIA_JOB_KIND_PLAY);
  info.set_call_id(call_id);
  info.set_line_id(line_id);
  info.set_file(file);
  info.set_file_duration_ms(static_cast<uint32_t>(
      std::min<uint64_t>(samples->size() * 1000 / kSampleRate, UINT32_MAX)));
  {
    absl::MutexLock lock(&mu_);
    info.set_job_id(NewJobId());
  }
  auto job = std::make_shared<Job>(this, std::move(info));
  job->Own(job);
  absl::StatusOr<MediaHub::StreamId> stream = hub_->Attach(call_id, job.get());
  if (!stream.ok()) {
    job->Disown();
    Release();
    done(stream.status());
    return;
  }
  job->stream = *stream;
  hub_->PlaySource(*stream, std::make_unique<Samples>(*std::move(samples), &job->played));
  Started(std::move(job), std::move(done));
}

void FileJobs::Record(const std::string& call_id, const std::string& line_id,
                      const v1::RecordCallRequest& req, Done done) {
  const uint32_t max_ms = req.max_duration_ms() == 0 ? options_.max_record_ms : req.max_duration_ms();
  absl::Status st = CheckMediaFileName(req.file(), "file");
  if (st.ok() && (max_ms < kMinRecordMs || max_ms > options_.max_record_ms)) {
    st = InvalidArgument(LINEERR_INVALPARAM,
                         absl::StrFormat("max_duration_ms %u out of range [%u, %u] "
                                         "(media.max_record_ms)",
                                         max_ms, kMinRecordMs, options_.max_record_ms));
  }
  if (st.ok() && req.silence_ms() != 0 &&
      (req.silence_ms() < kMinSilenceMs || req.silence_ms() > kMaxSilenceMs)) {
    st = InvalidArgument(LINEERR_INVALPARAM,
                         absl::StrFormat("silence_ms %u out of range [%u, %u] (or 0: none)",
                                         req.silence_ms(), kMinSilenceMs, kMaxSilenceMs));
  }
  if (st.ok() && !v1::RecordAudio_IsValid(req.audio())) {
    st = InvalidArgument(LINEERR_INVALPARAM, absl::StrCat("audio ", req.audio(), " is unknown"));
  }
  if (st.ok()) st = Reserve();
  if (!st.ok()) {
    done(st);
    return;
  }
  Post([this, call_id, line_id, req, max_ms, done = std::move(done)]() mutable {
    StartRecord(call_id, line_id, req, max_ms, std::move(done));
  });
}

void FileJobs::StartRecord(const std::string& call_id, const std::string& line_id,
                           const v1::RecordCallRequest& req, uint32_t max_ms, Done done) {
  absl::StatusOr<std::unique_ptr<WavWriter>> writer = [&]() -> absl::StatusOr<std::unique_ptr<WavWriter>> {
    LB_ASSIGN_OR_RETURN(const int fd, CreateNew(options_.recordings_dir, req.file(), "file"));
    return WavWriter::Open(fd);
  }();
  if (!writer.ok()) {
    Release();
    done(writer.status());
    return;
  }
  v1::MediaJob info;
  info.set_kind(v1::MEDIA_JOB_KIND_RECORD);
  info.set_call_id(call_id);
  info.set_line_id(line_id);
  info.set_file(req.file());
  {
    absl::MutexLock lock(&mu_);
    info.set_job_id(NewJobId());
  }
  auto job = std::make_shared<Job>(this, std::move(info));
  job->Own(job);
  job->writer = *std::move(writer);
  job->path = absl::StrCat(options_.recordings_dir, "/", req.file());
  job->max_frames = std::max<uint32_t>(1, max_ms / kFrameMs);
  job->silence_ms = req.silence_ms();
  job->both = req.audio() == v1::RECORD_AUDIO_BOTH;
  job->silence.emplace();
  absl::StatusOr<MediaHub::StreamId> stream = hub_->Attach(call_id, job.get());
  if (!stream.ok()) {
    job->Disown();
    (void)job->writer->Close();
    ::unlink(job->path.c_str());
    Release();
    done(stream.status());
    return;
  }
  job->stream = *stream;
  Started(std::move(job), std::move(done));
}

void FileJobs::Started(std::shared_ptr<Job> job, Done done) {
  bool stopping;
  {
    absl::MutexLock lock(&mu_);
    jobs_[job->id()] = job;
    stopping = stopping_;
  }
  done(job->Snapshot());
  if (stopping) job->End(v1::MEDIA_JOB_END_SHUTDOWN);
}

bool FileJobs::Wait(const std::shared_ptr<Job>& job, absl::Time deadline, Done& done) {
  absl::MutexLock lock(&mu_);
  if (jobs_.contains(job->id()) && !stopping_) {
    waiters_.push_back(Waiter{job->id(), deadline, std::move(done)});
    return true;
  }
  return false;
}

std::shared_ptr<FileJobs::Job> FileJobs::Find(const v1::MediaJobRequest& req, absl::Status* error,
                                              std::optional<v1::MediaJob>* done_job) {
  if (req.job_id().empty()) {
    *error = InvalidArgument(LINEERR_INVALPARAM, "job_id is empty");
    return nullptr;
  }
  if (req.wait_ms() > kMaxJobWaitMs) {
    *error = InvalidArgument(LINEERR_INVALPARAM,
                             absl::StrFormat("wait_ms %u exceeds %u", req.wait_ms(), kMaxJobWaitMs));
    return nullptr;
  }
  const absl::Status missing =
      NotFound(LINEERR_INVALPARAM, absl::StrCat("no media job \"", absl::CHexEscape(req.job_id()),
                                                "\" on line \"", req.line_id(), "\""));
  absl::MutexLock lock(&mu_);
  if (auto it = jobs_.find(req.job_id()); it != jobs_.end()) {
    if (it->second->line_id() == req.line_id()) return it->second;
  } else if (auto d = done_.find(req.job_id()); d != done_.end()) {
    if (d->second.line_id() == req.line_id()) {
      *done_job = d->second;
      return nullptr;
    }
  }
  *error = missing;
  return nullptr;
}

void FileJobs::Stop(const v1::MediaJobRequest& req, Done done) {
  absl::Status error;
  std::optional<v1::MediaJob> ended;
  std::shared_ptr<Job> job = Find(req, &error, &ended);
  if (job == nullptr) {
    done(ended ? absl::StatusOr<v1::MediaJob>(*ended) : error);
    return;
  }
  // Answered when the worker has finished the job (its Finish is queued by
  // the End below, after the waiter is registered).
  const bool waiting = Wait(job, absl::InfiniteFuture(), done);
  job->End(v1::MEDIA_JOB_END_STOPPED);
  if (!waiting) done(Latest(job));
}

v1::MediaJob FileJobs::Latest(const std::shared_ptr<Job>& job) {
  {
    absl::MutexLock lock(&mu_);
    auto d = done_.find(job->id());
    if (d != done_.end()) return d->second;
  }
  return job->Snapshot();
}

void FileJobs::Get(const v1::MediaJobRequest& req, Done done) {
  absl::Status error;
  std::optional<v1::MediaJob> ended;
  std::shared_ptr<Job> job = Find(req, &error, &ended);
  if (job == nullptr) {
    done(ended ? absl::StatusOr<v1::MediaJob>(*ended) : error);
    return;
  }
  if (req.wait_ms() == 0) {
    done(job->Snapshot());
    return;
  }
  if (!Wait(job, absl::Now() + absl::Milliseconds(req.wait_ms()), done)) done(Latest(job));
}

void FileJobs::Flush(const std::shared_ptr<Job>& job) {
  if (job->writer == nullptr) return;
  std::vector<int16_t> pending = job->TakePending();
  if (pending.empty()) return;
  absl::Status st = job->writer->Write(pending.data(), pending.size());
  if (!st.ok()) job->End(v1::MEDIA_JOB_END_FAILED, std::string(st.message()));
}

void FileJobs::Finish(const std::shared_ptr<Job>& job) {
  // No sink call after this (the hub may already have forgotten the stream).
  hub_->Detach(job->stream);
  if (job->writer != nullptr) {
    std::vector<int16_t> pending = job->TakePending();
    absl::Status st = job->writer->Write(pending.data(), pending.size());
    absl::Status closed = job->writer->Close();
    if (st.ok()) st = closed;
    if (!st.ok()) job->Failed(std::string(st.message()));
  }
  const v1::MediaJob result = job->Done();
  std::vector<Done> answer;
  {
    absl::MutexLock lock(&mu_);
    jobs_.erase(result.job_id());
    --reserved_;
    done_[result.job_id()] = result;
    done_order_.push_back(result.job_id());
    while (done_order_.size() > options_.keep_done) {
      done_.erase(done_order_.front());
      done_order_.pop_front();
    }
    for (auto it = waiters_.begin(); it != waiters_.end();) {
      if (it->job_id == result.job_id()) {
        answer.push_back(std::move(it->done));
        it = waiters_.erase(it);
      } else {
        ++it;
      }
    }
  }
  job->Disown();
  for (Done& d : answer) d(result);
}

void FileJobs::Run() {
  for (;;) {
    std::function<void()> task;
    std::vector<Waiter> expired;
    std::vector<std::shared_ptr<Job>> jobs;
    {
      absl::MutexLock lock(&mu_);
      absl::Time next = absl::InfiniteFuture();
      for (const Waiter& w : waiters_) next = std::min(next, w.deadline);
      auto ready = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
        return !tasks_.empty() || (stopping_ && reserved_ == 0);
      };
      mu_.AwaitWithDeadline(absl::Condition(&ready), next);
      const absl::Time now = absl::Now();
      for (auto it = waiters_.begin(); it != waiters_.end();) {
        if (it->deadline <= now || (stopping_ && tasks_.empty() && reserved_ == 0)) {
          expired.push_back(std::move(*it));
          it = waiters_.erase(it);
        } else {
          ++it;
        }
      }
      if (!tasks_.empty()) {
        task = std::move(tasks_.front());
        tasks_.pop_front();
      }
      for (const Waiter& w : expired) {
        auto it = jobs_.find(w.job_id);
        jobs.push_back(it != jobs_.end() ? it->second : nullptr);
      }
      if (!task && expired.empty() && stopping_ && reserved_ == 0) return;
    }
    for (size_t i = 0; i < expired.size(); ++i) {
      if (jobs[i] != nullptr) {
        expired[i].done(jobs[i]->Snapshot());
      } else {
        expired[i].done(absl::UnavailableError("the server is shutting down"));
      }
    }
    if (task) task();
  }
}

void FileJobs::Shutdown() {
  absl::MutexLock join(&join_mu_);
  std::vector<std::shared_ptr<Job>> running;
  {
    absl::MutexLock lock(&mu_);
    if (stopping_) return;
    stopping_ = true;
    for (const auto& [id, job] : jobs_) running.push_back(job);
  }
  for (const std::shared_ptr<Job>& job : running) job->End(v1::MEDIA_JOB_END_SHUTDOWN);
  if (worker_.joinable()) worker_.join();
}

}  // namespace linebridge::media
