// Retention for the record stores (call records, audit): a background pass,
// every `interval`, deletes rows older than a table's max_age or beyond its
// max_rows newest, in small batches (one short transaction each, a pause
// between them), so the writers and readers of the same database wait at
// most one batch. The cutoff comes from an injectable clock.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"

namespace linebridge {

struct RetentionTable {
  std::string name;  // "call_records", "audit"
  absl::Duration max_age = absl::InfiniteDuration();
  uint64_t max_rows = UINT64_MAX;
  // Deletes one batch: at most `batch` of the oldest rows that are older than
  // `cutoff_us` (Unix microseconds) or have more than `max_rows` newer rows;
  // returns how many went (CdrStore::PruneBatch, SecurityStore::PruneAuditBatch).
  std::function<absl::StatusOr<uint64_t>(int64_t cutoff_us, uint64_t max_rows, uint32_t batch)>
      prune;
};

struct RetentionStats {
  uint64_t pruned = 0;     // rows deleted, ever
  uint64_t errors = 0;     // failed batches, ever
  std::string last_error;  // of the last pass, empty if it went well
};

class RetentionPruner {
 public:
  struct Options {
    absl::Duration interval = absl::Minutes(1);
    uint32_t batch_rows = 500;
    // Between two batches of one pass: the writers get the database.
    absl::Duration batch_pause = absl::Milliseconds(5);
    // Now, for the age cutoff; empty: absl::Now.
    std::function<absl::Time()> clock;
    // False: no thread, passes run only through RunPass (tests).
    bool background = true;
  };

  RetentionPruner(std::vector<RetentionTable> tables, Options options);
  ~RetentionPruner();  // stops the thread (a pass stops after its batch)
  RetentionPruner(const RetentionPruner&) = delete;
  RetentionPruner& operator=(const RetentionPruner&) = delete;

  // One pass over every table on the calling thread: batches until a table
  // has nothing due (or the pruner stops).
  void RunPass();

  // Stats of table `name` (zero for an unknown name).
  RetentionStats stats(absl::string_view name) const;
  uint64_t passes() const;

 private:
  void Run();
  // Pauses for `d` unless stopping; false if stopping.
  bool Pause(absl::Duration d);

  const std::vector<RetentionTable> tables_;
  const Options options_;
  mutable absl::Mutex mu_;
  std::vector<RetentionStats> stats_ ABSL_GUARDED_BY(mu_);
  uint64_t passes_ ABSL_GUARDED_BY(mu_) = 0;
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  absl::Mutex pass_mu_;  // one pass at a time
  std::thread thread_;
};

}  // namespace linebridge
