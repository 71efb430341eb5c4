// Shifts the wall clock as this process sees it: a test binary linking
// wall_clock_shift.cc gets a clock_gettime() that adds an offset to
// CLOCK_REALTIME (and its coarse variant) and passes every other clock
// through to the kernel. For tests that a wall-clock jump (an NTP step, the
// date set by hand) does not disturb what runs on the monotonic clock,
// without touching the machine's clock.
#pragma once

#include "absl/time/time.h"

namespace linebridge::testing {

// From now on CLOCK_REALTIME reads `offset` away from the kernel's.
void SetWallClockOffset(absl::Duration offset);

}  // namespace linebridge::testing
