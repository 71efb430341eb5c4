// The sim's phones: a desk set per extension (docs/api.md#phones). The
// engine keeps the phone's state and checks requests; this file makes it
// behave like a phone: it follows the line's calls (ringer, lamps) and
// turns what the person at it does (OperatePhone, or a client setting the
// hookswitch) into call control on the extension's line.
#include <algorithm>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/match.h"
#include "core/phones.h"
#include "linebridge/lineerr.h"
#include "providers/sim/sim_provider.h"

namespace linebridge {
namespace {

bool IsRinging(v1::CallState s) {
  return s == v1::CALL_STATE_OFFERING || s == v1::CALL_STATE_ACCEPTED;
}
bool IsHeld(v1::CallState s) {
  return s == v1::CALL_STATE_ONHOLD || s == v1::CALL_STATE_ONHOLDPENDTRANSFER ||
         s == v1::CALL_STATE_ONHOLDPENDCONF;
}
// A call the handset carries: everything but ringing, held and ending ones.
bool IsTalking(v1::CallState s) {
  return !IsRinging(s) && !IsHeld(s) && s != v1::CALL_STATE_IDLE &&
         s != v1::CALL_STATE_DISCONNECTED && s != v1::CALL_STATE_UNSPECIFIED;
}

v1::PhoneButton Button(v1::PhoneButtonMode mode, v1::PhoneButtonFunction function,
                       std::string text, std::initializer_list<v1::LampMode> lamps = {}) {
  v1::PhoneButton b;
  b.set_mode(mode);
  b.set_function(function);
  b.set_text(std::move(text));
  for (v1::LampMode m : lamps) b.add_lamp_modes(m);
  return b;
}

// Keypad digits a dial-tone call collects at most.
constexpr size_t kMaxPhoneDialled = 32;

template <typename E>
void AddAll(google::protobuf::RepeatedField<int>* out, std::initializer_list<E> values) {
  for (E v : values) out->Add(v);
}

}  // namespace

v1::Phone SimProvider::BuildPhone(const Extension& ext) const {
  const auto& e = ext.config;
  v1::Phone phone;
  phone.set_id(PhoneId(e.number()));
  phone.set_name(e.name().empty() ? absl::StrCat("Phone ", e.number())
                                  : absl::StrCat(e.name(), " (", e.number(), ")"));
  phone.set_provider(std::string(type()));
  phone.set_line_id(LineId(e.number()));
  v1::PhoneCaps* caps = phone.mutable_caps();
  caps->set_provider_info("linebridge simulated PBX");
  caps->set_phone_info(absl::StrCat("desk set of extension ", e.number()));
  caps->set_phone_name(phone.name());
  const auto devices = {v1::HOOK_SWITCH_DEVICE_HANDSET, v1::HOOK_SWITCH_DEVICE_SPEAKER};
  AddAll(caps->mutable_hookswitch_devices(), devices);
  AddAll(caps->mutable_settable_hookswitch_devices(), devices);
  AddAll(caps->mutable_volume_devices(), devices);
  AddAll(caps->mutable_gain_devices(), devices);
  AddAll(caps->mutable_handset_modes(),
         {v1::HOOK_SWITCH_MODE_ONHOOK, v1::HOOK_SWITCH_MODE_MIC_SPEAKER});
  AddAll(caps->mutable_speaker_modes(),
         {v1::HOOK_SWITCH_MODE_ONHOOK, v1::HOOK_SWITCH_MODE_MIC, v1::HOOK_SWITCH_MODE_SPEAKER,
          v1::HOOK_SWITCH_MODE_MIC_SPEAKER});
  caps->set_display_rows(2);
  caps->set_display_columns(40);
  caps->set_num_ring_modes(3);
  caps->add_data_area_sizes(kPhoneDataAreaSize);
  caps->add_data_area_sizes(kPhoneDataAreaSize);
  caps->set_display_settable(true);
  caps->set_lamps_settable(true);
  caps->set_ring_settable(true);
  caps->set_button_info_settable(true);
  for (int d = 0; d <= 9; ++d) {
    *phone.add_buttons() = Button(v1::PHONE_BUTTON_MODE_KEYPAD, v1::PHONE_BUTTON_FUNCTION_NONE,
                                  std::to_string(d));
  }
  *phone.add_buttons() = Button(v1::PHONE_BUTTON_MODE_KEYPAD, v1::PHONE_BUTTON_FUNCTION_NONE, "*");
  *phone.add_buttons() = Button(v1::PHONE_BUTTON_MODE_KEYPAD, v1::PHONE_BUTTON_FUNCTION_NONE, "#");
  const auto lamp = {v1::LAMP_MODE_OFF, v1::LAMP_MODE_STEADY, v1::LAMP_MODE_WINK,
                     v1::LAMP_MODE_FLASH, v1::LAMP_MODE_FLUTTER};
  *phone.add_buttons() = Button(v1::PHONE_BUTTON_MODE_CALL, v1::PHONE_BUTTON_FUNCTION_CALLAPP,
                                e.number(), lamp);
  *phone.add_buttons() =
      Button(v1::PHONE_BUTTON_MODE_FEATURE, v1::PHONE_BUTTON_FUNCTION_HOLD, "Hold", lamp);
  *phone.add_buttons() =
      Button(v1::PHONE_BUTTON_MODE_FEATURE, v1::PHONE_BUTTON_FUNCTION_TRANSFER, "Transfer");
  *phone.add_buttons() =
      Button(v1::PHONE_BUTTON_MODE_FEATURE, v1::PHONE_BUTTON_FUNCTION_DROP, "Drop");
  v1::PhoneStatus* st = phone.mutable_status();
  st->set_connected(true);
  st->set_ring_volume(32768);
  st->set_handset_volume(32768);
  st->set_handset_gain(32768);
  st->set_speaker_volume(32768);
  st->set_speaker_gain(32768);
  return phone;
}

void SimProvider::AddPhoneOf(const Extension& ext) {
  if (!phones_enabled()) return;
  host_->AddPhone(BuildPhone(ext));
  phones_[ext.config.number()] = Phone();
}

std::string SimProvider::ExtOfPhone(const std::string& phone_id) const {
  const std::string prefix = PhoneId("");
  if (!absl::StartsWith(phone_id, prefix)) return "";
  std::string ext = phone_id.substr(prefix.size());
  return phones_.count(ext) ? ext : "";
}

std::string SimProvider::CallIn(const std::string& ext,
                                std::initializer_list<v1::CallState> states) const {
  std::vector<const v1::Call*> calls = host_->CallsOnLine(LineId(ext));
  std::sort(calls.begin(), calls.end(), [](const v1::Call* a, const v1::Call* b) {
    return a->info().call_id() < b->info().call_id();
  });
  for (const v1::Call* c : calls) {
    const v1::CallState s = c->status().state();
    if (std::find(states.begin(), states.end(), s) != states.end()) return c->id();
  }
  return "";
}

// ---------------------------------------------------------------------------
// The phone follows the line's calls.

void SimProvider::OnLineCallsChanged(const std::string& line_id) {
  const std::string ext = line_id.substr(line_id.find('/') + 1);
  auto it = phones_.find(ext);
  if (it == phones_.end() || LineId(ext) != line_id) return;
  Phone& phone = it->second;
  bool ringing = false, talking = false, held = false, dialtone = false;
  for (const v1::Call* c : host_->CallsOnLine(line_id)) {
    const v1::CallState s = c->status().state();
    ringing |= IsRinging(s);
    talking |= IsTalking(s);
    held |= IsHeld(s);
    dialtone |= s == v1::CALL_STATE_DIALTONE;
  }
  if (!dialtone) phone.dialled.clear();
  const std::string phone_id = PhoneId(ext);
  // The ringer: ring mode 1 while a call is offered, silent after.
  if (ringing != phone.ringing) {
    phone.ringing = ringing;
    host_->UpdatePhoneStatus(
        phone_id, [&](v1::PhoneStatus* st) { st->set_ring_mode(ringing ? 1 : 0); }, {"ring_mode"});
  }
  // The call appearance: flashes while offered, steady in use, winks held.
  const v1::LampMode call_lamp = ringing   ? v1::LAMP_MODE_FLASH
                                 : talking ? v1::LAMP_MODE_STEADY
                                 : held    ? v1::LAMP_MODE_WINK
                                           : v1::LAMP_MODE_OFF;
  const v1::LampMode hold_lamp = held ? v1::LAMP_MODE_STEADY : v1::LAMP_MODE_OFF;
  struct Lamp {
    uint32_t button;
    v1::LampMode mode;
    v1::LampMode* last;
  };
  for (const Lamp& lamp : {Lamp{kCallButton, call_lamp, &phone.call_lamp},
                           Lamp{kHoldButton, hold_lamp, &phone.hold_lamp}}) {
    if (*lamp.last == lamp.mode) continue;
    *lamp.last = lamp.mode;
    host_->UpdatePhoneStatus(
        phone_id,
        [&lamp](v1::PhoneStatus* st) {
          st->set_lamp_modes(static_cast<int>(lamp.button), lamp.mode);
        },
        {"lamp_modes"}, lamp.button);
  }
}

// ---------------------------------------------------------------------------
// What the person at the phone does.

absl::Status SimProvider::OperatePhone(const std::string& phone_id,
                                       const v1::OperatePhoneRequest& request) {
  const std::string ext = ExtOfPhone(phone_id);
  if (ext.empty()) {
    return PhoneError(PHONEERR_BADDEVICEID, absl::StrCat("no phone \"", phone_id, "\""));
  }
  if (request.has_hookswitch()) {
    const auto device = request.hookswitch().device();
    const auto mode = request.hookswitch().mode();
    std::vector<std::string> changed;
    if (const v1::Phone* p = host_->FindPhone(phone_id)) {
      v1::PhoneStatus probe = p->status();
      changed = SetHookSwitchMode(&probe, device, mode);
    }
    host_->UpdatePhoneStatus(
        phone_id, [&](v1::PhoneStatus* st) { (void)SetHookSwitchMode(st, device, mode); },
        std::move(changed));
    HookSwitchChanged(ext);
    return absl::OkStatus();
  }
  const uint32_t button = request.press_button();
  host_->PhoneButton(phone_id, button, v1::PHONE_BUTTON_STATE_DOWN);
  PressButton(ext, button);
  host_->PhoneButton(phone_id, button, v1::PHONE_BUTTON_STATE_UP);
  return absl::OkStatus();
}

void SimProvider::PhoneStatusSet(const std::string& phone_id,
                                 const std::vector<std::string>& changed) {
  const std::string ext = ExtOfPhone(phone_id);
  if (ext.empty()) return;
  for (const std::string& c : changed) {
    if (c == "handset_mode" || c == "speaker_mode" || c == "headset_mode") {
      HookSwitchChanged(ext);
      return;
    }
  }
}

void SimProvider::HookSwitchChanged(const std::string& ext) {
  const v1::Phone* p = host_->FindPhone(PhoneId(ext));
  if (p == nullptr) return;
  const bool offhook = IsOffHook(p->status().handset_mode()) ||
                       IsOffHook(p->status().speaker_mode()) ||
                       IsOffHook(p->status().headset_mode());
  Phone& phone = phones_[ext];
  if (offhook == phone.offhook) return;
  phone.offhook = offhook;
  if (offhook) {
    // Lifted: a ringing call is answered; with no call in progress, dial tone.
    if (std::string ringing = CallIn(ext, {v1::CALL_STATE_OFFERING, v1::CALL_STATE_ACCEPTED});
        !ringing.empty()) {
      (void)Answer(ringing, "");
    } else if (CallIn(ext, {v1::CALL_STATE_CONNECTED, v1::CALL_STATE_DIALTONE,
                            v1::CALL_STATE_DIALING, v1::CALL_STATE_PROCEEDING,
                            v1::CALL_STATE_RINGBACK})
                   .empty()) {
      phone.dialled.clear();
      (void)MakeCall(LineId(ext), 0, "", v1::CallParams());
    }
    return;
  }
  // Replaced: the call the handset carried ends (held and ringing calls stay).
  for (int i = 0; i < 8; ++i) {
    const std::string talking =
        CallIn(ext, {v1::CALL_STATE_CONNECTED, v1::CALL_STATE_DIALTONE, v1::CALL_STATE_DIALING,
                     v1::CALL_STATE_PROCEEDING, v1::CALL_STATE_RINGBACK, v1::CALL_STATE_BUSY,
                     v1::CALL_STATE_SPECIALINFO, v1::CALL_STATE_CONFERENCED});
    if (talking.empty() || !Drop(talking, "").ok()) break;
  }
}

void SimProvider::PressButton(const std::string& ext, uint32_t button) {
  if (button <= 9) return PressKeypad(ext, static_cast<char>('0' + button));
  if (button == kStarButton) return PressKeypad(ext, '*');
  if (button == kHashButton) return PressKeypad(ext, '#');
  const std::string connected = CallIn(ext, {v1::CALL_STATE_CONNECTED});
  const std::string held = CallIn(ext, {v1::CALL_STATE_ONHOLD});
  const std::string ringing = CallIn(ext, {v1::CALL_STATE_OFFERING, v1::CALL_STATE_ACCEPTED});
  switch (button) {
    case kCallButton:
      // The call appearance: picks up a ringing call, else takes back a held one.
      if (!ringing.empty()) {
        (void)Answer(ringing, "");
      } else if (!held.empty() && connected.empty()) {
        (void)Unhold(held);
      }
      return;
    case kHoldButton:
      if (!connected.empty()) {
        (void)Hold(connected);
      } else if (!held.empty()) {
        (void)Unhold(held);
      }
      return;
    case kTransferButton: {
      // First press: the connected call waits for the transfer and a
      // consultation call gets dial tone (dial it on the keypad); second
      // press: the transfer completes.
      const std::string pending = CallIn(ext, {v1::CALL_STATE_ONHOLDPENDTRANSFER});
      if (pending.empty()) {
        if (!connected.empty()) (void)SetupTransfer(connected);
        return;
      }
      const std::string consultation =
          CallIn(ext, {v1::CALL_STATE_CONNECTED, v1::CALL_STATE_RINGBACK});
      if (!consultation.empty()) {
        (void)CompleteTransfer(pending, consultation, v1::TRANSFER_MODE_TRANSFER);
      }
      return;
    }
    case kDropButton: {
      const std::string talking =
          CallIn(ext, {v1::CALL_STATE_CONNECTED, v1::CALL_STATE_DIALTONE, v1::CALL_STATE_DIALING,
                       v1::CALL_STATE_PROCEEDING, v1::CALL_STATE_RINGBACK, v1::CALL_STATE_BUSY,
                       v1::CALL_STATE_SPECIALINFO});
      if (!talking.empty()) {
        (void)Drop(talking, "");
      } else if (!ringing.empty()) {
        (void)Drop(ringing, "");  // rejects it
      }
      return;
    }
    default:
      return;  // a button a client relabelled to something the sim does not do
  }
}

void SimProvider::PressKeypad(const std::string& ext, char digit) {
  // In a call: the digit goes to the far end as DTMF.
  if (const std::string connected = CallIn(ext, {v1::CALL_STATE_CONNECTED}); !connected.empty()) {
    if (const Leg* leg = FindLeg(connected)) SendDtmf(*leg, std::string(1, digit));
    return;
  }
  // On dial tone: digits collect until they name a number, then it is dialled.
  const std::string dialtone = CallIn(ext, {v1::CALL_STATE_DIALTONE});
  if (dialtone.empty()) return;
  Phone& phone = phones_[ext];
  if (phone.dialled.size() >= kMaxPhoneDialled) return;
  phone.dialled.push_back(digit);
  if (Resolve(phone.dialled).kind != Target::kNone) {
    const std::string number = phone.dialled;
    phone.dialled.clear();
    (void)Dial(dialtone, number);
  }
}

}  // namespace linebridge
