// RemoteProvider: what TAPI reads about lines and addresses: version
// negotiation, LINEDEVCAPS, LINEADDRESSCAPS, LINEDEVSTATUS, LINEADDRESSSTATUS,
// lineGetID.
//
// The structures themselves are written by tapi_structs.cc from a snapshot
// taken under mu_.
#include <algorithm>
#include <optional>

#include "tsp/remote_provider.h"
#include "tsp/server_identity.h"
#include "tsp/tapi_structs.h"

namespace linebridge::tsp {

LONG RemoteProvider::NegotiateTSPIVersion(DWORD device_id, DWORD low_version,
                                          DWORD high_version, LPDWORD tspi_version) {
  if (tspi_version == nullptr) return LINEERR_INVALPOINTER;
  if (device_id != kInitializeNegotiation) {
    absl::MutexLock lock(&mu_);
    if (!IndexOfDeviceLocked(device_id).has_value()) return LINEERR_BADDEVICEID;
  }
  if (low_version > high_version || low_version > kTspiVersionHigh ||
      high_version < kTspiVersionLow) {
    return LINEERR_INCOMPATIBLEAPIVERSION;
  }
  *tspi_version = std::min(high_version, kTspiVersionHigh);
  return 0;
}

LONG RemoteProvider::SnapshotOfDevice(DWORD device_id, LineSnapshot* snapshot) {
  absl::MutexLock lock(&mu_);
  std::optional<uint32_t> index = IndexOfDeviceLocked(device_id);
  if (!index.has_value()) return LINEERR_BADDEVICEID;
  *snapshot = SnapshotOfLineLocked(lines_[*index]);
  return 0;
}

LineSnapshot RemoteProvider::SnapshotOfLineLocked(const LineEntry& line) const {
  LineSnapshot s;
  s.device_id = line.device_id;
  s.line_id = line.line_id;
  s.permanent_line_id = PermanentLineIdOf(line.server_id, line.line_id);
  s.info = line.info;
  s.present = line.present;
  s.server_connected = server_connected_[line.server];
  return s;
}

namespace {

OpenSnapshot SnapshotOfOpen(DWORD version, int applied_privilege, DWORD applied_media) {
  OpenSnapshot s;
  s.version = version;
  s.server_open = applied_privilege != 0;
  s.applied_media = applied_media;
  return s;
}

}  // namespace

LONG RemoteProvider::GetDevCaps(DWORD device_id, DWORD tspi_version, DWORD,
                                LPLINEDEVCAPS caps) {
  if (caps == nullptr) return LINEERR_INVALPOINTER;
  if (tspi_version < kTspiVersionLow || tspi_version > kTspiVersionHigh) {
    return LINEERR_INCOMPATIBLEAPIVERSION;
  }
  // The caller's buffer is checked before the device (TAPI's order).
  if (LONG err = CheckDevCaps(tspi_version, caps); err != 0) return err;
  LineSnapshot snapshot;
  if (LONG err = SnapshotOfDevice(device_id, &snapshot); err != 0) return err;
  return WriteLineDevCaps(snapshot, tspi_version, caps);
}

LONG RemoteProvider::GetAddressCaps(DWORD device_id, DWORD address_id, DWORD tspi_version,
                                    DWORD, LPLINEADDRESSCAPS caps) {
  if (caps == nullptr) return LINEERR_INVALPOINTER;
  if (tspi_version < kTspiVersionLow || tspi_version > kTspiVersionHigh) {
    return LINEERR_INCOMPATIBLEAPIVERSION;
  }
  if (LONG err = CheckAddressCaps(caps); err != 0) return err;
  LineSnapshot snapshot;
  if (LONG err = SnapshotOfDevice(device_id, &snapshot); err != 0) return err;
  // The address id is the writer's to check (INVALADDRESSID).
  return WriteLineAddressCaps(snapshot, address_id, caps);
}

LONG RemoteProvider::GetLineDevStatus(HDRVLINE hd_line, LPLINEDEVSTATUS status) {
  LineSnapshot line;
  OpenSnapshot open;
  {
    absl::MutexLock lock(&mu_);
    OpenLine* o = FindOpenLocked(hd_line);
    if (o == nullptr) return LINEERR_INVALLINEHANDLE;
    line = SnapshotOfLineLocked(lines_[o->index]);
    open = SnapshotOfOpen(o->version, o->applied_privilege, o->applied_media);
  }
  return WriteLineDevStatus(line, open, status);
}

LONG RemoteProvider::GetAddressStatus(HDRVLINE hd_line, DWORD address_id,
                                      LPLINEADDRESSSTATUS status) {
  LineSnapshot line;
  OpenSnapshot open;
  {
    absl::MutexLock lock(&mu_);
    OpenLine* o = FindOpenLocked(hd_line);
    if (o == nullptr) return LINEERR_INVALLINEHANDLE;
    line = SnapshotOfLineLocked(lines_[o->index]);
    open = SnapshotOfOpen(o->version, o->applied_privilege, o->applied_media);
  }
  return WriteLineAddressStatus(line, open, address_id, status);
}

LONG RemoteProvider::GetNumAddressIDs(HDRVLINE hd_line, LPDWORD num_address_ids) {
  absl::MutexLock lock(&mu_);
  OpenLine* open = FindOpenLocked(hd_line);
  if (open == nullptr) return LINEERR_INVALLINEHANDLE;
  if (num_address_ids == nullptr) return LINEERR_INVALPOINTER;
  const LineEntry& line = lines_[open->index];
  *num_address_ids = line.info.has_value() ? std::max(1, line.info->addresses_size()) : 1;
  return 0;
}

LONG RemoteProvider::GetID(HDRVLINE hd_line, DWORD address_id, HDRVCALL hd_call, DWORD select,
                           LPVARSTRING device_id, LPCWSTR device_class) {
  DWORD line_device_id = 0;
  {
    absl::MutexLock lock(&mu_);
    uint32_t index = 0;
    if (select == LINECALLSELECT_CALL) {
      CallEntry* call = FindCallLocked(hd_call);
      if (call == nullptr) return LINEERR_INVALCALLHANDLE;
      OpenLine* open = open_lines_.Find(call->hd_line);
      if (open == nullptr) return LINEERR_INVALCALLHANDLE;
      index = open->index;
    } else if (select == LINECALLSELECT_LINE || select == LINECALLSELECT_ADDRESS) {
      OpenLine* open = FindOpenLocked(hd_line);
      if (open == nullptr) return LINEERR_INVALLINEHANDLE;
      index = open->index;
      if (select == LINECALLSELECT_ADDRESS) {
        const LineEntry& line = lines_[index];
        const int n = line.info.has_value() ? std::max(1, line.info->addresses_size()) : 1;
        if (address_id >= static_cast<DWORD>(n)) return LINEERR_INVALADDRESSID;
      }
    } else {
      return LINEERR_INVALPARAM;
    }
    line_device_id = lines_[index].device_id;
  }
  return WriteLineDeviceId(line_device_id, device_class, device_id);
}

}  // namespace linebridge::tsp
