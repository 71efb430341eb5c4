// RemoteProvider: line functions TAPI answers from what the provider knows,
// without a request to the server: lineGetAddressID, lineGetIcon,
// lineConditionalMediaDetection, lineSetLineDevStatus, lineSetTerminal,
// lineSetCurrentLocation.
#include <algorithm>
#include <cstddef>
#include <string>

#include "tapi_mapping.h"
#include "tsp/provider_internal.h"
#include "tsp/remote_provider.h"

namespace linebridge::tsp {

namespace {

// The device classes lineGetID knows (NULL or empty: the line itself).
bool IsLineClass(LPCWSTR device_class) {
  if (device_class == nullptr || device_class[0] == 0) return true;
  return Utf16ToUtf8(device_class, 64) == "tapi/line";
}

// Exactly one bit of `mask` set in `value`.
bool OneBitOf(DWORD value, DWORD mask) {
  return value != 0 && (value & (value - 1)) == 0 && (value & ~mask) == 0;
}

}  // namespace

LONG RemoteProvider::GetAddressID(HDRVLINE hd_line, LPDWORD address_id, DWORD address_mode,
                                  LPCWSTR address, DWORD size) {
  absl::MutexLock lock(&mu_);
  OpenLine* open = FindOpenLocked(hd_line);
  if (open == nullptr) return LINEERR_INVALLINEHANDLE;
  if (address_id == nullptr || address == nullptr) return LINEERR_INVALPOINTER;
  // The only mode that names an address by something else than its id.
  if (address_mode != LINEADDRESSMODE_DIALABLEADDR) return LINEERR_INVALADDRESSMODE;
  const std::string wanted = Utf16ToUtf8(address, size / sizeof(WCHAR));
  const LineEntry& line = lines_[open->index];
  if (line.info.has_value()) {
    for (const v1::Address& a : line.info->addresses()) {
      if (!a.address().empty() && a.address() == wanted) {
        *address_id = a.index();
        return 0;
      }
    }
  }
  return LINEERR_INVALADDRESS;
}

LONG RemoteProvider::GetIcon(DWORD device_id, LPCWSTR device_class, LPHICON icon) {
  absl::MutexLock lock(&mu_);
  if (!IndexOfDeviceLocked(device_id).has_value()) return LINEERR_BADDEVICEID;
  if (!IsLineClass(device_class)) return LINEERR_INVALDEVICECLASS;
  if (icon == nullptr) return LINEERR_INVALPOINTER;
  // The provider has no icon resource: NULL, and TAPI shows its default.
  *icon = nullptr;
  return 0;
}

LONG RemoteProvider::ConditionalMediaDetection(HDRVLINE hd_line, DWORD media_modes,
                                               const LINECALLPARAMS* params) {
  absl::MutexLock lock(&mu_);
  OpenLine* open = FindOpenLocked(hd_line);
  if (open == nullptr) return LINEERR_INVALLINEHANDLE;
  if (params == nullptr) return LINEERR_INVALPOINTER;
  if (params->dwTotalSize < offsetof(LINECALLPARAMS, DialParams)) return LINEERR_STRUCTURETOOSMALL;
  if (media_modes == 0 || (media_modes & ~kAllMediaModes) != 0) return LINEERR_INVALMEDIAMODE;
  const LineEntry& line = lines_[open->index];
  if (!line.info.has_value()) return LINEERR_RESOURCEUNAVAIL;  // not known from the server yet
  const v1::LineCaps& caps = line.info->caps();
  // The line can watch for these media modes (as lineSetDefaultMediaDetection
  // would open it) and the calls they describe.
  if ((media_modes & ~ToTapiMask<v1::MediaMode>(caps.media_modes())) != 0) {
    return LINEERR_INVALMEDIAMODE;
  }
  if (params->dwBearerMode != 0 &&
      (params->dwBearerMode & ~ToTapiMask<v1::BearerMode>(caps.bearer_modes())) != 0) {
    return LINEERR_INVALBEARERMODE;
  }
  if (params->dwMaxRate != 0 && caps.max_data_rate() != 0 &&
      params->dwMinRate > caps.max_data_rate()) {
    return LINEERR_INVALRATE;
  }
  if (params->dwAddressMode == LINEADDRESSMODE_ADDRESSID &&
      params->dwAddressID >= static_cast<DWORD>(std::max(1, line.info->addresses_size()))) {
    return LINEERR_INVALADDRESSID;
  }
  return 0;
}

LONG RemoteProvider::SetLineDevStatus(DRV_REQUESTID, HDRVLINE hd_line, DWORD status_to_change,
                                      DWORD) {
  absl::MutexLock lock(&mu_);
  if (FindOpenLocked(hd_line) == nullptr) return LINEERR_INVALLINEHANDLE;
  constexpr DWORD kFlags = LINEDEVSTATUSFLAGS_CONNECTED | LINEDEVSTATUSFLAGS_MSGWAIT |
                           LINEDEVSTATUSFLAGS_INSERVICE | LINEDEVSTATUSFLAGS_LOCKED;
  if (!OneBitOf(status_to_change, kFlags)) return LINEERR_INVALPARAM;
  // LINEDEVCAPS dwSettableDevStatus is 0: the state is the server's (a
  // modem present, a trunk up), not an application's to set.
  return LINEERR_OPERATIONUNAVAIL;
}

LONG RemoteProvider::SetTerminal(DRV_REQUESTID, HDRVLINE hd_line, DWORD address_id,
                                 HDRVCALL hd_call, DWORD select, DWORD terminal_modes, DWORD,
                                 DWORD) {
  absl::MutexLock lock(&mu_);
  OpenLine* open = FindOpenLocked(hd_line);
  if (open == nullptr) return LINEERR_INVALLINEHANDLE;
  const LineEntry& line = lines_[open->index];
  switch (select) {
    case LINECALLSELECT_LINE:
      break;
    case LINECALLSELECT_ADDRESS: {
      const int n = line.info.has_value() ? std::max(1, line.info->addresses_size()) : 1;
      if (address_id >= static_cast<DWORD>(n)) return LINEERR_INVALADDRESSID;
      break;
    }
    case LINECALLSELECT_CALL:
      if (FindCallLocked(hd_call) == nullptr) return LINEERR_INVALCALLHANDLE;
      break;
    default:
      return LINEERR_INVALCALLSELECT;
  }
  constexpr DWORD kModes = LINETERMMODE_BUTTONS | LINETERMMODE_LAMPS | LINETERMMODE_DISPLAY |
                           LINETERMMODE_RINGER | LINETERMMODE_HOOKSWITCH |
                           LINETERMMODE_MEDIATOLINE | LINETERMMODE_MEDIAFROMLINE |
                           LINETERMMODE_MEDIABIDIRECT;
  if (terminal_modes == 0 || (terminal_modes & ~kModes) != 0) return LINEERR_INVALTERMINALMODE;
  // LINEDEVCAPS dwNumTerminals is 0: no terminal to route anything to.
  return LINEERR_OPERATIONUNAVAIL;
}

LONG RemoteProvider::SetCurrentLocation(DWORD) {
  // The provider translates no addresses (TAPI hands it canonical or dialable
  // ones already), so the location changes nothing here.
  return 0;
}

}  // namespace linebridge::tsp
