// The RTP side of a far end for the SIP media tests (sipp does the SIP):
// sipp 3.6 can echo RTP but cannot tell a test what audio it received, nor
// send malformed packets, a foreign SSRC or stop and resume on cue. This
// peer can: on 127.0.0.1 it listens on the port its SDP names and sends,
// every 20 ms, a G.711 tone (or nothing) from a second socket to wherever
// the line's packets come from, so symmetric RTP is visible: the line's
// packets should move to the sending socket once it has heard the peer.
// Everything received on either socket is recorded.
#pragma once

#include <atomic>
#include <cstdint>
#include <deque>
#include <string>
#include <thread>
#include <vector>

#include "absl/synchronization/mutex.h"

namespace linebridge::sip::testing {

struct RtpRecord {
  bool on_send_socket = false;  // arrived at the sending socket (symmetric RTP)
  int payload_type = 0;
  bool marker = false;
  uint16_t seq = 0;
  uint32_t timestamp = 0;
  uint32_t ssrc = 0;
  std::vector<int16_t> samples;  // decoded PCMU/PCMA payload (empty for others)
  int64_t arrival_us = 0;        // steady clock
};

class RtpPeer {
 public:
  // `payload_type`: 0 (PCMU) or 8 (PCMA), what it sends and decodes.
  explicit RtpPeer(int payload_type);
  ~RtpPeer();
  RtpPeer(const RtpPeer&) = delete;
  RtpPeer& operator=(const RtpPeer&) = delete;

  bool ok() const { return sdp_fd_ >= 0 && send_fd_ >= 0; }
  int sdp_port() const { return sdp_port_; }
  int send_port() const { return send_port_; }

  // What it sends every 20 ms once it has heard the line: a tone of `hz`
  // (amplitude 8000), or nothing (0). Sequence numbers start at 65500 and
  // timestamps just below 2^32, so both wrap within the first seconds.
  void SetTone(double hz) { tone_hz_.store(hz); }
  // Instead of a tone: near silence, and every `n`th packet a loud one
  // (every sample 20000) whose send time is kept (latency measurements).
  void SetMarkers(int n) { marker_every_.store(n); }
  std::vector<int64_t> MarkerTimesUs();
  // For the next `ticks` packets of the tone, each is followed by garbage:
  // a packet from a foreign SSRC, one of payload type 18 (G.729), a
  // truncated datagram (8 bytes), one that is not RTP version 2, the packet
  // again (a duplicate) and the packet of six ticks before (late).
  void SendGarbage(int ticks) { garbage_ticks_.store(ticks); }

  std::vector<RtpRecord> Received();
  // The samples of the packets received on `after` or later (arrival order).
  std::vector<int16_t> AudioSince(int64_t after_us);
  uint64_t sent() const { return sent_.load(); }
  static int64_t NowUs();

 private:
  void Run();
  std::string Packet(uint32_t ssrc, int payload_type, uint16_t seq, uint32_t timestamp,
                     bool marker, double hz, int64_t sample_at);
  void Send(const std::string& pkt);
  void SendGarbageAfter(const std::string& pkt) ABSL_LOCKS_EXCLUDED(mu_);
  void Drain(int fd, bool on_send_socket);

  const int payload_type_;
  int sdp_fd_ = -1;
  int send_fd_ = -1;
  int sdp_port_ = 0;
  int send_port_ = 0;
  std::atomic<double> tone_hz_{0};
  std::atomic<int> garbage_ticks_{0};
  std::atomic<int> marker_every_{0};
  std::atomic<bool> stop_{false};
  uint64_t seq_count_ = 0;  // the sending thread's
  std::atomic<uint64_t> sent_{0};
  absl::Mutex mu_;
  bool has_line_ ABSL_GUARDED_BY(mu_) = false;
  uint32_t line_addr_ ABSL_GUARDED_BY(mu_) = 0;  // network order
  uint16_t line_port_ ABSL_GUARDED_BY(mu_) = 0;  // network order
  uint16_t seq_ ABSL_GUARDED_BY(mu_) = 65500;
  uint32_t timestamp_ ABSL_GUARDED_BY(mu_) = 0xFFFFFFFFu - 40 * 160 + 1;
  int64_t sample_ ABSL_GUARDED_BY(mu_) = 0;
  bool talking_ ABSL_GUARDED_BY(mu_) = false;
  std::deque<std::string> history_ ABSL_GUARDED_BY(mu_);  // the last packets sent
  std::vector<RtpRecord> received_ ABSL_GUARDED_BY(mu_);
  std::vector<int64_t> marker_us_ ABSL_GUARDED_BY(mu_);
  std::thread thread_;
};

}  // namespace linebridge::sip::testing
