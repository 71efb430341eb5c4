// Server-side files in calls (docs/media.md#files-on-the-server): playing a
// WAV file of the media directory into a call, and recording a call into a
// new WAV file of the recordings directory, as jobs that need no client
// stream.
//
// Each job is a stream of the media hub whose sink is the job: a play job's
// samples are the stream's FrameSource (so the far end hears them mixed
// with every other stream's audio and tones); a record job takes what the
// call hears (and, for RECORD_AUDIO_BOTH, what it sends) from the sink
// callbacks and runs the silence detector on it.
//
// Threading: files are opened, read, written and closed only on the jobs'
// own worker thread, never on the media clock's. A file to play is read
// whole (at most max_file_bytes) before it starts; recorded frames are
// handed to the worker in batches of 500 ms. Lock order: the hub's lock,
// then a job's, then the jobs' table; a job's lock is never held while the
// hub is called.
#pragma once

#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "linebridge/v1/media.pb.h"
#include "media/media_hub.h"

namespace linebridge::media {

struct FileJobsOptions {
  std::string media_dir;       // files to play
  std::string recordings_dir;  // recordings
  uint64_t max_file_bytes = uint64_t{16} << 20;  // a file played or recorded
  uint32_t max_record_ms = 3600000;              // a recording at most, and its default
  uint32_t max_jobs = 32;                        // jobs running at once
  size_t keep_done = 256;                        // ended jobs remembered for GetMediaJob
};

inline constexpr uint32_t kMinRecordMs = 100;
inline constexpr uint32_t kMinSilenceMs = 100;
inline constexpr uint32_t kMaxSilenceMs = 600000;
inline constexpr uint32_t kMaxJobWaitMs = 60000;

class FileJobs {
 public:
  // Gets the outcome; run on the worker thread, or at once on the caller's
  // for requests refused before any file is touched.
  using Done = std::function<void(absl::StatusOr<v1::MediaJob>)>;

  // `hub` must outlive the jobs.
  FileJobs(MediaHub* hub, FileJobsOptions options);
  ~FileJobs();
  FileJobs(const FileJobs&) = delete;
  FileJobs& operator=(const FileJobs&) = delete;

  // `call_id` is a call with audio on `line_id` (the caller checked it and
  // the request's call_id). The answer comes once the job runs.
  void Play(const std::string& call_id, const std::string& line_id,
            const v1::PlayFileRequest& req, Done done);
  void Record(const std::string& call_id, const std::string& line_id,
              const v1::RecordCallRequest& req, Done done);
  // The job must be on req.line_id (else NOT_FOUND, as for an unknown job).
  // Stop answers once the job has ended; Get at once, or with wait_ms when
  // the job ends or the wait is over.
  void Stop(const v1::MediaJobRequest& req, Done done);
  void Get(const v1::MediaJobRequest& req, Done done);

  // Ends the running jobs (MEDIA_JOB_END_SHUTDOWN), answers every waiter
  // and stops the worker. Later requests get UNAVAILABLE. Idempotent.
  void Shutdown();
  size_t running();

 private:
  class Job;
  class Samples;
  struct Waiter {
    std::string job_id;
    absl::Time deadline;
    Done done;
  };

  // Reserves a running slot: RESOURCE_EXHAUSTED at max_jobs.
  absl::Status Reserve();
  void Release();
  void StartPlay(const std::string& call_id, const std::string& line_id, const std::string& file,
                 Done done);
  void StartRecord(const std::string& call_id, const std::string& line_id,
                   const v1::RecordCallRequest& req, uint32_t max_ms, Done done);
  // Registers a started job and answers.
  void Started(std::shared_ptr<Job> job, Done done);
  // Queues `done` to be answered when `job` ends or at `deadline`; false
  // (and `done` untouched) if the job has already ended or the jobs stop.
  bool Wait(const std::shared_ptr<Job>& job, absl::Time deadline, Done& done);
  // The job's ended state if it has ended, else its state now.
  v1::MediaJob Latest(const std::shared_ptr<Job>& job);
  // The job, checked against req (line, id); nullptr with `error` set.
  std::shared_ptr<Job> Find(const v1::MediaJobRequest& req, absl::Status* error,
                            std::optional<v1::MediaJob>* done_job);
  // Worker: a job ended; flush, close, detach, answer its waiters.
  void Finish(const std::shared_ptr<Job>& job);
  void Flush(const std::shared_ptr<Job>& job);
  void Post(std::function<void()> task);
  void Run();
  std::string NewJobId() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  MediaHub* const hub_;
  const FileJobsOptions options_;
  const std::string id_prefix_;

  absl::Mutex mu_;
  absl::flat_hash_map<std::string, std::shared_ptr<Job>> jobs_ ABSL_GUARDED_BY(mu_);
  absl::flat_hash_map<std::string, v1::MediaJob> done_ ABSL_GUARDED_BY(mu_);
  std::deque<std::string> done_order_ ABSL_GUARDED_BY(mu_);
  std::vector<Waiter> waiters_ ABSL_GUARDED_BY(mu_);
  std::deque<std::function<void()>> tasks_ ABSL_GUARDED_BY(mu_);
  uint32_t reserved_ ABSL_GUARDED_BY(mu_) = 0;
  uint64_t next_id_ ABSL_GUARDED_BY(mu_) = 1;
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  absl::Mutex join_mu_;
  std::thread worker_;
};

}  // namespace linebridge::media
