// sip_media_bench: the latency of a SIP call's incoming audio, from the RTP
// packet leaving the far end to its frame arriving on a client's media
// stream, against the simulated PBX's client A -> server -> client B in the
// same run (a real linebridged spawned from its binary, gRPC on 127.0.0.1).
//
//   sip_media_bench [--quick] [--seconds S] [--json FILE]
//
// SIP: a line whose outbound proxy is a sipp far end (the SIP side) with an
// RTP peer (server/providers/sip/testing/rtp_peer.h: the RTP side) sending
// near-silent G.711 packets and every tenth a loud one; the time from
// sending a loud packet to the client reading the first loud frame is one
// sample. It includes the jitter buffer (60 ms deep: play-out starts when
// the third frame arrives, so a frame waits 40 ms and the next tick). Sim: the same loud
// frames written by one client, read by the other on a connected call
// (the hub's 40 ms client jitter buffer included). Both on one machine, in
// one process, on one clock.
#include <atomic>
#include <chrono>
#include <cstdio>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include <google/protobuf/text_format.h>
#include <grpcpp/grpcpp.h>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "bench_util.h"
#include "linebridge/v1/media.grpc.pb.h"
#include "linebridge/v1/telephony.grpc.pb.h"
#include "media_client.h"
#include "providers/sip/testing/rtp_peer.h"
#include "providers/sip/testing/sip_peers.h"

namespace linebridge::bench {
namespace {

using mtest::MediaClient;
using sip::testing::ChildProcess;
using sip::testing::RtpPeer;
constexpr int kFrame = 160;

struct Options {
  bool quick = false;
  double seconds = 10;
  std::string json;
};

v1::config::ServerConfig Config(int sip_port, int far_port) {
  const std::string text = absl::StrCat(
      "providers { sim { name: \"load\" extensions { number: \"200\" }\n"
      "  extensions { number: \"300\" auto_answer_ms: 1 } } }\n"
      "providers { sip { name: \"sip\" accounts { name: \"bench\" uri: \"sip:bench@127.0.0.1\"\n"
      "  local_port: ", sip_port, " outbound_proxy: \"127.0.0.1:", far_port, "\" } } }\n");
  v1::config::ServerConfig c;
  google::protobuf::TextFormat::ParseFromString(text, &c);
  return c;
}

int64_t NowUs() { return RtpPeer::NowUs(); }

v1::CallState StateOf(v1::Telephony::Stub& t, const std::string& id) {
  grpc::ClientContext ctx;
  ctx.set_deadline(DeadlineIn(10));
  v1::GetCallRequest get;
  get.set_call_id(id);
  v1::Call call;
  if (!t.GetCall(&ctx, get, &call).ok()) return v1::CALL_STATE_IDLE;
  return call.status().state();
}

bool AwaitConnected(v1::Telephony::Stub& t, const std::string& id) {
  for (int tries = 0; tries < 5000; ++tries) {
    if (StateOf(t, id) == v1::CALL_STATE_CONNECTED) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  return false;
}

std::string MakeCall(v1::Telephony::Stub& t, const std::string& line, const std::string& to) {
  grpc::ClientContext ctx;
  ctx.set_deadline(DeadlineIn(10));
  v1::MakeCallRequest req;
  req.set_line_id(line);
  req.set_destination(to);
  v1::Call call;
  grpc::Status st = t.MakeCall(&ctx, req, &call);
  if (!st.ok()) std::fprintf(stderr, "MakeCall on %s: %s\n", line.c_str(), st.error_message().c_str());
  return st.ok() ? call.id() : "";
}

void Drop(v1::Telephony::Stub& t, const std::string& id) {
  grpc::ClientContext ctx;
  ctx.set_deadline(DeadlineIn(10));
  v1::CallActionRequest req;
  req.set_call_id(id);
  v1::Call out;
  (void)t.Drop(&ctx, req, &out);
}

// Reads `c` until `until_us`; each rising edge of a loud frame is matched to
// the latest marker sent before it (`markers()`).
template <typename Markers>
void MeasureEdges(MediaClient& c, int64_t until_us, Markers markers, Stats* stats) {
  bool was_loud = false;
  v1::AudioFrame f;
  while (NowUs() < until_us && c.ReadFrame(&f)) {
    const auto* p = reinterpret_cast<const uint8_t*>(f.payload().data());
    const bool loud = f.payload().size() >= 2 && static_cast<int16_t>(p[0] | (p[1] << 8)) > 10000;
    if (loud && !was_loud) {
      const int64_t now = NowUs();
      const std::vector<int64_t> sent = markers();
      for (auto it = sent.rbegin(); it != sent.rend(); ++it) {
        if (*it <= now) {
          stats->Add(static_cast<double>(now - *it));
          break;
        }
      }
    }
    was_loud = loud;
  }
}

Stats SipLatency(v1::Telephony::Stub& t, v1::Media::Stub& media, int far_port,
                 const std::string& dir, double seconds) {
  Stats stats;
  RtpPeer peer(0);
  peer.SetMarkers(10);
  ChildProcess sipp;
  sip::testing::SippOptions o{.scenario = "uas_media.xml",
                              .port = far_port,
                              .keys = {{"rtp_port", absl::StrCat(peer.sdp_port())},
                                       {"pt", "0"},
                                       {"codec", "PCMU"}},
                              .timeout = absl::Seconds(seconds + 60)};
  if (!sip::testing::StartSipp(sipp, o, dir)) {
    std::fprintf(stderr, "sipp did not start\n");
    return stats;
  }
  const std::string id = MakeCall(t, "sip/bench", "5550100");
  if (id.empty() || !AwaitConnected(t, id)) {
    std::fprintf(stderr, "the SIP call never connected: %s\n", sipp.ReadLog().c_str());
    return stats;
  }
  MediaClient c(media, absl::Seconds(seconds + 30));
  if (c.Start(id)) {
    MeasureEdges(c, NowUs() + static_cast<int64_t>(seconds * 1e6),
                 [&] { return peer.MarkerTimesUs(); }, &stats);
  }
  Drop(t, id);
  c.context().TryCancel();
  sipp.Wait(absl::Seconds(5));
  return stats;
}

Stats SimLatency(v1::Telephony::Stub& t, v1::Media::Stub& media, double seconds) {
  Stats stats;
  std::set<std::string> before;
  const std::string a = MakeCall(t, "load/200", "300");
  if (a.empty() || !AwaitConnected(t, a)) return stats;
  std::string b;
  {
    grpc::ClientContext ctx;
    ctx.set_deadline(DeadlineIn(10));
    v1::ListCallsRequest req;
    req.set_line_id("load/300");
    v1::ListCallsResponse resp;
    if (t.ListCalls(&ctx, req, &resp).ok() && resp.calls_size() > 0) b = resp.calls(0).id();
  }
  if (b.empty()) return stats;
  MediaClient ca(media, absl::Seconds(seconds + 30)), cb(media, absl::Seconds(seconds + 30));
  if (!ca.Start(a) || !cb.Start(b)) return stats;
  std::mutex mu;
  std::vector<int64_t> markers;
  std::atomic<bool> done{false};
  std::thread writer([&] {
    auto next = Clock::now();
    for (int k = 0; !done; ++k) {
      std::this_thread::sleep_until(next);
      next += std::chrono::milliseconds(20);
      const bool loud = k % 10 == 9;
      if (loud) {
        std::lock_guard<std::mutex> lock(mu);
        markers.push_back(NowUs());
      }
      if (!ca.SendFrame(std::vector<int16_t>(kFrame, loud ? 20000 : 100), v1::AUDIO_FORMAT_L16_8K)) break;
    }
  });
  std::thread drain([&] {
    v1::AudioFrame f;
    while (!done && ca.ReadFrame(&f)) {
    }
  });
  MeasureEdges(cb, NowUs() + static_cast<int64_t>(seconds * 1e6),
               [&] {
                 std::lock_guard<std::mutex> lock(mu);
                 return markers;
               },
               &stats);
  done = true;
  Drop(t, a);
  ca.context().TryCancel();
  cb.context().TryCancel();
  writer.join();
  drain.join();
  return stats;
}

int Main(int argc, char** argv) {
  Options o;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg == "--quick") {
      o.quick = true;
      o.seconds = 2;
    } else if (arg == "--seconds" && i + 1 < argc) {
      if (!absl::SimpleAtod(argv[++i], &o.seconds) || o.seconds < 1) return 1;
    } else if (arg == "--json" && i + 1 < argc) {
      o.json = argv[++i];
    } else {
      std::fprintf(stderr, "usage: sip_media_bench [--quick] [--seconds S] [--json FILE]\n");
      return 1;
    }
  }
  TempDir tmp;
  const int sip_port = sip::testing::FreePort();
  const int far_port = sip::testing::FreePort();
  std::string error;
  auto daemon = Daemon::Start(BinaryBesideThis("linebridged"), tmp.path(), "sipmedia",
                              Config(sip_port, far_port), &error);
  if (daemon == nullptr) {
    std::fprintf(stderr, "linebridged: %s\n", error.c_str());
    return 2;
  }
  auto channel = MakeChannel(daemon->target(), 0);
  if (!WaitConnected(channel, 10)) return 2;
  auto telephony = v1::Telephony::NewStub(channel);
  auto media = v1::Media::NewStub(channel);
  const Stats sim = SimLatency(*telephony, *media, o.seconds);
  const Stats sip = SipLatency(*telephony, *media, far_port, tmp.path(), o.seconds);
  if (sim.size() == 0 || sip.size() == 0) {
    std::fprintf(stderr, "no latency samples (sim %zu, sip %zu); daemon log:\n%s\n", sim.size(),
                 sip.size(), daemon->LogTail().c_str());
    return 2;
  }
  Report report;
  const double sim50 = sim.P50() / 1000, sim99 = sim.P99() / 1000;
  const double sip50 = sip.P50() / 1000, sip99 = sip.P99() / 1000;
  report.Add(Row{"SIP RTP in -> client latency p50 (ms)", sip50, "info", "sim A->B p50", sim50,
                 sip50 / sim50, "info", absl::StrCat(sip.size(), " markers")});
  report.Add(Row{"SIP RTP in -> client latency p99 (ms)", sip99, "info", "sim A->B p99", sim99,
                 sip99 / sim99, "info", absl::StrCat(sim.size(), " sim markers")});
  // The jitter buffer's 60 ms depth (a frame waits 40-60 ms in it) plus the
  // media issue's 40 ms allowance over the framing.
  report.Add(Row{"SIP RTP in -> client latency p99, target (ms)", sip99, "<= 100", "", 0, 0,
                 sip99 <= 100 ? "PASS" : "FAIL", ""});
  report.Print();
  if (!o.json.empty()) report.WriteJson(o.json, o.quick);
  daemon->Stop();
  return 0;
}

}  // namespace
}  // namespace linebridge::bench

int main(int argc, char** argv) { return linebridge::bench::Main(argc, argv); }
