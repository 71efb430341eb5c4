#include "core/phones.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "linebridge/lineerr.h"

namespace linebridge {
namespace {

bool Has(const google::protobuf::RepeatedField<int>& list, int value) {
  return std::find(list.begin(), list.end(), value) != list.end();
}

std::string DeviceName(int device) {
  if (!v1::HookSwitchDevice_IsValid(device)) return absl::StrCat("hookswitch device ", device);
  return v1::HookSwitchDevice_Name(static_cast<v1::HookSwitchDevice>(device));
}

std::string ModeName(int mode) {
  if (!v1::HookSwitchMode_IsValid(mode)) return absl::StrCat("hookswitch mode ", mode);
  return v1::HookSwitchMode_Name(static_cast<v1::HookSwitchMode>(mode));
}

// The modes a device of the phone can take (PHONECAPS dw*HookSwitchModes).
const google::protobuf::RepeatedField<int>* ModesOf(const v1::PhoneCaps& caps, int device) {
  switch (device) {
    case v1::HOOK_SWITCH_DEVICE_HANDSET:
      return &caps.handset_modes();
    case v1::HOOK_SWITCH_DEVICE_SPEAKER:
      return &caps.speaker_modes();
    case v1::HOOK_SWITCH_DEVICE_HEADSET:
      return &caps.headset_modes();
    default:
      return nullptr;
  }
}

const char* DevicePrefix(v1::HookSwitchDevice device) {
  switch (device) {
    case v1::HOOK_SWITCH_DEVICE_HANDSET:
      return "handset";
    case v1::HOOK_SWITCH_DEVICE_SPEAKER:
      return "speaker";
    case v1::HOOK_SWITCH_DEVICE_HEADSET:
      return "headset";
    default:
      return nullptr;
  }
}

// The device's hookswitch device check: one the phone has (else
// INVALHOOKSWITCHDEV).
absl::Status CheckDevice(const v1::Phone& phone, int device) {
  if (device == v1::HOOK_SWITCH_DEVICE_UNSPECIFIED || !Has(phone.caps().hookswitch_devices(), device)) {
    return PhoneError(PHONEERR_INVALHOOKSWITCHDEV,
                      absl::StrCat("phone ", phone.id(), " has no ", DeviceName(device)));
  }
  return absl::OkStatus();
}

bool PrintableAscii(absl::string_view text) {
  return std::all_of(text.begin(), text.end(), [](char c) { return c >= 0x20 && c <= 0x7e; });
}

}  // namespace

uint32_t PhoneEntry::owners() const {
  return static_cast<uint32_t>(std::count_if(opens.begin(), opens.end(), [](const auto& o) {
    return o.second == v1::PRIVILEGE_OWNER;
  }));
}

uint32_t PhoneEntry::monitors() const { return static_cast<uint32_t>(opens.size()) - owners(); }

uint32_t PermanentPhoneId(absl::string_view phone_id) {
  uint32_t h = 2166136261u;
  for (unsigned char c : phone_id) {
    h ^= c;
    h *= 16777619u;
  }
  return h;
}

absl::Status PhoneError(uint32_t phoneerr, absl::string_view message) {
  absl::StatusCode code = absl::StatusCode::kInvalidArgument;
  switch (phoneerr) {
    case PHONEERR_BADDEVICEID:
    case PHONEERR_NODEVICE:
      code = absl::StatusCode::kNotFound;
      break;
    case PHONEERR_NOTOWNER:
    case PHONEERR_INVALPHONESTATE:
    case PHONEERR_INVALPHONEHANDLE:
      code = absl::StatusCode::kFailedPrecondition;
      break;
    case PHONEERR_INUSE:
    case PHONEERR_RESOURCEUNAVAIL:
      code = absl::StatusCode::kResourceExhausted;
      break;
    case PHONEERR_OPERATIONUNAVAIL:
      code = absl::StatusCode::kUnimplemented;
      break;
    case PHONEERR_OPERATIONFAILED:
      code = absl::StatusCode::kInternal;
      break;
    default:
      break;
  }
  return PhoneErrStatus(code, phoneerr, message);
}

void NormalizePhone(v1::Phone* phone) {
  v1::PhoneCaps& caps = *phone->mutable_caps();
  if (caps.permanent_phone_id() == 0) caps.set_permanent_phone_id(PermanentPhoneId(phone->id()));
  if (caps.device_classes_size() == 0) caps.add_device_classes("tapi/phone");
  if (caps.display_rows() == 0 || caps.display_columns() == 0 ||
      uint64_t{caps.display_rows()} * caps.display_columns() > kMaxPhoneDisplayCells) {
    caps.set_display_rows(0);
    caps.set_display_columns(0);
    caps.set_display_settable(false);
  }
  while (phone->buttons_size() > static_cast<int>(kMaxPhoneButtons)) phone->mutable_buttons()->RemoveLast();
  for (int i = 0; i < phone->buttons_size(); ++i) phone->mutable_buttons(i)->set_id(i);
  caps.set_num_button_lamps(phone->buttons_size());
  while (caps.data_area_sizes_size() > static_cast<int>(kMaxPhoneDataAreas)) {
    caps.mutable_data_area_sizes()->RemoveLast();
  }
  auto* areas = phone->mutable_data_areas();
  while (areas->size() > caps.data_area_sizes_size()) areas->RemoveLast();
  while (areas->size() < caps.data_area_sizes_size()) areas->Add();
  for (int i = 0; i < caps.data_area_sizes_size(); ++i) {
    uint32_t& size = *caps.mutable_data_area_sizes()->Mutable(i);
    size = std::min(size, kMaxPhoneDataAreaSize);
    areas->Mutable(i)->resize(size, '\0');
  }
  v1::PhoneStatus& st = *phone->mutable_status();
  st.set_display(std::string(size_t{caps.display_rows()} * caps.display_columns(), ' '));
  st.clear_lamp_modes();
  st.clear_button_states();
  for (const v1::PhoneButton& b : phone->buttons()) {
    st.add_lamp_modes(b.lamp_modes().empty() ? v1::LAMP_MODE_DUMMY : v1::LAMP_MODE_OFF);
    st.add_button_states(v1::PHONE_BUTTON_STATE_UP);
  }
  for (int device : caps.hookswitch_devices()) {
    const auto d = static_cast<v1::HookSwitchDevice>(device);
    if (DevicePrefix(d) != nullptr && HookSwitchModeOf(st, d) == v1::HOOK_SWITCH_MODE_UNSPECIFIED) {
      SetHookSwitchMode(&st, d, v1::HOOK_SWITCH_MODE_ONHOOK);
    }
  }
  st.set_ring_mode(std::min(st.ring_mode(), caps.num_ring_modes()));
}

absl::Status CheckHookSwitch(const v1::Phone& phone, const std::vector<int>& devices, int mode,
                             bool by_client) {
  if (devices.empty()) {
    return PhoneError(PHONEERR_INVALHOOKSWITCHDEV, "no hookswitch device given");
  }
  for (int device : devices) {
    if (absl::Status st = CheckDevice(phone, device); !st.ok()) return st;
    if (by_client && !Has(phone.caps().settable_hookswitch_devices(), device)) {
      return PhoneError(PHONEERR_OPERATIONUNAVAIL,
                        absl::StrCat("the ", DeviceName(device), " hookswitch of phone ",
                                     phone.id(), " cannot be set"));
    }
    const auto* modes = ModesOf(phone.caps(), device);
    if (mode == v1::HOOK_SWITCH_MODE_UNSPECIFIED || mode == v1::HOOK_SWITCH_MODE_UNKNOWN ||
        modes == nullptr || !Has(*modes, mode)) {
      return PhoneError(PHONEERR_INVALHOOKSWITCHMODE,
                        absl::StrCat("the ", DeviceName(device), " of phone ", phone.id(),
                                     " cannot take ", ModeName(mode)));
    }
  }
  return absl::OkStatus();
}

absl::Status CheckDisplay(const v1::Phone& phone, uint32_t row, uint32_t column,
                          absl::string_view text) {
  const v1::PhoneCaps& caps = phone.caps();
  if (caps.display_rows() == 0 || !caps.display_settable()) {
    return PhoneError(PHONEERR_OPERATIONUNAVAIL,
                      absl::StrCat("phone ", phone.id(), " has no display a client may set"));
  }
  if (row >= caps.display_rows() || column >= caps.display_columns()) {
    return PhoneError(PHONEERR_INVALPARAM,
                      absl::StrCat("row ", row, ", column ", column, " is outside the ",
                                   caps.display_rows(), "x", caps.display_columns(),
                                   " display of phone ", phone.id()));
  }
  if (text.size() > kMaxPhoneDisplayText) {
    return PhoneError(PHONEERR_INVALPARAM, absl::StrCat("display text is ", text.size(),
                                                        " bytes; at most ", kMaxPhoneDisplayText));
  }
  if (!PrintableAscii(text)) {
    return PhoneError(PHONEERR_INVALPARAM, "display text must be printable ASCII");
  }
  return absl::OkStatus();
}

absl::Status CheckLamp(const v1::Phone& phone, uint32_t button_lamp_id, int mode) {
  if (!phone.caps().lamps_settable()) {
    return PhoneError(PHONEERR_OPERATIONUNAVAIL,
                      absl::StrCat("the lamps of phone ", phone.id(), " cannot be set"));
  }
  if (button_lamp_id >= static_cast<uint32_t>(phone.buttons_size()) ||
      phone.buttons(static_cast<int>(button_lamp_id)).lamp_modes().empty()) {
    return PhoneError(PHONEERR_INVALBUTTONLAMPID,
                      absl::StrCat("phone ", phone.id(), " has no lamp ", button_lamp_id));
  }
  const v1::PhoneButton& b = phone.buttons(static_cast<int>(button_lamp_id));
  if (mode == v1::LAMP_MODE_UNSPECIFIED || !Has(b.lamp_modes(), mode)) {
    return PhoneError(PHONEERR_INVALLAMPMODE,
                      absl::StrCat("lamp ", button_lamp_id, " of phone ", phone.id(),
                                   " cannot show lamp mode ", mode));
  }
  return absl::OkStatus();
}

absl::Status CheckRing(const v1::Phone& phone, uint32_t ring_mode, uint32_t volume) {
  if (phone.caps().num_ring_modes() == 0 || !phone.caps().ring_settable()) {
    return PhoneError(PHONEERR_OPERATIONUNAVAIL,
                      absl::StrCat("the ringer of phone ", phone.id(), " cannot be set"));
  }
  if (ring_mode > phone.caps().num_ring_modes()) {
    return PhoneError(PHONEERR_INVALRINGMODE,
                      absl::StrCat("phone ", phone.id(), " has ring modes 0..",
                                   phone.caps().num_ring_modes(), ", not ", ring_mode));
  }
  if (volume > kMaxPhoneLevel) {
    return PhoneError(PHONEERR_INVALPARAM,
                      absl::StrCat("ring volume ", volume, " is above ", kMaxPhoneLevel));
  }
  return absl::OkStatus();
}

absl::Status CheckLevel(const v1::Phone& phone, int device, uint32_t level, bool gain) {
  if (absl::Status st = CheckDevice(phone, device); !st.ok()) return st;
  const auto& devices = gain ? phone.caps().gain_devices() : phone.caps().volume_devices();
  if (!Has(devices, device)) {
    return PhoneError(PHONEERR_OPERATIONUNAVAIL,
                      absl::StrCat("the ", gain ? "gain" : "volume", " of the ", DeviceName(device),
                                   " of phone ", phone.id(), " cannot be set"));
  }
  if (level > kMaxPhoneLevel) {
    return PhoneError(PHONEERR_INVALPARAM,
                      absl::StrCat("level ", level, " is above ", kMaxPhoneLevel));
  }
  return absl::OkStatus();
}

absl::Status CheckButtonInfo(const v1::Phone& phone, const v1::PhoneButton& button) {
  if (!phone.caps().button_info_settable()) {
    return PhoneError(PHONEERR_OPERATIONUNAVAIL,
                      absl::StrCat("the buttons of phone ", phone.id(), " cannot be set"));
  }
  if (button.id() >= static_cast<uint32_t>(phone.buttons_size())) {
    return PhoneError(PHONEERR_INVALBUTTONLAMPID,
                      absl::StrCat("phone ", phone.id(), " has no button ", button.id()));
  }
  if (button.mode() == v1::PHONE_BUTTON_MODE_UNSPECIFIED ||
      !v1::PhoneButtonMode_IsValid(button.mode())) {
    return PhoneError(PHONEERR_INVALBUTTONMODE,
                      absl::StrCat("button mode ", static_cast<int>(button.mode()), " is not one"));
  }
  if (!v1::PhoneButtonFunction_IsValid(button.function())) {
    return PhoneError(PHONEERR_INVALPARAM, absl::StrCat("button function ",
                                                        static_cast<int>(button.function()),
                                                        " is not one"));
  }
  if (button.text().size() > kMaxPhoneButtonText || !PrintableAscii(button.text())) {
    return PhoneError(PHONEERR_INVALPARAM,
                      absl::StrCat("button text must be at most ", kMaxPhoneButtonText,
                                   " printable ASCII characters"));
  }
  return absl::OkStatus();
}

absl::Status CheckDataId(const v1::Phone& phone, uint32_t data_id) {
  if (data_id >= static_cast<uint32_t>(phone.caps().data_area_sizes_size())) {
    return PhoneError(PHONEERR_INVALDATAID, absl::StrCat("phone ", phone.id(), " has no data area ",
                                                         data_id));
  }
  return absl::OkStatus();
}

absl::Status CheckPress(const v1::Phone& phone, uint32_t button_id) {
  if (button_id >= static_cast<uint32_t>(phone.buttons_size())) {
    return PhoneError(PHONEERR_INVALBUTTONLAMPID,
                      absl::StrCat("phone ", phone.id(), " has no button ", button_id));
  }
  if (phone.buttons(static_cast<int>(button_id)).mode() == v1::PHONE_BUTTON_MODE_DUMMY) {
    return PhoneError(PHONEERR_INVALBUTTONMODE,
                      absl::StrCat("button ", button_id, " of phone ", phone.id(),
                                   " is a lamp without a button"));
  }
  return absl::OkStatus();
}

v1::HookSwitchMode HookSwitchModeOf(const v1::PhoneStatus& status, v1::HookSwitchDevice device) {
  switch (device) {
    case v1::HOOK_SWITCH_DEVICE_HANDSET:
      return status.handset_mode();
    case v1::HOOK_SWITCH_DEVICE_SPEAKER:
      return status.speaker_mode();
    case v1::HOOK_SWITCH_DEVICE_HEADSET:
      return status.headset_mode();
    default:
      return v1::HOOK_SWITCH_MODE_UNSPECIFIED;
  }
}

std::vector<std::string> SetHookSwitchMode(v1::PhoneStatus* status, v1::HookSwitchDevice device,
                                           v1::HookSwitchMode mode) {
  if (DevicePrefix(device) == nullptr || HookSwitchModeOf(*status, device) == mode) return {};
  switch (device) {
    case v1::HOOK_SWITCH_DEVICE_HANDSET:
      status->set_handset_mode(mode);
      break;
    case v1::HOOK_SWITCH_DEVICE_SPEAKER:
      status->set_speaker_mode(mode);
      break;
    default:
      status->set_headset_mode(mode);
      break;
  }
  return {absl::StrCat(DevicePrefix(device), "_mode")};
}

std::vector<std::string> WriteDisplay(v1::PhoneStatus* status, const v1::PhoneCaps& caps,
                                      uint32_t row, uint32_t column, absl::string_view text) {
  const size_t cells = size_t{caps.display_rows()} * caps.display_columns();
  std::string display = status->display();
  display.resize(cells, ' ');
  const size_t at = size_t{row} * caps.display_columns() + column;
  if (at >= cells) return {};
  const size_t n = std::min(text.size(), cells - at);
  display.replace(at, n, text.data(), n);
  if (display == status->display()) return {};
  status->set_display(std::move(display));
  return {"display"};
}

std::vector<std::string> SetLevel(v1::PhoneStatus* status, v1::HookSwitchDevice device,
                                  bool gain, uint32_t level) {
  uint32_t old = 0;
  switch (device) {
    case v1::HOOK_SWITCH_DEVICE_HANDSET:
      old = gain ? status->handset_gain() : status->handset_volume();
      gain ? status->set_handset_gain(level) : status->set_handset_volume(level);
      break;
    case v1::HOOK_SWITCH_DEVICE_SPEAKER:
      old = gain ? status->speaker_gain() : status->speaker_volume();
      gain ? status->set_speaker_gain(level) : status->set_speaker_volume(level);
      break;
    case v1::HOOK_SWITCH_DEVICE_HEADSET:
      old = gain ? status->headset_gain() : status->headset_volume();
      gain ? status->set_headset_gain(level) : status->set_headset_volume(level);
      break;
    default:
      return {};
  }
  if (old == level) return {};
  return {absl::StrCat(DevicePrefix(device), gain ? "_gain" : "_volume")};
}

bool IsOffHook(v1::HookSwitchMode mode) {
  return mode == v1::HOOK_SWITCH_MODE_MIC || mode == v1::HOOK_SWITCH_MODE_SPEAKER ||
         mode == v1::HOOK_SWITCH_MODE_MIC_SPEAKER;
}

}  // namespace linebridge
