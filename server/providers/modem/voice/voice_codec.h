// Sample conversion between a V.253 modem's voice format and the server's
// 16-bit linear samples, and rate adaptation when the modem does not run at
// 8000 samples/s.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "absl/strings/string_view.h"
#include "providers/modem/voice/voice_format.h"

namespace linebridge::modem::voice {

// Bytes <-> 16-bit samples in one encoding. Decoding keeps the odd byte of
// a 16-bit sample cut between two reads.
class SampleCodec {
 public:
  explicit SampleCodec(SampleEncoding encoding) : encoding_(encoding) {}
  SampleEncoding encoding() const { return encoding_; }
  // Appends the samples in `bytes` (unshielded) to `out`.
  void Decode(absl::string_view bytes, std::vector<int16_t>* out);
  // Appends the encoded `samples` to `out`.
  void Encode(const int16_t* samples, size_t n, std::string* out) const;

 private:
  const SampleEncoding encoding_;
  bool has_low_ = false;  // kLinear16: the low byte of a sample is waiting
  uint8_t low_ = 0;
};

// Streams samples from one rate to another by linear interpolation. The
// audio of a telephone line is band-limited to 3.4 kHz, so down-sampling
// from the rates modems offer (at most 11025/s) adds little aliasing.
class RateAdapter {
 public:
  RateAdapter(int from_rate, int to_rate);
  bool passthrough() const { return from_ == to_; }
  // Appends the converted `in` to `out`.
  void Process(const int16_t* in, size_t n, std::vector<int16_t>* out);

 private:
  const int from_;
  const int to_;
  double step_;    // input samples per output sample
  double t_ = 1;   // position of the next output between prev_ (0) and the next input (1)
  int16_t prev_ = 0;
};

}  // namespace linebridge::modem::voice
