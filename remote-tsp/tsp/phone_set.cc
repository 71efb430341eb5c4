// RemoteProvider: the asynchronous phone requests (phoneSetDisplay,
// phoneSetLamp, phoneSetRing, phoneSetHookSwitch, phoneSetVolume,
// phoneSetGain, phoneSetButtonInfo, phoneSetData): checked at once against
// the phone's caps, sent once the phone is open as OWNER on its server, and
// completed exactly once with the server's PHONEERR_*.
#include <algorithm>
#include <string>
#include <utility>

#include "tsp/phone_rpc.h"
#include "tsp/remote_provider.h"
#include "linebridge/v1/types.pb.h"
#include "tsp/var_struct.h"

namespace linebridge::tsp {
namespace {

// Every settable hookswitch mode (not UNKNOWN).
constexpr DWORD kSettableHookSwitchModes = 0x0000000F;

template <typename Repeated>
bool Lists(const Repeated& values, int v) {
  for (int x : values) {
    if (x == v) return true;
  }
  return false;
}

}  // namespace

LONG PhoneErrOf(const absl::Status& status) {
  if (status.ok()) return 0;
  if (auto payload = status.GetPayload("type.googleapis.com/linebridge.v1.TapiError")) {
    v1::TapiError detail;
    if (detail.ParseFromString(std::string(*payload)) && detail.phoneerr() != 0) {
      return static_cast<LONG>(detail.phoneerr());
    }
  }
  switch (status.code()) {
    case absl::StatusCode::kInvalidArgument: return PHONEERR_INVALPARAM;
    case absl::StatusCode::kNotFound: return PHONEERR_BADDEVICEID;
    case absl::StatusCode::kFailedPrecondition: return PHONEERR_NOTOWNER;
    case absl::StatusCode::kUnimplemented: return PHONEERR_OPERATIONUNAVAIL;
    case absl::StatusCode::kResourceExhausted: return PHONEERR_RESOURCEUNAVAIL;
    default: return PHONEERR_OPERATIONFAILED;
  }
}

LONG RemoteProvider::PhoneRequestLocked(DRV_REQUESTID request_id, uint32_t hd_phone,
                                        PhoneSend send) {
  OpenPhone* open = open_phones_.Find(hd_phone);
  PhoneEntry& phone = phones_[open->index];
  Pending pending;
  pending.phone = true;
  pending_[request_id] = pending;
  ++phone.rpcs[hd_phone];  // phoneClose's ClosePhone waits for it
  if (open->applied_privilege == v1::PRIVILEGE_OWNER && !open->open_in_flight) {
    QueuePhoneSendLocked(std::move(send));
    return static_cast<LONG>(request_id);
  }
  const uint32_t index = open->index;
  PhoneWaiter waiter;
  waiter.send = std::move(send);
  waiter.fail = [this, request_id, index, hd_phone](LONG err) {
    mu_.AssertHeld();  // PhoneWaiter::fail runs under mu_
    CompleteLocked(request_id, err);
    PhoneRequestDroppedLocked(index, hd_phone);
  };
  open->waiters.push_back(std::move(waiter));
  OpenPhoneOnServerLocked(hd_phone, v1::PRIVILEGE_OWNER);  // unless one is on its way
  return static_cast<LONG>(request_id);
}

absl::AnyInvocable<void(absl::StatusOr<v1::Phone>)> RemoteProvider::CompletePhoneRequest(
    DRV_REQUESTID request_id, uint32_t index, uint32_t hd_phone) {
  return [this, request_id, index, hd_phone](absl::StatusOr<v1::Phone> reply) {
    DrainingLock lock(this);
    // The reply's phone is the state right after the request: what TAPI
    // reads next (phoneGetDisplay after the completion) already shows it.
    if (reply.ok() && index < phones_.size() && phones_[index].present) {
      phones_[index].info = *reply;
    }
    CompleteLocked(request_id, reply.ok() ? 0 : PhoneErrOf(reply.status()));
    PhoneRpcDoneLocked(index, hd_phone);
  };
}

namespace {

// The PhoneSend of a request whose reply is a Phone.
template <typename Request>
PhoneSend SendPhoneRequest(PhoneRpcMethod<Request, v1::Phone> method, Request request,
                           size_t server, absl::Duration deadline,
                           absl::AnyInvocable<void(absl::StatusOr<v1::Phone>)> done) {
  return [method, request = std::move(request), server, deadline,
          done = std::move(done)](Client& client) mutable {
    request.set_session_id(client.session_id(server));
    PhoneRpcAsync<Request, v1::Phone>(client.connection(server), method, std::move(request),
                                      std::move(done), deadline);
  };
}

}  // namespace

// Each request: the handle, then the arguments in TSPI's order, then the
// request goes (PhoneRequestLocked).
#define LB_PHONE_OPEN_OR_FAIL()                                  \
  absl::MutexLock lock(&mu_);                                    \
  OpenPhone* open = FindOpenPhoneLocked(hd_phone);               \
  if (open == nullptr) return PHONEERR_INVALPHONEHANDLE;         \
  const PhoneEntry& phone = phones_[open->index];                \
  const v1::Phone& info = phone.info.has_value() ? *phone.info : v1::Phone::default_instance(); \
  const v1::PhoneCaps& caps = info.caps();                       \
  if (pending_.contains(request_id)) return PHONEERR_OPERATIONFAILED

#define LB_PHONE_SEND(Method, request)                                                     \
  PhoneRequestLocked(request_id, IdOf(hd_phone),                                           \
                     SendPhoneRequest(&v1::Telephony::Stub::async::Method, std::move(request), \
                                      phone.server, absl::Milliseconds(config_.deadline_ms), \
                                      CompletePhoneRequest(request_id, open->index, IdOf(hd_phone))))

LONG RemoteProvider::PhoneSetDisplay(DRV_REQUESTID request_id, HDRVPHONE hd_phone, DWORD row,
                                     DWORD column, LPCWSTR display, DWORD size) {
  LB_PHONE_OPEN_OR_FAIL();
  if (caps.display_rows() == 0 || !caps.display_settable()) return PHONEERR_OPERATIONUNAVAIL;
  if (row >= caps.display_rows() || column >= caps.display_columns()) return PHONEERR_INVALPARAM;
  if (display == nullptr && size > 0) return PHONEERR_INVALPOINTER;
  v1::SetPhoneDisplayRequest request;
  request.set_phone_id(phone.phone_id);
  request.set_row(row);
  request.set_column(column);
  // dwSize counts bytes of UTF-16 text (TSPI_phoneSetDisplay).
  if (size > 0) request.set_text(Utf16ToUtf8(display, size / sizeof(char16_t)));
  return LB_PHONE_SEND(SetPhoneDisplay, request);
}

LONG RemoteProvider::PhoneSetLamp(DRV_REQUESTID request_id, HDRVPHONE hd_phone,
                                  DWORD button_lamp_id, DWORD lamp_mode) {
  LB_PHONE_OPEN_OR_FAIL();
  const DWORD buttons =
      std::max<DWORD>(caps.num_button_lamps(), static_cast<DWORD>(info.buttons_size()));
  if (button_lamp_id >= buttons) return PHONEERR_INVALBUTTONLAMPID;
  if (!caps.lamps_settable()) return PHONEERR_OPERATIONUNAVAIL;
  const int mode = PhoneValueOfBit(lamp_mode);
  if (mode == 0 || !v1::LampMode_IsValid(mode)) return PHONEERR_INVALLAMPMODE;
  for (const v1::PhoneButton& b : info.buttons()) {
    if (b.id() == button_lamp_id && !Lists(b.lamp_modes(), mode)) return PHONEERR_INVALLAMPMODE;
  }
  v1::SetPhoneLampRequest request;
  request.set_phone_id(phone.phone_id);
  request.set_button_lamp_id(button_lamp_id);
  request.set_mode(static_cast<v1::LampMode>(mode));
  return LB_PHONE_SEND(SetPhoneLamp, request);
}

LONG RemoteProvider::PhoneSetRing(DRV_REQUESTID request_id, HDRVPHONE hd_phone, DWORD ring_mode,
                                  DWORD volume) {
  LB_PHONE_OPEN_OR_FAIL();
  if (!caps.ring_settable()) return PHONEERR_OPERATIONUNAVAIL;
  if (ring_mode > caps.num_ring_modes()) return PHONEERR_INVALRINGMODE;
  if (volume > 0xFFFF) return PHONEERR_INVALPARAM;
  v1::SetPhoneRingRequest request;
  request.set_phone_id(phone.phone_id);
  request.set_ring_mode(ring_mode);
  request.set_volume(volume);
  return LB_PHONE_SEND(SetPhoneRing, request);
}

LONG RemoteProvider::PhoneSetHookSwitch(DRV_REQUESTID request_id, HDRVPHONE hd_phone,
                                        DWORD hookswitch_devs, DWORD hookswitch_mode) {
  LB_PHONE_OPEN_OR_FAIL();
  const DWORD settable = PhoneMaskOf(caps.settable_hookswitch_devices());
  if (hookswitch_devs == 0 || (hookswitch_devs & ~settable) != 0) {
    return PHONEERR_INVALHOOKSWITCHDEV;
  }
  const int mode = PhoneValueOfBit(hookswitch_mode);
  if (mode == 0 || (hookswitch_mode & ~kSettableHookSwitchModes) != 0) {
    return PHONEERR_INVALHOOKSWITCHMODE;
  }
  v1::SetPhoneHookSwitchRequest request;
  request.set_phone_id(phone.phone_id);
  request.set_mode(static_cast<v1::HookSwitchMode>(mode));
  for (int d = v1::HOOK_SWITCH_DEVICE_HANDSET; d <= v1::HOOK_SWITCH_DEVICE_HEADSET; ++d) {
    if ((hookswitch_devs & PhoneBitOf(d)) == 0) continue;
    const auto& modes = d == v1::HOOK_SWITCH_DEVICE_HANDSET   ? caps.handset_modes()
                        : d == v1::HOOK_SWITCH_DEVICE_SPEAKER ? caps.speaker_modes()
                                                              : caps.headset_modes();
    if (!Lists(modes, mode)) return PHONEERR_INVALHOOKSWITCHMODE;
    request.add_devices(static_cast<v1::HookSwitchDevice>(d));
  }
  return LB_PHONE_SEND(SetPhoneHookSwitch, request);
}

LONG RemoteProvider::PhoneSetVolume(DRV_REQUESTID request_id, HDRVPHONE hd_phone,
                                    DWORD hookswitch_dev, DWORD volume) {
  LB_PHONE_OPEN_OR_FAIL();
  const int device = PhoneValueOfBit(hookswitch_dev);
  if (device == 0 || !Lists(caps.volume_devices(), device)) return PHONEERR_INVALHOOKSWITCHDEV;
  if (volume > 0xFFFF) return PHONEERR_INVALPARAM;
  v1::SetPhoneLevelRequest request;
  request.set_phone_id(phone.phone_id);
  request.set_device(static_cast<v1::HookSwitchDevice>(device));
  request.set_level(volume);
  return LB_PHONE_SEND(SetPhoneVolume, request);
}

LONG RemoteProvider::PhoneSetGain(DRV_REQUESTID request_id, HDRVPHONE hd_phone,
                                  DWORD hookswitch_dev, DWORD gain) {
  LB_PHONE_OPEN_OR_FAIL();
  const int device = PhoneValueOfBit(hookswitch_dev);
  if (device == 0 || !Lists(caps.gain_devices(), device)) return PHONEERR_INVALHOOKSWITCHDEV;
  if (gain > 0xFFFF) return PHONEERR_INVALPARAM;
  v1::SetPhoneLevelRequest request;
  request.set_phone_id(phone.phone_id);
  request.set_device(static_cast<v1::HookSwitchDevice>(device));
  request.set_level(gain);
  return LB_PHONE_SEND(SetPhoneGain, request);
}

LONG RemoteProvider::PhoneSetButtonInfo(DRV_REQUESTID request_id, HDRVPHONE hd_phone,
                                        DWORD button_lamp_id, const PHONEBUTTONINFO* button_info) {
  LB_PHONE_OPEN_OR_FAIL();
  const DWORD buttons =
      std::max<DWORD>(caps.num_button_lamps(), static_cast<DWORD>(info.buttons_size()));
  if (button_lamp_id >= buttons) return PHONEERR_INVALBUTTONLAMPID;
  v1::SetPhoneButtonInfoRequest request;
  if (LONG err = ReadPhoneButtonInfo(button_info, button_lamp_id, request.mutable_button());
      err != 0) {
    return err;
  }
  if (!caps.button_info_settable()) return PHONEERR_OPERATIONUNAVAIL;
  // The lamp keeps the modes it has (PHONEBUTTONINFO does not name them).
  for (const v1::PhoneButton& b : info.buttons()) {
    if (b.id() == button_lamp_id) *request.mutable_button()->mutable_lamp_modes() = b.lamp_modes();
  }
  request.set_phone_id(phone.phone_id);
  return LB_PHONE_SEND(SetPhoneButtonInfo, request);
}

LONG RemoteProvider::PhoneSetData(DRV_REQUESTID request_id, HDRVPHONE hd_phone, DWORD data_id,
                                  const void* data, DWORD size) {
  LB_PHONE_OPEN_OR_FAIL();
  if (data_id >= static_cast<DWORD>(caps.data_area_sizes_size())) return PHONEERR_INVALDATAID;
  if (data == nullptr && size > 0) return PHONEERR_INVALPOINTER;
  // More than the area holds: TAPI's phoneSetData writes the first part.
  const DWORD area = caps.data_area_sizes(static_cast<int>(data_id));
  v1::SetPhoneDataRequest request;
  request.set_phone_id(phone.phone_id);
  request.set_data_id(data_id);
  if (size > 0) request.set_data(static_cast<const char*>(data), std::min(size, area));
  return LB_PHONE_SEND(SetPhoneData, request);
}

#undef LB_PHONE_OPEN_OR_FAIL
#undef LB_PHONE_SEND

}  // namespace linebridge::tsp
