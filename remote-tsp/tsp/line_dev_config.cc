// RemoteProvider: lineGetDevConfig / lineSetDevConfig (dev_config.h).
//
// Both are synchronous for TAPI and take a device id (the line need not be
// open). lineGetDevConfig answers from the line's configuration as the
// server last described it (Line.device_config, kept current by
// device_config events). lineSetDevConfig checks the block, shows the new
// configuration at once and sends SetDevConfig in the background; should
// the server refuse it (a token without the control right, the server
// unreachable), the configuration shown goes back to what it was, and the
// refusal is logged.
#include <string>
#include <utility>

#include "absl/strings/str_cat.h"

#include "tsp/dev_config.h"
#include "tsp/provider_internal.h"
#include "tsp/remote_provider.h"
#include "tsp/tsp_log.h"

namespace linebridge::tsp {

LONG RemoteProvider::GetDevConfig(DWORD device_id, LPVARSTRING device_config,
                                  LPCWSTR device_class) {
  if (device_config == nullptr || device_class == nullptr) return LINEERR_INVALPOINTER;
  v1::DeviceConfig config;
  bool has_config = false;
  {
    absl::MutexLock lock(&mu_);
    std::optional<uint32_t> index = IndexOfDeviceLocked(device_id);
    if (!index.has_value()) return LINEERR_BADDEVICEID;
    const LineEntry& line = lines_[*index];
    if (!line.info.has_value()) return LINEERR_RESOURCEUNAVAIL;  // not described yet
    has_config = line.info->has_device_config();
    if (has_config) config = line.info->device_config();
  }
  return WriteDevConfig(has_config ? &config : nullptr, device_class, device_config);
}

LONG RemoteProvider::SetDevConfig(DWORD device_id, const void* device_config, DWORD size,
                                  LPCWSTR device_class) {
  if (device_class == nullptr) return LINEERR_INVALPOINTER;
  absl::MutexLock lock(&mu_);
  std::optional<uint32_t> index = IndexOfDeviceLocked(device_id);
  if (!index.has_value()) return LINEERR_BADDEVICEID;
  LineEntry& line = lines_[*index];
  if (!line.info.has_value()) return LINEERR_RESOURCEUNAVAIL;
  if (client_ == nullptr) return LINEERR_OPERATIONFAILED;
  const v1::DeviceConfig* current =
      line.info->has_device_config() ? &line.info->device_config() : nullptr;
  v1::DeviceConfig wanted;
  if (LONG err = ReadDevConfig(current, device_class, device_config, size, &wanted); err != 0) {
    return err;
  }
  const v1::DeviceConfig before = *current;
  *line.info->mutable_device_config() = wanted;
  if (line.hd_line != 0 && before.SerializeAsString() != wanted.SerializeAsString()) {
    LineDevStateLocked(line.hd_line, LINEDEVSTATE_CONFIGCHANGE);
  }
  v1::SetDevConfigRequest request;
  request.set_line_id(line.line_id);
  *request.mutable_config() = wanted;
  const uint32_t line_index = *index;
  const std::string line_id = line.line_id;
  client_->SetDevConfigAsync(
      std::move(request),
      [this, line_index, line_id, before, wanted](absl::StatusOr<v1::DeviceConfig> reply) {
        DrainingLock draining(this);
        if (line_index >= lines_.size() || lines_[line_index].line_id != line_id) return;
        LineEntry& entry = lines_[line_index];
        if (!entry.info.has_value()) return;
        v1::DeviceConfig* shown = entry.info->mutable_device_config();
        if (reply.ok()) {
          // The server's form (defaults filled), unless a newer one came.
          if (shown->SerializeAsString() == wanted.SerializeAsString()) *shown = *reply;
          return;
        }
        LogWarning(absl::StrCat("lineSetDevConfig of ", line_id,
                                " refused by the server: ", reply.status().ToString()));
        if (shown->SerializeAsString() != wanted.SerializeAsString()) return;
        *shown = before;
        if (entry.hd_line != 0) LineDevStateLocked(entry.hd_line, LINEDEVSTATE_CONFIGCHANGE);
      },
      LineCallOptionsLocked(line));
  return 0;
}

}  // namespace linebridge::tsp
