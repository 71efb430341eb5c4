// The one place absl::Status and grpc::Status meet. The TAPI error travels as
// a linebridge.v1.TapiError inside google.rpc.Status.details (the standard
// "grpc-status-details-bin" trailer), so clients in any language can read it.
#pragma once

#include <grpcpp/support/status.h>

#include "absl/status/status.h"

namespace linebridge {

grpc::Status ToGrpcStatus(const absl::Status& status);
absl::Status FromGrpcStatus(const grpc::Status& status);

}  // namespace linebridge
