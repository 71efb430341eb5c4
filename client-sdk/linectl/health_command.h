// `linectl health`: the standard gRPC health check against each server.
#pragma once

#include "absl/status/status.h"
#include "linectl/commands.h"

namespace linebridge::linectl {

// Prints each server's status; an error unless every one is SERVING (exit
// status for probes and scripts). Needs no credentials.
absl::Status CmdHealth(Context& context);

}  // namespace linebridge::linectl
