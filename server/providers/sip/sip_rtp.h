// The RTP side of a SIP call until linebridged has a media interface: a UDP
// socket on the provider's bind address, G.711 silence sent every 20 ms to
// the far end's address (symmetric RTP: from the socket it receives on), and
// a count of the packets received. Loop thread only.
#pragma once

#include <netinet/in.h>
#include <sofia-sip/su_wait.h>

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>

#include "absl/status/statusor.h"

namespace linebridge::sip {

struct RtpCounters {
  std::atomic<uint64_t> sent{0};
  std::atomic<uint64_t> received{0};
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

 private:
  RtpSession(su_root_t* root, int fd, uint16_t port, RtpCounters* counters);
  static int OnReadable(void* magic, su_wait_t* wait, void* arg);
  static void OnTick(void* magic, su_timer_t* timer, void* arg);
  void SendSilence();

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
};

}  // namespace linebridge::sip
