#include "core/journal.h"

#include <algorithm>

#include "google/protobuf/util/time_util.h"

namespace linebridge {

EventJournal::EventJournal(uint64_t epoch, size_t capacity)
    : epoch_(epoch), capacity_(std::max<size_t>(capacity, 1)) {
  ring_.resize(capacity_);
}

uint64_t EventJournal::Append(v1::Event event) {
  event.set_epoch(epoch_);
  if (!event.has_time()) {
    *event.mutable_time() = google::protobuf::util::TimeUtil::GetCurrentTime();
  }
  std::vector<std::shared_ptr<Waiter>> wake;
  uint64_t seq;
  {
    absl::MutexLock lock(&mu_);
    seq = ++last_;
    event.set_sequence(seq);
    ring_[seq % capacity_] = std::make_shared<const v1::Event>(std::move(event));
    wake.swap(waiters_);
  }
  for (const auto& w : wake) w->Wake();
  return seq;
}

uint64_t EventJournal::last_sequence() const {
  absl::MutexLock lock(&mu_);
  return last_;
}

uint64_t EventJournal::oldest_sequence() const {
  absl::MutexLock lock(&mu_);
  return last_ >= capacity_ ? last_ - capacity_ + 1 : 1;
}

EventJournal::ReadStatus EventJournal::Read(uint64_t from, size_t max,
                                            std::vector<EventPtr>* out) const {
  absl::MutexLock lock(&mu_);
  const uint64_t oldest = last_ >= capacity_ ? last_ - capacity_ + 1 : 1;
  if (from < oldest) return ReadStatus::kGap;
  for (uint64_t s = from; s <= last_ && max > 0; ++s, --max) {
    out->push_back(ring_[s % capacity_]);
  }
  return ReadStatus::kOk;
}

bool EventJournal::WaitFor(uint64_t from, const std::shared_ptr<Waiter>& w) {
  absl::MutexLock lock(&mu_);
  if (from <= last_) return false;
  if (std::find(waiters_.begin(), waiters_.end(), w) == waiters_.end()) waiters_.push_back(w);
  return true;
}

void EventJournal::CancelWait(Waiter* w) {
  absl::MutexLock lock(&mu_);
  waiters_.erase(std::remove_if(waiters_.begin(), waiters_.end(),
                                [w](const std::shared_ptr<Waiter>& x) { return x.get() == w; }),
                 waiters_.end());
}

}  // namespace linebridge
