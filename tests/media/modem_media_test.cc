// A V.253 voice modem's call carries audio to and from Media.StreamMedia:
// a real linebridged whose line "modem/m0" is the project's pty modem
// emulator (voice data enabled). The emulator plays a 1 kHz tone in the
// voice data state and records what it is sent; the test measures both,
// checks <DLE> digits become digit events, that a drop leaves the data state
// before the hang-up, back-to-back calls, digits generated mid-stream, the
// modem vanishing mid-stream (and returning with only a 7200/s format, so
// the rate is adapted), and a half-duplex modem.
#include <gtest/gtest.h>

#include <fstream>
#include <optional>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "media/testing/signal.h"
#include "media_client.h"
#include "providers/modem/modem_emulator.h"
#include "tapisrv_harness.h"
#include "test_server.h"
#include "testing/media_server_test.h"
#include "linebridge/deadline.h"

namespace linebridge::mtest {
namespace {

using itest::Ctx;
using media::testing::MedianHz;
using media::testing::Rms;
using media::testing::Sine;
using modem::EmulatorVoice;
using modem::ModemEmulator;

constexpr int kRate = 8000;
constexpr int kFrame = 160;
constexpr char kLine[] = "modem/m0";

class ModemMediaTest : public MediaServerTest {
 protected:
  static void SetUpTestSuite() {
    StartServer("modem-media", [](const std::string& dir) {
      emu_ = new ModemEmulator(ModemEmulator::Dialect::kV253, dir + "/ttyModem");
      emu_->EnableVoice(true);
      return "providers { modem { ports {\n  name: \"m0\" device: \"" + dir + "/ttyModem\"\n" +
             "  number: \"5550000\" ring_timeout_ms: 2000 retry_interval_ms: 100\n} } }\n";
    });
  }
  static void TearDownTestSuite() {
    StopServer();
    delete emu_;
    emu_ = nullptr;
  }

  void SetUp() override {
    MediaServerTest::SetUp();
    if (HasFatalFailure()) return;
    ASSERT_TRUE(WaitLine(v1::LINE_STATE_IN_SERVICE));
  }

  v1::LineState LineState() {
    v1::GetLineRequest req;
    req.set_line_id(kLine);
    v1::Line line;
    if (!telephony_->GetLine(Ctx().get(), req, &line).ok()) return v1::LINE_STATE_UNSPECIFIED;
    return line.status().state();
  }
  bool WaitLine(v1::LineState state) {
    const absl::Time deadline = MonotonicNow() + absl::Seconds(15);
    while (MonotonicNow() < deadline) {
      if (LineState() == state) return true;
      absl::SleepFor(absl::Milliseconds(10));
    }
    return false;
  }
  // An outbound call, or (inbound) a call the emulator rings in and the
  // test answers; connected.
  std::string Connect(bool inbound = false) {
    std::string id;
    if (inbound) {
      emu_->StartRinging("5551234", "ALICE");
      const absl::Time deadline = MonotonicNow() + absl::Seconds(10);
      while (id.empty() && MonotonicNow() < deadline) {
        for (const v1::Call& c : itest::CallsOn(*telephony_, kLine)) {
          if (c.status().state() == v1::CALL_STATE_OFFERING) id = c.id();
        }
        if (id.empty()) absl::SleepFor(absl::Milliseconds(5));
      }
      EXPECT_FALSE(id.empty()) << "no offered call";
      if (id.empty()) return id;
      EXPECT_TRUE(itest::Answer(*telephony_, id).ok());
    } else {
      v1::Call call;
      const grpc::Status st = itest::MakeCall(*telephony_, kLine, "5551234", &call);
      EXPECT_TRUE(st.ok()) << st.error_message();
      id = call.id();
    }
    EXPECT_TRUE(WaitState(id, v1::CALL_STATE_CONNECTED)) << id << "; the modem's last commands: "
                                                         << LastCommands();
    return id;
  }
  // Drops `id`; with `hangup`, until the modem has been hung up (ATH after
  // the data state ended), as the far end of the next call would find it.
  void Drop(const std::string& id, bool hangup = true) {
    const size_t from = emu_->commands().size();
    EXPECT_TRUE(itest::Drop(*telephony_, id).ok());
    if (hangup) {
      EXPECT_TRUE(WaitFind("ATH", from)) << "no ATH after the drop";
    }
  }

  // Reads `frames` frames (sending `send` in step, or silence); returns what
  // was heard after the first `skip` frames.
  static std::vector<int16_t> Exchange(MediaClient& c, int frames, int skip, double send_hz,
                                       int64_t* sent = nullptr) {
    std::vector<int16_t> heard;
    int64_t at = sent != nullptr ? *sent : 0;
    for (int k = 0; k < frames; ++k) {
      const std::vector<int16_t> out =
          send_hz > 0 ? Sine(send_hz, 8000, kRate, kFrame, at) : std::vector<int16_t>(kFrame, 0);
      at += kFrame;
      if (!c.SendFrame(out, v1::AUDIO_FORMAT_L16_8K)) break;
      v1::AudioFrame f;
      if (!c.ReadFrame(&f)) break;
      if (k < skip) continue;
      const std::vector<int16_t> s = DecodePayload(f.payload(), v1::AUDIO_FORMAT_L16_8K);
      heard.insert(heard.end(), s.begin(), s.end());
    }
    if (sent != nullptr) *sent = at;
    return heard;
  }
  static void ExpectTone(const std::vector<int16_t>& heard, int rate, double hz) {
    ASSERT_GE(heard.size(), static_cast<size_t>(rate / 4)) << "too little audio";
    const double measured = MedianHz(heard, rate, static_cast<size_t>(rate / 10));
    EXPECT_NEAR(measured, hz, hz * 0.01) << "heard " << measured << " Hz";
    EXPECT_GT(Rms(heard), 8000 * 0.707 * 0.7);
  }
  // Waits until the emulator recorded `n` samples sent by the DTE.
  static std::vector<int16_t> WaitReceived(size_t n) {
    const absl::Time deadline = MonotonicNow() + absl::Seconds(5);
    std::vector<int16_t> r = emu_->VoiceReceived();
    while (r.size() < n && MonotonicNow() < deadline) {
      absl::SleepFor(absl::Milliseconds(10));
      r = emu_->VoiceReceived();
    }
    return r;
  }
  static std::string LastCommands() {
    const std::vector<std::string> cmds = emu_->commands();
    std::string out;
    for (size_t i = cmds.size() > 12 ? cmds.size() - 12 : 0; i < cmds.size(); ++i) {
      absl::StrAppend(&out, cmds[i], " | ");
    }
    return out;
  }
  // Position of `command` in the emulator's log at or after `from`.
  static std::optional<size_t> Find(const std::string& command, size_t from) {
    const std::vector<std::string> cmds = emu_->commands();
    for (size_t i = from; i < cmds.size(); ++i) {
      if (cmds[i] == command) return i;
    }
    return std::nullopt;
  }
  static std::optional<size_t> WaitFind(const std::string& command, size_t from) {
    const absl::Time deadline = MonotonicNow() + absl::Seconds(5);
    while (MonotonicNow() < deadline) {
      if (auto i = Find(command, from)) return i;
      absl::SleepFor(absl::Milliseconds(5));
    }
    return std::nullopt;
  }
  // Reads until the stream ends (the call went away); its status.
  static grpc::Status ReadToEnd(MediaClient& c) {
    v1::AudioFrame f;
    for (int k = 0; k < 1000 && c.ReadFrame(&f); ++k) {
    }
    return c.Finish();
  }

  static ModemEmulator* emu_;
};
ModemEmulator* ModemMediaTest::emu_ = nullptr;

TEST_F(ModemMediaTest, VoiceCallCarriesAudioBothWaysDigitsAndEndsTheDataStateOnDrop) {
  const size_t from = emu_->commands().size();
  const std::string id = Connect();
  ASSERT_FALSE(id.empty());
  // Connected: the method is chosen and the duplex data state started.
  ASSERT_TRUE(WaitFind("AT+VTR", from)) << "no AT+VTR";
  EXPECT_TRUE(Find("AT+VSM=129,8000", from)) << "16-bit linear at 8000/s expected";
  ASSERT_TRUE(emu_->WaitVoiceStream());
  emu_->ClearVoiceReceived();

  v1::MonitorDigitsRequest monitor;
  monitor.set_call_id(id);
  monitor.add_modes(v1::DIGIT_MODE_DTMF);
  v1::Call out;
  ASSERT_TRUE(telephony_->MonitorDigits(Ctx().get(), monitor, &out).ok());
  v1::SubscribeRequest sub;
  sub.add_line_ids(kLine);
  itest::EventReader events(*telephony_, sub);
  ASSERT_TRUE(events.Next().has_value());  // the snapshot: the stream is live

  MediaClient client(*media_);
  std::optional<v1::MediaStarted> started = client.Start(id);
  ASSERT_TRUE(started) << client.Finish().error_message();
  EXPECT_EQ(started->line_id(), kLine);
  // 2 s: the client hears the modem's 1 kHz tone and sends 1700 Hz.
  int64_t sent = 0;
  ExpectTone(Exchange(client, 100, 15, 1700, &sent), kRate, 1000);
  // What the client sent reached the modem (the last second of it).
  std::vector<int16_t> got = WaitReceived(static_cast<size_t>(kRate));
  ASSERT_GE(got.size(), static_cast<size_t>(kRate));
  EXPECT_EQ(emu_->voice_rate(), kRate);
  ExpectTone(std::vector<int16_t>(got.end() - kRate, got.end()), kRate, 1700);

  // <DLE> digits from the modem are digit events.
  emu_->SendVoiceEvent('7');
  emu_->SendVoiceEvent('#');
  std::string digits;
  while (digits.size() < 2) {
    std::optional<v1::Event> ev = events.WaitFor(itest::IsKind(v1::Event::kDigit));
    if (!ev) break;
    EXPECT_EQ(ev->digit().call_id(), id);
    EXPECT_EQ(ev->digit().mode(), v1::DIGIT_MODE_DTMF);
    digits += ev->digit().digit();
  }
  EXPECT_EQ(digits, "7#");

  // Digits generated mid-stream: the data state ends for AT+VTS and starts
  // again; the tone comes back.
  const int streams = emu_->voice_streams();
  const size_t before_digits = emu_->commands().size();
  v1::GenerateDigitsRequest gen;
  gen.set_call_id(id);
  gen.set_digits("12");
  gen.set_mode(v1::DIGIT_MODE_DTMF);
  ASSERT_TRUE(telephony_->GenerateDigits(Ctx().get(), gen, &out).ok());
  const auto end = WaitFind("<DLE>^", before_digits);
  const auto vts = WaitFind("AT+VTS=1,2", before_digits);
  const auto again = WaitFind("AT+VTR", before_digits);
  ASSERT_TRUE(end && vts && again);
  EXPECT_LT(*end, *vts);
  EXPECT_LT(*vts, *again);
  ASSERT_TRUE(emu_->WaitVoiceStream());
  EXPECT_EQ(emu_->voice_streams(), streams + 1);
  ExpectTone(Exchange(client, 60, 20, 0, nullptr), kRate, 1000);

  // Drop: the data state ends (<DLE>^) before the hang-up; the stream ends.
  const size_t before_drop = emu_->commands().size();
  ASSERT_TRUE(itest::Drop(*telephony_, id).ok());
  const auto dle = WaitFind("<DLE>^", before_drop);
  const auto ath = WaitFind("ATH", before_drop);
  ASSERT_TRUE(dle && ath);
  EXPECT_LT(*dle, *ath);
  EXPECT_FALSE(emu_->InVoiceStream());
  EXPECT_TRUE(ReadToEnd(client).ok());
}

TEST_F(ModemMediaTest, BackToBackCallsEachCarryTheTone) {
  for (int i = 0; i < 4; ++i) {
    SCOPED_TRACE(i);
    const std::string id = Connect(/*inbound=*/i % 2 == 1);
    ASSERT_FALSE(id.empty());
    MediaClient client(*media_);
    ASSERT_TRUE(client.Start(id)) << client.Finish().error_message();
    ExpectTone(Exchange(client, 50, 15, 0), kRate, 1000);
    Drop(id);
    EXPECT_TRUE(ReadToEnd(client).ok());
  }
  EXPECT_TRUE(WaitLine(v1::LINE_STATE_IN_SERVICE));
}

TEST_F(ModemMediaTest, ModemVanishingMidStreamIsSurvivedAndA7200FormatIsAdapted) {
  const std::string id = Connect();
  ASSERT_FALSE(id.empty());
  MediaClient client(*media_);
  ASSERT_TRUE(client.Start(id)) << client.Finish().error_message();
  ExpectTone(Exchange(client, 30, 10, 0), kRate, 1000);
  // The modem goes away in the middle of the stream; it comes back offering
  // only 8-bit linear at 7200 or 11025 samples/s.
  emu_->SetVoiceMethods({{128, "8-BIT LINEAR", 8, {7200, 11025}}});
  emu_->Vanish();
  ASSERT_TRUE(WaitState(id, v1::CALL_STATE_DISCONNECTED));
  EXPECT_EQ(GetCall(id).status().disconnect_mode(), v1::DISCONNECT_MODE_OUTOFORDER);
  ASSERT_TRUE(WaitLine(v1::LINE_STATE_OUT_OF_SERVICE));
  Drop(id, /*hangup=*/false);  // the modem is gone
  EXPECT_TRUE(ReadToEnd(client).ok());
  const size_t from = emu_->commands().size();
  emu_->Return();
  ASSERT_TRUE(WaitLine(v1::LINE_STATE_IN_SERVICE));

  const std::string again = Connect();
  ASSERT_FALSE(again.empty());
  ASSERT_TRUE(WaitFind("AT+VSM=128,7200", from)) << "the nearest rate to 8000 expected";
  ASSERT_TRUE(emu_->WaitVoiceStream());
  emu_->ClearVoiceReceived();
  MediaClient second(*media_);
  ASSERT_TRUE(second.Start(again)) << second.Finish().error_message();
  int64_t sent = 0;
  ExpectTone(Exchange(second, 100, 15, 1700, &sent), kRate, 1000);
  EXPECT_EQ(emu_->voice_rate(), 7200);
  std::vector<int16_t> got = WaitReceived(7200);
  ASSERT_GE(got.size(), 7200u);
  ExpectTone(std::vector<int16_t>(got.end() - 7200, got.end()), 7200, 1700);
  Drop(again);
  EXPECT_TRUE(ReadToEnd(second).ok());
}

TEST_F(ModemMediaTest, FarEndHangingUpIsHeardAsBusyTone) {
  const std::string id = Connect(/*inbound=*/true);
  ASSERT_FALSE(id.empty());
  ASSERT_TRUE(emu_->WaitVoiceStream());
  const size_t from = emu_->commands().size();
  emu_->RemoteHangup();  // <DLE>b in the data state
  ASSERT_TRUE(WaitState(id, v1::CALL_STATE_DISCONNECTED));
  EXPECT_EQ(GetCall(id).status().disconnect_mode(), v1::DISCONNECT_MODE_NORMAL);
  const auto dle = WaitFind("<DLE>^", from);
  const auto ath = WaitFind("ATH", from);
  ASSERT_TRUE(dle && ath);
  EXPECT_LT(*dle, *ath);
  Drop(id, /*hangup=*/false);  // hung up already
}

// Last: the provider remembers that AT+VTR failed until the modem reopens.
TEST_F(ModemMediaTest, HalfDuplexModemCarriesTheFarEndOnly) {
  emu_->SetVoiceDuplex(false);
  const size_t from = emu_->commands().size();
  const std::string id = Connect();
  ASSERT_FALSE(id.empty());
  ASSERT_TRUE(WaitFind("AT+VRX", from)) << "no fallback to AT+VRX";
  ASSERT_TRUE(emu_->WaitVoiceStream());
  emu_->ClearVoiceReceived();
  MediaClient client(*media_);
  ASSERT_TRUE(client.Start(id)) << client.Finish().error_message();
  ExpectTone(Exchange(client, 50, 15, 1700), kRate, 1000);
  EXPECT_TRUE(emu_->VoiceReceived().empty());
  const size_t before_drop = emu_->commands().size();
  ASSERT_TRUE(itest::Drop(*telephony_, id).ok());
  const auto dle = WaitFind("<DLE>!", before_drop);
  const auto ath = WaitFind("ATH", before_drop);
  ASSERT_TRUE(dle && ath);
  EXPECT_LT(*dle, *ath);
  EXPECT_TRUE(ReadToEnd(client).ok());
  emu_->SetVoiceDuplex(true);
}

}  // namespace
}  // namespace linebridge::mtest
