// The SIP provider's media: a user-agent line's call hands its RTP audio
// (sip_rtp_media.h) to the media hub as the call's device far end, so a
// media stream on the call hears the far end and is heard by it.
#include "providers/sip/sip_provider.h"

namespace linebridge {

bool SipProvider::CallCarriesMedia(const std::string& call_id) const {
  // Every call in leg_of_call_ is a leg of a user-agent account: linebridged
  // is the endpoint and holds its RTP. A call this provider only watches or
  // controls elsewhere (a phone's own call) is not a leg here.
  return leg_of_call_.contains(call_id);
}

MediaRoute SipProvider::MediaRouteOf(const std::string& call_id) const {
  MediaRoute route;
  auto it = leg_of_call_.find(call_id);
  if (it == leg_of_call_.end()) return route;
  auto call = calls_.find(it->second);
  if (call != calls_.end()) route.device = call->second.audio;
  return route;
}

void SipProvider::OnMedia(uint64_t leg, std::shared_ptr<DeviceAudio> audio) {
  RunLocked([this, leg, audio = std::move(audio)] {
    auto it = calls_.find(leg);
    if (it != calls_.end()) it->second.audio = audio;
  });
}

}  // namespace linebridge
