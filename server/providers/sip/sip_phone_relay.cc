// Re-INVITEs of click-to-dial calls (docs/sip.md, "Phone lines"): a
// re-INVITE from either leg (the phone's hold or resume, the destination's,
// a session refresh) is relayed to the other leg as RFC 3725 describes for
// third-party call control: its offer goes on in a re-INVITE, the answer
// that comes back is the 2xx to the first. One relay at a time: a re-INVITE
// while one is under way, or before both legs are up, is answered 491.
#include <sofia-sip/nua.h>
#include <sofia-sip/nua_tag.h>
#include <sofia-sip/sip_status.h>
#include <sofia-sip/su_tag.h>

#include <string>

#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "core/log.h"
#include "providers/sip/sip_phone_agent_impl.h"

namespace linebridge::sip {
namespace {

// An offer that puts the other party on hold (RFC 3264 section 8.4:
// sendonly or inactive; the old c=0.0.0.0 form too).
bool OfferHolds(const std::string& sdp) {
  for (absl::string_view line : absl::StrSplit(sdp, '\n')) {
    line = absl::StripTrailingAsciiWhitespace(line);
    if (line == "a=sendonly" || line == "a=inactive" || line == "c=IN IP4 0.0.0.0") return true;
  }
  return false;
}

}  // namespace

void SipPhoneAgent::Impl::OnReinvite(ClickCall& c, bool phone_leg, nua_handle_t* nh,
                                     const sip_t* sip) {
  const char* who = phone_leg ? "phone" : "destination";
  if (c.a_state != LegState::kUp || c.b_state != LegState::kUp || c.relaying || c.ended) {
    // Not both legs up, or a relay under way (glare): the sender retries.
    LB_LOG("sip: click-to-dial %d: re-INVITE from the %s answered 491 (%s)", c.id, who,
           c.relaying ? "another one is under way" : "the call is not connected");
    nua_respond(nh, SIP_491_REQUEST_PENDING, TAG_END());
    return;
  }
  const std::string offer = Body(sip);
  if (offer.empty()) {
    // An offerless re-INVITE (a session refresh, say): the 2xx carries the
    // session description the sender already has from the other party, as
    // the offer (RFC 3264 allows repeating it unchanged); the answer in its
    // ACK changes nothing that is relayed.
    const std::string& current = phone_leg ? c.b_sdp : c.a_sdp;
    nua_respond(nh, SIP_200_OK, SIPTAG_CONTENT_TYPE_STR("application/sdp"),
                SIPTAG_PAYLOAD_STR(current.c_str()), TAG_END());
    (phone_leg ? c.a_awaits_ack : c.b_awaits_ack) = true;
    return;
  }
  c.relaying = true;
  c.relay_from_phone = phone_leg;
  c.relay_offer = offer;
  (phone_leg ? c.a_sdp : c.b_sdp) = offer;
  LB_LOG("sip: click-to-dial %d: relaying the %s's re-INVITE", c.id, who);
  // The other leg may not have acknowledged the line's last 2xx yet (it
  // travels through the PBX, this re-INVITE may come straight): no INVITE
  // goes to it before that ACK (RFC 3261 section 14.1).
  if (phone_leg ? c.b_awaits_ack : c.a_awaits_ack) {
    c.relay_deferred = true;
    return;
  }
  SendRelay(c);
}

void SipPhoneAgent::Impl::SendRelay(ClickCall& c) {
  c.relay_deferred = false;
  nua_handle_t* other = c.relay_from_phone ? c.b : c.a;
  if (other == nullptr) return;
  nua_invite(other, NUTAG_AUTOACK(1), SIPTAG_CONTENT_TYPE_STR("application/sdp"),
             SIPTAG_PAYLOAD_STR(c.relay_offer.c_str()), TAG_END());
}

void SipPhoneAgent::Impl::OnAck(ClickCall& c, bool phone_leg) {
  (phone_leg ? c.a_awaits_ack : c.b_awaits_ack) = false;
  // A relay that waited for this leg's ACK goes on.
  if (c.relaying && c.relay_deferred && phone_leg != c.relay_from_phone) SendRelay(c);
}

bool SipPhoneAgent::Impl::OnRelayResponse(ClickCall& c, bool phone_leg, int status,
                                          const char* phrase, const sip_t* sip) {
  // The relayed re-INVITE went to the leg the re-INVITE did not come from.
  if (!c.relaying || phone_leg == c.relay_from_phone) return false;
  if ((phone_leg ? c.a_state : c.b_state) != LegState::kUp) return false;
  if (status < 200) return true;
  nua_handle_t* from = c.relay_from_phone ? c.a : c.b;
  c.relaying = false;
  if (status >= 300) {
    // The other party refused the offer: so is the re-INVITE (the session
    // stays as it was).
    LB_LOG("sip: click-to-dial %d: relayed re-INVITE refused %d", c.id, status);
    if (from != nullptr) {
      nua_respond(from, status, phrase != nullptr ? phrase : "Refused", TAG_END());
    }
    return true;
  }
  const std::string answer = Body(sip);
  (phone_leg ? c.a_sdp : c.b_sdp) = answer;
  if (from != nullptr) {
    nua_respond(from, SIP_200_OK, SIPTAG_CONTENT_TYPE_STR("application/sdp"),
                SIPTAG_PAYLOAD_STR(answer.c_str()), TAG_END());
    (c.relay_from_phone ? c.a_awaits_ack : c.b_awaits_ack) = true;
  }
  // Who holds whom, as the offers say.
  const bool holds = OfferHolds(c.relay_from_phone ? c.a_sdp : c.b_sdp);
  bool& flag = c.relay_from_phone ? c.phone_holds : c.destination_holds;
  if (holds != flag) {
    flag = holds;
    const ClickToDialProgress now = c.phone_holds         ? ClickToDialProgress::kHeld
                                    : c.destination_holds ? ClickToDialProgress::kHeldByDestination
                                                          : ClickToDialProgress::kConnected;
    if (!c.hung_up) sink().OnClickToDial(c.id, now);
  }
  return true;
}

void SipPhoneAgent::Impl::AbortRelay(ClickCall& c) {
  if (!c.relaying) return;
  c.relaying = false;
  c.relay_deferred = false;
  nua_handle_t* from = c.relay_from_phone ? c.a : c.b;
  if (from != nullptr) nua_respond(from, SIP_500_INTERNAL_SERVER_ERROR, TAG_END());
}

}  // namespace linebridge::sip
