// The simulated PBX's audio routes (server/media mixes them): who hears whom.
#include "providers/sim/sim_provider.h"

namespace linebridge {

const SimProvider::Leg* SimProvider::FindLeg(const std::string& id) const {
  auto it = legs_.find(id);
  return it == legs_.end() ? nullptr : &it->second;
}

// Connected (a held or ringing call carries no audio).
bool SimProvider::Talking(const std::string& leg_id) const {
  const v1::Call* call = host_ == nullptr ? nullptr : host_->FindCall(leg_id);
  return call != nullptr && call->status().state() == v1::CALL_STATE_CONNECTED;
}

MediaRoute SimProvider::MediaRouteOf(const std::string& call_id) const {
  MediaRoute route;
  const Leg* leg = FindLeg(call_id);
  if (leg == nullptr || !Talking(call_id)) return route;
  if (leg->is_hub) {
    // The conference call hears every party's far end.
    for (const std::string& p : leg->parties) {
      const Leg* party = FindLeg(p);
      if (party != nullptr && !party->remote.leg.empty()) route.hears.push_back(party->remote.leg);
    }
    return route;
  }
  if (leg->remote.external.has_value()) {
    switch (leg->remote.external->media()) {
      case v1::config::SIM_MEDIA_ECHO:
        route.far_end = MediaRoute::FarEnd::kEcho;
        break;
      case v1::config::SIM_MEDIA_PROMPT:
        route.far_end = MediaRoute::FarEnd::kPrompt;
        break;
      default:
        break;
    }
    return route;
  }
  const Leg* far = leg->remote.leg.empty() ? nullptr : FindLeg(leg->remote.leg);
  if (far == nullptr) return route;
  if (!far->hub.empty()) {
    // The far end is a party of a conference: this call hears the
    // conference call and the other parties' far ends.
    const Leg* hub = FindLeg(far->hub);
    if (hub == nullptr || !Talking(hub->id)) return route;
    route.hears.push_back(hub->id);
    for (const std::string& p : hub->parties) {
      const Leg* party = FindLeg(p);
      if (party == nullptr || party->id == far->id || party->remote.leg.empty()) continue;
      route.hears.push_back(party->remote.leg);
    }
    return route;
  }
  if (Talking(far->id)) route.hears.push_back(far->id);
  return route;
}

}  // namespace linebridge
