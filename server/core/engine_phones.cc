// The engine's phones (docs/api.md#phones): the phone RPCs, the
// ProviderHost phone calls and the phone events. The model and its checks
// are in core/phones.{h,cc}. Every failure of a phone RPC carries a
// PHONEERR_* (AsPhoneStatus turns the shared lookups' LINEERRs into theirs).
#include <algorithm>
#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "core/engine.h"
#include "linebridge/lineerr.h"
#include "linebridge/status_macros.h"

namespace linebridge {
namespace {

absl::Status CheckPhoneId(const std::string& phone_id) {
  if (phone_id.empty()) {
    return PhoneErrStatus(absl::StatusCode::kInvalidArgument, PHONEERR_BADDEVICEID,
                          "phone_id is required");
  }
  if (phone_id.size() > kMaxIdLength) {
    return PhoneErrStatus(absl::StatusCode::kInvalidArgument, PHONEERR_BADDEVICEID,
                          absl::StrCat("phone_id is ", phone_id.size(), " bytes; at most ",
                                       kMaxIdLength, " allowed"));
  }
  return absl::OkStatus();
}

absl::Status CheckSessionId(const std::string& session_id) {
  if (session_id.empty()) {
    return PhoneErrStatus(absl::StatusCode::kInvalidArgument, PHONEERR_INVALAPPHANDLE,
                          "session_id is required");
  }
  return absl::OkStatus();
}

void AppendNew(std::vector<std::string>* to, const std::vector<std::string>& names) {
  for (const std::string& n : names) {
    if (std::find(to->begin(), to->end(), n) == to->end()) to->push_back(n);
  }
}

}  // namespace

// ---------------------------------------------------------------------------
// Lookups and events

absl::StatusOr<PhoneEntry*> Engine::FindPhoneForOp(const std::string& phone_id) {
  LB_RETURN_IF_ERROR(CheckPhoneId(phone_id));
  auto it = phones_.find(phone_id);
  if (it == phones_.end()) {
    return PhoneError(PHONEERR_BADDEVICEID, absl::StrCat("no phone \"", phone_id, "\""));
  }
  return &it->second;
}

absl::StatusOr<PhoneEntry*> Engine::OwnedPhone(const std::string& session_id,
                                               const std::string& phone_id) {
  LB_ASSIGN_OR_RETURN(PhoneEntry * phone, FindPhoneForOp(phone_id));
  if (session_id.empty()) {
    return PhoneError(PHONEERR_NOTOWNER, absl::StrCat("setting phone ", phone_id,
                                                      " needs a session that owns it"));
  }
  LB_RETURN_IF_ERROR(AsPhoneStatus(FindSession(session_id).status()));
  auto open = phone->opens.find(session_id);
  if (open == phone->opens.end() || open->second != v1::PRIVILEGE_OWNER) {
    return PhoneError(PHONEERR_NOTOWNER,
                      absl::StrCat("phone ", phone_id, " is not open as owner in this session"));
  }
  return phone;
}

void Engine::EmitPhoneState(const PhoneEntry& phone, std::vector<std::string> changed,
                            uint32_t button_lamp_id, bool buttons) {
  if (changed.empty()) return;
  v1::Event ev;
  ev.set_line_id(phone.phone.line_id());
  ev.set_phone_id(phone.phone.id());
  v1::PhoneStateChanged* st = ev.mutable_phone_state();
  *st->mutable_status() = phone.phone.status();
  for (std::string& name : changed) st->add_changed(std::move(name));
  st->set_button_lamp_id(button_lamp_id);
  if (buttons) *st->mutable_buttons() = phone.phone.buttons();
  Emit(std::move(ev));
}

v1::Phone Engine::ClientChange(PhoneEntry& phone, std::vector<std::string> changed,
                               uint32_t button_lamp_id) {
  if (!changed.empty()) {
    const bool buttons = std::find(changed.begin(), changed.end(), "buttons") != changed.end();
    EmitPhoneState(phone, changed, button_lamp_id, buttons);
    if (phone.provider != nullptr) phone.provider->PhoneStatusSet(phone.phone.id(), changed);
  }
  return phone.phone;
}

void Engine::ClosePhoneLocked(PhoneEntry& phone, const std::string& session_id) {
  auto it = phone.opens.find(session_id);
  if (it == phone.opens.end()) return;
  phone.opens.erase(it);
  if (auto s = sessions_.find(session_id); s != sessions_.end()) {
    s->second.open_phones.erase(phone.phone.id());
  }
  v1::PhoneStatus* st = phone.phone.mutable_status();
  std::vector<std::string> changed;
  if (st->num_owners() != phone.owners()) changed.push_back("num_owners");
  if (st->num_monitors() != phone.monitors()) changed.push_back("num_monitors");
  st->set_num_owners(phone.owners());
  st->set_num_monitors(phone.monitors());
  EmitPhoneState(phone, std::move(changed));
}

void Engine::ClosePhonesOf(const std::string& session_id) {
  auto s = sessions_.find(session_id);
  if (s == sessions_.end()) return;
  const std::set<std::string> open = std::move(s->second.open_phones);
  s->second.open_phones.clear();
  for (const std::string& id : open) {
    if (auto p = phones_.find(id); p != phones_.end()) ClosePhoneLocked(p->second, session_id);
  }
}

void Engine::SnapshotPhones(const std::set<std::string>& lines, v1::Snapshot* snap) {
  for (const auto& [id, phone] : phones_) {
    const std::string& line = phone.phone.line_id();
    if (lines.empty() || line.empty() || lines.count(line) > 0) *snap->add_phones() = phone.phone;
  }
}

std::optional<std::string> Engine::GrantOfPhone(const std::string& phone_id) {
  EngineLock lock(this);
  auto it = phones_.find(phone_id);
  if (it == phones_.end()) return std::nullopt;
  const std::string& line = it->second.phone.line_id();
  return line.empty() ? phone_id : line;
}

size_t Engine::num_phones() {
  EngineLock lock(this);
  return phones_.size();
}

// ---------------------------------------------------------------------------
// ProviderHost

void Engine::AddPhone(v1::Phone phone) {
  mu_.AssertHeld();
  const std::string id = phone.id();
  Provider* provider = nullptr;
  for (auto& p : providers_) {
    if (absl::StartsWith(id, absl::StrCat(p->name(), "/"))) provider = p.get();
  }
  phone.set_server_id(options_.server_id);
  NormalizePhone(&phone);
  PhoneEntry& entry = phones_[id];
  entry.phone = std::move(phone);
  entry.provider = provider;
  entry.phone.mutable_status()->set_num_owners(entry.owners());
  entry.phone.mutable_status()->set_num_monitors(entry.monitors());
  v1::Event ev;
  ev.set_line_id(entry.phone.line_id());
  ev.set_phone_id(id);
  *ev.mutable_phone_created()->mutable_phone() = entry.phone;
  Emit(std::move(ev));
}

void Engine::RemovePhone(const std::string& phone_id) {
  mu_.AssertHeld();
  auto it = phones_.find(phone_id);
  if (it == phones_.end()) return;
  for (const auto& [sid, privilege] : it->second.opens) {
    if (auto s = sessions_.find(sid); s != sessions_.end()) s->second.open_phones.erase(phone_id);
  }
  v1::Event ev;
  ev.set_line_id(it->second.phone.line_id());
  ev.set_phone_id(phone_id);
  ev.mutable_phone_removed()->set_phone_id(phone_id);
  phones_.erase(it);
  Emit(std::move(ev));
}

void Engine::UpdatePhoneStatus(const std::string& phone_id,
                               const std::function<void(v1::PhoneStatus*)>& edit,
                               std::vector<std::string> changed, uint32_t button_lamp_id) {
  mu_.AssertHeld();
  auto it = phones_.find(phone_id);
  if (it == phones_.end()) return;
  PhoneEntry& phone = it->second;
  edit(phone.phone.mutable_status());
  // What the engine keeps stays the engine's.
  phone.phone.mutable_status()->set_num_owners(phone.owners());
  phone.phone.mutable_status()->set_num_monitors(phone.monitors());
  EmitPhoneState(phone, std::move(changed), button_lamp_id);
}

void Engine::PhoneButton(const std::string& phone_id, uint32_t button_id,
                         v1::PhoneButtonState state) {
  mu_.AssertHeld();
  auto it = phones_.find(phone_id);
  if (it == phones_.end() || button_id >= static_cast<uint32_t>(it->second.phone.buttons_size())) {
    return;
  }
  v1::Phone& phone = it->second.phone;
  const int i = static_cast<int>(button_id);
  phone.mutable_status()->set_button_states(i, state);
  v1::Event ev;
  ev.set_line_id(phone.line_id());
  ev.set_phone_id(phone_id);
  v1::PhoneButtonEvent* b = ev.mutable_phone_button();
  b->set_button_lamp_id(button_id);
  b->set_mode(phone.buttons(i).mode());
  b->set_function(phone.buttons(i).function());
  b->set_state(state);
  Emit(std::move(ev));
}

const v1::Phone* Engine::FindPhone(const std::string& phone_id) const {
  mu_.AssertHeld();
  auto it = phones_.find(phone_id);
  return it == phones_.end() ? nullptr : &it->second.phone;
}

std::vector<const v1::Call*> Engine::CallsOnLine(const std::string& line_id) const {
  mu_.AssertHeld();
  std::vector<const v1::Call*> out;
  auto it = lines_.find(line_id);
  if (it == lines_.end()) return out;
  for (const std::string& id : it->second.calls) {
    if (auto c = calls_.find(id); c != calls_.end()) out.push_back(&c->second.call);
  }
  return out;
}

// ---------------------------------------------------------------------------
// Telephony API: phones

absl::StatusOr<v1::ListPhonesResponse> Engine::ListPhones(const v1::ListPhonesRequest& req) {
  if (req.line_id().size() > kMaxIdLength) {
    return PhoneError(PHONEERR_INVALPARAM, "line_id is too long");
  }
  EngineLock lock(this);
  v1::ListPhonesResponse resp;
  for (const auto& [id, phone] : phones_) {
    if (!req.line_id().empty() && phone.phone.line_id() != req.line_id()) continue;
    *resp.add_phones() = phone.phone;
  }
  return resp;
}

absl::StatusOr<v1::Phone> Engine::GetPhone(const v1::GetPhoneRequest& req) {
  EngineLock lock(this);
  LB_ASSIGN_OR_RETURN(PhoneEntry * phone, FindPhoneForOp(req.phone_id()));
  return phone->phone;
}

absl::StatusOr<v1::Phone> Engine::OpenPhone(const v1::OpenPhoneRequest& req) {
  LB_RETURN_IF_ERROR(CheckSessionId(req.session_id()));
  LB_RETURN_IF_ERROR(CheckPhoneId(req.phone_id()));
  if (req.privilege() != v1::PRIVILEGE_OWNER && req.privilege() != v1::PRIVILEGE_MONITOR) {
    return PhoneError(PHONEERR_INVALPRIVILEGE, "a phone is opened as owner or monitor");
  }
  EngineLock lock(this);
  absl::StatusOr<SessionEntry*> session = FindSession(req.session_id());
  if (!session.ok()) return AsPhoneStatus(session.status());
  SessionEntry* s = *session;
  LB_ASSIGN_OR_RETURN(PhoneEntry * phone, FindPhoneForOp(req.phone_id()));
  const bool reopen = phone->opens.count(req.session_id()) > 0;
  if (req.privilege() == v1::PRIVILEGE_OWNER) {
    for (const auto& [sid, privilege] : phone->opens) {
      if (sid != req.session_id() && privilege == v1::PRIVILEGE_OWNER) {
        return PhoneError(PHONEERR_INUSE, absl::StrCat("phone ", req.phone_id(),
                                                       " is open as owner in another session"));
      }
    }
  }
  if (!reopen && phone->opens.size() >= kMaxOpensPerPhone) {
    return PhoneError(PHONEERR_RESOURCEUNAVAIL,
                      absl::StrCat("phone ", req.phone_id(), " is open in ", kMaxOpensPerPhone,
                                   " sessions already"));
  }
  phone->opens[req.session_id()] = req.privilege();
  s->open_phones.insert(req.phone_id());
  v1::PhoneStatus* st = phone->phone.mutable_status();
  std::vector<std::string> changed;
  if (st->num_owners() != phone->owners()) changed.push_back("num_owners");
  if (st->num_monitors() != phone->monitors()) changed.push_back("num_monitors");
  st->set_num_owners(phone->owners());
  st->set_num_monitors(phone->monitors());
  EmitPhoneState(*phone, std::move(changed));
  return phone->phone;
}

absl::StatusOr<v1::ClosePhoneResponse> Engine::ClosePhone(const v1::ClosePhoneRequest& req) {
  LB_RETURN_IF_ERROR(CheckSessionId(req.session_id()));
  EngineLock lock(this);
  LB_RETURN_IF_ERROR(AsPhoneStatus(FindSession(req.session_id()).status()));
  LB_ASSIGN_OR_RETURN(PhoneEntry * phone, FindPhoneForOp(req.phone_id()));
  if (phone->opens.count(req.session_id()) == 0) {
    return PhoneError(PHONEERR_INVALPHONEHANDLE,
                      absl::StrCat("phone ", req.phone_id(), " is not open in this session"));
  }
  ClosePhoneLocked(*phone, req.session_id());
  return v1::ClosePhoneResponse();
}

absl::StatusOr<v1::Phone> Engine::SetPhoneHookSwitch(const v1::SetPhoneHookSwitchRequest& req) {
  EngineLock lock(this);
  LB_ASSIGN_OR_RETURN(PhoneEntry * phone, OwnedPhone(req.session_id(), req.phone_id()));
  const std::vector<int> devices(req.devices().begin(), req.devices().end());
  LB_RETURN_IF_ERROR(CheckHookSwitch(phone->phone, devices, req.mode(), /*by_client=*/true));
  std::vector<std::string> changed;
  for (int d : devices) {
    AppendNew(&changed, SetHookSwitchMode(phone->phone.mutable_status(),
                                          static_cast<v1::HookSwitchDevice>(d), req.mode()));
  }
  return ClientChange(*phone, std::move(changed));
}

absl::StatusOr<v1::Phone> Engine::SetPhoneDisplay(const v1::SetPhoneDisplayRequest& req) {
  EngineLock lock(this);
  LB_ASSIGN_OR_RETURN(PhoneEntry * phone, OwnedPhone(req.session_id(), req.phone_id()));
  LB_RETURN_IF_ERROR(CheckDisplay(phone->phone, req.row(), req.column(), req.text()));
  return ClientChange(*phone, WriteDisplay(phone->phone.mutable_status(), phone->phone.caps(),
                                           req.row(), req.column(), req.text()));
}

absl::StatusOr<v1::Phone> Engine::SetPhoneLamp(const v1::SetPhoneLampRequest& req) {
  EngineLock lock(this);
  LB_ASSIGN_OR_RETURN(PhoneEntry * phone, OwnedPhone(req.session_id(), req.phone_id()));
  LB_RETURN_IF_ERROR(CheckLamp(phone->phone, req.button_lamp_id(), req.mode()));
  const int i = static_cast<int>(req.button_lamp_id());
  v1::PhoneStatus* st = phone->phone.mutable_status();
  std::vector<std::string> changed;
  if (st->lamp_modes(i) != req.mode()) {
    st->set_lamp_modes(i, req.mode());
    changed.push_back("lamp_modes");
  }
  return ClientChange(*phone, std::move(changed), req.button_lamp_id());
}

absl::StatusOr<v1::Phone> Engine::SetPhoneRing(const v1::SetPhoneRingRequest& req) {
  EngineLock lock(this);
  LB_ASSIGN_OR_RETURN(PhoneEntry * phone, OwnedPhone(req.session_id(), req.phone_id()));
  LB_RETURN_IF_ERROR(CheckRing(phone->phone, req.ring_mode(), req.volume()));
  v1::PhoneStatus* st = phone->phone.mutable_status();
  std::vector<std::string> changed;
  if (st->ring_mode() != req.ring_mode()) changed.push_back("ring_mode");
  if (st->ring_volume() != req.volume()) changed.push_back("ring_volume");
  st->set_ring_mode(req.ring_mode());
  st->set_ring_volume(req.volume());
  return ClientChange(*phone, std::move(changed));
}

absl::StatusOr<v1::Phone> Engine::SetPhoneVolume(const v1::SetPhoneLevelRequest& req) {
  EngineLock lock(this);
  LB_ASSIGN_OR_RETURN(PhoneEntry * phone, OwnedPhone(req.session_id(), req.phone_id()));
  LB_RETURN_IF_ERROR(CheckLevel(phone->phone, req.device(), req.level(), /*gain=*/false));
  return ClientChange(*phone, SetLevel(phone->phone.mutable_status(), req.device(),
                                       /*gain=*/false, req.level()));
}

absl::StatusOr<v1::Phone> Engine::SetPhoneGain(const v1::SetPhoneLevelRequest& req) {
  EngineLock lock(this);
  LB_ASSIGN_OR_RETURN(PhoneEntry * phone, OwnedPhone(req.session_id(), req.phone_id()));
  LB_RETURN_IF_ERROR(CheckLevel(phone->phone, req.device(), req.level(), /*gain=*/true));
  return ClientChange(*phone, SetLevel(phone->phone.mutable_status(), req.device(),
                                       /*gain=*/true, req.level()));
}

absl::StatusOr<v1::Phone> Engine::SetPhoneButtonInfo(const v1::SetPhoneButtonInfoRequest& req) {
  EngineLock lock(this);
  LB_ASSIGN_OR_RETURN(PhoneEntry * phone, OwnedPhone(req.session_id(), req.phone_id()));
  LB_RETURN_IF_ERROR(CheckButtonInfo(phone->phone, req.button()));
  // The lamp is the device's: a client relabels and reassigns the button.
  v1::PhoneButton& b = *phone->phone.mutable_buttons(static_cast<int>(req.button().id()));
  std::vector<std::string> changed;
  if (b.mode() != req.button().mode() || b.function() != req.button().function() ||
      b.text() != req.button().text()) {
    b.set_mode(req.button().mode());
    b.set_function(req.button().function());
    b.set_text(req.button().text());
    changed.push_back("buttons");
  }
  return ClientChange(*phone, std::move(changed), req.button().id());
}

absl::StatusOr<v1::Phone> Engine::SetPhoneData(const v1::SetPhoneDataRequest& req) {
  EngineLock lock(this);
  LB_ASSIGN_OR_RETURN(PhoneEntry * phone, OwnedPhone(req.session_id(), req.phone_id()));
  LB_RETURN_IF_ERROR(CheckDataId(phone->phone, req.data_id()));
  std::string& area = *phone->phone.mutable_data_areas(static_cast<int>(req.data_id()));
  if (req.data().size() > area.size()) {
    return PhoneError(PHONEERR_INVALPARAM,
                      absl::StrCat(req.data().size(), " bytes do not fit data area ", req.data_id(),
                                   " of phone ", req.phone_id(), " (", area.size(), " bytes)"));
  }
  if (area.compare(0, req.data().size(), req.data()) != 0) {
    area.replace(0, req.data().size(), req.data());
    v1::Event ev;
    ev.set_line_id(phone->phone.line_id());
    ev.set_phone_id(phone->phone.id());
    ev.mutable_phone_data()->set_data_id(req.data_id());
    ev.mutable_phone_data()->set_data(area);
    Emit(std::move(ev));
  }
  return phone->phone;
}

absl::StatusOr<v1::PhoneData> Engine::GetPhoneData(const v1::GetPhoneDataRequest& req) {
  EngineLock lock(this);
  LB_ASSIGN_OR_RETURN(PhoneEntry * phone, FindPhoneForOp(req.phone_id()));
  LB_RETURN_IF_ERROR(CheckDataId(phone->phone, req.data_id()));
  v1::PhoneData resp;
  resp.set_data(phone->phone.data_areas(static_cast<int>(req.data_id())));
  return resp;
}

absl::StatusOr<v1::Phone> Engine::OperatePhone(const v1::OperatePhoneRequest& req) {
  EngineLock lock(this);
  LB_ASSIGN_OR_RETURN(PhoneEntry * phone, FindPhoneForOp(req.phone_id()));
  switch (req.action_case()) {
    case v1::OperatePhoneRequest::kPressButton:
      LB_RETURN_IF_ERROR(CheckPress(phone->phone, req.press_button()));
      break;
    case v1::OperatePhoneRequest::kHookswitch:
      LB_RETURN_IF_ERROR(CheckHookSwitch(phone->phone, {req.hookswitch().device()},
                                         req.hookswitch().mode(), /*by_client=*/false));
      break;
    default:
      return PhoneError(PHONEERR_INVALPARAM, "press_button or hookswitch is required");
  }
  if (phone->provider == nullptr) {
    return PhoneError(PHONEERR_OPERATIONUNAVAIL, "the phone has no provider");
  }
  const std::string id = req.phone_id();
  LB_RETURN_IF_ERROR(AsPhoneStatus(phone->provider->OperatePhone(id, req)));
  // The provider may have answered, dialled or dropped calls: the phone is
  // still there (a provider removes its phones only when it goes).
  auto it = phones_.find(id);
  if (it == phones_.end()) return PhoneError(PHONEERR_NODEVICE, "the phone went away");
  return it->second.phone;
}

}  // namespace linebridge
