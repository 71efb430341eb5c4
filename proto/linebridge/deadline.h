#ifndef LINEBRIDGE_DEADLINE_H_
#define LINEBRIDGE_DEADLINE_H_

#include <grpc/support/time.h>

#include <chrono>
#include <cstdint>

#include "absl/time/time.h"

namespace linebridge {

// A gRPC deadline `d` from now on the monotonic clock. A deadline taken from
// the wall clock (absl::Now(), system_clock) is converted by gRPC when the call
// starts, so a step of the wall clock in between — NTP, a resumed virtual
// machine — fails the call at once or stretches it; the monotonic clock does
// not step. Pass the result to ClientContext::set_deadline or
// Channel::WaitForConnected.
inline gpr_timespec DeadlineAfter(absl::Duration d) {
  if (d == absl::InfiniteDuration()) return gpr_inf_future(GPR_CLOCK_MONOTONIC);
  if (d < absl::ZeroDuration()) d = absl::ZeroDuration();
  return gpr_time_add(gpr_now(GPR_CLOCK_MONOTONIC),
                      gpr_time_from_micros(absl::ToInt64Microseconds(d), GPR_TIMESPAN));
}

// Now on the monotonic clock, as an absl::Time for deadline arithmetic: only
// to compare with other MonotonicNow() values (retry times, waits, elapsed
// time), never to show or store as a date.
inline absl::Time MonotonicNow() {
  return absl::UnixEpoch() + absl::FromChrono(std::chrono::steady_clock::now().time_since_epoch());
}

}  // namespace linebridge

#endif  // LINEBRIDGE_DEADLINE_H_
