#include "providers/modem/voice_session.h"

#include <algorithm>

#include "providers/modem/voice/dle.h"

namespace linebridge::modem {

VoiceSession::VoiceSession(PortLoop* loop) : loop_(loop) {}

void VoiceSession::Open(const voice::VoiceFormat& format, bool duplex) {
  absl::MutexLock lock(&mu_);
  codecs_ = std::make_unique<Codecs>(format);
  duplex_ = duplex;
  max_backlog_ = static_cast<size_t>(format.rate / 10 * voice::BytesPerSample(format.encoding));
  heard_.clear();
  primed_ = false;
  open_ = true;
}

bool VoiceSession::open() {
  absl::MutexLock lock(&mu_);
  return open_;
}

void VoiceSession::Close() {
  absl::MutexLock lock(&mu_);
  open_ = false;
  heard_.clear();
  primed_ = false;
}

VoiceSession::Stats VoiceSession::stats() {
  absl::MutexLock lock(&mu_);
  return stats_;
}

void VoiceSession::OnModemAudio(absl::string_view bytes) {
  absl::MutexLock lock(&mu_);
  if (!open_) return;
  scratch_.clear();
  codecs_->decoder.Decode(bytes, &scratch_);  // always: keeps a cut 16-bit sample
  if (!attached_) return;            // nobody listens: stale audio is not kept
  adapted_.clear();
  codecs_->from_modem.Process(scratch_.data(), scratch_.size(), &adapted_);
  heard_.insert(heard_.end(), adapted_.begin(), adapted_.end());
  if (heard_.size() > kMaxSamples) {
    // The hub fell behind the modem's clock: keep the newest audio.
    const size_t drop = heard_.size() - kPrimeSamples;
    heard_.erase(heard_.begin(), heard_.begin() + static_cast<std::ptrdiff_t>(drop));
    stats_.trimmed += drop;
  }
}

void VoiceSession::OnDigit(char digit) {
  absl::MutexLock lock(&mu_);
  if (attached_) digits_.push_back(digit);
}

void VoiceSession::Attached(bool attached) {
  absl::MutexLock lock(&mu_);
  attached_ = attached;
  heard_.clear();
  digits_.clear();
  primed_ = false;
}

bool VoiceSession::Pull(DeviceFrame* frame) {
  absl::MutexLock lock(&mu_);
  if (!primed_ && heard_.size() >= kPrimeSamples) primed_ = true;
  if (!primed_ || heard_.size() < frame->size()) {
    primed_ = false;
    ++stats_.underruns;
    return false;
  }
  std::copy_n(heard_.begin(), frame->size(), frame->begin());
  heard_.erase(heard_.begin(), heard_.begin() + static_cast<std::ptrdiff_t>(frame->size()));
  ++stats_.frames_in;
  return true;
}

void VoiceSession::Push(const DeviceFrame& frame) {
  absl::MutexLock lock(&mu_);
  if (!open_ || !duplex_) return;
  if (loop_->backlog() > max_backlog_) {
    ++stats_.dropped_out;
    return;
  }
  adapted_.clear();
  codecs_->to_modem.Process(frame.data(), frame.size(), &adapted_);
  bytes_.clear();
  codecs_->encoder.Encode(adapted_.data(), adapted_.size(), &bytes_);
  shielded_.clear();
  voice::DleShield(bytes_, &shielded_);
  if (loop_->Write(shielded_).ok()) ++stats_.frames_out;
}

void VoiceSession::TakeDigits(std::string* digits) {
  absl::MutexLock lock(&mu_);
  digits->append(digits_);
  digits_.clear();
}

}  // namespace linebridge::modem
