// TAPI error codes and the absl::Status that carries one.
//
// Inside linebridge every failure is an absl::Status. A failure that TAPI has
// a LINEERR_* for carries it as a payload; the RPC boundary turns it into a
// google.rpc.Status detail (rpc_status.h) and the TSP returns it unchanged.
#pragma once

#include <cstdint>
#include "absl/strings/string_view.h"

#include "absl/status/status.h"
#include "linebridge/lineerr_list.h"
#include "linebridge/phoneerr_list.h"

namespace linebridge {

enum LineErr : uint32_t {
  LINEERR_NONE = 0,
#define LINEBRIDGE_X(name, value) LINEERR_##name = value,
  LINEBRIDGE_LINEERR_LIST(LINEBRIDGE_X)
#undef LINEBRIDGE_X
};

enum PhoneErr : uint32_t {
  PHONEERR_NONE = 0,
#define LINEBRIDGE_X(name, value) PHONEERR_##name = value,
  LINEBRIDGE_PHONEERR_LIST(LINEBRIDGE_X)
#undef LINEBRIDGE_X
};

// "LINEERR_INVALCALLSTATE" for 0x8000001C; "" for an unknown value.
absl::string_view LineErrName(uint32_t lineerr);

// Type URL of the TapiError payload / detail.
inline constexpr absl::string_view kTapiErrorTypeUrl =
    "type.googleapis.com/linebridge.v1.TapiError";

// A status with `code`, `message` and the TAPI error attached.
absl::Status TapiStatus(absl::StatusCode code, uint32_t lineerr, absl::string_view message);

inline absl::Status InvalidArgument(uint32_t lineerr, absl::string_view message) {
  return TapiStatus(absl::StatusCode::kInvalidArgument, lineerr, message);
}
inline absl::Status NotFound(uint32_t lineerr, absl::string_view message) {
  return TapiStatus(absl::StatusCode::kNotFound, lineerr, message);
}
inline absl::Status FailedPrecondition(uint32_t lineerr, absl::string_view message) {
  return TapiStatus(absl::StatusCode::kFailedPrecondition, lineerr, message);
}
inline absl::Status Unimplemented(absl::string_view message) {
  return TapiStatus(absl::StatusCode::kUnimplemented, LINEERR_OPERATIONUNAVAIL, message);
}
inline absl::Status ResourceExhausted(uint32_t lineerr, absl::string_view message) {
  return TapiStatus(absl::StatusCode::kResourceExhausted, lineerr, message);
}
inline absl::Status PermissionDenied(uint32_t lineerr, absl::string_view message) {
  return TapiStatus(absl::StatusCode::kPermissionDenied, lineerr, message);
}

// The TAPI error a status carries; for a status without one, the closest
// LINEERR for its canonical code (OK -> 0).
uint32_t LineErrOf(const absl::Status& status);

// Phone RPCs (docs/api.md#phones) fail with a PHONEERR_* instead: the
// TapiError payload then has lineerr 0 and phoneerr set.
// "PHONEERR_INUSE" for 0x90000006; "" for an unknown value.
absl::string_view PhoneErrName(uint32_t phoneerr);
absl::Status PhoneErrStatus(absl::StatusCode code, uint32_t phoneerr, absl::string_view message);
// The PHONEERR_* a status carries, 0 if none.
uint32_t PhoneErrOf(const absl::Status& status);
// The PHONEERR of the same name as `lineerr` (LINEERR_INVALAPPHANDLE ->
// PHONEERR_INVALAPPHANDLE), else the closest one for the canonical code.
uint32_t PhoneErrForLineErr(uint32_t lineerr, absl::StatusCode code);
// `status` as a phone RPC's failure: unchanged if it carries a PHONEERR,
// else with the PHONEERR PhoneErrForLineErr gives for it.
absl::Status AsPhoneStatus(const absl::Status& status);
// The name of the TAPI error a status carries ("PHONEERR_INUSE",
// "LINEERR_INVALCALLSTATE"), for logs and the audit.
absl::string_view TapiErrNameOf(const absl::Status& status);

}  // namespace linebridge
