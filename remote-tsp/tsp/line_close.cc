// RemoteProvider: lineCloseCall and lineClose, in the order the server sees.
//
// TAPISRV closes a line with lineCloseCall for each call, then lineClose.
// Each of them is a request of its own to the server, and the server may
// apply two requests of one client in either order. So the CloseLine of a
// line waits for
//   - the drops lineCloseCall sent for the line's calls (CLOSEDROP: closed
//     first, the line would leave an offered call ringing with no owner, and
//     the late drop would be refused as not the owner's), and
//   - an OpenLine still on its way (closed first, the late open would keep
//     the line open for this workstation with no application behind it).
// A reopen of the line in turn waits for the CloseLine (closes_in_flight).
#include <algorithm>

#include "tsp/remote_provider.h"

namespace linebridge::tsp {

bool RemoteProvider::OwnedByUsLocked(const CallEntry& entry) {
  if (entry.call.status().privilege() == v1::PRIVILEGE_OWNER) return true;
  const OpenLine* open = open_lines_.Find(entry.hd_line);
  if (open == nullptr || !lines_[open->index].present) return false;
  const std::string session = client_->session_id(lines_[open->index].server);
  const auto& owners = entry.call.owner_sessions();
  return !session.empty() && std::find(owners.begin(), owners.end(), session) != owners.end();
}

LONG RemoteProvider::CloseCall(HDRVCALL hd_call) {
  absl::MutexLock lock(&mu_);
  std::optional<CallEntry> entry = calls_.Remove(IdOf(hd_call));
  if (!entry.has_value()) return LINEERR_INVALCALLHANDLE;
  if (!entry->call_id.empty()) call_by_id_.erase(entry->call_id);
  // A call TAPI lets go of while still up is dropped if we own it (the line
  // advertises LINEDEVCAPFLAGS_CLOSEDROP).
  if (entry->idle || entry->call_id.empty() || client_ == nullptr || stopping_ ||
      !OwnedByUsLocked(*entry)) {
    return 0;
  }
  const OpenLine* open = open_lines_.Find(entry->hd_line);
  std::optional<uint32_t> index;
  if (open != nullptr) {
    index = open->index;
    ++lines_[*index].drops_in_flight;
  }
  v1::CallActionRequest request;
  request.set_call_id(entry->call_id);
  client_->DropAsync(
      std::move(request),
      [this, index](absl::StatusOr<v1::Call>) {
        if (!index.has_value()) return;
        absl::MutexLock done_lock(&mu_);
        if (stopping_) return;
        LineEntry& line = lines_[*index];
        if (--line.drops_in_flight > 0 || !line.close_after_drops) return;
        line.close_after_drops = false;
        SendCloseLineLocked(*index);
      },
      call_options());
  return 0;
}

LONG RemoteProvider::Close(HDRVLINE hd_line) {
  absl::MutexLock lock(&mu_);
  const uint32_t id = IdOf(hd_line);
  std::optional<OpenLine> open = open_lines_.Remove(id);
  if (!open.has_value()) return LINEERR_INVALLINEHANDLE;
  LineEntry& line = lines_[open->index];
  line.hd_line = 0;
  std::vector<uint32_t> calls;
  calls_.ForEach([&](uint32_t call_id, CallEntry& e) {
    if (e.hd_line == id) calls.push_back(call_id);
  });
  for (uint32_t c : calls) {
    std::optional<CallEntry> e = calls_.Remove(c);
    if (e.has_value() && !e->call_id.empty()) call_by_id_.erase(e->call_id);
  }
  if (client_ == nullptr) return 0;
  // An OpenLine on the wire (not one waiting for a session or for an earlier
  // close: those were never sent) closes once it is answered.
  const bool open_sent = open->open_in_flight && !open->awaiting_session &&
                         !open->waiting_for_close;
  if (open->applied_privilege == 0 && !open_sent) return 0;
  ++line.closes_in_flight;  // a reopen waits for it
  if (open_sent) {
    line.close_after_open = true;
  } else if (line.drops_in_flight > 0) {
    line.close_after_drops = true;
  } else {
    SendCloseLineLocked(open->index);
  }
  return 0;
}

void RemoteProvider::ClosedWhileOpeningLocked(uint32_t index, bool opened) {
  LineEntry& line = lines_[index];
  if (!line.close_after_open) return;
  line.close_after_open = false;
  if (!opened) {
    // The server did not open it (or it is unknown, and the session's end
    // closes it): nothing to close.
    CloseLineAnsweredLocked(index);
  } else if (line.drops_in_flight > 0) {
    line.close_after_drops = true;
  } else {
    SendCloseLineLocked(index);
  }
}

void RemoteProvider::SendCloseLineLocked(uint32_t index) {
  const LineEntry& line = lines_[index];
  v1::CloseLineRequest request;
  request.set_line_id(line.line_id);
  client_->CloseLineAsync(
      std::move(request),
      [this, index](absl::StatusOr<v1::CloseLineResponse>) {
        DrainingLock done_lock(this);
        if (stopping_ || index >= lines_.size()) return;
        CloseLineAnsweredLocked(index);
      },
      LineCallOptionsLocked(line));
}

void RemoteProvider::CloseLineAnsweredLocked(uint32_t index) {
  LineEntry& closed = lines_[index];
  if (--closed.closes_in_flight > 0 || closed.hd_line == 0) return;
  // A reopen that waited for this close goes out now.
  OpenLine* reopened = open_lines_.Find(closed.hd_line);
  if (reopened != nullptr && reopened->waiting_for_close) {
    reopened->waiting_for_close = false;
    reopened->open_in_flight = false;
    OpenOnServerLocked(closed.hd_line);
  }
}

}  // namespace linebridge::tsp
