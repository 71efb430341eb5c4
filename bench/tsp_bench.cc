// tsp_bench: linebridge.tsp measured the way TAPISRV uses it, against a real
// linebridged spawned by the bench, with the C++ SDK doing the same work in a
// child process of the same run as the baseline. See bench/README.md.
//
//   tsp_bench [--quick] [--iterations N] [--bin_dir DIR] [--library PATH]
//
// 1. memory: RSS of this process after dlopen(), then with the provider
//    started against a linebridged with 1,000 sim lines (enumerated at
//    providerEnumDevices; any LINE_CREATE answered with
//    TSPI_providerCreateLineDevice) and all 1,000 lines open.
// 2. latency: lineMakeCall -> ASYNC_COMPLETION and -> LINE_CALLSTATE
//    CONNECTED through the TSP, one call at a time, against the same
//    operation through the SDK (tsp_bench_sdk: MakeCall RPC -> response and
//    -> CallStateChanged CONNECTED). Target: TSP p50 <= 1.10 x SDK p50.
// 3. events: LINEEVENTs per second delivered to the LINEEVENT callback while
//    8 lines make, connect and drop calls concurrently.
//
// The library is loaded with dlopen() and every TSPI function resolved with
// dlsym(), as the TAPISRV harness (tests/tsp) does; this binary does not link
// the generated API (it would clash with the library's copy).
// Exit status: 0 ran (targets met or not; see the table), 2 could not run.
#include <dlfcn.h>
#include <execinfo.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <map>
#include <mutex>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "absl/synchronization/mutex.h"
#include "linebridge/tapi_abi.h"

namespace {

using Clock = std::chrono::steady_clock;
constexpr DWORD kVersion = 0x00030000;
constexpr DWORD kProviderId = 7;
constexpr DWORD kLineBase = 0;

// A crash anywhere (the provider's or gRPC's threads included) prints the
// faulting thread's stack before the process dies.
void OnCrash(int sig) {
  void* frames[64];
  const int n = backtrace(frames, 64);
  const char msg[] = "tsp_bench: fatal signal; stack:\n";
  (void)!write(2, msg, sizeof msg - 1);
  backtrace_symbols_fd(frames, n, 2);
  signal(sig, SIG_DFL);
  raise(sig);
}

void Progress(const std::string& what) { std::fprintf(stderr, "[tsp_bench] %s\n", what.c_str()); }

double Us(Clock::time_point from, Clock::time_point to) {
  return std::chrono::duration<double, std::micro>(to - from).count();
}

[[noreturn]] void Die(const std::string& what) {
  std::fprintf(stderr, "tsp_bench: %s\n", what.c_str());
  std::exit(2);
}

double Percentile(std::vector<double> v, double p) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  size_t rank = static_cast<size_t>(p / 100.0 * static_cast<double>(v.size()) + 0.999999);
  rank = std::clamp<size_t>(rank, 1, v.size());
  return v[rank - 1];
}

uint64_t RssBytes(pid_t pid) {
  std::ifstream in("/proc/" + (pid == 0 ? std::string("self") : std::to_string(pid)) + "/status");
  std::string key;
  while (in >> key) {
    if (key == "VmRSS:") {
      uint64_t kb = 0;
      in >> kb;
      return kb * 1024;
    }
    std::string rest;
    std::getline(in, rest);
  }
  return 0;
}

// ---- the provider, loaded like TAPISRV loads it ------------------------------

struct Tspi {
#define LB_TSPI_POINTER(NAME, PARAMS) decltype(&::NAME) NAME = nullptr;
  LINEBRIDGE_TSPI_FUNCTIONS(LB_TSPI_POINTER)
#undef LB_TSPI_POINTER
};
Tspi g_tspi;

struct CallRecord {
  Clock::time_point connected{};
  bool is_connected = false;
  bool idle = false;
};

// What the callbacks saw.
struct Seen {
  std::mutex mu;
  std::condition_variable cv;
  std::map<DRV_REQUESTID, std::pair<LONG, Clock::time_point>> completions;
  std::map<HTAPICALL, CallRecord> calls;
  std::vector<DWORD> devices;  // created through LINE_CREATE
  DWORD next_device = kLineBase;
};
Seen g_seen;
std::atomic<uint64_t> g_line_events{0};
std::atomic<DRV_REQUESTID> g_next_request{1};

void LineEvent(HTAPILINE, HTAPICALL ht_call, DWORD msg, DWORD_PTR p1, DWORD_PTR p2, DWORD_PTR) {
  const Clock::time_point now = Clock::now();
  g_line_events.fetch_add(1, std::memory_order_relaxed);
  if (msg == LINE_CREATE) {
    DWORD device;
    {
      std::lock_guard<std::mutex> lock(g_seen.mu);
      device = g_seen.next_device++;
    }
    // TAPISRV answers LINE_CREATE with providerCreateLineDevice.
    if (g_tspi.TSPI_providerCreateLineDevice(p2, device) != 0) Die("providerCreateLineDevice failed");
    std::lock_guard<std::mutex> lock(g_seen.mu);
    g_seen.devices.push_back(device);
    g_seen.cv.notify_all();
    return;
  }
  if (msg == LINE_NEWCALL) {
    // Calls not made by us (none expected): give them a handle anyway.
    static std::atomic<uintptr_t> next{0x900000};
    *reinterpret_cast<HTAPICALL*>(p2) = reinterpret_cast<HTAPICALL>(next++);
    return;
  }
  if (msg != LINE_CALLSTATE) return;
  std::lock_guard<std::mutex> lock(g_seen.mu);
  CallRecord& c = g_seen.calls[ht_call];
  if (p1 == LINECALLSTATE_CONNECTED && !c.is_connected) {
    c.is_connected = true;
    c.connected = now;
  } else if (p1 == LINECALLSTATE_IDLE) {
    c.idle = true;
  }
  g_seen.cv.notify_all();
}

void Completion(DRV_REQUESTID id, LONG result) {
  const Clock::time_point now = Clock::now();
  std::lock_guard<std::mutex> lock(g_seen.mu);
  g_seen.completions[id] = {result, now};
  g_seen.cv.notify_all();
}

template <typename Pred>
bool WaitFor(Pred pred, double seconds) {
  std::unique_lock<std::mutex> lock(g_seen.mu);
  return g_seen.cv.wait_for(lock, std::chrono::duration<double>(seconds), pred);
}

void LoadLibrary(const std::string& path) {
  void* lib = dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
  if (lib == nullptr) Die(std::string("dlopen: ") + dlerror());
#define LB_RESOLVE(NAME, PARAMS)                                              \
  g_tspi.NAME = reinterpret_cast<decltype(g_tspi.NAME)>(dlsym(lib, #NAME));   \
  if (g_tspi.NAME == nullptr) Die("missing export " #NAME);
  LINEBRIDGE_TSPI_FUNCTIONS(LB_RESOLVE)
#undef LB_RESOLVE
}

void StartProvider(const std::string& conf) {
  setenv("LINEBRIDGE_TSP_CONFIG", conf.c_str(), 1);
  {
    std::lock_guard<std::mutex> lock(g_seen.mu);
    g_seen.devices.clear();
    g_seen.next_device = kLineBase;
  }
  DWORD lines = 0, phones = 0;
  if (g_tspi.TSPI_providerEnumDevices(kProviderId, &lines, &phones,
                                      reinterpret_cast<HPROVIDER>(uintptr_t{1}), &LineEvent,
                                      nullptr) != 0) {
    Die("providerEnumDevices failed (configuration?)");
  }
  {
    // The lines the server listed at enumeration are devices already; later
    // ones come through LINE_CREATE.
    std::lock_guard<std::mutex> lock(g_seen.mu);
    for (DWORD i = 0; i < lines; ++i) g_seen.devices.push_back(kLineBase + i);
    g_seen.next_device = kLineBase + lines;
  }
  DWORD options = 0;
  if (g_tspi.TSPI_providerInit(kVersion, kProviderId, kLineBase, 0, lines, 0, &Completion,
                               &options) != 0) {
    Die("providerInit failed");
  }
}

// The SwitchInfo (permanent line id) of `device` if the provider knows the line.
std::string LineIdOf(DWORD device) {
  std::vector<unsigned char> b(4096, 0);
  const DWORD total = static_cast<DWORD>(b.size());
  std::memcpy(b.data(), &total, sizeof total);
  if (g_tspi.TSPI_lineGetDevCaps(device, kVersion, 0, reinterpret_cast<LPLINEDEVCAPS>(b.data())) != 0) {
    return "";
  }
  LINEDEVCAPS caps;
  std::memcpy(&caps, b.data(), sizeof caps);
  if ((caps.dwLineFeatures & LINEFEATURE_MAKECALL) == 0) return "";
  std::string id;
  for (DWORD i = 0; i + 1 < caps.dwSwitchInfoSize; i += 2) {
    char16_t c;
    std::memcpy(&c, b.data() + caps.dwSwitchInfoOffset + i, 2);
    if (c == 0) break;
    id.push_back(static_cast<char>(c));
  }
  return id;
}

// ---- linebridged ---------------------------------------------------------------

class Daemon {
 public:
  Daemon(const std::string& binary, const std::string& dir, const std::string& config) {
    const std::string port_file = dir + "/port";
    const std::string data = dir + "/data";
    const std::string log = dir + "/linebridged.log";
    pid_ = fork();
    if (pid_ == 0) {
      prctl(PR_SET_PDEATHSIG, SIGKILL);
      if (std::freopen(log.c_str(), "a", stderr) == nullptr) _exit(126);
      if (config.empty()) {
        execl(binary.c_str(), binary.c_str(), "--listen", "127.0.0.1:0", "--port_file",
              port_file.c_str(), "--data_dir", data.c_str(), static_cast<char*>(nullptr));
      } else {
        execl(binary.c_str(), binary.c_str(), "--config", config.c_str(), "--listen",
              "127.0.0.1:0", "--port_file", port_file.c_str(), "--data_dir", data.c_str(),
              static_cast<char*>(nullptr));
      }
      _exit(127);
    }
    const Clock::time_point deadline = Clock::now() + std::chrono::seconds(20);
    while (Clock::now() < deadline) {
      std::ifstream in(port_file);
      if (in >> port_ && port_ > 0) return;
      int status = 0;
      if (waitpid(pid_, &status, WNOHANG) == pid_) {
        pid_ = -1;
        Die("linebridged exited at start; see " + log);
      }
      usleep(20000);
    }
    Die("linebridged did not report its port");
  }
  ~Daemon() {
    if (pid_ <= 0) return;
    kill(pid_, SIGTERM);
    int status = 0;
    waitpid(pid_, &status, 0);
  }
  std::string address() const { return "127.0.0.1:" + std::to_string(port_); }

 private:
  pid_t pid_ = -1;
  int port_ = 0;
};

std::string WriteFile(const std::string& path, const std::string& text) {
  std::ofstream(path) << text;
  return path;
}

std::string TspConf(const std::string& dir, const std::string& server) {
  return WriteFile(dir + "/tsp.conf", "server = " + server +
                                          "\nclient_name = tsp-bench\ndeadline_ms = 5000\n");
}

// Runs tsp_bench_sdk; returns its samples by kind ("response", "connected").
bool g_deadlock_detection = false;
std::map<std::string, std::vector<double>> RunSdk(const std::string& binary,
                                                  const std::string& server, int iterations,
                                                  int warmup, const std::string& dir) {
  const std::string out = dir + "/sdk.out";
  const pid_t pid = fork();
  if (pid == 0) {
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (std::freopen(out.c_str(), "w", stdout) == nullptr) _exit(126);
    const std::string n = std::to_string(iterations), w = std::to_string(warmup);
    execl(binary.c_str(), binary.c_str(), "--server", server.c_str(), "--line", "sim/100",
          "--dest", "5550100", "--iterations", n.c_str(), "--warmup", w.c_str(),
          "--absl_deadlock_detection", g_deadlock_detection ? "on" : "off",
          static_cast<char*>(nullptr));
    _exit(127);
  }
  int status = 0;
  waitpid(pid, &status, 0);
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) Die("tsp_bench_sdk failed");
  std::map<std::string, std::vector<double>> samples;
  std::ifstream in(out);
  std::string kind;
  double us = 0;
  while (in >> kind >> us) samples[kind].push_back(us);
  return samples;
}

struct Row {
  std::string name;
  double value;
  std::string baseline;
  std::string result;
};

}  // namespace

int main(int argc, char** argv) {
  bool quick = false;
  bool deadlock_detection = false;
  int iterations = 300;
  std::string self_dir;
  {
    char buf[4096];
    const ssize_t n = readlink("/proc/self/exe", buf, sizeof buf - 1);
    if (n > 0) {
      buf[n] = '\0';
      self_dir = buf;
      self_dir = self_dir.substr(0, self_dir.rfind('/'));
    }
  }
  std::string bin_dir = self_dir;
  std::string library = self_dir + "/../lib/liblinebridge_tsp.so";
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "--quick") {
      quick = true;
    } else if (a == "--absl_deadlock_detection") {
      deadlock_detection = true;
    } else if (a == "--iterations" && i + 1 < argc) {
      iterations = std::atoi(argv[++i]);
    } else if (a == "--bin_dir" && i + 1 < argc) {
      bin_dir = argv[++i];
    } else if (a == "--library" && i + 1 < argc) {
      library = argv[++i];
    } else {
      std::fprintf(stderr, "usage: tsp_bench [--quick] [--iterations N] [--bin_dir DIR] [--library PATH]"
                           " [--absl_deadlock_detection]\n");
      return 1;
    }
  }
  if (quick) iterations = std::min(iterations, 20);
  const int warmup = quick ? 3 : 20;
  const int memory_lines = quick ? 100 : 1000;
  char tmpl[] = "/tmp/lb-tspbench.XXXXXX";
  const std::string dir = mkdtemp(tmpl);
  std::vector<Row> rows;

  // Debian's Abseil is built without NDEBUG, so absl::Mutex runs its
  // lock-order (deadlock) detection on every lock; release builds (NDEBUG,
  // e.g. vcpkg's on Windows) do not, and linebridged turns it off. Off here
  // for both sides (the TSP shares this process's Abseil; tsp_bench_sdk
  // follows --absl_deadlock_detection too), unless asked for.
  signal(SIGSEGV, OnCrash);
  signal(SIGABRT, OnCrash);
  g_deadlock_detection = deadlock_detection;
  if (!deadlock_detection) absl::SetMutexDeadlockDetectionMode(absl::OnDeadlockCycle::kIgnore);
  LoadLibrary(library);

  Progress("memory: " + std::to_string(memory_lines) + " lines");
  // ---- 1. memory --------------------------------------------------------------
  {
    const std::string mdir = dir + "/memory";
    mkdir(mdir.c_str(), 0700);
    std::string config = "providers { sim { name: \"sim\"\n";
    for (int i = 0; i < memory_lines; ++i) {
      config += "  extensions { number: \"" + std::to_string(2000 + i) + "\" }\n";
    }
    config += "} }\n";
    Daemon daemon(bin_dir + "/linebridged", mdir, WriteFile(mdir + "/server.textproto", config));
    const uint64_t rss0 = RssBytes(0);
    StartProvider(TspConf(mdir, daemon.address()));
    if (!WaitFor([&] { return g_seen.devices.size() >= static_cast<size_t>(memory_lines); }, 60)) {
      Die("not all lines arrived (enumerated or through LINE_CREATE)");
    }
    std::vector<DWORD> devices;
    {
      std::lock_guard<std::mutex> lock(g_seen.mu);
      devices = g_seen.devices;
    }
    const uint64_t rss_known = RssBytes(0);
    Progress("memory: lines known");
    std::vector<HDRVLINE> open;
    uintptr_t ht = 0x10000;
    for (DWORD d : devices) {
      HDRVLINE hd = nullptr;
      if (g_tspi.TSPI_lineOpen(d, reinterpret_cast<HTAPILINE>(ht++), &hd, kVersion, &LineEvent) != 0) {
        Die("lineOpen failed");
      }
      open.push_back(hd);
    }
    usleep(quick ? 500000 : 2000000);  // the server-side opens settle
    const uint64_t rss_open = RssBytes(0);
    Progress("memory: lines open; closing, shutting down");
    for (HDRVLINE hd : open) g_tspi.TSPI_lineClose(hd);
    // At once, with the CloseLine RPCs in flight (tsp_shutdown_test).
    g_tspi.TSPI_providerShutdown(kVersion, kProviderId);
    Progress("memory: provider shut down");
    const double mib = 1024.0 * 1024.0;
    const std::string n = std::to_string(memory_lines);
    rows.push_back({"TSP RSS delta, " + n + " lines known (MiB)", (rss_known - rss0) / mib, "", "info"});
    rows.push_back({"TSP RSS delta, " + n + " lines open (MiB)", (rss_open - rss0) / mib, "", "info"});
    rows.push_back({"  per open line (KiB)", (rss_open - rss0) / 1024.0 / memory_lines, "", "info"});
  }

  // ---- 2. latency: SDK and TSP in alternating blocks, same daemon -----------------
  // Machine noise then hits both sides alike. During an SDK block the provider
  // is shut down (it would otherwise monitor sim/100 and see the SDK's calls).
  const std::string ldir = dir + "/latency";
  mkdir(ldir.c_str(), 0700);
  Daemon daemon(bin_dir + "/linebridged", ldir, "");
  const std::string tsp_conf = TspConf(ldir, daemon.address());
  uintptr_t next_call = 0x30000;
  // One call: make -> completion -> CONNECTED, then drop -> IDLE.
  auto one_call = [&](HDRVLINE line, double* completion_us, double* connected_us) {
    const HTAPICALL ht_call = reinterpret_cast<HTAPICALL>(next_call++);
    HDRVCALL hd_call = nullptr;
    const DRV_REQUESTID make = g_next_request++;
    const Clock::time_point t0 = Clock::now();
    const LONG r = g_tspi.TSPI_lineMakeCall(make, line, ht_call, &hd_call, u"5550100", 0, nullptr);
    if (r != static_cast<LONG>(make)) Die("lineMakeCall returned " + std::to_string(r));
    if (!WaitFor([&] {
          return g_seen.completions.count(make) > 0 && g_seen.calls[ht_call].is_connected;
        }, 10)) {
      Die("call did not complete/connect");
    }
    {
      std::lock_guard<std::mutex> lock(g_seen.mu);
      if (g_seen.completions[make].first != 0) Die("lineMakeCall completed with an error");
      if (completion_us) *completion_us = Us(t0, g_seen.completions[make].second);
      if (connected_us) *connected_us = Us(t0, g_seen.calls[ht_call].connected);
    }
    const DRV_REQUESTID drop = g_next_request++;
    if (g_tspi.TSPI_lineDrop(drop, hd_call, nullptr, 0) != static_cast<LONG>(drop)) Die("lineDrop");
    WaitFor([&] { return g_seen.calls[ht_call].idle; }, 10);
    g_tspi.TSPI_lineCloseCall(hd_call);
  };
  // Starts the provider and opens sim/100..sim/107 as they appear.
  std::map<std::string, DWORD> by_line;
  auto start_tsp = [&]() {
    StartProvider(tsp_conf);
    by_line.clear();
    const Clock::time_point find_deadline = Clock::now() + std::chrono::seconds(10);
    while (Clock::now() < find_deadline && by_line.size() < 8) {
      std::vector<DWORD> devices;
      {
        std::lock_guard<std::mutex> lock(g_seen.mu);
        devices = g_seen.devices;
      }
      for (DWORD d : devices) {
        const std::string id = LineIdOf(d);
        if (!id.empty()) by_line[id] = d;
      }
      usleep(20000);
    }
    if (by_line.count("sim/100") == 0) Die("sim/100 never appeared");
    HDRVLINE hd = nullptr;
    if (g_tspi.TSPI_lineOpen(by_line["sim/100"], reinterpret_cast<HTAPILINE>(uintptr_t{0x20000}),
                             &hd, kVersion, &LineEvent) != 0) {
      Die("lineOpen sim/100 failed");
    }
    return hd;
  };
  const int blocks = quick ? 1 : 6;
  const int per_block = std::max(1, iterations / blocks);
  std::map<std::string, std::vector<double>> sdk;
  std::vector<double> completion, connected;
  HDRVLINE hd_line = nullptr;
  for (int block = 0; block < blocks; ++block) {
    Progress("latency block " + std::to_string(block + 1) + "/" + std::to_string(blocks));
    auto sdk_block = [&]() {
      auto samples = RunSdk(bin_dir + "/tsp_bench_sdk", daemon.address(), per_block, warmup, ldir);
      if (samples["response"].size() != static_cast<size_t>(per_block)) Die("SDK baseline incomplete");
      for (auto& [kind, v] : samples) sdk[kind].insert(sdk[kind].end(), v.begin(), v.end());
    };
    auto tsp_block = [&](bool keep_running) {
      hd_line = start_tsp();
      for (int i = 0; i < warmup; ++i) one_call(hd_line, nullptr, nullptr);
      for (int i = 0; i < per_block; ++i) {
        double a = 0, b = 0;
        one_call(hd_line, &a, &b);
        completion.push_back(a);
        connected.push_back(b);
      }
      if (!keep_running) {
        g_tspi.TSPI_lineClose(hd_line);
        g_tspi.TSPI_providerShutdown(kVersion, kProviderId);
      }
    };
    const bool last = block + 1 == blocks;
    if (block % 2 == 0) {
      sdk_block();
      tsp_block(last);  // the last TSP block leaves the provider up for phase 3
    } else {
      tsp_block(false);
      sdk_block();
      if (last) hd_line = start_tsp();
    }
  }
  const double sdk_resp = Percentile(sdk["response"], 50);
  const double sdk_conn = Percentile(sdk["connected"], 50);
  const double tsp_comp = Percentile(completion, 50);
  const double tsp_conn = Percentile(connected, 50);
  auto verdict = [](double ratio) { return ratio <= 1.10 ? "PASS" : "FAIL"; };
  char buf[160];
  std::snprintf(buf, sizeof buf, "SDK response %.0f (x%.3f)", sdk_resp, tsp_comp / sdk_resp);
  rows.push_back({"lineMakeCall -> ASYNC_COMPLETION p50 (us)", tsp_comp, buf, verdict(tsp_comp / sdk_resp)});
  std::snprintf(buf, sizeof buf, "SDK CONNECTED event %.0f (x%.3f)", sdk_conn, tsp_conn / sdk_conn);
  rows.push_back({"lineMakeCall -> LINE_CALLSTATE CONNECTED p50 (us)", tsp_conn, buf, verdict(tsp_conn / sdk_conn)});
  std::snprintf(buf, sizeof buf, "SDK p99 %.0f", Percentile(sdk["response"], 99));
  rows.push_back({"  ASYNC_COMPLETION p99 (us)", Percentile(completion, 99), buf, "info"});
  std::snprintf(buf, sizeof buf, "SDK p99 %.0f", Percentile(sdk["connected"], 99));
  rows.push_back({"  CONNECTED p99 (us)", Percentile(connected, 99), buf, "info"});

  Progress("events");
  // ---- 3. LINEEVENTs/s: 8 lines making, connecting and dropping calls at once ---
  {
    std::vector<HDRVLINE> lines;
    uintptr_t ht = 0x21000;
    for (int i = 100; i < 108; ++i) {
      const std::string id = "sim/" + std::to_string(i);
      if (by_line.count(id) == 0) continue;
      HDRVLINE hd = hd_line;
      if (i != 100 && g_tspi.TSPI_lineOpen(by_line[id], reinterpret_cast<HTAPILINE>(ht++), &hd,
                                           kVersion, &LineEvent) != 0) {
        Die("lineOpen " + id);
      }
      lines.push_back(hd);
    }
    usleep(300000);
    const int rounds = quick ? 5 : 250;
    const uint64_t events0 = g_line_events.load();
    const Clock::time_point t0 = Clock::now();
    for (int round = 0; round < rounds; ++round) {
      std::vector<std::pair<HTAPICALL, HDRVCALL>> calls;
      std::vector<DRV_REQUESTID> makes;
      for (HDRVLINE line : lines) {
        const HTAPICALL ht_call = reinterpret_cast<HTAPICALL>(next_call++);
        HDRVCALL hd_call = nullptr;
        const DRV_REQUESTID make = g_next_request++;
        if (g_tspi.TSPI_lineMakeCall(make, line, ht_call, &hd_call, u"5550100", 0, nullptr) !=
            static_cast<LONG>(make)) {
          Die("lineMakeCall (events)");
        }
        calls.push_back({ht_call, hd_call});
        makes.push_back(make);
      }
      if (!WaitFor([&] {
            for (size_t i = 0; i < calls.size(); ++i) {
              if (g_seen.completions.count(makes[i]) == 0 || !g_seen.calls[calls[i].first].is_connected) {
                return false;
              }
            }
            return true;
          }, 20)) {
        Die("burst calls did not connect");
      }
      for (auto& [ht_call, hd_call] : calls) {
        const DRV_REQUESTID drop = g_next_request++;
        g_tspi.TSPI_lineDrop(drop, hd_call, nullptr, 0);
      }
      WaitFor([&] {
        for (auto& c : calls) {
          if (!g_seen.calls[c.first].idle) return false;
        }
        return true;
      }, 20);
      for (auto& c : calls) g_tspi.TSPI_lineCloseCall(c.second);
    }
    const double seconds = Us(t0, Clock::now()) / 1e6;
    const uint64_t events = g_line_events.load() - events0;
    std::snprintf(buf, sizeof buf, "%llu events, %d calls, %.2f s",
                  static_cast<unsigned long long>(events), rounds * static_cast<int>(lines.size()),
                  seconds);
    rows.push_back({"LINEEVENTs/s delivered (8 lines, calls in parallel)", events / seconds, buf, "info"});
  }
  g_tspi.TSPI_providerShutdown(kVersion, kProviderId);

  std::printf("\ntsp_bench%s: %zu calls per side in %d alternating blocks (each after %d warm-up"
              " calls), linebridged on 127.0.0.1, Abseil deadlock detection %s\n",
              quick ? " --quick" : "", completion.size(), blocks, warmup,
              deadlock_detection ? "on" : "off");
  std::printf("%-55s %12s  %-34s %s\n", "figure", "value", "baseline (same run)", "result");
  for (const Row& r : rows) {
    std::printf("%-55s %12.1f  %-34s %s\n", r.name.c_str(), r.value, r.baseline.c_str(),
                r.result.c_str());
  }
  std::string cmd = "rm -rf '" + dir + "'";
  if (std::system(cmd.c_str()) != 0) std::fprintf(stderr, "tsp_bench: could not remove %s\n", dir.c_str());
  std::fflush(stdout);
  // The provider keeps gRPC threads; leave without running their destructors.
  std::_Exit(0);
}
