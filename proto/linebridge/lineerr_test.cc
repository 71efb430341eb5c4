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

namespace linebridge {
namespace {

TEST(PhoneErr, NamesAndPayload) {
  EXPECT_EQ(PhoneErrName(0x90000006), "PHONEERR_INUSE");
  EXPECT_EQ(static_cast<uint32_t>(PHONEERR_NOTOWNER), 0x9000001Bu);
  EXPECT_EQ(static_cast<uint32_t>(PHONEERR_RESOURCEUNAVAIL), 0x9000001Fu);
  EXPECT_EQ(PhoneErrName(0x9000001E), "");
  absl::Status s = PhoneErrStatus(absl::StatusCode::kResourceExhausted, PHONEERR_INUSE, "taken");
  EXPECT_EQ(PhoneErrOf(s), PHONEERR_INUSE);
  EXPECT_EQ(TapiErrNameOf(s), "PHONEERR_INUSE");
  EXPECT_EQ(PhoneErrOf(FailedPrecondition(LINEERR_INVALCALLSTATE, "x")), 0u);
}

TEST(PhoneErr, LineErrorsBecomePhoneErrors) {
  absl::Status s = AsPhoneStatus(NotFound(LINEERR_INVALAPPHANDLE, "no session"));
  EXPECT_EQ(s.code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(PhoneErrOf(s), PHONEERR_INVALAPPHANDLE);
  EXPECT_EQ(PhoneErrOf(AsPhoneStatus(PermissionDenied(LINEERR_OPERATIONFAILED, "no"))),
            PHONEERR_OPERATIONFAILED);
  EXPECT_EQ(PhoneErrOf(AsPhoneStatus(absl::NotFoundError("x"))), PHONEERR_BADDEVICEID);
  EXPECT_EQ(PhoneErrOf(AsPhoneStatus(absl::UnimplementedError("x"))), PHONEERR_OPERATIONUNAVAIL);
  absl::Status kept = PhoneErrStatus(absl::StatusCode::kInvalidArgument, PHONEERR_INVALDATAID, "d");
  EXPECT_EQ(PhoneErrOf(AsPhoneStatus(kept)), PHONEERR_INVALDATAID);
}

}  // namespace
}  // namespace linebridge
