#include "providers/modem/serial_port.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/file.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <termios.h>
#include <unistd.h>

#include <cstring>
#include <utility>

#include "absl/strings/str_cat.h"

namespace linebridge::modem {
namespace {

struct BaudEntry {
  uint32_t baud;
  speed_t speed;
};
constexpr BaudEntry kBauds[] = {
    {300, B300},         {1200, B1200},       {2400, B2400},       {4800, B4800},
    {9600, B9600},       {19200, B19200},     {38400, B38400},     {57600, B57600},
    {115200, B115200},   {230400, B230400},   {460800, B460800},   {500000, B500000},
    {576000, B576000},   {921600, B921600},   {1000000, B1000000}, {1152000, B1152000},
    {1500000, B1500000}, {2000000, B2000000}, {2500000, B2500000}, {3000000, B3000000},
    {3500000, B3500000}, {4000000, B4000000},
};

std::string Errno(absl::string_view what, const std::string& device, int err) {
  return absl::StrCat(what, " ", device, ": ", std::strerror(err));
}

}  // namespace

bool IsSupportedBaud(uint32_t baud) {
  for (const auto& b : kBauds) {
    if (b.baud == baud) return true;
  }
  return false;
}

absl::StatusOr<int> OpenSerial(const SerialSettings& s) {
  speed_t speed = 0;
  bool found = false;
  for (const auto& b : kBauds) {
    if (b.baud == s.baud) {
      speed = b.speed;
      found = true;
    }
  }
  if (!found) return absl::InvalidArgumentError(absl::StrCat("unsupported speed ", s.baud));
  const int fd = ::open(s.device.c_str(), O_RDWR | O_NOCTTY | O_NONBLOCK | O_CLOEXEC);
  if (fd < 0) {
    const int err = errno;
    const std::string msg = Errno("open", s.device, err);
    if (err == ENOENT || err == ENXIO || err == ENODEV) return absl::NotFoundError(msg);
    if (err == EACCES || err == EPERM) return absl::PermissionDeniedError(msg);
    if (err == EBUSY) return absl::UnavailableError(msg);
    return absl::UnavailableError(msg);
  }
  auto fail = [&](absl::string_view what) -> absl::StatusOr<int> {
    const int err = errno;
    ::close(fd);
    return absl::FailedPreconditionError(Errno(what, s.device, err));
  };
  if (!::isatty(fd)) return fail("not a terminal:");
  // One owner per device, whatever path names it and whoever asks: an
  // advisory lock on the device itself (root is not exempt, unlike TIOCEXCL).
  if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
    const int err = errno;
    ::close(fd);
    if (err == EWOULDBLOCK) {
      return absl::UnavailableError(absl::StrCat(
          s.device, " is in use: another port or program holds its lock (flock)"));
    }
    return absl::FailedPreconditionError(Errno("flock", s.device, err));
  }
  // Other openers get EBUSY while we hold the port (root excepted).
  (void)::ioctl(fd, TIOCEXCL);
  termios tio;
  if (::tcgetattr(fd, &tio) != 0) return fail("tcgetattr");
  ::cfmakeraw(&tio);
  tio.c_cflag &= ~static_cast<tcflag_t>(CSIZE | PARENB | CSTOPB | CRTSCTS);
  tio.c_cflag |= CS8 | CLOCAL | CREAD;
  if (s.rtscts) tio.c_cflag |= CRTSCTS;
  tio.c_iflag &= ~static_cast<tcflag_t>(IXON | IXOFF | IXANY);
  tio.c_cc[VMIN] = 1;
  tio.c_cc[VTIME] = 0;
  if (::cfsetispeed(&tio, speed) != 0 || ::cfsetospeed(&tio, speed) != 0) {
    return fail("cfsetspeed");
  }
  if (::tcsetattr(fd, TCSANOW, &tio) != 0) return fail("tcsetattr");
  (void)::tcflush(fd, TCIOFLUSH);
  return fd;
}

PortLoop::PortLoop(SerialSettings settings, absl::Duration retry_interval, Callbacks callbacks)
    : settings_(std::move(settings)),
      retry_interval_(retry_interval),
      callbacks_(std::move(callbacks)) {
  event_fd_ = ::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
}

PortLoop::~PortLoop() {
  Stop();
  if (thread_.joinable()) thread_.join();
  if (event_fd_ >= 0) ::close(event_fd_);
}

void PortLoop::Start() { thread_ = std::thread([this] { Run(); }); }

void PortLoop::Stop() {
  stop_.store(true);
  Wake();
}

void PortLoop::Wake() {
  const uint64_t one = 1;
  if (event_fd_ >= 0) (void)!::write(event_fd_, &one, sizeof(one));
}

absl::Status PortLoop::Write(absl::string_view bytes) {
  if (!open_.load()) {
    return absl::UnavailableError(absl::StrCat(settings_.device, " is not open"));
  }
  absl::MutexLock lock(&mu_);
  if (fd_ < 0) return absl::UnavailableError(absl::StrCat(settings_.device, " is not open"));
  const bool was_empty = out_.empty();
  out_.append(bytes.data(), bytes.size());
  if (!was_empty) return absl::OkStatus();  // the I/O thread is draining
  std::string error;
  (void)Drain(&error);  // a write error surfaces on the I/O thread
  if (!out_.empty() || !error.empty()) Wake();
  return absl::OkStatus();
}

size_t PortLoop::backlog() const {
  absl::MutexLock lock(&mu_);
  return out_.size();
}

bool PortLoop::Drain(std::string* error) {
  while (!out_.empty() && fd_ >= 0) {
    const ssize_t w = ::write(fd_, out_.data(), out_.size());
    if (w > 0) {
      out_.erase(0, static_cast<size_t>(w));
      continue;
    }
    if (w < 0 && errno == EINTR) continue;
    if (w < 0 && errno != EAGAIN && errno != EWOULDBLOCK) {
      *error = Errno("write", settings_.device, errno);
      return false;
    }
    break;  // the device takes no more now
  }
  return true;
}

PortLoop::Stats PortLoop::stats() const {
  Stats s;
  s.wakeups = wakeups_.load();
  s.opens = opens_.load();
  return s;
}

void PortLoop::Run() {
  uint64_t generation = 0;
  std::string last_failure;
  while (!stop_.load()) {
    absl::StatusOr<int> fd = OpenSerial(settings_);
    if (fd.ok()) {
      last_failure.clear();
      ++generation;
      opens_.fetch_add(1);
      {
        absl::MutexLock lock(&mu_);
        out_.clear();
        fd_ = *fd;
      }
      open_.store(true);
      if (callbacks_.opened) callbacks_.opened(generation);
      std::string why = Serve(*fd, generation);
      open_.store(false);
      {
        absl::MutexLock lock(&mu_);
        fd_ = -1;
        out_.clear();
      }
      ::close(*fd);
      if (stop_.load()) break;
      if (callbacks_.gone) callbacks_.gone(generation, std::move(why));
    } else {
      std::string why(fd.status().message());
      if (why != last_failure && callbacks_.open_failed) callbacks_.open_failed(why);
      last_failure = std::move(why);
    }
    // Wait before the next attempt; a Stop (or a stray write) wakes us early.
    pollfd p{event_fd_, POLLIN, 0};
    const int ms = static_cast<int>(absl::ToInt64Milliseconds(retry_interval_));
    (void)::poll(&p, 1, ms);
    wakeups_.fetch_add(1);
    uint64_t drained = 0;
    (void)!::read(event_fd_, &drained, sizeof(drained));
  }
}

std::string PortLoop::Serve(int fd, uint64_t generation) {
  char buf[4096];
  while (!stop_.load()) {
    bool want_out = false;
    {
      absl::MutexLock lock(&mu_);
      want_out = !out_.empty();
    }
    pollfd fds[2] = {{fd, static_cast<short>(POLLIN | (want_out ? POLLOUT : 0)), 0},
                     {event_fd_, POLLIN, 0}};
    const int n = ::poll(fds, 2, -1);
    wakeups_.fetch_add(1);
    if (n < 0) {
      if (errno == EINTR) continue;
      return Errno("poll", settings_.device, errno);
    }
    if (fds[1].revents & POLLIN) {
      uint64_t drained = 0;
      (void)!::read(event_fd_, &drained, sizeof(drained));
    }
    if (fds[0].revents & (POLLIN | POLLHUP | POLLERR)) {
      // Read all there is; EOF or an error means the device went away.
      for (;;) {
        const ssize_t r = ::read(fd, buf, sizeof(buf));
        if (r > 0) {
          if (callbacks_.bytes) callbacks_.bytes(generation, std::string(buf, r));
          continue;
        }
        if (r == 0) return absl::StrCat(settings_.device, ": end of file");
        if (errno == EINTR) continue;
        if (errno == EAGAIN || errno == EWOULDBLOCK) break;
        return Errno("read", settings_.device, errno);
      }
      if (fds[0].revents & (POLLHUP | POLLERR)) {
        return absl::StrCat(settings_.device, ": hung up");
      }
    }
    if (fds[0].revents & POLLNVAL) return absl::StrCat(settings_.device, ": invalid descriptor");
    absl::MutexLock lock(&mu_);
    std::string error;
    if (!Drain(&error)) return error;
  }
  return "stopped";
}

}  // namespace linebridge::modem
