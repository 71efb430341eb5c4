// A modem line's device configuration (lineGetDevConfig / lineSetDevConfig,
// v1::ModemSettings): validation with defaults, and the AT commands that
// put the settings into the modem (docs/modems.md, "Device configuration").
#pragma once

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "linebridge/v1/config.pb.h"
#include "linebridge/v1/types.pb.h"
#include "providers/modem/at/probe.h"

namespace linebridge::modem {

// The settings of a port nobody configured: speaker on while dialling at
// low volume, wait for dial tone, 60 s call setup, no inactivity timeout,
// error control and compression on, the port's flow control and baud, 8N1.
v1::ModemSettings DefaultModemSettings(const v1::config::ModemPort& port);

// Checks `settings` (INVALID_ARGUMENT with LINEERR_INVALPARAM naming the
// field) and fills what is unset from the defaults of `port`.
absl::StatusOr<v1::ModemSettings> NormalizeModemSettings(const v1::ModemSettings& settings,
                                                         const v1::config::ModemPort& port);

// The commands that apply `settings`, one per setting, in this order:
// ATL<volume> ATM<mode> ATX<3|4> ATS7=<s> ATS30=<tens of s> AT+ES=... AT+DS=...
// AT&K<n>. A 3GPP cellular modem takes none of them: empty.
std::vector<std::string> ModemSettingsCommands(const v1::ModemSettings& settings,
                                               at::ModemProfile profile);

}  // namespace linebridge::modem
