// The network part of TSPI_providerShutdown, bounded in time whatever the
// servers do (TAPISRV stops providers on its service thread; a paused server
// must not hold it for the RPC deadline, which may be up to 600 s).
#pragma once

#include "absl/time/time.h"
#include "linebridge/client.h"

namespace linebridge::tsp {

// How long providerShutdown gives the servers to close the sessions.
inline constexpr absl::Duration kShutdownCloseBudget = absl::Milliseconds(300);

// Best effort: sends CloseSession to every server with a session, all at
// once, and waits for the answers at most `budget`; then cancels every call
// still in flight on `client` (and fails later ones at once), and waits for
// the cancelled calls' completions, which gRPC delivers promptly. Afterwards
// nothing on `client` waits on the network: stopping its subscriptions and
// destroying it are prompt.
void CloseSessionsWithin(Client& client, absl::Duration budget);

}  // namespace linebridge::tsp
