// RemoteProvider: what TAPI reads about calls: LINECALLINFO, LINECALLSTATUS and
// the call's address.
#include <algorithm>
#include <cstddef>
#include <cstring>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "tapi_mapping.h"
#include "tsp/provider_internal.h"
#include "tsp/remote_provider.h"

namespace linebridge::tsp {

LONG RemoteProvider::GetCallInfo(HDRVCALL hd_call, LPLINECALLINFO info) {
  absl::MutexLock lock(&mu_);
  CallEntry* entry = FindCallLocked(hd_call);
  if (entry == nullptr) return LINEERR_INVALCALLHANDLE;
  if (info == nullptr) return LINEERR_INVALPOINTER;
  OpenLine* open = open_lines_.Find(entry->hd_line);
  if (open == nullptr) return LINEERR_INVALCALLHANDLE;
  const DWORD fixed = MinCallInfo(open->version);
  if (TotalSizeOf(info) < fixed) return LINEERR_STRUCTURETOOSMALL;
  const LineEntry& line = lines_[open->index];
  const v1::CallInfo& ci = entry->call.info();
  VarStructWriter w = StartStruct(info, fixed);
  LB_SET(w, LINECALLINFO, dwLineDeviceID, line.device_id);
  LB_SET(w, LINECALLINFO, dwAddressID, ci.address_index());
  LB_SET(w, LINECALLINFO, dwBearerMode, ci.bearer_mode() != 0 ? ToTapi(ci.bearer_mode()) : LINEBEARERMODE_VOICE);
  LB_SET(w, LINECALLINFO, dwMediaMode,
         ci.media_mode() != 0 ? ToTapi(ci.media_mode()) : LINEMEDIAMODE_INTERACTIVEVOICE);
  if (ci.app_specific().size() == sizeof(DWORD)) {
    DWORD app;
    std::memcpy(&app, ci.app_specific().data(), sizeof app);
    LB_SET(w, LINECALLINFO, dwAppSpecific, app);
  }
  LB_SET(w, LINECALLINFO, dwCallID, static_cast<DWORD>(ci.call_id()));
  LB_SET(w, LINECALLINFO, dwRelatedCallID, static_cast<DWORD>(ci.related_call_id()));
  if (line.info.has_value() && ci.address_index() < static_cast<uint32_t>(line.info->addresses_size())) {
    LB_SET(w, LINECALLINFO, dwCallStates,
           ToTapiMask<v1::CallState>(line.info->addresses(ci.address_index()).caps().call_states()) |
               LINECALLSTATE_IDLE);
  }
  LB_SET(w, LINECALLINFO, dwOrigin, (ci.origin() != 0 ? ToTapi(ci.origin()) : static_cast<DWORD>(LINECALLORIGIN_UNKNOWN)));
  LB_SET(w, LINECALLINFO, dwReason, ci.reason() != 0 ? ToTapi(ci.reason()) : LINECALLREASON_UNKNOWN);
  LB_SET(w, LINECALLINFO, dwTrunk, ci.trunk() != 0 ? ci.trunk() : 0xFFFFFFFF);
  struct Party {
    const v1::PartyId& id;
    size_t flags, size, offset, name_size, name_offset;
  };
  const Party parties[] = {
      {ci.caller(), offsetof(LINECALLINFO, dwCallerIDFlags), offsetof(LINECALLINFO, dwCallerIDSize),
       offsetof(LINECALLINFO, dwCallerIDOffset), offsetof(LINECALLINFO, dwCallerIDNameSize),
       offsetof(LINECALLINFO, dwCallerIDNameOffset)},
      {ci.called(), offsetof(LINECALLINFO, dwCalledIDFlags), offsetof(LINECALLINFO, dwCalledIDSize),
       offsetof(LINECALLINFO, dwCalledIDOffset), offsetof(LINECALLINFO, dwCalledIDNameSize),
       offsetof(LINECALLINFO, dwCalledIDNameOffset)},
      {ci.connected(), offsetof(LINECALLINFO, dwConnectedIDFlags),
       offsetof(LINECALLINFO, dwConnectedIDSize), offsetof(LINECALLINFO, dwConnectedIDOffset),
       offsetof(LINECALLINFO, dwConnectedIDNameSize), offsetof(LINECALLINFO, dwConnectedIDNameOffset)},
      {ci.redirection(), offsetof(LINECALLINFO, dwRedirectionIDFlags),
       offsetof(LINECALLINFO, dwRedirectionIDSize), offsetof(LINECALLINFO, dwRedirectionIDOffset),
       offsetof(LINECALLINFO, dwRedirectionIDNameSize),
       offsetof(LINECALLINFO, dwRedirectionIDNameOffset)},
      {ci.redirecting(), offsetof(LINECALLINFO, dwRedirectingIDFlags),
       offsetof(LINECALLINFO, dwRedirectingIDSize), offsetof(LINECALLINFO, dwRedirectingIDOffset),
       offsetof(LINECALLINFO, dwRedirectingIDNameSize),
       offsetof(LINECALLINFO, dwRedirectingIDNameOffset)},
  };
  for (const Party& p : parties) {
    const DWORD flags = PartyFlags(p.id);
    w.SetDword(p.flags, flags);
    if (flags & LINECALLPARTYID_ADDRESS) w.AppendString(p.size, p.offset, p.id.number());
    if (flags & LINECALLPARTYID_NAME) w.AppendString(p.name_size, p.name_offset, p.id.name());
  }
  w.AppendString(offsetof(LINECALLINFO, dwCalledPartySize), offsetof(LINECALLINFO, dwCalledPartyOffset),
                 ci.dial_string());
  w.AppendBytes(offsetof(LINECALLINFO, dwUserUserInfoSize), offsetof(LINECALLINFO, dwUserUserInfoOffset),
                ci.user_user_info().data(), ci.user_user_info().size());
  w.AppendBytes(offsetof(LINECALLINFO, dwCallDataSize), offsetof(LINECALLINFO, dwCallDataOffset),
                ci.call_data().data(), ci.call_data().size());
  w.Finish();
  return 0;
}

LONG RemoteProvider::GetCallStatus(HDRVCALL hd_call, LPLINECALLSTATUS status) {
  absl::MutexLock lock(&mu_);
  CallEntry* entry = FindCallLocked(hd_call);
  if (entry == nullptr) return LINEERR_INVALCALLHANDLE;
  if (status == nullptr) return LINEERR_INVALPOINTER;
  if (TotalSizeOf(status) < sizeof(LINECALLSTATUS)) return LINEERR_STRUCTURETOOSMALL;
  const v1::CallStatus& s = entry->call.status();
  VarStructWriter w = StartStruct(status, sizeof(LINECALLSTATUS));
  // Until the server knows the call (lineMakeCall in flight) it is IDLE to TAPI.
  const DWORD state = entry->has_call ? ToTapi(s.state()) : static_cast<DWORD>(LINECALLSTATE_IDLE);
  LB_SET(w, LINECALLSTATUS, dwCallState, entry->idle ? LINECALLSTATE_IDLE : state);
  LB_SET(w, LINECALLSTATUS, dwCallStateMode, entry->idle ? 0 : CallStateModeToTapi(s));
  LB_SET(w, LINECALLSTATUS, dwCallPrivilege,
         s.privilege() != 0 ? ToTapi(s.privilege()) : LINECALLPRIVILEGE_OWNER);
  LB_SET(w, LINECALLSTATUS, dwCallFeatures,
         entry->idle ? 0 : ToTapiMask<v1::CallFeature>(s.features()) & ImplementedCallFeatures());
  w.Finish();
  return 0;
}

LONG RemoteProvider::GetCallAddressID(HDRVCALL hd_call, LPDWORD address_id) {
  absl::MutexLock lock(&mu_);
  CallEntry* entry = FindCallLocked(hd_call);
  if (entry == nullptr) return LINEERR_INVALCALLHANDLE;
  if (address_id == nullptr) return LINEERR_INVALPOINTER;
  *address_id = entry->call.info().address_index();
  return 0;
}


// ============================================================================
// Call control beyond the core
// ============================================================================

}  // namespace linebridge::tsp
