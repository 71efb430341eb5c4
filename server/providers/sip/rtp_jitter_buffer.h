// A fixed-depth jitter buffer for one received RTP audio stream (G.711,
// 20 ms packets, 8 kHz timestamps), decoded to 20 ms frames and pulled once
// per media tick.
//
// Frames are placed by RTP timestamp (sequence numbers may wrap; only the
// timestamp orders frames). Play-out starts once the buffer spans `depth`
// frames (60 ms by default) and then takes one frame per Pull:
//  - a frame missing while a later one is buffered is lost: concealed by the
//    last frame again, fading (3/4 per tick);
//  - nothing buffered at all is an underrun: concealed likewise for up to
//    `max_conceal` ticks, then silence and play-out stops; the next packet
//    starts a new talkspurt (prefilled to `depth` again);
//  - a packet behind the play-out point (already played or concealed) is
//    late and dropped, one for an occupied slot a duplicate;
//  - a packet more than `max_frames` ahead makes room by dropping the
//    oldest frames; more than `jump_frames` ahead or behind is a timestamp
//    jump (the sender restarted its clock): the buffer starts over there;
//  - when the buffer holds more than depth + 2 frames for a second (the
//    sender's clock runs fast), one frame is dropped.
// A packet from another SSRC is dropped unless `ssrc_switch` of them arrive
// in a row with none from the current one: then the buffer follows the new
// source and starts over.
//
// Not thread-safe: the owner serialises Put and Pull.
#pragma once

#include <cstdint>
#include <deque>
#include <optional>

#include "core/provider.h"

namespace linebridge::sip {

struct JitterOptions {
  int depth_frames = 3;   // play-out starts at 60 ms buffered
  int max_frames = 10;    // 200 ms held at most
  int jump_frames = 50;   // a timestamp 1 s off is a new clock
  int max_conceal = 3;    // frames concealed in an underrun before silence
  int ssrc_switch = 3;    // packets in a row from a new SSRC to follow it
};

struct JitterStats {
  uint64_t accepted = 0;
  uint64_t late = 0;
  uint64_t duplicates = 0;
  uint64_t wrong_ssrc = 0;
  uint64_t ssrc_changes = 0;
  uint64_t resyncs = 0;     // timestamp jumps
  uint64_t overflow = 0;    // buffered frames dropped for room or drift
  uint64_t lost = 0;        // pulls concealing a frame that never came
  uint64_t underruns = 0;   // pulls with nothing buffered after play-out began
  uint64_t played = 0;      // pulls that returned a received frame
};

class JitterBuffer {
 public:
  enum class PutResult { kAccepted, kLate, kDuplicate, kWrongSsrc };
  enum class PullResult { kFrame, kConcealed, kSilence };

  explicit JitterBuffer(JitterOptions options = {});

  PutResult Put(uint32_t ssrc, uint32_t timestamp, const DeviceFrame& frame);
  // The next 20 ms: a received frame, a concealed one, or silence (nothing
  // to play: `frame` is zeroed).
  PullResult Pull(DeviceFrame* frame);
  // Forgets everything buffered and the play-out position (the SSRC too).
  void Reset();
  // Forgets what is buffered and the play-out position, silently (nobody
  // was listening); keeps following the same SSRC.
  void Flush();

  const JitterStats& stats() const { return stats_; }
  // Frames from the play-out point to the newest buffered one.
  size_t span() const { return slots_.size(); }
  bool playing() const { return playing_; }

 private:
  // Starts over at `timestamp`: the buffered frames are dropped.
  void Restart(uint32_t timestamp);
  bool AnyBuffered() const;
  void Conceal(DeviceFrame* frame);

  const JitterOptions options_;
  JitterStats stats_;
  bool has_ssrc_ = false;
  uint32_t ssrc_ = 0;
  uint32_t candidate_ssrc_ = 0;
  int candidate_count_ = 0;
  bool has_position_ = false;
  bool fresh_ = true;     // nothing played since the position was set
  bool playing_ = false;
  uint32_t next_ts_ = 0;  // the timestamp of slots_.front()
  std::deque<std::optional<DeviceFrame>> slots_;
  int empty_run_ = 0;     // consecutive underrun pulls
  int over_run_ = 0;      // consecutive pulls with more than depth + 2 buffered
  DeviceFrame last_{};
  float conceal_gain_ = 1;
  int conceal_run_ = -1;  // frames concealed in a row; -1: nothing to conceal from
};

}  // namespace linebridge::sip
