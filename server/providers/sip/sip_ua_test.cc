// SIP user-agent lines against real peers on 127.0.0.1: kamailio as the
// registrar (digest auth), sipp scenarios (testing/*.xml) as the far ends,
// and raw UDP for malformed input. Everything is driven the way an
// application does it: over gRPC to a real server, waiting on its events.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>
#include <sstream>
#include <memory>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "providers/builtin.h"
#include "providers/sip/testing/sip_peers.h"
#include "providers/sip/testing/sip_ua_fixture.h"
#include "test_server.h"
#include "linebridge/deadline.h"

namespace linebridge {
namespace {

using itest::EventReader;
using itest::IsCallState;
using itest::TestServer;
using sip::testing::ChildProcess;
using sip::testing::CounterOf;
using sip::testing::IsDisconnected;
using sip::testing::IsLineState;
using sip::testing::IsNewCallOn;
using sip::testing::kWait;
using sip::testing::SipUaFixture;
using sip::testing::FreePort;
using sip::testing::SippOptions;
using sip::testing::StartKamailio;
using sip::testing::StartSipp;
using ::testing::HasSubstr;

// The line's state in a fresh snapshot.
v1::LineState LineStateOf(TestServer& t, const std::string& line) {
  EventReader reader(t.telephony(), v1::SubscribeRequest());
  auto first = reader.Next();
  if (!first.has_value()) return v1::LINE_STATE_UNSPECIFIED;
  for (const auto& l : first->snapshot().lines()) {
    if (l.id() == line) return l.status().state();
  }
  return v1::LINE_STATE_UNSPECIFIED;
}

class SipUaTest : public SipUaFixture {
 protected:
  std::string CallSipp(TestServer& t, EventReader&, ChildProcess& sipp, SippOptions options,
                       const std::string& line = "sip/alice") {
    return SipUaFixture::CallSipp(t, sipp, std::move(options), line);
  }
};

TEST_F(SipUaTest, OutboundAnsweredThenCallerHangsUp) {
  auto t = StartServer();
  ASSERT_NE(t, nullptr);
  EventReader reader(t->telephony(), v1::SubscribeRequest());
  ASSERT_TRUE(reader.Next().has_value());  // the snapshot: subscribed
  ChildProcess sipp;
  const std::string id = CallSipp(*t, reader, sipp, {.scenario = "uas_answer.xml"});
  ASSERT_TRUE(reader.WaitFor(IsCallState(id, v1::CALL_STATE_RINGBACK), kWait));
  ASSERT_TRUE(reader.WaitFor(IsCallState(id, v1::CALL_STATE_CONNECTED), kWait));
  // sipp echoes the RTP silence the line sends: wait for some to come back.
  const absl::Time deadline = MonotonicNow() + kWait;
  while (CounterOf(*t, "sip_rtp_packets_received_total", "sip/alice") < 3 &&
         MonotonicNow() < deadline) {
    absl::SleepFor(absl::Milliseconds(20));  // the media flows by itself
  }
  EXPECT_GE(CounterOf(*t, "sip_rtp_packets_received_total", "sip/alice"), 3u);
  EXPECT_GE(CounterOf(*t, "sip_rtp_packets_sent_total", "sip/alice"), 3u);
  ASSERT_TRUE(itest::Drop(t->telephony(), id).ok());
  EXPECT_EQ(sipp.Wait(kWait), 0) << sipp.ReadLog();
}

TEST_F(SipUaTest, OutboundAnsweredThenFarEndHangsUpOverTcp) {
  auto t = StartServer();
  ASSERT_NE(t, nullptr);
  EventReader reader(t->telephony(), v1::SubscribeRequest());
  ASSERT_TRUE(reader.Next().has_value());  // the snapshot: subscribed
  ChildProcess sipp;
  const std::string id =
      CallSipp(*t, reader, sipp,
               {.scenario = "uas_answer_hangup.xml", .tcp = true},
               "sip/bob");
  ASSERT_TRUE(reader.WaitFor(IsCallState(id, v1::CALL_STATE_CONNECTED), kWait));
  ASSERT_TRUE(reader.WaitFor(IsDisconnected(id, v1::DISCONNECT_MODE_NORMAL), kWait));
  EXPECT_EQ(sipp.Wait(kWait), 0) << sipp.ReadLog();
  ASSERT_TRUE(itest::Drop(t->telephony(), id).ok());
}

// A tel: URI (RFC 3966) is dialled as RFC 3261 section 19.1.6 maps it
// (sipp checks the request URI); a malformed one is refused up front.
TEST_F(SipUaTest, TelUriIsDialledAsAUserPhoneSipUri) {
  auto t = StartServer();
  ASSERT_NE(t, nullptr);
  EventReader reader(t->telephony(), v1::SubscribeRequest());
  ASSERT_TRUE(reader.Next().has_value());  // the snapshot: subscribed
  v1::Call refused;
  const grpc::Status bad = itest::MakeCall(t->telephony(), "sip/alice", "tel:555x0100", &refused);
  EXPECT_EQ(bad.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << bad.error_message();
  EXPECT_EQ(itest::TapiErrorOf(bad), LINEERR_INVALADDRESS);
  ChildProcess sipp;
  const std::string id = SipUaFixture::CallSipp(*t, sipp, {.scenario = "uas_tel.xml"},
                                                "sip/alice", "tel:+1-555-0100");
  ASSERT_TRUE(reader.WaitFor(IsCallState(id, v1::CALL_STATE_CONNECTED), kWait));
  ASSERT_TRUE(reader.WaitFor(IsDisconnected(id, v1::DISCONNECT_MODE_NORMAL), kWait));
  EXPECT_EQ(sipp.Wait(kWait), 0) << sipp.ReadLog();
  ASSERT_TRUE(itest::Drop(t->telephony(), id).ok());
}

TEST_F(SipUaTest, FailureResponsesMapToDisconnectModes) {
  auto t = StartServer();
  ASSERT_NE(t, nullptr);
  const struct {
    const char* code;
    const char* reason;
    v1::DisconnectMode mode;
  } cases[] = {
      {"486", "Busy Here", v1::DISCONNECT_MODE_BUSY},
      {"404", "Not Found", v1::DISCONNECT_MODE_BADADDRESS},
      {"484", "Address Incomplete", v1::DISCONNECT_MODE_BADADDRESS},
      {"480", "Temporarily Unavailable", v1::DISCONNECT_MODE_NOANSWER},
      {"408", "Request Timeout", v1::DISCONNECT_MODE_NOANSWER},
      {"603", "Decline", v1::DISCONNECT_MODE_REJECT},
      {"503", "Service Unavailable", v1::DISCONNECT_MODE_CONGESTION},
      {"488", "Not Acceptable Here", v1::DISCONNECT_MODE_INCOMPATIBLE},
      {"500", "Server Internal Error", v1::DISCONNECT_MODE_UNAVAIL},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.code);
    EventReader reader(t->telephony(), v1::SubscribeRequest());
    ASSERT_TRUE(reader.Next().has_value());  // the snapshot: subscribed
    // sipp takes no response code from the command line: one scenario per code.
    std::ifstream in(sip::testing::ScenarioDir() + "/uas_reject.xml");
    std::stringstream ss;
    ss << in.rdbuf();
    std::string xml = ss.str();
    for (size_t at; (at = xml.find("[code] [reason]")) != std::string::npos;) {
      xml.replace(at, 15, absl::StrCat(c.code, " ", c.reason));
    }
    const std::string file = absl::StrCat(dir_, "/uas_reject_", c.code, ".xml");
    std::ofstream(file) << xml;
    ChildProcess sipp;
    const std::string id = CallSipp(*t, reader, sipp, {.scenario = file});
    EXPECT_TRUE(reader.WaitFor(IsDisconnected(id, c.mode), kWait));
    EXPECT_EQ(sipp.Wait(kWait), 0) << sipp.ReadLog();
    ASSERT_TRUE(itest::Drop(t->telephony(), id).ok());
  }
}

TEST_F(SipUaTest, NoAnswerDropSendsCancel) {
  auto t = StartServer();
  ASSERT_NE(t, nullptr);
  EventReader reader(t->telephony(), v1::SubscribeRequest());
  ASSERT_TRUE(reader.Next().has_value());  // the snapshot: subscribed
  ChildProcess sipp;
  const std::string id = CallSipp(*t, reader, sipp, {.scenario = "uas_ring_cancel.xml"});
  ASSERT_TRUE(reader.WaitFor(IsCallState(id, v1::CALL_STATE_RINGBACK), kWait));
  // The application gives up on the ringing call.
  ASSERT_TRUE(itest::Drop(t->telephony(), id).ok());
  EXPECT_EQ(sipp.Wait(kWait), 0) << sipp.ReadLog();
}

TEST_F(SipUaTest, InboundCallerIdAnswerAndRemoteBye) {
  auto t = StartServer();
  ASSERT_NE(t, nullptr);
  EventReader reader(t->telephony(), v1::SubscribeRequest());
  ASSERT_TRUE(reader.Next().has_value());  // the snapshot: subscribed
  ChildProcess sipp;
  SippOptions o{.scenario = "uac_call.xml",
                .remote = absl::StrCat("127.0.0.1:", alice_port_),
                .service = "alice",
};
  o.port = FreePort();
  ASSERT_TRUE(StartSipp(sipp, o, dir_));
  auto created = reader.WaitFor(IsNewCallOn("sip/alice"), kWait);
  ASSERT_TRUE(created.has_value());
  const v1::Call& call = created->call_created().call();
  EXPECT_EQ(call.status().state(), v1::CALL_STATE_OFFERING);
  EXPECT_EQ(call.info().origin(), v1::CALL_ORIGIN_INBOUND);
  EXPECT_EQ(call.info().caller().number(), "5551234");  // P-Asserted-Identity over From
  EXPECT_EQ(call.info().caller().name(), "Carol Caller");
  EXPECT_EQ(call.info().called().number(), "alice");
  EXPECT_EQ(call.info().called().name(), "Alice");
  ASSERT_TRUE(itest::Answer(t->telephony(), call.id()).ok());
  ASSERT_TRUE(reader.WaitFor(IsCallState(call.id(), v1::CALL_STATE_CONNECTED), kWait));
  ASSERT_TRUE(reader.WaitFor(IsDisconnected(call.id(), v1::DISCONNECT_MODE_NORMAL), kWait));
  EXPECT_EQ(sipp.Wait(kWait), 0) << sipp.ReadLog();
  ASSERT_TRUE(itest::Drop(t->telephony(), call.id()).ok());
}

TEST_F(SipUaTest, InboundDroppedWhileOfferingIsDeclined) {
  auto t = StartServer();
  ASSERT_NE(t, nullptr);
  EventReader reader(t->telephony(), v1::SubscribeRequest());
  ASSERT_TRUE(reader.Next().has_value());  // the snapshot: subscribed
  ChildProcess sipp;
  SippOptions o{.scenario = "uac_rejected.xml",
                .remote = absl::StrCat("127.0.0.1:", alice_port_),
                .service = "alice",
};
  o.port = FreePort();
  ASSERT_TRUE(StartSipp(sipp, o, dir_));
  auto created = reader.WaitFor(IsNewCallOn("sip/alice"), kWait);
  ASSERT_TRUE(created.has_value());
  ASSERT_TRUE(itest::Drop(t->telephony(), created->call_created().call().id()).ok());
  EXPECT_EQ(sipp.Wait(kWait), 0) << sipp.ReadLog();
}

// Waits (on events, after a snapshot) until `line` is in `state`.
bool AwaitLineState(TestServer& t, const std::string& line, v1::LineState state,
                    absl::Duration timeout = kWait) {
  EventReader reader(t.telephony(), v1::SubscribeRequest());
  auto first = reader.Next();
  if (!first.has_value()) return false;
  for (const auto& l : first->snapshot().lines()) {
    if (l.id() == line && l.status().state() == state) return true;
  }
  return reader.WaitFor(IsLineState(line, state), timeout).has_value();
}

TEST_F(SipUaTest, RegisterWithDigestAuthAndWrongPassword) {
  const int registrar = FreePort();
  ChildProcess kamailio;
  std::string error;
  ASSERT_TRUE(StartKamailio(kamailio, registrar, "s3cret", dir_, &error)) << error;
  const std::string good = dir_ + "/good_pw";
  std::ofstream(good) << "s3cret\n";
  ::setenv("SIP_UA_TEST_BAD_PW", "wrong-secret", 1);
  const std::string config = absl::StrFormat(
      R"(providers { sip { accounts { name: "good" uri: "sip:good@127.0.0.1" local_port: %d
          registrar: "127.0.0.1:%d" auth_user: "good" password_file: "%s" }
        accounts { name: "bad" uri: "sip:bad@127.0.0.1" local_port: %d
          registrar: "127.0.0.1:%d" auth_user: "bad" password_env: "SIP_UA_TEST_BAD_PW"
          register_retry_s: 60 } } })",
      alice_port_, registrar, good, bob_port_, registrar);
  auto t = TestServer::Start(config);
  ASSERT_NE(t, nullptr);
  EXPECT_TRUE(AwaitLineState(*t, "sip/good", v1::LINE_STATE_IN_SERVICE));
  // The wrong password is refused once: a failure is counted and the line
  // stays out of service.
  const absl::Time deadline = MonotonicNow() + kWait;
  while (CounterOf(*t, "sip_registration_failures_total", "sip/bad") == 0 &&
         MonotonicNow() < deadline) {
    absl::SleepFor(absl::Milliseconds(20));  // waiting for the registrar's answer
  }
  EXPECT_EQ(CounterOf(*t, "sip_registration_failures_total", "sip/bad"), 1u);
  EXPECT_EQ(LineStateOf(*t, "sip/bad"), v1::LINE_STATE_OUT_OF_SERVICE);
  EXPECT_GE(CounterOf(*t, "sip_registrations_total", "sip/good"), 1u);
  // A call on the unregistered line is refused up front.
  v1::Call call;
  grpc::Status s = itest::MakeCall(t->telephony(), "sip/bad", "100", &call);
  EXPECT_FALSE(s.ok());
  t.reset();
  kamailio.Kill();
}

TEST_F(SipUaTest, RegistrarLostAndBackThenFailoverToBackup) {
  const int primary = FreePort();
  const int backup = FreePort();
  ChildProcess kamailio;
  std::string error;
  ASSERT_TRUE(StartKamailio(kamailio, primary, "pw", dir_, &error)) << error;
  ::setenv("SIP_UA_TEST_PW", "pw", 1);
  const std::string config = absl::StrFormat(
      R"(providers { sip { accounts { name: "alice" uri: "sip:alice@127.0.0.1" local_port: %d
          registrar: "127.0.0.1:%d" backup_registrar: "127.0.0.1:%d" auth_user: "alice"
          password_env: "SIP_UA_TEST_PW" register_expiry_s: 5 register_retry_s: 1
          transport: SIP_TRANSPORT_TCP } } })",
      alice_port_, primary, backup);
  auto t = TestServer::Start(config);
  ASSERT_NE(t, nullptr);
  ASSERT_TRUE(AwaitLineState(*t, "sip/alice", v1::LINE_STATE_IN_SERVICE));
  // The registrar goes away: the next refresh fails on both registrars.
  kamailio.Kill();
  EXPECT_TRUE(AwaitLineState(*t, "sip/alice", v1::LINE_STATE_OUT_OF_SERVICE, absl::Seconds(15)));
  // The backup registrar comes up: the retry finds it.
  ChildProcess second;
  ASSERT_TRUE(StartKamailio(second, backup, "pw", dir_, &error)) << error;
  EXPECT_TRUE(AwaitLineState(*t, "sip/alice", v1::LINE_STATE_IN_SERVICE, absl::Seconds(15)));
  t.reset();
  second.Kill();
}

// Sends `datagram` to 127.0.0.1:`port` over UDP.
void SendRaw(int port, const std::string& datagram) {
  const int fd = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  ASSERT_GE(fd, 0);
  sockaddr_in to{};
  to.sin_family = AF_INET;
  to.sin_port = htons(static_cast<uint16_t>(port));
  to.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  (void)::sendto(fd, datagram.data(), datagram.size(), 0, reinterpret_cast<sockaddr*>(&to),
                 sizeof(to));
  ::close(fd);
}

std::string Request(const std::string& method, int port, const std::string& extra_headers,
                    const std::string& body, int n) {
  return absl::StrCat(method, " sip:alice@127.0.0.1:", port, " SIP/2.0\r\n",
                      "Via: SIP/2.0/UDP 127.0.0.1:9;branch=z9hG4bKraw", n, "\r\n",
                      "From: <sip:raw@127.0.0.1>;tag=r", n, "\r\n", "To: <sip:alice@127.0.0.1>\r\n",
                      "Call-ID: raw-", n, "@127.0.0.1\r\n", "CSeq: 1 ", method, "\r\n",
                      "Max-Forwards: 70\r\n", extra_headers, "Content-Length: ", body.size(),
                      "\r\n\r\n", body);
}

TEST_F(SipUaTest, MalformedSipIsSurvived) {
  auto t = StartServer();
  ASSERT_NE(t, nullptr);
  const std::string full = Request("INVITE", alice_port_, "", "", 1);
  SendRaw(alice_port_, full.substr(0, full.size() / 2));                       // truncated
  SendRaw(alice_port_, Request("OPTIONS", alice_port_,
                               "X-Huge: " + std::string(60000, 'a') + "\r\n", "", 2));  // huge
  SendRaw(alice_port_, Request("INVITE", alice_port_, "Content-Type: application/sdp\r\n",
                               "v=0\r\nm=audio notaport RTP/AVP x\r\nc=garbage\r\n", 3));  // bad SDP
  SendRaw(alice_port_, Request("FROBNICATE", alice_port_, "", "", 4));  // unknown method
  SendRaw(alice_port_, std::string("\x00\x01\xff garbage \r\n\r\n", 16));
  // The line still works: a complete call afterwards.
  EventReader reader(t->telephony(), v1::SubscribeRequest());
  ASSERT_TRUE(reader.Next().has_value());  // the snapshot: subscribed
  ChildProcess sipp;
  const std::string id = CallSipp(*t, reader, sipp, {.scenario = "uas_answer.xml"});
  ASSERT_TRUE(reader.WaitFor(IsCallState(id, v1::CALL_STATE_CONNECTED), kWait));
  ASSERT_TRUE(itest::Drop(t->telephony(), id).ok());
  EXPECT_EQ(sipp.Wait(kWait), 0) << sipp.ReadLog();
  // The bad-SDP INVITE never became a call the application would see.
  for (const auto& c : itest::CallsOn(t->telephony(), "sip/alice")) {
    EXPECT_NE(c.info().caller().number(), "raw") << c.DebugString();
  }
}

}  // namespace
}  // namespace linebridge
