#include "store/cdr_store.h"

#include <sqlite3.h>

#include <algorithm>
#include <cstdint>
#include <filesystem>
#include <string>
#include <system_error>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "google/protobuf/descriptor.h"
#include "google/protobuf/timestamp.pb.h"
#include "core/log.h"
#include "linebridge/status_macros.h"
#include "store/record_enums.h"

namespace linebridge {
namespace {

namespace pb = ::google::protobuf;

// Schema migrations, applied in order to bring user_version up to
// CdrStore::kSchemaVersion. Append only: a released step never changes.
struct Migration {
  int version;
  const char* sql;
};

constexpr Migration kMigrations[] = {
    {1, R"sql(
CREATE TABLE call_records (
  record_id INTEGER PRIMARY KEY AUTOINCREMENT,
  call_id TEXT NOT NULL,
  line_id TEXT NOT NULL,
  origin TEXT NOT NULL,
  reason TEXT NOT NULL,
  caller_number TEXT NOT NULL,
  caller_name TEXT NOT NULL,
  called_number TEXT NOT NULL,
  called_name TEXT NOT NULL,
  connected_number TEXT NOT NULL,
  connected_name TEXT NOT NULL,
  started_us INTEGER,
  answered_us INTEGER,
  ended_us INTEGER,
  disposition TEXT NOT NULL,
  media_mode TEXT NOT NULL,
  duration_ms INTEGER NOT NULL,
  caller_available INTEGER NOT NULL DEFAULT 0,
  caller_blocked INTEGER NOT NULL DEFAULT 0,
  called_available INTEGER NOT NULL DEFAULT 0,
  called_blocked INTEGER NOT NULL DEFAULT 0,
  connected_available INTEGER NOT NULL DEFAULT 0,
  connected_blocked INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX call_records_by_line ON call_records(line_id, record_id);
CREATE INDEX call_records_by_ended ON call_records(ended_us);
)sql"},
};

static_assert(sizeof(kMigrations) / sizeof(kMigrations[0]) == CdrStore::kSchemaVersion,
              "one migration per schema version");

constexpr char kColumns[] =
    "record_id, call_id, line_id, origin, reason, caller_number, caller_name, called_number, "
    "called_name, connected_number, connected_name, started_us, answered_us, ended_us, "
    "disposition, media_mode, duration_ms, caller_available, caller_blocked, called_available, "
    "called_blocked, connected_available, connected_blocked";

constexpr char kInsertSql[] =
    "INSERT INTO call_records (call_id, line_id, origin, reason, caller_number, caller_name, "
    "called_number, called_name, connected_number, connected_name, started_us, answered_us, "
    "ended_us, disposition, media_mode, duration_ms, caller_available, caller_blocked, "
    "called_available, called_blocked, connected_available, connected_blocked) VALUES "
    "(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19, "
    "?20, ?21, ?22)";

// One retention batch: among the `?3` oldest records, those that ended
// before ?1 or that have more than ?2 newer records (record ids only grow, so
// at most ?2 records have an id above MAX - ?2). Looking at the oldest rows
// only keeps every batch small, however large the table.
constexpr char kPruneSql[] =
    "DELETE FROM call_records WHERE record_id IN (SELECT record_id FROM call_records "
    "ORDER BY record_id LIMIT ?3) AND (ended_us < ?1 OR "
    "record_id <= (SELECT MAX(record_id) FROM call_records) - ?2)";

enum ListFilter { kByLine = 1, kBySince = 2, kByBefore = 4 };

std::string ListSql(int filters) {
  std::vector<std::string> where;
  if (filters & kByLine) where.push_back("line_id = ?1");
  if (filters & kBySince) where.push_back("ended_us >= ?2");
  if (filters & kByBefore) where.push_back("record_id < ?3");
  return absl::StrCat("SELECT ", kColumns, " FROM call_records",
                      where.empty() ? "" : " WHERE ", absl::StrJoin(where, " AND "),
                      " ORDER BY record_id DESC LIMIT ?4");
}

// Resets a statement when leaving scope, ending its implicit read
// transaction and keeping it ready for reuse.
class ResetOnExit {
 public:
  explicit ResetOnExit(sqlite3_stmt* stmt) : stmt_(stmt) {}
  ~ResetOnExit() { sqlite3_reset(stmt_); }
  ResetOnExit(const ResetOnExit&) = delete;
  ResetOnExit& operator=(const ResetOnExit&) = delete;

 private:
  sqlite3_stmt* stmt_;
};

int64_t ToMicros(const pb::Timestamp& t) {
  return t.seconds() * 1000000 + t.nanos() / 1000;
}

pb::Timestamp FromMicros(int64_t us) {
  int64_t seconds = us / 1000000;
  int64_t rem = us % 1000000;
  if (rem < 0) {
    rem += 1000000;
    --seconds;
  }
  pb::Timestamp t;
  t.set_seconds(seconds);
  t.set_nanos(static_cast<int32_t>(rem * 1000));
  return t;
}

int BindText(sqlite3_stmt* stmt, int index, const std::string& text) {
  return sqlite3_bind_text(stmt, index, text.data(), static_cast<int>(text.size()),
                           SQLITE_TRANSIENT);
}

int BindTime(sqlite3_stmt* stmt, int index, bool has, const pb::Timestamp& t) {
  return has ? sqlite3_bind_int64(stmt, index, ToMicros(t)) : sqlite3_bind_null(stmt, index);
}

std::string ColumnText(sqlite3_stmt* stmt, int column) {
  const unsigned char* text = sqlite3_column_text(stmt, column);
  if (text == nullptr) return "";
  return std::string(reinterpret_cast<const char*>(text),
                     static_cast<size_t>(sqlite3_column_bytes(stmt, column)));
}

void ColumnTime(sqlite3_stmt* stmt, int column, pb::Timestamp* out, v1::CallRecord* record,
                void (v1::CallRecord::*clear)()) {
  if (sqlite3_column_type(stmt, column) == SQLITE_NULL) {
    (record->*clear)();
  } else {
    *out = FromMicros(sqlite3_column_int64(stmt, column));
  }
}

void ReadRow(sqlite3_stmt* s, v1::CallRecord* r) {
  r->set_record_id(sqlite3_column_int64(s, 0));
  r->set_call_id(ColumnText(s, 1));
  r->set_line_id(ColumnText(s, 2));
  r->set_origin(static_cast<v1::CallOrigin>(EnumValue(v1::CallOrigin_descriptor(),
                                                      ColumnText(s, 3))));
  r->set_reason(static_cast<v1::CallReason>(EnumValue(v1::CallReason_descriptor(),
                                                      ColumnText(s, 4))));
  r->mutable_caller()->set_number(ColumnText(s, 5));
  r->mutable_caller()->set_name(ColumnText(s, 6));
  r->mutable_called()->set_number(ColumnText(s, 7));
  r->mutable_called()->set_name(ColumnText(s, 8));
  r->mutable_connected()->set_number(ColumnText(s, 9));
  r->mutable_connected()->set_name(ColumnText(s, 10));
  ColumnTime(s, 11, r->mutable_started(), r, &v1::CallRecord::clear_started);
  ColumnTime(s, 12, r->mutable_answered(), r, &v1::CallRecord::clear_answered);
  ColumnTime(s, 13, r->mutable_ended(), r, &v1::CallRecord::clear_ended);
  r->set_disposition(static_cast<v1::DisconnectMode>(
      EnumValue(v1::DisconnectMode_descriptor(), ColumnText(s, 14))));
  r->set_media_mode(static_cast<v1::MediaMode>(EnumValue(v1::MediaMode_descriptor(),
                                                         ColumnText(s, 15))));
  r->set_duration_ms(static_cast<uint64_t>(sqlite3_column_int64(s, 16)));
  r->mutable_caller()->set_available(sqlite3_column_int(s, 17) != 0);
  r->mutable_caller()->set_blocked(sqlite3_column_int(s, 18) != 0);
  r->mutable_called()->set_available(sqlite3_column_int(s, 19) != 0);
  r->mutable_called()->set_blocked(sqlite3_column_int(s, 20) != 0);
  r->mutable_connected()->set_available(sqlite3_column_int(s, 21) != 0);
  r->mutable_connected()->set_blocked(sqlite3_column_int(s, 22) != 0);
}

}  // namespace

// Enum values are stored by name; a value the schema does not know (open
// proto3 enums) by its number.
std::string EnumName(const pb::EnumDescriptor* descriptor, int value) {
  const pb::EnumValueDescriptor* v = descriptor->FindValueByNumber(value);
  return v != nullptr ? v->name() : absl::StrCat(value);
}

int EnumValue(const pb::EnumDescriptor* descriptor, const std::string& text) {
  if (const pb::EnumValueDescriptor* v = descriptor->FindValueByName(text); v != nullptr) {
    return v->number();
  }
  int value = 0;
  return absl::SimpleAtoi(text, &value) ? value : 0;
}

std::string CdrStore::PathInDataDir(absl::string_view data_dir) {
  if (data_dir.empty()) return kFileName;
  if (data_dir.back() == '/') return absl::StrCat(data_dir, kFileName);
  return absl::StrCat(data_dir, "/", kFileName);
}

CdrStore::CdrStore(std::string path, int busy_timeout_ms, std::string server_id)
    : path_(std::move(path)), busy_timeout_ms_(busy_timeout_ms), server_id_(std::move(server_id)) {}

CdrStore::~CdrStore() {
  absl::MutexLock lock(&mu_);
  for (sqlite3_stmt* stmt : {begin_, commit_, rollback_, insert_, count_, prune_}) {
    sqlite3_finalize(stmt);
  }
  for (sqlite3_stmt* stmt : list_) sqlite3_finalize(stmt);
  sqlite3_close_v2(db_);
}

absl::StatusOr<std::unique_ptr<CdrStore>> CdrStore::Open(const std::string& path,
                                                        int busy_timeout_ms,
                                                        std::string server_id) {
  if (path != ":memory:") {
    const std::filesystem::path parent = std::filesystem::path(path).parent_path();
    std::error_code ec;
    if (!parent.empty()) std::filesystem::create_directories(parent, ec);
    if (ec) {
      return absl::UnavailableError(absl::StrCat("cdr store ", path, ": cannot create directory ",
                                                 parent.string(), ": ", ec.message()));
    }
  }
  std::unique_ptr<CdrStore> store(new CdrStore(path, busy_timeout_ms, std::move(server_id)));
  absl::MutexLock lock(&store->mu_);
  LB_RETURN_IF_ERROR(store->Init());
  if (path != ":memory:") {
    // Record commits never wait for a checkpoint (docs/reliability.md).
    LB_ASSIGN_OR_RETURN(store->checkpointer_, WalCheckpointer::Start(path, busy_timeout_ms));
    store->checkpointer_->Attach(store->db_, &store->mu_);
  }
  return store;
}

absl::Status CdrStore::Error(int rc, absl::string_view what) {
  const char* message = db_ != nullptr ? sqlite3_errmsg(db_) : sqlite3_errstr(rc);
  return absl::Status(SqliteStatusCode(rc),
                      absl::StrCat("cdr store ", path_, ": ", what, ": ", message));
}

absl::Status CdrStore::Exec(const char* sql) {
  const int rc = sqlite3_exec(db_, sql, nullptr, nullptr, nullptr);
  if (rc != SQLITE_OK) return Error(rc, sql);
  return absl::OkStatus();
}

absl::Status CdrStore::Init() {
  const int rc = sqlite3_open_v2(path_.c_str(), &db_,
                                 SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX,
                                 nullptr);
  if (rc != SQLITE_OK) return Error(rc, "open");
  sqlite3_extended_result_codes(db_, 1);
  sqlite3_busy_timeout(db_, busy_timeout_ms_);

  // journal_mode answers with the mode in effect; insist on WAL for files.
  {
    sqlite3_stmt* stmt = nullptr;
    int prc = sqlite3_prepare_v2(db_, "PRAGMA journal_mode=WAL", -1, &stmt, nullptr);
    if (prc != SQLITE_OK) return Error(prc, "PRAGMA journal_mode=WAL");
    prc = sqlite3_step(stmt);
    const std::string mode = prc == SQLITE_ROW ? ColumnText(stmt, 0) : "";
    sqlite3_finalize(stmt);
    if (prc != SQLITE_ROW) return Error(prc, "PRAGMA journal_mode=WAL");
    if (mode != "wal" && mode != "memory") {
      return absl::UnavailableError(
          absl::StrCat("cdr store ", path_, ": cannot use WAL journal (journal_mode is ", mode,
                       ")"));
    }
  }
  LB_RETURN_IF_ERROR(Exec("PRAGMA synchronous=NORMAL"));
  return Migrate();
}

absl::Status CdrStore::Migrate() {
  const auto user_version = [this]() -> absl::StatusOr<int> {
    mu_.AssertHeld();
    sqlite3_stmt* stmt = nullptr;
    int rc = sqlite3_prepare_v2(db_, "PRAGMA user_version", -1, &stmt, nullptr);
    if (rc != SQLITE_OK) return Error(rc, "PRAGMA user_version");
    rc = sqlite3_step(stmt);
    const int version = rc == SQLITE_ROW ? sqlite3_column_int(stmt, 0) : -1;
    sqlite3_finalize(stmt);
    if (rc != SQLITE_ROW) return Error(rc, "PRAGMA user_version");
    return version;
  };
  LB_ASSIGN_OR_RETURN(int version, user_version());
  if (version > kSchemaVersion) {
    return absl::FailedPreconditionError(
        absl::StrCat("cdr store ", path_, ": schema version ", version,
                     " is newer than this server supports (", kSchemaVersion, ")"));
  }
  if (version == kSchemaVersion) return absl::OkStatus();

  // Another process may be migrating too: decide inside the write transaction.
  LB_RETURN_IF_ERROR(Exec("BEGIN IMMEDIATE"));
  absl::Status status = [&]() -> absl::Status {
    mu_.AssertHeld();
    LB_ASSIGN_OR_RETURN(int current, user_version());
    for (const Migration& m : kMigrations) {
      if (m.version <= current) continue;
      LB_RETURN_IF_ERROR(Exec(m.sql));
      LB_RETURN_IF_ERROR(Exec(absl::StrCat("PRAGMA user_version = ", m.version).c_str()));
    }
    return Exec("COMMIT");
  }();
  if (!status.ok()) sqlite3_exec(db_, "ROLLBACK", nullptr, nullptr, nullptr);
  return status;
}

absl::StatusOr<sqlite3_stmt*> CdrStore::Statement(sqlite3_stmt** slot, const char* sql) {
  if (*slot == nullptr) {
    const int rc = sqlite3_prepare_v3(db_, sql, -1, SQLITE_PREPARE_PERSISTENT, slot, nullptr);
    if (rc != SQLITE_OK) {
      *slot = nullptr;
      return Error(rc, absl::StrCat("prepare ", sql));
    }
  } else {
    sqlite3_reset(*slot);
    sqlite3_clear_bindings(*slot);
  }
  return *slot;
}

absl::Status CdrStore::InsertLocked(const v1::CallRecord& r, int64_t* id) {
  LB_ASSIGN_OR_RETURN(sqlite3_stmt * s, Statement(&insert_, kInsertSql));
  ResetOnExit reset(s);
  int rc = SQLITE_OK;
  const auto bind = [&rc](int result) {
    if (rc == SQLITE_OK) rc = result;
  };
  bind(BindText(s, 1, r.call_id()));
  bind(BindText(s, 2, r.line_id()));
  bind(BindText(s, 3, EnumName(v1::CallOrigin_descriptor(), r.origin())));
  bind(BindText(s, 4, EnumName(v1::CallReason_descriptor(), r.reason())));
  bind(BindText(s, 5, r.caller().number()));
  bind(BindText(s, 6, r.caller().name()));
  bind(BindText(s, 7, r.called().number()));
  bind(BindText(s, 8, r.called().name()));
  bind(BindText(s, 9, r.connected().number()));
  bind(BindText(s, 10, r.connected().name()));
  bind(BindTime(s, 11, r.has_started(), r.started()));
  bind(BindTime(s, 12, r.has_answered(), r.answered()));
  bind(BindTime(s, 13, r.has_ended(), r.ended()));
  bind(BindText(s, 14, EnumName(v1::DisconnectMode_descriptor(), r.disposition())));
  bind(BindText(s, 15, EnumName(v1::MediaMode_descriptor(), r.media_mode())));
  bind(sqlite3_bind_int64(s, 16, static_cast<int64_t>(r.duration_ms())));
  bind(sqlite3_bind_int(s, 17, r.caller().available() ? 1 : 0));
  bind(sqlite3_bind_int(s, 18, r.caller().blocked() ? 1 : 0));
  bind(sqlite3_bind_int(s, 19, r.called().available() ? 1 : 0));
  bind(sqlite3_bind_int(s, 20, r.called().blocked() ? 1 : 0));
  bind(sqlite3_bind_int(s, 21, r.connected().available() ? 1 : 0));
  bind(sqlite3_bind_int(s, 22, r.connected().blocked() ? 1 : 0));
  if (rc != SQLITE_OK) return Error(rc, "bind call record");
  rc = sqlite3_step(s);
  if (rc != SQLITE_DONE) return Error(rc, "insert call record");
  *id = sqlite3_last_insert_rowid(db_);
  return absl::OkStatus();
}

absl::StatusOr<std::vector<int64_t>> CdrStore::AppendBatch(
    const std::vector<v1::CallRecord>& records) {
  absl::MutexLock lock(&mu_);
  std::vector<int64_t> ids;
  if (records.empty()) return ids;
  ids.reserve(records.size());

  const auto step = [this](sqlite3_stmt** slot, const char* sql) -> absl::Status {
    mu_.AssertHeld();
    LB_ASSIGN_OR_RETURN(sqlite3_stmt * s, Statement(slot, sql));
    ResetOnExit reset(s);
    const int rc = sqlite3_step(s);
    if (rc != SQLITE_DONE) return Error(rc, sql);
    return absl::OkStatus();
  };
  LB_RETURN_IF_ERROR(step(&begin_, "BEGIN IMMEDIATE"));
  absl::Status status;
  for (const v1::CallRecord& record : records) {
    int64_t id = 0;
    status = InsertLocked(record, &id);
    if (!status.ok()) break;
    ids.push_back(id);
  }
  if (status.ok()) status = step(&commit_, "COMMIT");
  if (!status.ok()) {
    if (sqlite3_get_autocommit(db_) == 0) step(&rollback_, "ROLLBACK").IgnoreError();
    return status;
  }
  return ids;
}

absl::StatusOr<v1::ListCallRecordsResponse> CdrStore::List(
    const v1::ListCallRecordsRequest& request) {
  if (request.limit() > kMaxListLimit) {
    return absl::InvalidArgumentError(
        absl::StrCat("limit ", request.limit(), " exceeds the maximum of ", kMaxListLimit));
  }
  if (request.before_record_id() < 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("before_record_id ", request.before_record_id(), " is negative"));
  }
  const uint32_t limit = request.limit() == 0 ? kDefaultListLimit : request.limit();
  // The file holds this server's records only.
  if (!request.server_id().empty() && request.server_id() != server_id_) {
    return v1::ListCallRecordsResponse();
  }
  int filters = 0;
  if (!request.line_id().empty()) filters |= kByLine;
  if (request.has_since()) filters |= kBySince;
  if (request.before_record_id() > 0) filters |= kByBefore;

  absl::MutexLock lock(&mu_);
  const std::string sql = ListSql(filters);
  LB_ASSIGN_OR_RETURN(sqlite3_stmt * s, Statement(&list_[filters], sql.c_str()));
  ResetOnExit reset(s);
  int rc = SQLITE_OK;
  if (filters & kByLine) rc = BindText(s, 1, request.line_id());
  if (rc == SQLITE_OK && (filters & kBySince)) {
    rc = sqlite3_bind_int64(s, 2, ToMicros(request.since()));
  }
  if (rc == SQLITE_OK && (filters & kByBefore)) {
    rc = sqlite3_bind_int64(s, 3, request.before_record_id());
  }
  // One more than asked for tells whether there is a next page.
  if (rc == SQLITE_OK) rc = sqlite3_bind_int64(s, 4, static_cast<int64_t>(limit) + 1);
  if (rc != SQLITE_OK) return Error(rc, "bind list query");

  v1::ListCallRecordsResponse response;
  bool more = false;
  while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
    if (static_cast<uint32_t>(response.records_size()) == limit) {
      more = true;
      break;
    }
    v1::CallRecord* record = response.add_records();
    ReadRow(s, record);
    record->set_server_id(server_id_);
  }
  if (rc != SQLITE_ROW && rc != SQLITE_DONE) return Error(rc, "list call records");
  if (more) {
    response.set_next_before_record_id(
        response.records(response.records_size() - 1).record_id());
  }
  return response;
}

absl::StatusOr<uint64_t> CdrStore::Count() {
  absl::MutexLock lock(&mu_);
  LB_ASSIGN_OR_RETURN(sqlite3_stmt * s,
                      Statement(&count_, "SELECT COUNT(*) FROM call_records"));
  ResetOnExit reset(s);
  const int rc = sqlite3_step(s);
  if (rc != SQLITE_ROW) return Error(rc, "count call records");
  return static_cast<uint64_t>(sqlite3_column_int64(s, 0));
}

absl::StatusOr<uint64_t> CdrStore::PruneBatch(int64_t cutoff_us, uint64_t max_rows,
                                              uint32_t batch) {
  absl::MutexLock lock(&mu_);
  LB_ASSIGN_OR_RETURN(sqlite3_stmt * s, Statement(&prune_, kPruneSql));
  ResetOnExit reset(s);
  int rc = sqlite3_bind_int64(s, 1, cutoff_us);
  if (rc == SQLITE_OK) {
    rc = sqlite3_bind_int64(s, 2, static_cast<int64_t>(std::min<uint64_t>(max_rows, INT64_MAX)));
  }
  if (rc == SQLITE_OK) rc = sqlite3_bind_int64(s, 3, batch);
  if (rc != SQLITE_OK) return Error(rc, "bind prune");
  rc = sqlite3_step(s);
  if (rc != SQLITE_DONE) return Error(rc, "prune call records");
  return static_cast<uint64_t>(sqlite3_changes(db_));
}

// ---------------------------------------------------------------------------

AsyncCdrWriter::AsyncCdrWriter(CallRecordStore* store, size_t queue_limit, size_t max_batch)
    : store_(store),
      queue_limit_(queue_limit == 0 ? 1 : queue_limit),
      max_batch_(max_batch == 0 ? 1 : max_batch),
      thread_([this] { Run(); }) {}

AsyncCdrWriter::~AsyncCdrWriter() {
  {
    absl::MutexLock lock(&mu_);
    stopping_ = true;
  }
  thread_.join();
}

bool AsyncCdrWriter::Enqueue(v1::CallRecord record, std::function<void()> settled) {
  absl::MutexLock lock(&mu_);
  if (stopping_ || queue_.size() >= queue_limit_) {
    ++dropped_;
    return false;
  }
  queue_.push_back({std::move(record), std::move(settled)});
  ++enqueued_;
  return true;
}

absl::Status AsyncCdrWriter::Flush() {
  absl::MutexLock lock(&mu_);
  const uint64_t target = enqueued_;
  const uint64_t attempts = failed_attempts_;
  const auto done = [this, target, attempts]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    return done_ >= target || failed_attempts_ > attempts;
  };
  ++flushing_;
  mu_.Await(absl::Condition(&done));
  --flushing_;
  absl::Status status = std::move(error_);
  error_ = absl::OkStatus();
  return status;
}

uint64_t AsyncCdrWriter::dropped() const {
  absl::MutexLock lock(&mu_);
  return dropped_;
}

uint64_t AsyncCdrWriter::written() const {
  absl::MutexLock lock(&mu_);
  return written_;
}

uint64_t AsyncCdrWriter::failed() const {
  absl::MutexLock lock(&mu_);
  return failed_;
}

size_t AsyncCdrWriter::queued() const {
  absl::MutexLock lock(&mu_);
  return static_cast<size_t>(enqueued_ - done_);
}

namespace {

void Settle(std::vector<std::function<void()>>* settled) {
  for (auto& fn : *settled) {
    if (fn) fn();
  }
  settled->clear();
}

}  // namespace

void AsyncCdrWriter::Run() {
  std::vector<v1::CallRecord> batch;  // kept while a transient error lasts
  std::vector<std::function<void()>> settled;  // the batch's, until first settled
  for (;;) {
    {
      absl::MutexLock lock(&mu_);
      if (batch.empty()) {
        const auto ready = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
          return !queue_.empty() || stopping_;
        };
        mu_.Await(absl::Condition(&ready));
        // Let more records join this transaction (kRecordCommitLinger).
        const auto enough = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
          return queue_.size() >= max_batch_ || stopping_ || flushing_ > 0;
        };
        if (!enough()) mu_.AwaitWithTimeout(absl::Condition(&enough), kRecordCommitLinger);
        if (queue_.empty()) return;  // stopping, and everything is written
        while (!queue_.empty() && batch.size() < max_batch_) {
          batch.push_back(std::move(queue_.front().record));
          settled.push_back(std::move(queue_.front().settled));
          queue_.pop_front();
        }
      }
    }
    absl::StatusOr<std::vector<int64_t>> ids = store_->AppendBatch(batch);
    if (!ids.ok() && IsTransientWriteError(ids.status())) {
      health_.Failed(ids.status(), batch.size(), queued());
      Settle(&settled);  // the failure is loud; nothing waits for the retries
      {
        absl::MutexLock lock(&mu_);
        ++failed_attempts_;
        error_ = ids.status();
        if (!stopping_) {
          mu_.AwaitWithTimeout(absl::Condition(&stopping_), health_.Backoff());
          continue;  // the same batch again
        }
        // Shutting down and the store still refuses: give up what is left.
        const uint64_t lost = batch.size() + queue_.size();
        LB_ERROR("cdr: %d call records lost at shutdown: %s", lost, ids.status().message());
        done_ += lost;
        failed_ += lost;
        for (Pending& p : queue_) settled.push_back(std::move(p.settled));
        queue_.clear();
        batch.clear();
      }
      Settle(&settled);
      continue;
    }
    uint64_t ok = 0;
    absl::Status error;
    if (ids.ok()) {
      ok = batch.size();
    } else if (batch.size() == 1 || absl::IsResourceExhausted(ids.status())) {
      // (ResourceExhausted — a full spool — is not the records' fault.)
      error = ids.status();
    } else {
      // Do not let one record take the whole batch with it: retry one by one.
      for (const v1::CallRecord& record : batch) {
        if (absl::StatusOr<int64_t> id = store_->Append(record); id.ok()) {
          ++ok;
        } else {
          error = id.status();
        }
      }
    }
    if (error.ok()) {
      health_.Succeeded();
    } else {
      health_.Failed(error, batch.size() - ok, queued());
    }
    Settle(&settled);
    absl::MutexLock lock(&mu_);
    done_ += batch.size();
    written_ += ok;
    failed_ += batch.size() - ok;
    if (!error.ok()) {
      ++failed_attempts_;
      error_ = std::move(error);
    }
    batch.clear();
  }
}

}  // namespace linebridge
