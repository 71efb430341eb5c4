// The serial port layer on real ptys: termios settings, open errors, and the
// I/O thread (reads, buffered writes kept in order, hang-up, reopen).
#include "providers/modem/serial_port.h"

#include <fcntl.h>
#include <poll.h>
#include <pty.h>
#include <stdlib.h>
#include <sys/file.h>
#include <termios.h>
#include <unistd.h>

#include <functional>
#include <memory>
#include <string>

#include <gtest/gtest.h>

#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "linebridge/deadline.h"

namespace linebridge::modem {
namespace {

struct Pty {
  Pty() {
    char name[256] = {};
    EXPECT_EQ(::openpty(&master, &slave, name, nullptr, nullptr), 0);
    path = name;
  }
  ~Pty() {
    if (master >= 0) ::close(master);
    if (slave >= 0) ::close(slave);
  }
  // Reads from the master until `n` bytes arrived or 5 s passed.
  std::string ReadMaster(size_t n) {
    std::string out;
    const absl::Time deadline = MonotonicNow() + absl::Seconds(5);
    char buf[4096];
    while (out.size() < n && MonotonicNow() < deadline) {
      pollfd p{master, POLLIN, 0};
      if (::poll(&p, 1, 100) <= 0) continue;
      const ssize_t r = ::read(master, buf, sizeof buf);
      if (r > 0) out.append(buf, static_cast<size_t>(r));
    }
    return out;
  }
  int master = -1;
  int slave = -1;
  std::string path;
};

TEST(OpenSerial, RawEightNOneAtTheSpeedWithFlowControl) {
  Pty pty;
  absl::StatusOr<int> fd = OpenSerial({pty.path, 9600, true});
  ASSERT_TRUE(fd.ok()) << fd.status();
  termios tio;
  ASSERT_EQ(::tcgetattr(*fd, &tio), 0);
  EXPECT_EQ(tio.c_cflag & CSIZE, static_cast<tcflag_t>(CS8));
  EXPECT_EQ(tio.c_cflag & PARENB, 0u);
  EXPECT_EQ(tio.c_cflag & CSTOPB, 0u);
  EXPECT_NE(tio.c_cflag & CLOCAL, 0u);
  EXPECT_NE(tio.c_cflag & CREAD, 0u);
  EXPECT_EQ(tio.c_lflag & (ICANON | ECHO | ISIG), 0u);
  EXPECT_EQ(tio.c_iflag & (IXON | IXOFF | ICRNL), 0u);
  EXPECT_EQ(tio.c_oflag & OPOST, 0u);
  EXPECT_EQ(::cfgetospeed(&tio), static_cast<speed_t>(B9600));
  EXPECT_NE(tio.c_cflag & CRTSCTS, 0u);
  EXPECT_NE(::fcntl(*fd, F_GETFL) & O_NONBLOCK, 0);
  EXPECT_NE(::fcntl(*fd, F_GETFD) & FD_CLOEXEC, 0);
  ::close(*fd);
}

// One owner per device: a second open through another path (a symlink) is
// refused, and so is an open while another program holds the device's lock.
// Root is not exempt (TIOCEXCL alone does not stop root).
TEST(OpenSerial, OneOwnerPerDeviceWhateverThePath) {
  Pty pty;
  char tmpl[] = "/tmp/lb-serial-XXXXXX";
  ASSERT_NE(::mkdtemp(tmpl), nullptr);
  const std::string link = std::string(tmpl) + "/ttyLINK";
  ASSERT_EQ(::symlink(pty.path.c_str(), link.c_str()), 0);
  SerialSettings direct{pty.path};
  SerialSettings aliased{link};
  absl::StatusOr<int> first = OpenSerial(direct);
  ASSERT_TRUE(first.ok()) << first.status();
  absl::StatusOr<int> second = OpenSerial(aliased);
  EXPECT_EQ(second.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_NE(second.status().message().find("in use"), std::string::npos) << second.status();
  if (second.ok()) ::close(*second);
  ::close(*first);
  // Another program's lock (UUCP tools, another linebridged) keeps us off.
  const int other = ::open(pty.path.c_str(), O_RDWR | O_NOCTTY);
  ASSERT_GE(other, 0);
  ASSERT_EQ(::flock(other, LOCK_EX), 0);
  EXPECT_EQ(OpenSerial(aliased).status().code(), absl::StatusCode::kUnavailable);
  ::close(other);
  absl::StatusOr<int> again = OpenSerial(aliased);
  ASSERT_TRUE(again.ok()) << again.status();
  ::close(*again);
  ::unlink(link.c_str());
  ::rmdir(tmpl);
}

TEST(OpenSerial, Errors) {
  EXPECT_EQ(OpenSerial({"/nonexistent/ttyX", 115200, false}).status().code(),
            absl::StatusCode::kNotFound);
  EXPECT_EQ(OpenSerial({"/dev/null", 115200, false}).status().code(),
            absl::StatusCode::kFailedPrecondition);  // not a terminal
  Pty pty;
  EXPECT_EQ(OpenSerial({pty.path, 12345, false}).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(IsSupportedBaud(115200));
  EXPECT_FALSE(IsSupportedBaud(12345));
}

class Recorder {
 public:
  PortLoop::Callbacks Callbacks() {
    PortLoop::Callbacks cb;
    cb.opened = [this](uint64_t g) {
      absl::MutexLock lock(&mu_);
      opened_ = g;
    };
    cb.bytes = [this](uint64_t, std::string b) {
      absl::MutexLock lock(&mu_);
      bytes_ += b;
    };
    cb.gone = [this](uint64_t g, std::string) {
      absl::MutexLock lock(&mu_);
      gone_ = g;
    };
    return cb;
  }
  bool WaitFor(const std::function<bool()>& pred) {
    const absl::Time deadline = MonotonicNow() + absl::Seconds(5);
    while (MonotonicNow() < deadline) {
      {
        absl::MutexLock lock(&mu_);
        if (pred()) return true;
      }
      absl::SleepFor(absl::Milliseconds(2));
    }
    return false;
  }
  absl::Mutex mu_;
  uint64_t opened_ = 0;
  uint64_t gone_ = 0;
  std::string bytes_;
};

TEST(PortLoop, ReadsWritesInOrderDetectsHangupAndReopens) {
  char tmpl[] = "/tmp/lb-serial-XXXXXX";
  ASSERT_NE(::mkdtemp(tmpl), nullptr);
  const std::string link = std::string(tmpl) + "/tty";
  auto pty = std::make_unique<Pty>();
  ASSERT_EQ(::symlink(pty->path.c_str(), link.c_str()), 0);
  ::close(pty->slave);  // the loop opens it through the link
  pty->slave = -1;

  Recorder rec;
  PortLoop loop({link, 115200, false}, absl::Milliseconds(50), rec.Callbacks());
  EXPECT_FALSE(loop.Write("x").ok());  // not open yet
  loop.Start();
  ASSERT_TRUE(rec.WaitFor([&] { return rec.opened_ == 1; }));

  // Device -> callbacks.
  ASSERT_EQ(::write(pty->master, "OK\r\n", 4), 4);
  ASSERT_TRUE(rec.WaitFor([&] { return rec.bytes_ == "OK\r\n"; }));

  // Writes larger than the pty buffer: the device takes part, the rest is
  // buffered and drained in order as the master reads.
  std::string big;
  for (int i = 0; i < 20000; ++i) big += static_cast<char>('a' + i % 26);
  std::string expected;
  for (int i = 0; i < 8; ++i) {
    ASSERT_TRUE(loop.Write(big).ok());
    expected += big;
    ASSERT_TRUE(loop.Write("|").ok());
    expected += "|";
  }
  EXPECT_EQ(pty->ReadMaster(expected.size()), expected);

  // The device goes away: gone(1); it comes back under the same link: opened(2).
  ::unlink(link.c_str());
  pty.reset();
  ASSERT_TRUE(rec.WaitFor([&] { return rec.gone_ == 1; }));
  EXPECT_FALSE(loop.Write("x").ok());
  absl::SleepFor(absl::Milliseconds(150));  // a few failed opens
  pty = std::make_unique<Pty>();
  ASSERT_EQ(::symlink(pty->path.c_str(), link.c_str()), 0);
  ASSERT_TRUE(rec.WaitFor([&] { return rec.opened_ == 2; }));
  ASSERT_TRUE(loop.Write("AT\r").ok());
  EXPECT_EQ(pty->ReadMaster(3), "AT\r");

  // Idle: the thread sleeps in poll() without waking up.
  const uint64_t before = loop.stats().wakeups;
  absl::SleepFor(absl::Milliseconds(300));
  EXPECT_EQ(loop.stats().wakeups, before);
  loop.Stop();
  ::unlink(link.c_str());
  ::rmdir(tmpl);
}

}  // namespace
}  // namespace linebridge::modem
