// The event journal: every change in the server is an Event with (epoch,
// sequence), kept in a bounded ring so subscribers can resume. Events are
// stored once and shared by every subscriber (no per-subscriber copies); a
// subscriber is just a cursor into the ring.
#pragma once

#include <cstdint>
#include <memory>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "linebridge/v1/telephony.pb.h"

namespace linebridge {

using EventPtr = std::shared_ptr<const v1::Event>;

class EventJournal {
 public:
  // Woken once after an append, from the appending thread, with no journal
  // lock held. Must not block.
  class Waiter {
   public:
    virtual ~Waiter() = default;
    virtual void Wake() = 0;
  };

  EventJournal(uint64_t epoch, size_t capacity);

  uint64_t epoch() const { return epoch_; }
  size_t capacity() const { return capacity_; }

  // Stamps epoch, sequence and time (if unset) and stores the event. Returns
  // the sequence. Wakes the waiters registered so far.
  uint64_t Append(v1::Event event);

  uint64_t last_sequence() const;    // 0 before the first event
  uint64_t oldest_sequence() const;  // first retained; last+1 when empty

  enum class ReadStatus { kOk, kGap };
  // Appends to `out` up to `max` events with sequence >= `from`. kGap when
  // `from` is older than the oldest retained event (nothing is read then).
  ReadStatus Read(uint64_t from, size_t max, std::vector<EventPtr>* out) const;

  // Registers `w` to be woken by the next append, unless an event with
  // sequence >= `from` is already there: then returns false and does not
  // register. A waiter is registered at most once.
  bool WaitFor(uint64_t from, const std::shared_ptr<Waiter>& w);
  void CancelWait(Waiter* w);

 private:
  const uint64_t epoch_;
  const size_t capacity_;
  mutable absl::Mutex mu_;
  std::vector<EventPtr> ring_ ABSL_GUARDED_BY(mu_);  // index = seq % capacity
  uint64_t last_ ABSL_GUARDED_BY(mu_) = 0;
  // Shared so a waker that races with its owner's end stays valid.
  std::vector<std::shared_ptr<Waiter>> waiters_ ABSL_GUARDED_BY(mu_);
};

}  // namespace linebridge
