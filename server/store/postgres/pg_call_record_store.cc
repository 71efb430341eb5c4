#include "store/postgres/pg_call_record_store.h"

#include <algorithm>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "google/protobuf/timestamp.pb.h"
#include "linebridge/status_macros.h"
#include "store/postgres/pg_schema.h"
#include "store/record_enums.h"
#include "store/security_backend.h"

namespace linebridge {
namespace {

constexpr int kColumnsPerRow = 24;  // server_id, the 22 record columns, source_key

constexpr char kInsertColumns[] =
    "server_id, call_id, line_id, origin, reason, caller_number, caller_name, called_number, "
    "called_name, connected_number, connected_name, started_us, answered_us, ended_us, "
    "disposition, media_mode, duration_ms, caller_available, caller_blocked, called_available, "
    "called_blocked, connected_available, connected_blocked, source_key";

constexpr char kSelectColumns[] =
    "record_id, server_id, call_id, line_id, origin, reason, caller_number, caller_name, "
    "called_number, called_name, connected_number, connected_name, started_us, answered_us, "
    "ended_us, disposition, media_mode, duration_ms, caller_available, caller_blocked, "
    "called_available, called_blocked, connected_available, connected_blocked";

// At most this many records per INSERT (24 parameters each; PostgreSQL
// takes at most 65535).
constexpr size_t kMaxRowsPerInsert = 2000;

PgParam Time(bool has, const google::protobuf::Timestamp& t) {
  if (!has) return std::nullopt;
  return absl::StrCat(TimestampMicros(t));
}
PgParam Bool(bool b) { return std::string(b ? "t" : "f"); }

void AddParams(const v1::CallRecord& r, const std::string& server_id, PgParam source_key,
               std::vector<PgParam>* p) {
  p->push_back(server_id);
  p->push_back(r.call_id());
  p->push_back(r.line_id());
  p->push_back(EnumName(v1::CallOrigin_descriptor(), r.origin()));
  p->push_back(EnumName(v1::CallReason_descriptor(), r.reason()));
  p->push_back(r.caller().number());
  p->push_back(r.caller().name());
  p->push_back(r.called().number());
  p->push_back(r.called().name());
  p->push_back(r.connected().number());
  p->push_back(r.connected().name());
  p->push_back(Time(r.has_started(), r.started()));
  p->push_back(Time(r.has_answered(), r.answered()));
  p->push_back(Time(r.has_ended(), r.ended()));
  p->push_back(EnumName(v1::DisconnectMode_descriptor(), r.disposition()));
  p->push_back(EnumName(v1::MediaMode_descriptor(), r.media_mode()));
  p->push_back(absl::StrCat(r.duration_ms()));
  p->push_back(Bool(r.caller().available()));
  p->push_back(Bool(r.caller().blocked()));
  p->push_back(Bool(r.called().available()));
  p->push_back(Bool(r.called().blocked()));
  p->push_back(Bool(r.connected().available()));
  p->push_back(Bool(r.connected().blocked()));
  p->push_back(std::move(source_key));
}

void ReadRow(const PgResult& q, int i, v1::CallRecord* r) {
  r->set_record_id(q.int64(i, 0));
  r->set_server_id(q.text(i, 1));
  r->set_call_id(q.text(i, 2));
  r->set_line_id(q.text(i, 3));
  r->set_origin(static_cast<v1::CallOrigin>(EnumValue(v1::CallOrigin_descriptor(), q.text(i, 4))));
  r->set_reason(static_cast<v1::CallReason>(EnumValue(v1::CallReason_descriptor(), q.text(i, 5))));
  r->mutable_caller()->set_number(q.text(i, 6));
  r->mutable_caller()->set_name(q.text(i, 7));
  r->mutable_called()->set_number(q.text(i, 8));
  r->mutable_called()->set_name(q.text(i, 9));
  r->mutable_connected()->set_number(q.text(i, 10));
  r->mutable_connected()->set_name(q.text(i, 11));
  if (!q.null(i, 12)) *r->mutable_started() = MicrosTimestamp(q.int64(i, 12));
  if (!q.null(i, 13)) *r->mutable_answered() = MicrosTimestamp(q.int64(i, 13));
  if (!q.null(i, 14)) *r->mutable_ended() = MicrosTimestamp(q.int64(i, 14));
  r->set_disposition(static_cast<v1::DisconnectMode>(
      EnumValue(v1::DisconnectMode_descriptor(), q.text(i, 15))));
  r->set_media_mode(
      static_cast<v1::MediaMode>(EnumValue(v1::MediaMode_descriptor(), q.text(i, 16))));
  r->set_duration_ms(static_cast<uint64_t>(q.int64(i, 17)));
  r->mutable_caller()->set_available(q.boolean(i, 18));
  r->mutable_caller()->set_blocked(q.boolean(i, 19));
  r->mutable_called()->set_available(q.boolean(i, 20));
  r->mutable_called()->set_blocked(q.boolean(i, 21));
  r->mutable_connected()->set_available(q.boolean(i, 22));
  r->mutable_connected()->set_blocked(q.boolean(i, 23));
}

}  // namespace

absl::StatusOr<std::unique_ptr<PgCallRecordStore>> PgCallRecordStore::Open(
    const PgOptions& options, std::string server_id) {
  LB_ASSIGN_OR_RETURN(std::unique_ptr<PgConnection> conn, PgConnection::Connect(options));
  LB_RETURN_IF_ERROR(MigratePg(*conn, server_id));
  return std::unique_ptr<PgCallRecordStore>(
      new PgCallRecordStore(std::move(conn), std::move(server_id)));
}

absl::StatusOr<PgResult> PgCallRecordStore::Insert(const std::vector<v1::CallRecord>& records,
                                                   const std::vector<std::string>* source_keys,
                                                   const std::string& server_id) {
  std::vector<PgParam> params;
  params.reserve(records.size() * kColumnsPerRow);
  std::string sql = absl::StrCat("INSERT INTO call_records (", kInsertColumns, ") VALUES ");
  for (size_t i = 0; i < records.size(); ++i) {
    absl::StrAppend(&sql, i == 0 ? "(" : ", (");
    for (int c = 0; c < kColumnsPerRow; ++c) {
      absl::StrAppend(&sql, c == 0 ? "$" : ", $", i * kColumnsPerRow + c + 1);
    }
    absl::StrAppend(&sql, ")");
    AddParams(records[i], server_id,
              source_keys != nullptr ? PgParam((*source_keys)[i]) : std::nullopt, &params);
  }
  absl::StrAppend(&sql, source_keys != nullptr ? " ON CONFLICT (source_key) DO NOTHING" : "",
                  " RETURNING record_id");
  return conn_->Exec(sql, params);
}

PgCallRecordStore::~PgCallRecordStore() { spooler_.reset(); }

void PgCallRecordStore::EnableSpool(std::unique_ptr<SpoolFile> file) {
  spooler_ = std::make_unique<Spooler>(
      std::move(file),
      [this](const std::vector<SpoolEntry>& entries) -> absl::Status {
        std::vector<v1::CallRecord> records(entries.size());
        for (size_t i = 0; i < entries.size(); ++i) {
          if (!records[i].ParseFromString(entries[i].payload)) {
            return absl::DataLossError("a spooled call record does not parse");
          }
        }
        return InsertLive(records).status();
      },
      "cdr");
}

absl::StatusOr<std::vector<int64_t>> PgCallRecordStore::AppendBatch(
    const std::vector<v1::CallRecord>& records) {
  if (spooler_ == nullptr) return InsertLive(records);
  std::vector<SpoolEntry> entries(records.size());
  for (size_t i = 0; i < records.size(); ++i) {
    records[i].SerializeToString(&entries[i].payload);
  }
  std::vector<int64_t> ids;
  LB_RETURN_IF_ERROR(spooler_->Write(entries, [&]() -> absl::Status {
    LB_ASSIGN_OR_RETURN(ids, InsertLive(records));
    return absl::OkStatus();
  }));
  return ids;
}

absl::StatusOr<std::vector<int64_t>> PgCallRecordStore::InsertLive(
    const std::vector<v1::CallRecord>& records) {
  std::vector<int64_t> ids;
  if (records.empty()) return ids;
  ids.reserve(records.size());
  absl::MutexLock lock(&mu_);
  auto insert_all = [&]() -> absl::Status {
    mu_.AssertHeld();
    for (size_t at = 0; at < records.size(); at += kMaxRowsPerInsert) {
      const size_t n = std::min(kMaxRowsPerInsert, records.size() - at);
      std::vector<v1::CallRecord> part(records.begin() + static_cast<ptrdiff_t>(at),
                                       records.begin() + static_cast<ptrdiff_t>(at + n));
      // A batch is written again when its commit's reply was lost with the
      // connection: each record's key makes the second write a no-op. (A
      // call id is unique in its server's run; with the end time no two
      // calls ever share a key. "live:" keeps these apart from the keys of
      // imported records, which begin with the server id.)
      std::vector<std::string> keys;
      keys.reserve(part.size());
      for (const v1::CallRecord& r : part) {
        keys.push_back(absl::StrCat("live:", server_id_, "/", r.call_id(), "/",
                                    r.ended().seconds(), ".", r.ended().nanos()));
      }
      LB_ASSIGN_OR_RETURN(PgResult r, Insert(part, &keys, server_id_));
      for (int i = 0; i < r.rows(); ++i) ids.push_back(r.int64(i, 0));
    }
    return absl::OkStatus();
  };
  if (records.size() <= kMaxRowsPerInsert) {
    LB_RETURN_IF_ERROR(insert_all());  // one statement: atomic by itself
  } else {
    LB_RETURN_IF_ERROR(conn_->Transaction("BEGIN", insert_all));
  }
  return ids;
}

absl::StatusOr<uint64_t> PgCallRecordStore::CopyBatch(const std::vector<v1::CallRecord>& records,
                                                      const std::vector<std::string>& source_keys,
                                                      const std::string& server_id) {
  if (records.empty()) return 0;
  absl::MutexLock lock(&mu_);
  LB_ASSIGN_OR_RETURN(PgResult r, Insert(records, &source_keys, server_id));
  return static_cast<uint64_t>(r.rows());
}

absl::StatusOr<uint64_t> PgCallRecordStore::CountSourced(const std::string& prefix) {
  absl::MutexLock lock(&mu_);
  LB_ASSIGN_OR_RETURN(PgResult r,
                      conn_->Exec("SELECT count(*) FROM call_records WHERE starts_with(source_key, $1)",
                                  {prefix}));
  return static_cast<uint64_t>(r.int64(0, 0));
}

absl::StatusOr<v1::ListCallRecordsResponse> PgCallRecordStore::List(
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
  std::vector<std::string> where;
  std::vector<PgParam> params;
  if (!request.line_id().empty()) {
    params.push_back(request.line_id());
    where.push_back(absl::StrCat("line_id = $", params.size()));
  }
  if (!request.server_id().empty()) {
    params.push_back(request.server_id());
    where.push_back(absl::StrCat("server_id = $", params.size()));
  }
  if (request.has_since()) {
    params.push_back(absl::StrCat(TimestampMicros(request.since())));
    where.push_back(absl::StrCat("ended_us >= $", params.size()));
  }
  if (request.before_record_id() > 0) {
    params.push_back(absl::StrCat(request.before_record_id()));
    where.push_back(absl::StrCat("record_id < $", params.size()));
  }
  params.push_back(absl::StrCat(static_cast<int64_t>(limit) + 1));
  const std::string sql =
      absl::StrCat("SELECT ", kSelectColumns, " FROM call_records",
                   where.empty() ? "" : " WHERE ", absl::StrJoin(where, " AND "),
                   " ORDER BY record_id DESC LIMIT $", params.size());
  absl::MutexLock lock(&mu_);
  LB_ASSIGN_OR_RETURN(PgResult q, conn_->Exec(sql, params));
  v1::ListCallRecordsResponse response;
  const int n = std::min<int>(q.rows(), static_cast<int>(limit));
  for (int i = 0; i < n; ++i) ReadRow(q, i, response.add_records());
  if (q.rows() > static_cast<int>(limit)) {
    response.set_next_before_record_id(response.records(n - 1).record_id());
  }
  return response;
}

absl::StatusOr<uint64_t> PgCallRecordStore::Count() {
  absl::MutexLock lock(&mu_);
  LB_ASSIGN_OR_RETURN(PgResult r, conn_->Exec("SELECT count(*) FROM call_records"));
  return static_cast<uint64_t>(r.int64(0, 0));
}

absl::StatusOr<uint64_t> PgCallRecordStore::PruneBatch(int64_t cutoff_us, uint64_t max_rows,
                                                       uint32_t batch) {
  absl::MutexLock lock(&mu_);
  LB_ASSIGN_OR_RETURN(
      PgResult r,
      conn_->Exec("DELETE FROM call_records WHERE record_id IN (SELECT record_id FROM "
                  "call_records ORDER BY record_id LIMIT $3) AND (ended_us < $1 OR record_id <= "
                  "(SELECT max(record_id) FROM call_records) - $2)",
                  {absl::StrCat(cutoff_us),
                   absl::StrCat(std::min<uint64_t>(max_rows, INT64_MAX)), absl::StrCat(batch)}));
  return r.affected();
}

}  // namespace linebridge
