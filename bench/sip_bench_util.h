// Helpers for sip_bench: an event subscription that tells waiters which call
// states it has seen, sipp runs with rate and concurrency limits, and the
// figures sipp writes (its statistics file and its message trace).
#pragma once

#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include <grpcpp/grpcpp.h>

#include "linebridge/v1/telephony.grpc.pb.h"
#include "providers/sip/testing/sip_peers.h"

namespace linebridge::bench {

// Microseconds since the epoch on the wall clock (the clock sipp stamps its
// message trace with).
int64_t WallUs();

// One Subscribe stream on all lines, read by a thread of its own. Each event
// goes to `on_event` (on that thread, with the time it was read) and each
// call state is remembered until Forget().
class EventHub {
 public:
  using Handler = std::function<void(const v1::Event&, int64_t read_us)>;
  EventHub(v1::Telephony::Stub& telephony, Handler on_event);
  ~EventHub();
  EventHub(const EventHub&) = delete;
  EventHub& operator=(const EventHub&) = delete;

  // Subscribes and waits for the snapshot; false if the stream failed.
  bool Start();
  // True once `call` has been in `state`, false after `seconds`.
  bool Await(const std::string& call, v1::CallState state, double seconds);
  void Forget(const std::string& call);
  // The states `call` has been in, by name (for error messages).
  std::string Seen(const std::string& call);

 private:
  void Run();

  v1::Telephony::Stub& telephony_;
  Handler on_event_;
  grpc::ClientContext context_;
  std::unique_ptr<grpc::ClientReader<v1::EventBatch>> reader_;
  std::thread thread_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::map<std::string, std::set<int>> seen_;
  bool ended_ = false;
};

// A sipp run for the benchmark: `scenario` a path; `remote` for a client.
struct SippRun {
  std::string scenario;
  int port = 0;
  std::string remote;
  std::string service = "bench";
  int calls = 0;           // -m; 0 = until killed
  int concurrency = 0;     // -l
  double rate = 0;         // -r calls per second
  bool trace_messages = false;
  bool stats = false;      // -trace_stat, read with ReadSippStats
  std::vector<std::pair<std::string, std::string>> keys;
  int timeout_s = 120;
};
// Starts sipp in `dir` (log files named after the scenario and `tag`);
// returns once its SIP port is bound.
bool StartSippRun(sip::testing::ChildProcess& child, const SippRun& run, const std::string& dir,
                  const std::string& tag);
// The paths StartSippRun gives sipp's files.
std::string SippStatsPath(const std::string& dir, const std::string& tag);
std::string SippMessagesPath(const std::string& dir, const std::string& tag);

// The final line of a sipp statistics file.
struct SippStats {
  double elapsed_s = 0;   // CurrentTime - StartTime
  int64_t successful = 0;
  int64_t failed = 0;
};
bool ReadSippStats(const std::string& path, SippStats* out);

// From a client's message trace: per call number (from the Call-ID), the
// wall time the first INVITE was sent and the first 180 arrived (0 if not).
struct SippCallTimes {
  int64_t invite_us = 0;
  int64_t ringing_us = 0;
};
std::map<int64_t, SippCallTimes> ReadSippCallTimes(const std::string& path);

// The directory with sip_bench's own scenarios.
std::string BenchScenarioDir();

// "p50 a, spread b..c over n runs" style helpers.
double Median(std::vector<double> v);
double Min(const std::vector<double>& v);
double Max(const std::vector<double>& v);

// The 1-minute load average ("" if unreadable).
std::string LoadAverage();

}  // namespace linebridge::bench
