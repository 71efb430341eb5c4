#include "media/media_monitor.h"

#include <spandsp.h>

#include <cmath>

namespace linebridge::media {
namespace {

constexpr size_t kWindowFrames = 50;   // one second
constexpr double kActiveDbm0 = -40;    // a frame with sound in it
constexpr double kSilentDbm0 = -50;    // a frame with nothing in it
constexpr size_t kMinActiveFrames = 30;
constexpr double kMinSpeechSpreadDb = 3;  // speech's level moves; a tone's does not
constexpr int kToneHoldMs = 3000;

double LevelDbm0(const Frame& frame) {
  double energy = 0;
  for (int16_t x : frame) energy += static_cast<double>(x) * x;
  const double mean = energy / kFrameSamples;
  if (mean <= 0) return -100;
  return 10 * std::log10(mean / (32767.0 * 32767.0 / 2)) + 3.14;
}

}  // namespace

MediaMonitor::MediaMonitor()
    : cng_(modem_connect_tones_rx_init(nullptr, MODEM_CONNECT_TONES_FAX_CNG, &OnTone, this)),
      ced_(modem_connect_tones_rx_init(nullptr, MODEM_CONNECT_TONES_FAX_CED_OR_PREAMBLE, &OnTone,
                                       this)),
      answer_(modem_connect_tones_rx_init(nullptr, MODEM_CONNECT_TONES_ANSAM_PR, &OnTone, this)),
      bell_(modem_connect_tones_rx_init(nullptr, MODEM_CONNECT_TONES_BELL_ANS, &OnTone, this)) {}

MediaMonitor::~MediaMonitor() {
  modem_connect_tones_rx_free(cng_);
  modem_connect_tones_rx_free(ced_);
  modem_connect_tones_rx_free(answer_);
  modem_connect_tones_rx_free(bell_);
}

void MediaMonitor::OnTone(void* user, int code, int /*level*/, int /*delay*/) {
  auto* self = static_cast<MediaMonitor*>(user);
  switch (code) {
    case MODEM_CONNECT_TONES_FAX_CNG:
    case MODEM_CONNECT_TONES_FAX_PREAMBLE:
      self->tone_mode_ = v1::MEDIA_MODE_G3FAX;
      break;
    case MODEM_CONNECT_TONES_ANS:  // plain 2100 Hz: CED, unless reversals follow
      if (self->ced_ms_ < 0) self->ced_ms_ = 0;
      break;
    case MODEM_CONNECT_TONES_ANS_PR:
    case MODEM_CONNECT_TONES_ANSAM:
    case MODEM_CONNECT_TONES_ANSAM_PR:
    case MODEM_CONNECT_TONES_BELL_ANS:
      self->tone_mode_ = v1::MEDIA_MODE_DATAMODEM;
      self->ced_ms_ = -1;
      break;
    default:
      break;
  }
}

std::optional<v1::MediaMode> MediaMonitor::Report(v1::MediaMode mode) {
  if (mode == last_) return std::nullopt;
  last_ = mode;
  return mode;
}

std::optional<v1::MediaMode> MediaMonitor::Feed(const Frame& frame) {
  tone_mode_.reset();
  modem_connect_tones_rx(cng_, frame.data(), kFrameSamples);
  modem_connect_tones_rx(ced_, frame.data(), kFrameSamples);
  modem_connect_tones_rx(answer_, frame.data(), kFrameSamples);
  modem_connect_tones_rx(bell_, frame.data(), kFrameSamples);
  if (ced_ms_ >= 0 && !tone_mode_) {
    ced_ms_ += kFrameMs;
    if (ced_ms_ >= kCedDecideMs) {
      ced_ms_ = -1;
      tone_mode_ = v1::MEDIA_MODE_G3FAX;
    }
  }
  const double level = LevelDbm0(frame);
  silent_ms_ = level < kSilentDbm0 ? silent_ms_ + kFrameMs : 0;
  levels_.push_back(level);
  if (levels_.size() > kWindowFrames) levels_.pop_front();
  if (tone_mode_) {
    tone_hold_ms_ = kToneHoldMs;
    return Report(*tone_mode_);
  }
  if (ced_ms_ >= 0) tone_hold_ms_ = kToneHoldMs;  // an answer tone is playing
  if (tone_hold_ms_ > 0) {
    tone_hold_ms_ -= kFrameMs;
    return std::nullopt;
  }
  if (silent_ms_ >= kUnknownAfterMs) return Report(v1::MEDIA_MODE_UNKNOWN);
  // Speech: sound in most of the last second, at a level that moves.
  size_t active = 0;
  double sum = 0, sum2 = 0;
  for (double l : levels_) {
    if (l < kActiveDbm0) continue;
    ++active;
    sum += l;
    sum2 += l * l;
  }
  if (active < kMinActiveFrames) return std::nullopt;
  const double mean = sum / active;
  const double spread = std::sqrt(std::max(0.0, sum2 / active - mean * mean));
  if (spread < kMinSpeechSpreadDb) return std::nullopt;
  return Report(v1::MEDIA_MODE_INTERACTIVE_VOICE);
}

}  // namespace linebridge::media
