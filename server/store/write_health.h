// The health of a record writer (call records, audit): whether its writes
// fail, since when, how often, and with what error. Failures are logged at
// most once per kLogInterval (with how many happened meanwhile), recovery
// once. A writer keeps a batch that failed with a transient error (disk full,
// database locked, I/O error) and retries it after Backoff().
#pragma once

#include <cstdint>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"

namespace linebridge {

// How long a writer lets records gather after the first one arrives before
// it commits them, unless a full batch is there first or someone Flushes:
// under load, one transaction for many calls instead of one per record (and
// one wake-up of the writer), which takes the writer's CPU off the call path.
inline constexpr absl::Duration kCommitLinger = absl::Milliseconds(10);
// The call-record writer's linger is shorter: a call's IDLE event, and every
// event after it, waits for the record's commit (docs/reliability.md).
inline constexpr absl::Duration kRecordCommitLinger = absl::Milliseconds(2);

// True for errors that may go away by themselves: the batch is kept and
// retried (absl Unavailable: SQLITE_FULL, SQLITE_BUSY, SQLITE_IOERR, ...).
bool IsTransientWriteError(const absl::Status& status);

// The status code for a SQLite result code: Unavailable for what may pass
// (busy, locked, I/O error, full, cannot open, read-only, protocol, no large
// file support), Internal for the rest. Both stores build their errors with it.
absl::StatusCode SqliteStatusCode(int rc);

struct WriteHealthSnapshot {
  uint64_t write_errors = 0;          // failed attempts, ever
  absl::Time failing_since = absl::InfinitePast();  // InfinitePast: not failing
  std::string last_error;             // of the current failure, else empty
  bool failing() const { return failing_since != absl::InfinitePast(); }
};

class WriteHealth {
 public:
  static constexpr absl::Duration kLogInterval = absl::Seconds(30);
  static constexpr absl::Duration kFirstRetry = absl::Milliseconds(100);
  static constexpr absl::Duration kMaxRetry = absl::Seconds(2);

  // `what` names the records in log lines ("cdr", "audit").
  explicit WriteHealth(std::string what) : what_(std::move(what)) {}

  // An attempt to write `records` failed with `error`; `pending` are waiting.
  void Failed(const absl::Status& error, size_t records, size_t pending);
  // A write succeeded; logs the recovery if writes were failing.
  void Succeeded();
  // How long to wait before retrying after the current run of failures.
  absl::Duration Backoff() const;

  WriteHealthSnapshot Get() const;

 private:
  const std::string what_;
  mutable absl::Mutex mu_;
  WriteHealthSnapshot state_ ABSL_GUARDED_BY(mu_);
  uint32_t consecutive_ ABSL_GUARDED_BY(mu_) = 0;
  absl::Time last_log_ ABSL_GUARDED_BY(mu_) = absl::InfinitePast();
  uint64_t unlogged_ ABSL_GUARDED_BY(mu_) = 0;  // failures since the last log line
};

}  // namespace linebridge
