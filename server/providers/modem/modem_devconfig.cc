// The modem provider's device configuration (lineGetDevConfig /
// lineSetDevConfig): the settings Unimodem's UMDEVCFG carries, kept per
// port, sent to the modem as AT commands (modem_settings.h) and kept across
// restarts by the engine's store.
#include "absl/strings/str_cat.h"
#include "core/log.h"
#include "linebridge/lineerr.h"
#include "linebridge/status_macros.h"
#include "providers/modem/modem_port.h"
#include "providers/modem/modem_provider.h"
#include "providers/modem/modem_settings.h"

namespace linebridge {

void ModemProvider::LoadSettings(Port& port) {
  port.settings = modem::DefaultModemSettings(port.config);
  std::optional<v1::DeviceConfig> stored = host_->StoredDeviceConfig(port.line_id);
  if (!stored || !stored->has_modem()) return;
  absl::StatusOr<v1::ModemSettings> s = modem::NormalizeModemSettings(stored->modem(), port.config);
  if (!s.ok()) {
    LB_WARN("modem %s: stored device configuration ignored: %s", port.line_id,
            s.status().message());
    return;
  }
  port.settings = *std::move(s);
}

void ModemProvider::ApplySettings(Port& port) {
  if (port.phase != Port::Phase::kReady || !port.queue || !port.call_id.empty() ||
      port.data_mode || port.escaping) {
    // Not now: after the call, or with the next bring-up's init strings.
    port.settings_pending = true;
    return;
  }
  port.settings_pending = false;
  const absl::Duration timeout = absl::Milliseconds(port.config.command_timeout_ms());
  for (const auto& text : modem::ModemSettingsCommands(port.settings, port.profile)) {
    at::Command c;
    c.text = text;
    c.timeout = timeout;
    const std::string line_id = port.line_id;
    c.done = [line_id, text](const at::Result& r) {
      if (r.outcome != at::Outcome::kOk) {
        LB_WARN("modem %s: setting \"%s\" refused: %s", line_id, text, at::Describe(r));
      }
    };
    Send(port, std::move(c));
  }
}

absl::StatusOr<v1::DeviceConfig> ModemProvider::SetDevConfig(const std::string& line_id,
                                                             const v1::DeviceConfig& config) {
  Port* port = FindPortByLine(line_id);
  if (port == nullptr) {
    return NotFound(LINEERR_BADDEVICEID, absl::StrCat("no modem line \"", line_id, "\""));
  }
  if (!config.has_modem()) {
    return InvalidArgument(LINEERR_INVALPARAM, "a modem line takes modem settings");
  }
  LB_ASSIGN_OR_RETURN(v1::ModemSettings settings,
                      modem::NormalizeModemSettings(config.modem(), port->config));
  port->settings = std::move(settings);
  ApplySettings(*port);
  v1::DeviceConfig stored;
  *stored.mutable_modem() = port->settings;
  return stored;
}

}  // namespace linebridge
