#include "providers/sip/rtp_jitter_buffer.h"

namespace linebridge::sip {
namespace {
constexpr int64_t kStep = kDeviceFrameSamples;  // timestamp units per frame
constexpr int kDriftTicks = 50;                  // a second over depth + 2
constexpr float kFade = 0.75f;
}  // namespace

JitterBuffer::JitterBuffer(JitterOptions options) : options_(options) {}

void JitterBuffer::Reset() {
  Restart(0);
  has_position_ = false;
  has_ssrc_ = false;
  candidate_count_ = 0;
  conceal_run_ = -1;
}

void JitterBuffer::Flush() {
  slots_.clear();
  has_position_ = false;
  playing_ = false;
  fresh_ = true;
  empty_run_ = 0;
  over_run_ = 0;
  conceal_run_ = -1;
}

void JitterBuffer::Restart(uint32_t timestamp) {
  for (const auto& slot : slots_) {
    if (slot) ++stats_.overflow;
  }
  slots_.clear();
  next_ts_ = timestamp;
  has_position_ = true;
  playing_ = false;
  fresh_ = true;
  empty_run_ = 0;
  over_run_ = 0;
}

bool JitterBuffer::AnyBuffered() const {
  for (const auto& slot : slots_) {
    if (slot) return true;
  }
  return false;
}

JitterBuffer::PutResult JitterBuffer::Put(uint32_t ssrc, uint32_t timestamp,
                                          const DeviceFrame& frame) {
  if (!has_ssrc_) {
    has_ssrc_ = true;
    ssrc_ = ssrc;
  } else if (ssrc != ssrc_) {
    if (candidate_count_ > 0 && ssrc == candidate_ssrc_) {
      ++candidate_count_;
    } else {
      candidate_ssrc_ = ssrc;
      candidate_count_ = 1;
    }
    if (candidate_count_ < options_.ssrc_switch) {
      ++stats_.wrong_ssrc;
      return PutResult::kWrongSsrc;
    }
    ++stats_.ssrc_changes;
    ssrc_ = ssrc;
    candidate_count_ = 0;
    Restart(timestamp);
  } else {
    candidate_count_ = 0;
  }
  if (!has_position_) Restart(timestamp);

  int64_t d = static_cast<int32_t>(timestamp - next_ts_);
  const int64_t jump = int64_t{options_.jump_frames} * kStep;
  if (d <= -jump || d >= jump) {
    ++stats_.resyncs;
    Restart(timestamp);
    d = 0;
  } else if (d < 0) {
    // Behind the play-out point: before play-out began, a packet that
    // overtook this one set the point; the buffer reaches back for it.
    const int64_t back = -d / kStep;
    if (fresh_ && !playing_ && -d % kStep == 0 &&
        slots_.size() + static_cast<size_t>(back) <= static_cast<size_t>(options_.max_frames)) {
      slots_.insert(slots_.begin(), static_cast<size_t>(back), std::nullopt);
      next_ts_ = timestamp;
      d = 0;
    } else {
      ++stats_.late;
      return PutResult::kLate;
    }
  } else if (d % kStep != 0) {
    // Not on this stream's 20 ms grid: the sender's clock moved.
    ++stats_.resyncs;
    Restart(timestamp);
    d = 0;
  } else if (!playing_ && !AnyBuffered()) {
    // A new talkspurt after silence: play-out starts from here.
    slots_.clear();
    next_ts_ = timestamp;
    d = 0;
  }

  size_t index = static_cast<size_t>(d / kStep);
  while (index >= static_cast<size_t>(options_.max_frames)) {
    // Room for it: the oldest frames go.
    if (!slots_.empty()) {
      if (slots_.front()) ++stats_.overflow;
      slots_.pop_front();
    }
    next_ts_ += kStep;
    fresh_ = false;
    --index;
  }
  if (slots_.size() <= index) slots_.resize(index + 1);
  if (slots_[index]) {
    ++stats_.duplicates;
    return PutResult::kDuplicate;
  }
  slots_[index] = frame;
  ++stats_.accepted;
  return PutResult::kAccepted;
}

void JitterBuffer::Conceal(DeviceFrame* frame) {
  conceal_gain_ *= kFade;
  for (int i = 0; i < kDeviceFrameSamples; ++i) {
    (*frame)[i] = static_cast<int16_t>(static_cast<float>(last_[i]) * conceal_gain_);
  }
}

JitterBuffer::PullResult JitterBuffer::Pull(DeviceFrame* frame) {
  if (!playing_) {
    // Silence before a talkspurt: gaps ahead of its first frame are not loss.
    while (!slots_.empty() && !slots_.front()) {
      slots_.pop_front();
      next_ts_ += kStep;
    }
    if (slots_.size() < static_cast<size_t>(options_.depth_frames)) {
      if (slots_.empty() && stats_.played > 0) ++stats_.underruns;
      frame->fill(0);
      return PullResult::kSilence;
    }
    playing_ = true;
    empty_run_ = 0;
  }
  std::optional<DeviceFrame> front;
  if (!slots_.empty()) {
    front = slots_.front();
    slots_.pop_front();
  }
  next_ts_ += kStep;
  fresh_ = false;
  if (front) {
    *frame = *front;
    last_ = *front;
    conceal_gain_ = 1;
    conceal_run_ = 0;
    empty_run_ = 0;
    ++stats_.played;
    // The sender's clock runs faster than ours: trim back towards depth.
    if (slots_.size() > static_cast<size_t>(options_.depth_frames + 2)) {
      if (++over_run_ >= kDriftTicks) {
        if (slots_.front()) ++stats_.overflow;
        slots_.pop_front();
        next_ts_ += kStep;
        over_run_ = 0;
      }
    } else {
      over_run_ = 0;
    }
    return PullResult::kFrame;
  }
  if (AnyBuffered()) {
    ++stats_.lost;
  } else {
    ++stats_.underruns;
    if (++empty_run_ >= options_.max_conceal) playing_ = false;
  }
  // Concealment fades out; after max_conceal missing frames in a row it is
  // silence.
  if (conceal_run_ >= 0 && conceal_run_ < options_.max_conceal) {
    ++conceal_run_;
    Conceal(frame);
    return PullResult::kConcealed;
  }
  conceal_run_ = -1;
  frame->fill(0);
  return PullResult::kSilence;
}

}  // namespace linebridge::sip
