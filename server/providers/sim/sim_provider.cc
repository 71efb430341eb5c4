#include "providers/sim/sim_provider.h"

#include <algorithm>
#include <set>
#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "core/engine.h"
#include "linebridge/status_macros.h"

namespace linebridge {
namespace {

using v1::config::SimExternal;

// Delay before an external number that answered "speaks" its digits, so a
// client that enables digit monitoring on CONNECTED hears them.
constexpr absl::Duration kExternalDigitsDelay = absl::Milliseconds(300);

template <typename E>
void AddAll(google::protobuf::RepeatedField<int>* out, std::initializer_list<E> values) {
  for (E v : values) out->Add(v);
}

}  // namespace

absl::StatusOr<std::unique_ptr<Provider>> SimProvider::Create(
    const v1::config::ProviderConfig& config) {
  if (!config.has_sim()) return absl::InvalidArgumentError("not a sim provider config");
  return std::make_unique<SimProvider>(config.sim());
}

SimProvider::SimProvider(v1::config::SimConfig config) : config_(std::move(config)) {
  if (config_.name().empty()) config_.set_name("sim");
  if (config_.ring_ms() == 0) config_.set_ring_ms(4000);
  if (config_.default_no_answer_rings() == 0) config_.set_default_no_answer_rings(3);
  if (config_.park_orbit_base().empty()) config_.set_park_orbit_base("700");
  for (const auto& e : config_.extensions()) {
    Extension ext;
    ext.config = e;
    if (ext.config.max_calls() == 0) ext.config.set_max_calls(4);
    extensions_[e.number()] = std::move(ext);
  }
}

// ---------------------------------------------------------------------------
// Lines

v1::Line SimProvider::BuildLine(const Extension& ext) const {
  v1::Line line;
  const auto& e = ext.config;
  line.set_id(LineId(e.number()));
  line.set_name(e.name().empty() ? e.number() : absl::StrCat(e.name(), " (", e.number(), ")"));
  line.set_provider(std::string(type()));
  v1::LineCaps* caps = line.mutable_caps();
  caps->set_provider_info("linebridge simulated PBX");
  caps->set_switch_info(config_.name());
  caps->set_line_name(line.name());
  caps->set_max_data_rate(64000);
  // An opaque device configuration: the one SetDevConfig stored, else empty.
  std::optional<v1::DeviceConfig> stored =
      host_ != nullptr ? host_->StoredDeviceConfig(line.id()) : std::nullopt;
  line.mutable_device_config()->set_opaque(stored && stored->has_opaque() ? stored->opaque() : "");
  AddAll(caps->mutable_media_modes(),
         {v1::MEDIA_MODE_INTERACTIVE_VOICE, v1::MEDIA_MODE_AUTOMATED_VOICE});
  AddAll(caps->mutable_bearer_modes(), {v1::BEARER_MODE_VOICE, v1::BEARER_MODE_SPEECH});
  AddAll(caps->mutable_generate_digit_modes(), {v1::DIGIT_MODE_DTMF});
  AddAll(caps->mutable_monitor_digit_modes(), {v1::DIGIT_MODE_DTMF, v1::DIGIT_MODE_DTMFEND});
  const std::initializer_list<v1::DisconnectMode> disconnect_modes = {
      v1::DISCONNECT_MODE_NORMAL,     v1::DISCONNECT_MODE_REJECT,
      v1::DISCONNECT_MODE_PICKUP,     v1::DISCONNECT_MODE_FORWARDED,
      v1::DISCONNECT_MODE_BUSY,       v1::DISCONNECT_MODE_NOANSWER,
      v1::DISCONNECT_MODE_BADADDRESS, v1::DISCONNECT_MODE_CONGESTION,
      v1::DISCONNECT_MODE_OUTOFORDER, v1::DISCONNECT_MODE_CANCELLED};
  AddAll(caps->mutable_disconnect_modes(), disconnect_modes);
  AddAll(caps->mutable_forward_modes(), {v1::FORWARD_MODE_UNCOND, v1::FORWARD_MODE_BUSY,
                                         v1::FORWARD_MODE_NOANSW, v1::FORWARD_MODE_BUSYNA});
  AddAll(caps->mutable_transfer_modes(), {v1::TRANSFER_MODE_TRANSFER, v1::TRANSFER_MODE_CONFERENCE});
  AddAll(caps->mutable_park_modes(), {v1::PARK_MODE_DIRECTED, v1::PARK_MODE_NONDIRECTED});
  for (auto* dp : {caps->mutable_min_dial_params(), caps->mutable_max_dial_params(),
                   caps->mutable_default_dial_params()}) {
    dp->set_dial_pause_ms(2000);
    dp->set_dial_speed_ms(100);
    dp->set_digit_duration_ms(100);
    dp->set_wait_for_dialtone_ms(0);
  }
  caps->set_max_num_active_calls(e.max_calls());
  caps->set_max_num_conference(kMaxConferenceParties);
  caps->set_max_user_user_info_size(256);
  caps->set_can_monitor_digits(true);
  caps->set_can_generate_digits(true);
  caps->set_caller_id_supported(true);
  caps->add_device_classes("tapi/line");
  caps->set_answer_mode(1);  // LINEANSWERMODE_NONE

  v1::Address* addr = line.add_addresses();
  addr->set_index(0);
  addr->set_address(e.number());
  v1::AddressCaps* ac = addr->mutable_caps();
  ac->set_max_num_active_calls(e.max_calls());
  ac->set_max_num_on_hold_calls(e.max_calls());
  ac->set_max_num_on_hold_pending_calls(1);
  ac->set_max_num_conference(kMaxConferenceParties);
  ac->set_max_num_trans_conf(kMaxConferenceParties);
  AddAll(ac->mutable_address_features(),
         {v1::ADDRESS_FEATURE_FORWARD, v1::ADDRESS_FEATURE_MAKECALL, v1::ADDRESS_FEATURE_PICKUP,
          v1::ADDRESS_FEATURE_SETUPCONF, v1::ADDRESS_FEATURE_UNPARK,
          v1::ADDRESS_FEATURE_PICKUPGROUP, v1::ADDRESS_FEATURE_PICKUPDIRECT,
          v1::ADDRESS_FEATURE_FORWARDFWD, v1::ADDRESS_FEATURE_UNCOMPLETECALL});
  AddAll(ac->mutable_call_features(),
         {v1::CALL_FEATURE_ACCEPT, v1::CALL_FEATURE_ADDTOCONF, v1::CALL_FEATURE_ANSWER,
          v1::CALL_FEATURE_BLINDTRANSFER, v1::CALL_FEATURE_COMPLETETRANSF, v1::CALL_FEATURE_DIAL,
          v1::CALL_FEATURE_DROP, v1::CALL_FEATURE_GENERATEDIGITS, v1::CALL_FEATURE_HOLD,
          v1::CALL_FEATURE_MONITORDIGITS, v1::CALL_FEATURE_PARK, v1::CALL_FEATURE_PREPAREADDCONF,
          v1::CALL_FEATURE_REDIRECT, v1::CALL_FEATURE_REMOVEFROMCONF,
          v1::CALL_FEATURE_SETUPCONF, v1::CALL_FEATURE_SETUPTRANSFER, v1::CALL_FEATURE_UNHOLD,
          v1::CALL_FEATURE_SETCALLDATA, v1::CALL_FEATURE_SWAPHOLD, v1::CALL_FEATURE_SENDUSERUSER,
          v1::CALL_FEATURE_RELEASEUSERUSERINFO, v1::CALL_FEATURE_SETCALLPARAMS,
          v1::CALL_FEATURE_SETTREATMENT, v1::CALL_FEATURE_COMPLETECALL});
  AddAll(ac->mutable_completion_modes(), {v1::COMPLETION_MODE_CALLBACK});
  ac->set_max_call_completions(kMaxCompletions);
  AddAll(ac->mutable_call_treatments(),
         {v1::CALL_TREATMENT_SILENCE, v1::CALL_TREATMENT_RINGBACK, v1::CALL_TREATMENT_BUSY,
          v1::CALL_TREATMENT_MUSIC});
  AddAll(ac->mutable_call_states(),
         {v1::CALL_STATE_IDLE, v1::CALL_STATE_OFFERING, v1::CALL_STATE_ACCEPTED,
          v1::CALL_STATE_DIALTONE, v1::CALL_STATE_DIALING, v1::CALL_STATE_RINGBACK,
          v1::CALL_STATE_BUSY, v1::CALL_STATE_SPECIALINFO, v1::CALL_STATE_CONNECTED,
          v1::CALL_STATE_PROCEEDING, v1::CALL_STATE_ONHOLD, v1::CALL_STATE_CONFERENCED,
          v1::CALL_STATE_ONHOLDPENDCONF, v1::CALL_STATE_ONHOLDPENDTRANSFER,
          v1::CALL_STATE_DISCONNECTED});
  AddAll(ac->mutable_disconnect_modes(), disconnect_modes);
  ac->set_max_forward_entries(4);
  ac->set_caller_id_supported(true);
  ac->set_called_id_supported(true);
  ac->set_connected_id_supported(true);
  ac->set_redirecting_id_supported(true);
  *line.mutable_status()->mutable_forwarding() = {ext.forwarding.begin(), ext.forwarding.end()};
  line.mutable_status()->set_state(v1::LINE_STATE_IN_SERVICE);
  line.mutable_status()->set_connected(true);
  return line;
}

absl::Status SimProvider::Start(ProviderHost& host) {
  host_ = &host;
  for (const auto& [number, ext] : extensions_) {
    host_->AddLine(BuildLine(ext));
    AddPhoneOf(ext);
  }
  return absl::OkStatus();
}

absl::Status SimProvider::Reconfigure(const v1::config::ProviderConfig& pc) {
  if (!pc.has_sim()) return absl::InvalidArgumentError("not a sim provider config");
  SimProvider fresh(pc.sim());
  // Lines that went away (their calls end with the line), then new ones.
  std::vector<std::string> removed;
  for (const auto& [number, ext] : extensions_) {
    if (!fresh.extensions_.count(number)) removed.push_back(number);
  }
  for (const auto& number : removed) {
    host_->RemovePhone(PhoneId(number));
    phones_.erase(number);
    host_->RemoveLine(LineId(number));
    extensions_.erase(number);
  }
  const bool had_phones = phones_enabled();
  const bool want_phones = fresh.phones_enabled();
  for (auto& [number, ext] : fresh.extensions_) {
    auto it = extensions_.find(number);
    if (it == extensions_.end()) {
      extensions_[number] = ext;
      host_->AddLine(BuildLine(ext));
      if (want_phones) {
        host_->AddPhone(BuildPhone(ext));
        phones_[number] = Phone();
      }
    } else {
      it->second.config = ext.config;  // name, auto answer, group: take effect on new calls
    }
  }
  // Phones switched on or off for the extensions that stay.
  if (had_phones != want_phones) {
    for (const auto& [number, ext] : extensions_) {
      if (!fresh.extensions_.count(number)) continue;
      if (want_phones && !phones_.count(number)) {
        host_->AddPhone(BuildPhone(ext));
        phones_[number] = Phone();
      } else if (!want_phones) {
        host_->RemovePhone(PhoneId(number));
        phones_.erase(number);
      }
    }
  }
  const std::string name = config_.name();
  config_ = fresh.config_;
  config_.set_name(name);
  return absl::OkStatus();
}

// ---------------------------------------------------------------------------
// Helpers

v1::PartyId SimProvider::PartyOfExtension(const std::string& ext) const {
  v1::PartyId p;
  p.set_number(ext);
  p.set_available(true);
  auto it = extensions_.find(ext);
  if (it != extensions_.end()) p.set_name(it->second.config.name());
  return p;
}

v1::PartyId SimProvider::PartyOf(const Remote& remote) const {
  if (remote.external.has_value()) {
    v1::PartyId p;
    p.set_number(remote.external->number());
    p.set_name(remote.external->name());
    p.set_available(true);
    return p;
  }
  auto it = legs_.find(remote.leg);
  if (it == legs_.end()) return v1::PartyId();
  return PartyOfExtension(it->second.ext);
}

bool SimProvider::SamePickupGroup(const std::string& a, const std::string& b) const {
  auto ia = extensions_.find(a);
  auto ib = extensions_.find(b);
  return ia != extensions_.end() && ib != extensions_.end() &&
         !ia->second.config.pickup_group().empty() &&
         ia->second.config.pickup_group() == ib->second.config.pickup_group();
}

bool SimProvider::IsOrbit(const std::string& digits) const {
  int64_t base = 0, n = 0;
  if (!absl::SimpleAtoi(config_.park_orbit_base(), &base) || !absl::SimpleAtoi(digits, &n)) {
    return false;
  }
  return digits.size() == config_.park_orbit_base().size() && n >= base && n < base + 100;
}

SimProvider::Resolved SimProvider::Resolve(const std::string& digits) const {
  Resolved r;
  std::string number = digits;
  const std::string& prefix = config_.outside_prefix();
  const bool outside = !prefix.empty() && absl::StartsWith(number, prefix);
  if (!outside && extensions_.count(number)) {
    r.kind = Target::kExtension;
    r.number = number;
    return r;
  }
  if (!prefix.empty()) {
    if (!outside) return r;
    number = number.substr(prefix.size());
  }
  for (const auto& e : config_.externals()) {
    if (e.number() == number) {
      r.kind = Target::kExternal;
      r.number = number;
      r.external = &e;
      return r;
    }
  }
  return r;
}

absl::StatusOr<SimProvider::Resolved> SimProvider::ResolveOrError(
    const std::string& destination) const {
  LB_ASSIGN_OR_RETURN(std::string digits, NormalizeDialString(destination));
  Resolved r = Resolve(digits);
  if (r.kind == Target::kNone) {
    return InvalidArgument(LINEERR_INVALADDRESS,
                           absl::StrCat("\"", destination, "\" is not a number on ", name()));
  }
  return r;
}

int SimProvider::ActiveLegs(const std::string& ext) const {
  int n = 0;
  for (const auto& [id, leg] : legs_) {
    if (leg.ext == ext && !leg.is_hub) ++n;
  }
  return n;
}

SimProvider::Leg* SimProvider::FindLeg(const std::string& id) {
  auto it = legs_.find(id);
  return it == legs_.end() ? nullptr : &it->second;
}

absl::StatusOr<SimProvider::Leg*> SimProvider::GetLeg(const std::string& id) {
  Leg* leg = FindLeg(id);
  if (leg == nullptr) {
    return NotFound(LINEERR_INVALCALLHANDLE, absl::StrCat("no call \"", id, "\" on ", name()));
  }
  return leg;
}

const v1::CallInfo& SimProvider::InfoOf(const std::string& leg_id) const {
  static const v1::CallInfo kEmpty;
  const v1::Call* c = host_->FindCall(leg_id);
  return c == nullptr ? kEmpty : c->info();
}

namespace {
v1::CallState StateOf(ProviderHost* host, const std::string& id) {
  const v1::Call* c = host->FindCall(id);
  return c == nullptr ? v1::CALL_STATE_IDLE : c->status().state();
}
}  // namespace

SimProvider::Leg& SimProvider::NewLeg(const std::string& ext, v1::CallInfo info,
                                      v1::CallStatus status) {
  info.set_line_id(LineId(ext));
  info.set_address_index(0);
  if (info.bearer_mode() == v1::BEARER_MODE_UNSPECIFIED) info.set_bearer_mode(v1::BEARER_MODE_VOICE);
  if (info.media_mode() == v1::MEDIA_MODE_UNSPECIFIED) {
    info.set_media_mode(v1::MEDIA_MODE_INTERACTIVE_VOICE);
  }
  const std::string id = host_->CreateCall(std::move(info), std::move(status));
  Leg& leg = legs_[id];
  leg.id = id;
  leg.ext = ext;
  ArmCompletions(ext);
  return leg;
}

void SimProvider::CancelTimers(Leg& leg) {
  host_->CancelTimer(leg.timer);
  host_->CancelTimer(leg.hangup_timer);
  leg.timer = leg.hangup_timer = 0;
}

void SimProvider::SetConnectedParty(const std::string& leg_id, const v1::PartyId& party) {
  host_->UpdateCallInfo(leg_id, [&](v1::CallInfo* info) { *info->mutable_connected() = party; },
                        {"connected"});
}

void SimProvider::SetRemote(Leg& leg, const Remote& remote) {
  leg.remote = remote;
  if (!remote.leg.empty()) {
    Leg* other = FindLeg(remote.leg);
    if (other != nullptr) other->remote = Remote{leg.id, std::nullopt};
  }
}

SimProvider::Remote SimProvider::Detach(Leg& leg) {
  Remote r = leg.remote;
  leg.remote = Remote{};
  if (!r.leg.empty()) {
    Leg* other = FindLeg(r.leg);
    if (other != nullptr && other->remote.leg == leg.id) other->remote = Remote{};
  }
  if (r.external.has_value()) CancelTimers(leg);
  return r;
}

void SimProvider::SetIdle(const std::string& leg_id) {
  // The engine calls OnCallIdle, which forgets the leg.
  host_->SetCallState(leg_id, MakeStatus(v1::CALL_STATE_IDLE));
}

void SimProvider::DisconnectRemote(Leg& leg, v1::DisconnectMode mode, const std::string& uui) {
  Remote r = Detach(leg);
  if (r.leg.empty()) return;
  Leg* other = FindLeg(r.leg);
  if (other == nullptr) return;
  CancelTimers(*other);
  if (!uui.empty()) {
    host_->UpdateCallInfo(other->id, [&](v1::CallInfo* i) { i->set_user_user_info(uui); },
                          {"user_user_info"});
  }
  if (!other->parked_at.empty()) {
    orbits_.erase(other->parked_at);
    other->parked_at.clear();
  }
  host_->SetCallState(other->id, Disconnected(mode));
}

void SimProvider::Fail(const std::string& leg_id, v1::DisconnectMode mode) {
  if (Leg* leg = FindLeg(leg_id)) {
    leg->remote = Remote{};
    CancelTimers(*leg);
  }
  host_->SetCallState(leg_id, Disconnected(mode));
}

void SimProvider::OnCallIdle(const std::string& call_id) {
  auto it = legs_.find(call_id);
  if (it == legs_.end()) return;
  Leg& leg = it->second;
  CancelTimers(leg);
  if (!leg.remote.empty()) DisconnectRemote(leg, v1::DISCONNECT_MODE_NORMAL, "");
  if (!leg.parked_at.empty()) orbits_.erase(leg.parked_at);
  if (leg.is_hub) {
    for (const auto& p : leg.parties) {
      if (Leg* party = FindLeg(p)) party->hub.clear();
    }
  }
  const std::string hub = leg.hub;
  for (auto& [id, other] : legs_) {
    if (other.consult_for == call_id) other.consult_for.clear();
  }
  legs_.erase(it);
  if (!hub.empty()) {
    if (Leg* h = FindLeg(hub)) {
      h->parties.erase(std::remove(h->parties.begin(), h->parties.end(), call_id), h->parties.end());
      CollapseConference(hub);
    }
  }
  OfferCallbacks();
}

// ---------------------------------------------------------------------------
// Routing

void SimProvider::Route(const Remote& from, const std::string& digits, v1::CallReason reason,
                        const v1::PartyId& redirecting, int depth) {
  const Resolved r = Resolve(digits);
  Leg* caller = from.leg.empty() ? nullptr : FindLeg(from.leg);
  if (caller != nullptr) {
    host_->UpdateCallInfo(
        caller->id,
        [&](v1::CallInfo* info) {
          info->mutable_called()->set_number(digits);
          info->mutable_called()->set_available(true);
          info->mutable_called()->set_name(r.kind == Target::kExtension
                                               ? PartyOfExtension(r.number).name()
                                           : r.external != nullptr ? r.external->name()
                                                                   : "");
          if (info->dial_string().empty()) info->set_dial_string(digits);
        },
        {"called"});
  }
  switch (r.kind) {
    case Target::kExtension:
      OfferToExtension(from, r.number, reason, redirecting, depth);
      return;
    case Target::kExternal:
      if (caller != nullptr) {
        CallExternal(caller->id, *r.external);
      }
      // An external party transferred to another external number: the PBX
      // bridges the two trunks and is out of the picture.
      return;
    case Target::kNone:
      if (caller != nullptr) Fail(caller->id, v1::DISCONNECT_MODE_BADADDRESS);
      return;
  }
}

void SimProvider::OfferToExtension(const Remote& from, const std::string& ext,
                                   v1::CallReason reason, const v1::PartyId& redirecting,
                                   int depth) {
  Leg* caller = from.leg.empty() ? nullptr : FindLeg(from.leg);
  Extension& target = extensions_[ext];
  if (caller != nullptr && caller->ext == ext && reason == v1::CALL_REASON_DIRECT) {
    host_->SetCallState(caller->id, Busy(v1::BUSY_MODE_STATION));
    Fail(caller->id, v1::DISCONNECT_MODE_BUSY);
    return;
  }
  auto rule = [&](v1::ForwardMode a, v1::ForwardMode b) -> const v1::ForwardRule* {
    for (const auto& f : target.forwarding) {
      if (f.mode() == a || f.mode() == b) return &f;
    }
    return nullptr;
  };
  const v1::PartyId self = PartyOfExtension(ext);
  if (depth < 5) {
    if (const auto* f = rule(v1::FORWARD_MODE_UNCOND, v1::FORWARD_MODE_UNCOND)) {
      Route(from, f->destination(), v1::CALL_REASON_FWDUNCOND, self, depth + 1);
      return;
    }
  }
  if (ActiveLegs(ext) >= static_cast<int>(target.config.max_calls())) {
    if (const auto* f = rule(v1::FORWARD_MODE_BUSY, v1::FORWARD_MODE_BUSYNA); f && depth < 5) {
      Route(from, f->destination(), v1::CALL_REASON_FWDBUSY, self, depth + 1);
      return;
    }
    if (caller != nullptr) {
      host_->SetCallState(caller->id, Busy(v1::BUSY_MODE_STATION));
      Fail(caller->id, v1::DISCONNECT_MODE_BUSY);
    }
    return;
  }
  v1::CallInfo info;
  info.set_origin(from.external.has_value() ? v1::CALL_ORIGIN_EXTERNAL : v1::CALL_ORIGIN_INTERNAL);
  info.set_reason(reason);
  *info.mutable_caller() = PartyOf(from);
  if (caller != nullptr) {
    const v1::CallInfo& ci = InfoOf(caller->id);
    if (ci.caller().blocked()) {
      info.mutable_caller()->Clear();
      info.mutable_caller()->set_blocked(true);
    } else if (!ci.caller().name().empty()) {
      info.mutable_caller()->set_name(ci.caller().name());
    }
    info.set_media_mode(ci.media_mode());
    info.set_bearer_mode(ci.bearer_mode());
    if (!ci.user_user_info().empty() && reason == v1::CALL_REASON_DIRECT) {
      info.set_user_user_info(ci.user_user_info());
    }
  }
  *info.mutable_called() = self;
  if (!redirecting.number().empty()) *info.mutable_redirecting() = redirecting;
  Leg& leg = NewLeg(ext, std::move(info), Offering());
  const std::string leg_id = leg.id;
  SetRemote(leg, from);
  if (caller != nullptr) {
    if (!redirecting.number().empty()) {
      host_->UpdateCallInfo(caller->id,
                            [&](v1::CallInfo* i) { *i->mutable_redirection() = self; },
                            {"redirection"});
    }
    host_->SetCallState(caller->id, MakeStatus(v1::CALL_STATE_RINGBACK));
  }
  // The callee may answer by itself or forward on no answer.
  if (target.config.auto_answer_ms() > 0) {
    leg.timer = host_->Schedule(absl::Milliseconds(target.config.auto_answer_ms()), [this, leg_id] {
      const v1::CallState s = StateOf(host_, leg_id);
      if (s == v1::CALL_STATE_OFFERING || s == v1::CALL_STATE_ACCEPTED) {
        if (Leg* l = FindLeg(leg_id)) l->timer = 0;
        (void)Answer(leg_id, "");
      }
    });
  } else if (const auto* f = rule(v1::FORWARD_MODE_NOANSW, v1::FORWARD_MODE_BUSYNA);
             f && depth < 5) {
    const uint32_t rings = f->num_rings() > 0 ? f->num_rings() : config_.default_no_answer_rings();
    const std::string dest = f->destination();
    leg.timer = host_->Schedule(
        absl::Milliseconds(static_cast<int64_t>(rings) * config_.ring_ms()),
        [this, leg_id, dest, self, depth] {
          Leg* l = FindLeg(leg_id);
          const v1::CallState s = StateOf(host_, leg_id);
          if (l == nullptr || (s != v1::CALL_STATE_OFFERING && s != v1::CALL_STATE_ACCEPTED)) {
            return;
          }
          l->timer = 0;
          const Remote caller_side = Detach(*l);
          host_->SetCallState(leg_id, Disconnected(v1::DISCONNECT_MODE_FORWARDED));
          SetIdle(leg_id);
          Route(caller_side, dest, v1::CALL_REASON_FWDNOANSWER, self, depth + 1);
        });
  }
}

void SimProvider::CallExternal(const std::string& leg_id, const SimExternal& ext) {
  Leg* leg = FindLeg(leg_id);
  if (leg == nullptr) return;
  leg->remote = Remote{"", ext};
  const absl::Duration delay = absl::Milliseconds(ext.delay_ms());
  switch (ext.behavior()) {
    case v1::config::SIM_BEHAVIOR_BUSY:
      host_->SetCallState(leg_id, Busy(v1::BUSY_MODE_STATION));
      Fail(leg_id, v1::DISCONNECT_MODE_BUSY);
      return;
    case v1::config::SIM_BEHAVIOR_REJECT:
      Fail(leg_id, v1::DISCONNECT_MODE_REJECT);
      return;
    case v1::config::SIM_BEHAVIOR_CONGESTION:
      host_->SetCallState(leg_id, SpecialInfo(v1::SPECIAL_INFO_MODE_NOCIRCUIT));
      Fail(leg_id, v1::DISCONNECT_MODE_CONGESTION);
      return;
    case v1::config::SIM_BEHAVIOR_NO_ANSWER:
      host_->SetCallState(leg_id, MakeStatus(v1::CALL_STATE_PROCEEDING));
      host_->SetCallState(leg_id, MakeStatus(v1::CALL_STATE_RINGBACK));
      leg->timer = host_->Schedule(delay, [this, leg_id] {
        if (StateOf(host_, leg_id) == v1::CALL_STATE_RINGBACK) {
          if (Leg* l = FindLeg(leg_id)) l->timer = 0;
          Fail(leg_id, v1::DISCONNECT_MODE_NOANSWER);
        }
      });
      return;
    case v1::config::SIM_BEHAVIOR_ANSWER:
    default:
      host_->SetCallState(leg_id, MakeStatus(v1::CALL_STATE_PROCEEDING));
      if (delay <= absl::ZeroDuration()) {
        ConnectExternal(leg_id);
        return;
      }
      host_->SetCallState(leg_id, MakeStatus(v1::CALL_STATE_RINGBACK));
      leg->timer = host_->Schedule(delay, [this, leg_id] {
        if (StateOf(host_, leg_id) == v1::CALL_STATE_RINGBACK) {
          if (Leg* l = FindLeg(leg_id)) l->timer = 0;
          ConnectExternal(leg_id);
        }
      });
      return;
  }
}

void SimProvider::ConnectExternal(const std::string& leg_id) {
  Leg* leg = FindLeg(leg_id);
  if (leg == nullptr || !leg->remote.external.has_value()) return;
  const SimExternal ext = *leg->remote.external;
  SetConnectedParty(leg_id, PartyOf(leg->remote));
  host_->SetCallState(leg_id, Connected());
  if (!ext.send_digits().empty()) {
    leg->timer = host_->Schedule(kExternalDigitsDelay, [this, leg_id, digits = ext.send_digits()] {
      Leg* l = FindLeg(leg_id);
      if (l == nullptr || !l->remote.external.has_value()) return;
      l->timer = 0;
      for (char d : digits) host_->DigitReceived(leg_id, std::string(1, d), v1::DIGIT_MODE_DTMF);
    });
  }
  if (ext.hangup_after_ms() > 0) {
    leg->hangup_timer =
        host_->Schedule(absl::Milliseconds(ext.hangup_after_ms()), [this, leg_id] {
          Leg* l = FindLeg(leg_id);
          if (l == nullptr || !l->remote.external.has_value()) return;
          l->hangup_timer = 0;
          Fail(leg_id, v1::DISCONNECT_MODE_NORMAL);
        });
  }
}

void SimProvider::Link(const Remote& a, const Remote& b) {
  Leg* la = a.leg.empty() ? nullptr : FindLeg(a.leg);
  Leg* lb = b.leg.empty() ? nullptr : FindLeg(b.leg);
  if (la != nullptr) {
    SetRemote(*la, b);
    SetConnectedParty(la->id, PartyOf(b));
  }
  if (lb != nullptr) {
    if (la == nullptr) lb->remote = a;
    SetConnectedParty(lb->id, PartyOf(a));
  }
  // A far end that was still ringing keeps ringing; its partner hears ringback.
  if (la != nullptr && lb != nullptr) {
    const v1::CallState sa = StateOf(host_, la->id), sb = StateOf(host_, lb->id);
    if (sb == v1::CALL_STATE_OFFERING || sb == v1::CALL_STATE_ACCEPTED) {
      host_->SetCallState(la->id, MakeStatus(v1::CALL_STATE_RINGBACK));
    } else if (sa == v1::CALL_STATE_OFFERING || sa == v1::CALL_STATE_ACCEPTED) {
      host_->SetCallState(lb->id, MakeStatus(v1::CALL_STATE_RINGBACK));
    }
  }
}

std::string SimProvider::NewConsultation(const std::string& ext, const std::string& for_call) {
  v1::CallInfo info;
  info.set_origin(v1::CALL_ORIGIN_OUTBOUND);
  info.set_reason(v1::CALL_REASON_DIRECT);
  info.set_related_call_id(InfoOf(for_call).call_id());
  info.set_related_kind(v1::RELATED_CALL_KIND_CONSULTATION);
  *info.mutable_caller() = PartyOfExtension(ext);
  Leg& consult = NewLeg(ext, std::move(info), DialTone());
  consult.consult_for = for_call;
  return consult.id;
}

void SimProvider::JoinConference(const std::string& hub_id, const std::string& party_id) {
  Leg* party = FindLeg(party_id);
  Leg* hub = FindLeg(hub_id);
  if (party == nullptr || hub == nullptr) return;
  party->hub = hub_id;
  party->consult_for.clear();
  hub->parties.push_back(party_id);
  const uint64_t hub_number = InfoOf(hub_id).call_id();
  host_->UpdateCallInfo(
      party_id,
      [&](v1::CallInfo* i) {
        i->set_related_call_id(hub_number);
        i->set_related_kind(v1::RELATED_CALL_KIND_CONFERENCE);
      },
      {"related_call_id"});
  host_->SetCallState(party_id, MakeStatus(v1::CALL_STATE_CONFERENCED));
}

// ---------------------------------------------------------------------------
// Call control

absl::StatusOr<std::string> SimProvider::MakeCall(const std::string& line_id, uint32_t,
                                                  const std::string& destination,
                                                  const v1::CallParams& params) {
  const std::string ext = line_id.substr(line_id.find('/') + 1);
  auto e = extensions_.find(ext);
  if (e == extensions_.end()) return NotFound(LINEERR_INVALLINEHANDLE, "no such extension");
  if (ActiveLegs(ext) >= static_cast<int>(e->second.config.max_calls())) {
    return ResourceExhausted(LINEERR_CALLUNAVAIL,
                             absl::StrFormat("all %d call appearances of %s are in use",
                                             e->second.config.max_calls(), line_id));
  }
  std::string digits;
  if (!destination.empty()) {
    LB_ASSIGN_OR_RETURN(digits, NormalizeDialString(destination));
  }
  v1::CallInfo info;
  info.set_origin(v1::CALL_ORIGIN_OUTBOUND);
  info.set_reason(v1::CALL_REASON_DIRECT);
  info.set_media_mode(params.media_mode());
  info.set_bearer_mode(params.bearer_mode());
  info.set_dial_string(destination);
  *info.mutable_caller() = PartyOfExtension(ext);
  if (!params.calling_party().name().empty()) {
    info.mutable_caller()->set_name(params.calling_party().name());
  }
  if (params.block_id()) info.mutable_caller()->set_blocked(true);
  info.set_user_user_info(params.user_user_info());
  Leg& leg = NewLeg(ext, std::move(info),
                    digits.empty() ? DialTone() : MakeStatus(v1::CALL_STATE_DIALING));
  const std::string id = leg.id;
  if (!digits.empty()) Route(Remote{id, std::nullopt}, digits, v1::CALL_REASON_DIRECT, {});
  return id;
}

absl::Status SimProvider::Dial(const std::string& call_id, const std::string& destination) {
  LB_ASSIGN_OR_RETURN(Leg * leg, GetLeg(call_id));
  LB_ASSIGN_OR_RETURN(std::string digits, NormalizeDialString(destination));
  if (!leg->remote.empty()) {
    return FailedPrecondition(LINEERR_INVALCALLSTATE, "call is already routed");
  }
  host_->UpdateCallInfo(call_id, [&](v1::CallInfo* i) { i->set_dial_string(destination); },
                        {"dial_string"});
  host_->SetCallState(call_id, MakeStatus(v1::CALL_STATE_DIALING));
  Route(Remote{call_id, std::nullopt}, digits, v1::CALL_REASON_DIRECT, {});
  return absl::OkStatus();
}

absl::Status SimProvider::Accept(const std::string& call_id, const std::string& uui) {
  LB_ASSIGN_OR_RETURN(Leg * leg, GetLeg(call_id));
  if (!uui.empty() && !leg->remote.leg.empty()) {
    host_->UpdateCallInfo(leg->remote.leg, [&](v1::CallInfo* i) { i->set_user_user_info(uui); },
                          {"user_user_info"});
  }
  host_->SetCallState(call_id, MakeStatus(v1::CALL_STATE_ACCEPTED));
  return absl::OkStatus();
}

absl::Status SimProvider::Answer(const std::string& call_id, const std::string& uui) {
  LB_ASSIGN_OR_RETURN(Leg * leg, GetLeg(call_id));
  if (!leg->callback_to.empty() && leg->remote.empty()) {
    PlaceCallback(*leg);
    return absl::OkStatus();
  }
  CancelTimers(*leg);
  const Remote remote = leg->remote;
  SetConnectedParty(call_id, PartyOf(remote));
  host_->SetCallState(call_id, Connected());
  if (Leg* caller = remote.leg.empty() ? nullptr : FindLeg(remote.leg)) {
    host_->UpdateCallInfo(
        caller->id,
        [&](v1::CallInfo* i) {
          *i->mutable_connected() = PartyOfExtension(leg->ext);
          if (!uui.empty()) i->set_user_user_info(uui);
        },
        uui.empty() ? std::vector<std::string>{"connected"}
                    : std::vector<std::string>{"connected", "user_user_info"});
    const v1::CallState s = StateOf(host_, caller->id);
    if (s == v1::CALL_STATE_RINGBACK || s == v1::CALL_STATE_DIALING ||
        s == v1::CALL_STATE_PROCEEDING) {
      host_->SetCallState(caller->id, Connected());
    }
  }
  return absl::OkStatus();
}

absl::Status SimProvider::Drop(const std::string& call_id, const std::string& uui) {
  LB_ASSIGN_OR_RETURN(Leg * leg, GetLeg(call_id));
  CancelTimers(*leg);
  if (leg->is_hub) {
    DropHub(*leg);
    return absl::OkStatus();
  }
  if (!leg->hub.empty()) {
    LeaveConference(*leg);
    return absl::OkStatus();
  }
  const v1::CallState state = StateOf(host_, call_id);
  // The far end learns why: a callee that drops an offered call rejects it;
  // a caller that gives up while the far end rings cancels it.
  v1::DisconnectMode mode = v1::DISCONNECT_MODE_NORMAL;
  if (state == v1::CALL_STATE_OFFERING || state == v1::CALL_STATE_ACCEPTED) {
    mode = v1::DISCONNECT_MODE_REJECT;
  } else if (Leg* other = leg->remote.leg.empty() ? nullptr : FindLeg(leg->remote.leg)) {
    const v1::CallState os = StateOf(host_, other->id);
    if (os == v1::CALL_STATE_OFFERING || os == v1::CALL_STATE_ACCEPTED) {
      mode = v1::DISCONNECT_MODE_CANCELLED;
    }
  }
  DisconnectRemote(*leg, mode, uui);
  // A dropped consultation gives its held call back.
  const std::string original = leg->consult_for;
  if (!original.empty()) {
    const v1::CallState os = StateOf(host_, original);
    if (os == v1::CALL_STATE_ONHOLDPENDTRANSFER) {
      host_->SetCallState(original, MakeStatus(v1::CALL_STATE_ONHOLD));
    }
  }
  SetIdle(call_id);
  if (!original.empty()) {
    if (Leg* o = FindLeg(original); o != nullptr && o->is_hub) {
      if (StateOf(host_, original) == v1::CALL_STATE_ONHOLDPENDCONF) {
        if (o->parties.size() >= 2) {
          host_->SetCallState(original, Connected());
        } else {
          CollapseConference(original);
        }
      }
    }
  }
  return absl::OkStatus();
}

absl::Status SimProvider::Hold(const std::string& call_id) {
  LB_RETURN_IF_ERROR(GetLeg(call_id).status());
  host_->SetCallState(call_id, MakeStatus(v1::CALL_STATE_ONHOLD));
  return absl::OkStatus();
}

absl::Status SimProvider::Unhold(const std::string& call_id) {
  LB_RETURN_IF_ERROR(GetLeg(call_id).status());
  host_->SetCallState(call_id, Connected());
  return absl::OkStatus();
}

absl::Status SimProvider::SwapHold(const std::string& active_call_id,
                                  const std::string& held_call_id) {
  LB_RETURN_IF_ERROR(GetLeg(active_call_id).status());
  LB_RETURN_IF_ERROR(GetLeg(held_call_id).status());
  // A call pending transfer or conference stays tied to its consultation
  // call: the sim swaps only with a call plainly on hold.
  if (StateOf(host_, held_call_id) != v1::CALL_STATE_ONHOLD) {
    return FailedPrecondition(LINEERR_INVALCALLSTATE,
                              "the sim swaps only with a call on hold (not one pending a transfer "
                              "or conference)");
  }
  host_->SetCallState(active_call_id, MakeStatus(v1::CALL_STATE_ONHOLD));
  host_->SetCallState(held_call_id, Connected());
  return absl::OkStatus();
}

absl::Status SimProvider::SendUserUserInfo(const std::string& call_id, const std::string& uui) {
  LB_ASSIGN_OR_RETURN(Leg * leg, GetLeg(call_id));
  // An extension's call shows it to the other extension; an external
  // number takes it and shows it to no one.
  if (!leg->remote.leg.empty()) {
    host_->UpdateCallInfo(leg->remote.leg, [&](v1::CallInfo* i) { i->set_user_user_info(uui); },
                          {"user_user_info"});
  }
  return absl::OkStatus();
}

absl::Status SimProvider::SetCallParams(const std::string& call_id, v1::BearerMode bearer_mode,
                                       uint32_t rate, const v1::DialParams& dial_params) {
  LB_RETURN_IF_ERROR(GetLeg(call_id).status());
  host_->UpdateCallInfo(
      call_id,
      [&](v1::CallInfo* i) {
        i->set_bearer_mode(bearer_mode);
        i->set_rate(rate);
        *i->mutable_dial_params() = dial_params;
      },
      {"bearer_mode", "rate", "dial_params"});
  return absl::OkStatus();
}

absl::Status SimProvider::SetCallTreatment(const std::string& call_id,
                                           v1::CallTreatment treatment) {
  LB_RETURN_IF_ERROR(GetLeg(call_id).status());
  // The sim has no media path: the treatment is recorded on the call (what
  // the caller would hear until it is answered), not played.
  host_->UpdateCallInfo(call_id, [&](v1::CallInfo* i) { i->set_treatment(treatment); },
                        {"treatment"});
  return absl::OkStatus();
}

absl::Status SimProvider::Redirect(const std::string& call_id, const std::string& destination) {
  LB_ASSIGN_OR_RETURN(Leg * leg, GetLeg(call_id));
  LB_ASSIGN_OR_RETURN(Resolved target, ResolveOrError(destination));
  if (target.kind == Target::kExtension && target.number == leg->ext) {
    return InvalidArgument(LINEERR_TARGETSELF, "cannot redirect a call to the line it rings on");
  }
  if (target.kind == Target::kExternal) LB_RETURN_IF_ERROR(host_->AuthorizeOutside(LineId(leg->ext)));
  CancelTimers(*leg);
  const v1::PartyId self = PartyOfExtension(leg->ext);
  const Remote from = Detach(*leg);
  SetIdle(call_id);
  Route(from, target.kind == Target::kExternal ? config_.outside_prefix() + target.number
                                               : target.number,
        v1::CALL_REASON_REDIRECT, self);
  return absl::OkStatus();
}

absl::Status SimProvider::BlindTransfer(const std::string& call_id,
                                        const std::string& destination) {
  LB_ASSIGN_OR_RETURN(Leg * leg, GetLeg(call_id));
  LB_ASSIGN_OR_RETURN(Resolved target, ResolveOrError(destination));
  if (leg->remote.empty()) {
    return FailedPrecondition(LINEERR_INVALCALLSTATE, "the call has no far end to transfer");
  }
  if (target.kind == Target::kExtension && target.number == leg->ext) {
    return InvalidArgument(LINEERR_TARGETSELF, "cannot transfer a call to its own line");
  }
  if (target.kind == Target::kExternal) LB_RETURN_IF_ERROR(host_->AuthorizeOutside(LineId(leg->ext)));
  const v1::PartyId self = PartyOfExtension(leg->ext);
  const Remote from = Detach(*leg);
  SetIdle(call_id);
  if (Leg* moved = from.leg.empty() ? nullptr : FindLeg(from.leg)) {
    host_->UpdateCallInfo(
        moved->id, [](v1::CallInfo* i) { i->clear_connected(); }, {"connected"});
  }
  Route(from, target.kind == Target::kExternal ? config_.outside_prefix() + target.number
                                               : target.number,
        v1::CALL_REASON_TRANSFER, self);
  return absl::OkStatus();
}

absl::StatusOr<std::string> SimProvider::SetupTransfer(const std::string& call_id) {
  LB_ASSIGN_OR_RETURN(Leg * leg, GetLeg(call_id));
  const std::string ext = leg->ext;
  if (ActiveLegs(ext) >= static_cast<int>(extensions_[ext].config.max_calls())) {
    return ResourceExhausted(LINEERR_CALLUNAVAIL, "no free call appearance for a consultation");
  }
  host_->SetCallState(call_id, MakeStatus(v1::CALL_STATE_ONHOLDPENDTRANSFER));
  return NewConsultation(ext, call_id);
}

absl::StatusOr<std::string> SimProvider::CompleteTransfer(const std::string& call_id,
                                                          const std::string& consultation_id,
                                                          v1::TransferMode mode) {
  LB_ASSIGN_OR_RETURN(Leg * held, GetLeg(call_id));
  LB_ASSIGN_OR_RETURN(Leg * consult, GetLeg(consultation_id));
  if (held->remote.empty()) {
    return FailedPrecondition(LINEERR_INVALCALLSTATE, "the held call has no far end");
  }
  if (consult->remote.empty()) {
    return FailedPrecondition(LINEERR_INVALCONSULTCALLHANDLE,
                              "the consultation call has not reached anyone");
  }
  const v1::CallState cs = StateOf(host_, consultation_id);
  if (consult->remote.external.has_value() && cs != v1::CALL_STATE_CONNECTED) {
    return FailedPrecondition(LINEERR_INVALCALLSTATE,
                              "an outside consultation must be connected before transferring");
  }
  if (mode == v1::TRANSFER_MODE_CONFERENCE) {
    if (cs != v1::CALL_STATE_CONNECTED) {
      return FailedPrecondition(LINEERR_INVALCALLSTATE,
                                "the consultation must be connected to join a conference");
    }
    v1::CallInfo info;
    info.set_origin(v1::CALL_ORIGIN_CONFERENCE);
    info.set_reason(v1::CALL_REASON_DIRECT);
    *info.mutable_caller() = PartyOfExtension(held->ext);
    const std::string ext = held->ext;
    Leg& hub = NewLeg(ext, std::move(info), Connected());
    hub.is_hub = true;
    const std::string hub_id = hub.id;
    for (const std::string& p : {call_id, consultation_id}) JoinConference(hub_id, p);
    return hub_id;
  }
  const Remote a = Detach(*held);
  const Remote b = Detach(*consult);
  SetIdle(call_id);
  SetIdle(consultation_id);
  Link(a, b);
  return std::string();
}

absl::StatusOr<std::pair<std::string, std::string>> SimProvider::SetupConference(
    const std::string& call_id) {
  LB_ASSIGN_OR_RETURN(Leg * leg, GetLeg(call_id));
  const std::string ext = leg->ext;
  if (ActiveLegs(ext) >= static_cast<int>(extensions_[ext].config.max_calls())) {
    return ResourceExhausted(LINEERR_CALLUNAVAIL, "no free call appearance for a consultation");
  }
  v1::CallInfo hub_info;
  hub_info.set_origin(v1::CALL_ORIGIN_CONFERENCE);
  hub_info.set_reason(v1::CALL_REASON_DIRECT);
  *hub_info.mutable_caller() = PartyOfExtension(ext);
  Leg& hub = NewLeg(ext, std::move(hub_info), MakeStatus(v1::CALL_STATE_ONHOLDPENDCONF));
  hub.is_hub = true;
  const std::string hub_id = hub.id;
  JoinConference(hub_id, call_id);
  return std::make_pair(hub_id, NewConsultation(ext, hub_id));
}

absl::StatusOr<std::string> SimProvider::PrepareAddToConference(const std::string& conference_id) {
  LB_ASSIGN_OR_RETURN(Leg * hub, GetLeg(conference_id));
  if (static_cast<int>(hub->parties.size()) >= kMaxConferenceParties) {
    return ResourceExhausted(LINEERR_CONFERENCEFULL,
                             absl::StrFormat("the conference already has %d parties",
                                             hub->parties.size()));
  }
  const std::string ext = hub->ext;
  host_->SetCallState(conference_id, MakeStatus(v1::CALL_STATE_ONHOLDPENDCONF));
  return NewConsultation(ext, conference_id);
}

absl::Status SimProvider::AddToConference(const std::string& conference_id,
                                          const std::string& call_id) {
  LB_ASSIGN_OR_RETURN(Leg * hub, GetLeg(conference_id));
  LB_ASSIGN_OR_RETURN(Leg * party, GetLeg(call_id));
  if (!hub->is_hub) return InvalidArgument(LINEERR_INVALCONFCALLHANDLE, "not a conference call");
  if (party->is_hub || !party->hub.empty()) {
    return InvalidArgument(LINEERR_INVALCALLHANDLE, "the call is already in a conference");
  }
  if (StateOf(host_, call_id) != v1::CALL_STATE_CONNECTED) {
    return FailedPrecondition(LINEERR_INVALCALLSTATE,
                              "a call joins a conference once it is connected");
  }
  if (static_cast<int>(hub->parties.size()) >= kMaxConferenceParties) {
    return ResourceExhausted(LINEERR_CONFERENCEFULL, "the conference is full");
  }
  JoinConference(conference_id, call_id);
  host_->SetCallState(conference_id, Connected());
  return absl::OkStatus();
}

absl::Status SimProvider::RemoveFromConference(const std::string& call_id) {
  LB_ASSIGN_OR_RETURN(Leg * party, GetLeg(call_id));
  if (party->hub.empty()) {
    return FailedPrecondition(LINEERR_INVALCALLSTATE, "the call is not in a conference");
  }
  LeaveConference(*party);
  return absl::OkStatus();
}

void SimProvider::LeaveConference(Leg& party) {
  const std::string id = party.id;
  DisconnectRemote(party, v1::DISCONNECT_MODE_NORMAL, "");
  SetIdle(id);  // OnCallIdle removes it from the hub and collapses the hub
}

void SimProvider::DropHub(Leg& hub) {
  const std::string hub_id = hub.id;
  const std::vector<std::string> parties = hub.parties;
  hub.parties.clear();
  for (const auto& p : parties) {
    if (Leg* party = FindLeg(p)) {
      party->hub.clear();
      DisconnectRemote(*party, v1::DISCONNECT_MODE_NORMAL, "");
      SetIdle(p);
    }
  }
  SetIdle(hub_id);
}

void SimProvider::CollapseConference(const std::string& hub_id) {
  Leg* hub = FindLeg(hub_id);
  if (hub == nullptr || !hub->is_hub) return;
  const v1::CallState hs = StateOf(host_, hub_id);
  bool pending_consult = false;
  for (const auto& [id, l] : legs_) pending_consult |= (l.consult_for == hub_id);
  if (hub->parties.size() >= 2 || (pending_consult && hs == v1::CALL_STATE_ONHOLDPENDCONF)) {
    return;
  }
  // One party left: it is an ordinary call again.
  if (hub->parties.size() == 1) {
    const std::string last = hub->parties.front();
    hub->parties.clear();
    if (Leg* l = FindLeg(last)) {
      l->hub.clear();
      host_->UpdateCallInfo(
          last,
          [](v1::CallInfo* i) {
            i->set_related_call_id(0);
            i->set_related_kind(v1::RELATED_CALL_KIND_UNSPECIFIED);
          },
          {"related_call_id"});
      host_->SetCallState(last, Connected());
    }
  }
  SetIdle(hub_id);
}

std::string SimProvider::FindFreeOrbit() const {
  int64_t base = 0;
  if (!absl::SimpleAtoi(config_.park_orbit_base(), &base)) return "";
  for (int64_t n = base; n < base + 100; ++n) {
    std::string orbit = absl::StrFormat("%0*d", config_.park_orbit_base().size(), n);
    if (!orbits_.count(orbit) && !extensions_.count(orbit)) return orbit;
  }
  return "";
}

absl::StatusOr<ParkResult> SimProvider::Park(const std::string& call_id, v1::ParkMode mode,
                                             const std::string& destination) {
  LB_ASSIGN_OR_RETURN(Leg * leg, GetLeg(call_id));
  if (leg->remote.empty() || leg->is_hub || !leg->hub.empty()) {
    return FailedPrecondition(LINEERR_INVALCALLSTATE, "only a two-party call can be parked");
  }
  std::string orbit;
  if (mode == v1::PARK_MODE_DIRECTED) {
    LB_ASSIGN_OR_RETURN(orbit, NormalizeDialString(destination));
    if (!IsOrbit(orbit)) {
      return InvalidArgument(LINEERR_INVALADDRESS,
                             absl::StrFormat("%s is not a park orbit (%s and the 99 after it)",
                                             orbit, config_.park_orbit_base()));
    }
    if (orbits_.count(orbit)) {
      return FailedPrecondition(LINEERR_INVALADDRESS, absl::StrCat("orbit ", orbit, " is in use"));
    }
  } else {
    orbit = FindFreeOrbit();
    if (orbit.empty()) return ResourceExhausted(LINEERR_RESOURCEUNAVAIL, "every park orbit is in use");
  }
  const Remote parked = Detach(*leg);
  orbits_[orbit] = Orbit{parked, leg->ext};
  if (Leg* p = parked.leg.empty() ? nullptr : FindLeg(parked.leg)) {
    p->parked_at = orbit;
    v1::PartyId where;
    where.set_number(orbit);
    where.set_name("Parked");
    where.set_available(true);
    SetConnectedParty(p->id, where);
  }
  host_->UpdateCallInfo(call_id, [&](v1::CallInfo* i) { i->set_park_address(orbit); },
                        {"park_address"});
  SetIdle(call_id);
  return ParkResult{orbit};
}

absl::StatusOr<std::string> SimProvider::Unpark(const std::string& line_id, uint32_t,
                                                const std::string& park_address) {
  LB_ASSIGN_OR_RETURN(std::string orbit, NormalizeDialString(park_address));
  auto it = orbits_.find(orbit);
  if (it == orbits_.end()) {
    return NotFound(LINEERR_INVALADDRESS, absl::StrCat("nothing is parked on ", orbit));
  }
  const std::string ext = line_id.substr(line_id.find('/') + 1);
  // Taking a call parked from another line needs the principal's rights there.
  if (it->second.from_ext != ext) {
    absl::Status may = host_->AuthorizeTake(LineId(it->second.from_ext),
                                            SamePickupGroup(ext, it->second.from_ext));
    if (absl::IsNotFound(may)) {
      return NotFound(LINEERR_INVALADDRESS, absl::StrCat("nothing is parked on ", orbit));
    }
    LB_RETURN_IF_ERROR(may);
  }
  if (ActiveLegs(ext) >= static_cast<int>(extensions_[ext].config.max_calls())) {
    return ResourceExhausted(LINEERR_CALLUNAVAIL, "no free call appearance");
  }
  const Remote parked = it->second.parked;
  orbits_.erase(it);
  v1::CallInfo info;
  info.set_origin(parked.external.has_value() ? v1::CALL_ORIGIN_EXTERNAL : v1::CALL_ORIGIN_INTERNAL);
  info.set_reason(v1::CALL_REASON_UNPARK);
  *info.mutable_caller() = PartyOf(parked);
  *info.mutable_called() = PartyOfExtension(ext);
  *info.mutable_connected() = PartyOf(parked);
  Leg& leg = NewLeg(ext, std::move(info), Connected());
  const std::string id = leg.id;
  if (Leg* p = parked.leg.empty() ? nullptr : FindLeg(parked.leg)) p->parked_at.clear();
  Link(Remote{id, std::nullopt}, parked);
  return id;
}

absl::StatusOr<std::string> SimProvider::Pickup(const std::string& line_id, uint32_t,
                                                const std::string& destination,
                                                const std::string& group_id) {
  const std::string ext = line_id.substr(line_id.find('/') + 1);
  std::set<std::string> candidates;
  if (!destination.empty()) {
    LB_ASSIGN_OR_RETURN(std::string d, NormalizeDialString(destination));
    if (!extensions_.count(d)) {
      return InvalidArgument(LINEERR_INVALADDRESS, absl::StrCat(d, " is not an extension"));
    }
    candidates.insert(d);
  } else {
    for (const auto& [number, e] : extensions_) {
      if (e.config.pickup_group() == group_id && number != ext) candidates.insert(number);
    }
    if (candidates.empty()) {
      return InvalidArgument(LINEERR_INVALGROUPID, absl::StrCat("no pickup group \"", group_id, "\""));
    }
  }
  // The first ringing call the principal may take: calls on lines it may not
  // see count as not ringing; a visible one it lacks the right for is refused.
  Leg* ringing = nullptr;
  absl::Status refused;
  for (auto& [id, l] : legs_) {
    const v1::CallState s = StateOf(host_, id);
    if (candidates.count(l.ext) &&
        (s == v1::CALL_STATE_OFFERING || s == v1::CALL_STATE_ACCEPTED) && !l.remote.empty()) {
      absl::Status may = host_->AuthorizeTake(LineId(l.ext), SamePickupGroup(ext, l.ext));
      if (may.ok()) {
        ringing = &l;
        break;
      }
      if (!absl::IsNotFound(may) && refused.ok()) refused = may;
    }
  }
  if (ringing == nullptr) {
    LB_RETURN_IF_ERROR(refused);
    return FailedPrecondition(LINEERR_OPERATIONFAILED, "no call is ringing there to pick up");
  }
  if (ActiveLegs(ext) >= static_cast<int>(extensions_[ext].config.max_calls())) {
    return ResourceExhausted(LINEERR_CALLUNAVAIL, "no free call appearance");
  }
  const std::string ringing_id = ringing->id;
  CancelTimers(*ringing);
  const Remote caller = Detach(*ringing);
  host_->SetCallState(ringing_id, Disconnected(v1::DISCONNECT_MODE_PICKUP));
  SetIdle(ringing_id);
  v1::CallInfo info;
  info.set_origin(caller.external.has_value() ? v1::CALL_ORIGIN_EXTERNAL : v1::CALL_ORIGIN_INTERNAL);
  info.set_reason(v1::CALL_REASON_PICKUP);
  *info.mutable_caller() = PartyOf(caller);
  *info.mutable_called() = PartyOfExtension(ext);
  *info.mutable_connected() = PartyOf(caller);
  Leg& leg = NewLeg(ext, std::move(info), Connected());
  const std::string id = leg.id;
  Link(Remote{id, std::nullopt}, caller);
  if (!caller.leg.empty()) host_->SetCallState(caller.leg, Connected());
  return id;
}

absl::Status SimProvider::GenerateDigits(const std::string& call_id, const std::string& digits,
                                         v1::DigitMode mode, absl::Duration) {
  LB_ASSIGN_OR_RETURN(Leg * leg, GetLeg(call_id));
  if (mode != v1::DIGIT_MODE_DTMF) {
    return InvalidArgument(LINEERR_INVALDIGITMODE, "the simulated PBX generates DTMF only");
  }
  SendDtmf(*leg, digits);
  host_->DigitsGenerated(call_id, digits, /*cancelled=*/false);
  return absl::OkStatus();
}

void SimProvider::SendDtmf(const Leg& leg, const std::string& digits) {
  // Everyone who hears this leg: its far end, or every party of a conference.
  std::vector<std::string> listeners;
  auto add_far_end = [&](const Leg& l) {
    if (!l.remote.leg.empty()) listeners.push_back(l.remote.leg);
  };
  const std::string hub_id = leg.is_hub ? leg.id : leg.hub;
  if (Leg* hub = hub_id.empty() ? nullptr : FindLeg(hub_id)) {
    for (const auto& p : hub->parties) {
      if (Leg* party = FindLeg(p)) add_far_end(*party);
    }
  } else {
    add_far_end(leg);
  }
  for (char d : digits) {
    if (d == ',') continue;
    for (const auto& l : listeners) host_->DigitReceived(l, std::string(1, d), v1::DIGIT_MODE_DTMF);
  }
}

absl::Status SimProvider::SetForwarding(const std::string& line_id,
                                        const std::vector<v1::ForwardRule>& rules) {
  const std::string ext = line_id.substr(line_id.find('/') + 1);
  auto it = extensions_.find(ext);
  if (it == extensions_.end()) return NotFound(LINEERR_INVALLINEHANDLE, "no such extension");
  for (const auto& r : rules) {
    LB_ASSIGN_OR_RETURN(Resolved target, ResolveOrError(r.destination()));
    if (target.kind == Target::kExtension && target.number == ext) {
      return InvalidArgument(LINEERR_TARGETSELF, "a line cannot forward to itself");
    }
  }
  // Forwarding outside the PBX creates outside legs on this line's behalf.
  for (const auto& r : rules) {
    if (ResolveOrError(r.destination())->kind == Target::kExternal) {
      LB_RETURN_IF_ERROR(host_->AuthorizeOutside(line_id));
    }
  }
  it->second.forwarding = rules;
  host_->SetLineForwarding(line_id, rules);
  return absl::OkStatus();
}

absl::StatusOr<v1::DeviceConfig> SimProvider::SetDevConfig(const std::string&,
                                                           const v1::DeviceConfig& config) {
  return config;
}

}  // namespace linebridge
