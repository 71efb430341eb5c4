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

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "core/log.h"
#include "providers/sip/sip_mapping.h"
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

constexpr char kInactive[] = "inactive";

// While the application holds the call, what either leg is sent keeps the
// media stopped.
std::string Forced(const ClickCall& c, const std::string& sdp) {
  return c.held_by_line ? SdpWithDirection(sdp, kInactive) : sdp;
}

}  // namespace

void SipPhoneAgent::Impl::OnReinvite(ClickCall& c, bool phone_leg, nua_handle_t* nh,
                                     const sip_t* sip) {
  const char* who = phone_leg ? "phone" : "destination";
  if (c.a_state != LegState::kUp || c.b_state != LegState::kUp || Renegotiating(c) || c.ended) {
    // Not both legs up, or a relay under way (glare): the sender retries.
    LB_LOG("sip: click-to-dial %d: re-INVITE from the %s answered 491 (%s)", c.id, who,
           Renegotiating(c) ? "another one is under way" : "the call is not connected");
    nua_respond(nh, SIP_491_REQUEST_PENDING, TAG_END());
    return;
  }
  const std::string offer = Body(sip);
  if (offer.empty()) {
    // An offerless re-INVITE (a session refresh, say): the 2xx carries the
    // session description the sender already has from the other party, as
    // the offer (RFC 3264 allows repeating it unchanged); the answer in its
    // ACK changes nothing that is relayed.
    const std::string current = phone_leg ? c.to_phone.Send(Forced(c, c.b_sdp))
                                          : c.to_destination.Send(Forced(c, c.a_sdp));
    nua_respond(nh, SIP_200_OK, SIPTAG_CONTENT_TYPE_STR("application/sdp"),
                SIPTAG_PAYLOAD_STR(current.c_str()), TAG_END());
    (phone_leg ? c.a_awaits_ack : c.b_awaits_ack) = true;
    return;
  }
  c.relaying = true;
  c.relay_from_phone = phone_leg;
  c.relay_offer = Forced(c, offer);
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
  const std::string offer = c.relay_from_phone ? c.to_destination.Send(c.relay_offer)
                                               : c.to_phone.Send(c.relay_offer);
  nua_invite(other, NUTAG_AUTOACK(1), SIPTAG_CONTENT_TYPE_STR("application/sdp"),
             SIPTAG_PAYLOAD_STR(offer.c_str()), TAG_END());
}

void SipPhoneAgent::Impl::OnAck(ClickCall& c, bool phone_leg) {
  (phone_leg ? c.a_awaits_ack : c.b_awaits_ack) = false;
  // A relay or the line's own offer that waited for this leg's ACK goes on.
  if (c.relaying && c.relay_deferred && phone_leg != c.relay_from_phone) SendRelay(c);
  if (c.own_deferred &&
      phone_leg == (c.own == ClickCall::Renegotiation::kToPhone)) {
    SendOwnOffer(c);
  }
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
    const std::string back = c.relay_from_phone ? c.to_phone.Send(Forced(c, answer))
                                                : c.to_destination.Send(Forced(c, answer));
    nua_respond(from, SIP_200_OK, SIPTAG_CONTENT_TYPE_STR("application/sdp"),
                SIPTAG_PAYLOAD_STR(back.c_str()), TAG_END());
    (c.relay_from_phone ? c.a_awaits_ack : c.b_awaits_ack) = true;
  }
  // Who holds whom, as the offers say.
  (c.relay_from_phone ? c.phone_holds : c.destination_holds) =
      OfferHolds(c.relay_from_phone ? c.a_sdp : c.b_sdp);
  ReportHoldState(c);
  return true;
}

void SipPhoneAgent::Impl::ReportHoldState(ClickCall& c) {
  const ClickToDialProgress now = c.held_by_line || c.phone_holds ? ClickToDialProgress::kHeld
                                  : c.destination_holds ? ClickToDialProgress::kHeldByDestination
                                                        : ClickToDialProgress::kConnected;
  if (now == c.reported) return;
  c.reported = now;
  if (!c.hung_up) sink().OnClickToDial(c.id, now);
}

// --- the application's hold and resume -------------------------------------------

void SipPhoneAgent::Impl::Hold(uint64_t id, bool hold) {
  auto it = calls.find(id);
  if (it == calls.end()) return;  // ended meanwhile: answered by the provider
  ClickCall& c = *it->second;
  if (c.hung_up || c.ended) return;
  const ClickToDialRequest what = hold ? ClickToDialRequest::kHold : ClickToDialRequest::kResume;
  if (c.a_state != LegState::kUp || c.b_state != LegState::kUp || Renegotiating(c)) {
    LB_LOG("sip: click-to-dial %d: %s not started (%s)", c.id, RequestName(what),
           Renegotiating(c) ? "a re-INVITE or REFER is under way" : "the call is not connected");
    sink().OnClickToDialRequestDone(c.id, what, 0);
    return;
  }
  c.own = ClickCall::Renegotiation::kToDestination;
  c.own_hold = hold;
  LB_LOG("sip: click-to-dial %d: %s (re-INVITE to the destination)", c.id, RequestName(what));
  if (c.b_awaits_ack) {
    c.own_deferred = true;
    return;
  }
  SendOwnOffer(c);
}

void SipPhoneAgent::Impl::SendOwnOffer(ClickCall& c) {
  c.own_deferred = false;
  const bool to_destination = c.own == ClickCall::Renegotiation::kToDestination;
  nua_handle_t* nh = to_destination ? c.b : c.a;
  if (nh == nullptr) return;
  const std::string offer =
      to_destination
          ? c.to_destination.Send(SdpWithDirection(c.a_sdp, c.own_hold ? kInactive : "sendrecv"))
          : c.to_phone.Send(c.own_offer);
  nua_invite(nh, NUTAG_AUTOACK(1), SIPTAG_CONTENT_TYPE_STR("application/sdp"),
             SIPTAG_PAYLOAD_STR(offer.c_str()), TAG_END());
}

bool SipPhoneAgent::Impl::OnOwnOfferResponse(ClickCall& c, bool phone_leg, int status,
                                             const sip_t* sip) {
  using Renegotiation = ClickCall::Renegotiation;
  if (c.own == Renegotiation::kNone || phone_leg != (c.own == Renegotiation::kToPhone)) {
    return false;
  }
  if ((phone_leg ? c.a_state : c.b_state) != LegState::kUp) return false;
  if (status < 200) return true;
  const ClickToDialRequest what =
      c.own_hold ? ClickToDialRequest::kHold : ClickToDialRequest::kResume;
  const std::string answer = Body(sip);
  if (c.own == Renegotiation::kToDestination) {
    if (status >= 300) {
      c.own = Renegotiation::kNone;
      LB_WARN("sip: click-to-dial %d: the destination refused the %s (SIP %d); the call is "
              "unchanged",
              c.id, RequestName(what), status);
      if (!c.hung_up) sink().OnClickToDialRequestDone(c.id, what, status);
      return true;
    }
    // The destination has the new session: the phone gets its answer as an
    // offer.
    if (!answer.empty()) c.b_sdp = answer;
    c.held_by_line = c.own_hold;
    c.own = Renegotiation::kToPhone;
    c.own_offer = Forced(c, c.b_sdp);
    if (c.a_awaits_ack) {
      c.own_deferred = true;
      return true;
    }
    SendOwnOffer(c);
    return true;
  }
  c.own = Renegotiation::kNone;
  if (status >= 300) {
    // The destination has its new session already; the phone keeps its
    // old one (for a hold: it sends on, unheard).
    LB_WARN("sip: click-to-dial %d: the phone refused the %s (SIP %d)", c.id, RequestName(what),
            status);
  } else if (!answer.empty()) {
    c.a_sdp = answer;
  }
  if (!c.own_hold) c.phone_holds = false;  // resumed at the application's request
  ReportHoldState(c);
  if (!c.hung_up) sink().OnClickToDialRequestDone(c.id, what, 200);
  return true;
}

// --- the application's blind transfer ----------------------------------------------

void SipPhoneAgent::Impl::Transfer(uint64_t id, const std::string& target) {
  auto it = calls.find(id);
  if (it == calls.end()) return;
  ClickCall& c = *it->second;
  if (c.hung_up || c.ended) return;
  if (c.a_state != LegState::kUp || c.b_state != LegState::kUp || Renegotiating(c)) {
    LB_LOG("sip: click-to-dial %d: transfer not started (%s)", c.id,
           Renegotiating(c) ? "a re-INVITE or REFER is under way" : "the call is not connected");
    sink().OnClickToDialRequestDone(c.id, ClickToDialRequest::kTransfer, 0);
    return;
  }
  c.referring = true;
  const std::string refer_to = absl::StrCat("<", target, ">");
  const std::string referred_by = absl::StrCat("<", c.phone->phone->config.uri(), ">");
  LB_LOG("sip: click-to-dial %d: transfer to %s (REFER to the destination)", c.id, target);
  nua_refer(c.b, SIPTAG_REFER_TO_STR(refer_to.c_str()),
            SIPTAG_REFERRED_BY_STR(referred_by.c_str()), TAG_END());
}

void SipPhoneAgent::Impl::OnReferResponse(ClickCall& c, int status) {
  if (!c.referring || status < 200) return;
  if (status < 300) return;  // 202 Accepted: the outcome comes in NOTIFYs
  c.referring = false;
  Counters(*c.phone).click_to_dial_transfer_failures.fetch_add(1);
  LB_WARN("sip: click-to-dial %d: the destination refused the REFER (SIP %d); the call stays",
          c.id, status);
  if (!c.hung_up && !c.ended) {
    sink().OnClickToDialRequestDone(c.id, ClickToDialRequest::kTransfer, status);
  }
}

void SipPhoneAgent::Impl::OnReferNotify(ClickCall& c, const sip_t* sip) {
  if (!c.referring || sip == nullptr || sip->sip_event == nullptr ||
      !absl::StartsWithIgnoreCase(sip->sip_event->o_type, "refer")) {
    return;
  }
  const int status = SipfragStatus(Body(sip));
  const bool terminated = sip->sip_subscription_state != nullptr &&
                          sip->sip_subscription_state->ss_substate != nullptr &&
                          absl::EqualsIgnoreCase(sip->sip_subscription_state->ss_substate,
                                                 "terminated");
  if (status >= 200 && status < 300) {
    // The transferee reached the target: the line's part is over.
    c.referring = false;
    Counters(*c.phone).click_to_dial_transfers.fetch_add(1);
    LB_LOG("sip: click-to-dial %d transferred (sipfrag %d)", c.id, status);
    if (!c.hung_up && !c.ended) {
      sink().OnClickToDialRequestDone(c.id, ClickToDialRequest::kTransfer, status);
    }
    c.hung_up = true;
    Fail(c, v1::DISCONNECT_MODE_NORMAL, 0);
    return;
  }
  if (status < 300 && !terminated) return;  // progress
  c.referring = false;
  Counters(*c.phone).click_to_dial_transfer_failures.fetch_add(1);
  LB_WARN("sip: click-to-dial %d: the transfer failed (sipfrag %d); the call stays", c.id,
          status);
  if (!c.hung_up && !c.ended) {
    sink().OnClickToDialRequestDone(c.id, ClickToDialRequest::kTransfer,
                                    status >= 300 ? status : 500);
  }
}

void SipPhoneAgent::Impl::AbortRelay(ClickCall& c) {
  if (!c.relaying) return;
  c.relaying = false;
  c.relay_deferred = false;
  nua_handle_t* from = c.relay_from_phone ? c.a : c.b;
  if (from != nullptr) nua_respond(from, SIP_500_INTERNAL_SERVER_ERROR, TAG_END());
}

}  // namespace linebridge::sip
