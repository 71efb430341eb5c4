// The event journal: every change in the server is an Event with (epoch,
// sequence), kept in a bounded ring so subscribers can resume. Events are
// stored once and shared by every subscriber (no per-subscriber copies); a
// subscriber is just a cursor into the ring. Each event is also encoded once,
// at append, as the bytes of an `EventBatch.events` field, into shared
// chunks where consecutive events lie side by side (WireChunk): a stream
// hands those bytes to gRPC by reference for every subscriber whose filter
// admits the events, instead of serializing or copying them again (Visit).
//
// Wake-ups: a subscriber that has caught up registers a Waiter, optionally for
// a set of lines. Append queues the waiters the event concerns (those of its
// line, the unfiltered ones, everyone for a server-wide event, and everyone
// every capacity/4 events so filtered cursors never fall off the ring);
// DeliverWakes, called by the appender once it has released its own locks,
// wakes them. Registration and wake-up are O(1) per waiter.
//
// Fences: an appender can hold back what is appended after a point until
// something outside the journal is done — the engine holds a call's IDLE
// event until the call's record is on disk, so that no client sees a call end
// whose record a crash could still lose. Held events have their sequence and
// their place in the ring, but Read and WaitFor do not see them, and their
// waiters are woken when the last fence before them is released.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/functional/function_ref.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "core/wire_chunk.h"
#include "linebridge/v1/telephony.pb.h"

namespace linebridge {

using EventPtr = std::shared_ptr<const v1::Event>;

// One journal event and its wire form: field 2 of EventBatch (tag, length)
// followed by the Event's bytes, exactly as EventBatch serialization writes it.
// The bytes live in `chunk`, right after those of the event before them when
// it has room (consecutive events are one range of a chunk).
struct JournalEntry {
  v1::Event event;
  absl::string_view wire;
  WireChunkRef chunk;
};

// The wire form of `event` (its epoch and sequence set), for tests and tools;
// Append produces the same bytes without serializing under its lock.
std::string EncodeEventField(const v1::Event& event);

class EventJournal {
 public:
  class Waiter {
   public:
    virtual ~Waiter() = default;
    // Called without any journal lock held. Must not block.
    virtual void Wake() = 0;

   private:
    friend class EventJournal;
    uint64_t generation_ = 0;  // guarded by the journal's mutex
    bool registered_ = false;  // guarded by the journal's mutex
  };

  EventJournal(uint64_t epoch, size_t capacity);

  uint64_t epoch() const { return epoch_; }
  size_t capacity() const { return capacity_; }

  // Stamps epoch, sequence and time (if unset) and stores the event. Returns
  // the sequence. The waiters it concerns are woken by the next DeliverWakes.
  uint64_t Append(v1::Event event);
  // Wakes the waiters queued by Append so far. Cheap when there are none.
  void DeliverWakes();

  uint64_t last_sequence() const;     // appended; 0 before the first event
  uint64_t visible_sequence() const;  // readable: last_sequence() unless fenced
  uint64_t oldest_sequence() const;   // first retained; last+1 when empty

  // Holds back every event appended from now on, until Release(fence) (and
  // every earlier fence's release). Returns the fence's id (never 0).
  uint64_t Fence();
  // Releases a fence; the waiters of the events it uncovers are woken by the
  // next DeliverWakes. Releasing an unknown or released fence does nothing.
  void Release(uint64_t fence);
  size_t open_fences() const;

  enum class ReadStatus { kOk, kGap };
  // Appends to `out` up to `max` visible events with sequence >= `from`. kGap when
  // `from` is older than the oldest retained event (nothing is read then).
  ReadStatus Read(uint64_t from, size_t max, std::vector<EventPtr>* out) const;
  // Calls `fn` for up to `max` visible entries with sequence >= `from`, in order, and
  // sets `*visited` to their number; kGap as for Read (then nothing is
  // visited). No reference is taken: `fn` runs under the journal's shared
  // lock, so it must be quick and must not call back into the journal.
  ReadStatus Visit(uint64_t from, size_t max, absl::FunctionRef<void(const JournalEntry&)> fn,
                   size_t* visited) const;

  // Registers `w` for a wake-up by the next append that concerns `lines`
  // (nullptr or empty: every append), unless a visible event with sequence
  // >= `from` is already there: then returns false and does not register. Registering a
  // registered waiter again replaces its registration.
  bool WaitFor(uint64_t from, const std::shared_ptr<Waiter>& w,
               const std::set<std::string>* lines = nullptr);
  // Registers `w` for a wake-up by the append of sequence `seq` (or a later
  // one), visible or not (for a subscriber's lag). Replaces any other registration of `w`.
  void WaitForSequence(uint64_t seq, const std::shared_ptr<Waiter>& w);
  void CancelWait(Waiter* w);

 private:
  struct Entry {
    std::shared_ptr<Waiter> waiter;
    uint64_t generation;
  };
  void QueueAll(std::vector<Entry>* list) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Queues the waiters the event `seq` (now visible) concerns.
  void QueueFor(uint64_t seq, const std::string& line) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void DropSequenceEntry(Waiter* w) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  const uint64_t epoch_;
  const size_t capacity_;
  mutable absl::Mutex mu_;
  std::vector<std::shared_ptr<const JournalEntry>> ring_ ABSL_GUARDED_BY(mu_);  // seq % capacity
  WireChunkRef chunk_ ABSL_GUARDED_BY(mu_);  // where the next event's bytes go
  uint64_t last_ ABSL_GUARDED_BY(mu_) = 0;
  uint64_t visible_ ABSL_GUARDED_BY(mu_) = 0;  // == last_ while no fence is open
  // Open fences: id -> the last sequence before it. Ids grow, and so do the
  // sequences, so the first entry is the one that holds events back.
  std::map<uint64_t, uint64_t> fences_ ABSL_GUARDED_BY(mu_);
  uint64_t next_fence_ ABSL_GUARDED_BY(mu_) = 0;
  // Registered waiters; an entry is live while its generation matches the
  // waiter's and the waiter is registered (stale entries are skipped).
  std::vector<Entry> unfiltered_ ABSL_GUARDED_BY(mu_);
  absl::flat_hash_map<std::string, std::vector<Entry>> by_line_ ABSL_GUARDED_BY(mu_);
  size_t filtered_count_ ABSL_GUARDED_BY(mu_) = 0;  // live filtered registrations
  // At most one entry per waiter: a stream re-registers with every write, so
  // its previous entry is removed (found through seq_entry_) instead of left
  // to go stale.
  std::multimap<uint64_t, Entry> by_sequence_ ABSL_GUARDED_BY(mu_);
  absl::flat_hash_map<Waiter*, std::multimap<uint64_t, Entry>::iterator> seq_entry_
      ABSL_GUARDED_BY(mu_);
  std::vector<std::shared_ptr<Waiter>> to_wake_ ABSL_GUARDED_BY(mu_);
};

}  // namespace linebridge
