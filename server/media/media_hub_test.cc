// The hub on a hand-driven clock (HubOptions.run_clock = false) and a
// directory the test sets up.
#include "media/media_hub.h"

#include <gtest/gtest.h>

#include "media/testing/fake_directory.h"
#include "media/testing/signal.h"

namespace linebridge::media {
namespace {

using testing::FakeDevice;
using testing::FakeDirectory;
using testing::GoertzelPower;
using testing::RecordingSink;
using testing::Rms;
using testing::Sine;
using testing::ZeroCrossingHz;

MediaRoute Hears(std::vector<std::string> ids) {
  MediaRoute r;
  r.hears = std::move(ids);
  return r;
}

Frame SineFrame(double hz, int k, double amplitude = 8000) {
  std::vector<int16_t> s = Sine(hz, amplitude, kSampleRate, kFrameSamples, k * kFrameSamples);
  Frame f;
  std::copy(s.begin(), s.end(), f.begin());
  return f;
}

class MediaHubTest : public ::testing::Test {
 protected:
  HubOptions Options() {
    HubOptions o;
    o.run_clock = false;
    o.jitter_frames = 1;  // frames play at the next tick
    return o;
  }
  FakeDirectory dir_;
};

TEST_F(MediaHubTest, WhatOneCallSendsTheOtherHears) {
  dir_.Set("a", Hears({"b"}));
  dir_.Set("b", Hears({"a"}));
  RecordingSink sa, sb;
  MediaHub hub(&dir_, Options());
  MediaHub::StreamId a = *hub.Attach("a", &sa);
  ASSERT_TRUE(hub.Attach("b", &sb).ok());
  for (int k = 0; k < 50; ++k) {
    hub.PushFrame(a, SineFrame(1000, k));
    hub.Tick();
  }
  ASSERT_EQ(sb.audio.size(), 50u * kFrameSamples);
  EXPECT_NEAR(ZeroCrossingHz(sb.audio, kSampleRate), 1000, 5);
  EXPECT_LT(Rms(sa.audio), 1);  // a hears b, who sends nothing
  // Stats once a second: 50 frames taken from a, 50 underruns on b.
  ASSERT_EQ(sa.stats.size(), 1u);
  EXPECT_EQ(sa.stats[0].received, 50u);
  ASSERT_EQ(sb.stats.size(), 1u);
  EXPECT_EQ(sb.stats[0].underrun, 50u);
}

TEST_F(MediaHubTest, ConferenceMixesAndNobodyHearsThemselves) {
  dir_.Set("hub", Hears({"x", "y"}));
  dir_.Set("x", Hears({"hub", "y"}));
  dir_.Set("y", Hears({"hub", "x"}));
  RecordingSink sh, sx, sy;
  MediaHub hub(&dir_, Options());
  MediaHub::StreamId h = *hub.Attach("hub", &sh);
  MediaHub::StreamId x = *hub.Attach("x", &sx);
  MediaHub::StreamId y = *hub.Attach("y", &sy);
  for (int k = 0; k < 25; ++k) {
    hub.PushFrame(h, SineFrame(500, k, 4000));
    hub.PushFrame(x, SineFrame(1100, k, 4000));
    hub.PushFrame(y, SineFrame(1700, k, 4000));
    hub.Tick();
  }
  auto has = [](const std::vector<int16_t>& a, double hz) {
    return GoertzelPower(a, hz, kSampleRate) > 1e5;
  };
  EXPECT_TRUE(has(sh.audio, 1100) && has(sh.audio, 1700) && !has(sh.audio, 500));
  EXPECT_TRUE(has(sx.audio, 500) && has(sx.audio, 1700) && !has(sx.audio, 1100));
  EXPECT_TRUE(has(sy.audio, 500) && has(sy.audio, 1100) && !has(sy.audio, 1700));
}

TEST_F(MediaHubTest, EchoAndPromptFarEnds) {
  MediaRoute echo;
  echo.far_end = MediaRoute::FarEnd::kEcho;
  MediaRoute prompt;
  prompt.far_end = MediaRoute::FarEnd::kPrompt;
  dir_.Set("e", echo);
  dir_.Set("p", prompt);
  RecordingSink se, sp;
  MediaHub hub(&dir_, Options());
  MediaHub::StreamId e = *hub.Attach("e", &se);
  ASSERT_TRUE(hub.Attach("p", &sp).ok());
  for (int k = 0; k < 20; ++k) {
    hub.PushFrame(e, SineFrame(900, k));
    hub.Tick();
  }
  // The echo comes back one frame later.
  ASSERT_EQ(se.audio.size(), 20u * kFrameSamples);
  EXPECT_LT(Rms(std::vector<int16_t>(se.audio.begin(), se.audio.begin() + kFrameSamples)), 1);
  const Frame first = SineFrame(900, 0);
  EXPECT_TRUE(std::equal(first.begin(), first.end(), se.audio.begin() + kFrameSamples));
  EXPECT_NEAR(ZeroCrossingHz(sp.audio, kSampleRate), 660, 10);
}

TEST_F(MediaHubTest, DigitsAreDetectedOnTheCallThatHearsThemEvenWithoutAStream) {
  dir_.Set("a", Hears({"b"}));
  dir_.Set("b", Hears({"a"}));
  RecordingSink sa;
  MediaHub hub(&dir_, Options());
  MediaHub::StreamId a = *hub.Attach("a", &sa);
  hub.Tick();  // b gets its endpoint through a's route
  hub.PlayTone(a, *ToneSource::ForDigits("42#"));
  for (int k = 0; k < 60; ++k) hub.Tick();
  EXPECT_EQ(dir_.digits("b"), "42#");
  EXPECT_EQ(dir_.digits("a"), "");
  ASSERT_EQ(sa.tone_done.size(), 1u);
  EXPECT_FALSE(sa.tone_done[0]);
  EXPECT_EQ(hub.totals().digits, 3u);
}

TEST_F(MediaHubTest, DigitsTheCallHearsAreGathered) {
  dir_.Set("a", Hears({"b"}));
  dir_.Set("b", Hears({"a"}));
  RecordingSink sa, sb;
  MediaHub hub(&dir_, Options());
  MediaHub::StreamId a = *hub.Attach("a", &sa);
  MediaHub::StreamId b = *hub.Attach("b", &sb);
  v1::GatherDigits rules;
  rules.set_max_digits(10);
  rules.set_termination_digits("#");
  hub.Gather(b, *DigitGatherer::Start(rules));
  hub.Gather(b, *DigitGatherer::Start(rules));  // replaces: the first is cancelled
  hub.PlayTone(a, *ToneSource::ForDigits("31#4"));
  for (int k = 0; k < 80; ++k) hub.Tick();
  ASSERT_EQ(sb.gathered.size(), 2u);
  EXPECT_EQ(sb.gathered[0].termination, v1::GATHER_TERMINATION_CANCELLED);
  EXPECT_EQ(sb.gathered[1].digits, "31#");
  EXPECT_EQ(sb.gathered[1].termination, v1::GATHER_TERMINATION_TERMINATION_DIGIT);
  EXPECT_TRUE(sa.gathered.empty());
  // A first-digit timeout of 100 ms: five ticks without a digit.
  rules.set_first_digit_timeout_ms(100);
  hub.Gather(b, *DigitGatherer::Start(rules));
  for (int k = 0; k < 5; ++k) hub.Tick();
  ASSERT_EQ(sb.gathered.size(), 3u);
  EXPECT_EQ(sb.gathered[2].termination, v1::GATHER_TERMINATION_FIRST_TIMEOUT);
  hub.StopGather(b);  // nothing running: no report
  EXPECT_EQ(sb.gathered.size(), 3u);
}

TEST_F(MediaHubTest, ToneReplacedOrStoppedIsCancelled) {
  dir_.Set("a", Hears({}));
  RecordingSink sa;
  MediaHub hub(&dir_, Options());
  MediaHub::StreamId a = *hub.Attach("a", &sa);
  v1::GenerateTone ring;
  ring.set_kind(v1::TONE_KIND_RINGBACK);
  hub.PlayTone(a, *ToneSource::ForTone(ring));
  hub.Tick();
  hub.PlayTone(a, *ToneSource::ForTone(ring));
  hub.StopTone(a);
  hub.StopTone(a);  // nothing playing: no report
  EXPECT_EQ(sa.tone_done, (std::vector<bool>{true, true}));
}

TEST_F(MediaHubTest, ClientFramesBeyondTheQueueAreDroppedAndCounted) {
  dir_.Set("a", Hears({}));
  HubOptions o = Options();
  o.input_frames = 5;
  o.stats_every_ticks = 1;
  RecordingSink sa;
  MediaHub hub(&dir_, o);
  MediaHub::StreamId a = *hub.Attach("a", &sa);
  for (int k = 0; k < 12; ++k) hub.PushFrame(a, SineFrame(1000, k));
  hub.Tick();
  ASSERT_FALSE(sa.stats.empty());
  EXPECT_EQ(sa.stats.back().overrun, 7u);
  EXPECT_EQ(sa.stats.back().received, 1u);
}

TEST_F(MediaHubTest, StreamsEndWhenTheirCallGoesAndOthersCarryOn) {
  dir_.Set("a", Hears({"b"}));
  dir_.Set("b", Hears({"a"}));
  dir_.Set("c", Hears({}));
  RecordingSink sa, sb, sc;
  MediaHub hub(&dir_, Options());
  ASSERT_TRUE(hub.Attach("a", &sa).ok());
  MediaHub::StreamId b = *hub.Attach("b", &sb);
  ASSERT_TRUE(hub.Attach("c", &sc).ok());
  hub.Tick();
  dir_.End("a");
  dir_.Set("b", Hears({}));
  hub.Tick();
  EXPECT_TRUE(sa.ended);
  EXPECT_FALSE(sa.ended_by_shutdown);
  EXPECT_FALSE(sb.ended);
  EXPECT_FALSE(sc.ended);
  const size_t before = sc.audio.size();
  hub.Tick();
  EXPECT_EQ(sc.audio.size(), before + kFrameSamples);
  EXPECT_EQ(hub.totals().streams, 2u);
  EXPECT_TRUE(hub.Detach(b).has_value());
  EXPECT_FALSE(hub.Detach(b).has_value());
  hub.Shutdown();
  EXPECT_TRUE(sc.ended_by_shutdown);
  EXPECT_FALSE(hub.Attach("c", &sc).ok());
}

TEST_F(MediaHubTest, ADeviceFarEndIsHeardAndHearsTheCallWhileDriven) {
  auto device = std::make_shared<FakeDevice>();
  MediaRoute route;
  route.device = device;
  dir_.Set("a", route);
  RecordingSink sa;
  MediaHub hub(&dir_, Options());
  hub.Tick();  // no stream: the device is not driven
  EXPECT_FALSE(device->attached);
  EXPECT_EQ(device->pulls, 0);
  MediaHub::StreamId a = *hub.Attach("a", &sa);
  for (int k = 0; k < 50; ++k) device->Send(SineFrame(1000, k));
  for (int k = 0; k < 60; ++k) {  // the last 10 ticks: the device sent nothing
    hub.PushFrame(a, SineFrame(500, k));
    hub.Tick();
  }
  EXPECT_TRUE(device->attached);
  EXPECT_EQ(device->attach_changes, 1);
  ASSERT_EQ(sa.audio.size(), 60u * kFrameSamples);
  const std::vector<int16_t> heard(sa.audio.begin(), sa.audio.begin() + 50 * kFrameSamples);
  EXPECT_NEAR(ZeroCrossingHz(heard, kSampleRate), 1000, 5);
  const std::vector<int16_t> after(sa.audio.begin() + 50 * kFrameSamples, sa.audio.end());
  EXPECT_LT(Rms(after), 1);  // silence, not the last frame again
  // What the stream's client sent reached the device, one frame per tick.
  ASSERT_EQ(device->from_hub.size(), 60u * kFrameSamples);
  EXPECT_NEAR(ZeroCrossingHz(device->from_hub, kSampleRate), 500, 5);

  // The stream goes: the hub stops driving the device.
  ASSERT_TRUE(hub.Detach(a).has_value());
  hub.Tick();
  EXPECT_FALSE(device->attached);
  const int pulls = device->pulls;
  hub.Tick();
  EXPECT_EQ(device->pulls, pulls);

  // Driven again, then the call's route loses the device (the provider
  // dropped it), then the call goes: detached once each time.
  MediaHub::StreamId again = *hub.Attach("a", &sa);
  hub.Tick();
  EXPECT_TRUE(device->attached);
  dir_.Set("a", MediaRoute());
  hub.Tick();
  EXPECT_FALSE(device->attached);
  dir_.Set("a", route);
  hub.Tick();
  EXPECT_TRUE(device->attached);
  dir_.End("a");
  hub.Tick();
  EXPECT_FALSE(device->attached);
  EXPECT_EQ(device->attach_changes, 6);
  EXPECT_FALSE(hub.Detach(again).has_value());  // ended with its call
}

TEST_F(MediaHubTest, ADeviceThatSignalsDigitsIsGatheredNotDetected) {
  auto device = std::make_shared<testing::FakeSignallingDevice>();
  MediaRoute route;
  route.device = device;
  dir_.Set("a", route);
  RecordingSink sa;
  MediaHub hub(&dir_, Options());
  MediaHub::StreamId a = *hub.Attach("a", &sa);
  v1::GatherDigits rules;
  rules.set_max_digits(2);
  hub.Gather(a, *DigitGatherer::Start(rules));
  // The device's audio carries the DTMF of "7" while it signals "5" and "#".
  std::unique_ptr<ToneSource> dtmf = *ToneSource::ForDigits("7");
  Frame f;
  for (int k = 0; k < 25; ++k) {
    f.fill(0);
    dtmf->Next(&f);
    device->Send(f);
  }
  for (int k = 0; k < 25; ++k) {
    if (k == 3) device->digits = "5";
    if (k == 9) device->digits = "#";
    hub.Tick();
  }
  // Heard, but not detected: the provider reports the device's digits.
  EXPECT_GT(Rms(sa.audio), 1000);
  EXPECT_EQ(dir_.digits("a"), "");
  EXPECT_EQ(hub.totals().digits, 0u);
  ASSERT_EQ(sa.gathered.size(), 1u);
  EXPECT_EQ(sa.gathered[0].digits, "5#");
  EXPECT_EQ(sa.gathered[0].termination, v1::GATHER_TERMINATION_BUFFER_FULL);

  // A device that does not signal digits: the DTMF in its audio is detected.
  auto plain = std::make_shared<FakeDevice>();
  route.device = plain;
  dir_.Set("a", route);
  dtmf = *ToneSource::ForDigits("7");
  for (int k = 0; k < 25; ++k) {
    f.fill(0);
    dtmf->Next(&f);
    plain->Send(f);
    hub.Tick();
  }
  EXPECT_EQ(dir_.digits("a"), "7");
  hub.Shutdown();
}

TEST_F(MediaHubTest, ADeviceIsMixedWithTheCallsARouteHears) {
  // a hears b's party and its own device far end (a conference leg, say);
  // its device hears only what a's client sends.
  auto device = std::make_shared<FakeDevice>();
  MediaRoute a_route = Hears({"b"});
  a_route.device = device;
  dir_.Set("a", a_route);
  dir_.Set("b", Hears({"a"}));
  RecordingSink sa, sb;
  MediaHub hub(&dir_, Options());
  MediaHub::StreamId a = *hub.Attach("a", &sa);
  MediaHub::StreamId b = *hub.Attach("b", &sb);
  for (int k = 0; k < 25; ++k) {
    device->Send(SineFrame(1000, k, 4000));
    hub.PushFrame(a, SineFrame(500, k, 4000));
    hub.PushFrame(b, SineFrame(1700, k, 4000));
    hub.Tick();
  }
  auto has = [](const std::vector<int16_t>& s, double hz) {
    return GoertzelPower(s, hz, kSampleRate) > 1e5;
  };
  EXPECT_TRUE(has(sa.audio, 1000) && has(sa.audio, 1700) && !has(sa.audio, 500));
  EXPECT_TRUE(has(device->from_hub, 500) && !has(device->from_hub, 1700) &&
              !has(device->from_hub, 1000));
  EXPECT_TRUE(has(sb.audio, 500) && !has(sb.audio, 1000));
  ASSERT_TRUE(hub.Detach(a).has_value());
  hub.Tick();
  EXPECT_TRUE(device->attached);  // still an endpoint: b hears a
  ASSERT_TRUE(hub.Detach(b).has_value());
  hub.Tick();
  EXPECT_FALSE(device->attached);
  hub.Shutdown();
}

TEST_F(MediaHubTest, PlayOutStartsOnceTheJitterBufferHoldsItsFrames) {
  dir_.Set("a", Hears({"b"}));
  dir_.Set("b", Hears({"a"}));
  HubOptions o = Options();
  o.jitter_frames = 3;
  o.stats_every_ticks = 1;
  RecordingSink sa, sb;
  MediaHub hub(&dir_, o);
  MediaHub::StreamId a = *hub.Attach("a", &sa);
  ASSERT_TRUE(hub.Attach("b", &sb).ok());
  // One frame a tick: play-out starts when three are queued (two ticks of
  // silence), then runs with that depth.
  for (int k = 0; k < 10; ++k) {
    hub.PushFrame(a, SineFrame(1000, k));
    hub.Tick();
  }
  EXPECT_EQ(sa.stats.back().underrun, 2u);
  EXPECT_EQ(sa.stats.back().received, 8u);
  EXPECT_LT(Rms(std::vector<int16_t>(sb.audio.begin(), sb.audio.begin() + 2 * kFrameSamples)), 1);
  const Frame first = SineFrame(1000, 0);
  EXPECT_TRUE(std::equal(first.begin(), first.end(), sb.audio.begin() + 2 * kFrameSamples));
  // A late frame: silence, then play-out waits for three again.
  hub.Tick();
  EXPECT_EQ(sa.stats.back().received, 9u);  // the two queued ones drain first
  hub.Tick();
  hub.Tick();
  EXPECT_EQ(sa.stats.back().underrun, 3u);
  hub.PushFrame(a, SineFrame(1000, 10));
  hub.Tick();
  EXPECT_EQ(sa.stats.back().underrun, 4u);
}

TEST_F(MediaHubTest, AMissingClientFrameIsConcealedAndADigitStaysWhole) {
  dir_.Set("a", Hears({"b"}));
  dir_.Set("b", Hears({"a"}));
  RecordingSink sa, sb;
  MediaHub hub(&dir_, Options());
  MediaHub::StreamId a = *hub.Attach("a", &sa);
  ASSERT_TRUE(hub.Attach("b", &sb).ok());
  // The client's own DTMF '5' (770 + 1336 Hz) for 120 ms, the fourth frame
  // late (not there at its tick), then silence.
  for (int k = 0; k < 20; ++k) {
    Frame f{};
    if (k < 6) {
      const Frame lo = SineFrame(770, k, 5000), hi = SineFrame(1336, k, 5000);
      for (int i = 0; i < kFrameSamples; ++i) f[i] = static_cast<int16_t>(lo[i] + hi[i]);
    }
    if (k != 3) hub.PushFrame(a, f);
    hub.Tick();
  }
  EXPECT_EQ(dir_.digits("b"), "5");
  // The gap (b's fourth frame) carries the concealed tone, not silence.
  const std::vector<int16_t> gap(sb.audio.begin() + 3 * kFrameSamples,
                                 sb.audio.begin() + 4 * kFrameSamples);
  EXPECT_GT(Rms(gap), 1000);
}

TEST_F(MediaHubTest, StreamLimit) {
  dir_.Set("a", Hears({}));
  HubOptions o = Options();
  o.max_streams = 2;
  RecordingSink s1, s2, s3;
  MediaHub hub(&dir_, o);
  ASSERT_TRUE(hub.Attach("a", &s1).ok());
  ASSERT_TRUE(hub.Attach("a", &s2).ok());
  absl::StatusOr<MediaHub::StreamId> third = hub.Attach("a", &s3);
  EXPECT_EQ(third.status().code(), absl::StatusCode::kResourceExhausted);
}

TEST_F(MediaHubTest, TheClockTicksEvery20ms) {
  dir_.Set("a", Hears({}));
  HubOptions o;
  RecordingSink sa;
  MediaHub hub(&dir_, o);
  MediaHub::StreamId a = *hub.Attach("a", &sa);
  absl::SleepFor(absl::Milliseconds(500));
  const uint64_t ticks = hub.totals().ticks;
  hub.Detach(a);
  // 25 expected; the machine may be busy.
  EXPECT_GE(ticks, 15u);
  EXPECT_LE(ticks, 27u);
}

}  // namespace
}  // namespace linebridge::media
