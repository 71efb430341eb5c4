// RemoteProvider: lineSwapHold, the TAPI 3 call identifiers and call-hub
// tracking, and TAPISRV's drop requests (lineDropOnClose, lineDropNoOwner).
#include <algorithm>
#include <cstddef>
#include <string>
#include <utility>

#include "tsp/provider_internal.h"
#include "tsp/remote_provider.h"

namespace linebridge::tsp {

LONG RemoteProvider::SwapHold(DRV_REQUESTID request_id, HDRVCALL hd_active_call,
                              HDRVCALL hd_held_call) {
  absl::MutexLock lock(&mu_);
  CallEntry* active = nullptr;
  if (LONG err = CheckCallLocked(hd_active_call, request_id, &active); err != 0) return err;
  CallEntry* held = nullptr;
  if (LONG err = CheckCallLocked(hd_held_call, 0, &held); err != 0) return err;
  // Two calls of one line (the server checks the address too).
  if (held == active || held->hd_line != active->hd_line) return LINEERR_INVALCALLHANDLE;
  v1::SwapHoldRequest request;
  request.set_call_id(active->call_id);
  request.set_held_call_id(held->call_id);
  pending_[request_id] = Pending{IdOf(hd_active_call)};
  client_->SwapHoldAsync(
      std::move(request),
      [this, request_id](absl::StatusOr<v1::SwapHoldResponse> reply) {
        DrainingLock done_lock(this);
        CompleteLocked(request_id, reply.ok() ? 0 : ErrOf(reply.status()));
      },
      call_options());
  return static_cast<LONG>(request_id);
}

LONG RemoteProvider::GetCallIDs(HDRVCALL hd_call, LPDWORD address_id, LPDWORD call_id,
                                LPDWORD related_call_id) {
  absl::MutexLock lock(&mu_);
  CallEntry* entry = FindCallLocked(hd_call);
  if (entry == nullptr) return LINEERR_INVALCALLHANDLE;
  if (address_id == nullptr || call_id == nullptr || related_call_id == nullptr) {
    return LINEERR_INVALPOINTER;
  }
  // The same values LINECALLINFO carries (0 while the server has not named
  // the call yet).
  const v1::CallInfo& info = entry->call.info();
  *address_id = info.address_index();
  *call_id = static_cast<DWORD>(info.call_id());
  *related_call_id = static_cast<DWORD>(info.related_call_id());
  return 0;
}

LONG RemoteProvider::GetCallHubTracking(HDRVLINE hd_line, LPLINECALLHUBTRACKINGINFO tracking) {
  absl::MutexLock lock(&mu_);
  if (FindOpenLocked(hd_line) == nullptr) return LINEERR_INVALLINEHANDLE;
  if (tracking == nullptr) return LINEERR_INVALPOINTER;
  if (TotalSizeOf(tracking) < sizeof(LINECALLHUBTRACKINGINFO)) return LINEERR_STRUCTURETOOSMALL;
  VarStructWriter w = StartStruct(tracking, sizeof(LINECALLHUBTRACKINGINFO));
  // dwCallID is unique per call (LINEDEVCAPFLAGS_CALLHUB is not set): the
  // provider tracks no hubs; TAPI's own tracking is all there is.
  LB_SET(w, LINECALLHUBTRACKINGINFO, dwAvailableTracking, LINECALLHUBTRACKING_NONE);
  LB_SET(w, LINECALLHUBTRACKINGINFO, dwCurrentTracking, LINECALLHUBTRACKING_NONE);
  w.Finish();
  return 0;
}

LONG RemoteProvider::SetCallHubTracking(HDRVLINE hd_line, LPLINECALLHUBTRACKINGINFO tracking) {
  absl::MutexLock lock(&mu_);
  if (FindOpenLocked(hd_line) == nullptr) return LINEERR_INVALLINEHANDLE;
  if (tracking == nullptr) return LINEERR_INVALPOINTER;
  if (TotalSizeOf(tracking) < sizeof(LINECALLHUBTRACKINGINFO)) return LINEERR_STRUCTURETOOSMALL;
  // Only what GetCallHubTracking offers: none.
  if (tracking->dwCurrentTracking != LINECALLHUBTRACKING_NONE) return LINEERR_INVALPARAM;
  return 0;
}

bool RemoteProvider::SoleOwnerLocked(const CallEntry& entry) {
  if (!OwnedByUsLocked(entry)) return false;
  const OpenLine* open = open_lines_.Find(entry.hd_line);
  if (open == nullptr) return false;
  const std::string session = client_->session_id(lines_[open->index].server);
  const auto& owners = entry.call.owner_sessions();
  return std::all_of(owners.begin(), owners.end(),
                     [&](const std::string& s) { return s == session; });
}

LONG RemoteProvider::DropUnlessOwnedElsewhere(HDRVCALL hd_call) {
  absl::MutexLock lock(&mu_);
  CallEntry* entry = FindCallLocked(hd_call);
  if (entry == nullptr) return LINEERR_INVALCALLHANDLE;
  // Nothing to drop (gone, or not named by the server yet), or a call
  // another session still owns (another workstation, an application of the
  // SDK): the call lives on for it. A call nobody owns is the server's to
  // decide on (it drops it, or keeps an undecided offer for the next owner).
  if (entry->idle || entry->call_id.empty() || client_ == nullptr || stopping_ ||
      !SoleOwnerLocked(*entry)) {
    return 0;
  }
  v1::CallActionRequest request;
  request.set_call_id(entry->call_id);
  // No request id: the call's own LINE_CALLSTATE messages tell TAPI.
  client_->DropAsync(std::move(request), [](absl::StatusOr<v1::Call>) {}, call_options());
  return 0;
}

LONG RemoteProvider::DropOnClose(HDRVCALL hd_call) { return DropUnlessOwnedElsewhere(hd_call); }

LONG RemoteProvider::DropNoOwner(HDRVCALL hd_call) { return DropUnlessOwnedElsewhere(hd_call); }

}  // namespace linebridge::tsp
