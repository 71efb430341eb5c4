#include "linebridge/rpc_status.h"

#include <string>

#include "google/rpc/status.pb.h"
#include "linebridge/lineerr.h"
#include "linebridge/v1/types.pb.h"

namespace linebridge {

grpc::Status ToGrpcStatus(const absl::Status& status) {
  if (status.ok()) return grpc::Status::OK;
  google::rpc::Status rich;
  rich.set_code(static_cast<int>(status.code()));
  rich.set_message(std::string(status.message()));
  v1::TapiError detail;
  if (const uint32_t phoneerr = PhoneErrOf(status); phoneerr != 0) {
    // A phone RPC's failure: the PHONEERR alone (lineerr 0).
    detail.set_phoneerr(phoneerr);
    detail.set_name(std::string(PhoneErrName(phoneerr)));
  } else {
    const uint32_t lineerr = LineErrOf(status);
    detail.set_lineerr(lineerr);
    detail.set_name(std::string(LineErrName(lineerr)));
  }
  rich.add_details()->PackFrom(detail);
  return grpc::Status(static_cast<grpc::StatusCode>(status.code()), std::string(status.message()),
                      rich.SerializeAsString());
}

absl::Status FromGrpcStatus(const grpc::Status& status) {
  if (status.ok()) return absl::OkStatus();
  const auto code = static_cast<absl::StatusCode>(status.error_code());
  google::rpc::Status rich;
  if (!status.error_details().empty() && rich.ParseFromString(status.error_details())) {
    for (const auto& any : rich.details()) {
      v1::TapiError detail;
      if (!any.UnpackTo(&detail)) continue;
      if (detail.phoneerr() != 0) {
        return PhoneErrStatus(code, detail.phoneerr(), status.error_message());
      }
      return TapiStatus(code, detail.lineerr(), status.error_message());
    }
  }
  return absl::Status(code, status.error_message());
}

}  // namespace linebridge
