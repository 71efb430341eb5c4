// A timer thread: runs closures after a delay. Used for everything that
// happens "later" in the server (sim PBX timing, grace periods, lingering
// disconnected calls), so no other thread ever sleeps.
#pragma once

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
  void Run();

  mutable absl::Mutex mu_;
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  TimerId next_id_ ABSL_GUARDED_BY(mu_) = 1;
  // (deadline, id) -> closure; id breaks ties so equal deadlines keep order.
  std::map<std::pair<absl::Time, TimerId>, std::function<void()>> queue_ ABSL_GUARDED_BY(mu_);
  absl::flat_hash_map<TimerId, absl::Time> deadlines_ ABSL_GUARDED_BY(mu_);
  std::thread thread_;
};

}  // namespace linebridge
