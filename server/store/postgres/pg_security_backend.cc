#include "store/postgres/pg_security_backend.h"

#include <fcntl.h>
#include <poll.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <utility>

#include <openssl/rand.h>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "linebridge/status_macros.h"
#include "store/audit_sanitize.h"
#include "store/postgres/pg_schema.h"

namespace linebridge {
namespace {

constexpr int kAuditColumns = 12;  // server_id ... repeats, source_key

PgParam Bool(bool b) { return std::string(b ? "t" : "f"); }

}  // namespace

absl::StatusOr<std::unique_ptr<PgSecurityBackend>> PgSecurityBackend::Open(
    const PgOptions& options, std::string server_id) {
  LB_ASSIGN_OR_RETURN(std::unique_ptr<PgConnection> conn, PgConnection::Connect(options));
  LB_RETURN_IF_ERROR(MigratePg(*conn, server_id));
  std::unique_ptr<PgSecurityBackend> b(
      new PgSecurityBackend(std::move(conn), options, std::move(server_id)));
  if (pipe2(b->wake_, O_CLOEXEC | O_NONBLOCK) != 0) {
    return absl::InternalError(absl::StrCat("pipe2: ", errno));
  }
  absl::MutexLock lock(&b->listen_mu_);
  LB_RETURN_IF_ERROR(b->Listen());
  return b;
}

PgSecurityBackend::PgSecurityBackend(std::unique_ptr<PgConnection> conn, PgOptions options,
                                     std::string server_id)
    : options_(std::move(options)),
      server_id_(std::move(server_id)),
      description_(absl::StrCat("postgresql ", conn->Describe())),
      conn_(std::move(conn)) {}

PgSecurityBackend::~PgSecurityBackend() {
  spooler_.reset();  // its thread writes through audit_conn_
  for (int fd : wake_) {
    if (fd >= 0) close(fd);
  }
}

absl::Status PgSecurityBackend::Listen() {
  if (listen_ == nullptr) {
    LB_ASSIGN_OR_RETURN(listen_, PgConnection::Connect(options_));
  } else {
    LB_RETURN_IF_ERROR(listen_->Ensure());
  }
  return listen_->Run(absl::StrCat("LISTEN ", kSecurityChannel));
}

void PgSecurityBackend::Wake() {
  const char c = 1;
  (void)!write(wake_[1], &c, 1);
}

absl::StatusOr<bool> PgSecurityBackend::WaitForChange(absl::Duration timeout) {
  absl::MutexLock lock(&listen_mu_);
  if (listen_ == nullptr || PQstatus(listen_->raw()) != CONNECTION_OK) {
    // Reconnected: changes made meanwhile were not announced; report one.
    LB_RETURN_IF_ERROR(Listen());
    return true;
  }
  const absl::Time deadline = absl::Now() + timeout;
  for (;;) {
    PGconn* c = listen_->raw();
    if (PQconsumeInput(c) == 0) {
      std::string message = PQerrorMessage(c);
      message = message.substr(0, message.find('\n'));
      return absl::UnavailableError(absl::StrCat(description_, ": listen: ", message));
    }
    bool changed = false;
    while (PGnotify* n = PQnotifies(c)) {
      changed = true;
      PQfreemem(n);
    }
    if (changed) return true;
    const absl::Duration left = deadline - absl::Now();
    if (left <= absl::ZeroDuration()) return false;
    pollfd fds[2] = {{PQsocket(c), POLLIN, 0}, {wake_[0], POLLIN, 0}};
    const int ms = static_cast<int>(std::max<int64_t>(1, absl::ToInt64Milliseconds(left)));
    const int rc = poll(fds, 2, ms);
    if (rc < 0 && errno != EINTR) return absl::InternalError(absl::StrCat("poll: ", errno));
    if (fds[1].revents & POLLIN) {
      char buf[16];
      while (read(wake_[0], buf, sizeof(buf)) > 0) {
      }
      return false;
    }
  }
}

absl::StatusOr<SecuritySnapshot> PgSecurityBackend::Load() {
  SecuritySnapshot snap;
  LB_RETURN_IF_ERROR(conn_->Transaction(
      "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY", [&]() -> absl::Status {
        LB_ASSIGN_OR_RETURN(PgResult p,
                            conn_->Exec("SELECT name, role, display_name FROM principals"));
        for (int i = 0; i < p.rows(); ++i) {
          auto rec = std::make_shared<PrincipalRecord>();
          rec->name = p.text(i, 0);
          rec->role = RoleFromText(p.text(i, 1));
          rec->display_name = p.text(i, 2);
          snap.principals[rec->name] = rec;
        }
        LB_ASSIGN_OR_RETURN(
            PgResult g,
            conn_->Exec("SELECT principal, line_id, monitor, control, originate FROM grants"));
        for (int i = 0; i < g.rows(); ++i) {
          auto it = snap.principals.find(g.text(i, 0));
          if (it == snap.principals.end()) continue;
          LineGrant grant;
          grant.monitor = g.boolean(i, 2);
          grant.control = g.boolean(i, 3);
          grant.originate = g.boolean(i, 4);
          it->second->lines[g.text(i, 1)] = grant;
        }
        LB_ASSIGN_OR_RETURN(PgResult t,
                            conn_->Exec("SELECT token_id, principal, secret_sha256, created_us, "
                                        "expires_us, revoked, description FROM tokens"));
        for (int i = 0; i < t.rows(); ++i) {
          TokenRow e;
          e.info.set_token_id(t.text(i, 0));
          e.info.set_principal(t.text(i, 1));
          e.sha256 = t.bytea(i, 2);
          *e.info.mutable_created() = MicrosTimestamp(t.int64(i, 3));
          if (!t.null(i, 4)) *e.info.mutable_expires() = MicrosTimestamp(t.int64(i, 4));
          e.info.set_revoked(t.boolean(i, 5));
          e.info.set_description(t.text(i, 6));
          snap.tokens[e.info.token_id()] = std::move(e);
        }
        return absl::OkStatus();
      }));
  return snap;
}

absl::Status PgSecurityBackend::InTransaction(const std::function<absl::Status()>& body) {
  return conn_->Transaction("BEGIN", body);
}

absl::Status PgSecurityBackend::UpsertPrincipal(const std::string& name, v1::Role role,
                                                const std::string& display_name,
                                                int64_t created_us) {
  return conn_->Run(
      "INSERT INTO principals (name, role, display_name, created_us) VALUES ($1, $2, $3, $4) "
      "ON CONFLICT (name) DO UPDATE SET role = $2, display_name = $3",
      {name, std::string(RoleText(role)), display_name, absl::StrCat(created_us)});
}

absl::Status PgSecurityBackend::DeletePrincipal(absl::string_view name) {
  return conn_->Run("DELETE FROM principals WHERE name = $1", {std::string(name)});
}

absl::Status PgSecurityBackend::WriteGrant(const std::string& principal, const std::string& line,
                                           const LineGrant& g) {
  if (!g.visible()) {
    return conn_->Run("DELETE FROM grants WHERE principal = $1 AND line_id = $2",
                      {principal, line});
  }
  return conn_->Run(
      "INSERT INTO grants (principal, line_id, monitor, control, originate) VALUES "
      "($1, $2, $3, $4, $5) ON CONFLICT (principal, line_id) DO UPDATE SET monitor = $3, "
      "control = $4, originate = $5",
      {principal, line, Bool(g.monitor || g.control || g.originate), Bool(g.control),
       Bool(g.originate)});
}

absl::Status PgSecurityBackend::DeleteGrants(const std::string& principal) {
  return conn_->Run("DELETE FROM grants WHERE principal = $1", {principal});
}

absl::Status PgSecurityBackend::InsertToken(const TokenRow& e) {
  return conn_->Run(
      "INSERT INTO tokens (token_id, principal, secret_sha256, created_us, expires_us, revoked, "
      "description) VALUES ($1, $2, $3, $4, $5, $6, $7)",
      {e.info.token_id(), e.info.principal(), PgBytea(e.sha256),
       absl::StrCat(TimestampMicros(e.info.created())),
       e.info.has_expires() ? PgParam(absl::StrCat(TimestampMicros(e.info.expires())))
                            : std::nullopt,
       Bool(e.info.revoked()), e.info.description()});
}

absl::Status PgSecurityBackend::CopyToken(const TokenRow& e) {
  return conn_->Run(
      "INSERT INTO tokens (token_id, principal, secret_sha256, created_us, expires_us, revoked, "
      "description) VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (token_id) DO UPDATE SET "
      "revoked = tokens.revoked OR EXCLUDED.revoked",
      {e.info.token_id(), e.info.principal(), PgBytea(e.sha256),
       absl::StrCat(TimestampMicros(e.info.created())),
       e.info.has_expires() ? PgParam(absl::StrCat(TimestampMicros(e.info.expires())))
                            : std::nullopt,
       Bool(e.info.revoked()), e.info.description()});
}

absl::Status PgSecurityBackend::SetRevoked(absl::string_view token_id) {
  return conn_->Run("UPDATE tokens SET revoked = true WHERE token_id = $1",
                    {std::string(token_id)});
}

absl::Status PgSecurityBackend::InsertAudit(PgConnection& conn,
                                            const std::vector<v1::AuditRecord>& records,
                                            const std::vector<std::string>* source_keys,
                                            const std::string& server_id, uint64_t* inserted) {
  if (records.empty()) return absl::OkStatus();
  // 12 parameters a row; PostgreSQL takes at most 65535 in one statement.
  constexpr size_t kRowsPerInsert = 4000;
  for (size_t at = 0; at < records.size(); at += kRowsPerInsert) {
    const size_t n = std::min(kRowsPerInsert, records.size() - at);
    std::vector<PgParam> params;
    params.reserve(n * kAuditColumns);
    std::string sql =
        "INSERT INTO audit (server_id, time_us, principal, operation, line_id, call_id, detail, "
        "code, lineerr, peer, repeats, source_key) VALUES ";
    for (size_t i = 0; i < n; ++i) {
      const v1::AuditRecord& r = records[at + i];
      absl::StrAppend(&sql, i == 0 ? "(" : ", (");
      for (int c = 0; c < kAuditColumns; ++c) {
        absl::StrAppend(&sql, c == 0 ? "$" : ", $", i * kAuditColumns + c + 1);
      }
      absl::StrAppend(&sql, ")");
      params.push_back(server_id);
      params.push_back(absl::StrCat(TimestampMicros(r.time())));
      params.push_back(r.principal());
      params.push_back(r.operation());
      params.push_back(r.line_id());
      params.push_back(r.call_id());
      params.push_back(r.detail());
      params.push_back(absl::StrCat(r.code()));
      params.push_back(r.lineerr());
      params.push_back(r.peer());
      params.push_back(absl::StrCat(std::max<uint32_t>(1, r.count())));
      params.push_back(source_keys != nullptr ? PgParam((*source_keys)[at + i]) : std::nullopt);
    }
    if (source_keys != nullptr) absl::StrAppend(&sql, " ON CONFLICT (source_key) DO NOTHING");
    LB_ASSIGN_OR_RETURN(PgResult r, conn.Exec(sql, params));
    if (inserted != nullptr) *inserted += r.affected();
  }
  return absl::OkStatus();
}

absl::Status PgSecurityBackend::AppendAudit(const std::vector<v1::AuditRecord>& records) {
  if (spooler_ != nullptr) {
    std::vector<SpoolEntry> entries(records.size());
    for (size_t i = 0; i < records.size(); ++i) {
      entries[i].key = absl::StrCat(key_prefix_, next_key_++);
      records[i].SerializeToString(&entries[i].payload);
    }
    return spooler_->Write(entries);
  }
  if (records.size() <= 4000) return InsertAudit(*conn_, records, nullptr, server_id_, nullptr);
  return conn_->Transaction(
      "BEGIN", [&]() { return InsertAudit(*conn_, records, nullptr, server_id_, nullptr); });
}

absl::Status PgSecurityBackend::InsertKeyedAudit(const std::vector<v1::AuditRecord>& records,
                                                 const std::vector<std::string>& keys) {
  absl::MutexLock lock(&audit_mu_);
  PgConnection& conn = *audit_conn_;  // used under audit_mu_, also by the lambda
  if (records.size() <= 4000) return InsertAudit(conn, records, &keys, server_id_, nullptr);
  return conn.Transaction(
      "BEGIN", [&]() { return InsertAudit(conn, records, &keys, server_id_, nullptr); });
}

absl::Status PgSecurityBackend::EnableSpool(std::unique_ptr<SpoolFile> file) {
  unsigned char run[8];
  if (RAND_bytes(run, sizeof(run)) != 1) return absl::InternalError("RAND_bytes failed");
  key_prefix_ = absl::StrCat("live:", server_id_, "/",
                             absl::BytesToHexString(absl::string_view(
                                 reinterpret_cast<const char*>(run), sizeof(run))),
                             "/");
  {
    absl::MutexLock lock(&audit_mu_);
    LB_ASSIGN_OR_RETURN(audit_conn_, PgConnection::Connect(options_));
  }
  spooler_ = std::make_unique<Spooler>(
      std::move(file),
      [this](const std::vector<SpoolEntry>& entries) -> absl::Status {
        std::vector<v1::AuditRecord> records(entries.size());
        std::vector<std::string> keys(entries.size());
        for (size_t i = 0; i < entries.size(); ++i) {
          if (!records[i].ParseFromString(entries[i].payload)) {
            return absl::DataLossError("a spooled audit row does not parse");
          }
          keys[i] = entries[i].key;
        }
        return InsertKeyedAudit(records, keys);
      },
      "audit");
  return absl::OkStatus();
}

absl::Status PgSecurityBackend::CopyAudit(const std::vector<v1::AuditRecord>& records,
                                          const std::vector<std::string>& source_keys,
                                          const std::string& server_id, uint64_t* inserted) {
  return InsertAudit(*conn_, records, &source_keys, server_id, inserted);
}

absl::StatusOr<uint64_t> PgSecurityBackend::CountAuditSourced(const std::string& prefix) {
  LB_ASSIGN_OR_RETURN(
      PgResult r,
      conn_->Exec("SELECT count(*) FROM audit WHERE starts_with(source_key, $1)", {prefix}));
  return static_cast<uint64_t>(r.int64(0, 0));
}

absl::StatusOr<uint64_t> PgSecurityBackend::PruneAudit(int64_t cutoff_us, uint64_t max_rows,
                                                       uint32_t batch) {
  LB_ASSIGN_OR_RETURN(
      PgResult r,
      conn_->Exec("DELETE FROM audit WHERE audit_id IN (SELECT audit_id FROM audit ORDER BY "
                  "audit_id LIMIT $3) AND (time_us < $1 OR audit_id <= (SELECT max(audit_id) "
                  "FROM audit) - $2)",
                  {absl::StrCat(cutoff_us), absl::StrCat(std::min<uint64_t>(max_rows, INT64_MAX)),
                   absl::StrCat(batch)}));
  return r.affected();
}

absl::StatusOr<v1::ListAuditResponse> PgSecurityBackend::ListAudit(
    const v1::ListAuditRequest& req, uint32_t limit, size_t page_bytes) {
  std::vector<std::string> where;
  std::vector<PgParam> params;
  if (!req.principal().empty()) {
    params.push_back(req.principal());
    where.push_back(absl::StrCat("principal = $", params.size()));
  }
  if (!req.server_id().empty()) {
    params.push_back(req.server_id());
    where.push_back(absl::StrCat("server_id = $", params.size()));
  }
  if (req.has_since()) {
    params.push_back(absl::StrCat(TimestampMicros(req.since())));
    where.push_back(absl::StrCat("time_us >= $", params.size()));
  }
  if (req.before_audit_id() > 0) {
    params.push_back(absl::StrCat(req.before_audit_id()));
    where.push_back(absl::StrCat("audit_id < $", params.size()));
  }
  params.push_back(absl::StrCat(static_cast<int64_t>(limit) + 1));
  const std::string sql = absl::StrCat(
      "SELECT audit_id, time_us, principal, operation, line_id, call_id, detail, code, lineerr, "
      "peer, repeats, server_id FROM audit",
      where.empty() ? "" : " WHERE ", absl::StrJoin(where, " AND "),
      " ORDER BY audit_id DESC LIMIT $", params.size());
  LB_ASSIGN_OR_RETURN(PgResult q, conn_->Exec(sql, params));
  v1::ListAuditResponse resp;
  size_t bytes = 0;
  for (int i = 0; i < q.rows(); ++i) {
    if (static_cast<uint32_t>(resp.records_size()) == limit || bytes >= page_bytes) {
      resp.set_next_before_audit_id(resp.records(resp.records_size() - 1).audit_id());
      break;
    }
    v1::AuditRecord* r = resp.add_records();
    r->set_audit_id(q.int64(i, 0));
    *r->mutable_time() = MicrosTimestamp(q.int64(i, 1));
    r->set_principal(q.text(i, 2));
    r->set_operation(q.text(i, 3));
    r->set_line_id(q.text(i, 4));
    r->set_call_id(q.text(i, 5));
    r->set_detail(q.text(i, 6));
    r->set_code(static_cast<int32_t>(q.int64(i, 7)));
    r->set_lineerr(q.text(i, 8));
    r->set_peer(q.text(i, 9));
    r->set_count(static_cast<uint32_t>(q.int64(i, 10)));
    r->set_server_id(q.text(i, 11));
    SanitizeAuditRecord(r);
    bytes += r->ByteSizeLong();
  }
  return resp;
}

}  // namespace linebridge
