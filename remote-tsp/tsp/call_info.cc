// RemoteProvider: what TAPI reads about calls: LINECALLINFO, LINECALLSTATUS and
// the call's address.
//
// The structures themselves are written by tapi_structs.cc from a snapshot
// taken under mu_.
#include "tsp/remote_provider.h"
#include "tsp/tapi_structs.h"

namespace linebridge::tsp {

namespace {

CallSnapshot SnapshotOfCall(const v1::Call& call, bool has_call, bool idle) {
  CallSnapshot s;
  s.call = call;
  s.has_call = has_call;
  s.idle = idle;
  return s;
}

}  // namespace

LONG RemoteProvider::GetCallInfo(HDRVCALL hd_call, LPLINECALLINFO info) {
  LineSnapshot line;
  CallSnapshot call;
  DWORD version = 0;
  {
    absl::MutexLock lock(&mu_);
    CallEntry* entry = FindCallLocked(hd_call);
    if (entry == nullptr) return LINEERR_INVALCALLHANDLE;
    // Before the line lookup, as it always was.
    if (info == nullptr) return LINEERR_INVALPOINTER;
    OpenLine* open = open_lines_.Find(entry->hd_line);
    if (open == nullptr) return LINEERR_INVALCALLHANDLE;
    line = SnapshotOfLineLocked(lines_[open->index]);
    call = SnapshotOfCall(entry->call, entry->has_call, entry->idle);
    version = open->version;
  }
  return WriteLineCallInfo(line, version, call, info);
}

LONG RemoteProvider::GetCallStatus(HDRVCALL hd_call, LPLINECALLSTATUS status) {
  CallSnapshot call;
  {
    absl::MutexLock lock(&mu_);
    CallEntry* entry = FindCallLocked(hd_call);
    if (entry == nullptr) return LINEERR_INVALCALLHANDLE;
    call = SnapshotOfCall(entry->call, entry->has_call, entry->idle);
  }
  return WriteLineCallStatus(call, status);
}

LONG RemoteProvider::GetCallAddressID(HDRVCALL hd_call, LPDWORD address_id) {
  absl::MutexLock lock(&mu_);
  CallEntry* entry = FindCallLocked(hd_call);
  if (entry == nullptr) return LINEERR_INVALCALLHANDLE;
  if (address_id == nullptr) return LINEERR_INVALPOINTER;
  *address_id = entry->call.info().address_index();
  return 0;
}

}  // namespace linebridge::tsp
