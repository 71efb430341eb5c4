// A plaintext gRPC server that answers grpc.health.v1.Health and nothing
// else (config `health.listen`): for probes that cannot do TLS or present a
// token, such as Kubernetes' native gRPC probes and container health checks.
// It carries no API and no credentials, so it may listen on any address. Its
// status mirrors the main server's (Server sets both).
#pragma once

#include <memory>
#include <string>

#include <grpcpp/grpcpp.h>

#include "absl/status/statusor.h"

namespace linebridge {

class HealthServer {
 public:
  // Binds `listen` ("host:port", port 0 picks one) and starts NOT_SERVING.
  static absl::StatusOr<std::unique_ptr<HealthServer>> Start(const std::string& listen);
  ~HealthServer();

  // The overall status (service "").
  void SetServing(bool serving);
  // "host:port" actually bound.
  const std::string& address() const { return address_; }
  int port() const { return port_; }
  void Shutdown();

 private:
  HealthServer() = default;
  std::unique_ptr<grpc::Server> server_;
  std::string address_;
  int port_ = 0;
};

}  // namespace linebridge
