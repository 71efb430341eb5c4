#include "core/journal.h"

#include <gtest/gtest.h>

#include <atomic>
#include <set>
#include <memory>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"

namespace linebridge {
namespace {

v1::Event LineEvent(const std::string& line) {
  v1::Event ev;
  ev.set_line_id(line);
  ev.mutable_line_removed()->set_line_id(line);
  return ev;
}

class CountingWaiter : public EventJournal::Waiter {
 public:
  void Wake() override { wakes.fetch_add(1); }
  std::atomic<int> wakes{0};
};

// Appends and delivers the wake-ups, as the engine does when it releases its lock.
uint64_t AppendWake(EventJournal& j, v1::Event ev) {
  const uint64_t seq = j.Append(std::move(ev));
  j.DeliverWakes();
  return seq;
}

TEST(EventJournalTest, EmptyJournal) {
  EventJournal j(7, 4);
  EXPECT_EQ(j.epoch(), 7u);
  EXPECT_EQ(j.capacity(), 4u);
  EXPECT_EQ(j.last_sequence(), 0u);
  EXPECT_EQ(j.oldest_sequence(), 1u);
  std::vector<EventPtr> out;
  EXPECT_EQ(j.Read(1, 10, &out), EventJournal::ReadStatus::kOk);
  EXPECT_TRUE(out.empty());
}

TEST(EventJournalTest, ZeroCapacityIsClampedToOne) {
  EventJournal j(1, 0);
  EXPECT_EQ(j.capacity(), 1u);
  AppendWake(j, LineEvent("a"));
  AppendWake(j, LineEvent("b"));
  std::vector<EventPtr> out;
  EXPECT_EQ(j.Read(2, 10, &out), EventJournal::ReadStatus::kOk);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0]->line_id(), "b");
}

TEST(EventJournalTest, StampsEpochSequenceAndTime) {
  EventJournal j(42, 16);
  v1::Event ev = LineEvent("sim/100");
  ev.set_epoch(999);      // overwritten
  ev.set_sequence(555);   // overwritten
  EXPECT_EQ(AppendWake(j, ev), 1u);
  v1::Event timed = LineEvent("sim/101");
  timed.mutable_time()->set_seconds(12345);  // kept
  EXPECT_EQ(AppendWake(j, timed), 2u);
  EXPECT_EQ(AppendWake(j, LineEvent("sim/102")), 3u);
  EXPECT_EQ(j.last_sequence(), 3u);
  EXPECT_EQ(j.oldest_sequence(), 1u);

  std::vector<EventPtr> out;
  ASSERT_EQ(j.Read(1, 100, &out), EventJournal::ReadStatus::kOk);
  ASSERT_EQ(out.size(), 3u);
  for (size_t i = 0; i < out.size(); ++i) {
    EXPECT_EQ(out[i]->epoch(), 42u);
    EXPECT_EQ(out[i]->sequence(), i + 1);
    EXPECT_TRUE(out[i]->has_time());
  }
  EXPECT_EQ(out[0]->line_id(), "sim/100");
  EXPECT_GT(out[0]->time().seconds(), 1600000000);  // "now", not left unset
  EXPECT_EQ(out[1]->time().seconds(), 12345);
  EXPECT_EQ(out[2]->line_id(), "sim/102");
}

TEST(EventJournalTest, ReadFromTheMiddleAndWithMax) {
  EventJournal j(1, 16);
  for (int i = 0; i < 10; ++i) AppendWake(j, LineEvent(absl::StrCat("l", i)));
  std::vector<EventPtr> out;
  ASSERT_EQ(j.Read(5, 100, &out), EventJournal::ReadStatus::kOk);
  ASSERT_EQ(out.size(), 6u);
  for (size_t i = 0; i < out.size(); ++i) EXPECT_EQ(out[i]->sequence(), 5 + i);

  out.clear();
  ASSERT_EQ(j.Read(3, 2, &out), EventJournal::ReadStatus::kOk);
  ASSERT_EQ(out.size(), 2u);
  EXPECT_EQ(out[0]->sequence(), 3u);
  EXPECT_EQ(out[1]->sequence(), 4u);

  // Read appends to what is already in `out`.
  ASSERT_EQ(j.Read(10, 5, &out), EventJournal::ReadStatus::kOk);
  ASSERT_EQ(out.size(), 3u);
  EXPECT_EQ(out[2]->sequence(), 10u);

  // Past the end: nothing, but not a gap.
  out.clear();
  ASSERT_EQ(j.Read(11, 5, &out), EventJournal::ReadStatus::kOk);
  EXPECT_TRUE(out.empty());
  ASSERT_EQ(j.Read(1000, 5, &out), EventJournal::ReadStatus::kOk);
  EXPECT_TRUE(out.empty());
}

TEST(EventJournalTest, EventsAreSharedNotCopied) {
  EventJournal j(1, 4);
  AppendWake(j, LineEvent("a"));
  std::vector<EventPtr> a, b;
  j.Read(1, 1, &a);
  j.Read(1, 1, &b);
  ASSERT_EQ(a.size(), 1u);
  ASSERT_EQ(b.size(), 1u);
  EXPECT_EQ(a[0].get(), b[0].get());
}

TEST(EventJournalTest, RingWrapsAndReportsGap) {
  EventJournal j(1, 4);
  for (int i = 1; i <= 4; ++i) AppendWake(j, LineEvent(absl::StrCat("l", i)));
  EXPECT_EQ(j.oldest_sequence(), 1u);
  std::vector<EventPtr> out;
  ASSERT_EQ(j.Read(1, 10, &out), EventJournal::ReadStatus::kOk);
  EXPECT_EQ(out.size(), 4u);

  // The fifth event overwrites the first.
  AppendWake(j, LineEvent("l5"));
  EXPECT_EQ(j.last_sequence(), 5u);
  EXPECT_EQ(j.oldest_sequence(), 2u);
  out.clear();
  EXPECT_EQ(j.Read(1, 10, &out), EventJournal::ReadStatus::kGap);
  EXPECT_TRUE(out.empty());  // nothing is read on a gap
  ASSERT_EQ(j.Read(2, 10, &out), EventJournal::ReadStatus::kOk);
  ASSERT_EQ(out.size(), 4u);
  for (size_t i = 0; i < out.size(); ++i) {
    EXPECT_EQ(out[i]->sequence(), 2 + i);
    EXPECT_EQ(out[i]->line_id(), absl::StrCat("l", 2 + i));
  }

  // Many times around the ring.
  for (int i = 6; i <= 103; ++i) AppendWake(j, LineEvent(absl::StrCat("l", i)));
  EXPECT_EQ(j.last_sequence(), 103u);
  EXPECT_EQ(j.oldest_sequence(), 100u);
  out.clear();
  EXPECT_EQ(j.Read(99, 10, &out), EventJournal::ReadStatus::kGap);
  ASSERT_EQ(j.Read(100, 10, &out), EventJournal::ReadStatus::kOk);
  ASSERT_EQ(out.size(), 4u);
  EXPECT_EQ(out[0]->line_id(), "l100");
  EXPECT_EQ(out[3]->line_id(), "l103");
}

TEST(EventJournalTest, WaitForReturnsFalseWhenDataIsThere) {
  EventJournal j(1, 8);
  auto w = std::make_shared<CountingWaiter>();
  EXPECT_TRUE(j.WaitFor(1, w));  // empty journal: registers
  j.CancelWait(w.get());

  AppendWake(j, LineEvent("a"));
  AppendWake(j, LineEvent("b"));
  EXPECT_FALSE(j.WaitFor(1, w));
  EXPECT_FALSE(j.WaitFor(2, w));
  // Not registered by the failed calls: the next append does not wake it.
  AppendWake(j, LineEvent("c"));
  EXPECT_EQ(w->wakes.load(), 0);
  EXPECT_TRUE(j.WaitFor(4, w));
}

TEST(EventJournalTest, WakesOncePerRegistration) {
  EventJournal j(1, 8);
  auto w = std::make_shared<CountingWaiter>();
  auto other = std::make_shared<CountingWaiter>();
  ASSERT_TRUE(j.WaitFor(1, w));
  ASSERT_TRUE(j.WaitFor(1, w));  // registered at most once
  ASSERT_TRUE(j.WaitFor(1, other));
  EXPECT_EQ(w->wakes.load(), 0);

  AppendWake(j, LineEvent("a"));
  EXPECT_EQ(w->wakes.load(), 1);
  EXPECT_EQ(other->wakes.load(), 1);

  // The registration was consumed: a further append does not wake again.
  AppendWake(j, LineEvent("b"));
  EXPECT_EQ(w->wakes.load(), 1);
  EXPECT_EQ(other->wakes.load(), 1);

  // A new registration is woken by the next append only.
  ASSERT_TRUE(j.WaitFor(3, w));
  AppendWake(j, LineEvent("c"));
  AppendWake(j, LineEvent("d"));
  EXPECT_EQ(w->wakes.load(), 2);
  EXPECT_EQ(other->wakes.load(), 1);
}

TEST(EventJournalTest, CancelWaitPreventsTheWake) {
  EventJournal j(1, 8);
  auto w = std::make_shared<CountingWaiter>();
  auto kept = std::make_shared<CountingWaiter>();
  ASSERT_TRUE(j.WaitFor(1, w));
  ASSERT_TRUE(j.WaitFor(1, kept));
  j.CancelWait(w.get());
  j.CancelWait(w.get());  // idempotent
  AppendWake(j, LineEvent("a"));
  EXPECT_EQ(w->wakes.load(), 0);
  EXPECT_EQ(kept->wakes.load(), 1);
  // Cancelling a waiter that was never registered is harmless.
  CountingWaiter stranger;
  j.CancelWait(&stranger);
}

TEST(EventJournalTest, JournalKeepsAWaiterAliveAfterItsOwnerLetsGo) {
  EventJournal j(1, 8);
  auto w = std::make_shared<CountingWaiter>();
  std::weak_ptr<CountingWaiter> weak = w;
  ASSERT_TRUE(j.WaitFor(1, w));
  w.reset();
  EXPECT_FALSE(weak.expired());  // the journal holds a reference while registered
  AppendWake(j, LineEvent("a"));      // wakes it, then lets go
  EXPECT_TRUE(weak.expired());
}

TEST(EventJournalTest, WakeIsCalledWithoutTheJournalLock) {
  // Wake may call back into the journal (as EventStream::Pump does).
  class Reentrant : public EventJournal::Waiter {
   public:
    explicit Reentrant(EventJournal* j) : j_(j) {}
    void Wake() override {
      std::vector<EventPtr> out;
      j_->Read(j_->last_sequence(), 1, &out);
      seen = out.size();
      rearmed = j_->WaitFor(j_->last_sequence() + 1, self.lock());
    }
    EventJournal* j_;
    std::weak_ptr<Reentrant> self;
    size_t seen = 0;
    bool rearmed = false;
  };
  EventJournal j(1, 8);
  auto w = std::make_shared<Reentrant>(&j);
  w->self = w;
  ASSERT_TRUE(j.WaitFor(1, w));
  AppendWake(j, LineEvent("a"));
  EXPECT_EQ(w->seen, 1u);
  EXPECT_TRUE(w->rearmed);
  j.CancelWait(w.get());
}

// Mirrors EventStream's Waker: the owner detaches and cancels, then drops its
// reference while appending threads may still be waking it.
class DetachableWaiter : public EventJournal::Waiter {
 public:
  explicit DetachableWaiter(std::atomic<int>* target) : target_(target) {}
  void Wake() override {
    absl::MutexLock lock(&mu_);
    if (target_ != nullptr) target_->fetch_add(1);
  }
  void Detach() {
    absl::MutexLock lock(&mu_);
    target_ = nullptr;
  }

 private:
  absl::Mutex mu_;
  std::atomic<int>* target_ ABSL_GUARDED_BY(mu_);
};

TEST(EventJournalTest, CancelledWaiterDroppedByItsOwnerIsSafeUnderConcurrentAppends) {
  EventJournal j(1, 64);
  constexpr int kAppenders = 6;
  constexpr int kOwners = 3;
  constexpr int kRounds = 3000;
  std::atomic<bool> stop{false};
  std::atomic<uint64_t> appended{0};

  std::vector<std::thread> appenders;
  for (int t = 0; t < kAppenders; ++t) {
    appenders.emplace_back([&] {
      while (!stop.load(std::memory_order_relaxed)) {
        AppendWake(j, LineEvent("x"));
        appended.fetch_add(1, std::memory_order_relaxed);
      }
    });
  }

  std::atomic<int> total_wakes{0};
  std::vector<std::thread> owners;
  for (int t = 0; t < kOwners; ++t) {
    owners.emplace_back([&] {
      for (int i = 0; i < kRounds; ++i) {
        auto counter = std::make_unique<std::atomic<int>>(0);
        auto w = std::make_shared<DetachableWaiter>(counter.get());
        j.WaitFor(j.last_sequence() + 1, w);
        if (i % 2 == 0) std::this_thread::yield();
        // The owner goes away: detach, cancel, drop. An appender may be
        // inside Wake() right now; it must neither crash nor touch `counter`
        // after Detach returned.
        w->Detach();
        j.CancelWait(w.get());
        w.reset();
        total_wakes.fetch_add(counter->load());
        counter.reset();
      }
    });
  }
  for (auto& t : owners) t.join();
  stop.store(true);
  for (auto& t : appenders) t.join();

  EXPECT_GT(appended.load(), 0u);
  EXPECT_EQ(j.last_sequence(), appended.load());
  // Sequences are unique and dense even with concurrent appenders.
  std::vector<EventPtr> out;
  const uint64_t oldest = j.oldest_sequence();
  ASSERT_EQ(j.Read(oldest, 64, &out), EventJournal::ReadStatus::kOk);
  for (size_t i = 0; i < out.size(); ++i) EXPECT_EQ(out[i]->sequence(), oldest + i);
}

TEST(EventJournalTest, ConcurrentAppendsEachWakeRegisteredWaitersExactlyOnce) {
  EventJournal j(1, 1024);
  constexpr int kWaiters = 8;
  std::vector<std::shared_ptr<CountingWaiter>> ws;
  for (int i = 0; i < kWaiters; ++i) {
    ws.push_back(std::make_shared<CountingWaiter>());
    ASSERT_TRUE(j.WaitFor(1, ws.back()));
  }
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 100; ++i) AppendWake(j, LineEvent("x"));
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(j.last_sequence(), 400u);
  for (const auto& w : ws) EXPECT_EQ(w->wakes.load(), 1);
}

TEST(EventJournalTest, WakesAreDeliveredOnlyByDeliverWakes) {
  EventJournal j(1, 8);
  auto w = std::make_shared<CountingWaiter>();
  ASSERT_TRUE(j.WaitFor(1, w));
  j.Append(LineEvent("a"));
  EXPECT_EQ(w->wakes.load(), 0);  // the appender still holds its locks
  j.DeliverWakes();
  EXPECT_EQ(w->wakes.load(), 1);
  j.DeliverWakes();
  EXPECT_EQ(w->wakes.load(), 1);
}

TEST(EventJournalTest, FilteredWaitersWakeForTheirLinesAndServerWideEvents) {
  EventJournal j(1, 1024);
  auto mine = std::make_shared<CountingWaiter>();
  auto all = std::make_shared<CountingWaiter>();
  const std::set<std::string> lines = {"sim/101", "sim/102"};
  ASSERT_TRUE(j.WaitFor(1, mine, &lines));
  ASSERT_TRUE(j.WaitFor(1, all));
  AppendWake(j, LineEvent("sim/100"));
  EXPECT_EQ(mine->wakes.load(), 0);
  EXPECT_EQ(all->wakes.load(), 1);
  AppendWake(j, LineEvent("sim/102"));
  EXPECT_EQ(mine->wakes.load(), 1);
  // Registered under two lines, woken once; the stale entry is ignored.
  AppendWake(j, LineEvent("sim/101"));
  EXPECT_EQ(mine->wakes.load(), 1);
  ASSERT_TRUE(j.WaitFor(4, mine, &lines));
  AppendWake(j, LineEvent(""));  // server-wide
  EXPECT_EQ(mine->wakes.load(), 2);
}

TEST(EventJournalTest, FilteredWaitersAreMovedAlongBeforeTheRingOvertakesThem) {
  EventJournal j(1, 16);
  auto mine = std::make_shared<CountingWaiter>();
  const std::set<std::string> lines = {"quiet"};
  ASSERT_TRUE(j.WaitFor(1, mine, &lines));
  for (int i = 0; i < 4; ++i) AppendWake(j, LineEvent("busy"));  // capacity/4 events
  EXPECT_EQ(mine->wakes.load(), 1);
}

TEST(EventJournalTest, WaitForSequenceWakesAtThatSequence) {
  EventJournal j(1, 64);
  auto w = std::make_shared<CountingWaiter>();
  j.WaitForSequence(3, w);
  AppendWake(j, LineEvent("a"));
  AppendWake(j, LineEvent("a"));
  EXPECT_EQ(w->wakes.load(), 0);
  AppendWake(j, LineEvent("a"));
  EXPECT_EQ(w->wakes.load(), 1);
  // Re-registering replaces the earlier registration.
  j.WaitForSequence(10, w);
  ASSERT_TRUE(j.WaitFor(4, w));
  AppendWake(j, LineEvent("a"));
  EXPECT_EQ(w->wakes.load(), 2);
  for (int i = 0; i < 10; ++i) AppendWake(j, LineEvent("a"));
  EXPECT_EQ(w->wakes.load(), 2);
}

// Sequences of the events Read returns from `from`.
std::vector<uint64_t> ReadSeqs(const EventJournal& j, uint64_t from) {
  std::vector<EventPtr> out;
  EXPECT_EQ(j.Read(from, 1000, &out), EventJournal::ReadStatus::kOk);
  std::vector<uint64_t> seqs;
  for (const auto& e : out) seqs.push_back(e->sequence());
  return seqs;
}

TEST(EventJournalTest, AFenceHoldsBackWhatIsAppendedAfterIt) {
  EventJournal j(1, 64);
  AppendWake(j, LineEvent("a"));
  const uint64_t fence = j.Fence();
  auto w = std::make_shared<CountingWaiter>();
  ASSERT_TRUE(j.WaitFor(2, w));
  EXPECT_EQ(AppendWake(j, LineEvent("a")), 2u);
  EXPECT_EQ(AppendWake(j, LineEvent("b")), 3u);
  EXPECT_EQ(j.last_sequence(), 3u);
  EXPECT_EQ(j.visible_sequence(), 1u);
  EXPECT_EQ(ReadSeqs(j, 1), std::vector<uint64_t>{1});
  EXPECT_EQ(w->wakes.load(), 0);
  EXPECT_TRUE(j.WaitFor(2, w));  // nothing to read yet: registers again
  j.Release(fence);
  EXPECT_EQ(w->wakes.load(), 0);  // woken by DeliverWakes, as for appends
  j.DeliverWakes();
  EXPECT_EQ(w->wakes.load(), 1);
  EXPECT_EQ(j.visible_sequence(), 3u);
  EXPECT_EQ(ReadSeqs(j, 2), (std::vector<uint64_t>{2, 3}));
  EXPECT_FALSE(j.WaitFor(2, w));
  EXPECT_EQ(j.open_fences(), 0u);
  // Appends after the release are visible at once.
  AppendWake(j, LineEvent("a"));
  EXPECT_EQ(j.visible_sequence(), 4u);
}

TEST(EventJournalTest, TheOldestOpenFenceDecidesWhatIsVisible) {
  EventJournal j(1, 64);
  const uint64_t first = j.Fence();
  AppendWake(j, LineEvent("a"));  // 1: held by first
  const uint64_t second = j.Fence();
  AppendWake(j, LineEvent("a"));  // 2: held by both
  j.Release(second);             // released out of order
  EXPECT_EQ(j.visible_sequence(), 0u);
  EXPECT_TRUE(ReadSeqs(j, 1).empty());
  j.Release(second);  // twice: nothing
  j.Release(12345);   // unknown: nothing
  EXPECT_EQ(j.open_fences(), 1u);
  const uint64_t third = j.Fence();
  AppendWake(j, LineEvent("a"));  // 3: held by first and third
  j.Release(first);
  EXPECT_EQ(j.visible_sequence(), 2u);  // up to the third fence
  EXPECT_EQ(ReadSeqs(j, 1), (std::vector<uint64_t>{1, 2}));
  j.Release(third);
  EXPECT_EQ(ReadSeqs(j, 1), (std::vector<uint64_t>{1, 2, 3}));
}

TEST(EventJournalTest, ReleasedEventsWakeTheWaitersTheyConcern) {
  EventJournal j(1, 1024);
  auto on_b = std::make_shared<CountingWaiter>();
  auto on_c = std::make_shared<CountingWaiter>();
  const std::set<std::string> b = {"b"};
  const std::set<std::string> c = {"c"};
  ASSERT_TRUE(j.WaitFor(1, on_b, &b));
  ASSERT_TRUE(j.WaitFor(1, on_c, &c));
  const uint64_t fence = j.Fence();
  AppendWake(j, LineEvent("a"));
  AppendWake(j, LineEvent("b"));
  EXPECT_EQ(on_b->wakes.load(), 0);
  j.Release(fence);
  j.DeliverWakes();
  EXPECT_EQ(on_b->wakes.load(), 1);
  EXPECT_EQ(on_c->wakes.load(), 0);
}

TEST(EventJournalTest, WaitForSequenceCountsHeldEvents) {
  // A subscriber's lag watch (WaitForSequence) sees appends, held or not.
  EventJournal j(1, 64);
  auto w = std::make_shared<CountingWaiter>();
  j.WaitForSequence(2, w);
  j.Fence();
  AppendWake(j, LineEvent("a"));
  AppendWake(j, LineEvent("a"));
  EXPECT_EQ(w->wakes.load(), 1);
}

TEST(EventJournalTest, FencesReleasedFromOtherThreadsLoseNoWake) {
  EventJournal j(1, 1 << 16);
  constexpr int kFences = 2000;
  auto w = std::make_shared<CountingWaiter>();
  uint64_t read_to = 0;
  std::thread releaser;
  {
    std::vector<uint64_t> ids;
    for (int i = 0; i < kFences; ++i) {
      ids.push_back(j.Fence());
      AppendWake(j, LineEvent(absl::StrCat("l", i % 7)));
    }
    releaser = std::thread([&j, ids] {
      for (auto it = ids.rbegin(); it != ids.rend(); ++it) {  // newest first
        j.Release(*it);
        j.DeliverWakes();
      }
    });
  }
  // A reader that sleeps whenever it has read all it can: it must be woken
  // until it has read every event.
  while (read_to < static_cast<uint64_t>(kFences)) {
    std::vector<EventPtr> out;
    ASSERT_EQ(j.Read(read_to + 1, 1000, &out), EventJournal::ReadStatus::kOk);
    read_to += out.size();
    if (out.empty()) {
      const int before = w->wakes.load();
      if (j.WaitFor(read_to + 1, w)) {
        while (w->wakes.load() == before) std::this_thread::yield();
      }
    }
  }
  releaser.join();
  EXPECT_EQ(read_to, static_cast<uint64_t>(kFences));
  EXPECT_EQ(j.open_fences(), 0u);
}

TEST(EventJournalTest, ReRegisteringBySequenceKeepsOneEntryPerWaiter) {
  EventJournal j(1, 16);
  auto w = std::make_shared<CountingWaiter>();
  // A stream re-registers with every write; the journal holds one reference.
  for (uint64_t s = 10; s < 1010; ++s) j.WaitForSequence(s, w);
  EXPECT_EQ(w.use_count(), 2);
  // Registering by line drops the by-sequence entry too.
  std::set<std::string> lines = {"a"};
  ASSERT_TRUE(j.WaitFor(1, w, &lines));
  j.WaitForSequence(3, w);  // replaces the line registration
  for (int i = 0; i < 3; ++i) AppendWake(j, LineEvent("b"));
  EXPECT_EQ(w->wakes.load(), 1);  // once, at sequence 3
  j.WaitForSequence(100, w);
  j.CancelWait(w.get());
  EXPECT_EQ(w.use_count(), 1);
  for (int i = 0; i < 200; ++i) AppendWake(j, LineEvent("b"));
  EXPECT_EQ(w->wakes.load(), 1);
}

// ---------------------------------------------------------------------------
// The encoding made once at append.

// What EventBatch serialization writes for a batch holding just `ev`.
std::string ReferenceField(const v1::Event& ev) {
  v1::EventBatch batch;
  *batch.add_events() = ev;
  return batch.SerializeAsString();
}

v1::Event CallEvent(const std::string& line, const std::string& call) {
  v1::Event ev;
  ev.set_line_id(line);
  auto* st = ev.mutable_call_state();
  st->set_call_id(call);
  st->mutable_status()->set_state(v1::CALL_STATE_CONNECTED);
  return ev;
}

TEST(EventJournalEncodingTest, WireIsTheEventBatchFieldOfTheStoredEvent) {
  // Sequences and epochs of every varint length, and events of several kinds.
  for (uint64_t epoch : {uint64_t{1}, uint64_t{300}, uint64_t{1} << 40}) {
    EventJournal j(epoch, 512);
    for (int i = 0; i < 400; ++i) {
      v1::Event ev = i % 3 == 0 ? LineEvent(absl::StrCat("sim/", i))
                                : CallEvent(absl::StrCat("sim/", i), std::string(i, 'c'));
      if (i % 2 == 0) ev.mutable_time()->set_seconds(1700000000 + i);  // else stamped by Append
      j.Append(std::move(ev));
    }
    size_t visited = 0;
    int checked = 0;
    ASSERT_EQ(j.Visit(
                  1, 1000,
                  [&](const JournalEntry& e) {
                    EXPECT_EQ(e.wire, ReferenceField(e.event)) << "sequence " << e.event.sequence();
                    EXPECT_EQ(e.wire, EncodeEventField(e.event));
                    ++checked;
                  },
                  &visited),
              EventJournal::ReadStatus::kOk);
    EXPECT_EQ(visited, 400u);
    EXPECT_EQ(checked, 400);
  }
}

TEST(EventJournalEncodingTest, ConsecutiveEventsLieSideBySideInSharedChunks) {
  EventJournal j(4, 4096);
  for (int i = 0; i < 3000; ++i) j.Append(CallEvent("sim/1", absl::StrCat("c", i)));
  // One larger than a chunk gets one of its own; the next ones a new one.
  j.Append(CallEvent("sim/1", std::string(WireChunk::kDefaultCapacity + 10, 'x')));
  for (int i = 0; i < 10; ++i) j.Append(CallEvent("sim/1", absl::StrCat("d", i)));
  const WireChunk* chunk = nullptr;
  const char* end = nullptr;
  int chunks = 0, checked = 0;
  size_t visited = 0;
  ASSERT_EQ(j.Visit(
                1, 5000,
                [&](const JournalEntry& e) {
                  ASSERT_TRUE(e.chunk);
                  EXPECT_EQ(e.wire, ReferenceField(e.event));
                  if (e.chunk.get() != chunk) {
                    ++chunks;
                    chunk = e.chunk.get();
                  } else {
                    EXPECT_EQ(e.wire.data(), end) << "sequence " << e.event.sequence();
                  }
                  end = e.wire.data() + e.wire.size();
                  EXPECT_LE(chunk->used(), chunk->capacity());
                  ++checked;
                },
                &visited),
            EventJournal::ReadStatus::kOk);
  EXPECT_EQ(checked, 3011);
  // ~3000 x ~40 bytes: two or three 64 KiB chunks, then the large one, then one more.
  EXPECT_GE(chunks, 4);
  EXPECT_LE(chunks, 6);
}

TEST(EventJournalEncodingTest, AChunkLivesWhileAnEntryOrAReaderHoldsIt) {
  EventJournal j(1, 16);
  j.Append(CallEvent("sim/1", "first"));
  WireChunkRef held;
  size_t visited = 0;
  j.Visit(1, 1, [&](const JournalEntry& e) { held = e.chunk; }, &visited);
  ASSERT_TRUE(held);
  EXPECT_GE(held->refs_for_test(), 2u);  // the journal's entry (and its cursor) and ours
  // Enough events to fill the chunk many times over and wrap the ring.
  for (int i = 0; i < 5000; ++i) j.Append(CallEvent("sim/1", std::string(100, 'y')));
  EXPECT_EQ(held->refs_for_test(), 1u);  // only ours: every entry on it is gone
  std::vector<EventPtr> out;
  EXPECT_EQ(j.Read(1, 1, &out), EventJournal::ReadStatus::kGap);
}

TEST(EventJournalEncodingTest, WireParsesBackToTheEvent) {
  EventJournal j(9, 8);
  j.Append(CallEvent("sim/100", "c1"));
  std::vector<EventPtr> out;
  ASSERT_EQ(j.Read(1, 1, &out), EventJournal::ReadStatus::kOk);
  v1::EventBatch batch;
  size_t visited = 0;
  j.Visit(
      1, 1, [&](const JournalEntry& e) { ASSERT_TRUE(batch.ParseFromString(std::string(e.wire))); },
      &visited);
  ASSERT_EQ(batch.events_size(), 1);
  EXPECT_EQ(batch.events(0).SerializeAsString(), out[0]->SerializeAsString());
  EXPECT_EQ(batch.events(0).epoch(), 9u);
  EXPECT_EQ(batch.events(0).sequence(), 1u);
  EXPECT_EQ(batch.events(0).call_state().call_id(), "c1");
}

TEST(EventJournalVisitTest, VisitsInOrderWithMaxAndReportsGapsLikeRead) {
  EventJournal j(1, 4);
  for (int i = 0; i < 6; ++i) j.Append(LineEvent(absl::StrCat("l", i)));  // keeps 3..6
  std::vector<uint64_t> seen;
  size_t visited = 99;
  EXPECT_EQ(j.Visit(
                2, 10, [&](const JournalEntry& e) { seen.push_back(e.event.sequence()); },
                &visited),
            EventJournal::ReadStatus::kGap);
  EXPECT_EQ(visited, 0u);
  EXPECT_TRUE(seen.empty());
  std::vector<EventPtr> read;
  EXPECT_EQ(j.Read(2, 10, &read), EventJournal::ReadStatus::kGap);

  EXPECT_EQ(j.Visit(
                3, 2, [&](const JournalEntry& e) { seen.push_back(e.event.sequence()); },
                &visited),
            EventJournal::ReadStatus::kOk);
  EXPECT_EQ(visited, 2u);
  EXPECT_EQ(seen, (std::vector<uint64_t>{3, 4}));
  seen.clear();
  EXPECT_EQ(j.Visit(
                5, 10, [&](const JournalEntry& e) { seen.push_back(e.event.sequence()); },
                &visited),
            EventJournal::ReadStatus::kOk);
  EXPECT_EQ(seen, (std::vector<uint64_t>{5, 6}));
  EXPECT_EQ(j.Visit(
                7, 10, [&](const JournalEntry&) { ADD_FAILURE() << "nothing past the end"; },
                &visited),
            EventJournal::ReadStatus::kOk);
  EXPECT_EQ(visited, 0u);
}

TEST(EventJournalVisitTest, ReadAndVisitShareOneStoredEvent) {
  EventJournal j(1, 4);
  j.Append(LineEvent("a"));
  std::vector<EventPtr> out;
  j.Read(1, 1, &out);
  const v1::Event* visited_event = nullptr;
  size_t n = 0;
  j.Visit(1, 1, [&](const JournalEntry& e) { visited_event = &e.event; }, &n);
  EXPECT_EQ(out[0].get(), visited_event);
  // A read event outlives its slot in the ring.
  for (int i = 0; i < 8; ++i) j.Append(LineEvent("b"));
  EXPECT_EQ(out[0]->line_id(), "a");
  EXPECT_EQ(out[0]->sequence(), 1u);
}

// Readers visiting while appends overwrite the ring see whole, consistent
// entries in order (run under ASan/TSan-like checks in the asan build).
TEST(EventJournalVisitTest, ConcurrentVisitsDuringAppendsSeeConsistentEntries) {
  EventJournal j(3, 64);
  std::atomic<bool> stop{false};
  std::atomic<int> bad{0};
  std::vector<std::thread> readers;
  for (int r = 0; r < 3; ++r) {
    readers.emplace_back([&] {
      uint64_t next = 1;
      while (!stop.load()) {
        size_t n = 0;
        uint64_t expect = next;
        auto status = j.Visit(
            next, 16,
            [&](const JournalEntry& e) {
              if (e.event.sequence() != expect++ || e.wire != ReferenceField(e.event)) ++bad;
            },
            &n);
        if (status == EventJournal::ReadStatus::kGap) {
          next = j.oldest_sequence();
        } else {
          next += n;
        }
      }
    });
  }
  for (int i = 0; i < 20000; ++i) j.Append(CallEvent("sim/1", absl::StrCat("c", i)));
  stop = true;
  for (auto& t : readers) t.join();
  EXPECT_EQ(bad.load(), 0);
}

}  // namespace
}  // namespace linebridge
