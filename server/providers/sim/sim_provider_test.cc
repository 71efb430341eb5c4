// Every call scenario of the simulated PBX, driven through the engine.
#include "providers/sim/sim_provider.h"

#include "providers/sim/sim_test_util.h"

namespace linebridge::testing {
namespace {

using ::testing::ElementsAre;
using ::testing::Contains;

using S = v1::CallState;

TEST_F(SimFixture, ExtensionsAreLinesWithTruthfulCaps) {
  auto lines = engine_->ListLines({});
  ASSERT_TRUE(lines.ok());
  ASSERT_EQ(lines->lines_size(), 7);
  const v1::Line& alice = lines->lines(0);
  EXPECT_EQ(alice.id(), "sim/100");
  EXPECT_EQ(alice.name(), "Alice (100)");
  EXPECT_EQ(alice.addresses(0).address(), "100");
  EXPECT_EQ(alice.caps().permanent_line_id(), PermanentLineId("sim/100"));
  EXPECT_THAT(alice.caps().media_modes(), Contains(v1::MEDIA_MODE_INTERACTIVE_VOICE));
  EXPECT_EQ(alice.status().state(), v1::LINE_STATE_IN_SERVICE);
}

TEST_F(SimFixture, InternalCallOfferAnswerDrop) {
  const uint64_t seq = Seq();
  v1::Call a = Make("100", "101");
  EXPECT_EQ(a.status().state(), S::CALL_STATE_RINGBACK);
  EXPECT_EQ(a.info().origin(), v1::CALL_ORIGIN_OUTBOUND);
  const std::string b = CallOn("101");
  v1::Call callee = Get(b);
  EXPECT_EQ(callee.status().state(), S::CALL_STATE_OFFERING);
  EXPECT_EQ(callee.status().offering_mode(), v1::OFFERING_MODE_ACTIVE);
  EXPECT_EQ(callee.info().origin(), v1::CALL_ORIGIN_INTERNAL);
  EXPECT_EQ(callee.info().caller().number(), "100");
  EXPECT_EQ(callee.info().caller().name(), "Alice");
  EXPECT_EQ(callee.info().called().number(), "101");

  auto answered = Answer(b);
  ASSERT_TRUE(answered.ok());
  EXPECT_EQ(answered->status().state(), S::CALL_STATE_CONNECTED);
  EXPECT_EQ(answered->status().connected_mode(), v1::CONNECTED_MODE_ACTIVE);
  EXPECT_EQ(Get(a.id()).info().connected().number(), "101");
  EXPECT_EQ(Get(b).info().connected().number(), "100");

  ASSERT_TRUE(Drop(a.id()).ok());
  EXPECT_EQ(State(a.id()), S::CALL_STATE_IDLE);
  EXPECT_EQ(Get(b).status().disconnect_mode(), v1::DISCONNECT_MODE_NORMAL);
  ASSERT_TRUE(Drop(b).ok());
  EXPECT_THAT(StatesSince(seq, a.id()),
              ElementsAre(S::CALL_STATE_DIALING, S::CALL_STATE_RINGBACK, S::CALL_STATE_CONNECTED,
                          S::CALL_STATE_IDLE));
  EXPECT_THAT(StatesSince(seq, b),
              ElementsAre(S::CALL_STATE_OFFERING, S::CALL_STATE_CONNECTED,
                          S::CALL_STATE_DISCONNECTED, S::CALL_STATE_IDLE));
  auto records = sink_.records();
  ASSERT_EQ(records.size(), 2u);
  EXPECT_EQ(records[0].line_id(), "sim/100");
  EXPECT_TRUE(records[0].has_answered());
  EXPECT_EQ(records[1].disposition(), v1::DISCONNECT_MODE_NORMAL);
}

TEST_F(SimFixture, CalleeRejectsAndCallerAbandons) {
  v1::Call a = Make("100", "101");
  ASSERT_TRUE(Drop(CallOn("101")).ok());
  EXPECT_EQ(Get(a.id()).status().disconnect_mode(), v1::DISCONNECT_MODE_REJECT);

  v1::Call c = Make("102", "103");
  const std::string d = CallOn("103");
  ASSERT_TRUE(Drop(c.id()).ok());
  EXPECT_EQ(Get(d).status().disconnect_mode(), v1::DISCONNECT_MODE_CANCELLED);
}

TEST_F(SimFixture, AcceptThenAnswerCarriesUserUserInfo) {
  v1::Call a = Make("100", "101");
  const std::string b = CallOn("101");
  v1::CallActionRequest accept = Action(b);
  ASSERT_TRUE(engine_->Accept(accept).ok());
  EXPECT_EQ(State(b), S::CALL_STATE_ACCEPTED);
  v1::CallActionRequest answer = Action(b);
  answer.set_user_user_info("hello");
  ASSERT_TRUE(engine_->Answer(answer).ok());
  EXPECT_EQ(Get(a.id()).info().user_user_info(), "hello");
  v1::CallActionRequest drop = Action(a.id());
  drop.set_user_user_info("bye");
  ASSERT_TRUE(engine_->Drop(drop).ok());
  EXPECT_EQ(Get(b).info().user_user_info(), "bye");
}

TEST_F(SimFixture, ExternalNumbersBehaveAsConfigured) {
  uint64_t seq = Seq();
  v1::Call busy = Make("100", "5550101");
  EXPECT_THAT(StatesSince(seq, busy.id()),
              ElementsAre(S::CALL_STATE_DIALING, S::CALL_STATE_BUSY, S::CALL_STATE_DISCONNECTED));
  EXPECT_EQ(Get(busy.id()).status().disconnect_mode(), v1::DISCONNECT_MODE_BUSY);
  ASSERT_TRUE(Drop(busy.id()).ok());

  v1::Call reject = Make("100", "5550103");
  EXPECT_EQ(Get(reject.id()).status().disconnect_mode(), v1::DISCONNECT_MODE_REJECT);
  ASSERT_TRUE(Drop(reject.id()).ok());

  seq = Seq();
  v1::Call congested = Make("100", "5550104");
  EXPECT_THAT(StatesSince(seq, congested.id()),
              ElementsAre(S::CALL_STATE_DIALING, S::CALL_STATE_SPECIALINFO,
                          S::CALL_STATE_DISCONNECTED));
  EXPECT_EQ(Get(congested.id()).status().disconnect_mode(), v1::DISCONNECT_MODE_CONGESTION);
  ASSERT_TRUE(Drop(congested.id()).ok());

  v1::Call weather = Make("100", "5550100");
  EXPECT_EQ(weather.status().state(), S::CALL_STATE_CONNECTED);
  EXPECT_EQ(weather.info().connected().name(), "Weather Line");
  ASSERT_TRUE(Drop(weather.id()).ok());

  v1::Call nobody = Make("100", "5550102");
  EXPECT_EQ(nobody.status().state(), S::CALL_STATE_RINGBACK);
  ASSERT_TRUE(WaitState(nobody.id(), S::CALL_STATE_DISCONNECTED));
  EXPECT_EQ(Get(nobody.id()).status().disconnect_mode(), v1::DISCONNECT_MODE_NOANSWER);
  ASSERT_TRUE(Drop(nobody.id()).ok());

  v1::Call unknown = Make("100", "999");
  EXPECT_EQ(Get(unknown.id()).status().disconnect_mode(), v1::DISCONNECT_MODE_BADADDRESS);
}

TEST_F(SimFixture, ExternalIvrAnswersLaterAndSendsDigits) {
  v1::Call ivr = Make("100", "5550105");
  EXPECT_EQ(ivr.status().state(), S::CALL_STATE_RINGBACK);
  ASSERT_TRUE(WaitState(ivr.id(), S::CALL_STATE_CONNECTED));
  const uint64_t seq = Seq();
  v1::MonitorDigitsRequest mon;
  mon.set_call_id(ivr.id());
  mon.add_modes(v1::DIGIT_MODE_DTMF);
  ASSERT_TRUE(engine_->MonitorDigits(mon).ok());
  std::string heard;
  for (int i = 0; i < 300 && heard.size() < 2; ++i) {
    absl::SleepFor(absl::Milliseconds(5));
    heard.clear();
    for (const auto& e : EventsSince(seq)) {
      if (e.has_digit()) heard += e.digit().digit();
    }
  }
  EXPECT_EQ(heard, "1#");
}

TEST_F(SimFixture, AutoAnsweringExtension) {
  v1::Call a = Make("100", "199");
  ASSERT_TRUE(WaitState(a.id(), S::CALL_STATE_CONNECTED));
  EXPECT_EQ(State(CallOn("199")), S::CALL_STATE_CONNECTED);
}

TEST_F(SimFixture, CallingYourselfIsBusy) {
  v1::Call a = Make("100", "100");
  EXPECT_EQ(Get(a.id()).status().disconnect_mode(), v1::DISCONNECT_MODE_BUSY);
}

TEST_F(SimFixture, DialToneThenDial) {
  v1::Call a = Make("100", "");
  EXPECT_EQ(a.status().state(), S::CALL_STATE_DIALTONE);
  EXPECT_EQ(a.status().dial_tone_mode(), v1::DIAL_TONE_MODE_INTERNAL);
  v1::DialRequest dial;
  dial.set_call_id(a.id());
  dial.set_destination("101");
  auto r = engine_->Dial(dial);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->status().state(), S::CALL_STATE_RINGBACK);
  EXPECT_EQ(State(CallOn("101")), S::CALL_STATE_OFFERING);
}

TEST_F(SimFixture, HoldAndUnhold) {
  auto [a, b] = Connect("100", "101");
  ASSERT_TRUE(engine_->Hold(Action(a)).ok());
  EXPECT_EQ(State(a), S::CALL_STATE_ONHOLD);
  EXPECT_EQ(State(b), S::CALL_STATE_CONNECTED);
  auto line = engine_->GetLine([] {
    v1::GetLineRequest r;
    r.set_line_id("sim/100");
    return r;
  }());
  EXPECT_EQ(line->status().num_on_hold_calls(), 1u);
  EXPECT_THAT(engine_->Hold(Action(a)), IsTapiError(absl::StatusCode::kFailedPrecondition,
                                                    LINEERR_INVALCALLSTATE));
  ASSERT_TRUE(engine_->Unhold(Action(a)).ok());
  EXPECT_EQ(State(a), S::CALL_STATE_CONNECTED);
  EXPECT_THAT(engine_->Unhold(Action(a)), IsTapiError(absl::StatusCode::kFailedPrecondition,
                                                      LINEERR_INVALCALLSTATE));
}

TEST_F(SimFixture, BlindTransfer) {
  auto [a, b] = Connect("100", "101");
  v1::BlindTransferRequest req;
  req.set_call_id(b);
  req.set_destination("102");
  auto r = engine_->BlindTransfer(req);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->status().state(), S::CALL_STATE_IDLE);
  EXPECT_EQ(CallsOn("101"), 0);
  const std::string c = CallOn("102");
  v1::Call offered = Get(c);
  EXPECT_EQ(offered.status().state(), S::CALL_STATE_OFFERING);
  EXPECT_EQ(offered.info().reason(), v1::CALL_REASON_TRANSFER);
  EXPECT_EQ(offered.info().caller().number(), "100");
  EXPECT_EQ(offered.info().redirecting().number(), "101");
  EXPECT_EQ(State(a), S::CALL_STATE_RINGBACK);
  ASSERT_TRUE(Answer(c).ok());
  EXPECT_EQ(State(a), S::CALL_STATE_CONNECTED);
  EXPECT_EQ(Get(a).info().connected().number(), "102");

  v1::BlindTransferRequest bad;
  bad.set_call_id(c);
  bad.set_destination("4242");
  EXPECT_THAT(engine_->BlindTransfer(bad),
              IsTapiError(absl::StatusCode::kInvalidArgument, LINEERR_INVALADDRESS));
}

TEST_F(SimFixture, ConsultationTransfer) {
  auto [a, b] = Connect("100", "101");
  v1::SetupTransferRequest setup;
  setup.set_call_id(b);
  auto st = engine_->SetupTransfer(setup);
  ASSERT_TRUE(st.ok()) << st.status();
  EXPECT_EQ(st->call().status().state(), S::CALL_STATE_ONHOLDPENDTRANSFER);
  const v1::Call& consult = st->consultation();
  EXPECT_EQ(consult.status().state(), S::CALL_STATE_DIALTONE);
  EXPECT_EQ(consult.info().related_call_id(), Get(b).info().call_id());
  EXPECT_EQ(consult.info().related_kind(), v1::RELATED_CALL_KIND_CONSULTATION);

  v1::DialRequest dial;
  dial.set_call_id(consult.id());
  dial.set_destination("102");
  ASSERT_TRUE(engine_->Dial(dial).ok());
  const std::string c = CallOn("102");
  ASSERT_TRUE(Answer(c).ok());
  EXPECT_EQ(State(consult.id()), S::CALL_STATE_CONNECTED);

  v1::CompleteTransferRequest done;
  done.set_call_id(b);
  done.set_consultation_call_id(consult.id());
  auto ct = engine_->CompleteTransfer(done);
  ASSERT_TRUE(ct.ok()) << ct.status();
  EXPECT_FALSE(ct->has_conference());
  EXPECT_EQ(CallsOn("101"), 0);
  EXPECT_EQ(State(a), S::CALL_STATE_CONNECTED);
  EXPECT_EQ(State(c), S::CALL_STATE_CONNECTED);
  EXPECT_EQ(Get(a).info().connected().number(), "102");
  EXPECT_EQ(Get(c).info().connected().number(), "100");
  // They talk to each other now: digits from 100 reach 102.
  v1::MonitorDigitsRequest mon;
  mon.set_call_id(c);
  mon.add_modes(v1::DIGIT_MODE_DTMF);
  ASSERT_TRUE(engine_->MonitorDigits(mon).ok());
  const uint64_t seq = Seq();
  v1::GenerateDigitsRequest gen;
  gen.set_call_id(a);
  gen.set_digits("7");
  ASSERT_TRUE(engine_->GenerateDigits(gen).ok());
  int digits = 0;
  for (const auto& e : EventsSince(seq)) digits += e.has_digit() && e.digit().call_id() == c;
  EXPECT_EQ(digits, 1);
}

TEST_F(SimFixture, DroppedConsultationGivesTheHeldCallBack) {
  auto [a, b] = Connect("100", "101");
  v1::SetupTransferRequest setup;
  setup.set_call_id(b);
  auto st = engine_->SetupTransfer(setup);
  ASSERT_TRUE(st.ok());
  ASSERT_TRUE(Drop(st->consultation().id()).ok());
  EXPECT_EQ(State(b), S::CALL_STATE_ONHOLD);
  ASSERT_TRUE(engine_->Unhold(Action(b)).ok());
  EXPECT_EQ(State(a), S::CALL_STATE_CONNECTED);
}

TEST_F(SimFixture, ThreePartyConference) {
  auto [a, b] = Connect("100", "101");
  v1::SetupConferenceRequest setup;
  setup.set_call_id(b);
  auto sc = engine_->SetupConference(setup);
  ASSERT_TRUE(sc.ok()) << sc.status();
  const std::string hub = sc->conference().id();
  EXPECT_EQ(sc->conference().status().state(), S::CALL_STATE_ONHOLDPENDCONF);
  EXPECT_EQ(sc->conference().info().origin(), v1::CALL_ORIGIN_CONFERENCE);
  EXPECT_EQ(State(b), S::CALL_STATE_CONFERENCED);
  EXPECT_EQ(Get(b).info().related_call_id(), sc->conference().info().call_id());
  const std::string consult = sc->consultation().id();
  EXPECT_EQ(sc->consultation().status().state(), S::CALL_STATE_DIALTONE);

  v1::DialRequest dial;
  dial.set_call_id(consult);
  dial.set_destination("102");
  ASSERT_TRUE(engine_->Dial(dial).ok());
  const std::string c = CallOn("102");
  ASSERT_TRUE(Answer(c).ok());
  v1::AddToConferenceRequest add;
  add.set_conference_call_id(hub);
  add.set_call_id(consult);
  auto added = engine_->AddToConference(add);
  ASSERT_TRUE(added.ok()) << added.status();
  EXPECT_EQ(added->status().state(), S::CALL_STATE_CONNECTED);
  EXPECT_EQ(State(consult), S::CALL_STATE_CONFERENCED);

  // Digits the controller sends reach both far ends; a party's digits reach the controller.
  for (const std::string& id : {a, c}) {
    v1::MonitorDigitsRequest mon;
    mon.set_call_id(id);
    mon.add_modes(v1::DIGIT_MODE_DTMF);
    ASSERT_TRUE(engine_->MonitorDigits(mon).ok());
  }
  uint64_t seq = Seq();
  v1::GenerateDigitsRequest gen;
  gen.set_call_id(hub);
  gen.set_digits("5");
  ASSERT_TRUE(engine_->GenerateDigits(gen).ok());
  std::set<std::string> heard;
  for (const auto& e : EventsSince(seq)) {
    if (e.has_digit()) heard.insert(e.digit().call_id());
  }
  EXPECT_EQ(heard, (std::set<std::string>{a, c}));

  // 102 leaves: the conference collapses to a two-party call 100 <-> 101.
  v1::CallActionRequest remove = Action(consult);
  ASSERT_TRUE(engine_->RemoveFromConference(remove).ok());
  EXPECT_EQ(Get(c).status().disconnect_mode(), v1::DISCONNECT_MODE_NORMAL);
  EXPECT_EQ(State(hub), S::CALL_STATE_IDLE);
  EXPECT_EQ(State(b), S::CALL_STATE_CONNECTED);
  EXPECT_EQ(Get(b).info().related_call_id(), 0u);
  EXPECT_EQ(State(a), S::CALL_STATE_CONNECTED);
}

TEST_F(SimFixture, ConferenceByCompletingATransferAndDroppingIt) {
  auto [a, b] = Connect("100", "101");
  v1::SetupTransferRequest setup;
  setup.set_call_id(b);
  auto st = engine_->SetupTransfer(setup);
  ASSERT_TRUE(st.ok());
  v1::DialRequest dial;
  dial.set_call_id(st->consultation().id());
  dial.set_destination("5550100");
  ASSERT_TRUE(engine_->Dial(dial).ok());
  v1::CompleteTransferRequest done;
  done.set_call_id(b);
  done.set_consultation_call_id(st->consultation().id());
  done.set_mode(v1::TRANSFER_MODE_CONFERENCE);
  auto ct = engine_->CompleteTransfer(done);
  ASSERT_TRUE(ct.ok()) << ct.status();
  ASSERT_TRUE(ct->has_conference());
  const std::string hub = ct->conference().id();
  EXPECT_EQ(State(hub), S::CALL_STATE_CONNECTED);
  EXPECT_EQ(State(b), S::CALL_STATE_CONFERENCED);
  EXPECT_EQ(State(st->consultation().id()), S::CALL_STATE_CONFERENCED);
  ASSERT_TRUE(Drop(hub).ok());
  EXPECT_EQ(CallsOn("101"), 0);
  EXPECT_EQ(Get(a).status().disconnect_mode(), v1::DISCONNECT_MODE_NORMAL);
}

TEST_F(SimFixture, ConferenceIsLimited) {
  auto [a, b] = Connect("100", "101");
  v1::SetupConferenceRequest setup;
  setup.set_call_id(b);
  auto sc = engine_->SetupConference(setup);
  ASSERT_TRUE(sc.ok());
  std::string consult = sc->consultation().id();
  const char* others[] = {"102", "103"};
  for (const char* to : others) {
    v1::DialRequest dial;
    dial.set_call_id(consult);
    dial.set_destination(to);
    ASSERT_TRUE(engine_->Dial(dial).ok());
    ASSERT_TRUE(Answer(CallOn(to)).ok());
    v1::AddToConferenceRequest add;
    add.set_conference_call_id(sc->conference().id());
    add.set_call_id(consult);
    ASSERT_TRUE(engine_->AddToConference(add).ok());
    v1::PrepareAddToConferenceRequest prep;
    prep.set_conference_call_id(sc->conference().id());
    auto next = engine_->PrepareAddToConference(prep);
    if (std::string(to) == "103") {
      EXPECT_THAT(next, IsTapiError(absl::StatusCode::kResourceExhausted, LINEERR_CONFERENCEFULL));
    } else {
      ASSERT_TRUE(next.ok()) << next.status();
      EXPECT_EQ(State(sc->conference().id()), S::CALL_STATE_ONHOLDPENDCONF);
      consult = next->id();
    }
  }
}

TEST_F(SimFixture, ParkAndUnpark) {
  auto [a, b] = Connect("100", "101");
  v1::ParkRequest park;
  park.set_call_id(b);
  auto parked = engine_->Park(park);
  ASSERT_TRUE(parked.ok()) << parked.status();
  EXPECT_EQ(parked->park_address(), "700");
  EXPECT_EQ(CallsOn("101"), 0);
  EXPECT_EQ(State(a), S::CALL_STATE_CONNECTED);
  EXPECT_EQ(Get(a).info().connected().number(), "700");

  v1::UnparkRequest unpark;
  unpark.set_line_id("sim/102");
  unpark.set_park_address("700");
  auto u = engine_->Unpark(unpark);
  ASSERT_TRUE(u.ok()) << u.status();
  EXPECT_EQ(u->status().state(), S::CALL_STATE_CONNECTED);
  EXPECT_EQ(u->info().reason(), v1::CALL_REASON_UNPARK);
  EXPECT_EQ(u->info().connected().number(), "100");
  EXPECT_EQ(Get(a).info().connected().number(), "102");
  EXPECT_THAT(engine_->Unpark(unpark), IsTapiError(absl::StatusCode::kNotFound, LINEERR_INVALADDRESS));

  v1::ParkRequest directed;
  directed.set_call_id(u->id());
  directed.set_mode(v1::PARK_MODE_DIRECTED);
  directed.set_destination("123");
  EXPECT_THAT(engine_->Park(directed),
              IsTapiError(absl::StatusCode::kInvalidArgument, LINEERR_INVALADDRESS));
  directed.set_destination("742");
  auto d = engine_->Park(directed);
  ASSERT_TRUE(d.ok()) << d.status();
  EXPECT_EQ(d->park_address(), "742");
}

TEST_F(SimFixture, PickupByExtensionAndByGroup) {
  v1::Call a = Make("100", "101");
  const std::string ringing = CallOn("101");
  const uint64_t seq = Seq();
  v1::PickupRequest pick;
  pick.set_line_id("sim/102");
  pick.set_destination("101");
  auto p = engine_->Pickup(pick);
  ASSERT_TRUE(p.ok()) << p.status();
  EXPECT_EQ(p->status().state(), S::CALL_STATE_CONNECTED);
  EXPECT_EQ(p->info().reason(), v1::CALL_REASON_PICKUP);
  EXPECT_EQ(p->info().connected().number(), "100");
  EXPECT_THAT(StatesSince(seq, ringing),
              ElementsAre(S::CALL_STATE_DISCONNECTED, S::CALL_STATE_IDLE));
  EXPECT_EQ(State(a.id()), S::CALL_STATE_CONNECTED);
  EXPECT_EQ(Get(a.id()).info().connected().number(), "102");

  v1::Call c = Make("103", "100");
  v1::PickupRequest group;
  group.set_line_id("sim/101");
  group.set_group_id("sales");
  auto g = engine_->Pickup(group);
  ASSERT_TRUE(g.ok()) << g.status();
  EXPECT_EQ(State(c.id()), S::CALL_STATE_CONNECTED);
  EXPECT_THAT(engine_->Pickup(group),
              IsTapiError(absl::StatusCode::kFailedPrecondition, LINEERR_OPERATIONFAILED));
}

TEST_F(SimFixture, Redirect) {
  v1::Call a = Make("100", "101");
  v1::RedirectRequest req;
  req.set_call_id(CallOn("101"));
  req.set_destination("103");
  ASSERT_TRUE(engine_->Redirect(req).ok());
  EXPECT_EQ(CallsOn("101"), 0);
  v1::Call redirected = Get(CallOn("103"));
  EXPECT_EQ(redirected.status().state(), S::CALL_STATE_OFFERING);
  EXPECT_EQ(redirected.info().reason(), v1::CALL_REASON_REDIRECT);
  EXPECT_EQ(redirected.info().redirecting().number(), "101");
  EXPECT_EQ(Get(a.id()).info().redirection().number(), "103");
  EXPECT_EQ(State(a.id()), S::CALL_STATE_RINGBACK);
}

TEST_F(SimFixture, ForwardingUnconditionalBusyAndNoAnswer) {
  v1::SetLineForwardingRequest fwd;
  fwd.set_line_id("sim/101");
  auto* rule = fwd.add_rules();
  rule->set_mode(v1::FORWARD_MODE_UNCOND);
  rule->set_destination("102");
  auto line = engine_->SetLineForwarding(fwd);
  ASSERT_TRUE(line.ok()) << line.status();
  EXPECT_EQ(line->status().forwarding_size(), 1);
  Make("100", "101");
  EXPECT_EQ(CallsOn("101"), 0);
  v1::Call fwded = Get(CallOn("102"));
  EXPECT_EQ(fwded.info().reason(), v1::CALL_REASON_FWDUNCOND);
  EXPECT_EQ(fwded.info().redirecting().number(), "101");

  // 150 has one call appearance: busy forwarding.
  v1::SetLineForwardingRequest busy;
  busy.set_line_id("sim/150");
  busy.add_rules()->set_mode(v1::FORWARD_MODE_BUSY);
  busy.mutable_rules(0)->set_destination("103");
  ASSERT_TRUE(engine_->SetLineForwarding(busy).ok());
  Make("150", "5550100");
  Make("104", "150");
  EXPECT_EQ(Get(CallOn("103")).info().reason(), v1::CALL_REASON_FWDBUSY);

  // No answer: 2 rings of 20 ms, then it moves on.
  v1::SetLineForwardingRequest na;
  na.set_line_id("sim/199");
  EXPECT_TRUE(engine_->SetLineForwarding(na).ok());  // clearing is always fine
  v1::SetLineForwardingRequest noanswer;
  noanswer.set_line_id("sim/104");
  noanswer.add_rules()->set_mode(v1::FORWARD_MODE_NOANSW);
  noanswer.mutable_rules(0)->set_destination("199");
  ASSERT_TRUE(engine_->SetLineForwarding(noanswer).ok());
  v1::Call to104 = Make("102", "104");
  ASSERT_TRUE(WaitState(to104.id(), S::CALL_STATE_CONNECTED));
  EXPECT_EQ(Get(to104.id()).info().connected().number(), "199");

  v1::SetLineForwardingRequest self;
  self.set_line_id("sim/100");
  self.add_rules()->set_mode(v1::FORWARD_MODE_UNCOND);
  self.mutable_rules(0)->set_destination("100");
  EXPECT_THAT(engine_->SetLineForwarding(self),
              IsTapiError(absl::StatusCode::kInvalidArgument, LINEERR_TARGETSELF));
}

TEST_F(SimFixture, DtmfReachesTheFarEndOnlyWhenMonitored) {
  auto [a, b] = Connect("100", "101");
  v1::GenerateDigitsRequest gen;
  gen.set_call_id(a);
  gen.set_digits("12#");
  uint64_t seq = Seq();
  ASSERT_TRUE(engine_->GenerateDigits(gen).ok());
  int digits = 0, generated = 0;
  for (const auto& e : EventsSince(seq)) {
    digits += e.has_digit();
    generated += e.has_digits_generated();
  }
  EXPECT_EQ(digits, 0);
  EXPECT_EQ(generated, 1);

  v1::MonitorDigitsRequest mon;
  mon.set_call_id(b);
  mon.add_modes(v1::DIGIT_MODE_DTMF);
  ASSERT_TRUE(engine_->MonitorDigits(mon).ok());
  seq = Seq();
  ASSERT_TRUE(engine_->GenerateDigits(gen).ok());
  std::string heard;
  for (const auto& e : EventsSince(seq)) {
    if (e.has_digit()) {
      EXPECT_EQ(e.digit().call_id(), b);
      heard += e.digit().digit();
    }
  }
  EXPECT_EQ(heard, "12#");
  gen.set_digits("12x");
  EXPECT_THAT(engine_->GenerateDigits(gen),
              IsTapiError(absl::StatusCode::kInvalidArgument, LINEERR_INVALDIGITS));
}

TEST_F(SimFixture, CallAppearancesRunOut) {
  Make("150", "5550100");
  v1::MakeCallRequest req;
  req.set_line_id("sim/150");
  req.set_destination("101");
  EXPECT_THAT(engine_->MakeCall(req),
              IsTapiError(absl::StatusCode::kResourceExhausted, LINEERR_CALLUNAVAIL));
}

TEST_F(SimFixture, ReconfigureAddsAndRemovesLines) {
  v1::config::SimConfig sim = TestPbx();
  sim.mutable_extensions()->erase(sim.mutable_extensions()->begin() + 4);  // 104 goes
  auto* e = sim.add_extensions();
  e->set_number("110");
  e->set_name("Ivan");
  v1::Call a = Make("100", "104");
  const uint64_t seq = Seq();
  v1::config::ServerConfig config;
  *config.add_providers()->mutable_sim() = sim;
  auto r = engine_->Reconfigure(config);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_THAT(r->lines_added(), ElementsAre("sim/110"));
  EXPECT_THAT(r->lines_removed(), ElementsAre("sim/104"));
  bool created = false, removed = false;
  for (const auto& ev : EventsSince(seq)) {
    created |= ev.has_line_created() && ev.line_created().line().id() == "sim/110";
    removed |= ev.has_line_removed() && ev.line_removed().line_id() == "sim/104";
  }
  EXPECT_TRUE(created);
  EXPECT_TRUE(removed);
  EXPECT_EQ(Get(a.id()).status().state(), S::CALL_STATE_DISCONNECTED);
}

}  // namespace
}  // namespace linebridge::testing
