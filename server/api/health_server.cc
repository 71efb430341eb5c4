#include "api/health_server.h"

#include <chrono>

#include <grpcpp/health_check_service_interface.h>

#include "absl/strings/str_cat.h"
#include "linebridge/deadline.h"

namespace linebridge {

absl::StatusOr<std::unique_ptr<HealthServer>> HealthServer::Start(const std::string& listen) {
  std::unique_ptr<HealthServer> h(new HealthServer());
  // gRPC's default health service (enabled process-wide by Server::Start) is
  // the only service of this server.
  grpc::EnableDefaultHealthCheckService(true);
  grpc::ServerBuilder builder;
  builder.AddListeningPort(listen, grpc::InsecureServerCredentials(), &h->port_);
  // Probes are tiny: refuse anything bigger than a health request.
  builder.SetMaxReceiveMessageSize(4096);
  // One socket: without this gRPC binds one per polling thread with
  // SO_REUSEPORT, and a second daemon could share a fixed port unnoticed.
  builder.AddChannelArgument(GRPC_ARG_ALLOW_REUSEPORT, 0);
  h->server_ = builder.BuildAndStart();
  if (h->server_ == nullptr || h->port_ == 0) {
    return absl::UnavailableError(
        absl::StrCat("health.listen: cannot serve the health service on ", listen));
  }
  if (h->server_->GetHealthCheckService() == nullptr) {
    return absl::InternalError("health.listen: gRPC did not add its health service");
  }
  h->server_->GetHealthCheckService()->SetServingStatus(false);
  h->address_ = absl::StrCat(listen.substr(0, listen.rfind(':')), ":", h->port_);
  return h;
}

HealthServer::~HealthServer() { Shutdown(); }

void HealthServer::SetServing(bool serving) {
  if (server_ != nullptr) server_->GetHealthCheckService()->SetServingStatus(serving);
}

void HealthServer::Shutdown() {
  if (server_ == nullptr) return;
  server_->GetHealthCheckService()->SetServingStatus(false);
  server_->Shutdown(DeadlineAfter(absl::Seconds(1)));
  server_->Wait();
  server_.reset();
}

}  // namespace linebridge
