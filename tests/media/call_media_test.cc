// Call media on the server (Telephony.GenerateTone, GatherDigits,
// MonitorTones, MonitorMedia, SetMediaMode) against a real linebridged
// process on the simulated PBX: tones measured on the other party's media
// stream, digits and tones the other party plays, fax and modem tones made
// with spandsp's generators, and bad input with exact errors.
#include <gtest/gtest.h>
#include <spandsp.h>

#include <fstream>
#include <functional>

#include "absl/time/clock.h"
#include "linebridge/lineerr.h"
#include "media/testing/signal.h"
#include "media_client.h"
#include "tapisrv_harness.h"
#include "test_server.h"
#include "testing/media_server_test.h"

namespace linebridge::mtest {
namespace {

using itest::Ctx;
using itest::ExpectTapi;
using Stub = v1::Telephony::Stub;

constexpr int kRate = 8000;
constexpr int kFrame = 160;

class CallMediaTest : public MediaServerTest {
 protected:
  static void SetUpTestSuite() {
    StartServer("callmedia", [](const std::string&) {
      std::string text = "providers { sim { name: \"sim\"\n";
      for (int i = 100; i < 114; ++i) {
        text += "  extensions { number: \"" + std::to_string(i) + "\" max_calls: 4 }\n";
      }
      return text + "} }\ndisconnected_linger_ms: 1\n";
    });
  }
  static void TearDownTestSuite() { StopServer(); }

  // A connected call from extension `from` to `to`: {caller's, callee's}.
  std::pair<std::string, std::string> Connect(const std::string& from, const std::string& to) {
    return MediaServerTest::Connect("sim/" + from, to, "sim/" + to);
  }
  // Events of `line`, from a live stream.
  std::unique_ptr<itest::EventReader> Events(const std::string& line) {
    v1::SubscribeRequest sub;
    sub.add_line_ids(line);
    auto reader = std::make_unique<itest::EventReader>(*telephony_, sub);
    EXPECT_TRUE(reader->Next().has_value());  // the snapshot: the stream is live
    return reader;
  }
  template <typename Req>
  grpc::Status Call(grpc::Status (Stub::*method)(grpc::ClientContext*, const Req&, v1::Call*),
                    const Req& req) {
    v1::Call out;
    return itest::Rpc(*telephony_, method, req, &out);
  }
};

v1::GenerateToneRequest Custom(const std::string& call, uint32_t hz, uint32_t duration_ms,
                               uint32_t id) {
  v1::GenerateToneRequest req;
  req.set_call_id(call);
  req.set_kind(v1::TONE_KIND_CUSTOM);
  req.add_components()->set_frequency_hz(hz);
  req.set_duration_ms(duration_ms);
  req.set_end_to_end_id(id);
  return req;
}

// Reads `n` frames of a started stream (the client sends nothing).
std::vector<int16_t> Listen(MediaClient& c, int n) {
  std::vector<int16_t> heard;
  for (int k = 0; k < n; ++k) {
    v1::AudioFrame f;
    if (!c.ReadFrame(&f)) break;
    std::vector<int16_t> s = DecodePayload(f.payload(), v1::AUDIO_FORMAT_L16_8K);
    heard.insert(heard.end(), s.begin(), s.end());
  }
  return heard;
}

TEST_F(CallMediaTest, AToneGeneratedOnOneCallIsHeardOnTheOtherAndReportsDone) {
  auto [a, b] = Connect("100", "101");
  auto events = Events("sim/100");
  MediaClient cb(*media_);
  ASSERT_TRUE(cb.Start(b));
  ASSERT_TRUE(Call(&Stub::GenerateTone, Custom(a, 1300, 600, 41)).ok());
  std::vector<int16_t> heard = Listen(cb, 50);
  // The loud part is the tone: 1300 Hz.
  std::vector<int16_t> tone;
  for (size_t at = 0; at + kFrame <= heard.size(); at += kFrame) {
    std::vector<int16_t> f(heard.begin() + at, heard.begin() + at + kFrame);
    if (media::testing::Rms(f) > 500) tone.insert(tone.end(), f.begin(), f.end());
  }
  EXPECT_GE(tone.size(), 20u * kFrame) << "the tone lasts 600 ms";
  EXPECT_NEAR(media::testing::MedianHz(tone, kRate, 640), 1300, 10);
  std::optional<v1::Event> done = events->WaitFor(itest::IsKind(v1::Event::kToneGenerated));
  ASSERT_TRUE(done.has_value());
  EXPECT_EQ(done->tone_generated().call_id(), a);
  EXPECT_EQ(done->tone_generated().end_to_end_id(), 41u);
  EXPECT_FALSE(done->tone_generated().cancelled());
  // A busy tone with no end, then cancelled.
  v1::GenerateToneRequest busy;
  busy.set_call_id(a);
  busy.set_kind(v1::TONE_KIND_BUSY);
  busy.set_end_to_end_id(42);
  ASSERT_TRUE(Call(&Stub::GenerateTone, busy).ok());
  heard = Listen(cb, 30);
  EXPECT_GT(media::testing::GoertzelPower(heard, 480, kRate), 0);
  v1::GenerateToneRequest cancel;
  cancel.set_call_id(a);
  ASSERT_TRUE(Call(&Stub::GenerateTone, cancel).ok());
  done = events->WaitFor(itest::IsKind(v1::Event::kToneGenerated));
  ASSERT_TRUE(done.has_value());
  EXPECT_EQ(done->tone_generated().end_to_end_id(), 42u);
  EXPECT_TRUE(done->tone_generated().cancelled());
  EXPECT_TRUE(cb.Finish().ok());
}

// The other party keys `digits` in band (its media stream plays them).
void Key(MediaClient& c, const std::string& digits) {
  v1::MediaRequest play;
  play.mutable_digits()->set_digits(digits);
  ASSERT_TRUE(c.Send(play));
}

TEST_F(CallMediaTest, GatherDigitsEndsForEachOfTapisReasons) {
  const auto calls = Connect("102", "103");
  const std::string& a = calls.first;  // the lambdas below capture it: no structured binding
  const std::string& b = calls.second;
  auto events = Events("sim/102");
  MediaClient cb(*media_);
  ASSERT_TRUE(cb.Start(b));
  auto gather = [&](uint32_t id, uint32_t max, const std::string& term, uint32_t first,
                    uint32_t inter) {
    v1::GatherDigitsRequest req;
    req.set_call_id(a);
    req.set_end_to_end_id(id);
    req.set_max_digits(max);
    req.set_termination_digits(term);
    req.set_first_digit_timeout_ms(first);
    req.set_inter_digit_timeout_ms(inter);
    grpc::Status st = Call(&Stub::GatherDigits, req);
    EXPECT_TRUE(st.ok()) << st.error_message();
  };
  auto completed = [&](uint32_t id) -> v1::GatherCompleted {
    std::optional<v1::Event> ev = events->WaitFor(itest::IsKind(v1::Event::kGatherCompleted),
                                                  absl::Seconds(10));
    EXPECT_TRUE(ev.has_value()) << "no gather_completed for " << id;
    if (!ev) return {};
    EXPECT_EQ(ev->gather_completed().call_id(), a);
    EXPECT_EQ(ev->gather_completed().end_to_end_id(), id);
    return ev->gather_completed();
  };
  gather(1, 3, "", 5000, 5000);
  Key(cb, "1234");
  v1::GatherCompleted g = completed(1);
  EXPECT_EQ(g.digits(), "123");
  EXPECT_EQ(g.termination(), v1::GATHER_TERMINATION_BUFFER_FULL);
  Listen(cb, 25);  // the fourth digit goes by
  gather(2, 10, "#", 5000, 5000);
  Key(cb, "45#6");
  g = completed(2);
  EXPECT_EQ(g.digits(), "45#");
  EXPECT_EQ(g.termination(), v1::GATHER_TERMINATION_TERMINATION_DIGIT);
  Listen(cb, 25);
  const absl::Time t0 = absl::Now();
  gather(3, 10, "#", 300, 0);
  g = completed(3);
  EXPECT_EQ(g.digits(), "");
  EXPECT_EQ(g.termination(), v1::GATHER_TERMINATION_FIRST_TIMEOUT);
  EXPECT_GE(absl::Now() - t0, absl::Milliseconds(250));
  gather(4, 10, "#", 5000, 400);
  Key(cb, "7");
  g = completed(4);
  EXPECT_EQ(g.digits(), "7");
  EXPECT_EQ(g.termination(), v1::GATHER_TERMINATION_INTER_TIMEOUT);
  gather(5, 10, "#", 0, 0);
  v1::GatherDigitsRequest cancel;
  cancel.set_call_id(a);
  cancel.set_cancel(true);
  ASSERT_TRUE(Call(&Stub::GatherDigits, cancel).ok());
  g = completed(5);
  EXPECT_EQ(g.termination(), v1::GATHER_TERMINATION_CANCELLED);
  // A new gathering replaces the running one, which ends cancelled.
  gather(6, 10, "#", 0, 0);
  gather(7, 2, "", 0, 0);
  EXPECT_EQ(completed(6).termination(), v1::GATHER_TERMINATION_CANCELLED);
  Key(cb, "89");
  g = completed(7);
  EXPECT_EQ(g.digits(), "89");
  EXPECT_EQ(g.termination(), v1::GATHER_TERMINATION_BUFFER_FULL);
  EXPECT_TRUE(cb.Finish().ok());
}

TEST_F(CallMediaTest, MonitorTonesDetectsACustomToneTheOtherPartyPlays) {
  auto [a, b] = Connect("104", "105");
  auto events = Events("sim/104");
  v1::MonitorTonesRequest req;
  req.set_call_id(a);
  req.set_tone_list_id(12);
  auto add = [&](uint32_t app, uint32_t duration, std::vector<uint32_t> hz) {
    v1::MonitoredTone* t = req.add_tones();
    t->set_app_specific(app);
    t->set_duration_ms(duration);
    for (uint32_t f : hz) t->add_frequencies_hz(f);
  };
  add(1, 200, {697, 1209});   // not played
  add(2, 300, {1700});        // played
  add(3, 2000, {1700});       // played, but not for this long
  ASSERT_TRUE(Call(&Stub::MonitorTones, req).ok());
  MediaClient cb(*media_);
  ASSERT_TRUE(cb.Start(b));
  v1::MediaRequest tone;
  tone.mutable_tone()->set_kind(v1::TONE_KIND_CUSTOM);
  tone.mutable_tone()->mutable_custom()->set_frequency1_hz(1700);
  tone.mutable_tone()->mutable_custom()->set_on_ms(10000);
  tone.mutable_tone()->set_duration_ms(800);
  ASSERT_TRUE(cb.Send(tone));
  std::optional<v1::Event> ev = events->WaitFor(itest::IsKind(v1::Event::kToneDetected));
  ASSERT_TRUE(ev.has_value());
  EXPECT_EQ(ev->tone_detected().call_id(), a);
  EXPECT_EQ(ev->tone_detected().tone_list_id(), 12u);
  EXPECT_EQ(ev->tone_detected().app_specific(), 2u);
  Listen(cb, 60);  // the tone ends
  EXPECT_FALSE(events->WaitFor(itest::IsKind(v1::Event::kToneDetected), absl::Milliseconds(300)));
  // Played again: reported again.
  ASSERT_TRUE(cb.Send(tone));
  ev = events->WaitFor(itest::IsKind(v1::Event::kToneDetected));
  ASSERT_TRUE(ev.has_value());
  EXPECT_EQ(ev->tone_detected().app_specific(), 2u);
  Listen(cb, 60);
  // Stopped: the tone is played again and not reported.
  v1::MonitorTonesRequest stop;
  stop.set_call_id(a);
  ASSERT_TRUE(Call(&Stub::MonitorTones, stop).ok());
  ASSERT_TRUE(cb.Send(tone));
  Listen(cb, 60);
  EXPECT_FALSE(events->WaitFor(itest::IsKind(v1::Event::kToneDetected), absl::Milliseconds(300)));
  EXPECT_TRUE(cb.Finish().ok());
}

// Plays `frames` frames of a spandsp modem connect tone into the call from
// `c` in step with the server's clock (one sent, one read).
void PlayConnectTone(MediaClient& c, int type, int frames) {
  modem_connect_tones_tx_state_t* tx = modem_connect_tones_tx_init(nullptr, type);
  for (int k = 0; k < frames; ++k) {
    std::vector<int16_t> s(kFrame, 0);
    modem_connect_tones_tx(tx, s.data(), kFrame);
    v1::AudioFrame f;
    if (!c.SendFrame(s, v1::AUDIO_FORMAT_L16_8K) || !c.ReadFrame(&f)) break;
  }
  modem_connect_tones_tx_free(tx);
}

TEST_F(CallMediaTest, MonitorMediaTellsFaxFromAModemAnswerTone) {
  auto [a, b] = Connect("106", "107");
  auto events = Events("sim/106");
  v1::MonitorMediaRequest req;
  req.set_call_id(a);
  req.add_modes(v1::MEDIA_MODE_G3FAX);
  req.add_modes(v1::MEDIA_MODE_DATAMODEM);
  ASSERT_TRUE(Call(&Stub::MonitorMedia, req).ok());
  MediaClient cb(*media_);
  ASSERT_TRUE(cb.Start(b));
  // Fax calling tone: 1100 Hz, 0.5 s on, 3 s off; its first burst.
  PlayConnectTone(cb, MODEM_CONNECT_TONES_FAX_CNG, 60);
  std::optional<v1::Event> ev = events->WaitFor(itest::IsKind(v1::Event::kMediaDetected));
  ASSERT_TRUE(ev.has_value());
  EXPECT_EQ(ev->media_detected().call_id(), a);
  EXPECT_EQ(ev->media_detected().media_mode(), v1::MEDIA_MODE_G3FAX);
  // A V.8 modem's answer tone (ANSam with phase reversals).
  PlayConnectTone(cb, MODEM_CONNECT_TONES_ANSAM_PR, 100);
  ev = events->WaitFor(itest::IsKind(v1::Event::kMediaDetected));
  ASSERT_TRUE(ev.has_value());
  EXPECT_EQ(ev->media_detected().media_mode(), v1::MEDIA_MODE_DATAMODEM);
  EXPECT_TRUE(cb.Finish().ok());
}

TEST_F(CallMediaTest, SetMediaModeChangesTheCallsMediaMode) {
  auto [a, b] = Connect("108", "109");
  v1::SetMediaModeRequest req;
  req.set_call_id(a);
  req.add_media_modes(v1::MEDIA_MODE_G3FAX);
  v1::Call out;
  ASSERT_TRUE(itest::Rpc(*telephony_, &Stub::SetMediaMode, req, &out).ok());
  EXPECT_EQ(out.info().media_mode(), v1::MEDIA_MODE_G3FAX);
  req.add_media_modes(v1::MEDIA_MODE_INTERACTIVE_VOICE);
  ExpectTapi(Call(&Stub::SetMediaMode, req), grpc::StatusCode::INVALID_ARGUMENT,
             LINEERR_INVALMEDIAMODE, "two modes without UNKNOWN");
}

TEST_F(CallMediaTest, BadInputGetsExactErrors) {
  auto [a, b] = Connect("110", "111");
  v1::GenerateToneRequest tone = Custom(a, 1000, 100, 1);
  tone.set_kind(static_cast<v1::ToneKind>(9));
  ExpectTapi(Call(&Stub::GenerateTone, tone), grpc::StatusCode::INVALID_ARGUMENT,
             LINEERR_INVALTONEMODE, "tone mode 9");
  tone = Custom(a, 1000, 100, 1);
  for (int i = 0; i < 2; ++i) tone.add_components()->set_frequency_hz(1500);
  ExpectTapi(Call(&Stub::GenerateTone, tone), grpc::StatusCode::INVALID_ARGUMENT,
             LINEERR_INVALTONE, "three frequencies");
  v1::MonitorTonesRequest tones;
  tones.set_call_id(a);
  for (int i = 0; i < 17; ++i) tones.add_tones()->set_duration_ms(100);
  ExpectTapi(Call(&Stub::MonitorTones, tones), grpc::StatusCode::INVALID_ARGUMENT,
             LINEERR_INVALTONELIST, "17 tones");
  v1::MonitorMediaRequest media;
  media.set_call_id(a);
  media.add_modes(v1::MEDIA_MODE_TDD);
  ExpectTapi(Call(&Stub::MonitorMedia, media), grpc::StatusCode::INVALID_ARGUMENT,
             LINEERR_INVALMEDIAMODE, "TDD");
  v1::GatherDigitsRequest gather;
  gather.set_call_id(a);
  gather.set_max_digits(4);
  gather.set_first_digit_timeout_ms(10);
  ExpectTapi(Call(&Stub::GatherDigits, gather), grpc::StatusCode::INVALID_ARGUMENT,
             LINEERR_INVALTIMEOUT, "10 ms");
  // A session that does not own the call may not control it.
  v1::CreateSessionRequest create;
  v1::Session session;
  ASSERT_TRUE(itest::Rpc(*telephony_, &Stub::CreateSession, create, &session).ok());
  tone = Custom(a, 1000, 100, 1);
  tone.set_session_id(session.id());
  ExpectTapi(Call(&Stub::GenerateTone, tone), grpc::StatusCode::PERMISSION_DENIED,
             LINEERR_NOTOWNER, "not the owner");
  // A call that is ringing, not connected.
  v1::Call ringing;
  ASSERT_TRUE(itest::MakeCall(*telephony_, "sim/112", "113", &ringing).ok());
  made_.push_back(ringing.id());
  ExpectTapi(Call(&Stub::GenerateTone, Custom(ringing.id(), 1000, 100, 1)),
             grpc::StatusCode::FAILED_PRECONDITION, LINEERR_INVALCALLSTATE, "ringing");
  // A closed call.
  ASSERT_TRUE(itest::Drop(*telephony_, a).ok());
  ASSERT_TRUE(WaitState(a, v1::CALL_STATE_IDLE));
  ExpectTapi(Call(&Stub::GenerateTone, Custom(a, 1000, 100, 1)), grpc::StatusCode::NOT_FOUND,
             LINEERR_INVALCALLHANDLE, "closed call");
  gather.set_first_digit_timeout_ms(0);
  ExpectTapi(Call(&Stub::GatherDigits, gather), grpc::StatusCode::NOT_FOUND,
             LINEERR_INVALCALLHANDLE, "closed call");
}

}  // namespace
}  // namespace linebridge::mtest
