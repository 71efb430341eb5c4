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
#include "linebridge/rpc_table.h"
#include "linebridge/v1/admin.grpc.pb.h"
#include "linebridge/v1/security.grpc.pb.h"
#include "linebridge/v1/telephony.grpc.pb.h"

// LB_DECLARE keeps one service's rows of the RPC table: each class defines
// LB_DECLARE_<its service>, and the other services' LB_DECLARE_* as nothing.
#define LB_DECLARE(Service, Method, Req, Resp, ...) LB_DECLARE_##Service(Method, Req, Resp)

namespace linebridge {

class BlockingExecutor;

// Subscribe is a raw method: its stream writes pre-encoded EventBatch bytes
// (api/event_stream.h); every other method is typed.
class TelephonyService final
    : public v1::Telephony::WithRawCallbackMethod_Subscribe<v1::Telephony::CallbackService> {
 public:
  // `executor` runs the rows whose work writes the disk (rpc::Flags::kAuditedDisk).
  TelephonyService(Engine* engine, EventStreamOptions stream_options, Guard* guard,
                   BlockingExecutor* executor)
      : engine_(engine), stream_options_(stream_options), guard_(guard), executor_(executor) {}

  // The Telephony rows of the RPC table (linebridge/rpc_table.h).
#define LB_DECLARE_Admin(Method, Req, Resp)
#define LB_DECLARE_Security(Method, Req, Resp)
#define LB_DECLARE_Media(Method, Req, Resp)
#define LB_DECLARE_Telephony(Method, Req, Resp)                                                \
  grpc::ServerUnaryReactor* Method(grpc::CallbackServerContext* ctx, const v1::Req* req, \
                                   v1::Resp* resp) override;
  LINEBRIDGE_RPCS(LB_DECLARE)
#undef LB_DECLARE_Telephony
#undef LB_DECLARE_Admin
#undef LB_DECLARE_Security
#undef LB_DECLARE_Media

  grpc::ServerWriteReactor<grpc::ByteBuffer>* Subscribe(grpc::CallbackServerContext* ctx,
                                                       const grpc::ByteBuffer* req) override;

 private:
  template <typename Req, typename Resp>
  grpc::ServerUnaryReactor* Guarded(grpc::CallbackServerContext* ctx, const char* method,
                                    rpc::Policy policy, const Req& req, Resp* resp,
                                    absl::StatusOr<Resp> (Engine::*op)(const Req&));

  Engine* const engine_;
  const EventStreamOptions stream_options_;
  Guard* const guard_;
  BlockingExecutor* const executor_;
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
  // The record stores' writers and retention (ServerStatus.stores).
  std::function<std::vector<v1::StoreStatus>()> store_status;
};

class AdminService final : public v1::Admin::CallbackService {
 public:
  AdminService(Engine* engine, BlockingExecutor* executor, AdminHooks hooks, Guard* guard)
      : engine_(engine), executor_(executor), hooks_(std::move(hooks)), guard_(guard) {}

  // The Admin rows of the RPC table: each checks the row's policy, then runs
  // Method##Impl.
#define LB_DECLARE_Telephony(Method, Req, Resp)
#define LB_DECLARE_Security(Method, Req, Resp)
#define LB_DECLARE_Media(Method, Req, Resp)
#define LB_DECLARE_Admin(Method, Req, Resp)                                                  \
  grpc::ServerUnaryReactor* Method(grpc::CallbackServerContext* ctx, const v1::Req* req,   \
                                   v1::Resp* resp) override;                               \
  grpc::ServerUnaryReactor* Method##Impl(grpc::CallbackServerContext* ctx, const Caller& caller, \
                                         const v1::Req& req, v1::Resp* resp);
  LINEBRIDGE_RPCS(LB_DECLARE)
#undef LB_DECLARE_Admin
#undef LB_DECLARE_Telephony
#undef LB_DECLARE_Security
#undef LB_DECLARE_Media

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

  // The Security rows of the RPC table: admin-only rows share one body that
  // runs the store operation on the executor; kAny rows run Impl.
#define LB_DECLARE_Telephony(Method, Req, Resp)
#define LB_DECLARE_Admin(Method, Req, Resp)
#define LB_DECLARE_Media(Method, Req, Resp)
#define LB_DECLARE_Security(Method, Req, Resp)                                               \
  grpc::ServerUnaryReactor* Method(grpc::CallbackServerContext* ctx, const v1::Req* req,   \
                                   v1::Resp* resp) override;
  LINEBRIDGE_RPCS(LB_DECLARE)
#undef LB_DECLARE_Security
#undef LB_DECLARE_Telephony
#undef LB_DECLARE_Admin
#undef LB_DECLARE_Media
  // The rows open to any principal (Access kAny).
  grpc::ServerUnaryReactor* Impl(grpc::CallbackServerContext* ctx, const Caller& caller,
                                 const v1::WhoAmIRequest& req, v1::Principal* resp);

 private:
  Guard* const guard_;
  BlockingExecutor* const executor_;
};

}  // namespace linebridge
