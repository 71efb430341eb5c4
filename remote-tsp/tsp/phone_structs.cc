// The phone structures TAPI reads (PHONECAPS, PHONESTATUS, PHONEBUTTONINFO,
// VARSTRING) and the PHONEBUTTONINFO it hands in, from a phone's snapshot.
#include "tsp/phone_structs.h"

#include <algorithm>
#include <bit>
#include <cstddef>
#include <cstring>
#include <vector>

#include "absl/strings/ascii.h"
#include "tsp/provider_internal.h"
#include "tsp/var_struct.h"

namespace linebridge::tsp {
namespace {

// The fixed part of PHONECAPS: PermanentPhoneGuid came with TAPI 2.2.
DWORD MinPhoneCaps(DWORD version) {
  return version >= 0x00020002 ? sizeof(PHONECAPS) : offsetof(PHONECAPS, PermanentPhoneGuid);
}

// Per hookswitch device: its PHONEFEATURE_* and PHONESTATE_* bits.
struct DeviceBits {
  DWORD get_hookswitch, set_hookswitch, get_volume, set_volume, get_gain, set_gain;
  DWORD state_hookswitch, state_volume, state_gain;
};
const DeviceBits* BitsOf(int device) {
  static constexpr DeviceBits kHandset = {
      PHONEFEATURE_GETHOOKSWITCHHANDSET, PHONEFEATURE_SETHOOKSWITCHHANDSET,
      PHONEFEATURE_GETVOLUMEHANDSET,     PHONEFEATURE_SETVOLUMEHANDSET,
      PHONEFEATURE_GETGAINHANDSET,       PHONEFEATURE_SETGAINHANDSET,
      PHONESTATE_HANDSETHOOKSWITCH,      PHONESTATE_HANDSETVOLUME,
      PHONESTATE_HANDSETGAIN};
  static constexpr DeviceBits kSpeaker = {
      PHONEFEATURE_GETHOOKSWITCHSPEAKER, PHONEFEATURE_SETHOOKSWITCHSPEAKER,
      PHONEFEATURE_GETVOLUMESPEAKER,     PHONEFEATURE_SETVOLUMESPEAKER,
      PHONEFEATURE_GETGAINSPEAKER,       PHONEFEATURE_SETGAINSPEAKER,
      PHONESTATE_SPEAKERHOOKSWITCH,      PHONESTATE_SPEAKERVOLUME,
      PHONESTATE_SPEAKERGAIN};
  static constexpr DeviceBits kHeadset = {
      PHONEFEATURE_GETHOOKSWITCHHEADSET, PHONEFEATURE_SETHOOKSWITCHHEADSET,
      PHONEFEATURE_GETVOLUMEHEADSET,     PHONEFEATURE_SETVOLUMEHEADSET,
      PHONEFEATURE_GETGAINHEADSET,       PHONEFEATURE_SETGAINHEADSET,
      PHONESTATE_HEADSETHOOKSWITCH,      PHONESTATE_HEADSETVOLUME,
      PHONESTATE_HEADSETGAIN};
  switch (device) {
    case v1::HOOK_SWITCH_DEVICE_HANDSET: return &kHandset;
    case v1::HOOK_SWITCH_DEVICE_SPEAKER: return &kSpeaker;
    case v1::HOOK_SWITCH_DEVICE_HEADSET: return &kHeadset;
    default: return nullptr;
  }
}

// The modes a device can take (PHONECAPS dw*HookSwitchModes).
DWORD ModesOf(const v1::PhoneCaps& caps, int device) {
  switch (device) {
    case v1::HOOK_SWITCH_DEVICE_HANDSET: return PhoneMaskOf(caps.handset_modes());
    case v1::HOOK_SWITCH_DEVICE_SPEAKER: return PhoneMaskOf(caps.speaker_modes());
    case v1::HOOK_SWITCH_DEVICE_HEADSET: return PhoneMaskOf(caps.headset_modes());
    default: return 0;
  }
}

template <typename Repeated>
bool Contains(const Repeated& values, int v) {
  return std::find(values.begin(), values.end(), v) != values.end();
}

// A DWORD array as a variable part.
void AppendDwords(VarStructWriter& w, size_t size_field, size_t offset_field,
                  const std::vector<DWORD>& values) {
  if (values.empty()) return;
  w.AppendBytes(size_field, offset_field, values.data(), values.size() * sizeof(DWORD));
}

// The phone's buttons by id (a button missing from the list is a dummy).
const v1::PhoneButton* ButtonOf(const v1::Phone& phone, DWORD id) {
  for (const v1::PhoneButton& b : phone.buttons()) {
    if (b.id() == id) return &b;
  }
  return nullptr;
}

DWORD NumButtonsOf(const v1::Phone& phone) {
  return std::max<DWORD>(phone.caps().num_button_lamps(),
                         static_cast<DWORD>(phone.buttons_size()));
}

}  // namespace

int PhoneValueOfBit(DWORD bits) {
  if (bits == 0 || (bits & (bits - 1)) != 0) return 0;
  return std::countr_zero(bits) + 1;
}

DWORD PhoneFeaturesOf(const v1::PhoneCaps& caps) {
  DWORD f = PHONEFEATURE_GETBUTTONINFO | PHONEFEATURE_GETRING;
  if (caps.num_button_lamps() > 0) f |= PHONEFEATURE_GETLAMP;
  if (caps.display_rows() > 0 && caps.display_columns() > 0) {
    f |= PHONEFEATURE_GETDISPLAY;
    if (caps.display_settable()) f |= PHONEFEATURE_SETDISPLAY;
  }
  if (caps.data_area_sizes_size() > 0) f |= PHONEFEATURE_GETDATA | PHONEFEATURE_SETDATA;
  if (caps.lamps_settable() && caps.num_button_lamps() > 0) f |= PHONEFEATURE_SETLAMP;
  if (caps.ring_settable()) f |= PHONEFEATURE_SETRING;
  if (caps.button_info_settable() && caps.num_button_lamps() > 0) {
    f |= PHONEFEATURE_SETBUTTONINFO;
  }
  for (int d : caps.hookswitch_devices()) {
    if (const DeviceBits* b = BitsOf(d)) f |= b->get_hookswitch;
  }
  for (int d : caps.settable_hookswitch_devices()) {
    if (const DeviceBits* b = BitsOf(d)) f |= b->set_hookswitch;
  }
  for (int d : caps.volume_devices()) {
    if (const DeviceBits* b = BitsOf(d)) f |= b->get_volume | b->set_volume;
  }
  for (int d : caps.gain_devices()) {
    if (const DeviceBits* b = BitsOf(d)) f |= b->get_gain | b->set_gain;
  }
  return f;
}

DWORD PhoneStatesOf(const v1::PhoneCaps& caps) {
  DWORD s = PHONESTATE_OTHER | PHONESTATE_CONNECTED | PHONESTATE_DISCONNECTED |
            PHONESTATE_OWNER | PHONESTATE_MONITORS | PHONESTATE_RINGMODE |
            PHONESTATE_RINGVOLUME | PHONESTATE_CAPSCHANGE | PHONESTATE_REMOVED;
  if (caps.display_rows() > 0) s |= PHONESTATE_DISPLAY;
  if (caps.num_button_lamps() > 0) s |= PHONESTATE_LAMP;
  for (int d : caps.hookswitch_devices()) {
    if (const DeviceBits* b = BitsOf(d)) s |= b->state_hookswitch;
  }
  for (int d : caps.volume_devices()) {
    if (const DeviceBits* b = BitsOf(d)) s |= b->state_volume;
  }
  for (int d : caps.gain_devices()) {
    if (const DeviceBits* b = BitsOf(d)) s |= b->state_gain;
  }
  return s;
}

DWORD PhoneStateOfChange(const std::string& changed, bool connected) {
  static constexpr struct {
    const char* name;
    DWORD state;
  } kStates[] = {
      {"display", PHONESTATE_DISPLAY},
      {"lamp_modes", PHONESTATE_LAMP},
      {"ring_mode", PHONESTATE_RINGMODE},
      {"ring_volume", PHONESTATE_RINGVOLUME},
      {"handset_mode", PHONESTATE_HANDSETHOOKSWITCH},
      {"handset_volume", PHONESTATE_HANDSETVOLUME},
      {"handset_gain", PHONESTATE_HANDSETGAIN},
      {"speaker_mode", PHONESTATE_SPEAKERHOOKSWITCH},
      {"speaker_volume", PHONESTATE_SPEAKERVOLUME},
      {"speaker_gain", PHONESTATE_SPEAKERGAIN},
      {"headset_mode", PHONESTATE_HEADSETHOOKSWITCH},
      {"headset_volume", PHONESTATE_HEADSETVOLUME},
      {"headset_gain", PHONESTATE_HEADSETGAIN},
      {"num_owners", PHONESTATE_OWNER},
      {"num_monitors", PHONESTATE_MONITORS},
      {"buttons", PHONESTATE_CAPSCHANGE},
  };
  if (changed == "connected") return connected ? PHONESTATE_CONNECTED : PHONESTATE_DISCONNECTED;
  for (const auto& s : kStates) {
    if (changed == s.name) return s.state;
  }
  return 0;
}

DWORD HookSwitchModeOf(const v1::PhoneStatus& status, v1::HookSwitchDevice device) {
  switch (device) {
    case v1::HOOK_SWITCH_DEVICE_HANDSET: return PhoneBitOf(status.handset_mode());
    case v1::HOOK_SWITCH_DEVICE_SPEAKER: return PhoneBitOf(status.speaker_mode());
    case v1::HOOK_SWITCH_DEVICE_HEADSET: return PhoneBitOf(status.headset_mode());
    default: return 0;
  }
}

DWORD OffHookDevicesOf(const v1::PhoneStatus& status) {
  DWORD devs = 0;
  for (int d = v1::HOOK_SWITCH_DEVICE_HANDSET; d <= v1::HOOK_SWITCH_DEVICE_HEADSET; ++d) {
    const DWORD mode = HookSwitchModeOf(status, static_cast<v1::HookSwitchDevice>(d));
    if (mode != 0 && mode != PHONEHOOKSWITCHMODE_ONHOOK && mode != PHONEHOOKSWITCHMODE_UNKNOWN) {
      devs |= PhoneBitOf(d);
    }
  }
  return devs;
}

DWORD VolumeOf(const v1::PhoneStatus& status, v1::HookSwitchDevice device) {
  switch (device) {
    case v1::HOOK_SWITCH_DEVICE_HANDSET: return status.handset_volume();
    case v1::HOOK_SWITCH_DEVICE_SPEAKER: return status.speaker_volume();
    case v1::HOOK_SWITCH_DEVICE_HEADSET: return status.headset_volume();
    default: return 0;
  }
}

DWORD GainOf(const v1::PhoneStatus& status, v1::HookSwitchDevice device) {
  switch (device) {
    case v1::HOOK_SWITCH_DEVICE_HANDSET: return status.handset_gain();
    case v1::HOOK_SWITCH_DEVICE_SPEAKER: return status.speaker_gain();
    case v1::HOOK_SWITCH_DEVICE_HEADSET: return status.headset_gain();
    default: return 0;
  }
}

// ---- PHONECAPS ----

LONG CheckPhoneCaps(DWORD version, const PHONECAPS* caps) {
  if (caps == nullptr) return PHONEERR_INVALPOINTER;
  if (TotalSizeOf(caps) < MinPhoneCaps(version)) return PHONEERR_STRUCTURETOOSMALL;
  return 0;
}

LONG WritePhoneCaps(const PhoneSnapshot& phone, DWORD version, LPPHONECAPS caps) {
  if (LONG err = CheckPhoneCaps(version, caps); err != 0) return err;
  const v1::PhoneCaps& pc = phone.info.caps();
  VarStructWriter w = StartStruct(caps, MinPhoneCaps(version));
  w.AppendString(offsetof(PHONECAPS, dwProviderInfoSize), offsetof(PHONECAPS, dwProviderInfoOffset),
                 pc.provider_info().empty() ? std::string("linebridge") : pc.provider_info());
  // PhoneInfo is the permanent phone id ("sim/phone/100"): with
  // dwPermanentPhoneID, the identity of the phone on every workstation.
  w.AppendString(offsetof(PHONECAPS, dwPhoneInfoSize), offsetof(PHONECAPS, dwPhoneInfoOffset),
                 phone.phone_id);
  LB_SET(w, PHONECAPS, dwPermanentPhoneID, phone.permanent_phone_id);
  std::string name = pc.phone_name();
  if (name.empty()) name = phone.info.name();
  if (name.empty()) name = phone.phone_id;
  w.AppendString(offsetof(PHONECAPS, dwPhoneNameSize), offsetof(PHONECAPS, dwPhoneNameOffset),
                 name);
  LB_SET(w, PHONECAPS, dwStringFormat, STRINGFORMAT_UNICODE);
  LB_SET(w, PHONECAPS, dwPhoneStates, PhoneStatesOf(pc));
  LB_SET(w, PHONECAPS, dwHookSwitchDevs, PhoneMaskOf(pc.hookswitch_devices()));
  LB_SET(w, PHONECAPS, dwHandsetHookSwitchModes, PhoneMaskOf(pc.handset_modes()));
  LB_SET(w, PHONECAPS, dwSpeakerHookSwitchModes, PhoneMaskOf(pc.speaker_modes()));
  LB_SET(w, PHONECAPS, dwHeadsetHookSwitchModes, PhoneMaskOf(pc.headset_modes()));
  LB_SET(w, PHONECAPS, dwVolumeFlags, PhoneMaskOf(pc.volume_devices()));
  LB_SET(w, PHONECAPS, dwGainFlags, PhoneMaskOf(pc.gain_devices()));
  LB_SET(w, PHONECAPS, dwDisplayNumRows, pc.display_rows());
  LB_SET(w, PHONECAPS, dwDisplayNumColumns, pc.display_columns());
  LB_SET(w, PHONECAPS, dwNumRingModes, pc.num_ring_modes());
  const DWORD buttons = NumButtonsOf(phone.info);
  LB_SET(w, PHONECAPS, dwNumButtonLamps, buttons);
  std::vector<DWORD> modes, functions, lamps;
  for (DWORD id = 0; id < buttons; ++id) {
    const v1::PhoneButton* b = ButtonOf(phone.info, id);
    modes.push_back(b != nullptr && b->mode() != 0 ? PhoneBitOf(b->mode())
                                                   : static_cast<DWORD>(PHONEBUTTONMODE_DUMMY));
    functions.push_back(b != nullptr ? static_cast<DWORD>(b->function()) : 0);
    const DWORD lamp = b != nullptr ? PhoneMaskOf(b->lamp_modes()) : 0;
    lamps.push_back(lamp != 0 ? lamp : static_cast<DWORD>(PHONELAMPMODE_DUMMY));
  }
  AppendDwords(w, offsetof(PHONECAPS, dwButtonModesSize), offsetof(PHONECAPS, dwButtonModesOffset),
               modes);
  AppendDwords(w, offsetof(PHONECAPS, dwButtonFunctionsSize),
               offsetof(PHONECAPS, dwButtonFunctionsOffset), functions);
  AppendDwords(w, offsetof(PHONECAPS, dwLampModesSize), offsetof(PHONECAPS, dwLampModesOffset),
               lamps);
  // Every data area can be read and written: the same sizes twice.
  const std::vector<DWORD> areas(pc.data_area_sizes().begin(), pc.data_area_sizes().end());
  LB_SET(w, PHONECAPS, dwNumSetData, areas.size());
  AppendDwords(w, offsetof(PHONECAPS, dwSetDataSize), offsetof(PHONECAPS, dwSetDataOffset), areas);
  LB_SET(w, PHONECAPS, dwNumGetData, areas.size());
  AppendDwords(w, offsetof(PHONECAPS, dwGetDataSize), offsetof(PHONECAPS, dwGetDataOffset), areas);
  static constexpr char16_t kClasses[] = u"tapi/phone\0";
  w.AppendBytes(offsetof(PHONECAPS, dwDeviceClassesSize), offsetof(PHONECAPS, dwDeviceClassesOffset),
                kClasses, sizeof kClasses);
  LB_SET(w, PHONECAPS, dwPhoneFeatures, PhoneFeaturesOf(pc));
  // A device's hookswitch is monitored in all its modes; settable (but never
  // to UNKNOWN) where the server lets clients set it.
  const DWORD settable_mask = ~static_cast<DWORD>(PHONEHOOKSWITCHMODE_UNKNOWN);
  auto settable = [&](int device) {
    return Contains(pc.settable_hookswitch_devices(), device) ? ModesOf(pc, device) & settable_mask
                                                              : 0;
  };
  LB_SET(w, PHONECAPS, dwSettableHandsetHookSwitchModes, settable(v1::HOOK_SWITCH_DEVICE_HANDSET));
  LB_SET(w, PHONECAPS, dwSettableSpeakerHookSwitchModes, settable(v1::HOOK_SWITCH_DEVICE_SPEAKER));
  LB_SET(w, PHONECAPS, dwSettableHeadsetHookSwitchModes, settable(v1::HOOK_SWITCH_DEVICE_HEADSET));
  LB_SET(w, PHONECAPS, dwMonitoredHandsetHookSwitchModes, PhoneMaskOf(pc.handset_modes()));
  LB_SET(w, PHONECAPS, dwMonitoredSpeakerHookSwitchModes, PhoneMaskOf(pc.speaker_modes()));
  LB_SET(w, PHONECAPS, dwMonitoredHeadsetHookSwitchModes, PhoneMaskOf(pc.headset_modes()));
  // PermanentPhoneGuid (2.2+) stays zero: the phone has no GUID.
  w.Finish();
  return 0;
}

// ---- PHONESTATUS ----

LONG WritePhoneStatus(const PhoneSnapshot& phone, LPPHONESTATUS status) {
  if (status == nullptr) return PHONEERR_INVALPOINTER;
  if (TotalSizeOf(status) < sizeof(PHONESTATUS)) return PHONEERR_STRUCTURETOOSMALL;
  const v1::PhoneStatus& ps = phone.info.status();
  VarStructWriter w = StartStruct(status, sizeof(PHONESTATUS));
  const bool connected = phone.present && phone.server_connected && ps.connected();
  LB_SET(w, PHONESTATUS, dwStatusFlags, connected ? PHONESTATUSFLAGS_CONNECTED : 0);
  LB_SET(w, PHONESTATUS, dwNumOwners, ps.num_owners());
  LB_SET(w, PHONESTATUS, dwNumMonitors, ps.num_monitors());
  LB_SET(w, PHONESTATUS, dwRingMode, ps.ring_mode());
  LB_SET(w, PHONESTATUS, dwRingVolume, ps.ring_volume());
  LB_SET(w, PHONESTATUS, dwHandsetHookSwitchMode, PhoneBitOf(ps.handset_mode()));
  LB_SET(w, PHONESTATUS, dwHandsetVolume, ps.handset_volume());
  LB_SET(w, PHONESTATUS, dwHandsetGain, ps.handset_gain());
  LB_SET(w, PHONESTATUS, dwSpeakerHookSwitchMode, PhoneBitOf(ps.speaker_mode()));
  LB_SET(w, PHONESTATUS, dwSpeakerVolume, ps.speaker_volume());
  LB_SET(w, PHONESTATUS, dwSpeakerGain, ps.speaker_gain());
  LB_SET(w, PHONESTATUS, dwHeadsetHookSwitchMode, PhoneBitOf(ps.headset_mode()));
  LB_SET(w, PHONESTATUS, dwHeadsetVolume, ps.headset_volume());
  LB_SET(w, PHONESTATUS, dwHeadsetGain, ps.headset_gain());
  if (phone.info.caps().display_rows() > 0) {
    w.AppendString(offsetof(PHONESTATUS, dwDisplaySize), offsetof(PHONESTATUS, dwDisplayOffset),
                   ps.display());
  }
  std::vector<DWORD> lamps;
  const DWORD buttons = NumButtonsOf(phone.info);
  for (DWORD id = 0; id < buttons; ++id) {
    const DWORD mode = id < static_cast<DWORD>(ps.lamp_modes_size())
                           ? PhoneBitOf(ps.lamp_modes(static_cast<int>(id)))
                           : 0;
    lamps.push_back(mode != 0 ? mode : static_cast<DWORD>(PHONELAMPMODE_DUMMY));
  }
  AppendDwords(w, offsetof(PHONESTATUS, dwLampModesSize), offsetof(PHONESTATUS, dwLampModesOffset),
               lamps);
  // OwnerName: TAPISRV fills in the owning application's name itself.
  LB_SET(w, PHONESTATUS, dwPhoneFeatures, PhoneFeaturesOf(phone.info.caps()));
  w.Finish();
  return 0;
}

// ---- PHONEBUTTONINFO ----

LONG WritePhoneButtonInfo(const PhoneSnapshot& phone, DWORD id, LPPHONEBUTTONINFO info) {
  if (info == nullptr) return PHONEERR_INVALPOINTER;
  if (TotalSizeOf(info) < sizeof(PHONEBUTTONINFO)) return PHONEERR_STRUCTURETOOSMALL;
  const v1::PhoneButton* b = ButtonOf(phone.info, id);
  VarStructWriter w = StartStruct(info, sizeof(PHONEBUTTONINFO));
  LB_SET(w, PHONEBUTTONINFO, dwButtonMode,
         b != nullptr && b->mode() != 0 ? PhoneBitOf(b->mode())
                                        : static_cast<DWORD>(PHONEBUTTONMODE_DUMMY));
  LB_SET(w, PHONEBUTTONINFO, dwButtonFunction, b != nullptr ? b->function() : 0);
  if (b != nullptr && !b->text().empty()) {
    w.AppendString(offsetof(PHONEBUTTONINFO, dwButtonTextSize),
                   offsetof(PHONEBUTTONINFO, dwButtonTextOffset), b->text());
  }
  const v1::PhoneStatus& ps = phone.info.status();
  const DWORD state = id < static_cast<DWORD>(ps.button_states_size())
                          ? PhoneBitOf(ps.button_states(static_cast<int>(id)))
                          : 0;
  LB_SET(w, PHONEBUTTONINFO, dwButtonState,
         state != 0 ? state : static_cast<DWORD>(PHONEBUTTONSTATE_UNKNOWN));
  w.Finish();
  return 0;
}

LONG ReadPhoneButtonInfo(const PHONEBUTTONINFO* info, DWORD id, v1::PhoneButton* out) {
  if (info == nullptr) return PHONEERR_INVALPOINTER;
  const DWORD total = TotalSizeOf(info);
  // dwButtonState is the application's to read, not to set: the fixed part
  // up to it is what phoneSetButtonInfo needs.
  if (total < offsetof(PHONEBUTTONINFO, dwButtonState)) return PHONEERR_STRUCTURETOOSMALL;
  PHONEBUTTONINFO in;
  std::memset(&in, 0, sizeof in);
  std::memcpy(&in, info, std::min<size_t>(total, sizeof in));
  const int mode = PhoneValueOfBit(in.dwButtonMode);
  if (mode == 0 || !v1::PhoneButtonMode_IsValid(mode)) return PHONEERR_INVALBUTTONMODE;
  if (!v1::PhoneButtonFunction_IsValid(static_cast<int>(in.dwButtonFunction))) {
    return PHONEERR_INVALPARAM;
  }
  std::string text;
  if (in.dwButtonTextSize > 0) {
    const uint64_t end = uint64_t{in.dwButtonTextOffset} + in.dwButtonTextSize;
    if (in.dwButtonTextOffset < offsetof(PHONEBUTTONINFO, dwButtonState) || end > total ||
        in.dwButtonTextSize % sizeof(char16_t) != 0) {
      return PHONEERR_INVALPARAM;
    }
    std::u16string units(in.dwButtonTextSize / sizeof(char16_t), u'\0');
    std::memcpy(units.data(), reinterpret_cast<const unsigned char*>(info) + in.dwButtonTextOffset,
                in.dwButtonTextSize);
    text = Utf16ToUtf8(units.c_str(), units.size());
  }
  out->Clear();
  out->set_id(id);
  out->set_mode(static_cast<v1::PhoneButtonMode>(mode));
  out->set_function(static_cast<v1::PhoneButtonFunction>(in.dwButtonFunction));
  out->set_text(text);
  return 0;
}

// ---- VARSTRINGs ----

LONG WritePhoneDisplay(const PhoneSnapshot& phone, LPVARSTRING display) {
  if (display == nullptr) return PHONEERR_INVALPOINTER;
  if (TotalSizeOf(display) < sizeof(VARSTRING)) return PHONEERR_STRUCTURETOOSMALL;
  VarStructWriter w = StartStruct(display, sizeof(VARSTRING));
  LB_SET(w, VARSTRING, dwStringFormat, STRINGFORMAT_UNICODE);
  w.AppendString(offsetof(VARSTRING, dwStringSize), offsetof(VARSTRING, dwStringOffset),
                 phone.info.status().display());
  w.Finish();
  return 0;
}

LONG WritePhoneDeviceId(DWORD device_id, DWORD line_device_id, bool has_line,
                        LPCWSTR device_class, LPVARSTRING out) {
  if (out == nullptr || device_class == nullptr) return PHONEERR_INVALPOINTER;
  const std::string cls = absl::AsciiStrToLower(Utf16ToUtf8(device_class, 256));
  DWORD id = 0;
  if (cls == "tapi/phone") {
    id = device_id;
  } else if (cls == "tapi/line" && has_line) {
    id = line_device_id;
  } else {
    return PHONEERR_INVALDEVICECLASS;
  }
  if (TotalSizeOf(out) < sizeof(VARSTRING)) return PHONEERR_STRUCTURETOOSMALL;
  VarStructWriter w = StartStruct(out, sizeof(VARSTRING));
  LB_SET(w, VARSTRING, dwStringFormat, STRINGFORMAT_BINARY);
  w.AppendBytes(offsetof(VARSTRING, dwStringSize), offsetof(VARSTRING, dwStringOffset), &id,
                sizeof id);
  w.Finish();
  return 0;
}

}  // namespace linebridge::tsp
