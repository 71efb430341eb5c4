// sip_bench: the SIP provider's capacity against real peers, each figure
// with a baseline measured in the same run (a real linebridged spawned from
// its binary, gRPC on 127.0.0.1; sipp from Debian as the far ends; kamailio
// as the registrar).
//
//   sip_bench [--quick] [--rounds N] [--accounts N] [--json FILE] [--keep_tmp]
//
// 1. Call setups per second: `lines` user-agent lines, one client thread
//    each, loop MakeCall -> CONNECTED (seen on an event subscription) ->
//    Drop -> IDLE against a sipp far end that rings and answers at once;
//    the calls that ended inside the window, per second.
//    Baseline: a sipp caller with the same number of calls in flight
//    calling the same sipp far end (INVITE, 200, ACK, BYE).
// 2. INVITE -> OFFERING: sipp calls one line once at a time; the time from
//    sipp sending the INVITE (its message trace, wall clock) until the
//    client reads the OFFERING call on its subscription. Baselines: sipp
//    calling sipp, INVITE -> 180; Admin.Ping round trips meanwhile.
// 3. Memory per registered account: linebridged's RSS with `accounts`
//    accounts registered at kamailio minus its RSS with one, per account;
//    each daemon must exit cleanly (status 0, no sofia FATAL) on SIGTERM.
//
// Exit status: 0 when the benchmarks ran (FAIL rows are information), 2 when
// one could not run, 1 for bad flags.
#include <atomic>
#include <map>
#include <mutex>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <thread>
#include <vector>

#include <google/protobuf/text_format.h>
#include <grpcpp/grpcpp.h>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "bench_util.h"
#include "linebridge/v1/admin.grpc.pb.h"
#include "linebridge/v1/telephony.grpc.pb.h"
#include "sip_bench_util.h"

namespace linebridge::bench {
namespace {

using sip::testing::ChildProcess;

struct Options {
  bool quick = false;
  int rounds = 3;
  int lines = 16;          // user-agent lines (calls in flight) for setups
  double seconds = 5;      // per setups round
  int offers = 500;        // inbound calls per latency round
  int accounts = 1000;     // registered accounts for memory
  std::string json;
  bool keep_tmp = false;
};

[[noreturn]] void Fail(const std::string& what) {
  std::fprintf(stderr, "sip_bench: %s\n", what.c_str());
  std::exit(2);
}

const Clock::time_point kStart = Clock::now();

void Progress(const std::string& s) {
  std::fprintf(stderr, "sip_bench [%5.1f s]: %s\n", MicrosSince(kStart) / 1e6, s.c_str());
}

std::string Spread(const std::vector<double>& v, const absl::FormatSpec<double>& fmt) {
  return absl::StrCat(v.size(), " runs, spread ", absl::StrFormat(fmt, Min(v)), "..",
                      absl::StrFormat(fmt, Max(v)));
}

// ---------------------------------------------------------------------------
// The daemon for 1 and 2: `lines` accounts sip/ua<i> calling out through
// the far end, and sip/in on a known port for inbound calls.

struct Target {
  std::unique_ptr<Daemon> daemon;
  std::shared_ptr<grpc::Channel> channel;
  std::unique_ptr<v1::Telephony::Stub> telephony;
  std::unique_ptr<v1::Admin::Stub> admin;
};

Target StartTarget(const std::string& dir, const std::string& name, const std::string& config_text) {
  v1::config::ServerConfig config;
  if (!google::protobuf::TextFormat::ParseFromString(config_text, &config)) Fail("bad config");
  Target t;
  std::string error;
  t.daemon = Daemon::Start(BinaryBesideThis("linebridged"), dir, name, config, &error);
  if (t.daemon == nullptr) Fail("linebridged: " + error);
  t.channel = MakeChannel(t.daemon->target(), 0);
  if (!WaitConnected(t.channel, 10)) Fail("cannot connect to linebridged " + t.daemon->target());
  t.telephony = v1::Telephony::NewStub(t.channel);
  t.admin = v1::Admin::NewStub(t.channel);
  return t;
}

std::string UaConfig(int lines, int far_port, int in_port) {
  std::string accounts;
  for (int i = 0; i < lines; ++i) {
    absl::StrAppend(&accounts, "accounts { name: \"ua", i, "\" uri: \"sip:ua", i,
                    "@127.0.0.1\" outbound_proxy: \"127.0.0.1:", far_port, "\" }\n");
  }
  absl::StrAppend(&accounts, "accounts { name: \"in\" uri: \"sip:in@127.0.0.1\" local_port: ",
                  in_port, " }\n");
  return absl::StrCat("providers { sip { name: \"sip\"\n", accounts, "} }\n");
}

std::string MakeCall(v1::Telephony::Stub& t, const std::string& line) {
  grpc::ClientContext ctx;
  ctx.set_deadline(DeadlineIn(10));
  v1::MakeCallRequest req;
  req.set_line_id(line);
  req.set_destination("5550100");
  v1::Call call;
  const grpc::Status st = t.MakeCall(&ctx, req, &call);
  if (!st.ok()) Progress("MakeCall on " + line + ": " + st.error_message());
  return st.ok() ? call.id() : "";
}

bool Drop(v1::Telephony::Stub& t, const std::string& id) {
  grpc::ClientContext ctx;
  ctx.set_deadline(DeadlineIn(10));
  v1::CallActionRequest req;
  req.set_call_id(id);
  v1::Call out;
  return t.Drop(&ctx, req, &out).ok();
}

double TimedPing(v1::Admin::Stub& admin) {
  grpc::ClientContext ctx;
  ctx.set_deadline(DeadlineIn(10));
  v1::PingResponse resp;
  const auto t0 = Clock::now();
  if (!admin.Ping(&ctx, v1::PingRequest(), &resp).ok()) Fail("Admin.Ping failed");
  return MicrosSince(t0);
}

// ---------------------------------------------------------------------------
// 1. Call setups per second.

struct SetupRound {
  double per_s = 0;
  int64_t calls = 0;
  int64_t failures = 0;
  Stats setup_us;  // MakeCall -> CONNECTED seen
};

SetupRound LinebridgeSetups(Target& t, int lines, double seconds) {
  SetupRound r;
  EventHub hub(*t.telephony, nullptr);
  if (!hub.Start()) Fail("Subscribe failed");
  std::atomic<int64_t> calls{0}, failures{0};
  std::vector<Stats> latency(static_cast<size_t>(lines));
  const auto start = Clock::now();
  const auto end = start + std::chrono::microseconds(static_cast<int64_t>(seconds * 1e6));
  std::vector<std::thread> workers;
  for (int i = 0; i < lines; ++i) {
    workers.emplace_back([&, i] {
      const std::string line = absl::StrCat("sip/ua", i);
      while (Clock::now() < end) {
        const auto t0 = Clock::now();
        const std::string id = MakeCall(*t.telephony, line);
        if (id.empty()) {
          ++failures;
          std::this_thread::sleep_for(std::chrono::milliseconds(50));  // a refused call: back off
          continue;
        }
        const bool up = hub.Await(id, v1::CALL_STATE_CONNECTED, 10);
        if (up) latency[static_cast<size_t>(i)].Add(MicrosSince(t0));
        const bool dropped = Drop(*t.telephony, id);
        const bool idle = dropped && hub.Await(id, v1::CALL_STATE_IDLE, 10);
        if (up && idle) {
          // Only calls that ended inside the window count.
          if (Clock::now() <= end) ++calls;
        } else {
          ++failures;
          Progress(absl::StrCat("call ", id, " on ", line, ": ",
                                !up ? "never CONNECTED" : !dropped ? "Drop failed" : "never IDLE",
                                "; states seen: ", hub.Seen(id)));
        }
        hub.Forget(id);
      }
    });
  }
  for (auto& w : workers) w.join();
  r.calls = calls;
  r.failures = failures;
  r.per_s = static_cast<double>(r.calls) / seconds;
  for (const Stats& s : latency) {
    r.setup_us.samples.insert(r.setup_us.samples.end(), s.samples.begin(), s.samples.end());
  }
  return r;
}

SetupRound SippSetups(const std::string& dir, int far_port, int lines, int calls, int round) {
  SetupRound r;
  ChildProcess uac;
  SippRun run{.scenario = BenchScenarioDir() + "/uac_setup.xml",
              .port = sip::testing::FreePort(),
              .remote = absl::StrCat("127.0.0.1:", far_port),
              .calls = calls,
              .concurrency = lines,
              .rate = 100000,
              .stats = true};
  const std::string tag = absl::StrCat("setup_baseline_", round);
  if (!StartSippRun(uac, run, dir, tag)) Fail("the baseline sipp caller did not start");
  if (uac.Wait(absl::Seconds(120)) != 0) Fail("the baseline sipp caller failed: " + uac.ReadLog());
  SippStats st;
  if (!ReadSippStats(SippStatsPath(dir, tag), &st)) Fail("no sipp statistics in " + dir);
  r.calls = st.successful;
  r.failures = st.failed;
  r.per_s = static_cast<double>(st.successful) / st.elapsed_s;
  return r;
}

// ---------------------------------------------------------------------------
// 2. INVITE -> OFFERING.

struct OfferRound {
  Stats offering_us;   // INVITE sent -> OFFERING read by the client
  Stats ringing_us;    // INVITE sent -> linebridged's 180 received by sipp
  Stats sipp_ringing_us;  // baseline: sipp -> sipp, INVITE -> 180
  Stats ping_us;       // baseline: Admin.Ping meanwhile
};

void LinebridgeOffers(Target& t, const std::string& dir, int in_port, int offers, int round,
                      OfferRound* r) {
  std::mutex mu;
  std::map<int64_t, int64_t> offered;  // caller number -> time OFFERING was read
  EventHub hub(*t.telephony, [&](const v1::Event& ev, int64_t read_us) {
    if (!ev.has_call_created() || ev.line_id() != "sip/in") return;
    const v1::Call& call = ev.call_created().call();
    if (call.status().state() != v1::CALL_STATE_OFFERING) return;
    int64_t number = 0;
    if (absl::SimpleAtoi(call.info().caller().number(), &number)) {
      std::lock_guard<std::mutex> lock(mu);
      offered[number] = read_us;
    }
    (void)Drop(*t.telephony, call.id());  // declined: 603
  });
  if (!hub.Start()) Fail("Subscribe failed");
  ChildProcess uac;
  const std::string tag = absl::StrCat("offer_", round);
  SippRun run{.scenario = BenchScenarioDir() + "/uac_offer.xml",
              .port = sip::testing::FreePort(),
              .remote = absl::StrCat("127.0.0.1:", in_port),
              .service = "in",
              .calls = offers,
              .concurrency = 1,
              .rate = 200,
              .trace_messages = true};
  if (!StartSippRun(uac, run, dir, tag)) Fail("the sipp caller did not start");
  // Ping round trips while the calls come in (the same process, channel
  // and machine as the events).
  std::atomic<bool> done{false};
  std::thread pinger([&] {
    while (!done) {
      r->ping_us.Add(TimedPing(*t.admin));
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
  });
  const int status = uac.Wait(absl::Seconds(120));
  done = true;
  pinger.join();
  if (status != 0) Progress(absl::StrCat("the sipp caller exited ", status, ": ", uac.ReadLog()));
  const auto times = ReadSippCallTimes(SippMessagesPath(dir, tag));
  std::lock_guard<std::mutex> lock(mu);
  for (const auto& [number, sent] : times) {
    if (sent.invite_us == 0) continue;
    auto it = offered.find(number);
    if (it != offered.end()) r->offering_us.Add(static_cast<double>(it->second - sent.invite_us));
    if (sent.ringing_us != 0) r->ringing_us.Add(static_cast<double>(sent.ringing_us - sent.invite_us));
  }
}

void SippOffers(const std::string& dir, int offers, int round, OfferRound* r) {
  ChildProcess uas, uac;
  const int uas_port = sip::testing::FreePort();
  SippRun server{.scenario = BenchScenarioDir() + "/uas_decline.xml", .port = uas_port};
  if (!StartSippRun(uas, server, dir, absl::StrCat("decline_", round))) Fail("sipp UAS did not start");
  const std::string tag = absl::StrCat("offer_baseline_", round);
  SippRun run{.scenario = BenchScenarioDir() + "/uac_offer.xml",
              .port = sip::testing::FreePort(),
              .remote = absl::StrCat("127.0.0.1:", uas_port),
              .service = "in",
              .calls = offers,
              .concurrency = 1,
              .rate = 200,
              .trace_messages = true};
  if (!StartSippRun(uac, run, dir, tag)) Fail("the baseline sipp caller did not start");
  if (uac.Wait(absl::Seconds(120)) != 0) Fail("the baseline sipp caller failed: " + uac.ReadLog());
  uas.Kill();
  for (const auto& [number, sent] : ReadSippCallTimes(SippMessagesPath(dir, tag))) {
    if (sent.invite_us != 0 && sent.ringing_us != 0) {
      r->sipp_ringing_us.Add(static_cast<double>(sent.ringing_us - sent.invite_us));
    }
  }
}

// ---------------------------------------------------------------------------
// 3. Memory per registered account.

constexpr char kPasswordEnv[] = "LINEBRIDGE_SIP_BENCH_PASSWORD";

std::string RegisteredConfig(int accounts, int registrar) {
  std::string text = "providers { sip { name: \"sip\"\n";
  for (int i = 0; i < accounts; ++i) {
    absl::StrAppend(&text, "accounts { name: \"r", i, "\" uri: \"sip:r", i,
                    "@127.0.0.1\" registrar: \"127.0.0.1:", registrar, "\" auth_user: \"r", i,
                    "\" password_env: \"", kPasswordEnv, "\" }\n");
  }
  return text + "} }\n";
}

int InService(v1::Telephony::Stub& t) {
  grpc::ClientContext ctx;
  ctx.set_deadline(DeadlineIn(10));
  v1::ListLinesRequest req;
  req.set_provider("sip");
  v1::ListLinesResponse resp;
  if (!t.ListLines(&ctx, req, &resp).ok()) return -1;
  int n = 0;
  for (const auto& line : resp.lines()) n += line.status().state() == v1::LINE_STATE_IN_SERVICE;
  return n;
}

struct MemoryRound {
  double rss_one = 0;       // bytes, one account registered
  double rss_many = 0;      // bytes, `accounts` registered
  double register_s = 0;    // start -> every line in service
  double per_account = 0;   // bytes
};

// linebridged with `accounts` accounts registered; its RSS once every line is
// in service (and a second to settle), and the time that took.
void RegisteredRss(const std::string& dir, int registrar, int accounts, const std::string& name,
                   double settle_s, double* rss, double* seconds) {
  const auto t0 = Clock::now();
  Target t = StartTarget(dir, name, RegisteredConfig(accounts, registrar));
  int n = 0;
  while ((n = InService(*t.telephony)) < accounts) {
    if (MicrosSince(t0) > 120e6) {
      Fail(absl::StrCat(n, " of ", accounts, " accounts registered after 120 s; log:\n",
                        t.daemon->LogTail()));
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(50));  // polling the line states
  }
  *seconds = MicrosSince(t0) / 1e6;
  // Let the registrations' garbage go.
  std::this_thread::sleep_for(std::chrono::milliseconds(static_cast<int>(settle_s * 1000)));
  *rss = static_cast<double>(t.daemon->RssBytes());
  t.telephony.reset();
  t.admin.reset();
  t.channel.reset();
  const std::string log_path = t.daemon->log_path();
  // A clean exit: status 0, and sofia never destroyed an agent before its
  // shutdown (unregistering) completed.
  if (!t.daemon->Stop() || t.daemon->LogTail(1 << 20).find("FATAL") != std::string::npos) {
    Fail(absl::StrCat("linebridged with ", accounts, " accounts did not exit cleanly on SIGTERM; "
                      "log in ", log_path));
  }
  Progress(absl::StrFormat("memory: %d accounts in service after %.1f s, stopped", accounts,
                           *seconds));
}

MemoryRound Memory(const std::string& dir, int accounts, int round, double settle_s) {
  ::setenv(kPasswordEnv, "bench-secret", 1);
  ChildProcess kamailio;
  const int registrar = sip::testing::FreePort();
  std::string error;
  if (!sip::testing::StartKamailio(kamailio, registrar, "bench-secret", dir, &error)) Fail(error);
  MemoryRound m;
  double unused = 0;
  RegisteredRss(dir, registrar, 1, absl::StrCat("one_", round), settle_s, &m.rss_one, &unused);
  RegisteredRss(dir, registrar, accounts, absl::StrCat("many_", round), settle_s, &m.rss_many,
                &m.register_s);
  kamailio.Kill();
  m.per_account = (m.rss_many - m.rss_one) / (accounts - 1);
  return m;
}

// ---------------------------------------------------------------------------

int Main(int argc, char** argv) {
  Options o;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg == "--quick") {
      o.quick = true;
      o.rounds = 1;
      o.lines = 8;
      o.seconds = 1;
      o.offers = 50;
      o.accounts = 1000;
    } else if (arg == "--rounds" && i + 1 < argc) {
      if (!absl::SimpleAtoi(argv[++i], &o.rounds) || o.rounds < 1) return 1;
    } else if (arg == "--accounts" && i + 1 < argc) {
      if (!absl::SimpleAtoi(argv[++i], &o.accounts) || o.accounts < 2) return 1;
    } else if (arg == "--json" && i + 1 < argc) {
      o.json = argv[++i];
    } else if (arg == "--keep_tmp") {
      o.keep_tmp = true;
    } else {
      std::fprintf(stderr, "usage: sip_bench [--quick] [--rounds N] [--accounts N] [--json FILE] [--keep_tmp]\n");
      return 1;
    }
  }
  TempDir tmp;
  if (o.keep_tmp) tmp.keep();
  const std::string& dir = tmp.path();
  const std::string load_before = LoadAverage();
  Progress("temp dir " + dir + ", load " + load_before);

  const int far_port = sip::testing::FreePort();
  const int in_port = sip::testing::FreePort();
  Target t = StartTarget(dir, "calls", UaConfig(o.lines, far_port, in_port));
  // The far end for both the lines and the baseline caller: rings, answers.
  ChildProcess far;
  SippRun uas{.scenario = sip::testing::ScenarioDir() + "/uas_answer.xml", .port = far_port};
  if (!StartSippRun(far, uas, dir, "far")) Fail("the sipp far end did not start");

  (void)LinebridgeSetups(t, o.lines, o.quick ? 0.2 : 0.5);  // warm-up
  std::vector<double> lb_rate, sipp_rate, lb_setup_p50;
  int64_t lb_calls = 0, lb_failures = 0, sipp_calls = 0, sipp_failures = 0;
  for (int round = 0; round < o.rounds; ++round) {
    const SetupRound lb = LinebridgeSetups(t, o.lines, o.seconds);
    const int baseline_calls = std::max<int>(500, static_cast<int>(lb.per_s * o.seconds * (o.quick ? 2 : 4)));
    const SetupRound sp = SippSetups(dir, far_port, o.lines, baseline_calls, round);
    Progress(absl::StrFormat("setups round %d: linebridged %.0f/s (%d calls, %d failed, setup p50 "
                             "%.2f ms), sipp %.0f/s (%d calls, %d failed)",
                             round + 1, lb.per_s, lb.calls, lb.failures, lb.setup_us.P50() / 1e3,
                             sp.per_s, sp.calls, sp.failures));
    if (lb.calls == 0) Fail("no call set up through the lines; daemon log:\n" + t.daemon->LogTail());
    lb_rate.push_back(lb.per_s);
    sipp_rate.push_back(sp.per_s);
    lb_setup_p50.push_back(lb.setup_us.P50() / 1e3);
    lb_calls += lb.calls;
    lb_failures += lb.failures;
    sipp_calls += sp.calls;
    sipp_failures += sp.failures;
  }
  far.Kill();

  std::vector<double> offer50, offer99, ring50, sipp50, sipp99, ping50;
  size_t offer_n = 0;
  for (int round = 0; round < o.rounds; ++round) {
    OfferRound r;
    LinebridgeOffers(t, dir, in_port, o.offers, round, &r);
    SippOffers(dir, o.offers, round, &r);
    if (r.offering_us.size() == 0 || r.sipp_ringing_us.size() == 0) {
      Fail(absl::StrCat("no INVITE -> OFFERING samples (", r.offering_us.size(), ", baseline ",
                        r.sipp_ringing_us.size(), "); daemon log:\n", t.daemon->LogTail()));
    }
    Progress(absl::StrFormat(
        "offering round %d: INVITE->OFFERING p50 %.0f us p99 %.0f us (n=%d), linebridged 180 p50 "
        "%.0f us; sipp->sipp 180 p50 %.0f us p99 %.0f us; Ping p50 %.0f us",
        round + 1, r.offering_us.P50(), r.offering_us.P99(), r.offering_us.size(),
        r.ringing_us.P50(), r.sipp_ringing_us.P50(), r.sipp_ringing_us.P99(), r.ping_us.P50()));
    offer50.push_back(r.offering_us.P50());
    offer99.push_back(r.offering_us.P99());
    ring50.push_back(r.ringing_us.P50());
    sipp50.push_back(r.sipp_ringing_us.P50());
    sipp99.push_back(r.sipp_ringing_us.P99());
    ping50.push_back(r.ping_us.P50());
    offer_n += r.offering_us.size();
  }
  t.telephony.reset();
  t.admin.reset();
  t.channel.reset();
  if (!t.daemon->Stop()) Fail("linebridged did not exit cleanly on SIGTERM:\n" + t.daemon->LogTail());
  Progress("calls: linebridged stopped");

  std::vector<double> per_account, rss_one, register_s;
  for (int round = 0; round < o.rounds; ++round) {
    const MemoryRound m = Memory(dir, o.accounts, round, o.quick ? 0.3 : 1.0);
    Progress(absl::StrFormat("memory round %d: RSS %.1f MiB with 1 account, %.1f MiB with %d "
                             "(registered in %.1f s): %.1f KiB per account",
                             round + 1, m.rss_one / 1048576, m.rss_many / 1048576, o.accounts,
                             m.register_s, m.per_account / 1024));
    per_account.push_back(m.per_account / 1024);
    rss_one.push_back(m.rss_one / 1048576);
    register_s.push_back(m.register_s);
  }

  Report report;
  const double rate = Median(lb_rate), base = Median(sipp_rate);
  report.Add(Row{"SIP call setups per second", rate, ">= 200",
                 absl::StrFormat("sipp->sipp %.0f", base), base, rate / base,
                 rate >= 200 ? "PASS" : "FAIL",
                 absl::StrCat("make->connected->drop, ", o.lines, " lines in parallel; median of ",
                              Spread(lb_rate, "%.0f"), "; ", lb_calls, " calls, ", lb_failures,
                              " failed; sipp ", Spread(sipp_rate, "%.0f"), ", ", sipp_calls,
                              " calls, ", sipp_failures, " failed; MakeCall->CONNECTED p50 ",
                              absl::StrFormat("%.2f", Median(lb_setup_p50)), " ms (",
                              Spread(lb_setup_p50, "%.2f"), ")")});
  report.Add(Row{"INVITE -> OFFERING p50 (us)", Median(offer50), "info",
                 absl::StrFormat("sipp INVITE->180 %.0f", Median(sipp50)), Median(sipp50),
                 Median(offer50) / Median(sipp50), "info",
                 absl::StrCat("median of ", Spread(offer50, "%.0f"), ", ", offer_n,
                              " calls; linebridged's own 180 p50 ",
                              absl::StrFormat("%.0f", Median(ring50)), " us; Admin.Ping p50 ",
                              absl::StrFormat("%.0f", Median(ping50)), " us")});
  report.Add(Row{"INVITE -> OFFERING p99 (us)", Median(offer99), "info",
                 absl::StrFormat("sipp INVITE->180 %.0f", Median(sipp99)), Median(sipp99),
                 Median(offer99) / Median(sipp99), "info",
                 absl::StrCat("median of ", Spread(offer99, "%.0f"))});
  report.Add(Row{absl::StrCat("memory per registered account (KiB, ", o.accounts, ")"),
                 Median(per_account), "info",
                 absl::StrFormat("RSS 1 account %.1f MiB", Median(rss_one)), Median(rss_one), 0,
                 "info",
                 absl::StrCat("median of ", Spread(per_account, "%.1f"), "; all registered in ",
                              absl::StrFormat("%.1f", Median(register_s)), " s (kamailio)")});
  report.Print();
  std::printf("load average before %s, after %s\n", load_before.c_str(), LoadAverage().c_str());
  if (!o.json.empty()) report.WriteJson(o.json, o.quick);
  return 0;
}

}  // namespace
}  // namespace linebridge::bench

int main(int argc, char** argv) { return linebridge::bench::Main(argc, argv); }
