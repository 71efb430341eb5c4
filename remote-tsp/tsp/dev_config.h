// lineGetDevConfig / lineSetDevConfig: a line's device configuration
// (v1::DeviceConfig) in the form TAPI applications exchange.
//
//  * A modem line (DeviceConfig.modem), device class "comm/datamodem" (also
//    "comm/datamodem/dialin" and "comm/datamodem/dialout": one configuration
//    serves both): Unimodem's UMDEVCFG (linebridge/unimodem_layout.h), so
//    applications written for Unimodem (dial-up networking, terminal and fax
//    programs that save and restore a modem's configuration) work unchanged.
//  * A line with an opaque block (DeviceConfig.opaque: the sim lines),
//    device class "tapi/line": the bytes as they were set.
//  * Any other class, or a line without a device configuration:
//    LINEERR_INVALDEVICECLASS.
//
// Pure functions: tested without a provider (dev_config_test.cc).
#pragma once

#include <string>

#include "linebridge/tapi_abi.h"
#include "linebridge/v1/types.pb.h"

namespace linebridge::tsp {

// The configuration kind `device_class` names for a line whose configuration
// is `config`: 0, or LINEERR_INVALPOINTER (NULL class) / LINEERR_INVALDEVICECLASS.
LONG CheckDevConfigClass(const v1::DeviceConfig* config, LPCWSTR device_class);

// UMDEVCFG for `settings` (unimodem::kUmDevCfgSize bytes).
std::string EncodeUmDevCfg(const v1::ModemSettings& settings);
// Reads a UMDEVCFG a client hands in: LINEERR_INVALPARAM for a structure
// too small for its sizes, another version, a COMMCONFIG without
// MODEMSETTINGS, or a value out of range (docs/modems.md).
LONG DecodeUmDevCfg(const void* data, DWORD size, v1::ModemSettings* out);

// lineGetDevConfig's VARSTRING (STRINGFORMAT_BINARY). `config` is the line's
// (null: none). Class first, then the buffer (STRUCTURETOOSMALL below
// sizeof(VARSTRING)); when the data does not fit, only dwNeededSize says
// how much it takes.
LONG WriteDevConfig(const v1::DeviceConfig* config, LPCWSTR device_class, LPVARSTRING out);

// lineSetDevConfig's block, as a DeviceConfig to send to the server.
LONG ReadDevConfig(const v1::DeviceConfig* config, LPCWSTR device_class, const void* data,
                   DWORD size, v1::DeviceConfig* out);

}  // namespace linebridge::tsp
