#include "flood_util.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include <grpcpp/generic/generic_stub.h>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/notification.h"
#include "absl/time/clock.h"
#include "linebridge/v1/admin.grpc.pb.h"
#include "tapisrv_harness.h"
#include "test_server.h"
#include "linebridge/deadline.h"

namespace linebridge::itest {
namespace {

gpr_timespec Deadline(absl::Duration d) { return DeadlineAfter(d); }

}  // namespace

DaemonProcess::~DaemonProcess() {
  if (pid_ > 0) tsp_test::StopDaemonProcess(pid_, dir_ + "/log");
}

std::string DaemonProcess::Start(uint64_t nofile, const std::string& config_text) {
  const char* bin_dir = std::getenv("LINEBRIDGE_BIN_DIR");
  if (bin_dir == nullptr) return "LINEBRIDGE_BIN_DIR is not set";
  dir_ = NewTempDir("flood");
  const std::string config = dir_ + "/config.textproto";
  const std::string port_file = dir_ + "/port";
  std::ofstream(config) << config_text << "\n";
  const std::string bin = std::string(bin_dir) + "/linebridged";
  const std::string data = dir_ + "/data";
  const std::string log = dir_ + "/log";
  pid_ = ::fork();
  if (pid_ < 0) return "fork failed";
  if (pid_ == 0) {
    rlimit lim{nofile, nofile};
    if (::setrlimit(RLIMIT_NOFILE, &lim) != 0) ::_exit(126);
    const int out = ::open(log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    if (out >= 0) {
      ::dup2(out, 1);
      ::dup2(out, 2);
    }
    // Descriptors of the test process (gRPC, gtest) are not the daemon's.
    for (int fd = 3; fd < 1024; ++fd) ::close(fd);
    ::execl(bin.c_str(), bin.c_str(), "--config", config.c_str(), "--listen", "127.0.0.1:0",
            "--data_dir", data.c_str(), "--port_file", port_file.c_str(), nullptr);
    ::_exit(127);
  }
  const absl::Time until = MonotonicNow() + absl::Seconds(10);
  while (MonotonicNow() < until) {
    std::ifstream in(port_file);
    int port = 0;
    if (in >> port && port > 0) {
      port_ = port;
      return "";
    }
    int status = 0;
    if (::waitpid(pid_, &status, WNOHANG) == pid_) {
      pid_ = -1;
      return "linebridged exited: " + Log();
    }
    absl::SleepFor(absl::Milliseconds(10));  // polling a file the child writes
  }
  return "linebridged did not write its port: " + Log();
}

int DaemonProcess::OpenDescriptors() const {
  std::error_code ec;
  int n = 0;
  for (auto it = std::filesystem::directory_iterator(absl::StrCat("/proc/", pid_, "/fd"), ec);
       !ec && it != std::filesystem::directory_iterator(); it.increment(ec)) {
    ++n;
  }
  return n;
}

std::string DaemonProcess::Log() const {
  std::ifstream in(dir_ + "/log");
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

int IdleConnections::Open(int port, int count, int sources) {
  sockaddr_in dst{};
  dst.sin_family = AF_INET;
  dst.sin_port = htons(static_cast<uint16_t>(port));
  dst.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  for (int i = 0; i < count; ++i) {
    const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) break;
    const linger reset{1, 0};
    ::setsockopt(fd, SOL_SOCKET, SO_LINGER, &reset, sizeof(reset));
    if (sources > 0) {
      // 127.0.1.<k>: each source address has its own ephemeral ports.
      const int one = 1;
      ::setsockopt(fd, IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, &one, sizeof(one));
      sockaddr_in src{};
      src.sin_family = AF_INET;
      src.sin_addr.s_addr = htonl(0x7f000100u + 1u + static_cast<uint32_t>(i % sources));
      if (::bind(fd, reinterpret_cast<sockaddr*>(&src), sizeof(src)) != 0) {
        ::close(fd);
        break;
      }
    }
    if (::connect(fd, reinterpret_cast<sockaddr*>(&dst), sizeof(dst)) != 0 &&
        errno != EINPROGRESS) {
      ::close(fd);
      break;
    }
    fds_.push_back(fd);
  }
  return static_cast<int>(fds_.size());
}

void IdleConnections::CloseAll() {
  for (int fd : fds_) ::close(fd);
  fds_.clear();
}

int ForkedIdleConnections::Open(int port, int count, int sources, int per_process) {
  int total = 0;
  for (int start = 0; start < count; start += per_process) {
    const int n = std::min(per_process, count - start);
    int ready[2];
    int release[2];
    if (::pipe2(ready, O_CLOEXEC) != 0) break;
    if (::pipe2(release, O_CLOEXEC) != 0) {
      ::close(ready[0]);
      ::close(ready[1]);
      break;
    }
    const pid_t pid = ::fork();
    if (pid == 0) {
      ::close(ready[0]);
      ::close(release[1]);
      // Only plain system calls and the allocator (fork-safe in glibc) here.
      IdleConnections conns;
      const int32_t opened = conns.Open(port, n, sources);
      [[maybe_unused]] ssize_t w = ::write(ready[1], &opened, sizeof(opened));
      char byte;
      while (::read(release[0], &byte, 1) > 0) {
      }
      conns.CloseAll();
      ::_exit(0);
    }
    ::close(ready[1]);
    ::close(release[0]);
    if (pid < 0) {
      ::close(ready[0]);
      ::close(release[1]);
      break;
    }
    children_.push_back({pid, release[1]});
    int32_t opened = 0;
    if (::read(ready[0], &opened, sizeof(opened)) == sizeof(opened)) total += opened;
    ::close(ready[0]);
  }
  return total;
}

void ForkedIdleConnections::CloseAll() {
  for (const Child& c : children_) ::close(c.release_fd);
  for (const Child& c : children_) ::waitpid(c.pid, nullptr, 0);
  children_.clear();
}

grpc::Status PingOnNewConnection(int port, absl::Duration timeout) {
  grpc::ChannelArguments args;
  static std::atomic<int> n{0};
  args.SetInt("linebridge.itest.flood_probe", n.fetch_add(1));
  auto channel = grpc::CreateCustomChannel(absl::StrCat("127.0.0.1:", port),
                                           grpc::InsecureChannelCredentials(), args);
  auto stub = v1::Admin::NewStub(channel);
  grpc::ClientContext ctx;
  ctx.set_deadline(Deadline(timeout));
  ctx.set_wait_for_ready(true);
  v1::PingResponse resp;
  return stub->Ping(&ctx, v1::PingRequest(), &resp);
}

int HealthStatus(const std::shared_ptr<grpc::Channel>& channel, absl::Duration timeout) {
  // HealthCheckRequest{} is empty on the wire; the response's field 1 is the
  // status (08 01 SERVING, 08 02 NOT_SERVING).
  grpc::GenericStub generic(channel);
  grpc::Slice empty;
  grpc::ByteBuffer request(&empty, 1);
  grpc::ByteBuffer response;
  grpc::ClientContext ctx;
  ctx.set_deadline(Deadline(timeout));
  absl::Notification done;
  grpc::Status status;
  generic.UnaryCall(&ctx, "/grpc.health.v1.Health/Check", grpc::StubOptions(), &request,
                    &response, [&](grpc::Status s) {
                      status = std::move(s);
                      done.Notify();
                    });
  if (!done.WaitForNotificationWithTimeout(timeout + absl::Seconds(1)) || !status.ok()) return -1;
  std::vector<grpc::Slice> slices;
  if (!response.Dump(&slices).ok()) return -1;
  std::string bytes;
  for (const auto& s : slices) bytes.append(reinterpret_cast<const char*>(s.begin()), s.size());
  if (bytes.size() != 2 || bytes[0] != 0x08) return -1;
  return bytes[1];
}

bool RaiseDescriptorLimit(uint64_t n) {
  rlimit lim{};
  ::getrlimit(RLIMIT_NOFILE, &lim);
  if (lim.rlim_cur >= n) return true;
  lim.rlim_cur = n;
  if (lim.rlim_max < n) lim.rlim_max = n;
  return ::setrlimit(RLIMIT_NOFILE, &lim) == 0;
}

}  // namespace linebridge::itest
