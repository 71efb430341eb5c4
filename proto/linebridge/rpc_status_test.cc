#include "linebridge/rpc_status.h"

#include <gtest/gtest.h>

#include "google/rpc/status.pb.h"
#include "linebridge/lineerr.h"
#include "linebridge/v1/types.pb.h"

namespace linebridge {
namespace {

TEST(RpcStatus, CarriesTapiErrorAsRichDetail) {
  grpc::Status g = ToGrpcStatus(NotFound(LINEERR_INVALCALLHANDLE, "no call 7"));
  EXPECT_EQ(g.error_code(), grpc::StatusCode::NOT_FOUND);
  EXPECT_EQ(g.error_message(), "no call 7");
  google::rpc::Status rich;
  ASSERT_TRUE(rich.ParseFromString(g.error_details()));
  ASSERT_EQ(rich.details_size(), 1);
  v1::TapiError detail;
  ASSERT_TRUE(rich.details(0).UnpackTo(&detail));
  EXPECT_EQ(detail.lineerr(), LINEERR_INVALCALLHANDLE);
  EXPECT_EQ(detail.name(), "LINEERR_INVALCALLHANDLE");
}

TEST(RpcStatus, RoundTrip) {
  absl::Status back = FromGrpcStatus(ToGrpcStatus(InvalidArgument(LINEERR_INVALADDRESS, "bad")));
  EXPECT_EQ(back.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(LineErrOf(back), LINEERR_INVALADDRESS);
  EXPECT_TRUE(FromGrpcStatus(grpc::Status::OK).ok());
}

TEST(RpcStatus, PhoneErrorTravelsAlone) {
  grpc::Status g = ToGrpcStatus(
      PhoneErrStatus(absl::StatusCode::kFailedPrecondition, PHONEERR_NOTOWNER, "not owner"));
  google::rpc::Status rich;
  ASSERT_TRUE(rich.ParseFromString(g.error_details()));
  v1::TapiError detail;
  ASSERT_TRUE(rich.details(0).UnpackTo(&detail));
  EXPECT_EQ(detail.lineerr(), 0u);
  EXPECT_EQ(detail.phoneerr(), PHONEERR_NOTOWNER);
  EXPECT_EQ(detail.name(), "PHONEERR_NOTOWNER");
  absl::Status back = FromGrpcStatus(g);
  EXPECT_EQ(back.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(PhoneErrOf(back), PHONEERR_NOTOWNER);
}

TEST(RpcStatus, PlainGrpcErrorMapsByCode) {
  absl::Status s = FromGrpcStatus(grpc::Status(grpc::StatusCode::UNAVAILABLE, "down"));
  EXPECT_EQ(s.code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(LineErrOf(s), LINEERR_OPERATIONFAILED);
}

}  // namespace
}  // namespace linebridge
