// Helpers for the chaos test: the stream checker (gap-free or a flagged
// snapshot), a worker child process spoken to line by line, environment knobs.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "linebridge/v1/telephony.pb.h"

namespace linebridge::chaos {

// The value of environment variable `name` as an int, or `fallback`.
int EnvInt(const char* name, int fallback);

// Checks one subscriber's batches as they arrive: a stream starts with a
// snapshot (with a reason); within an epoch every event's sequence is the
// previous one + 1 (the subscriber filters nothing); a batch of a new epoch,
// or after a resume the server could not honour, carries a snapshot. Anything
// else is an error (a silent gap).
class StreamChecker {
 public:
  void OnBatch(const v1::EventBatch& batch);
  std::vector<std::string> errors() const;
  uint64_t events() const;
  uint64_t snapshots() const;
  // The epoch of the last batch (0 before the first) and a one-line account
  // of where the stream stands, for failure messages.
  uint64_t epoch() const;
  std::string Describe() const;

 private:
  void Error(std::string what) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  mutable absl::Mutex mu_;
  bool started_ ABSL_GUARDED_BY(mu_) = false;
  uint64_t epoch_ ABSL_GUARDED_BY(mu_) = 0;
  uint64_t next_ ABSL_GUARDED_BY(mu_) = 0;  // the sequence the next event must have
  uint64_t events_ ABSL_GUARDED_BY(mu_) = 0;
  uint64_t snapshots_ ABSL_GUARDED_BY(mu_) = 0;
  absl::Time last_batch_ ABSL_GUARDED_BY(mu_) = absl::InfinitePast();
  std::vector<std::string> errors_ ABSL_GUARDED_BY(mu_);
};

// A child process with its stdin and stdout on pipes.
class WorkerProcess {
 public:
  ~WorkerProcess();
  // Starts `binary` with `args` and extra environment `env` ("NAME=value").
  // Empty on success, else what failed.
  std::string Start(const std::string& binary, const std::vector<std::string>& args,
                    const std::vector<std::string>& env);
  bool WriteLine(const std::string& line);
  // The next line of its output (without the newline); "" on timeout or EOF.
  std::string ReadLine(absl::Duration timeout);
  // Its exit code once it exited (killed after `timeout`: -1).
  int Wait(absl::Duration timeout);

 private:
  pid_t pid_ = -1;
  int in_ = -1;   // its stdin
  int out_ = -1;  // its stdout
  std::string buffer_;
};

}  // namespace linebridge::chaos
