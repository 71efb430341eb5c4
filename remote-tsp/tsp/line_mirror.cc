// RemoteProvider: the mirror of the servers' lines and calls, built from their
// event streams (and from replies), and the TAPI events it raises.
#include <algorithm>
#include <cstddef>
#include <cstring>
#include <utility>

#include "absl/strings/str_cat.h"
#include "tapi_mapping.h"
#include "tsp/provider_internal.h"
#include "tsp/remote_provider.h"
#include "tsp/tsp_log.h"
#include "absl/container/flat_hash_set.h"

namespace linebridge::tsp {

void RemoteProvider::LineDevStateLocked(uint32_t hd_line, DWORD state) {
  Outgoing out;
  out.kind = Outgoing::Kind::kLineEvent;
  out.hd_line = hd_line;
  out.msg = LINE_LINEDEVSTATE;
  out.p1 = state;
  EnqueueLocked(out);
}

void RemoteProvider::RegisterLineLocked(size_t server, const v1::Line& line) {
  // A line is (server id, line id); a second server reporting the same
  // server id is a configuration error, its lines are left out (logged).
  if (!server_ids_.Accept(server, line.server_id())) return;
  const uint32_t index = device_map_->IndexOf(line.server_id(), line.id());
  if (index >= lines_.size()) lines_.resize(index + 1);
  LineEntry& entry = lines_[index];
  if (entry.removed) {
    // Back after a LINE_REMOVE: a new TAPI device (the old id stays dead).
    entry.removed = false;
    entry.has_device = false;
    entry.create_sent = false;
    entry.info.reset();
  }
  const bool had_info = entry.info.has_value();
  entry.line_id = line.id();
  entry.server_id = line.server_id();
  entry.info = line;
  entry.server = server;
  entry.present = true;
  if (!entry.has_device && !entry.create_sent) {
    entry.create_sent = true;
    Outgoing out;
    out.kind = Outgoing::Kind::kCreate;
    out.p2 = index;  // the temporary id TAPI hands back to providerCreateLineDevice
    EnqueueLocked(out);
  } else if (!had_info && entry.hd_line != 0) {
    OpenOnServerLocked(entry.hd_line);  // if it waited for its server
    LineDevStateLocked(entry.hd_line, LINEDEVSTATE_CAPSCHANGE);
    // An open line of the device map becomes usable for the first time
    // (the provider started with its server down): in service now, as
    // after an outage.
    if (line.status().state() == v1::LINE_STATE_IN_SERVICE) {
      LineDevStateLocked(entry.hd_line, LINEDEVSTATE_INSERVICE);
    }
  }
  absl::Status saved = device_map_->Save();
  if (!saved.ok()) LogError(saved.ToString());
}

void RemoteProvider::RemoveLineLocked(LineEntry& line) {
  line.present = false;
  // TAPI closes the device on LINE_REMOVE (lineCloseCall for each call, then
  // lineClose); the calls end first, whatever the server said about them.
  if (line.hd_line != 0) {
    std::vector<uint32_t> calls;
    calls_.ForEach([&](uint32_t id, CallEntry& e) {
      if (e.hd_line == line.hd_line && !e.idle) calls.push_back(id);
    });
    std::sort(calls.begin(), calls.end());
    for (uint32_t id : calls) {
      v1::CallStatus idle;
      idle.set_state(v1::CALL_STATE_IDLE);
      CallEntry& entry = *calls_.Find(id);
      CallStateLocked(id, entry, idle, ToTapi(entry.call.info().media_mode()));
    }
  }
  if (line.has_device && !line.removed) {
    line.removed = true;
    removed_devices_.insert(line.device_id);
    Outgoing out;
    out.kind = Outgoing::Kind::kRemove;
    out.p1 = line.device_id;
    EnqueueLocked(out);
  }
}

uint32_t RemoteProvider::OpenHandleOfLineLocked(size_t server, const std::string& line_id) const {
  for (const LineEntry& line : lines_) {
    if (IsLineOf(line, server, line_id)) return line.hd_line;
  }
  return 0;
}

bool RemoteProvider::IsLineOf(const LineEntry& line, size_t server, const std::string& line_id) {
  return line.present && line.server == server && line.line_id == line_id;
}

CallOptions RemoteProvider::LineCallOptionsLocked(const LineEntry& line) const {
  CallOptions o = call_options();
  if (line.present) {
    o.server = line.server;
  } else if (std::optional<size_t> known = server_ids_.ServerOf(line.server_id)) {
    o.server = *known;  // a line of the device map whose server answered
  }
  return o;
}

void RemoteProvider::CallStateLocked(uint32_t hd_call, CallEntry& entry,
                                     const v1::CallStatus& status, DWORD media_mode) {
  if (entry.idle) return;  // nothing after IDLE
  const DWORD state = ToTapi(status.state());
  const DWORD mode = CallStateModeToTapi(status);
  if (state == 0 || (state == entry.reported_state && mode == entry.reported_mode)) return;
  entry.reported_state = state;
  entry.reported_mode = mode;
  Outgoing out;
  if (state == LINECALLSTATE_IDLE) {
    // Digit generation in progress ends with the call.
    for (DWORD end_to_end : entry.generating) {
      Outgoing gen;
      gen.kind = Outgoing::Kind::kCallEvent;
      gen.hd_call = hd_call;
      gen.msg = LINE_GENERATE;
      gen.p1 = LINEGENERATETERM_CANCEL;
      gen.p2 = end_to_end;
      if (entry.outbound_pending) entry.deferred.push_back(gen); else EnqueueLocked(gen);
    }
    entry.generating.clear();
    CancelCallMediaLocked(hd_call, entry);
    entry.idle = true;
  }
  out.kind = Outgoing::Kind::kCallEvent;
  out.hd_call = hd_call;
  out.msg = LINE_CALLSTATE;
  out.p1 = state;
  out.p2 = mode;
  out.p3 = media_mode;
  if (entry.outbound_pending) {
    entry.deferred.push_back(out);
  } else {
    EnqueueLocked(out);
  }
}

void RemoteProvider::ApplyCallLocked(size_t server, const v1::Call& call, bool created) {
  auto known = call_by_id_.find(call.id());
  if (known != call_by_id_.end()) {
    CallEntry* entry = calls_.Find(known->second);
    if (entry == nullptr) return;
    entry->call = call;
    entry->has_call = true;
    entry->seen_on_stream = true;
    CallStateLocked(known->second, *entry, call.status(), ToTapi(call.info().media_mode()));
    return;
  }
  if (!created) return;
  const uint32_t hd_line = OpenHandleOfLineLocked(server, call.info().line_id());
  if (hd_line == 0) return;  // not on a line TAPI has open
  // A call one of our requests created (its tag): bound to that handle now.
  if (BindTaggedCallLocked(server, call)) return;
  // A call TAPI does not know: LINE_NEWCALL, then its state.
  CallEntry entry;
  entry.hd_line = hd_line;
  entry.call_id = call.id();
  entry.call = call;
  entry.has_call = true;
  entry.seen_on_stream = true;
  const uint32_t hd_call = calls_.Add(std::move(entry));
  call_by_id_[call.id()] = hd_call;
  Outgoing out;
  out.kind = Outgoing::Kind::kNewCall;
  out.hd_call = hd_call;
  EnqueueLocked(out);
  CallStateLocked(hd_call, *calls_.Find(hd_call), call.status(),
                  ToTapi(call.info().media_mode()));
}

void RemoteProvider::OnEvents(size_t server, const v1::EventBatch& batch) {
  DrainingLock lock(this);
  if (!initialized_ || stopping_) return;
  if (batch.has_snapshot()) {
    absl::flat_hash_set<std::string> listed;
    for (const v1::Line& line : batch.snapshot().lines()) {
      listed.insert(line.id());
      RegisterLineLocked(server, line);
    }
    ApplyPhoneSnapshotLocked(server, batch.snapshot());
    // Lines of this server that it no longer has were removed meanwhile.
    for (LineEntry& line : lines_) {
      if (line.present && line.server == server && !listed.contains(line.line_id)) {
        RemoveLineLocked(line);
      }
    }
    absl::flat_hash_map<std::string, bool> live;
    for (const v1::Call& call : batch.snapshot().calls()) {
      live[call.id()] = true;
      ApplyCallLocked(server, call, /*created=*/true);
    }
    // Calls of this server that the snapshot no longer has are gone (they
    // ended while we could not see it, e.g. the server restarted), unless
    // only a reply has named them so far: a call made after the snapshot
    // was taken is not in it, its call_created event follows it.
    std::vector<uint32_t> gone, unsure;
    calls_.ForEach([&](uint32_t id, CallEntry& e) {
      mu_.AssertHeld();  // run by ForEach under the caller's lock
      if (e.call_id.empty() || e.outbound_pending || e.idle || live.contains(e.call_id)) return;
      const OpenLine* o = open_lines_.Find(e.hd_line);
      if (o == nullptr || lines_[o->index].server != server) return;
      (e.seen_on_stream ? gone : unsure).push_back(id);
    });
    std::sort(gone.begin(), gone.end());
    for (uint32_t id : gone) EndVanishedCallLocked(id);
    if (!unsure.empty()) VerifyCallsLocked(server, unsure);
  }
  for (const v1::Event& event : batch.events()) ApplyEventLocked(server, event);
}

void RemoteProvider::EndVanishedCallLocked(uint32_t hd_call) {
  CallEntry* entry = calls_.Find(hd_call);
  if (entry == nullptr || entry->idle) return;
  const DWORD media = ToTapi(entry->call.info().media_mode());
  if (entry->reported_state != LINECALLSTATE_DISCONNECTED) {
    v1::CallStatus ended;
    ended.set_state(v1::CALL_STATE_DISCONNECTED);
    ended.set_disconnect_mode(v1::DISCONNECT_MODE_UNKNOWN);
    CallStateLocked(hd_call, *entry, ended, media);
  }
  v1::CallStatus idle;
  idle.set_state(v1::CALL_STATE_IDLE);
  CallStateLocked(hd_call, *entry, idle, media);
  entry->call.mutable_status()->set_state(v1::CALL_STATE_IDLE);
}

void RemoteProvider::VerifyCallsLocked(size_t server, const std::vector<uint32_t>& hd_calls) {
  CallOptions options = call_options();
  options.server = server;
  for (uint32_t hd_call : hd_calls) {
    const std::string call_id = calls_.Find(hd_call)->call_id;
    v1::GetCallRequest request;
    request.set_call_id(call_id);
    client_->GetCallAsync(
        std::move(request),
        [this, hd_call, call_id](absl::StatusOr<v1::Call> call) {
          DrainingLock lock(this);
          if (!initialized_ || stopping_) return;
          CallEntry* entry = calls_.Find(hd_call);
          // Closed, reused, or shown by the stream meanwhile: nothing to settle.
          if (entry == nullptr || entry->call_id != call_id || entry->seen_on_stream) return;
          // The server has it: made after the snapshot was taken, its events
          // follow on the stream in their order (applying the state read
          // here first would report them out of order). Anything but
          // NOT_FOUND (the server unreachable): the next snapshot asks again.
          if (absl::IsNotFound(call.status())) EndVanishedCallLocked(hd_call);
        },
        options);
  }
}

void RemoteProvider::ApplyEventLocked(size_t server, const v1::Event& event) {
  {
    switch (event.kind_case()) {
      case v1::Event::kLineCreated:
        RegisterLineLocked(server, event.line_created().line());
        break;
      case v1::Event::kLineRemoved: {
        for (LineEntry& line : lines_) {
          if (IsLineOf(line, server, event.line_removed().line_id())) RemoveLineLocked(line);
        }
        break;
      }
      case v1::Event::kLineState: {
        for (LineEntry& line : lines_) {
          if (!IsLineOf(line, server, event.line_id())) continue;
          if (line.info.has_value()) {
            *line.info->mutable_status() = event.line_state().status();
          }
          if (line.hd_line == 0) continue;
          switch (event.line_state().status().state()) {
            case v1::LINE_STATE_IN_SERVICE:
              LineDevStateLocked(line.hd_line, LINEDEVSTATE_INSERVICE);
              break;
            case v1::LINE_STATE_OUT_OF_SERVICE:
              LineDevStateLocked(line.hd_line, LINEDEVSTATE_OUTOFSERVICE);
              break;
            case v1::LINE_STATE_MAINTENANCE:
              LineDevStateLocked(line.hd_line, LINEDEVSTATE_MAINTENANCE);
              break;
            default: break;
          }
        }
        break;
      }
      case v1::Event::kAddressState: {
        for (LineEntry& line : lines_) {
          if (!IsLineOf(line, server, event.line_id())) continue;
          if (line.info.has_value()) {
            *line.info->mutable_status()->mutable_forwarding() =
                event.address_state().forwarding();
          }
          if (line.hd_line == 0) continue;
          Outgoing out;
          out.kind = Outgoing::Kind::kLineEvent;
          out.hd_line = line.hd_line;
          out.msg = LINE_ADDRESSSTATE;
          out.p1 = event.address_state().address_index();
          out.p2 = LINEADDRESSSTATE_FORWARD;
          EnqueueLocked(out);
        }
        break;
      }
      case v1::Event::kDeviceConfig: {
        // lineSetDevConfig (from any client): LINEDEVSTATE_CONFIGCHANGE
        // unless this provider already showed the change.
        for (LineEntry& line : lines_) {
          if (!IsLineOf(line, server, event.line_id()) || !line.info.has_value()) continue;
          const v1::DeviceConfig& config = event.device_config().config();
          const bool changed =
              line.info->device_config().SerializeAsString() != config.SerializeAsString();
          *line.info->mutable_device_config() = config;
          if (changed && line.hd_line != 0) {
            LineDevStateLocked(line.hd_line, LINEDEVSTATE_CONFIGCHANGE);
          }
        }
        break;
      }
      case v1::Event::kCallCreated:
        ApplyCallLocked(server, event.call_created().call(), /*created=*/true);
        break;
      case v1::Event::kCallState: {
        auto it = call_by_id_.find(event.call_state().call_id());
        if (it == call_by_id_.end()) break;
        CallEntry* entry = calls_.Find(it->second);
        if (entry == nullptr) break;
        entry->seen_on_stream = true;
        *entry->call.mutable_status() = event.call_state().status();
        CallStateLocked(it->second, *entry, event.call_state().status(),
                        ToTapi(event.call_state().media_mode()));
        break;
      }
      case v1::Event::kCallInfo: {
        auto it = call_by_id_.find(event.call_info().call_id());
        if (it == call_by_id_.end()) break;
        CallEntry* entry = calls_.Find(it->second);
        if (entry == nullptr || entry->idle) break;
        entry->seen_on_stream = true;
        *entry->call.mutable_info() = event.call_info().info();
        Outgoing out;
        out.kind = Outgoing::Kind::kCallEvent;
        out.hd_call = it->second;
        out.msg = LINE_CALLINFO;
        out.p1 = CallInfoStateBits(event.call_info());
        if (entry->outbound_pending) {
          entry->deferred.push_back(out);
        } else {
          EnqueueLocked(out);
        }
        break;
      }
      case v1::Event::kDigit:
      case v1::Event::kDigitsGenerated:
        DigitsEventLocked(event);
        break;
      case v1::Event::kToneGenerated:
      case v1::Event::kGatherCompleted:
      case v1::Event::kToneDetected:
      case v1::Event::kMediaDetected:
        CallMediaEventLocked(server, event);
        break;
      case v1::Event::kPhoneCreated:
      case v1::Event::kPhoneRemoved:
      case v1::Event::kPhoneState:
      case v1::Event::kPhoneButton:
      case v1::Event::kPhoneData:
        ApplyPhoneEventLocked(server, event);
        break;
      default: break;
    }
  }
}

// ============================================================================
// Lines
// ============================================================================

std::optional<uint32_t> RemoteProvider::IndexOfDeviceLocked(DWORD device_id) const {
  if (!initialized_) return std::nullopt;
  std::optional<uint32_t> index;
  if (device_id >= line_base_ && device_id - line_base_ < enumerated_) {
    index = device_id - line_base_;
  } else if (auto it = created_devices_.find(device_id); it != created_devices_.end()) {
    index = it->second;
  }
  if (!index.has_value() || *index >= lines_.size() || lines_[*index].line_id.empty() ||
      lines_[*index].removed || removed_devices_.contains(device_id)) {
    return std::nullopt;
  }
  return index;
}

RemoteProvider::OpenLine* RemoteProvider::FindOpenLocked(HDRVLINE hd_line) {
  return open_lines_.Find(IdOf(hd_line));
}

RemoteProvider::CallEntry* RemoteProvider::FindCallLocked(HDRVCALL hd_call) {
  return calls_.Find(IdOf(hd_call));
}

void RemoteProvider::DigitsEventLocked(const v1::Event& event) {
  const bool digit = event.kind_case() == v1::Event::kDigit;
  const std::string& call_id =
      digit ? event.digit().call_id() : event.digits_generated().call_id();
  auto it = call_by_id_.find(call_id);
  if (it == call_by_id_.end()) return;
  CallEntry* entry = calls_.Find(it->second);
  if (entry == nullptr || entry->idle) return;
  Outgoing out;
  out.kind = Outgoing::Kind::kCallEvent;
  out.hd_call = it->second;
  out.p3 = TickCount();
  if (digit) {
    if (event.digit().digit().empty()) return;
    out.msg = LINE_MONITORDIGITS;
    out.p1 = static_cast<unsigned char>(event.digit().digit()[0]);
    out.p2 = ToTapi(event.digit().mode());
  } else {
    if (entry->generating.empty()) return;  // not ours (or cancelled already)
    out.msg = LINE_GENERATE;
    out.p1 = event.digits_generated().cancelled() ? LINEGENERATETERM_CANCEL
                                                  : LINEGENERATETERM_DONE;
    out.p2 = entry->generating.front();
    entry->generating.pop_front();
  }
  if (entry->outbound_pending) {
    entry->deferred.push_back(out);
  } else {
    EnqueueLocked(out);
  }
}

}  // namespace linebridge::tsp
