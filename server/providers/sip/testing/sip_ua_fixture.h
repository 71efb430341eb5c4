// The fixture the SIP user-agent line tests share: a real server in process
// with two accounts (sip/alice over UDP, sip/bob over TCP) whose outbound
// proxy is a sipp far end, and helpers that wait on the server's events.
#pragma once

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <functional>
#include <memory>
#include <string>

#include "absl/strings/str_format.h"
#include "providers/builtin.h"
#include "providers/sip/testing/sip_peers.h"
#include "test_server.h"
#include "linebridge/deadline.h"
#include "linebridge/lineerr.h"

namespace linebridge::sip::testing {

inline constexpr absl::Duration kWait = absl::Seconds(10);

inline std::function<bool(const v1::Event&)> IsLineState(const std::string& line,
                                                         v1::LineState state) {
  return [line, state](const v1::Event& ev) {
    return ev.has_line_state() && ev.line_id() == line && ev.line_state().status().state() == state;
  };
}

inline std::function<bool(const v1::Event&)> IsDisconnected(const std::string& call_id,
                                                            v1::DisconnectMode mode) {
  return [call_id, mode](const v1::Event& ev) {
    return ev.has_call_state() && ev.call_state().call_id() == call_id &&
           ev.call_state().status().state() == v1::CALL_STATE_DISCONNECTED &&
           ev.call_state().status().disconnect_mode() == mode;
  };
}

inline std::function<bool(const v1::Event&)> IsNewCallOn(const std::string& line) {
  return [line](const v1::Event& ev) { return ev.has_call_created() && ev.line_id() == line; };
}

// The sum of a provider counter for `line`.
// A request the far end refused (a REFER, a failed sipfrag, a refused
// re-INVITE): ABORTED with LINEERR_OPERATIONFAILED, the message naming the
// SIP status; and the line's one call is still `state`.
inline void ExpectRefusedBySip(itest::TestServer& t, const grpc::Status& s,
                               const std::string& sip_status, const std::string& line,
                               v1::CallState state = v1::CALL_STATE_CONNECTED) {
  EXPECT_EQ(s.error_code(), grpc::StatusCode::ABORTED) << s.error_message();
  EXPECT_EQ(itest::TapiErrorOf(s), LINEERR_OPERATIONFAILED);
  EXPECT_THAT(s.error_message(), ::testing::HasSubstr(sip_status));
  const std::vector<v1::Call> calls = itest::CallsOn(t.telephony(), line);
  ASSERT_EQ(calls.size(), 1u);
  EXPECT_EQ(calls[0].status().state(), state);
}

inline uint64_t CounterOf(itest::TestServer& t, const std::string& name, const std::string& line) {
  uint64_t total = 0;
  for (const auto& c : t.server().engine().TakeFigures().provider_counters) {
    if (c.name != name) continue;
    for (const auto& [k, v] : c.labels) {
      if (k == "line" && v == line) total += c.value;
    }
  }
  return total;
}

// Polls a counter (nothing else tells a test that a peer's request was
// answered) until it reaches `at_least`; its last value.
inline uint64_t AwaitCounter(itest::TestServer& t, const std::string& name,
                             const std::string& line, uint64_t at_least) {
  const absl::Time deadline = MonotonicNow() + kWait;
  uint64_t v = CounterOf(t, name, line);
  while (v < at_least && MonotonicNow() < deadline) {
    absl::SleepFor(absl::Milliseconds(20));
    v = CounterOf(t, name, line);
  }
  return v;
}

class SipUaFixture : public ::testing::Test {
 protected:
  void SetUp() override {
    RegisterBuiltinProviders();
    dir_ = itest::NewTempDir("sip");
    alice_port_ = FreePort();
    bob_port_ = FreePort();
    far_port_ = FreePort();
    ASSERT_GT(far_port_, 0);
    ASSERT_GT(alice_port_, 0);
    ASSERT_GT(bob_port_, 0);
  }

  // alice (UDP) and bob (TCP), with `extra` account fields for alice.
  std::unique_ptr<itest::TestServer> StartServer(const std::string& alice_extra = "") {
    const std::string config = absl::StrFormat(
        R"(providers { sip { name: "sip" accounts { name: "alice" uri: "sip:alice@127.0.0.1"
            display_name: "Alice" local_port: %d outbound_proxy: "127.0.0.1:%d" %s }
          accounts { name: "bob" uri: "sip:bob@127.0.0.1" local_port: %d
            outbound_proxy: "127.0.0.1:%d" transport: SIP_TRANSPORT_TCP } } })",
        alice_port_, far_port_, alice_extra, bob_port_, far_port_);
    return itest::TestServer::Start(config);
  }

  // An outbound call from sip/alice (UDP) or sip/bob (TCP) to a sipp
  // scenario, the lines' outbound proxy; returns the call id.
  std::string CallSipp(itest::TestServer& t, ChildProcess& sipp, SippOptions options,
                       const std::string& line = "sip/alice",
                       const std::string& destination = "+1 (555) 0100") {
    options.port = far_port_;
    EXPECT_TRUE(StartSipp(sipp, options, dir_)) << options.scenario << ": " << sipp.ReadLog();
    v1::Call call;
    grpc::Status s = itest::MakeCall(t.telephony(), line, destination, &call);
    EXPECT_TRUE(s.ok()) << s.error_message();
    return call.id();
  }

  // A sipp client scenario calling sip/alice.
  bool CallAlice(ChildProcess& sipp, SippOptions options) {
    options.remote = absl::StrFormat("127.0.0.1:%d", alice_port_);
    options.service = "alice";
    options.port = FreePort();
    return StartSipp(sipp, options, dir_);
  }

  std::string dir_;
  int alice_port_ = 0;
  int bob_port_ = 0;
  int far_port_ = 0;  // the sipp far end, the lines' outbound proxy
};

}  // namespace linebridge::sip::testing
