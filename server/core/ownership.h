// Who owns an offered call when a session opens its line after the call
// arrived (DESIGN.md 12, "ownership has no window"): a call nobody has decided
// on yet goes to an owner open of its media mode exactly as if the open had
// come first. Pure functions over the proto types, used by Engine::OpenLine.
#pragma once

#include <string>
#include <vector>

#include "linebridge/v1/types.pb.h"

namespace linebridge {

// Whether an open with `privilege` and `media_modes` (empty: every mode)
// takes ownership of `call`: an OWNER open, the call OFFERING (not answered,
// accepted, redirected or otherwise decided) and of a media mode the open
// asked for.
bool OffersOwnership(v1::Privilege privilege, const std::vector<v1::MediaMode>& media_modes,
                     const v1::Call& call);

// Whether `call`, having lost its last owner (the owner closed the line or
// its session ended), stays up for the next owner instead of being dropped:
// an offered call nobody decided on (OFFERING).
bool StaysOffered(const v1::Call& call);

// Makes `session_id` an owner of `call` (no longer a monitor of it).
void GrantOwnership(v1::Call& call, const std::string& session_id);

}  // namespace linebridge
