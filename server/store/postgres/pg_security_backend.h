// The security store's rows in PostgreSQL, shared by a fleet of servers.
// Row calls use one connection (SecurityStore serializes them); a second
// connection LISTENs on linebridge_security, which a trigger notifies on
// every change of principals, grants or tokens, whoever made it.
#pragma once

#include <memory>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "store/postgres/pg_connection.h"
#include "store/security_backend.h"
#include "store/spooler.h"

namespace linebridge {

class PgSecurityBackend : public SecurityBackend {
 public:
  // Connects (both connections) and migrates the schema.
  static absl::StatusOr<std::unique_ptr<PgSecurityBackend>> Open(const PgOptions& options,
                                                                 std::string server_id);
  ~PgSecurityBackend() override;

  // From now on audit rows go through their own connection and a spool
  // (store/spooler.h): AppendAudit returns OK once they are in PostgreSQL
  // or durably in `file`. Each row gets a key of its own
  // ("live:<server>/<run>/<n>") so that writing it again is a no-op. Call
  // once, before the first AppendAudit.
  absl::Status EnableSpool(std::unique_ptr<SpoolFile> file);
  const Spooler* spooler() const { return spooler_.get(); }

  std::string Describe() const override { return description_; }
  const char* kind() const override { return "postgresql"; }
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
  bool shared() const override { return true; }
  absl::StatusOr<bool> WaitForChange(absl::Duration timeout) override;
  void Wake() override;

  // Audit rows copied from another store, each marked by its source key (a
  // key already present is skipped); returns how many were inserted.
  absl::Status CopyAudit(const std::vector<v1::AuditRecord>& records,
                         const std::vector<std::string>& source_keys,
                         const std::string& server_id, uint64_t* inserted);
  absl::StatusOr<uint64_t> CountAuditSourced(const std::string& prefix);
  // A token copied with its hash (kept as it is if the id exists).
  absl::Status CopyToken(const TokenRow& token);

 private:
  PgSecurityBackend(std::unique_ptr<PgConnection> conn, PgOptions options, std::string server_id);
  absl::Status InsertAudit(PgConnection& conn, const std::vector<v1::AuditRecord>& records,
                           const std::vector<std::string>* source_keys,
                           const std::string& server_id, uint64_t* inserted);
  // Audit rows with their keys on audit_conn_ (one transaction).
  absl::Status InsertKeyedAudit(const std::vector<v1::AuditRecord>& records,
                                const std::vector<std::string>& keys);
  // (Re)connects the listening connection and LISTENs.
  absl::Status Listen() ABSL_EXCLUSIVE_LOCKS_REQUIRED(listen_mu_);

  const PgOptions options_;
  const std::string server_id_;
  const std::string description_;
  const std::unique_ptr<PgConnection> conn_;  // row calls (serialized by the caller)
  absl::Mutex listen_mu_;                     // the watcher thread's
  std::unique_ptr<PgConnection> listen_ ABSL_GUARDED_BY(listen_mu_);
  int wake_[2] = {-1, -1};  // a pipe: Wake writes, WaitForChange polls
  // With a spool: audit rows on a connection of their own (the spool's
  // thread writes without the caller's serialization).
  absl::Mutex audit_mu_;
  std::unique_ptr<PgConnection> audit_conn_ ABSL_GUARDED_BY(audit_mu_);
  std::string key_prefix_;      // "live:<server>/<run>/", set by EnableSpool
  uint64_t next_key_ = 0;       // AppendAudit's (serialized by the caller)
  std::unique_ptr<Spooler> spooler_;  // set by EnableSpool, then constant
};

}  // namespace linebridge
