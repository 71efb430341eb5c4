#include "store/security_store.h"

#include <openssl/crypto.h>
#include <openssl/sha.h>
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
#include "store/sqlite_security_backend.h"
#include "core/log.h"

namespace linebridge {
namespace {

namespace pb = ::google::protobuf;

constexpr char kTokenPrefix[] = "lb1.";
constexpr size_t kIdHexLength = 16;
constexpr size_t kSecretHexLength = 64;

int64_t ToMicros(absl::Time t) { return absl::ToUnixMicros(t); }
pb::Timestamp Ts(int64_t us) { return MicrosTimestamp(us); }
int64_t TsMicros(const pb::Timestamp& t) { return TimestampMicros(t); }

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

pb::Timestamp MicrosTimestamp(int64_t us) {
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
int64_t TimestampMicros(const pb::Timestamp& t) { return t.seconds() * 1000000 + t.nanos() / 1000; }
const char* RoleText(v1::Role role) { return role == v1::ROLE_ADMIN ? "admin" : "user"; }
v1::Role RoleFromText(absl::string_view s) { return s == "admin" ? v1::ROLE_ADMIN : v1::ROLE_USER; }

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
                                                                   int busy_timeout_ms,
                                                                   std::string server_id) {
  LB_ASSIGN_OR_RETURN(std::unique_ptr<SqliteSecurityBackend> backend,
                      SqliteSecurityBackend::Open(path, busy_timeout_ms, std::move(server_id)));
  return Create(std::move(backend), Options());
}

absl::StatusOr<std::unique_ptr<SecurityStore>> SecurityStore::Create(
    std::unique_ptr<SecurityBackend> backend, Options options) {
  std::unique_ptr<SecurityStore> s(new SecurityStore(std::move(backend), options));
  {
    absl::MutexLock lock(&s->db_mu_);
    LB_RETURN_IF_ERROR(s->LoadLocked());
  }
  if (s->backend_->shared()) s->watcher_ = std::thread([raw = s.get()] { raw->Watch(); });
  return s;
}

SecurityStore::SecurityStore(std::unique_ptr<SecurityBackend> backend, Options options)
    : options_(options), backend_(std::move(backend)) {}

SecurityStore::~SecurityStore() {
  {
    absl::MutexLock lock(&mu_);
    stopping_ = true;
  }
  backend_->Wake();
  if (watcher_.joinable()) watcher_.join();
}

void SecurityStore::SetBusyTimeout(absl::Duration timeout) {
  absl::MutexLock lock(&db_mu_);
  backend_->SetBusyTimeout(timeout);
}

absl::Status SecurityStore::Reload() {
  absl::MutexLock lock(&db_mu_);
  return LoadLocked();
}

absl::Status SecurityStore::LoadLocked() {
  LB_ASSIGN_OR_RETURN(SecuritySnapshot snap, backend_->Load());
  const absl::Time now = absl::Now();
  absl::MutexLock lock(&mu_);
  principals_.clear();
  for (auto& [name, rec] : snap.principals) principals_[name] = std::move(rec);
  tokens_ = std::move(snap.tokens);
  last_load_ = now;
  return absl::OkStatus();
}

void SecurityStore::Watch() {
  absl::Time last_log = absl::InfinitePast();
  for (;;) {
    {
      absl::MutexLock lock(&mu_);
      if (stopping_) return;
    }
    absl::StatusOr<bool> changed = backend_->WaitForChange(options_.refresh);
    absl::Status st = changed.status();
    if (st.ok()) {
      // A change, or the refresh interval passed: read the snapshot again.
      absl::MutexLock lock(&db_mu_);
      st = LoadLocked();
    }
    if (st.ok()) continue;
    const absl::Time now = absl::Now();
    if (now - last_log >= WriteHealth::kLogInterval) {
      LB_ERROR("security store %s: cannot refresh principals and tokens (the snapshot of %s "
               "serves until %s): %s",
               backend_->Describe(), absl::FormatTime(last_load(), absl::UTCTimeZone()),
               absl::FormatTime(last_load() + options_.cache_time, absl::UTCTimeZone()),
               st.message());
      last_log = now;
    }
    absl::MutexLock lock(&mu_);
    mu_.AwaitWithTimeout(absl::Condition(&stopping_), absl::Milliseconds(500));
  }
}

absl::Time SecurityStore::last_load() const {
  absl::ReaderMutexLock lock(&mu_);
  return last_load_;
}

absl::Status SecurityStore::CheckFresh(absl::Time now) const {
  if (!backend_->shared()) return absl::OkStatus();
  const absl::Time loaded = last_load();
  if (now - loaded <= options_.cache_time) return absl::OkStatus();
  return absl::UnavailableError(absl::StrCat(
      "the security store (", backend_->Describe(), ") has been unreachable since ",
      absl::FormatTime(loaded, absl::UTCTimeZone()),
      ": authorization fails closed after the cache time"));
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
  LB_RETURN_IF_ERROR(
      backend_->UpsertPrincipal(req.name(), role, req.display_name(), ToMicros(absl::Now())));
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
  LB_RETURN_IF_ERROR(backend_->DeletePrincipal(name));
  absl::MutexLock lock(&mu_);
  if (auto it = principals_.find(name); it != principals_.end()) principals_.erase(it);
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
  LB_RETURN_IF_ERROR(backend_->WriteGrant(req.principal(), req.grant().line_id(), g));
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
  TokenRow e;
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
  LB_RETURN_IF_ERROR(backend_->InsertToken(e));
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
  LB_RETURN_IF_ERROR(backend_->SetRevoked(token_id));
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
  std::vector<v1::AuditRecord> clean = records;
  for (v1::AuditRecord& r : clean) SanitizeAuditRecord(&r);
  absl::MutexLock db(&db_mu_);
  return backend_->AppendAudit(clean);
}

absl::StatusOr<uint64_t> SecurityStore::PruneAuditBatch(int64_t cutoff_us, uint64_t max_rows,
                                                        uint32_t batch) {
  absl::MutexLock db(&db_mu_);
  return backend_->PruneAudit(cutoff_us, max_rows, batch);
}

absl::StatusOr<v1::ListAuditResponse> SecurityStore::ListAudit(const v1::ListAuditRequest& req) {
  if (req.limit() > kMaxAuditLimit) {
    return InvalidArgument(LINEERR_INVALPARAM, "limit: at most 10000");
  }
  if (!req.principal().empty()) LB_RETURN_IF_ERROR(CheckPrincipalName("principal", req.principal()));
  if (req.before_audit_id() < 0) {
    return InvalidArgument(LINEERR_INVALPARAM, "before_audit_id: must not be negative");
  }
  if (req.server_id().size() > 64) {
    return InvalidArgument(LINEERR_INVALPARAM, "server_id: at most 64 characters");
  }
  const uint32_t limit = req.limit() == 0 ? kDefaultAuditLimit : req.limit();
  absl::MutexLock db(&db_mu_);
  return backend_->ListAudit(req, limit, kAuditPageBytes);
}

}  // namespace linebridge
