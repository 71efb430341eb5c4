// What RemoteProvider keeps about phone devices (guarded by its mutex): one
// PhoneEntry per phone of the phone device map, one OpenPhone per HDRVPHONE.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/functional/any_invocable.h"
#include "absl/time/time.h"
#include "linebridge/client.h"
#include "linebridge/tapi_abi.h"
#include "linebridge/v1/phone.pb.h"

namespace linebridge::tsp {

// One phone known from the phone device map (index = that map's index).
struct PhoneEntry {
  std::string phone_id;
  std::string server_id;         // the server's identity ("" until known)
  std::optional<v1::Phone> info;  // last known from the server
  size_t server = 0;
  bool present = false;      // the server lists it now
  bool has_device = false;   // a TAPI phone device id is assigned
  bool create_sent = false;  // PHONE_CREATE queued
  bool removed = false;      // PHONE_REMOVE queued
  DWORD device_id = 0;
  uint32_t hd_phone = 0;  // open handle, 0 if closed
  bool reported_disconnected = false;  // PHONESTATE_DISCONNECTED sent (server lost)
  // RPCs of this phone on their way (opens and requests), by the open
  // (HDRVPHONE) they belong to: phoneClose's ClosePhone goes once that
  // open's are answered, so the server never sees a request after the close
  // that TAPI made before it. A new open of the phone goes to the server only
  // once every earlier close has been answered (it would be undone).
  absl::flat_hash_map<uint32_t, int> rpcs;
  absl::flat_hash_set<uint32_t> closes_held;  // ClosePhone waiting for rpcs[hd] == 0
  int closes_in_flight = 0;                   // ClosePhone sent, not answered
};

// One phone RPC, sent by the dispatcher thread (without the provider's
// mutex) with the provider's client.
using PhoneSend = absl::AnyInvocable<void(Client& client)>;

// A request waiting for the phone's owner open on the server.
struct PhoneWaiter {
  PhoneSend send;                       // queued once the phone is owned
  absl::AnyInvocable<void(LONG)> fail;  // run with the mutex held
};

// An open phone (HDRVPHONE).
struct OpenPhone {
  uint32_t index = 0;
  HTAPIPHONE ht_phone = nullptr;
  PHONEEVENT event_proc = nullptr;
  DWORD version = 0;
  DWORD ext_version = 0;  // phoneSelectExtVersion (0: none)
  // On the server: the privilege applied (0 none, else v1::Privilege) and
  // whether an OpenPhone is on its way (and with which privilege).
  int applied_privilege = 0;
  bool open_in_flight = false;
  // Requests (phoneSet*) need the phone as OWNER on the server: they wait
  // here for the owner open in flight; given up at `wait_until` if the
  // phone's server has no session by then.
  std::vector<PhoneWaiter> waiters;
  absl::Time wait_until = absl::InfiniteFuture();
};

}  // namespace linebridge::tsp
