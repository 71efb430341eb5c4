// media_bench: a call's audio through a real linebridged (spawned from its
// binary) over gRPC on 127.0.0.1.
//
//   media_bench [--quick] [--streams N,N,...] [--seconds S] [--json FILE]
//
// 1. Latency: callers send 20 ms frames on their own clock; every fifth
//    frame is a loud marker. Its arrival on the callee's stream, minus the
//    time it was written, is the latency client A -> server -> client B
//    (both clients in this process: one clock). Reported as p50/p99 and
//    over the 20 ms framing.
// 2. Concurrency: N streams (N/2 sim calls, G.711 mu-law), each client
//    writing a frame per frame it reads. Frame loss = frames the server
//    dropped for the client + gaps in the sequence; late = 20 ms ticks in
//    which a client's frame had not arrived (silence played). Also the
//    daemon's CPU and RSS per stream.
#include <sys/resource.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <latch>
#include <mutex>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <google/protobuf/text_format.h>
#include <grpcpp/grpcpp.h>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "bench_util.h"
#include "linebridge/v1/media.grpc.pb.h"
#include "linebridge/v1/telephony.grpc.pb.h"
#include "media_client.h"

namespace linebridge::bench {
namespace {

using mtest::MediaClient;
constexpr int kFrame = 160;

struct Options {
  bool quick = false;
  std::vector<int> streams = {100, 200, 300};
  double seconds = 10;
  std::string json;
};

// One sim provider "load" with 16 caller and 16 callee extensions (16 call
// appearances each): up to 256 calls.
v1::config::ServerConfig Config() {
  std::string text = "providers { sim { name: \"load\"\n";
  for (int i = 0; i < 16; ++i) {
    absl::StrAppend(&text, "extensions { number: \"", 200 + i, "\" max_calls: 16 }\n",
                    "extensions { number: \"", 300 + i, "\" auto_answer_ms: 1 max_calls: 16 }\n");
  }
  absl::StrAppend(&text, "} }\ndisconnected_linger_ms: 1\n");
  v1::config::ServerConfig c;
  google::protobuf::TextFormat::ParseFromString(text, &c);
  return c;
}

struct Call {
  std::string a, b;
};

std::vector<Call> MakeCalls(v1::Telephony::Stub& t, int n) {
  std::vector<Call> calls;
  for (int i = 0; i < n; ++i) {
    const int k = i % 16;
    const std::string callee_line = absl::StrCat("load/", 300 + k);
    std::set<std::string> before;
    auto list = [&](std::set<std::string>* ids) {
      grpc::ClientContext ctx;
      ctx.set_deadline(DeadlineIn(10));
      v1::ListCallsRequest req;
      req.set_line_id(callee_line);
      v1::ListCallsResponse resp;
      if (t.ListCalls(&ctx, req, &resp).ok()) {
        for (const v1::Call& c : resp.calls()) ids->insert(c.id());
      }
    };
    list(&before);
    grpc::ClientContext ctx;
    ctx.set_deadline(DeadlineIn(10));
    v1::MakeCallRequest req;
    req.set_line_id(absl::StrCat("load/", 200 + k));
    req.set_destination(absl::StrCat(300 + k));
    v1::Call a;
    grpc::Status st = t.MakeCall(&ctx, req, &a);
    if (!st.ok()) {
      std::fprintf(stderr, "MakeCall: %s\n", st.error_message().c_str());
      std::exit(2);
    }
    Call call{a.id(), ""};
    for (int tries = 0; tries < 2000 && call.b.empty(); ++tries) {
      std::set<std::string> now;
      list(&now);
      for (const std::string& id : now) {
        if (!before.contains(id)) call.b = id;
      }
      if (call.b.empty()) std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    // Auto-answer after 1 ms: wait for CONNECTED.
    for (int tries = 0; tries < 2000; ++tries) {
      grpc::ClientContext g;
      g.set_deadline(DeadlineIn(10));
      v1::GetCallRequest get;
      get.set_call_id(call.a);
      v1::Call got;
      if (t.GetCall(&g, get, &got).ok() && got.status().state() == v1::CALL_STATE_CONNECTED) break;
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    calls.push_back(call);
  }
  return calls;
}

void DropAll(v1::Telephony::Stub& t, const std::vector<Call>& calls) {
  for (const Call& c : calls) {
    grpc::ClientContext ctx;
    ctx.set_deadline(DeadlineIn(10));
    v1::CallActionRequest req;
    req.set_call_id(c.a);
    v1::Call out;
    (void)t.Drop(&ctx, req, &out);
  }
}

double CpuSeconds(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  std::string s((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  const size_t close = s.rfind(')');
  if (close == std::string::npos) return 0;
  std::vector<std::string> f = absl::StrSplit(s.substr(close + 2), ' ');
  double ut = 0, st = 0;
  if (f.size() < 13 || !absl::SimpleAtod(f[11], &ut) || !absl::SimpleAtod(f[12], &st)) return 0;
  return (ut + st) / static_cast<double>(sysconf(_SC_CLK_TCK));
}

// Latency over `pairs` calls for `seconds`.
Stats Latency(v1::Media::Stub& media, const std::vector<Call>& calls, double seconds) {
  Stats stats;
  std::mutex mu;
  std::vector<std::thread> threads;
  const int frames = static_cast<int>(seconds * 50);
  for (const Call& call : calls) {
    threads.emplace_back([&, call] {
      MediaClient a(media, absl::Seconds(seconds + 30)), b(media, absl::Seconds(seconds + 30));
      if (!a.Start(call.a) || !b.Start(call.b)) return;
      std::atomic<int64_t> marker_sent_ns{0};
      std::atomic<bool> done{false};
      std::thread reader([&] {
        v1::AudioFrame f;
        while (!done && b.ReadFrame(&f)) {
          const auto* p = reinterpret_cast<const uint8_t*>(f.payload().data());
          const int16_t first = static_cast<int16_t>(p[0] | (p[1] << 8));
          const int64_t sent = marker_sent_ns.load();
          if (first > 10000 && sent != 0) {
            const int64_t now = std::chrono::duration_cast<std::chrono::nanoseconds>(
                                    Clock::now().time_since_epoch()).count();
            std::lock_guard<std::mutex> lock(mu);
            stats.Add((now - sent) / 1000.0);
            marker_sent_ns = 0;
          }
        }
      });
      std::thread drain([&] {
        v1::AudioFrame f;
        while (!done && a.ReadFrame(&f)) {
        }
      });
      auto next = Clock::now();
      for (int k = 0; k < frames; ++k) {
        std::this_thread::sleep_until(next);
        next += std::chrono::milliseconds(20);
        const bool marker = k % 5 == 4 && k > 10;
        std::vector<int16_t> s(kFrame, marker ? 20000 : 0);
        if (marker) {
          marker_sent_ns = std::chrono::duration_cast<std::chrono::nanoseconds>(
                               Clock::now().time_since_epoch()).count();
        }
        if (!a.SendFrame(s, v1::AUDIO_FORMAT_L16_8K)) break;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(200));
      done = true;
      a.context().TryCancel();
      b.context().TryCancel();
      reader.join();
      drain.join();
    });
  }
  for (auto& t : threads) t.join();
  return stats;
}

struct LoadResult {
  uint64_t expected = 0, lost = 0, late = 0, failed = 0;
};

LoadResult Load(v1::Media::Stub& media, const std::vector<Call>& calls, double seconds) {
  LoadResult r;
  std::mutex mu;
  const int frames = static_cast<int>(seconds * 50);
  std::latch ready(static_cast<ptrdiff_t>(2 * calls.size()));
  std::vector<std::thread> threads;
  for (const Call& call : calls) {
    for (const std::string& id : {call.a, call.b}) {
      threads.emplace_back([&, id] {
        MediaClient c(media, absl::Seconds(seconds + 60));
        const bool ok = c.Start(id, v1::AUDIO_FORMAT_PCMU).has_value();
        ready.arrive_and_wait();
        uint64_t gaps = 0, last = 0, got = 0;
        if (ok) {
          std::vector<int16_t> s(kFrame, 1000);
          for (int k = 0; k < frames; ++k) {
            if (!c.SendFrame(s, v1::AUDIO_FORMAT_PCMU)) break;
            v1::AudioFrame f;
            if (!c.ReadFrame(&f)) break;
            if (got > 0 && f.sequence() > last + 1) gaps += f.sequence() - last - 1;
            last = f.sequence();
            ++got;
          }
        }
        grpc::Status st = c.Finish();
        uint64_t dropped = 0, late = 0;
        for (const v1::MediaResponse& m : c.others) {
          if (m.has_stats()) {
            dropped = m.stats().frames_dropped();
            late = m.stats().frames_underrun();
          }
        }
        std::lock_guard<std::mutex> lock(mu);
        r.expected += frames;
        r.lost += std::max(gaps, dropped) + (frames - got);
        r.late += late;
        if (!ok || !st.ok()) ++r.failed;
      });
    }
  }
  for (auto& t : threads) t.join();
  return r;
}

int Main(int argc, char** argv) {
  Options o;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "--quick") {
      o.quick = true;
      o.streams = {20};
      o.seconds = 2;
    } else if (a == "--streams" && i + 1 < argc) {
      o.streams.clear();
      for (absl::string_view n : absl::StrSplit(argv[++i], ',')) {
        int v = 0;
        if (!absl::SimpleAtoi(n, &v) || v < 2 || v > 512) return 1;
        o.streams.push_back(v);
      }
    } else if (a == "--seconds" && i + 1 < argc) {
      if (!absl::SimpleAtod(argv[++i], &o.seconds) || o.seconds < 1) return 1;
    } else if (a == "--json" && i + 1 < argc) {
      o.json = argv[++i];
    } else {
      std::fprintf(stderr, "usage: media_bench [--quick] [--streams N,...] [--seconds S] [--json F]\n");
      return 1;
    }
  }
  TempDir tmp;
  std::string error;
  auto daemon = Daemon::Start(BinaryBesideThis("linebridged"), tmp.path(), "media", Config(), &error);
  if (daemon == nullptr) {
    std::fprintf(stderr, "linebridged: %s\n", error.c_str());
    return 2;
  }
  auto channel = MakeChannel(daemon->target(), 0);
  if (!WaitConnected(channel, 10)) return 2;
  auto telephony = v1::Telephony::NewStub(channel);
  auto media = v1::Media::NewStub(channel);
  Report report;

  {  // Latency on 10 calls.
    std::vector<Call> calls = MakeCalls(*telephony, o.quick ? 2 : 10);
    Stats lat = Latency(*media, calls, o.seconds);
    DropAll(*telephony, calls);
    if (lat.size() == 0) {
      std::fprintf(stderr, "no latency samples\n");
      return 2;
    }
    const double p50 = lat.P50() / 1000, p99 = lat.P99() / 1000;
    report.Add(Row{"media A->B latency p50 (ms)", p50, "info", "20 ms framing", 20, p50 / 20, "info",
                   absl::StrCat(lat.size(), " markers")});
    report.Add(Row{"media A->B latency p99 (ms)", p99, "info", "20 ms framing", 20, p99 / 20, "info",
                   ""});
    report.Add(Row{"media latency over framing p99 (ms)", p99 - 20, "<= 40", "", 0, 0,
                   p99 - 20 <= 40 ? "PASS" : "FAIL", ""});
  }
  for (int n : o.streams) {
    std::vector<Call> calls = MakeCalls(*telephony, n / 2);
    const uint64_t rss0 = daemon->RssBytes();
    const double cpu0 = CpuSeconds(daemon->pid());
    const auto t0 = Clock::now();
    LoadResult r = Load(*media, calls, o.seconds);
    const double wall = std::chrono::duration<double>(Clock::now() - t0).count();
    const double cpu = CpuSeconds(daemon->pid()) - cpu0;
    const uint64_t rss1 = daemon->RssBytes();
    DropAll(*telephony, calls);
    const double loss = r.expected == 0 ? 100 : 100.0 * r.lost / r.expected;
    const double late = r.expected == 0 ? 100 : 100.0 * r.late / r.expected;
    report.Add(Row{absl::StrCat(n, " G.711 streams: frame loss (%)"), loss, "< 1",
                   "", 0, 0, loss < 1 && r.failed == 0 ? "PASS" : "FAIL",
                   absl::StrCat(r.failed, " streams failed")});
    report.Add(Row{absl::StrCat(n, " G.711 streams: late client frames (%)"), late, "info", "", 0,
                   0, "info", ""});
    report.Add(Row{absl::StrCat(n, " streams: daemon CPU (% of one core)"), 100 * cpu / wall,
                   "info", "", 0, 0, "info", ""});
    report.Add(Row{absl::StrCat(n, " streams: RSS growth per stream (KiB)"),
                   rss1 > rss0 ? (rss1 - rss0) / 1024.0 / n : 0, "info", "", 0, 0, "info", ""});
  }
  report.Print();
  if (!o.json.empty()) report.WriteJson(o.json, o.quick);
  daemon->Stop();
  return 0;
}

}  // namespace
}  // namespace linebridge::bench

int main(int argc, char** argv) { return linebridge::bench::Main(argc, argv); }
