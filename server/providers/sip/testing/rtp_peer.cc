#include "providers/sip/testing/rtp_peer.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <spandsp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <cmath>

namespace linebridge::sip::testing {
namespace {
constexpr uint32_t kSsrc = 0x5eed5eed;
constexpr int kSamples = 160;
constexpr double kPi = 3.14159265358979323846;

int BindAny(int* port) {
  const int fd = ::socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) return -1;
  sockaddr_in sa{};
  sa.sin_family = AF_INET;
  sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::bind(fd, reinterpret_cast<sockaddr*>(&sa), sizeof(sa)) != 0) {
    ::close(fd);
    return -1;
  }
  socklen_t len = sizeof(sa);
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&sa), &len);
  *port = ntohs(sa.sin_port);
  return fd;
}

}  // namespace

int64_t RtpPeer::NowUs() {
  return std::chrono::duration_cast<std::chrono::microseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

RtpPeer::RtpPeer(int payload_type) : payload_type_(payload_type) {
  sdp_fd_ = BindAny(&sdp_port_);
  send_fd_ = BindAny(&send_port_);
  if (ok()) thread_ = std::thread([this] { Run(); });
}

RtpPeer::~RtpPeer() {
  stop_.store(true);
  if (thread_.joinable()) thread_.join();
  if (sdp_fd_ >= 0) ::close(sdp_fd_);
  if (send_fd_ >= 0) ::close(send_fd_);
}

std::vector<int64_t> RtpPeer::MarkerTimesUs() {
  absl::MutexLock lock(&mu_);
  return marker_us_;
}

std::string RtpPeer::Packet(uint32_t ssrc, int payload_type, uint16_t seq, uint32_t timestamp,
                            bool marker, double hz, int64_t sample_at) {
  std::string p(12 + kSamples, '\0');
  p[0] = static_cast<char>(0x80);
  p[1] = static_cast<char>((payload_type & 0x7f) | (marker ? 0x80 : 0));
  p[2] = static_cast<char>(seq >> 8);
  p[3] = static_cast<char>(seq);
  for (int i = 0; i < 4; ++i) {
    p[4 + i] = static_cast<char>(timestamp >> (24 - 8 * i));
    p[8 + i] = static_cast<char>(ssrc >> (24 - 8 * i));
  }
  for (int i = 0; i < kSamples; ++i) {
    // hz < 0: a constant level of -hz.
    const auto s = hz < 0 ? static_cast<int16_t>(-hz)
                          : static_cast<int16_t>(std::lround(
                                8000 * std::sin(2 * kPi * hz * static_cast<double>(sample_at + i) / 8000)));
    p[12 + i] = static_cast<char>(payload_type_ == 8 ? linear_to_alaw(s) : linear_to_ulaw(s));
  }
  return p;
}

void RtpPeer::Send(const std::string& pkt) {
  sockaddr_in to{};
  {
    absl::MutexLock lock(&mu_);
    if (!has_line_) return;
    to.sin_family = AF_INET;
    to.sin_addr.s_addr = line_addr_;
    to.sin_port = line_port_;
  }
  if (::sendto(send_fd_, pkt.data(), pkt.size(), 0, reinterpret_cast<sockaddr*>(&to),
               sizeof(to)) > 0) {
    sent_.fetch_add(1);
  }
}

void RtpPeer::SendGarbageAfter(const std::string& pkt) {
  std::string foreign, wrong_pt, late;
  {
    absl::MutexLock lock(&mu_);
    foreign = Packet(kSsrc ^ 0xffff, payload_type_, static_cast<uint16_t>(seq_ + 1000),
                     timestamp_ + 800, false, 300, 0);
    wrong_pt = Packet(kSsrc, 18, seq_, timestamp_, false, 300, 0);
    if (history_.size() > 6) late = history_[history_.size() - 7];
  }
  Send(foreign);
  Send(wrong_pt);
  Send(pkt.substr(0, 8));
  std::string v1 = pkt;
  v1[0] = 0x40;  // version 1
  Send(v1);
  Send(pkt);
  if (!late.empty()) Send(late);
}

std::vector<RtpRecord> RtpPeer::Received() {
  absl::MutexLock lock(&mu_);
  return received_;
}

std::vector<int16_t> RtpPeer::AudioSince(int64_t after_us) {
  std::vector<int16_t> out;
  absl::MutexLock lock(&mu_);
  for (const RtpRecord& r : received_) {
    if (r.arrival_us >= after_us) out.insert(out.end(), r.samples.begin(), r.samples.end());
  }
  return out;
}

void RtpPeer::Drain(int fd, bool on_send_socket) {
  unsigned char buf[2048];
  for (;;) {
    sockaddr_in from{};
    socklen_t len = sizeof(from);
    const ssize_t n =
        ::recvfrom(fd, buf, sizeof(buf), 0, reinterpret_cast<sockaddr*>(&from), &len);
    if (n < 12) {
      if (n < 0) return;
      continue;
    }
    RtpRecord r;
    r.on_send_socket = on_send_socket;
    r.payload_type = buf[1] & 0x7f;
    r.marker = (buf[1] & 0x80) != 0;
    r.seq = static_cast<uint16_t>((buf[2] << 8) | buf[3]);
    r.timestamp = (uint32_t{buf[4]} << 24) | (uint32_t{buf[5]} << 16) | (uint32_t{buf[6]} << 8) |
                  uint32_t{buf[7]};
    r.ssrc = (uint32_t{buf[8]} << 24) | (uint32_t{buf[9]} << 16) | (uint32_t{buf[10]} << 8) |
             uint32_t{buf[11]};
    r.arrival_us = NowUs();
    if (r.payload_type == 0 || r.payload_type == 8) {
      for (ssize_t i = 12; i < n; ++i) {
        r.samples.push_back(r.payload_type == 8 ? alaw_to_linear(buf[i]) : ulaw_to_linear(buf[i]));
      }
    }
    absl::MutexLock lock(&mu_);
    if (!has_line_) {
      // The line's address: where its first packet came from.
      has_line_ = true;
      line_addr_ = from.sin_addr.s_addr;
      line_port_ = from.sin_port;
    }
    received_.push_back(std::move(r));
  }
}

void RtpPeer::Run() {
  using Clock = std::chrono::steady_clock;
  Clock::time_point next = Clock::now();
  while (!stop_.load()) {
    next += std::chrono::milliseconds(20);
    for (;;) {
      const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(next - Clock::now());
      pollfd p[2] = {{sdp_fd_, POLLIN, 0}, {send_fd_, POLLIN, 0}};
      ::poll(p, 2, left.count() > 0 ? static_cast<int>(left.count()) : 0);
      Drain(sdp_fd_, false);
      Drain(send_fd_, true);
      if (Clock::now() >= next) break;
    }
    double hz = tone_hz_.load();
    const int every = marker_every_.load();
    bool loud = false;
    if (every > 0) {
      loud = seq_count_++ % static_cast<uint64_t>(every) == static_cast<uint64_t>(every - 1);
      hz = loud ? -20000 : -100;
    }
    std::string pkt;
    {
      absl::MutexLock lock(&mu_);
      if (has_line_ && loud) marker_us_.push_back(NowUs());
      if (has_line_ && hz != 0) {
        pkt = Packet(kSsrc, payload_type_, seq_, timestamp_, !talking_, hz, sample_);
        ++seq_;
        history_.push_back(pkt);
        if (history_.size() > 8) history_.pop_front();
        talking_ = true;
      } else {
        talking_ = false;
      }
      // The clock runs on in silence too.
      timestamp_ += kSamples;
      sample_ += kSamples;
    }
    if (!pkt.empty()) {
      Send(pkt);
      if (garbage_ticks_.load() > 0) {
        garbage_ticks_.fetch_sub(1);
        SendGarbageAfter(pkt);
      }
    }
  }
}

}  // namespace linebridge::sip::testing
