#include "api/auth.h"

#include <algorithm>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "absl/time/clock.h"
#include "api/listener.h"
#include "config/config.h"
#include "core/engine.h"
#include "core/log.h"
#include "linebridge/lineerr.h"
#include "linebridge/status_macros.h"

namespace linebridge {
namespace {

absl::Status NoLine(const std::string& line_id) {
  return NotFound(LINEERR_BADDEVICEID, absl::StrCat("no line \"", line_id, "\""));
}
absl::Status NoCall(const std::string& call_id) {
  return NotFound(LINEERR_INVALCALLHANDLE, absl::StrCat("no call \"", call_id, "\""));
}

const char* PermName(Perm p) {
  switch (p) {
    case Perm::kMonitor:
      return "monitor";
    case Perm::kControl:
      return "control";
    case Perm::kOriginate:
      return "originate";
  }
  return "?";
}

bool Allows(const LineGrant& g, Perm p) {
  switch (p) {
    case Perm::kMonitor:
      return g.visible();
    case Perm::kControl:
      return g.control;
    case Perm::kOriginate:
      return g.originate;
  }
  return false;
}

// The TAPI error for a refused permission: LINEERR_NOTOWNER for call and
// line control (what TAPI answers a monitor-only application), and
// LINEERR_OPERATIONFAILED for origination (lineMakeCall has no NOTOWNER).
uint32_t DeniedLineErr(Perm p) {
  return p == Perm::kOriginate ? LINEERR_OPERATIONFAILED : LINEERR_NOTOWNER;
}

std::string FirstProperty(const grpc::AuthContext& ctx, const char* name) {
  for (const grpc::string_ref& v : ctx.FindPropertyValues(name)) {
    if (!v.empty()) return std::string(v.data(), v.size());
  }
  return "";
}

}  // namespace

bool Caller::CanSee(const std::string& line_id) const {
  if (admin()) return true;
  auto it = record->lines.find(line_id);
  return it != record->lines.end() && it->second.visible();
}

Guard::Guard(const v1::config::ServerConfig& config, SecurityStore* store, AsyncAuditWriter* audit,
             Engine* engine)
    : store_(store),
      audit_(audit),
      engine_(engine),
      anonymous_allowed_(!TlsEnabled(config) && IsLoopbackListen(config.listen()) &&
                         !config.auth().require_credentials_on_loopback()),
      loopback_principal_(config.auth().loopback_principal().empty()
                              ? kDefaultLoopbackPrincipal
                              : config.auth().loopback_principal()),
      loopback_role_(config.auth().loopback_role() == "user" ? v1::ROLE_USER : v1::ROLE_ADMIN),
      admin_principals_(config.auth().admin_principals().begin(),
                        config.auth().admin_principals().end()),
      limiter_((config.limits().originations_per_minute() > 0
                    ? config.limits().originations_per_minute()
                    : kDefaultOriginationsPerMinute) /
                   60.0,
               config.limits().origination_burst() > 0 ? config.limits().origination_burst()
                                                       : kDefaultOriginationBurst,
               config.limits().max_concurrent_calls() > 0
                   ? config.limits().max_concurrent_calls()
                   : kDefaultMaxConcurrentCalls),
      max_streams_(config.limits().max_streams_per_principal() > 0
                       ? config.limits().max_streams_per_principal()
                       : kDefaultMaxStreamsPerPrincipal),
      max_sessions_(config.limits().max_sessions_per_principal() > 0
                        ? config.limits().max_sessions_per_principal()
                        : kDefaultMaxSessionsPerPrincipal) {}

std::shared_ptr<const PrincipalRecord> Guard::Resolve(const std::string& name,
                                                      bool config_admin) const {
  std::shared_ptr<const PrincipalRecord> rec = store_->Find(name);
  if (config_admin && (rec == nullptr || rec->role != v1::ROLE_ADMIN)) {
    auto admin = std::make_shared<PrincipalRecord>(rec != nullptr ? *rec : PrincipalRecord{});
    admin->name = name;
    admin->role = v1::ROLE_ADMIN;
    return admin;
  }
  return rec;
}

absl::StatusOr<absl::string_view> BearerToken(absl::string_view header) {
  if (header.size() > kMaxAuthorizationHeader) {
    return absl::UnauthenticatedError("authorization header too long");
  }
  constexpr absl::string_view kScheme = "bearer ";
  if (header.size() <= kScheme.size() ||
      !absl::EqualsIgnoreCase(header.substr(0, kScheme.size()), kScheme)) {
    return absl::UnauthenticatedError("authorization header: expected \"Bearer <token>\"");
  }
  return absl::StripAsciiWhitespace(header.substr(kScheme.size()));
}

absl::StatusOr<Caller> Guard::Authenticate(const grpc::ServerContextBase& ctx) const {
  absl::StatusOr<Caller> caller = Identify(ctx);
  // A connection that carried an authenticated request is not closed to
  // make room for new ones (Listener).
  if (caller.ok() && listener_ != nullptr) listener_->MarkAuthenticated(ctx.peer());
  return caller;
}

absl::StatusOr<Caller> Guard::Identify(const grpc::ServerContextBase& ctx) const {
  Caller caller;
  const auto& md = ctx.client_metadata();
  const auto range = md.equal_range("authorization");
  if (range.first != range.second) {
    if (std::next(range.first) != range.second) {
      return absl::UnauthenticatedError("more than one authorization header");
    }
    const grpc::string_ref v = range.first->second;
    absl::StatusOr<absl::string_view> token = BearerToken(absl::string_view(v.data(), v.size()));
    if (!token.ok()) return token.status();
    // A shared store unreachable for longer than its cache time: fail closed.
    LB_RETURN_IF_ERROR(store_->CheckFresh(absl::Now()));
    absl::StatusOr<TokenCheck> check = store_->VerifyToken(*token, absl::Now());
    if (!check.ok()) return check.status();
    caller.name = check->principal;
    caller.by = "token";
    caller.token_id = check->token_id;
    caller.record = Resolve(caller.name, false);
    if (caller.record == nullptr) {
      return absl::UnauthenticatedError(
          absl::StrCat("token ", check->token_id, ": its principal no longer exists"));
    }
    return caller;
  }
  std::shared_ptr<const grpc::AuthContext> auth = ctx.auth_context();
  if (auth != nullptr && auth->IsPeerAuthenticated()) {
    std::string identity;
    for (const char* prop : {"peer_dns", "peer_uri", "peer_email", "x509_common_name"}) {
      identity = FirstProperty(*auth, prop);
      if (!identity.empty()) break;
    }
    if (!identity.empty()) {
      LB_RETURN_IF_ERROR(store_->CheckFresh(absl::Now()));
      caller.name = identity;
      caller.by = "certificate";
      caller.record = Resolve(identity, admin_principals_.count(identity) > 0);
      if (caller.record == nullptr) {
        return absl::UnauthenticatedError(absl::StrCat(
            "client certificate \"", identity, "\" is not a registered principal"));
      }
      return caller;
    }
  }
  if (!anonymous_allowed_) {
    return absl::UnauthenticatedError(
        "credentials required: a bearer token or a client certificate");
  }
  caller.name = loopback_principal_;
  caller.by = "loopback";
  caller.record = store_->Find(loopback_principal_);
  if (caller.record == nullptr) {
    auto rec = std::make_shared<PrincipalRecord>();
    rec->name = loopback_principal_;
    rec->role = loopback_role_;
    caller.record = std::move(rec);
  }
  return caller;
}

absl::StatusOr<Caller> Guard::Refresh(const Caller& caller) const {
  Caller fresh = caller;
  if (caller.by == "loopback") {
    fresh.record = store_->Find(caller.name);
    if (fresh.record == nullptr) {
      auto rec = std::make_shared<PrincipalRecord>();
      rec->name = caller.name;
      rec->role = loopback_role_;
      fresh.record = std::move(rec);
    }
    return fresh;
  }
  fresh.record = Resolve(caller.name, caller.by == "certificate" &&
                                          admin_principals_.count(caller.name) > 0);
  if (fresh.record == nullptr) {
    return absl::UnauthenticatedError(absl::StrCat("principal \"", caller.name, "\" was removed"));
  }
  LB_RETURN_IF_ERROR(store_->CheckFresh(absl::Now()));
  if (caller.by == "token") {
    // A revoked or expired token ends the streams it opened.
    LB_RETURN_IF_ERROR(store_->CheckTokenStillValid(caller.token_id, absl::Now()));
  }
  return fresh;
}

absl::Status Guard::CheckLine(const Caller& caller, const std::string& line_id, Perm perm) const {
  if (caller.admin()) return absl::OkStatus();
  auto it = caller.record->lines.find(line_id);
  if (it == caller.record->lines.end() || !it->second.visible()) return NoLine(line_id);
  if (!Allows(it->second, perm)) {
    return PermissionDenied(DeniedLineErr(perm),
                            absl::StrCat("principal \"", caller.name, "\" may not ",
                                         PermName(perm), " on line \"", line_id, "\""));
  }
  return absl::OkStatus();
}

absl::Status Guard::CheckCall(const Caller& caller, const std::string& call_id, Perm perm) const {
  if (caller.admin() || call_id.empty()) return absl::OkStatus();
  const std::string line = engine_->LineOfCall(call_id);
  if (line.empty()) return absl::OkStatus();  // the engine reports it
  absl::Status st = CheckLine(caller, line, perm);
  if (absl::IsNotFound(st)) return NoCall(call_id);
  return st;
}

absl::Status Guard::CheckPhone(const Caller& caller, const std::string& phone_id,
                               Perm perm) const {
  if (caller.admin() || phone_id.empty()) return absl::OkStatus();
  const std::optional<std::string> grant = engine_->GrantOfPhone(phone_id);
  if (!grant.has_value()) return absl::OkStatus();  // the engine reports it
  absl::Status st = CheckLine(caller, *grant, perm);
  if (absl::IsNotFound(st)) {
    return PhoneErrStatus(absl::StatusCode::kNotFound, PHONEERR_BADDEVICEID,
                          absl::StrCat("no phone \"", phone_id, "\""));
  }
  return AsPhoneStatus(st);
}

absl::Status Guard::CheckAdmin(const Caller& caller) const {
  if (caller.admin()) return absl::OkStatus();
  return PermissionDenied(LINEERR_OPERATIONFAILED,
                          absl::StrCat("principal \"", caller.name, "\" is not an admin"));
}

absl::Status Guard::CheckSession(const Caller& caller, const std::string& session_id) const {
  // Empty and over-long ids are the engine's to refuse (INVALID_ARGUMENT).
  if (session_id.empty() || session_id.size() > kMaxIdLength) return absl::OkStatus();
  absl::MutexLock lock(&mu_);
  // Only the principal that created a session may name it. A session not
  // bound yet (its CreateSession has not answered) is nobody's to name
  // either: its id reaches the creator only after it is bound.
  auto it = session_owner_.find(session_id);
  if (it != session_owner_.end() && it->second == caller.name) return absl::OkStatus();
  return NotFound(LINEERR_INVALAPPHANDLE,
                  absl::StrCat("no session \"", session_id, "\" (closed or expired)"));
}

absl::Status Guard::AdmitSession(const Caller& caller) {
  if (caller.admin()) return absl::OkStatus();
  absl::MutexLock lock(&mu_);
  auto owned = [&] {
    mu_.AssertHeld();
    return static_cast<uint32_t>(std::count_if(session_owner_.begin(), session_owner_.end(),
                                               [&](const auto& e) { return e.second == caller.name; }));
  };
  if (owned() >= max_sessions_) {
    PruneSessions();  // expired sessions leave their entry behind
    if (owned() >= max_sessions_) {
      return ResourceExhausted(
          LINEERR_RESOURCEUNAVAIL,
          absl::StrCat("principal \"", caller.name, "\" has ", max_sessions_,
                       " sessions (limits.max_sessions_per_principal)"));
    }
  }
  return absl::OkStatus();
}

void Guard::PruneSessions() {
  absl::StatusOr<v1::ListSessionsResponse> live = engine_->ListSessions();
  if (!live.ok()) return;
  std::set<std::string> ids;
  for (const v1::Session& s : live->sessions()) ids.insert(s.id());
  for (auto it = session_owner_.begin(); it != session_owner_.end();) {
    it = ids.count(it->first) ? std::next(it) : session_owner_.erase(it);
  }
}

void Guard::BindSession(const Caller& caller, const std::string& session_id) {
  absl::MutexLock lock(&mu_);
  session_owner_[session_id] = caller.name;
  // Sessions that expired (rather than being closed) leave their entry behind:
  // drop those now and then.
  if (session_owner_.size() >= prune_sessions_at_) {
    PruneSessions();
    prune_sessions_at_ = std::max<size_t>(1024, 2 * session_owner_.size());
  }
}

void Guard::UnbindSession(const std::string& session_id) {
  absl::MutexLock lock(&mu_);
  session_owner_.erase(session_id);
}

absl::Status Guard::AdmitOrigination(const Caller& caller, const std::string& call_id,
                                     const OriginationLimiter::LiveFn& live) {
  if (caller.admin()) return absl::OkStatus();
  if (live) return limiter_.Admit(caller.name, call_id, live, absl::Now());
  return limiter_.Admit(
      caller.name, call_id,
      [this](const std::string& id) { return !engine_->LineOfCall(id).empty(); }, absl::Now());
}

void Guard::NoteCall(const Caller& caller, const std::string& call_id) {
  if (caller.admin()) return;
  limiter_.Note(caller.name, call_id);
}

absl::Status Guard::AcquireStream(const Caller& caller) {
  absl::MutexLock lock(&mu_);
  uint32_t& n = streams_[caller.name];
  if (!caller.admin() && n >= max_streams_) {
    return ResourceExhausted(LINEERR_RESOURCEUNAVAIL,
                             absl::StrCat("principal \"", caller.name, "\" has ", n,
                                          " event streams (limits.max_streams_per_principal)"));
  }
  ++n;
  return absl::OkStatus();
}

void Guard::ReleaseStream(const Caller& caller) {
  absl::MutexLock lock(&mu_);
  auto it = streams_.find(caller.name);
  if (it == streams_.end()) return;
  if (--it->second == 0) streams_.erase(it);
}

void Guard::Audit(const Caller* caller, std::string operation, std::string line_id,
                  std::string call_id, std::string detail, const absl::Status& outcome,
                  absl::string_view peer) {
  v1::AuditRecord r;
  // "ipv4:1.2.3.4:5678" -> "ipv4:1.2.3.4": repeats aggregate per address.
  if (const size_t colon = peer.rfind(':');
      colon != absl::string_view::npos && peer.substr(0, colon).find_first_of(".]D") !=
                                              absl::string_view::npos) {
    peer = peer.substr(0, colon);
  }
  r.set_peer(absl::StrReplaceAll(peer, {{"%5B", "["}, {"%5D", "]"}}));
  const int64_t us = absl::ToUnixMicros(absl::Now());
  r.mutable_time()->set_seconds(us / 1000000);
  r.mutable_time()->set_nanos(static_cast<int32_t>(us % 1000000) * 1000);
  r.set_principal(caller != nullptr ? caller->name : "");
  r.set_operation(std::move(operation));
  r.set_line_id(std::move(line_id));
  r.set_call_id(std::move(call_id));
  r.set_detail(std::move(detail));
  r.set_code(static_cast<int>(outcome.code()));
  if (!outcome.ok()) r.set_lineerr(std::string(TapiErrNameOf(outcome)));
  if (!audit_->Enqueue(std::move(r))) {
    LB_WARN("audit: queue full, a record was dropped (%d so far)", audit_->dropped());
  }
}

void FilterSnapshot(const Caller& caller, v1::EventBatch* batch) {
  if (caller.admin() || !batch->has_snapshot()) return;
  v1::Snapshot* snap = batch->mutable_snapshot();
  auto* lines = snap->mutable_lines();
  lines->erase(std::remove_if(lines->begin(), lines->end(),
                              [&](const v1::Line& l) { return !caller.CanSee(l.id()); }),
               lines->end());
  auto* calls = snap->mutable_calls();
  calls->erase(std::remove_if(calls->begin(), calls->end(),
                              [&](const v1::Call& c) { return !caller.CanSee(c.info().line_id()); }),
               calls->end());
  auto* phones = snap->mutable_phones();
  phones->erase(std::remove_if(phones->begin(), phones->end(),
                               [&](const v1::Phone& p) {
                                 return !caller.CanSee(p.line_id().empty() ? p.id() : p.line_id());
                               }),
                phones->end());
}

bool EventVisible(const Caller& caller, const v1::Event& event, const std::string& session_id) {
  if (caller.admin()) return true;
  const std::string* line = &event.line_id();  // no copy: runs for every event
  if (line->empty() && event.has_line_created()) line = &event.line_created().line().id();
  if (line->empty() && event.has_line_removed()) line = &event.line_removed().line_id();
  // A phone without a line is granted by its own id.
  if (line->empty()) line = &event.phone_id();
  if (!line->empty()) return caller.CanSee(*line);
  if (event.has_session_expired()) return event.session_expired().session_id() == session_id;
  return true;
}

}  // namespace linebridge
