// The phone model (docs/api.md#phones): TAPI's phone devices as the engine
// keeps them. A provider announces a phone with its caps (PHONECAPS); the
// engine keeps its status (PHONESTATUS), its data areas and which sessions
// have it open, checks every request against the caps, and announces every
// change as a phone_state event. This file holds what needs no engine: the
// entry, the checks (each failure a status carrying its PHONEERR_*) and the
// edits of a PhoneStatus. engine_phones.cc has the RPCs and events.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "linebridge/v1/phone.pb.h"
#include "linebridge/v1/types.pb.h"

namespace linebridge {

class Provider;

// Volumes, gains and the ring volume: TAPI's 0..65535.
inline constexpr uint32_t kMaxPhoneLevel = 65535;
// Limits on what a request may carry (INVALID_ARGUMENT, PHONEERR_INVALPARAM
// beyond them). Display text longer than the display is clipped, but a text
// beyond kMaxPhoneDisplayText is refused before it is looked at.
inline constexpr size_t kMaxPhoneDisplayText = 4096;
inline constexpr size_t kMaxPhoneButtonText = 64;
// What a provider's caps may declare (larger values are clamped at AddPhone).
inline constexpr uint32_t kMaxPhoneDisplayCells = 4096;  // rows × columns
inline constexpr uint32_t kMaxPhoneButtons = 256;
inline constexpr uint32_t kMaxPhoneDataAreas = 16;
// Data areas travel in every Phone (snapshots, replies): at most 64 KiB a phone.
inline constexpr uint32_t kMaxPhoneDataAreaSize = 4096;
// Sessions one phone may be open in.
inline constexpr size_t kMaxOpensPerPhone = 256;

struct PhoneEntry {
  v1::Phone phone;
  Provider* provider = nullptr;
  std::map<std::string, v1::Privilege> opens;  // session id -> OWNER or MONITOR
  uint32_t owners() const;
  uint32_t monitors() const;
};

// Makes a provider's phone consistent: caps clamped to the limits above,
// permanent id and device class filled in, the status's lamp and button
// lists one per button (a button without a lamp: LAMP_MODE_DUMMY; state UP),
// a blank display of rows × columns spaces, unset hookswitch modes ONHOOK
// for the devices the phone has, one data area of its size per
// caps.data_area_sizes (the provider's initial content kept, zero-padded).
void NormalizePhone(v1::Phone* phone);

// 32-bit permanent phone id for PHONECAPS (FNV-1a of the phone id).
uint32_t PermanentPhoneId(absl::string_view phone_id);

// A status with the PHONEERR; the canonical code follows from it
// (docs/api.md#phones): NOT_FOUND for BADDEVICEID, FAILED_PRECONDITION for
// NOTOWNER and INVALPHONESTATE, RESOURCE_EXHAUSTED for INUSE, UNIMPLEMENTED
// for OPERATIONUNAVAIL, INVALID_ARGUMENT otherwise.
absl::Status PhoneError(uint32_t phoneerr, absl::string_view message);

// The checks of the phone RPCs against the phone (OK or the PHONEERR).
absl::Status CheckHookSwitch(const v1::Phone& phone, const std::vector<int>& devices, int mode,
                             bool by_client);
absl::Status CheckDisplay(const v1::Phone& phone, uint32_t row, uint32_t column,
                          absl::string_view text);
absl::Status CheckLamp(const v1::Phone& phone, uint32_t button_lamp_id, int mode);
absl::Status CheckRing(const v1::Phone& phone, uint32_t ring_mode, uint32_t volume);
absl::Status CheckLevel(const v1::Phone& phone, int device, uint32_t level, bool gain);
absl::Status CheckButtonInfo(const v1::Phone& phone, const v1::PhoneButton& button);
absl::Status CheckDataId(const v1::Phone& phone, uint32_t data_id);
absl::Status CheckPress(const v1::Phone& phone, uint32_t button_id);

// Status edits. Each returns the PhoneStatus field names it changed (for
// PhoneStateChanged.changed); empty when nothing changed.
std::vector<std::string> SetHookSwitchMode(v1::PhoneStatus* status, v1::HookSwitchDevice device,
                                           v1::HookSwitchMode mode);
std::vector<std::string> WriteDisplay(v1::PhoneStatus* status, const v1::PhoneCaps& caps,
                                      uint32_t row, uint32_t column, absl::string_view text);
std::vector<std::string> SetLevel(v1::PhoneStatus* status, v1::HookSwitchDevice device,
                                  bool gain, uint32_t level);
v1::HookSwitchMode HookSwitchModeOf(const v1::PhoneStatus& status, v1::HookSwitchDevice device);
// Whether a hookswitch mode has the microphone or the speaker on.
bool IsOffHook(v1::HookSwitchMode mode);

}  // namespace linebridge
