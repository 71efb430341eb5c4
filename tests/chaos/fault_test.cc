// Runtime faults against a real linebridged, with its memory (VmRSS) watched:
//  - a serial device that floods bytes forever (garbage, overlong lines and
//    line noise on a pty the modem provider opened): memory stays bounded and
//    the server keeps answering;
//  - a subscriber that never reads (small HTTP/2 windows): the server cuts it
//    off (RESOURCE_EXHAUSTED, or CANCELLED when its stream is stuck in flow
//    control; both resumable) once it is subscriber_queue_limit events
//    behind, its memory stays bounded, and another subscriber gets every
//    event.
// LINEBRIDGE_FAULT_SECONDS sets how long the flood lasts (default 10).
#include <fcntl.h>
#include <gtest/gtest.h>
#include <stdlib.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <memory>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include <grpcpp/grpcpp.h>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "chaos_util.h"
#include "linebridge/client.h"
#include "linebridge/v1/admin.grpc.pb.h"
#include "linebridge/v1/telephony.grpc.pb.h"
#include "tapisrv_harness.h"
#include "linebridge/deadline.h"

namespace linebridge::chaos {
namespace {

using tsp_test::ServerProcess;

// How much the daemon's resident memory may grow past its level once the
// fault is under way: far below what an unbounded buffer would take.
constexpr int64_t kRssSlackKb = 48 * 1024;

int64_t RssKb(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/status");
  std::string key;
  while (in >> key) {
    if (key == "VmRSS:") {
      int64_t kb = 0;
      in >> kb;
      return kb;
    }
    std::string rest;
    std::getline(in, rest);
  }
  return -1;
}

grpc::Status Ping(const std::string& address) {
  auto admin =
      v1::Admin::NewStub(grpc::CreateChannel(address, grpc::InsecureChannelCredentials()));
  grpc::ClientContext context;
  context.set_deadline(DeadlineAfter(absl::Seconds(5)));
  v1::PingRequest request;
  request.set_payload("there?");
  v1::PingResponse response;
  return admin->Ping(&context, request, &response);
}

std::string NewDir(const char* name) {
  std::string tmpl = absl::StrCat("/tmp/lb-", name, ".XXXXXX");
  return mkdtemp(tmpl.data());
}

// The daemon's memory: a baseline once the fault is under way, then the peak.
class RssWatch {
 public:
  explicit RssWatch(pid_t pid) : pid_(pid) {}
  void Baseline() { baseline_ = peak_ = RssKb(pid_); }
  void Sample() { peak_ = std::max(peak_, RssKb(pid_)); }
  int64_t baseline() const { return baseline_; }
  int64_t growth() const { return peak_ - baseline_; }

 private:
  pid_t pid_;
  int64_t baseline_ = 0;
  int64_t peak_ = 0;
};

TEST(Faults, SerialDeviceFloodingForeverKeepsMemoryBounded) {
  const absl::Duration flood = absl::Seconds(EnvInt("LINEBRIDGE_FAULT_SECONDS", 10));
  const std::string dir = NewDir("flood");
  // A pty of our own: the daemon opens its slave as the modem's device; we
  // write to the master as fast as the daemon reads, and never answer.
  const int master = posix_openpt(O_RDWR | O_NOCTTY | O_NONBLOCK);
  ASSERT_GE(master, 0);
  ASSERT_EQ(grantpt(master), 0);
  ASSERT_EQ(unlockpt(master), 0);
  const std::string link = dir + "/modem";
  ASSERT_EQ(symlink(ptsname(master), link.c_str()), 0);
  const std::string config = dir + "/lb.textproto";
  std::ofstream(config) << "providers {\n  modem {\n    ports {\n      name: \"m0\"\n"
                        << "      device: \"" << link << "\"\n"
                        << "      number: \"5550000\"\n      retry_interval_ms: 200\n"
                        << "    }\n  }\n}\n";
  ServerProcess server;
  std::string error;
  ASSERT_TRUE(server.Start(dir, &error, 0, config)) << error;

  std::mt19937 rng(7);
  std::string chunk(4096, '\0');
  uint64_t written = 0;
  RssWatch rss(server.pid());
  const absl::Time start = absl::Now();
  absl::Time next_ping = start + absl::Seconds(1);
  bool baseline_taken = false;
  int pings = 0;
  while (absl::Now() - start < flood) {
    // Garbage: random bytes, now and then a CR LF, a "RING" or an "OK", and
    // long runs with no line end at all.
    for (size_t i = 0; i < chunk.size(); ++i) chunk[i] = static_cast<char>(rng());
    if (rng() % 2 == 0) {
      for (size_t at = rng() % 512; at + 6 < chunk.size(); at += 64 + rng() % 512) {
        chunk.replace(at, 6, rng() % 3 == 0 ? "\r\nOK\r\n" : "\r\nRING");
      }
    }
    const ssize_t n = write(master, chunk.data(), chunk.size());
    if (n > 0) written += static_cast<uint64_t>(n);
    char drain[4096];
    while (read(master, drain, sizeof drain) > 0) {
    }
    if (n <= 0) absl::SleepFor(absl::Microseconds(200));  // the daemon has not read yet
    if (!baseline_taken && absl::Now() - start > absl::Seconds(2)) {
      rss.Baseline();
      baseline_taken = true;
    }
    if (absl::Now() >= next_ping) {
      rss.Sample();
      const grpc::Status ping = Ping(server.address());
      EXPECT_TRUE(ping.ok()) << "no answer during the flood: " << ping.error_message();
      ++pings;
      next_ping = absl::Now() + absl::Milliseconds(500);
    }
  }
  rss.Sample();
  close(master);
  std::cout << "serial flood: " << written / 1024 << " KiB in " << absl::FormatDuration(flood)
            << ", daemon RSS " << rss.baseline() << " KiB + " << rss.growth() << " KiB, " << pings
            << " pings answered" << std::endl;
  EXPECT_GT(written, 1u << 20) << "the daemon stopped reading its serial device";
  EXPECT_LT(rss.growth(), kRssSlackKb);
  EXPECT_TRUE(Ping(server.address()).ok());
  server.Stop();
  if (!HasFailure()) std::filesystem::remove_all(dir);
}

TEST(Faults, SubscriberThatNeverReadsIsCutOffWithMemoryBounded) {
  const std::string dir = NewDir("stall");
  const std::string config = dir + "/lb.textproto";
  std::ofstream(config) << "subscriber_queue_limit: 256\n";
  ServerProcess server;
  std::string error;
  ASSERT_TRUE(server.Start(dir, &error, 0, config)) << error;
  const std::string address = server.address();

  // The stalled subscriber: its own connection with small windows; reads the
  // first batch and then nothing.
  grpc::ChannelArguments args;
  args.SetInt(GRPC_ARG_HTTP2_BDP_PROBE, 0);
  args.SetInt(GRPC_ARG_HTTP2_STREAM_LOOKAHEAD_BYTES, 8192);
  auto stalled_channel =
      grpc::CreateCustomChannel(address, grpc::InsecureChannelCredentials(), args);
  auto stalled_stub = v1::Telephony::NewStub(stalled_channel);
  grpc::ClientContext stalled_context;
  auto stalled = stalled_stub->Subscribe(&stalled_context, v1::SubscribeRequest());
  v1::EventBatch first;
  ASSERT_TRUE(stalled->Read(&first));
  ASSERT_TRUE(first.has_snapshot());

  // A normal subscriber through the SDK.
  ClientOptions options;
  options.servers = {address};
  auto subscriber_client = Client::Create(options);
  ASSERT_TRUE(subscriber_client.ok());
  StreamChecker checker;
  std::atomic<uint64_t> last_seen{0};
  auto subscription = (*subscriber_client)->Subscribe({}, [&](size_t, const v1::EventBatch& b) {
    checker.OnBatch(b);
    for (const v1::Event& e : b.events()) last_seen = e.sequence();
  });

  // Events: calls made and dropped, far past the queue limit.
  auto caller = Client::Create(options);
  ASSERT_TRUE(caller.ok());
  ASSERT_TRUE((*caller)->StartSession().ok());
  v1::OpenLineRequest open;
  open.set_line_id("sim/100");
  open.set_privilege(v1::PRIVILEGE_OWNER);
  ASSERT_TRUE((*caller)->OpenLine(open).ok());
  RssWatch rss(server.pid());
  for (int i = 0; i < 1500; ++i) {
    if (i == 100) rss.Baseline();
    if (i % 50 == 0) rss.Sample();
    v1::MakeCallRequest make;
    make.set_line_id("sim/100");
    make.set_destination("5550100");
    absl::StatusOr<v1::Call> call = (*caller)->MakeCall(make);
    ASSERT_TRUE(call.ok()) << call.status();
    v1::CallActionRequest drop;
    drop.set_call_id(call->id());
    ASSERT_TRUE((*caller)->Drop(drop).ok());
  }
  rss.Sample();
  EXPECT_TRUE(Ping(address).ok());

  // The normal subscriber got everything, up to the last event.
  const absl::Time deadline = MonotonicNow() + absl::Seconds(30);
  uint64_t last_before = 0;
  while (MonotonicNow() < deadline) {
    last_before = last_seen;
    absl::SleepFor(absl::Milliseconds(200));
    if (last_seen == last_before && last_before > 1500) break;
  }
  subscription->Stop();
  EXPECT_EQ(checker.errors(), std::vector<std::string>{});
  EXPECT_GT(checker.events(), 1500u * 3);

  // The stalled one, reading at last, learns it was cut off (resumable).
  v1::EventBatch batch;
  uint64_t stalled_events = 0;
  while (stalled->Read(&batch)) stalled_events += static_cast<uint64_t>(batch.events_size());
  const grpc::Status end = stalled->Finish();
  // RESOURCE_EXHAUSTED when the server's status gets through; a stream stuck
  // in flow control cannot carry it and is cancelled. Both are resumable.
  EXPECT_TRUE(end.error_code() == grpc::StatusCode::RESOURCE_EXHAUSTED ||
              end.error_code() == grpc::StatusCode::CANCELLED)
      << end.error_code() << " " << end.error_message();
  EXPECT_LT(stalled_events, checker.events());
  std::cout << "stalled subscriber: cut off after " << stalled_events << " of "
            << checker.events() << " events (" << end.error_message() << "); daemon RSS "
            << rss.baseline() << " KiB + " << rss.growth() << " KiB" << std::endl;
  EXPECT_LT(rss.growth(), kRssSlackKb);
  (void)(*caller)->CloseSession();
  server.Stop();
  if (!HasFailure()) std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace linebridge::chaos
