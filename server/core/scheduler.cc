#include "core/scheduler.h"

namespace linebridge {
namespace {

// absl::Mutex as a BasicLockable for std::condition_variable_any.
class LockableMutex {
 public:
  explicit LockableMutex(absl::Mutex& mu) : mu_(mu) {}
  void lock() ABSL_NO_THREAD_SAFETY_ANALYSIS { mu_.Lock(); }
  void unlock() ABSL_NO_THREAD_SAFETY_ANALYSIS { mu_.Unlock(); }

 private:
  absl::Mutex& mu_;
};

}  // namespace

Scheduler::Scheduler() : thread_([this] { Run(); }) {}

Scheduler::~Scheduler() { Stop(); }

void Scheduler::Stop() {
  {
    absl::MutexLock lock(&mu_);
    stopping_ = true;
    queue_.clear();
    deadlines_.clear();
    wake_.notify_all();
  }
  if (thread_.joinable() && thread_.get_id() != std::this_thread::get_id()) thread_.join();
}

Scheduler::TimerId Scheduler::Schedule(absl::Duration delay, std::function<void()> fn) {
  absl::MutexLock lock(&mu_);
  if (stopping_) return 0;
  const TimerId id = next_id_++;
  const Clock::time_point when =
      Clock::now() + absl::ToChronoNanoseconds(std::max(delay, absl::ZeroDuration()));
  auto it = queue_.emplace(std::make_pair(when, id), std::move(fn)).first;
  deadlines_.emplace(id, when);
  if (it == queue_.begin()) wake_.notify_all();  // a new earliest deadline
  return id;
}

bool Scheduler::Cancel(TimerId id) {
  absl::MutexLock lock(&mu_);
  auto it = deadlines_.find(id);
  if (it == deadlines_.end()) return false;
  queue_.erase({it->second, id});
  deadlines_.erase(it);
  return true;
}

size_t Scheduler::pending() const {
  absl::MutexLock lock(&mu_);
  return queue_.size();
}

void Scheduler::Run() {
  absl::MutexLock lock(&mu_);
  LockableMutex lockable(mu_);
  while (!stopping_) {
    if (queue_.empty()) {
      wake_.wait(lockable);
      continue;
    }
    auto first = queue_.begin();
    const Clock::time_point when = first->first.first;
    if (Clock::now() < when) {
      // Wake on the deadline, or earlier when a sooner timer arrives or we
      // stop (both notify with mu_ held, so no wake-up is missed).
      wake_.wait_until(lockable, when);
      continue;
    }
    std::function<void()> fn = std::move(first->second);
    deadlines_.erase(first->first.second);
    queue_.erase(first);
    mu_.Unlock();
    fn();
    mu_.Lock();
  }
}

}  // namespace linebridge
