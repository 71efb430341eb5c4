// The SIP provider's event loop: one thread running a sofia-sip su_root.
// Every sofia object (nua agents, handles, timers, RTP sockets) is created,
// used and destroyed on this thread only. Other threads hand work to it with
// Post(), which never blocks on the loop.
#pragma once

#include <sofia-sip/su_wait.h>

#include <atomic>
#include <deque>
#include <functional>
#include <thread>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"

namespace linebridge::sip {

class SipLoop {
 public:
  SipLoop() = default;
  ~SipLoop();  // Stop() and join
  SipLoop(const SipLoop&) = delete;
  SipLoop& operator=(const SipLoop&) = delete;

  // Starts the thread; `init` runs first on it (create agents there), and its
  // status is returned once it ran. `fini` runs on the thread when the loop
  // ends (destroy agents there).
  absl::Status Start(std::function<absl::Status(su_root_t*)> init, std::function<void()> fini);

  // Runs `fn` on the loop thread soon. Dropped after Stop().
  void Post(std::function<void()> fn);

  // Ends the loop: `fini` runs, then the thread exits. Idempotent; does not
  // wait (the destructor joins).
  void Stop();
  void Join();

  bool OnLoopThread() const { return std::this_thread::get_id() == thread_.get_id(); }

  // Runs `root`'s events (on the loop thread, e.g. from `fini`) until
  // `done()` or until `timeout` has passed; true if done. Bounded by time,
  // not by steps: a step handles one event, and a thousand agents shutting
  // down send thousands.
  static bool StepUntil(su_root_t* root, absl::Duration timeout, const std::function<bool()>& done);
  su_root_t* root() const { return root_; }  // loop thread only

 private:
  void Run(std::function<absl::Status(su_root_t*)> init);
  static int OnWake(void* magic, su_wait_t* wait, void* arg);
  void Drain();

  std::thread thread_;
  int event_fd_ = -1;
  su_root_t* root_ = nullptr;  // loop thread only
  su_wait_t wait_[1];          // loop thread only
  std::function<void()> fini_;
  std::atomic<bool> stopping_{false};

  absl::Mutex mu_;
  std::deque<std::function<void()>> queue_ ABSL_GUARDED_BY(mu_);
  bool started_ ABSL_GUARDED_BY(mu_) = false;
  bool init_done_ ABSL_GUARDED_BY(mu_) = false;
  absl::Status init_status_ ABSL_GUARDED_BY(mu_);
};

}  // namespace linebridge::sip
