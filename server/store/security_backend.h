// Where the security store keeps its rows: principals, grants, tokens (only
// a SHA-256 of each secret) and the audit log. SecurityStore holds the
// cache, validation and token logic; a backend only reads and writes rows.
// Two backends: SqliteSecurityBackend (data_dir/security.sqlite3, the
// embedded default) and PgSecurityBackend (PostgreSQL, shared by a fleet of
// servers, store/postgres/).
//
// Errors that may pass by themselves (disk full, a lock, the database
// unreachable) are Unavailable; the audit writer keeps and retries them.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "linebridge/v1/security.pb.h"

namespace linebridge {

struct LineGrant {
  bool monitor = false;
  bool control = false;
  bool originate = false;
  bool visible() const { return monitor || control || originate; }
};

// One principal as cached; immutable once published (a change publishes a
// new copy), so a reader may keep it while the store changes.
struct PrincipalRecord {
  std::string name;
  v1::Role role = v1::ROLE_USER;
  std::string display_name;
  std::map<std::string, LineGrant> lines;
  v1::Principal ToProto() const;
};

// A token as stored: its public info and SHA-256(secret) (32 bytes).
struct TokenRow {
  v1::TokenInfo info;
  std::string sha256;
};

// Everything authorization needs, read in one consistent pass.
struct SecuritySnapshot {
  std::map<std::string, std::shared_ptr<PrincipalRecord>, std::less<>> principals;
  std::map<std::string, TokenRow, std::less<>> tokens;
};

// How the backends store values: times as microseconds since the Unix epoch,
// roles as "admin" / "user".
int64_t TimestampMicros(const google::protobuf::Timestamp& t);
google::protobuf::Timestamp MicrosTimestamp(int64_t us);
const char* RoleText(v1::Role role);
v1::Role RoleFromText(absl::string_view s);

class SecurityBackend {
 public:
  virtual ~SecurityBackend() = default;

  // "sqlite <path>" or "postgresql <host/db>" (never a password).
  virtual std::string Describe() const = 0;
  // "sqlite" or "postgresql".
  virtual const char* kind() const = 0;

  virtual absl::StatusOr<SecuritySnapshot> Load() = 0;

  // Runs `body` (calls to the writes below) in one transaction: all of it
  // or none. The writes outside a transaction commit each on their own.
  virtual absl::Status InTransaction(const std::function<absl::Status()>& body) = 0;
  virtual absl::Status UpsertPrincipal(const std::string& name, v1::Role role,
                                       const std::string& display_name, int64_t created_us) = 0;
  // Removes the principal with its grants and tokens.
  virtual absl::Status DeletePrincipal(absl::string_view name) = 0;
  // A grant that is not visible() deletes the row.
  virtual absl::Status WriteGrant(const std::string& principal, const std::string& line,
                                  const LineGrant& grant) = 0;
  virtual absl::Status DeleteGrants(const std::string& principal) = 0;
  virtual absl::Status InsertToken(const TokenRow& token) = 0;
  virtual absl::Status SetRevoked(absl::string_view token_id) = 0;

  // Audit rows (already sanitized), in one transaction.
  virtual absl::Status AppendAudit(const std::vector<v1::AuditRecord>& records) = 0;
  // Newest first, filtered as `req` says (principal, server_id, since,
  // before_audit_id); at most `limit` rows and a page of about `page_bytes`;
  // next_before_audit_id set when more match.
  virtual absl::StatusOr<v1::ListAuditResponse> ListAudit(const v1::ListAuditRequest& req,
                                                          uint32_t limit, size_t page_bytes) = 0;
  // Deletes up to `batch` of the oldest audit rows written before
  // `cutoff_us` or with more than `max_rows` newer rows.
  virtual absl::StatusOr<uint64_t> PruneAudit(int64_t cutoff_us, uint64_t max_rows,
                                              uint32_t batch) = 0;

  // SQLite: how long a write waits for another connection's lock.
  virtual void SetBusyTimeout(absl::Duration /*timeout*/) {}

  // True when other servers change the same rows (PostgreSQL): the store
  // then re-reads its snapshot when WaitForChange reports a change, and at
  // least every refresh interval.
  virtual bool shared() const { return false; }
  // Blocks up to `timeout` for another server's change; true if one came.
  // An error (the database unreachable) after which the caller retries.
  virtual absl::StatusOr<bool> WaitForChange(absl::Duration /*timeout*/) { return false; }
  // Makes a pending WaitForChange return soon (shutdown).
  virtual void Wake() {}
};

}  // namespace linebridge
