#include "linebridge/lineerr.h"

#include <gtest/gtest.h>

namespace linebridge {
namespace {

TEST(LineErr, NamesMatchValues) {
  EXPECT_EQ(LineErrName(0x8000001C), "LINEERR_INVALCALLSTATE");
  EXPECT_EQ(LineErrName(LINEERR_OPERATIONUNAVAIL), "LINEERR_OPERATIONUNAVAIL");
  EXPECT_EQ(static_cast<uint32_t>(LINEERR_INVALCALLHANDLE), 0x80000018u);
  EXPECT_EQ(LineErrName(0x12345), "");
}

TEST(LineErr, PayloadRoundTrips) {
  absl::Status s = FailedPrecondition(LINEERR_INVALCALLSTATE, "call is idle");
  EXPECT_EQ(s.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(s.message(), "call is idle");
  EXPECT_EQ(LineErrOf(s), LINEERR_INVALCALLSTATE);
}

TEST(LineErr, FallsBackByCanonicalCode) {
  EXPECT_EQ(LineErrOf(absl::OkStatus()), 0u);
  EXPECT_EQ(LineErrOf(absl::UnimplementedError("x")), LINEERR_OPERATIONUNAVAIL);
  EXPECT_EQ(LineErrOf(absl::InvalidArgumentError("x")), LINEERR_INVALPARAM);
  EXPECT_EQ(LineErrOf(absl::UnavailableError("x")), LINEERR_OPERATIONFAILED);
}

}  // namespace
}  // namespace linebridge
