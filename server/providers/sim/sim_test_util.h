// Test fixture: an Engine running the simulated PBX, with helpers to drive
// calls and read what happened (journal events, CDRs). Shared by the engine
// and sim provider tests.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "core/engine.h"
#include "linebridge/lineerr.h"
#include "providers/builtin.h"
#include "providers/sim/sim_provider.h"

namespace linebridge::testing {

class RecordingSink : public CallRecordSink {
 public:
  void Record(v1::CallRecord record, std::function<void()> settled) override {
    {
      absl::MutexLock lock(&mu_);
      records_.push_back(std::move(record));
      if (hold_) {
        held_.push_back(std::move(settled));
        return;
      }
    }
    settled();
  }
  std::vector<v1::CallRecord> records() {
    absl::MutexLock lock(&mu_);
    return records_;
  }
  // While held, records are not settled (as if the disk were slow) until
  // SettleHeld, which settles them from the calling thread.
  void Hold(bool hold) {
    absl::MutexLock lock(&mu_);
    hold_ = hold;
  }
  void SettleHeld() {
    std::vector<std::function<void()>> held;
    {
      absl::MutexLock lock(&mu_);
      held.swap(held_);
    }
    for (auto& fn : held) fn();
  }

 private:
  absl::Mutex mu_;
  std::vector<v1::CallRecord> records_ ABSL_GUARDED_BY(mu_);
  bool hold_ ABSL_GUARDED_BY(mu_) = false;
  std::vector<std::function<void()>> held_ ABSL_GUARDED_BY(mu_);
};

inline v1::config::SimConfig TestPbx() {
  v1::config::SimConfig sim;
  sim.set_name("sim");
  sim.set_ring_ms(20);
  sim.set_default_no_answer_rings(2);
  sim.set_park_orbit_base("700");
  const char* names[] = {"Alice", "Bob", "Carol", "Dave", "Erin"};
  for (int i = 0; i < 5; ++i) {
    auto* e = sim.add_extensions();
    e->set_number(std::to_string(100 + i));
    e->set_name(names[i]);
    e->set_max_calls(4);
    if (i < 3) e->set_pickup_group("sales");
  }
  auto* echo = sim.add_extensions();
  echo->set_number("199");
  echo->set_name("Echo Desk");
  echo->set_auto_answer_ms(1);
  echo->set_max_calls(8);
  auto* single = sim.add_extensions();
  single->set_number("150");
  single->set_name("Single");
  single->set_max_calls(1);
  auto add = [&](const char* number, const char* name, v1::config::SimBehavior b, uint32_t delay,
                 const char* digits = "") {
    auto* x = sim.add_externals();
    x->set_number(number);
    x->set_name(name);
    x->set_behavior(b);
    x->set_delay_ms(delay);
    x->set_send_digits(digits);
  };
  add("5550100", "Weather Line", v1::config::SIM_BEHAVIOR_ANSWER, 0);
  add("5550101", "Busy Shop", v1::config::SIM_BEHAVIOR_BUSY, 0);
  add("5550102", "Nobody Home", v1::config::SIM_BEHAVIOR_NO_ANSWER, 50);
  add("5550103", "Rejecting Desk", v1::config::SIM_BEHAVIOR_REJECT, 0);
  add("5550104", "Overloaded Trunk", v1::config::SIM_BEHAVIOR_CONGESTION, 0);
  add("5550105", "IVR", v1::config::SIM_BEHAVIOR_ANSWER, 30, "1#");
  return sim;
}

class SimFixture : public ::testing::Test {
 protected:
  void SetUp() override { Start(TestPbx()); }

  void Start(const v1::config::SimConfig& sim, EngineOptions options = {}) {
    RegisterBuiltinProviders();
    options.epoch = 42;
    if (options.disconnected_linger == absl::Seconds(5)) {
      options.disconnected_linger = absl::Seconds(60);  // tests drop explicitly
    }
    engine_ = std::make_unique<Engine>(options, &sink_);
    ASSERT_TRUE(engine_->AddProvider(std::make_unique<SimProvider>(sim)).ok());
  }

  static std::string L(const std::string& ext) { return "sim/" + ext; }

  v1::Call Make(const std::string& from, const std::string& to, const std::string& session = "") {
    v1::MakeCallRequest req;
    req.set_line_id(L(from));
    req.set_destination(to);
    req.set_session_id(session);
    auto call = engine_->MakeCall(req);
    EXPECT_TRUE(call.ok()) << call.status();
    return call.ok() ? *call : v1::Call();
  }

  // The one live call on `ext` (fails the test if there is not exactly one).
  std::string CallOn(const std::string& ext) {
    v1::ListCallsRequest req;
    req.set_line_id(L(ext));
    auto calls = engine_->ListCalls(req);
    EXPECT_TRUE(calls.ok());
    EXPECT_EQ(calls->calls_size(), 1) << "calls on " << ext << ": " << calls->DebugString();
    return calls->calls_size() > 0 ? calls->calls(0).id() : "";
  }
  int CallsOn(const std::string& ext) {
    v1::ListCallsRequest req;
    req.set_line_id(L(ext));
    return engine_->ListCalls(req)->calls_size();
  }

  v1::Call Get(const std::string& id) {
    v1::GetCallRequest req;
    req.set_call_id(id);
    auto c = engine_->GetCall(req);
    if (!c.ok()) {
      v1::Call idle;
      idle.set_id(id);
      idle.mutable_status()->set_state(v1::CALL_STATE_IDLE);
      return idle;
    }
    return *c;
  }
  v1::CallState State(const std::string& id) { return Get(id).status().state(); }

  bool WaitState(const std::string& id, v1::CallState state,
                 absl::Duration timeout = absl::Seconds(3)) {
    const absl::Time deadline = absl::Now() + timeout;
    while (absl::Now() < deadline) {
      if (State(id) == state) return true;
      absl::SleepFor(absl::Milliseconds(2));
    }
    return State(id) == state;
  }

  v1::CallActionRequest Action(const std::string& id, const std::string& session = "") {
    v1::CallActionRequest req;
    req.set_call_id(id);
    req.set_session_id(session);
    return req;
  }
  absl::StatusOr<v1::Call> Answer(const std::string& id) { return engine_->Answer(Action(id)); }
  absl::StatusOr<v1::Call> Drop(const std::string& id) { return engine_->Drop(Action(id)); }

  // Sets up 100 -> `to` and answers it; returns {caller leg, callee leg}.
  std::pair<std::string, std::string> Connect(const std::string& from, const std::string& to) {
    const std::string a = Make(from, to).id();
    const std::string b = CallOn(to);
    EXPECT_TRUE(Answer(b).ok());
    EXPECT_EQ(State(a), v1::CALL_STATE_CONNECTED);
    EXPECT_EQ(State(b), v1::CALL_STATE_CONNECTED);
    return {a, b};
  }

  std::vector<v1::Event> EventsSince(uint64_t seq) {
    std::vector<EventPtr> raw;
    EXPECT_EQ(engine_->journal().Read(seq + 1, 1 << 20, &raw), EventJournal::ReadStatus::kOk);
    std::vector<v1::Event> out;
    for (const auto& e : raw) out.push_back(*e);
    return out;
  }
  uint64_t Seq() { return engine_->journal().last_sequence(); }

  // The call states `call_id` went through since `seq`.
  std::vector<v1::CallState> StatesSince(uint64_t seq, const std::string& call_id) {
    std::vector<v1::CallState> out;
    for (const auto& e : EventsSince(seq)) {
      if (e.has_call_created() && e.call_created().call().id() == call_id) {
        out.push_back(e.call_created().call().status().state());
      }
      if (e.has_call_state() && e.call_state().call_id() == call_id) {
        out.push_back(e.call_state().status().state());
      }
    }
    return out;
  }

  RecordingSink sink_;
  std::unique_ptr<Engine> engine_;
};

// Matches an absl::Status (or StatusOr) with this canonical code and LINEERR.
MATCHER_P2(IsTapiError, code, lineerr,
           absl::StrCat("fails with ", absl::StatusCodeToString(code), " and ",
                        LineErrName(lineerr))) {
  const absl::Status status = [&] {
    if constexpr (std::is_same_v<std::decay_t<arg_type>, absl::Status>) {
      return arg;
    } else {
      return arg.status();
    }
  }();
  *result_listener << "status is " << status << " (" << LineErrName(LineErrOf(status)) << ")";
  return status.code() == code && LineErrOf(status) == lineerr;
}

}  // namespace linebridge::testing
