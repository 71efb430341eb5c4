// What the AT engine needs from its owner: a byte sink towards the modem and a
// timer service. Both are driven on the owner's loop; the engine has no
// threads and never blocks.
#pragma once

#include <cstdint>
#include <functional>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"

namespace linebridge::at {

// The modem's serial port, as seen by the engine. Bytes the modem sends are
// not read through this interface: the owner reads the device and hands them
// to CommandQueue::OnBytes.
class Port {
 public:
  virtual ~Port() = default;
  // Queues `bytes` for the modem. Must not block (the owner buffers and
  // drains on its loop); an error fails the command being written.
  virtual absl::Status Write(absl::string_view bytes) = 0;
};

// One-shot timers on the owner's loop (tests use a fake clock). Callbacks run
// on that loop, never from inside Schedule or Cancel.
class Clock {
 public:
  using TimerId = uint64_t;
  virtual ~Clock() = default;
  virtual TimerId Schedule(absl::Duration delay, std::function<void()> fn) = 0;
  // Cancelling a timer that already ran or was cancelled is a no-op.
  virtual void Cancel(TimerId id) = 0;
};

}  // namespace linebridge::at
