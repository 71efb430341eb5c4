// SIP phone lines with baresip 1.0 as the desk phone: it registers at
// kamailio (registrar with digest auth, proxy, dialog module, presence with
// dialog-info published by pua_dialoginfo) and is driven over its ctrl_tcp
// module like a user at the phone; sipp plays the far ends. The server is
// driven like an application, over gRPC, on its events.
#include <arpa/inet.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdio>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "linebridge/deadline.h"
#include "providers/builtin.h"
#include "providers/sip/testing/baresip_peer.h"
#include "providers/sip/testing/sip_peers.h"
#include "providers/sip/testing/sip_presence_peer.h"
#include "providers/sip/testing/sip_ua_fixture.h"
#include "test_server.h"

namespace linebridge {
namespace {

using itest::EventReader;
using itest::IsCallState;
using itest::TestServer;
using sip::testing::BaresipOptions;
using sip::testing::BaresipPhone;
using sip::testing::ChildProcess;
using sip::testing::CounterOf;
using sip::testing::ExpectRefusedBySip;
using sip::testing::FreePort;
using sip::testing::IsDisconnected;
using sip::testing::IsLineState;
using sip::testing::IsNewCallOn;
using sip::testing::JsonField;
using sip::testing::kWait;
using sip::testing::ProcessGroupGone;
using sip::testing::StartPresenceKamailio;
using sip::testing::StartSipp;

constexpr char kLine[] = "sip/desk";
constexpr char kPassword[] = "alice-secret";

std::function<bool(const v1::Event&)> IsConnectedMode(const std::string& call_id,
                                                      v1::ConnectedMode mode) {
  return [call_id, mode](const v1::Event& ev) {
    return ev.has_call_state() && ev.call_state().call_id() == call_id &&
           ev.call_state().status().state() == v1::CALL_STATE_CONNECTED &&
           ev.call_state().status().connected_mode() == mode;
  };
}

class SipBaresipPhoneTest : public ::testing::Test {
 protected:
  void SetUp() override {
    RegisterBuiltinProviders();
    dir_ = itest::NewTempDir("sipbaresip");
    pbx_port_ = FreePort();
    far_port_ = FreePort();
    rpc_port_ = FreePort();
    ASSERT_GT(pbx_port_, 0);
    ASSERT_GT(rpc_port_, 0);
    ASSERT_GT(far_port_, 0);
    std::string error;
    // The phone port is unused: calls for alice go to her registered contact.
    ASSERT_TRUE(StartPresenceKamailio(pbx_, pbx_port_, 0, far_port_, dir_, &error, kPassword,
                                      rpc_port_))
        << error;
    pbx_group_ = pbx_.pid();
  }

  void TearDown() override {
    pbx_.Kill();
    EXPECT_TRUE(ProcessGroupGone(pbx_group_));
  }

  void StartPhone(BaresipPhone& phone, bool auto_answer) {
    std::string error;
    ASSERT_TRUE(phone.Start({.user = "alice",
                             .password = kPassword,
                             .registrar_port = pbx_port_,
                             .auto_answer = auto_answer},
                            dir_, &error))
        << error;
  }

  // The server with the phone line watched, and a reader past that event.
  // `pbx_rpc_port`: the line ends the phone's own calls through kamailio's
  // JSON-RPC on that port (0: no pbx_control).
  std::unique_ptr<TestServer> StartWatched(std::unique_ptr<EventReader>* reader,
                                           int pbx_rpc_port = 0) {
    const std::string pbx_control =
        pbx_rpc_port == 0
            ? std::string()
            : absl::StrFormat("pbx_control { kamailio_jsonrpc: \"127.0.0.1:%d\" }", pbx_rpc_port);
    auto t = TestServer::Start(absl::StrFormat(
        R"(providers { sip { name: "sip"
            accounts { name: "ctl" uri: "sip:ctl@127.0.0.1" outbound_proxy: "127.0.0.1:%d" }
            phones { name: "desk" uri: "sip:alice@127.0.0.1" display_name: "Alice's desk"
                     control_account: "ctl" subscribe_expiry_s: 30 } %s } })",
        pbx_port_, pbx_control));
    if (t == nullptr) return nullptr;
    *reader = std::make_unique<EventReader>(t->telephony(), v1::SubscribeRequest());
    auto snapshot = (*reader)->Next();
    if (!snapshot.has_value()) return nullptr;
    bool in_service = false;
    for (const auto& l : snapshot->snapshot().lines()) {
      if (l.id() == kLine) in_service = l.status().state() == v1::LINE_STATE_IN_SERVICE;
    }
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

  // The phone (auto-answering), the server watching it and a sipp
  // destination running `scenario`; a click-to-dial call placed and
  // connected at both ends. Its id, or "" (with a failure reported).
  std::string ConnectedClickToDial(BaresipPhone& phone, ChildProcess& far,
                                   const sip::testing::SippOptions& destination) {
    StartPhone(phone, /*auto_answer=*/true);
    if (::testing::Test::HasFatalFailure()) return "";
    t_ = StartWatched(&reader_);
    EXPECT_NE(t_, nullptr);
    if (t_ == nullptr) return "";
    sip::testing::SippOptions options = destination;
    options.port = far_port_;
    EXPECT_TRUE(StartSipp(far, options, dir_));
    v1::Call call;
    const grpc::Status s = itest::MakeCall(t_->telephony(), kLine, "2000", &call);
    EXPECT_TRUE(s.ok()) << s.error_message();
    if (!s.ok()) return "";
    if (!reader_->WaitFor(IsCallState(call.id(), v1::CALL_STATE_CONNECTED), kWait)) {
      ADD_FAILURE() << "not connected: " << far.ReadLog();
      return "";
    }
    // The destination's answer reached the phone (in the line's ACK).
    if (!phone.WaitEvent("CALL_REMOTE_SDP", kWait).has_value()) {
      ADD_FAILURE() << "the phone is not in the call: " << phone.ReadLog();
      return "";
    }
    return call.id();
  }

  // The phone (answering by hand), the server watching it with its
  // pbx_control on `pbx_rpc_port`, and a sipp caller through kamailio
  // (uac_via_proxy_ended.xml: it waits for a BYE); the call as offered on
  // the phone line, or one without an id (with a failure reported).
  v1::Call OfferedThroughThePbx(BaresipPhone& phone, ChildProcess& caller, int pbx_rpc_port,
                                const char* scenario = "uac_via_proxy_ended.xml") {
    StartPhone(phone, /*auto_answer=*/false);
    if (::testing::Test::HasFatalFailure()) return v1::Call();
    t_ = StartWatched(&reader_, pbx_rpc_port);
    EXPECT_NE(t_, nullptr);
    if (t_ == nullptr) return v1::Call();
    EXPECT_TRUE(StartSipp(caller,
                          {.scenario = scenario,
                           .port = FreePort(),
                           .remote = absl::StrCat("127.0.0.1:", pbx_port_),
                           .service = "alice"},
                          dir_));
    const auto created = reader_->WaitFor(IsNewCallOn(kLine), kWait);
    EXPECT_TRUE(created.has_value()) << caller.ReadLog();
    return created.has_value() ? created->call_created().call() : v1::Call();
  }

  // Drop of the phone's own call `id` through the PBX: answered IDLE, the
  // phone's call closed, the caller's scenario done, and the dialog's later
  // end no new call.
  void DropThroughThePbx(BaresipPhone& phone, ChildProcess& caller, const std::string& id) {
    v1::Call resp;
    const grpc::Status dropped = itest::Drop(t_->telephony(), id, &resp);
    ASSERT_TRUE(dropped.ok()) << dropped.error_message();
    EXPECT_EQ(resp.status().state(), v1::CALL_STATE_IDLE);
    ASSERT_TRUE(phone.WaitEvent("CALL_CLOSED", kWait).has_value()) << phone.ReadLog();
    EXPECT_EQ(caller.Wait(kWait), 0) << caller.ReadLog();
    ASSERT_TRUE(reader_->WaitFor(IsCallState(id, v1::CALL_STATE_IDLE), kWait));
    EXPECT_FALSE(reader_->WaitFor(IsNewCallOn(kLine), absl::Milliseconds(500)).has_value());
    EXPECT_TRUE(itest::CallsOn(t_->telephony(), kLine).empty());
  }

  grpc::Status Request(const std::string& call_id, bool hold, v1::Call* resp) {
    v1::CallActionRequest req;
    req.set_call_id(call_id);
    return itest::Rpc(t_->telephony(),
                      hold ? &v1::Telephony::Stub::Hold : &v1::Telephony::Stub::Unhold, req, resp);
  }

  grpc::Status Transfer(const std::string& call_id, const std::string& destination,
                        v1::Call* resp) {
    v1::BlindTransferRequest req;
    req.set_call_id(call_id);
    req.set_destination(destination);
    return itest::Rpc(t_->telephony(), &v1::Telephony::Stub::BlindTransfer, req, resp);
  }

  std::unique_ptr<TestServer> t_;
  std::unique_ptr<EventReader> reader_;
  std::string dir_;
  int pbx_port_ = 0;
  int far_port_ = 0;
  int rpc_port_ = 0;
  ChildProcess pbx_;
  pid_t pbx_group_ = -1;
};

TEST_F(SipBaresipPhoneTest, ClickToDialFromBaresipToSippThenDropEndsBoth) {
  BaresipPhone phone;
  ASSERT_NO_FATAL_FAILURE(StartPhone(phone, /*auto_answer=*/true));
  std::unique_ptr<EventReader> reader;
  auto t = StartWatched(&reader);
  ASSERT_NE(t, nullptr);
  ChildProcess far;
  ASSERT_TRUE(StartSipp(far, {.scenario = "uas_answer.xml", .port = far_port_}, dir_));
  v1::Call call;
  grpc::Status s = itest::MakeCall(t->telephony(), kLine, "2000", &call);
  ASSERT_TRUE(s.ok()) << s.error_message();
  // A click-to-dial call can be dropped from the line.
  EXPECT_THAT(call.status().features(), ::testing::ElementsAre(v1::CALL_FEATURE_DROP));
  std::vector<v1::Event> seen;
  ASSERT_TRUE(reader->WaitFor(IsCallState(call.id(), v1::CALL_STATE_PROCEEDING), kWait, &seen));
  const auto connected =
      reader->WaitFor(IsCallState(call.id(), v1::CALL_STATE_CONNECTED), kWait, &seen);
  ASSERT_TRUE(connected.has_value());
  // Connected, it can be held and transferred too.
  EXPECT_THAT(connected->call_state().status().features(),
              ::testing::UnorderedElementsAre(v1::CALL_FEATURE_DROP, v1::CALL_FEATURE_HOLD,
                                              v1::CALL_FEATURE_BLINDTRANSFER));
  // The phone took the call from the control account and is in it.
  const auto established = phone.WaitEvent("CALL_ESTABLISHED", kWait);
  ASSERT_TRUE(established.has_value()) << phone.ReadLog();
  EXPECT_THAT(JsonField(established->json, "peeruri"), ::testing::HasSubstr("ctl@127.0.0.1"));
  ASSERT_TRUE(itest::Drop(t->telephony(), call.id()).ok());
  ASSERT_TRUE(reader->WaitFor(IsCallState(call.id(), v1::CALL_STATE_IDLE), kWait, &seen));
  // Both legs got their BYE: the phone closed its call, sipp ended.
  ASSERT_TRUE(phone.WaitEvent("CALL_CLOSED", kWait).has_value()) << phone.ReadLog();
  EXPECT_EQ(far.Wait(kWait), 0) << far.ReadLog();
  // The phone's leg, published by the PBX, was not offered as a call.
  for (const auto& ev : seen) {
    if (ev.has_call_created()) {
      EXPECT_EQ(ev.call_created().call().id(), call.id());
    }
  }
}

TEST_F(SipBaresipPhoneTest, ThePhoneHangingUpEndsTheDestination) {
  BaresipPhone phone;
  ChildProcess far;
  const std::string id = ConnectedClickToDial(phone, far, {.scenario = "uas_answer.xml"});
  ASSERT_FALSE(id.empty());
  // The user hangs up at the phone.
  ASSERT_TRUE(phone.Command("hangup").has_value());
  ASSERT_TRUE(reader_->WaitFor(IsDisconnected(id, v1::DISCONNECT_MODE_NORMAL), kWait));
  EXPECT_EQ(far.Wait(kWait), 0) << far.ReadLog();  // it got the BYE
  ASSERT_TRUE(itest::Drop(t_->telephony(), id).ok());
}

// The application holds and resumes a click-to-dial call: the line's own
// re-INVITEs, to the destination (checked by uas_line_hold.xml: inactive,
// then sendrecv) and then to the phone with the destination's answer.
TEST_F(SipBaresipPhoneTest, TheApplicationHoldsAndResumesAClickToDialCall) {
  BaresipPhone phone;
  ChildProcess far;
  const std::string id = ConnectedClickToDial(phone, far, {.scenario = "uas_line_hold.xml"});
  ASSERT_FALSE(id.empty());
  v1::Call resp;
  grpc::Status s = Request(id, /*hold=*/true, &resp);
  ASSERT_TRUE(s.ok()) << s.error_message();
  // The reply came with the outcome: both legs renegotiated.
  EXPECT_EQ(resp.status().state(), v1::CALL_STATE_ONHOLD);
  EXPECT_THAT(resp.status().features(),
              ::testing::UnorderedElementsAre(v1::CALL_FEATURE_DROP, v1::CALL_FEATURE_UNHOLD));
  ASSERT_TRUE(phone.WaitEvent("CALL_REMOTE_SDP", kWait).has_value()) << phone.ReadLog();
  // Held already: a second hold is refused by the call's state.
  EXPECT_FALSE(Request(id, /*hold=*/true, &resp).ok());
  s = Request(id, /*hold=*/false, &resp);
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_EQ(resp.status().state(), v1::CALL_STATE_CONNECTED);
  EXPECT_EQ(resp.status().connected_mode(), v1::CONNECTED_MODE_ACTIVE);
  ASSERT_TRUE(phone.WaitEvent("CALL_REMOTE_SDP", kWait).has_value()) << phone.ReadLog();
  ASSERT_TRUE(itest::Drop(t_->telephony(), id).ok());
  EXPECT_EQ(far.Wait(kWait), 0) << far.ReadLog();
  ASSERT_TRUE(phone.WaitEvent("CALL_CLOSED", kWait).has_value()) << phone.ReadLog();
}

// Blind transfer of a click-to-dial call: a REFER to the destination
// (uas_transferee.xml: 202, then sipfrag NOTIFYs); on the final 200 the
// line's part is over and both legs get their BYE.
TEST_F(SipBaresipPhoneTest, TheApplicationTransfersAClickToDialCall) {
  BaresipPhone phone;
  ChildProcess far;
  const std::string id = ConnectedClickToDial(
      phone, far, {.scenario = "uas_transferee.xml", .keys = {{"frag", "200 OK"}}});
  ASSERT_FALSE(id.empty());
  v1::Call resp;
  EXPECT_FALSE(Transfer(id, "sip:bad target", &resp).ok());
  const grpc::Status s = Transfer(id, "5550199", &resp);
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_EQ(resp.status().state(), v1::CALL_STATE_IDLE);
  ASSERT_TRUE(reader_->WaitFor(IsCallState(id, v1::CALL_STATE_IDLE), kWait));
  ASSERT_TRUE(phone.WaitEvent("CALL_CLOSED", kWait).has_value()) << phone.ReadLog();
  EXPECT_EQ(far.Wait(kWait), 0) << far.ReadLog();
  EXPECT_EQ(CounterOf(*t_, "sip_phone_click_to_dial_transfers_total", kLine), 1u);
}

TEST_F(SipBaresipPhoneTest, AFailedTransferOfAClickToDialCallLeavesTheCall) {
  BaresipPhone phone;
  ChildProcess far;
  const std::string id = ConnectedClickToDial(
      phone, far, {.scenario = "uas_transferee.xml", .keys = {{"frag", "486 Busy Here"}}});
  ASSERT_FALSE(id.empty());
  v1::Call resp;
  ExpectRefusedBySip(*t_, Transfer(id, "5550199", &resp), "486", kLine);
  EXPECT_EQ(CounterOf(*t_, "sip_phone_click_to_dial_transfer_failures_total", kLine), 1u);
  ASSERT_TRUE(itest::Drop(t_->telephony(), id).ok());
  EXPECT_EQ(far.Wait(kWait), 0) << far.ReadLog();
  ASSERT_TRUE(phone.WaitEvent("CALL_CLOSED", kWait).has_value()) << phone.ReadLog();
}

TEST_F(SipBaresipPhoneTest, IncomingCallOfferedWithCallerIdAnsweredAtThePhoneThenIdle) {
  BaresipPhone phone;
  ASSERT_NO_FATAL_FAILURE(StartPhone(phone, /*auto_answer=*/false));
  std::unique_ptr<EventReader> reader;
  auto t = StartWatched(&reader);
  ASSERT_NE(t, nullptr);
  ChildProcess caller;
  ASSERT_TRUE(StartSipp(caller,
                        {.scenario = "uac_via_proxy.xml",
                         .port = FreePort(),
                         .remote = absl::StrCat("127.0.0.1:", pbx_port_),
                         .service = "alice"},
                        dir_));
  const auto created = reader->WaitFor(IsNewCallOn(kLine), kWait);
  const absl::Time offered = absl::Now();  // the application was waiting for it
  ASSERT_TRUE(created.has_value());
  const v1::Call call = created->call_created().call();
  EXPECT_EQ(call.status().state(), v1::CALL_STATE_OFFERING);
  EXPECT_EQ(call.info().origin(), v1::CALL_ORIGIN_INBOUND);
  EXPECT_EQ(call.info().caller().number(), "5551234");
  EXPECT_EQ(call.info().called().number(), "alice");
  // The phone's own call cannot be dropped from the line: baresip takes no
  // remote control.
  EXPECT_FALSE(itest::Drop(t->telephony(), call.id()).ok());
  // The phone rings (it took the INVITE): screen pop measured from the
  // phone's CALL_INCOMING event, which it sends on taking the INVITE.
  const auto incoming = phone.WaitEvent("CALL_INCOMING", kWait);
  ASSERT_TRUE(incoming.has_value()) << phone.ReadLog();
  EXPECT_THAT(JsonField(incoming->json, "peeruri"), ::testing::HasSubstr("5551234"));
  const absl::Duration latency = offered - incoming->at;
  std::printf("screen pop latency (baresip's CALL_INCOMING -> OFFERING): %.1f ms\n",
              absl::ToDoubleMilliseconds(latency));
  EXPECT_LT(latency, absl::Milliseconds(200));
  // The user answers at the phone.
  ASSERT_TRUE(phone.Command("accept").has_value());
  ASSERT_TRUE(reader->WaitFor(IsCallState(call.id(), v1::CALL_STATE_CONNECTED), kWait));
  // The caller hangs up after 500 ms.
  ASSERT_TRUE(reader->WaitFor(IsDisconnected(call.id(), v1::DISCONNECT_MODE_NORMAL), kWait));
  EXPECT_EQ(caller.Wait(kWait), 0) << caller.ReadLog();
  ASSERT_TRUE(itest::Drop(t->telephony(), call.id()).ok());
  ASSERT_TRUE(reader->WaitFor(IsCallState(call.id(), v1::CALL_STATE_IDLE), kWait));
}

// The phone's own call, answered at the phone, ended from the application
// through the PBX: kamailio's dlg.terminate_dlg (JSON-RPC over UDP) sends
// BYE to the phone and to the caller.
TEST_F(SipBaresipPhoneTest, ThePhonesOwnCallIsDroppedThroughThePbx) {
  BaresipPhone phone;
  ChildProcess caller;
  const v1::Call call = OfferedThroughThePbx(phone, caller, rpc_port_);
  ASSERT_FALSE(call.id().empty());
  // Ringing, and answered: the PBX can end it either way.
  EXPECT_THAT(call.status().features(), ::testing::ElementsAre(v1::CALL_FEATURE_DROP));
  ASSERT_TRUE(phone.WaitEvent("CALL_INCOMING", kWait).has_value()) << phone.ReadLog();
  ASSERT_TRUE(phone.Command("accept").has_value());
  const auto connected = reader_->WaitFor(IsCallState(call.id(), v1::CALL_STATE_CONNECTED), kWait);
  ASSERT_TRUE(connected.has_value());
  EXPECT_THAT(connected->call_state().status().features(),
              ::testing::ElementsAre(v1::CALL_FEATURE_DROP));
  ASSERT_TRUE(phone.WaitEvent("CALL_ESTABLISHED", kWait).has_value()) << phone.ReadLog();
  // Both parties get the PBX's BYE.
  DropThroughThePbx(phone, caller, call.id());
}

// A call ringing at the phone, dropped from its phone line: the PBX
// cancels the INVITE towards the phone (which stops ringing) and the caller
// gets 487.
TEST_F(SipBaresipPhoneTest, APhonesRingingCallIsDroppedThroughThePbx) {
  BaresipPhone phone;
  ChildProcess caller;
  const v1::Call call =
      OfferedThroughThePbx(phone, caller, rpc_port_, "uac_via_proxy_cancelled.xml");
  ASSERT_FALSE(call.id().empty());
  ASSERT_TRUE(phone.WaitEvent("CALL_INCOMING", kWait).has_value()) << phone.ReadLog();
  DropThroughThePbx(phone, caller, call.id());
}

// The phone's own outgoing call, ringing at a sipp destination: Drop cancels
// its INVITE at the PBX (kamailio's CANCEL to the destination, whose 487
// reaches the phone).
TEST_F(SipBaresipPhoneTest, ThePhonesRingingOutgoingCallIsDroppedThroughThePbx) {
  BaresipPhone phone;
  StartPhone(phone, /*auto_answer=*/false);
  ASSERT_FALSE(::testing::Test::HasFatalFailure());
  t_ = StartWatched(&reader_, rpc_port_);
  ASSERT_NE(t_, nullptr);
  ChildProcess far;
  ASSERT_TRUE(StartSipp(far, {.scenario = "uas_ring_cancel_proxied.xml", .port = far_port_}, dir_));
  ASSERT_TRUE(phone.Command("dial", "sip:5550100@127.0.0.1").has_value()) << phone.ReadLog();
  const auto created = reader_->WaitFor(IsNewCallOn(kLine), kWait);
  ASSERT_TRUE(created.has_value()) << far.ReadLog();
  const std::string id = created->call_created().call().id();
  EXPECT_EQ(created->call_created().call().info().origin(), v1::CALL_ORIGIN_OUTBOUND);
  ASSERT_TRUE(reader_->WaitFor(IsCallState(id, v1::CALL_STATE_RINGBACK), kWait));
  DropThroughThePbx(phone, far, id);
}

// A PBX that does not answer (nothing on its JSON-RPC port): the Drop
// fails, the call stays, the user hangs up at the phone.
TEST_F(SipBaresipPhoneTest, ADropThePbxCannotDoLeavesTheCall) {
  BaresipPhone phone;
  ChildProcess caller;
  const std::string id = OfferedThroughThePbx(phone, caller, FreePort()).id();
  ASSERT_FALSE(id.empty());
  ASSERT_TRUE(phone.WaitEvent("CALL_INCOMING", kWait).has_value()) << phone.ReadLog();
  ASSERT_TRUE(phone.Command("accept").has_value());
  ASSERT_TRUE(reader_->WaitFor(IsCallState(id, v1::CALL_STATE_CONNECTED), kWait));
  const grpc::Status failed = itest::Drop(t_->telephony(), id);
  EXPECT_EQ(failed.error_code(), grpc::StatusCode::UNAVAILABLE) << failed.error_message();
  EXPECT_EQ(itest::TapiErrorOf(failed), LINEERR_OPERATIONFAILED);
  EXPECT_THAT(failed.error_message(), ::testing::HasSubstr("the PBX did not end the call"));
  std::vector<v1::Call> calls = itest::CallsOn(t_->telephony(), kLine);
  ASSERT_EQ(calls.size(), 1u);
  EXPECT_EQ(calls[0].status().state(), v1::CALL_STATE_CONNECTED);
  ASSERT_TRUE(phone.Command("hangup").has_value());
  ASSERT_TRUE(reader_->WaitFor(IsDisconnected(id, v1::DISCONNECT_MODE_NORMAL), kWait));
  EXPECT_EQ(caller.Wait(kWait), 0) << caller.ReadLog();
}

// A PBX that takes the request and never answers, and a client whose
// deadline (1 s) comes before the provider's timeout (2 s): the client is
// answered before its deadline, UNAVAILABLE "not confirmed yet", not
// DEADLINE_EXCEEDED; the call stays.
TEST_F(SipBaresipPhoneTest, ADropThePbxDoesNotConfirmInTimeIsAnsweredBeforeTheDeadline) {
  const int silent = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  ASSERT_GE(silent, 0);
  sockaddr_in sa{};
  sa.sin_family = AF_INET;
  sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof(sa);
  ASSERT_EQ(::bind(silent, reinterpret_cast<sockaddr*>(&sa), sizeof(sa)), 0);
  ASSERT_EQ(::getsockname(silent, reinterpret_cast<sockaddr*>(&sa), &len), 0);
  BaresipPhone phone;
  ChildProcess caller;
  const std::string id = OfferedThroughThePbx(phone, caller, ntohs(sa.sin_port)).id();
  ASSERT_FALSE(id.empty());
  ASSERT_TRUE(phone.WaitEvent("CALL_INCOMING", kWait).has_value()) << phone.ReadLog();
  ASSERT_TRUE(phone.Command("accept").has_value());
  ASSERT_TRUE(reader_->WaitFor(IsCallState(id, v1::CALL_STATE_CONNECTED), kWait));
  v1::CallActionRequest req;
  req.set_call_id(id);
  v1::Call resp;
  const absl::Time sent = MonotonicNow();
  const grpc::Status late = itest::Rpc(t_->telephony(), &v1::Telephony::Stub::Drop, req, &resp,
                                       absl::Seconds(1));
  EXPECT_LT(MonotonicNow() - sent, absl::Seconds(1));
  EXPECT_EQ(late.error_code(), grpc::StatusCode::UNAVAILABLE) << late.error_message();
  EXPECT_EQ(itest::TapiErrorOf(late), LINEERR_OPERATIONFAILED);
  EXPECT_EQ(late.error_message(), "the PBX has not confirmed the drop yet");
  std::vector<v1::Call> calls = itest::CallsOn(t_->telephony(), kLine);
  ASSERT_EQ(calls.size(), 1u);
  EXPECT_EQ(calls[0].status().state(), v1::CALL_STATE_CONNECTED);
  ASSERT_TRUE(phone.Command("hangup").has_value());
  ASSERT_TRUE(reader_->WaitFor(IsDisconnected(id, v1::DISCONNECT_MODE_NORMAL), kWait));
  EXPECT_EQ(caller.Wait(kWait), 0) << caller.ReadLog();
  ::close(silent);
}

TEST_F(SipBaresipPhoneTest, ReinvitesOfAClickToDialCallAreRelayedBothWays) {
  BaresipPhone phone;
  ChildProcess far;
  // The destination checks each relayed offer and answer (see the scenario).
  const std::string id = ConnectedClickToDial(phone, far, {.scenario = "uas_relay_hold.xml"});
  ASSERT_FALSE(id.empty());
  // The user holds the call at the phone: its re-INVITE (sendonly) goes to
  // the destination, whose answer (recvonly) comes back to the phone.
  ASSERT_TRUE(phone.Command("hold").has_value());
  ASSERT_TRUE(reader_->WaitFor(IsCallState(id, v1::CALL_STATE_ONHOLD), kWait));
  ASSERT_TRUE(phone.WaitEvent("CALL_REMOTE_SDP", kWait).has_value()) << phone.ReadLog();
  ASSERT_TRUE(phone.Command("resume").has_value());
  ASSERT_TRUE(reader_->WaitFor(IsConnectedMode(id, v1::CONNECTED_MODE_ACTIVE), kWait));
  // Then the destination refreshes the session without an offer (answered
  // by the line with the phone's current session description, checked by
  // the scenario), holds the phone and resumes: the phone answers each
  // relayed offer.
  ASSERT_TRUE(reader_->WaitFor(IsConnectedMode(id, v1::CONNECTED_MODE_INACTIVE), kWait));
  ASSERT_TRUE(reader_->WaitFor(IsConnectedMode(id, v1::CONNECTED_MODE_ACTIVE), kWait));
  ASSERT_TRUE(itest::Drop(t_->telephony(), id).ok());
  ASSERT_TRUE(reader_->WaitFor(IsCallState(id, v1::CALL_STATE_IDLE), kWait));
  EXPECT_EQ(far.Wait(kWait), 0) << far.ReadLog();
  ASSERT_TRUE(phone.WaitEvent("CALL_CLOSED", kWait).has_value()) << phone.ReadLog();
}

TEST_F(SipBaresipPhoneTest, PhoneKilledInACallIsSurvived) {
  std::unique_ptr<EventReader> reader;
  auto t = StartWatched(&reader);
  ASSERT_NE(t, nullptr);
  {
    BaresipPhone phone;
    ASSERT_NO_FATAL_FAILURE(StartPhone(phone, /*auto_answer=*/true));
    ChildProcess far;
    ASSERT_TRUE(StartSipp(far, {.scenario = "uas_answer.xml", .port = far_port_}, dir_));
    v1::Call call;
    ASSERT_TRUE(itest::MakeCall(t->telephony(), kLine, "2000", &call).ok());
    ASSERT_TRUE(reader->WaitFor(IsCallState(call.id(), v1::CALL_STATE_CONNECTED), kWait));
    const pid_t group = phone.pid();
    phone.Kill();  // SIGKILL: no BYE
    EXPECT_TRUE(ProcessGroupGone(group));
    // Dropped at the application: the destination gets its BYE, the call
    // goes idle although the phone never answers the line's BYE.
    ASSERT_TRUE(itest::Drop(t->telephony(), call.id()).ok());
    ASSERT_TRUE(reader->WaitFor(IsCallState(call.id(), v1::CALL_STATE_IDLE), kWait));
    EXPECT_EQ(far.Wait(kWait), 0) << far.ReadLog();
  }
  // A phone that comes back (registering anew) is called again.
  BaresipPhone phone;
  ASSERT_NO_FATAL_FAILURE(StartPhone(phone, /*auto_answer=*/true));
  ChildProcess far;
  ASSERT_TRUE(StartSipp(far, {.scenario = "uas_answer.xml", .port = far_port_}, dir_));
  v1::Call call;
  ASSERT_TRUE(itest::MakeCall(t->telephony(), kLine, "2000", &call).ok());
  ASSERT_TRUE(reader->WaitFor(IsCallState(call.id(), v1::CALL_STATE_CONNECTED), kWait));
  ASSERT_TRUE(phone.WaitEvent("CALL_ESTABLISHED", kWait).has_value()) << phone.ReadLog();
  ASSERT_TRUE(itest::Drop(t->telephony(), call.id()).ok());
  ASSERT_TRUE(reader->WaitFor(IsCallState(call.id(), v1::CALL_STATE_IDLE), kWait));
  EXPECT_EQ(far.Wait(kWait), 0) << far.ReadLog();
}

}  // namespace
}  // namespace linebridge
