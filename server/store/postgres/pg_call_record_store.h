// Call records in PostgreSQL, shared by a fleet of servers: each row
// carries the id of the server that wrote it; List shows the whole fleet,
// filterable by server. A batch is one multi-row INSERT (one round trip).
#pragma once

#include <memory>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "store/call_record_store.h"
#include "store/postgres/pg_connection.h"
#include "store/spooler.h"

namespace linebridge {

class PgCallRecordStore : public CallRecordStore {
 public:
  // Connects and migrates the schema (store/postgres/pg_schema.h).
  static absl::StatusOr<std::unique_ptr<PgCallRecordStore>> Open(const PgOptions& options,
                                                                 std::string server_id);
  ~PgCallRecordStore() override;

  // From now on AppendBatch spools to `file` what PostgreSQL cannot take
  // (store/spooler.h): once it returns OK its records are in PostgreSQL or
  // durably in the spool. Rows left in the file by an earlier run are
  // delivered from now on. Call once, before the first AppendBatch.
  void EnableSpool(std::unique_ptr<SpoolFile> file);
  const Spooler* spooler() const { return spooler_.get(); }

  absl::StatusOr<std::vector<int64_t>> AppendBatch(
      const std::vector<v1::CallRecord>& records) override;
  absl::StatusOr<v1::ListCallRecordsResponse> List(
      const v1::ListCallRecordsRequest& request) override;
  absl::StatusOr<uint64_t> Count() override;
  absl::StatusOr<uint64_t> PruneBatch(int64_t cutoff_us, uint64_t max_rows,
                                      uint32_t batch) override;

  // Rows copied from another store: `source_keys[i]` marks records[i]; a key
  // already present is skipped. Returns how many were inserted.
  absl::StatusOr<uint64_t> CopyBatch(const std::vector<v1::CallRecord>& records,
                                     const std::vector<std::string>& source_keys,
                                     const std::string& server_id);
  // Rows whose source_key starts with `prefix`.
  absl::StatusOr<uint64_t> CountSourced(const std::string& prefix);

 private:
  PgCallRecordStore(std::unique_ptr<PgConnection> conn, std::string server_id)
      : server_id_(std::move(server_id)), conn_(std::move(conn)) {}
  // The records with their live keys, in one statement per 2000.
  absl::StatusOr<std::vector<int64_t>> InsertLive(const std::vector<v1::CallRecord>& records);
  absl::StatusOr<PgResult> Insert(const std::vector<v1::CallRecord>& records,
                                  const std::vector<std::string>* source_keys,
                                  const std::string& server_id)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  const std::string server_id_;
  absl::Mutex mu_;
  std::unique_ptr<PgConnection> conn_ ABSL_GUARDED_BY(mu_);
  std::unique_ptr<Spooler> spooler_;  // set by EnableSpool, then constant
};

}  // namespace linebridge
