// Authorization on every line a call touches, and the one toll-fraud limiter,
// against a real in-process server over real gRPC with real bearer tokens:
// pickup and unpark take calls only from lines the principal has rights on
// (and pickup groups), and every path to an outbound leg (MakeCall, Dial on
// a consultation call, redirect, blind transfer, forwarding) needs originate
// and passes the same rate and concurrency limits (docs/security.md).
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <chrono>
#include <memory>
#include <optional>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "linebridge/lineerr.h"
#include "linebridge/v1/security.grpc.pb.h"
#include "test_server.h"
#include "linebridge/deadline.h"

namespace linebridge::itest {
namespace {

using ::testing::HasSubstr;

void ExpectRefused(const grpc::Status& st, grpc::StatusCode code, uint32_t lineerr) {
  EXPECT_EQ(st.error_code(), code) << st.error_message();
  EXPECT_EQ(TapiErrorOf(st), std::optional<uint32_t>(lineerr)) << TapiErrorNameOf(st);
}

struct Grant {
  bool monitor = true;
  bool control = false;
  bool originate = false;
};

class AuthzTest : public ::testing::Test {
 protected:
  void Start(const std::string& config = "") {
    server_ = TestServer::Start(config);
    ASSERT_NE(server_, nullptr);
    security_ = v1::Security::NewStub(server_->channel());
  }
  v1::Telephony::Stub& tel() { return server_->telephony(); }

  // A user principal (made by the anonymous loopback admin) and its token.
  std::string User(const std::string& name) {
    v1::AddPrincipalRequest add;
    add.set_name(name);
    add.set_role(v1::ROLE_USER);
    v1::Principal p;
    grpc::Status st = security_->AddPrincipal(Ctx().get(), add, &p);
    EXPECT_TRUE(st.ok()) << st.error_message();
    v1::IssueTokenRequest issue;
    issue.set_principal(name);
    v1::IssueTokenResponse token;
    st = security_->IssueToken(Ctx().get(), issue, &token);
    EXPECT_TRUE(st.ok()) << st.error_message();
    return token.token();
  }
  void Assign(const std::string& name, const std::string& line, Grant g) {
    v1::AssignRequest req;
    req.set_principal(name);
    req.mutable_grant()->set_line_id(line);
    req.mutable_grant()->set_monitor(g.monitor);
    req.mutable_grant()->set_control(g.control);
    req.mutable_grant()->set_originate(g.originate);
    v1::Principal p;
    grpc::Status st = security_->Assign(Ctx().get(), req, &p);
    EXPECT_TRUE(st.ok()) << st.error_message();
  }

  // The one call on `line` (as the admin sees it), waited for in `state`.
  std::optional<v1::Call> WaitForCall(const std::string& line, v1::CallState state) {
    const absl::Time deadline = MonotonicNow() + kTimeout;
    do {
      for (const v1::Call& c : CallsOn(tel(), line)) {
        if (c.status().state() == state) return c;
      }
      absl::SleepFor(absl::Milliseconds(10));
    } while (MonotonicNow() < deadline);
    return std::nullopt;
  }
  // A call from `from` ringing on `to` (made by the admin): the leg on `to`.
  v1::Call Ringing(const std::string& from, const std::string& to) {
    v1::Call caller;
    EXPECT_TRUE(MakeCall(tel(), "sim/" + from, to, &caller).ok());
    std::optional<v1::Call> leg = WaitForCall("sim/" + to, v1::CALL_STATE_OFFERING);
    EXPECT_TRUE(leg.has_value());
    return leg.value_or(v1::Call());
  }

  grpc::Status Pickup(const std::string& token, const std::string& line,
                      const std::string& destination, const std::string& group,
                      v1::Call* out = nullptr) {
    v1::PickupRequest req;
    req.set_line_id(line);
    req.set_destination(destination);
    req.set_group_id(group);
    v1::Call call;
    grpc::Status st = tel().Pickup(As(token).get(), req, &call);
    if (out != nullptr) *out = call;
    return st;
  }
  grpc::Status Unpark(const std::string& token, const std::string& line,
                      const std::string& orbit) {
    v1::UnparkRequest req;
    req.set_line_id(line);
    req.set_park_address(orbit);
    v1::Call out;
    return tel().Unpark(As(token).get(), req, &out);
  }
  grpc::Status Action(const std::string& token, const std::string& call_id,
                      grpc::Status (v1::Telephony::Stub::*method)(
                          grpc::ClientContext*, const v1::CallActionRequest&, v1::Call*)) {
    v1::CallActionRequest req;
    req.set_call_id(call_id);
    v1::Call out;
    return (tel().*method)(As(token).get(), req, &out);
  }
  grpc::Status Forward(const std::string& token, const std::string& line,
                       const std::string& destination) {
    v1::SetLineForwardingRequest req;
    req.set_line_id(line);
    if (!destination.empty()) {
      v1::ForwardRule* rule = req.add_rules();
      rule->set_mode(v1::FORWARD_MODE_UNCOND);
      rule->set_destination(destination);
    }
    v1::Line out;
    return tel().SetLineForwarding(As(token).get(), req, &out);
  }
  grpc::Status Redirect(const std::string& token, const std::string& call_id,
                        const std::string& destination) {
    v1::RedirectRequest req;
    req.set_call_id(call_id);
    req.set_destination(destination);
    v1::Call out;
    return tel().Redirect(As(token).get(), req, &out);
  }
  grpc::Status BlindTransfer(const std::string& token, const std::string& call_id,
                             const std::string& destination) {
    v1::BlindTransferRequest req;
    req.set_call_id(call_id);
    req.set_destination(destination);
    v1::Call out;
    return tel().BlindTransfer(As(token).get(), req, &out);
  }
  grpc::Status Dial(const std::string& token, const std::string& call_id,
                    const std::string& destination) {
    v1::DialRequest req;
    req.set_call_id(call_id);
    req.set_destination(destination);
    v1::Call out;
    return tel().Dial(As(token).get(), req, &out);
  }
  grpc::Status SetupTransfer(const std::string& token, const std::string& call_id,
                             v1::SetupTransferResponse* out) {
    v1::SetupTransferRequest req;
    req.set_call_id(call_id);
    return tel().SetupTransfer(As(token).get(), req, out);
  }
  grpc::Status MakeCallAs(const std::string& token, const std::string& line,
                          const std::string& destination, v1::Call* out = nullptr) {
    v1::MakeCallRequest req;
    req.set_line_id(line);
    req.set_destination(destination);
    v1::Call call;
    grpc::Status st = tel().MakeCall(As(token).get(), req, &call);
    if (out != nullptr) *out = call;
    return st;
  }
  // A connected call on `line` that `token` answered (the admin calls from
  // `from`).
  v1::Call Answered(const std::string& token, const std::string& from, const std::string& line) {
    v1::Call leg = Ringing(from, line);
    grpc::Status st = Action(token, leg.id(), &v1::Telephony::Stub::Answer);
    EXPECT_TRUE(st.ok()) << st.error_message();
    return leg;
  }

  std::unique_ptr<TestServer> server_;
  std::unique_ptr<v1::Security::Stub> security_;
};

// bob controls sim/102 only; a call rings on alice's sim/100 (both lines in
// the "sales" pickup group of the default PBX).
TEST_F(AuthzTest, PickupTakesNoCallFromALineThePrincipalHasNoRightsOn) {
  Start();
  const std::string bob = User("bob");
  Assign("bob", "sim/102", {.control = true});
  const v1::Call ringing = Ringing("103", "100");

  // Directed and by group: for bob nothing rings there.
  ExpectRefused(Pickup(bob, "sim/102", "100", ""), grpc::StatusCode::FAILED_PRECONDITION,
                LINEERR_OPERATIONFAILED);
  ExpectRefused(Pickup(bob, "sim/102", "", "sales"), grpc::StatusCode::FAILED_PRECONDITION,
                LINEERR_OPERATIONFAILED);
  // The call still rings on sim/100, and nothing appeared on sim/102.
  std::optional<v1::Call> still = WaitForCall("sim/100", v1::CALL_STATE_OFFERING);
  ASSERT_TRUE(still.has_value());
  EXPECT_EQ(still->id(), ringing.id());
  EXPECT_TRUE(CallsOn(tel(), "sim/102").empty());

  // Seeing sim/100, in the same pickup group: a group pickup is bob's to make.
  Assign("bob", "sim/100", {.monitor = true});
  v1::Call taken;
  grpc::Status st = Pickup(bob, "sim/102", "", "sales", &taken);
  ASSERT_TRUE(st.ok()) << st.error_message();
  EXPECT_EQ(taken.info().line_id(), "sim/102");
  EXPECT_EQ(taken.info().reason(), v1::CALL_REASON_PICKUP);
}

// Outside a shared pickup group, seeing the line is not enough: taking its
// call needs control there.
TEST_F(AuthzTest, PickupOutsideThePickupGroupNeedsControlOnTheRingingLine) {
  Start();
  const std::string carol = User("carol");
  Assign("carol", "sim/105", {.control = true});
  Assign("carol", "sim/104", {.monitor = true});
  Ringing("106", "104");
  ExpectRefused(Pickup(carol, "sim/105", "104", ""), grpc::StatusCode::PERMISSION_DENIED,
                LINEERR_NOTOWNER);
  ASSERT_TRUE(WaitForCall("sim/104", v1::CALL_STATE_OFFERING).has_value());
  Assign("carol", "sim/104", {.control = true});
  v1::Call taken;
  grpc::Status st = Pickup(carol, "sim/105", "104", "", &taken);
  ASSERT_TRUE(st.ok()) << st.error_message();
  EXPECT_EQ(taken.info().line_id(), "sim/105");
}

// alice parks her outside call; bob (sim/102) must not unpark it onto his
// line; dave sees sim/100 but his sim/104 is outside its pickup group.
TEST_F(AuthzTest, UnparkTakesNoCallParkedFromALineThePrincipalHasNoRightsOn) {
  Start();
  const std::string alice = User("alice");
  const std::string bob = User("bob");
  const std::string dave = User("dave");
  Assign("alice", "sim/100", {.control = true, .originate = true});
  Assign("bob", "sim/102", {.control = true});
  Assign("dave", "sim/104", {.control = true});
  Assign("dave", "sim/100", {.monitor = true});
  v1::Call call;
  ASSERT_TRUE(MakeCallAs(alice, "sim/100", "5550100", &call).ok());
  ASSERT_TRUE(WaitForCall("sim/100", v1::CALL_STATE_CONNECTED).has_value());
  v1::ParkRequest park;
  park.set_call_id(call.id());
  v1::ParkResponse parked;
  grpc::Status st = tel().Park(As(alice).get(), park, &parked);
  ASSERT_TRUE(st.ok()) << st.error_message();
  ASSERT_FALSE(parked.park_address().empty());

  ExpectRefused(Unpark(bob, "sim/102", parked.park_address()), grpc::StatusCode::NOT_FOUND,
                LINEERR_INVALADDRESS);
  ExpectRefused(Unpark(dave, "sim/104", parked.park_address()),
                grpc::StatusCode::PERMISSION_DENIED, LINEERR_NOTOWNER);
  EXPECT_TRUE(CallsOn(tel(), "sim/102").empty());
  EXPECT_TRUE(CallsOn(tel(), "sim/104").empty());
  // Still parked: alice takes it back on her own line.
  st = Unpark(alice, "sim/100", parked.park_address());
  EXPECT_TRUE(st.ok()) << st.error_message();
}

// With MakeCall rate-limited, a consultation call's Dial is limited too.
TEST_F(AuthzTest, ConsultationDialPassesTheOriginationLimits) {
  Start("limits { originations_per_minute: 1 origination_burst: 1 max_concurrent_calls: 10 }");
  const std::string fred = User("fred");
  Assign("fred", "sim/100", {.control = true, .originate = true});
  const v1::Call held = Answered(fred, "101", "100");
  ASSERT_TRUE(MakeCallAs(fred, "sim/100", "5550100").ok());  // the one token
  ExpectRefused(MakeCallAs(fred, "sim/100", "5550100"), grpc::StatusCode::RESOURCE_EXHAUSTED,
                LINEERR_RESOURCEUNAVAIL);
  v1::SetupTransferResponse setup;
  grpc::Status st = SetupTransfer(fred, held.id(), &setup);
  ASSERT_TRUE(st.ok()) << st.error_message();
  grpc::Status dial = Dial(fred, setup.consultation().id(), "5550100");
  ExpectRefused(dial, grpc::StatusCode::RESOURCE_EXHAUSTED, LINEERR_RESOURCEUNAVAIL);
  EXPECT_THAT(dial.error_message(), HasSubstr("originations_per_minute"));
}

// The limits hold over many back-to-back transfer attempts: at most the
// burst gets through.
TEST_F(AuthzTest, RepeatedSetupTransferAndDialStayWithinTheBurst) {
  Start("limits { originations_per_minute: 1 origination_burst: 3 max_concurrent_calls: 100 }");
  const std::string fred = User("fred");
  Assign("fred", "sim/100", {.control = true, .originate = true});
  const v1::Call held = Answered(fred, "101", "100");
  int dialled = 0;
  for (int i = 0; i < 20; ++i) {
    v1::SetupTransferResponse setup;
    grpc::Status st = SetupTransfer(fred, held.id(), &setup);
    ASSERT_TRUE(st.ok()) << i << ": " << st.error_message();
    grpc::Status dial = Dial(fred, setup.consultation().id(), "5550100");
    if (dial.ok()) {
      ++dialled;
    } else {
      ExpectRefused(dial, grpc::StatusCode::RESOURCE_EXHAUSTED, LINEERR_RESOURCEUNAVAIL);
    }
    ASSERT_TRUE(Action(fred, setup.consultation().id(), &v1::Telephony::Stub::Drop).ok());
    // Dropping the consultation leaves the held call on hold: take it back.
    const absl::Time deadline = MonotonicNow() + kTimeout;
    while (!Action(fred, held.id(), &v1::Telephony::Stub::Unhold).ok() && MonotonicNow() < deadline) {
      absl::SleepFor(absl::Milliseconds(5));
    }
  }
  EXPECT_EQ(dialled, 3);
}

// A dial-tone call made with MakeCall counts once, not again when dialled.
TEST_F(AuthzTest, DialOnTheCallsOwnDialToneCountsOnce) {
  Start("limits { originations_per_minute: 1 origination_burst: 1 max_concurrent_calls: 10 }");
  const std::string gina = User("gina");
  Assign("gina", "sim/100", {.control = true, .originate = true});
  v1::Call call;
  ASSERT_TRUE(MakeCallAs(gina, "sim/100", "", &call).ok());
  grpc::Status st = Dial(gina, call.id(), "101");
  EXPECT_TRUE(st.ok()) << st.error_message();
}

// Forwarding to an outside number creates outside legs for the line: it needs
// originate, like MakeCall. Forwarding inside the PBX needs control only.
TEST_F(AuthzTest, ForwardingOutsideNeedsOriginate) {
  Start();
  const std::string hank = User("hank");
  Assign("hank", "sim/100", {.control = true});
  ExpectRefused(Forward(hank, "sim/100", "5550100"), grpc::StatusCode::PERMISSION_DENIED,
                LINEERR_OPERATIONFAILED);
  EXPECT_TRUE(Forward(hank, "sim/100", "101").ok());
  Assign("hank", "sim/100", {.control = true, .originate = true});
  grpc::Status st = Forward(hank, "sim/100", "5550100");
  EXPECT_TRUE(st.ok()) << st.error_message();
}

// Forwarding outside passes the origination limits too.
TEST_F(AuthzTest, ForwardingOutsidePassesTheOriginationLimits) {
  Start("limits { originations_per_minute: 1 origination_burst: 1 max_concurrent_calls: 10 }");
  const std::string ivan = User("ivan");
  Assign("ivan", "sim/100", {.control = true, .originate = true});
  ASSERT_TRUE(MakeCallAs(ivan, "sim/100", "5550100").ok());
  ExpectRefused(Forward(ivan, "sim/100", "5550100"), grpc::StatusCode::RESOURCE_EXHAUSTED,
                LINEERR_RESOURCEUNAVAIL);
}

// Redirect and blind transfer to an outside number need originate on the
// call's line; to an extension, control is enough.
TEST_F(AuthzTest, RedirectAndBlindTransferOutsideNeedOriginate) {
  Start();
  const std::string judy = User("judy");
  Assign("judy", "sim/100", {.control = true});
  const v1::Call offered = Ringing("101", "100");
  ExpectRefused(Redirect(judy, offered.id(), "5550100"), grpc::StatusCode::PERMISSION_DENIED,
                LINEERR_OPERATIONFAILED);
  ASSERT_TRUE(WaitForCall("sim/100", v1::CALL_STATE_OFFERING).has_value());
  grpc::Status st = Redirect(judy, offered.id(), "102");
  ASSERT_TRUE(st.ok()) << st.error_message();

  const v1::Call connected = Answered(judy, "103", "100");
  ExpectRefused(BlindTransfer(judy, connected.id(), "5550100"),
                grpc::StatusCode::PERMISSION_DENIED, LINEERR_OPERATIONFAILED);
  ASSERT_TRUE(WaitForCall("sim/100", v1::CALL_STATE_CONNECTED).has_value());
  st = BlindTransfer(judy, connected.id(), "105");
  EXPECT_TRUE(st.ok()) << st.error_message();
}

// With originate, outside redirects and transfers pass the same limiter.
TEST_F(AuthzTest, RedirectAndBlindTransferOutsidePassTheOriginationLimits) {
  Start("limits { originations_per_minute: 1 origination_burst: 1 max_concurrent_calls: 10 }");
  const std::string kim = User("kim");
  Assign("kim", "sim/100", {.control = true, .originate = true});
  ASSERT_TRUE(MakeCallAs(kim, "sim/100", "5550100").ok());  // the one token
  const v1::Call offered = Ringing("101", "100");
  ExpectRefused(Redirect(kim, offered.id(), "5550100"), grpc::StatusCode::RESOURCE_EXHAUSTED,
                LINEERR_RESOURCEUNAVAIL);
  ASSERT_TRUE(Action(kim, offered.id(), &v1::Telephony::Stub::Answer).ok());
  ExpectRefused(BlindTransfer(kim, offered.id(), "5550100"),
                grpc::StatusCode::RESOURCE_EXHAUSTED, LINEERR_RESOURCEUNAVAIL);
}

// Phones are granted by their line: a monitor right reads the phone and its
// events and opens it as monitor; setting anything, or owning it, needs
// control; another line's phone does not exist for the principal.
TEST_F(AuthzTest, APhoneIsGrantedByItsLine) {
  Start();
  const std::string token = User("phone-watcher");
  Assign("phone-watcher", "sim/100", Grant{.monitor = true});
  v1::CreateSessionRequest create;
  v1::Session session;
  ASSERT_TRUE(tel().CreateSession(As(token).get(), create, &session).ok());

  v1::ListPhonesResponse phones;
  ASSERT_TRUE(tel().ListPhones(As(token).get(), v1::ListPhonesRequest(), &phones).ok());
  ASSERT_EQ(phones.phones_size(), 1);
  EXPECT_EQ(phones.phones(0).id(), "sim/phone/100");

  v1::GetPhoneRequest get;
  get.set_phone_id("sim/phone/101");
  v1::Phone phone;
  ExpectRefused(tel().GetPhone(As(token).get(), get, &phone), grpc::StatusCode::NOT_FOUND,
                PHONEERR_BADDEVICEID);
  get.set_phone_id("sim/phone/100");
  EXPECT_TRUE(tel().GetPhone(As(token).get(), get, &phone).ok());

  v1::OpenPhoneRequest open;
  open.set_session_id(session.id());
  open.set_phone_id("sim/phone/100");
  open.set_privilege(v1::PRIVILEGE_OWNER);
  ExpectRefused(tel().OpenPhone(As(token).get(), open, &phone),
                grpc::StatusCode::PERMISSION_DENIED, PHONEERR_NOTOWNER);
  open.set_privilege(v1::PRIVILEGE_MONITOR);
  EXPECT_TRUE(tel().OpenPhone(As(token).get(), open, &phone).ok());

  v1::SetPhoneDisplayRequest display;
  display.set_session_id(session.id());
  display.set_phone_id("sim/phone/100");
  display.set_text("mine now");
  ExpectRefused(tel().SetPhoneDisplay(As(token).get(), display, &phone),
                grpc::StatusCode::PERMISSION_DENIED, PHONEERR_NOTOWNER);
  v1::OperatePhoneRequest press;
  press.set_phone_id("sim/phone/100");
  press.set_press_button(1);
  ExpectRefused(tel().OperatePhone(As(token).get(), press, &phone),
                grpc::StatusCode::PERMISSION_DENIED, PHONEERR_NOTOWNER);

  // The snapshot and the events hold only its own phone.
  v1::SubscribeRequest sub;
  sub.set_snapshot(true);
  grpc::ClientContext ctx;
  ctx.AddMetadata("authorization", absl::StrCat("Bearer ", token));
  ctx.set_deadline(DeadlineAfter(absl::Seconds(5)));
  auto reader = tel().Subscribe(&ctx, sub);
  v1::EventBatch batch;
  ASSERT_TRUE(reader->Read(&batch));
  ASSERT_TRUE(batch.has_snapshot());
  ASSERT_EQ(batch.snapshot().phones_size(), 1);
  EXPECT_EQ(batch.snapshot().phones(0).id(), "sim/phone/100");
  ctx.TryCancel();
  (void)reader->Finish();
}

}  // namespace
}  // namespace linebridge::itest
