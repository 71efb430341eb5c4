#include "store/security_store.h"

#include <openssl/crypto.h>
#include <openssl/sha.h>
#include <sqlite3.h>
#include <sys/random.h>

#include <cerrno>
#include <cstring>
#include <algorithm>
#include <cstdint>
#include <filesystem>
#include <system_error>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "google/protobuf/timestamp.pb.h"
#include "linebridge/lineerr.h"
#include "linebridge/status_macros.h"
#include "linebridge/printable.h"
#include "store/audit_sanitize.h"

namespace linebridge {
namespace {

namespace pb = ::google::protobuf;

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

constexpr char kTokenPrefix[] = "lb1.";
constexpr size_t kIdHexLength = 16;
constexpr size_t kSecretHexLength = 64;

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

int64_t ToMicros(absl::Time t) { return absl::ToUnixMicros(t); }
pb::Timestamp Ts(int64_t us) {
  pb::Timestamp t;
  int64_t s = us / 1000000, r = us % 1000000;
  if (r < 0) {
    r += 1000000;
    --s;
  }
  t.set_seconds(s);
  t.set_nanos(static_cast<int32_t>(r * 1000));
  return t;
}
int64_t TsMicros(const pb::Timestamp& t) { return t.seconds() * 1000000 + t.nanos() / 1000; }

const char* RoleText(v1::Role role) { return role == v1::ROLE_ADMIN ? "admin" : "user"; }
v1::Role RoleFromText(absl::string_view s) { return s == "admin" ? v1::ROLE_ADMIN : v1::ROLE_USER; }

std::string Sha256(absl::string_view data) {
  unsigned char out[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(data.data()), data.size(), out);
  return std::string(reinterpret_cast<const char*>(out), sizeof(out));
}

absl::Status RandomBytes(void* out, size_t n) {
  auto* p = static_cast<unsigned char*>(out);
  while (n > 0) {
    ssize_t got = getrandom(p, n, 0);
    if (got < 0) {
      if (errno == EINTR) continue;
      return absl::InternalError(absl::StrCat("getrandom: ", std::strerror(errno)));
    }
    p += got;
    n -= static_cast<size_t>(got);
  }
  return absl::OkStatus();
}

bool IsLowerHex(absl::string_view s) {
  for (char c : s) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  }
  return true;
}


// A principal or token the request names that does not exist: NOT_FOUND with
// LINEERR_INVALPARAM (LINEERR_BADDEVICEID would say the line is unknown).
absl::Status NoPrincipal(absl::string_view name) {
  return NotFound(LINEERR_INVALPARAM, absl::StrCat("no principal \"", name, "\""));
}

absl::Status Unauthenticated(absl::string_view message) {
  return absl::UnauthenticatedError(message);
}

}  // namespace

absl::Status CheckPrincipalName(absl::string_view field, absl::string_view name) {
  if (name.empty() || name.size() > SecurityStore::kMaxNameLength) {
    return InvalidArgument(LINEERR_INVALPARAM, absl::StrCat(field, ": must be 1-128 characters"));
  }
  for (char c : name) {
    if (!absl::ascii_isalnum(static_cast<unsigned char>(c)) &&
        std::strchr("._@-\\/:+", c) == nullptr) {
      return InvalidArgument(LINEERR_INVALPARAM,
                             absl::StrCat(field, ": only letters, digits and . _ @ - \\ / : +"));
    }
  }
  return absl::OkStatus();
}

v1::Principal PrincipalRecord::ToProto() const {
  v1::Principal p;
  p.set_name(name);
  p.set_role(role);
  p.set_display_name(display_name);
  for (const auto& [line, g] : lines) {
    v1::LineGrant* lg = p.add_lines();
    lg->set_line_id(line);
    lg->set_monitor(g.monitor);
    lg->set_control(g.control);
    lg->set_originate(g.originate);
  }
  return p;
}

std::string SecurityStore::PathInDataDir(absl::string_view data_dir) {
  return (std::filesystem::path(std::string(data_dir)) / kFileName).string();
}

absl::StatusOr<std::unique_ptr<SecurityStore>> SecurityStore::Open(const std::string& path,
                                                                   int busy_timeout_ms) {
  std::unique_ptr<SecurityStore> s(new SecurityStore(path, busy_timeout_ms));
  LB_RETURN_IF_ERROR(s->Init());
  return s;
}

SecurityStore::~SecurityStore() {
  absl::MutexLock lock(&db_mu_);
  if (db_ != nullptr) sqlite3_close_v2(db_);
}

absl::Status SecurityStore::Error(int rc, absl::string_view what) {
  return absl::Status(SqliteStatusCode(rc),
                      absl::StrCat(path_, ": ", what, ": ", sqlite3_errstr(rc), " (",
                                   db_ != nullptr ? sqlite3_errmsg(db_) : "", ")"));
}

void SecurityStore::SetBusyTimeout(absl::Duration timeout) {
  absl::MutexLock lock(&db_mu_);
  sqlite3_busy_timeout(db_, static_cast<int>(absl::ToInt64Milliseconds(timeout)));
}

absl::Status SecurityStore::Exec(const char* sql) {
  char* err = nullptr;
  int rc = sqlite3_exec(db_, sql, nullptr, nullptr, &err);
  if (rc != SQLITE_OK) {
    std::string msg = err != nullptr ? err : "";
    sqlite3_free(err);
    return absl::Status(SqliteStatusCode(rc), absl::StrCat(path_, ": ", msg));
  }
  return absl::OkStatus();
}

absl::Status SecurityStore::Init() {
  std::error_code ec;
  const std::filesystem::path parent = std::filesystem::path(path_).parent_path();
  if (!parent.empty()) std::filesystem::create_directories(parent, ec);
  absl::MutexLock lock(&db_mu_);
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
  return LoadLocked();
}

absl::Status SecurityStore::Reload() {
  absl::MutexLock lock(&db_mu_);
  return LoadLocked();
}

absl::Status SecurityStore::LoadLocked() {
  std::map<std::string, std::shared_ptr<PrincipalRecord>, std::less<>> principals;
  {
    Stmt q(db_, "SELECT name, role, display_name FROM principals");
    if (q.rc() != SQLITE_OK) return Error(q.rc(), "load principals");
    while (sqlite3_step(q.get()) == SQLITE_ROW) {
      auto rec = std::make_shared<PrincipalRecord>();
      rec->name = q.Column(0);
      rec->role = RoleFromText(q.Column(1));
      rec->display_name = q.Column(2);
      principals[rec->name] = rec;
    }
  }
  {
    Stmt q(db_, "SELECT principal, line_id, monitor, control, originate FROM grants");
    if (q.rc() != SQLITE_OK) return Error(q.rc(), "load grants");
    while (sqlite3_step(q.get()) == SQLITE_ROW) {
      auto it = principals.find(q.Column(0));
      if (it == principals.end()) continue;
      LineGrant g;
      g.monitor = sqlite3_column_int(q.get(), 2) != 0;
      g.control = sqlite3_column_int(q.get(), 3) != 0;
      g.originate = sqlite3_column_int(q.get(), 4) != 0;
      it->second->lines[q.Column(1)] = g;
    }
  }
  std::map<std::string, TokenEntry, std::less<>> tokens;
  {
    Stmt q(db_,
           "SELECT token_id, principal, secret_sha256, created_us, expires_us, revoked, "
           "description FROM tokens");
    if (q.rc() != SQLITE_OK) return Error(q.rc(), "load tokens");
    while (sqlite3_step(q.get()) == SQLITE_ROW) {
      TokenEntry e;
      e.info.set_token_id(q.Column(0));
      e.info.set_principal(q.Column(1));
      e.sha256.assign(static_cast<const char*>(sqlite3_column_blob(q.get(), 2)),
                      static_cast<size_t>(sqlite3_column_bytes(q.get(), 2)));
      *e.info.mutable_created() = Ts(sqlite3_column_int64(q.get(), 3));
      if (sqlite3_column_type(q.get(), 4) != SQLITE_NULL) {
        *e.info.mutable_expires() = Ts(sqlite3_column_int64(q.get(), 4));
      }
      e.info.set_revoked(sqlite3_column_int(q.get(), 5) != 0);
      e.info.set_description(q.Column(6));
      tokens[e.info.token_id()] = std::move(e);
    }
  }
  absl::MutexLock lock(&mu_);
  principals_.clear();
  for (auto& [name, rec] : principals) principals_[name] = std::move(rec);
  tokens_ = std::move(tokens);
  return absl::OkStatus();
}

std::shared_ptr<const PrincipalRecord> SecurityStore::Find(absl::string_view name) const {
  absl::ReaderMutexLock lock(&mu_);
  auto it = principals_.find(name);
  return it == principals_.end() ? nullptr : it->second;
}

absl::StatusOr<TokenCheck> SecurityStore::VerifyToken(absl::string_view token,
                                                      absl::Time now) const {
  // lb1.<16 hex>.<64 hex>
  const size_t want = sizeof(kTokenPrefix) - 1 + kIdHexLength + 1 + kSecretHexLength;
  if (token.size() != want || !absl::StartsWith(token, kTokenPrefix) ||
      token[sizeof(kTokenPrefix) - 1 + kIdHexLength] != '.') {
    return Unauthenticated("malformed bearer token");
  }
  absl::string_view id = token.substr(sizeof(kTokenPrefix) - 1, kIdHexLength);
  absl::string_view secret = token.substr(want - kSecretHexLength);
  if (!IsLowerHex(id) || !IsLowerHex(secret)) return Unauthenticated("malformed bearer token");
  const std::string digest = Sha256(secret);
  absl::ReaderMutexLock lock(&mu_);
  auto it = tokens_.find(id);
  // Compare against something of the right size even for an unknown id.
  static const std::string kNoToken(SHA256_DIGEST_LENGTH, '\0');
  const std::string& stored = it != tokens_.end() && it->second.sha256.size() == SHA256_DIGEST_LENGTH
                                  ? it->second.sha256
                                  : kNoToken;
  const bool match = CRYPTO_memcmp(stored.data(), digest.data(), SHA256_DIGEST_LENGTH) == 0;
  if (it == tokens_.end() || !match) return Unauthenticated("invalid bearer token");
  const v1::TokenInfo& info = it->second.info;
  if (info.revoked()) return Unauthenticated(absl::StrCat("token ", id, " was revoked"));
  if (info.has_expires() && ToMicros(now) >= TsMicros(info.expires())) {
    return Unauthenticated(absl::StrCat("token ", id, " has expired"));
  }
  return TokenCheck{std::string(id), info.principal()};
}

absl::Status SecurityStore::CheckTokenStillValid(absl::string_view token_id,
                                                 absl::Time now) const {
  absl::ReaderMutexLock lock(&mu_);
  auto it = tokens_.find(token_id);
  if (it == tokens_.end()) return Unauthenticated(absl::StrCat("token ", token_id, " is gone"));
  const v1::TokenInfo& info = it->second.info;
  if (info.revoked()) return Unauthenticated(absl::StrCat("token ", token_id, " was revoked"));
  if (info.has_expires() && ToMicros(now) >= TsMicros(info.expires())) {
    return Unauthenticated(absl::StrCat("token ", token_id, " has expired"));
  }
  return absl::OkStatus();
}

absl::Status CheckLineId(absl::string_view line_id) {
  if (line_id.empty() || line_id.size() > 256) {
    return InvalidArgument(LINEERR_BADDEVICEID, "line_id: must be 1-256 characters");
  }
  for (char c : line_id) {
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) {
      return InvalidArgument(LINEERR_BADDEVICEID, "line_id: control characters are not allowed");
    }
  }
  return absl::OkStatus();
}

absl::Status CheckDisplayName(absl::string_view field, absl::string_view name) {
  if (name.size() > 256) {
    return InvalidArgument(LINEERR_INVALPARAM, absl::StrCat(field, ": at most 256 characters"));
  }
  if (EscapeControl(name) != name) {
    return InvalidArgument(LINEERR_INVALPARAM,
                           absl::StrCat(field, ": control characters or invalid UTF-8 (\"",
                                        EscapeControl(name, 80), "\")"));
  }
  return absl::OkStatus();
}

absl::Status SecurityStore::UpsertPrincipal(const std::string& name, v1::Role role,
                                            const std::string& display_name) {
  Stmt q(db_,
         "INSERT INTO principals (name, role, display_name, created_us) VALUES (?1, ?2, ?3, ?4) "
         "ON CONFLICT(name) DO UPDATE SET role = ?2, display_name = ?3");
  q.Text(1, name);
  q.Text(2, RoleText(role));
  q.Text(3, display_name);
  q.Int(4, ToMicros(absl::Now()));
  if (int rc = sqlite3_step(q.get()); rc != SQLITE_DONE) return Error(rc, "add principal");
  return absl::OkStatus();
}

absl::Status SecurityStore::DeleteGrants(const std::string& principal) {
  Stmt q(db_, "DELETE FROM grants WHERE principal = ?1");
  q.Text(1, principal);
  if (int rc = sqlite3_step(q.get()); rc != SQLITE_DONE) return Error(rc, "unassign all");
  return absl::OkStatus();
}

absl::StatusOr<v1::Principal> SecurityStore::AddPrincipal(const v1::AddPrincipalRequest& req) {
  LB_RETURN_IF_ERROR(CheckPrincipalName("name", req.name()));
  LB_RETURN_IF_ERROR(CheckDisplayName("display_name", req.display_name()));
  if (req.role() != v1::ROLE_UNSPECIFIED && req.role() != v1::ROLE_ADMIN &&
      req.role() != v1::ROLE_USER) {
    return InvalidArgument(LINEERR_INVALPARAM, "role: unknown role");
  }
  const v1::Role role = req.role() == v1::ROLE_ADMIN ? v1::ROLE_ADMIN : v1::ROLE_USER;
  absl::MutexLock db(&db_mu_);
  auto existing = Find(req.name());
  if (existing != nullptr && !req.update()) {
    return TapiStatus(absl::StatusCode::kAlreadyExists, LINEERR_INVALPARAM,
                      absl::StrCat("principal \"", req.name(), "\" exists"));
  }
  if (existing == nullptr && req.update()) {
    return NoPrincipal(req.name());
  }
  LB_RETURN_IF_ERROR(UpsertPrincipal(req.name(), role, req.display_name()));
  auto rec = std::make_shared<PrincipalRecord>();
  if (existing != nullptr) *rec = *existing;
  rec->name = req.name();
  rec->role = role;
  rec->display_name = req.display_name();
  absl::MutexLock lock(&mu_);
  principals_[rec->name] = rec;
  return rec->ToProto();
}

absl::Status SecurityStore::RemovePrincipal(absl::string_view name) {
  LB_RETURN_IF_ERROR(CheckPrincipalName("name", name));
  absl::MutexLock db(&db_mu_);
  if (Find(name) == nullptr) {
    return NoPrincipal(name);
  }
  Stmt q(db_, "DELETE FROM principals WHERE name = ?1");
  q.Text(1, name);
  if (int rc = sqlite3_step(q.get()); rc != SQLITE_DONE) return Error(rc, "remove principal");
  absl::MutexLock lock(&mu_);
  principals_.erase(principals_.find(name));
  for (auto it = tokens_.begin(); it != tokens_.end();) {
    it = it->second.info.principal() == name ? tokens_.erase(it) : std::next(it);
  }
  return absl::OkStatus();
}

v1::ListPrincipalsResponse SecurityStore::ListPrincipals() const {
  v1::ListPrincipalsResponse resp;
  absl::ReaderMutexLock lock(&mu_);
  for (const auto& [name, rec] : principals_) *resp.add_principals() = rec->ToProto();
  return resp;
}

absl::Status SecurityStore::WriteGrant(const std::string& principal, const std::string& line,
                                       const LineGrant& g) {
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

absl::StatusOr<v1::Principal> SecurityStore::Assign(const v1::AssignRequest& req) {
  LB_RETURN_IF_ERROR(CheckPrincipalName("principal", req.principal()));
  LB_RETURN_IF_ERROR(CheckLineId(req.grant().line_id()));
  absl::MutexLock db(&db_mu_);
  auto existing = Find(req.principal());
  if (existing == nullptr) {
    return NoPrincipal(req.principal());
  }
  LineGrant g;
  g.control = req.grant().control();
  g.originate = req.grant().originate();
  g.monitor = req.grant().monitor() || g.control || g.originate;
  LB_RETURN_IF_ERROR(WriteGrant(req.principal(), req.grant().line_id(), g));
  auto rec = std::make_shared<PrincipalRecord>(*existing);
  if (g.visible()) {
    rec->lines[req.grant().line_id()] = g;
  } else {
    rec->lines.erase(req.grant().line_id());
  }
  absl::MutexLock lock(&mu_);
  principals_[rec->name] = rec;
  return rec->ToProto();
}

absl::StatusOr<v1::Principal> SecurityStore::Unassign(const v1::UnassignRequest& req) {
  v1::AssignRequest a;
  a.set_principal(req.principal());
  a.mutable_grant()->set_line_id(req.line_id());
  return Assign(a);
}

absl::StatusOr<v1::IssueTokenResponse> SecurityStore::IssueToken(
    const v1::IssueTokenRequest& req, absl::Time now) {
  LB_RETURN_IF_ERROR(CheckPrincipalName("principal", req.principal()));
  if (req.ttl_seconds() > kMaxTtlSeconds) {
    return InvalidArgument(LINEERR_INVALPARAM, "ttl_seconds: at most 10 years");
  }
  if (req.description().size() > 256) {
    return InvalidArgument(LINEERR_INVALPARAM, "description: at most 256 characters");
  }
  unsigned char id_bytes[kIdHexLength / 2];
  unsigned char secret_bytes[kSecretHexLength / 2];
  LB_RETURN_IF_ERROR(RandomBytes(id_bytes, sizeof(id_bytes)));
  LB_RETURN_IF_ERROR(RandomBytes(secret_bytes, sizeof(secret_bytes)));
  const std::string id = absl::BytesToHexString(
      absl::string_view(reinterpret_cast<const char*>(id_bytes), sizeof(id_bytes)));
  std::string secret = absl::BytesToHexString(
      absl::string_view(reinterpret_cast<const char*>(secret_bytes), sizeof(secret_bytes)));
  OPENSSL_cleanse(secret_bytes, sizeof(secret_bytes));
  TokenEntry e;
  e.sha256 = Sha256(secret);
  e.info.set_token_id(id);
  e.info.set_principal(req.principal());
  e.info.set_description(req.description());
  *e.info.mutable_created() = Ts(ToMicros(now));
  const uint64_t ttl = req.ttl_seconds() == 0 ? kDefaultTtlSeconds : req.ttl_seconds();
  *e.info.mutable_expires() = Ts(ToMicros(now + absl::Seconds(static_cast<int64_t>(ttl))));

  absl::MutexLock db(&db_mu_);
  if (Find(req.principal()) == nullptr) {
    return NoPrincipal(req.principal());
  }
  Stmt q(db_,
         "INSERT INTO tokens (token_id, principal, secret_sha256, created_us, expires_us, "
         "revoked, description) VALUES (?1, ?2, ?3, ?4, ?5, 0, ?6)");
  q.Text(1, id);
  q.Text(2, req.principal());
  sqlite3_bind_blob(q.get(), 3, e.sha256.data(), static_cast<int>(e.sha256.size()),
                    SQLITE_TRANSIENT);
  q.Int(4, TsMicros(e.info.created()));
  q.Int(5, TsMicros(e.info.expires()));
  q.Text(6, req.description());
  if (int rc = sqlite3_step(q.get()); rc != SQLITE_DONE) return Error(rc, "issue token");
  v1::IssueTokenResponse resp;
  *resp.mutable_info() = e.info;
  resp.set_token(absl::StrCat(kTokenPrefix, id, ".", secret));
  OPENSSL_cleanse(secret.data(), secret.size());
  absl::MutexLock lock(&mu_);
  tokens_[id] = std::move(e);
  return resp;
}

absl::StatusOr<v1::TokenInfo> SecurityStore::RevokeToken(absl::string_view token_id) {
  if (token_id.size() != kIdHexLength || !IsLowerHex(token_id)) {
    return InvalidArgument(LINEERR_INVALPARAM, "token_id: 16 lower-case hex digits");
  }
  absl::MutexLock db(&db_mu_);
  {
    absl::ReaderMutexLock lock(&mu_);
    if (tokens_.find(token_id) == tokens_.end()) {
      return NotFound(LINEERR_INVALPARAM, absl::StrCat("no token ", token_id));
    }
  }
  Stmt q(db_, "UPDATE tokens SET revoked = 1 WHERE token_id = ?1");
  q.Text(1, token_id);
  if (int rc = sqlite3_step(q.get()); rc != SQLITE_DONE) return Error(rc, "revoke token");
  absl::MutexLock lock(&mu_);
  auto it = tokens_.find(token_id);
  it->second.info.set_revoked(true);
  return it->second.info;
}

v1::ListTokensResponse SecurityStore::ListTokens(absl::string_view principal) const {
  v1::ListTokensResponse resp;
  absl::ReaderMutexLock lock(&mu_);
  for (const auto& [id, e] : tokens_) {
    if (principal.empty() || e.info.principal() == principal) *resp.add_tokens() = e.info;
  }
  return resp;
}

absl::Status SecurityStore::AppendAudit(const std::vector<v1::AuditRecord>& records) {
  absl::MutexLock db(&db_mu_);
  LB_RETURN_IF_ERROR(Exec("BEGIN"));
  Stmt q(db_,
         "INSERT INTO audit (time_us, principal, operation, line_id, call_id, detail, code, "
         "lineerr, peer, repeats) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)");
  if (q.rc() != SQLITE_OK) {
    (void)Exec("ROLLBACK");
    return Error(q.rc(), "audit insert");
  }
  for (v1::AuditRecord r : records) {
    SanitizeAuditRecord(&r);
    sqlite3_reset(q.get());
    q.Int(1, TsMicros(r.time()));
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

absl::StatusOr<uint64_t> SecurityStore::PruneAuditBatch(int64_t cutoff_us, uint64_t max_rows,
                                                        uint32_t batch) {
  absl::MutexLock db(&db_mu_);
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

absl::StatusOr<v1::ListAuditResponse> SecurityStore::ListAudit(const v1::ListAuditRequest& req) {
  if (req.limit() > kMaxAuditLimit) {
    return InvalidArgument(LINEERR_INVALPARAM, "limit: at most 10000");
  }
  if (!req.principal().empty()) LB_RETURN_IF_ERROR(CheckPrincipalName("principal", req.principal()));
  if (req.before_audit_id() < 0) {
    return InvalidArgument(LINEERR_INVALPARAM, "before_audit_id: must not be negative");
  }
  const uint32_t limit = req.limit() == 0 ? kDefaultAuditLimit : req.limit();
  absl::MutexLock db(&db_mu_);
  Stmt q(db_,
         "SELECT audit_id, time_us, principal, operation, line_id, call_id, detail, code, "
         "lineerr, peer, repeats FROM audit WHERE (?1 = '' OR principal = ?1) AND time_us >= ?2 "
         "AND (?4 = 0 OR audit_id < ?4) ORDER BY audit_id DESC LIMIT ?3");
  if (q.rc() != SQLITE_OK) return Error(q.rc(), "list audit");
  q.Text(1, req.principal());
  q.Int(2, req.has_since() ? TsMicros(req.since()) : 0);
  q.Int(3, static_cast<int64_t>(limit) + 1);  // one more: is there a next page?
  q.Int(4, req.before_audit_id());
  v1::ListAuditResponse resp;
  size_t bytes = 0;
  uint32_t rows = 0;
  int rc;
  while ((rc = sqlite3_step(q.get())) == SQLITE_ROW) {
    const int64_t id = sqlite3_column_int64(q.get(), 0);
    // The page is full (by count or size): the rest is on the next page.
    if (rows == limit || bytes >= kAuditPageBytes) {
      resp.set_next_before_audit_id(resp.records(resp.records_size() - 1).audit_id());
      break;
    }
    v1::AuditRecord* r = resp.add_records();
    r->set_audit_id(id);
    *r->mutable_time() = Ts(sqlite3_column_int64(q.get(), 1));
    r->set_principal(q.Column(2));
    r->set_operation(q.Column(3));
    r->set_line_id(q.Column(4));
    r->set_call_id(q.Column(5));
    r->set_detail(q.Column(6));
    r->set_code(sqlite3_column_int(q.get(), 7));
    r->set_lineerr(q.Column(8));
    r->set_peer(q.Column(9));
    r->set_count(static_cast<uint32_t>(sqlite3_column_int64(q.get(), 10)));
    // Rows stored before the bounds existed are bounded on the way out.
    SanitizeAuditRecord(r);
    bytes += r->ByteSizeLong();
    ++rows;
  }
  if (rc != SQLITE_DONE && rc != SQLITE_ROW) return Error(rc, "list audit");
  return resp;
}

}  // namespace linebridge
