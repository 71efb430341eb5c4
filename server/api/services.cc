#include "api/services.h"

#include <utility>

#include "api/blocking_executor.h"
#include "linebridge/lineerr.h"
#include "linebridge/rpc_status.h"

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

}  // namespace

#define LB_DEFINE_UNARY(Method, Req, Resp)                                              \
  grpc::ServerUnaryReactor* TelephonyService::Method(grpc::CallbackServerContext* ctx,  \
                                                     const v1::Req* req, v1::Resp* resp) { \
    return Reply(ctx, resp, engine_->Method(*req));                                      \
  }
LB_TELEPHONY_UNARY(LB_DEFINE_UNARY)
#undef LB_DEFINE_UNARY

grpc::ServerWriteReactor<v1::EventBatch>* TelephonyService::Subscribe(
    grpc::CallbackServerContext* ctx, const v1::SubscribeRequest* req) {
  return new EventStream(ctx, engine_, stream_options_, *req);
}

grpc::ServerUnaryReactor* AdminService::GetServerStatus(grpc::CallbackServerContext* ctx,
                                                        const v1::GetServerStatusRequest*,
                                                        v1::ServerStatus* resp) {
  // Counting call records reads the store: not on a gRPC thread.
  return Offload<v1::ServerStatus>(
      ctx, resp, executor_, [this]() -> absl::StatusOr<v1::ServerStatus> {
        v1::ServerStatus st = engine_->Status();
        st.set_listen_address(hooks_.listen_address);
        st.set_data_dir(hooks_.data_dir);
        st.set_subscribers(EventStream::live_count().load());
        if (hooks_.count_records) st.set_call_records(hooks_.count_records());
        return st;
      });
}

grpc::ServerUnaryReactor* AdminService::ListSessions(grpc::CallbackServerContext* ctx,
                                                     const v1::ListSessionsRequest*,
                                                     v1::ListSessionsResponse* resp) {
  return Reply(ctx, resp, engine_->ListSessions());
}

grpc::ServerUnaryReactor* AdminService::ReloadConfig(grpc::CallbackServerContext* ctx,
                                                     const v1::ReloadConfigRequest*,
                                                     v1::ReloadConfigResponse* resp) {
  if (!hooks_.reload) {
    return Reply<v1::ReloadConfigResponse>(ctx, resp,
                                           Unimplemented("this server cannot reload its config"));
  }
  return Offload<v1::ReloadConfigResponse>(ctx, resp, executor_, hooks_.reload);
}

grpc::ServerUnaryReactor* AdminService::ListCallRecords(grpc::CallbackServerContext* ctx,
                                                        const v1::ListCallRecordsRequest* req,
                                                        v1::ListCallRecordsResponse* resp) {
  if (!hooks_.list_records) {
    return Reply<v1::ListCallRecordsResponse>(ctx, resp,
                                              Unimplemented("no call-detail record store"));
  }
  v1::ListCallRecordsRequest copy = *req;
  auto list = hooks_.list_records;
  return Offload<v1::ListCallRecordsResponse>(ctx, resp, executor_,
                                              [list, copy] { return list(copy); });
}

grpc::ServerUnaryReactor* AdminService::Ping(grpc::CallbackServerContext* ctx,
                                             const v1::PingRequest* req, v1::PingResponse* resp) {
  if (req->payload().size() > 65536) {
    return Reply<v1::PingResponse>(ctx, resp,
                                   InvalidArgument(LINEERR_INVALPARAM, "ping payload over 64 KiB"));
  }
  resp->set_payload(req->payload());
  grpc::ServerUnaryReactor* reactor = ctx->DefaultReactor();
  reactor->Finish(grpc::Status::OK);
  return reactor;
}

}  // namespace linebridge
