// The call-detail record store as the server uses it, whatever keeps the
// rows: CdrStore (SQLite, one file per server, the embedded default) or
// PgCallRecordStore (PostgreSQL, shared by a fleet of servers,
// store/postgres/). AsyncCdrWriter, retention and Admin.ListCallRecords
// work on this interface only.
#pragma once

#include <cstdint>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "linebridge/v1/admin.pb.h"
#include "linebridge/v1/types.pb.h"

namespace linebridge {

class CallRecordStore {
 public:
  static constexpr uint32_t kDefaultListLimit = 100;
  static constexpr uint32_t kMaxListLimit = 10000;

  virtual ~CallRecordStore() = default;

  // Stores all of `records` in one transaction (all or nothing); returns
  // their record_ids in order (a backend that recognises a record it already
  // holds — a batch written again after a lost commit reply — leaves it out). Errors that may pass by themselves (disk
  // full, a lock, the database unreachable) are Unavailable: the writer
  // keeps the batch and retries it.
  virtual absl::StatusOr<std::vector<int64_t>> AppendBatch(
      const std::vector<v1::CallRecord>& records) = 0;
  // One record (AppendBatch of one); 0 if the store already held it.
  absl::StatusOr<int64_t> Append(const v1::CallRecord& record) {
    absl::StatusOr<std::vector<int64_t>> ids = AppendBatch({record});
    if (!ids.ok()) return ids.status();
    return ids->empty() ? 0 : ids->front();
  }

  // Newest first. Filters: line_id (exact), server_id (exact), since (ended
  // at or after), before_record_id (> 0: only older records). limit 0 = 100;
  // more than 10000 (or a negative before_record_id) is InvalidArgument.
  // next_before_record_id is the last returned record_id if more records
  // match, else 0. Every record carries the id of the server that wrote it.
  virtual absl::StatusOr<v1::ListCallRecordsResponse> List(
      const v1::ListCallRecordsRequest& request) = 0;

  // Number of records stored.
  virtual absl::StatusOr<uint64_t> Count() = 0;

  // Retention: deletes, in one transaction, up to `batch` of the oldest
  // records that ended before `cutoff_us` or that have more than `max_rows`
  // newer records. Returns how many went; fewer than `batch` means nothing
  // more is due.
  virtual absl::StatusOr<uint64_t> PruneBatch(int64_t cutoff_us, uint64_t max_rows,
                                              uint32_t batch) = 0;
};

}  // namespace linebridge
