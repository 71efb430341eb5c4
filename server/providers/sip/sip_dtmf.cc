// DTMF on a SIP leg: generated as RFC 4733 telephone-events in the call's
// RTP when the far end's SDP offers them, else as SIP INFO
// (application/dtmf-relay); received from telephone-events and from INFO
// (application/dtmf-relay and application/dtmf).
#include <sofia-sip/nua.h>
#include <sofia-sip/nua_tag.h>
#include <sofia-sip/sip_header.h>
#include <sofia-sip/su_tag.h>

#include <string>

#include "absl/strings/str_cat.h"
#include "providers/sip/sip_agent_impl.h"
#include "providers/sip/sip_mapping.h"

namespace linebridge::sip {

void SipAgent::Impl::SendDigits(uint64_t id, const std::string& digits, int duration_ms) {
  Leg* leg = FindLeg(id);
  if (leg == nullptr || leg->gone || leg->ended) return;
  if (leg->rtp && leg->rtp->CanSendEvents()) {
    leg->rtp->SendDigits(digits, duration_ms, [this, id, digits](bool) {
      Leg* l = FindLeg(id);
      if (l != nullptr && !l->gone) sink().OnDigitsSent(id, digits);
    });
    return;
  }
  // No telephone-event in the far end's SDP: one INFO per digit, in order
  // (pauses are not carried).
  for (char d : digits) {
    if (d == ',') continue;
    const std::string body = absl::StrCat("Signal=", std::string(1, d), "\r\nDuration=",
                                          duration_ms, "\r\n");
    nua_info(leg->nh, SIPTAG_CONTENT_TYPE_STR("application/dtmf-relay"),
             SIPTAG_PAYLOAD_STR(body.c_str()), TAG_END());
    Counters(leg->account).rtp.digits_sent.fetch_add(1);
  }
  sink().OnDigitsSent(id, digits);
}

void SipAgent::Impl::OnInfo(AccountState& a, Leg* leg, const sip_t* sip) {
  // nua has answered the INFO (200) already.
  if (leg == nullptr || leg->gone || sip == nullptr || sip->sip_content_type == nullptr ||
      sip->sip_content_type->c_type == nullptr || sip->sip_payload == nullptr) {
    return;
  }
  const std::string digits = DtmfFromInfo(
      sip->sip_content_type->c_type,
      absl::string_view(sip->sip_payload->pl_data, sip->sip_payload->pl_len));
  for (char d : digits) {
    Counters(a.index).info_digits_received.fetch_add(1);
    sink().OnDigit(leg->id, d);
  }
}

void SipAgent::Impl::WireDigits(Leg& leg) {
  leg.rtp->OnDigit([this, id = leg.id](char d) {
    Leg* l = FindLeg(id);
    if (l != nullptr && !l->gone) sink().OnDigit(id, d);
  });
}

}  // namespace linebridge::sip
