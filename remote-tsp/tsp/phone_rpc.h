// The phone RPCs of linebridge.v1.Telephony as the provider sends them: to
// the phone's own server (a phone is (server, phone id), like a line), on
// that server's Connection, so Connection::CancelAll (providerShutdown)
// cancels them like every other request. `done` runs on a gRPC thread after
// everything the call owned is released.
#pragma once

#include <grpcpp/client_context.h>

#include <cstdint>
#include <functional>
#include <utility>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "linebridge/connection.h"
#include "linebridge/rpc_status.h"
#include "linebridge/tapi_abi.h"

namespace linebridge::tsp {

// The PHONEERR_* of a failed phone RPC: TapiError.phoneerr, else one that
// matches the status code (PHONEERR_OPERATIONFAILED if none does).
LONG PhoneErrOf(const absl::Status& status);

template <typename Request, typename Response>
using PhoneRpcMethod = void (v1::Telephony::Stub::async::*)(grpc::ClientContext*, const Request*,
                                                             Response*,
                                                             std::function<void(grpc::Status)>);

template <typename Request, typename Response>
void PhoneRpcAsync(Connection& connection, PhoneRpcMethod<Request, Response> method,
                   Request request, absl::AnyInvocable<void(absl::StatusOr<Response>)> done,
                   absl::Duration deadline) {
  struct Call {
    grpc::ClientContext context;
    Request request;
    Response response;
    absl::AnyInvocable<void(absl::StatusOr<Response>)> done;
  };
  auto* call = new Call;
  CallOptions options;
  options.deadline = deadline;
  connection.PrepareContext(call->context, options);
  if (!connection.Track(&call->context)) {
    auto finish = std::move(done);
    delete call;
    finish(absl::CancelledError("connection cancelled (shutting down)"));
    return;
  }
  call->request = std::move(request);
  call->done = std::move(done);
  Connection* tracker = &connection;
  (connection.telephony().async()->*method)(
      &call->context, &call->request, &call->response, [call, tracker](grpc::Status status) {
        tracker->Untrack(&call->context);
        auto finish = std::move(call->done);
        absl::StatusOr<Response> result = status.ok()
                                              ? absl::StatusOr<Response>(std::move(call->response))
                                              : absl::StatusOr<Response>(FromGrpcStatus(status));
        delete call;
        finish(std::move(result));
      });
}

}  // namespace linebridge::tsp
