// Dial strings a client may hand to a modem. The string ends up inside
// "ATD<digits>\r", so anything that could end the command or start another
// one is refused: CR, LF and other control bytes, "AT", and ';' (in V.250 a
// ';' returns to command state and the rest of the line runs as commands).
#pragma once

#include <cstddef>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "providers/modem/at/probe.h"

namespace linebridge::at {

inline constexpr size_t kMaxModemDialString = 80;

// OK if `digits` uses only 0-9 * # A-D , W @ ! P T (upper case), is not empty,
// at most kMaxModemDialString long, contains no "AT", and has no ';' except
// one trailing ';' on the 27.007 profile (a voice call). Otherwise
// InvalidArgument carrying LINEERR_INVALADDRESS.
absl::Status ValidateModemDialString(absl::string_view digits, ModemProfile profile);

// "ATD<digits>" after validation; on the 27.007 profile a voice call gets its
// trailing ';' (added if missing) and a data call must not have one.
absl::StatusOr<std::string> ModemDialCommand(absl::string_view digits, ModemProfile profile,
                                             bool voice = true);

}  // namespace linebridge::at
