// The call media RPCs in the engine: caps, what reaches the CallMedia, and
// every refusal with its TAPI error (the audio itself: server/media and
// tests/media).
#include "core/testing/call_media_doubles.h"
#include "providers/sim/sim_test_util.h"

namespace linebridge::testing {
namespace {

using absl::StatusCode;
using ::testing::Contains;
using ::testing::ElementsAre;
using ::testing::IsEmpty;
using ::testing::Not;

class CallMediaEngineTest : public SimFixture {
 protected:
  void SetUp() override {
    SimFixture::SetUp();
    ASSERT_TRUE(engine_->AddProvider(std::make_unique<QuietProvider>()).ok());
    engine_->set_call_media(&media_);
  }
  v1::Line Line(const std::string& id) {
    v1::GetLineRequest req;
    req.set_line_id(id);
    return *engine_->GetLine(req);
  }
  std::string QuietCall() {
    v1::MakeCallRequest req;
    req.set_line_id("quiet/1");
    req.set_destination("2");
    return engine_->MakeCall(req)->id();
  }
  static v1::GenerateToneRequest Tone(const std::string& call, v1::ToneKind kind) {
    v1::GenerateToneRequest req;
    req.set_call_id(call);
    req.set_kind(kind);
    return req;
  }
  static v1::GatherDigitsRequest Gather(const std::string& call) {
    v1::GatherDigitsRequest req;
    req.set_call_id(call);
    req.set_max_digits(4);
    return req;
  }
  RecordingCallMedia media_;
};

TEST_F(CallMediaEngineTest, LinesWithAudioSayWhatTheyCanDo) {
  const v1::LineCaps caps = Line(L("100")).caps();
  EXPECT_THAT(caps.generate_tone_modes(),
              ElementsAre(v1::TONE_KIND_BEEP, v1::TONE_KIND_BILLING, v1::TONE_KIND_BUSY,
                          v1::TONE_KIND_RINGBACK, v1::TONE_KIND_CUSTOM));
  EXPECT_EQ(caps.generate_tone_max_num_freq(), 2u);
  EXPECT_EQ(caps.monitor_tone_max_num_freq(), 3u);
  EXPECT_EQ(caps.monitor_tone_max_num_entries(), 16u);
  EXPECT_EQ(caps.gather_digits_min_timeout_ms(), 20u);
  EXPECT_EQ(caps.gather_digits_max_timeout_ms(), 600000u);
  EXPECT_THAT(caps.monitor_media_modes(), Contains(v1::MEDIA_MODE_G3FAX));
  EXPECT_THAT(caps.media_modes(), Not(Contains(v1::MEDIA_MODE_DATAMODEM)));  // unchanged
  EXPECT_THAT(Line(L("100")).addresses(0).caps().call_features(),
              Contains(v1::CALL_FEATURE_GATHERDIGITS));
  auto [a, b] = Connect("100", "101");
  EXPECT_THAT(Get(a).status().features(), Contains(v1::CALL_FEATURE_GENERATETONE));
  EXPECT_THAT(Get(a).status().features(), Contains(v1::CALL_FEATURE_MONITORMEDIA));
  // A line without audio: none of it.
  const v1::Line quiet = Line("quiet/1");
  EXPECT_THAT(quiet.caps().generate_tone_modes(), IsEmpty());
  EXPECT_EQ(quiet.caps().monitor_tone_max_num_entries(), 0u);
  EXPECT_THAT(quiet.addresses(0).caps().call_features(),
              Not(Contains(v1::CALL_FEATURE_GENERATETONE)));
}

TEST_F(CallMediaEngineTest, RequestsReachTheCallMediaChecked) {
  auto [a, b] = Connect("100", "101");
  v1::GenerateToneRequest tone = Tone(a, v1::TONE_KIND_CUSTOM);
  v1::ToneComponent* c = tone.add_components();
  c->set_frequency_hz(1200);
  c->set_level_dbm0(-20);
  c = tone.add_components();
  c->set_frequency_hz(1500);
  c->set_level_dbm0(-10);
  tone.set_duration_ms(300);
  tone.set_end_to_end_id(9);
  ASSERT_TRUE(engine_->GenerateTone(tone).ok());
  ASSERT_TRUE(engine_->GenerateTone(Tone(a, v1::TONE_KIND_UNSPECIFIED)).ok());
  v1::GatherDigitsRequest gather = Gather(b);
  gather.set_termination_digits("#*");
  gather.set_inter_digit_timeout_ms(3000);
  gather.set_end_to_end_id(4);
  ASSERT_TRUE(engine_->GatherDigits(gather).ok());
  gather.set_cancel(true);
  gather.set_max_digits(0);  // ignored when cancelling
  ASSERT_TRUE(engine_->GatherDigits(gather).ok());
  v1::MonitorTonesRequest tones;
  tones.set_call_id(a);
  tones.add_tones()->set_duration_ms(100);  // silence
  ASSERT_TRUE(engine_->MonitorTones(tones).ok());
  v1::MonitorMediaRequest media;
  media.set_call_id(a);
  media.add_modes(v1::MEDIA_MODE_G3FAX);
  ASSERT_TRUE(engine_->MonitorMedia(media).ok());
  EXPECT_THAT(
      media_.calls(),
      ElementsAre(
          "tone " + a +
              "  kind: TONE_KIND_CUSTOM custom { frequency1_hz: 1200 frequency2_hz: 1500 "
              "level_dbm0: -10 on_ms: 10000 } duration_ms: 300 id=9",
          "cancel-tone " + a + " ",
          "gather " + b +
              "  max_digits: 4 termination_digits: \"#*\" inter_digit_timeout_ms: 3000 id=4",
          "cancel-gather " + b + " ", "tones " + a + "  n=1", "media " + a + "  n=1"));
}

TEST_F(CallMediaEngineTest, BadInputGetsTapisErrors) {
  auto [a, b] = Connect("100", "101");
  auto tone_error = [&](v1::GenerateToneRequest req) { return engine_->GenerateTone(req).status(); };
  EXPECT_THAT(tone_error(Tone(a, static_cast<v1::ToneKind>(9))),
              IsTapiError(StatusCode::kInvalidArgument, LINEERR_INVALTONEMODE));
  v1::GenerateToneRequest custom = Tone(a, v1::TONE_KIND_CUSTOM);
  EXPECT_THAT(tone_error(custom), IsTapiError(StatusCode::kInvalidArgument, LINEERR_INVALTONE));
  for (int i = 0; i < 3; ++i) custom.add_components()->set_frequency_hz(1000 + 100 * i);
  EXPECT_THAT(tone_error(custom), IsTapiError(StatusCode::kInvalidArgument, LINEERR_INVALTONE));
  custom.mutable_components()->RemoveLast();
  custom.mutable_components(1)->set_cadence_on_ms(100);  // not the first one's cadence
  EXPECT_THAT(tone_error(custom), IsTapiError(StatusCode::kInvalidArgument, LINEERR_INVALTONE));
  custom.mutable_components(1)->set_cadence_on_ms(0);
  custom.mutable_components(1)->set_frequency_hz(50);
  EXPECT_THAT(tone_error(custom), IsTapiError(StatusCode::kInvalidArgument, LINEERR_INVALTONE));
  v1::GenerateToneRequest busy = Tone(a, v1::TONE_KIND_BUSY);
  busy.set_duration_ms(60001);
  EXPECT_THAT(tone_error(busy), IsTapiError(StatusCode::kInvalidArgument, LINEERR_INVALPARAM));

  auto gather_error = [&](v1::GatherDigitsRequest req) { return engine_->GatherDigits(req).status(); };
  v1::GatherDigitsRequest g = Gather(a);
  g.add_modes(v1::DIGIT_MODE_PULSE);
  EXPECT_THAT(gather_error(g), IsTapiError(StatusCode::kInvalidArgument, LINEERR_INVALDIGITMODE));
  g = Gather(a);
  g.set_max_digits(0);
  EXPECT_THAT(gather_error(g), IsTapiError(StatusCode::kInvalidArgument, LINEERR_INVALPARAM));
  g.set_max_digits(65);
  EXPECT_THAT(gather_error(g), IsTapiError(StatusCode::kInvalidArgument, LINEERR_INVALPARAM));
  g = Gather(a);
  g.set_termination_digits("#x");
  EXPECT_THAT(gather_error(g), IsTapiError(StatusCode::kInvalidArgument, LINEERR_INVALDIGITS));
  g = Gather(a);
  g.set_first_digit_timeout_ms(19);
  EXPECT_THAT(gather_error(g), IsTapiError(StatusCode::kInvalidArgument, LINEERR_INVALTIMEOUT));
  g = Gather(a);
  g.set_inter_digit_timeout_ms(600001);
  EXPECT_THAT(gather_error(g), IsTapiError(StatusCode::kInvalidArgument, LINEERR_INVALTIMEOUT));

  v1::MonitorTonesRequest tones;
  tones.set_call_id(a);
  for (int i = 0; i < 17; ++i) tones.add_tones()->set_duration_ms(100);
  EXPECT_THAT(engine_->MonitorTones(tones),
              IsTapiError(StatusCode::kInvalidArgument, LINEERR_INVALTONELIST));
  tones.clear_tones();
  v1::MonitoredTone* t = tones.add_tones();
  t->set_duration_ms(100);
  for (int i = 0; i < 4; ++i) t->add_frequencies_hz(400 + 100 * i);
  EXPECT_THAT(engine_->MonitorTones(tones),
              IsTapiError(StatusCode::kInvalidArgument, LINEERR_INVALTONE));
  t->clear_frequencies_hz();
  t->set_duration_ms(0);
  EXPECT_THAT(engine_->MonitorTones(tones),
              IsTapiError(StatusCode::kInvalidArgument, LINEERR_INVALTONE));

  v1::MonitorMediaRequest media;
  media.set_call_id(a);
  media.add_modes(v1::MEDIA_MODE_TDD);
  EXPECT_THAT(engine_->MonitorMedia(media),
              IsTapiError(StatusCode::kInvalidArgument, LINEERR_INVALMEDIAMODE));
  EXPECT_THAT(media_.calls(), IsEmpty());
}

TEST_F(CallMediaEngineTest, TheCallMustBeThereOwnedInStateAndCarryAudio) {
  EXPECT_THAT(engine_->GenerateTone(Tone("c-nope", v1::TONE_KIND_BEEP)),
              IsTapiError(StatusCode::kNotFound, LINEERR_INVALCALLHANDLE));
  // Ringing, not yet connected.
  const std::string a = Make("100", "101").id();
  EXPECT_THAT(engine_->GenerateTone(Tone(a, v1::TONE_KIND_BEEP)),
              IsTapiError(StatusCode::kFailedPrecondition, LINEERR_INVALCALLSTATE));
  EXPECT_THAT(engine_->GatherDigits(Gather(a)),
              IsTapiError(StatusCode::kFailedPrecondition, LINEERR_INVALCALLSTATE));
  ASSERT_TRUE(Drop(a).ok());
  // A session that does not own the call.
  auto [c, d] = Connect("102", "103");
  const std::string session = engine_->CreateSession({})->id();
  v1::GenerateToneRequest tone = Tone(c, v1::TONE_KIND_BEEP);
  tone.set_session_id(session);
  EXPECT_THAT(engine_->GenerateTone(tone),
              IsTapiError(StatusCode::kPermissionDenied, LINEERR_NOTOWNER));
  // No audio on the line: in any state.
  const std::string q = QuietCall();
  EXPECT_THAT(engine_->GenerateTone(Tone(q, v1::TONE_KIND_BEEP)),
              IsTapiError(StatusCode::kFailedPrecondition, LINEERR_OPERATIONUNAVAIL));
  EXPECT_THAT(engine_->GatherDigits(Gather(q)),
              IsTapiError(StatusCode::kFailedPrecondition, LINEERR_OPERATIONUNAVAIL));
  v1::MonitorTonesRequest tones;
  tones.set_call_id(q);
  EXPECT_THAT(engine_->MonitorTones(tones),
              IsTapiError(StatusCode::kFailedPrecondition, LINEERR_OPERATIONUNAVAIL));
  v1::MonitorMediaRequest media;
  media.set_call_id(q);
  EXPECT_THAT(engine_->MonitorMedia(media),
              IsTapiError(StatusCode::kFailedPrecondition, LINEERR_OPERATIONUNAVAIL));
  EXPECT_THAT(media_.calls(), IsEmpty());
  // No call media on this server at all.
  engine_->set_call_media(nullptr);
  EXPECT_THAT(engine_->GenerateTone(Tone(c, v1::TONE_KIND_BEEP)),
              IsTapiError(StatusCode::kFailedPrecondition, LINEERR_OPERATIONUNAVAIL));
}

TEST_F(CallMediaEngineTest, SetMediaModeChangesTheCallInfo) {
  auto [a, b] = Connect("100", "101");
  const uint64_t seq = Seq();
  v1::SetMediaModeRequest req;
  req.set_call_id(a);
  req.add_media_modes(v1::MEDIA_MODE_G3FAX);
  absl::StatusOr<v1::Call> call = engine_->SetMediaMode(req);
  ASSERT_TRUE(call.ok()) << call.status();
  EXPECT_EQ(call->info().media_mode(), v1::MEDIA_MODE_G3FAX);
  bool seen = false;
  for (const v1::Event& e : EventsSince(seq)) {
    if (e.has_call_info() && e.call_info().call_id() == a) {
      EXPECT_THAT(e.call_info().changed(), ElementsAre("media_mode"));
      seen = true;
    }
  }
  EXPECT_TRUE(seen);
  req.add_media_modes(v1::MEDIA_MODE_UNKNOWN);  // undecided between fax and ...
  EXPECT_EQ(engine_->SetMediaMode(req)->info().media_mode(), v1::MEDIA_MODE_UNKNOWN);
  const std::string call_id = a;  // clang 14 cannot capture a structured binding
  auto refused = [&](std::vector<v1::MediaMode> modes) {
    v1::SetMediaModeRequest r;
    r.set_call_id(call_id);
    for (v1::MediaMode m : modes) r.add_media_modes(m);
    return engine_->SetMediaMode(r).status();
  };
  EXPECT_THAT(refused({}), IsTapiError(StatusCode::kInvalidArgument, LINEERR_INVALMEDIAMODE));
  EXPECT_THAT(refused({v1::MEDIA_MODE_G3FAX, v1::MEDIA_MODE_INTERACTIVE_VOICE}),
              IsTapiError(StatusCode::kInvalidArgument, LINEERR_INVALMEDIAMODE));
  EXPECT_THAT(refused({v1::MEDIA_MODE_TDD}),  // not a mode of the line
              IsTapiError(StatusCode::kInvalidArgument, LINEERR_INVALMEDIAMODE));
  EXPECT_THAT(refused({static_cast<v1::MediaMode>(99)}),
              IsTapiError(StatusCode::kInvalidArgument, LINEERR_INVALMEDIAMODE));
}

TEST_F(CallMediaEngineTest, MediaEventsGoToTheJournalForLiveCallsOnly) {
  auto [a, b] = Connect("100", "101");
  const uint64_t seq = Seq();
  v1::Event done;
  done.mutable_tone_generated()->set_call_id(a);
  done.mutable_tone_generated()->set_end_to_end_id(3);
  v1::Event gone;
  gone.mutable_tone_detected()->set_call_id("c-gone");
  engine_->MediaEvents({{a, done}, {"c-gone", gone}});
  std::vector<v1::Event> events = EventsSince(seq);
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].line_id(), L("100"));
  EXPECT_EQ(events[0].tone_generated().end_to_end_id(), 3u);
}

}  // namespace
}  // namespace linebridge::testing
