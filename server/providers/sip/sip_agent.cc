#include "providers/sip/sip_agent.h"

#include <sofia-sip/msg_header.h>
#include <sofia-sip/nua.h>
#include <sofia-sip/nua_tag.h>
#include <sofia-sip/sip_extra.h>
#include <sofia-sip/sip_header.h>
#include <sofia-sip/sip_status.h>
#include <sofia-sip/soa_tag.h>
#include <sofia-sip/su_tag.h>
#include <sofia-sip/tport_tag.h>

#include <algorithm>
#include <mutex>
#include <utility>

#include "absl/strings/str_cat.h"
#include "core/log.h"
#include "providers/sip/sip_config.h"
#include "providers/sip/sip_agent_impl.h"
#include "providers/sip/sip_mapping.h"
#include "providers/sip/sip_tls.h"

namespace linebridge::sip {
namespace {

std::string Str(const char* s) { return s != nullptr ? std::string(s) : std::string(); }


}  // namespace

std::string ChallengeRealm(const sip_t* sip) {
  const msg_auth_t* au = nullptr;
  if (sip != nullptr && sip->sip_www_authenticate != nullptr) {
    au = sip->sip_www_authenticate;
  } else if (sip != nullptr && sip->sip_proxy_authenticate != nullptr) {
    au = sip->sip_proxy_authenticate;
  }
  if (au == nullptr) return "";
  const char* realm = msg_params_find(au->au_params, "realm=");
  return Str(realm);
}

absl::Status SipAgent::Impl::Init(su_root_t* r) {
  root = r;
  // Parse P-Asserted-Identity and the other extension headers (the
  // process-wide parser table, extended once).
  static std::once_flag extended;
  std::call_once(extended, [] { sip_update_default_mclass(sip_extend_mclass(nullptr)); });
  for (size_t i = 0; i < agent->accounts_.size(); ++i) {
    auto a = std::make_unique<AccountState>();
    a->impl = this;
    a->index = i;
    a->account = &agent->accounts_[i];
    const v1::config::SipAccount& c = a->account->config;
    // TLS: the certificates go to sofia through a directory that exists
    // only while the agent is created (it reads them then).
    absl::StatusOr<TlsSetup> tls = PrepareTls(c, a->account->tls);
    if (!tls.ok()) {
      a->tls_error = std::string(tls.status().message());
      accounts.push_back(std::move(a));
      continue;
    }
    // sofia binds a TLS listener only for a sips: address (";transport=tls"
    // gives EPROTONOSUPPORT); the Contact is then sips: too.
    const std::string hostport = absl::StrCat(agent->bind_address_, ":", c.local_port());
    const std::string url = tls->on ? absl::StrCat("sips:", hostport) : ServerUri(c, hostport);
    const std::string from =
        c.display_name().empty() ? absl::StrCat("<", c.uri(), ">")
                                 : absl::StrCat("\"", c.display_name(), "\" <", c.uri(), ">");
    const std::string proxy =
        c.outbound_proxy().empty() ? std::string() : ServerUri(c, c.outbound_proxy());
    // Session timers (RFC 4028) when the account asks for them: either side
    // may refresh, by re-INVITE (what every peer understands).
    const unsigned session_expires = c.session_expires_s();
    a->nua = nua_create(
        root, &Impl::Callback, a.get(), NUTAG_URL(url.c_str()), SIPTAG_FROM_STR(from.c_str()),
        NUTAG_AUTOALERT(0), NUTAG_AUTOANSWER(0), NUTAG_ENABLEMESSAGE(0),
        NUTAG_ALLOW("INVITE, ACK, BYE, CANCEL, OPTIONS, INFO, REFER, NOTIFY, UPDATE"),
        NUTAG_APPL_METHOD("REFER"), SIPTAG_USER_AGENT_STR("linebridged"),
        // sofia's own list, plus Replaces (RFC 3891: this line can be a
        // transfer target).
        SIPTAG_SUPPORTED_STR("timer, 100rel, replaces"),
        NUTAG_SESSION_TIMER(session_expires),
        TAG_IF(session_expires > 0, NUTAG_MIN_SE(std::min(session_expires, 90u))),
        TAG_IF(session_expires > 0, NUTAG_SESSION_REFRESHER(nua_any_refresher)),
        TAG_IF(session_expires > 0, NUTAG_UPDATE_REFRESH(0)),
        TAG_IF(!proxy.empty(), NUTAG_PROXY(proxy.c_str())),
        // TLS: TLS_method (version 0; 1 would pin TLS 1.0), the server's
        // certificate checked against the authorities and the host dialled.
        TAG_IF(tls->on, TPTAG_CERTIFICATE(tls->dir.c_str())),
        TAG_IF(tls->on, TPTAG_TLS_VERSION(0)),
        TAG_IF(tls->on, TPTAG_TLS_VERIFY_POLICY(tls->policy)), TAG_END());
    RemoveTlsDir(tls->dir);
    if (a->nua == nullptr && tls->on) {
      // Out of service rather than no provider: the port may be taken, or
      // the certificates refused (sofia logged why).
      a->tls_error = absl::StrCat("cannot open the TLS transport ", url);
      accounts.push_back(std::move(a));
      continue;
    }
    if (a->nua == nullptr) {
      return absl::UnavailableError(absl::StrCat("sip account ", c.name(), ": cannot bind ", url));
    }
    if (!c.registrar().empty()) a->registrars.push_back(c.registrar());
    if (!c.backup_registrar().empty()) a->registrars.push_back(c.backup_registrar());
    accounts.push_back(std::move(a));
  }
  for (auto& a : accounts) {
    if (UsesTls(a->account->config) && tls_listener == 0) {
      tls_listener =
          AddTlsFailureListener([this] { agent->loop_.Post([this] { OnTlsFailure(); }); });
    }
  }
  for (auto& a : accounts) {
    if (!a->tls_error.empty()) {
      LB_WARN("sip: account %s: %s", a->account->config.name(), a->tls_error);
      ReportRegistration(*a, false, a->tls_error);
    } else if (a->registrars.empty()) {
      // In service from the start (the provider adds the line so).
      a->registered = true;
      a->reported = true;
    } else {
      Register(*a);
    }
  }
  return absl::OkStatus();
}

void SipAgent::Impl::Fini() {
  if (tls_listener != 0) RemoveTlsFailureListener(tls_listener);
  tls_listener = 0;
  for (auto& [id, leg] : legs) leg->rtp.reset();
  for (auto& a : accounts) {
    if (a->retry != nullptr) su_timer_destroy(a->retry);
    a->retry = nullptr;
    if (a->nua != nullptr) nua_shutdown(a->nua);
  }
  // Unregistering and hanging up take a round trip; give them a moment.
  const bool done = SipLoop::StepUntil(root, absl::Seconds(4), [&] {
    for (auto& a : accounts) {
      if (a->nua != nullptr && !a->shutdown_done) return false;
    }
    return true;
  });
  int left = 0;
  for (auto& a : accounts) {
    // sofia aborts on destroying an agent whose shutdown has not completed:
    // one whose registrar never answered is left to the process's exit.
    if (a->nua != nullptr && a->shutdown_done) nua_destroy(a->nua);
    if (a->nua != nullptr && !a->shutdown_done) ++left;
    a->nua = nullptr;
  }
  if (!done) LB_WARN("sip: %d account(s) did not finish unregistering in time", left);
  legs.clear();
}

void SipAgent::Impl::Register(AccountState& a) {
  const v1::config::SipAccount& c = a.account->config;
  const std::string registrar = ServerUri(c, a.registrars[a.registrar_index]);
  const std::string expires = absl::StrCat(c.register_expiry_s());
  a.auth_tries = 0;
  a.register_pending = true;
  a.reg = nua_handle(a.nua, nullptr, SIPTAG_TO_STR(c.uri().c_str()), TAG_END());
  nua_register(a.reg, NUTAG_REGISTRAR(registrar.c_str()), SIPTAG_EXPIRES_STR(expires.c_str()),
               NUTAG_OUTBOUND("no-options-keepalive, no-validate, no-natify"), TAG_END());
}

void SipAgent::Impl::ReportRegistration(AccountState& a, bool in_service, const std::string& why) {
  if (a.reported && a.registered == in_service) return;
  a.registered = in_service;
  a.reported = true;
  sink().OnRegistration(a.index, in_service, why);
}

void SipAgent::Impl::OnRegisterResponse(AccountState& a, nua_handle_t* nh, int status, const char* phrase,
                        const sip_t* sip) {
  if (nh != a.reg || status < 200) return;
  a.register_pending = false;
  const v1::config::SipAccount& c = a.account->config;
  if ((status == 401 || status == 407) && !a.account->password.empty() && a.auth_tries == 0) {
    ++a.auth_tries;
    a.register_pending = true;
    const std::string cred =
        absl::StrCat("Digest:", ChallengeRealm(sip), ":", c.auth_user(), ":", a.account->password);
    nua_authenticate(nh, NUTAG_AUTH(cred.c_str()), TAG_END());
    return;
  }
  const std::string where = a.registrars[a.registrar_index];
  if (status < 300) {
    a.auth_tries = 0;
    Counters(a.index).registrations.fetch_add(1);
    if (!a.registered) LB_LOG("sip: account %s registered at %s", c.name(), where);
    ReportRegistration(a, true, absl::StrCat("registered at ", where));
    return;
  }
  Counters(a.index).registration_failures.fetch_add(1);
  std::string why = absl::StrCat("registration at ", where, " failed: ", status, " ", Str(phrase));
  if (status == 401 || status == 407 || status == 403) {
    why = absl::StrCat("registrar ", where, " refused the credentials of auth_user \"",
                       c.auth_user(), "\" (", status, " ", Str(phrase),
                       "): check auth_user and the password");
  } else if (UsesTls(c)) {
    // A TLS connection that failed gives sofia's own 503 (or 408); what
    // went wrong is in its transport log.
    if (std::string tls = TakeTlsFailure(); !tls.empty()) {
      why = absl::StrCat("TLS connection to registrar ", where, " failed: ", tls, " (", status,
                         " ", Str(phrase), ")");
    }
  }
  LB_WARN("sip: account %s: %s", c.name(), why);
  ReportRegistration(a, false, why);
  nua_handle_t* old = a.reg;
  a.reg = nullptr;
  agent->loop_.Post([old] { nua_handle_destroy(old); });
  if (a.registrar_index + 1 < a.registrars.size()) {
    ++a.registrar_index;
    LB_LOG("sip: account %s: trying registrar %s", c.name(), a.registrars[a.registrar_index]);
    Register(a);
    return;
  }
  a.registrar_index = 0;
  if (a.retry == nullptr) a.retry = su_timer_create(su_root_task(root), 1000);
  su_timer_set_interval(a.retry, &Impl::OnRetry, &a,
                        static_cast<su_duration_t>(c.register_retry_s() * 1000));
}

void SipAgent::Impl::OnTlsFailure() {
  AccountState* only = nullptr;
  int waiting = 0;
  for (auto& a : accounts) {
    if (a->nua != nullptr && a->reg != nullptr && a->register_pending &&
        UsesTls(a->account->config)) {
      only = a.get();
      ++waiting;
    }
  }
  // Several waiting: which one failed is not known; their transactions'
  // own timeouts tell.
  if (waiting != 1) return;
  OnRegisterResponse(*only, only->reg, 503, "TLS Connection Failed", nullptr);
}

void SipAgent::Impl::OnRetry(void*, su_timer_t*, void* arg) {
  auto* a = static_cast<AccountState*>(arg);
  a->impl->Register(*a);
}

// --- calls -------------------------------------------------------------

Leg* SipAgent::Impl::NewLeg(uint64_t id, size_t account, nua_handle_t* nh, bool inbound) {
  auto leg = std::make_unique<Leg>();
  leg->id = id;
  leg->account = account;
  leg->nh = nh;
  leg->inbound = inbound;
  Leg* raw = leg.get();
  legs[id] = std::move(leg);
  return raw;
}

Leg* SipAgent::Impl::FindLeg(uint64_t id) {
  auto it = legs.find(id);
  return it == legs.end() ? nullptr : it->second.get();
}

bool SipAgent::Impl::OpenRtp(Leg& leg) {
  if (leg.rtp) return true;
  absl::StatusOr<std::unique_ptr<RtpSession>> rtp =
      RtpSession::Open(root, agent->bind_address_, &Counters(leg.account).rtp);
  if (!rtp.ok()) {
    LB_WARN("sip: %s", rtp.status().message());
    return false;
  }
  leg.rtp = *std::move(rtp);
  WireDigits(leg);
  ApplyRemoteAudio(leg);
  sink().OnMedia(leg.id, leg.rtp->audio());
  return true;
}

void SipAgent::Impl::ApplyRemoteAudio(Leg& leg) {
  if (!leg.rtp || !leg.has_remote_audio) return;
  const SdpAudio& audio = leg.remote_audio;
  leg.rtp->SetRemote(audio.address, static_cast<uint16_t>(audio.port),
                     audio.payload_type < 0 ? 0 : audio.payload_type);
  leg.rtp->SetTelephoneEvent(audio.telephone_event, kTelephoneEventPayloadType);
}

void SipAgent::Impl::Call(size_t account, uint64_t id, const std::string& uri) {
  AccountState& a = *accounts[account];
  if (a.nua == nullptr) {  // its TLS transport never opened (reported)
    Leg* leg = NewLeg(id, account, nullptr, false);
    End(*leg, v1::DISCONNECT_MODE_UNAVAIL, 0);
    legs.erase(id);
    return;
  }
  const std::string target =
      UsesTls(a.account->config) ? TlsTarget(uri, IsSipsUri(a.account->config.uri())) : uri;
  nua_handle_t* nh = nua_handle(a.nua, nullptr, SIPTAG_TO_STR(target.c_str()), TAG_END());
  Leg* leg = NewLeg(id, account, nh, false);
  leg->target = target;
  nua_handle_bind(nh, leg);
  if (!OpenRtp(*leg)) {
    End(*leg, v1::DISCONNECT_MODE_UNAVAIL, 0);
    Forget(*leg);
    return;
  }
  const std::string sdp = LocalSdp(agent->bind_address_, leg->rtp->port());
  nua_invite(nh, NUTAG_URL(target.c_str()), SOATAG_USER_SDP_STR(sdp.c_str()),
             SOATAG_RTP_SELECT(1), TAG_END());
}

void SipAgent::Impl::Answer(uint64_t id) {
  Leg* leg = FindLeg(id);
  if (leg == nullptr || leg->gone || !leg->inbound) return;
  if (!OpenRtp(*leg)) {
    nua_respond(leg->nh, 500, "Media Unavailable", TAG_END());
    return;
  }
  const std::string sdp = LocalSdp(agent->bind_address_, leg->rtp->port());
  nua_respond(leg->nh, SIP_200_OK, SOATAG_USER_SDP_STR(sdp.c_str()), SOATAG_RTP_SELECT(1),
              TAG_END());
}

void SipAgent::Impl::Hangup(uint64_t id, int reject_status) {
  Leg* leg = FindLeg(id);
  if (leg == nullptr || leg->gone) return;
  leg->gone = true;
  leg->rtp.reset();
  if (leg->ended) return;  // sofia is already done with it
  if (leg->connected) {
    nua_bye(leg->nh, TAG_END());
  } else if (leg->inbound) {
    const char* phrase = reject_status == 486 ? "Busy Here" : "Decline";
    nua_respond(leg->nh, reject_status, phrase, TAG_END());
  } else {
    nua_cancel(leg->nh, TAG_END());
  }
}

// Reports the end once (unless the provider hung up itself).
void SipAgent::Impl::End(Leg& leg, v1::DisconnectMode mode, int status) {
  if (leg.ended) return;
  leg.ended = true;
  leg.rtp.reset();
  if (!leg.gone) sink().OnEnded(leg.id, mode, status);
}

void SipAgent::Impl::Forget(Leg& leg) {
  nua_handle_t* nh = leg.nh;
  const uint64_t id = leg.id;
  nua_handle_bind(nh, nullptr);
  nua_handle_destroy(nh);
  legs.erase(id);
}

void SipAgent::Impl::OnIncoming(AccountState& a, nua_handle_t* nh, const sip_t* sip) {
  // An offer without a usable audio stream is refused before anyone sees it.
  if (sip->sip_payload != nullptr && sip->sip_payload->pl_len > 0) {
    SdpAudio audio;
    const std::string body(sip->sip_payload->pl_data, sip->sip_payload->pl_len);
    if (!ParseSdpAudio(body, &audio) || audio.port == 0 || audio.payload_type < 0) {
      Counters(a.index).rejected_requests.fetch_add(1);
      nua_respond(nh, SIP_488_NOT_ACCEPTABLE, TAG_END());
      nua_handle_destroy(nh);
      return;
    }
  }
  // This line being the transfer target: the INVITE replaces a call of it.
  if (sip->sip_replaces != nullptr) {
    OnIncomingReplaces(a, nh, sip);
    return;
  }
  Leg* leg = NewLeg(agent->NewLegId(), a.index, nh, true);
  nua_handle_bind(nh, leg);
  IncomingCall call = IncomingOf(sip);
  nua_respond(nh, SIP_180_RINGING, TAG_END());
  sink().OnIncoming(a.index, leg->id, std::move(call));
}

IncomingCall SipAgent::Impl::IncomingOf(const sip_t* sip) {
  v1::PartyId caller;
  if (const sip_p_asserted_identity_t* paid = sip_p_asserted_identity(sip); paid != nullptr) {
    caller = PartyFromIdentity(Str(paid->paid_display), Str(paid->paid_url->url_user),
                               Str(paid->paid_url->url_host));
  } else if (sip->sip_from != nullptr) {
    caller = PartyFromIdentity(Str(sip->sip_from->a_display), Str(sip->sip_from->a_url->url_user),
                               Str(sip->sip_from->a_url->url_host));
  }
  v1::PartyId called;
  if (sip->sip_to != nullptr) {
    called = PartyFromIdentity(Str(sip->sip_to->a_display), Str(sip->sip_to->a_url->url_user),
                               Str(sip->sip_to->a_url->url_host));
  }
  IncomingCall call{std::move(caller), std::move(called), false, {}, false, {}, false};
  call.redirected = RedirectingOf(sip, &call.redirecting);
  if (const sip_referred_by_t* by = sip->sip_referred_by; by != nullptr) {
    call.referred = true;
    call.referred_by = PartyFromIdentity(Str(by->b_display), Str(by->b_url->url_user),
                                         Str(by->b_url->url_host));
  }
  return call;
}

void SipAgent::Impl::OnState(Leg& leg, int status, tagi_t tags[]) {
  int state = nua_callstate_init;
  const char* remote_sdp = nullptr;
  int active_audio = SOA_ACTIVE_DISABLED;
  tl_gets(tags, NUTAG_CALLSTATE_REF(state), SOATAG_REMOTE_SDP_STR_REF(remote_sdp),
          SOATAG_ACTIVE_AUDIO_REF(active_audio), TAG_END());
  if (remote_sdp != nullptr && !leg.gone) {
    SdpAudio audio;
    if (ParseSdpAudio(remote_sdp, &audio)) {
      leg.remote_audio = audio;
      leg.has_remote_audio = true;
      ApplyRemoteAudio(leg);
    }
  }
  switch (state) {
    case nua_callstate_proceeding:
      if (!leg.inbound && !leg.gone) {
        sink().OnProgress(leg.id, status == 180 || status == 182 ? LegProgress::kRingback
                                                                        : LegProgress::kProceeding);
      }
      break;
    case nua_callstate_ready:
      if (leg.gone) {
        // Answered as the provider hung up (200 crossing CANCEL).
        if (!leg.ended) nua_bye(leg.nh, TAG_END());
        break;
      }
      if (!leg.connected) {
        leg.connected = true;
        sink().OnProgress(leg.id, LegProgress::kConnected);
        if (leg.referred_by != 0) NotifyReferrer(leg, 200, "OK");
      }
      if (active_audio != SOA_ACTIVE_DISABLED) OnMediaDirection(leg, active_audio);
      break;
    case nua_callstate_terminated: {
      v1::DisconnectMode mode = v1::DISCONNECT_MODE_NORMAL;
      if (leg.inbound && !leg.connected) {
        mode = v1::DISCONNECT_MODE_CANCELLED;
      } else if (!leg.inbound && !leg.connected) {
        mode = leg.final_status >= 300 ? DisconnectModeForStatus(leg.final_status)
                                       : v1::DISCONNECT_MODE_UNAVAIL;
      }
      if (leg.connected && !leg.bye_received && !leg.gone) {
        // Neither side hung up: the stack ended the call because a session
        // refresh failed or never came (RFC 4028 section 10).
        mode = v1::DISCONNECT_MODE_UNAVAIL;
        Counters(leg.account).session_refresh_failures.fetch_add(1);
        LB_WARN("sip: call leg %d ended by the stack (session refresh %d)", leg.id,
                leg.failed_refresh);
      }
      if (leg.referred_by != 0) {
        // A call placed for a far end's REFER that never connected.
        const int code = leg.final_status >= 300 ? leg.final_status : 487;
        NotifyReferrer(leg, code, sip_status_phrase(code));
      }
      End(leg, mode, leg.final_status);
      // A transferor's dialog stays until its subscription had the final
      // NOTIFY (the BYE ends the session, not the subscription; RFC 6665).
      if (!leg.refer_event.empty() && !leg.referral_notified) break;
      Forget(leg);
      break;
    }
    default:
      break;
  }
}

void SipAgent::Impl::OnInviteResponse(AccountState& a, Leg& leg, int status, const sip_t* sip) {
  if ((status == 401 || status == 407) && !leg.auth_tried && !a.account->password.empty()) {
    leg.auth_tried = true;
    const std::string cred = absl::StrCat("Digest:", ChallengeRealm(sip), ":",
                                          a.account->config.auth_user(), ":", a.account->password);
    nua_authenticate(leg.nh, NUTAG_AUTH(cred.c_str()), TAG_END());
    return;
  }
  if (status < 200) return;
  if (!leg.connected) {
    if (status >= 300) leg.final_status = status;
    return;
  }
  // A re-INVITE of ours: a hold or resume, or a session refresh.
  if (leg.hold_pending) {
    leg.hold_pending = false;
    if (status < 300) {
      leg.local_hold = leg.want_hold;
      if (leg.local_hold) Counters(leg.account).holds.fetch_add(1);
      ReportHold(leg, /*always=*/true);  // the Hold/Unhold request waits for it
    } else if (!leg.gone) {
      sink().OnHoldFailed(leg.id, status);
    }
  } else if (status >= 300) {
    leg.failed_refresh = status;
  }
}

void SipAgent::Impl::Callback(nua_event_t event, int status, const char* phrase, nua_t*, void* magic,
                     nua_handle_t* nh, void* hmagic, const sip_t* sip, tagi_t tags[]) {
  auto* a = static_cast<AccountState*>(magic);
  a->impl->Dispatch(*a, event, status, phrase, nh, static_cast<Leg*>(hmagic), sip, tags);
}

void SipAgent::Impl::Dispatch(AccountState& a, nua_event_t event, int status, const char* phrase,
              nua_handle_t* nh, Leg* leg, const sip_t* sip, tagi_t tags[]) {
  switch (event) {
    case nua_r_register:
      OnRegisterResponse(a, nh, status, phrase, sip);
      return;
    case nua_r_shutdown:
      if (status >= 200) a.shutdown_done = true;
      return;
    case nua_i_invite:
      if (leg == nullptr && sip != nullptr) OnIncoming(a, nh, sip);
      return;
    case nua_r_invite:
      if (leg != nullptr) OnInviteResponse(a, *leg, status, sip);
      return;
    case nua_i_bye:
      if (leg != nullptr) leg->bye_received = true;
      return;
    case nua_r_refer:
      if (leg != nullptr) OnReferResponse(*leg, status);
      return;
    case nua_i_notify:
      if (leg != nullptr) OnNotify(*leg, sip);
      return;
    case nua_i_refer:
      OnIncomingRefer(a, nh, leg, sip, tags);
      return;
    case nua_r_notify:
      // The final NOTIFY of a far end's REFER was answered: a leg kept for
      // it after its call ended can go.
      if (leg != nullptr && status >= 200 && leg->ended && leg->referral_notified) Forget(*leg);
      return;
    case nua_i_info:
      OnInfo(a, leg, sip);
      return;
    case nua_i_cancel:
      if (leg != nullptr) leg->cancelled = true;
      return;
    case nua_i_state:
      if (leg != nullptr) OnState(*leg, status, tags);
      return;
    case nua_i_error:
    case nua_i_method:
      Counters(a.index).rejected_requests.fetch_add(1);
      return;
    default:
      // Requests nua answers itself (OPTIONS) and responses the user
      // agent does not act on.
      return;
  }
}

SipAgent::SipAgent(std::string bind_address, std::vector<Account> accounts, SipAgentSink* sink)
    : bind_address_(std::move(bind_address)), accounts_(std::move(accounts)), sink_(sink) {
  for (size_t i = 0; i < accounts_.size(); ++i) {
    counters_.push_back(std::make_unique<AccountCounters>());
  }
}

SipAgent::~SipAgent() { Stop(); }

absl::Status SipAgent::Start() {
  impl_ = std::make_unique<Impl>();
  impl_->agent = this;
  Impl* impl = impl_.get();
  return loop_.Start([impl](su_root_t* root) { return impl->Init(root); },
                     [impl] { impl->Fini(); });
}

void SipAgent::RequestStop() { loop_.Stop(); }

void SipAgent::Stop() {
  loop_.Stop();
  loop_.Join();
}

void SipAgent::Call(size_t account, uint64_t leg, const std::string& uri) {
  Impl* impl = impl_.get();
  loop_.Post([impl, account, leg, uri] { impl->Call(account, leg, uri); });
}

void SipAgent::Answer(uint64_t leg) {
  Impl* impl = impl_.get();
  loop_.Post([impl, leg] { impl->Answer(leg); });
}

void SipAgent::Hangup(uint64_t leg, int reject_status) {
  Impl* impl = impl_.get();
  loop_.Post([impl, leg, reject_status] { impl->Hangup(leg, reject_status); });
}

void SipAgent::Hold(uint64_t leg, bool hold) {
  Impl* impl = impl_.get();
  loop_.Post([impl, leg, hold] { impl->Hold(leg, hold); });
}

void SipAgent::Refer(uint64_t leg, const std::string& target) {
  Impl* impl = impl_.get();
  loop_.Post([impl, leg, target] { impl->Refer(leg, target); });
}

void SipAgent::ReferReplaces(uint64_t leg, uint64_t consult) {
  Impl* impl = impl_.get();
  loop_.Post([impl, leg, consult] { impl->ReferReplaces(leg, consult); });
}

void SipAgent::Redirect(uint64_t leg, const std::string& target) {
  Impl* impl = impl_.get();
  loop_.Post([impl, leg, target] { impl->Redirect(leg, target); });
}

void SipAgent::SendDigits(uint64_t leg, const std::string& digits, int duration_ms) {
  Impl* impl = impl_.get();
  loop_.Post([impl, leg, digits, duration_ms] { impl->SendDigits(leg, digits, duration_ms); });
}

}  // namespace linebridge::sip
