// Call completion on the simulated PBX (lineCompleteCall / lineUncompleteCall,
// CALLBACK), driven through the engine as a client would: no waiting except
// for what the switch does by itself (the callback it offers).
#include "providers/sim/sim_provider.h"
#include "providers/sim/sim_test_util.h"
#include "linebridge/deadline.h"

namespace linebridge::testing {
namespace {

using S = v1::CallState;

class SimCompletionTest : public SimFixture {
 protected:
  absl::StatusOr<v1::CompleteCallResponse> Complete(
      const std::string& call_id, v1::CompletionMode mode = v1::COMPLETION_MODE_CALLBACK,
      uint32_t message_id = 0) {
    v1::CompleteCallRequest req;
    req.set_call_id(call_id);
    req.set_mode(mode);
    req.set_message_id(message_id);
    return engine_->CompleteCall(req);
  }
  absl::StatusOr<v1::UncompleteCallResponse> Uncomplete(const std::string& ext, uint32_t id) {
    v1::UncompleteCallRequest req;
    req.set_line_id(L(ext));
    req.set_completion_id(id);
    return engine_->UncompleteCall(req);
  }
  // Waits for the one call on `ext` (the callback the switch offers).
  std::string WaitCallOn(const std::string& ext) {
    const absl::Time deadline = MonotonicNow() + absl::Seconds(3);
    while (MonotonicNow() < deadline && CallsOn(ext) == 0) absl::SleepFor(absl::Milliseconds(2));
    return CallsOn(ext) == 1 ? CallOn(ext) : "";
  }
  // `from` calls the single-appearance extension 150 while it talks to 104:
  // busy. Returns the caller's (disconnected) call and 150's connected pair.
  struct Busy {
    std::string call, party_a, party_b;
  };
  Busy CallBusy150(const std::string& from) {
    auto [a, b] = Connect("150", "104");
    const std::string c = Make(from, "150").id();
    EXPECT_TRUE(WaitState(c, S::CALL_STATE_DISCONNECTED));
    EXPECT_EQ(Get(c).status().disconnect_mode(), v1::DISCONNECT_MODE_BUSY);
    return {c, a, b};
  }
};

TEST_F(SimCompletionTest, CapsOfferCallbackAndTheFeatureFollowsTheState) {
  v1::GetLineRequest req;
  req.set_line_id(L("100"));
  auto line = engine_->GetLine(req);
  ASSERT_TRUE(line.ok());
  const auto& caps = line->addresses(0).caps();
  EXPECT_THAT(caps.completion_modes(), ::testing::ElementsAre(v1::COMPLETION_MODE_CALLBACK));
  EXPECT_EQ(caps.max_call_completions(), static_cast<uint32_t>(SimProvider::kMaxCompletions));
  EXPECT_THAT(caps.address_features(), ::testing::Contains(v1::ADDRESS_FEATURE_UNCOMPLETECALL));
  // Ringing: COMPLETECALL offered; connected: not.
  const std::string c = Make("100", "101").id();
  EXPECT_THAT(Get(c).status().features(), ::testing::Contains(v1::CALL_FEATURE_COMPLETECALL));
  ASSERT_TRUE(Answer(CallOn("101")).ok());
  EXPECT_THAT(Get(c).status().features(),
              ::testing::Not(::testing::Contains(v1::CALL_FEATURE_COMPLETECALL)));
}

TEST_F(SimCompletionTest, BusyPartyCallsBackOnceFreeAndAnsweringRingsIt) {
  Busy busy = CallBusy150("100");
  EXPECT_THAT(Get(busy.call).status().features(),
              ::testing::Contains(v1::CALL_FEATURE_COMPLETECALL));
  auto done = Complete(busy.call);
  ASSERT_TRUE(done.ok()) << done.status();
  EXPECT_GT(done->completion_id(), 0u);
  ASSERT_TRUE(Drop(busy.call).ok());
  EXPECT_EQ(CallsOn("100"), 0);  // 150 is still busy: no callback yet
  // 150 hangs up: the switch calls 100 back on 150's behalf.
  ASSERT_TRUE(Drop(busy.party_a).ok());
  const std::string cb = WaitCallOn("100");
  ASSERT_FALSE(cb.empty());
  v1::Call callback = Get(cb);
  EXPECT_EQ(callback.status().state(), S::CALL_STATE_OFFERING);
  EXPECT_EQ(callback.info().reason(), v1::CALL_REASON_CALLCOMPLETION);
  EXPECT_EQ(callback.info().completion_id(), done->completion_id());
  EXPECT_EQ(callback.info().caller().number(), "150");
  // Answering it rings 150 with 100 as the caller; 150 answers.
  ASSERT_TRUE(Answer(cb).ok());
  EXPECT_EQ(State(cb), S::CALL_STATE_RINGBACK);
  const std::string at150 = CallOn("150");
  EXPECT_EQ(State(at150), S::CALL_STATE_OFFERING);
  EXPECT_EQ(Get(at150).info().caller().number(), "100");
  ASSERT_TRUE(Answer(at150).ok());
  EXPECT_EQ(State(cb), S::CALL_STATE_CONNECTED);
  EXPECT_EQ(State(at150), S::CALL_STATE_CONNECTED);
  // The completion was used up.
  EXPECT_THAT(Uncomplete("100", done->completion_id()),
              IsTapiError(absl::StatusCode::kNotFound, LINEERR_INVALCOMPLETIONID));
}

TEST_F(SimCompletionTest, UnansweredPartyCallsBackAfterItNextUsesItsPhone) {
  const std::string c = Make("100", "101").id();
  ASSERT_EQ(State(c), S::CALL_STATE_RINGBACK);
  auto done = Complete(c);
  ASSERT_TRUE(done.ok()) << done.status();
  // 100 hangs up; 101's ringing call ends and is cleared: it has not used its
  // phone.
  const std::string ring = CallOn("101");
  ASSERT_TRUE(Drop(c).ok());
  ASSERT_TRUE(WaitState(ring, S::CALL_STATE_DISCONNECTED));
  ASSERT_TRUE(Drop(ring).ok());
  // 101 makes a call and hangs up: now it is back.
  const std::string d = Make("101", "5550100").id();
  ASSERT_TRUE(WaitState(d, S::CALL_STATE_CONNECTED));
  EXPECT_EQ(CallsOn("100"), 0);
  ASSERT_TRUE(Drop(d).ok());
  const std::string cb = WaitCallOn("100");
  ASSERT_FALSE(cb.empty());
  EXPECT_EQ(Get(cb).info().completion_id(), done->completion_id());
  EXPECT_EQ(Get(cb).info().caller().number(), "101");
}

TEST_F(SimCompletionTest, UncompletedCallbackIsNeverOffered) {
  Busy busy = CallBusy150("100");
  auto first = Complete(busy.call);
  ASSERT_TRUE(first.ok());
  ASSERT_TRUE(Drop(busy.call).ok());
  // 102 asks too, 100 takes its request back.
  const std::string c2 = Make("102", "150").id();
  ASSERT_TRUE(WaitState(c2, S::CALL_STATE_DISCONNECTED));
  auto second = Complete(c2);
  ASSERT_TRUE(second.ok());
  EXPECT_NE(second->completion_id(), first->completion_id());
  ASSERT_TRUE(Drop(c2).ok());
  // Only the owner line cancels its completion.
  EXPECT_THAT(Uncomplete("102", first->completion_id()),
              IsTapiError(absl::StatusCode::kNotFound, LINEERR_INVALCOMPLETIONID));
  ASSERT_TRUE(Uncomplete("100", first->completion_id()).ok());
  ASSERT_TRUE(Drop(busy.party_a).ok());
  // Both completions would be offered in the same pass: only 102's is.
  const std::string cb = WaitCallOn("102");
  ASSERT_FALSE(cb.empty());
  EXPECT_EQ(Get(cb).info().completion_id(), second->completion_id());
  EXPECT_EQ(CallsOn("100"), 0);
}

TEST_F(SimCompletionTest, UnansweredCallbackIsWithdrawn) {
  Busy busy = CallBusy150("100");
  ASSERT_TRUE(Complete(busy.call).ok());
  ASSERT_TRUE(Drop(busy.call).ok());
  ASSERT_TRUE(Drop(busy.party_a).ok());
  const std::string cb = WaitCallOn("100");
  ASSERT_FALSE(cb.empty());
  // ring_ms 20 × 2 rings.
  ASSERT_TRUE(WaitState(cb, S::CALL_STATE_DISCONNECTED));
  EXPECT_EQ(Get(cb).status().disconnect_mode(), v1::DISCONNECT_MODE_NOANSWER);
}

TEST_F(SimCompletionTest, Refusals) {
  // Connected: not a call to complete.
  auto [a, b] = Connect("100", "101");
  EXPECT_THAT(Complete(a), IsTapiError(absl::StatusCode::kFailedPrecondition,
                                       LINEERR_INVALCALLSTATE));
  // A busy number outside the switch.
  const std::string ext = Make("102", "5550101").id();
  ASSERT_TRUE(WaitState(ext, S::CALL_STATE_DISCONNECTED));
  EXPECT_THAT(Complete(ext), IsTapiError(absl::StatusCode::kFailedPrecondition,
                                         LINEERR_OPERATIONFAILED));
  Busy busy = CallBusy150("103");
  // Modes the address does not offer; a message id without MESSAGE.
  EXPECT_THAT(Complete(busy.call, v1::COMPLETION_MODE_CAMPON),
              IsTapiError(absl::StatusCode::kInvalidArgument, LINEERR_INVALCALLCOMPLMODE));
  EXPECT_THAT(Complete(busy.call, v1::COMPLETION_MODE_UNSPECIFIED),
              IsTapiError(absl::StatusCode::kInvalidArgument, LINEERR_INVALCALLCOMPLMODE));
  EXPECT_THAT(Complete(busy.call, v1::COMPLETION_MODE_CALLBACK, 3),
              IsTapiError(absl::StatusCode::kInvalidArgument, LINEERR_INVALMESSAGEID));
  // At most kMaxCompletions pending per extension.
  for (int i = 0; i < SimProvider::kMaxCompletions; ++i) {
    ASSERT_TRUE(Complete(busy.call).ok());
  }
  EXPECT_THAT(Complete(busy.call),
              IsTapiError(absl::StatusCode::kResourceExhausted, LINEERR_COMPLETIONOVERRUN));
  // Unknown and zero ids; unknown calls.
  EXPECT_THAT(Uncomplete("103", 9999),
              IsTapiError(absl::StatusCode::kNotFound, LINEERR_INVALCOMPLETIONID));
  EXPECT_THAT(Uncomplete("103", 0),
              IsTapiError(absl::StatusCode::kInvalidArgument, LINEERR_INVALCOMPLETIONID));
  EXPECT_THAT(Complete("nope"), IsTapiError(absl::StatusCode::kNotFound, LINEERR_INVALCALLHANDLE));
}

}  // namespace
}  // namespace linebridge::testing
