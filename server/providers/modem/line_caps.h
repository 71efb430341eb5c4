// The TAPI line a modem port is: capabilities by profile (media modes,
// digits, call features and states), its address and status.
#pragma once

#include <string>

#include "linebridge/v1/config.pb.h"
#include "linebridge/v1/types.pb.h"
#include "providers/modem/at/probe.h"

namespace linebridge::modem {

// `identity`: the probed modem (null before the probe: the switch info is
// the device path).
v1::Line BuildModemLine(const v1::config::ModemPort& config, const std::string& line_id,
                        const at::ModemIdentity* identity, at::ModemProfile profile,
                        v1::LineState state);

}  // namespace linebridge::modem
