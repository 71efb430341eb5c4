// RemoteProvider: the mirror of the servers' phones, from providerEnumDevices,
// snapshots, phone events and replies, and the TAPI events it raises
// (PHONE_CREATE, PHONE_REMOVE, PHONE_STATE, PHONE_BUTTON).
#include <algorithm>
#include <utility>

#include "absl/container/flat_hash_set.h"
#include "tsp/remote_provider.h"
#include "tsp/server_identity.h"
#include "tsp/tsp_log.h"

namespace linebridge::tsp {

std::optional<uint32_t> RemoteProvider::IndexOfPhoneDeviceLocked(DWORD device_id) const {
  if (!initialized_) return std::nullopt;
  std::optional<uint32_t> index;
  if (device_id >= phone_base_ && device_id - phone_base_ < phones_enumerated_) {
    index = device_id - phone_base_;
  } else if (auto it = created_phones_.find(device_id); it != created_phones_.end()) {
    index = it->second;
  }
  if (!index.has_value() || *index >= phones_.size() || phones_[*index].phone_id.empty() ||
      phones_[*index].removed || removed_phones_.contains(device_id)) {
    return std::nullopt;
  }
  return index;
}

OpenPhone* RemoteProvider::FindOpenPhoneLocked(HDRVPHONE hd_phone) {
  return open_phones_.Find(IdOf(hd_phone));
}

PhoneSnapshot RemoteProvider::SnapshotOfPhoneLocked(const PhoneEntry& phone) const {
  PhoneSnapshot s;
  s.device_id = phone.device_id;
  s.phone_id = phone.phone_id;
  s.permanent_phone_id = PermanentLineIdOf(phone.server_id, phone.phone_id);
  if (phone.info.has_value()) s.info = *phone.info;
  s.present = phone.present;
  s.server_connected = phone.server < server_connected_.size() && server_connected_[phone.server];
  return s;
}

LONG RemoteProvider::SnapshotOfOpenPhone(HDRVPHONE hd_phone, PhoneSnapshot* snapshot) {
  absl::MutexLock lock(&mu_);
  OpenPhone* open = FindOpenPhoneLocked(hd_phone);
  if (open == nullptr) return PHONEERR_INVALPHONEHANDLE;
  *snapshot = SnapshotOfPhoneLocked(phones_[open->index]);
  return 0;
}

void RemoteProvider::RegisterPhoneLocked(size_t server, const v1::Phone& phone) {
  if (!phone_map_.has_value() || !server_ids_.Accept(server, phone.server_id())) return;
  const uint32_t index = phone_map_->IndexOf(phone.server_id(), phone.id());
  if (index >= phones_.size()) phones_.resize(index + 1);
  PhoneEntry& entry = phones_[index];
  if (entry.removed) {
    // Back after a PHONE_REMOVE: a new TAPI device (the old id stays dead).
    entry.removed = false;
    entry.has_device = false;
    entry.create_sent = false;
    entry.info.reset();
  }
  const bool had_info = entry.info.has_value();
  entry.phone_id = phone.id();
  entry.server_id = phone.server_id();
  entry.info = phone;
  entry.server = server;
  entry.present = true;
  if (!entry.has_device && !entry.create_sent) {
    entry.create_sent = true;
    Outgoing out;
    out.kind = Outgoing::Kind::kPhoneCreate;
    out.p2 = index;  // the temporary id TAPI hands back to providerCreatePhoneDevice
    EnqueueLocked(out);
  } else if (!had_info && entry.hd_phone != 0) {
    PhoneEventLocked(entry.hd_phone, PHONE_STATE, PHONESTATE_CAPSCHANGE, 0, 0);
  }
  // An open phone of the device map that waited for its server: open it now.
  if (OpenPhone* open = open_phones_.Find(entry.hd_phone);
      open != nullptr && open->applied_privilege == 0 && !open->open_in_flight) {
    OpenPhoneOnServerLocked(entry.hd_phone, open->waiters.empty() ? v1::PRIVILEGE_MONITOR
                                                                  : v1::PRIVILEGE_OWNER);
  }
  absl::Status saved = phone_map_->Save();
  if (!saved.ok()) LogError(saved.ToString());
}

void RemoteProvider::RemovePhoneLocked(PhoneEntry& phone) {
  phone.present = false;
  if (phone.has_device && !phone.removed) {
    phone.removed = true;
    removed_phones_.insert(phone.device_id);
    Outgoing out;
    out.kind = Outgoing::Kind::kPhoneRemove;
    out.p1 = phone.device_id;
    EnqueueLocked(out);
  }
}

void RemoteProvider::ApplyPhoneSnapshotLocked(size_t server, const v1::Snapshot& snapshot) {
  absl::flat_hash_set<std::string> listed;
  for (const v1::Phone& phone : snapshot.phones()) {
    listed.insert(phone.id());
    PhoneEntry* known = nullptr;
    for (PhoneEntry& p : phones_) {
      if (p.present && p.server == server && p.phone_id == phone.id()) known = &p;
    }
    // A phone already known: its state may have moved while the stream was
    // down; an open phone hears of what TAPI shows (lamps, display, ring...).
    const bool open = known != nullptr && known->hd_phone != 0 && known->info.has_value();
    std::optional<v1::Phone> before = open ? known->info : std::nullopt;
    RegisterPhoneLocked(server, phone);
    if (before.has_value() && before->status().SerializeAsString() !=
                                  phone.status().SerializeAsString()) {
      PhoneEventLocked(known->hd_phone, PHONE_STATE, PHONESTATE_OTHER, 0, 0);
    }
  }
  // Phones of this server that it no longer has were removed meanwhile.
  for (PhoneEntry& phone : phones_) {
    if (phone.present && phone.server == server && !listed.contains(phone.phone_id)) {
      RemovePhoneLocked(phone);
    }
  }
}

void RemoteProvider::PhoneEventLocked(uint32_t hd_phone, DWORD msg, DWORD_PTR p1, DWORD_PTR p2,
                                      DWORD_PTR p3) {
  Outgoing out;
  out.kind = Outgoing::Kind::kPhoneEvent;
  out.hd_phone = hd_phone;
  out.msg = msg;
  out.p1 = p1;
  out.p2 = p2;
  out.p3 = p3;
  EnqueueLocked(out);
}

void RemoteProvider::PhonesServerLostLocked(size_t server) {
  for (PhoneEntry& phone : phones_) {
    if (phone.server != server || phone.hd_phone == 0 || phone.reported_disconnected) continue;
    // A phone the server itself reported disconnected has had its PHONE_STATE.
    if (phone.info.has_value() && !phone.info->status().connected()) continue;
    phone.reported_disconnected = true;
    PhoneEventLocked(phone.hd_phone, PHONE_STATE, PHONESTATE_DISCONNECTED, 0, 0);
  }
}

void RemoteProvider::PhonesServerBackLocked(size_t server) {
  for (PhoneEntry& phone : phones_) {
    if (phone.server != server || !phone.reported_disconnected) continue;
    phone.reported_disconnected = false;
    if (phone.hd_phone == 0 || !phone.present) continue;
    if (phone.info.has_value() && phone.info->status().connected()) {
      PhoneEventLocked(phone.hd_phone, PHONE_STATE, PHONESTATE_CONNECTED, 0, 0);
    }
  }
}

void RemoteProvider::ApplyPhoneEventLocked(size_t server, const v1::Event& event) {
  if (event.kind_case() == v1::Event::kPhoneCreated) {
    RegisterPhoneLocked(server, event.phone_created().phone());
    return;
  }
  const std::string& phone_id = event.kind_case() == v1::Event::kPhoneRemoved
                                    ? event.phone_removed().phone_id()
                                    : event.phone_id();
  PhoneEntry* phone = nullptr;
  for (PhoneEntry& p : phones_) {
    if (p.present && p.server == server && p.phone_id == phone_id) phone = &p;
  }
  if (phone == nullptr) return;
  if (event.kind_case() == v1::Event::kPhoneRemoved) {
    RemovePhoneLocked(*phone);
    return;
  }
  if (!phone->info.has_value()) phone->info.emplace();
  v1::Phone& info = *phone->info;
  if (event.kind_case() == v1::Event::kPhoneData) {
    // No TAPI message: phoneGetData answers from here.
    const v1::PhoneDataChanged& d = event.phone_data();
    if (d.data_id() >= static_cast<uint32_t>(info.caps().data_area_sizes_size())) return;
    auto* areas = info.mutable_data_areas();
    while (areas->size() <= static_cast<int>(d.data_id())) areas->Add();
    *areas->Mutable(static_cast<int>(d.data_id())) = d.data();
    return;
  }
  if (event.kind_case() == v1::Event::kPhoneButton) {
    const v1::PhoneButtonEvent& b = event.phone_button();
    auto* states = info.mutable_status()->mutable_button_states();
    while (states->size() <= static_cast<int>(b.button_lamp_id())) {
      states->Add(v1::PHONE_BUTTON_STATE_UNKNOWN);
    }
    states->Set(static_cast<int>(b.button_lamp_id()), b.state());
    if (phone->hd_phone != 0) {
      PhoneEventLocked(phone->hd_phone, PHONE_BUTTON, b.button_lamp_id(), PhoneBitOf(b.mode()),
                       PhoneBitOf(b.state()));
    }
    return;
  }
  // kPhoneState: the new status, then one PHONE_STATE per item that changed
  // (dwParam2 as TAPI defines it for that item), in PHONESTATE_* order.
  const v1::PhoneStateChanged& change = event.phone_state();
  *info.mutable_status() = change.status();
  bool buttons = false;
  DWORD states = 0;
  for (const std::string& name : change.changed()) {
    buttons = buttons || name == "buttons";
    states |= PhoneStateOfChange(name, change.status().connected());
  }
  if (buttons) *info.mutable_buttons() = change.buttons();
  if (phone->hd_phone == 0) return;
  const v1::PhoneStatus& ps = info.status();
  for (DWORD bit = 1; bit != 0 && bit <= states; bit <<= 1) {
    if ((states & bit) == 0) continue;
    DWORD_PTR p2 = 0;
    switch (bit) {
      case PHONESTATE_OWNER: p2 = ps.num_owners(); break;
      case PHONESTATE_MONITORS: p2 = ps.num_monitors(); break;
      case PHONESTATE_LAMP: p2 = change.button_lamp_id(); break;
      case PHONESTATE_RINGMODE: p2 = ps.ring_mode(); break;
      case PHONESTATE_HANDSETHOOKSWITCH: p2 = PhoneBitOf(ps.handset_mode()); break;
      case PHONESTATE_SPEAKERHOOKSWITCH: p2 = PhoneBitOf(ps.speaker_mode()); break;
      case PHONESTATE_HEADSETHOOKSWITCH: p2 = PhoneBitOf(ps.headset_mode()); break;
      default: break;
    }
    PhoneEventLocked(phone->hd_phone, PHONE_STATE, bit, p2, 0);
  }
}

}  // namespace linebridge::tsp
