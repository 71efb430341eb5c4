#include "tapisrv_harness.h"

#include <arpa/inet.h>
#include <dlfcn.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/prctl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <iterator>
#include <sstream>
#include <thread>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "gtest/gtest.h"
#include "linebridge/deadline.h"

namespace linebridge::tsp_test {
namespace {

TapiSrvHarness* g_harness = nullptr;

HPROVIDER ProviderHandle() { return TapiSrvHarness::provider_handle(); }

bool PreConnect(DWORD s) {
  return s == LINECALLSTATE_OFFERING || s == LINECALLSTATE_ACCEPTED ||
         s == LINECALLSTATE_DIALTONE || s == LINECALLSTATE_DIALING ||
         s == LINECALLSTATE_RINGBACK || s == LINECALLSTATE_PROCEEDING;
}

}  // namespace

TapiSrvHarness::TapiSrvHarness() { g_harness = this; }
TapiSrvHarness::~TapiSrvHarness() {
  if (started_) (void)Stop();
  g_harness = nullptr;
  // The library stays loaded (TAPISRV, too, unloads only at process end).
}

bool TapiSrvHarness::Load(const std::string& path, std::string* error) {
  library_ = dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
  if (library_ == nullptr) {
    *error = absl::StrCat("dlopen(", path, "): ", dlerror());
    return false;
  }
  std::string missing;
#define LB_RESOLVE(NAME, PARAMS)                                                      \
  tspi_.NAME = reinterpret_cast<decltype(tspi_.NAME)>(dlsym(library_, #NAME));        \
  if (tspi_.NAME == nullptr) absl::StrAppend(&missing, " ", #NAME);
  LINEBRIDGE_TSPI_FUNCTIONS(LB_RESOLVE)
#undef LB_RESOLVE
  if (!missing.empty()) {
    *error = absl::StrCat("missing exports:", missing);
    return false;
  }
  return true;
}

LONG TapiSrvHarness::Start(DWORD* num_lines) {
  DWORD phones = 0;
  return Start(num_lines, &phones);
}

LONG TapiSrvHarness::Start(DWORD* num_lines, DWORD* num_phones) {
  LONG r = tspi_.TSPI_providerEnumDevices(kProviderId, num_lines, num_phones, ProviderHandle(),
                                          &TapiSrvHarness::LineEvent,
                                          &TapiSrvHarness::PhoneEvent);
  if (r != 0) return r;
  {
    absl::MutexLock lock(&mu_);
    next_device_ = kLineBase + *num_lines;
    next_phone_device_ = kPhoneBase + *num_phones;
    created_.clear();
    created_phones_.clear();
  }
  DWORD options = 0xFFFF;
  r = tspi_.TSPI_providerInit(0x00030000, kProviderId, kLineBase, kPhoneBase, *num_lines,
                              *num_phones, &TapiSrvHarness::Completion, &options);
  started_ = r == 0;
  return r;
}

LONG TapiSrvHarness::Stop() {
  started_ = false;
  return tspi_.TSPI_providerShutdown(0x00030000, kProviderId);
}

DRV_REQUESTID TapiSrvHarness::NextRequestId() {
  absl::MutexLock lock(&mu_);
  return next_request_++;
}

void TapiSrvHarness::Issued(DRV_REQUESTID id, LONG result) {
  absl::MutexLock lock(&mu_);
  if (result == static_cast<LONG>(id)) {
    outstanding_.insert(id);
    // A completion may already have arrived (before the function returned).
    auto early = early_.find(id);
    if (early != early_.end()) {
      outstanding_.erase(id);
      completed_[id] = early->second;
      early_.erase(early);
    }
  } else if (early_.count(id) > 0) {
    Violation(absl::StrCat("request ", id, " failed synchronously (", result,
                           ") but was completed too"));
  }
}

void TapiSrvHarness::OutboundCall(HTAPICALL ht_call, DRV_REQUESTID id) {
  absl::MutexLock lock(&mu_);
  CallTrack& t = calls_[ht_call];
  t.outbound = true;
  t.make_request = id;
}

HTAPILINE TapiSrvHarness::NewHtLine() {
  absl::MutexLock lock(&mu_);
  return reinterpret_cast<HTAPILINE>(next_handle_++);
}

void TapiSrvHarness::Violation(const std::string& what) { violations_.push_back(what); }

void TapiSrvHarness::LineEvent(HTAPILINE ht_line, HTAPICALL ht_call, DWORD msg, DWORD_PTR p1,
                               DWORD_PTR p2, DWORD_PTR p3) {
  if (g_harness != nullptr) g_harness->OnLineEvent({ht_line, ht_call, msg, p1, p2, p3});
}

void TapiSrvHarness::PhoneEvent(HTAPIPHONE ht_phone, DWORD msg, DWORD_PTR p1, DWORD_PTR p2,
                                DWORD_PTR p3) {
  if (g_harness != nullptr) g_harness->OnPhoneEvent({ht_phone, msg, p1, p2, p3});
}

void TapiSrvHarness::Completion(DRV_REQUESTID id, LONG result) {
  if (g_harness != nullptr) g_harness->OnCompletion(id, result);
}

void TapiSrvHarness::OnCompletion(DRV_REQUESTID id, LONG result) {
  absl::MutexLock lock(&mu_);
  if (completed_.count(id) > 0 || early_.count(id) > 0) {
    Violation(absl::StrCat("request ", id, " completed twice"));
    return;
  }
  if (id < next_request_) delivered_[id] = result;
  if (outstanding_.erase(id) == 0) {
    if (id >= next_request_) {
      Violation(absl::StrCat("completion for request ", id, " that was never issued"));
      return;
    }
    early_[id] = result;  // the TSPI function has not returned yet
    return;
  }
  if (result > 0) Violation(absl::StrCat("request ", id, " completed with positive ", result));
  completed_[id] = result;
}

void TapiSrvHarness::OnLineEvent(const RecordedEvent& in) {
  RecordedEvent event = in;
  DWORD create_temp = 0;
  bool create = false;
  {
    absl::MutexLock lock(&mu_);
    switch (event.msg) {
      case LINE_CREATE:
        if (event.ht_line != nullptr || event.ht_call != nullptr) {
          Violation("LINE_CREATE with a line or call handle");
        }
        if (event.p1 != reinterpret_cast<DWORD_PTR>(ProviderHandle())) {
          Violation("LINE_CREATE without our hProvider");
        }
        create = true;
        create_temp = static_cast<DWORD>(event.p2);
        break;
      case LINE_NEWCALL: {
        if (event.ht_line == nullptr) Violation("LINE_NEWCALL without htLine");
        auto* out = reinterpret_cast<HTAPICALL*>(event.p2);
        if (out == nullptr) {
          Violation("LINE_NEWCALL without an HTAPICALL pointer");
          break;
        }
        HTAPICALL ht_call = reinterpret_cast<HTAPICALL>(next_handle_++);
        *out = ht_call;
        CallTrack& t = calls_[ht_call];
        t.announced = true;
        event.ht_call = ht_call;  // recorded with the handle TAPI chose
        break;
      }
      case LINE_CALLSTATE: {
        auto it = calls_.find(event.ht_call);
        if (it == calls_.end()) {
          Violation(absl::StrCat("LINE_CALLSTATE 0x", absl::Hex(event.p1),
                                 " for an htCall TAPI never saw (no LINE_NEWCALL)"));
          break;
        }
        CallTrack& t = it->second;
        if (t.outbound) {
          auto done = delivered_.find(t.make_request);
          if (done == delivered_.end() || done->second != 0) {
            Violation("LINE_CALLSTATE for an outgoing call before lineMakeCall completed");
          }
        }
        const DWORD state = static_cast<DWORD>(event.p1);
        const DWORD last = t.states.empty() ? 0 : t.states.back();
        if (last == LINECALLSTATE_IDLE) {
          Violation(absl::StrCat("LINE_CALLSTATE 0x", absl::Hex(state), " after IDLE"));
        } else if (last == LINECALLSTATE_DISCONNECTED && state != LINECALLSTATE_IDLE &&
                   state != LINECALLSTATE_DISCONNECTED) {
          Violation(absl::StrCat("LINE_CALLSTATE 0x", absl::Hex(state), " after DISCONNECTED"));
        } else if (PreConnect(state)) {
          for (DWORD s : t.states) {
            if (s == LINECALLSTATE_CONNECTED || s == LINECALLSTATE_ONHOLD) {
              Violation(absl::StrCat("LINE_CALLSTATE 0x", absl::Hex(state), " after CONNECTED"));
              break;
            }
          }
          if (state == LINECALLSTATE_OFFERING && (!t.states.empty() || t.outbound)) {
            Violation("OFFERING that is not the first state of an incoming call");
          }
        }
        t.states.push_back(state);
        break;
      }
      case LINE_CALLINFO: {
        auto it = calls_.find(event.ht_call);
        if (it == calls_.end()) {
          Violation("LINE_CALLINFO for an unknown htCall");
        } else if (!it->second.states.empty() && it->second.states.back() == LINECALLSTATE_IDLE) {
          Violation("LINE_CALLINFO after IDLE");
        }
        break;
      }
      default: break;
    }
    events_.push_back(event);
  }
  if (create) {
    // TAPISRV answers LINE_CREATE with providerCreateLineDevice (from its own
    // thread; the provider must not hold its lock while calling us).
    DWORD device;
    {
      absl::MutexLock lock(&mu_);
      device = next_device_++;
    }
    const LONG r = tspi_.TSPI_providerCreateLineDevice(create_temp, device);
    absl::MutexLock lock(&mu_);
    if (r != 0) {
      Violation(absl::StrCat("providerCreateLineDevice(", create_temp, ") = ", r));
    } else {
      created_.push_back(device);
    }
  }
}

LONG TapiSrvHarness::WaitCompletion(DRV_REQUESTID id, absl::Duration timeout) {
  absl::MutexLock lock(&mu_);
  auto done = [this, id]() { return completed_.count(id) > 0; };
  if (!mu_.AwaitWithTimeout(absl::Condition(&done), timeout)) return 1;
  return completed_[id];
}

bool TapiSrvHarness::WaitEvent(const std::function<bool(const RecordedEvent&)>& match,
                               absl::Duration timeout, RecordedEvent* found) {
  absl::MutexLock lock(&mu_);
  auto seen = [&]() {
    for (const RecordedEvent& e : events_) {
      if (match(e)) {
        if (found != nullptr) *found = e;
        return true;
      }
    }
    return false;
  };
  return mu_.AwaitWithTimeout(absl::Condition(&seen), timeout);
}

bool TapiSrvHarness::WaitCallState(HTAPICALL ht_call, DWORD state, absl::Duration timeout) {
  return WaitEvent(
      [&](const RecordedEvent& e) {
        return e.msg == LINE_CALLSTATE && e.ht_call == ht_call && e.p1 == state;
      },
      timeout);
}

bool TapiSrvHarness::WaitNewCall(HTAPILINE ht_line, HTAPICALL* ht_call, HDRVCALL* hd_call,
                                 absl::Duration timeout) {
  RecordedEvent e;
  if (!WaitEvent([&](const RecordedEvent& ev) {
        return ev.msg == LINE_NEWCALL && ev.ht_line == ht_line;
      },
                 timeout, &e)) {
    return false;
  }
  *ht_call = e.ht_call;
  *hd_call = reinterpret_cast<HDRVCALL>(e.p1);
  return true;
}

std::vector<DWORD> TapiSrvHarness::created_devices() {
  absl::MutexLock lock(&mu_);
  return created_;
}
size_t TapiSrvHarness::create_count() {
  absl::MutexLock lock(&mu_);
  return created_.size();
}
std::vector<std::string> TapiSrvHarness::violations() {
  absl::MutexLock lock(&mu_);
  return violations_;
}
std::vector<std::string> TapiSrvHarness::TakeViolations() {
  absl::MutexLock lock(&mu_);
  std::vector<std::string> out;
  out.swap(violations_);
  return out;
}
std::vector<RecordedEvent> TapiSrvHarness::events() {
  absl::MutexLock lock(&mu_);
  return events_;
}
void TapiSrvHarness::ClearEvents() {
  absl::MutexLock lock(&mu_);
  events_.clear();
}

// ---------------------------------------------------------------------------

ServerProcess::~ServerProcess() { Stop(); }

bool ServerProcess::Start(const std::string& dir, std::string* error, int port,
                          const std::string& config) {
  const char* bin_dir = std::getenv("LINEBRIDGE_BIN_DIR");
  if (bin_dir == nullptr) {
    *error = "LINEBRIDGE_BIN_DIR is not set";
    return false;
  }
  dir_ = dir;
  config_ = config;
  const std::string binary = absl::StrCat(bin_dir, "/linebridged");
  const std::string port_file = dir + "/port";
  const std::string data_dir = dir + "/data";
  const std::string log = dir + "/linebridged.log";
  const std::string listen = absl::StrCat("127.0.0.1:", port);
  std::remove(port_file.c_str());
  pid_ = fork();
  if (pid_ < 0) {
    *error = "fork failed";
    return false;
  }
  if (pid_ == 0) {
    prctl(PR_SET_PDEATHSIG, SIGKILL);  // never outlive the test
    FILE* out = std::freopen(log.c_str(), "a", stderr);
    (void)out;
    if (config.empty()) {
      execl(binary.c_str(), binary.c_str(), "--listen", listen.c_str(), "--port_file",
            port_file.c_str(), "--data_dir", data_dir.c_str(), static_cast<char*>(nullptr));
    } else {
      execl(binary.c_str(), binary.c_str(), "--listen", listen.c_str(), "--port_file",
            port_file.c_str(), "--data_dir", data_dir.c_str(), "--config", config.c_str(),
            static_cast<char*>(nullptr));
    }
    _exit(127);
  }
  const absl::Time deadline = MonotonicNow() + absl::Seconds(10);
  while (MonotonicNow() < deadline) {
    std::ifstream in(port_file);
    int bound = 0;
    if (in >> bound && bound > 0) {
      port_ = bound;
      return true;
    }
    int status = 0;
    if (waitpid(pid_, &status, WNOHANG) == pid_) {
      pid_ = -1;
      *error = absl::StrCat("linebridged exited at start; see ", log);
      return false;
    }
    absl::SleepFor(absl::Milliseconds(20));
  }
  *error = "linebridged did not report its port within 10 s";
  return false;
}

void ServerProcess::Pause() {
  if (pid_ <= 0) return;
  kill(pid_, SIGSTOP);
  // The signal stops every thread only when each is next scheduled; wait
  // (bounded) until the kernel reports the process stopped.
  const absl::Time deadline = MonotonicNow() + absl::Seconds(2);
  while (MonotonicNow() < deadline) {
    std::ifstream stat(absl::StrCat("/proc/", pid_, "/stat"));
    std::string text((std::istreambuf_iterator<char>(stat)), std::istreambuf_iterator<char>());
    const size_t paren = text.rfind(')');
    if (paren != std::string::npos && paren + 2 < text.size() && text[paren + 2] == 'T') return;
    absl::SleepFor(absl::Milliseconds(5));
  }
}

bool ServerProcess::Restart(std::string* error) {
  Stop();
  // The port was just released; a restart may race its reuse briefly.
  for (int attempt = 0; attempt < 20; ++attempt) {
    if (Start(dir_, error, port_, config_)) return true;
    absl::SleepFor(absl::Milliseconds(100));
  }
  return false;
}

void ServerProcess::Resume() {
  if (pid_ > 0) kill(pid_, SIGCONT);
}

bool WaitOrKill(pid_t pid, absl::Duration timeout, int* status) {
  const absl::Time deadline = MonotonicNow() + timeout;
  while (MonotonicNow() < deadline) {
    if (waitpid(pid, status, WNOHANG) == pid) return true;
    absl::SleepFor(absl::Milliseconds(10));
  }
  kill(pid, SIGKILL);
  waitpid(pid, status, 0);
  return false;
}

void StopDaemonProcess(pid_t pid, const std::string& log) {
  kill(pid, SIGCONT);
  kill(pid, SIGTERM);
  int status = 0;
  if (!WaitOrKill(pid, absl::Seconds(30), &status)) {
    ADD_FAILURE() << "linebridged did not stop within 30 s of SIGTERM; see " << log;
  } else if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    ADD_FAILURE() << "linebridged ended with "
                  << (WIFEXITED(status) ? absl::StrCat("exit status ", WEXITSTATUS(status))
                                        : absl::StrCat("signal ", WTERMSIG(status)))
                  << " on SIGTERM; see " << log;
  }
  CheckDaemonLog(log);
}

void CheckDaemonLog(const std::string& log) {
  std::ifstream in(log);
  std::string line;
  std::string report;
  while (std::getline(in, line)) {
    if (!report.empty() || line.find("ERROR: AddressSanitizer") != std::string::npos ||
        line.find("ERROR: LeakSanitizer") != std::string::npos ||
        line.find("runtime error:") != std::string::npos) {
      if (report.size() < 8000) absl::StrAppend(&report, line, "\n");
    }
  }
  if (!report.empty()) ADD_FAILURE() << "sanitizer report in " << log << ":\n" << report;
}

void ServerProcess::Stop() {
  if (pid_ <= 0) return;
  const pid_t pid = pid_;
  pid_ = -1;
  StopDaemonProcess(pid, dir_ + "/linebridged.log");
}

void ServerProcess::Kill() {
  if (pid_ <= 0) return;
  kill(pid_, SIGKILL);
  int status = 0;
  waitpid(pid_, &status, 0);
  pid_ = -1;
  CheckDaemonLog(dir_ + "/linebridged.log");
}

TcpProxy::~TcpProxy() {
  {
    absl::MutexLock lock(&mu_);
    stop_ = true;
  }
  if (wake_[1] >= 0) (void)!write(wake_[1], "x", 1);
  if (thread_.joinable()) thread_.join();
  if (listen_fd_ >= 0) close(listen_fd_);
  if (wake_[0] >= 0) close(wake_[0]);
  if (wake_[1] >= 0) close(wake_[1]);
}

bool TcpProxy::Start(int target_port, std::string* error) {
  target_port_ = target_port;
  listen_fd_ = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  socklen_t len = sizeof addr;
  if (listen_fd_ < 0 || bind(listen_fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
      listen(listen_fd_, 16) != 0 ||
      getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&addr), &len) != 0 || pipe(wake_) != 0) {
    *error = "proxy: cannot listen on 127.0.0.1";
    return false;
  }
  port_ = ntohs(addr.sin_port);
  thread_ = std::thread([this] { Run(); });
  return true;
}

void TcpProxy::Cut() {
  absl::MutexLock lock(&mu_);
  cut_ = true;
  drop_all_ = true;
  (void)!write(wake_[1], "x", 1);
}

void TcpProxy::Restore() {
  absl::MutexLock lock(&mu_);
  cut_ = false;
  (void)!write(wake_[1], "x", 1);
}

void TcpProxy::Run() {
  struct Pair {
    int a, b;  // client side, server side
  };
  std::vector<Pair> pairs;
  auto close_pair = [](Pair& p) {
    close(p.a);
    close(p.b);
  };
  for (;;) {
    bool cut;
    {
      absl::MutexLock lock(&mu_);
      if (stop_) break;
      cut = cut_;
      if (drop_all_) {
        for (Pair& p : pairs) close_pair(p);
        pairs.clear();
        drop_all_ = false;
      }
    }
    std::vector<pollfd> fds;
    fds.push_back({wake_[0], POLLIN, 0});
    fds.push_back({listen_fd_, POLLIN, 0});
    for (const Pair& p : pairs) {
      fds.push_back({p.a, POLLIN, 0});
      fds.push_back({p.b, POLLIN, 0});
    }
    if (poll(fds.data(), fds.size(), 200) < 0) continue;
    if (fds[0].revents & POLLIN) {
      char buf[64];
      (void)!read(wake_[0], buf, sizeof buf);
    }
    const size_t polled = pairs.size();  // fds covers these; a new pair waits a round
    if (fds[1].revents & POLLIN) {
      const int client = accept(listen_fd_, nullptr, nullptr);
      if (client >= 0) {
        int upstream = -1;
        if (!cut) {
          upstream = socket(AF_INET, SOCK_STREAM, 0);
          sockaddr_in addr{};
          addr.sin_family = AF_INET;
          addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
          addr.sin_port = htons(static_cast<uint16_t>(target_port_));
          if (connect(upstream, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
            close(upstream);
            upstream = -1;
          }
        }
        if (upstream < 0) {
          close(client);
        } else {
          pairs.push_back({client, upstream});
        }
      }
    }
    std::vector<size_t> dead;
    for (size_t i = 0; i < polled; ++i) {
      const pollfd& pa = fds[2 + 2 * i];
      const pollfd& pb = fds[3 + 2 * i];
      bool closed = false;
      for (int dir = 0; dir < 2 && !closed; ++dir) {
        const pollfd& from = dir == 0 ? pa : pb;
        if ((from.revents & (POLLIN | POLLHUP | POLLERR)) == 0) continue;
        char buf[16384];
        const ssize_t n = read(from.fd, buf, sizeof buf);
        if (n <= 0) {
          closed = true;
          break;
        }
        const int to = dir == 0 ? pairs[i].b : pairs[i].a;
        ssize_t off = 0;
        while (off < n) {
          const ssize_t w = write(to, buf + off, static_cast<size_t>(n - off));
          if (w <= 0) {
            closed = true;
            break;
          }
          off += w;
        }
      }
      if (closed) dead.push_back(i);
    }
    for (size_t k = dead.size(); k-- > 0;) {
      close_pair(pairs[dead[k]]);
      pairs.erase(pairs.begin() + static_cast<std::ptrdiff_t>(dead[k]));
    }
  }
  for (Pair& p : pairs) close_pair(p);
}

int RunLinectl(const std::vector<std::string>& args, std::string* output) {
  return RunTool("linectl", args, output);
}

int RunTool(const std::string& name, const std::vector<std::string>& args, std::string* output) {
  const char* bin_dir = std::getenv("LINEBRIDGE_BIN_DIR");
  if (bin_dir == nullptr) return -1;
  const std::string binary = absl::StrCat(bin_dir, "/", name);
  char path[] = "/tmp/lb-linectl.XXXXXX";
  const int fd = mkstemp(path);
  if (fd < 0) return -1;
  const pid_t pid = fork();
  if (pid == 0) {
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    dup2(fd, 1);
    dup2(fd, 2);
    std::vector<char*> argv;
    argv.push_back(const_cast<char*>(binary.c_str()));
    for (const std::string& a : args) argv.push_back(const_cast<char*>(a.c_str()));
    argv.push_back(nullptr);
    execv(binary.c_str(), argv.data());
    _exit(127);
  }
  close(fd);
  int status = -1;
  const bool exited = WaitOrKill(pid, absl::Seconds(5), &status);
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  if (output != nullptr) *output = text.str();
  std::remove(path);
  if (!exited) return -1;
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

}  // namespace linebridge::tsp_test
