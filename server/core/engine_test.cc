// Engine rules that hold for every provider: handles, states, privileges,
// sessions and drop-no-owner, sizes, capabilities, subscriptions.
#include "core/engine.h"

#include "providers/sim/sim_test_util.h"

namespace linebridge::testing {
namespace {

using ::testing::ElementsAre;
using S = v1::CallState;
using absl::StatusCode;

TEST(DialString, AcceptsTapiDialableAddresses) {
  EXPECT_EQ(*NormalizeDialString("101"), "101");
  EXPECT_EQ(*NormalizeDialString("+1 (425) 555-0100"), "14255550100");
  EXPECT_EQ(*NormalizeDialString("9W555,0100!"), "95550100");
  EXPECT_EQ(*NormalizeDialString("*72#"), "*72#");
  EXPECT_EQ(*NormalizeDialString("abcd"), "ABCD");
}

TEST(DialString, RejectsInjectionAndGarbage) {
  for (const char* bad : {"12;ATZ", "1\r\n2", "12$%", "", "+", "1\x01"}) {
    EXPECT_THAT(NormalizeDialString(bad),
                IsTapiError(StatusCode::kInvalidArgument, LINEERR_INVALADDRESS))
        << bad;
  }
  EXPECT_THAT(NormalizeDialString(std::string(129, '1')),
              IsTapiError(StatusCode::kInvalidArgument, LINEERR_INVALADDRESS));
}

TEST(DialString, SipUrisAreCheckedForFormOnly) {
  EXPECT_TRUE(IsUriDestination("sip:carol@pbx.example.com"));
  EXPECT_TRUE(IsUriDestination("SIPS:carol@pbx"));
  EXPECT_FALSE(IsUriDestination("5550100"));
  EXPECT_TRUE(CheckUriDestination("sip:carol@pbx.example.com;user=phone").ok());
  for (const char* bad : {"sip:", "sip:a b@c", "sip:<a@b>", "sip:a@b\r\nX: y"}) {
    EXPECT_THAT(CheckUriDestination(bad),
                IsTapiError(StatusCode::kInvalidArgument, LINEERR_INVALADDRESS))
        << bad;
  }
  EXPECT_THAT(CheckUriDestination("sip:" + std::string(125, 'a')),
              IsTapiError(StatusCode::kInvalidArgument, LINEERR_INVALADDRESS));
}

TEST(PermanentLineId, IsStableAndDistinct) {
  EXPECT_EQ(PermanentLineId("sim/100"), PermanentLineId("sim/100"));
  EXPECT_NE(PermanentLineId("sim/100"), PermanentLineId("sim/101"));
}

// Device maps and tsecimp files keep these ids: they must never change. The
// function is 32-bit FNV-1a; the first three are its published test vectors.
TEST(PermanentLineId, GoldenValues) {
  EXPECT_EQ(PermanentLineId(""), 0x811c9dc5u);
  EXPECT_EQ(PermanentLineId("a"), 0xe40c292cu);
  EXPECT_EQ(PermanentLineId("foobar"), 0xbf9cf968u);
  EXPECT_EQ(PermanentLineId("sim/100"), 0x57d6f650u);
  EXPECT_EQ(PermanentLineId("modem//dev/serial/by-id/usb-Example_Modem-if00"), 0x5ec768c6u);
}

class EngineTest : public SimFixture {
 protected:
  std::string NewSession() {
    auto s = engine_->CreateSession({});
    EXPECT_TRUE(s.ok());
    return s->id();
  }
  absl::Status Open(const std::string& session, const std::string& ext, v1::Privilege p) {
    v1::OpenLineRequest req;
    req.set_session_id(session);
    req.set_line_id(L(ext));
    req.set_privilege(p);
    return engine_->OpenLine(req).status();
  }
};

TEST_F(EngineTest, UnknownHandlesAreNotFoundWithTheTapiError) {
  v1::GetLineRequest line;
  line.set_line_id("sim/999");
  EXPECT_THAT(engine_->GetLine(line), IsTapiError(StatusCode::kNotFound, LINEERR_BADDEVICEID));
  v1::MakeCallRequest make;
  make.set_line_id("nope/1");
  make.set_destination("101");
  EXPECT_THAT(engine_->MakeCall(make),
              IsTapiError(StatusCode::kNotFound, LINEERR_INVALLINEHANDLE));
  EXPECT_THAT(engine_->Drop(Action("c-1")),
              IsTapiError(StatusCode::kNotFound, LINEERR_INVALCALLHANDLE));
  EXPECT_THAT(engine_->Drop(Action("")),
              IsTapiError(StatusCode::kInvalidArgument, LINEERR_INVALCALLHANDLE));
  EXPECT_THAT(engine_->Drop(Action(std::string(300, 'x'))),
              IsTapiError(StatusCode::kInvalidArgument, LINEERR_INVALCALLHANDLE));
  // A SIP URI is for lines that dial them; the simulated PBX dials numbers.
  v1::MakeCallRequest uri;
  uri.set_line_id("sim/100");
  uri.set_destination("sip:carol@pbx.example.com");
  EXPECT_THAT(engine_->MakeCall(uri),
              IsTapiError(StatusCode::kInvalidArgument, LINEERR_INVALADDRESS));
  v1::Call a = Make("100", "101");
  EXPECT_THAT(engine_->Drop(Action(a.id(), "s-nobody")),
              IsTapiError(StatusCode::kNotFound, LINEERR_INVALAPPHANDLE));
}

TEST_F(EngineTest, NoSubscriberSeesACallEndBeforeItsRecordIsSettled) {
  sink_.Hold(true);
  const uint64_t seq = Seq();
  auto [a, b] = Connect("100", "101");
  ASSERT_TRUE(Drop(a).ok());
  ASSERT_TRUE(Drop(b).ok());
  EXPECT_EQ(State(a), v1::CALL_STATE_IDLE);
  EXPECT_EQ(State(b), v1::CALL_STATE_IDLE);
  ASSERT_EQ(sink_.records().size(), 2u);
  // The engine is done with both calls, but their IDLE events (and whatever
  // followed them) are held back until the records are durable.
  auto idle_seen = [&] {
    int n = 0;
    for (const v1::Event& e : EventsSince(seq)) {
      if (e.has_call_state() && e.call_state().status().state() == v1::CALL_STATE_IDLE) ++n;
    }
    return n;
  };
  EXPECT_EQ(idle_seen(), 0);
  EXPECT_LT(engine_->journal().visible_sequence(), engine_->journal().last_sequence());
  EXPECT_EQ(engine_->journal().open_fences(), 2u);
  sink_.SettleHeld();
  EXPECT_EQ(idle_seen(), 2);
  EXPECT_EQ(engine_->journal().visible_sequence(), engine_->journal().last_sequence());
  // Not held: visible at once.
  sink_.Hold(false);
  auto [c, d] = Connect("102", "103");
  ASSERT_TRUE(Drop(c).ok());
  ASSERT_TRUE(Drop(d).ok());
  EXPECT_EQ(engine_->journal().open_fences(), 0u);
  EXPECT_EQ(engine_->journal().visible_sequence(), engine_->journal().last_sequence());
}

TEST_F(EngineTest, WrongCallStateIsFailedPrecondition) {
  v1::Call a = Make("100", "101");
  EXPECT_THAT(engine_->Hold(Action(CallOn("101"))),
              IsTapiError(StatusCode::kFailedPrecondition, LINEERR_INVALCALLSTATE));
  EXPECT_THAT(engine_->Answer(Action(a.id())),
              IsTapiError(StatusCode::kFailedPrecondition, LINEERR_INVALCALLSTATE));
}

TEST_F(EngineTest, OversizedFieldsAreRejected) {
  v1::MakeCallRequest make;
  make.set_line_id("sim/100");
  make.set_destination("101");
  make.mutable_params()->set_user_user_info(std::string(257, 'u'));
  EXPECT_THAT(engine_->MakeCall(make),
              IsTapiError(StatusCode::kInvalidArgument, LINEERR_USERUSERINFOTOOBIG));
  v1::Call a = Make("100", "101");
  v1::SetCallDataRequest data;
  data.set_call_id(a.id());
  data.set_call_data(std::string(4097, 'd'));
  EXPECT_THAT(engine_->SetCallData(data),
              IsTapiError(StatusCode::kInvalidArgument, LINEERR_INVALPARAM));
  data.set_call_data("crm:42");
  auto ok = engine_->SetCallData(data);
  ASSERT_TRUE(ok.ok());
  EXPECT_EQ(ok->info().call_data(), "crm:42");
  v1::CreateSessionRequest session;
  session.set_client_name(std::string(300, 'n'));
  EXPECT_THAT(engine_->CreateSession(session),
              IsTapiError(StatusCode::kInvalidArgument, LINEERR_INVALAPPNAME));
  v1::MakeCallRequest media;
  media.set_line_id("sim/100");
  media.set_destination("101");
  media.mutable_params()->set_media_mode(v1::MEDIA_MODE_G3FAX);
  EXPECT_THAT(engine_->MakeCall(media),
              IsTapiError(StatusCode::kInvalidArgument, LINEERR_INVALMEDIAMODE));
}

TEST_F(EngineTest, SessionsOwnTheirCallsAndMonitorsCannotControl) {
  const std::string owner = NewSession(), monitor = NewSession();
  ASSERT_TRUE(Open(owner, "101", v1::PRIVILEGE_OWNER).ok());
  ASSERT_TRUE(Open(monitor, "101", v1::PRIVILEGE_MONITOR).ok());
  v1::Call a = Make("100", "101");
  const std::string b = CallOn("101");
  v1::Call offered = Get(b);
  EXPECT_THAT(offered.owner_sessions(), ElementsAre(owner));
  EXPECT_THAT(offered.monitor_sessions(), ElementsAre(monitor));
  EXPECT_THAT(engine_->Answer(Action(b, monitor)),
              IsTapiError(StatusCode::kPermissionDenied, LINEERR_NOTOWNER));
  auto answered = engine_->Answer(Action(b, owner));
  ASSERT_TRUE(answered.ok()) << answered.status();
  EXPECT_EQ(answered->status().privilege(), v1::PRIVILEGE_OWNER);
  v1::GetCallRequest get;
  get.set_session_id(monitor);
  get.set_call_id(b);
  EXPECT_EQ(engine_->GetCall(get)->status().privilege(), v1::PRIVILEGE_MONITOR);
}

TEST_F(EngineTest, MakeCallNeedsTheLineOpenInTheSession) {
  const std::string s = NewSession();
  v1::MakeCallRequest make;
  make.set_session_id(s);
  make.set_line_id("sim/100");
  make.set_destination("101");
  EXPECT_THAT(engine_->MakeCall(make),
              IsTapiError(StatusCode::kFailedPrecondition, LINEERR_INVALLINEHANDLE));
  ASSERT_TRUE(Open(s, "100", v1::PRIVILEGE_NONE).ok());
  auto call = engine_->MakeCall(make);
  ASSERT_TRUE(call.ok());
  EXPECT_THAT(call->owner_sessions(), ElementsAre(s));
  v1::OpenLineRequest bad;
  bad.set_session_id(s);
  bad.set_line_id("sim/101");
  EXPECT_THAT(engine_->OpenLine(bad),
              IsTapiError(StatusCode::kInvalidArgument, LINEERR_INVALPRIVSELECT));
}

TEST_F(EngineTest, ClosingTheLastOwnerDropsTheCall) {
  const std::string s = NewSession();
  ASSERT_TRUE(Open(s, "100", v1::PRIVILEGE_OWNER).ok());
  v1::MakeCallRequest make;
  make.set_session_id(s);
  make.set_line_id("sim/100");
  make.set_destination("101");
  const std::string a = engine_->MakeCall(make)->id();
  const std::string b = CallOn("101");
  ASSERT_TRUE(Answer(b).ok());
  // A server-owned call on the same line is not affected.
  const std::string server_call = Make("100", "5550100").id();
  v1::CloseLineRequest close;
  close.set_session_id(s);
  close.set_line_id("sim/100");
  ASSERT_TRUE(engine_->CloseLine(close).ok());
  EXPECT_EQ(State(a), S::CALL_STATE_IDLE);
  EXPECT_EQ(Get(b).status().disconnect_mode(), v1::DISCONNECT_MODE_NORMAL);
  EXPECT_EQ(State(server_call), S::CALL_STATE_CONNECTED);
}

TEST_F(EngineTest, SessionExpiresAfterGraceUnlessAStreamIsAttached) {
  EngineOptions o;
  o.session_grace_period = absl::Milliseconds(100);
  Start(TestPbx(), o);
  const std::string s = NewSession();
  ASSERT_TRUE(Open(s, "100", v1::PRIVILEGE_OWNER).ok());
  v1::SubscribeRequest sub;
  sub.set_session_id(s);
  ASSERT_TRUE(engine_->StartSubscription(sub).ok());
  v1::MakeCallRequest make;
  make.set_session_id(s);
  make.set_line_id("sim/100");
  make.set_destination("5550100");
  const std::string a = engine_->MakeCall(make)->id();
  absl::SleepFor(absl::Milliseconds(250));
  EXPECT_EQ(State(a), S::CALL_STATE_CONNECTED);  // attached: no grace timer
  engine_->EndSubscription(s);
  v1::CreateSessionRequest reclaim;
  reclaim.set_reclaim_session_id(s);
  ASSERT_TRUE(engine_->CreateSession(reclaim).ok());  // within grace
  EXPECT_EQ(State(a), S::CALL_STATE_CONNECTED);
  ASSERT_TRUE(WaitState(a, S::CALL_STATE_IDLE, absl::Seconds(3)));
  EXPECT_THAT(engine_->CreateSession(reclaim),
              IsTapiError(StatusCode::kNotFound, LINEERR_INVALAPPHANDLE));
}

TEST_F(EngineTest, DisconnectedCallsLingerThenGoIdle) {
  EngineOptions o;
  o.disconnected_linger = absl::Milliseconds(30);
  Start(TestPbx(), o);
  v1::Call a = Make("100", "5550101");
  EXPECT_EQ(State(a.id()), S::CALL_STATE_DISCONNECTED);
  ASSERT_TRUE(WaitState(a.id(), S::CALL_STATE_IDLE));
  ASSERT_EQ(sink_.records().size(), 1u);
  EXPECT_EQ(sink_.records()[0].disposition(), v1::DISCONNECT_MODE_BUSY);
  EXPECT_FALSE(sink_.records()[0].has_answered());
}

TEST_F(EngineTest, SubscriptionStartsWithSnapshotOrReplay) {
  Make("100", "101");
  v1::SubscribeRequest fresh;
  auto s = engine_->StartSubscription(fresh);
  ASSERT_TRUE(s.ok());
  ASSERT_NE(s->snapshot, nullptr);
  EXPECT_EQ(s->snapshot->snapshot_reason(), v1::EventBatch::SNAPSHOT_REASON_REQUESTED);
  EXPECT_EQ(s->snapshot->snapshot().lines_size(), 7);
  EXPECT_EQ(s->snapshot->snapshot().calls_size(), 2);
  EXPECT_EQ(s->snapshot->snapshot().sequence(), Seq());
  EXPECT_EQ(s->next_sequence, Seq() + 1);

  v1::SubscribeRequest resume;
  resume.set_resume_epoch(42);
  resume.set_resume_sequence(3);
  s = engine_->StartSubscription(resume);
  EXPECT_EQ(s->snapshot, nullptr);
  EXPECT_EQ(s->next_sequence, 4u);

  resume.set_resume_epoch(7);
  s = engine_->StartSubscription(resume);
  ASSERT_NE(s->snapshot, nullptr);
  EXPECT_EQ(s->snapshot->snapshot_reason(), v1::EventBatch::SNAPSHOT_REASON_EPOCH_CHANGED);

  resume.set_resume_epoch(42);
  resume.set_resume_sequence(Seq() + 100);
  s = engine_->StartSubscription(resume);
  ASSERT_NE(s->snapshot, nullptr);
  EXPECT_EQ(s->snapshot->snapshot_reason(), v1::EventBatch::SNAPSHOT_REASON_GAP);

  v1::SubscribeRequest filtered;
  filtered.add_line_ids("sim/101");
  s = engine_->StartSubscription(filtered);
  EXPECT_EQ(s->snapshot->snapshot().lines_size(), 1);
  EXPECT_EQ(s->snapshot->snapshot().calls_size(), 1);
}

TEST_F(EngineTest, SnapshotAfterTheJournalWrapped) {
  EngineOptions o;
  o.journal_capacity = 16;
  Start(TestPbx(), o);
  for (int i = 0; i < 5; ++i) Drop(Make("100", "5550100").id()).IgnoreError();
  v1::SubscribeRequest resume;
  resume.set_resume_epoch(42);
  resume.set_resume_sequence(1);
  auto s = engine_->StartSubscription(resume);
  ASSERT_NE(s->snapshot, nullptr);
  EXPECT_EQ(s->snapshot->snapshot_reason(), v1::EventBatch::SNAPSHOT_REASON_GAP);
}

// A test double standing in for a provider with few capabilities (a plain
// analogue line): it can make and drop calls and nothing else.
class MinimalLineProvider : public Provider {
 public:
  absl::string_view type() const override { return "minimal"; }
  absl::string_view name() const override { return "analog"; }
  absl::Status Start(ProviderHost& host) override {
    host_ = &host;
    v1::Line line;
    line.set_id("analog/1");
    line.set_provider("minimal");
    line.mutable_caps()->add_media_modes(v1::MEDIA_MODE_INTERACTIVE_VOICE);
    auto* addr = line.add_addresses();
    addr->mutable_caps()->add_address_features(v1::ADDRESS_FEATURE_MAKECALL);
    addr->mutable_caps()->add_call_features(v1::CALL_FEATURE_DROP);
    // Claims HOLD but does not implement it: the default must not pretend.
    addr->mutable_caps()->add_call_features(v1::CALL_FEATURE_UNHOLD);
    host.AddLine(line);
    return absl::OkStatus();
  }
  absl::StatusOr<std::string> MakeCall(const std::string& line_id, uint32_t, const std::string&,
                                       const v1::CallParams&) override {
    v1::CallInfo info;
    info.set_line_id(line_id);
    return host_->CreateCall(info, Connected());
  }
  absl::Status Drop(const std::string& id, const std::string&) override {
    host_->SetCallState(id, MakeStatus(v1::CALL_STATE_IDLE));
    return absl::OkStatus();
  }

 private:
  ProviderHost* host_ = nullptr;
};

TEST_F(EngineTest, MissingCapabilitiesAreOperationUnavailable) {
  ASSERT_TRUE(engine_->AddProvider(std::make_unique<MinimalLineProvider>()).ok());
  EXPECT_THAT(engine_->AddProvider(std::make_unique<MinimalLineProvider>()),
              ::testing::Property(&absl::Status::code, StatusCode::kAlreadyExists));
  v1::MakeCallRequest make;
  make.set_line_id("analog/1");
  make.set_destination("5551234");
  auto call = engine_->MakeCall(make);
  ASSERT_TRUE(call.ok()) << call.status();
  EXPECT_THAT(call->status().features(), ElementsAre(v1::CALL_FEATURE_DROP));
  EXPECT_THAT(engine_->Hold(Action(call->id())),
              IsTapiError(StatusCode::kUnimplemented, LINEERR_OPERATIONUNAVAIL));
  v1::PickupRequest pickup;
  pickup.set_line_id("analog/1");
  pickup.set_destination("1");
  EXPECT_THAT(engine_->Pickup(pickup),
              IsTapiError(StatusCode::kUnimplemented, LINEERR_OPERATIONUNAVAIL));
  // Unhold is claimed; the call is connected, so the state check fails first.
  EXPECT_THAT(engine_->Unhold(Action(call->id())),
              IsTapiError(StatusCode::kFailedPrecondition, LINEERR_INVALCALLSTATE));
  // The line functions beyond the core, unclaimed: unavailable before any
  // argument is looked at.
  v1::SwapHoldRequest swap;
  swap.set_call_id(call->id());
  swap.set_held_call_id(call->id());
  EXPECT_THAT(engine_->SwapHold(swap),
              IsTapiError(StatusCode::kUnimplemented, LINEERR_OPERATIONUNAVAIL));
  v1::SendUserUserInfoRequest uui;
  uui.set_call_id(call->id());
  uui.set_user_user_info("x");
  EXPECT_THAT(engine_->SendUserUserInfo(uui),
              IsTapiError(StatusCode::kUnimplemented, LINEERR_OPERATIONUNAVAIL));
  v1::ReleaseUserUserInfoRequest release;
  release.set_call_id(call->id());
  EXPECT_THAT(engine_->ReleaseUserUserInfo(release),
              IsTapiError(StatusCode::kUnimplemented, LINEERR_OPERATIONUNAVAIL));
  v1::SetCallParamsRequest params;
  params.set_call_id(call->id());
  params.set_bearer_mode(v1::BEARER_MODE_VOICE);
  EXPECT_THAT(engine_->SetCallParams(params),
              IsTapiError(StatusCode::kUnimplemented, LINEERR_OPERATIONUNAVAIL));
  v1::SetCallTreatmentRequest treatment;
  treatment.set_call_id(call->id());
  treatment.set_treatment(v1::CALL_TREATMENT_MUSIC);
  EXPECT_THAT(engine_->SetCallTreatment(treatment),
              IsTapiError(StatusCode::kUnimplemented, LINEERR_OPERATIONUNAVAIL));
  ASSERT_TRUE(Drop(call->id()).ok());
}

TEST_F(EngineTest, StatusCountsEverything) {
  Make("100", "101");
  const std::string s = NewSession();
  v1::ServerStatus st = engine_->Status();
  EXPECT_EQ(st.epoch(), 42u);
  EXPECT_EQ(st.lines(), 7u);
  EXPECT_EQ(st.calls(), 2u);
  EXPECT_EQ(st.sessions(), 1u);
  EXPECT_THAT(st.providers(), ElementsAre("sim:sim"));
  EXPECT_EQ(engine_->ListSessions()->sessions(0).id(), s);
}

}  // namespace
}  // namespace linebridge::testing
