#include "linectl/health_command.h"

#include "absl/strings/str_format.h"
#include "grpc/health/v1/health.grpc.pb.h"
#include "linebridge/rpc_status.h"

namespace linebridge::linectl {

absl::Status CmdHealth(Context& context) {
  using grpc::health::v1::HealthCheckResponse;
  const std::string service = context.invocation.Get("service");
  absl::Status worst = absl::OkStatus();
  for (size_t server = 0; server < context.client.num_servers(); ++server) {
    Connection& connection = context.client.connection(server);
    auto stub = grpc::health::v1::Health::NewStub(connection.channel());
    grpc::ClientContext ctx;
    connection.PrepareContext(ctx, CallOptions());
    grpc::health::v1::HealthCheckRequest request;
    request.set_service(service);
    HealthCheckResponse response;
    const grpc::Status st = stub->Check(&ctx, request, &response);
    std::string status;
    if (st.ok()) {
      status = HealthCheckResponse::ServingStatus_Name(response.status());
      if (response.status() != HealthCheckResponse::SERVING && worst.ok()) {
        worst = absl::UnavailableError(
            absl::StrFormat("%s is %s", connection.address(), status));
      }
    } else {
      absl::Status error = FromGrpcStatus(st);
      status = absl::StrFormat("%s (%s)", absl::StatusCodeToString(error.code()),
                               error.message());
      if (worst.ok()) {
        worst = absl::Status(error.code(),
                             absl::StrFormat("%s: %s", connection.address(), error.message()));
      }
    }
    if (context.json()) {
      context.out << absl::StrFormat(R"({"server":"%s","status":"%s"})", connection.address(),
                                     st.ok() ? status : absl::StatusCodeToString(
                                                            FromGrpcStatus(st).code()))
                  << "\n";
    } else {
      context.out << connection.address() << " " << status << "\n";
    }
  }
  return worst;
}

}  // namespace linebridge::linectl
