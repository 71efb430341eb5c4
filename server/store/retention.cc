#include "store/retention.h"

#include <utility>

#include "absl/time/clock.h"
#include "core/log.h"

namespace linebridge {

RetentionPruner::RetentionPruner(std::vector<RetentionTable> tables, Options options)
    : tables_(std::move(tables)), options_(std::move(options)) {
  {
    absl::MutexLock lock(&mu_);
    stats_.resize(tables_.size());
  }
  if (options_.background) thread_ = std::thread([this] { Run(); });
}

RetentionPruner::~RetentionPruner() {
  {
    absl::MutexLock lock(&mu_);
    stopping_ = true;
  }
  if (thread_.joinable()) thread_.join();
}

bool RetentionPruner::Pause(absl::Duration d) {
  absl::MutexLock lock(&mu_);
  if (d > absl::ZeroDuration()) mu_.AwaitWithTimeout(absl::Condition(&stopping_), d);
  return !stopping_;
}

void RetentionPruner::Run() {
  // The first pass right away: a store that grew while the server was down
  // (or under a smaller limit) shrinks without waiting an interval.
  while (true) {
    RunPass();
    if (!Pause(options_.interval)) return;
  }
}

void RetentionPruner::RunPass() {
  absl::MutexLock pass(&pass_mu_);
  const absl::Time now = options_.clock ? options_.clock() : absl::Now();
  for (size_t i = 0; i < tables_.size(); ++i) {
    const RetentionTable& table = tables_[i];
    const int64_t cutoff_us = table.max_age == absl::InfiniteDuration()
                                  ? INT64_MIN
                                  : absl::ToUnixMicros(now - table.max_age);
    uint64_t pruned = 0;
    std::string error;
    while (true) {
      absl::StatusOr<uint64_t> n = table.prune(cutoff_us, table.max_rows, options_.batch_rows);
      if (!n.ok()) {
        error = std::string(n.status().message());
        break;
      }
      pruned += *n;
      {
        absl::MutexLock lock(&mu_);
        stats_[i].pruned += *n;
      }
      if (*n < options_.batch_rows) break;  // nothing more is due
      if (!Pause(options_.batch_pause)) break;
    }
    absl::MutexLock lock(&mu_);
    RetentionStats& s = stats_[i];
    if (!error.empty()) {
      // Once per failure run, not once per pass.
      if (s.last_error.empty()) {
        LB_ERROR("retention %s: deleting old rows failed (retried every pass): %s", table.name,
                 error);
      }
      ++s.errors;
    } else if (!s.last_error.empty()) {
      LB_WARN("retention %s: deleting old rows works again", table.name);
    }
    s.last_error = error;
    if (pruned > 0) LB_DEBUG("retention %s: %d rows deleted", table.name, pruned);
  }
  absl::MutexLock lock(&mu_);
  ++passes_;
}

RetentionStats RetentionPruner::stats(absl::string_view name) const {
  absl::MutexLock lock(&mu_);
  for (size_t i = 0; i < tables_.size(); ++i) {
    if (tables_[i].name == name) return stats_[i];
  }
  return {};
}

uint64_t RetentionPruner::passes() const {
  absl::MutexLock lock(&mu_);
  return passes_;
}

}  // namespace linebridge
