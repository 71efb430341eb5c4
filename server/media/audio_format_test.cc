#include "media/audio_format.h"

#include <gtest/gtest.h>

#include "linebridge/lineerr.h"
#include "media/testing/signal.h"

namespace linebridge::media {
namespace {

using testing::GoertzelPower;
using testing::Rms;
using testing::Sine;
using testing::ZeroCrossingHz;

Frame FrameOf(const std::vector<int16_t>& s) {
  Frame f;
  std::copy(s.begin(), s.begin() + kFrameSamples, f.begin());
  return f;
}

TEST(AudioFormat, ResolvesFormats) {
  EXPECT_EQ(*ResolveFormat(v1::AUDIO_FORMAT_UNSPECIFIED), v1::AUDIO_FORMAT_L16_8K);
  EXPECT_EQ(*ResolveFormat(v1::AUDIO_FORMAT_PCMA), v1::AUDIO_FORMAT_PCMA);
  absl::StatusOr<v1::AudioFormat> bad = ResolveFormat(99);
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(LineErrOf(bad.status()), LINEERR_INVALPARAM);
  EXPECT_EQ(FrameBytes(v1::AUDIO_FORMAT_L16_8K), 320u);
  EXPECT_EQ(FrameBytes(v1::AUDIO_FORMAT_L16_16K), 640u);
  EXPECT_EQ(FrameBytes(v1::AUDIO_FORMAT_PCMU), 160u);
}

TEST(AudioFormat, L16IsLittleEndianAndExact) {
  Codec c(v1::AUDIO_FORMAT_L16_8K);
  Frame f{};
  f[0] = 0x1234;
  f[1] = -2;
  std::string bytes;
  c.Encode(f, &bytes);
  ASSERT_EQ(bytes.size(), 320u);
  EXPECT_EQ(static_cast<uint8_t>(bytes[0]), 0x34);
  EXPECT_EQ(static_cast<uint8_t>(bytes[1]), 0x12);
  EXPECT_EQ(static_cast<uint8_t>(bytes[2]), 0xfe);
  EXPECT_EQ(static_cast<uint8_t>(bytes[3]), 0xff);
  Frame back;
  ASSERT_TRUE(c.Decode(bytes, &back));
  EXPECT_EQ(back, f);
  EXPECT_FALSE(c.Decode(bytes.substr(1), &back));
  EXPECT_FALSE(c.Decode(bytes + "x", &back));
}

TEST(AudioFormat, G711RoundTripKeepsTheTone) {
  for (v1::AudioFormat fmt : {v1::AUDIO_FORMAT_PCMU, v1::AUDIO_FORMAT_PCMA}) {
    Codec enc(fmt), dec(fmt);
    const std::vector<int16_t> in = Sine(1000, 8000, kSampleRate, kFrameSamples);
    std::string bytes;
    enc.Encode(FrameOf(in), &bytes);
    ASSERT_EQ(bytes.size(), 160u);
    Frame out;
    ASSERT_TRUE(dec.Decode(bytes, &out));
    double err = 0, sig = 0;
    for (int i = 0; i < kFrameSamples; ++i) {
      err += (out[i] - in[i]) * static_cast<double>(out[i] - in[i]);
      sig += in[i] * static_cast<double>(in[i]);
    }
    EXPECT_GT(10 * std::log10(sig / err), 30) << v1::AudioFormat_Name(fmt);
  }
}

TEST(AudioFormat, WidebandIsResampled) {
  Codec up(v1::AUDIO_FORMAT_L16_16K), down(v1::AUDIO_FORMAT_L16_16K);
  std::vector<int16_t> wide, narrow;
  for (int k = 0; k < 10; ++k) {
    std::string bytes;
    up.Encode(FrameOf(Sine(1000, 8000, kSampleRate, kFrameSamples, k * kFrameSamples)), &bytes);
    ASSERT_EQ(bytes.size(), 640u);
    for (size_t i = 0; i < bytes.size(); i += 2) {
      wide.push_back(static_cast<int16_t>(static_cast<uint8_t>(bytes[i]) | (bytes[i + 1] << 8)));
    }
    Frame f;
    ASSERT_TRUE(down.Decode(bytes, &f));
    if (k > 0) narrow.insert(narrow.end(), f.begin(), f.end());  // past the filters' start
  }
  EXPECT_NEAR(ZeroCrossingHz(wide, 16000), 1000, 10);
  EXPECT_NEAR(ZeroCrossingHz(narrow, kSampleRate), 1000, 10);
  EXPECT_GT(Rms(narrow), 8000 * 0.7 * 0.8);
  // 6 kHz at 16 kHz cannot be carried at 8 kHz: the filter removes it.
  Codec down6(v1::AUDIO_FORMAT_L16_16K);
  std::vector<int16_t> out6;
  for (int k = 0; k < 10; ++k) {
    const std::vector<int16_t> s = Sine(6000, 8000, 16000, 2 * kFrameSamples, 2 * k * kFrameSamples);
    std::string bytes(640, '\0');
    for (int i = 0; i < 2 * kFrameSamples; ++i) {
      bytes[2 * i] = static_cast<char>(s[i] & 0xff);
      bytes[2 * i + 1] = static_cast<char>((static_cast<uint16_t>(s[i]) >> 8) & 0xff);
    }
    Frame f;
    ASSERT_TRUE(down6.Decode(bytes, &f));
    if (k > 0) out6.insert(out6.end(), f.begin(), f.end());
  }
  EXPECT_LT(Rms(out6), 8000 * 0.7 / 30);  // > 30 dB down
  (void)GoertzelPower;
}

TEST(AudioFormat, MixSaturates) {
  Frame a{}, b{};
  a[0] = 30000;
  b[0] = 30000;
  a[1] = -30000;
  b[1] = -30000;
  a[2] = 5;
  b[2] = -3;
  MixInto(a, b);
  EXPECT_EQ(a[0], 32767);
  EXPECT_EQ(a[1], -32768);
  EXPECT_EQ(a[2], 2);
}

}  // namespace
}  // namespace linebridge::media
