// The serial side of the modem provider: opening a tty the way a modem needs
// it (raw, 8N1, a given speed, optional RTS/CTS, non-blocking) and one I/O
// thread per port that reads, drains buffered writes, notices the device
// going away and reopens it.
//
// The I/O thread blocks in poll() on the device and an eventfd (woken for
// writes and for stopping). It never takes the engine lock itself: it hands
// what happens to callbacks, which the provider turns into Engine::RunLocked
// closures. While the device is missing it sleeps in poll() for the retry
// interval between open attempts; while it is open and idle it has no timeout
// at all, so idle ports cost no CPU.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <string>
#include <thread>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"

namespace linebridge::modem {

struct SerialSettings {
  std::string device;
  uint32_t baud = 115200;
  bool rtscts = false;
};

// Whether `baud` is a speed termios can set (300 ... 4000000).
bool IsSupportedBaud(uint32_t baud);

// Opens `settings.device` O_RDWR|O_NOCTTY|O_NONBLOCK|O_CLOEXEC, takes an
// advisory lock on the device (flock: Unavailable "in use" while another
// port, process or root holds it), claims it exclusively (TIOCEXCL), and sets raw mode, 8N1, CLOCAL|CREAD, the speed and
// CRTSCTS as asked. Returns the fd; errors name the device and errno.
absl::StatusOr<int> OpenSerial(const SerialSettings& settings);

class PortLoop {
 public:
  // All run on the I/O thread. `generation` counts opens (1 for the first);
  // events of an earlier generation are stale for the receiver.
  struct Callbacks {
    std::function<void(uint64_t generation)> opened;
    std::function<void(uint64_t generation, std::string bytes)> bytes;
    std::function<void(uint64_t generation, std::string why)> gone;
    // An open attempt failed (called when the reason changes, not every try).
    std::function<void(std::string why)> open_failed;
  };

  PortLoop(SerialSettings settings, absl::Duration retry_interval, Callbacks callbacks);
  ~PortLoop();  // Stop() and join
  PortLoop(const PortLoop&) = delete;
  PortLoop& operator=(const PortLoop&) = delete;

  void Start();
  // Asks the thread to end (does not wait); safe from any thread.
  void Stop();
  // Sends bytes to the device without blocking: written at once when nothing
  // is waiting (a non-blocking write), the rest buffered and drained by the
  // I/O thread. Unavailable while the device is not open.
  absl::Status Write(absl::string_view bytes);
  // Bytes written but not yet taken by the device (0 while closed).
  size_t backlog() const;
  bool is_open() const { return open_.load(); }
  const SerialSettings& settings() const { return settings_; }

  struct Stats {
    uint64_t wakeups = 0;  // poll() returns
    uint64_t opens = 0;
  };
  Stats stats() const;

 private:
  void Run();
  void Wake();
  // Serves an open fd until it goes away or Stop; returns the reason.
  std::string Serve(int fd, uint64_t generation);
  // Writes out_ to fd_ as far as the device takes it; false on a write error
  // (`error` set).
  bool Drain(std::string* error) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  const SerialSettings settings_;
  const absl::Duration retry_interval_;
  const Callbacks callbacks_;
  int event_fd_ = -1;
  std::thread thread_;
  std::atomic<bool> stop_{false};
  std::atomic<bool> open_{false};
  std::atomic<uint64_t> wakeups_{0};
  std::atomic<uint64_t> opens_{0};
  mutable absl::Mutex mu_;
  std::string out_ ABSL_GUARDED_BY(mu_);  // bytes not yet written, in order
  int fd_ ABSL_GUARDED_BY(mu_) = -1;      // the open device, for Write
};

}  // namespace linebridge::modem
