#include "api/grpc_metrics.h"

#include <chrono>

#include <google/protobuf/descriptor.h>

#include "absl/strings/str_cat.h"
#include "linebridge/v1/admin.grpc.pb.h"
#include "linebridge/v1/media.grpc.pb.h"
#include "linebridge/v1/security.grpc.pb.h"
#include "linebridge/v1/telephony.grpc.pb.h"

namespace linebridge {
namespace {

// grpc::StatusCode's names as gRPC spells them on the wire.
const char* const kCodeNames[17] = {
    "OK",        "CANCELLED",         "UNKNOWN",          "INVALID_ARGUMENT",
    "DEADLINE_EXCEEDED", "NOT_FOUND", "ALREADY_EXISTS",  "PERMISSION_DENIED",
    "RESOURCE_EXHAUSTED", "FAILED_PRECONDITION", "ABORTED", "OUT_OF_RANGE",
    "UNIMPLEMENTED", "INTERNAL", "UNAVAILABLE", "DATA_LOSS", "UNAUTHENTICATED"};

// 100 µs .. ~13 s, doubling.
prometheus::Histogram::BucketBoundaries LatencyBuckets() {
  prometheus::Histogram::BucketBoundaries b;
  for (double v = 0.0001; v < 20; v *= 2) b.push_back(v);
  return b;
}

class MetricsInterceptor final : public grpc::experimental::Interceptor {
 public:
  MetricsInterceptor(grpc::experimental::ServerRpcInfo* info, GrpcMetrics* metrics)
      : info_(info), metrics_(metrics), start_(std::chrono::steady_clock::now()) {}
  ~MetricsInterceptor() override {
    // Ended without a status sent (the client went away first).
    if (!recorded_) metrics_->Record(info_->method(), grpc::StatusCode::CANCELLED, Elapsed());
  }

  void Intercept(grpc::experimental::InterceptorBatchMethods* methods) override {
    if (!recorded_ && methods->QueryInterceptionHookPoint(
                          grpc::experimental::InterceptionHookPoints::PRE_SEND_STATUS)) {
      recorded_ = true;
      metrics_->Record(info_->method(), static_cast<int>(methods->GetSendStatus().error_code()),
                       Elapsed());
    }
    methods->Proceed();
  }

 private:
  double Elapsed() const {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
  }
  grpc::experimental::ServerRpcInfo* const info_;
  GrpcMetrics* const metrics_;
  const std::chrono::steady_clock::time_point start_;
  bool recorded_ = false;
};

class MetricsInterceptorFactory final
    : public grpc::experimental::ServerInterceptorFactoryInterface {
 public:
  explicit MetricsInterceptorFactory(GrpcMetrics* metrics) : metrics_(metrics) {}
  grpc::experimental::Interceptor* CreateServerInterceptor(
      grpc::experimental::ServerRpcInfo* info) override {
    return new MetricsInterceptor(info, metrics_);
  }

 private:
  GrpcMetrics* const metrics_;
};

}  // namespace

std::vector<GrpcMetrics::MethodSpec> GrpcMetrics::ServedMethods() {
  std::vector<MethodSpec> out;
  // Each service through a message of its file, which links the file's
  // descriptor in (a name lookup in the generated pool would not).
  const std::pair<const google::protobuf::FileDescriptor*, const char*> files[] = {
      {v1::MakeCallRequest::descriptor()->file(), v1::Telephony::service_full_name()},
      {v1::PingRequest::descriptor()->file(), v1::Admin::service_full_name()},
      {v1::WhoAmIRequest::descriptor()->file(), v1::Security::service_full_name()},
      {v1::MediaStart::descriptor()->file(), v1::Media::service_full_name()},
  };
  for (const auto& [file, name] : files) {
    const google::protobuf::ServiceDescriptor* service =
        file->pool()->FindServiceByName(name);
    if (service == nullptr) continue;
    for (int i = 0; i < service->method_count(); ++i) {
      const google::protobuf::MethodDescriptor* m = service->method(i);
      out.push_back({service->full_name(), m->name(),
                     !m->client_streaming() && !m->server_streaming()});
    }
  }
  out.push_back({"grpc.health.v1.Health", "Check", true});
  out.push_back({"grpc.health.v1.Health", "Watch", false});
  out.push_back({"grpc.reflection.v1alpha.ServerReflection", "ServerReflectionInfo", false});
  return out;
}

GrpcMetrics::GrpcMetrics(const std::vector<MethodSpec>& methods)
    : registry_(std::make_shared<prometheus::Registry>()),
      requests_(&prometheus::BuildCounter()
                     .Name("linebridge_grpc_requests_total")
                     .Help("gRPC requests handled, by service, method and status code.")
                     .Register(*registry_)),
      latency_(&prometheus::BuildHistogram()
                    .Name("linebridge_grpc_request_duration_seconds")
                    .Help("Time from a unary request's arrival to its status, in seconds.")
                    .Register(*registry_)) {
  other_.service = "other";
  other_.method = "other";
  for (const MethodSpec& spec : methods) {
    auto m = std::make_unique<Method>();
    m->service = spec.service;
    m->method = spec.method;
    if (spec.unary) {
      m->latency = &latency_->Add({{"service", spec.service}, {"method", spec.method}},
                                  LatencyBuckets());
    }
    methods_[absl::StrCat("/", spec.service, "/", spec.method)] = std::move(m);
  }
}

GrpcMetrics::Method* GrpcMetrics::Find(absl::string_view path) {
  auto it = methods_.find(path);
  return it == methods_.end() ? &other_ : it->second.get();
}

void GrpcMetrics::Record(absl::string_view path, int code, double seconds) {
  Method* m = Find(path);
  int c = code;
  if (c < 0 || c > 16) c = static_cast<int>(grpc::StatusCode::UNKNOWN);
  prometheus::Counter* counter = m->by_code[c].load(std::memory_order_acquire);
  if (counter == nullptr) {
    // Family::Add is thread-safe and returns the existing series for the
    // same labels, so two racing first uses store the same pointer.
    counter = &requests_->Add(
        {{"service", m->service}, {"method", m->method}, {"code", kCodeNames[c]}});
    m->by_code[c].store(counter, std::memory_order_release);
  }
  counter->Increment();
  if (m->latency != nullptr) m->latency->Observe(seconds);
}

std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface>
GrpcMetrics::NewInterceptorFactory() {
  return std::make_unique<MetricsInterceptorFactory>(this);
}

}  // namespace linebridge
