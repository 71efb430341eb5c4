// Helpers for the connection-flood tests: a linebridged child process with a
// lowered descriptor limit, raw idle TCP connections, and a normal client.
#pragma once

#include <sys/types.h>

#include <memory>
#include <string>
#include <vector>

#include <grpcpp/grpcpp.h>

#include "absl/time/time.h"

namespace linebridge::itest {

// linebridged (from LINEBRIDGE_BIN_DIR) on 127.0.0.1:<free port> with its
// RLIMIT_NOFILE set to `nofile` (soft and hard) before exec.
class DaemonProcess {
 public:
  ~DaemonProcess();
  // `config_text`: extra ServerConfig textproto. Empty string on success,
  // else what went wrong.
  std::string Start(uint64_t nofile, const std::string& config_text);
  int port() const { return port_; }
  pid_t pid() const { return pid_; }
  // Open descriptors of the daemon (/proc/<pid>/fd).
  int OpenDescriptors() const;
  std::string Log() const;

 private:
  pid_t pid_ = -1;
  int port_ = 0;
  std::string dir_;
};

// `count` idle TCP connections to 127.0.0.1:`port` (non-blocking connects;
// nothing is ever sent), spread over `sources` source addresses
// 127.0.1.1, 127.0.1.2, ... (0: the kernel's choice, 127.0.0.1).
// Closing them resets them (no TIME_WAIT left behind).
class IdleConnections {
 public:
  ~IdleConnections() { CloseAll(); }
  // Opens until `count` or the first failure; returns how many are open.
  int Open(int port, int count, int sources = 0);
  void CloseAll();
  size_t size() const { return fds_.size(); }

 private:
  std::vector<int> fds_;
};

// The same, held by child processes of at most `per_process` connections
// each (a process's descriptor limit is below 50,000 here).
class ForkedIdleConnections {
 public:
  ~ForkedIdleConnections() { CloseAll(); }
  // Returns how many are open in all children.
  int Open(int port, int count, int sources, int per_process);
  void CloseAll();

 private:
  struct Child {
    pid_t pid;
    int release_fd;  // closing it tells the child to close and exit
  };
  std::vector<Child> children_;
};

// Admin.Ping on a new connection of its own, waiting for the channel to be
// ready up to `timeout`.
grpc::Status PingOnNewConnection(int port, absl::Duration timeout);
// grpc.health.v1.Health/Check on `channel`: 1 SERVING, 2 NOT_SERVING, -1
// error.
int HealthStatus(const std::shared_ptr<grpc::Channel>& channel, absl::Duration timeout);

// Raises this process's RLIMIT_NOFILE to at least `n`; false if not allowed.
bool RaiseDescriptorLimit(uint64_t n);

}  // namespace linebridge::itest
