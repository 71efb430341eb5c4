#include "store/sqlite_security_backend.h"

#include <sqlite3.h>

#include <algorithm>
#include <cstdint>
#include <filesystem>
#include <system_error>
#include <utility>

#include "absl/strings/str_cat.h"
#include "linebridge/status_macros.h"
#include "store/audit_sanitize.h"
#include "store/write_health.h"

namespace linebridge {
namespace {

constexpr char kSchema[] = R"sql(
CREATE TABLE IF NOT EXISTS principals (
  name TEXT PRIMARY KEY,
  role TEXT NOT NULL,
  display_name TEXT NOT NULL DEFAULT '',
  created_us INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS grants (
  principal TEXT NOT NULL REFERENCES principals(name) ON DELETE CASCADE,
  line_id TEXT NOT NULL,
  monitor INTEGER NOT NULL,
  control INTEGER NOT NULL,
  originate INTEGER NOT NULL,
  PRIMARY KEY (principal, line_id)
);
CREATE TABLE IF NOT EXISTS tokens (
  token_id TEXT PRIMARY KEY,
  principal TEXT NOT NULL REFERENCES principals(name) ON DELETE CASCADE,
  secret_sha256 BLOB NOT NULL,
  created_us INTEGER NOT NULL,
  expires_us INTEGER,
  revoked INTEGER NOT NULL DEFAULT 0,
  description TEXT NOT NULL DEFAULT ''
);
CREATE TABLE IF NOT EXISTS audit (
  audit_id INTEGER PRIMARY KEY AUTOINCREMENT,
  time_us INTEGER NOT NULL,
  principal TEXT NOT NULL,
  operation TEXT NOT NULL,
  line_id TEXT NOT NULL,
  call_id TEXT NOT NULL,
  detail TEXT NOT NULL,
  code INTEGER NOT NULL,
  lineerr TEXT NOT NULL,
  peer TEXT NOT NULL DEFAULT '',
  repeats INTEGER NOT NULL DEFAULT 1
);
CREATE INDEX IF NOT EXISTS audit_by_principal ON audit(principal, audit_id);
CREATE INDEX IF NOT EXISTS audit_by_time ON audit(time_us);
PRAGMA user_version = 1;
)sql";

// Finalizes a statement when leaving scope.
class Stmt {
 public:
  Stmt(sqlite3* db, const char* sql) { rc_ = sqlite3_prepare_v2(db, sql, -1, &stmt_, nullptr); }
  ~Stmt() { sqlite3_finalize(stmt_); }
  Stmt(const Stmt&) = delete;
  Stmt& operator=(const Stmt&) = delete;
  int rc() const { return rc_; }
  sqlite3_stmt* get() { return stmt_; }
  void Text(int i, absl::string_view s) {
    sqlite3_bind_text(stmt_, i, s.data(), static_cast<int>(s.size()), SQLITE_TRANSIENT);
  }
  void Int(int i, int64_t v) { sqlite3_bind_int64(stmt_, i, v); }
  std::string Column(int i) {
    const unsigned char* t = sqlite3_column_text(stmt_, i);
    return t == nullptr ? std::string()
                        : std::string(reinterpret_cast<const char*>(t),
                                      static_cast<size_t>(sqlite3_column_bytes(stmt_, i)));
  }

 private:
  sqlite3_stmt* stmt_ = nullptr;
  int rc_ = SQLITE_OK;
};

}  // namespace

absl::StatusOr<std::unique_ptr<SqliteSecurityBackend>> SqliteSecurityBackend::Open(
    const std::string& path, int busy_timeout_ms, std::string server_id) {
  std::unique_ptr<SqliteSecurityBackend> b(
      new SqliteSecurityBackend(path, busy_timeout_ms, std::move(server_id)));
  LB_RETURN_IF_ERROR(b->Init());
  return b;
}

SqliteSecurityBackend::~SqliteSecurityBackend() {
  if (db_ != nullptr) sqlite3_close_v2(db_);
}

absl::Status SqliteSecurityBackend::Error(int rc, absl::string_view what) {
  return absl::Status(SqliteStatusCode(rc),
                      absl::StrCat(path_, ": ", what, ": ", sqlite3_errstr(rc), " (",
                                   db_ != nullptr ? sqlite3_errmsg(db_) : "", ")"));
}

void SqliteSecurityBackend::SetBusyTimeout(absl::Duration timeout) {
  sqlite3_busy_timeout(db_, static_cast<int>(absl::ToInt64Milliseconds(timeout)));
}

absl::Status SqliteSecurityBackend::Exec(const char* sql) {
  char* err = nullptr;
  int rc = sqlite3_exec(db_, sql, nullptr, nullptr, &err);
  if (rc != SQLITE_OK) {
    std::string msg = err != nullptr ? err : "";
    sqlite3_free(err);
    return absl::Status(SqliteStatusCode(rc), absl::StrCat(path_, ": ", msg));
  }
  return absl::OkStatus();
}

absl::Status SqliteSecurityBackend::Init() {
  std::error_code ec;
  const std::filesystem::path parent = std::filesystem::path(path_).parent_path();
  if (!parent.empty()) std::filesystem::create_directories(parent, ec);
  int rc = sqlite3_open_v2(path_.c_str(), &db_,
                           SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_FULLMUTEX,
                           nullptr);
  if (rc != SQLITE_OK) return Error(rc, "open");
  sqlite3_busy_timeout(db_, busy_timeout_ms_);
  // Secrets' hashes live here: owner-only.
  std::filesystem::permissions(path_, std::filesystem::perms::owner_read |
                                          std::filesystem::perms::owner_write,
                               ec);
  LB_RETURN_IF_ERROR(Exec("PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; "
                          "PRAGMA foreign_keys=ON;"));
  {
    Stmt v(db_, "PRAGMA user_version");
    if (v.rc() != SQLITE_OK) return Error(v.rc(), "user_version");
    if (sqlite3_step(v.get()) == SQLITE_ROW && sqlite3_column_int(v.get(), 0) > kSchemaVersion) {
      return absl::FailedPreconditionError(
          absl::StrCat(path_, ": written by a newer linebridged (schema ",
                       sqlite3_column_int(v.get(), 0), ")"));
    }
  }
  LB_RETURN_IF_ERROR(Exec(kSchema));
  {
    // Stores from before the audit's peer and repeat count: add them.
    Stmt q(db_, "SELECT 1 FROM pragma_table_info('audit') WHERE name = 'repeats'");
    if (q.rc() != SQLITE_OK) return Error(q.rc(), "audit columns");
    if (sqlite3_step(q.get()) != SQLITE_ROW) {
      LB_RETURN_IF_ERROR(Exec("ALTER TABLE audit ADD COLUMN peer TEXT NOT NULL DEFAULT ''; "
                              "ALTER TABLE audit ADD COLUMN repeats INTEGER NOT NULL DEFAULT 1;"));
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<SecuritySnapshot> SqliteSecurityBackend::Load() {
  SecuritySnapshot snap;
  {
    Stmt q(db_, "SELECT name, role, display_name FROM principals");
    if (q.rc() != SQLITE_OK) return Error(q.rc(), "load principals");
    while (sqlite3_step(q.get()) == SQLITE_ROW) {
      auto rec = std::make_shared<PrincipalRecord>();
      rec->name = q.Column(0);
      rec->role = RoleFromText(q.Column(1));
      rec->display_name = q.Column(2);
      snap.principals[rec->name] = rec;
    }
  }
  {
    Stmt q(db_, "SELECT principal, line_id, monitor, control, originate FROM grants");
    if (q.rc() != SQLITE_OK) return Error(q.rc(), "load grants");
    while (sqlite3_step(q.get()) == SQLITE_ROW) {
      auto it = snap.principals.find(q.Column(0));
      if (it == snap.principals.end()) continue;
      LineGrant g;
      g.monitor = sqlite3_column_int(q.get(), 2) != 0;
      g.control = sqlite3_column_int(q.get(), 3) != 0;
      g.originate = sqlite3_column_int(q.get(), 4) != 0;
      it->second->lines[q.Column(1)] = g;
    }
  }
  {
    Stmt q(db_,
           "SELECT token_id, principal, secret_sha256, created_us, expires_us, revoked, "
           "description FROM tokens");
    if (q.rc() != SQLITE_OK) return Error(q.rc(), "load tokens");
    while (sqlite3_step(q.get()) == SQLITE_ROW) {
      TokenRow e;
      e.info.set_token_id(q.Column(0));
      e.info.set_principal(q.Column(1));
      e.sha256.assign(static_cast<const char*>(sqlite3_column_blob(q.get(), 2)),
                      static_cast<size_t>(sqlite3_column_bytes(q.get(), 2)));
      *e.info.mutable_created() = MicrosTimestamp(sqlite3_column_int64(q.get(), 3));
      if (sqlite3_column_type(q.get(), 4) != SQLITE_NULL) {
        *e.info.mutable_expires() = MicrosTimestamp(sqlite3_column_int64(q.get(), 4));
      }
      e.info.set_revoked(sqlite3_column_int(q.get(), 5) != 0);
      e.info.set_description(q.Column(6));
      snap.tokens[e.info.token_id()] = std::move(e);
    }
  }
  return snap;
}

absl::Status SqliteSecurityBackend::InTransaction(const std::function<absl::Status()>& body) {
  LB_RETURN_IF_ERROR(Exec("BEGIN IMMEDIATE"));
  absl::Status st = body();
  if (st.ok()) st = Exec("COMMIT");
  if (!st.ok()) (void)Exec("ROLLBACK");
  return st;
}

absl::Status SqliteSecurityBackend::UpsertPrincipal(const std::string& name, v1::Role role,
                                                    const std::string& display_name,
                                                    int64_t created_us) {
  Stmt q(db_,
         "INSERT INTO principals (name, role, display_name, created_us) VALUES (?1, ?2, ?3, ?4) "
         "ON CONFLICT(name) DO UPDATE SET role = ?2, display_name = ?3");
  q.Text(1, name);
  q.Text(2, RoleText(role));
  q.Text(3, display_name);
  q.Int(4, created_us);
  if (int rc = sqlite3_step(q.get()); rc != SQLITE_DONE) return Error(rc, "add principal");
  return absl::OkStatus();
}

absl::Status SqliteSecurityBackend::DeletePrincipal(absl::string_view name) {
  Stmt q(db_, "DELETE FROM principals WHERE name = ?1");
  q.Text(1, name);
  if (int rc = sqlite3_step(q.get()); rc != SQLITE_DONE) return Error(rc, "remove principal");
  return absl::OkStatus();
}

absl::Status SqliteSecurityBackend::DeleteGrants(const std::string& principal) {
  Stmt q(db_, "DELETE FROM grants WHERE principal = ?1");
  q.Text(1, principal);
  if (int rc = sqlite3_step(q.get()); rc != SQLITE_DONE) return Error(rc, "unassign all");
  return absl::OkStatus();
}

absl::Status SqliteSecurityBackend::WriteGrant(const std::string& principal,
                                               const std::string& line, const LineGrant& g) {
  if (!g.visible()) {
    Stmt q(db_, "DELETE FROM grants WHERE principal = ?1 AND line_id = ?2");
    q.Text(1, principal);
    q.Text(2, line);
    if (int rc = sqlite3_step(q.get()); rc != SQLITE_DONE) return Error(rc, "unassign");
    return absl::OkStatus();
  }
  Stmt q(db_,
         "INSERT INTO grants (principal, line_id, monitor, control, originate) "
         "VALUES (?1, ?2, ?3, ?4, ?5) ON CONFLICT(principal, line_id) DO UPDATE SET "
         "monitor = ?3, control = ?4, originate = ?5");
  q.Text(1, principal);
  q.Text(2, line);
  q.Int(3, g.monitor || g.control || g.originate);  // control and originate imply monitor
  q.Int(4, g.control);
  q.Int(5, g.originate);
  if (int rc = sqlite3_step(q.get()); rc != SQLITE_DONE) return Error(rc, "assign");
  return absl::OkStatus();
}

absl::Status SqliteSecurityBackend::InsertToken(const TokenRow& e) {
  Stmt q(db_,
         "INSERT INTO tokens (token_id, principal, secret_sha256, created_us, expires_us, "
         "revoked, description) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)");
  q.Text(1, e.info.token_id());
  q.Text(2, e.info.principal());
  sqlite3_bind_blob(q.get(), 3, e.sha256.data(), static_cast<int>(e.sha256.size()),
                    SQLITE_TRANSIENT);
  q.Int(4, TimestampMicros(e.info.created()));
  if (e.info.has_expires()) {
    q.Int(5, TimestampMicros(e.info.expires()));
  } else {
    sqlite3_bind_null(q.get(), 5);
  }
  q.Int(6, e.info.revoked() ? 1 : 0);
  q.Text(7, e.info.description());
  if (int rc = sqlite3_step(q.get()); rc != SQLITE_DONE) return Error(rc, "issue token");
  return absl::OkStatus();
}

absl::Status SqliteSecurityBackend::SetRevoked(absl::string_view token_id) {
  Stmt q(db_, "UPDATE tokens SET revoked = 1 WHERE token_id = ?1");
  q.Text(1, token_id);
  if (int rc = sqlite3_step(q.get()); rc != SQLITE_DONE) return Error(rc, "revoke token");
  return absl::OkStatus();
}

absl::Status SqliteSecurityBackend::AppendAudit(const std::vector<v1::AuditRecord>& records) {
  LB_RETURN_IF_ERROR(Exec("BEGIN"));
  Stmt q(db_,
         "INSERT INTO audit (time_us, principal, operation, line_id, call_id, detail, code, "
         "lineerr, peer, repeats) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)");
  if (q.rc() != SQLITE_OK) {
    (void)Exec("ROLLBACK");
    return Error(q.rc(), "audit insert");
  }
  for (const v1::AuditRecord& r : records) {
    sqlite3_reset(q.get());
    q.Int(1, TimestampMicros(r.time()));
    q.Text(2, r.principal());
    q.Text(3, r.operation());
    q.Text(4, r.line_id());
    q.Text(5, r.call_id());
    q.Text(6, r.detail());
    q.Int(7, r.code());
    q.Text(8, r.lineerr());
    q.Text(9, r.peer());
    q.Int(10, std::max<uint32_t>(1, r.count()));
    if (int rc = sqlite3_step(q.get()); rc != SQLITE_DONE) {
      absl::Status st = Error(rc, "audit insert");
      (void)Exec("ROLLBACK");
      return st;
    }
  }
  return Exec("COMMIT");
}

absl::StatusOr<uint64_t> SqliteSecurityBackend::PruneAudit(int64_t cutoff_us, uint64_t max_rows,
                                                           uint32_t batch) {
  // Among the `batch` oldest rows, those written before the cutoff or with
  // more than max_rows newer rows (audit ids only grow).
  Stmt q(db_,
         "DELETE FROM audit WHERE audit_id IN (SELECT audit_id FROM audit ORDER BY audit_id "
         "LIMIT ?3) AND (time_us < ?1 OR audit_id <= (SELECT MAX(audit_id) FROM audit) - ?2)");
  if (q.rc() != SQLITE_OK) return Error(q.rc(), "audit prune");
  q.Int(1, cutoff_us);
  q.Int(2, static_cast<int64_t>(std::min<uint64_t>(max_rows, INT64_MAX)));
  q.Int(3, batch);
  if (int rc = sqlite3_step(q.get()); rc != SQLITE_DONE) return Error(rc, "audit prune");
  return static_cast<uint64_t>(sqlite3_changes(db_));
}

absl::StatusOr<v1::ListAuditResponse> SqliteSecurityBackend::ListAudit(
    const v1::ListAuditRequest& req, uint32_t limit, size_t page_bytes) {
  v1::ListAuditResponse resp;
  // The file holds this server's rows only.
  if (!req.server_id().empty() && req.server_id() != server_id_) return resp;
  Stmt q(db_,
         "SELECT audit_id, time_us, principal, operation, line_id, call_id, detail, code, "
         "lineerr, peer, repeats FROM audit WHERE (?1 = '' OR principal = ?1) AND time_us >= ?2 "
         "AND (?4 = 0 OR audit_id < ?4) ORDER BY audit_id DESC LIMIT ?3");
  if (q.rc() != SQLITE_OK) return Error(q.rc(), "list audit");
  q.Text(1, req.principal());
  q.Int(2, req.has_since() ? TimestampMicros(req.since()) : 0);
  q.Int(3, static_cast<int64_t>(limit) + 1);  // one more: is there a next page?
  q.Int(4, req.before_audit_id());
  size_t bytes = 0;
  uint32_t rows = 0;
  int rc;
  while ((rc = sqlite3_step(q.get())) == SQLITE_ROW) {
    const int64_t id = sqlite3_column_int64(q.get(), 0);
    // The page is full (by count or size): the rest is on the next page.
    if (rows == limit || bytes >= page_bytes) {
      resp.set_next_before_audit_id(resp.records(resp.records_size() - 1).audit_id());
      break;
    }
    v1::AuditRecord* r = resp.add_records();
    r->set_audit_id(id);
    *r->mutable_time() = MicrosTimestamp(sqlite3_column_int64(q.get(), 1));
    r->set_principal(q.Column(2));
    r->set_operation(q.Column(3));
    r->set_line_id(q.Column(4));
    r->set_call_id(q.Column(5));
    r->set_detail(q.Column(6));
    r->set_code(sqlite3_column_int(q.get(), 7));
    r->set_lineerr(q.Column(8));
    r->set_peer(q.Column(9));
    r->set_count(static_cast<uint32_t>(sqlite3_column_int64(q.get(), 10)));
    r->set_server_id(server_id_);
    // Rows stored before the bounds existed are bounded on the way out.
    SanitizeAuditRecord(r);
    bytes += r->ByteSizeLong();
    ++rows;
  }
  if (rc != SQLITE_DONE && rc != SQLITE_ROW) return Error(rc, "list audit");
  return resp;
}

}  // namespace linebridge
