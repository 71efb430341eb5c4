#include "core/journal.h"

#include <algorithm>

#include "google/protobuf/util/time_util.h"

namespace linebridge {

EventJournal::EventJournal(uint64_t epoch, size_t capacity)
    : epoch_(epoch), capacity_(std::max<size_t>(capacity, 1)) {
  ring_.resize(capacity_);
}

void EventJournal::QueueAll(std::vector<Entry>* list) {
  for (Entry& e : *list) {
    Waiter* w = e.waiter.get();
    if (w->registered_ && w->generation_ == e.generation) {
      w->registered_ = false;
      to_wake_.push_back(std::move(e.waiter));
    }
  }
  list->clear();
}

uint64_t EventJournal::Append(v1::Event event) {
  event.set_epoch(epoch_);
  if (!event.has_time()) {
    *event.mutable_time() = google::protobuf::util::TimeUtil::GetCurrentTime();
  }
  absl::MutexLock lock(&mu_);
  const uint64_t seq = ++last_;
  event.set_sequence(seq);
  if (fences_.empty()) {
    visible_ = seq;
    QueueFor(seq, event.line_id());
  }
  while (!by_sequence_.empty() && by_sequence_.begin()->first <= seq) {
    Entry& e = by_sequence_.begin()->second;
    Waiter* w = e.waiter.get();
    if (w->registered_ && w->generation_ == e.generation) {
      w->registered_ = false;
      to_wake_.push_back(std::move(e.waiter));
    }
    by_sequence_.erase(by_sequence_.begin());
  }
  ring_[seq % capacity_] = std::make_shared<const v1::Event>(std::move(event));
  return seq;
}

void EventJournal::QueueFor(uint64_t seq, const std::string& line) {
  // Everyone hears server-wide events, and filtered cursors are moved along
  // often enough that the ring never overtakes them.
  const bool everyone =
      line.empty() || (filtered_count_ > 0 && seq % std::max<size_t>(capacity_ / 4, 1) == 0);
  QueueAll(&unfiltered_);
  if (everyone) {
    for (auto& [l, list] : by_line_) QueueAll(&list);
    by_line_.clear();
    filtered_count_ = 0;
  } else if (auto it = by_line_.find(line); it != by_line_.end()) {
    QueueAll(&it->second);
    by_line_.erase(it);
  }
}

uint64_t EventJournal::Fence() {
  absl::MutexLock lock(&mu_);
  const uint64_t id = ++next_fence_;
  fences_.emplace(id, last_);
  return id;
}

void EventJournal::Release(uint64_t fence) {
  absl::MutexLock lock(&mu_);
  if (fences_.erase(fence) == 0) return;
  const uint64_t limit = fences_.empty() ? last_ : fences_.begin()->second;
  const uint64_t oldest = last_ >= capacity_ ? last_ - capacity_ + 1 : 1;
  // Events the ring has already overwritten wake nobody: their readers get
  // a gap, and the wake of the newest uncovered event reaches them anyway.
  for (uint64_t s = std::max(visible_ + 1, oldest); s <= limit; ++s) {
    QueueFor(s, ring_[s % capacity_]->line_id());
  }
  visible_ = std::max(visible_, limit);
}

size_t EventJournal::open_fences() const {
  absl::MutexLock lock(&mu_);
  return fences_.size();
}

void EventJournal::DeliverWakes() {
  std::vector<std::shared_ptr<Waiter>> wake;
  {
    absl::MutexLock lock(&mu_);
    if (to_wake_.empty()) return;
    wake.swap(to_wake_);
  }
  for (const auto& w : wake) w->Wake();
}

uint64_t EventJournal::last_sequence() const {
  absl::MutexLock lock(&mu_);
  return last_;
}

uint64_t EventJournal::visible_sequence() const {
  absl::MutexLock lock(&mu_);
  return visible_;
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
  for (uint64_t s = from; s <= visible_ && max > 0; ++s, --max) {
    out->push_back(ring_[s % capacity_]);
  }
  return ReadStatus::kOk;
}

bool EventJournal::WaitFor(uint64_t from, const std::shared_ptr<Waiter>& w,
                           const std::set<std::string>* lines) {
  absl::MutexLock lock(&mu_);
  if (from <= visible_) return false;
  const uint64_t generation = ++w->generation_;  // earlier entries go stale
  w->registered_ = true;
  if (lines == nullptr || lines->empty()) {
    unfiltered_.push_back({w, generation});
  } else {
    for (const auto& line : *lines) by_line_[line].push_back({w, generation});
    ++filtered_count_;
  }
  return true;
}

void EventJournal::WaitForSequence(uint64_t seq, const std::shared_ptr<Waiter>& w) {
  absl::MutexLock lock(&mu_);
  const uint64_t generation = ++w->generation_;
  w->registered_ = true;
  by_sequence_.emplace(seq, Entry{w, generation});
}

void EventJournal::CancelWait(Waiter* w) {
  absl::MutexLock lock(&mu_);
  w->registered_ = false;
  ++w->generation_;
  // Drop our references now so the waiter's owner can go; stale entries of
  // other waiters stay until their list is next woken.
  auto not_this = [w](const Entry& e) { return e.waiter.get() == w; };
  unfiltered_.erase(std::remove_if(unfiltered_.begin(), unfiltered_.end(), not_this),
                    unfiltered_.end());
  for (auto& [line, list] : by_line_) {
    list.erase(std::remove_if(list.begin(), list.end(), not_this), list.end());
  }
  for (auto it = by_sequence_.begin(); it != by_sequence_.end();) {
    it = not_this(it->second) ? by_sequence_.erase(it) : std::next(it);
  }
  to_wake_.erase(std::remove_if(to_wake_.begin(), to_wake_.end(),
                                [w](const std::shared_ptr<Waiter>& x) { return x.get() == w; }),
                 to_wake_.end());
}

}  // namespace linebridge
