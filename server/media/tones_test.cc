#include "media/tones.h"

#include <gtest/gtest.h>

#include "linebridge/lineerr.h"
#include "media/testing/signal.h"

namespace linebridge::media {
namespace {

using testing::GoertzelPower;
using testing::Rms;
using testing::ZeroCrossingHz;

// Frames until the source ends (at most `max`), concatenated.
std::vector<int16_t> Drain(ToneSource& s, int max, int* frames) {
  std::vector<int16_t> out;
  Frame f;
  *frames = 0;
  while (*frames < max) {
    const bool more = s.Next(&f);
    ++*frames;
    out.insert(out.end(), f.begin(), f.end());
    if (!more) break;
  }
  return out;
}

TEST(Tones, BeepIsAQuarterSecondOf1kHz) {
  v1::GenerateTone t;
  t.set_kind(v1::TONE_KIND_BEEP);
  auto s = ToneSource::ForTone(t);
  ASSERT_TRUE(s.ok()) << s.status();
  int frames = 0;
  std::vector<int16_t> audio = Drain(**s, 100, &frames);
  EXPECT_EQ(frames, 13);  // 250 ms: 12.5 frames
  EXPECT_NEAR(ZeroCrossingHz(audio, kSampleRate), 1000, 15);
  Frame f;
  EXPECT_FALSE((*s)->Next(&f));
}

TEST(Tones, BusyHasItsCadenceAndDurationLimitsIt) {
  v1::GenerateTone t;
  t.set_kind(v1::TONE_KIND_BUSY);
  t.set_duration_ms(2000);
  auto s = ToneSource::ForTone(t);
  ASSERT_TRUE(s.ok());
  int frames = 0;
  std::vector<int16_t> audio = Drain(**s, 1000, &frames);
  EXPECT_EQ(frames, 100);
  auto slice = [&](int from_ms, int to_ms) {
    return std::vector<int16_t>(audio.begin() + from_ms * 8, audio.begin() + to_ms * 8);
  };
  const std::vector<int16_t> on = slice(40, 460), off = slice(540, 960);
  EXPECT_GT(Rms(on), 300);
  EXPECT_LT(Rms(off), 5);
  EXPECT_GT(GoertzelPower(on, 480, kSampleRate), 100 * GoertzelPower(on, 1000, kSampleRate));
  EXPECT_GT(GoertzelPower(on, 620, kSampleRate), 100 * GoertzelPower(on, 1000, kSampleRate));
}

TEST(Tones, CustomToneIsChecked) {
  v1::GenerateTone t;
  t.set_kind(v1::TONE_KIND_CUSTOM);
  t.mutable_custom()->set_frequency1_hz(50);
  t.mutable_custom()->set_on_ms(100);
  absl::StatusOr<std::unique_ptr<ToneSource>> s = ToneSource::ForTone(t);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(LineErrOf(s.status()), LINEERR_INVALPARAM);
  EXPECT_NE(s.status().message().find("frequency1_hz"), std::string::npos);
  t.mutable_custom()->set_frequency1_hz(1400);
  t.mutable_custom()->set_on_ms(5);
  EXPECT_FALSE(ToneSource::ForTone(t).ok());
  t.mutable_custom()->set_on_ms(100);
  t.set_duration_ms(60001);
  EXPECT_FALSE(ToneSource::ForTone(t).ok());
  t.set_duration_ms(400);
  s = ToneSource::ForTone(t);
  ASSERT_TRUE(s.ok());
  int frames = 0;
  std::vector<int16_t> audio = Drain(**s, 100, &frames);
  EXPECT_EQ(frames, 20);
  EXPECT_NEAR(ZeroCrossingHz(std::vector<int16_t>(audio.begin(), audio.begin() + 800), kSampleRate),
              1400, 20);
  v1::GenerateTone none;
  EXPECT_FALSE(ToneSource::ForTone(none).ok());
}

TEST(Tones, GeneratedDigitsAreDetected) {
  auto s = ToneSource::ForDigits("159#*0D");
  ASSERT_TRUE(s.ok());
  DtmfDetector detector;
  std::string digits;
  Frame f;
  int frames = 0;
  bool more = true;
  while (more && frames < 500) {
    more = (*s)->Next(&f);
    detector.Feed(f, &digits);
    ++frames;
  }
  Frame silence{};
  for (int i = 0; i < 10; ++i) detector.Feed(silence, &digits);
  EXPECT_EQ(digits, "159#*0D");
  EXPECT_LT(frames, 500);
}

TEST(Tones, DigitsAreChecked) {
  EXPECT_FALSE(ToneSource::ForDigits("").ok());
  EXPECT_FALSE(ToneSource::ForDigits("12x").ok());
  EXPECT_FALSE(ToneSource::ForDigits(std::string(65, '1')).ok());
  EXPECT_TRUE(ToneSource::ForDigits(std::string(64, '1')).ok());
}

TEST(Tones, DetectorIgnoresSpeechBandTonesAndSilence) {
  DtmfDetector detector;
  std::string digits;
  for (int k = 0; k < 50; ++k) {
    std::vector<int16_t> s = testing::Sine(1000, 8000, kSampleRate, kFrameSamples, k * kFrameSamples);
    Frame f;
    std::copy(s.begin(), s.end(), f.begin());
    detector.Feed(f, &digits);
  }
  EXPECT_EQ(digits, "");
}

}  // namespace
}  // namespace linebridge::media
