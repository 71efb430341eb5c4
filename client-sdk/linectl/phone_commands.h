// `linectl phones ...`: the servers' phone devices (docs/api.md#phones).
#pragma once

#include "absl/status/status.h"
#include "linectl/commands.h"

namespace linebridge::linectl {

// phones [list] [--line LINE]: a table of phones (hookswitch, ring mode, opens).
absl::Status CmdPhones(Context& context);
// phones show <phone>: the phone, its caps, status and buttons.
absl::Status CmdPhoneShow(Context& context);

}  // namespace linebridge::linectl
