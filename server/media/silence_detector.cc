#include "media/silence_detector.h"

#include <algorithm>
#include <cmath>

namespace linebridge::media {
namespace {

// RMS of a full-scale 16-bit sine (32767 / sqrt 2) is +3.17 dBm0 (G.711).
constexpr double kFullScaleSineDbm0 = 3.17;
constexpr double kFullScaleSineRms = 32767.0 / 1.4142135623730951;

uint32_t Frames(uint32_t ms) { return std::max<uint32_t>(1, (ms + kFrameMs - 1) / kFrameMs); }

}  // namespace

SilenceDetector::SilenceDetector(SilenceOptions options)
    : options_(options),
      onset_frames_(Frames(options.onset_ms)),
      hangover_frames_(options.hangover_ms == 0 ? 0 : Frames(options.hangover_ms)) {}

double SilenceDetector::LevelDbm0(const Frame& frame) {
  double sum = 0;
  for (int16_t s : frame) sum += static_cast<double>(s) * s;
  const double rms = std::sqrt(sum / frame.size());
  if (rms < 1e-9) return -100;
  return std::max(-100.0, 20 * std::log10(rms / kFullScaleSineRms) + kFullScaleSineDbm0);
}

bool SilenceDetector::Feed(const Frame& frame) {
  const bool loud = LevelDbm0(frame) >= options_.threshold_dbm0;
  if (loud) {
    ++loud_run_;
    quiet_run_ = 0;
  } else {
    loud_run_ = 0;
    ++quiet_run_;
  }
  bool next = voice_;
  if (!voice_ && loud_run_ >= onset_frames_) next = true;
  if (voice_ && quiet_run_ > hangover_frames_) next = false;
  if (next != voice_) {
    voice_ = next;
    // The new state began with the run that decided it: voice with its
    // first loud frame, silence after the last one.
    state_frames_ = voice_ ? loud_run_ : quiet_run_;
  } else {
    ++state_frames_;
  }
  return voice_;
}

}  // namespace linebridge::media
