// gRPC callback services: thin adapters from RPCs to the engine. Every
// handler validates through the engine, finishes without blocking, and turns
// an absl::Status into a grpc::Status in one place (ToGrpcStatus).
#pragma once

#include <functional>
#include <string>

#include <grpcpp/grpcpp.h>

#include "api/auth.h"
#include "api/event_stream.h"
#include "core/engine.h"
#include "linebridge/v1/admin.grpc.pb.h"
#include "linebridge/v1/security.grpc.pb.h"
#include "linebridge/v1/telephony.grpc.pb.h"

namespace linebridge {

class BlockingExecutor;

class TelephonyService final : public v1::Telephony::CallbackService {
 public:
  TelephonyService(Engine* engine, EventStreamOptions stream_options, Guard* guard)
      : engine_(engine), stream_options_(stream_options), guard_(guard) {}

#define LB_TELEPHONY_UNARY(X)                                                  \
  X(ListLines, ListLinesRequest, ListLinesResponse)                            \
  X(GetLine, GetLineRequest, Line)                                             \
  X(CreateSession, CreateSessionRequest, Session)                              \
  X(CloseSession, CloseSessionRequest, CloseSessionResponse)                   \
  X(OpenLine, OpenLineRequest, OpenLineResponse)                               \
  X(CloseLine, CloseLineRequest, CloseLineResponse)                            \
  X(SetLineForwarding, SetLineForwardingRequest, Line)                         \
  X(ListCalls, ListCallsRequest, ListCallsResponse)                            \
  X(GetCall, GetCallRequest, Call)                                             \
  X(MakeCall, MakeCallRequest, Call)                                           \
  X(Dial, DialRequest, Call)                                                   \
  X(Accept, CallActionRequest, Call)                                           \
  X(Answer, CallActionRequest, Call)                                           \
  X(Drop, CallActionRequest, Call)                                             \
  X(Hold, CallActionRequest, Call)                                             \
  X(Unhold, CallActionRequest, Call)                                           \
  X(Redirect, RedirectRequest, Call)                                           \
  X(BlindTransfer, BlindTransferRequest, Call)                                 \
  X(SetupTransfer, SetupTransferRequest, SetupTransferResponse)                \
  X(CompleteTransfer, CompleteTransferRequest, CompleteTransferResponse)       \
  X(SetupConference, SetupConferenceRequest, SetupConferenceResponse)          \
  X(PrepareAddToConference, PrepareAddToConferenceRequest, Call)               \
  X(AddToConference, AddToConferenceRequest, Call)                             \
  X(RemoveFromConference, CallActionRequest, Call)                             \
  X(Park, ParkRequest, ParkResponse)                                           \
  X(Unpark, UnparkRequest, Call)                                               \
  X(Pickup, PickupRequest, Call)                                               \
  X(GenerateDigits, GenerateDigitsRequest, Call)                               \
  X(MonitorDigits, MonitorDigitsRequest, Call)                                 \
  X(SetAppSpecific, SetAppSpecificRequest, Call)                               \
  X(SetCallData, SetCallDataRequest, Call)

#define LB_DECLARE_UNARY(Method, Req, Resp)                                        \
  grpc::ServerUnaryReactor* Method(grpc::CallbackServerContext* ctx, const v1::Req* req, \
                                   v1::Resp* resp) override;
  LB_TELEPHONY_UNARY(LB_DECLARE_UNARY)
#undef LB_DECLARE_UNARY

  grpc::ServerWriteReactor<v1::EventBatch>* Subscribe(grpc::CallbackServerContext* ctx,
                                                      const v1::SubscribeRequest* req) override;

 private:
  template <typename Req, typename Resp>
  grpc::ServerUnaryReactor* Guarded(grpc::CallbackServerContext* ctx, const char* method,
                                    const Req& req, Resp* resp,
                                    absl::StatusOr<Resp> (Engine::*op)(const Req&));

  Engine* const engine_;
  const EventStreamOptions stream_options_;
  Guard* const guard_;
};

// What the Admin service needs from the server around the engine.
struct AdminHooks {
  std::string listen_address;
  std::string data_dir;
  // Run on the blocking executor; must finish the reactor.
  std::function<absl::StatusOr<v1::ReloadConfigResponse>()> reload;
  std::function<absl::StatusOr<v1::ListCallRecordsResponse>(const v1::ListCallRecordsRequest&)>
      list_records;
  std::function<uint64_t()> count_records;
};

class AdminService final : public v1::Admin::CallbackService {
 public:
  AdminService(Engine* engine, BlockingExecutor* executor, AdminHooks hooks, Guard* guard)
      : engine_(engine), executor_(executor), hooks_(std::move(hooks)), guard_(guard) {}

  grpc::ServerUnaryReactor* GetServerStatus(grpc::CallbackServerContext* ctx,
                                            const v1::GetServerStatusRequest* req,
                                            v1::ServerStatus* resp) override;
  grpc::ServerUnaryReactor* ListSessions(grpc::CallbackServerContext* ctx,
                                         const v1::ListSessionsRequest* req,
                                         v1::ListSessionsResponse* resp) override;
  grpc::ServerUnaryReactor* ReloadConfig(grpc::CallbackServerContext* ctx,
                                         const v1::ReloadConfigRequest* req,
                                         v1::ReloadConfigResponse* resp) override;
  grpc::ServerUnaryReactor* ListCallRecords(grpc::CallbackServerContext* ctx,
                                            const v1::ListCallRecordsRequest* req,
                                            v1::ListCallRecordsResponse* resp) override;
  grpc::ServerUnaryReactor* Ping(grpc::CallbackServerContext* ctx, const v1::PingRequest* req,
                                 v1::PingResponse* resp) override;

 private:
  Engine* const engine_;
  BlockingExecutor* const executor_;
  const AdminHooks hooks_;
  Guard* const guard_;
};

// Principals, line assignments, tokens and the audit log (admin only, except
// WhoAmI). Changes go to the security store on the blocking executor and are
// audited.
class SecurityService final : public v1::Security::CallbackService {
 public:
  SecurityService(Guard* guard, BlockingExecutor* executor) : guard_(guard), executor_(executor) {}

#define LB_SECURITY_UNARY(X)                                              \
  X(AddPrincipal, AddPrincipalRequest, Principal)                         \
  X(RemovePrincipal, RemovePrincipalRequest, RemovePrincipalResponse)     \
  X(ListPrincipals, ListPrincipalsRequest, ListPrincipalsResponse)        \
  X(Assign, AssignRequest, Principal)                                     \
  X(Unassign, UnassignRequest, Principal)                                 \
  X(IssueToken, IssueTokenRequest, IssueTokenResponse)                    \
  X(RevokeToken, RevokeTokenRequest, TokenInfo)                           \
  X(ListTokens, ListTokensRequest, ListTokensResponse)                    \
  X(ListAudit, ListAuditRequest, ListAuditResponse)                       \
  X(ImportAssignments, ImportAssignmentsRequest, ImportAssignmentsResponse)

#define LB_DECLARE_UNARY(Method, Req, Resp)                                        \
  grpc::ServerUnaryReactor* Method(grpc::CallbackServerContext* ctx, const v1::Req* req, \
                                   v1::Resp* resp) override;
  LB_SECURITY_UNARY(LB_DECLARE_UNARY)
#undef LB_DECLARE_UNARY
  grpc::ServerUnaryReactor* WhoAmI(grpc::CallbackServerContext* ctx, const v1::WhoAmIRequest* req,
                                   v1::Principal* resp) override;

 private:
  Guard* const guard_;
  BlockingExecutor* const executor_;
};

}  // namespace linebridge
