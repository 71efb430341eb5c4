#include "media/tone_monitor.h"

#include <spandsp.h>

#include <cmath>

namespace linebridge::media {
namespace {

// A frame holds the tone when its level is at least this...
constexpr double kMinToneDbm0 = -36;
// ...the tone's frequencies carry this share of the frame's energy (the rest
// is other sound), and each frequency at least kMinShareEach of it.
constexpr double kMinShare = 0.6;
constexpr double kMinShareEach = 0.1;
// Silence: a frame below this level.
constexpr double kMaxSilenceDbm0 = -45;
// A tone that is missing for one frame (a frame boundary, a concealed frame)
// goes on; missing for two, it has stopped.
constexpr int kMaxMissingFrames = 1;

// dBm0 of a frame from its energy (sum of squared samples): a full-scale
// sine (amplitude 32767) is +3.14 dBm0.
double LevelDbm0(double energy) {
  const double mean = energy / kFrameSamples;
  if (mean <= 0) return -100;
  return 10 * std::log10(mean / (32767.0 * 32767.0 / 2)) + 3.14;
}

}  // namespace

ToneMonitor::ToneMonitor(std::vector<Tone> tones) {
  for (Tone& t : tones) {
    Watch w;
    w.tone = std::move(t);
    for (uint32_t hz : w.tone.frequencies_hz) {
      goertzel_descriptor_t d;
      make_goertzel_descriptor(&d, static_cast<float>(hz), kFrameSamples);
      w.filters.push_back(goertzel_init(nullptr, &d));
    }
    watches_.push_back(std::move(w));
  }
}

ToneMonitor::~ToneMonitor() {
  for (Watch& w : watches_) {
    for (goertzel_state_s* g : w.filters) goertzel_free(g);
  }
}

void ToneMonitor::Feed(const Frame& frame, std::vector<uint32_t>* detected) {
  double energy = 0;
  for (int16_t x : frame) energy += static_cast<double>(x) * x;
  const double level = LevelDbm0(energy);
  for (Watch& w : watches_) {
    bool present;
    if (w.filters.empty()) {
      present = level < kMaxSilenceDbm0;
    } else {
      present = level >= kMinToneDbm0;
      double share = 0;
      for (goertzel_state_s* g : w.filters) {
        goertzel_update(g, frame.data(), kFrameSamples);
        // A sine of energy E at the filter's frequency gives N * E.
        const double each = static_cast<double>(goertzel_result(g)) / kFrameSamples /
                            std::max(energy, 1.0);
        if (each < kMinShareEach) present = false;
        share += each;
      }
      if (share < kMinShare) present = false;
    }
    if (present) {
      w.missing = 0;
      w.present_ms += kFrameMs;
      if (!w.reported && w.present_ms >= static_cast<int>(w.tone.duration_ms)) {
        w.reported = true;
        detected->push_back(w.tone.app_specific);
      }
    } else if (++w.missing > kMaxMissingFrames) {
      w.present_ms = 0;
      w.reported = false;
    }
  }
}

}  // namespace linebridge::media
