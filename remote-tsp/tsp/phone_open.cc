// RemoteProvider: phone devices' life and what is answered without the
// server: providerCreatePhoneDevice, phoneNegotiateTSPIVersion, the
// linebridge extension (phoneNegotiateExtVersion, phoneGetExtensionID,
// phoneSelectExtVersion, phoneDevSpecific), phoneOpen/phoneClose and the
// server-side open behind them (OpenPhone, ClosePhone), phoneGetID,
// phoneGetIcon, phoneSetStatusMessages.
#include <algorithm>
#include <cstring>
#include <string>
#include <thread>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "linebridge/deadline.h"
#include "linebridge/linebridge_ext.h"
#include "tsp/phone_rpc.h"
#include "tsp/provider_internal.h"
#include "tsp/remote_provider.h"
#include "tsp/tsp_log.h"
#include "tsp/var_struct.h"

namespace linebridge::tsp {
namespace {

void CopyId(char (&to)[LINEBRIDGE_ID_CHARS], const std::string& from) {
  const size_t n = std::min(from.size(), sizeof to - 1);
  std::memcpy(to, from.data(), n);
  to[n] = '\0';
}

// Every PHONESTATE_* bit (OTHER .. REMOVED), PHONEBUTTONMODE_* and
// PHONEBUTTONSTATE_* bit TAPI defines.
constexpr DWORD kAllPhoneStates = 0x00FFFFFF;
constexpr DWORD kAllButtonModes = 0x0000003F;
constexpr DWORD kAllButtonStates = 0x0000000F;

}  // namespace

LONG RemoteProvider::CreatePhoneDevice(DWORD_PTR temp_id, DWORD device_id) {
  absl::MutexLock lock(&mu_);
  if (!initialized_) return PHONEERR_OPERATIONFAILED;
  if (temp_id >= phones_.size() || !phones_[temp_id].create_sent || phones_[temp_id].has_device) {
    return PHONEERR_BADDEVICEID;
  }
  PhoneEntry& phone = phones_[temp_id];
  phone.has_device = true;
  phone.device_id = device_id;
  created_phones_[device_id] = static_cast<uint32_t>(temp_id);
  return 0;
}

LONG RemoteProvider::PhoneNegotiateTSPIVersion(DWORD device_id, DWORD low_version,
                                               DWORD high_version, LPDWORD tspi_version) {
  if (tspi_version == nullptr) return PHONEERR_INVALPOINTER;
  if (device_id != kInitializeNegotiation) {
    absl::MutexLock lock(&mu_);
    if (!IndexOfPhoneDeviceLocked(device_id).has_value()) return PHONEERR_BADDEVICEID;
  }
  if (low_version > high_version || low_version > kTspiVersionHigh ||
      high_version < kTspiVersionLow) {
    return PHONEERR_INCOMPATIBLEAPIVERSION;
  }
  *tspi_version = std::min(high_version, kTspiVersionHigh);
  return 0;
}

LONG RemoteProvider::PhoneNegotiateExtVersion(DWORD device_id, DWORD, DWORD low_version,
                                              DWORD high_version, LPDWORD ext_version) {
  absl::MutexLock lock(&mu_);
  if (!IndexOfPhoneDeviceLocked(device_id).has_value()) return PHONEERR_BADDEVICEID;
  if (ext_version == nullptr) return PHONEERR_INVALPOINTER;
  if (low_version > LINEBRIDGE_EXT_VERSION || high_version < LINEBRIDGE_EXT_VERSION) {
    return PHONEERR_INCOMPATIBLEEXTVERSION;
  }
  *ext_version = LINEBRIDGE_EXT_VERSION;
  return 0;
}

LONG RemoteProvider::PhoneGetExtensionID(DWORD device_id, DWORD,
                                         LPPHONEEXTENSIONID extension_id) {
  absl::MutexLock lock(&mu_);
  if (!IndexOfPhoneDeviceLocked(device_id).has_value()) return PHONEERR_BADDEVICEID;
  if (extension_id == nullptr) return PHONEERR_INVALPOINTER;
  FillExtensionId(extension_id);
  return 0;
}

LONG RemoteProvider::PhoneSelectExtVersion(HDRVPHONE hd_phone, DWORD ext_version) {
  absl::MutexLock lock(&mu_);
  OpenPhone* open = FindOpenPhoneLocked(hd_phone);
  if (open == nullptr) return PHONEERR_INVALPHONEHANDLE;
  if (!SelectableExtVersion(ext_version)) return PHONEERR_INCOMPATIBLEEXTVERSION;
  open->ext_version = ext_version;
  return 0;
}

LONG RemoteProvider::PhoneDevSpecific(DRV_REQUESTID request_id, HDRVPHONE hd_phone,
                                      LPVOID params, DWORD size) {
  absl::MutexLock lock(&mu_);
  OpenPhone* open = FindOpenPhoneLocked(hd_phone);
  if (open == nullptr) return PHONEERR_INVALPHONEHANDLE;
  // Only for an application that selected the extension.
  if (open->ext_version == 0) return PHONEERR_OPERATIONUNAVAIL;
  if (params == nullptr || size < sizeof(uint32_t)) return PHONEERR_INVALPOINTER;
  if (pending_.contains(request_id)) return PHONEERR_OPERATIONFAILED;
  uint32_t command = 0;
  std::memcpy(&command, params, sizeof command);
  if (command != LINEBRIDGE_DEVSPECIFIC_PHONE_IDENTITY) return PHONEERR_OPERATIONUNAVAIL;
  if (size < sizeof(LINEBRIDGE_PHONE_IDENTITY)) return PHONEERR_INVALPARAM;
  const PhoneEntry& phone = phones_[open->index];
  LINEBRIDGE_PHONE_IDENTITY who;
  std::memset(&who, 0, sizeof who);
  who.dwCommand = command;
  CopyId(who.szServerId, phone.server_id);
  CopyId(who.szPhoneId, phone.phone_id);
  CopyId(who.szLineId, phone.info.has_value() ? phone.info->line_id() : std::string());
  std::memcpy(params, &who, sizeof who);
  Pending pending;
  pending.phone = true;
  pending_[request_id] = pending;
  CompleteLocked(request_id, 0);  // the dispatcher delivers it after this returns
  return static_cast<LONG>(request_id);
}

LONG RemoteProvider::PhoneOpen(DWORD device_id, HTAPIPHONE ht_phone, LPHDRVPHONE hd_phone,
                               DWORD tspi_version, PHONEEVENT event_proc) {
  if (hd_phone == nullptr || event_proc == nullptr) return PHONEERR_INVALPOINTER;
  absl::MutexLock lock(&mu_);
  std::optional<uint32_t> index = IndexOfPhoneDeviceLocked(device_id);
  if (!index.has_value()) return PHONEERR_BADDEVICEID;
  if (tspi_version < kTspiVersionLow || tspi_version > kTspiVersionHigh) {
    return PHONEERR_INCOMPATIBLEAPIVERSION;
  }
  PhoneEntry& phone = phones_[*index];
  if (phone.hd_phone != 0) return PHONEERR_ALLOCATED;
  OpenPhone open;
  open.index = *index;
  open.ht_phone = ht_phone;
  open.event_proc = event_proc;
  open.version = tspi_version;
  const uint32_t id = open_phones_.Add(std::move(open));
  phone.hd_phone = id;
  *hd_phone = HandleOf<HDRVPHONE>(id);
  // MONITOR in the background (events, PHONESTATUS counts); the first
  // request makes it OWNER.
  OpenPhoneOnServerLocked(id, v1::PRIVILEGE_MONITOR);
  return 0;
}

void RemoteProvider::OpenPhoneOnServerLocked(uint32_t hd_phone, int privilege) {
  OpenPhone* open = open_phones_.Find(hd_phone);
  if (open == nullptr || open->open_in_flight || client_ == nullptr || stopping_) return;
  PhoneEntry& phone = phones_[open->index];
  const bool reachable = phone.present && phone.server < server_connected_.size() &&
                         server_connected_[phone.server];
  if (!reachable || phone.closes_in_flight > 0 || !phone.closes_held.empty()) {
    // Sent when the server's stream is up (ReopenPhonesLocked) or the close
    // on its way is answered; requests wait at most deadline_ms meanwhile.
    if (!reachable && !open->waiters.empty() && open->wait_until == absl::InfiniteFuture()) {
      open->wait_until = MonotonicNow() + absl::Milliseconds(config_.deadline_ms);
    }
    return;
  }
  open->open_in_flight = true;
  ++phone.rpcs[hd_phone];
  v1::OpenPhoneRequest request;
  request.set_phone_id(phone.phone_id);
  request.set_privilege(static_cast<v1::Privilege>(privilege));
  const size_t server = phone.server;
  const uint32_t index = open->index;
  const absl::Duration deadline = absl::Milliseconds(config_.deadline_ms);
  QueuePhoneSendLocked([this, request = std::move(request), server, index, hd_phone, privilege,
                        deadline](Client& client) mutable {
    request.set_session_id(client.session_id(server));
    PhoneRpcAsync<v1::OpenPhoneRequest, v1::Phone>(
        client.connection(server), &v1::Telephony::Stub::async::OpenPhone, std::move(request),
        [this, index, hd_phone, privilege](absl::StatusOr<v1::Phone> reply) {
          DrainingLock lock(this);
          if (reply.ok() && index < phones_.size() && !phones_[index].info.has_value()) {
            phones_[index].info = *reply;
          }
          OpenPhone* o = open_phones_.Find(hd_phone);
          if (o != nullptr && !stopping_) {
            o->open_in_flight = false;
            if (reply.ok()) {
              o->applied_privilege = std::max(o->applied_privilege, privilege);
            } else if (privilege == v1::PRIVILEGE_OWNER) {
              // Another workstation owns the phone (PHONEERR_INUSE), or the
              // server refused: the requests that waited for it fail with that.
              const LONG err = PhoneErrOf(reply.status());
              std::vector<PhoneWaiter> waiters = std::move(o->waiters);
              o->waiters.clear();
              o->wait_until = absl::InfiniteFuture();
              for (PhoneWaiter& w : waiters) w.fail(err);
              // Still a monitor of the phone (its events), as phoneOpen asked.
              if (o->applied_privilege == 0) {
                OpenPhoneOnServerLocked(hd_phone, v1::PRIVILEGE_MONITOR);
              }
            } else {
              LogWarning(absl::StrCat("opening phone ", phones_[index].phone_id, ": ",
                                      reply.status().ToString()));
            }
            if (o->applied_privilege == v1::PRIVILEGE_OWNER) {
              std::vector<PhoneWaiter> waiters = std::move(o->waiters);
              o->waiters.clear();
              o->wait_until = absl::InfiniteFuture();
              for (PhoneWaiter& w : waiters) QueuePhoneSendLocked(std::move(w.send));
            } else if (!o->waiters.empty()) {
              OpenPhoneOnServerLocked(hd_phone, v1::PRIVILEGE_OWNER);
            }
          }
          PhoneRpcDoneLocked(index, hd_phone);
        },
        deadline);
  });
}

void RemoteProvider::ReopenPhonesLocked(size_t server, bool session_replaced) {
  std::vector<uint32_t> handles;
  open_phones_.ForEach([&](uint32_t id, OpenPhone& open) {
    mu_.AssertHeld();  // run by ForEach under the caller's lock
    if (phones_[open.index].server == server) handles.push_back(id);
  });
  std::sort(handles.begin(), handles.end());
  for (uint32_t id : handles) {
    OpenPhone* open = open_phones_.Find(id);
    if (session_replaced) open->applied_privilege = 0;  // a new session has no opens
    if (open->applied_privilege != 0 && open->waiters.empty()) continue;
    const bool owner = open->applied_privilege == v1::PRIVILEGE_OWNER || !open->waiters.empty();
    OpenPhoneOnServerLocked(id, owner ? v1::PRIVILEGE_OWNER : v1::PRIVILEGE_MONITOR);
  }
}

void RemoteProvider::ExpirePhoneWaitsLocked() {
  const absl::Time now = MonotonicNow();
  open_phones_.ForEach([&](uint32_t, OpenPhone& open) {
    mu_.AssertHeld();  // run by ForEach under the caller's lock
    if (open.waiters.empty() || open.wait_until > now || open.open_in_flight) return;
    std::vector<PhoneWaiter> waiters = std::move(open.waiters);
    open.waiters.clear();
    open.wait_until = absl::InfiniteFuture();
    for (PhoneWaiter& w : waiters) w.fail(PHONEERR_OPERATIONFAILED);
  });
}

LONG RemoteProvider::PhoneClose(HDRVPHONE hd_phone) {
  absl::MutexLock lock(&mu_);
  OpenPhone* open = FindOpenPhoneLocked(hd_phone);
  if (open == nullptr) return PHONEERR_INVALPHONEHANDLE;
  const uint32_t index = open->index;
  // Requests that never went out (waiting for the owner open) end now;
  // those on their way complete with the server's answer, before the close.
  std::vector<PhoneWaiter> waiters = std::move(open->waiters);
  const bool on_server = open->applied_privilege != 0 || open->open_in_flight;
  open_phones_.Remove(IdOf(hd_phone));
  phones_[index].hd_phone = 0;
  phones_[index].reported_disconnected = false;
  // An event of this phone on its way to TAPI right now arrives before
  // phoneClose returns (later ones find no open phone and are dropped).
  if (delivering_thread_ != std::this_thread::get_id()) {
    const uint32_t id = IdOf(hd_phone);
    auto delivered = [this, id]() ABSL_SHARED_LOCKS_REQUIRED(mu_) {
      return delivering_phone_ != id;
    };
    mu_.Await(absl::Condition(&delivered));
  }
  for (PhoneWaiter& w : waiters) w.fail(PHONEERR_OPERATIONFAILED);
  if (on_server) {
    phones_[index].closes_held.insert(IdOf(hd_phone));
    MaybeSendClosePhoneLocked(index, IdOf(hd_phone));
  }
  return 0;
}

void RemoteProvider::PhoneRpcDoneLocked(uint32_t index, uint32_t hd_phone) {
  --phone_rpcs_;
  PhoneRequestDroppedLocked(index, hd_phone);
}

void RemoteProvider::PhoneRequestDroppedLocked(uint32_t index, uint32_t hd_phone) {
  if (index >= phones_.size()) return;
  PhoneEntry& phone = phones_[index];
  if (auto it = phone.rpcs.find(hd_phone); it != phone.rpcs.end() && --it->second <= 0) {
    phone.rpcs.erase(it);
  }
  MaybeSendClosePhoneLocked(index, hd_phone);
}

void RemoteProvider::MaybeSendClosePhoneLocked(uint32_t index, uint32_t hd_phone) {
  if (index >= phones_.size()) return;
  PhoneEntry& phone = phones_[index];
  if (!phone.closes_held.contains(hd_phone) || phone.rpcs.contains(hd_phone) || stopping_) return;
  phone.closes_held.erase(hd_phone);
  ++phone.closes_in_flight;
  v1::ClosePhoneRequest request;
  request.set_phone_id(phone.phone_id);
  const size_t server = phone.server;
  const absl::Duration deadline = absl::Milliseconds(config_.deadline_ms);
  QueuePhoneSendLocked(
      [this, request = std::move(request), server, index, deadline](Client& client) mutable {
        request.set_session_id(client.session_id(server));
        PhoneRpcAsync<v1::ClosePhoneRequest, v1::ClosePhoneResponse>(
            client.connection(server), &v1::Telephony::Stub::async::ClosePhone,
            std::move(request),
            [this, index](absl::StatusOr<v1::ClosePhoneResponse>) {
              DrainingLock lock(this);
              --phone_rpcs_;
              if (index >= phones_.size()) return;
              PhoneEntry& p = phones_[index];
              --p.closes_in_flight;
              // Opened again meanwhile: that open waited for the closes.
              if (p.closes_in_flight == 0 && p.closes_held.empty() && p.hd_phone != 0) {
                OpenPhone* o = open_phones_.Find(p.hd_phone);
                if (o != nullptr && o->applied_privilege == 0) {
                  OpenPhoneOnServerLocked(p.hd_phone, o->waiters.empty() ? v1::PRIVILEGE_MONITOR
                                                                         : v1::PRIVILEGE_OWNER);
                }
              }
            },
            deadline);
      });
}

LONG RemoteProvider::PhoneSetStatusMessages(HDRVPHONE hd_phone, DWORD phone_states,
                                            DWORD button_modes, DWORD button_states) {
  absl::MutexLock lock(&mu_);
  if (FindOpenPhoneLocked(hd_phone) == nullptr) return PHONEERR_INVALPHONEHANDLE;
  if ((phone_states & ~kAllPhoneStates) != 0) return PHONEERR_INVALPHONESTATE;
  if ((button_modes & ~kAllButtonModes) != 0) return PHONEERR_INVALBUTTONMODE;
  if ((button_states & ~kAllButtonStates) != 0) return PHONEERR_INVALBUTTONSTATE;
  // Accepted; every message is sent (TAPISRV filters them per application).
  return 0;
}

LONG RemoteProvider::PhoneGetID(HDRVPHONE hd_phone, LPVARSTRING device_id,
                                LPCWSTR device_class) {
  DWORD phone_device = 0, line_device = 0;
  bool has_line = false;
  {
    absl::MutexLock lock(&mu_);
    OpenPhone* open = FindOpenPhoneLocked(hd_phone);
    if (open == nullptr) return PHONEERR_INVALPHONEHANDLE;
    const PhoneEntry& phone = phones_[open->index];
    phone_device = phone.device_id;
    // "tapi/line": the TAPI device of the phone's line, when it has one here.
    const std::string line_id = phone.info.has_value() ? phone.info->line_id() : "";
    for (const LineEntry& line : lines_) {
      if (!line_id.empty() && line.line_id == line_id && line.server == phone.server &&
          line.present && line.has_device && !line.removed) {
        line_device = line.device_id;
        has_line = true;
      }
    }
  }
  return WritePhoneDeviceId(phone_device, line_device, has_line, device_class, device_id);
}

LONG RemoteProvider::PhoneGetIcon(DWORD device_id, LPCWSTR device_class, LPHICON icon) {
  absl::MutexLock lock(&mu_);
  if (!IndexOfPhoneDeviceLocked(device_id).has_value()) return PHONEERR_BADDEVICEID;
  if (device_class != nullptr && device_class[0] != 0 &&
      Utf16ToUtf8(device_class, 64) != "tapi/phone") {
    return PHONEERR_INVALDEVICECLASS;
  }
  if (icon == nullptr) return PHONEERR_INVALPOINTER;
  *icon = nullptr;  // no icon resource: TAPI shows its default
  return 0;
}

}  // namespace linebridge::tsp
