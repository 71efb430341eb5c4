#include "store/write_health.h"

#include <sqlite3.h>

#include <algorithm>

#include "core/log.h"

namespace linebridge {

bool IsTransientWriteError(const absl::Status& status) {
  return absl::IsUnavailable(status);
}

absl::StatusCode SqliteStatusCode(int rc) {
  switch (rc & 0xff) {
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
    case SQLITE_IOERR:
    case SQLITE_FULL:
    case SQLITE_CANTOPEN:
    case SQLITE_READONLY:
    case SQLITE_PROTOCOL:
    case SQLITE_NOLFS:
      return absl::StatusCode::kUnavailable;
    default:
      return absl::StatusCode::kInternal;
  }
}

void WriteHealth::Failed(const absl::Status& error, size_t records, size_t pending) {
  const absl::Time now = absl::Now();
  absl::MutexLock lock(&mu_);
  ++state_.write_errors;
  ++consecutive_;
  if (!state_.failing()) state_.failing_since = now;
  state_.last_error = std::string(error.message());
  ++unlogged_;
  if (now - last_log_ < kLogInterval) return;
  LB_ERROR("%s: writing %d records failed (%d failures since the last report; failing since %s, "
           "%d waiting, kept for retry: %s): %s",
           what_, records, unlogged_, absl::FormatTime(state_.failing_since, absl::UTCTimeZone()),
           pending, IsTransientWriteError(error) ? "yes" : "no", error.message());
  last_log_ = now;
  unlogged_ = 0;
}

void WriteHealth::Succeeded() {
  absl::MutexLock lock(&mu_);
  consecutive_ = 0;
  if (!state_.failing()) return;
  LB_WARN("%s: writing works again after failing since %s (%d failed attempts in all)", what_,
          absl::FormatTime(state_.failing_since, absl::UTCTimeZone()), state_.write_errors);
  state_.failing_since = absl::InfinitePast();
  state_.last_error.clear();
  last_log_ = absl::InfinitePast();
  unlogged_ = 0;
}

absl::Duration WriteHealth::Backoff() const {
  absl::MutexLock lock(&mu_);
  absl::Duration d = kFirstRetry;
  for (uint32_t i = 1; i < consecutive_ && d < kMaxRetry; ++i) d *= 2;
  return std::min(d, kMaxRetry);
}

WriteHealthSnapshot WriteHealth::Get() const {
  absl::MutexLock lock(&mu_);
  return state_;
}

}  // namespace linebridge
