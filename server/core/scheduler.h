// A timer thread: runs closures after a delay. Used for everything that
// happens "later" in the server (sim PBX timing, grace periods, lingering
// disconnected calls), so no other thread ever sleeps.
//
// Delays are measured on the monotonic clock (std::chrono::steady_clock, and
// a condition variable waiting on it): a jump of the wall clock (an NTP step,
// an administrator setting the date) neither fires a timer early nor holds
// it back.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <thread>
#include <utility>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"

namespace linebridge {

class Scheduler {
 public:
  using TimerId = uint64_t;  // 0 is never a valid id

  Scheduler();
  ~Scheduler();  // cancels pending timers and joins
  Scheduler(const Scheduler&) = delete;
  Scheduler& operator=(const Scheduler&) = delete;

  TimerId Schedule(absl::Duration delay, std::function<void()> fn);
  // True if the timer was pending and will not run. A timer that is running
  // right now is not waited for.
  bool Cancel(TimerId id);
  void Stop();
  size_t pending() const;

 private:
  using Clock = std::chrono::steady_clock;
  void Run();

  mutable absl::Mutex mu_;
  // Signalled (with mu_ held) when the earliest deadline may have changed or
  // on Stop; waits on the monotonic clock, which absl::Mutex's timed waits
  // (on the wall clock) cannot.
  std::condition_variable_any wake_;
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  TimerId next_id_ ABSL_GUARDED_BY(mu_) = 1;
  // (deadline, id) -> closure; id breaks ties so equal deadlines keep order.
  std::map<std::pair<Clock::time_point, TimerId>, std::function<void()>> queue_ ABSL_GUARDED_BY(mu_);
  absl::flat_hash_map<TimerId, Clock::time_point> deadlines_ ABSL_GUARDED_BY(mu_);
  std::thread thread_;
};

}  // namespace linebridge
