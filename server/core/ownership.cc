#include "core/ownership.h"

#include <algorithm>

namespace linebridge {

bool OffersOwnership(v1::Privilege privilege, const std::vector<v1::MediaMode>& media_modes,
                     const v1::Call& call) {
  if (privilege != v1::PRIVILEGE_OWNER) return false;
  if (call.status().state() != v1::CALL_STATE_OFFERING) return false;
  return media_modes.empty() || std::find(media_modes.begin(), media_modes.end(),
                                          call.info().media_mode()) != media_modes.end();
}

bool StaysOffered(const v1::Call& call) {
  return call.status().state() == v1::CALL_STATE_OFFERING;
}

void GrantOwnership(v1::Call& call, const std::string& session_id) {
  auto* monitors = call.mutable_monitor_sessions();
  monitors->erase(std::remove(monitors->begin(), monitors->end(), session_id), monitors->end());
  const auto& owners = call.owner_sessions();
  if (std::find(owners.begin(), owners.end(), session_id) == owners.end()) {
    call.add_owner_sessions(session_id);
  }
}

}  // namespace linebridge
