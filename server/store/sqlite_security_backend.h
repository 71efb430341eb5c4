// The security store's rows in one SQLite database next to the call-detail
// records (data_dir/security.sqlite3): the embedded default backend.
//
// Schema (user_version 1):
//   principals(name PRIMARY KEY, role, display_name, created_us)
//   grants(principal, line_id, monitor, control, originate, PRIMARY KEY(principal, line_id))
//   tokens(token_id PRIMARY KEY, principal, secret_sha256 BLOB, created_us,
//          expires_us (NULL = never), revoked, description)
//   audit(audit_id INTEGER PRIMARY KEY AUTOINCREMENT, time_us, principal,
//         operation, line_id, call_id, detail, code, lineerr, peer, repeats)
//
// Not thread-safe: SecurityStore makes every call under its database mutex.
#pragma once

#include <memory>
#include <string>

#include "store/security_backend.h"

struct sqlite3;

namespace linebridge {

class SqliteSecurityBackend : public SecurityBackend {
 public:
  static constexpr int kSchemaVersion = 1;

  // Opens or creates the database (owner-only permissions: secrets' hashes
  // live here). `server_id`: stamped on listed audit rows (the file holds
  // only this server's).
  static absl::StatusOr<std::unique_ptr<SqliteSecurityBackend>> Open(const std::string& path,
                                                                     int busy_timeout_ms,
                                                                     std::string server_id = "");
  ~SqliteSecurityBackend() override;

  std::string Describe() const override { return "sqlite " + path_; }
  const char* kind() const override { return "sqlite"; }
  absl::StatusOr<SecuritySnapshot> Load() override;
  absl::Status InTransaction(const std::function<absl::Status()>& body) override;
  absl::Status UpsertPrincipal(const std::string& name, v1::Role role,
                               const std::string& display_name, int64_t created_us) override;
  absl::Status DeletePrincipal(absl::string_view name) override;
  absl::Status WriteGrant(const std::string& principal, const std::string& line,
                          const LineGrant& grant) override;
  absl::Status DeleteGrants(const std::string& principal) override;
  absl::Status InsertToken(const TokenRow& token) override;
  absl::Status SetRevoked(absl::string_view token_id) override;
  absl::Status AppendAudit(const std::vector<v1::AuditRecord>& records) override;
  absl::StatusOr<v1::ListAuditResponse> ListAudit(const v1::ListAuditRequest& req, uint32_t limit,
                                                  size_t page_bytes) override;
  absl::StatusOr<uint64_t> PruneAudit(int64_t cutoff_us, uint64_t max_rows,
                                      uint32_t batch) override;
  void SetBusyTimeout(absl::Duration timeout) override;

 private:
  SqliteSecurityBackend(std::string path, int busy_timeout_ms, std::string server_id)
      : path_(std::move(path)), busy_timeout_ms_(busy_timeout_ms), server_id_(std::move(server_id)) {}
  absl::Status Init();
  absl::Status Exec(const char* sql);
  absl::Status Error(int rc, absl::string_view what);

  const std::string path_;
  const int busy_timeout_ms_;
  const std::string server_id_;
  sqlite3* db_ = nullptr;
};

}  // namespace linebridge
