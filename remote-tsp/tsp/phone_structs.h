// The phone side of TAPI's structures: PHONECAPS (phoneGetDevCaps),
// PHONESTATUS (phoneGetStatus), PHONEBUTTONINFO (phoneGetButtonInfo, and
// reading the one phoneSetButtonInfo hands in), phoneGetDisplay's and
// phoneGetID's VARSTRING, and the conversions between phone.proto's enums
// and the PHONE* constants. Pure functions of a snapshot of the phone and of
// the caller's buffer, like tapi_structs.h: nothing is written past
// dwTotalSize, dwNeededSize/dwUsedSize follow var_struct.h, and each returns
// 0 or the PHONEERR_* TSPI asks for (phone_structs_test.cc).
#pragma once

#include <string>

#include "linebridge/tapi_abi.h"
#include "linebridge/v1/phone.pb.h"

namespace linebridge::tsp {

// What the writers read about one phone.
struct PhoneSnapshot {
  DWORD device_id = 0;
  std::string phone_id;           // the permanent phone id (PhoneInfo, name fallback)
  DWORD permanent_phone_id = 0;   // dwPermanentPhoneID
  v1::Phone info;                 // last known from the server (empty before it answers)
  bool present = false;           // the server lists the phone now
  bool server_connected = false;  // its server's event stream is up
};

// ---- conversions -----------------------------------------------------------
// phone.proto's HookSwitchDevice, HookSwitchMode, PhoneButtonMode,
// PhoneButtonState and LampMode number TAPI's bits in order: value v is bit
// v-1 (UNSPECIFIED is 0, no bit). PhoneButtonFunction values are TAPI's.
inline DWORD PhoneBitOf(int value) {
  return value <= 0 || value > 32 ? 0 : DWORD{1} << (value - 1);
}
// The enum value of a single TAPI bit; 0 if `bits` is not exactly one bit.
int PhoneValueOfBit(DWORD bits);
// The bits of a repeated enum field.
template <typename Repeated>
DWORD PhoneMaskOf(const Repeated& values) {
  DWORD mask = 0;
  for (int v : values) mask |= PhoneBitOf(v);
  return mask;
}

// The PHONEFEATURE_* the phone offers (PHONECAPS/PHONESTATUS.dwPhoneFeatures).
DWORD PhoneFeaturesOf(const v1::PhoneCaps& caps);
// The PHONESTATE_* this provider reports for the phone (PHONECAPS.dwPhoneStates).
DWORD PhoneStatesOf(const v1::PhoneCaps& caps);
// PHONESTATE_* of one `changed` name of a PhoneStateChanged event (0 if it
// has none, e.g. "button_states": PHONE_BUTTON reports those).
DWORD PhoneStateOfChange(const std::string& changed, bool connected);
// The PHONEHOOKSWITCHDEV_* devices that are off hook now.
DWORD OffHookDevicesOf(const v1::PhoneStatus& status);
// The PHONEHOOKSWITCHMODE_* of one hookswitch device in `status`.
DWORD HookSwitchModeOf(const v1::PhoneStatus& status, v1::HookSwitchDevice device);
// The volume and gain of one device (0 for an unknown device).
DWORD VolumeOf(const v1::PhoneStatus& status, v1::HookSwitchDevice device);
DWORD GainOf(const v1::PhoneStatus& status, v1::HookSwitchDevice device);

// ---- writers ----------------------------------------------------------------

// PHONECAPS for a negotiated `version` (the fixed part ends before
// PermanentPhoneGuid below TSPI 2.2). CheckPhoneCaps is the buffer check
// alone (INVALPOINTER, STRUCTURETOOSMALL), made before the device lookup.
LONG CheckPhoneCaps(DWORD version, const PHONECAPS* caps);
LONG WritePhoneCaps(const PhoneSnapshot& phone, DWORD version, LPPHONECAPS caps);

// PHONESTATUS: Display (UTF-16, rows × columns characters, NUL-terminated)
// and LampModes (one DWORD PHONELAMPMODE_* per button/lamp) as its variable
// parts; dwPhoneFeatures from TSPI 2.0 on (the only layouts negotiated).
LONG WritePhoneStatus(const PhoneSnapshot& phone, LPPHONESTATUS status);

// PHONEBUTTONINFO of button `id` (the caller checked the id exists).
LONG WritePhoneButtonInfo(const PhoneSnapshot& phone, DWORD id, LPPHONEBUTTONINFO info);

// phoneSetButtonInfo's structure as a PhoneButton (id set): STRUCTURETOOSMALL
// below the fixed part, INVALBUTTONMODE unless dwButtonMode is one mode bit,
// INVALPARAM for a function TAPI does not define or text outside dwTotalSize.
LONG ReadPhoneButtonInfo(const PHONEBUTTONINFO* info, DWORD id, v1::PhoneButton* out);

// phoneGetDisplay's VARSTRING: STRINGFORMAT_UNICODE, the display's text.
LONG WritePhoneDisplay(const PhoneSnapshot& phone, LPVARSTRING display);

// phoneGetID: "tapi/phone" gives `device_id`; "tapi/line" the device id of
// the phone's line, `line_device_id` (INVALDEVICECLASS when it is 0: no
// line, or its line has no TAPI device); any other class INVALDEVICECLASS.
LONG WritePhoneDeviceId(DWORD device_id, DWORD line_device_id, bool has_line,
                        LPCWSTR device_class, LPVARSTRING out);

}  // namespace linebridge::tsp
