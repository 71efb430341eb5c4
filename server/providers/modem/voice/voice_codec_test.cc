#include "providers/modem/voice/voice_codec.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "media/testing/signal.h"
#include "providers/modem/voice/voice_format.h"

namespace linebridge::modem::voice {
namespace {

using media::testing::Rms;
using media::testing::Sine;
using media::testing::ZeroCrossingHz;
using ::testing::ElementsAre;

TEST(ParseVsmMethods, LongAndShortForms) {
  const std::vector<VoiceMethod> m = ParseVsmMethods({
      "128,\"8-BIT LINEAR\",8,0,(7200,8000,11025),(0),(0)",
      "129,\"16-BIT LINEAR\",16,0,(7200,8000,11025),(0),(0)",
      "+VSM: 130,\"8-BIT ALAW\",8,0,8000,(0),(0)",
      "+VSM: 131,\"8-BIT ULAW\",(8000)",
      "132,\"IMA ADPCM\",4,0,(7200,8000,11025),(0),(0)",
      "1,\"UNSIGNED PCM\",8,0,(7200-11025),(0),(0)",
      "garbage",
      "5,\"SIGNED PCM\",8,0,(8000),(0),(0)",
  });
  ASSERT_EQ(m.size(), 5u);
  EXPECT_EQ(m[0].id, 128);
  EXPECT_EQ(m[0].encoding, SampleEncoding::kLinear8);
  EXPECT_THAT(m[0].rates, ElementsAre(7200, 8000, 11025));
  EXPECT_EQ(m[1].encoding, SampleEncoding::kLinear16);
  EXPECT_EQ(m[2].encoding, SampleEncoding::kALaw);
  EXPECT_THAT(m[2].rates, ElementsAre(8000));
  EXPECT_EQ(m[3].encoding, SampleEncoding::kMuLaw);
  EXPECT_EQ(m[3].name, "8-BIT ULAW");
  EXPECT_EQ(m[4].id, 1);
  EXPECT_EQ(m[4].encoding, SampleEncoding::kLinear8);
  EXPECT_THAT(m[4].rates, ElementsAre(7200, 8000, 11025));
}

TEST(ChooseVoiceFormat, PrefersLinear16ThenUlawAt8000) {
  const auto all = ParseVsmMethods({"128,\"8-BIT LINEAR\",(7200,8000,11025)",
                                    "131,\"8-BIT ULAW\",(8000)",
                                    "130,\"8-BIT ALAW\",(8000)",
                                    "129,\"16-BIT LINEAR\",(7200,8000,11025)"});
  std::optional<VoiceFormat> f = ChooseVoiceFormat(all);
  ASSERT_TRUE(f);
  EXPECT_EQ(f->encoding, SampleEncoding::kLinear16);
  EXPECT_EQ(f->rate, 8000);
  EXPECT_EQ(VsmCommand(*f), "AT+VSM=129,8000");

  f = ChooseVoiceFormat(ParseVsmMethods({"130,\"8-BIT ALAW\",(8000)", "131,\"8-BIT ULAW\",(8000)"}));
  ASSERT_TRUE(f);
  EXPECT_EQ(f->encoding, SampleEncoding::kMuLaw);

  // A method at 8000 beats a preferred one that needs rate adaptation.
  f = ChooseVoiceFormat(ParseVsmMethods({"129,\"16-BIT LINEAR\",(7200,11025)",
                                         "128,\"8-BIT LINEAR\",(8000)"}));
  ASSERT_TRUE(f);
  EXPECT_EQ(f->id, 128);
  EXPECT_EQ(f->rate, 8000);

  // Only other rates: the nearest one.
  f = ChooseVoiceFormat(ParseVsmMethods({"128,\"8-BIT LINEAR\",(7200,11025)"}));
  ASSERT_TRUE(f);
  EXPECT_EQ(f->rate, 7200);

  EXPECT_FALSE(ChooseVoiceFormat(ParseVsmMethods({"132,\"IMA ADPCM\",(8000)"})));
  EXPECT_FALSE(ChooseVoiceFormat({}));
}

class CodecRoundTrip : public ::testing::TestWithParam<SampleEncoding> {};

TEST_P(CodecRoundTrip, ToneSurvivesAndBytesPerSample) {
  const std::vector<int16_t> tone = Sine(1000, 8000, 8000, 800);
  SampleCodec enc(GetParam());
  std::string bytes;
  enc.Encode(tone.data(), tone.size(), &bytes);
  EXPECT_EQ(bytes.size(), tone.size() * static_cast<size_t>(BytesPerSample(GetParam())));
  // Decoded in odd-sized pieces: a 16-bit sample may be cut in two.
  SampleCodec dec(GetParam());
  std::vector<int16_t> back;
  for (size_t at = 0; at < bytes.size(); at += 7) {
    dec.Decode(absl::string_view(bytes).substr(at, 7), &back);
  }
  ASSERT_EQ(back.size(), tone.size());
  double err = 0;
  for (size_t i = 0; i < tone.size(); ++i) err += std::abs(back[i] - tone[i]);
  err /= static_cast<double>(tone.size());
  // 16-bit is exact; G.711 within its companding step; 8-bit within 1/256.
  const double allowed = GetParam() == SampleEncoding::kLinear16 ? 0 : 300;
  EXPECT_LE(err, allowed) << EncodingName(GetParam());
  EXPECT_NEAR(ZeroCrossingHz(back, 8000), 1000, 5);
}

INSTANTIATE_TEST_SUITE_P(All, CodecRoundTrip,
                         ::testing::Values(SampleEncoding::kLinear16, SampleEncoding::kMuLaw,
                                           SampleEncoding::kALaw, SampleEncoding::kLinear8));

TEST(SampleCodec, KnownBytes) {
  std::vector<int16_t> s;
  SampleCodec l8(SampleEncoding::kLinear8);
  l8.Decode(std::string("\x80\x00\xff", 3), &s);
  EXPECT_THAT(s, ElementsAre(0, -32768, 32512));
  std::string out;
  const int16_t in[] = {0, -32768, 32767, 0x1234};
  l8.Encode(in, 3, &out);
  EXPECT_EQ(out, std::string("\x80\x00\xff", 3));
  out.clear();
  SampleCodec l16(SampleEncoding::kLinear16);
  l16.Encode(in + 3, 1, &out);
  EXPECT_EQ(out, "\x34\x12");  // little-endian
  SampleCodec u(SampleEncoding::kMuLaw);
  out.clear();
  u.Encode(in, 1, &out);
  EXPECT_EQ(static_cast<uint8_t>(out[0]), 0xff);  // mu-law silence
}

TEST(RateAdapter, PassthroughAt8000) {
  RateAdapter r(8000, 8000);
  EXPECT_TRUE(r.passthrough());
  const std::vector<int16_t> in = {1, 2, 3};
  std::vector<int16_t> out;
  r.Process(in.data(), in.size(), &out);
  EXPECT_EQ(out, in);
}

struct Rates {
  int from, to;
};
class RateAdapterTone : public ::testing::TestWithParam<Rates> {};

TEST_P(RateAdapterTone, KeepsFrequencyAndCount) {
  const Rates r = GetParam();
  const int n = r.from * 2;  // 2 s
  const std::vector<int16_t> tone = Sine(1000, 10000, r.from, n);
  RateAdapter a(r.from, r.to);
  std::vector<int16_t> out;
  for (int at = 0; at < n; at += 137) {
    a.Process(tone.data() + at, static_cast<size_t>(std::min(137, n - at)), &out);
  }
  EXPECT_NEAR(static_cast<double>(out.size()), r.to * 2.0, 2);
  EXPECT_NEAR(ZeroCrossingHz(out, r.to), 1000, 3);
  // Linear interpolation loses a little level between the samples (at most
  // ~0.6 dB for 1 kHz at these rates), never gains.
  const double rms = 10000 / std::sqrt(2.0);
  EXPECT_GT(Rms(out), rms * 0.92);
  EXPECT_LT(Rms(out), rms * 1.01);
}

INSTANTIATE_TEST_SUITE_P(ModemRates, RateAdapterTone,
                         ::testing::Values(Rates{7200, 8000}, Rates{8000, 7200},
                                           Rates{11025, 8000}, Rates{8000, 11025}));

}  // namespace
}  // namespace linebridge::modem::voice
