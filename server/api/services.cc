#include "api/services.h"

#include <algorithm>
#include <chrono>
#include <type_traits>
#include <utility>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include <optional>

#include "api/blocking_executor.h"
#include "api/call_authority.h"
#include "api/parse_failure.h"
#include "core/authority.h"
#include "linebridge/lineerr.h"
#include "linebridge/rpc_status.h"
#include "linebridge/status_macros.h"

namespace linebridge {
namespace {

template <typename Resp>
grpc::ServerUnaryReactor* Reply(grpc::CallbackServerContext* ctx, Resp* resp,
                                absl::StatusOr<Resp> result) {
  grpc::ServerUnaryReactor* reactor = ctx->DefaultReactor();
  if (result.ok()) {
    *resp = *std::move(result);
    reactor->Finish(grpc::Status::OK);
  } else {
    reactor->Finish(ToGrpcStatus(result.status()));
  }
  return reactor;
}

// Runs `work` on the blocking executor and finishes the RPC from there.
template <typename Resp>
grpc::ServerUnaryReactor* Offload(grpc::CallbackServerContext* ctx, Resp* resp,
                                  BlockingExecutor* executor,
                                  std::function<absl::StatusOr<Resp>()> work) {
  grpc::ServerUnaryReactor* reactor = ctx->DefaultReactor();
  executor->Post([reactor, resp, work = std::move(work)] {
    absl::StatusOr<Resp> result = work();
    if (result.ok()) {
      *resp = *std::move(result);
      reactor->Finish(grpc::Status::OK);
    } else {
      reactor->Finish(ToGrpcStatus(result.status()));
    }
  });
  return reactor;
}

// The per-line right a policy names (rpc::Perm::kNone never reaches a line
// check).
Perm PermOf(rpc::Perm p) {
  switch (p) {
    case rpc::Perm::kControl:
      return Perm::kControl;
    case rpc::Perm::kOriginate:
      return Perm::kOriginate;
    case rpc::Perm::kNone:
    case rpc::Perm::kMonitor:
      break;
  }
  return Perm::kMonitor;
}

#define LB_POLICY(access, perm, flags) \
  rpc::Policy { rpc::Access::access, rpc::Perm::perm, rpc::Flags::flags }

// Request fields, found by name at compile time.
#define LB_FIELD_GETTER(field)                                                          \
  template <typename T, typename = void>                                                \
  struct Has_##field : std::false_type {};                                              \
  template <typename T>                                                                 \
  struct Has_##field<T, std::void_t<decltype(std::declval<const T&>().field())>>        \
      : std::true_type {};                                                              \
  template <typename T>                                                                 \
  std::string Get_##field(const T& req) {                                               \
    if constexpr (Has_##field<T>::value) {                                              \
      return std::string(req.field());                                                  \
    } else {                                                                            \
      return std::string();                                                             \
    }                                                                                   \
  }
LB_FIELD_GETTER(line_id)
LB_FIELD_GETTER(call_id)
LB_FIELD_GETTER(conference_call_id)
LB_FIELD_GETTER(consultation_call_id)
LB_FIELD_GETTER(held_call_id)
LB_FIELD_GETTER(session_id)
LB_FIELD_GETTER(reclaim_session_id)
LB_FIELD_GETTER(destination)
LB_FIELD_GETTER(phone_id)
#undef LB_FIELD_GETTER

// The permission an RPC needs when its request changes it: opening a line as
// owner (to answer and handle its calls) is control, not monitoring.
template <typename Req>
Perm PermFor(const Req&, Perm perm) {
  return perm;
}
Perm PermFor(const v1::OpenLineRequest& req, Perm perm) {
  return req.privilege() == v1::PRIVILEGE_OWNER ? Perm::kControl : perm;
}
Perm PermFor(const v1::OpenPhoneRequest& req, Perm perm) {
  return req.privilege() == v1::PRIVILEGE_OWNER ? Perm::kControl : perm;
}

// The phone RPCs answer with PHONEERR_* (docs/api.md#phones).
template <typename Req>
constexpr bool kPhoneRpc = Has_phone_id<Req>::value || std::is_same_v<Req, v1::ListPhonesRequest>;

// After a successful RPC: trim lists to what the caller may see, track
// session ownership and originated calls.
template <typename Req, typename Resp>
void After(Guard&, const Caller&, const Req&, Resp*) {}
void After(Guard&, const Caller& caller, const v1::ListLinesRequest&,
           v1::ListLinesResponse* resp) {
  if (caller.admin()) return;
  auto* lines = resp->mutable_lines();
  lines->erase(std::remove_if(lines->begin(), lines->end(),
                              [&](const v1::Line& l) { return !caller.CanSee(l.id()); }),
               lines->end());
}
void After(Guard&, const Caller& caller, const v1::ListCallsRequest&,
           v1::ListCallsResponse* resp) {
  if (caller.admin()) return;
  auto* calls = resp->mutable_calls();
  calls->erase(std::remove_if(calls->begin(), calls->end(),
                              [&](const v1::Call& c) { return !caller.CanSee(c.info().line_id()); }),
               calls->end());
}
void After(Guard&, const Caller& caller, const v1::ListPhonesRequest&,
           v1::ListPhonesResponse* resp) {
  if (caller.admin()) return;
  auto* phones = resp->mutable_phones();
  phones->erase(std::remove_if(phones->begin(), phones->end(),
                               [&](const v1::Phone& p) {
                                 return !caller.CanSee(p.line_id().empty() ? p.id() : p.line_id());
                               }),
                phones->end());
}
// Admission beyond the policy table: the session cap on new sessions.
template <typename Req>
absl::Status Admit(Guard&, const Caller&, const Req&) {
  return absl::OkStatus();
}
absl::Status Admit(Guard& guard, const Caller& caller, const v1::CreateSessionRequest& req) {
  return req.reclaim_session_id().empty() ? guard.AdmitSession(caller) : absl::OkStatus();
}

void After(Guard& guard, const Caller& caller, const v1::CreateSessionRequest&,
           v1::Session* resp) {
  guard.BindSession(caller, resp->id());
}
void After(Guard& guard, const Caller&, const v1::CloseSessionRequest& req,
           v1::CloseSessionResponse*) {
  guard.UnbindSession(req.session_id());
}
void After(Guard& guard, const Caller& caller, const v1::MakeCallRequest&, v1::Call* resp) {
  guard.NoteCall(caller, resp->id());
}
// A dialled consultation call counts towards the concurrent calls too.
void After(Guard& guard, const Caller& caller, const v1::DialRequest&, v1::Call* resp) {
  guard.NoteCall(caller, resp->id());
}

// Authenticates the caller and applies an Admin or Security row's policy
// (kAdmin: the admin role; kAny: any principal); on failure the RPC is
// finished and nullopt returned.
template <typename Resp>
std::optional<Caller> Gate(Guard* guard, rpc::Policy policy, grpc::CallbackServerContext* ctx,
                           Resp* resp, grpc::ServerUnaryReactor** reactor) {
  absl::StatusOr<Caller> caller = guard->Authenticate(*ctx);
  absl::Status st = caller.status();
  if (caller.ok() && policy.access != rpc::Access::kAny) st = guard->CheckAdmin(*caller);
  if (!st.ok()) {
    *reactor = Reply<Resp>(ctx, resp, st);
    return std::nullopt;
  }
  return *std::move(caller);
}

}  // namespace

template <typename Req, typename Resp>
grpc::ServerUnaryReactor* TelephonyService::Guarded(grpc::CallbackServerContext* ctx,
                                                    const char* method, rpc::Policy policy,
                                                    const Req& req, Resp* resp,
                                                    absl::StatusOr<Resp> (Engine::*op)(const Req&)) {
  absl::StatusOr<Caller> caller = guard_->Authenticate(*ctx);
  if (!caller.ok()) {
    // Refused control attempts are audited too (no principal; the reason
    // names a token id at most).
    if (policy.audited()) {
      guard_->Audit(nullptr, method, Get_line_id(req), Get_call_id(req),
                    std::string(caller.status().message()), caller.status(), ctx->peer());
    }
    if constexpr (kPhoneRpc<Req>) return Reply<Resp>(ctx, resp, AsPhoneStatus(caller.status()));
    return Reply<Resp>(ctx, resp, caller.status());
  }
  std::string line = Get_line_id(req);
  const std::string call = Get_call_id(req);
  // The audit names a phone where a line would be.
  if (policy.access == rpc::Access::kPhone) line = Get_phone_id(req);
  // The audit names the line of a call too.
  if (policy.audited() && policy.access == rpc::Access::kCall && line.empty() && !call.empty()) {
    line = engine_->LineOfCall(call);
  }
  const Perm perm = PermOf(policy.perm);
  auto check = [&]() -> absl::Status {
    LB_RETURN_IF_ERROR(guard_->CheckSession(*caller, Get_session_id(req)));
    LB_RETURN_IF_ERROR(guard_->CheckSession(*caller, Get_reclaim_session_id(req)));
    LB_RETURN_IF_ERROR(Admit(*guard_, *caller, req));
    switch (policy.access) {
      case rpc::Access::kAny:
      case rpc::Access::kSession:
        return absl::OkStatus();
      case rpc::Access::kAdmin:
        return guard_->CheckAdmin(*caller);
      case rpc::Access::kList:
        if (line.empty()) return absl::OkStatus();
        return guard_->CheckLine(*caller, line, perm);
      case rpc::Access::kLine:
      case rpc::Access::kLineTakes:  // the taken call: CallAuthority
        return guard_->CheckLine(*caller, line, PermFor(req, perm));
      case rpc::Access::kCall:
        for (const std::string& id :
             {call, Get_conference_call_id(req), Get_consultation_call_id(req),
              Get_held_call_id(req)}) {
          LB_RETURN_IF_ERROR(guard_->CheckCall(*caller, id, perm));
        }
        return absl::OkStatus();
      case rpc::Access::kPhone:
        return guard_->CheckPhone(*caller, Get_phone_id(req), PermFor(req, perm));
    }
    return absl::OkStatus();
  };
  absl::Status allowed = check();
  if (allowed.ok() && policy.originating()) allowed = guard_->AdmitOrigination(*caller, call);
  // The request runs, is audited and answered here, or, for a row whose
  // work writes the disk, on the blocking executor (gRPC keeps `req` alive
  // until the reactor finishes).
  // `deferred`: the reply the provider held back (ProviderHost::DeferReply),
  // audited when its outcome is in.
  auto run = [this, method, policy, &req, op, line, call, who = *caller,
              allowed](uint64_t* deferred) -> absl::StatusOr<Resp> {
    absl::StatusOr<Resp> result = absl::UnknownError("not run");
    if (!allowed.ok()) {
      result = allowed;
    } else {
      // The engine asks the request's authority before it touches a line the
      // request does not name (pickup, unpark, outside destinations).
      CallAuthority authority(guard_, who);
      Authority::Scope scope(&authority);
      result = (engine_->*op)(req);
      *deferred = DeferredReplies::TakeCurrent();
      if (*deferred != 0 && !result.ok()) {
        engine_->deferred_replies().Forget(*deferred);
        *deferred = 0;
      }
    }
    if (result.ok()) After(*guard_, who, req, &*result);
    if constexpr (kPhoneRpc<Req>) {
      if (!result.ok()) result = AsPhoneStatus(result.status());
    }
    if (policy.audited() && *deferred == 0) {
      guard_->Audit(&who, method, line, call, Get_destination(req), result.status());
    }
    return result;
  };
  if (policy.blocking() && allowed.ok()) {
    return Offload<Resp>(ctx, resp, executor_, [this, run = std::move(run)]() mutable {
      uint64_t deferred = 0;
      absl::StatusOr<Resp> result = run(&deferred);
      // A disk-writing row's provider answers at once.
      if (deferred != 0) engine_->deferred_replies().Forget(deferred);
      return result;
    });
  }
  uint64_t deferred = 0;
  absl::StatusOr<Resp> result = run(&deferred);
  if (deferred == 0) return Reply(ctx, resp, std::move(result));
  // The answer waits for the device's outcome: an error is the reply; OK
  // answers with the call as it is then (a transferred call: IDLE).
  grpc::ServerUnaryReactor* reactor = ctx->DefaultReactor();
  engine_->deferred_replies().Await(
      deferred, [this, reactor, resp, method, policy, line, call, who = *std::move(caller),
                 destination = std::string(Get_destination(req)),
                 session = std::string(Get_session_id(req)),
                 answer = *std::move(result)](absl::Status outcome) mutable {
        if (policy.audited()) guard_->Audit(&who, method, line, call, destination, outcome);
        if (!outcome.ok()) {
          reactor->Finish(ToGrpcStatus(outcome));
          return;
        }
        if constexpr (std::is_same_v<Resp, v1::Call>) {
          v1::GetCallRequest now;
          now.set_session_id(session);
          now.set_call_id(answer.id());
          absl::StatusOr<v1::Call> current = engine_->GetCall(now);
          if (current.ok()) {
            answer = *std::move(current);
          } else {
            answer.mutable_status()->set_state(v1::CALL_STATE_IDLE);
          }
        }
        *resp = std::move(answer);
        reactor->Finish(grpc::Status::OK);
      });
  // A client whose deadline comes first is answered before it with the
  // provider's "under way" answer, not left to its DEADLINE_EXCEEDED.
  const auto deadline = ctx->deadline();
  if (deadline != std::chrono::system_clock::time_point::max()) {
    engine_->AnswerBefore(deferred, absl::FromChrono(deadline) - absl::Now());
  }
  return reactor;
}

#define LB_DEFINE_UNARY(Service, Method, Req, Resp, Access, Perm, Flags, ...) \
  LB_DEFINE_##Service(Method, Req, Resp, LB_POLICY(Access, Perm, Flags))
// The Media rows are served by MediaService (api/media_service.h).
#define LB_DEFINE_Media(...)
#define LB_DEFINE_Admin(...)
#define LB_DEFINE_Security(...)
#define LB_DEFINE_Telephony(Method, Req, Resp, policy)                                      \
  grpc::ServerUnaryReactor* TelephonyService::Method(grpc::CallbackServerContext* ctx,      \
                                                     const v1::Req* req, v1::Resp* resp) {  \
    return Guarded<v1::Req, v1::Resp>(ctx, #Method, policy, *req, resp, &Engine::Method);    \
  }
LINEBRIDGE_RPCS(LB_DEFINE_UNARY)
#undef LB_DEFINE_Telephony
#undef LB_DEFINE_Admin

grpc::ServerWriteReactor<grpc::ByteBuffer>* TelephonyService::Subscribe(
    grpc::CallbackServerContext* ctx, const grpc::ByteBuffer* raw) {
  v1::SubscribeRequest req;
  std::string why;
  if (!ParseRawRequest(*raw, &req, &why)) {
    return EventStream::Refuse(absl::StrCat(kRequestDidNotParse, why));
  }
  return new EventStream(ctx, engine_, stream_options_, req, guard_);
}

// Every Admin RPC: the row's policy, then its Impl.
#define LB_DEFINE_Admin(Method, Req, Resp, policy)                                          \
  grpc::ServerUnaryReactor* AdminService::Method(grpc::CallbackServerContext* ctx,          \
                                                 const v1::Req* req, v1::Resp* resp) {      \
    grpc::ServerUnaryReactor* denied = nullptr;                                             \
    std::optional<Caller> caller = Gate(guard_, policy, ctx, resp, &denied);                \
    if (!caller) return denied;                                                             \
    return Method##Impl(ctx, *caller, *req, resp);                                          \
  }
#define LB_DEFINE_Telephony(...)
#define LB_DEFINE_Security(...)
LINEBRIDGE_RPCS(LB_DEFINE_UNARY)
#undef LB_DEFINE_Telephony
#undef LB_DEFINE_Admin
#undef LB_DEFINE_Security

grpc::ServerUnaryReactor* AdminService::GetServerStatusImpl(grpc::CallbackServerContext* ctx,
                                                            const Caller&,
                                                            const v1::GetServerStatusRequest&,
                                                            v1::ServerStatus* resp) {
  // Counting call records reads the store: not on a gRPC thread.
  return Offload<v1::ServerStatus>(
      ctx, resp, executor_, [this]() -> absl::StatusOr<v1::ServerStatus> {
        v1::ServerStatus st = engine_->Status();
        st.set_listen_address(hooks_.listen_address);
        st.set_data_dir(hooks_.data_dir);
        st.set_subscribers(EventStream::live_count().load());
        if (hooks_.count_records) st.set_call_records(hooks_.count_records());
        if (hooks_.store_status) {
          for (v1::StoreStatus& store : hooks_.store_status()) *st.add_stores() = std::move(store);
        }
        return st;
      });
}

grpc::ServerUnaryReactor* AdminService::ListSessionsImpl(grpc::CallbackServerContext* ctx,
                                                         const Caller&,
                                                         const v1::ListSessionsRequest&,
                                                         v1::ListSessionsResponse* resp) {
  return Reply(ctx, resp, engine_->ListSessions());
}

grpc::ServerUnaryReactor* AdminService::ReloadConfigImpl(grpc::CallbackServerContext* ctx,
                                                         const Caller& caller,
                                                         const v1::ReloadConfigRequest&,
                                                         v1::ReloadConfigResponse* resp) {
  if (!hooks_.reload) {
    return Reply<v1::ReloadConfigResponse>(ctx, resp,
                                           Unimplemented("this server cannot reload its config"));
  }
  Guard* guard = guard_;
  auto reload = hooks_.reload;
  return Offload<v1::ReloadConfigResponse>(
      ctx, resp, executor_,
      [guard, reload, caller]() -> absl::StatusOr<v1::ReloadConfigResponse> {
        absl::StatusOr<v1::ReloadConfigResponse> r = reload();
        if (r.ok()) {
          absl::Status st = guard->store().Reload();
          if (!st.ok()) r = st;
        }
        guard->Audit(&caller, "Admin.ReloadConfig", "", "", "", r.status());
        return r;
      });
}

grpc::ServerUnaryReactor* AdminService::ListCallRecordsImpl(grpc::CallbackServerContext* ctx,
                                                            const Caller&,
                                                            const v1::ListCallRecordsRequest& req,
                                                            v1::ListCallRecordsResponse* resp) {
  if (!hooks_.list_records) {
    return Reply<v1::ListCallRecordsResponse>(ctx, resp,
                                              Unimplemented("no call-detail record store"));
  }
  v1::ListCallRecordsRequest copy = req;
  auto list = hooks_.list_records;
  return Offload<v1::ListCallRecordsResponse>(ctx, resp, executor_,
                                              [list, copy] { return list(copy); });
}

grpc::ServerUnaryReactor* AdminService::PingImpl(grpc::CallbackServerContext* ctx, const Caller&,
                                                 const v1::PingRequest& req,
                                                 v1::PingResponse* resp) {
  if (req.payload().size() > 65536) {
    return Reply<v1::PingResponse>(ctx, resp,
                                   InvalidArgument(LINEERR_INVALPARAM, "ping payload over 64 KiB"));
  }
  resp->set_payload(req.payload());
  grpc::ServerUnaryReactor* reactor = ctx->DefaultReactor();
  reactor->Finish(grpc::Status::OK);
  return reactor;
}

// ---------------------------------------------------------------------------
// Security

grpc::ServerUnaryReactor* SecurityService::Impl(grpc::CallbackServerContext* ctx,
                                                      const Caller& caller,
                                                      const v1::WhoAmIRequest&,
                                                      v1::Principal* resp) {
  v1::Principal p = caller.record->ToProto();
  p.set_name(caller.name);
  p.set_authenticated_by(caller.by);
  return Reply<v1::Principal>(ctx, resp, std::move(p));
}

namespace {

// What an audited Security RPC names: the principal it changes, a line, a
// token id.
struct AuditTarget {
  std::string principal, line, detail;
};
template <typename Req>
AuditTarget TargetOf(const Req&) {
  return {};
}
AuditTarget TargetOf(const v1::AddPrincipalRequest& r) {
  return {r.name(), "", absl::StrCat("role=", v1::Role_Name(r.role()))};
}
AuditTarget TargetOf(const v1::RemovePrincipalRequest& r) { return {r.name(), "", ""}; }
AuditTarget TargetOf(const v1::AssignRequest& r) {
  return {r.principal(), r.grant().line_id(),
          absl::StrCat("monitor=", r.grant().monitor(), " control=", r.grant().control(),
                       " originate=", r.grant().originate())};
}
AuditTarget TargetOf(const v1::UnassignRequest& r) { return {r.principal(), r.line_id(), ""}; }
AuditTarget TargetOf(const v1::IssueTokenRequest& r) {
  return {r.principal(), "", absl::StrCat("ttl_seconds=", r.ttl_seconds())};
}
AuditTarget TargetOf(const v1::RevokeTokenRequest& r) {
  return {"", "", absl::StrCat("token ", r.token_id())};
}

AuditTarget TargetOf(const v1::ImportAssignmentsRequest& r) {
  return {"", "", absl::StrCat("tsecimp users=", r.users_size())};
}
absl::StatusOr<v1::ImportAssignmentsResponse> Do(SecurityStore& s,
                                                 const v1::ImportAssignmentsRequest& r) {
  return s.ImportAssignments(r);
}

absl::StatusOr<v1::Principal> Do(SecurityStore& s, const v1::AddPrincipalRequest& r) {
  return s.AddPrincipal(r);
}
absl::StatusOr<v1::RemovePrincipalResponse> Do(SecurityStore& s,
                                               const v1::RemovePrincipalRequest& r) {
  LB_RETURN_IF_ERROR(s.RemovePrincipal(r.name()));
  return v1::RemovePrincipalResponse();
}
absl::StatusOr<v1::ListPrincipalsResponse> Do(SecurityStore& s, const v1::ListPrincipalsRequest&) {
  return s.ListPrincipals();
}
absl::StatusOr<v1::Principal> Do(SecurityStore& s, const v1::AssignRequest& r) {
  return s.Assign(r);
}
absl::StatusOr<v1::Principal> Do(SecurityStore& s, const v1::UnassignRequest& r) {
  return s.Unassign(r);
}
absl::StatusOr<v1::IssueTokenResponse> Do(SecurityStore& s, const v1::IssueTokenRequest& r) {
  return s.IssueToken(r, absl::Now());
}
absl::StatusOr<v1::TokenInfo> Do(SecurityStore& s, const v1::RevokeTokenRequest& r) {
  return s.RevokeToken(r.token_id());
}
absl::StatusOr<v1::ListTokensResponse> Do(SecurityStore& s, const v1::ListTokensRequest& r) {
  return s.ListTokens(r.principal());
}
absl::StatusOr<v1::ListAuditResponse> Do(SecurityStore& s, const v1::ListAuditRequest& r) {
  return s.ListAudit(r);
}


// kAny rows run the service's Impl; kAdmin rows the store operation on the
// executor (audited rows record the change).
template <rpc::Access kAccess, rpc::Flags kFlags, typename Req, typename Resp>
grpc::ServerUnaryReactor* RunSecurity(SecurityService* service, Guard* guard,
                                      BlockingExecutor* executor, const char* operation,
                                      grpc::CallbackServerContext* ctx, const Caller& caller,
                                      const Req& req, Resp* resp) {
  if constexpr (kAccess == rpc::Access::kAny) {
    return service->Impl(ctx, caller, req, resp);
  } else {
    return Offload<Resp>(
        ctx, resp, executor,
        [guard, operation, request = req, caller]() -> absl::StatusOr<Resp> {
          if constexpr (std::is_same_v<Req, v1::ListAuditRequest>) {
            (void)guard->audit().Flush();  // what was done is visible
          }
          absl::StatusOr<Resp> r = Do(guard->store(), request);
          if (kFlags != rpc::Flags::kPlain) {
            AuditTarget t = TargetOf(request);
            guard->Audit(&caller, operation, t.line, "",
                         absl::StrCat("principal=", t.principal, " ", t.detail), r.status());
          }
          return r;
        });
  }
}

}  // namespace

// Every Security RPC: the row's policy, then RunSecurity. Audited rows also
// record refused attempts of an authenticated caller.
#define LB_DEFINE_Security(Method, Req, Resp, policy)                                         \
  grpc::ServerUnaryReactor* SecurityService::Method(grpc::CallbackServerContext* ctx,         \
                                                    const v1::Req* req, v1::Resp* resp) {     \
    constexpr rpc::Policy kPolicy = policy;                                                   \
    grpc::ServerUnaryReactor* denied = nullptr;                                               \
    std::optional<Caller> caller = Gate(guard_, kPolicy, ctx, resp, &denied);                 \
    if (!caller) {                                                                            \
      if (kPolicy.audited()) {                                                                \
        absl::StatusOr<Caller> who = guard_->Authenticate(*ctx);                              \
        if (who.ok()) {                                                                       \
          AuditTarget t = TargetOf(*req);                                                     \
          guard_->Audit(&*who, "Security." #Method, t.line, "",                               \
                        absl::StrCat("principal=", t.principal, " ", t.detail),               \
                        guard_->CheckAdmin(*who));                                            \
        }                                                                                     \
      }                                                                                       \
      return denied;                                                                          \
    }                                                                                         \
    return RunSecurity<kPolicy.access, kPolicy.flags>(this, guard_, executor_, "Security." #Method, \
                                                     ctx, *caller, *req, resp);               \
  }
#define LB_DEFINE_Telephony(...)
#define LB_DEFINE_Admin(...)
LINEBRIDGE_RPCS(LB_DEFINE_UNARY)
#undef LB_DEFINE_Telephony
#undef LB_DEFINE_Admin
#undef LB_DEFINE_Security
#undef LB_DEFINE_Media
#undef LB_DEFINE_UNARY

}  // namespace linebridge
