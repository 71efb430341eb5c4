// The media plane's audio: 20 ms frames of 16-bit linear PCM at 8 kHz inside
// the server, and the wire formats of linebridge.v1.Media (L16 at 8 or
// 16 kHz, G.711 mu-law and A-law) at the edge.
#pragma once

#include <array>
#include <cstdint>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "linebridge/v1/media.pb.h"

namespace linebridge::media {

inline constexpr int kSampleRate = 8000;
inline constexpr int kFrameMs = 20;
inline constexpr int kFrameSamples = kSampleRate * kFrameMs / 1000;  // 160

using Frame = std::array<int16_t, kFrameSamples>;

// The format a client asked for: UNSPECIFIED means L16 8 kHz; a value this
// server does not know is INVALID_ARGUMENT + LINEERR_INVALPARAM.
absl::StatusOr<v1::AudioFormat> ResolveFormat(int format);
// Payload bytes of one 20 ms frame.
uint32_t FrameBytes(v1::AudioFormat format);

// Adds `b` into `a`, saturating.
void MixInto(Frame& a, const Frame& b);

// Converts frames between the wire format and the internal one. Stateful for
// L16 16 kHz (the resampling filters keep their history): one per direction
// and stream.
class Codec {
 public:
  explicit Codec(v1::AudioFormat format);
  v1::AudioFormat format() const { return format_; }
  // False when `payload` is not exactly one frame.
  bool Decode(absl::string_view payload, Frame* out);
  void Encode(const Frame& frame, std::string* out);

 private:
  // A half-band low-pass FIR at 16 kHz (cut-off ~3.7 kHz).
  static constexpr int kTaps = 31;
  int16_t Filter(std::array<float, kTaps>& history, int& pos, float in);

  const v1::AudioFormat format_;
  std::array<float, kTaps> history_{};
  int pos_ = 0;
};

}  // namespace linebridge::media
