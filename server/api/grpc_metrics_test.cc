#include "api/grpc_metrics.h"

#include <prometheus/text_serializer.h>

#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace linebridge {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

std::string Exposition(const GrpcMetrics& metrics) {
  return prometheus::TextSerializer().Serialize(metrics.registry()->Collect());
}

TEST(GrpcMetrics, ServedMethodsCoverTheApiHealthAndReflection) {
  const std::vector<GrpcMetrics::MethodSpec> methods = GrpcMetrics::ServedMethods();
  auto has = [&](const std::string& service, const std::string& method, bool unary) {
    for (const auto& m : methods) {
      if (m.service == service && m.method == method) return m.unary == unary;
    }
    return false;
  };
  EXPECT_TRUE(has("linebridge.v1.Telephony", "MakeCall", true));
  EXPECT_TRUE(has("linebridge.v1.Telephony", "Subscribe", false));
  EXPECT_TRUE(has("linebridge.v1.Admin", "Ping", true));
  EXPECT_TRUE(has("linebridge.v1.Security", "IssueToken", true));
  EXPECT_TRUE(has("grpc.health.v1.Health", "Check", true));
  EXPECT_TRUE(has("grpc.health.v1.Health", "Watch", false));
  EXPECT_GT(methods.size(), 40u);
}

TEST(GrpcMetrics, CountsByMethodAndCodeWithLatencyForUnaryOnly) {
  GrpcMetrics metrics({{"linebridge.v1.Telephony", "MakeCall", true},
                       {"linebridge.v1.Telephony", "Subscribe", false}});
  metrics.Record("/linebridge.v1.Telephony/MakeCall", grpc::StatusCode::OK, 0.002);
  metrics.Record("/linebridge.v1.Telephony/MakeCall", grpc::StatusCode::OK, 0.004);
  metrics.Record("/linebridge.v1.Telephony/MakeCall", grpc::StatusCode::PERMISSION_DENIED, 0.001);
  metrics.Record("/linebridge.v1.Telephony/Subscribe", grpc::StatusCode::CANCELLED, 30);
  const std::string text = Exposition(metrics);
  EXPECT_THAT(text, HasSubstr("linebridge_grpc_requests_total{code=\"OK\",method=\"MakeCall\","
                              "service=\"linebridge.v1.Telephony\"} 2"));
  EXPECT_THAT(text, HasSubstr("linebridge_grpc_requests_total{code=\"PERMISSION_DENIED\","
                              "method=\"MakeCall\",service=\"linebridge.v1.Telephony\"} 1"));
  EXPECT_THAT(text, HasSubstr("linebridge_grpc_requests_total{code=\"CANCELLED\","
                              "method=\"Subscribe\",service=\"linebridge.v1.Telephony\"} 1"));
  EXPECT_THAT(text, HasSubstr("linebridge_grpc_request_duration_seconds_count{method="
                              "\"MakeCall\",service=\"linebridge.v1.Telephony\"} 3"));
  // 2 ms and 1 ms fall at or under the 3.2 ms bucket, 4 ms does not.
  EXPECT_THAT(text, HasSubstr("linebridge_grpc_request_duration_seconds_bucket{method="
                              "\"MakeCall\",service=\"linebridge.v1.Telephony\",le=\"0.0032\"} 2"));
  // A stream's lifetime is no latency.
  EXPECT_THAT(text, Not(HasSubstr("linebridge_grpc_request_duration_seconds_count{method="
                                  "\"Subscribe\"")));
  // Codes never seen have no series.
  EXPECT_THAT(text, Not(HasSubstr("code=\"INTERNAL\"")));
}

TEST(GrpcMetrics, UnknownMethodsAndCodesCannotCreateLabelValues) {
  GrpcMetrics metrics({{"linebridge.v1.Admin", "Ping", true}});
  for (int i = 0; i < 100; ++i) {
    metrics.Record("/evil.Service/Method" + std::to_string(i), grpc::StatusCode::UNIMPLEMENTED,
                   0.001);
  }
  metrics.Record("/linebridge.v1.Admin/Ping", 99, 0.001);
  const std::string text = Exposition(metrics);
  EXPECT_THAT(text, HasSubstr("linebridge_grpc_requests_total{code=\"UNIMPLEMENTED\","
                              "method=\"other\",service=\"other\"} 100"));
  EXPECT_THAT(text, HasSubstr("linebridge_grpc_requests_total{code=\"UNKNOWN\",method=\"Ping\","
                              "service=\"linebridge.v1.Admin\"} 1"));
  EXPECT_THAT(text, Not(HasSubstr("evil")));
}

}  // namespace
}  // namespace linebridge
