#include "media/silence_detector.h"

#include <gtest/gtest.h>

#include <cmath>
#include <vector>

#include "media/testing/signal.h"

namespace linebridge::media {
namespace {

using testing::Sine;

// Frames of a 1 kHz sine at `dbm0` (0 dBm0 = 3.17 dB under full scale).
Frame Tone(double dbm0, int64_t start) {
  const double amplitude = 32767.0 * std::pow(10.0, (dbm0 - 3.17) / 20);
  std::vector<int16_t> s = Sine(1000, amplitude, kSampleRate, kFrameSamples, start);
  Frame f;
  std::copy(s.begin(), s.end(), f.begin());
  return f;
}
Frame Quiet() { return Frame{}; }

TEST(SilenceDetector, LevelOfAToneInDbm0) {
  EXPECT_NEAR(SilenceDetector::LevelDbm0(Tone(-13, 0)), -13, 0.1);
  EXPECT_NEAR(SilenceDetector::LevelDbm0(Tone(0, 0)), 0, 0.1);
  EXPECT_NEAR(SilenceDetector::LevelDbm0(Tone(-50, 0)), -50, 0.5);
  EXPECT_EQ(SilenceDetector::LevelDbm0(Quiet()), -100);
}

TEST(SilenceDetector, StartsSilentAndCountsSilence) {
  SilenceDetector d;
  for (int i = 0; i < 10; ++i) EXPECT_FALSE(d.Feed(Quiet()));
  EXPECT_FALSE(d.voice());
  EXPECT_EQ(d.silence_ms(), 200u);
}

TEST(SilenceDetector, VoiceNeedsTheOnset) {
  SilenceDetector d({.threshold_dbm0 = -40, .onset_ms = 40, .hangover_ms = 200});
  EXPECT_FALSE(d.Feed(Tone(-20, 0)));  // one loud frame: a click
  EXPECT_FALSE(d.Feed(Quiet()));
  EXPECT_FALSE(d.Feed(Tone(-20, 0)));
  EXPECT_TRUE(d.Feed(Tone(-20, 160)));  // the second in a row
  EXPECT_EQ(d.state_ms(), 40u);
  EXPECT_EQ(d.silence_ms(), 0u);
}

TEST(SilenceDetector, HangoverBridgesShortGapsThenSilenceCountsFromTheLastLoudFrame) {
  SilenceDetector d({.threshold_dbm0 = -40, .onset_ms = 20, .hangover_ms = 200});
  EXPECT_TRUE(d.Feed(Tone(-20, 0)));
  // 200 ms (10 frames) of quiet: still voice.
  for (int i = 0; i < 10; ++i) EXPECT_TRUE(d.Feed(Quiet())) << i;
  EXPECT_TRUE(d.Feed(Tone(-20, 0)));  // the gap between two words
  for (int i = 0; i < 10; ++i) EXPECT_TRUE(d.Feed(Quiet()));
  EXPECT_FALSE(d.Feed(Quiet()));  // the 11th quiet frame: 220 ms
  EXPECT_EQ(d.silence_ms(), 220u);
  for (int i = 0; i < 39; ++i) d.Feed(Quiet());
  EXPECT_EQ(d.silence_ms(), 1000u);
}

TEST(SilenceDetector, ThresholdSeparatesQuietFromLoud) {
  SilenceDetector d({.threshold_dbm0 = -30, .onset_ms = 20, .hangover_ms = 0});
  for (int i = 0; i < 5; ++i) EXPECT_FALSE(d.Feed(Tone(-35, i * kFrameSamples)));
  EXPECT_TRUE(d.Feed(Tone(-25, 0)));
  EXPECT_FALSE(d.Feed(Tone(-35, 0)));  // no hangover
}

TEST(SilenceDetector, NoiseUnderTheThresholdIsSilence) {
  SilenceDetector d;
  Frame noise;
  uint32_t x = 1;
  for (int n = 0; n < 50; ++n) {
    for (int16_t& s : noise) {
      x = x * 1103515245 + 12345;
      s = static_cast<int16_t>(static_cast<int>((x >> 16) % 65) - 32);  // about -60 dBm0
    }
    EXPECT_FALSE(d.Feed(noise));
  }
  EXPECT_EQ(d.silence_ms(), 1000u);
}

}  // namespace
}  // namespace linebridge::media
