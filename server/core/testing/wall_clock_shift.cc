#include "core/testing/wall_clock_shift.h"

#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include <atomic>
#include <cstdint>

namespace linebridge::testing {
namespace {

std::atomic<int64_t> offset_ns{0};

}  // namespace

void SetWallClockOffset(absl::Duration offset) {
  offset_ns.store(absl::ToInt64Nanoseconds(offset));
}

}  // namespace linebridge::testing

// Replaces the C library's clock_gettime for this process (the C++ runtime
// and Abseil call it through the dynamic linker, which finds this one first).
extern "C" int clock_gettime(clockid_t clock, struct timespec* ts) {
  const long rc = syscall(SYS_clock_gettime, clock, ts);
  if (rc != 0 || (clock != CLOCK_REALTIME && clock != CLOCK_REALTIME_COARSE)) {
    return static_cast<int>(rc);
  }
  constexpr int64_t kBillion = 1000000000;
  const int64_t ns = int64_t{ts->tv_sec} * kBillion + ts->tv_nsec +
                     linebridge::testing::offset_ns.load();
  ts->tv_sec = static_cast<time_t>(ns / kBillion);
  ts->tv_nsec = static_cast<long>(ns % kBillion);
  if (ts->tv_nsec < 0) {
    ts->tv_nsec += kBillion;
    --ts->tv_sec;
  }
  return 0;
}
