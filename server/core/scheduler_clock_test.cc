// The scheduler against wall-clock jumps: with the process's CLOCK_REALTIME
// moved an hour forward or back while timers are pending, every timer still
// runs after its delay as measured on the monotonic clock, neither at once
// nor an hour late.
#include <gtest/gtest.h>

#include <atomic>
#include <time.h>

#include <chrono>
#include <string>
#include <thread>

#include "absl/time/clock.h"
#include "core/scheduler.h"
#include "core/testing/wall_clock_shift.h"

namespace linebridge {
namespace {

using Steady = std::chrono::steady_clock;

absl::Time WallNow() {
  timespec ts{};
  clock_gettime(CLOCK_REALTIME, &ts);
  return absl::TimeFromTimespec(ts);
}

class SchedulerClockTest : public ::testing::TestWithParam<int> {
 protected:
  void TearDown() override { testing::SetWallClockOffset(absl::ZeroDuration()); }
};

TEST_P(SchedulerClockTest, TimersIgnoreAWallClockJump) {
  const absl::Duration jump = absl::Hours(GetParam());
  Scheduler scheduler;
  std::atomic<int64_t> fired_after_ms{-1};
  const Steady::time_point start = Steady::now();
  scheduler.Schedule(absl::Milliseconds(400), [&] {
    fired_after_ms = std::chrono::duration_cast<std::chrono::milliseconds>(Steady::now() - start)
                         .count();
  });
  // A second timer scheduled after the jump, due before the first.
  std::atomic<bool> second{false};
  absl::SleepFor(absl::Milliseconds(50));
  const absl::Time wall_before = WallNow();
  testing::SetWallClockOffset(jump);
  scheduler.Schedule(absl::Milliseconds(100), [&] { second = true; });
  const Steady::time_point deadline = Steady::now() + std::chrono::seconds(10);
  while (fired_after_ms < 0 && Steady::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  EXPECT_GE(fired_after_ms.load(), 400);
  EXPECT_LT(fired_after_ms.load(), 3000);
  EXPECT_TRUE(second.load());
  // The shift is real for this process: its wall clock moved by about `jump`.
  EXPECT_LT(absl::AbsDuration(WallNow() - wall_before - jump), absl::Minutes(1));
}

INSTANTIATE_TEST_SUITE_P(Jumps, SchedulerClockTest, ::testing::Values(1, -1),
                         [](const ::testing::TestParamInfo<int>& param) {
                           return param.param > 0 ? std::string("Forward") : std::string("Back");
                         });

}  // namespace
}  // namespace linebridge
