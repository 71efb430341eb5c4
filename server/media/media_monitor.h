// Tells a call's media mode from its audio (lineMonitorMedia), with spandsp's
// modem connect tone detectors and a level meter:
//   - fax calling tone (CNG, 1100 Hz), fax answer tone (CED: 2100 Hz without
//     phase reversals) or V.21 fax preamble        -> G3FAX
//   - modem answer tone with phase reversals or amplitude modulation
//     (V.25 ANS/, V.8 ANSam, ANSam/) or Bell 2225 Hz -> DATAMODEM
//   - speech: sound with syllabic level changes for most of a second
//                                                   -> INTERACTIVE_VOICE
//   - nothing heard for kUnknownAfterMs              -> UNKNOWN
// A mode is reported when it differs from the last one reported.
#pragma once

#include <deque>
#include <optional>

#include "media/audio_format.h"
#include "linebridge/v1/types.pb.h"

struct modem_connect_tones_rx_state_s;

namespace linebridge::media {

class MediaMonitor {
 public:
  static constexpr int kUnknownAfterMs = 5000;
  static constexpr int kCedDecideMs = 1000;

  MediaMonitor();
  ~MediaMonitor();
  MediaMonitor(const MediaMonitor&) = delete;
  MediaMonitor& operator=(const MediaMonitor&) = delete;

  // The mode this frame made evident, if it is new.
  std::optional<v1::MediaMode> Feed(const Frame& frame);

 private:
  static void OnTone(void* self, int code, int level, int delay);
  std::optional<v1::MediaMode> Report(v1::MediaMode mode);

  modem_connect_tones_rx_state_s* cng_;
  modem_connect_tones_rx_state_s* ced_;
  modem_connect_tones_rx_state_s* answer_;
  modem_connect_tones_rx_state_s* bell_;
  std::optional<v1::MediaMode> tone_mode_;  // set by OnTone during a frame
  std::deque<double> levels_;               // dBm0 of the last second's frames
  int silent_ms_ = 0;
  int tone_hold_ms_ = 0;  // after a connect tone, speech is not looked for
  // A 2100 Hz answer tone heard, for how long: CED (fax) unless phase
  // reversals or AM (a data modem) show up within kCedDecideMs; -1: none.
  int ced_ms_ = -1;
  v1::MediaMode last_ = v1::MEDIA_MODE_UNSPECIFIED;
};

}  // namespace linebridge::media
