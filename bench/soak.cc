// linebridge_soak: a real linebridged under mixed load for a long time, its
// resident memory, open descriptors and threads sampled; after the warm-up
// each must stay flat (at most 5 % growth, descriptors and threads at most
// +2). See docs/benchmarks.md.
//
//   linebridge_soak [--duration SECONDS] [--linebridged PATH] [--json FILE]
//
// The load, all over real gRPC on 127.0.0.1, paced rather than flat out (the
// point is what accumulates, not throughput):
//   - two threads making calls to an external that answers, then dropping
//     them; one thread calling extension to extension, answering, dropping;
//   - 8 event subscribers, each ending its stream every 20 s and resuming
//     from the last (epoch, sequence) it saw; a gap without a snapshot fails;
//   - sessions created, lines opened and the sessions closed;
//   - queries: ListLines, ListCalls, GetServerStatus, ListCallRecords;
//   - requests that fail (unknown line, bad dial string): errors and audit.
// Runs shorter than 10 minutes (the bench smoke run) check that the load
// runs without an error and the daemon stops cleanly, not the growth.
#include <dirent.h>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <grpcpp/grpcpp.h>

#include "bench_util.h"
#include "config/config.h"
#include "linebridge/v1/admin.grpc.pb.h"
#include "linebridge/v1/telephony.grpc.pb.h"

namespace linebridge::bench {
namespace {

constexpr double kRpcTimeout = 10;
constexpr int kSubscribers = 8;
constexpr double kResumeEvery = 20;   // seconds a subscriber's stream lasts
constexpr double kSampleEvery = 5;    // seconds between samples
constexpr double kMinGrowthCheck = 600;  // shorter runs do not judge growth

std::string Fmt2(double v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.2f", v);
  return buf;
}

struct Options {
  double duration = 1800;
  std::string linebridged;
  std::string json;
};

// What went wrong, from any thread; the first error ends the run.
class Errors {
 public:
  void Add(const std::string& what) {
    std::lock_guard<std::mutex> lock(mu_);
    if (first_.empty()) first_ = what;
    ++count_;
  }
  bool any() const {
    std::lock_guard<std::mutex> lock(mu_);
    return count_ > 0;
  }
  std::string first() const {
    std::lock_guard<std::mutex> lock(mu_);
    return first_;
  }

 private:
  mutable std::mutex mu_;
  std::string first_;
  int count_ = 0;
};

std::unique_ptr<grpc::ClientContext> Ctx() {
  auto c = std::make_unique<grpc::ClientContext>();
  c->set_deadline(DeadlineIn(kRpcTimeout));
  return c;
}

// Sleeps up to `seconds`, returning early (false) once `stop` is set.
bool Pause(const std::atomic<bool>& stop, double seconds) {
  const auto until = Clock::now() + std::chrono::microseconds(static_cast<int64_t>(seconds * 1e6));
  while (!stop.load() && Clock::now() < until) {
    std::this_thread::sleep_for(std::min(std::chrono::microseconds(50000),
                                         std::chrono::duration_cast<std::chrono::microseconds>(
                                             until - Clock::now())));
  }
  return !stop.load();
}

struct Counters {
  std::atomic<uint64_t> calls{0};
  std::atomic<uint64_t> events{0};
  std::atomic<uint64_t> resumes{0};
  std::atomic<uint64_t> snapshots{0};
  std::atomic<uint64_t> sessions{0};
  std::atomic<uint64_t> queries{0};
  std::atomic<uint64_t> refusals{0};
};

class Load {
 public:
  Load(const std::string& target, Errors* errors, Counters* counters)
      : target_(target), errors_(errors), n_(counters) {}

  void Start() {
    threads_.emplace_back([this] { ExternalCalls("sim/100", 1); });
    threads_.emplace_back([this] { ExternalCalls("sim/101", 2); });
    threads_.emplace_back([this] { InternalCalls(3); });
    for (int i = 0; i < kSubscribers; ++i) threads_.emplace_back([this, i] { Subscriber(10 + i); });
    threads_.emplace_back([this] { Sessions(30); });
    threads_.emplace_back([this] { Queries(31); });
  }
  void Stop() {
    stop_ = true;
    for (auto& t : threads_) t.join();
    threads_.clear();
  }

 private:
  struct Stubs {
    std::shared_ptr<grpc::Channel> channel;
    std::unique_ptr<v1::Telephony::Stub> tel;
    std::unique_ptr<v1::Admin::Stub> admin;
  };
  Stubs Connect(int index) {
    Stubs s;
    s.channel = MakeChannel(target_, index);
    s.tel = v1::Telephony::NewStub(s.channel);
    s.admin = v1::Admin::NewStub(s.channel);
    return s;
  }
  bool Ok(const grpc::Status& st, const std::string& what) {
    if (st.ok()) return true;
    if (!stop_) errors_->Add(what + ": " + st.error_message());
    return false;
  }
  bool Drop(v1::Telephony::Stub* tel, const std::string& call_id) {
    v1::CallActionRequest req;
    req.set_call_id(call_id);
    v1::Call out;
    return Ok(tel->Drop(Ctx().get(), req, &out), "Drop " + call_id);
  }

  // About 20 calls a second each.
  void ExternalCalls(const std::string& line, int index) {
    Stubs s = Connect(index);
    while (Pause(stop_, 0.05)) {
      v1::MakeCallRequest req;
      req.set_line_id(line);
      req.set_destination("5550100");
      v1::Call call;
      if (!Ok(s.tel->MakeCall(Ctx().get(), req, &call), "MakeCall " + line)) continue;
      if (Drop(s.tel.get(), call.id())) ++n_->calls;
    }
  }

  // 102 calls 103; 103 answers; both hang up. About 10 a second.
  void InternalCalls(int index) {
    Stubs s = Connect(index);
    while (Pause(stop_, 0.1)) {
      v1::MakeCallRequest req;
      req.set_line_id("sim/102");
      req.set_destination("103");
      v1::Call a;
      if (!Ok(s.tel->MakeCall(Ctx().get(), req, &a), "MakeCall 102 -> 103")) continue;
      v1::ListCallsRequest list;
      list.set_line_id("sim/103");
      v1::ListCallsResponse calls;
      if (Ok(s.tel->ListCalls(Ctx().get(), list, &calls), "ListCalls sim/103") &&
          calls.calls_size() > 0) {
        v1::CallActionRequest answer;
        answer.set_call_id(calls.calls(0).id());
        v1::Call b;
        Ok(s.tel->Answer(Ctx().get(), answer, &b), "Answer on 103");
        Drop(s.tel.get(), b.id().empty() ? calls.calls(0).id() : b.id());
      }
      if (Drop(s.tel.get(), a.id())) ++n_->calls;
      // The callee's leg, if still there (DISCONNECTED -> IDLE).
      if (Ok(s.tel->ListCalls(Ctx().get(), list, &calls), "ListCalls sim/103")) {
        for (const auto& c : calls.calls()) {
          v1::CallActionRequest drop;
          drop.set_call_id(c.id());
          v1::Call out;
          (void)s.tel->Drop(Ctx().get(), drop, &out);  // may be gone already
        }
      }
    }
  }

  // Reads its stream for kResumeEvery seconds, then resumes from where it was.
  void Subscriber(int index) {
    Stubs s = Connect(index);
    uint64_t epoch = 0, sequence = 0;
    while (!stop_) {
      grpc::ClientContext ctx;
      ctx.set_deadline(DeadlineIn(kResumeEvery + index % 5));
      v1::SubscribeRequest req;
      req.set_resume_epoch(epoch);
      req.set_resume_sequence(sequence);
      auto reader = s.tel->Subscribe(&ctx, req);
      v1::EventBatch batch;
      bool first = true;
      while (!stop_ && reader->Read(&batch)) {
        if (batch.has_snapshot()) {
          ++n_->snapshots;
          // A snapshot replaces the past: only for a first subscription or
          // an epoch the subscriber has not seen.
          if (epoch != 0 && batch.epoch() == epoch) {
            errors_->Add("subscriber " + std::to_string(index) + ": snapshot (reason " +
                         std::to_string(batch.snapshot_reason()) + ") on resume within epoch");
          }
          epoch = batch.epoch();
          sequence = batch.snapshot().sequence();
        } else if (first && epoch != 0) {
          ++n_->resumes;
        }
        first = false;
        for (const auto& e : batch.events()) {
          if (e.sequence() <= sequence) {
            errors_->Add("subscriber " + std::to_string(index) + ": sequence went back");
          }
          sequence = e.sequence();
          ++n_->events;
        }
      }
      ctx.TryCancel();
      grpc::Status st = reader->Finish();
      if (!stop_ && st.error_code() != grpc::StatusCode::DEADLINE_EXCEEDED &&
          st.error_code() != grpc::StatusCode::CANCELLED) {
        errors_->Add("subscriber " + std::to_string(index) + ": " + st.error_message());
      }
    }
  }

  // A session, a line opened in it, the session closed: about 5 a second.
  void Sessions(int index) {
    Stubs s = Connect(index);
    int line = 0;
    while (Pause(stop_, 0.2)) {
      v1::CreateSessionRequest create;
      create.set_client_name("soak");
      v1::Session session;
      if (!Ok(s.tel->CreateSession(Ctx().get(), create, &session), "CreateSession")) continue;
      v1::OpenLineRequest open;
      open.set_session_id(session.id());
      open.set_line_id("sim/10" + std::to_string(4 + line++ % 3));
      open.set_privilege(v1::PRIVILEGE_MONITOR);
      v1::OpenLineResponse opened;
      Ok(s.tel->OpenLine(Ctx().get(), open, &opened), "OpenLine");
      v1::CloseSessionRequest close;
      close.set_session_id(session.id());
      v1::CloseSessionResponse closed;
      if (Ok(s.tel->CloseSession(Ctx().get(), close, &closed), "CloseSession")) ++n_->sessions;
    }
  }

  // Reads and refused requests: about 10 a second.
  void Queries(int index) {
    Stubs s = Connect(index);
    int round = 0;
    while (Pause(stop_, 0.1)) {
      switch (round++ % 6) {
        case 0: {
          v1::ListLinesResponse r;
          Ok(s.tel->ListLines(Ctx().get(), v1::ListLinesRequest(), &r), "ListLines");
          break;
        }
        case 1: {
          v1::ListCallsResponse r;
          Ok(s.tel->ListCalls(Ctx().get(), v1::ListCallsRequest(), &r), "ListCalls");
          break;
        }
        case 2: {
          v1::ServerStatus r;
          Ok(s.admin->GetServerStatus(Ctx().get(), v1::GetServerStatusRequest(), &r),
             "GetServerStatus");
          break;
        }
        case 3: {
          v1::ListCallRecordsRequest req;
          req.set_limit(50);
          v1::ListCallRecordsResponse r;
          Ok(s.admin->ListCallRecords(Ctx().get(), req, &r), "ListCallRecords");
          break;
        }
        case 4: {  // an unknown line: NOT_FOUND
          v1::GetLineRequest req;
          req.set_line_id("sim/999");
          v1::Line r;
          if (s.tel->GetLine(Ctx().get(), req, &r).error_code() != grpc::StatusCode::NOT_FOUND) {
            errors_->Add("GetLine sim/999 was not NOT_FOUND");
          }
          ++n_->refusals;
          break;
        }
        default: {  // a dial string outside the grammar: INVALID_ARGUMENT
          v1::MakeCallRequest req;
          req.set_line_id("sim/107");
          req.set_destination("12;\x01");
          v1::Call r;
          if (s.tel->MakeCall(Ctx().get(), req, &r).error_code() !=
              grpc::StatusCode::INVALID_ARGUMENT) {
            errors_->Add("a bad dial string was not INVALID_ARGUMENT");
          }
          ++n_->refusals;
          break;
        }
      }
      ++n_->queries;
    }
  }

  const std::string target_;
  Errors* errors_;
  Counters* n_;
  std::atomic<bool> stop_{false};
  std::vector<std::thread> threads_;
};

struct Sample {
  double t = 0;  // seconds since the load started
  double rss_mb = 0;
  int fds = 0;
  int threads = 0;
};

int CountFds(pid_t pid) {
  DIR* d = opendir(("/proc/" + std::to_string(pid) + "/fd").c_str());
  if (d == nullptr) return -1;
  int n = 0;
  while (dirent* e = readdir(d)) {
    if (e->d_name[0] != '.') ++n;
  }
  closedir(d);
  return n;
}

int CountThreads(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("Threads:", 0) == 0) return std::atoi(line.c_str() + 8);
  }
  return -1;
}

// The mean of a field over the samples in [from, to).
template <typename F>
double Mean(const std::vector<Sample>& samples, double from, double to, F field) {
  double sum = 0;
  int n = 0;
  for (const auto& s : samples) {
    if (s.t >= from && s.t < to) {
      sum += field(s);
      ++n;
    }
  }
  return n > 0 ? sum / n : 0;
}

int Run(const Options& opt) {
  TempDir dir;
  v1::config::ServerConfig config;
  config.set_listen("127.0.0.1:0");
  *config.add_providers()->mutable_sim() = DefaultSimConfig();
  std::string error;
  auto daemon = Daemon::Start(opt.linebridged, dir.path(), "soak", config, &error);
  if (daemon == nullptr) {
    std::fprintf(stderr, "linebridge_soak: starting linebridged: %s\n", error.c_str());
    return 1;
  }
  if (!WaitConnected(MakeChannel(daemon->target(), 0), 10)) {
    std::fprintf(stderr, "linebridge_soak: cannot connect to %s\n", daemon->target().c_str());
    return 1;
  }
  std::fprintf(stderr, "[soak] linebridged pid %d on %s for %.0f s\n",
               static_cast<int>(daemon->pid()), daemon->target().c_str(), opt.duration);

  Errors errors;
  Counters n;
  Load load(daemon->target(), &errors, &n);
  std::vector<Sample> samples;
  const auto t0 = Clock::now();
  load.Start();
  double next = 0;
  while (!errors.any()) {
    const double t = MicrosSince(t0) / 1e6;
    if (t >= opt.duration) break;
    if (t >= next) {
      Sample s;
      s.t = t;
      s.rss_mb = static_cast<double>(daemon->RssBytes()) / (1024.0 * 1024.0);
      s.fds = CountFds(daemon->pid());
      s.threads = CountThreads(daemon->pid());
      if (s.rss_mb == 0 || s.fds < 0 || s.threads < 0) {
        errors.Add("linebridged is gone: " + daemon->LogTail());
        break;
      }
      samples.push_back(s);
      std::fprintf(stderr,
                   "[soak] %6.0f s  rss %.1f MB  fds %d  threads %d  calls %llu  events %llu\n",
                   t, s.rss_mb, s.fds, s.threads, static_cast<unsigned long long>(n.calls.load()),
                   static_cast<unsigned long long>(n.events.load()));
      next += kSampleEvery;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  load.Stop();
  const bool clean_exit = daemon->Stop();
  if (!clean_exit) errors.Add("linebridged did not exit 0 on SIGTERM: " + daemon->LogTail());

  // Warm-up: the first 20 % (at this load the event journal fills in about
  // 250 s and the memory it holds grows until then); "after" is the first
  // minute after it, "end" the last minute.
  const double span = samples.empty() ? 0 : samples.back().t;
  const double warm = std::max(span * 0.2, std::min(60.0, span * 0.3));
  const double window = std::min(60.0, span * 0.2);
  auto rss = [](const Sample& s) { return s.rss_mb; };
  auto fds = [](const Sample& s) { return static_cast<double>(s.fds); };
  auto thr = [](const Sample& s) { return static_cast<double>(s.threads); };
  const double rss_after = Mean(samples, warm, warm + window, rss);
  const double rss_end = Mean(samples, span - window, span + 1, rss);
  const double fds_after = Mean(samples, warm, warm + window, fds);
  const double fds_end = Mean(samples, span - window, span + 1, fds);
  const double thr_after = Mean(samples, warm, warm + window, thr);
  const double thr_end = Mean(samples, span - window, span + 1, thr);
  const bool judged = opt.duration >= kMinGrowthCheck;
  const double growth = rss_after > 0 ? (rss_end / rss_after - 1) * 100 : 0;

  Report report;
  auto add = [&](const std::string& name, double value, const std::string& target,
                 double baseline, bool pass) {
    Row r;
    r.name = name;
    r.value = value;
    r.target = judged ? target : "info (short run)";
    r.baseline = "after warm-up " + Fmt2(baseline);
    r.baseline_value = baseline;
    r.ratio = baseline > 0 ? value / baseline : 0;
    r.result = !judged ? "info" : pass ? "PASS" : "FAIL";
    report.Add(r);
  };
  add("soak rss at end (MB)", rss_end, "<= 1.05x after warm-up", rss_after,
      rss_end <= rss_after * 1.05);
  add("soak open descriptors at end", fds_end, "<= after warm-up + 2", fds_after,
      fds_end <= fds_after + 2);
  add("soak threads at end", thr_end, "<= after warm-up + 2", thr_after, thr_end <= thr_after + 2);
  Row load_row;
  load_row.name = "soak load (calls, events, resumes, sessions, queries)";
  load_row.value = static_cast<double>(n.calls.load());
  load_row.target = "info";
  load_row.result = "info";
  load_row.note = std::to_string(n.calls.load()) + " calls, " + std::to_string(n.events.load()) +
                  " events, " + std::to_string(n.resumes.load()) + " resumes, " +
                  std::to_string(n.snapshots.load()) + " snapshots, " +
                  std::to_string(n.sessions.load()) + " sessions, " +
                  std::to_string(n.queries.load()) + " queries (" +
                  std::to_string(n.refusals.load()) + " refused on purpose) in " + Fmt2(span) +
                  " s";
  report.Add(load_row);
  report.Print();
  std::fprintf(stderr, "[soak] %s; rss growth %.1f %%\n", load_row.note.c_str(), growth);
  if (!opt.json.empty() && !report.WriteJson(opt.json, !judged)) return 1;

  if (errors.any()) {
    std::fprintf(stderr, "linebridge_soak: FAILED: %s\n", errors.first().c_str());
    return 1;
  }
  if (n.calls.load() == 0 || n.events.load() == 0 || n.sessions.load() == 0) {
    std::fprintf(stderr, "linebridge_soak: FAILED: the load did not run\n");
    return 1;
  }
  for (const auto& r : report.rows()) {
    if (r.result == "FAIL") return 1;
  }
  return 0;
}

}  // namespace
}  // namespace linebridge::bench

int main(int argc, char** argv) {
  linebridge::bench::Options opt;
  opt.linebridged = linebridge::bench::BinaryBesideThis("linebridged");
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    auto value = [&]() -> std::string {
      if (i + 1 >= argc) {
        std::fprintf(stderr, "linebridge_soak: %s needs a value\n", a.c_str());
        std::exit(2);
      }
      return argv[++i];
    };
    if (a == "--duration") {
      opt.duration = std::atof(value().c_str());
    } else if (a == "--linebridged") {
      opt.linebridged = value();
    } else if (a == "--json") {
      opt.json = value();
    } else {
      std::fprintf(stderr,
                   "usage: linebridge_soak [--duration SECONDS] [--linebridged PATH] "
                   "[--json FILE]\n");
      return 2;
    }
  }
  if (opt.duration <= 0) {
    std::fprintf(stderr, "linebridge_soak: --duration must be positive\n");
    return 2;
  }
  return linebridge::bench::Run(opt);
}
