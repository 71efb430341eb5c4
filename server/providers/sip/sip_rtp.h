// The RTP side of a SIP call until linebridged has a media interface: a UDP
// socket on the provider's bind address, G.711 silence sent every 20 ms to
// the far end's address (symmetric RTP: from the socket it receives on), and
// a count of the packets received. DTMF goes both ways as RFC 4733
// telephone-events in the same stream. Loop thread only.
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

namespace linebridge::sip {

struct RtpCounters {
  std::atomic<uint64_t> sent{0};
  std::atomic<uint64_t> received{0};
  std::atomic<uint64_t> digits_sent{0};      // telephone-events sent (one per digit)
  std::atomic<uint64_t> digits_received{0};  // telephone-events received (one per digit)
};

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
  // Starts (or retargets) the 20 ms silence stream: payload type 0 (PCMU) or 8
  // (PCMA). A port of 0 (a stream put on hold or refused) stops sending.
  void SetRemote(const std::string& address, uint16_t port, int payload_type);
  // Stops or resumes sending (the far end holds the call: it sends only, or
  // nothing).
  void SetSending(bool sending) { sending_ = sending; }

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
  void SendSilence();
  void SendPacket(int payload_type, bool marker, uint32_t timestamp, const unsigned char* payload,
                  size_t size);
  bool SendEventStep();  // false when no event or pause is due
  void OnPacket(const unsigned char* pkt, size_t n);

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
  sockaddr_in remote_{};
  bool has_remote_ = false;
  int payload_type_ = 0;
  uint16_t seq_ = 0;
  uint32_t timestamp_ = 0;
  uint32_t ssrc_ = 0;
  bool sending_ = true;
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
