// baresip 1.0 as a desk phone for the phone-line tests: started headless in
// a temp directory with its own config and accounts files, registering at
// the test PBX with digest auth, driven and watched over its ctrl_tcp
// module (JSON in netstrings on 127.0.0.1): commands such as dial, accept,
// hangup, hold and resume, and its events (CALL_INCOMING, CALL_ESTABLISHED,
// CALL_CLOSED, ...) as they arrive, each with the time it arrived. The
// process runs in a process group of its own and is killed by its PID.
#pragma once

#include <deque>
#include <optional>
#include <string>
#include <thread>

#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "providers/sip/testing/sip_peers.h"

namespace linebridge::sip::testing {

struct BaresipOptions {
  std::string user = "alice";        // AoR sip:<user>@127.0.0.1
  std::string password;              // digest, realm 127.0.0.1; the auth user is `user`
  int registrar_port = 0;            // the PBX on 127.0.0.1 (outbound proxy and registrar)
  bool auto_answer = true;           // answermode auto, else manual (accept over ctrl_tcp)
  absl::Duration startup = absl::Seconds(10);  // until registered
};

class BaresipPhone {
 public:
  struct Event {
    std::string json;  // the whole event object
    std::string type;  // "CALL_INCOMING", ...
    absl::Time at;     // when it arrived here
  };

  BaresipPhone() = default;
  ~BaresipPhone();  // Kill()
  BaresipPhone(const BaresipPhone&) = delete;
  BaresipPhone& operator=(const BaresipPhone&) = delete;

  // Starts baresip in `dir` (its own subdirectory) and waits until it is
  // registered at the PBX; false with the reason (and baresip's log) if not.
  bool Start(const BaresipOptions& options, const std::string& dir, std::string* error);
  // SIGKILL to its process group (a phone that goes away); reaps. Idempotent.
  void Kill();

  int sip_port() const { return sip_port_; }
  pid_t pid() const { return child_.pid(); }
  std::string ReadLog() const { return child_.ReadLog(); }

  // A menu command ("dial", "accept", "hangup", "hold", "resume", ...);
  // the response's data, or nullopt when refused or not answered in time.
  std::optional<std::string> Command(const std::string& command, const std::string& params = "",
                                     absl::Duration timeout = absl::Seconds(5));
  // The next event of `type` (earlier events of other types are passed
  // over and dropped).
  std::optional<Event> WaitEvent(const std::string& type, absl::Duration timeout);

 private:
  void ReadLoop();
  bool Connect(int port, absl::Time deadline);

  ChildProcess child_;
  int sip_port_ = 0;
  int ctrl_fd_ = -1;
  std::thread reader_;
  int next_token_ = 1;
  absl::Mutex mu_;
  std::deque<Event> events_ ABSL_GUARDED_BY(mu_);
  std::deque<std::string> responses_ ABSL_GUARDED_BY(mu_);
  bool closed_ ABSL_GUARDED_BY(mu_) = false;
};

// The value of a string or boolean field in a flat JSON object (no
// unescaping beyond \/ and \"), or "".
std::string JsonField(const std::string& json, const std::string& name);

}  // namespace linebridge::sip::testing
