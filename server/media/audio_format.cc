#include "media/audio_format.h"

#include <spandsp.h>

#include <algorithm>
#include <cmath>

#include "absl/strings/str_cat.h"
#include "linebridge/lineerr.h"

namespace linebridge::media {
namespace {

// Windowed-sinc (Blackman) low-pass, cut-off 0.23 of 16 kHz, unity DC gain.
std::array<float, 31> MakeLowPass() {
  constexpr int n = 31;
  constexpr double kPi = 3.14159265358979323846;
  constexpr double fc = 0.23;
  std::array<float, n> h{};
  double sum = 0;
  for (int i = 0; i < n; ++i) {
    const double m = i - (n - 1) / 2.0;
    const double sinc = m == 0 ? 2 * fc : std::sin(2 * kPi * fc * m) / (kPi * m);
    const double w = 0.42 - 0.5 * std::cos(2 * kPi * i / (n - 1)) + 0.08 * std::cos(4 * kPi * i / (n - 1));
    h[i] = static_cast<float>(sinc * w);
    sum += h[i];
  }
  for (float& c : h) c = static_cast<float>(c / sum);
  return h;
}

const std::array<float, 31>& LowPass() {
  static const std::array<float, 31> h = MakeLowPass();
  return h;
}

int16_t Clip(float v) {
  return static_cast<int16_t>(std::clamp(std::lround(v), -32768L, 32767L));
}

}  // namespace

absl::StatusOr<v1::AudioFormat> ResolveFormat(int format) {
  switch (format) {
    case v1::AUDIO_FORMAT_UNSPECIFIED:
      return v1::AUDIO_FORMAT_L16_8K;
    case v1::AUDIO_FORMAT_L16_8K:
    case v1::AUDIO_FORMAT_L16_16K:
    case v1::AUDIO_FORMAT_PCMU:
    case v1::AUDIO_FORMAT_PCMA:
      return static_cast<v1::AudioFormat>(format);
    default:
      return InvalidArgument(LINEERR_INVALPARAM,
                             absl::StrCat("unknown audio format ", format,
                                          " (L16_8K, L16_16K, PCMU or PCMA)"));
  }
}

uint32_t FrameBytes(v1::AudioFormat format) {
  switch (format) {
    case v1::AUDIO_FORMAT_L16_16K:
      return 4 * kFrameSamples;
    case v1::AUDIO_FORMAT_PCMU:
    case v1::AUDIO_FORMAT_PCMA:
      return kFrameSamples;
    default:
      return 2 * kFrameSamples;
  }
}

void MixInto(Frame& a, const Frame& b) {
  for (int i = 0; i < kFrameSamples; ++i) {
    a[i] = static_cast<int16_t>(std::clamp(a[i] + b[i], -32768, 32767));
  }
}

Codec::Codec(v1::AudioFormat format) : format_(format) {}

int16_t Codec::Filter(std::array<float, kTaps>& history, int& pos, float in) {
  history[pos] = in;
  const auto& h = LowPass();
  float acc = 0;
  int k = pos;
  for (int i = 0; i < kTaps; ++i) {
    acc += h[i] * history[k];
    k = k == 0 ? kTaps - 1 : k - 1;
  }
  pos = pos + 1 == kTaps ? 0 : pos + 1;
  return Clip(acc);
}

bool Codec::Decode(absl::string_view payload, Frame* out) {
  if (payload.size() != FrameBytes(format_)) return false;
  const auto* b = reinterpret_cast<const uint8_t*>(payload.data());
  switch (format_) {
    case v1::AUDIO_FORMAT_PCMU:
      for (int i = 0; i < kFrameSamples; ++i) (*out)[i] = ulaw_to_linear(b[i]);
      return true;
    case v1::AUDIO_FORMAT_PCMA:
      for (int i = 0; i < kFrameSamples; ++i) (*out)[i] = alaw_to_linear(b[i]);
      return true;
    case v1::AUDIO_FORMAT_L16_16K:
      // Low-pass at 16 kHz, keep every second sample.
      for (int i = 0; i < 2 * kFrameSamples; ++i) {
        const auto s = static_cast<int16_t>(b[2 * i] | (b[2 * i + 1] << 8));
        const int16_t y = Filter(history_, pos_, s);
        if (i % 2 == 1) (*out)[i / 2] = y;
      }
      return true;
    default:
      for (int i = 0; i < kFrameSamples; ++i) {
        (*out)[i] = static_cast<int16_t>(b[2 * i] | (b[2 * i + 1] << 8));
      }
      return true;
  }
}

void Codec::Encode(const Frame& frame, std::string* out) {
  out->resize(FrameBytes(format_));
  auto* b = reinterpret_cast<uint8_t*>(out->data());
  auto put16 = [b](int i, int16_t v) {
    b[2 * i] = static_cast<uint8_t>(v & 0xff);
    b[2 * i + 1] = static_cast<uint8_t>((static_cast<uint16_t>(v) >> 8) & 0xff);
  };
  switch (format_) {
    case v1::AUDIO_FORMAT_PCMU:
      for (int i = 0; i < kFrameSamples; ++i) b[i] = linear_to_ulaw(frame[i]);
      return;
    case v1::AUDIO_FORMAT_PCMA:
      for (int i = 0; i < kFrameSamples; ++i) b[i] = linear_to_alaw(frame[i]);
      return;
    case v1::AUDIO_FORMAT_L16_16K:
      // Zero-stuff to 16 kHz, low-pass (gain 2 for the stuffed zeros).
      for (int i = 0; i < 2 * kFrameSamples; ++i) {
        const float x = i % 2 == 0 ? 2.0f * frame[i / 2] : 0.0f;
        put16(i, Filter(history_, pos_, x));
      }
      return;
    default:
      for (int i = 0; i < kFrameSamples; ++i) put16(i, frame[i]);
      return;
  }
}

}  // namespace linebridge::media
