#include "providers/sip/sip_rtp.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <random>

#include "absl/strings/str_cat.h"

namespace linebridge::sip {
namespace {
constexpr int kSamplesPerPacket = 160;  // 20 ms at 8 kHz
constexpr int kHeaderBytes = 12;
}  // namespace

absl::StatusOr<std::unique_ptr<RtpSession>> RtpSession::Open(su_root_t* root,
                                                             const std::string& address,
                                                             RtpCounters* counters) {
  const int fd = ::socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) return absl::InternalError(absl::StrCat("rtp socket: ", std::strerror(errno)));
  sockaddr_in sa{};
  sa.sin_family = AF_INET;
  sa.sin_port = 0;
  if (::inet_pton(AF_INET, address.c_str(), &sa.sin_addr) != 1 ||
      ::bind(fd, reinterpret_cast<sockaddr*>(&sa), sizeof(sa)) != 0) {
    const int err = errno;
    ::close(fd);
    return absl::UnavailableError(
        absl::StrCat("rtp bind on ", address, ": ", std::strerror(err)));
  }
  socklen_t len = sizeof(sa);
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&sa), &len);
  return std::unique_ptr<RtpSession>(new RtpSession(root, fd, ntohs(sa.sin_port), counters));
}

RtpSession::RtpSession(su_root_t* root, int fd, uint16_t port, RtpCounters* counters)
    : root_(root), fd_(fd), port_(port), counters_(counters) {
  std::random_device rd;
  ssrc_ = rd();
  seq_ = static_cast<uint16_t>(rd());
  timestamp_ = rd();
  su_wait_create(wait_, fd_, SU_WAIT_IN);
  wait_index_ = su_root_register(root_, wait_, &RtpSession::OnReadable, this, su_pri_normal);
}

RtpSession::~RtpSession() {
  if (timer_ != nullptr) su_timer_destroy(timer_);
  if (wait_index_ >= 0) su_root_deregister(root_, wait_index_);
  ::close(fd_);
}

void RtpSession::SetRemote(const std::string& address, uint16_t port, int payload_type) {
  payload_type_ = payload_type;
  has_remote_ = port != 0 && ::inet_pton(AF_INET, address.c_str(), &remote_.sin_addr) == 1;
  remote_.sin_family = AF_INET;
  remote_.sin_port = htons(port);
  if (has_remote_ && timer_ == nullptr) {
    timer_ = su_timer_create(su_root_task(root_), 20);
    su_timer_set_for_ever(timer_, &RtpSession::OnTick, this);
  } else if (!has_remote_ && timer_ != nullptr) {
    su_timer_destroy(timer_);
    timer_ = nullptr;
  }
}

int RtpSession::OnReadable(void*, su_wait_t*, void* arg) {
  auto* self = static_cast<RtpSession*>(arg);
  char buf[2048];
  for (;;) {
    sockaddr_in from{};
    socklen_t len = sizeof(from);
    const ssize_t n = ::recvfrom(self->fd_, buf, sizeof(buf), 0,
                                 reinterpret_cast<sockaddr*>(&from), &len);
    if (n < 0) break;
    // An RTP version 2 packet with at least a header.
    if (n >= kHeaderBytes && (static_cast<unsigned char>(buf[0]) >> 6) == 2) {
      self->counters_->received.fetch_add(1, std::memory_order_relaxed);
    }
  }
  return 0;
}

void RtpSession::OnTick(void*, su_timer_t*, void* arg) { static_cast<RtpSession*>(arg)->SendSilence(); }

void RtpSession::SendSilence() {
  if (!has_remote_) return;
  unsigned char pkt[kHeaderBytes + kSamplesPerPacket];
  pkt[0] = 0x80;
  pkt[1] = static_cast<unsigned char>(payload_type_ & 0x7f);
  pkt[2] = static_cast<unsigned char>(seq_ >> 8);
  pkt[3] = static_cast<unsigned char>(seq_);
  for (int i = 0; i < 4; ++i) {
    pkt[4 + i] = static_cast<unsigned char>(timestamp_ >> (24 - 8 * i));
    pkt[8 + i] = static_cast<unsigned char>(ssrc_ >> (24 - 8 * i));
  }
  // G.711 silence: 0xFF in mu-law, 0xD5 in A-law.
  std::memset(pkt + kHeaderBytes, payload_type_ == 8 ? 0xD5 : 0xFF, kSamplesPerPacket);
  if (::sendto(fd_, pkt, sizeof(pkt), 0, reinterpret_cast<sockaddr*>(&remote_), sizeof(remote_)) >
      0) {
    counters_->sent.fetch_add(1, std::memory_order_relaxed);
  }
  ++seq_;
  timestamp_ += kSamplesPerPacket;
}

}  // namespace linebridge::sip
