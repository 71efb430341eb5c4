#include "core/scheduler.h"

namespace linebridge {

Scheduler::Scheduler() : thread_([this] { Run(); }) {}

Scheduler::~Scheduler() { Stop(); }

void Scheduler::Stop() {
  {
    absl::MutexLock lock(&mu_);
    stopping_ = true;
    queue_.clear();
    deadlines_.clear();
  }
  if (thread_.joinable() && thread_.get_id() != std::this_thread::get_id()) thread_.join();
}

Scheduler::TimerId Scheduler::Schedule(absl::Duration delay, std::function<void()> fn) {
  absl::MutexLock lock(&mu_);
  if (stopping_) return 0;
  const TimerId id = next_id_++;
  const absl::Time when = absl::Now() + std::max(delay, absl::ZeroDuration());
  queue_.emplace(std::make_pair(when, id), std::move(fn));
  deadlines_.emplace(id, when);
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
  while (!stopping_) {
    if (queue_.empty()) {
      mu_.Await(absl::Condition(
          +[](Scheduler* s) ABSL_NO_THREAD_SAFETY_ANALYSIS { return s->stopping_ || !s->queue_.empty(); },
          this));
      continue;
    }
    auto first = queue_.begin();
    const absl::Time when = first->first.first;
    if (absl::Now() < when) {
      // Wake on the deadline, or earlier when a sooner timer arrives or we stop.
      std::pair<Scheduler*, std::pair<absl::Time, TimerId>> arg(this, first->first);
      mu_.AwaitWithDeadline(
          absl::Condition(
              +[](std::pair<Scheduler*, std::pair<absl::Time, TimerId>>* a)
                   ABSL_NO_THREAD_SAFETY_ANALYSIS {
                     Scheduler* s = a->first;
                     return s->stopping_ || s->queue_.empty() || s->queue_.begin()->first != a->second;
                   },
              &arg),
          when);
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
