// Transfers started by the far end (docs/sip.md): this line as the
// transferee of a REFER (RFC 3515; it calls the Refer-To target and reports
// the progress as message/sipfrag NOTIFYs on the REFER's implicit
// subscription), and as the transfer target of an INVITE with Replaces
// (RFC 3891; the new call takes the place of one of the line's calls).
#include <sofia-sip/msg_header.h>
#include <sofia-sip/nua.h>
#include <sofia-sip/nua_tag.h>
#include <sofia-sip/sip_header.h>
#include <sofia-sip/sip_status.h>
#include <sofia-sip/soa_tag.h>
#include <sofia-sip/su_alloc.h>
#include <sofia-sip/su_tag.h>
#include <sofia-sip/url.h>

#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "core/log.h"
#include "providers/sip/sip_agent_impl.h"
#include "providers/sip/sip_mapping.h"

namespace linebridge::sip {
namespace {

constexpr char kSipfrag[] = "message/sipfrag;version=2.0";
// How long the transferor has to hang up after the final 2xx NOTIFY before
// the line sends BYE itself (RFC 5589 has the transferor do it).
constexpr su_duration_t kTransferorByeMs = 3000;

std::string Str(const char* s) { return s != nullptr ? std::string(s) : std::string(); }

// The Replaces header value among the headers of a Refer-To URI
// ("Replaces=abc%40host%3Bto-tag%3D1%3Bfrom-tag%3D2&..."), unescaped; "" if
// there is none.
std::string ReplacesOfQuery(const char* query) {
  for (absl::string_view item : absl::StrSplit(query, '&')) {
    const size_t eq = item.find('=');
    if (eq == absl::string_view::npos) continue;
    if (!absl::EqualsIgnoreCase(item.substr(0, eq), "Replaces")) continue;
    const std::string escaped(item.substr(eq + 1));
    std::vector<char> out(escaped.size() + 1, '\0');
    url_unescape(out.data(), escaped.c_str());
    return std::string(out.data());
  }
  return "";
}

std::string HeaderString(su_home_t* home, const void* header) {
  if (header == nullptr) return "";
  return Str(sip_header_as_string(home, static_cast<const sip_header_t*>(header)));
}

}  // namespace

void SipAgent::Impl::DeclineRefer(AccountState& a, nua_handle_t* nh, Leg* leg, const char* why) {
  // RFC 3515 section 2.4.2 allows any final response.
  LB_LOG("sip: account %s: declined a REFER%s: %s", a.account->config.name(),
         leg != nullptr ? " within a call" : "", why);
  Counters(a.index).refers_declined.fetch_add(1);
  nua_respond(nh, SIP_603_DECLINE, NUTAG_WITH_THIS(a.nua), TAG_END());
  if (leg == nullptr) nua_handle_destroy(nh);
}

void SipAgent::Impl::OnIncomingRefer(AccountState& a, nua_handle_t* nh, Leg* leg,
                                     const sip_t* sip, tagi_t tags[]) {
  if (a.account->config.decline_refer()) return DeclineRefer(a, nh, leg, "decline_refer is set");
  if (leg == nullptr) return DeclineRefer(a, nh, leg, "no call to transfer");
  if (leg->gone || leg->ended || !leg->connected) {
    return DeclineRefer(a, nh, leg, "the call is not connected");
  }
  if (leg->refer_pending || leg->hold_pending || leg->referral != 0) {
    return DeclineRefer(a, nh, leg, "a transfer or hold of the call is under way");
  }
  for (const auto& [id, other] : legs) {
    if (other.get() != leg && other->account == a.index && !other->ended) {
      return DeclineRefer(a, nh, leg, "the line has another call");
    }
  }
  const sip_refer_to_t* refer_to = sip != nullptr ? sip->sip_refer_to : nullptr;
  if (refer_to == nullptr) {
    Counters(a.index).rejected_requests.fetch_add(1);
    nua_respond(nh, 400, "Missing Refer-To", NUTAG_WITH_THIS(a.nua), TAG_END());
    return;
  }
  if (refer_to->r_url->url_type != url_sip && refer_to->r_url->url_type != url_sips) {
    return DeclineRefer(a, nh, leg, "the Refer-To is not a SIP URI");
  }
  su_home_t home[1] = {SU_HOME_INIT(home)};
  url_t* url = url_hdup(home, refer_to->r_url);
  std::string replaces;
  if (url != nullptr && url->url_headers != nullptr) {
    replaces = ReplacesOfQuery(url->url_headers);
    url->url_headers = nullptr;  // the other headers are not carried over
  }
  if (!replaces.empty() && sip_replaces_make(home, replaces.c_str()) == nullptr) {
    su_home_deinit(home);
    Counters(a.index).rejected_requests.fetch_add(1);
    nua_respond(nh, 400, "Bad Replaces in Refer-To", NUTAG_WITH_THIS(a.nua), TAG_END());
    return;
  }
  const std::string target = url != nullptr ? Str(url_as_string(home, url)) : std::string();
  const sip_event_t* event = nullptr;
  const sip_referred_by_t* by = nullptr;
  tl_gets(tags, NUTAG_REFER_EVENT_REF(event), SIPTAG_REFERRED_BY_REF(by), TAG_END());
  const std::string event_str = HeaderString(home, event);
  const std::string by_str = HeaderString(home, by);
  ReferredCall call;
  call.target = target;
  call.replaces = !replaces.empty();
  if (by != nullptr) {
    call.referred_by = PartyFromIdentity(Str(by->b_display), Str(by->b_url->url_user),
                                         Str(by->b_url->url_host));
  }
  su_home_deinit(home);
  if (target.empty() || event_str.empty()) {
    Counters(a.index).rejected_requests.fetch_add(1);
    nua_respond(nh, SIP_500_INTERNAL_SERVER_ERROR, NUTAG_WITH_THIS(a.nua), TAG_END());
    return;
  }

  // Accepted: 202, then "100 Trying" on the implicit subscription; the
  // final status follows when the new call connects or fails.
  nua_respond(nh, SIP_202_ACCEPTED, NUTAG_WITH_THIS(a.nua), TAG_END());
  Counters(a.index).refers_accepted.fetch_add(1);
  leg->refer_event = event_str;
  leg->referral_notified = false;
  nua_notify(nh, SIPTAG_EVENT_STR(event_str.c_str()), SIPTAG_SUBSCRIPTION_STATE_STR("active"),
             SIPTAG_CONTENT_TYPE_STR(kSipfrag), SIPTAG_PAYLOAD_STR("SIP/2.0 100 Trying\r\n"),
             TAG_END());
  LB_LOG("sip: account %s: REFER accepted, calling %s%s", a.account->config.name(), target,
         call.replaces ? " (with Replaces)" : "");

  const uint64_t id = agent->NewLegId();
  nua_handle_t* new_nh = nua_handle(a.nua, nullptr, SIPTAG_TO_STR(target.c_str()), TAG_END());
  Leg* placed = NewLeg(id, a.index, new_nh, false);
  placed->target = target;
  placed->referred_by = leg->id;
  leg->referral = id;
  nua_handle_bind(new_nh, placed);
  // The provider hears of the new call before anything about it.
  sink().OnReferred(leg->id, id, std::move(call));
  if (!OpenRtp(*placed)) {
    NotifyReferrer(*placed, 500, "Server Internal Error");
    End(*placed, v1::DISCONNECT_MODE_UNAVAIL, 0);
    Forget(*placed);
    return;
  }
  const std::string sdp = LocalSdp(agent->bind_address_, placed->rtp->port());
  nua_invite(new_nh, NUTAG_URL(target.c_str()),
             TAG_IF(!by_str.empty(), SIPTAG_REFERRED_BY_STR(by_str.c_str())),
             TAG_IF(!replaces.empty(), SIPTAG_REPLACES_STR(replaces.c_str())),
             SOATAG_USER_SDP_STR(sdp.c_str()), SOATAG_RTP_SELECT(1), TAG_END());
}

void SipAgent::Impl::NotifyReferrer(Leg& leg, int status, const char* phrase) {
  Leg* origin = FindLeg(leg.referred_by);
  leg.referred_by = 0;
  if (origin == nullptr || origin->refer_event.empty() || origin->referral_notified) return;
  origin->referral_notified = true;
  origin->referral = 0;
  const std::string frag = absl::StrCat("SIP/2.0 ", status, " ", Str(phrase), "\r\n");
  nua_notify(origin->nh, SIPTAG_EVENT_STR(origin->refer_event.c_str()),
             SIPTAG_SUBSCRIPTION_STATE_STR("terminated;reason=noresource"),
             SIPTAG_CONTENT_TYPE_STR(kSipfrag), SIPTAG_PAYLOAD_STR(frag.c_str()), TAG_END());
  const bool ok = status >= 200 && status < 300;
  if (!ok) {
    // The transferor may take the call back, or try again.
    Counters(origin->account).referred_calls_failed.fetch_add(1);
    LB_WARN("sip: the call placed for a REFER on call leg %d failed (%d); that call stays",
            origin->id, status);
    if (!origin->ended) {
      origin->refer_event.clear();
      origin->referral_notified = false;
    }
    return;
  }
  // The transferee (this line) reached the target: the transferor's call is
  // over. The provider ended it; the transferor hangs up, else the line does.
  origin->gone = true;
  origin->rtp.reset();
  if (origin->ended) return;
  origin->bye_timer = su_timer_create(su_root_task(root), kTransferorByeMs);
  if (origin->bye_timer != nullptr) {
    su_timer_set(origin->bye_timer, &Impl::OnByeTimer, origin);
  } else {
    nua_bye(origin->nh, TAG_END());
  }
}

void SipAgent::Impl::OnByeTimer(su_root_magic_t*, su_timer_t*, su_timer_arg_t* arg) {
  auto* leg = static_cast<Leg*>(arg);
  if (leg->ended) return;
  LB_LOG("sip: call leg %d: the transferor did not hang up; sending BYE", leg->id);
  nua_bye(leg->nh, TAG_END());
}

void SipAgent::Impl::OnIncomingReplaces(AccountState& a, nua_handle_t* nh, const sip_t* sip) {
  const sip_replaces_t* rp = sip->sip_replaces;
  auto refuse = [&](int status, const char* phrase, const char* why) {
    LB_LOG("sip: account %s: INVITE with Replaces refused %d: %s", a.account->config.name(),
           status, why);
    Counters(a.index).replaces_refused.fetch_add(1);
    nua_respond(nh, status, phrase, TAG_END());
    nua_handle_destroy(nh);
  };
  // The dialog it names, among this account's (Call-ID, to-tag = the local
  // tag, from-tag = the remote tag; RFC 3891 section 3).
  Leg* old = nullptr;
  if (nua_handle_t* found = nua_handle_by_replaces(a.nua, rp); found != nullptr) {
    for (auto& [id, l] : legs) {
      if (l->nh == found && l->account == a.index) old = l.get();
    }
    nua_handle_unref(found);
  }
  if (old == nullptr) return refuse(481, "Call/Transaction Does Not Exist", "no such dialog");
  if (old->gone || old->ended) return refuse(603, "Declined", "the call has ended");
  if (old->connected) {
    if (rp->rp_early_only) return refuse(486, "Busy Here", "early-only, and the call is up");
  } else if (old->inbound) {
    // An early dialog this line did not initiate is left alone.
    return refuse(481, "Call/Transaction Does Not Exist", "an early dialog this line did not start");
  }
  Leg* leg = NewLeg(agent->NewLegId(), a.index, nh, true);
  nua_handle_bind(nh, leg);
  Counters(a.index).replaces.fetch_add(1);
  LB_LOG("sip: account %s: call leg %d replaced by call leg %d", a.account->config.name(),
         old->id, leg->id);
  // The provider moves the call over before anything else is reported.
  IncomingCall call = IncomingOf(sip);
  call.picked_up = !old->connected;
  sink().OnReplaced(a.index, leg->id, old->id, std::move(call));
  old->gone = true;
  old->rtp.reset();
  if (old->connected) {
    nua_bye(old->nh, TAG_END());
  } else {
    nua_cancel(old->nh, TAG_END());
  }
  // Answered at once, without alerting (RFC 3891 section 3).
  Answer(leg->id);
}

}  // namespace linebridge::sip
