// Listens for tones in a call's audio (lineMonitorTones): each tone is up to
// three frequencies and nothing else (or, with no frequency, silence) for at
// least a given time. Measured with spandsp's Goertzel filters over each
// 20 ms frame.
#pragma once

#include <cstdint>
#include <vector>

#include "media/audio_format.h"

struct goertzel_state_s;

namespace linebridge::media {

class ToneMonitor {
 public:
  struct Tone {
    uint32_t app_specific = 0;
    uint32_t duration_ms = 0;
    std::vector<uint32_t> frequencies_hz;  // empty: silence
  };
  explicit ToneMonitor(std::vector<Tone> tones);
  ~ToneMonitor();
  ToneMonitor(const ToneMonitor&) = delete;
  ToneMonitor& operator=(const ToneMonitor&) = delete;

  // Appends the app_specific of each tone that has now lasted its duration
  // (once per occurrence: it must stop before it is reported again).
  void Feed(const Frame& frame, std::vector<uint32_t>* detected);

 private:
  struct Watch {
    Tone tone;
    std::vector<goertzel_state_s*> filters;
    int present_ms = 0;  // how long the tone has been heard
    int missing = 0;     // consecutive frames without it
    bool reported = false;
  };
  std::vector<Watch> watches_;
};

}  // namespace linebridge::media
