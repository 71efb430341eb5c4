#include "providers/sip/sip_agent.h"

#include <sofia-sip/msg_header.h>
#include <sofia-sip/nua.h>
#include <sofia-sip/nua_tag.h>
#include <sofia-sip/sip_extra.h>
#include <sofia-sip/sip_header.h>
#include <sofia-sip/sip_status.h>
#include <sofia-sip/soa_tag.h>
#include <sofia-sip/su_tag.h>

#include <mutex>
#include <utility>

#include "absl/strings/str_cat.h"
#include "core/log.h"
#include "providers/sip/sip_config.h"
#include "providers/sip/sip_mapping.h"

namespace linebridge::sip {
namespace {

std::string Str(const char* s) { return s != nullptr ? std::string(s) : std::string(); }

const char* TransportName(v1::config::SipTransport t) {
  return t == v1::config::SIP_TRANSPORT_TCP ? "tcp" : "udp";
}

// The realm of a digest challenge, quotes included, as NUTAG_AUTH wants it.
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

}  // namespace

struct Leg {
  uint64_t id = 0;
  size_t account = 0;
  nua_handle_t* nh = nullptr;
  bool inbound = false;
  bool connected = false;
  bool gone = false;      // the provider hung up: report nothing more
  bool ended = false;     // reported
  bool cancelled = false; // the caller gave up (inbound)
  bool auth_tried = false;
  int final_status = 0;
  std::unique_ptr<RtpSession> rtp;
};

struct AccountState {
  SipAgent::Impl* impl = nullptr;
  size_t index = 0;
  SipAgent::Account* account = nullptr;
  nua_t* nua = nullptr;
  nua_handle_t* reg = nullptr;
  std::vector<std::string> registrars;
  size_t registrar_index = 0;
  bool registered = false;
  bool reported = false;  // a state was reported at least once
  int auth_tries = 0;
  su_timer_t* retry = nullptr;
  bool shutdown_done = false;
};

struct SipAgent::Impl {
  SipAgent* agent = nullptr;
  su_root_t* root = nullptr;
  std::vector<std::unique_ptr<AccountState>> accounts;
  std::map<uint64_t, std::unique_ptr<Leg>> legs;

  AccountCounters& Counters(size_t i) { return *agent->counters_[i]; }

  absl::Status Init(su_root_t* r) {
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
      const std::string url = absl::StrCat("sip:", agent->bind_address_, ":", c.local_port(),
                                           ";transport=", TransportName(c.transport()));
      const std::string from =
          c.display_name().empty() ? absl::StrCat("<", c.uri(), ">")
                                   : absl::StrCat("\"", c.display_name(), "\" <", c.uri(), ">");
      const std::string proxy =
          c.outbound_proxy().empty()
              ? std::string()
              : absl::StrCat("sip:", c.outbound_proxy(), ";transport=", TransportName(c.transport()));
      a->nua = nua_create(root, &Impl::Callback, a.get(), NUTAG_URL(url.c_str()),
                          SIPTAG_FROM_STR(from.c_str()), NUTAG_AUTOALERT(0), NUTAG_AUTOANSWER(0),
                          NUTAG_ENABLEMESSAGE(0), NUTAG_ALLOW("INVITE, ACK, BYE, CANCEL, OPTIONS"),
                          SIPTAG_USER_AGENT_STR("linebridged"),
                          TAG_IF(!proxy.empty(), NUTAG_PROXY(proxy.c_str())), TAG_END());
      if (a->nua == nullptr) {
        return absl::UnavailableError(absl::StrCat("sip account ", c.name(), ": cannot bind ", url));
      }
      if (!c.registrar().empty()) a->registrars.push_back(c.registrar());
      if (!c.backup_registrar().empty()) a->registrars.push_back(c.backup_registrar());
      accounts.push_back(std::move(a));
    }
    for (auto& a : accounts) {
      if (a->registrars.empty()) {
        // In service from the start (the provider adds the line so).
        a->registered = true;
        a->reported = true;
      } else {
        Register(*a);
      }
    }
    return absl::OkStatus();
  }

  void Fini() {
    legs_rtp_off();
    for (auto& a : accounts) {
      if (a->retry != nullptr) su_timer_destroy(a->retry);
      a->retry = nullptr;
      if (a->nua != nullptr) nua_shutdown(a->nua);
    }
    // Unregistering and hanging up take a round trip; give them a moment.
    for (int i = 0; i < 100; ++i) {
      bool all = true;
      for (auto& a : accounts) all = all && (a->nua == nullptr || a->shutdown_done);
      if (all) break;
      su_root_step(root, 50);
    }
    for (auto& a : accounts) {
      if (a->nua != nullptr) nua_destroy(a->nua);
      a->nua = nullptr;
    }
    legs.clear();
  }

  void legs_rtp_off() {
    for (auto& [id, leg] : legs) leg->rtp.reset();
  }

  void Register(AccountState& a) {
    const v1::config::SipAccount& c = a.account->config;
    const std::string registrar = absl::StrCat("sip:", a.registrars[a.registrar_index],
                                               ";transport=", TransportName(c.transport()));
    const std::string expires = absl::StrCat(c.register_expiry_s());
    a.auth_tries = 0;
    a.reg = nua_handle(a.nua, nullptr, SIPTAG_TO_STR(c.uri().c_str()), TAG_END());
    nua_register(a.reg, NUTAG_REGISTRAR(registrar.c_str()), SIPTAG_EXPIRES_STR(expires.c_str()),
                 NUTAG_OUTBOUND("no-options-keepalive, no-validate, no-natify"), TAG_END());
  }

  void ReportRegistration(AccountState& a, bool in_service, const std::string& why) {
    if (a.reported && a.registered == in_service) return;
    a.registered = in_service;
    a.reported = true;
    agent->sink_->OnRegistration(a.index, in_service, why);
  }

  void OnRegisterResponse(AccountState& a, nua_handle_t* nh, int status, const char* phrase,
                          const sip_t* sip) {
    if (nh != a.reg || status < 200) return;
    const v1::config::SipAccount& c = a.account->config;
    if ((status == 401 || status == 407) && !a.account->password.empty() && a.auth_tries == 0) {
      ++a.auth_tries;
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

  static void OnRetry(void*, su_timer_t*, void* arg) {
    auto* a = static_cast<AccountState*>(arg);
    a->impl->Register(*a);
  }

  // --- calls -------------------------------------------------------------

  Leg* NewLeg(uint64_t id, size_t account, nua_handle_t* nh, bool inbound) {
    auto leg = std::make_unique<Leg>();
    leg->id = id;
    leg->account = account;
    leg->nh = nh;
    leg->inbound = inbound;
    Leg* raw = leg.get();
    legs[id] = std::move(leg);
    return raw;
  }

  Leg* FindLeg(uint64_t id) {
    auto it = legs.find(id);
    return it == legs.end() ? nullptr : it->second.get();
  }

  bool OpenRtp(Leg& leg) {
    if (leg.rtp) return true;
    absl::StatusOr<std::unique_ptr<RtpSession>> rtp =
        RtpSession::Open(root, agent->bind_address_, &Counters(leg.account).rtp);
    if (!rtp.ok()) {
      LB_WARN("sip: %s", rtp.status().message());
      return false;
    }
    leg.rtp = *std::move(rtp);
    return true;
  }

  void Call(size_t account, uint64_t id, const std::string& uri) {
    AccountState& a = *accounts[account];
    nua_handle_t* nh = nua_handle(a.nua, nullptr, SIPTAG_TO_STR(uri.c_str()), TAG_END());
    Leg* leg = NewLeg(id, account, nh, false);
    nua_handle_bind(nh, leg);
    if (!OpenRtp(*leg)) {
      End(*leg, v1::DISCONNECT_MODE_UNAVAIL, 0);
      Forget(*leg);
      return;
    }
    const std::string sdp = LocalSdp(agent->bind_address_, leg->rtp->port());
    nua_invite(nh, NUTAG_URL(uri.c_str()), SOATAG_USER_SDP_STR(sdp.c_str()),
               SOATAG_RTP_SELECT(1), TAG_END());
  }

  void Answer(uint64_t id) {
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

  void Hangup(uint64_t id, int reject_status) {
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
  void End(Leg& leg, v1::DisconnectMode mode, int status) {
    if (leg.ended) return;
    leg.ended = true;
    leg.rtp.reset();
    if (!leg.gone) agent->sink_->OnEnded(leg.id, mode, status);
  }

  void Forget(Leg& leg) {
    nua_handle_t* nh = leg.nh;
    const uint64_t id = leg.id;
    nua_handle_bind(nh, nullptr);
    nua_handle_destroy(nh);
    legs.erase(id);
  }

  void OnIncoming(AccountState& a, nua_handle_t* nh, const sip_t* sip) {
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
    Leg* leg = NewLeg(agent->NewLegId(), a.index, nh, true);
    nua_handle_bind(nh, leg);
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
    nua_respond(nh, SIP_180_RINGING, TAG_END());
    agent->sink_->OnIncoming(a.index, leg->id, std::move(caller), std::move(called));
  }

  void OnState(Leg& leg, int status, tagi_t tags[]) {
    int state = nua_callstate_init;
    const char* remote_sdp = nullptr;
    tl_gets(tags, NUTAG_CALLSTATE_REF(state), SOATAG_REMOTE_SDP_STR_REF(remote_sdp), TAG_END());
    if (remote_sdp != nullptr && leg.rtp && !leg.gone) {
      SdpAudio audio;
      if (ParseSdpAudio(remote_sdp, &audio)) {
        leg.rtp->SetRemote(audio.address, static_cast<uint16_t>(audio.port),
                           audio.payload_type < 0 ? 0 : audio.payload_type);
      }
    }
    switch (state) {
      case nua_callstate_proceeding:
        if (!leg.inbound && !leg.gone) {
          agent->sink_->OnProgress(leg.id, status == 180 || status == 182 ? LegProgress::kRingback
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
          agent->sink_->OnProgress(leg.id, LegProgress::kConnected);
        }
        break;
      case nua_callstate_terminated: {
        v1::DisconnectMode mode = v1::DISCONNECT_MODE_NORMAL;
        if (leg.inbound && !leg.connected) {
          mode = v1::DISCONNECT_MODE_CANCELLED;
        } else if (!leg.inbound && !leg.connected) {
          mode = leg.final_status >= 300 ? DisconnectModeForStatus(leg.final_status)
                                         : v1::DISCONNECT_MODE_UNAVAIL;
        }
        End(leg, mode, leg.final_status);
        Forget(leg);
        break;
      }
      default:
        break;
    }
  }

  static void Callback(nua_event_t event, int status, const char* phrase, nua_t*, void* magic,
                       nua_handle_t* nh, void* hmagic, const sip_t* sip, tagi_t tags[]) {
    auto* a = static_cast<AccountState*>(magic);
    a->impl->Dispatch(*a, event, status, phrase, nh, static_cast<Leg*>(hmagic), sip, tags);
  }

  void Dispatch(AccountState& a, nua_event_t event, int status, const char* phrase,
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
        if (leg == nullptr || status < 300) return;
        if ((status == 401 || status == 407) && !leg->auth_tried && !a.account->password.empty()) {
          leg->auth_tried = true;
          const std::string cred = absl::StrCat("Digest:", ChallengeRealm(sip), ":",
                                                a.account->config.auth_user(), ":",
                                                a.account->password);
          nua_authenticate(nh, NUTAG_AUTH(cred.c_str()), TAG_END());
          return;
        }
        leg->final_status = status;
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
};

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

}  // namespace linebridge::sip
