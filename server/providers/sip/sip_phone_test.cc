// SIP phone lines against real peers on 127.0.0.1: kamailio as the PBX
// (proxy, dialog module, presence with dialog-info published by
// pua_dialoginfo), sipp scenarios as the desk phone and as the far ends.
// Driven like an application: over gRPC to a real server, on its events.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <fstream>
#include <memory>
#include <sstream>
#include <string>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"
#include "absl/time/time.h"
#include "providers/builtin.h"
#include "providers/sip/testing/sip_peers.h"
#include "providers/sip/testing/sip_presence_peer.h"
#include "providers/sip/testing/sip_ua_fixture.h"
#include "test_server.h"

namespace linebridge {
namespace {

using itest::EventReader;
using itest::IsCallState;
using itest::TestServer;
using sip::testing::ChildProcess;
using sip::testing::FreePort;
using sip::testing::IsDisconnected;
using sip::testing::IsLineState;
using sip::testing::IsNewCallOn;
using sip::testing::kWait;
using sip::testing::ProcessGroupGone;
using sip::testing::SippOptions;
using sip::testing::StartPresenceKamailio;
using sip::testing::StartSipp;

constexpr char kLine[] = "sip/desk";

// When the phone's sipp received its first INVITE, from its message log
// ("----- 2026-12-06 17:12:10.032593" above each message).
std::optional<absl::Time> InviteReceivedAt(const std::string& log) {
  std::ifstream in(log);
  std::string line;
  std::string stamp;
  while (std::getline(in, line)) {
    if (absl::StartsWith(line, "-----")) {
      stamp = line.substr(line.find_first_not_of("- "));
    } else if (absl::StartsWith(line, "INVITE ")) {
      absl::Time t;
      std::string err;
      if (absl::ParseTime("%Y-%m-%d %H:%M:%E*S", stamp, absl::UTCTimeZone(), &t, &err)) return t;
      return std::nullopt;
    }
  }
  return std::nullopt;
}

class SipPhoneTest : public ::testing::Test {
 protected:
  void SetUp() override {
    RegisterBuiltinProviders();
    dir_ = itest::NewTempDir("sipphone");
    pbx_port_ = FreePort();
    phone_port_ = FreePort();
    far_port_ = FreePort();
    ASSERT_GT(pbx_port_, 0);
    ASSERT_GT(phone_port_, 0);
    ASSERT_GT(far_port_, 0);
    std::string error;
    ASSERT_TRUE(StartPresenceKamailio(pbx_, pbx_port_, phone_port_, far_port_, dir_, &error))
        << error;
    pbx_group_ = pbx_.pid();
  }

  void TearDown() override {
    pbx_.Kill();
    // kamailio forks workers: none may be left.
    EXPECT_TRUE(ProcessGroupGone(pbx_group_));
  }

  // `extra`: more fields of the phone.
  std::unique_ptr<TestServer> StartServer(const std::string& extra = "") {
    return TestServer::Start(absl::StrFormat(
        R"(providers { sip { name: "sip"
            accounts { name: "ctl" uri: "sip:ctl@127.0.0.1" outbound_proxy: "127.0.0.1:%d" }
            phones { name: "desk" uri: "sip:alice@127.0.0.1" display_name: "Alice's desk"
                     control_account: "ctl" subscribe_expiry_s: 6 %s } } })",
        pbx_port_, extra));
  }

  // The server with the phone line watched, and a reader past that event.
  std::unique_ptr<TestServer> StartWatched(std::unique_ptr<EventReader>* reader,
                                           const std::string& extra = "") {
    auto t = StartServer(extra);
    if (t == nullptr) return nullptr;
    *reader = std::make_unique<EventReader>(t->telephony(), v1::SubscribeRequest());
    auto snapshot = (*reader)->Next();
    if (!snapshot.has_value()) return nullptr;
    bool in_service = false;
    for (const auto& l : snapshot->snapshot().lines()) {
      if (l.id() == kLine) in_service = l.status().state() == v1::LINE_STATE_IN_SERVICE;
    }
    // The first batch may carry events after the snapshot too.
    for (const auto& ev : snapshot->events()) {
      if (ev.has_line_state() && ev.line_id() == kLine) {
        in_service = ev.line_state().status().state() == v1::LINE_STATE_IN_SERVICE;
      }
    }
    if (!in_service &&
        !(*reader)->WaitFor(IsLineState(kLine, v1::LINE_STATE_IN_SERVICE), kWait).has_value()) {
      return nullptr;
    }
    return t;
  }

  std::string dir_;
  int pbx_port_ = 0;
  int phone_port_ = 0;
  int far_port_ = 0;
  ChildProcess pbx_;
  pid_t pbx_group_ = -1;
};

TEST_F(SipPhoneTest, LineCapsSayWhatWorks) {
  auto t = StartServer();
  ASSERT_NE(t, nullptr);
  v1::ListLinesResponse lines;
  grpc::ClientContext ctx;
  ASSERT_TRUE(t->telephony().ListLines(&ctx, v1::ListLinesRequest(), &lines).ok());
  const v1::Line* desk = nullptr;
  for (const auto& l : lines.lines()) {
    if (l.id() == kLine) desk = &l;
  }
  ASSERT_NE(desk, nullptr);
  EXPECT_EQ(desk->name(), "Alice's desk");
  EXPECT_THAT(desk->caps().provider_info(), ::testing::HasSubstr("no media"));
  ASSERT_EQ(desk->addresses_size(), 1);
  EXPECT_EQ(desk->addresses(0).address(), "sip:alice@127.0.0.1");
  // What click-to-dial calls can do; the phone's own calls are limited
  // further, per call.
  EXPECT_THAT(desk->addresses(0).caps().call_features(),
              ::testing::UnorderedElementsAre(v1::CALL_FEATURE_DROP, v1::CALL_FEATURE_HOLD,
                                              v1::CALL_FEATURE_UNHOLD,
                                              v1::CALL_FEATURE_BLINDTRANSFER));
  // Another line id than the control account's.
  for (const auto& l : lines.lines()) {
    if (l.id() == "sip/ctl") {
      EXPECT_NE(l.caps().permanent_line_id(), desk->caps().permanent_line_id());
    }
  }
}

TEST_F(SipPhoneTest, ClickToDialConnectsBothLegsAndDropEndsBoth) {
  std::unique_ptr<EventReader> reader;
  auto t = StartWatched(&reader);
  ASSERT_NE(t, nullptr);
  ChildProcess phone;
  ChildProcess far;
  ASSERT_TRUE(StartSipp(phone, {.scenario = "phone_autoanswer.xml", .port = phone_port_}, dir_));
  ASSERT_TRUE(StartSipp(far, {.scenario = "uas_answer.xml", .port = far_port_}, dir_));
  v1::Call call;
  grpc::Status s = itest::MakeCall(t->telephony(), kLine, "2000", &call);
  ASSERT_TRUE(s.ok()) << s.error_message();
  std::vector<v1::Event> seen;
  ASSERT_TRUE(reader->WaitFor(IsCallState(call.id(), v1::CALL_STATE_PROCEEDING), kWait, &seen));
  // The far end's 180 comes 1 ms before its 200; the proxy may deliver them
  // the other way round, and a 180 after the 200 is ignored: RINGBACK, if
  // any, comes before CONNECTED.
  ASSERT_TRUE(reader->WaitFor(IsCallState(call.id(), v1::CALL_STATE_CONNECTED), kWait, &seen));
  ASSERT_TRUE(itest::Drop(t->telephony(), call.id()).ok());
  ASSERT_TRUE(reader->WaitFor(IsCallState(call.id(), v1::CALL_STATE_IDLE), kWait, &seen));
  bool connected = false;
  for (const auto& ev : seen) {
    if (!ev.has_call_state() || ev.call_state().call_id() != call.id()) continue;
    const v1::CallState state = ev.call_state().status().state();
    if (state == v1::CALL_STATE_CONNECTED) connected = true;
    EXPECT_FALSE(connected && state != v1::CALL_STATE_CONNECTED && state != v1::CALL_STATE_IDLE)
        << v1::CallState_Name(state) << " after CONNECTED";
  }
  // Both legs got their BYE (the scenarios end only then) and the phone's
  // INVITE had no SDP and the auto-answer hint, its ACK the far end's answer.
  EXPECT_EQ(phone.Wait(kWait), 0) << phone.ReadLog();
  EXPECT_EQ(far.Wait(kWait), 0) << far.ReadLog();
  // The phone's own leg, published by the PBX, was not offered as a call.
  for (const auto& ev : seen) {
    if (ev.has_call_created()) {
      EXPECT_EQ(ev.call_created().call().id(), call.id());
    }
  }
}

TEST_F(SipPhoneTest, ClickToDialDestinationHangsUpEndsThePhoneLeg) {
  std::unique_ptr<EventReader> reader;
  auto t = StartWatched(&reader);
  ASSERT_NE(t, nullptr);
  ChildProcess phone;
  ChildProcess far;
  ASSERT_TRUE(StartSipp(phone, {.scenario = "phone_autoanswer.xml", .port = phone_port_}, dir_));
  ASSERT_TRUE(StartSipp(far, {.scenario = "uas_answer_hangup.xml", .port = far_port_}, dir_));
  v1::Call call;
  ASSERT_TRUE(itest::MakeCall(t->telephony(), kLine, "2000", &call).ok());
  ASSERT_TRUE(reader->WaitFor(IsCallState(call.id(), v1::CALL_STATE_CONNECTED), kWait));
  ASSERT_TRUE(reader->WaitFor(IsDisconnected(call.id(), v1::DISCONNECT_MODE_NORMAL), kWait));
  // The phone got its BYE from the line.
  EXPECT_EQ(phone.Wait(kWait), 0) << phone.ReadLog();
  EXPECT_EQ(far.Wait(kWait), 0) << far.ReadLog();
  ASSERT_TRUE(itest::Drop(t->telephony(), call.id()).ok());
}

TEST_F(SipPhoneTest, ClickToDialDestinationBusy) {
  std::unique_ptr<EventReader> reader;
  auto t = StartWatched(&reader);
  ASSERT_NE(t, nullptr);
  ChildProcess phone;
  ChildProcess far;
  ASSERT_TRUE(StartSipp(phone, {.scenario = "phone_autoanswer.xml", .port = phone_port_}, dir_));
  // uas_reject.xml answering 486 Busy Here (sipp takes no keyword for a
  // response code).
  std::ifstream in(sip::testing::ScenarioDir() + "/uas_reject.xml");
  std::stringstream xml;
  xml << in.rdbuf();
  std::string busy = xml.str();
  for (size_t at; (at = busy.find("[code] [reason]")) != std::string::npos;) {
    busy.replace(at, 15, "486 Busy Here");
  }
  const std::string file = absl::StrCat(dir_, "/uas_busy.xml");
  std::ofstream(file) << busy;
  ASSERT_TRUE(StartSipp(far, {.scenario = file, .port = far_port_}, dir_));
  v1::Call call;
  ASSERT_TRUE(itest::MakeCall(t->telephony(), kLine, "sip:bob@127.0.0.1", &call).ok());
  ASSERT_TRUE(reader->WaitFor(IsDisconnected(call.id(), v1::DISCONNECT_MODE_BUSY), kWait));
  // The phone's answered leg was acknowledged and released.
  EXPECT_EQ(phone.Wait(kWait), 0) << phone.ReadLog();
  EXPECT_EQ(far.Wait(kWait), 0) << far.ReadLog();
  ASSERT_TRUE(itest::Drop(t->telephony(), call.id()).ok());
}

TEST_F(SipPhoneTest, ClickToDialPhoneNotAnswering) {
  std::unique_ptr<EventReader> reader;
  auto t = StartWatched(&reader, "answer_timeout_s: 2");
  ASSERT_NE(t, nullptr);
  ChildProcess phone;
  ASSERT_TRUE(StartSipp(phone, {.scenario = "uas_ring_cancel.xml", .port = phone_port_}, dir_));
  v1::Call call;
  ASSERT_TRUE(itest::MakeCall(t->telephony(), kLine, "2000", &call).ok());
  const absl::Time start = absl::Now();
  ASSERT_TRUE(reader->WaitFor(IsDisconnected(call.id(), v1::DISCONNECT_MODE_NOANSWER), kWait));
  EXPECT_GE(absl::Now() - start, absl::Milliseconds(1900));
  // The phone's ringing was cancelled (the scenario ends only then).
  EXPECT_EQ(phone.Wait(kWait), 0) << phone.ReadLog();
  ASSERT_TRUE(itest::Drop(t->telephony(), call.id()).ok());
}

TEST_F(SipPhoneTest, IncomingCallOfferedWithCallerIdConnectedThenEnded) {
  std::unique_ptr<EventReader> reader;
  auto t = StartWatched(&reader);
  ASSERT_NE(t, nullptr);
  ChildProcess phone;
  ChildProcess caller;
  ASSERT_TRUE(StartSipp(phone, {.scenario = "phone_ring_answer.xml", .port = phone_port_}, dir_));
  ASSERT_TRUE(StartSipp(caller,
                        {.scenario = "uac_via_proxy.xml",
                         .port = FreePort(),
                         .remote = absl::StrCat("127.0.0.1:", pbx_port_),
                         .service = "alice"},
                        dir_));
  const auto created = reader->WaitFor(IsNewCallOn(kLine), kWait);
  // When the application saw the call (it was waiting for it).
  const absl::Time offered = absl::Now();
  ASSERT_TRUE(created.has_value());
  const v1::Call call = created->call_created().call();
  EXPECT_EQ(call.status().state(), v1::CALL_STATE_OFFERING);
  EXPECT_EQ(call.info().origin(), v1::CALL_ORIGIN_INBOUND);
  EXPECT_EQ(call.info().caller().number(), "5551234");
  EXPECT_EQ(call.info().called().number(), "alice");
  // The phone's own call cannot be dropped from the line, and its features
  // say so: nothing until it has ended, then DROP (to clear it).
  EXPECT_THAT(call.status().features(), ::testing::IsEmpty());
  grpc::Status refused = itest::Drop(t->telephony(), call.id());
  EXPECT_FALSE(refused.ok());
  const auto connected = reader->WaitFor(IsCallState(call.id(), v1::CALL_STATE_CONNECTED), kWait);
  ASSERT_TRUE(connected.has_value());
  EXPECT_THAT(connected->call_state().status().features(), ::testing::IsEmpty());
  const auto ended = reader->WaitFor(IsDisconnected(call.id(), v1::DISCONNECT_MODE_NORMAL), kWait);
  ASSERT_TRUE(ended.has_value());
  EXPECT_THAT(ended->call_state().status().features(),
              ::testing::ElementsAre(v1::CALL_FEATURE_DROP));
  EXPECT_EQ(caller.Wait(kWait), 0) << caller.ReadLog();
  EXPECT_EQ(phone.Wait(kWait), 0) << phone.ReadLog();
  // Screen pop, from the INVITE reaching the phone to the application
  // holding the OFFERING call (the phone's message log is complete once it
  // exited).
  const auto invited = InviteReceivedAt(absl::StrCat(dir_, "/phone_ring_answer_messages.log"));
  ASSERT_TRUE(invited.has_value());
  const absl::Duration latency = offered - *invited;
  std::printf("screen pop latency (INVITE at the phone -> OFFERING): %.1f ms (%s -> %s)\n",
              absl::ToDoubleMilliseconds(latency),
              absl::FormatTime("%H:%M:%E6S", *invited, absl::UTCTimeZone()).c_str(),
              absl::FormatTime("%H:%M:%E6S", offered, absl::UTCTimeZone()).c_str());
  EXPECT_LT(latency, absl::Milliseconds(200));
  ASSERT_TRUE(itest::Drop(t->telephony(), call.id()).ok());
}

TEST_F(SipPhoneTest, PresenceServerLostThenBack) {
  std::unique_ptr<EventReader> reader;
  auto t = StartWatched(&reader);
  ASSERT_NE(t, nullptr);
  pbx_.Kill();
  EXPECT_TRUE(ProcessGroupGone(pbx_group_));
  // The subscription's refresh fails: the line is out of service and
  // refuses calls.
  ASSERT_TRUE(reader->WaitFor(IsLineState(kLine, v1::LINE_STATE_OUT_OF_SERVICE),
                              absl::Seconds(30)));
  v1::Call call;
  EXPECT_FALSE(itest::MakeCall(t->telephony(), kLine, "2000", &call).ok());
  std::string error;
  ASSERT_TRUE(StartPresenceKamailio(pbx_, pbx_port_, phone_port_, far_port_, dir_, &error)) << error;
  pbx_group_ = pbx_.pid();
  ASSERT_TRUE(reader->WaitFor(IsLineState(kLine, v1::LINE_STATE_IN_SERVICE), absl::Seconds(30)));
}

}  // namespace
}  // namespace linebridge
