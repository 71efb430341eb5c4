// RemoteProvider: what TAPI reads about phones: PHONECAPS, PHONESTATUS,
// PHONEBUTTONINFO, the display, lamps, ring, hookswitch, volume and gain and
// the data areas: all from the mirror, under mu_. Only a server whose phones
// carry no data areas (Phone.data_areas) is asked with GetPhoneData.
#include <algorithm>
#include <cstring>
#include <string>

#include "absl/synchronization/notification.h"
#include "linebridge/linebridge_ext.h"
#include "tsp/phone_rpc.h"
#include "tsp/remote_provider.h"

namespace linebridge::tsp {
namespace {

// The proto device of a PHONEHOOKSWITCHDEV_* value that is exactly one
// device the phone lists in `devices`; UNSPECIFIED otherwise.
template <typename Repeated>
v1::HookSwitchDevice DeviceIn(DWORD dev, const Repeated& devices) {
  const int d = PhoneValueOfBit(dev);
  if (d == 0 || std::find(devices.begin(), devices.end(), d) == devices.end()) {
    return v1::HOOK_SWITCH_DEVICE_UNSPECIFIED;
  }
  return static_cast<v1::HookSwitchDevice>(d);
}

DWORD NumButtons(const PhoneSnapshot& s) {
  return std::max<DWORD>(s.info.caps().num_button_lamps(),
                         static_cast<DWORD>(s.info.buttons_size()));
}

}  // namespace

LONG RemoteProvider::PhoneGetDevCaps(DWORD device_id, DWORD tspi_version, DWORD ext_version,
                                     LPPHONECAPS caps) {
  if (LONG err = CheckPhoneCaps(tspi_version, caps); err != 0) return err;
  PhoneSnapshot snapshot;
  {
    absl::MutexLock lock(&mu_);
    std::optional<uint32_t> index = IndexOfPhoneDeviceLocked(device_id);
    if (!index.has_value()) return PHONEERR_BADDEVICEID;
    snapshot = SnapshotOfPhoneLocked(phones_[*index]);
  }
  if (tspi_version < kTspiVersionLow || tspi_version > kTspiVersionHigh) {
    return PHONEERR_INCOMPATIBLEAPIVERSION;
  }
  if (ext_version != 0 && ext_version != LINEBRIDGE_EXT_VERSION) {
    return PHONEERR_INCOMPATIBLEEXTVERSION;
  }
  return WritePhoneCaps(snapshot, tspi_version, caps);
}

LONG RemoteProvider::PhoneGetStatus(HDRVPHONE hd_phone, LPPHONESTATUS status) {
  PhoneSnapshot snapshot;
  if (LONG err = SnapshotOfOpenPhone(hd_phone, &snapshot); err != 0) return err;
  return WritePhoneStatus(snapshot, status);
}

LONG RemoteProvider::PhoneGetButtonInfo(HDRVPHONE hd_phone, DWORD button_lamp_id,
                                        LPPHONEBUTTONINFO info) {
  PhoneSnapshot snapshot;
  if (LONG err = SnapshotOfOpenPhone(hd_phone, &snapshot); err != 0) return err;
  if (button_lamp_id >= NumButtons(snapshot)) return PHONEERR_INVALBUTTONLAMPID;
  return WritePhoneButtonInfo(snapshot, button_lamp_id, info);
}

LONG RemoteProvider::PhoneGetDisplay(HDRVPHONE hd_phone, LPVARSTRING display) {
  PhoneSnapshot snapshot;
  if (LONG err = SnapshotOfOpenPhone(hd_phone, &snapshot); err != 0) return err;
  if (display == nullptr) return PHONEERR_INVALPOINTER;
  if (snapshot.info.caps().display_rows() == 0) return PHONEERR_OPERATIONUNAVAIL;
  return WritePhoneDisplay(snapshot, display);
}

LONG RemoteProvider::PhoneGetLamp(HDRVPHONE hd_phone, DWORD button_lamp_id, LPDWORD lamp_mode) {
  PhoneSnapshot snapshot;
  if (LONG err = SnapshotOfOpenPhone(hd_phone, &snapshot); err != 0) return err;
  if (button_lamp_id >= NumButtons(snapshot)) return PHONEERR_INVALBUTTONLAMPID;
  if (lamp_mode == nullptr) return PHONEERR_INVALPOINTER;
  const v1::PhoneStatus& ps = snapshot.info.status();
  const DWORD mode = button_lamp_id < static_cast<DWORD>(ps.lamp_modes_size())
                         ? PhoneBitOf(ps.lamp_modes(static_cast<int>(button_lamp_id)))
                         : 0;
  *lamp_mode = mode != 0 ? mode : static_cast<DWORD>(PHONELAMPMODE_DUMMY);
  return 0;
}

LONG RemoteProvider::PhoneGetRing(HDRVPHONE hd_phone, LPDWORD ring_mode, LPDWORD volume) {
  PhoneSnapshot snapshot;
  if (LONG err = SnapshotOfOpenPhone(hd_phone, &snapshot); err != 0) return err;
  if (ring_mode == nullptr || volume == nullptr) return PHONEERR_INVALPOINTER;
  *ring_mode = snapshot.info.status().ring_mode();
  *volume = snapshot.info.status().ring_volume();
  return 0;
}

LONG RemoteProvider::PhoneGetHookSwitch(HDRVPHONE hd_phone, LPDWORD hookswitch_devs) {
  PhoneSnapshot snapshot;
  if (LONG err = SnapshotOfOpenPhone(hd_phone, &snapshot); err != 0) return err;
  if (hookswitch_devs == nullptr) return PHONEERR_INVALPOINTER;
  *hookswitch_devs = OffHookDevicesOf(snapshot.info.status());
  return 0;
}

LONG RemoteProvider::PhoneGetVolume(HDRVPHONE hd_phone, DWORD hookswitch_dev, LPDWORD volume) {
  PhoneSnapshot snapshot;
  if (LONG err = SnapshotOfOpenPhone(hd_phone, &snapshot); err != 0) return err;
  const v1::HookSwitchDevice device = DeviceIn(hookswitch_dev, snapshot.info.caps().volume_devices());
  if (device == v1::HOOK_SWITCH_DEVICE_UNSPECIFIED) return PHONEERR_INVALHOOKSWITCHDEV;
  if (volume == nullptr) return PHONEERR_INVALPOINTER;
  *volume = VolumeOf(snapshot.info.status(), device);
  return 0;
}

LONG RemoteProvider::PhoneGetGain(HDRVPHONE hd_phone, DWORD hookswitch_dev, LPDWORD gain) {
  PhoneSnapshot snapshot;
  if (LONG err = SnapshotOfOpenPhone(hd_phone, &snapshot); err != 0) return err;
  const v1::HookSwitchDevice device = DeviceIn(hookswitch_dev, snapshot.info.caps().gain_devices());
  if (device == v1::HOOK_SWITCH_DEVICE_UNSPECIFIED) return PHONEERR_INVALHOOKSWITCHDEV;
  if (gain == nullptr) return PHONEERR_INVALPOINTER;
  *gain = GainOf(snapshot.info.status(), device);
  return 0;
}

namespace {

// Copies `bytes` into the application's buffer: `size` bytes, zero-padded.
void CopyData(const std::string& bytes, LPVOID data, DWORD size) {
  if (size == 0) return;
  std::memset(data, 0, size);
  std::memcpy(data, bytes.data(), std::min<size_t>(size, bytes.size()));
}

}  // namespace

LONG RemoteProvider::PhoneGetData(HDRVPHONE hd_phone, DWORD data_id, LPVOID data, DWORD size) {
  v1::GetPhoneDataRequest request;
  size_t server = 0;
  uint32_t index = 0;
  Client* client = nullptr;
  absl::Duration deadline;
  {
    absl::MutexLock lock(&mu_);
    OpenPhone* open = FindOpenPhoneLocked(hd_phone);
    if (open == nullptr) return PHONEERR_INVALPHONEHANDLE;
    const PhoneEntry& phone = phones_[open->index];
    const int areas = phone.info.has_value() ? phone.info->caps().data_area_sizes_size() : 0;
    if (data_id >= static_cast<DWORD>(areas)) return PHONEERR_INVALDATAID;
    if (data == nullptr && size > 0) return PHONEERR_INVALPOINTER;
    if (data_id < static_cast<DWORD>(phone.info->data_areas_size())) {
      CopyData(phone.info->data_areas(static_cast<int>(data_id)), data, size);
      return 0;
    }
    if (client_ == nullptr || stopping_) return PHONEERR_OPERATIONFAILED;
    request.set_phone_id(phone.phone_id);
    request.set_data_id(data_id);
    server = phone.server;
    index = open->index;
    client = client_.get();
    deadline = absl::Milliseconds(config_.deadline_ms);
    ++phone_rpcs_;  // providerShutdown waits for it (it never runs beside a TSPI function)
    ++phones_[index].rpcs[IdOf(hd_phone)];
  }
  // A server without data areas in its phones: synchronous, at most
  // deadline_ms.
  absl::Notification done;
  absl::StatusOr<v1::PhoneData> reply;
  PhoneRpcAsync<v1::GetPhoneDataRequest, v1::PhoneData>(
      client->connection(server), &v1::Telephony::Stub::async::GetPhoneData, std::move(request),
      [&reply, &done](absl::StatusOr<v1::PhoneData> r) {
        reply = std::move(r);
        done.Notify();
      },
      deadline);
  done.WaitForNotification();
  {
    // A TSPI function's thread never calls into TAPISRV: what this queues
    // (a held ClosePhone only) goes out on the dispatcher.
    absl::MutexLock lock(&mu_);
    PhoneRpcDoneLocked(index, IdOf(hd_phone));
  }
  if (!reply.ok()) return PhoneErrOf(reply.status());
  CopyData(reply->data(), data, size);
  return 0;
}

}  // namespace linebridge::tsp
