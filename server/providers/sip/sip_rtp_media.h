// The audio of one SIP call's RTP stream as the media hub sees it
// (DeviceAudio): received G.711 packets decoded into a jitter buffer that
// the hub pulls 20 ms frames from, and the frames the hub pushes encoded
// and sent as RTP at once. It also owns the stream's send state (sequence,
// timestamp, SSRC, the far end's address), so that silence and
// telephone-events sent from the SIP loop's timer and audio sent from the
// hub's clock make one well-formed stream.
//
// Threading: the SIP loop thread (RtpSession) and the hub's clock thread
// both call in; one mutex guards everything. Nothing here blocks (the UDP
// socket is non-blocking) or calls out. The session closes it before its
// socket goes; a hub that still holds it afterwards gets silence and sends
// nothing.
#pragma once

#include <netinet/in.h>

#include <atomic>
#include <cstddef>
#include <cstdint>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "core/provider.h"
#include "providers/sip/rtp_jitter_buffer.h"

namespace linebridge::sip {

struct RtpCounters {
  std::atomic<uint64_t> sent{0};      // every packet: audio, silence and telephone-events
  std::atomic<uint64_t> received{0};  // RTP version 2 packets with a whole header
  std::atomic<uint64_t> audio_sent{0};      // packets of audio from the media hub
  std::atomic<uint64_t> audio_received{0};  // G.711 packets taken into a jitter buffer
  std::atomic<uint64_t> lost{0};       // frames concealed: their packet never came in time
  std::atomic<uint64_t> late{0};       // packets that came after their turn, dropped
  std::atomic<uint64_t> jitter_drops{0};  // duplicates, and frames dropped for room, drift or a clock jump
  std::atomic<uint64_t> underruns{0};  // 20 ms ticks with nothing from the far end once it had talked
  std::atomic<uint64_t> malformed{0};  // truncated, not RTP version 2, or not 20 ms of G.711
  std::atomic<uint64_t> wrong_payload_type{0};  // neither the audio nor the telephone-event type
  std::atomic<uint64_t> wrong_ssrc{0};  // from a source other than the stream's
  std::atomic<uint64_t> ssrc_changes{0};
  std::atomic<uint64_t> digits_sent{0};      // telephone-events sent (one per digit)
  std::atomic<uint64_t> digits_received{0};  // telephone-events received (one per digit)
};

class RtpMedia : public DeviceAudio {
 public:
  // `fd`: the session's UDP socket (not owned; valid until Close()).
  RtpMedia(int fd, RtpCounters* counters, JitterOptions options = {});

  // DeviceAudio (the hub's clock thread).
  void Attached(bool attached) override;
  bool Pull(DeviceFrame* frame) override;
  void Push(const DeviceFrame& frame) override;

  // The SIP loop thread.
  // The far end's address from its SDP (nullptr: none; nothing is sent) and
  // the negotiated audio payload type (0 PCMU, 8 PCMA).
  void SetRemote(const sockaddr_in* remote, int payload_type);
  // Stops or resumes sending (the far end holds the call).
  void SetSending(bool sending);
  // Telephone-events are being sent: they replace the hub's audio.
  void SetEventsActive(bool active);
  // Whether packets go out now (a far end, not held by it, not closed).
  bool CanSend();
  // The timer's 20 ms tick when no event is due: silence, unless the hub
  // sends the call's audio.
  void TickSilence();
  // 20 ms of silence at the current timestamp (a pause in a digit string).
  void SendSilence();
  // One packet at `timestamp` (telephone-events carry their start's).
  void SendAt(int payload_type, bool marker, uint32_t timestamp, const unsigned char* payload,
              size_t size);
  uint32_t timestamp();
  void AdvanceTimestamp();
  // A received packet's audio: `payload` of `size` bytes with the packet's
  // payload type (PCMU or PCMA), from `from`. Symmetric RTP: once the
  // stream's packets come from an address, this side sends there.
  void Received(uint32_t ssrc, uint32_t timestamp, int payload_type, const unsigned char* payload,
                size_t size, const sockaddr_in& from);
  // The socket goes: nothing is sent or received from now on.
  void Close();

 private:
  void SendLocked(int payload_type, bool marker, uint32_t timestamp, const unsigned char* payload,
                  size_t size) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  bool CanSendLocked() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void SendSilenceLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void CountJitter(const JitterStats& before) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  const int fd_;
  RtpCounters* const counters_;
  const uint32_t ssrc_;
  absl::Mutex mu_;
  bool closed_ ABSL_GUARDED_BY(mu_) = false;
  bool attached_ ABSL_GUARDED_BY(mu_) = false;
  bool has_remote_ ABSL_GUARDED_BY(mu_) = false;
  bool latched_ ABSL_GUARDED_BY(mu_) = false;  // remote_ is where the far end's packets come from
  sockaddr_in sdp_remote_ ABSL_GUARDED_BY(mu_){};  // from the far end's SDP
  sockaddr_in remote_ ABSL_GUARDED_BY(mu_){};      // where packets go
  int payload_type_ ABSL_GUARDED_BY(mu_) = 0;
  bool sending_ ABSL_GUARDED_BY(mu_) = true;
  bool events_active_ ABSL_GUARDED_BY(mu_) = false;
  bool marker_next_ ABSL_GUARDED_BY(mu_) = true;  // the next audio packet starts a talkspurt
  uint16_t seq_ ABSL_GUARDED_BY(mu_) = 0;
  uint32_t timestamp_ ABSL_GUARDED_BY(mu_) = 0;
  JitterBuffer jitter_ ABSL_GUARDED_BY(mu_);
};

}  // namespace linebridge::sip
