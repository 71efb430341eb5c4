#include "sip_bench_util.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <ctime>
#include <fstream>
#include <sstream>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "bench_util.h"

namespace linebridge::bench {

int64_t WallUs() {
  return std::chrono::duration_cast<std::chrono::microseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// ---------------------------------------------------------------------------
// EventHub

EventHub::EventHub(v1::Telephony::Stub& telephony, Handler on_event)
    : telephony_(telephony), on_event_(std::move(on_event)) {}

EventHub::~EventHub() {
  context_.TryCancel();
  if (thread_.joinable()) thread_.join();
  if (reader_ != nullptr) (void)reader_->Finish();
}

bool EventHub::Start() {
  reader_ = telephony_.Subscribe(&context_, v1::SubscribeRequest());
  v1::EventBatch first;
  if (!reader_->Read(&first) || !first.has_snapshot()) return false;
  while (first.snapshot().more()) {
    if (!reader_->Read(&first)) return false;
  }
  thread_ = std::thread([this] { Run(); });
  return true;
}

void EventHub::Run() {
  v1::EventBatch batch;
  while (reader_->Read(&batch)) {
    const int64_t now = WallUs();
    for (const v1::Event& ev : batch.events()) {
      if (on_event_) on_event_(ev, now);
      std::string call;
      int state = 0;
      if (ev.has_call_created()) {
        call = ev.call_created().call().id();
        state = ev.call_created().call().status().state();
      } else if (ev.has_call_state()) {
        call = ev.call_state().call_id();
        state = ev.call_state().status().state();
      } else {
        continue;
      }
      std::lock_guard<std::mutex> lock(mu_);
      seen_[call].insert(state);
    }
    cv_.notify_all();
  }
  std::lock_guard<std::mutex> lock(mu_);
  ended_ = true;
  cv_.notify_all();
}

bool EventHub::Await(const std::string& call, v1::CallState state, double seconds) {
  std::unique_lock<std::mutex> lock(mu_);
  return cv_.wait_for(lock, std::chrono::microseconds(static_cast<int64_t>(seconds * 1e6)), [&] {
    auto it = seen_.find(call);
    return ended_ || (it != seen_.end() && it->second.count(state) > 0);
  }) && !ended_;
}

void EventHub::Forget(const std::string& call) {
  std::lock_guard<std::mutex> lock(mu_);
  seen_.erase(call);
}

std::string EventHub::Seen(const std::string& call) {
  std::lock_guard<std::mutex> lock(mu_);
  std::string out;
  auto it = seen_.find(call);
  if (it == seen_.end()) return "none";
  for (int s : it->second) {
    absl::StrAppend(&out, out.empty() ? "" : " ", v1::CallState_Name(static_cast<v1::CallState>(s)));
  }
  return out;
}

// ---------------------------------------------------------------------------
// sipp

namespace {

bool PortIsFree(int port) {
  const int fd = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return false;
  sockaddr_in sa{};
  sa.sin_family = AF_INET;
  sa.sin_port = htons(static_cast<uint16_t>(port));
  sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  const bool free = ::bind(fd, reinterpret_cast<sockaddr*>(&sa), sizeof(sa)) == 0;
  ::close(fd);
  return free;
}

}  // namespace

std::string BenchScenarioDir() { return LINEBRIDGE_BENCH_SIP_SCENARIOS; }

std::string SippStatsPath(const std::string& dir, const std::string& tag) {
  return absl::StrCat(dir, "/sipp_", tag, "_stats.csv");
}

std::string SippMessagesPath(const std::string& dir, const std::string& tag) {
  return absl::StrCat(dir, "/sipp_", tag, "_messages.log");
}

bool StartSippRun(sip::testing::ChildProcess& child, const SippRun& run, const std::string& dir,
                  const std::string& tag) {
  std::vector<std::string> argv = {"sipp", "-sf", run.scenario, "-i", "127.0.0.1", "-p",
                                   absl::StrCat(run.port), "-nostdin", "-nd", "-s", run.service,
                                   "-timeout", absl::StrCat(run.timeout_s, "s"), "-trace_err",
                                   "-error_file", absl::StrCat(dir, "/sipp_", tag, "_errors.log"),
                                   "-mp", absl::StrCat(sip::testing::FreePort())};
  if (run.calls > 0) argv.insert(argv.end(), {"-m", absl::StrCat(run.calls)});
  if (run.concurrency > 0) argv.insert(argv.end(), {"-l", absl::StrCat(run.concurrency)});
  if (run.rate > 0) argv.insert(argv.end(), {"-r", absl::StrCat(run.rate)});
  if (run.trace_messages) {
    argv.insert(argv.end(), {"-trace_msg", "-message_file", SippMessagesPath(dir, tag)});
  }
  if (run.stats) {
    argv.insert(argv.end(), {"-trace_stat", "-stf", SippStatsPath(dir, tag), "-fd", "60"});
  }
  for (const auto& [k, v] : run.keys) argv.insert(argv.end(), {"-key", k, v});
  if (!run.remote.empty()) argv.push_back(run.remote);
  if (!child.Start(argv, absl::StrCat(dir, "/sipp_", tag, ".log"))) return false;
  // Ready when its SIP port is bound (sipp binds it before the scenario runs).
  const auto give_up = Clock::now() + std::chrono::seconds(5);
  while (Clock::now() < give_up) {
    if (!PortIsFree(run.port)) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));  // waiting for sipp to bind
  }
  return false;
}

bool ReadSippStats(const std::string& path, SippStats* out) {
  std::ifstream in(path);
  std::string header, line, last;
  if (!std::getline(in, header)) return false;
  while (std::getline(in, line)) {
    if (!line.empty()) last = line;
  }
  if (last.empty()) return false;
  const std::vector<std::string> names = absl::StrSplit(header, ';');
  const std::vector<std::string> values = absl::StrSplit(last, ';');
  auto field = [&](const std::string& name) -> std::string {
    for (size_t i = 0; i < names.size() && i < values.size(); ++i) {
      if (names[i] == name) return values[i];
    }
    return "";
  };
  // StartTime and CurrentTime are "date\ttime\tepoch.micros".
  auto epoch = [](const std::string& v) {
    double t = 0;
    const std::vector<std::string> parts = absl::StrSplit(v, '\t');
    if (parts.empty() || !absl::SimpleAtod(parts.back(), &t)) return 0.0;
    return t;
  };
  out->elapsed_s = epoch(field("CurrentTime")) - epoch(field("StartTime"));
  return absl::SimpleAtoi(field("SuccessfulCall(C)"), &out->successful) &&
         absl::SimpleAtoi(field("FailedCall(C)"), &out->failed) && out->elapsed_s > 0;
}

namespace {

// "----------------------------------------------- 2026-12-06 20:58:52.739466"
bool ParseTraceStamp(const std::string& line, int64_t* us) {
  const size_t dash_end = line.find_first_not_of('-');
  if (dash_end == std::string::npos || dash_end < 10) return false;
  const std::string stamp(absl::StripAsciiWhitespace(line.substr(dash_end)));
  std::tm tm{};
  int micros = 0;
  if (std::sscanf(stamp.c_str(), "%d-%d-%d %d:%d:%d.%d", &tm.tm_year, &tm.tm_mon, &tm.tm_mday,
                  &tm.tm_hour, &tm.tm_min, &tm.tm_sec, &micros) != 7) {
    return false;
  }
  tm.tm_year -= 1900;
  tm.tm_mon -= 1;
  tm.tm_isdst = -1;  // sipp writes local time
  const std::time_t t = std::mktime(&tm);
  *us = static_cast<int64_t>(t) * 1000000 + micros;
  return true;
}

}  // namespace

std::map<int64_t, SippCallTimes> ReadSippCallTimes(const std::string& path) {
  std::map<int64_t, SippCallTimes> out;
  std::ifstream in(path);
  std::string line;
  int64_t stamp = 0;
  bool sent = false;
  std::string first;  // the message's first line
  while (std::getline(in, line)) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.rfind("----------", 0) == 0) {
      ParseTraceStamp(line, &stamp);
      first.clear();
      continue;
    }
    if (line.find("message sent") != std::string::npos) {
      sent = true;
      continue;
    }
    if (line.find("message received") != std::string::npos) {
      sent = false;
      continue;
    }
    if (first.empty() && !line.empty()) {
      first = line;
      continue;
    }
    if (line.rfind("Call-ID:", 0) != 0) continue;
    // sipp's [call_id]: "<call number>-<pid>@<ip>".
    const std::string id(absl::StripAsciiWhitespace(line.substr(8)));
    int64_t number = 0;
    if (!absl::SimpleAtoi(id.substr(0, id.find('-')), &number)) continue;
    SippCallTimes& t = out[number];
    if (sent && first.rfind("INVITE ", 0) == 0 && t.invite_us == 0) t.invite_us = stamp;
    if (!sent && first.rfind("SIP/2.0 180", 0) == 0 && t.ringing_us == 0) t.ringing_us = stamp;
  }
  return out;
}

// ---------------------------------------------------------------------------
// Statistics

double Median(std::vector<double> v) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  return v.size() % 2 == 1 ? v[v.size() / 2] : (v[v.size() / 2 - 1] + v[v.size() / 2]) / 2;
}

double Min(const std::vector<double>& v) {
  return v.empty() ? 0 : *std::min_element(v.begin(), v.end());
}

double Max(const std::vector<double>& v) {
  return v.empty() ? 0 : *std::max_element(v.begin(), v.end());
}

std::string LoadAverage() {
  std::ifstream in("/proc/loadavg");
  std::string one, five, fifteen;
  if (!(in >> one >> five >> fifteen)) return "";
  return absl::StrCat(one, " ", five, " ", fifteen);
}

}  // namespace linebridge::bench
