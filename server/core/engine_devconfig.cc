// Engine requests for a line's device configuration (lineGetDevConfig /
// lineSetDevConfig): the provider validates and applies it, the engine
// announces it (a device_config event, Line.device_config) and keeps it in
// the data directory (core/device_config_store.h) so the provider gets it
// back after a restart.
#include <string>

#include "absl/strings/str_cat.h"
#include "core/engine.h"
#include "core/log.h"
#include "linebridge/status_macros.h"

namespace linebridge {
namespace {

// At most this much opaque configuration per line (a sim line's block).
constexpr size_t kMaxDeviceConfigSize = 4096;

absl::Status CheckLineId(const std::string& line_id) {
  if (line_id.empty()) return InvalidArgument(LINEERR_BADDEVICEID, "line_id is required");
  if (line_id.size() > kMaxIdLength) {
    return InvalidArgument(LINEERR_BADDEVICEID, "line_id is too long");
  }
  return absl::OkStatus();
}

}  // namespace

std::optional<v1::DeviceConfig> Engine::StoredDeviceConfig(const std::string& line_id) const {
  return device_configs_.Find(line_id);
}

absl::StatusOr<v1::DeviceConfig> Engine::GetDevConfig(const v1::GetDevConfigRequest& req) {
  LB_RETURN_IF_ERROR(CheckLineId(req.line_id()));
  EngineLock lock(this);
  auto it = lines_.find(req.line_id());
  if (it == lines_.end()) {
    return NotFound(LINEERR_BADDEVICEID, absl::StrCat("no line \"", req.line_id(), "\""));
  }
  if (!it->second.line.has_device_config()) {
    return FailedPrecondition(LINEERR_INVALDEVICECLASS,
                              absl::StrCat("line ", req.line_id(), " has no device configuration"));
  }
  return it->second.line.device_config();
}

absl::StatusOr<v1::DeviceConfig> Engine::SetDevConfig(const v1::SetDevConfigRequest& req) {
  LB_RETURN_IF_ERROR(CheckLineId(req.line_id()));
  if (req.config().kind_case() == v1::DeviceConfig::KIND_NOT_SET) {
    return InvalidArgument(LINEERR_INVALPARAM, "config is required");
  }
  if (req.config().opaque().size() > kMaxDeviceConfigSize) {
    return InvalidArgument(LINEERR_INVALPARAM,
                           absl::StrCat("an opaque device configuration is at most ",
                                        kMaxDeviceConfigSize, " bytes"));
  }
  v1::DeviceConfig stored;
  uint64_t revision = 0;
  {
    EngineLock lock(this);
    auto it = lines_.find(req.line_id());
    if (it == lines_.end()) {
      return NotFound(LINEERR_BADDEVICEID, absl::StrCat("no line \"", req.line_id(), "\""));
    }
    LineEntry& line = it->second;
    if (!line.line.has_device_config() || line.provider == nullptr) {
      return FailedPrecondition(
          LINEERR_INVALDEVICECLASS,
          absl::StrCat("line ", req.line_id(), " has no device configuration"));
    }
    if (line.line.device_config().kind_case() != req.config().kind_case()) {
      return InvalidArgument(
          LINEERR_INVALPARAM,
          absl::StrCat("line ", req.line_id(), " takes ",
                       line.line.device_config().has_modem() ? "modem settings"
                                                              : "an opaque configuration"));
    }
    OpScope op_scope(this, nullptr, req.line_id());
    LB_ASSIGN_OR_RETURN(stored, line.provider->SetDevConfig(req.line_id(), req.config()));
    *line.line.mutable_device_config() = stored;
    revision = ++device_config_revision_;
    v1::Event ev;
    ev.set_line_id(req.line_id());
    *ev.mutable_device_config()->mutable_config() = stored;
    Emit(std::move(ev));
  }
  // The file is written without the engine lock; the line runs with the new
  // configuration either way.
  const absl::Status saved = device_configs_.Put(req.line_id(), stored, revision);
  if (!saved.ok()) {
    LB_ERROR("device configuration of %s applied but not saved (lost at restart): %s",
             req.line_id(), saved.ToString());
  }
  return stored;
}

}  // namespace linebridge
