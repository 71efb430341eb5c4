// Mid-call features of SIP user-agent lines against sipp far ends on
// 127.0.0.1: hold and the far end's hold (re-INVITE), blind transfer
// (REFER/NOTIFY), redirect (302) with redirecting ids from Diversion and
// History-Info, DTMF both ways (RFC 4733 events and SIP INFO) and session
// timers (RFC 4028). Driven over gRPC like an application.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <fstream>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "linebridge/deadline.h"
#include "providers/sip/testing/sip_peers.h"
#include "providers/sip/testing/sip_ua_fixture.h"
#include "test_server.h"

namespace linebridge {
namespace {

using itest::EventReader;
using itest::IsCallState;
using itest::Rpc;
using itest::TestServer;
using sip::testing::AwaitCounter;
using sip::testing::ChildProcess;
using sip::testing::CounterOf;
using sip::testing::ExpectRefusedBySip;
using sip::testing::IsDisconnected;
using sip::testing::IsNewCallOn;
using sip::testing::kWait;
using sip::testing::SippOptions;
using sip::testing::StartSipp;

using Stub = v1::Telephony::Stub;

std::function<bool(const v1::Event&)> IsConnectedMode(const std::string& call_id,
                                                      v1::ConnectedMode mode) {
  return [call_id, mode](const v1::Event& ev) {
    return ev.has_call_state() && ev.call_state().call_id() == call_id &&
           ev.call_state().status().state() == v1::CALL_STATE_CONNECTED &&
           ev.call_state().status().connected_mode() == mode;
  };
}

std::function<bool(const v1::Event&)> IsDigit(const std::string& call_id, const std::string& d) {
  return [call_id, d](const v1::Event& ev) {
    return ev.has_digit() && ev.digit().call_id() == call_id && ev.digit().digit() == d;
  };
}

grpc::Status CallAction(Stub& stub,
                        grpc::Status (Stub::*method)(grpc::ClientContext*,
                                                     const v1::CallActionRequest&, v1::Call*),
                        const std::string& call_id, v1::Call* out = nullptr) {
  v1::CallActionRequest req;
  req.set_call_id(call_id);
  v1::Call resp;
  return Rpc(stub, method, req, out != nullptr ? out : &resp);
}

grpc::Status Monitor(Stub& stub, const std::string& call_id) {
  v1::MonitorDigitsRequest req;
  req.set_call_id(call_id);
  req.add_modes(v1::DIGIT_MODE_DTMF);
  v1::Call resp;
  return Rpc(stub, &Stub::MonitorDigits, req, &resp);
}

grpc::Status Generate(Stub& stub, const std::string& call_id, const std::string& digits) {
  v1::GenerateDigitsRequest req;
  req.set_call_id(call_id);
  req.set_digits(digits);
  req.set_duration_ms(60);
  v1::Call resp;
  return Rpc(stub, &Stub::GenerateDigits, req, &resp);
}

std::string ReadFile(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

class SipFeaturesTest : public sip::testing::SipUaFixture {};

TEST_F(SipFeaturesTest, HoldResumeAndTheFarEndsHold) {
  // decline_refer keeps far ends' REFERs declined (the far end checks 603).
  auto t = StartServer("decline_refer: true");
  ASSERT_NE(t, nullptr);
  EventReader reader(t->telephony(), v1::SubscribeRequest());
  ASSERT_TRUE(reader.Next().has_value());  // the snapshot: subscribed
  ChildProcess sipp;
  const std::string id = CallSipp(*t, sipp, {.scenario = "uas_hold.xml"});
  ASSERT_TRUE(reader.WaitFor(IsCallState(id, v1::CALL_STATE_CONNECTED), kWait));
  // Unhold is refused until the call is held.
  EXPECT_EQ(CallAction(t->telephony(), &Stub::Unhold, id).error_code(),
            grpc::StatusCode::FAILED_PRECONDITION);
  // Each reply comes with the far end's answer to the re-INVITE.
  v1::Call resp;
  ASSERT_TRUE(CallAction(t->telephony(), &Stub::Hold, id, &resp).ok());
  EXPECT_EQ(resp.status().state(), v1::CALL_STATE_ONHOLD);
  ASSERT_TRUE(reader.WaitFor(IsCallState(id, v1::CALL_STATE_ONHOLD), kWait));
  ASSERT_TRUE(CallAction(t->telephony(), &Stub::Unhold, id, &resp).ok());
  EXPECT_EQ(resp.status().state(), v1::CALL_STATE_CONNECTED);
  ASSERT_TRUE(reader.WaitFor(IsConnectedMode(id, v1::CONNECTED_MODE_ACTIVE), kWait));
  // The far end holds (sendonly), then resumes.
  ASSERT_TRUE(reader.WaitFor(IsConnectedMode(id, v1::CONNECTED_MODE_INACTIVE), kWait));
  ASSERT_TRUE(reader.WaitFor(IsConnectedMode(id, v1::CONNECTED_MODE_ACTIVE), kWait));
  // Its REFER is declined (decline_refer) before the line hangs up.
  EXPECT_EQ(AwaitCounter(*t, "sip_refers_declined_total", "sip/alice", 1), 1u);
  ASSERT_TRUE(itest::Drop(t->telephony(), id).ok());
  EXPECT_EQ(sipp.Wait(kWait), 0) << sipp.ReadLog();
  EXPECT_EQ(CounterOf(*t, "sip_holds_total", "sip/alice"), 1u);
  EXPECT_EQ(CounterOf(*t, "sip_remote_holds_total", "sip/alice"), 1u);
}

TEST_F(SipFeaturesTest, ARefusedHoldFailsTheRequestAndLeavesTheCall) {
  auto t = StartServer();
  ASSERT_NE(t, nullptr);
  EventReader reader(t->telephony(), v1::SubscribeRequest());
  ASSERT_TRUE(reader.Next().has_value());  // the snapshot: subscribed
  ChildProcess sipp;
  const std::string id = CallSipp(*t, sipp, {.scenario = "uas_hold_refused.xml"});
  ASSERT_TRUE(reader.WaitFor(IsCallState(id, v1::CALL_STATE_CONNECTED), kWait));
  ExpectRefusedBySip(*t, CallAction(t->telephony(), &Stub::Hold, id), "488", "sip/alice");
  ASSERT_TRUE(itest::Drop(t->telephony(), id).ok());
  EXPECT_EQ(sipp.Wait(kWait), 0) << sipp.ReadLog();
  EXPECT_EQ(CounterOf(*t, "sip_holds_total", "sip/alice"), 0u);
}

// Blind transfers of a call to a sipp transferee (uas_transferee*.xml: 202,
// a 100 sipfrag, then the final `frag`).
class SipBlindTransferTest : public SipFeaturesTest {
 protected:
  // The server, subscribed, with a connected call to the transferee; its id.
  std::string ConnectedToTransferee(const char* scenario, const char* frag) {
    t_ = StartServer();
    if (t_ == nullptr) return "";
    reader_ = std::make_unique<EventReader>(t_->telephony(), v1::SubscribeRequest());
    if (!reader_->Next().has_value()) return "";  // the snapshot: subscribed
    const std::string id =
        CallSipp(*t_, sipp_,
                 {.scenario = scenario,
                  .keys = {{"target", "sip:5550199@127.0.0.1"}, {"frag", frag}}});
    if (!reader_->WaitFor(IsCallState(id, v1::CALL_STATE_CONNECTED), kWait)) return "";
    return id;
  }
  grpc::Status Transfer(const std::string& id, const std::string& destination, v1::Call* resp,
                        absl::Duration deadline = itest::kTimeout) {
    v1::BlindTransferRequest req;
    req.set_call_id(id);
    req.set_destination(destination);
    return Rpc(t_->telephony(), &Stub::BlindTransfer, req, resp, deadline);
  }

  std::unique_ptr<TestServer> t_;
  std::unique_ptr<EventReader> reader_;
  ChildProcess sipp_;
};

TEST_F(SipBlindTransferTest, BlindTransferCompletesAndTheCallEnds) {
  const std::string id = ConnectedToTransferee("uas_transferee.xml", "200 OK");
  ASSERT_FALSE(id.empty());
  v1::Call resp;
  // A destination the line cannot dial is refused up front.
  EXPECT_FALSE(Transfer(id, "sip:bad target", &resp).ok());
  // A SIP line takes a URI.
  ASSERT_TRUE(Transfer(id, "sip:5550199@127.0.0.1", &resp).ok());
  // The reply came with the outcome: the 200 sipfrag ended this line's part,
  // the call is idle and the line hangs up (BYE).
  EXPECT_EQ(resp.status().state(), v1::CALL_STATE_IDLE);
  ASSERT_TRUE(reader_->WaitFor(IsCallState(id, v1::CALL_STATE_IDLE), kWait));
  EXPECT_EQ(sipp_.Wait(kWait), 0) << sipp_.ReadLog();
  EXPECT_EQ(CounterOf(*t_, "sip_transfers_total", "sip/alice"), 1u);
}

// A target that rings a while (its answer comes 4 s after the REFER): the
// reply waits for it, and comes with the call idle.
TEST_F(SipBlindTransferTest, BlindTransferWaitsForATargetThatRings) {
  const std::string id = ConnectedToTransferee("uas_transferee_slow.xml", "200 OK");
  ASSERT_FALSE(id.empty());
  v1::Call resp;
  const absl::Time sent = MonotonicNow();
  const grpc::Status s = Transfer(id, "5550199", &resp, absl::Seconds(15));
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_GE(MonotonicNow() - sent, absl::Seconds(3.5));
  EXPECT_EQ(resp.status().state(), v1::CALL_STATE_IDLE);
  ASSERT_TRUE(reader_->WaitFor(IsCallState(id, v1::CALL_STATE_IDLE), kWait));
  EXPECT_EQ(sipp_.Wait(kWait), 0) << sipp_.ReadLog();
  EXPECT_EQ(CounterOf(*t_, "sip_transfers_total", "sip/alice"), 1u);
}

// The same target ringing, then not answering: the reply says so, and the
// call stays.
TEST_F(SipBlindTransferTest, BlindTransferToATargetThatRingsAndFailsReportsIt) {
  const std::string id =
      ConnectedToTransferee("uas_transferee_slow.xml", "480 Temporarily Unavailable");
  ASSERT_FALSE(id.empty());
  v1::Call resp;
  ExpectRefusedBySip(*t_, Transfer(id, "5550199", &resp, absl::Seconds(15)), "480",
                     "sip/alice");
  EXPECT_EQ(CounterOf(*t_, "sip_transfer_failures_total", "sip/alice"), 1u);
  ASSERT_TRUE(itest::Drop(t_->telephony(), id).ok());
  EXPECT_EQ(sipp_.Wait(kWait), 0) << sipp_.ReadLog();
}

// A client whose deadline comes before the target answers is answered OK
// (under way) before its deadline, never DEADLINE_EXCEEDED; the call goes
// idle once the transferee reports the answer.
TEST_F(SipBlindTransferTest, AShortClientDeadlineIsAnsweredAsUnderWay) {
  const std::string id = ConnectedToTransferee("uas_transferee_slow.xml", "200 OK");
  ASSERT_FALSE(id.empty());
  v1::Call resp;
  const grpc::Status s = Transfer(id, "5550199", &resp, absl::Seconds(2));
  ASSERT_TRUE(s.ok()) << s.error_code() << " " << s.error_message();
  EXPECT_EQ(resp.status().state(), v1::CALL_STATE_CONNECTED);
  ASSERT_TRUE(reader_->WaitFor(IsCallState(id, v1::CALL_STATE_IDLE), kWait));
  EXPECT_EQ(sipp_.Wait(kWait), 0) << sipp_.ReadLog();
  EXPECT_EQ(CounterOf(*t_, "sip_transfers_total", "sip/alice"), 1u);
}

TEST_F(SipBlindTransferTest, BlindTransferThatFailsLeavesTheCall) {
  const std::string id = ConnectedToTransferee("uas_transferee.xml", "486 Busy Here");
  ASSERT_FALSE(id.empty());
  v1::Call resp;
  // The reply waits for the transferee's final sipfrag and reports it.
  // Still connected: the application hangs up itself.
  ExpectRefusedBySip(*t_, Transfer(id, "5550199", &resp), "486", "sip/alice");
  EXPECT_EQ(CounterOf(*t_, "sip_transfer_failures_total", "sip/alice"), 1u);
  ASSERT_TRUE(itest::Drop(t_->telephony(), id).ok());
  EXPECT_EQ(sipp_.Wait(kWait), 0) << sipp_.ReadLog();
  EXPECT_EQ(CounterOf(*t_, "sip_transfers_total", "sip/alice"), 0u);
}

TEST_F(SipFeaturesTest, ConsultationTransferByReferWithReplaces) {
  auto t = StartServer();
  ASSERT_NE(t, nullptr);
  EventReader reader(t->telephony(), v1::SubscribeRequest());
  ASSERT_TRUE(reader.Next().has_value());  // the snapshot: subscribed
  ChildProcess sipp;
  const std::string held = CallSipp(*t, sipp, {.scenario = "uas_attended.xml", .calls = 2});
  ASSERT_TRUE(reader.WaitFor(IsCallState(held, v1::CALL_STATE_CONNECTED), kWait));
  v1::SetupTransferRequest setup;
  setup.set_call_id(held);
  v1::SetupTransferResponse setup_resp;
  ASSERT_TRUE(Rpc(t->telephony(), &Stub::SetupTransfer, setup, &setup_resp).ok());
  const std::string consult = setup_resp.consultation().id();
  EXPECT_EQ(setup_resp.consultation().status().state(), v1::CALL_STATE_DIALTONE);
  EXPECT_EQ(setup_resp.consultation().info().related_kind(), v1::RELATED_CALL_KIND_CONSULTATION);
  ASSERT_TRUE(reader.WaitFor(IsCallState(held, v1::CALL_STATE_ONHOLDPENDTRANSFER), kWait));
  v1::DialRequest dial;
  dial.set_call_id(consult);
  dial.set_destination("555 0177");
  v1::Call resp;
  ASSERT_TRUE(Rpc(t->telephony(), &Stub::Dial, dial, &resp).ok());
  ASSERT_TRUE(reader.WaitFor(IsCallState(consult, v1::CALL_STATE_CONNECTED), kWait));
  // A conference is not something a SIP line makes.
  v1::CompleteTransferRequest conf;
  conf.set_call_id(held);
  conf.set_consultation_call_id(consult);
  conf.set_mode(v1::TRANSFER_MODE_CONFERENCE);
  v1::CompleteTransferResponse done;
  EXPECT_EQ(Rpc(t->telephony(), &Stub::CompleteTransfer, conf, &done).error_code(),
            grpc::StatusCode::INVALID_ARGUMENT);
  v1::CompleteTransferRequest complete;
  complete.set_call_id(held);
  complete.set_consultation_call_id(consult);
  ASSERT_TRUE(Rpc(t->telephony(), &Stub::CompleteTransfer, complete, &done).ok());
  // The transferee's 200 sipfrag ends both of the line's calls.
  ASSERT_TRUE(reader.WaitFor(IsCallState(held, v1::CALL_STATE_IDLE), kWait));
  ASSERT_TRUE(reader.WaitFor(IsCallState(consult, v1::CALL_STATE_IDLE), kWait));
  EXPECT_EQ(sipp.Wait(kWait), 0) << sipp.ReadLog();
  EXPECT_EQ(CounterOf(*t, "sip_transfers_total", "sip/alice"), 1u);
}

TEST_F(SipFeaturesTest, DroppedConsultationLeavesTheCallOnHold) {
  auto t = StartServer();
  ASSERT_NE(t, nullptr);
  EventReader reader(t->telephony(), v1::SubscribeRequest());
  ASSERT_TRUE(reader.Next().has_value());  // the snapshot: subscribed
  ChildProcess sipp;
  const std::string held =
      CallSipp(*t, sipp, {.scenario = "uas_consult_dropped.xml", .calls = 2});
  ASSERT_TRUE(reader.WaitFor(IsCallState(held, v1::CALL_STATE_CONNECTED), kWait));
  v1::SetupTransferRequest setup;
  setup.set_call_id(held);
  v1::SetupTransferResponse setup_resp;
  ASSERT_TRUE(Rpc(t->telephony(), &Stub::SetupTransfer, setup, &setup_resp).ok());
  const std::string consult = setup_resp.consultation().id();
  // The line takes no other call meanwhile.
  v1::Call other;
  EXPECT_EQ(itest::MakeCall(t->telephony(), "sip/alice", "5550111", &other).error_code(),
            grpc::StatusCode::RESOURCE_EXHAUSTED);
  v1::DialRequest dial;
  dial.set_call_id(consult);
  dial.set_destination("5550177");
  v1::Call resp;
  ASSERT_TRUE(Rpc(t->telephony(), &Stub::Dial, dial, &resp).ok());
  ASSERT_TRUE(reader.WaitFor(IsCallState(consult, v1::CALL_STATE_CONNECTED), kWait));
  ASSERT_TRUE(itest::Drop(t->telephony(), consult).ok());
  ASSERT_TRUE(reader.WaitFor(IsCallState(held, v1::CALL_STATE_ONHOLD), kWait));
  ASSERT_TRUE(itest::Drop(t->telephony(), held).ok());
  EXPECT_EQ(sipp.Wait(kWait), 0) << sipp.ReadLog();
}

TEST_F(SipFeaturesTest, DialsASipUri) {
  auto t = StartServer();
  ASSERT_NE(t, nullptr);
  EventReader reader(t->telephony(), v1::SubscribeRequest());
  ASSERT_TRUE(reader.Next().has_value());  // the snapshot: subscribed
  ChildProcess sipp;
  SippOptions o{.scenario = "uas_answer.xml"};
  o.port = far_port_;
  ASSERT_TRUE(StartSipp(sipp, o, dir_));
  v1::Call bad;
  EXPECT_EQ(itest::MakeCall(t->telephony(), "sip/alice", "sip:carol @127.0.0.1", &bad).error_code(),
            grpc::StatusCode::INVALID_ARGUMENT);
  v1::Call call;
  ASSERT_TRUE(itest::MakeCall(t->telephony(), "sip/alice", "sip:carol@127.0.0.1", &call).ok());
  EXPECT_EQ(call.info().called().number(), "sip:carol@127.0.0.1");
  ASSERT_TRUE(reader.WaitFor(IsCallState(call.id(), v1::CALL_STATE_CONNECTED), kWait));
  ASSERT_TRUE(itest::Drop(t->telephony(), call.id()).ok());
  EXPECT_EQ(sipp.Wait(kWait), 0) << sipp.ReadLog();
  EXPECT_THAT(sipp.ReadLog() + ReadFile(dir_ + "/uas_answer_messages.log"),
              ::testing::HasSubstr("INVITE sip:carol@127.0.0.1 SIP/2.0"));
}

TEST_F(SipFeaturesTest, DivertedCallsCarryRedirectingIdsAndAreRedirected) {
  auto t = StartServer();
  ASSERT_NE(t, nullptr);
  const struct {
    const char* header;
    const char* number;
    const char* name;
    v1::CallReason reason;
  } cases[] = {
      {"Diversion: \"Bob Boss\" <sip:3000@127.0.0.1>;reason=user-busy;counter=1", "3000",
       "Bob Boss", v1::CALL_REASON_FWDBUSY},
      {"History-Info: <sip:3001@127.0.0.1>;index=1, <sip:alice@127.0.0.1;cause=408>;index=1.1",
       "3001", "", v1::CALL_REASON_FWDNOANSWER},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.header);
    EventReader reader(t->telephony(), v1::SubscribeRequest());
    ASSERT_TRUE(reader.Next().has_value());  // the snapshot: subscribed
    ChildProcess sipp;
    ASSERT_TRUE(CallAlice(sipp, {.scenario = "uac_diverted.xml",
                                 .keys = {{"diversion", c.header},
                                          {"target", "sip:5550142@127.0.0.1"}}}));
    auto created = reader.WaitFor(IsNewCallOn("sip/alice"), kWait);
    ASSERT_TRUE(created.has_value());
    const v1::Call& call = created->call_created().call();
    EXPECT_EQ(call.info().reason(), c.reason);
    EXPECT_EQ(call.info().redirecting().number(), c.number);
    EXPECT_EQ(call.info().redirecting().name(), c.name);
    EXPECT_EQ(call.info().redirection().number(), "alice");
    v1::RedirectRequest req;
    req.set_call_id(call.id());
    req.set_destination("555 0142");
    v1::Call resp;
    ASSERT_TRUE(Rpc(t->telephony(), &Stub::Redirect, req, &resp).ok());
    ASSERT_TRUE(reader.WaitFor(IsCallState(call.id(), v1::CALL_STATE_IDLE), kWait));
    EXPECT_EQ(sipp.Wait(kWait), 0) << sipp.ReadLog();
  }
  EXPECT_EQ(CounterOf(*t, "sip_redirects_total", "sip/alice"), 2u);
}

TEST_F(SipFeaturesTest, DigitsBothWaysAsTelephoneEventsAndInfo) {
  auto t = StartServer();
  ASSERT_NE(t, nullptr);
  EventReader reader(t->telephony(), v1::SubscribeRequest());
  ASSERT_TRUE(reader.Next().has_value());  // the snapshot: subscribed
  ChildProcess sipp;
  const std::string id = CallSipp(*t, sipp, {.scenario = "uas_dtmf.xml"});
  ASSERT_TRUE(Monitor(t->telephony(), id).ok());
  ASSERT_TRUE(reader.WaitFor(IsCallState(id, v1::CALL_STATE_CONNECTED), kWait));
  // The far end presses 5 (dtmf-relay) and 9 (application/dtmf) in INFOs.
  ASSERT_TRUE(reader.WaitFor(IsDigit(id, "9"), kWait));
  // The line's digits go out as telephone-events on the far end's payload
  // type 96; sipp echoes the RTP, so they come back as digits, each once.
  ASSERT_TRUE(Generate(t->telephony(), id, "1*#").ok());
  // Until both the generation's end and the last echoed digit were seen,
  // in whichever order they come.
  std::string echoed;
  bool generated = false;
  ASSERT_TRUE(reader.WaitFor(
      [&](const v1::Event& ev) {
        if (ev.has_digits_generated()) generated = true;
        if (ev.has_digit() && ev.digit().call_id() == id) echoed += ev.digit().digit();
        return generated && echoed.size() >= 3;
      },
      kWait));
  EXPECT_EQ(echoed, "1*#");
  EXPECT_EQ(CounterOf(*t, "sip_dtmf_digits_sent_total", "sip/alice"), 3u);
  EXPECT_EQ(CounterOf(*t, "sip_dtmf_digits_received_total", "sip/alice"), 5u);
  // Pulse digits are not something a SIP line makes.
  v1::GenerateDigitsRequest pulse;
  pulse.set_call_id(id);
  pulse.set_digits("1");
  pulse.set_mode(v1::DIGIT_MODE_PULSE);
  v1::Call resp;
  EXPECT_EQ(Rpc(t->telephony(), &Stub::GenerateDigits, pulse, &resp).error_code(),
            grpc::StatusCode::INVALID_ARGUMENT);
  ASSERT_TRUE(itest::Drop(t->telephony(), id).ok());
  EXPECT_EQ(sipp.Wait(kWait), 0) << sipp.ReadLog();
}

TEST_F(SipFeaturesTest, DigitsGoAsInfoWhenTheFarEndHasNoTelephoneEvents) {
  auto t = StartServer();
  ASSERT_NE(t, nullptr);
  EventReader reader(t->telephony(), v1::SubscribeRequest());
  ASSERT_TRUE(reader.Next().has_value());  // the snapshot: subscribed
  ChildProcess sipp;
  const std::string id = CallSipp(*t, sipp, {.scenario = "uas_info_dtmf.xml"});
  ASSERT_TRUE(reader.WaitFor(IsCallState(id, v1::CALL_STATE_CONNECTED), kWait));
  ASSERT_TRUE(Generate(t->telephony(), id, "4#").ok());
  ASSERT_TRUE(reader.WaitFor([](const v1::Event& ev) { return ev.has_digits_generated(); },
                             kWait));
  ASSERT_TRUE(itest::Drop(t->telephony(), id).ok());
  EXPECT_EQ(sipp.Wait(kWait), 0) << sipp.ReadLog();
}

TEST_F(SipFeaturesTest, SessionRefreshThatFailsEndsTheCall) {
  auto t = StartServer("session_expires_s: 2");
  ASSERT_NE(t, nullptr);
  EventReader reader(t->telephony(), v1::SubscribeRequest());
  ASSERT_TRUE(reader.Next().has_value());  // the snapshot: subscribed
  ChildProcess sipp;
  const std::string id = CallSipp(*t, sipp, {.scenario = "uas_session_timer.xml"});
  ASSERT_TRUE(reader.WaitFor(IsCallState(id, v1::CALL_STATE_CONNECTED), kWait));
  // One refresh is answered, the next refused: the call ends.
  ASSERT_TRUE(reader.WaitFor(IsDisconnected(id, v1::DISCONNECT_MODE_UNAVAIL), kWait));
  EXPECT_EQ(sipp.Wait(kWait), 0) << sipp.ReadLog();
  EXPECT_EQ(CounterOf(*t, "sip_session_refresh_failures_total", "sip/alice"), 1u);
  ASSERT_TRUE(itest::Drop(t->telephony(), id).ok());
}

TEST_F(SipFeaturesTest, SessionWithASilentRefresherIsRefreshedByTheLine) {
  auto t = StartServer("session_expires_s: 2");
  ASSERT_NE(t, nullptr);
  EventReader reader(t->telephony(), v1::SubscribeRequest());
  ASSERT_TRUE(reader.Next().has_value());  // the snapshot: subscribed
  ChildProcess sipp;
  const std::string id = CallSipp(*t, sipp, {.scenario = "uas_session_expires.xml"});
  ASSERT_TRUE(reader.WaitFor(IsCallState(id, v1::CALL_STATE_CONNECTED), kWait));
  // The far end took the refresher role and stays silent: the line
  // refreshes (sipp requires the re-INVITE) and the call lives on until the
  // far end hangs up.
  ASSERT_TRUE(reader.WaitFor(IsDisconnected(id, v1::DISCONNECT_MODE_NORMAL), kWait));
  EXPECT_EQ(sipp.Wait(kWait), 0) << sipp.ReadLog();
  EXPECT_EQ(CounterOf(*t, "sip_session_refresh_failures_total", "sip/alice"), 0u);
  ASSERT_TRUE(itest::Drop(t->telephony(), id).ok());
}

}  // namespace
}  // namespace linebridge
