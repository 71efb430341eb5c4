// Silence and voice in a call's audio: an energy detector with onset and
// hangover, on 20 ms frames.
//
// A frame is loud when its level (RMS, in dBm0: a full-scale sine is
// +3.17 dBm0) is at or above the threshold. Voice begins after `onset_ms` of
// consecutive loud frames (a click is not voice) and lasts until
// `hangover_ms` have passed without a loud frame (the gaps between words
// are not silence). Audio starts as silence.
#pragma once

#include <cstdint>

#include "media/audio_format.h"

namespace linebridge::media {

struct SilenceOptions {
  double threshold_dbm0 = -40;  // quieter frames are silent
  uint32_t onset_ms = 40;       // loud for this long: voice
  uint32_t hangover_ms = 200;   // voice lasts this long after the last loud frame
};

class SilenceDetector {
 public:
  explicit SilenceDetector(SilenceOptions options = {});

  // Takes the next frame; true while there is voice.
  bool Feed(const Frame& frame);

  bool voice() const { return voice_; }
  // How long the current state has lasted, in ms: voice from its first loud
  // frame, silence from the frame after the last loud one (the hangover
  // included), or from the start.
  uint64_t state_ms() const { return state_frames_ * kFrameMs; }
  // ms of silence so far: state_ms() when silent, else 0.
  uint64_t silence_ms() const { return voice_ ? 0 : state_ms(); }

  // The level of one frame in dBm0 (-100 for digital silence).
  static double LevelDbm0(const Frame& frame);

 private:
  const SilenceOptions options_;
  const uint32_t onset_frames_;
  const uint32_t hangover_frames_;
  bool voice_ = false;
  uint64_t state_frames_ = 0;
  uint32_t loud_run_ = 0;   // consecutive loud frames
  uint32_t quiet_run_ = 0;  // consecutive quiet frames
};

}  // namespace linebridge::media
