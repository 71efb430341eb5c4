#include "providers/sip/sip_provider.h"

#include <initializer_list>
#include <utility>

#include "absl/strings/str_cat.h"
#include "core/engine.h"
#include "core/log.h"
#include "google/protobuf/util/message_differencer.h"
#include "linebridge/lineerr.h"
#include "linebridge/status_macros.h"
#include "providers/sip/sip_config.h"
#include "providers/sip/sip_mapping.h"

namespace linebridge {
namespace {

template <typename E>
void AddAll(google::protobuf::RepeatedField<int>* out, std::initializer_list<E> values) {
  for (E v : values) out->Add(v);
}

// The host part of "sip:user@host[:port]".
std::string UriHost(const std::string& uri) {
  const size_t at = uri.find('@');
  return at == std::string::npos ? "" : uri.substr(at + 1);
}

const std::initializer_list<v1::DisconnectMode> kDisconnectModes = {
    v1::DISCONNECT_MODE_NORMAL,       v1::DISCONNECT_MODE_UNKNOWN,
    v1::DISCONNECT_MODE_REJECT,       v1::DISCONNECT_MODE_BUSY,
    v1::DISCONNECT_MODE_NOANSWER,     v1::DISCONNECT_MODE_BADADDRESS,
    v1::DISCONNECT_MODE_CONGESTION,   v1::DISCONNECT_MODE_INCOMPATIBLE,
    v1::DISCONNECT_MODE_UNAVAIL,      v1::DISCONNECT_MODE_NUMBERCHANGED,
    v1::DISCONNECT_MODE_BLOCKED,      v1::DISCONNECT_MODE_CANCELLED};

}  // namespace

absl::StatusOr<std::unique_ptr<Provider>> SipProvider::Create(
    const v1::config::ProviderConfig& config) {
  if (!config.has_sip()) return absl::InvalidArgumentError("not a sip provider config");
  return std::make_unique<SipProvider>(config.sip());
}

SipProvider::SipProvider(v1::config::SipConfig config) : config_(std::move(config)) {
  sip::ApplySipDefaults(&config_);
}

SipProvider::~SipProvider() {
  stopped_.store(true);
  phones_.reset();  // ends and joins the phone lines' loop
  agent_.reset();  // ends and joins the loop
}

v1::Line SipProvider::BuildLine(size_t account, bool in_service) const {
  const v1::config::SipAccount& a = config_.accounts(static_cast<int>(account));
  v1::Line line;
  line.set_id(absl::StrCat(config_.name(), "/", a.name()));
  line.set_name(a.display_name().empty() ? a.name() : a.display_name());
  line.set_provider("sip");
  v1::LineCaps* caps = line.mutable_caps();
  caps->set_permanent_line_id(PermanentLineId(a.uri()));
  caps->set_provider_info("linebridge sip (user agent)");
  caps->set_switch_info(a.registrar().empty() ? a.uri() : absl::StrCat(a.uri(), " via ", a.registrar()));
  caps->set_line_name(line.name());
  AddAll(caps->mutable_media_modes(), {v1::MEDIA_MODE_INTERACTIVE_VOICE});
  AddAll(caps->mutable_bearer_modes(), {v1::BEARER_MODE_VOICE});
  AddAll(caps->mutable_disconnect_modes(), kDisconnectModes);
  caps->set_max_num_active_calls(1);
  caps->set_caller_id_supported(true);
  AddAll(caps->mutable_transfer_modes(), {v1::TRANSFER_MODE_TRANSFER});
  AddAll(caps->mutable_generate_digit_modes(), {v1::DIGIT_MODE_DTMF});
  AddAll(caps->mutable_monitor_digit_modes(), {v1::DIGIT_MODE_DTMF, v1::DIGIT_MODE_DTMFEND});
  caps->set_can_generate_digits(true);
  caps->set_can_monitor_digits(true);
  caps->add_device_classes("tapi/line");
  caps->set_answer_mode(1);  // LINEANSWERMODE_NONE

  v1::Address* addr = line.add_addresses();
  addr->set_index(0);
  addr->set_address(a.uri());
  v1::AddressCaps* ac = addr->mutable_caps();
  ac->set_max_num_active_calls(1);
  ac->set_max_num_on_hold_calls(1);
  ac->set_max_num_on_hold_pending_calls(1);  // the held call of a consultation transfer
  AddAll(ac->mutable_address_features(), {v1::ADDRESS_FEATURE_MAKECALL});
  AddAll(ac->mutable_call_features(),
         {v1::CALL_FEATURE_ANSWER, v1::CALL_FEATURE_DROP, v1::CALL_FEATURE_HOLD,
          v1::CALL_FEATURE_UNHOLD, v1::CALL_FEATURE_BLINDTRANSFER, v1::CALL_FEATURE_REDIRECT,
          v1::CALL_FEATURE_GENERATEDIGITS, v1::CALL_FEATURE_MONITORDIGITS,
          v1::CALL_FEATURE_SETUPTRANSFER, v1::CALL_FEATURE_COMPLETETRANSF,
          v1::CALL_FEATURE_DIAL});
  AddAll(ac->mutable_call_states(),
         {v1::CALL_STATE_IDLE, v1::CALL_STATE_OFFERING, v1::CALL_STATE_DIALTONE,
          v1::CALL_STATE_DIALING, v1::CALL_STATE_PROCEEDING, v1::CALL_STATE_RINGBACK,
          v1::CALL_STATE_CONNECTED, v1::CALL_STATE_ONHOLD, v1::CALL_STATE_ONHOLDPENDTRANSFER,
          v1::CALL_STATE_DISCONNECTED});
  AddAll(ac->mutable_disconnect_modes(), kDisconnectModes);
  ac->set_caller_id_supported(true);
  ac->set_called_id_supported(true);
  ac->set_redirecting_id_supported(true);
  const v1::LineState state = in_service ? v1::LINE_STATE_IN_SERVICE : v1::LINE_STATE_OUT_OF_SERVICE;
  line.mutable_status()->set_state(state);
  line.mutable_status()->set_connected(in_service);
  return line;
}

absl::Status SipProvider::Start(ProviderHost& host) {
  host_ = &host;
  std::vector<sip::SipAgent::Account> accounts;
  for (const auto& a : config_.accounts()) {
    absl::StatusOr<std::string> password = sip::ReadAccountPassword(a);
    if (!password.ok()) return password.status();
    accounts.push_back({a, *std::move(password), config_.tls()});
  }
  for (int i = 0; i < config_.accounts_size(); ++i) {
    const bool in_service = config_.accounts(i).registrar().empty();
    lines_.push_back({absl::StrCat(config_.name(), "/", config_.accounts(i).name()), in_service});
    host_->AddLine(BuildLine(static_cast<size_t>(i), in_service));
  }
  agent_ = std::make_unique<sip::SipAgent>(config_.bind_address(), std::move(accounts), this);
  // Start waits for the loop's set-up, which never enters the engine (the
  // caller holds its lock); registration results arrive later.
  absl::Status started = agent_->Start();
  if (!started.ok()) {
    stopped_.store(true);
    for (const Line& l : lines_) host_->RemoveLine(l.line_id);
    lines_.clear();
    return started;
  }
  phones_ = std::make_unique<SipPhoneLines>(config_);
  if (absl::Status phones = phones_->Start(*host_); !phones.ok()) {
    phones_.reset();
    Stop();
    for (const Line& l : lines_) host_->RemoveLine(l.line_id);
    lines_.clear();
    return phones;
  }
  LB_LOG("sip: provider %s started with %d account(s) and %d phone(s) on %s", config_.name(),
         config_.accounts_size(), config_.phones_size(), config_.bind_address());
  return absl::OkStatus();
}

void SipProvider::Stop() {
  if (phones_) phones_->Stop();
  if (stopped_.exchange(true)) return;
  // Does not wait for the loop: it may be waiting for the engine lock held
  // here. The destructor joins it.
  if (agent_) agent_->RequestStop();
}

absl::Status SipProvider::Reconfigure(const v1::config::ProviderConfig& pc) {
  if (!pc.has_sip()) return absl::InvalidArgumentError("not a sip provider config");
  v1::config::SipConfig fresh = pc.sip();
  sip::ApplySipDefaults(&fresh);
  if (google::protobuf::util::MessageDifferencer::Equals(fresh, config_)) return absl::OkStatus();
  return FailedPrecondition(LINEERR_OPERATIONUNAVAIL,
                            absl::StrCat("sip provider \"", config_.name(),
                                         "\": accounts cannot be changed by a reload; restart "
                                         "linebridged"));
}

std::vector<ProviderCounter> SipProvider::Counters() const {
  std::vector<ProviderCounter> out;
  if (!agent_) return out;
  for (size_t i = 0; i < lines_.size(); ++i) {
    sip::AccountCounters& c = agent_->counters(i);
    auto add = [&](const char* name, const char* help, uint64_t value) {
      out.push_back({name, help, {{"line", lines_[i].line_id}}, value});
    };
    add("sip_registrations_total", "REGISTER requests answered 2xx", c.registrations.load());
    add("sip_registration_failures_total", "REGISTER attempts that failed",
        c.registration_failures.load());
    add("sip_rejected_requests_total", "SIP requests refused as malformed or unsupported",
        c.rejected_requests.load());
    add("sip_rtp_packets_sent_total", "RTP packets sent (audio, silence and telephone-events)",
        c.rtp.sent.load());
    add("sip_rtp_packets_received_total", "RTP packets received (version 2, whole header)",
        c.rtp.received.load());
    add("sip_rtp_audio_packets_sent_total", "RTP packets of media-stream audio sent",
        c.rtp.audio_sent.load());
    add("sip_rtp_audio_packets_received_total",
        "RTP G.711 packets taken into a jitter buffer for a media stream",
        c.rtp.audio_received.load());
    add("sip_rtp_packets_lost_total",
        "20 ms frames concealed because their RTP packet never came in time",
        c.rtp.lost.load());
    add("sip_rtp_packets_late_total", "RTP packets that came after their play-out time (dropped)",
        c.rtp.late.load());
    add("sip_rtp_jitter_buffer_drops_total",
        "RTP frames the jitter buffer dropped: duplicates, overflow, clock drift or jump",
        c.rtp.jitter_drops.load());
    add("sip_rtp_underruns_total",
        "20 ms media ticks with nothing from the far end after it had sent audio",
        c.rtp.underruns.load());
    add("sip_rtp_ssrc_changes_total", "RTP streams that moved to a new SSRC",
        c.rtp.ssrc_changes.load());
    auto discarded = [&](const char* reason, uint64_t value) {
      out.push_back({"sip_rtp_packets_discarded_total",
                     "RTP packets discarded as malformed, of a foreign payload type or source",
                     {{"line", lines_[i].line_id}, {"reason", reason}},
                     value});
    };
    discarded("malformed", c.rtp.malformed.load());
    discarded("payload_type", c.rtp.wrong_payload_type.load());
    discarded("ssrc", c.rtp.wrong_ssrc.load());
    add("sip_holds_total", "calls put on hold by this side (re-INVITE answered 2xx)",
        c.holds.load());
    add("sip_remote_holds_total", "calls put on hold by the far end", c.remote_holds.load());
    add("sip_transfers_total", "blind transfers the transferee completed (2xx sipfrag)",
        c.transfers.load());
    add("sip_transfer_failures_total", "blind transfers refused or failed",
        c.transfer_failures.load());
    add("sip_redirects_total", "offering calls redirected by 302", c.redirects.load());
    add("sip_refers_declined_total", "REFER requests from far ends, declined 603",
        c.refers_declined.load());
    add("sip_refers_accepted_total",
        "REFER requests from far ends carried out (202, the Refer-To target called)",
        c.refers_accepted.load());
    add("sip_referred_call_failures_total",
        "calls placed for a far end's REFER that failed (final sipfrag of 300 or more)",
        c.referred_calls_failed.load());
    add("sip_replaces_total", "calls replaced by an incoming INVITE with Replaces (RFC 3891)",
        c.replaces.load());
    add("sip_replaces_refused_total",
        "incoming INVITEs with Replaces refused (481 no such dialog, 486 early-only, 603 ended)",
        c.replaces_refused.load());
    add("sip_dtmf_digits_sent_total", "DTMF digits sent (RFC 4733 events or SIP INFO)",
        c.rtp.digits_sent.load());
    add("sip_dtmf_digits_received_total", "DTMF digits received (RFC 4733 events and SIP INFO)",
        c.rtp.digits_received.load() + c.info_digits_received.load());
    add("sip_session_refresh_failures_total",
        "calls ended because a session refresh (RFC 4028) failed or never came",
        c.session_refresh_failures.load());
  }
  if (phones_) phones_->AppendCounters(&out);
  return out;
}

int SipProvider::FindAccount(const std::string& line_id) const {
  for (size_t i = 0; i < lines_.size(); ++i) {
    if (lines_[i].line_id == line_id) return static_cast<int>(i);
  }
  return -1;
}

bool SipProvider::LineBusy(size_t account) const {
  for (const auto& [leg, call] : calls_) {
    if (call.account == account) return true;
  }
  return false;
}

absl::StatusOr<std::string> SipProvider::MakeCall(const std::string& line_id, uint32_t,
                                                  const std::string& destination,
                                                  const v1::CallParams& params) {
  if (IsPhoneLine(line_id)) return phones_->MakeCall(line_id, destination, params);
  const int account = FindAccount(line_id);
  if (account < 0 || !agent_) return NotFound(LINEERR_INVALLINEHANDLE, "no such sip line");
  const v1::config::SipAccount& a = config_.accounts(account);
  const std::string uri = sip::DestinationUri(destination, UriHost(a.uri()));
  if (uri.empty()) {
    return InvalidArgument(LINEERR_INVALADDRESS,
                           "a sip line dials a number, user@host, a sip: URI or a tel: URI");
  }
  const v1::MediaMode media = params.media_mode();
  if (media != v1::MEDIA_MODE_UNSPECIFIED && media != v1::MEDIA_MODE_INTERACTIVE_VOICE) {
    return InvalidArgument(LINEERR_INVALMEDIAMODE, "a sip line makes interactive voice calls");
  }
  if (!lines_[static_cast<size_t>(account)].in_service) {
    return TapiStatus(absl::StatusCode::kUnavailable, LINEERR_RESOURCEUNAVAIL,
                      absl::StrCat(line_id, " is out of service (not registered)"));
  }
  if (LineBusy(static_cast<size_t>(account))) {
    return ResourceExhausted(LINEERR_CALLUNAVAIL, absl::StrCat(line_id, " already has a call"));
  }
  v1::CallInfo info;
  info.set_line_id(line_id);
  info.set_origin(v1::CALL_ORIGIN_OUTBOUND);
  info.set_reason(v1::CALL_REASON_DIRECT);
  info.set_media_mode(v1::MEDIA_MODE_INTERACTIVE_VOICE);
  info.set_bearer_mode(v1::BEARER_MODE_VOICE);
  info.set_dial_string(destination);
  *info.mutable_caller() = SelfParty(static_cast<size_t>(account));
  info.mutable_called()->set_number(uri);
  info.mutable_called()->set_available(true);
  const std::string call_id = host_->CreateCall(std::move(info), MakeStatus(v1::CALL_STATE_DIALING));
  const uint64_t leg = agent_->NewLegId();
  calls_[leg] = Call{call_id, static_cast<size_t>(account), false, v1::CALL_STATE_DIALING};
  leg_of_call_[call_id] = leg;
  agent_->Call(static_cast<size_t>(account), leg, uri);
  return call_id;
}

v1::PartyId SipProvider::SelfParty(size_t account) const {
  const v1::config::SipAccount& a = config_.accounts(static_cast<int>(account));
  v1::PartyId caller = sip::PartyFromIdentity(a.display_name(), "", "");
  caller.set_number(a.uri());
  caller.set_available(true);
  return caller;
}

absl::StatusOr<std::string> SipProvider::OutsideTarget(const Call& call,
                                                       const std::string& destination) {
  const v1::config::SipAccount& a = config_.accounts(static_cast<int>(call.account));
  const std::string uri = sip::DestinationUri(destination, UriHost(a.uri()));
  if (uri.empty()) {
    return InvalidArgument(LINEERR_INVALADDRESS,
                           "a sip line reaches a number, user@host, a sip: URI or a tel: URI");
  }
  // linebridged is an endpoint here, not the switch: every destination is
  // outside it.
  LB_RETURN_IF_ERROR(host_->AuthorizeOutside(lines_[call.account].line_id));
  return uri;
}

absl::Status SipProvider::Answer(const std::string& call_id, const std::string&) {
  auto it = leg_of_call_.find(call_id);
  if (it == leg_of_call_.end()) {
    return FailedPrecondition(LINEERR_INVALCALLSTATE, "the call has ended");
  }
  const Call& call = calls_.at(it->second);
  if (!call.inbound || call.state != v1::CALL_STATE_OFFERING) {
    return FailedPrecondition(LINEERR_INVALCALLSTATE, "only an offering call can be answered");
  }
  agent_->Answer(it->second);
  return absl::OkStatus();
}

void SipProvider::LimitCallFeatures(const v1::Call& call,
                                    std::vector<v1::CallFeature>* features) const {
  if (phones_) phones_->LimitCallFeatures(call, features);
}

absl::Status SipProvider::Drop(const std::string& call_id, const std::string&) {
  if (phones_ && phones_->OwnsCall(call_id)) return phones_->Drop(call_id);
  auto it = leg_of_call_.find(call_id);
  if (it != leg_of_call_.end()) {
    const uint64_t leg = it->second;
    const Call& call = calls_.at(leg);
    const uint64_t consult_for = call.consult_for;
    if (auto from = calls_.find(call.referred_from); from != calls_.end()) {
      from->second.referral = 0;
    }
    AnswerRequest(calls_.at(leg), FailedPrecondition(LINEERR_OPERATIONFAILED,
                                                      "the call was dropped before the request's outcome"));
    // Dropping an offering call rejects it.
    agent_->Hangup(leg, call.inbound && call.state == v1::CALL_STATE_OFFERING ? 603 : 0);
    calls_.erase(leg);
    leg_of_call_.erase(it);
    host_->SetCallState(call_id, MakeStatus(v1::CALL_STATE_IDLE));
    ReleaseConsultation(consult_for);
    return absl::OkStatus();
  }
  host_->SetCallState(call_id, MakeStatus(v1::CALL_STATE_IDLE));
  return absl::OkStatus();
}

void SipProvider::OnCallIdle(const std::string& call_id) {
  if (phones_ && phones_->OwnsCall(call_id)) return phones_->OnCallIdle(call_id);
  auto it = leg_of_call_.find(call_id);
  if (it == leg_of_call_.end()) return;
  if (agent_) agent_->Hangup(it->second, 603);
  AnswerRequest(calls_.at(it->second), FailedPrecondition(LINEERR_OPERATIONFAILED,
                                                           "the call ended before the request's outcome"));
  calls_.erase(it->second);
  leg_of_call_.erase(it);
}

void SipProvider::SetState(uint64_t leg, v1::CallStatus status) {
  auto it = calls_.find(leg);
  if (it == calls_.end()) return;
  it->second.state = status.state();
  const std::string call_id = it->second.call_id;
  if (status.state() == v1::CALL_STATE_DISCONNECTED) {
    // The far end hung up before telling the transfer's outcome: the call
    // is gone from this line all the same.
    AnswerRequest(it->second, absl::OkStatus());
    leg_of_call_.erase(call_id);
    calls_.erase(it);
  }
  host_->SetCallState(call_id, std::move(status));
}

void SipProvider::RunLocked(std::function<void()> fn) {
  if (stopped_.load() || host_ == nullptr) return;
  host_->RunLocked([this, fn = std::move(fn)] {
    if (!stopped_.load()) fn();
  });
}

void SipProvider::OnRegistration(size_t account, bool in_service, const std::string& why) {
  RunLocked([this, account, in_service, why] {
    if (account >= lines_.size()) return;
    Line& line = lines_[account];
    line.in_service = in_service;
    LB_LOG("sip: line %s %s: %s", line.line_id, in_service ? "in service" : "out of service", why);
    host_->SetLineState(line.line_id,
                        in_service ? v1::LINE_STATE_IN_SERVICE : v1::LINE_STATE_OUT_OF_SERVICE);
  });
}

void SipProvider::OnIncoming(size_t account, uint64_t leg, sip::IncomingCall in) {
  RunLocked([this, account, leg, in = std::move(in)] {
    if (account >= lines_.size()) return;
    if (LineBusy(account)) {
      agent_->Hangup(leg, 486);
      return;
    }
    v1::CallInfo info;
    info.set_line_id(lines_[account].line_id);
    info.set_origin(v1::CALL_ORIGIN_INBOUND);
    info.set_reason(in.redirected ? in.redirecting.reason : v1::CALL_REASON_DIRECT);
    info.set_media_mode(v1::MEDIA_MODE_INTERACTIVE_VOICE);
    info.set_bearer_mode(v1::BEARER_MODE_VOICE);
    *info.mutable_caller() = in.caller;
    *info.mutable_called() = in.called;
    if (in.redirected) {
      // Who diverted the call, and to whom: this line's address.
      *info.mutable_redirecting() = in.redirecting.party;
      *info.mutable_redirection() = in.called;
    }
    const std::string call_id = host_->CreateCall(std::move(info), Offering());
    calls_[leg] = Call{call_id, account, true, v1::CALL_STATE_OFFERING};
    leg_of_call_[call_id] = leg;
  });
}

void SipProvider::OnProgress(uint64_t leg, sip::LegProgress progress) {
  RunLocked([this, leg, progress] {
    auto it = calls_.find(leg);
    if (it == calls_.end()) return;
    switch (progress) {
      case sip::LegProgress::kProceeding:
        if (it->second.state == v1::CALL_STATE_DIALING) {
          SetState(leg, MakeStatus(v1::CALL_STATE_PROCEEDING));
        }
        break;
      case sip::LegProgress::kRingback:
        if (it->second.state != v1::CALL_STATE_RINGBACK) {
          SetState(leg, MakeStatus(v1::CALL_STATE_RINGBACK));
        }
        break;
      case sip::LegProgress::kConnected: {
        // A call that replaced another (RFC 3891) was created connected.
        if (it->second.state != v1::CALL_STATE_CONNECTED) SetState(leg, Connected());
        // A call placed for the far end's REFER connected: the transferor's
        // call is over.
        const uint64_t from = it->second.referred_from;
        it->second.referred_from = 0;
        if (from != 0) EndHandedOver(from);
        break;
      }
    }
  });
}

void SipProvider::OnEnded(uint64_t leg, v1::DisconnectMode mode, int status) {
  RunLocked([this, leg, mode, status] {
    auto it = calls_.find(leg);
    if (it == calls_.end()) return;
    LB_LOG("sip: call %s ended: %s%s", it->second.call_id, v1::DisconnectMode_Name(mode),
           status > 0 ? absl::StrCat(" (SIP ", status, ")") : std::string());
    if (it->second.referral != 0) {
      // The transferor hung up while the line calls the target it gave.
      EndHandedOver(leg);
      return;
    }
    if (auto from = calls_.find(it->second.referred_from); from != calls_.end()) {
      from->second.referral = 0;  // the transfer failed: that call stays
    }
    const uint64_t consult_for = it->second.consult_for;
    SetState(leg, Disconnected(mode));
    ReleaseConsultation(consult_for);
  });
}

void RegisterSipProvider() {
  RegisterProviderConfigHooks(v1::config::ProviderConfig::kSip, sip::SipConfigHooks());
  ProviderRegistry::Get().Register("sip", &SipProvider::Create);
}

}  // namespace linebridge
