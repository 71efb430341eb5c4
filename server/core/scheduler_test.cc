#include "core/scheduler.h"

#include <gtest/gtest.h>

#include <atomic>
#include <functional>
#include <memory>
#include <thread>
#include <vector>

#include "absl/synchronization/blocking_counter.h"
#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "absl/time/time.h"
#include "linebridge/deadline.h"

namespace linebridge {
namespace {

constexpr absl::Duration kWait = absl::Milliseconds(200);

// Records the order closures ran in.
class Recorder {
 public:
  void Add(int v) {
    absl::MutexLock lock(&mu_);
    order_.push_back(v);
  }
  std::vector<int> order() {
    absl::MutexLock lock(&mu_);
    return order_;
  }

 private:
  absl::Mutex mu_;
  std::vector<int> order_;
};

// Occupies the scheduler thread until released, so timers scheduled meanwhile
// are all due together when it returns.
struct Gate {
  absl::Notification entered;
  absl::Notification release;
  void Block(Scheduler& s) {
    s.Schedule(absl::ZeroDuration(), [this] {
      entered.Notify();
      release.WaitForNotificationWithTimeout(kWait);
    });
    ASSERT_TRUE(entered.WaitForNotificationWithTimeout(kWait));
  }
};

TEST(SchedulerTest, IdsAreNonZeroAndDistinct) {
  Scheduler s;
  const auto a = s.Schedule(absl::Hours(1), [] {});
  const auto b = s.Schedule(absl::Hours(1), [] {});
  EXPECT_NE(a, 0u);
  EXPECT_NE(b, 0u);
  EXPECT_NE(a, b);
  EXPECT_EQ(s.pending(), 2u);
}

TEST(SchedulerTest, RunsInDeadlineOrder) {
  Scheduler s;
  Recorder rec;
  absl::BlockingCounter done(4);
  auto add = [&](int v) {
    return [&rec, &done, v] {
      rec.Add(v);
      done.DecrementCount();
    };
  };
  s.Schedule(absl::Milliseconds(60), add(60));
  s.Schedule(absl::Milliseconds(20), add(20));
  s.Schedule(absl::Milliseconds(40), add(40));
  s.Schedule(absl::ZeroDuration(), add(0));
  done.Wait();
  EXPECT_EQ(rec.order(), (std::vector<int>{0, 20, 40, 60}));
  EXPECT_EQ(s.pending(), 0u);
}

TEST(SchedulerTest, LaterDeadlineQueuedFirstStillRunsLater) {
  Scheduler s;
  Recorder rec;
  absl::BlockingCounter done(2);
  Gate gate;
  gate.Block(s);
  s.Schedule(absl::Milliseconds(30), [&] { rec.Add(2); done.DecrementCount(); });
  s.Schedule(absl::ZeroDuration(), [&] { rec.Add(1); done.DecrementCount(); });
  gate.release.Notify();
  done.Wait();
  EXPECT_EQ(rec.order(), (std::vector<int>{1, 2}));
}

TEST(SchedulerTest, DueTimersRunInScheduleOrder) {
  Scheduler s;
  Recorder rec;
  constexpr int kN = 20;
  absl::BlockingCounter done(kN);
  Gate gate;
  gate.Block(s);
  // All due by the time the gate opens; equal (or near-equal) deadlines keep
  // the order they were scheduled in. Negative delays count as zero.
  for (int i = 0; i < kN; ++i) {
    s.Schedule(i % 2 == 0 ? absl::ZeroDuration() : -absl::Seconds(1), [&rec, &done, i] {
      rec.Add(i);
      done.DecrementCount();
    });
  }
  EXPECT_EQ(s.pending(), static_cast<size_t>(kN));
  gate.release.Notify();
  done.Wait();
  std::vector<int> want;
  for (int i = 0; i < kN; ++i) want.push_back(i);
  EXPECT_EQ(rec.order(), want);
}

TEST(SchedulerTest, CancelBeforeRunPreventsIt) {
  Scheduler s;
  std::atomic<bool> ran{false};
  Gate gate;
  gate.Block(s);
  const auto id = s.Schedule(absl::ZeroDuration(), [&] { ran = true; });
  EXPECT_EQ(s.pending(), 1u);
  EXPECT_TRUE(s.Cancel(id));
  EXPECT_EQ(s.pending(), 0u);
  EXPECT_FALSE(s.Cancel(id));  // already cancelled
  absl::Notification sentinel;
  s.Schedule(absl::ZeroDuration(), [&] { sentinel.Notify(); });
  gate.release.Notify();
  ASSERT_TRUE(sentinel.WaitForNotificationWithTimeout(kWait));
  EXPECT_FALSE(ran.load());
}

TEST(SchedulerTest, CancelOfAFutureTimer) {
  Scheduler s;
  std::atomic<bool> ran{false};
  const auto id = s.Schedule(absl::Milliseconds(20), [&] { ran = true; });
  EXPECT_TRUE(s.Cancel(id));
  absl::Notification sentinel;
  s.Schedule(absl::Milliseconds(40), [&] { sentinel.Notify(); });
  ASSERT_TRUE(sentinel.WaitForNotificationWithTimeout(kWait));
  EXPECT_FALSE(ran.load());
}

TEST(SchedulerTest, CancelAfterRunReturnsFalse) {
  Scheduler s;
  absl::Notification ran;
  const auto id = s.Schedule(absl::ZeroDuration(), [&] { ran.Notify(); });
  ASSERT_TRUE(ran.WaitForNotificationWithTimeout(kWait));
  EXPECT_FALSE(s.Cancel(id));
  EXPECT_FALSE(s.Cancel(0));
  EXPECT_FALSE(s.Cancel(987654));
}

TEST(SchedulerTest, CancelWhileRunningReturnsFalseAndDoesNotWait) {
  Scheduler s;
  absl::Notification entered, release, finished;
  Scheduler::TimerId id = s.Schedule(absl::ZeroDuration(), [&] {
    entered.Notify();
    release.WaitForNotificationWithTimeout(kWait);
    finished.Notify();
  });
  ASSERT_TRUE(entered.WaitForNotificationWithTimeout(kWait));
  EXPECT_FALSE(s.Cancel(id));         // running: not pending any more
  EXPECT_FALSE(finished.HasBeenNotified());  // Cancel did not wait for it
  release.Notify();
  ASSERT_TRUE(finished.WaitForNotificationWithTimeout(kWait));
}

TEST(SchedulerTest, TimerCanScheduleAndCancelTimers) {
  Scheduler s;
  absl::Notification inner_ran;
  std::atomic<bool> victim_ran{false};
  std::atomic<bool> cancelled{false};
  const auto victim = s.Schedule(absl::Milliseconds(30), [&] { victim_ran = true; });
  s.Schedule(absl::ZeroDuration(), [&] {
    cancelled = s.Cancel(victim);
    s.Schedule(absl::Milliseconds(5), [&] { inner_ran.Notify(); });
  });
  ASSERT_TRUE(inner_ran.WaitForNotificationWithTimeout(kWait));
  EXPECT_TRUE(cancelled.load());
  EXPECT_FALSE(victim_ran.load());
}

TEST(SchedulerTest, ChainOfTimers) {
  Scheduler s;
  absl::BlockingCounter done(1);
  std::atomic<int> hops{0};
  std::function<void()> hop = [&] {
    if (hops.fetch_add(1) + 1 < 10) {
      s.Schedule(absl::ZeroDuration(), hop);
    } else {
      done.DecrementCount();
    }
  };
  s.Schedule(absl::ZeroDuration(), hop);
  done.Wait();
  EXPECT_EQ(hops.load(), 10);
}

TEST(SchedulerTest, StopDropsPendingTimersAndJoins) {
  Scheduler s;
  std::atomic<int> ran{0};
  for (int i = 0; i < 5; ++i) s.Schedule(absl::Hours(1), [&] { ran++; });
  EXPECT_EQ(s.pending(), 5u);
  const absl::Time before = absl::Now();
  s.Stop();
  EXPECT_LT(MonotonicNow() - before, kWait);  // did not wait for the deadlines
  EXPECT_EQ(s.pending(), 0u);
  EXPECT_EQ(ran.load(), 0);
  // After Stop nothing is accepted.
  EXPECT_EQ(s.Schedule(absl::ZeroDuration(), [&] { ran++; }), 0u);
  EXPECT_EQ(s.pending(), 0u);
  s.Stop();  // idempotent
  EXPECT_EQ(ran.load(), 0);
}

TEST(SchedulerTest, StopWaitsForTheRunningTimerAndDropsTheRest) {
  Scheduler s;
  absl::Notification entered, never;
  std::atomic<bool> finished{false};
  std::atomic<bool> queued_ran{false};
  s.Schedule(absl::ZeroDuration(), [&] {
    entered.Notify();
    never.WaitForNotificationWithTimeout(absl::Milliseconds(100));
    finished = true;
  });
  ASSERT_TRUE(entered.WaitForNotificationWithTimeout(kWait));
  s.Schedule(absl::ZeroDuration(), [&] { queued_ran = true; });  // due, but behind
  s.Stop();  // joins: returns only after the running closure is done
  EXPECT_TRUE(finished.load());
  EXPECT_FALSE(queued_ran.load());
  EXPECT_EQ(s.pending(), 0u);
}

TEST(SchedulerTest, StopFromInsideATimerDoesNotDeadlock) {
  auto s = std::make_unique<Scheduler>();
  absl::Notification stopped;
  std::atomic<bool> later_ran{false};
  s->Schedule(absl::ZeroDuration(), [&] {
    s->Schedule(absl::ZeroDuration(), [&] { later_ran = true; });
    s->Stop();
    stopped.Notify();
  });
  ASSERT_TRUE(stopped.WaitForNotificationWithTimeout(kWait));
  s.reset();  // joins the thread
  EXPECT_FALSE(later_ran.load());
}

TEST(SchedulerTest, DestructorCancelsPendingTimers) {
  std::atomic<bool> ran{false};
  {
    Scheduler s;
    s.Schedule(absl::Milliseconds(50), [&] { ran = true; });
  }
  EXPECT_FALSE(ran.load());
}

TEST(SchedulerTest, ManyThreadsScheduleAndCancel) {
  Scheduler s;
  constexpr int kThreads = 4;
  constexpr int kPerThread = 200;
  std::atomic<int> ran{0};
  std::atomic<int> cancelled{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < kPerThread; ++i) {
        const auto id = s.Schedule(absl::Microseconds(i % 7), [&] { ran++; });
        if (i % 3 == 0 && s.Cancel(id)) cancelled++;
      }
    });
  }
  for (auto& t : threads) t.join();
  absl::Notification drained;
  s.Schedule(absl::Milliseconds(10), [&] { drained.Notify(); });
  ASSERT_TRUE(drained.WaitForNotificationWithTimeout(kWait));
  EXPECT_EQ(ran.load() + cancelled.load(), kThreads * kPerThread);
  EXPECT_EQ(s.pending(), 0u);
}

}  // namespace
}  // namespace linebridge
