#include "media/tone_monitor.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <vector>

#include "media/testing/signal.h"

namespace linebridge::media {
namespace {

using testing::Sine;

// A frame of the sum of `hz` (amplitude each), continuing at frame `k`.
Frame Tones(std::vector<double> hz, int k, double amplitude = 6000) {
  Frame f{};
  for (double h : hz) {
    std::vector<int16_t> s = Sine(h, amplitude, kSampleRate, kFrameSamples, k * kFrameSamples);
    for (int i = 0; i < kFrameSamples; ++i) f[i] = static_cast<int16_t>(f[i] + s[i]);
  }
  return f;
}

Frame Noise(uint32_t* seed, int amplitude = 6000) {
  Frame f{};
  for (auto& x : f) {
    *seed = *seed * 1664525u + 1013904223u;
    x = static_cast<int16_t>(static_cast<int>(*seed >> 16) % (2 * amplitude) - amplitude);
  }
  return f;
}

// Frames fed until the first detection (-1: none in `frames`).
int FirstDetection(ToneMonitor& m, int frames, const std::function<Frame(int)>& make,
                   std::vector<uint32_t>* all = nullptr) {
  int first = -1;
  for (int k = 0; k < frames; ++k) {
    std::vector<uint32_t> found;
    m.Feed(make(k), &found);
    if (!found.empty() && first < 0) first = k;
    if (all != nullptr) all->insert(all->end(), found.begin(), found.end());
  }
  return first;
}

TEST(ToneMonitor, ReportsASingleToneOnceItHasLastedItsDuration) {
  ToneMonitor m({{7, 200, {1000}}});
  std::vector<uint32_t> all;
  const int first = FirstDetection(m, 50, [](int k) { return Tones({1000}, k); }, &all);
  EXPECT_EQ(first, 9);  // 10 frames = 200 ms
  EXPECT_EQ(all, std::vector<uint32_t>{7});  // once per occurrence
}

TEST(ToneMonitor, ReportsAgainAfterTheToneStopped) {
  ToneMonitor m({{1, 100, {1100}}});
  std::vector<uint32_t> all;
  // 0.5 s on, 0.5 s off, twice.
  FirstDetection(
      m, 100, [](int k) { return (k / 25) % 2 == 0 ? Tones({1100}, k) : Frame{}; }, &all);
  EXPECT_EQ(all, (std::vector<uint32_t>{1, 1}));
}

TEST(ToneMonitor, DualAndTripleTonesNeedEveryFrequencyAndNothingElse) {
  ToneMonitor m({{1, 100, {440}}, {2, 100, {440, 480}}, {3, 100, {350, 440, 620}}});
  std::vector<uint32_t> all;
  FirstDetection(m, 20, [](int k) { return Tones({440, 480}, k); }, &all);
  EXPECT_EQ(all, std::vector<uint32_t>{2});  // not the 440 Hz tone alone
  ToneMonitor triple({{1, 100, {440}}, {3, 100, {350, 440, 620}}});
  all.clear();
  FirstDetection(triple, 20, [](int k) { return Tones({350, 440, 620}, k, 4000); }, &all);
  EXPECT_EQ(all, std::vector<uint32_t>{3});
}

TEST(ToneMonitor, OtherFrequenciesAndNoiseAreNotTheTone) {
  ToneMonitor m({{1, 100, {1400}}, {2, 100, {1000}}});
  EXPECT_EQ(FirstDetection(m, 50, [](int k) { return Tones({1200}, k); }), -1);
  uint32_t seed = 1;
  EXPECT_EQ(FirstDetection(m, 50, [&](int) { return Noise(&seed); }), -1);
  // Too quiet (-50 dBm0-ish) is not a tone either.
  EXPECT_EQ(FirstDetection(m, 50, [](int k) { return Tones({1000}, k, 30); }), -1);
}

TEST(ToneMonitor, SilenceIsAToneWithNoFrequency) {
  ToneMonitor m({{9, 500, {}}});
  EXPECT_EQ(FirstDetection(m, 50, [](int k) { return Tones({1000}, k); }), -1);
  EXPECT_EQ(FirstDetection(m, 50, [](int) { return Frame{}; }), 24);
}

TEST(ToneMonitor, ToneShorterThanItsDurationIsNotReported) {
  ToneMonitor m({{1, 600, {800}}});
  // 0.5 s on, 0.5 s off.
  EXPECT_EQ(
      FirstDetection(m, 200, [](int k) { return (k / 25) % 2 == 0 ? Tones({800}, k) : Frame{}; }),
      -1);
}

}  // namespace
}  // namespace linebridge::media
