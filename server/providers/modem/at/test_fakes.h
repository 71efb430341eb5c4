// Test doubles for the AT engine: a port that records what is written and a
// clock that only moves when told.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "providers/modem/at/port.h"

namespace linebridge::at::testing {

class FakePort : public Port {
 public:
  absl::Status Write(absl::string_view bytes) override {
    if (!fail_with.ok()) return fail_with;
    written.append(bytes.data(), bytes.size());
    return absl::OkStatus();
  }
  std::string Take() { return std::exchange(written, std::string()); }

  std::string written;  // not yet taken
  absl::Status fail_with = absl::OkStatus();
};

class FakeClock : public Clock {
 public:
  TimerId Schedule(absl::Duration delay, std::function<void()> fn) override {
    const TimerId id = next_++;
    timers_[id] = Timer{now_ + delay, std::move(fn)};
    return id;
  }
  void Cancel(TimerId id) override { timers_.erase(id); }

  // Moves time forward, running due timers in order (earliest first, then in
  // scheduling order), including timers they schedule within the window.
  void Advance(absl::Duration by) {
    const absl::Duration target = now_ + by;
    for (;;) {
      auto due = timers_.end();
      for (auto it = timers_.begin(); it != timers_.end(); ++it) {
        if (it->second.at <= target && (due == timers_.end() || it->second.at < due->second.at)) {
          due = it;
        }
      }
      if (due == timers_.end()) break;
      now_ = due->second.at;
      std::function<void()> fn = std::move(due->second.fn);
      timers_.erase(due);
      fn();
    }
    now_ = target;
  }
  size_t pending() const { return timers_.size(); }
  absl::Duration now() const { return now_; }

 private:
  struct Timer {
    absl::Duration at;
    std::function<void()> fn;
  };
  absl::Duration now_ = absl::ZeroDuration();
  TimerId next_ = 1;
  std::map<TimerId, Timer> timers_;
};

}  // namespace linebridge::at::testing
