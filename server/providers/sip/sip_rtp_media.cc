#include "providers/sip/sip_rtp_media.h"

#include <spandsp.h>
#include <sys/socket.h>

#include <cstring>
#include <random>

namespace linebridge::sip {
namespace {
constexpr int kHeaderBytes = 12;
constexpr int kPcma = 8;

bool SameAddress(const sockaddr_in& a, const sockaddr_in& b) {
  return a.sin_addr.s_addr == b.sin_addr.s_addr && a.sin_port == b.sin_port;
}

uint32_t RandomWord() {
  std::random_device rd;
  return rd();
}

}  // namespace

RtpMedia::RtpMedia(int fd, RtpCounters* counters, JitterOptions options)
    : fd_(fd), counters_(counters), ssrc_(RandomWord()), jitter_(options) {
  absl::MutexLock lock(&mu_);
  seq_ = static_cast<uint16_t>(RandomWord());
  timestamp_ = RandomWord();
}

void RtpMedia::Attached(bool attached) {
  absl::MutexLock lock(&mu_);
  if (attached == attached_) return;
  attached_ = attached;
  // What arrived while nobody listened is not played late.
  jitter_.Flush();
  if (attached) marker_next_ = true;
}

void RtpMedia::CountJitter(const JitterStats& before) {
  const JitterStats& now = jitter_.stats();
  auto add = [](std::atomic<uint64_t>& c, uint64_t delta) {
    if (delta != 0) c.fetch_add(delta, std::memory_order_relaxed);
  };
  add(counters_->lost, now.lost - before.lost);
  add(counters_->late, now.late - before.late);
  add(counters_->underruns, now.underruns - before.underruns);
  add(counters_->jitter_drops,
      (now.duplicates - before.duplicates) + (now.overflow - before.overflow));
  add(counters_->wrong_ssrc, now.wrong_ssrc - before.wrong_ssrc);
  add(counters_->ssrc_changes, now.ssrc_changes - before.ssrc_changes);
  add(counters_->audio_received, now.accepted - before.accepted);
}

bool RtpMedia::Pull(DeviceFrame* frame) {
  absl::MutexLock lock(&mu_);
  if (closed_) return false;
  const JitterStats before = jitter_.stats();
  const JitterBuffer::PullResult r = jitter_.Pull(frame);
  CountJitter(before);
  return r != JitterBuffer::PullResult::kSilence;
}

bool RtpMedia::CanSendLocked() const { return !closed_ && has_remote_ && sending_; }

void RtpMedia::Push(const DeviceFrame& frame) {
  absl::MutexLock lock(&mu_);
  if (!CanSendLocked() || events_active_) return;
  unsigned char payload[kDeviceFrameSamples];
  if (payload_type_ == kPcma) {
    for (int i = 0; i < kDeviceFrameSamples; ++i) payload[i] = linear_to_alaw(frame[i]);
  } else {
    for (int i = 0; i < kDeviceFrameSamples; ++i) payload[i] = linear_to_ulaw(frame[i]);
  }
  SendLocked(payload_type_, marker_next_, timestamp_, payload, sizeof(payload));
  marker_next_ = false;
  timestamp_ += kDeviceFrameSamples;
  counters_->audio_sent.fetch_add(1, std::memory_order_relaxed);
}

void RtpMedia::SetRemote(const sockaddr_in* remote, int payload_type) {
  absl::MutexLock lock(&mu_);
  payload_type_ = payload_type;
  has_remote_ = remote != nullptr;
  // A new SDP address counts until the far end's packets show where it
  // really is; the same one again (a re-INVITE) keeps what they showed.
  if (remote != nullptr && !(latched_ && SameAddress(*remote, sdp_remote_))) {
    sdp_remote_ = *remote;
    remote_ = *remote;
    latched_ = false;
  }
}

void RtpMedia::SetSending(bool sending) {
  absl::MutexLock lock(&mu_);
  if (sending && !sending_) marker_next_ = true;
  sending_ = sending;
}

void RtpMedia::SetEventsActive(bool active) {
  absl::MutexLock lock(&mu_);
  if (!active && events_active_) marker_next_ = true;
  events_active_ = active;
}

bool RtpMedia::CanSend() {
  absl::MutexLock lock(&mu_);
  return CanSendLocked();
}

void RtpMedia::SendSilenceLocked() {
  unsigned char payload[kDeviceFrameSamples];
  // G.711 silence: 0xFF in mu-law, 0xD5 in A-law.
  std::memset(payload, payload_type_ == kPcma ? 0xD5 : 0xFF, sizeof(payload));
  SendLocked(payload_type_, marker_next_, timestamp_, payload, sizeof(payload));
  marker_next_ = false;
}

void RtpMedia::TickSilence() {
  absl::MutexLock lock(&mu_);
  if (!CanSendLocked() || attached_) return;
  SendSilenceLocked();
  timestamp_ += kDeviceFrameSamples;
}

void RtpMedia::SendSilence() {
  absl::MutexLock lock(&mu_);
  if (!CanSendLocked()) return;
  SendSilenceLocked();
}

void RtpMedia::SendAt(int payload_type, bool marker, uint32_t timestamp,
                      const unsigned char* payload, size_t size) {
  absl::MutexLock lock(&mu_);
  if (!CanSendLocked()) return;
  SendLocked(payload_type, marker, timestamp, payload, size);
}

uint32_t RtpMedia::timestamp() {
  absl::MutexLock lock(&mu_);
  return timestamp_;
}

void RtpMedia::AdvanceTimestamp() {
  absl::MutexLock lock(&mu_);
  timestamp_ += kDeviceFrameSamples;
}

void RtpMedia::SendLocked(int payload_type, bool marker, uint32_t timestamp,
                          const unsigned char* payload, size_t size) {
  unsigned char pkt[kHeaderBytes + kDeviceFrameSamples];
  if (size > kDeviceFrameSamples) return;
  pkt[0] = 0x80;
  pkt[1] = static_cast<unsigned char>((payload_type & 0x7f) | (marker ? 0x80 : 0));
  pkt[2] = static_cast<unsigned char>(seq_ >> 8);
  pkt[3] = static_cast<unsigned char>(seq_);
  for (int i = 0; i < 4; ++i) {
    pkt[4 + i] = static_cast<unsigned char>(timestamp >> (24 - 8 * i));
    pkt[8 + i] = static_cast<unsigned char>(ssrc_ >> (24 - 8 * i));
  }
  std::memcpy(pkt + kHeaderBytes, payload, size);
  ++seq_;
  if (::sendto(fd_, pkt, kHeaderBytes + size, MSG_DONTWAIT, reinterpret_cast<sockaddr*>(&remote_),
               sizeof(remote_)) > 0) {
    counters_->sent.fetch_add(1, std::memory_order_relaxed);
  }
}

void RtpMedia::Received(uint32_t ssrc, uint32_t timestamp, int payload_type,
                        const unsigned char* payload, size_t size, const sockaddr_in& from) {
  absl::MutexLock lock(&mu_);
  if (closed_) return;
  if (size != kDeviceFrameSamples) {
    counters_->malformed.fetch_add(1, std::memory_order_relaxed);
    return;
  }
  DeviceFrame frame;
  if (payload_type == kPcma) {
    for (int i = 0; i < kDeviceFrameSamples; ++i) frame[i] = alaw_to_linear(payload[i]);
  } else {
    for (int i = 0; i < kDeviceFrameSamples; ++i) frame[i] = ulaw_to_linear(payload[i]);
  }
  const JitterStats before = jitter_.stats();
  const JitterBuffer::PutResult r = jitter_.Put(ssrc, timestamp, frame);
  if (attached_) {
    CountJitter(before);
  } else {
    // Nobody listens: only the source is followed.
    const JitterStats& now = jitter_.stats();
    counters_->wrong_ssrc.fetch_add(now.wrong_ssrc - before.wrong_ssrc, std::memory_order_relaxed);
    counters_->ssrc_changes.fetch_add(now.ssrc_changes - before.ssrc_changes,
                                      std::memory_order_relaxed);
    jitter_.Flush();
  }
  if (r == JitterBuffer::PutResult::kWrongSsrc) return;
  if (has_remote_ && !SameAddress(from, remote_)) {
    remote_.sin_addr = from.sin_addr;
    remote_.sin_port = from.sin_port;
  }
  latched_ = true;
}

void RtpMedia::Close() {
  absl::MutexLock lock(&mu_);
  closed_ = true;
}

}  // namespace linebridge::sip
