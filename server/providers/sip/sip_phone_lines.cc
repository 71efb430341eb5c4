#include "providers/sip/sip_phone_lines.h"

#include <initializer_list>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "core/engine.h"
#include "core/log.h"
#include "linebridge/lineerr.h"
#include "linebridge/status_macros.h"
#include "providers/sip/sip_config.h"
#include "providers/sip/sip_mapping.h"
#include "providers/sip/sip_phone_config.h"

namespace linebridge {
namespace {

template <typename E>
void AddAll(google::protobuf::RepeatedField<int>* out, std::initializer_list<E> values) {
  for (E v : values) out->Add(v);
}

const std::initializer_list<v1::DisconnectMode> kPhoneDisconnectModes = {
    v1::DISCONNECT_MODE_NORMAL,     v1::DISCONNECT_MODE_UNKNOWN,
    v1::DISCONNECT_MODE_REJECT,     v1::DISCONNECT_MODE_BUSY,
    v1::DISCONNECT_MODE_NOANSWER,   v1::DISCONNECT_MODE_BADADDRESS,
    v1::DISCONNECT_MODE_CONGESTION, v1::DISCONNECT_MODE_INCOMPATIBLE,
    v1::DISCONNECT_MODE_UNAVAIL,    v1::DISCONNECT_MODE_NUMBERCHANGED,
    v1::DISCONNECT_MODE_BLOCKED,    v1::DISCONNECT_MODE_CANCELLED};

// A party from a dialog-info identity ("sip:user@host[:port];params").
v1::PartyId PartyOf(const sip::DialogParticipant& p) {
  std::string uri = p.identity;
  for (const char* scheme : {"sip:", "sips:", "tel:"}) {
    if (absl::StartsWithIgnoreCase(uri, scheme)) uri = uri.substr(std::string(scheme).size());
  }
  uri = uri.substr(0, uri.find_first_of(";?>"));
  const size_t at = uri.find('@');
  const std::string user = at == std::string::npos ? std::string() : uri.substr(0, at);
  const std::string host = at == std::string::npos ? uri : uri.substr(at + 1);
  if (user.empty() && host.empty()) {
    v1::PartyId none;
    none.set_available(false);
    return none;
  }
  return sip::PartyFromIdentity(p.display, user, host);
}

// How a terminated dialog ended, as far as the document says.
v1::DisconnectMode EndMode(const sip::DialogInfoDialog& d, bool connected) {
  if (d.code >= 300) return sip::DisconnectModeForStatus(d.code);
  if (d.event == "rejected") return v1::DISCONNECT_MODE_REJECT;
  if (d.event == "cancelled") return v1::DISCONNECT_MODE_CANCELLED;
  if (d.event == "timeout") return v1::DISCONNECT_MODE_NOANSWER;
  if (d.event == "error") return v1::DISCONNECT_MODE_UNAVAIL;
  if (connected) return v1::DISCONNECT_MODE_NORMAL;
  // An offered call that went away unanswered: the caller gave up (or
  // someone else took it); an outgoing one that failed says no more.
  return d.direction == sip::DialogDirection::kInitiator ? v1::DISCONNECT_MODE_UNKNOWN
                                                         : v1::DISCONNECT_MODE_CANCELLED;
}

v1::CallStatus StatusOf(const sip::DialogInfoDialog& d) {
  const bool outgoing = d.direction == sip::DialogDirection::kInitiator;
  switch (d.state) {
    case sip::DialogState::kTrying:
      return MakeStatus(outgoing ? v1::CALL_STATE_DIALING : v1::CALL_STATE_OFFERING);
    case sip::DialogState::kProceeding:
      return outgoing ? MakeStatus(v1::CALL_STATE_PROCEEDING) : Offering();
    case sip::DialogState::kEarly:
      return outgoing ? MakeStatus(v1::CALL_STATE_RINGBACK) : Offering();
    case sip::DialogState::kConfirmed:
      return d.held() ? MakeStatus(v1::CALL_STATE_ONHOLD) : Connected();
    case sip::DialogState::kTerminated:
      break;
  }
  return MakeStatus(v1::CALL_STATE_DISCONNECTED);
}

}  // namespace

SipPhoneLines::SipPhoneLines(const v1::config::SipConfig& config) : config_(config) {}

SipPhoneLines::~SipPhoneLines() {
  stopped_.store(true);
  agent_.reset();  // ends and joins the loop
}

int SipPhoneLines::FindPhone(const std::string& line_id) const {
  for (size_t i = 0; i < lines_.size(); ++i) {
    if (lines_[i].line_id == line_id) return static_cast<int>(i);
  }
  return -1;
}

bool SipPhoneLines::IsPhoneLine(const std::string& line_id) const { return FindPhone(line_id) >= 0; }

bool SipPhoneLines::OwnsCall(const std::string& call_id) const {
  return click_of_call_.count(call_id) > 0 || monitored_of_call_.count(call_id) > 0;
}

v1::Line SipPhoneLines::BuildLine(size_t phone) const {
  const v1::config::SipPhone& p = config_.phones(static_cast<int>(phone));
  const v1::config::SipAccount* control = nullptr;
  for (const auto& a : config_.accounts()) {
    if (a.name() == p.control_account()) control = &a;
  }
  v1::Line line;
  line.set_id(absl::StrCat(config_.name(), "/", p.name()));
  line.set_name(p.display_name().empty() ? p.name() : p.display_name());
  line.set_provider("sip");
  v1::LineCaps* caps = line.mutable_caps();
  // Derived from the phone's URI, apart from an account with the same URI.
  caps->set_permanent_line_id(PermanentLineId(absl::StrCat("phone ", p.uri())));
  caps->set_provider_info("linebridge sip (phone line: third-party control, no media)");
  caps->set_switch_info(absl::StrCat(
      p.uri(), " watched at ",
      control != nullptr ? sip::PresenceServerOf(p, *control) : p.presence_server()));
  caps->set_line_name(line.name());
  AddAll(caps->mutable_media_modes(), {v1::MEDIA_MODE_INTERACTIVE_VOICE});
  AddAll(caps->mutable_bearer_modes(), {v1::BEARER_MODE_VOICE});
  AddAll(caps->mutable_disconnect_modes(), kPhoneDisconnectModes);
  caps->set_max_num_active_calls(1);
  caps->set_caller_id_supported(true);
  caps->add_device_classes("tapi/line");
  caps->set_answer_mode(1);  // LINEANSWERMODE_NONE

  v1::Address* addr = line.add_addresses();
  addr->set_index(0);
  addr->set_address(p.uri());
  v1::AddressCaps* ac = addr->mutable_caps();
  ac->set_max_num_active_calls(1);
  ac->set_max_num_on_hold_calls(1);
  AddAll(ac->mutable_address_features(), {v1::ADDRESS_FEATURE_MAKECALL});
  // Click-to-dial calls can be dropped, held and resumed, and transferred;
  // the phone's own calls are only watched (LimitCallFeatures).
  AddAll(ac->mutable_call_features(), {v1::CALL_FEATURE_DROP, v1::CALL_FEATURE_HOLD,
                                       v1::CALL_FEATURE_UNHOLD, v1::CALL_FEATURE_BLINDTRANSFER});
  AddAll(ac->mutable_call_states(),
         {v1::CALL_STATE_IDLE, v1::CALL_STATE_OFFERING, v1::CALL_STATE_DIALING,
          v1::CALL_STATE_PROCEEDING, v1::CALL_STATE_RINGBACK, v1::CALL_STATE_CONNECTED,
          v1::CALL_STATE_ONHOLD, v1::CALL_STATE_DISCONNECTED});
  AddAll(ac->mutable_disconnect_modes(), kPhoneDisconnectModes);
  ac->set_caller_id_supported(true);
  ac->set_called_id_supported(true);
  line.mutable_status()->set_state(v1::LINE_STATE_OUT_OF_SERVICE);
  line.mutable_status()->set_connected(false);
  return line;
}

absl::Status SipPhoneLines::Start(ProviderHost& host) {
  host_ = &host;
  if (config_.phones_size() == 0) return absl::OkStatus();
  std::vector<sip::SipPhoneAgent::Phone> phones;
  for (const auto& p : config_.phones()) {
    for (const auto& a : config_.accounts()) {
      if (a.name() != p.control_account()) continue;
      absl::StatusOr<std::string> password = sip::ReadAccountPassword(a);
      if (!password.ok()) return password.status();
      phones.push_back({p, a, *std::move(password), config_.tls()});
    }
  }
  if (phones.size() != static_cast<size_t>(config_.phones_size())) {
    return absl::InvalidArgumentError("a sip phone names no account as control_account");
  }
  for (int i = 0; i < config_.phones_size(); ++i) {
    lines_.push_back({absl::StrCat(config_.name(), "/", config_.phones(i).name())});
    host_->AddLine(BuildLine(static_cast<size_t>(i)));
  }
  agent_ = std::make_unique<sip::SipPhoneAgent>(config_.bind_address(), std::move(phones),
                                                config_.pbx_control(), this);
  absl::Status started = agent_->Start();
  if (!started.ok()) {
    stopped_.store(true);
    for (const PhoneLine& l : lines_) host_->RemoveLine(l.line_id);
    lines_.clear();
  }
  return started;
}

void SipPhoneLines::Stop() {
  if (stopped_.exchange(true)) return;
  if (agent_) agent_->RequestStop();
}

void SipPhoneLines::RunLocked(std::function<void()> fn) {
  if (stopped_.load() || host_ == nullptr) return;
  host_->RunLocked([this, fn = std::move(fn)] {
    if (!stopped_.load()) fn();
  });
}

absl::StatusOr<std::string> SipPhoneLines::MakeCall(const std::string& line_id,
                                                    const std::string& destination,
                                                    const v1::CallParams& params) {
  const int phone = FindPhone(line_id);
  if (phone < 0 || !agent_) return NotFound(LINEERR_INVALLINEHANDLE, "no such sip phone line");
  const v1::config::SipPhone& p = config_.phones(phone);
  const size_t at = p.uri().find('@');
  const std::string uri = sip::DestinationUri(destination, p.uri().substr(at + 1));
  if (uri.empty()) {
    return InvalidArgument(LINEERR_INVALADDRESS,
                           "a sip phone line dials a number, user@host, a sip: URI or a tel: URI");
  }
  const v1::MediaMode media = params.media_mode();
  if (media != v1::MEDIA_MODE_UNSPECIFIED && media != v1::MEDIA_MODE_INTERACTIVE_VOICE) {
    return InvalidArgument(LINEERR_INVALMEDIAMODE, "a sip phone line makes interactive voice calls");
  }
  PhoneLine& line = lines_[static_cast<size_t>(phone)];
  if (!line.in_service) {
    return TapiStatus(absl::StatusCode::kUnavailable, LINEERR_RESOURCEUNAVAIL,
                      absl::StrCat(line_id, " is out of service (its dialog events are not "
                                            "watched)"));
  }
  if (line.click != 0) {
    return ResourceExhausted(LINEERR_CALLUNAVAIL,
                             absl::StrCat(line_id, " is already placing a call"));
  }
  v1::CallInfo info;
  info.set_line_id(line_id);
  info.set_origin(v1::CALL_ORIGIN_OUTBOUND);
  info.set_reason(v1::CALL_REASON_DIRECT);
  info.set_media_mode(v1::MEDIA_MODE_INTERACTIVE_VOICE);
  info.set_bearer_mode(v1::BEARER_MODE_VOICE);
  info.set_dial_string(destination);
  v1::PartyId caller = sip::PartyFromIdentity(p.display_name(), "", "");
  caller.set_number(p.uri());
  caller.set_available(true);
  *info.mutable_caller() = caller;
  info.mutable_called()->set_number(uri);
  info.mutable_called()->set_available(true);
  const std::string call_id = host_->CreateCall(std::move(info), MakeStatus(v1::CALL_STATE_DIALING));
  const uint64_t click = agent_->NewCallId();
  clicks_[click] = Click{call_id, static_cast<size_t>(phone), v1::CALL_STATE_DIALING};
  click_of_call_[call_id] = click;
  line.click = click;
  agent_->ClickToDial(static_cast<size_t>(phone), click, uri);
  return call_id;
}

absl::Status SipPhoneLines::Drop(const std::string& call_id) {
  if (auto it = click_of_call_.find(call_id); it != click_of_call_.end()) {
    const uint64_t click = it->second;
    if (auto c = clicks_.find(click); c != clicks_.end()) EraseClick(c);
    click_of_call_.erase(call_id);
    if (agent_) agent_->HangUp(click);  // BYE or CANCEL on both legs
    host_->SetCallState(call_id, MakeStatus(v1::CALL_STATE_IDLE));
    return absl::OkStatus();
  }
  if (auto it = monitored_of_call_.find(call_id); it != monitored_of_call_.end()) {
    auto m = monitored_.find(it->second);
    if (m != monitored_.end() && m->second.state != v1::CALL_STATE_DISCONNECTED) {
      return DropOwnCall(m->second);
    }
    if (m != monitored_.end()) {
      AnswerDrop(m->second, absl::OkStatus());  // ended meanwhile
      monitored_.erase(m);
    }
    monitored_of_call_.erase(it);
  }
  host_->SetCallState(call_id, MakeStatus(v1::CALL_STATE_IDLE));
  return absl::OkStatus();
}

void SipPhoneLines::OnCallIdle(const std::string& call_id) {
  if (auto it = click_of_call_.find(call_id); it != click_of_call_.end()) {
    const uint64_t click = it->second;
    if (auto c = clicks_.find(click); c != clicks_.end()) EraseClick(c);
    click_of_call_.erase(call_id);
    if (agent_) agent_->HangUp(click);
    return;
  }
  if (auto it = monitored_of_call_.find(call_id); it != monitored_of_call_.end()) {
    // The phone's call may go on, but it is no longer followed: keep the
    // dialog's entry (without a call) until it ends, so that it is not
    // offered again.
    if (auto m = monitored_.find(it->second); m != monitored_.end()) {
      AnswerDrop(m->second, absl::OkStatus());  // idle anyway
      m->second.call_id.clear();
      m->second.state = v1::CALL_STATE_IDLE;
    }
    monitored_of_call_.erase(it);
  }
}

void SipPhoneLines::AppendCounters(std::vector<ProviderCounter>* out) const {
  if (!agent_) return;
  for (size_t i = 0; i < lines_.size(); ++i) {
    sip::PhoneCounters& c = agent_->counters(i);
    auto add = [&](const char* name, const char* help, uint64_t value) {
      out->push_back({name, help, {{"line", lines_[i].line_id}}, value});
    };
    add("sip_phone_subscriptions_total", "dialog event subscriptions accepted",
        c.subscriptions.load());
    add("sip_phone_subscription_failures_total",
        "dialog event subscriptions refused, timed out or ended by the server",
        c.subscription_failures.load());
    add("sip_phone_notifies_total", "dialog-info documents applied", c.notifies.load());
    add("sip_phone_bad_notifies_total", "dialog-info documents unreadable or out of sequence",
        c.bad_notifies.load());
    add("sip_phone_click_to_dials_total", "click-to-dial calls connected",
        c.click_to_dials.load());
    add("sip_phone_click_to_dial_failures_total", "click-to-dial calls that failed",
        c.click_to_dial_failures.load());
    add("sip_phone_click_to_dial_transfers_total",
        "click-to-dial calls transferred (the transferee reached the target)",
        c.click_to_dial_transfers.load());
    add("sip_phone_click_to_dial_transfer_failures_total",
        "click-to-dial transfers refused or failed", c.click_to_dial_transfer_failures.load());
  }
}

void SipPhoneLines::SetClickState(uint64_t click, v1::CallStatus status) {
  auto it = clicks_.find(click);
  if (it == clicks_.end()) return;
  it->second.state = status.state();
  const std::string call_id = it->second.call_id;
  if (status.state() == v1::CALL_STATE_DISCONNECTED) EraseClick(it);
  host_->SetCallState(call_id, std::move(status));
}

void SipPhoneLines::EraseClick(ClickIt it) {
  const uint64_t click = it->first;
  Click& c = it->second;
  AnswerRequest(c, FailedPrecondition(LINEERR_OPERATIONFAILED,
                                      "the call ended before the request's outcome"));
  if (lines_[c.phone].click == click) lines_[c.phone].click = 0;
  click_of_call_.erase(c.call_id);
  clicks_.erase(it);
}

void SipPhoneLines::OnDialog(size_t phone, const sip::DialogInfoDialog& d) {
  const auto key = std::make_pair(phone, d.id);
  auto it = monitored_.find(key);
  if (it != monitored_.end() && it->second.call_id.empty()) {
    if (d.state == sip::DialogState::kTerminated) monitored_.erase(it);  // idle already
    return;
  }
  if (d.state == sip::DialogState::kTerminated) {
    if (it == monitored_.end() || it->second.state == v1::CALL_STATE_DISCONNECTED) return;
    it->second.state = v1::CALL_STATE_DISCONNECTED;
    host_->SetCallState(it->second.call_id, Disconnected(EndMode(d, it->second.connected)));
    return;
  }
  v1::CallStatus status = StatusOf(d);
  // The PBX saw the INVITE from the initiator: its From tag is the
  // initiator's.
  const bool initiator = d.direction == sip::DialogDirection::kInitiator;
  auto remember_ids = [&](Monitored& m) {
    if (!d.call_id.empty()) m.sip_call_id = d.call_id;
    const std::string& from = initiator ? d.local_tag : d.remote_tag;
    if (!from.empty()) m.from_tag = from;
  };
  if (it == monitored_.end()) {
    const bool outgoing = d.direction == sip::DialogDirection::kInitiator;
    v1::CallInfo info;
    info.set_line_id(lines_[phone].line_id);
    info.set_origin(outgoing ? v1::CALL_ORIGIN_OUTBOUND : v1::CALL_ORIGIN_INBOUND);
    info.set_reason(v1::CALL_REASON_DIRECT);
    info.set_media_mode(v1::MEDIA_MODE_INTERACTIVE_VOICE);
    info.set_bearer_mode(v1::BEARER_MODE_VOICE);
    v1::PartyId self = PartyOf(d.local);
    if (!self.available()) {
      const v1::config::SipPhone& p = config_.phones(static_cast<int>(phone));
      self = sip::PartyFromIdentity(p.display_name(), "", "");
      self.set_number(p.uri());
      self.set_available(true);
    }
    *(outgoing ? info.mutable_caller() : info.mutable_called()) = self;
    *(outgoing ? info.mutable_called() : info.mutable_caller()) = PartyOf(d.remote);
    const v1::CallState state = status.state();
    const bool connected = state == v1::CALL_STATE_CONNECTED || state == v1::CALL_STATE_ONHOLD;
    creating_own_call_ = true;
    const std::string call_id = host_->CreateCall(std::move(info), std::move(status));
    creating_own_call_ = false;
    Monitored& m = monitored_[key];
    m = Monitored{call_id, state, connected};
    remember_ids(m);
    monitored_of_call_[call_id] = key;
    LB_LOG("sip: phone line %s: %s call %s (dialog %s)", lines_[phone].line_id,
           outgoing ? "outgoing" : "incoming", call_id, d.id);
    return;
  }
  Monitored& m = it->second;
  remember_ids(m);
  if (m.state == v1::CALL_STATE_DISCONNECTED || m.state == status.state()) return;
  m.state = status.state();
  if (m.state == v1::CALL_STATE_CONNECTED || m.state == v1::CALL_STATE_ONHOLD) m.connected = true;
  host_->SetCallState(m.call_id, std::move(status));
}

void SipPhoneLines::OnPhoneWatch(size_t phone, bool watching, const std::string& why) {
  RunLocked([this, phone, watching, why] {
    if (phone >= lines_.size()) return;
    PhoneLine& line = lines_[phone];
    line.in_service = watching;
    LB_LOG("sip: phone line %s %s: %s", line.line_id, watching ? "in service" : "out of service",
           why);
    host_->SetLineState(line.line_id,
                        watching ? v1::LINE_STATE_IN_SERVICE : v1::LINE_STATE_OUT_OF_SERVICE);
  });
}

void SipPhoneLines::OnPhoneDialogs(size_t phone, std::vector<sip::DialogInfoDialog> changed) {
  RunLocked([this, phone, changed = std::move(changed)] {
    if (phone >= lines_.size()) return;
    for (const sip::DialogInfoDialog& d : changed) OnDialog(phone, d);
  });
}

void SipPhoneLines::OnClickToDial(uint64_t call, sip::ClickToDialProgress progress) {
  RunLocked([this, call, progress] {
    auto it = clicks_.find(call);
    if (it == clicks_.end()) return;
    switch (progress) {
      case sip::ClickToDialProgress::kPhoneAnswered:
        SetClickState(call, MakeStatus(v1::CALL_STATE_PROCEEDING));
        break;
      case sip::ClickToDialProgress::kDestinationRings:
        SetClickState(call, MakeStatus(v1::CALL_STATE_RINGBACK));
        break;
      case sip::ClickToDialProgress::kConnected:
        SetClickState(call, Connected());
        break;
      case sip::ClickToDialProgress::kHeld:
        // Held by this station (the phone): TAPI's ONHOLD.
        SetClickState(call, MakeStatus(v1::CALL_STATE_ONHOLD));
        break;
      case sip::ClickToDialProgress::kHeldByDestination:
        // Connected, the other party not active.
        SetClickState(call, Connected(v1::CONNECTED_MODE_INACTIVE));
        break;
    }
  });
}

void SipPhoneLines::OnClickToDialEnded(uint64_t call, v1::DisconnectMode mode, int status) {
  RunLocked([this, call, mode, status] {
    auto it = clicks_.find(call);
    if (it == clicks_.end()) return;
    LB_LOG("sip: click-to-dial call %s ended: %s%s", it->second.call_id,
           v1::DisconnectMode_Name(mode), status > 0 ? absl::StrCat(" (SIP ", status, ")") : "");
    SetClickState(call, Disconnected(mode));
  });
}

void SipPhoneLines::LimitCallFeatures(const v1::Call& call,
                                      std::vector<v1::CallFeature>* features) const {
  if (!creating_own_call_ && monitored_of_call_.count(call.id()) == 0) return;
  // DROP when ended (to clear the call), or, ringing or answered, if the
  // PBX's call control can end it.
  const v1::CallState state = call.status().state();
  const bool droppable = state == v1::CALL_STATE_DISCONNECTED ||
                         (!config_.pbx_control().kamailio_jsonrpc().empty() &&
                          state != v1::CALL_STATE_IDLE);
  std::erase_if(*features, [droppable](v1::CallFeature f) {
    return !(droppable && f == v1::CALL_FEATURE_DROP);
  });
}

}  // namespace linebridge
