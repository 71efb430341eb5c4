#include "media/media_monitor.h"

#include <gtest/gtest.h>
#include <spandsp.h>

#include <cmath>
#include <functional>
#include <vector>

#include "media/testing/signal.h"

namespace linebridge::media {
namespace {

struct Heard {
  int frame;
  v1::MediaMode mode;
};

std::vector<Heard> Monitor(int frames, const std::function<Frame(int)>& make) {
  MediaMonitor m;
  std::vector<Heard> out;
  for (int k = 0; k < frames; ++k) {
    if (std::optional<v1::MediaMode> mode = m.Feed(make(k))) out.push_back({k, *mode});
  }
  return out;
}

// A spandsp modem connect tone generator as frames.
std::function<Frame(int)> ConnectTone(int type) {
  auto tx = std::shared_ptr<modem_connect_tones_tx_state_t>(
      modem_connect_tones_tx_init(nullptr, type), modem_connect_tones_tx_free);
  return [tx](int) {
    Frame f{};
    modem_connect_tones_tx(tx.get(), f.data(), kFrameSamples);
    return f;
  };
}

// Speech-like sound: three formant-ish tones whose level swings at 4 Hz
// (syllables), with pauses.
Frame Speech(int k) {
  Frame f{};
  for (int i = 0; i < kFrameSamples; ++i) {
    const double t = static_cast<double>(k * kFrameSamples + i) / kSampleRate;
    const double envelope = 0.55 + 0.45 * std::sin(2 * testing::kPi * 4 * t);
    const double s = std::sin(2 * testing::kPi * 300 * t) + 0.6 * std::sin(2 * testing::kPi * 900 * t) +
                     0.3 * std::sin(2 * testing::kPi * 2200 * t);
    f[i] = static_cast<int16_t>(4000 * envelope * s);
  }
  return f;
}

TEST(MediaMonitor, FaxCallingToneIsG3Fax) {
  // CNG: 1100 Hz, 0.5 s on, 3 s off.
  std::vector<Heard> heard = Monitor(400, ConnectTone(MODEM_CONNECT_TONES_FAX_CNG));
  ASSERT_FALSE(heard.empty());
  EXPECT_EQ(heard[0].mode, v1::MEDIA_MODE_G3FAX);
  EXPECT_LT(heard[0].frame, 50);  // within the first burst's second
  EXPECT_EQ(heard.size(), 1u);    // reported once, later bursts are the same mode
}

TEST(MediaMonitor, FaxAnswerToneIsG3Fax) {
  std::vector<Heard> heard = Monitor(200, ConnectTone(MODEM_CONNECT_TONES_FAX_CED));
  ASSERT_FALSE(heard.empty());
  EXPECT_EQ(heard[0].mode, v1::MEDIA_MODE_G3FAX);
}

TEST(MediaMonitor, ModemAnswerToneWithReversalsIsDataModem) {
  for (int type : {MODEM_CONNECT_TONES_ANS_PR, MODEM_CONNECT_TONES_ANSAM,
                   MODEM_CONNECT_TONES_ANSAM_PR}) {
    std::vector<Heard> heard = Monitor(200, ConnectTone(type));
    ASSERT_FALSE(heard.empty()) << modem_connect_tone_to_str(type);
    EXPECT_EQ(heard[0].mode, v1::MEDIA_MODE_DATAMODEM) << modem_connect_tone_to_str(type);
  }
}

TEST(MediaMonitor, SpeechIsInteractiveVoice) {
  std::vector<Heard> heard = Monitor(150, Speech);
  ASSERT_FALSE(heard.empty());
  EXPECT_EQ(heard[0].mode, v1::MEDIA_MODE_INTERACTIVE_VOICE);
  EXPECT_EQ(heard.size(), 1u);
}

TEST(MediaMonitor, SteadyToneIsNotSpeech) {
  std::vector<Heard> heard = Monitor(150, [](int k) {
    std::vector<int16_t> s = testing::Sine(440, 5000, kSampleRate, kFrameSamples, k * kFrameSamples);
    Frame f;
    std::copy(s.begin(), s.end(), f.begin());
    return f;
  });
  EXPECT_TRUE(heard.empty());
}

TEST(MediaMonitor, LongSilenceIsUnknownThenSpeechIsVoice) {
  const int silent = MediaMonitor::kUnknownAfterMs / kFrameMs;
  std::vector<Heard> heard =
      Monitor(silent + 150, [&](int k) { return k < silent ? Frame{} : Speech(k); });
  ASSERT_EQ(heard.size(), 2u);
  EXPECT_EQ(heard[0].mode, v1::MEDIA_MODE_UNKNOWN);
  EXPECT_EQ(heard[0].frame, silent - 1);
  EXPECT_EQ(heard[1].mode, v1::MEDIA_MODE_INTERACTIVE_VOICE);
}

}  // namespace
}  // namespace linebridge::media
