#include "api/call_authority.h"

#include "linebridge/status_macros.h"

namespace linebridge {

absl::Status CallAuthority::MayTake(const std::string& line_id, bool same_pickup_group) {
  return guard_->CheckLine(caller_, line_id, same_pickup_group ? Perm::kMonitor : Perm::kControl);
}

absl::Status CallAuthority::MayReachOutside(const std::string& line_id,
                                            const std::function<bool(const std::string&)>& live) {
  LB_RETURN_IF_ERROR(guard_->CheckLine(caller_, line_id, Perm::kOriginate));
  return guard_->AdmitOrigination(caller_, "", live);
}

}  // namespace linebridge
