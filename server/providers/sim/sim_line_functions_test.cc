// The simulated PBX beyond the core call actions, driven through the engine:
// SwapHold and user-user information.
#include "providers/sim/sim_provider.h"
#include "providers/sim/sim_test_util.h"

#include <stdlib.h>
#include <unistd.h>

#include <cstdio>

namespace linebridge::testing {
namespace {

using ::testing::ElementsAre;

using S = v1::CallState;

v1::SwapHoldRequest Swap(const std::string& active, const std::string& held,
                         const std::string& session = "") {
  v1::SwapHoldRequest req;
  req.set_session_id(session);
  req.set_call_id(active);
  req.set_held_call_id(held);
  return req;
}

TEST_F(SimFixture, SwapHoldPutsTheActiveCallOnHoldFirst) {
  auto [a, b] = Connect("100", "101");
  ASSERT_TRUE(engine_->Hold(Action(a)).ok());
  auto [c, d] = Connect("100", "102");
  const uint64_t seq = Seq();
  auto r = engine_->SwapHold(Swap(c, a));
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->call().id(), c);
  EXPECT_EQ(r->call().status().state(), S::CALL_STATE_ONHOLD);
  EXPECT_EQ(r->held_call().id(), a);
  EXPECT_EQ(r->held_call().status().state(), S::CALL_STATE_CONNECTED);
  // One event each, the hold before the other call's connect.
  std::vector<std::string> order;
  for (const auto& e : EventsSince(seq)) {
    if (e.has_call_state()) {
      order.push_back(e.call_state().call_id() + ":" +
                      v1::CallState_Name(e.call_state().status().state()));
    }
  }
  EXPECT_THAT(order, ElementsAre(c + ":CALL_STATE_ONHOLD", a + ":CALL_STATE_CONNECTED"));
  // The far ends stay connected.
  EXPECT_EQ(State(b), S::CALL_STATE_CONNECTED);
  EXPECT_EQ(State(d), S::CALL_STATE_CONNECTED);
  // And back.
  ASSERT_TRUE(engine_->SwapHold(Swap(a, c)).ok());
  EXPECT_EQ(State(a), S::CALL_STATE_ONHOLD);
  EXPECT_EQ(State(c), S::CALL_STATE_CONNECTED);
  EXPECT_THAT(Get(c).status().features(), ::testing::Contains(v1::CALL_FEATURE_SWAPHOLD));
  EXPECT_THAT(Get(a).status().features(), ::testing::Contains(v1::CALL_FEATURE_SWAPHOLD));
}

TEST_F(SimFixture, SwapHoldRefusals) {
  auto [a, b] = Connect("100", "101");
  auto [c, d] = Connect("100", "102");
  // Both connected: the "held" call is not held.
  EXPECT_THAT(engine_->SwapHold(Swap(c, a)),
              IsTapiError(absl::StatusCode::kFailedPrecondition, LINEERR_INVALCALLSTATE));
  ASSERT_TRUE(engine_->Hold(Action(a)).ok());
  // The active call must be CONNECTED.
  EXPECT_THAT(engine_->SwapHold(Swap(a, c)),
              IsTapiError(absl::StatusCode::kFailedPrecondition, LINEERR_INVALCALLSTATE));
  EXPECT_THAT(engine_->SwapHold(Swap(c, c)),
              IsTapiError(absl::StatusCode::kInvalidArgument, LINEERR_INVALCALLHANDLE));
  EXPECT_THAT(engine_->SwapHold(Swap(c, "")),
              IsTapiError(absl::StatusCode::kInvalidArgument, LINEERR_INVALCALLHANDLE));
  EXPECT_THAT(engine_->SwapHold(Swap(c, "nope")),
              IsTapiError(absl::StatusCode::kNotFound, LINEERR_INVALCALLHANDLE));
  EXPECT_THAT(engine_->SwapHold(Swap("", a)),
              IsTapiError(absl::StatusCode::kInvalidArgument, LINEERR_INVALCALLHANDLE));
  // Calls of two lines.
  ASSERT_TRUE(engine_->Hold(Action(b)).ok());
  EXPECT_THAT(engine_->SwapHold(Swap(c, b)),
              IsTapiError(absl::StatusCode::kInvalidArgument, LINEERR_INVALCALLHANDLE));
  // A session that owns neither.
  v1::CreateSessionRequest create;
  create.set_client_name("other");
  auto session = engine_->CreateSession(create);
  ASSERT_TRUE(session.ok());
  EXPECT_THAT(engine_->SwapHold(Swap(c, a, session->id())),
              IsTapiError(absl::StatusCode::kPermissionDenied, LINEERR_NOTOWNER));
  EXPECT_EQ(State(a), S::CALL_STATE_ONHOLD);
  EXPECT_EQ(State(c), S::CALL_STATE_CONNECTED);
}

TEST_F(SimFixture, SwapHoldWithACallPendingTransferIsRefusedBySim) {
  auto [a, b] = Connect("100", "101");
  v1::SetupTransferRequest setup;
  setup.set_call_id(a);
  auto st = engine_->SetupTransfer(setup);
  ASSERT_TRUE(st.ok()) << st.status();
  v1::DialRequest dial;
  dial.set_call_id(st->consultation().id());
  dial.set_destination("102");
  ASSERT_TRUE(engine_->Dial(dial).ok());
  ASSERT_TRUE(Answer(CallOn("102")).ok());
  EXPECT_EQ(State(a), S::CALL_STATE_ONHOLDPENDTRANSFER);
  EXPECT_THAT(engine_->SwapHold(Swap(st->consultation().id(), a)),
              IsTapiError(absl::StatusCode::kFailedPrecondition, LINEERR_INVALCALLSTATE));
  EXPECT_EQ(State(a), S::CALL_STATE_ONHOLDPENDTRANSFER);
}

v1::SendUserUserInfoRequest Uui(const std::string& call, const std::string& uui) {
  v1::SendUserUserInfoRequest req;
  req.set_call_id(call);
  req.set_user_user_info(uui);
  return req;
}
v1::ReleaseUserUserInfoRequest Release(const std::string& call) {
  v1::ReleaseUserUserInfoRequest req;
  req.set_call_id(call);
  return req;
}

TEST_F(SimFixture, UserUserInfoReachesTheOtherPartyAndIsReleased) {
  const uint64_t seq = Seq();
  v1::Call a = Make("100", "101");
  const std::string b = CallOn("101");
  // While it rings, both ways.
  ASSERT_TRUE(engine_->SendUserUserInfo(Uui(a.id(), "from 100")).ok());
  EXPECT_EQ(Get(b).info().user_user_info(), "from 100");
  ASSERT_TRUE(engine_->SendUserUserInfo(Uui(b, std::string("\0\1binary", 8))).ok());
  EXPECT_EQ(Get(a.id()).info().user_user_info(), std::string("\0\1binary", 8));
  bool announced = false;
  for (const auto& e : EventsSince(seq)) {
    if (e.has_call_info() && e.call_info().call_id() == b) {
      for (const auto& c : e.call_info().changed()) announced |= c == "user_user_info";
    }
  }
  EXPECT_TRUE(announced);
  ASSERT_TRUE(Answer(b).ok());
  EXPECT_THAT(Get(a.id()).status().features(),
              ::testing::Contains(v1::CALL_FEATURE_SENDUSERUSER));
  // Released: empty until the next one arrives.
  auto released = engine_->ReleaseUserUserInfo(Release(b));
  ASSERT_TRUE(released.ok()) << released.status();
  EXPECT_EQ(released->info().user_user_info(), "");
  ASSERT_TRUE(engine_->ReleaseUserUserInfo(Release(b)).ok());  // nothing left: fine
  ASSERT_TRUE(engine_->SendUserUserInfo(Uui(a.id(), "again")).ok());
  EXPECT_EQ(Get(b).info().user_user_info(), "again");
  // Held calls cannot send (the far end is not listening).
  ASSERT_TRUE(engine_->Hold(Action(a.id())).ok());
  EXPECT_THAT(engine_->SendUserUserInfo(Uui(a.id(), "x")),
              IsTapiError(absl::StatusCode::kFailedPrecondition, LINEERR_INVALCALLSTATE));
  EXPECT_THAT(Get(a.id()).status().features(),
              ::testing::Not(::testing::Contains(v1::CALL_FEATURE_SENDUSERUSER)));
}

TEST_F(SimFixture, UserUserInfoSizeLimitsAndRefusals) {
  auto [a, b] = Connect("100", "101");
  const uint32_t max = 256;  // the sim's LineCaps.max_user_user_info_size
  auto line = engine_->GetLine([] {
    v1::GetLineRequest r;
    r.set_line_id("sim/100");
    return r;
  }());
  ASSERT_TRUE(line.ok());
  EXPECT_EQ(line->caps().max_user_user_info_size(), max);
  EXPECT_TRUE(engine_->SendUserUserInfo(Uui(a, std::string(max, 'u'))).ok());
  EXPECT_THAT(engine_->SendUserUserInfo(Uui(a, std::string(max + 1, 'u'))),
              IsTapiError(absl::StatusCode::kInvalidArgument, LINEERR_USERUSERINFOTOOBIG));
  EXPECT_THAT(engine_->SendUserUserInfo(Uui(a, "")),
              IsTapiError(absl::StatusCode::kInvalidArgument, LINEERR_INVALPOINTER));
  EXPECT_THAT(engine_->SendUserUserInfo(Uui("nope", "x")),
              IsTapiError(absl::StatusCode::kNotFound, LINEERR_INVALCALLHANDLE));
  EXPECT_THAT(engine_->ReleaseUserUserInfo(Release("")),
              IsTapiError(absl::StatusCode::kInvalidArgument, LINEERR_INVALCALLHANDLE));
  v1::CreateSessionRequest create;
  create.set_client_name("other");
  auto session = engine_->CreateSession(create);
  ASSERT_TRUE(session.ok());
  v1::SendUserUserInfoRequest foreign = Uui(a, "x");
  foreign.set_session_id(session->id());
  EXPECT_THAT(engine_->SendUserUserInfo(foreign),
              IsTapiError(absl::StatusCode::kPermissionDenied, LINEERR_NOTOWNER));
}

TEST_F(SimFixture, SetCallParamsChecksAgainstTheLineAndClampsDialParams) {
  auto [a, b] = Connect("100", "101");
  v1::SetCallParamsRequest req;
  req.set_call_id(a);
  req.set_bearer_mode(v1::BEARER_MODE_SPEECH);
  req.set_min_rate(8000);
  req.set_max_rate(1000000);  // above the line's 64000: the call gets 64000
  req.mutable_dial_params()->set_dial_pause_ms(1);        // below min 2000
  req.mutable_dial_params()->set_digit_duration_ms(100);  // in range
  const uint64_t seq = Seq();
  auto r = engine_->SetCallParams(req);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->info().bearer_mode(), v1::BEARER_MODE_SPEECH);
  EXPECT_EQ(r->info().rate(), 64000u);
  EXPECT_EQ(r->info().dial_params().dial_pause_ms(), 2000u);
  EXPECT_EQ(r->info().dial_params().digit_duration_ms(), 100u);
  EXPECT_EQ(r->info().dial_params().dial_speed_ms(), 100u);  // 0: the line's default
  std::vector<std::string> changed;
  for (const auto& e : EventsSince(seq)) {
    if (e.has_call_info() && e.call_info().call_id() == a) {
      changed.assign(e.call_info().changed().begin(), e.call_info().changed().end());
    }
  }
  EXPECT_THAT(changed, ElementsAre("bearer_mode", "rate", "dial_params"));
  // Without dial params: they stay; max_rate 0: the line's.
  req.clear_dial_params();
  req.set_max_rate(0);
  req.set_min_rate(0);
  r = engine_->SetCallParams(req);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->info().dial_params().dial_pause_ms(), 2000u);
  EXPECT_EQ(r->info().rate(), 64000u);

  req.set_bearer_mode(v1::BEARER_MODE_DATA);  // the sim line is voice/speech only
  EXPECT_THAT(engine_->SetCallParams(req),
              IsTapiError(absl::StatusCode::kInvalidArgument, LINEERR_INVALBEARERMODE));
  req.set_bearer_mode(v1::BEARER_MODE_UNSPECIFIED);
  EXPECT_THAT(engine_->SetCallParams(req),
              IsTapiError(absl::StatusCode::kInvalidArgument, LINEERR_INVALBEARERMODE));
  req.set_bearer_mode(v1::BEARER_MODE_VOICE);
  req.set_min_rate(9000);
  req.set_max_rate(8000);
  EXPECT_THAT(engine_->SetCallParams(req),
              IsTapiError(absl::StatusCode::kInvalidArgument, LINEERR_INVALRATE));
  req.set_min_rate(128000);
  req.set_max_rate(0);
  EXPECT_THAT(engine_->SetCallParams(req),
              IsTapiError(absl::StatusCode::kInvalidArgument, LINEERR_INVALRATE));
  EXPECT_EQ(Get(a).info().bearer_mode(), v1::BEARER_MODE_SPEECH);
}

TEST_F(SimFixture, SetCallTreatmentOnUnansweredCalls) {
  v1::Call a = Make("100", "101");
  const std::string b = CallOn("101");
  v1::SetCallTreatmentRequest req;
  req.set_call_id(b);
  for (auto t : {v1::CALL_TREATMENT_SILENCE, v1::CALL_TREATMENT_RINGBACK, v1::CALL_TREATMENT_BUSY,
                 v1::CALL_TREATMENT_MUSIC}) {
    req.set_treatment(t);
    auto r = engine_->SetCallTreatment(req);
    ASSERT_TRUE(r.ok()) << r.status();
    EXPECT_EQ(r->info().treatment(), t);
  }
  EXPECT_THAT(Get(b).status().features(), ::testing::Contains(v1::CALL_FEATURE_SETTREATMENT));
  req.set_treatment(v1::CALL_TREATMENT_UNSPECIFIED);
  EXPECT_THAT(engine_->SetCallTreatment(req),
              IsTapiError(absl::StatusCode::kInvalidArgument, LINEERR_INVALPARAM));
  req.set_treatment(static_cast<v1::CallTreatment>(0x100));
  EXPECT_THAT(engine_->SetCallTreatment(req),
              IsTapiError(absl::StatusCode::kInvalidArgument, LINEERR_INVALPARAM));
  // The caller's side is not unanswered (RINGBACK), and neither is an answered call.
  req.set_treatment(v1::CALL_TREATMENT_MUSIC);
  req.set_call_id(a.id());
  EXPECT_THAT(engine_->SetCallTreatment(req),
              IsTapiError(absl::StatusCode::kFailedPrecondition, LINEERR_INVALCALLSTATE));
  ASSERT_TRUE(Answer(b).ok());
  req.set_call_id(b);
  EXPECT_THAT(engine_->SetCallTreatment(req),
              IsTapiError(absl::StatusCode::kFailedPrecondition, LINEERR_INVALCALLSTATE));
  EXPECT_THAT(Get(b).status().features(),
              ::testing::Not(::testing::Contains(v1::CALL_FEATURE_SETTREATMENT)));
  EXPECT_EQ(Get(b).info().treatment(), v1::CALL_TREATMENT_MUSIC);
}

// lineGetDevConfig / lineSetDevConfig: a sim line keeps an opaque block,
// empty until set, and gets it back after a restart.
TEST_F(SimFixture, DevConfigOpaqueBlockKeptAcrossRestart) {
  char tmpl[] = "/tmp/lb-simcfg-XXXXXX";
  ASSERT_NE(::mkdtemp(tmpl), nullptr);
  const std::string dir = tmpl;
  EngineOptions options;
  options.device_config_file = dir + "/device-config.textproto";
  Start(TestPbx(), options);
  v1::GetDevConfigRequest get;
  get.set_line_id(L("100"));
  auto empty = engine_->GetDevConfig(get);
  ASSERT_TRUE(empty.ok()) << empty.status();
  EXPECT_EQ(empty->kind_case(), v1::DeviceConfig::kOpaque);
  EXPECT_TRUE(empty->opaque().empty());

  v1::SetDevConfigRequest set;
  set.set_line_id(L("100"));
  set.mutable_config()->set_opaque(std::string("\x00\x01bin\xff", 6));
  auto stored = engine_->SetDevConfig(set);
  ASSERT_TRUE(stored.ok()) << stored.status();
  EXPECT_EQ(stored->opaque(), set.config().opaque());
  EXPECT_EQ(engine_->GetDevConfig(get)->opaque(), set.config().opaque());
  // Only that line.
  get.set_line_id(L("101"));
  EXPECT_TRUE(engine_->GetDevConfig(get)->opaque().empty());

  const absl::StatusCode kInvalid = absl::StatusCode::kInvalidArgument;
  v1::SetDevConfigRequest modem = set;
  modem.mutable_config()->mutable_modem()->set_blind_dial(true);
  EXPECT_THAT(engine_->SetDevConfig(modem), IsTapiError(kInvalid, LINEERR_INVALPARAM));
  v1::SetDevConfigRequest big = set;
  big.mutable_config()->set_opaque(std::string(4097, 'x'));
  EXPECT_THAT(engine_->SetDevConfig(big), IsTapiError(kInvalid, LINEERR_INVALPARAM));
  big.mutable_config()->set_opaque(std::string(4096, 'x'));
  big.set_line_id(L("102"));
  EXPECT_TRUE(engine_->SetDevConfig(big).ok());
  get.set_line_id("sim/999");
  EXPECT_THAT(engine_->GetDevConfig(get),
              IsTapiError(absl::StatusCode::kNotFound, LINEERR_BADDEVICEID));

  // A restart reads the file back.
  engine_.reset();
  Start(TestPbx(), options);
  get.set_line_id(L("100"));
  EXPECT_EQ(engine_->GetDevConfig(get)->opaque(), set.config().opaque());
  get.set_line_id(L("102"));
  EXPECT_EQ(engine_->GetDevConfig(get)->opaque().size(), 4096u);
  engine_.reset();
  ::unlink(options.device_config_file.c_str());
  ::rmdir(dir.c_str());
}

// A corrupt store stops the start rather than being overwritten.
TEST_F(SimFixture, DevConfigCorruptFileRefused) {
  char tmpl[] = "/tmp/lb-simcfg-XXXXXX";
  ASSERT_NE(::mkdtemp(tmpl), nullptr);
  const std::string path = std::string(tmpl) + "/device-config.textproto";
  {
    std::FILE* f = std::fopen(path.c_str(), "w");
    ASSERT_NE(f, nullptr);
    std::fputs("lines { key: \"sim/100\" value { nonsense: 1 } }\n", f);
    std::fclose(f);
  }
  EngineOptions options;
  options.device_config_file = path;
  Engine engine(options, &sink_);
  EXPECT_EQ(engine.AddProvider(std::make_unique<SimProvider>(TestPbx())).code(),
            absl::StatusCode::kDataLoss);
  ::unlink(path.c_str());
  ::rmdir(tmpl);
}

}  // namespace
}  // namespace linebridge::testing
