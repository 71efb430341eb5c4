// Helpers for the TAPISRV harness tests: the device that shows a line, and a
// CPU hog in a child process (TAPISRV on a busy machine).
#pragma once

#include <signal.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include <string>
#include <vector>

#include "absl/time/clock.h"
#include "tapi_buffers.h"
#include "tapisrv_harness.h"
#include "linebridge/deadline.h"

namespace linebridge::tsp_test {

inline constexpr DWORD kNoDevice = 0xFFFFFFFF;

// The device id (enumerated or created) whose LINEDEVCAPS names `line_id`
// (SwitchInfo) and which the provider knows from the server
// (LINEFEATURE_MAKECALL); kNoDevice if none within `timeout`.
inline DWORD DeviceOf(TapiSrvHarness& harness, DWORD num_lines, const std::string& line_id,
                      absl::Duration timeout = absl::Seconds(5)) {
  const absl::Time deadline = MonotonicNow() + timeout;
  for (;;) {
    std::vector<DWORD> ids;
    for (DWORD i = 0; i < num_lines; ++i) ids.push_back(TapiSrvHarness::kLineBase + i);
    for (DWORD id : harness.created_devices()) ids.push_back(id);
    for (DWORD id : ids) {
      auto b = Buffer(4096);
      if (harness.tspi().TSPI_lineGetDevCaps(id, 0x00030000, 0,
                                             reinterpret_cast<LPLINEDEVCAPS>(b.data())) != 0) {
        continue;
      }
      auto caps = Fixed<LINEDEVCAPS>(b);
      if (String16At(b, caps.dwSwitchInfoSize, caps.dwSwitchInfoOffset) == line_id &&
          (caps.dwLineFeatures & LINEFEATURE_MAKECALL) != 0) {
        return id;
      }
    }
    if (MonotonicNow() >= deadline) return kNoDevice;
    absl::SleepFor(absl::Milliseconds(10));
  }
}

// Whether the open line `hd_line` reports LINEDEVSTATUSFLAGS_INSERVICE (its
// server's session and event stream are up) within `timeout`.
inline bool WaitInService(TapiSrvHarness& harness, HDRVLINE hd_line,
                          absl::Duration timeout = absl::Seconds(5)) {
  const absl::Time deadline = MonotonicNow() + timeout;
  for (;;) {
    auto status = Buffer(sizeof(LINEDEVSTATUS) + 64, 512);
    if (harness.tspi().TSPI_lineGetLineDevStatus(
            hd_line, reinterpret_cast<LPLINEDEVSTATUS>(status.data())) == 0 &&
        (Fixed<LINEDEVSTATUS>(status).dwDevStatusFlags & LINEDEVSTATUSFLAGS_INSERVICE) != 0) {
      return true;
    }
    if (MonotonicNow() >= deadline) return false;
    absl::SleepFor(absl::Milliseconds(5));
  }
}

// Child processes that only burn CPU until destroyed (killed by pid).
class CpuHogProcesses {
 public:
  explicit CpuHogProcesses(int n) {
    for (int i = 0; i < n; ++i) {
      const pid_t pid = fork();
      if (pid == 0) {
        volatile unsigned long x = 0;
        for (;;) x = x + 1;
      }
      if (pid > 0) pids_.push_back(pid);
    }
  }
  ~CpuHogProcesses() {
    for (pid_t pid : pids_) kill(pid, SIGKILL);
    for (pid_t pid : pids_) waitpid(pid, nullptr, 0);
  }
  CpuHogProcesses(const CpuHogProcesses&) = delete;
  CpuHogProcesses& operator=(const CpuHogProcesses&) = delete;
  size_t size() const { return pids_.size(); }

 private:
  std::vector<pid_t> pids_;
};

}  // namespace linebridge::tsp_test
