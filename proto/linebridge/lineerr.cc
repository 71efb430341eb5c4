#include "linebridge/lineerr.h"

#include <string>

#include "absl/strings/cord.h"
#include "absl/strings/str_cat.h"
#include "linebridge/v1/types.pb.h"

namespace linebridge {

absl::string_view LineErrName(uint32_t lineerr) {
  switch (lineerr) {
#define LINEBRIDGE_X(name, value) \
  case value:                     \
    return "LINEERR_" #name;
    LINEBRIDGE_LINEERR_LIST(LINEBRIDGE_X)
#undef LINEBRIDGE_X
    default:
      return "";
  }
}

absl::Status TapiStatus(absl::StatusCode code, uint32_t lineerr, absl::string_view message) {
  absl::Status status(code, message);
  v1::TapiError detail;
  detail.set_lineerr(lineerr);
  detail.set_name(std::string(LineErrName(lineerr)));
  status.SetPayload(kTapiErrorTypeUrl, absl::Cord(detail.SerializeAsString()));
  return status;
}

uint32_t LineErrOf(const absl::Status& status) {
  if (status.ok()) return 0;
  if (auto payload = status.GetPayload(kTapiErrorTypeUrl)) {
    v1::TapiError detail;
    if (detail.ParseFromString(std::string(*payload)) && detail.lineerr() != 0) {
      return detail.lineerr();
    }
  }
  switch (status.code()) {
    case absl::StatusCode::kInvalidArgument:
      return LINEERR_INVALPARAM;
    case absl::StatusCode::kNotFound:
      return LINEERR_BADDEVICEID;
    case absl::StatusCode::kFailedPrecondition:
      return LINEERR_INVALCALLSTATE;
    case absl::StatusCode::kUnimplemented:
      return LINEERR_OPERATIONUNAVAIL;
    case absl::StatusCode::kResourceExhausted:
      return LINEERR_RESOURCEUNAVAIL;
    case absl::StatusCode::kPermissionDenied:
    case absl::StatusCode::kUnauthenticated:
      return LINEERR_OPERATIONFAILED;
    case absl::StatusCode::kUnavailable:
    case absl::StatusCode::kDeadlineExceeded:
    case absl::StatusCode::kCancelled:
      return LINEERR_OPERATIONFAILED;
    default:
      return LINEERR_OPERATIONFAILED;
  }
}

}  // namespace linebridge
