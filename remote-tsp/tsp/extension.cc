// RemoteProvider: the linebridge extension (include/linebridge/linebridge_ext.h):
// lineNegotiateExtVersion, lineGetExtensionID, lineSelectExtVersion and
// lineDevSpecific with the commands the header defines. Answered locally.
#include <algorithm>
#include <cstdint>
#include <cstring>
#include <string>

#include "linebridge/linebridge_ext.h"
#include "tsp/provider_internal.h"
#include "tsp/remote_provider.h"

namespace linebridge::tsp {

namespace {

void CopyId(char (&to)[LINEBRIDGE_ID_CHARS], const std::string& from) {
  const size_t n = std::min(from.size(), sizeof to - 1);
  std::memcpy(to, from.data(), n);
  to[n] = '\0';
}

}  // namespace

LONG RemoteProvider::NegotiateExtVersion(DWORD device_id, DWORD, DWORD low_version,
                                         DWORD high_version, LPDWORD ext_version) {
  absl::MutexLock lock(&mu_);
  if (!IndexOfDeviceLocked(device_id).has_value()) return LINEERR_BADDEVICEID;
  if (ext_version == nullptr) return LINEERR_INVALPOINTER;
  if (low_version > LINEBRIDGE_EXT_VERSION || high_version < LINEBRIDGE_EXT_VERSION) {
    return LINEERR_INCOMPATIBLEEXTVERSION;
  }
  *ext_version = LINEBRIDGE_EXT_VERSION;
  return 0;
}

LONG RemoteProvider::GetExtensionID(DWORD device_id, DWORD, LPLINEEXTENSIONID extension_id) {
  absl::MutexLock lock(&mu_);
  if (!IndexOfDeviceLocked(device_id).has_value()) return LINEERR_BADDEVICEID;
  if (extension_id == nullptr) return LINEERR_INVALPOINTER;
  FillExtensionId(extension_id);
  return 0;
}

LONG RemoteProvider::SelectExtVersion(HDRVLINE hd_line, DWORD ext_version) {
  absl::MutexLock lock(&mu_);
  OpenLine* open = FindOpenLocked(hd_line);
  if (open == nullptr) return LINEERR_INVALLINEHANDLE;
  if (!SelectableExtVersion(ext_version)) return LINEERR_INCOMPATIBLEEXTVERSION;
  open->ext_version = ext_version;
  return 0;
}

LONG RemoteProvider::DevSpecific(DRV_REQUESTID request_id, HDRVLINE hd_line, DWORD address_id,
                                 HDRVCALL hd_call, LPVOID params, DWORD size) {
  absl::MutexLock lock(&mu_);
  OpenLine* open = FindOpenLocked(hd_line);
  if (open == nullptr) return LINEERR_INVALLINEHANDLE;
  const LineEntry& line = lines_[open->index];
  const int addresses = line.info.has_value() ? std::max(1, line.info->addresses_size()) : 1;
  if (address_id >= static_cast<DWORD>(addresses)) return LINEERR_INVALADDRESSID;
  const CallEntry* call = nullptr;
  if (hd_call != nullptr) {
    call = FindCallLocked(hd_call);
    if (call == nullptr || call->hd_line != IdOf(hd_line)) return LINEERR_INVALCALLHANDLE;
  }
  // Only for an application that selected the extension.
  if (open->ext_version == 0) return LINEERR_OPERATIONUNAVAIL;
  if (params == nullptr || size < sizeof(uint32_t)) return LINEERR_INVALPOINTER;
  if (pending_.contains(request_id)) return LINEERR_OPERATIONFAILED;
  uint32_t command = 0;
  std::memcpy(&command, params, sizeof command);
  if (command != LINEBRIDGE_DEVSPECIFIC_IDENTITY) return LINEERR_OPERATIONUNAVAIL;
  if (size < sizeof(LINEBRIDGE_IDENTITY)) return LINEERR_INVALPARAM;
  LINEBRIDGE_IDENTITY who;
  std::memset(&who, 0, sizeof who);
  who.dwCommand = command;
  CopyId(who.szServerId, line.server_id);
  CopyId(who.szLineId, line.line_id);
  if (call != nullptr) CopyId(who.szCallId, call->call_id);
  std::memcpy(params, &who, sizeof who);
  // Completed at once (the dispatcher delivers it after this returns).
  pending_[request_id] = Pending{call != nullptr ? IdOf(hd_call) : 0};
  CompleteLocked(request_id, 0);
  return static_cast<LONG>(request_id);
}

}  // namespace linebridge::tsp
