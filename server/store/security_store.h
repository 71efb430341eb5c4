// The security store: principals (name, role), their per-line grants, bearer
// tokens (only a SHA-256 of each secret is kept) and the audit log. The rows
// live in a SecurityBackend: SQLite next to the call-detail records
// (data_dir/security.sqlite3, the default) or PostgreSQL shared by a fleet
// of servers (store/postgres/).
//
// Principals, grants and tokens are cached in memory: every RPC is checked
// against the cache without touching the database; every change is written
// to the backend first and then to the cache, so it applies to the next RPC.
// With a shared backend a watcher thread re-reads the cache when another
// server changes a row (PostgreSQL LISTEN/NOTIFY) and at least every
// `refresh`; while the database cannot be read the last snapshot serves for
// `cache_time` after its last successful read, then CheckFresh fails
// (Unavailable) and authentication fails closed.
//
// Tokens look like "lb1.<id>.<secret>": id is 16 hex digits (64 random bits,
// public, the only part ever logged), secret 64 hex digits (256 random bits
// from getrandom). The store keeps SHA-256(secret) and compares in constant
// time.
#pragma once

#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "linebridge/v1/security.pb.h"
#include "store/security_backend.h"
#include "store/write_health.h"

namespace linebridge {

// The outcome of checking a bearer token.
struct TokenCheck {
  std::string token_id;
  std::string principal;
};

class SecurityStore {
 public:
  static constexpr char kFileName[] = "security.sqlite3";
  static std::string PathInDataDir(absl::string_view data_dir);
  static constexpr size_t kMaxNameLength = 128;
  static constexpr size_t kMaxTokenLength = 128;
  static constexpr uint64_t kDefaultTtlSeconds = 90ull * 24 * 3600;
  static constexpr uint64_t kMaxTtlSeconds = 10ull * 365 * 24 * 3600;
  static constexpr uint32_t kDefaultAuditLimit = 100;
  static constexpr uint32_t kMaxAuditLimit = 10000;
  // A ListAudit page ends after about this many bytes of records.
  static constexpr size_t kAuditPageBytes = 1024 * 1024;

  static constexpr int kBusyTimeoutMs = 5000;

  struct Options {
    // Shared backends: the snapshot is re-read at least this often (and at
    // once when another server announces a change).
    absl::Duration refresh = absl::Seconds(5);
    // Shared backends: how long the last snapshot serves while the database
    // cannot be read; then authentication fails closed.
    absl::Duration cache_time = absl::Seconds(30);
  };

  // Opens or creates the SQLite store at `path`. Errors that may pass (disk
  // full, another process's lock after `busy_timeout_ms`, I/O) are
  // Unavailable.
  static absl::StatusOr<std::unique_ptr<SecurityStore>> Open(const std::string& path,
                                                             int busy_timeout_ms = kBusyTimeoutMs,
                                                             std::string server_id = "");
  // A store over `backend` (loaded once before it returns).
  static absl::StatusOr<std::unique_ptr<SecurityStore>> Create(
      std::unique_ptr<SecurityBackend> backend, Options options);
  ~SecurityStore();
  SecurityStore(const SecurityStore&) = delete;
  SecurityStore& operator=(const SecurityStore&) = delete;

  // Cached lookups (no disk).
  std::shared_ptr<const PrincipalRecord> Find(absl::string_view name) const;
  // UNAUTHENTICATED for a malformed, unknown, expired or revoked token; the
  // message names the token id at most, never the secret.
  absl::StatusOr<TokenCheck> VerifyToken(absl::string_view token, absl::Time now) const;

  // UNAUTHENTICATED if the token with this id is gone, revoked or expired.
  absl::Status CheckTokenStillValid(absl::string_view token_id, absl::Time now) const;

  // UNAVAILABLE when the backend is shared and the snapshot has not been
  // read successfully for longer than the cache time (fail closed); else OK.
  absl::Status CheckFresh(absl::Time now) const;
  // When the snapshot was last read successfully.
  absl::Time last_load() const;
  const SecurityBackend& backend() const { return *backend_; }

  // Changes (disk, then cache). Names and line ids are validated.
  absl::StatusOr<v1::Principal> AddPrincipal(const v1::AddPrincipalRequest& req);
  // Removes the principal with its grants and tokens.
  absl::Status RemovePrincipal(absl::string_view name);
  // Validates every user first (names, display names: UTF-8 without
  // control characters, line ids, bounds), then applies the batch in one
  // transaction (store/import_assignments.cc).
  absl::StatusOr<v1::ImportAssignmentsResponse> ImportAssignments(
      const v1::ImportAssignmentsRequest& req);
  v1::ListPrincipalsResponse ListPrincipals() const;
  absl::StatusOr<v1::Principal> Assign(const v1::AssignRequest& req);
  absl::StatusOr<v1::Principal> Unassign(const v1::UnassignRequest& req);
  absl::StatusOr<v1::IssueTokenResponse> IssueToken(const v1::IssueTokenRequest& req,
                                                    absl::Time now);
  absl::StatusOr<v1::TokenInfo> RevokeToken(absl::string_view token_id);
  v1::ListTokensResponse ListTokens(absl::string_view principal) const;

  // Audit log.
  absl::Status AppendAudit(const std::vector<v1::AuditRecord>& records);
  absl::StatusOr<v1::ListAuditResponse> ListAudit(const v1::ListAuditRequest& req);
  // Retention: deletes, in one transaction, up to `batch` of the oldest
  // audit rows that were written before `cutoff_us` or that have more than
  // `max_rows` newer rows. Fewer than `batch` deleted: nothing more is due.
  absl::StatusOr<uint64_t> PruneAuditBatch(int64_t cutoff_us, uint64_t max_rows, uint32_t batch);

  // How long a write waits for a lock another connection holds before it
  // fails (UNAVAILABLE, "database is locked"); kBusyTimeoutMs unless set
  // here or at Open.
  void SetBusyTimeout(absl::Duration timeout);

  // Re-reads principals, grants and tokens from the backend (changes made
  // by another process, e.g. `linebridged --issue_token`, or another server).
  absl::Status Reload();

 private:
  SecurityStore(std::unique_ptr<SecurityBackend> backend, Options options);
  absl::Status LoadLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(db_mu_);
  // Shared backends: re-reads on every announced change and every refresh.
  void Watch();

  const Options options_;
  // Order: db_mu_ before mu_. Every backend call is made under db_mu_.
  absl::Mutex db_mu_;
  // Row calls under db_mu_; WaitForChange and Wake (their own connection)
  // from the watcher without it.
  const std::unique_ptr<SecurityBackend> backend_;
  mutable absl::Mutex mu_;
  std::map<std::string, std::shared_ptr<const PrincipalRecord>, std::less<>> principals_
      ABSL_GUARDED_BY(mu_);
  std::map<std::string, TokenRow, std::less<>> tokens_ ABSL_GUARDED_BY(mu_);
  absl::Time last_load_ ABSL_GUARDED_BY(mu_) = absl::InfinitePast();
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  std::thread watcher_;
};

// Validates a principal name: 1-128 characters, letters, digits and
// . _ @ - \ / : + (room for DOMAIN\user, e-mail addresses and URIs).
absl::Status CheckPrincipalName(absl::string_view field, absl::string_view name);
// A line id: 1-256 bytes without control characters.
absl::Status CheckLineId(absl::string_view line_id);
// A display name: at most 256 bytes of UTF-8 without control characters.
absl::Status CheckDisplayName(absl::string_view field, absl::string_view name);

// Writes audit records on its own thread so the RPC path never waits on the
// disk. When `queue_limit` records wait, further ones are dropped and counted.
// A batch that fails with a transient error (Unavailable: disk full, locked,
// I/O) is kept and retried with backoff; at shutdown it is given up (failed).
// Records are sanitized (store/audit_sanitize.h) as they are enqueued.
// Refused requests that repeat — same peer address (or principal), operation,
// gRPC code and LINEERR — within `repeat_window` of the first are not
// written each: the first is, and at the end of the window one more row with
// the number of repeats (AuditRecord.count). At most `max_repeat_keys` such
// keys are followed at once; beyond that refusals are written as they come.
class AsyncAuditWriter {
 public:
  explicit AsyncAuditWriter(SecurityStore* store, size_t queue_limit = 65536,
                            absl::Duration repeat_window = absl::Seconds(10),
                            size_t max_repeat_keys = 4096);
  ~AsyncAuditWriter();  // writes what is queued
  AsyncAuditWriter(const AsyncAuditWriter&) = delete;
  AsyncAuditWriter& operator=(const AsyncAuditWriter&) = delete;

  // False if the record was dropped (queue full); an aggregated repeat is
  // accepted.
  bool Enqueue(v1::AuditRecord record);
  // Waits until everything enqueued before has been written (repeats
  // counted so far included).
  absl::Status Flush();
  uint64_t dropped() const;  // rejected by Enqueue: queue full
  uint64_t written() const;  // committed
  uint64_t failed() const;   // lost to write errors
  size_t queued() const;     // waiting or being written
  WriteHealthSnapshot health() const { return health_.Get(); }

 private:
  struct Repeats {
    v1::AuditRecord first;
    uint32_t more = 0;
    absl::Time window_end;
  };
  void Run();
  void PushLocked(v1::AuditRecord record) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Queues the count row of every window that ended before `now` (all with
  // InfiniteFuture).
  void CloseWindowsLocked(absl::Time now) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  SecurityStore* const store_;
  const size_t queue_limit_;
  const absl::Duration repeat_window_;
  const size_t max_repeat_keys_;
  mutable absl::Mutex mu_;
  std::deque<v1::AuditRecord> queue_ ABSL_GUARDED_BY(mu_);
  std::map<std::string, Repeats> repeats_ ABSL_GUARDED_BY(mu_);
  uint64_t enqueued_ ABSL_GUARDED_BY(mu_) = 0;
  uint64_t done_ ABSL_GUARDED_BY(mu_) = 0;
  uint64_t dropped_ ABSL_GUARDED_BY(mu_) = 0;
  uint64_t written_ ABSL_GUARDED_BY(mu_) = 0;
  uint64_t failed_ ABSL_GUARDED_BY(mu_) = 0;
  absl::Status error_ ABSL_GUARDED_BY(mu_);
  uint64_t failed_attempts_ ABSL_GUARDED_BY(mu_) = 0;  // for Flush
  int flushing_ ABSL_GUARDED_BY(mu_) = 0;  // Flush calls waiting: no linger
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  WriteHealth health_{"audit"};
  std::thread thread_;
};

}  // namespace linebridge
