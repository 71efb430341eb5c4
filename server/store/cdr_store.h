// The call-detail record store on SQLite (the embedded default backend of
// CallRecordStore): one database (WAL mode) holding a row per closed call
// (v1::CallRecord), and an asynchronous writer (for any CallRecordStore) that
// keeps the database off the telephony threads.
//
// Schema (user_version 1), readable with the sqlite3 CLI (enum columns hold
// the proto enum names, times are microseconds since the Unix epoch):
//   call_records(record_id INTEGER PRIMARY KEY AUTOINCREMENT, call_id, line_id,
//     origin, reason, caller_number, caller_name, called_number, called_name,
//     connected_number, connected_name, started_us, answered_us (NULL if never),
//     ended_us, disposition, media_mode, duration_ms,
//     caller_available, caller_blocked, called_available, called_blocked,
//     connected_available, connected_blocked)
//   indexes on (line_id, record_id) and (ended_us).
// Timestamps keep microsecond precision; an unset timestamp is stored as NULL.
// ended_us is when the call was disconnected (not when it later went idle) and
// duration_ms runs from answered_us to it; rows written by earlier versions,
// which took the idle time, are kept as they are (docs/linectl.md#cdr).
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "linebridge/v1/admin.pb.h"
#include "linebridge/v1/types.pb.h"
#include "store/call_record_store.h"
#include "store/wal_checkpointer.h"
#include "store/write_health.h"

struct sqlite3;
struct sqlite3_stmt;

namespace linebridge {

class CdrStore : public CallRecordStore {
 public:
  // File name of the store inside the server's data_dir.
  static constexpr char kFileName[] = "cdr.sqlite3";
  static std::string PathInDataDir(absl::string_view data_dir);

  static constexpr int kSchemaVersion = 1;
  static constexpr int kBusyTimeoutMs = 5000;

  // Opens or creates the database at `path` (creating its directory), sets
  // WAL / synchronous=NORMAL / busy_timeout and migrates the schema. A
  // database with a newer schema than this build knows is FailedPrecondition.
  // `busy_timeout_ms`: how long a statement waits for another process's lock
  // before it fails with Unavailable. `server_id`: this server's id, which
  // every listed record carries (the file holds only this server's records,
  // so a server_id filter naming another server matches none).
  static absl::StatusOr<std::unique_ptr<CdrStore>> Open(const std::string& path,
                                                        int busy_timeout_ms = kBusyTimeoutMs,
                                                        std::string server_id = "");

  CdrStore(const CdrStore&) = delete;
  CdrStore& operator=(const CdrStore&) = delete;
  ~CdrStore() override;

  const std::string& path() const { return path_; }

  // CallRecordStore. A record's record_id is ignored on the way in; once
  // AppendBatch returns its records are durable against a process crash.
  absl::StatusOr<std::vector<int64_t>> AppendBatch(
      const std::vector<v1::CallRecord>& records) override;
  absl::StatusOr<v1::ListCallRecordsResponse> List(
      const v1::ListCallRecordsRequest& request) override;
  absl::StatusOr<uint64_t> Count() override;
  absl::StatusOr<uint64_t> PruneBatch(int64_t cutoff_us, uint64_t max_rows,
                                      uint32_t batch) override;

 private:
  CdrStore(std::string path, int busy_timeout_ms, std::string server_id);

  absl::Status Init() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  absl::Status Migrate() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  absl::Status Exec(const char* sql) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // The cached prepared statement `*slot` for `sql` (prepared on first use),
  // reset and with bindings cleared.
  absl::StatusOr<sqlite3_stmt*> Statement(sqlite3_stmt** slot, const char* sql)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  absl::Status InsertLocked(const v1::CallRecord& record, int64_t* id)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // An Internal / Unavailable status for SQLite result `rc` during `what`.
  absl::Status Error(int rc, absl::string_view what) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  const std::string path_;
  const int busy_timeout_ms_;
  const std::string server_id_;
  // Checkpoints the log for db_ (files only): set by Open, then constant.
  std::unique_ptr<WalCheckpointer> checkpointer_;
  absl::Mutex mu_;
  sqlite3* db_ ABSL_GUARDED_BY(mu_) = nullptr;
  sqlite3_stmt* begin_ ABSL_GUARDED_BY(mu_) = nullptr;
  sqlite3_stmt* commit_ ABSL_GUARDED_BY(mu_) = nullptr;
  sqlite3_stmt* rollback_ ABSL_GUARDED_BY(mu_) = nullptr;
  sqlite3_stmt* insert_ ABSL_GUARDED_BY(mu_) = nullptr;
  sqlite3_stmt* count_ ABSL_GUARDED_BY(mu_) = nullptr;
  sqlite3_stmt* prune_ ABSL_GUARDED_BY(mu_) = nullptr;
  // One List statement per filter combination (bit 0 line_id, 1 since,
  // 2 before_record_id), so that each can use its index.
  sqlite3_stmt* list_[8] ABSL_GUARDED_BY(mu_) = {};
};

// Writes call records to a CallRecordStore on its own thread. Enqueue never blocks on
// the database: when `queue_limit` records are waiting, further records are
// dropped and counted. Each batch taken from the queue is one transaction;
// the writer lets records gather for up to kRecordCommitLinger first.
// A batch that fails with a transient error (disk full, database locked, I/O
// error: Unavailable) is kept and retried with backoff until it is written,
// while new records queue behind it; other errors lose the records that
// cause them (retried one by one first). At shutdown a batch that still
// cannot be written is given up with everything queued behind it (failed()).
class AsyncCdrWriter {
 public:
  static constexpr size_t kDefaultQueueLimit = 65536;
  static constexpr size_t kDefaultMaxBatch = 1024;

  // `store` must outlive the writer.
  explicit AsyncCdrWriter(CallRecordStore* store, size_t queue_limit = kDefaultQueueLimit,
                          size_t max_batch = kDefaultMaxBatch);
  AsyncCdrWriter(const AsyncCdrWriter&) = delete;
  AsyncCdrWriter& operator=(const AsyncCdrWriter&) = delete;
  // Flushes what is queued and joins the thread.
  ~AsyncCdrWriter();

  // Queues `record`; false (and dropped() + 1) if the queue is full. Unless
  // the record is refused, `settled` (if any) is called once, on the writer's
  // thread and without the writer's lock, when the record is committed, or
  // when its first write attempt fails (it is then kept for retry or lost, as
  // above: loud either way), or when it is given up at shutdown.
  bool Enqueue(v1::CallRecord record, std::function<void()> settled = nullptr);

  // Waits until every record enqueued before the call has been written (or has
  // failed), or until a write attempt fails after the call (the records stay
  // queued for retry). Returns the last write error since the previous Flush,
  // else OK.
  absl::Status Flush();

  uint64_t dropped() const;  // rejected by Enqueue: queue full
  uint64_t written() const;  // committed
  uint64_t failed() const;   // lost to write errors
  size_t queued() const;     // waiting or being written
  WriteHealthSnapshot health() const { return health_.Get(); }

 private:
  void Run();

  CallRecordStore* const store_;
  const size_t queue_limit_;
  const size_t max_batch_;
  mutable absl::Mutex mu_;
  struct Pending {
    v1::CallRecord record;
    std::function<void()> settled;
  };
  std::deque<Pending> queue_ ABSL_GUARDED_BY(mu_);
  uint64_t enqueued_ ABSL_GUARDED_BY(mu_) = 0;  // accepted by Enqueue, ever
  uint64_t done_ ABSL_GUARDED_BY(mu_) = 0;      // written or failed, ever
  uint64_t dropped_ ABSL_GUARDED_BY(mu_) = 0;
  uint64_t written_ ABSL_GUARDED_BY(mu_) = 0;
  uint64_t failed_ ABSL_GUARDED_BY(mu_) = 0;
  absl::Status error_ ABSL_GUARDED_BY(mu_);  // since the last Flush
  uint64_t failed_attempts_ ABSL_GUARDED_BY(mu_) = 0;  // for Flush
  int flushing_ ABSL_GUARDED_BY(mu_) = 0;  // Flush calls waiting: no linger
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  WriteHealth health_{"cdr"};
  std::thread thread_;
};

}  // namespace linebridge
