#include "providers/modem/voice/voice_codec.h"

#include <spandsp.h>

#include <algorithm>
#include <cmath>

namespace linebridge::modem::voice {

void SampleCodec::Decode(absl::string_view bytes, std::vector<int16_t>* out) {
  switch (encoding_) {
    case SampleEncoding::kLinear16:
      out->reserve(out->size() + bytes.size() / 2 + 1);
      for (char c : bytes) {
        const auto b = static_cast<uint8_t>(c);
        if (!has_low_) {
          low_ = b;
          has_low_ = true;
        } else {
          out->push_back(static_cast<int16_t>(static_cast<uint16_t>(low_ | (b << 8))));
          has_low_ = false;
        }
      }
      return;
    case SampleEncoding::kMuLaw:
      for (char c : bytes) out->push_back(ulaw_to_linear(static_cast<uint8_t>(c)));
      return;
    case SampleEncoding::kALaw:
      for (char c : bytes) out->push_back(alaw_to_linear(static_cast<uint8_t>(c)));
      return;
    case SampleEncoding::kLinear8:
      for (char c : bytes) {
        out->push_back(static_cast<int16_t>((static_cast<int>(static_cast<uint8_t>(c)) - 128) * 256));
      }
      return;
  }
}

void SampleCodec::Encode(const int16_t* samples, size_t n, std::string* out) const {
  out->reserve(out->size() + n * static_cast<size_t>(BytesPerSample(encoding_)));
  for (size_t i = 0; i < n; ++i) {
    const int16_t s = samples[i];
    switch (encoding_) {
      case SampleEncoding::kLinear16: {
        const auto u = static_cast<uint16_t>(s);
        out->push_back(static_cast<char>(u & 0xff));
        out->push_back(static_cast<char>(u >> 8));
        break;
      }
      case SampleEncoding::kMuLaw:
        out->push_back(static_cast<char>(linear_to_ulaw(s)));
        break;
      case SampleEncoding::kALaw:
        out->push_back(static_cast<char>(linear_to_alaw(s)));
        break;
      case SampleEncoding::kLinear8: {
        const int v = std::clamp((static_cast<int>(s) + 32768 + 128) >> 8, 0, 255);
        out->push_back(static_cast<char>(v));
        break;
      }
    }
  }
}

RateAdapter::RateAdapter(int from_rate, int to_rate)
    : from_(from_rate), to_(to_rate), step_(static_cast<double>(from_rate) / to_rate) {}

void RateAdapter::Process(const int16_t* in, size_t n, std::vector<int16_t>* out) {
  if (passthrough()) {
    out->insert(out->end(), in, in + n);
    return;
  }
  for (size_t i = 0; i < n; ++i) {
    const double x = in[i];
    while (t_ <= 1.0) {
      out->push_back(static_cast<int16_t>(std::lround(prev_ + (x - prev_) * t_)));
      t_ += step_;
    }
    t_ -= 1.0;
    prev_ = in[i];
  }
}

}  // namespace linebridge::modem::voice
