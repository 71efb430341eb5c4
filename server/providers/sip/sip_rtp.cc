#include "providers/sip/sip_rtp.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <algorithm>

#include "absl/strings/str_cat.h"

namespace linebridge::sip {
namespace {
constexpr int kSamplesPerPacket = 160;  // 20 ms at 8 kHz
constexpr int kHeaderBytes = 12;
constexpr uint32_t kPauseSamples = 8000;  // ',' in a digit string: one second
constexpr int kEventVolume = 10;          // -10 dBm0

int EventOfDigit(char d) {
  if (d >= '0' && d <= '9') return d - '0';
  if (d == '*') return 10;
  if (d == '#') return 11;
  if (d >= 'A' && d <= 'D') return 12 + (d - 'A');
  return -1;
}

constexpr int kPcmu = 0;
constexpr int kPcma = 8;

uint32_t TimestampOf(const unsigned char* pkt) {
  return (uint32_t{pkt[4]} << 24) | (uint32_t{pkt[5]} << 16) | (uint32_t{pkt[6]} << 8) |
         uint32_t{pkt[7]};
}

char DigitOfEvent(int e) {
  static constexpr char kDigits[] = "0123456789*#ABCD";
  return e >= 0 && e < 16 ? kDigits[e] : '\0';
}

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
    : root_(root),
      fd_(fd),
      port_(port),
      counters_(counters),
      media_(std::make_shared<RtpMedia>(fd, counters)) {
  su_wait_create(wait_, fd_, SU_WAIT_IN);
  wait_index_ = su_root_register(root_, wait_, &RtpSession::OnReadable, this, su_pri_normal);
}

RtpSession::~RtpSession() {
  // The hub may hold the audio a little longer: it goes quiet first.
  media_->Close();
  if (timer_ != nullptr) su_timer_destroy(timer_);
  if (wait_index_ >= 0) su_root_deregister(root_, wait_index_);
  ::close(fd_);
}

void RtpSession::SetRemote(const std::string& address, uint16_t port, int payload_type) {
  sockaddr_in remote{};
  remote.sin_family = AF_INET;
  remote.sin_port = htons(port);
  has_remote_ = port != 0 && ::inet_pton(AF_INET, address.c_str(), &remote.sin_addr) == 1;
  media_->SetRemote(has_remote_ ? &remote : nullptr, payload_type);
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
      self->OnPacket(reinterpret_cast<const unsigned char*>(buf), static_cast<size_t>(n), from);
    } else {
      self->counters_->malformed.fetch_add(1, std::memory_order_relaxed);
    }
  }
  return 0;
}

void RtpSession::OnTick(void*, su_timer_t*, void* arg) {
  auto* self = static_cast<RtpSession*>(arg);
  if (!self->has_remote_ || !self->media_->CanSend()) return;
  if (self->SendEventStep()) return;
  self->media_->TickSilence();
}

void RtpSession::SendDigits(const std::string& digits, int duration_ms,
                            std::function<void(bool)> done) {
  const uint32_t samples = static_cast<uint32_t>(duration_ms) * 8;
  for (char d : digits) {
    if (d == ',') {
      steps_.push_back({-1, kPauseSamples, nullptr});
      continue;
    }
    const int event = EventOfDigit(d);
    if (event < 0) continue;
    steps_.push_back({event, samples, nullptr});
    steps_.push_back({-1, samples, nullptr});  // the gap after it
  }
  if (steps_.empty()) {
    if (done) done(false);
    return;
  }
  steps_.back().done = std::move(done);
}

// One 20 ms tick of the digit queue: an event packet, or silence during a
// pause. RFC 4733 section 2.5: every packet of an event carries the event's
// start timestamp and the duration so far; the first has the marker bit; the
// last (end bit set) goes three times.
bool RtpSession::SendEventStep() {
  if (steps_.empty()) return false;
  Step& step = steps_.front();
  if (!step_started_) {
    step_started_ = true;
    step_timestamp_ = media_->timestamp();
    step_elapsed_ = 0;
    media_->SetEventsActive(true);
  }
  step_elapsed_ += kSamplesPerPacket;
  const bool last = step_elapsed_ >= step.samples;
  if (step.event < 0) {
    media_->SendSilence();
  } else {
    const uint32_t duration = std::min<uint32_t>(step_elapsed_, 0xffff);
    const unsigned char payload[4] = {
        static_cast<unsigned char>(step.event),
        static_cast<unsigned char>((last ? 0x80 : 0) | kEventVolume),
        static_cast<unsigned char>(duration >> 8), static_cast<unsigned char>(duration)};
    for (int i = 0; i < (last ? 3 : 1); ++i) {
      media_->SendAt(te_send_, step_elapsed_ == kSamplesPerPacket && i == 0, step_timestamp_,
                     payload, sizeof(payload));
    }
    if (last) counters_->digits_sent.fetch_add(1, std::memory_order_relaxed);
  }
  media_->AdvanceTimestamp();
  if (last) {
    std::function<void(bool)> done = std::move(step.done);
    steps_.pop_front();
    step_started_ = false;
    if (steps_.empty()) media_->SetEventsActive(false);
    if (done) done(false);  // may destroy nothing here: the session outlives the call
  }
  return true;
}

void RtpSession::OnPacket(const unsigned char* pkt, size_t n, const sockaddr_in& from) {
  const int pt = pkt[1] & 0x7f;
  const bool event = pt == te_recv_ || pt == te_send_;
  if (!event && pt != kPcmu && pt != kPcma) {
    counters_->wrong_payload_type.fetch_add(1, std::memory_order_relaxed);
    return;
  }
  size_t offset = kHeaderBytes + 4u * (pkt[0] & 0x0f);  // CSRCs
  if ((pkt[0] & 0x10) != 0) {                           // header extension
    if (n < offset + 4) {
      counters_->malformed.fetch_add(1, std::memory_order_relaxed);
      return;
    }
    offset += 4 + 4u * ((pkt[offset + 2] << 8) | pkt[offset + 3]);
  }
  size_t end = n;
  if ((pkt[0] & 0x20) != 0 && n > 0) {  // padding: its count is the last byte
    const size_t padding = pkt[n - 1];
    end = padding <= n ? n - padding : 0;
  }
  if (end < offset + (event ? 4 : 1)) {
    counters_->malformed.fetch_add(1, std::memory_order_relaxed);
    return;
  }
  if (event) {
    OnEvent(pkt, pkt + offset);
    return;
  }
  const uint32_t ssrc = (uint32_t{pkt[8]} << 24) | (uint32_t{pkt[9]} << 16) |
                        (uint32_t{pkt[10]} << 8) | uint32_t{pkt[11]};
  media_->Received(ssrc, TimestampOf(pkt), pt, pkt + offset, end - offset, from);
}

void RtpSession::OnEvent(const unsigned char* pkt, const unsigned char* ev) {
  if ((ev[1] & 0x80) == 0) return;  // not the end yet
  const uint32_t timestamp = TimestampOf(pkt);
  // The end packet comes three times (and again after a loss): one digit per
  // event, i.e. per start timestamp.
  if (have_last_event_ && timestamp == last_event_timestamp_) return;
  have_last_event_ = true;
  last_event_timestamp_ = timestamp;
  const char digit = DigitOfEvent(ev[0]);
  if (digit == '\0') return;  // flash and other events
  counters_->digits_received.fetch_add(1, std::memory_order_relaxed);
  if (on_digit_) on_digit_(digit);
}

}  // namespace linebridge::sip
