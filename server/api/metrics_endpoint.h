// The Prometheus endpoint (config `metrics.listen`): GET /metrics over plain
// HTTP from prometheus-cpp's exposer, serving the collectables it is given.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include <prometheus/collectable.h>

#include "absl/status/statusor.h"

namespace prometheus {
class Exposer;
}

namespace linebridge {

class MetricsEndpoint {
 public:
  // Binds `listen` ("host:port", "[v6]:port"; port 0 picks one). The endpoint
  // keeps the collectables alive.
  static absl::StatusOr<std::unique_ptr<MetricsEndpoint>> Start(
      const std::string& listen, std::vector<std::shared_ptr<prometheus::Collectable>> sources);
  ~MetricsEndpoint();

  // "host:port" actually bound.
  const std::string& address() const { return address_; }
  int port() const { return port_; }

 private:
  MetricsEndpoint() = default;
  std::vector<std::shared_ptr<prometheus::Collectable>> sources_;
  std::unique_ptr<prometheus::Exposer> exposer_;
  std::string address_;
  int port_ = 0;
};

}  // namespace linebridge
