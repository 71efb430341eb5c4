#include "providers/sip/testing/sip_peers.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <random>
#include <sstream>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "linebridge/deadline.h"

namespace linebridge::sip::testing {
namespace {

int BindLoopback(int type, int port) {
  const int fd = ::socket(AF_INET, type | SOCK_CLOEXEC, 0);
  if (fd < 0) return -1;
  sockaddr_in sa{};
  sa.sin_family = AF_INET;
  sa.sin_port = htons(static_cast<uint16_t>(port));
  sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::bind(fd, reinterpret_cast<sockaddr*>(&sa), sizeof(sa)) != 0) {
    ::close(fd);
    return -1;
  }
  return fd;
}

int BoundPort(int fd) {
  sockaddr_in sa{};
  socklen_t len = sizeof(sa);
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&sa), &len);
  return ntohs(sa.sin_port);
}

}  // namespace

bool AnswersOptions(int port) {
  const int fd = BindLoopback(SOCK_DGRAM, 0);
  if (fd < 0) return false;
  const int local = BoundPort(fd);
  const std::string msg = absl::StrCat(
      "OPTIONS sip:127.0.0.1:", port, " SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:", local,
      ";branch=z9hG4bKprobe", ::getpid(), "\r\nFrom: <sip:probe@127.0.0.1>;tag=p\r\n",
      "To: <sip:127.0.0.1>\r\nCall-ID: probe-", ::getpid(), "-", port,
      "\r\nCSeq: 1 OPTIONS\r\nMax-Forwards: 70\r\nContent-Length: 0\r\n\r\n");
  sockaddr_in to{};
  to.sin_family = AF_INET;
  to.sin_port = htons(static_cast<uint16_t>(port));
  to.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  bool ok = false;
  if (::sendto(fd, msg.data(), msg.size(), 0, reinterpret_cast<sockaddr*>(&to), sizeof(to)) > 0) {
    pollfd p{fd, POLLIN, 0};
    if (::poll(&p, 1, 200) == 1) {
      char buf[2048];
      const ssize_t n = ::recv(fd, buf, sizeof(buf), 0);
      ok = n > 0 && absl::StartsWith(absl::string_view(buf, static_cast<size_t>(n)), "SIP/2.0");
    }
  }
  ::close(fd);
  return ok;
}

namespace {

// The first port the kernel hands out for bind(0) and outgoing connections.
int EphemeralLow() {
  std::ifstream range("/proc/sys/net/ipv4/ip_local_port_range");
  int low = 32768;
  range >> low;
  return low;
}

// True if `port` binds on 127.0.0.1 for both UDP and TCP.
bool FreeForBoth(int port) {
  const int u = BindLoopback(SOCK_DGRAM, port);
  if (u < 0) return false;
  const int t = BindLoopback(SOCK_STREAM, port);
  ::close(u);
  if (t < 0) return false;
  ::close(t);
  return true;
}

}  // namespace

int FreePort() {
  // A port below the ephemeral range: between this check and the peer's
  // bind, no outgoing connection or bind(0) elsewhere on the machine can be
  // given it (ephemeral ports were taken so under load, and sipp then could
  // not bind its port).
  static thread_local std::minstd_rand random(static_cast<unsigned>(::getpid()) * 7919u +
                                              static_cast<unsigned>(absl::ToUnixNanos(absl::Now())));
  const int high = EphemeralLow() - 1;
  const int low = 20000;
  if (high - low > 1000) {
    std::uniform_int_distribution<int> pick(low, high);
    for (int attempt = 0; attempt < 200; ++attempt) {
      const int port = pick(random);
      if (FreeForBoth(port)) return port;
    }
  }
  for (int attempt = 0; attempt < 50; ++attempt) {
    const int u = BindLoopback(SOCK_DGRAM, 0);
    if (u < 0) continue;
    const int port = BoundPort(u);
    ::close(u);
    if (FreeForBoth(port)) return port;
  }
  return -1;
}

// A media port for sipp: it binds the port and the one two above (video),
// so both must be free, and neither may be its own SIP port (chosen
// earlier, bound only when sipp starts).
int FreeMediaPort(int sip_port) {
  for (int attempt = 0; attempt < 50; ++attempt) {
    const int port = FreePort();
    if (port <= 0 || port + 3 > 65535 || (sip_port >= port && sip_port <= port + 3)) continue;
    const int video = BindLoopback(SOCK_DGRAM, port + 2);
    if (video < 0) continue;
    ::close(video);
    return port;
  }
  return FreePort();
}

std::string ScenarioDir() { return LINEBRIDGE_SIP_SCENARIOS; }

ChildProcess::~ChildProcess() { Kill(); }

bool ChildProcess::Start(const std::vector<std::string>& argv, const std::string& log) {
  log_ = log;
  std::vector<char*> args;
  for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  const pid_t pid = ::fork();
  if (pid < 0) return false;
  if (pid == 0) {
    // Its own process group: Kill() ends the children it forks too
    // (kamailio's workers). And it is told to go (SIGTERM) when the test
    // dies without Kill(): a crash, or an abort on a failure.
    ::setpgid(0, 0);
    ::prctl(PR_SET_PDEATHSIG, SIGTERM);
    const int out = ::open(log.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    const int in = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
    if (out >= 0) {
      ::dup2(out, 1);
      ::dup2(out, 2);
    }
    if (in >= 0) ::dup2(in, 0);
    ::execvp(args[0], args.data());
    ::_exit(127);
  }
  ::setpgid(pid, pid);  // also here: no window before the child's own call
  pid_ = pid;
  return true;
}

int ChildProcess::Wait(absl::Duration timeout) {
  if (pid_ < 0) return -1;
  const absl::Time deadline = MonotonicNow() + timeout;
  int status = 0;
  for (;;) {
    const pid_t r = ::waitpid(pid_, &status, WNOHANG);
    if (r == pid_) {
      pid_ = -1;
      return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    }
    if (r < 0 || MonotonicNow() > deadline) break;
    absl::SleepFor(absl::Milliseconds(10));  // polling a child's exit
  }
  Kill();
  return -1;
}

void ChildProcess::Kill() {
  if (pid_ < 0) return;
  const pid_t group = pid_;
  ::kill(-group, SIGTERM);
  ::kill(pid_, SIGTERM);
  const absl::Time deadline = MonotonicNow() + absl::Seconds(3);
  int status = 0;
  while (::waitpid(pid_, &status, WNOHANG) == 0) {
    if (MonotonicNow() > deadline) {
      ::kill(-group, SIGKILL);
      ::kill(pid_, SIGKILL);
      ::waitpid(pid_, &status, 0);
      break;
    }
    absl::SleepFor(absl::Milliseconds(10));
  }
  // Children that outlived their parent (none should) go too.
  ::kill(-group, SIGKILL);
  pid_ = -1;
}

bool ProcessGroupGone(pid_t group) { return ::kill(-group, 0) != 0 && errno == ESRCH; }

std::string ChildProcess::ReadLog() const {
  std::ifstream in(log_);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

namespace {

// One attempt of StartSipp with RTP on `media_port`.
bool StartSippOnce(ChildProcess& child, const SippOptions& o, const std::string& dir,
                   int media_port) {
  const std::string file = o.scenario.substr(o.scenario.rfind('/') + 1);
  const std::string name = file.substr(0, file.find('.'));
  std::vector<std::string> argv = {
      "sipp", "-sf", o.scenario[0] == '/' ? o.scenario : ScenarioDir() + "/" + o.scenario, "-i", "127.0.0.1", "-p",
      absl::StrCat(o.port), "-m", absl::StrCat(o.calls), "-nostdin", "-nd", "-rtp_echo", "-mp",
      absl::StrCat(media_port), "-timeout", absl::StrCat(absl::ToInt64Seconds(o.timeout), "s"),
      "-timeout_error", "-trace_err", "-error_file", absl::StrCat(dir, "/", name, "_errors.log"),
      "-trace_msg", "-message_file", absl::StrCat(dir, "/", name, "_messages.log")};
  if (o.tcp) {
    argv.push_back("-t");
    argv.push_back("t1");
  }
  if (!o.service.empty()) {
    argv.push_back("-s");
    argv.push_back(o.service);
  }
  for (const auto& [k, v] : o.keys) {
    argv.push_back("-key");
    argv.push_back(k);
    argv.push_back(v);
  }
  if (!o.remote.empty()) argv.push_back(o.remote);
  if (!child.Start(argv, absl::StrCat(dir, "/", name, "_", o.port, ".log"))) return false;
  // Ready when its SIP port is bound (sipp binds before running the scenario).
  const absl::Time deadline = MonotonicNow() + absl::Seconds(5);
  while (MonotonicNow() < deadline) {
    const int probe = BindLoopback(o.tcp ? SOCK_STREAM : SOCK_DGRAM, o.port);
    if (probe < 0) return true;
    ::close(probe);
    absl::SleepFor(absl::Milliseconds(10));  // waiting for the peer to bind
  }
  return false;
}

}  // namespace

bool StartSipp(ChildProcess& child, const SippOptions& o, const std::string& dir) {
  // sipp exits at once when a port of its RTP echo (the media port and the
  // ones above it) was taken meanwhile: try again on another, twice.
  for (int attempt = 0; attempt < 3; ++attempt) {
    if (attempt > 0) {
      std::fprintf(stderr, "sipp did not start (%s), retrying: %s\n", o.scenario.c_str(),
                   child.ReadLog().c_str());
      child.Kill();
    }
    if (StartSippOnce(child, o, dir, FreeMediaPort(o.port))) return true;
  }
  return false;
}

bool StartKamailio(ChildProcess& child, int port, const std::string& password,
                   const std::string& dir, std::string* error, int proxy_to) {
  std::string proxy;
  if (proxy_to > 0) {
    // No Record-Route; requests inside a dialog that a UA sends through its
    // outbound proxy anyway go on to their request URI (the far end's Contact).
    proxy = absl::StrCat(
        "  if ($tt != $null) {\n",
        "    if (method==\"ACK\") { forward(); exit; }\n",
        "    if (!t_relay()) sl_reply_error();\n    exit;\n  }\n",
        "  if (method==\"CANCEL\") { if (t_check_trans()) t_relay(); exit; }\n",
        "  if (method==\"INVITE\") {\n",
        "    if (!lookup(\"location\")) $du = \"sip:127.0.0.1:", proxy_to, "\";\n",
        "    if (!t_relay()) sl_reply_error();\n    exit;\n  }\n");
  }
  const std::string cfg = absl::StrCat(dir, "/kamailio_", port, ".cfg");
  std::ofstream(cfg) << "#!KAMAILIO\n"
                     << "debug=2\nlog_stderror=yes\nchildren=1\ntcp_children=1\n"
                     << "listen=udp:127.0.0.1:" << port << "\n"
                     << "listen=tcp:127.0.0.1:" << port << "\n"
                     << "mpath=\"/usr/lib/x86_64-linux-gnu/kamailio/modules/\"\n"
                     << "loadmodule \"tm.so\"\nloadmodule \"sl.so\"\nloadmodule \"pv.so\"\n"
                     << "loadmodule \"usrloc.so\"\nloadmodule \"registrar.so\"\n"
                     << "loadmodule \"auth.so\"\n"
                     << "modparam(\"usrloc\", \"db_mode\", 0)\n"
                     << "modparam(\"registrar\", \"min_expires\", 1)\n"
                     << "request_route {\n"
                     << "  if (method==\"REGISTER\") {\n"
                     << "    if (!pv_www_authenticate(\"$td\", \"" << password << "\", \"0\")) {\n"
                     << "      www_challenge(\"$td\", \"0\");\n      exit;\n    }\n"
                     << "    save(\"location\");\n    exit;\n  }\n"
                     << "  if (method==\"OPTIONS\") { sl_send_reply(\"200\", \"OK\"); exit; }\n"
                     << proxy
                     << "  sl_send_reply(\"404\", \"Not Here\");\n}\n";
  const std::string run = absl::StrCat(dir, "/kamailio_run_", port);
  ::mkdir(run.c_str(), 0755);
  if (!child.Start({"kamailio", "-DD", "-E", "-f", cfg, "-Y", run, "-w", run},
                   absl::StrCat(dir, "/kamailio_", port, ".log"))) {
    *error = "cannot start kamailio";
    return false;
  }
  const absl::Time deadline = MonotonicNow() + absl::Seconds(10);
  while (MonotonicNow() < deadline) {
    if (AnswersOptions(port)) return true;
  }
  *error = absl::StrCat("kamailio on port ", port, " never answered OPTIONS; log:\n",
                        child.ReadLog());
  return false;
}

}  // namespace linebridge::sip::testing
