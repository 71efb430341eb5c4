// The RTP side of a SIP call: a UDP socket on the provider's bind address
// and the call's audio (RtpMedia: the jitter buffer and the send state the
// media hub shares). Every 20 ms the loop's timer sends G.711 silence while
// no media stream drives the call, or the next telephone-event packet: DTMF
// goes both ways as RFC 4733 events in the same stream. Received packets are
// checked (version, payload type, length) and counted; audio goes to
// RtpMedia. Loop thread only, except audio() which the provider hands to
// the media hub.
#pragma once

#include <netinet/in.h>
#include <sofia-sip/su_wait.h>

#include <atomic>
#include <cstdint>
#include <memory>
#include <deque>
#include <functional>
#include <string>

#include "absl/status/statusor.h"
#include "providers/sip/sip_rtp_media.h"

namespace linebridge::sip {

class RtpSession {
 public:
  // Binds a UDP socket on `address` (any free port).
  static absl::StatusOr<std::unique_ptr<RtpSession>> Open(su_root_t* root,
                                                          const std::string& address,
                                                          RtpCounters* counters);
  ~RtpSession();
  RtpSession(const RtpSession&) = delete;
  RtpSession& operator=(const RtpSession&) = delete;

  uint16_t port() const { return port_; }
  // The call's audio for the media hub.
  std::shared_ptr<RtpMedia> audio() const { return media_; }
  // Starts (or retargets) the 20 ms stream: payload type 0 (PCMU) or 8
  // (PCMA). A port of 0 (a stream put on hold or refused) stops sending.
  void SetRemote(const std::string& address, uint16_t port, int payload_type);
  // Stops or resumes sending (the far end holds the call: it sends only, or
  // nothing).
  void SetSending(bool sending) { media_->SetSending(sending); }

  // Telephone-events: the payload type the far end's SDP gave (-1: none, so
  // digits cannot be sent in RTP), and the one this side offered; events
  // arriving with either are received.
  void SetTelephoneEvent(int remote_payload_type, int local_payload_type) {
    te_send_ = remote_payload_type;
    te_recv_ = local_payload_type;
  }
  bool CanSendEvents() const { return te_send_ >= 0; }
  // Queues `digits` (0-9 * # A-D; ',' pauses one second), each an event of
  // `duration_ms` followed by as long a gap; `done` runs when the last has
  // been sent, or with true when they were dropped (Cancel or destruction).
  void SendDigits(const std::string& digits, int duration_ms, std::function<void(bool)> done);
  // Each received digit once (on the first packet with the end bit).
  void OnDigit(std::function<void(char)> fn) { on_digit_ = std::move(fn); }

 private:
  RtpSession(su_root_t* root, int fd, uint16_t port, RtpCounters* counters);
  static int OnReadable(void* magic, su_wait_t* wait, void* arg);
  static void OnTick(void* magic, su_timer_t* timer, void* arg);
  bool SendEventStep();  // false when no event or pause is due
  void OnPacket(const unsigned char* pkt, size_t n, const sockaddr_in& from);
  void OnEvent(const unsigned char* pkt, const unsigned char* ev);

  struct Step {
    int event = -1;        // -1: a pause (silence)
    uint32_t samples = 0;  // duration at 8 kHz
    std::function<void(bool)> done;  // on the last step of a SendDigits
  };

  su_root_t* root_;
  int fd_;
  uint16_t port_;
  RtpCounters* counters_;
  su_wait_t wait_[1];
  int wait_index_ = -1;
  su_timer_t* timer_ = nullptr;
  std::shared_ptr<RtpMedia> media_;
  bool has_remote_ = false;
  int te_send_ = -1;
  int te_recv_ = -1;
  std::deque<Step> steps_;
  bool step_started_ = false;
  uint32_t step_timestamp_ = 0;
  uint32_t step_elapsed_ = 0;
  std::function<void(char)> on_digit_;
  bool have_last_event_ = false;
  uint32_t last_event_timestamp_ = 0;
};

}  // namespace linebridge::sip
