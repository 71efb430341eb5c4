// Real SIP peers for the SIP provider's tests, all on 127.0.0.1: sipp
// scenarios (this folder) as far ends and kamailio as a registrar with
// digest auth. Each peer is a child process the test started, stopped by
// its PID; its output goes to a log file in the test's temp directory.
#pragma once

#include <sys/types.h>

#include <string>
#include <vector>

#include "absl/time/time.h"

namespace linebridge::sip::testing {

// A free port on 127.0.0.1 for both UDP and TCP (bound and released), below
// the kernel's ephemeral range so that nothing else is handed it before the
// peer that is to use it binds it.
int FreePort();

// Sends OPTIONS over UDP to 127.0.0.1:`port`; true on any response.
bool AnswersOptions(int port);

// The directory with the sipp scenarios.
std::string ScenarioDir();

class ChildProcess {
 public:
  ChildProcess() = default;
  ~ChildProcess();  // Kill()
  ChildProcess(const ChildProcess&) = delete;
  ChildProcess& operator=(const ChildProcess&) = delete;

  // Starts `argv` with stdout and stderr to `log`, in a process group of
  // its own.
  bool Start(const std::vector<std::string>& argv, const std::string& log);
  // Waits up to `timeout` for the exit; the exit code, or -1 (killed on timeout or by a signal).
  int Wait(absl::Duration timeout);
  // SIGTERM to its process group, then SIGKILL after 3 s; reaps. Idempotent.
  void Kill();
  pid_t pid() const { return pid_; }
  const std::string& log() const { return log_; }
  std::string ReadLog() const;

 private:
  pid_t pid_ = -1;
  std::string log_;
};

// No process is left in `group` (a ChildProcess's pid after Kill()).
bool ProcessGroupGone(pid_t group);

// sipp running `scenario` (a file name in ScenarioDir()) once on `port`,
// against `remote` ("127.0.0.1:port") for client scenarios. `keys` are
// -key name value pairs. RTP is echoed on a free media port. Bounded by
// `timeout` (sipp fails when it runs out).
struct SippOptions {
  std::string scenario;
  int port = 0;
  std::string remote;       // client scenarios only
  std::string service;      // -s (request user part)
  std::vector<std::pair<std::string, std::string>> keys;
  bool tcp = false;
  absl::Duration timeout = absl::Seconds(20);
  int calls = 1;  // -m: the calls to run before exiting
};
bool StartSipp(ChildProcess& child, const SippOptions& options, const std::string& dir);

// kamailio as registrar on 127.0.0.1:`port` (UDP and TCP) that accepts any
// user with `password` (digest, realm 127.0.0.1). With a `proxy_to` port it
// is a proxy too: an INVITE (or its CANCEL) for a registered user goes to
// that user's contact, any other to 127.0.0.1:`proxy_to` (a far end), and a
// request inside a dialog to its request URI; without one it refuses calls
// (404). Waits until it answers OPTIONS.
bool StartKamailio(ChildProcess& child, int port, const std::string& password,
                   const std::string& dir, std::string* error, int proxy_to = 0);

}  // namespace linebridge::sip::testing
