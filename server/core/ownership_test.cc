// Engine rules of DESIGN.md 11 and 12: an offered call nobody decided on goes
// to an owner that opens its line afterwards; call-creating requests name
// their calls with the client's tag.
#include "core/engine.h"
#include "core/ownership.h"

#include "providers/sim/sim_test_util.h"

namespace linebridge::testing {
namespace {

using ::testing::ElementsAre;
using ::testing::IsEmpty;
using absl::StatusCode;

class OwnershipTest : public SimFixture {
 protected:
  std::string NewSession() {
    auto s = engine_->CreateSession({});
    EXPECT_TRUE(s.ok());
    return s->id();
  }
  absl::Status Open(const std::string& session, const std::string& ext, v1::Privilege p,
                    std::vector<v1::MediaMode> modes = {}) {
    v1::OpenLineRequest req;
    req.set_session_id(session);
    req.set_line_id(L(ext));
    req.set_privilege(p);
    for (v1::MediaMode m : modes) req.add_media_modes(m);
    return engine_->OpenLine(req).status();
  }
};

TEST(OffersOwnership, OnlyOwnerOpensOfTheMediaModeTakeOfferedCalls) {
  v1::Call call;
  call.mutable_status()->set_state(v1::CALL_STATE_OFFERING);
  call.mutable_info()->set_media_mode(v1::MEDIA_MODE_INTERACTIVE_VOICE);
  EXPECT_TRUE(OffersOwnership(v1::PRIVILEGE_OWNER, {}, call));
  EXPECT_TRUE(OffersOwnership(v1::PRIVILEGE_OWNER, {v1::MEDIA_MODE_INTERACTIVE_VOICE}, call));
  EXPECT_FALSE(OffersOwnership(v1::PRIVILEGE_OWNER, {v1::MEDIA_MODE_G3FAX}, call));
  EXPECT_FALSE(OffersOwnership(v1::PRIVILEGE_MONITOR, {}, call));
  for (v1::CallState decided : {v1::CALL_STATE_ACCEPTED, v1::CALL_STATE_CONNECTED,
                                v1::CALL_STATE_DISCONNECTED, v1::CALL_STATE_RINGBACK}) {
    call.mutable_status()->set_state(decided);
    EXPECT_FALSE(OffersOwnership(v1::PRIVILEGE_OWNER, {}, call)) << decided;
  }
}

TEST(GrantOwnership, MovesAMonitorToTheOwnersOnce) {
  v1::Call call;
  call.add_monitor_sessions("s-1");
  call.add_monitor_sessions("s-2");
  GrantOwnership(call, "s-1");
  GrantOwnership(call, "s-1");
  EXPECT_THAT(call.owner_sessions(), ElementsAre("s-1"));
  EXPECT_THAT(call.monitor_sessions(), ElementsAre("s-2"));
}

// The server sees the call before the owner's open: the open still makes the
// session its owner, and it can answer.
TEST_F(OwnershipTest, AnOwnerOpeningAfterTheCallArrivedOwnsIt) {
  const std::string late = NewSession(), other = NewSession();
  ASSERT_TRUE(Open(other, "101", v1::PRIVILEGE_MONITOR).ok());
  Make("100", "101");
  const std::string offered = CallOn("101");
  EXPECT_THAT(Get(offered).owner_sessions(), IsEmpty());
  ASSERT_TRUE(Open(late, "101", v1::PRIVILEGE_OWNER, {v1::MEDIA_MODE_INTERACTIVE_VOICE}).ok());
  EXPECT_THAT(Get(offered).owner_sessions(), ElementsAre(late));
  EXPECT_THAT(Get(offered).monitor_sessions(), ElementsAre(other));
  EXPECT_THAT(engine_->Answer(Action(offered, other)),
              IsTapiError(StatusCode::kPermissionDenied, LINEERR_NOTOWNER));
  auto answered = engine_->Answer(Action(offered, late));
  ASSERT_TRUE(answered.ok()) << answered.status();
  EXPECT_EQ(answered->status().privilege(), v1::PRIVILEGE_OWNER);
}

// A monitor open upgraded to owner (lineOpen, then lineSetDefaultMediaDetection)
// takes the call too; a call already answered stays where it is.
TEST_F(OwnershipTest, UpgradeToOwnerTakesOfferedButNotAnsweredCalls) {
  const std::string s = NewSession(), first = NewSession();
  ASSERT_TRUE(Open(s, "101", v1::PRIVILEGE_MONITOR).ok());
  Make("100", "101");
  const std::string offered = CallOn("101");
  EXPECT_THAT(Get(offered).monitor_sessions(), ElementsAre(s));
  ASSERT_TRUE(Open(s, "101", v1::PRIVILEGE_OWNER, {v1::MEDIA_MODE_INTERACTIVE_VOICE}).ok());
  EXPECT_THAT(Get(offered).owner_sessions(), ElementsAre(s));
  EXPECT_THAT(Get(offered).monitor_sessions(), IsEmpty());

  ASSERT_TRUE(Open(first, "103", v1::PRIVILEGE_OWNER).ok());
  Make("102", "103");
  const std::string answered = CallOn("103");
  ASSERT_TRUE(engine_->Answer(Action(answered, first)).ok());
  const std::string late = NewSession();
  ASSERT_TRUE(Open(late, "103", v1::PRIVILEGE_OWNER).ok());
  EXPECT_THAT(Get(answered).owner_sessions(), ElementsAre(first));
  EXPECT_THAT(Get(answered).monitor_sessions(), ElementsAre(late));
}

// The owner closes the line while the call is offered and opens it again
// (the server sees open, call, close, open): the call stays offered and is
// its again; a call that was answered is dropped with its last owner.
TEST_F(OwnershipTest, AnOfferedCallOutlivesItsOwnersCloseAndGoesToTheReopen) {
  const std::string s = NewSession();
  ASSERT_TRUE(Open(s, "101", v1::PRIVILEGE_OWNER).ok());
  Make("100", "101");
  const std::string offered = CallOn("101");
  EXPECT_THAT(Get(offered).owner_sessions(), ElementsAre(s));
  v1::CloseLineRequest close;
  close.set_session_id(s);
  close.set_line_id(L("101"));
  ASSERT_TRUE(engine_->CloseLine(close).ok());
  EXPECT_EQ(State(offered), v1::CALL_STATE_OFFERING);
  EXPECT_THAT(Get(offered).owner_sessions(), IsEmpty());
  ASSERT_TRUE(Open(s, "101", v1::PRIVILEGE_OWNER).ok());
  EXPECT_THAT(Get(offered).owner_sessions(), ElementsAre(s));
  ASSERT_TRUE(engine_->Answer(Action(offered, s)).ok());
  ASSERT_TRUE(engine_->CloseLine(close).ok());
  EXPECT_TRUE(WaitState(offered, v1::CALL_STATE_IDLE));
}

// Media detection for another mode does not take the call.
TEST_F(OwnershipTest, AnOwnerOfAnotherMediaModeOnlyMonitors) {
  Make("100", "104");
  const std::string offered = CallOn("104");
  const std::string ivr = NewSession();
  ASSERT_TRUE(Open(ivr, "104", v1::PRIVILEGE_OWNER, {v1::MEDIA_MODE_AUTOMATED_VOICE}).ok());
  EXPECT_THAT(Get(offered).owner_sessions(), IsEmpty());
  EXPECT_THAT(Get(offered).monitor_sessions(), ElementsAre(ivr));
}

// The tag of a call-creating request is on the created call (reply and
// GetCall), not on the far end's call; too long a tag is refused.
TEST_F(OwnershipTest, CallCreatingRequestsTagTheirCalls) {
  v1::MakeCallRequest make;
  make.set_line_id(L("103"));
  make.set_destination("104");
  make.set_tag("ws1-42");
  auto call = engine_->MakeCall(make);
  ASSERT_TRUE(call.ok()) << call.status();
  EXPECT_EQ(call->tag(), "ws1-42");
  EXPECT_EQ(Get(call->id()).tag(), "ws1-42");
  EXPECT_EQ(Get(CallOn("104")).tag(), "");
  // The call_created event of the new call carries it too, from the start.
  std::vector<EventPtr> events;
  engine_->journal().Read(1, 100000, &events);
  int tagged = 0;
  for (const EventPtr& e : events) {
    if (e->has_call_created() && e->call_created().call().id() == call->id()) {
      EXPECT_EQ(e->call_created().call().tag(), "ws1-42");
      ++tagged;
    }
  }
  EXPECT_EQ(tagged, 1);
  make.set_tag(std::string(300, 't'));
  EXPECT_THAT(engine_->MakeCall(make),
              IsTapiError(StatusCode::kInvalidArgument, LINEERR_INVALPARAM));
}

}  // namespace
}  // namespace linebridge::testing
