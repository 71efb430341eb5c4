// When a call record ends: the moment the call was disconnected, whichever
// party hung up, not when the lingering DISCONNECTED call went IDLE. The
// engine runs on a manual clock, so every duration is exact.
#include <optional>

#include "core/engine.h"
#include "core/testing/manual_clock.h"
#include "core/time_util.h"
#include "providers/sim/sim_test_util.h"
#include "linebridge/deadline.h"

namespace linebridge::testing {
namespace {

class CallRecordTiming : public SimFixture {
 protected:
  void SetUp() override {
    EngineOptions options;
    options.clock = clock_.AsFunction();
    // Short in real time; the manual clock decides what the records say.
    options.disconnected_linger = absl::Milliseconds(50);
    Start(TestPbx(), options);
  }

  std::optional<v1::CallRecord> RecordOf(const std::string& call_id) {
    for (const auto& r : sink_.records()) {
      if (r.call_id() == call_id) return r;
    }
    return std::nullopt;
  }
  // Waits (in real time) for the call's record: the linger ends by itself.
  std::optional<v1::CallRecord> WaitRecord(const std::string& call_id) {
    const absl::Time deadline = MonotonicNow() + absl::Seconds(5);
    while (MonotonicNow() < deadline) {
      if (auto r = RecordOf(call_id)) return r;
      absl::SleepFor(absl::Milliseconds(2));
    }
    return std::nullopt;
  }

  ManualClock clock_;
};

TEST_F(CallRecordTiming, BothLegsEndWhenEitherPartyHangsUp) {
  for (const bool caller_hangs_up : {true, false}) {
    SCOPED_TRACE(caller_hangs_up ? "caller hangs up" : "callee hangs up");
    const auto [a, b] = Connect("100", "101");
    const absl::Time connected = clock_.Now();
    clock_.Advance(absl::Milliseconds(1060));
    const absl::Time hung_up = clock_.Now();
    ASSERT_TRUE(Drop(caller_hangs_up ? a : b).ok());
    // Time passes while the other leg lingers in DISCONNECTED.
    clock_.Advance(absl::Seconds(5));
    const std::string other = caller_hangs_up ? b : a;
    EXPECT_EQ(State(other), v1::CALL_STATE_DISCONNECTED);
    for (const std::string& id : {a, b}) {
      SCOPED_TRACE(id);
      const auto r = WaitRecord(id);
      ASSERT_TRUE(r.has_value());
      EXPECT_EQ(r->duration_ms(), 1060u);
      EXPECT_EQ(FromProto(r->answered()), connected);
      EXPECT_EQ(FromProto(r->ended()), hung_up);
    }
  }
}

TEST_F(CallRecordTiming, FarEndHangupEndsTheRecordAtTheDisconnect) {
  // The callee hangs up; the caller never drops (the linger ends its call).
  const std::string a = Make("100", "101").id();
  const std::string b = CallOn("101");
  ASSERT_TRUE(Answer(b).ok());
  clock_.Advance(absl::Milliseconds(2500));
  const absl::Time hung_up = clock_.Now();
  ASSERT_TRUE(Drop(b).ok());
  clock_.Advance(absl::Milliseconds(4999));
  const auto r = WaitRecord(a);
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->duration_ms(), 2500u);
  EXPECT_EQ(FromProto(r->ended()), hung_up);
}

TEST_F(CallRecordTiming, UnansweredCallEndsAtItsDisconnect) {
  const absl::Time started = clock_.Now();
  const std::string a = Make("100", "5550101").id();  // busy at once
  ASSERT_EQ(State(a), v1::CALL_STATE_DISCONNECTED);
  clock_.Advance(absl::Seconds(5));
  const auto r = WaitRecord(a);
  ASSERT_TRUE(r.has_value());
  EXPECT_FALSE(r->has_answered());
  EXPECT_EQ(r->duration_ms(), 0u);
  EXPECT_EQ(FromProto(r->started()), started);
  EXPECT_EQ(FromProto(r->ended()), started);
}

// The wall clock set back an hour during a call (an NTP step): the record's
// duration is 0, not a wrapped-around negative; set forward, the jump counts.
// The linger timer runs on the monotonic clock either way.
TEST_F(CallRecordTiming, WallClockJumpsDuringCalls) {
  {
    const auto [a, b] = Connect("100", "101");
    clock_.Advance(-absl::Hours(1));
    ASSERT_TRUE(Drop(a).ok());
    const auto r = WaitRecord(a);
    ASSERT_TRUE(r.has_value());
    EXPECT_EQ(r->duration_ms(), 0u);
    ASSERT_TRUE(WaitRecord(b).has_value());  // the other leg's linger still ends
  }
  {
    const auto [a, b] = Connect("100", "101");
    clock_.Advance(absl::Hours(1));
    ASSERT_TRUE(Drop(b).ok());
    const auto r = WaitRecord(b);
    ASSERT_TRUE(r.has_value());
    EXPECT_EQ(r->duration_ms(), 3600000u);
    ASSERT_TRUE(WaitRecord(a).has_value());
  }
}

}  // namespace
}  // namespace linebridge::testing
