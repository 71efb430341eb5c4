// Prometheus counters and latency histograms of the gRPC API, fed by a
// server interceptor: linebridge_grpc_requests_total{service,method,code}
// for every RPC, linebridge_grpc_request_duration_seconds{service,method}
// for unary ones (a stream's duration is its subscriber's lifetime, not a
// latency). Methods the server does not serve count as service="other",
// method="other", so a client cannot create label values.
#pragma once

#include <array>
#include <atomic>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include <grpcpp/grpcpp.h>
#include <grpcpp/support/server_interceptor.h>
#include <prometheus/counter.h>
#include <prometheus/family.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>

#include "absl/strings/string_view.h"

namespace linebridge {

class GrpcMetrics {
 public:
  struct MethodSpec {
    std::string service;  // "linebridge.v1.Telephony"
    std::string method;   // "MakeCall"
    bool unary = true;
  };
  // The services the server registers: every method of the linebridge.v1
  // services, health and reflection.
  static std::vector<MethodSpec> ServedMethods();

  explicit GrpcMetrics(const std::vector<MethodSpec>& methods);
  GrpcMetrics(const GrpcMetrics&) = delete;
  GrpcMetrics& operator=(const GrpcMetrics&) = delete;

  const std::shared_ptr<prometheus::Registry>& registry() const { return registry_; }

  // One finished RPC. `path` is "/service/method" as gRPC reports it; `code`
  // a status code's number (grpc::StatusCode converts), one outside 0..16
  // counted as UNKNOWN.
  void Record(absl::string_view path, int code, double seconds);

  std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface> NewInterceptorFactory();

 private:
  struct Method {
    std::string service;
    std::string method;
    prometheus::Histogram* latency = nullptr;  // unary only
    std::array<std::atomic<prometheus::Counter*>, 17> by_code{};
  };
  Method* Find(absl::string_view path);

  std::shared_ptr<prometheus::Registry> registry_;
  prometheus::Family<prometheus::Counter>* requests_;
  prometheus::Family<prometheus::Histogram>* latency_;
  std::map<std::string, std::unique_ptr<Method>, std::less<>> methods_;  // by "/service/method"
  Method other_;
};

}  // namespace linebridge
