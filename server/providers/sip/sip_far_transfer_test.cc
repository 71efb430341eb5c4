// Transfers started by the far end, against sipp far ends on 127.0.0.1: the
// line as the transferee of a REFER (RFC 3515: 202, the target called,
// message/sipfrag NOTIFYs, the transferor's call handed over whichever of
// its BYE and the target's answer comes first, the line hanging up on a
// transferor that stays on, or the call kept when the target is busy) and as the transfer target of an INVITE with Replaces (RFC 3891:
// the named call replaced by one answered at once, a ringing call of the
// line's as a pickup; 481 when it names no dialog, 486 for early-only on a
// confirmed one). Driven over gRPC like an application.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <fstream>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "providers/sip/testing/sip_peers.h"
#include "providers/sip/testing/sip_ua_fixture.h"
#include "test_server.h"
#include "linebridge/deadline.h"

namespace linebridge {
namespace {

using itest::EventReader;
using itest::IsCallState;
using itest::TestServer;
using sip::testing::AwaitCounter;
using sip::testing::ChildProcess;
using sip::testing::CounterOf;
using sip::testing::IsDisconnected;
using sip::testing::IsNewCallOn;
using sip::testing::kWait;

std::string ReadFile(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// The Replaces value uas_replaced.xml writes for its dialog once it has the
// ACK (the file appears then); "" if it never does.
std::string ReplacesOf(const std::string& dialog_file) {
  const absl::Time deadline = MonotonicNow() + kWait;
  std::string replaces;
  while (replaces.empty() && MonotonicNow() < deadline) {
    replaces = std::string(absl::StripAsciiWhitespace(ReadFile(dialog_file)));
    if (replaces.empty()) absl::SleepFor(absl::Milliseconds(10));  // sipp writes it
  }
  return replaces;
}

// The call a CallCreated event announces, or an empty call.
v1::Call CreatedCall(const std::optional<v1::Event>& ev) {
  return ev.has_value() ? ev->call_created().call() : v1::Call();
}

class SipFarTransferTest : public sip::testing::SipUaFixture {
 protected:
  // The line's call to a transferor scenario, connected; then the call the
  // line places for its REFER (to sip:5550188@127.0.0.1), checked.
  void StartTransfer(TestServer& t, EventReader& reader, ChildProcess& sipp,
                     const std::string& scenario, std::string* original, std::string* placed) {
    *original = CallSipp(t, sipp, {.scenario = scenario, .calls = 2});
    // The far end REFERs as soon as it is connected: the original call's
    // number comes from its creation event.
    const v1::Call made = CreatedCall(reader.WaitFor(IsNewCallOn("sip/alice"), kWait));
    ASSERT_EQ(made.id(), *original);
    const uint64_t original_number = made.info().call_id();
    ASSERT_TRUE(reader.WaitFor(IsCallState(*original, v1::CALL_STATE_CONNECTED), kWait));
    const v1::Call call = CreatedCall(reader.WaitFor(IsNewCallOn("sip/alice"), kWait));
    ASSERT_FALSE(call.id().empty());
    *placed = call.id();
    // LINECALLREASON_TRANSFER, placed by this line, the transferor as the
    // redirecting party and the target as the redirection and called party.
    EXPECT_EQ(call.info().reason(), v1::CALL_REASON_TRANSFER);
    EXPECT_EQ(call.info().origin(), v1::CALL_ORIGIN_OUTBOUND);
    EXPECT_EQ(call.info().called().number(), "sip:5550188@127.0.0.1");
    EXPECT_EQ(call.info().redirection().number(), "sip:5550188@127.0.0.1");
    EXPECT_EQ(call.info().redirecting().number(), "far");
    EXPECT_EQ(call.info().redirecting().name(), "Far End");
    EXPECT_EQ(call.info().related_call_id(), original_number);
  }
};

TEST_F(SipFarTransferTest, ReferIsCarriedOutAndTheTransferorHangsUpAfterwards) {
  auto t = StartServer();
  ASSERT_NE(t, nullptr);
  EventReader reader(t->telephony(), v1::SubscribeRequest());
  ASSERT_TRUE(reader.Next().has_value());  // the snapshot: subscribed
  ChildProcess sipp;
  std::string original;
  std::string placed;
  ASSERT_NO_FATAL_FAILURE(StartTransfer(*t, reader, sipp, "uas_referrer.xml", &original, &placed));
  // The target answers: the transfer is done, the transferor's call handed
  // over (DISCONNECTED, then IDLE) once the new one is up.
  ASSERT_TRUE(reader.WaitFor(IsCallState(placed, v1::CALL_STATE_CONNECTED), kWait));
  ASSERT_TRUE(reader.WaitFor(IsDisconnected(original, v1::DISCONNECT_MODE_NORMAL), kWait));
  ASSERT_TRUE(reader.WaitFor(IsCallState(original, v1::CALL_STATE_IDLE), kWait));
  std::vector<v1::Call> calls = itest::CallsOn(t->telephony(), "sip/alice");
  ASSERT_EQ(calls.size(), 1u);
  EXPECT_EQ(calls[0].id(), placed);
  ASSERT_TRUE(itest::Drop(t->telephony(), placed).ok());
  EXPECT_EQ(sipp.Wait(kWait), 0) << sipp.ReadLog();
  // The target's INVITE carried the REFER's Referred-By (RFC 3892) and the
  // Replaces from its Refer-To URI; its request URI has no headers.
  const std::string messages = ReadFile(dir_ + "/uas_referrer_messages.log");
  EXPECT_THAT(messages, ::testing::ContainsRegex("Referred-By: *\"Far End\" *<sip:far@"));
  EXPECT_THAT(messages,
              ::testing::HasSubstr("Replaces: held-call@127.0.0.1;to-tag=7;from-tag=8"));
  EXPECT_THAT(messages, ::testing::HasSubstr("INVITE sip:5550188@127.0.0.1 SIP/2.0"));
  EXPECT_EQ(CounterOf(*t, "sip_refers_accepted_total", "sip/alice"), 1u);
  EXPECT_EQ(CounterOf(*t, "sip_referred_call_failures_total", "sip/alice"), 0u);
  EXPECT_EQ(CounterOf(*t, "sip_refers_declined_total", "sip/alice"), 0u);
}

TEST_F(SipFarTransferTest, TransferorThatStaysOnIsHungUpByTheLine) {
  auto t = StartServer();
  ASSERT_NE(t, nullptr);
  EventReader reader(t->telephony(), v1::SubscribeRequest());
  ASSERT_TRUE(reader.Next().has_value());  // the snapshot: subscribed
  ChildProcess sipp;
  std::string original;
  std::string placed;
  ASSERT_NO_FATAL_FAILURE(
      StartTransfer(*t, reader, sipp, "uas_referrer_stays.xml", &original, &placed));
  ASSERT_TRUE(reader.WaitFor(IsCallState(placed, v1::CALL_STATE_CONNECTED), kWait));
  ASSERT_TRUE(reader.WaitFor(IsCallState(original, v1::CALL_STATE_IDLE), kWait));
  // The transferor never hangs up after the 2xx NOTIFY: the line's BYE
  // reaches it (sipp waits for it) a few seconds later.
  ASSERT_TRUE(itest::Drop(t->telephony(), placed).ok());
  EXPECT_EQ(sipp.Wait(kWait), 0) << sipp.ReadLog();
}

TEST_F(SipFarTransferTest, TransferorHangingUpBeforeTheTargetAnswers) {
  auto t = StartServer();
  ASSERT_NE(t, nullptr);
  EventReader reader(t->telephony(), v1::SubscribeRequest());
  ASSERT_TRUE(reader.Next().has_value());  // the snapshot: subscribed
  ChildProcess sipp;
  std::string original;
  std::string placed;
  ASSERT_NO_FATAL_FAILURE(
      StartTransfer(*t, reader, sipp, "uas_referrer_early_bye.xml", &original, &placed));
  // The transferor's BYE comes while the target rings: its call is handed
  // over at once, the new call goes on and connects; the final NOTIFY still
  // reaches the transferor (sipp checks it).
  ASSERT_TRUE(reader.WaitFor(IsDisconnected(original, v1::DISCONNECT_MODE_NORMAL), kWait));
  ASSERT_TRUE(reader.WaitFor(IsCallState(original, v1::CALL_STATE_IDLE), kWait));
  ASSERT_TRUE(reader.WaitFor(IsCallState(placed, v1::CALL_STATE_CONNECTED), kWait));
  ASSERT_TRUE(itest::Drop(t->telephony(), placed).ok());
  EXPECT_EQ(sipp.Wait(kWait), 0) << sipp.ReadLog();
  EXPECT_EQ(CounterOf(*t, "sip_refers_accepted_total", "sip/alice"), 1u);
}

TEST_F(SipFarTransferTest, BusyTargetLeavesTheCallWithTheTransferor) {
  auto t = StartServer();
  ASSERT_NE(t, nullptr);
  EventReader reader(t->telephony(), v1::SubscribeRequest());
  ASSERT_TRUE(reader.Next().has_value());  // the snapshot: subscribed
  ChildProcess sipp;
  std::string original;
  std::string placed;
  ASSERT_NO_FATAL_FAILURE(
      StartTransfer(*t, reader, sipp, "uas_referrer_busy.xml", &original, &placed));
  ASSERT_TRUE(reader.WaitFor(IsDisconnected(placed, v1::DISCONNECT_MODE_BUSY), kWait));
  EXPECT_EQ(AwaitCounter(*t, "sip_referred_call_failures_total", "sip/alice", 1), 1u);
  // The original call is still up; the application hangs it up.
  const v1::Call* still = nullptr;
  std::vector<v1::Call> calls = itest::CallsOn(t->telephony(), "sip/alice");
  for (const v1::Call& c : calls) {
    if (c.id() == original) still = &c;
  }
  ASSERT_NE(still, nullptr);
  EXPECT_EQ(still->status().state(), v1::CALL_STATE_CONNECTED);
  ASSERT_TRUE(itest::Drop(t->telephony(), original).ok());
  EXPECT_EQ(sipp.Wait(kWait), 0) << sipp.ReadLog();
}

TEST_F(SipFarTransferTest, InviteWithReplacesTakesOverTheCall) {
  auto t = StartServer();
  ASSERT_NE(t, nullptr);
  EventReader reader(t->telephony(), v1::SubscribeRequest());
  ASSERT_TRUE(reader.Next().has_value());  // the snapshot: subscribed
  ChildProcess far;
  const std::string dialog_file = dir_ + "/dialog.txt";
  const std::string original =
      CallSipp(*t, far, {.scenario = "uas_replaced.xml", .keys = {{"dialog_file", dialog_file}}});
  ASSERT_TRUE(reader.WaitFor(IsCallState(original, v1::CALL_STATE_CONNECTED), kWait));
  uint64_t original_number = 0;
  for (const v1::Call& c : itest::CallsOn(t->telephony(), "sip/alice")) {
    if (c.id() == original) original_number = c.info().call_id();
  }
  const std::string replaces = ReplacesOf(dialog_file);
  ASSERT_FALSE(replaces.empty());
  ChildProcess transferee;
  ASSERT_TRUE(CallAlice(transferee,
                        {.scenario = "uac_replaces.xml", .keys = {{"replaces", replaces}}}));
  // The replaced call is handed over, the new one appears connected.
  ASSERT_TRUE(reader.WaitFor(IsDisconnected(original, v1::DISCONNECT_MODE_NORMAL), kWait));
  ASSERT_TRUE(reader.WaitFor(IsCallState(original, v1::CALL_STATE_IDLE), kWait));
  const v1::Call call = CreatedCall(reader.WaitFor(IsNewCallOn("sip/alice"), kWait));
  ASSERT_FALSE(call.id().empty());
  EXPECT_EQ(call.status().state(), v1::CALL_STATE_CONNECTED);
  EXPECT_EQ(call.info().reason(), v1::CALL_REASON_TRANSFER);
  EXPECT_EQ(call.info().origin(), v1::CALL_ORIGIN_INBOUND);
  EXPECT_EQ(call.info().caller().number(), "7000");
  EXPECT_EQ(call.info().caller().name(), "Tom Transferee");
  EXPECT_EQ(call.info().redirecting().number(), "7001");
  EXPECT_EQ(call.info().redirecting().name(), "Tina Transferor");
  EXPECT_EQ(call.info().related_call_id(), original_number);
  // The replaced dialog's far end got the line's BYE; the transferee hangs
  // up the new call.
  EXPECT_EQ(far.Wait(kWait), 0) << far.ReadLog();
  ASSERT_TRUE(reader.WaitFor(IsDisconnected(call.id(), v1::DISCONNECT_MODE_NORMAL), kWait));
  ASSERT_TRUE(itest::Drop(t->telephony(), call.id()).ok());
  EXPECT_EQ(transferee.Wait(kWait), 0) << transferee.ReadLog();
  EXPECT_EQ(CounterOf(*t, "sip_replaces_total", "sip/alice"), 1u);
  EXPECT_EQ(CounterOf(*t, "sip_replaces_refused_total", "sip/alice"), 0u);
}

TEST_F(SipFarTransferTest, InviteWithReplacesPicksUpACallTheLineIsPlacing) {
  auto t = StartServer();
  ASSERT_NE(t, nullptr);
  EventReader reader(t->telephony(), v1::SubscribeRequest());
  ASSERT_TRUE(reader.Next().has_value());  // the snapshot: subscribed
  ChildProcess far;
  const std::string dialog_file = dir_ + "/dialog.txt";
  const std::string original = CallSipp(
      *t, far, {.scenario = "uas_ringing_replaced.xml", .keys = {{"dialog_file", dialog_file}}});
  ASSERT_TRUE(reader.WaitFor(IsCallState(original, v1::CALL_STATE_RINGBACK), kWait));
  const std::string replaces = ReplacesOf(dialog_file);
  ASSERT_FALSE(replaces.empty());
  // The early dialog is the line's own: the INVITE takes its place, the
  // ringing call is cancelled (the far end checks the CANCEL).
  ChildProcess picker;
  ASSERT_TRUE(CallAlice(picker, {.scenario = "uac_replaces.xml", .keys = {{"replaces", replaces}}}));
  ASSERT_TRUE(reader.WaitFor(IsDisconnected(original, v1::DISCONNECT_MODE_NORMAL), kWait));
  ASSERT_TRUE(reader.WaitFor(IsCallState(original, v1::CALL_STATE_IDLE), kWait));
  const v1::Call call = CreatedCall(reader.WaitFor(IsNewCallOn("sip/alice"), kWait));
  ASSERT_FALSE(call.id().empty());
  EXPECT_EQ(call.status().state(), v1::CALL_STATE_CONNECTED);
  EXPECT_EQ(call.info().reason(), v1::CALL_REASON_PICKUP);
  EXPECT_EQ(far.Wait(kWait), 0) << far.ReadLog();
  ASSERT_TRUE(reader.WaitFor(IsDisconnected(call.id(), v1::DISCONNECT_MODE_NORMAL), kWait));
  ASSERT_TRUE(itest::Drop(t->telephony(), call.id()).ok());
  EXPECT_EQ(picker.Wait(kWait), 0) << picker.ReadLog();
  EXPECT_EQ(CounterOf(*t, "sip_replaces_total", "sip/alice"), 1u);
}

TEST_F(SipFarTransferTest, InviteWithReplacesNamingNoDialogOrEarlyOnlyIsRefused) {
  auto t = StartServer();
  ASSERT_NE(t, nullptr);
  EventReader reader(t->telephony(), v1::SubscribeRequest());
  ASSERT_TRUE(reader.Next().has_value());  // the snapshot: subscribed
  // A live call, so that the line has a dialog it could have matched.
  ChildProcess far;
  const std::string dialog_file = dir_ + "/dialog.txt";
  const std::string original =
      CallSipp(*t, far, {.scenario = "uas_replaced.xml", .keys = {{"dialog_file", dialog_file}}});
  ASSERT_TRUE(reader.WaitFor(IsCallState(original, v1::CALL_STATE_CONNECTED), kWait));
  {
    ChildProcess caller;
    ASSERT_TRUE(CallAlice(caller, {.scenario = "uac_replaces_refused.xml",
                                   .keys = {{"replaces", "nosuchcall@127.0.0.1;to-tag=1;from-tag=2"}}}));
    EXPECT_EQ(caller.Wait(kWait), 0) << caller.ReadLog();
  }
  EXPECT_EQ(CounterOf(*t, "sip_replaces_refused_total", "sip/alice"), 1u);
  // The live dialog named with early-only: it is confirmed, so 486.
  const std::string replaces = ReplacesOf(dialog_file);
  ASSERT_FALSE(replaces.empty());
  {
    ChildProcess caller;
    ASSERT_TRUE(CallAlice(caller, {.scenario = "uac_replaces_early_only.xml",
                                   .keys = {{"replaces", replaces + ";early-only"}}}));
    EXPECT_EQ(caller.Wait(kWait), 0) << caller.ReadLog();
  }
  EXPECT_EQ(CounterOf(*t, "sip_replaces_refused_total", "sip/alice"), 2u);
  EXPECT_EQ(CounterOf(*t, "sip_replaces_total", "sip/alice"), 0u);
  // Nothing was offered, and the call is untouched.
  std::vector<v1::Call> calls = itest::CallsOn(t->telephony(), "sip/alice");
  ASSERT_EQ(calls.size(), 1u);
  EXPECT_EQ(calls[0].id(), original);
  EXPECT_EQ(calls[0].status().state(), v1::CALL_STATE_CONNECTED);
  ASSERT_TRUE(itest::Drop(t->telephony(), original).ok());
  EXPECT_EQ(far.Wait(kWait), 0) << far.ReadLog();
}

}  // namespace
}  // namespace linebridge
