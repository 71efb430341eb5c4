// Mid-call control of a SIP leg: hold and resume by re-INVITE (RFC 3264
// section 8.4), the far end's hold, blind transfer by REFER with its NOTIFY
// progress (RFC 3515), redirect of an offering call by 302 and the
// redirecting ids of inbound INVITEs. A far end's REFER and INVITEs with
// Replaces are in sip_far_transfer.cc.
#include <sofia-sip/msg_header.h>
#include <sofia-sip/nua.h>
#include <sofia-sip/nua_tag.h>
#include <sofia-sip/sip_header.h>
#include <sofia-sip/sip_status.h>
#include <sofia-sip/soa_tag.h>
#include <sofia-sip/su_alloc.h>
#include <sofia-sip/su_tag.h>

#include <string>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "core/log.h"
#include "providers/sip/sip_agent_impl.h"
#include "providers/sip/sip_mapping.h"

namespace linebridge::sip {

void SipAgent::Impl::Hold(uint64_t id, bool hold) {
  Leg* leg = FindLeg(id);
  if (leg == nullptr || leg->gone || leg->ended) return;
  if (!leg->connected || leg->hold_pending || leg->refer_pending) {
    sink().OnHoldFailed(id, 0);
    return;
  }
  leg->hold_pending = true;
  leg->want_hold = hold;
  // The offer says a=sendonly while held (the far end still hears this
  // side's stream), a=sendrecv again on resume; sofia's offer/answer engine
  // increments the SDP version of every new offer.
  nua_invite(leg->nh, SOATAG_HOLD(hold ? "audio" : nullptr), TAG_END());
}

void SipAgent::Impl::OnMediaDirection(Leg& leg, int active_audio) {
  // active_audio is this side's direction after the offer/answer: without
  // "send" the far end asked for sendonly or inactive, i.e. it holds us.
  const bool sending = (active_audio & SOA_ACTIVE_SENDONLY) != 0;
  const bool remote_hold = active_audio >= 0 && !sending;
  if (leg.rtp) leg.rtp->SetSending(sending);
  if (remote_hold && !leg.remote_hold) Counters(leg.account).remote_holds.fetch_add(1);
  leg.remote_hold = remote_hold;
  ReportHold(leg);
}

void SipAgent::Impl::ReportHold(Leg& leg, bool always) {
  if (leg.gone || leg.ended) return;
  if (!always && leg.local_hold == leg.reported_local && leg.remote_hold == leg.reported_remote) {
    return;
  }
  leg.reported_local = leg.local_hold;
  leg.reported_remote = leg.remote_hold;
  sink().OnHold(leg.id, leg.local_hold, leg.remote_hold);
}

void SipAgent::Impl::Refer(uint64_t id, const std::string& target) {
  Leg* leg = FindLeg(id);
  if (leg == nullptr || leg->gone || leg->ended) return;
  if (!leg->connected || leg->refer_pending || leg->hold_pending) {
    Counters(leg->account).transfer_failures.fetch_add(1);
    sink().OnTransferred(id, false, 0);
    return;
  }
  leg->refer_pending = true;
  const std::string& self = agent->accounts_[leg->account].config.uri();
  const std::string referred_by = absl::StrCat("<", self, ">");
  // In angle brackets: a URI's own parameters (a tel: number's user=phone)
  // are not the header's.
  const std::string refer_to =
      absl::StartsWith(target, "<") ? target : absl::StrCat("<", target, ">");
  nua_refer(leg->nh, SIPTAG_REFER_TO_STR(refer_to.c_str()),
            SIPTAG_REFERRED_BY_STR(referred_by.c_str()), TAG_END());
}

void SipAgent::Impl::ReferReplaces(uint64_t id, uint64_t consult_id) {
  Leg* leg = FindLeg(id);
  if (leg == nullptr || leg->gone || leg->ended) return;
  Leg* consult = FindLeg(consult_id);
  if (consult == nullptr || consult->gone || consult->ended || !consult->connected ||
      consult->target.empty()) {
    Counters(leg->account).transfer_failures.fetch_add(1);
    sink().OnTransferred(id, false, 0);
    return;
  }
  // Refer-To: <target?Replaces=<call-id>%3Bto-tag%3D...%3Bfrom-tag%3D...>
  su_home_t home[1] = {SU_HOME_INIT(home)};
  sip_replaces_t* replaces = nua_handle_make_replaces(consult->nh, home, 0);
  char* query = replaces != nullptr
                    ? sip_headers_as_url_query(home, SIPTAG_REPLACES(replaces), TAG_END())
                    : nullptr;
  const std::string target =
      query != nullptr ? absl::StrCat(consult->target, "?", query) : std::string();
  su_home_deinit(home);
  if (target.empty()) {
    Counters(leg->account).transfer_failures.fetch_add(1);
    sink().OnTransferred(id, false, 0);
    return;
  }
  Refer(id, absl::StrCat("<", target, ">"));
}

namespace {

void TransferFailed(SipAgent::Impl& impl, Leg& leg, int status) {
  leg.refer_pending = false;
  impl.Counters(leg.account).transfer_failures.fetch_add(1);
  LB_WARN("sip: transfer of call leg %d failed (%d); the call stays", leg.id, status);
  if (!leg.gone) impl.sink().OnTransferred(leg.id, false, status);
}

}  // namespace

void SipAgent::Impl::OnReferResponse(Leg& leg, int status) {
  if (!leg.refer_pending || status < 200) return;
  if (status >= 300) TransferFailed(*this, leg, status);
  // 202 Accepted: the outcome comes in NOTIFYs.
}

void SipAgent::Impl::OnNotify(Leg& leg, const sip_t* sip) {
  if (!leg.refer_pending || sip == nullptr) return;
  if (sip->sip_event == nullptr || !absl::StartsWithIgnoreCase(sip->sip_event->o_type, "refer")) {
    return;
  }
  int status = -1;
  if (sip->sip_payload != nullptr && sip->sip_payload->pl_data != nullptr) {
    status = SipfragStatus(
        absl::string_view(sip->sip_payload->pl_data, sip->sip_payload->pl_len));
  }
  const bool terminated = sip->sip_subscription_state != nullptr &&
                          sip->sip_subscription_state->ss_substate != nullptr &&
                          absl::EqualsIgnoreCase(sip->sip_subscription_state->ss_substate,
                                                 "terminated");
  if (status >= 200 && status < 300) {
    // The transferee reached the target: this side's part is over.
    leg.refer_pending = false;
    Counters(leg.account).transfers.fetch_add(1);
    if (!leg.gone) sink().OnTransferred(leg.id, true, status);
    leg.gone = true;
    leg.rtp.reset();
    if (!leg.ended) nua_bye(leg.nh, TAG_END());
    return;
  }
  if (status >= 300 || terminated) TransferFailed(*this, leg, status);
}

void SipAgent::Impl::Redirect(uint64_t id, const std::string& target) {
  Leg* leg = FindLeg(id);
  if (leg == nullptr || leg->gone || leg->ended || !leg->inbound || leg->connected) return;
  leg->gone = true;
  leg->rtp.reset();
  Counters(leg->account).redirects.fetch_add(1);
  const std::string contact = absl::StrCat("<", target, ">");
  nua_respond(leg->nh, SIP_302_MOVED_TEMPORARILY, SIPTAG_CONTACT_STR(contact.c_str()), TAG_END());
}

bool SipAgent::Impl::RedirectingOf(const sip_t* sip, Redirecting* out) {
  std::string diversion;
  std::string history;
  for (const sip_unknown_t* un = sip->sip_unknown; un != nullptr; un = un->un_next) {
    if (un->un_name == nullptr || un->un_value == nullptr) continue;
    std::string* to = nullptr;
    if (absl::EqualsIgnoreCase(un->un_name, "Diversion")) to = &diversion;
    if (absl::EqualsIgnoreCase(un->un_name, "History-Info")) to = &history;
    if (to == nullptr) continue;
    if (!to->empty()) to->append(", ");
    to->append(un->un_value);
  }
  if (!diversion.empty() && RedirectingFromDiversion(diversion, out)) return true;
  return !history.empty() && RedirectingFromHistoryInfo(history, out);
}

}  // namespace linebridge::sip
