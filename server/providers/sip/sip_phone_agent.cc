#include "providers/sip/sip_phone_agent.h"

#include <sofia-sip/nua.h>
#include <sofia-sip/nua_tag.h>
#include <sofia-sip/sip.h>
#include <sofia-sip/sip_header.h>
#include <sofia-sip/sip_status.h>
#include <sofia-sip/su_tag.h>
#include <sofia-sip/su_wait.h>
#include <sofia-sip/tport_tag.h>

#include <algorithm>
#include <utility>

#include "absl/random/random.h"
#include "absl/strings/str_cat.h"
#include "core/log.h"
#include "providers/sip/sip_agent_impl.h"
#include "providers/sip/sip_mapping.h"
#include "providers/sip/sip_phone_agent_impl.h"
#include "providers/sip/sip_phone_config.h"
#include "providers/sip/sip_tls.h"

namespace linebridge::sip {
namespace {

constexpr su_duration_t kMaxRetryMs = 60000;
// A phone's 2xx waits for its ACK while the destination rings; the phone
// retransmits it for 64*T1 (32 s) at most, so the destination gets less.
constexpr su_duration_t kDestinationTimeoutMs = 30000;
// Requests without any response fail after this (64*T1 for UDP), so a
// presence server that is gone is noticed within seconds.
constexpr unsigned kTransactionTimeoutMs = 8000;
constexpr size_t kOwnCallIds = 64;
// The answer that refuses the phone's media (RFC 3264: port 0) when the
// phone's 2xx must be acknowledged but the call failed.
constexpr char kRefusedAnswer[] =
    "v=0\r\no=- 0 0 IN IP4 0.0.0.0\r\ns=-\r\nc=IN IP4 0.0.0.0\r\nt=0 0\r\n"
    "m=audio 0 RTP/AVP 0\r\n";

std::string Str(const char* s) { return s != nullptr ? std::string(s) : std::string(); }

}  // namespace

absl::Status SipPhoneAgent::Impl::Init(su_root_t* r) {
  root = r;
  for (size_t i = 0; i < agent->phones_.size(); ++i) {
    auto p = std::make_unique<PhoneState>();
    p->impl = this;
    p->index = i;
    p->phone = &agent->phones_[i];
    const v1::config::SipAccount& c = p->phone->control;
    // A TLS control account: as on user-agent lines (sip_agent.cc).
    absl::StatusOr<TlsSetup> tls = PrepareTls(c, p->phone->tls);
    if (!tls.ok()) {
      return absl::FailedPreconditionError(
          absl::StrCat("sip phone ", p->phone->config.name(), ": ", tls.status().message()));
    }
    const std::string url = tls->on ? absl::StrCat("sips:", agent->bind_address_, ":0")
                                    : ServerUri(c, absl::StrCat(agent->bind_address_, ":0"));
    const std::string from =
        c.display_name().empty() ? absl::StrCat("<", c.uri(), ">")
                                 : absl::StrCat("\"", c.display_name(), "\" <", c.uri(), ">");
    const std::string proxy =
        c.outbound_proxy().empty() ? std::string() : ServerUri(c, c.outbound_proxy());
    // No offer/answer engine: the SDP passes between the phone and the
    // destination as it is; ACKs are sent by hand (flow I puts the answer in
    // the phone's ACK).
    p->nua = nua_create(root, &Impl::Callback, p.get(), NUTAG_URL(url.c_str()),
                        SIPTAG_FROM_STR(from.c_str()), NUTAG_MEDIA_ENABLE(0), NUTAG_AUTOACK(0),
                        NUTAG_AUTOALERT(0), NUTAG_AUTOANSWER(0), NUTAG_ENABLEMESSAGE(0),
                        NUTAG_ALLOW("INVITE, ACK, BYE, CANCEL, OPTIONS, NOTIFY"),
                        SIPTAG_USER_AGENT_STR("linebridged"),
                        NTATAG_SIP_T1X64(kTransactionTimeoutMs),
                        TAG_IF(!proxy.empty(), NUTAG_PROXY(proxy.c_str())),
                        TAG_IF(tls->on, TPTAG_CERTIFICATE(tls->dir.c_str())),
                        TAG_IF(tls->on, TPTAG_TLS_VERSION(0)),
                        TAG_IF(tls->on, TPTAG_TLS_VERIFY_POLICY(tls->policy)), TAG_END());
    RemoveTlsDir(tls->dir);
    if (p->nua == nullptr) {
      return absl::UnavailableError(
          absl::StrCat("sip phone ", p->phone->config.name(), ": cannot bind ", url));
    }
    phones.push_back(std::move(p));
  }
  if (const v1::config::SipPbxControl& c = agent->pbx_; !c.kamailio_jsonrpc().empty()) {
    absl::StatusOr<std::unique_ptr<KamailioDialogControl>> opened = KamailioDialogControl::Open(
        root, agent->bind_address_, c.kamailio_jsonrpc(), absl::Milliseconds(c.timeout_ms()));
    if (!opened.ok()) {
      return absl::Status(opened.status().code(),
                          absl::StrCat("sip pbx_control: ", opened.status().message()));
    }
    pbx = *std::move(opened);
  }
  for (auto& p : phones) Subscribe(*p);
  return absl::OkStatus();
}

void SipPhoneAgent::Impl::Fini() {
  pbx.reset();  // requests still waiting are answered
  for (auto& [id, c] : calls) {
    if (c->timer != nullptr) su_timer_destroy(c->timer);
    c->timer = nullptr;
  }
  for (auto& p : phones) {
    if (p->retry != nullptr) su_timer_destroy(p->retry);
    p->retry = nullptr;
    if (p->nua != nullptr) nua_shutdown(p->nua);
  }
  const bool done = SipLoop::StepUntil(root, absl::Seconds(4), [&] {
    for (auto& p : phones) {
      if (p->nua != nullptr && !p->shutdown_done) return false;
    }
    return true;
  });
  int left = 0;
  for (auto& p : phones) {
    // sofia aborts on destroying an agent whose shutdown has not completed.
    if (p->nua != nullptr && p->shutdown_done) nua_destroy(p->nua);
    if (p->nua != nullptr && !p->shutdown_done) ++left;
    p->nua = nullptr;
  }
  if (!done) LB_WARN("sip: %d phone(s) did not finish unsubscribing in time", left);
  calls.clear();
}

std::string SipPhoneAgent::Impl::Credentials(const PhoneState& p, const sip_t* sip) const {
  return absl::StrCat("Digest:", ChallengeRealm(sip), ":", p.phone->control.auth_user(), ":",
                      p.phone->password);
}

// --- the dialog subscription ------------------------------------------------

void SipPhoneAgent::Impl::Subscribe(PhoneState& p) {
  const v1::config::SipPhone& c = p.phone->config;
  const std::string server = ServerUri(p.phone->control, PresenceServerOf(c, p.phone->control));
  const std::string expires = absl::StrCat(c.subscribe_expiry_s());
  p.sub_auth_tries = 0;
  p.sub_tag.kind = HandleTag::kSubscription;
  p.sub = nua_handle(p.nua, &p.sub_tag, SIPTAG_TO_STR(c.uri().c_str()), TAG_END());
  p.view.NewSubscription();
  nua_subscribe(p.sub, NUTAG_URL(c.uri().c_str()), NUTAG_PROXY(server.c_str()),
                SIPTAG_EVENT_STR("dialog"), SIPTAG_ACCEPT_STR("application/dialog-info+xml"),
                SIPTAG_EXPIRES_STR(expires.c_str()), TAG_END());
}

void SipPhoneAgent::Impl::Watching(PhoneState& p, bool watching, const std::string& why) {
  if (p.reported && p.watching == watching) return;
  p.watching = watching;
  p.reported = true;
  LB_LOG("sip: phone %s %s: %s", p.phone->config.name(),
         watching ? "watched" : "not watched", why);
  sink().OnPhoneWatch(p.index, watching, why);
}

void SipPhoneAgent::Impl::Lost(PhoneState& p, const std::string& why) {
  Counters(p).subscription_failures.fetch_add(1);
  Watching(p, false, why);
  if (p.sub != nullptr) {
    nua_handle_t* old = p.sub;
    p.sub = nullptr;
    nua_handle_bind(old, nullptr);
    agent->loop_.Post([old] { nua_handle_destroy(old); });
  }
  if (p.retry == nullptr) p.retry = su_timer_create(su_root_task(root), kFirstRetryMs);
  su_timer_set_interval(p.retry, &Impl::OnRetry, &p, p.backoff_ms);
  p.backoff_ms = std::min(p.backoff_ms * 2, kMaxRetryMs);
}

void SipPhoneAgent::Impl::OnRetry(void*, su_timer_t*, void* arg) {
  auto* p = static_cast<PhoneState*>(arg);
  if (p->sub == nullptr) p->impl->Subscribe(*p);
}

void SipPhoneAgent::Impl::OnSubscribeResponse(PhoneState& p, nua_handle_t* nh, int status,
                                              const char* phrase, const sip_t* sip) {
  if (nh != p.sub || status < 200) return;
  if ((status == 401 || status == 407) && !p.phone->password.empty() && p.sub_auth_tries == 0) {
    ++p.sub_auth_tries;
    const std::string cred = Credentials(p, sip);
    nua_authenticate(nh, NUTAG_AUTH(cred.c_str()), TAG_END());
    return;
  }
  if (status < 300) {
    Counters(p).subscriptions.fetch_add(1);
    p.backoff_ms = kFirstRetryMs;
    Watching(p, true, absl::StrCat("dialog subscription accepted (", status, ")"));
    return;
  }
  Lost(p, absl::StrCat("dialog subscription to ", p.phone->config.uri(), " failed: ", status,
                       " ", Str(phrase)));
}

void SipPhoneAgent::Impl::OnNotify(PhoneState& p, nua_handle_t* nh, const sip_t* sip,
                                   tagi_t tags[]) {
  if (nh != p.sub) return;
  int substate = nua_substate_active;
  tl_gets(tags, NUTAG_SUBSTATE_REF(substate), TAG_END());
  const std::string body = Body(sip);
  if (!body.empty()) {
    absl::StatusOr<DialogInfo> doc = ParseDialogInfo(body);
    std::vector<DialogInfoDialog> changed;
    if (!doc.ok()) {
      Counters(p).bad_notifies.fetch_add(1);
      LB_WARN("sip: phone %s: unreadable dialog-info: %s", p.phone->config.name(),
              doc.status().message());
    } else {
      switch (p.view.Apply(*doc, &changed)) {
        case DialogInfoView::Result::kApplied:
          Counters(p).notifies.fetch_add(1);
          break;
        case DialogInfoView::Result::kStale:
          break;
        case DialogInfoView::Result::kGap:
          // Refresh: the server answers with the full state.
          Counters(p).bad_notifies.fetch_add(1);
          nua_subscribe(p.sub, SIPTAG_EVENT_STR("dialog"),
                        SIPTAG_ACCEPT_STR("application/dialog-info+xml"), TAG_END());
          break;
      }
    }
    // The phone's legs of click-to-dial calls are reported as those calls.
    changed.erase(std::remove_if(changed.begin(), changed.end(),
                                 [&p](const DialogInfoDialog& d) {
                                   return std::find(p.own_call_ids.begin(), p.own_call_ids.end(),
                                                    d.call_id) != p.own_call_ids.end();
                                 }),
                  changed.end());
    if (!changed.empty()) sink().OnPhoneDialogs(p.index, std::move(changed));
  }
  if (substate == nua_substate_terminated) {
    Lost(p, "the presence server ended the dialog subscription");
  } else if (!p.watching) {
    Counters(p).subscriptions.fetch_add(1);
    p.backoff_ms = kFirstRetryMs;
    Watching(p, true, "dialog subscription active");
  }
}

// --- click-to-dial (RFC 3725 flow I) -----------------------------------------

void SipPhoneAgent::Impl::StartTimer(ClickCall& c, su_duration_t ms) {
  if (c.timer == nullptr) c.timer = su_timer_create(su_root_task(root), ms);
  su_timer_set_interval(c.timer, &Impl::OnCallTimer, &c, ms);
}

void SipPhoneAgent::Impl::OnCallTimer(void*, su_timer_t*, void* arg) {
  auto* c = static_cast<ClickCall*>(arg);
  c->phone->impl->Fail(*c, v1::DISCONNECT_MODE_NOANSWER, 0);
}

void SipPhoneAgent::Impl::ClickToDial(size_t phone, uint64_t id, const std::string& destination) {
  if (phone >= phones.size()) return;
  PhoneState& p = *phones[phone];
  auto owned = std::make_unique<ClickCall>();
  ClickCall& c = *owned;
  calls[id] = std::move(owned);
  c.id = id;
  c.phone = &p;
  c.destination = destination;
  c.a_tag = {HandleTag::kPhoneLeg, id};
  c.b_tag = {HandleTag::kDestinationLeg, id};
  c.phone_call_id = absl::StrCat("lbc-", absl::Hex(absl::Uniform<uint64_t>(rng)), "-", id);
  p.own_call_ids.push_back(c.phone_call_id);
  if (p.own_call_ids.size() > kOwnCallIds) p.own_call_ids.pop_front();
  const v1::config::SipPhone& cfg = p.phone->config;
  std::string hints;
  for (int h : cfg.auto_answer()) {
    if (h == v1::config::SIP_AUTO_ANSWER_CALL_INFO) {
      const size_t at = cfg.uri().find('@');
      absl::StrAppend(&hints, "Call-Info: <sip:", cfg.uri().substr(at + 1), ">;answer-after=0\r\n");
    } else if (h == v1::config::SIP_AUTO_ANSWER_ALERT_INFO) {
      absl::StrAppend(&hints, "Alert-Info: <http://127.0.0.1>;info=alert-autoanswer\r\n");
    }
  }
  if (!hints.empty()) hints.resize(hints.size() - 2);
  c.a = nua_handle(p.nua, &c.a_tag, SIPTAG_TO_STR(cfg.uri().c_str()),
                   SIPTAG_CALL_ID_STR(c.phone_call_id.c_str()), TAG_END());
  c.a_state = LegState::kCalling;
  // No SDP: the phone makes the offer in its 2xx.
  nua_invite(c.a, NUTAG_URL(cfg.uri().c_str()), TAG_IF(!hints.empty(), SIPTAG_HEADER_STR(hints.c_str())),
             TAG_END());
  StartTimer(c, static_cast<su_duration_t>(cfg.answer_timeout_s() * 1000));
}

void SipPhoneAgent::Impl::OnInviteResponse(PhoneState& p, ClickCall& c, bool phone_leg, int status,
                                           const sip_t* sip) {
  nua_handle_t* nh = phone_leg ? c.a : c.b;
  bool& auth_tried = phone_leg ? c.a_auth_tried : c.b_auth_tried;
  if ((status == 401 || status == 407) && !auth_tried && !p.phone->password.empty()) {
    auth_tried = true;
    const std::string cred = Credentials(p, sip);
    nua_authenticate(nh, NUTAG_AUTH(cred.c_str()), TAG_END());
    return;
  }
  LegState& state = phone_leg ? c.a_state : c.b_state;
  if (status < 200) {
    // A provisional response overtaken by the 2xx (a proxy may reorder
    // them) says nothing any more.
    if (!phone_leg && (status == 180 || status == 183) && state == LegState::kCalling &&
        !c.rang && !c.hung_up) {
      c.rang = true;
      sink().OnClickToDial(c.id, ClickToDialProgress::kDestinationRings);
    }
    if (phone_leg && state == LegState::kAnswered) {
      // sofia's NUA takes such a late provisional response as the INVITE's
      // latest status and then refuses to send the ACK the 2xx waits for
      // (nua_i_error 900, below).
      LB_WARN("sip: click-to-dial %d: the phone's %d came after its 2xx (reordered on the "
              "way); its ACK may not go out",
              c.id, status);
    }
    return;
  }
  if (status >= 300) {
    if (state == LegState::kCalling) state = LegState::kDone;
    Fail(c, DisconnectModeForStatus(status), status);
    return;
  }
  if (state == LegState::kDone && nh != nullptr) {
    // A 2xx crossing our CANCEL: the leg was given up, end it.
    if (phone_leg) {
      nua_ack(nh, SIPTAG_CONTENT_TYPE_STR("application/sdp"), SIPTAG_PAYLOAD_STR(kRefusedAnswer),
              TAG_END());
    }
    nua_bye(nh, TAG_END());
    return;
  }
  if (state != LegState::kCalling) return;  // a retransmitted 2xx
  if (c.hung_up || c.ended) {
    // Answered as the call was being given up (the stack acknowledged the
    // destination's 2xx itself; the phone's still needs its ACK).
    state = phone_leg ? LegState::kAnswered : LegState::kUp;
    EndLeg(c, phone_leg);
    return;
  }
  if (phone_leg) {
    state = LegState::kAnswered;
    const std::string offer = Body(sip);
    if (offer.empty()) {
      LB_WARN("sip: phone %s answered click-to-dial without an SDP offer", p.phone->config.name());
      Fail(c, v1::DISCONNECT_MODE_INCOMPATIBLE, 0);
      return;
    }
    c.a_sdp = offer;
    sink().OnClickToDial(c.id, ClickToDialProgress::kPhoneAnswered);
    c.b = nua_handle(p.nua, &c.b_tag, SIPTAG_TO_STR(c.destination.c_str()), TAG_END());
    c.b_state = LegState::kCalling;
    // The destination's 2xx is acknowledged by the stack at once (a late
    // 180 overtaken by it must not stand between the 2xx and its ACK).
    const std::string sent = c.to_destination.Send(offer);
    nua_invite(c.b, NUTAG_URL(c.destination.c_str()), NUTAG_AUTOACK(1),
               SIPTAG_CONTENT_TYPE_STR("application/sdp"), SIPTAG_PAYLOAD_STR(sent.c_str()),
               TAG_END());
    StartTimer(c, kDestinationTimeoutMs);
    return;
  }
  // The destination answered (the stack sent its ACK): its answer goes to
  // the phone in the phone's ACK.
  state = LegState::kUp;
  const std::string answer = Body(sip);
  c.b_sdp = answer;
  c.a_state = LegState::kUp;
  const std::string sent = answer.empty() ? std::string(kRefusedAnswer) : c.to_phone.Send(answer);
  nua_ack(c.a, SIPTAG_CONTENT_TYPE_STR("application/sdp"), SIPTAG_PAYLOAD_STR(sent.c_str()),
          TAG_END());
  if (c.timer != nullptr) su_timer_reset(c.timer);
  Counters(p).click_to_dials.fetch_add(1);
  sink().OnClickToDial(c.id, ClickToDialProgress::kConnected);
}

// Ends one leg from wherever it stands.
void SipPhoneAgent::Impl::EndLeg(ClickCall& c, bool phone_leg) {
  nua_handle_t* nh = phone_leg ? c.a : c.b;
  LegState& state = phone_leg ? c.a_state : c.b_state;
  switch (state) {
    case LegState::kCalling:
      nua_cancel(nh, TAG_END());
      break;
    case LegState::kAnswered:
      // A 2xx must be acknowledged before the BYE; its offer is refused.
      nua_ack(nh, SIPTAG_CONTENT_TYPE_STR("application/sdp"), SIPTAG_PAYLOAD_STR(kRefusedAnswer),
              TAG_END());
      nua_bye(nh, TAG_END());
      break;
    case LegState::kUp:
      nua_bye(nh, TAG_END());
      break;
    case LegState::kIdle:
    case LegState::kDone:
      return;
  }
  state = LegState::kDone;
}

void SipPhoneAgent::Impl::Report(ClickCall& c, v1::DisconnectMode mode, int status) {
  if (c.ended) return;
  c.ended = true;
  if (c.timer != nullptr) su_timer_reset(c.timer);
  if (!c.hung_up) sink().OnClickToDialEnded(c.id, mode, status);
}

void SipPhoneAgent::Impl::Fail(ClickCall& c, v1::DisconnectMode mode, int status) {
  if (!c.ended) {
    if (mode != v1::DISCONNECT_MODE_NORMAL) Counters(*c.phone).click_to_dial_failures.fetch_add(1);
    LB_LOG("sip: click-to-dial %d on phone %s ended: %s%s", c.id, c.phone->phone->config.name(),
           v1::DisconnectMode_Name(mode), status > 0 ? absl::StrCat(" (SIP ", status, ")") : "");
  }
  Report(c, mode, status);
  AbortRelay(c);
  EndLeg(c, true);
  EndLeg(c, false);
  MaybeForget(c);
}

void SipPhoneAgent::Impl::HangUp(uint64_t id) {
  auto it = calls.find(id);
  if (it == calls.end()) return;
  it->second->hung_up = true;
  Fail(*it->second, v1::DISCONNECT_MODE_NORMAL, 0);
}

// sofia is done with a leg (BYE either way, a final failure, CANCEL).
void SipPhoneAgent::Impl::OnTerminated(ClickCall& c, bool phone_leg) {
  LegState& state = phone_leg ? c.a_state : c.b_state;
  state = LegState::kDone;
  nua_handle_t*& nh = phone_leg ? c.a : c.b;
  if (nh != nullptr) {
    nua_handle_t* old = nh;
    nh = nullptr;
    nua_handle_bind(old, nullptr);
    agent->loop_.Post([old] { nua_handle_destroy(old); });
  }
  // A hang-up on one leg ends the other.
  Fail(c, v1::DISCONNECT_MODE_NORMAL, 0);
}

void SipPhoneAgent::Impl::MaybeForget(ClickCall& c) {
  if (c.a != nullptr || c.b != nullptr) return;
  if (c.timer != nullptr) su_timer_destroy(c.timer);
  calls.erase(c.id);
}

// --- events --------------------------------------------------------------------

void SipPhoneAgent::Impl::Callback(nua_event_t event, int status, const char* phrase, nua_t*,
                                   void* magic, nua_handle_t* nh, void* hmagic, const sip_t* sip,
                                   tagi_t tags[]) {
  auto* p = static_cast<PhoneState*>(magic);
  p->impl->Dispatch(*p, event, status, phrase, nh, static_cast<HandleTag*>(hmagic), sip, tags);
}

void SipPhoneAgent::Impl::Dispatch(PhoneState& p, nua_event_t event, int status,
                                   const char* phrase, nua_handle_t* nh, HandleTag* tag,
                                   const sip_t* sip, tagi_t tags[]) {
  if (event == nua_r_shutdown) {
    if (status >= 200) p.shutdown_done = true;
    return;
  }
  if (tag == nullptr) {
    // Requests outside the phone's subscription and calls.
    if (event == nua_i_invite || event == nua_i_subscribe || event == nua_i_refer) {
      nua_respond(nh, SIP_403_FORBIDDEN, TAG_END());
      nua_handle_destroy(nh);
    }
    return;
  }
  if (tag->kind == HandleTag::kSubscription) {
    if (event == nua_r_subscribe) OnSubscribeResponse(p, nh, status, phrase, sip);
    if (event == nua_i_notify) OnNotify(p, nh, sip, tags);
    return;
  }
  auto it = calls.find(tag->call);
  if (it == calls.end()) return;
  ClickCall& c = *it->second;
  const bool phone_leg = tag->kind == HandleTag::kPhoneLeg;
  switch (event) {
    case nua_r_invite:
      if (!OnOwnOfferResponse(c, phone_leg, status, sip) &&
          !OnRelayResponse(c, phone_leg, status, phrase, sip)) {
        OnInviteResponse(p, c, phone_leg, status, sip);
      }
      return;
    case nua_r_refer:
      if (!phone_leg) OnReferResponse(c, status);
      return;
    case nua_i_notify:
      if (!phone_leg) OnReferNotify(c, sip);
      return;
    case nua_i_invite:
      // A re-INVITE (hold, resume, a session refresh): relayed.
      OnReinvite(c, phone_leg, nh, sip);
      return;
    case nua_i_ack:
      OnAck(c, phone_leg);
      return;
    case nua_i_error:
      // The ACK to the phone could not be sent (see OnInviteResponse): the
      // phone would hold a call without the destination's answer until it
      // gives up; end the call now instead.
      if (phone_leg && status == 900 && c.a_state == LegState::kUp && !c.ended) {
        LB_WARN("sip: click-to-dial %d: cannot acknowledge the phone's answer (%s)", c.id,
                Str(phrase));
        Fail(c, v1::DISCONNECT_MODE_UNAVAIL, 0);
      }
      return;
    case nua_i_state: {
      int state = nua_callstate_init;
      tl_gets(tags, NUTAG_CALLSTATE_REF(state), TAG_END());
      if (state == nua_callstate_terminated) {
        OnTerminated(c, phone_leg);
      }
      return;
    }
    default:
      return;
  }
}

// --- SipPhoneAgent ---------------------------------------------------------------

SipPhoneAgent::SipPhoneAgent(std::string bind_address, std::vector<Phone> phones,
                             v1::config::SipPbxControl pbx, SipPhoneSink* sink)
    : bind_address_(std::move(bind_address)),
      phones_(std::move(phones)),
      pbx_(std::move(pbx)),
      sink_(sink) {
  for (size_t i = 0; i < phones_.size(); ++i) {
    counters_.push_back(std::make_unique<PhoneCounters>());
  }
}

SipPhoneAgent::~SipPhoneAgent() {
  loop_.Stop();
  loop_.Join();
}

absl::Status SipPhoneAgent::Start() {
  impl_ = std::make_unique<Impl>();
  impl_->agent = this;
  Impl* impl = impl_.get();
  return loop_.Start([impl](su_root_t* root) { return impl->Init(root); },
                     [impl] { impl->Fini(); });
}

void SipPhoneAgent::RequestStop() { loop_.Stop(); }

void SipPhoneAgent::ClickToDial(size_t phone, uint64_t call, const std::string& destination_uri) {
  Impl* impl = impl_.get();
  loop_.Post([impl, phone, call, destination_uri] {
    impl->ClickToDial(phone, call, destination_uri);
  });
}

void SipPhoneAgent::HangUp(uint64_t call) {
  Impl* impl = impl_.get();
  loop_.Post([impl, call] { impl->HangUp(call); });
}

void SipPhoneAgent::Hold(uint64_t call, bool hold) {
  Impl* impl = impl_.get();
  loop_.Post([impl, call, hold] { impl->Hold(call, hold); });
}

void SipPhoneAgent::EndOwnCall(uint64_t request, const std::string& call_id,
                               const std::string& from_tag) {
  Impl* impl = impl_.get();
  loop_.Post([impl, request, call_id, from_tag] {
    SipPhoneSink* sink = impl->agent->sink_;
    if (!impl->pbx) {
      sink->OnOwnCallEnded(request, absl::FailedPreconditionError("no pbx_control configured"));
      return;
    }
    impl->pbx->EndDialog(call_id, from_tag, [sink, request](absl::Status s) {
      sink->OnOwnCallEnded(request, std::move(s));
    });
  });
}

void SipPhoneAgent::Transfer(uint64_t call, const std::string& target_uri) {
  Impl* impl = impl_.get();
  loop_.Post([impl, call, target_uri] { impl->Transfer(call, target_uri); });
}

}  // namespace linebridge::sip
