// Authentication and authorization for every RPC (docs/security.md).
//
// Authenticate() finds the principal of one call:
//   1. an `authorization: Bearer <token>` header: the token must verify
//      (SecurityStore::VerifyToken) and its principal exist;
//   2. else a verified client certificate: its identity (SAN DNS, else URI,
//      else e-mail, else the subject CN) must be a principal in the store or
//      listed in auth.admin_principals;
//   3. else, only on a plaintext loopback listener and unless
//      auth.require_credentials_on_loopback: auth.loopback_principal (its
//      store record if any, else auth.loopback_role);
//   otherwise UNAUTHENTICATED.
// Authorization: admins may do everything; users only what their line grants
// allow (monitor / control / originate; deny by default). A line a user may
// not see is reported exactly like a line that does not exist.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <set>
#include <string>

#include <grpcpp/grpcpp.h>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "api/origination_limiter.h"
#include "linebridge/v1/config.pb.h"
#include "linebridge/v1/security.pb.h"
#include "linebridge/v1/telephony.pb.h"
#include "store/security_store.h"

namespace linebridge {

class Engine;
class Listener;

struct Caller {
  std::string name;
  std::string by;        // "token", "certificate", "loopback"
  std::string token_id;  // "token" only
  // Role and grants as of authentication.
  std::shared_ptr<const PrincipalRecord> record;
  bool admin() const { return record->role == v1::ROLE_ADMIN; }
  bool CanSee(const std::string& line_id) const;
};

enum class Perm { kMonitor, kControl, kOriginate };

// Defaults for config.limits / config.auth (0 or empty fields).
inline constexpr char kDefaultLoopbackPrincipal[] = "local";
inline constexpr uint32_t kDefaultOriginationsPerMinute = 30;
inline constexpr uint32_t kDefaultOriginationBurst = 10;
inline constexpr uint32_t kDefaultMaxConcurrentCalls = 8;
inline constexpr uint32_t kDefaultMaxStreamsPerPrincipal = 8;
inline constexpr uint32_t kDefaultMaxSessionsPerPrincipal = 32;
inline constexpr uint32_t kDefaultMaxMessageBytes = 4 * 1024 * 1024;
inline constexpr uint32_t kDefaultIdleTimeoutMs = 30 * 60 * 1000;
inline constexpr uint32_t kDefaultHandshakeTimeoutMs = 10 * 1000;
inline constexpr size_t kMaxAuthorizationHeader = 1024;

// The token of an authorization header value ("Bearer <token>", the scheme
// in any case, whitespace around the token ignored); UNAUTHENTICATED when the
// value is longer than kMaxAuthorizationHeader or not of that form. The
// token itself is checked by SecurityStore::VerifyToken.
absl::StatusOr<absl::string_view> BearerToken(absl::string_view header);

class Guard {
 public:
  // `store`, `audit` and `engine` must outlive the guard.
  Guard(const v1::config::ServerConfig& config, SecurityStore* store, AsyncAuditWriter* audit,
        Engine* engine);

  absl::StatusOr<Caller> Authenticate(const grpc::ServerContextBase& ctx) const;
  // The caller's current role and grants (admin changes apply at once); an
  // error if the principal was removed.
  absl::StatusOr<Caller> Refresh(const Caller& caller) const;

  // NOT_FOUND (as for an unknown line) when the caller may not see the line;
  // PERMISSION_DENIED when it may see it but lacks `perm`.
  absl::Status CheckLine(const Caller& caller, const std::string& line_id, Perm perm) const;
  // The same for a call: unknown calls pass (the engine reports them).
  absl::Status CheckCall(const Caller& caller, const std::string& call_id, Perm perm) const;
  // The same for a phone (its line's grant, or a grant naming the phone id
  // for a phone without a line): NOT_FOUND + PHONEERR_BADDEVICEID when the
  // caller may not see it; unknown phones pass (the engine reports them).
  absl::Status CheckPhone(const Caller& caller, const std::string& phone_id, Perm perm) const;
  absl::Status CheckAdmin(const Caller& caller) const;

  // Sessions belong to the principal that created them: another principal
  // naming one gets the engine's "no session" error.
  absl::Status CheckSession(const Caller& caller, const std::string& session_id) const;
  void BindSession(const Caller& caller, const std::string& session_id);
  // The per-principal session cap (users only): RESOURCE_EXHAUSTED +
  // LINEERR_RESOURCEUNAVAIL at limits.max_sessions_per_principal.
  absl::Status AdmitSession(const Caller& caller);
  void UnbindSession(const std::string& session_id);

  // Toll-fraud limits (users only) for one outbound leg: the one
  // OriginationLimiter. `call_id`: the call the leg is dialled on (Dial), ""
  // for a new call. `live`: whether a call still exists; by default the
  // engine is asked (pass one when the engine lock is held).
  absl::Status AdmitOrigination(const Caller& caller, const std::string& call_id = "",
                                const OriginationLimiter::LiveFn& live = nullptr);
  void NoteCall(const Caller& caller, const std::string& call_id);

  // Subscribe streams per principal (users only).
  absl::Status AcquireStream(const Caller& caller);
  void ReleaseStream(const Caller& caller);

  // Fields are bounded and escaped by the writer; refusals that repeat are
  // counted, not written each (AsyncAuditWriter). `peer`: the client's
  // gRPC peer string when there is no caller.
  void Audit(const Caller* caller, std::string operation, std::string line_id,
             std::string call_id, std::string detail, const absl::Status& outcome,
             absl::string_view peer = {});

  // Connections that authenticate are reported to `listener` (may be null).
  void TrackConnections(Listener* listener) { listener_ = listener; }

  SecurityStore& store() { return *store_; }
  AsyncAuditWriter& audit() { return *audit_; }

 private:
  absl::StatusOr<Caller> Identify(const grpc::ServerContextBase& ctx) const;
  void PruneSessions() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  std::shared_ptr<const PrincipalRecord> Resolve(const std::string& name, bool config_admin) const;

  SecurityStore* const store_;
  AsyncAuditWriter* const audit_;
  Engine* const engine_;
  const bool anonymous_allowed_;
  const std::string loopback_principal_;
  const v1::Role loopback_role_;
  const std::set<std::string> admin_principals_;
  OriginationLimiter limiter_;
  const uint32_t max_streams_;
  const uint32_t max_sessions_;
  Listener* listener_ = nullptr;

  mutable absl::Mutex mu_;
  std::map<std::string, std::string> session_owner_ ABSL_GUARDED_BY(mu_);
  size_t prune_sessions_at_ ABSL_GUARDED_BY(mu_) = 1024;
  std::map<std::string, uint32_t> streams_ ABSL_GUARDED_BY(mu_);
};

// Removes from `snapshot` what `caller` may not see.
void FilterSnapshot(const Caller& caller, v1::EventBatch* batch);
// Whether a journal event is for `caller` (server-wide events are, except
// another session's expiry).
bool EventVisible(const Caller& caller, const v1::Event& event, const std::string& session_id);

}  // namespace linebridge
