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

absl::string_view PhoneErrName(uint32_t phoneerr) {
  switch (phoneerr) {
#define LINEBRIDGE_X(name, value) \
  case value:                     \
    return "PHONEERR_" #name;
    LINEBRIDGE_PHONEERR_LIST(LINEBRIDGE_X)
#undef LINEBRIDGE_X
    default:
      return "";
  }
}

absl::Status PhoneErrStatus(absl::StatusCode code, uint32_t phoneerr, absl::string_view message) {
  absl::Status status(code, message);
  v1::TapiError detail;
  detail.set_phoneerr(phoneerr);
  detail.set_name(std::string(PhoneErrName(phoneerr)));
  status.SetPayload(kTapiErrorTypeUrl, absl::Cord(detail.SerializeAsString()));
  return status;
}

uint32_t PhoneErrOf(const absl::Status& status) {
  if (status.ok()) return 0;
  if (auto payload = status.GetPayload(kTapiErrorTypeUrl)) {
    v1::TapiError detail;
    if (detail.ParseFromString(std::string(*payload))) return detail.phoneerr();
  }
  return 0;
}

uint32_t PhoneErrForLineErr(uint32_t lineerr, absl::StatusCode code) {
  switch (lineerr) {
#define LINEBRIDGE_X(name, value) \
  case LINEERR_##name:            \
    return PHONEERR_##name;
    LINEBRIDGE_X(ALLOCATED, 0)
    LINEBRIDGE_X(BADDEVICEID, 0)
    LINEBRIDGE_X(INCOMPATIBLEAPIVERSION, 0)
    LINEBRIDGE_X(INCOMPATIBLEEXTVERSION, 0)
    LINEBRIDGE_X(INUSE, 0)
    LINEBRIDGE_X(INVALAPPHANDLE, 0)
    LINEBRIDGE_X(INVALAPPNAME, 0)
    LINEBRIDGE_X(INVALDEVICECLASS, 0)
    LINEBRIDGE_X(INVALPARAM, 0)
    LINEBRIDGE_X(INVALPOINTER, 0)
    LINEBRIDGE_X(NODEVICE, 0)
    LINEBRIDGE_X(NODRIVER, 0)
    LINEBRIDGE_X(NOMEM, 0)
    LINEBRIDGE_X(NOTOWNER, 0)
    LINEBRIDGE_X(OPERATIONFAILED, 0)
    LINEBRIDGE_X(OPERATIONUNAVAIL, 0)
    LINEBRIDGE_X(RESOURCEUNAVAIL, 0)
    LINEBRIDGE_X(STRUCTURETOOSMALL, 0)
    LINEBRIDGE_X(UNINITIALIZED, 0)
    LINEBRIDGE_X(REINIT, 0)
#undef LINEBRIDGE_X
    case LINEERR_INVALLINEHANDLE:
      return PHONEERR_INVALPHONEHANDLE;
    default:
      break;
  }
  switch (code) {
    case absl::StatusCode::kOk:
      return 0;
    case absl::StatusCode::kInvalidArgument:
      return PHONEERR_INVALPARAM;
    case absl::StatusCode::kNotFound:
      return PHONEERR_BADDEVICEID;
    case absl::StatusCode::kFailedPrecondition:
      return PHONEERR_INVALPHONESTATE;
    case absl::StatusCode::kUnimplemented:
      return PHONEERR_OPERATIONUNAVAIL;
    case absl::StatusCode::kResourceExhausted:
      return PHONEERR_RESOURCEUNAVAIL;
    default:
      return PHONEERR_OPERATIONFAILED;
  }
}

absl::Status AsPhoneStatus(const absl::Status& status) {
  if (status.ok() || PhoneErrOf(status) != 0) return status;
  absl::Status out = PhoneErrStatus(status.code(), PhoneErrForLineErr(LineErrOf(status), status.code()),
                                    status.message());
  return out;
}

absl::string_view TapiErrNameOf(const absl::Status& status) {
  if (const uint32_t phoneerr = PhoneErrOf(status); phoneerr != 0) return PhoneErrName(phoneerr);
  return LineErrName(LineErrOf(status));
}

}  // namespace linebridge
