// tsp_bench_sdk: the C++ SDK half of tsp_bench (a separate process: the SDK
// cannot share a process with linebridge.tsp, which links its own copy of the
// generated API). Makes calls the way the TSP does (MakeCall RPC on a line
// opened with MONITOR privilege, events from a session-bound subscription) and
// prints one sample per line:
//
//   response <us>    MakeCall sent -> its response (the TSP's ASYNC_COMPLETION)
//   connected <us>   MakeCall sent -> CallStateChanged CONNECTED event
//
//   tsp_bench_sdk --server 127.0.0.1:PORT --line sim/100 --dest 5550100
//                 --iterations N --warmup W [--absl_deadlock_detection on|off]
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <string>

#include "absl/synchronization/mutex.h"
#include "linebridge/client.h"

namespace {

using Clock = std::chrono::steady_clock;

struct State {
  std::mutex mu;
  std::condition_variable cv;
  std::string call_id;
  bool response = false;
  bool connected = false;
  bool idle = false;
  Clock::time_point t_response, t_connected;
};

}  // namespace

int main(int argc, char** argv) {
  std::string server, line = "sim/100", dest = "5550100";
  int iterations = 100, warmup = 10;
  bool detection = false;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string flag = argv[i];
    if (flag == "--server") server = argv[i + 1];
    else if (flag == "--line") line = argv[i + 1];
    else if (flag == "--dest") dest = argv[i + 1];
    else if (flag == "--iterations") iterations = std::atoi(argv[i + 1]);
    else if (flag == "--warmup") warmup = std::atoi(argv[i + 1]);
    else if (flag == "--absl_deadlock_detection") detection = std::string(argv[i + 1]) == "on";
    else {
      std::fprintf(stderr, "tsp_bench_sdk: unknown flag %s\n", flag.c_str());
      return 1;
    }
  }
  // As tsp_bench sets it for the TSP (see there).
  if (!detection) absl::SetMutexDeadlockDetectionMode(absl::OnDeadlockCycle::kIgnore);
  linebridge::ClientOptions options;
  options.servers = {server};
  options.client_name = "tsp-bench-sdk";
  auto client = linebridge::Client::Create(options);
  if (!client.ok()) {
    std::fprintf(stderr, "tsp_bench_sdk: %s\n", client.status().ToString().c_str());
    return 2;
  }
  if (absl::Status s = (*client)->StartSession(); !s.ok()) {
    std::fprintf(stderr, "tsp_bench_sdk: StartSession: %s\n", s.ToString().c_str());
    return 2;
  }
  State st;
  linebridge::SubscribeOptions sub;
  sub.bind_session = true;
  sub.line_ids = {line};
  sub.snapshot = true;  // a first batch at once: the stream is up before calls start
  bool stream_up = false;
  auto subscription = (*client)->Subscribe(
      sub, [&](size_t, const linebridge::v1::EventBatch& batch) {
        const Clock::time_point now = Clock::now();
        std::lock_guard<std::mutex> lock(st.mu);
        for (const auto& e : batch.events()) {
          if (!e.has_call_state()) continue;
          const auto state = e.call_state().status().state();
          if (state == linebridge::v1::CALL_STATE_CONNECTED && !st.connected &&
              (st.call_id.empty() || st.call_id == e.call_state().call_id())) {
            // Before the response names the call, the first CONNECTED on the
            // line is ours (one call at a time).
            st.connected = true;
            st.t_connected = now;
            if (st.call_id.empty()) st.call_id = e.call_state().call_id();
          } else if (state == linebridge::v1::CALL_STATE_IDLE && st.call_id == e.call_state().call_id()) {
            st.idle = true;
          }
        }
        st.cv.notify_all();
      },
      [&](const linebridge::StreamState& state) {
        std::lock_guard<std::mutex> lock(st.mu);
        if (state.kind == linebridge::StreamState::Kind::kConnected) stream_up = true;
        st.cv.notify_all();
      });
  {
    std::unique_lock<std::mutex> lock(st.mu);
    if (!st.cv.wait_for(lock, std::chrono::seconds(10), [&] { return stream_up; })) {
      std::fprintf(stderr, "tsp_bench_sdk: the event stream did not connect\n");
      return 2;
    }
  }
  linebridge::v1::OpenLineRequest open;
  open.set_line_id(line);
  open.set_privilege(linebridge::v1::PRIVILEGE_MONITOR);
  if (auto r = (*client)->OpenLine(open); !r.ok()) {
    std::fprintf(stderr, "tsp_bench_sdk: OpenLine: %s\n", r.status().ToString().c_str());
    return 2;
  }
  for (int i = 0; i < warmup + iterations; ++i) {
    {
      std::lock_guard<std::mutex> lock(st.mu);
      st.call_id.clear();
      st.response = st.connected = st.idle = false;
    }
    linebridge::v1::MakeCallRequest request;
    request.set_line_id(line);
    request.set_destination(dest);
    const Clock::time_point t0 = Clock::now();
    (*client)->MakeCallAsync(request, [&](absl::StatusOr<linebridge::v1::Call> call) {
      const Clock::time_point now = Clock::now();
      std::lock_guard<std::mutex> lock(st.mu);
      if (call.ok()) {
        st.call_id = call->id();
        st.response = true;
        st.t_response = now;
      } else {
        std::fprintf(stderr, "tsp_bench_sdk: MakeCall: %s\n", call.status().ToString().c_str());
        std::exit(2);
      }
      st.cv.notify_all();
    });
    std::string call_id;
    {
      std::unique_lock<std::mutex> lock(st.mu);
      if (!st.cv.wait_for(lock, std::chrono::seconds(10),
                          [&] { return st.response && st.connected; })) {
        std::fprintf(stderr, "tsp_bench_sdk: call %d did not connect\n", i);
        return 2;
      }
      call_id = st.call_id;
      if (i >= warmup) {
        std::printf("response %.1f\nconnected %.1f\n",
                    std::chrono::duration<double, std::micro>(st.t_response - t0).count(),
                    std::chrono::duration<double, std::micro>(st.t_connected - t0).count());
      }
    }
    linebridge::v1::CallActionRequest drop;
    drop.set_call_id(call_id);
    if (auto r = (*client)->Drop(drop); !r.ok()) {
      std::fprintf(stderr, "tsp_bench_sdk: Drop: %s\n", r.status().ToString().c_str());
      return 2;
    }
    std::unique_lock<std::mutex> lock(st.mu);
    st.cv.wait_for(lock, std::chrono::seconds(10), [&] { return st.idle; });
  }
  std::fflush(stdout);
  subscription->Stop();
  (void)(*client)->CloseSession();
  // Leave without tearing down gRPC's background threads (as linectl does).
  std::_Exit(0);
}
