// Tones and DTMF, in and out of a call's audio, with spandsp's generators
// and detector (no hand-written DSP).
#pragma once

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "media/audio_format.h"
#include "linebridge/v1/media.pb.h"

struct tone_gen_state_s;
struct dtmf_tx_state_s;
struct dtmf_rx_state_s;

namespace linebridge::media {

inline constexpr size_t kMaxPlayDigits = 64;
inline constexpr uint32_t kMaxToneMs = 60000;

// Something generated into a call frame by frame until it ends.
class ToneSource {
 public:
  // Validates the request: INVALID_ARGUMENT + LINEERR_INVALPARAM naming the
  // field that is out of range.
  static absl::StatusOr<std::unique_ptr<ToneSource>> ForTone(const v1::GenerateTone& tone);
  static absl::StatusOr<std::unique_ptr<ToneSource>> ForDigits(const std::string& digits);
  ~ToneSource();
  ToneSource(const ToneSource&) = delete;
  ToneSource& operator=(const ToneSource&) = delete;

  // Writes the next 20 ms (silence after the end); false once it has ended.
  bool Next(Frame* out);

 private:
  ToneSource() = default;
  tone_gen_state_s* tone_ = nullptr;
  dtmf_tx_state_s* dtmf_ = nullptr;
  int64_t samples_left_ = -1;  // -1: until the generator itself ends
};

// Conceals missing client frames: a gap of a frame or two continues the
// audio that came before, fading, instead of cutting it with silence (which
// would split a DTMF digit in two).
class LossConcealer {
 public:
  LossConcealer();
  ~LossConcealer();
  LossConcealer(const LossConcealer&) = delete;
  LossConcealer& operator=(const LossConcealer&) = delete;

  // A frame that arrived.
  void Received(Frame* frame);
  // A frame in place of one that did not arrive.
  void Conceal(Frame* frame);

 private:
  struct State;
  std::unique_ptr<State> state_;
};

// Finds DTMF digits in audio.
class DtmfDetector {
 public:
  DtmfDetector();
  ~DtmfDetector();
  DtmfDetector(const DtmfDetector&) = delete;
  DtmfDetector& operator=(const DtmfDetector&) = delete;

  // Digits that ended or began in this frame are appended to `digits`.
  void Feed(const Frame& frame, std::string* digits);

 private:
  static void OnDigits(void* self, const char* digits, int len);
  dtmf_rx_state_s* rx_;
  std::string* out_ = nullptr;
};

}  // namespace linebridge::media
