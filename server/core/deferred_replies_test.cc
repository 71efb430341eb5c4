#include "core/deferred_replies.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <functional>
#include <thread>
#include <vector>

#include "absl/synchronization/mutex.h"

namespace linebridge {
namespace {

// `post` that keeps the closures for the test to run (or drop).
struct Posted {
  std::vector<std::function<void()>> closures;
  DeferredReplies::Post post() {
    return [this](std::function<void()> fn) { closures.push_back(std::move(fn)); };
  }
  void RunAll() {
    auto run = std::move(closures);
    closures.clear();
    for (auto& fn : run) fn();
  }
};

// A deferral as a served request leaves it: marked, then taken by the service.
uint64_t Deferred(DeferredReplies& r, absl::Status if_late = absl::OkStatus()) {
  const uint64_t token = r.Defer(std::move(if_late));
  DeferredReplies::TakeCurrent();
  return token;
}

TEST(DeferredRepliesTest, TheMarkBelongsToTheRequestsThreadAndIsTakenOnce) {
  Posted posted;
  DeferredReplies r(posted.post());
  EXPECT_EQ(DeferredReplies::TakeCurrent(), 0u);
  const uint64_t token = r.Defer(absl::OkStatus());
  EXPECT_NE(token, 0u);
  EXPECT_EQ(r.Defer(absl::OkStatus()), token);  // one per request
  uint64_t other = 1;
  std::thread([&] { other = DeferredReplies::TakeCurrent(); }).join();
  EXPECT_EQ(other, 0u);
  EXPECT_EQ(DeferredReplies::TakeCurrent(), token);
  EXPECT_EQ(DeferredReplies::TakeCurrent(), 0u);
  EXPECT_NE(r.Defer(absl::OkStatus()), token);  // the next request's
  DeferredReplies::TakeCurrent();
}

TEST(DeferredRepliesTest, AnOutcomeAfterTheAwaitIsAnsweredThroughPost) {
  Posted posted;
  DeferredReplies r(posted.post());
  const uint64_t token = Deferred(r);
  std::vector<absl::Status> answers;
  r.Await(token, [&](absl::Status s) { answers.push_back(s); });
  EXPECT_TRUE(answers.empty());
  r.Complete(token, absl::AbortedError("busy"));
  EXPECT_TRUE(answers.empty());  // never on the completing thread
  r.Complete(token, absl::OkStatus());  // later outcomes are ignored
  posted.RunAll();
  ASSERT_EQ(answers.size(), 1u);
  EXPECT_EQ(answers[0].code(), absl::StatusCode::kAborted);
  EXPECT_EQ(r.pending(), 0u);
  posted.RunAll();
  EXPECT_EQ(answers.size(), 1u);
}

TEST(DeferredRepliesTest, AnOutcomeBeforeTheAwaitIsAnsweredAtOnce) {
  Posted posted;
  DeferredReplies r(posted.post());
  const uint64_t token = Deferred(r);
  r.Complete(token, absl::OkStatus());
  EXPECT_TRUE(posted.closures.empty());
  bool answered = false;
  r.Await(token, [&](absl::Status s) { answered = s.ok(); });
  EXPECT_TRUE(answered);
  EXPECT_EQ(r.pending(), 0u);
}

TEST(DeferredRepliesTest, TheClientsDeadlineGetsTheLateAnswerAndTheOutcomeIsIgnored) {
  Posted posted;
  DeferredReplies r(posted.post());
  const uint64_t token = Deferred(r, absl::UnavailableError("no answer yet"));
  std::vector<absl::Status> answers;
  r.Await(token, [&](absl::Status s) { answers.push_back(s); });
  r.AnswerLate(token);
  r.Complete(token, absl::OkStatus());  // the outcome, too late
  posted.RunAll();
  ASSERT_EQ(answers.size(), 1u);
  EXPECT_EQ(answers[0].code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(answers[0].message(), "no answer yet");
  EXPECT_EQ(r.pending(), 0u);
}

TEST(DeferredRepliesTest, AnOutcomeBeforeTheClientsDeadlineWins) {
  Posted posted;
  DeferredReplies r(posted.post());
  const uint64_t token = Deferred(r);
  std::vector<absl::Status> answers;
  r.Await(token, [&](absl::Status s) { answers.push_back(s); });
  r.Complete(token, absl::AbortedError("busy"));
  r.AnswerLate(token);  // the deadline timer, after the outcome
  posted.RunAll();
  r.AnswerLate(token);  // and after the answer
  posted.RunAll();
  ASSERT_EQ(answers.size(), 1u);
  EXPECT_EQ(answers[0].code(), absl::StatusCode::kAborted);
}

TEST(DeferredRepliesTest, ForgottenAndUnknownTokensAnswerNothing) {
  Posted posted;
  DeferredReplies r(posted.post());
  const uint64_t token = Deferred(r);
  r.Forget(token);
  r.Complete(token, absl::OkStatus());
  bool answered = false;
  r.Await(token, [&](absl::Status) { answered = true; });
  r.Await(12345, [&](absl::Status) { answered = true; });
  posted.RunAll();
  EXPECT_FALSE(answered);
  EXPECT_EQ(r.pending(), 0u);
}

TEST(DeferredRepliesTest, ShutdownAnswersEveryReplyEvenADroppedDelivery) {
  Posted posted;
  DeferredReplies r(posted.post());
  const uint64_t waiting = Deferred(r);
  const uint64_t delivered = Deferred(r);
  const uint64_t not_awaited = Deferred(r);
  std::vector<absl::StatusCode> answers;
  r.Await(waiting, [&](absl::Status s) { answers.push_back(s.code()); });
  r.Await(delivered, [&](absl::Status s) { answers.push_back(s.code()); });
  r.Complete(delivered, absl::OkStatus());
  posted.closures.clear();  // the timer thread stopped before running it
  r.CompleteAll(absl::UnavailableError("shutting down"));
  ASSERT_EQ(answers.size(), 2u);
  std::sort(answers.begin(), answers.end());
  EXPECT_EQ(answers[0], absl::StatusCode::kOk);
  EXPECT_EQ(answers[1], absl::StatusCode::kUnavailable);
  // A request still on its way to Await gets the shutdown at once.
  absl::StatusCode late = absl::StatusCode::kOk;
  r.Await(not_awaited, [&](absl::Status s) { late = s.code(); });
  EXPECT_EQ(late, absl::StatusCode::kUnavailable);
  EXPECT_EQ(r.pending(), 0u);
}

// Completions racing the awaits from other threads: each reply answered
// exactly once.
TEST(DeferredRepliesTest, RacingCompletionsAnswerEachReplyOnce) {
  absl::Mutex mu;
  std::vector<std::function<void()>> queue;
  DeferredReplies r([&](std::function<void()> fn) {
    absl::MutexLock lock(&mu);
    queue.push_back(std::move(fn));
  });
  constexpr int kReplies = 2000;
  std::vector<uint64_t> tokens;
  for (int i = 0; i < kReplies; ++i) {
    tokens.push_back(Deferred(r));
  }
  std::vector<int> answered(kReplies, 0);
  std::thread completer([&] {
    for (int i = kReplies - 1; i >= 0; --i) r.Complete(tokens[i], absl::OkStatus());
  });
  for (int i = 0; i < kReplies; ++i) {
    r.Await(tokens[i], [&answered, i](absl::Status) { ++answered[i]; });
  }
  completer.join();
  std::vector<std::function<void()>> run;
  {
    absl::MutexLock lock(&mu);
    run.swap(queue);
  }
  for (auto& fn : run) fn();
  for (int i = 0; i < kReplies; ++i) EXPECT_EQ(answered[i], 1) << i;
  EXPECT_EQ(r.pending(), 0u);
}

}  // namespace
}  // namespace linebridge
