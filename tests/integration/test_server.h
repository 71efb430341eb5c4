// Shared fixture for the integration tests: a real linebridge::Server in
// process, listening on 127.0.0.1:<free port> with a fresh data directory,
// and clients that talk to it over real gRPC.
#pragma once

#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include <grpcpp/grpcpp.h>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "api/server.h"
#include "linebridge/v1/admin.grpc.pb.h"
#include "linebridge/v1/telephony.grpc.pb.h"

namespace linebridge::itest {

// Every wait in the integration tests is bounded by this (or less).
inline constexpr absl::Duration kTimeout = absl::Seconds(5);
inline constexpr uint64_t kDefaultEpoch = 0x5eed0001;

// A ClientContext with a deadline.
std::unique_ptr<grpc::ClientContext> Ctx(absl::Duration timeout = kTimeout);
// Ctx() with, if `token` is set, the bearer authorization header.
std::unique_ptr<grpc::ClientContext> As(const std::string& token);

// The LINEERR_* value in the TapiError detail of `status` (parsed from
// error_details() as google.rpc.Status), or nullopt when there is none.
std::optional<uint32_t> TapiErrorOf(const grpc::Status& status);
// Its name ("LINEERR_INVALCALLSTATE"), or "".
std::string TapiErrorNameOf(const grpc::Status& status);
// Expects a failed RPC with exactly this canonical code and, in its details,
// a google.rpc.Status of the same code and message carrying exactly one
// linebridge.v1.TapiError with this LINEERR value and its name.
void ExpectTapi(const grpc::Status& st, grpc::StatusCode code, uint32_t lineerr,
                const std::string& what);

// A fresh directory under testing::TempDir().
std::string NewTempDir(const std::string& prefix);

class TestServer {
 public:
  // `config_text`: textproto of ServerConfig fields (e.g. "journal_capacity: 16");
  // defaults are applied as for the daemon. listen/data_dir are overridden.
  // An empty data_dir picks a fresh temp directory.
  static std::unique_ptr<TestServer> Start(const std::string& config_text = "",
                                           uint64_t epoch = kDefaultEpoch,
                                           const std::string& data_dir = "");
  ~TestServer();

  Server& server() { return *server_; }
  const std::string& address() const { return address_; }
  const std::string& data_dir() const { return data_dir_; }
  uint64_t epoch() const { return epoch_; }

  v1::Telephony::Stub& telephony() { return *telephony_; }
  v1::Admin::Stub& admin() { return *admin_; }
  std::shared_ptr<grpc::Channel> channel() { return channel_; }
  // A separate connection (its own HTTP/2 transport) to the server.
  std::shared_ptr<grpc::Channel> NewChannel(const grpc::ChannelArguments& args = {});

  // Graceful stop (Server::Shutdown). The object stays valid.
  void Shutdown(const std::string& reason = "test shutdown");

  // The last journal sequence, from Admin.GetServerStatus.
  uint64_t LastSequence();
  v1::ServerStatus Status();

 private:
  TestServer() = default;

  std::unique_ptr<Server> server_;
  std::string address_;
  std::string data_dir_;
  uint64_t epoch_ = 0;
  std::shared_ptr<grpc::Channel> channel_;
  std::unique_ptr<v1::Telephony::Stub> telephony_;
  std::unique_ptr<v1::Admin::Stub> admin_;
};

// Calls `(stub.*method)(ctx, req, resp)` with a deadline.
template <typename Stub, typename Req, typename Resp>
grpc::Status Rpc(Stub& stub,
                 grpc::Status (Stub::*method)(grpc::ClientContext*, const Req&, Resp*),
                 const Req& req, Resp* resp, absl::Duration timeout = kTimeout) {
  auto ctx = Ctx(timeout);
  return (stub.*method)(ctx.get(), req, resp);
}

// Convenience wrappers over the Telephony stub (server authority when
// session is empty).
grpc::Status MakeCall(v1::Telephony::Stub& stub, const std::string& line,
                      const std::string& destination, v1::Call* out,
                      const std::string& session = "");
grpc::Status Answer(v1::Telephony::Stub& stub, const std::string& call_id, v1::Call* out = nullptr,
                    const std::string& session = "");
grpc::Status Drop(v1::Telephony::Stub& stub, const std::string& call_id, v1::Call* out = nullptr,
                  const std::string& session = "");
// Calls on `line` (ListCalls).
std::vector<v1::Call> CallsOn(v1::Telephony::Stub& stub, const std::string& line);

// Reads a Subscribe stream on its own thread into a queue.
class EventReader {
 public:
  struct Options {
    // Read only the first batch, then stop reading until Resume().
    bool pause_after_first = false;
  };

  EventReader(v1::Telephony::Stub& stub, const v1::SubscribeRequest& request)
      : EventReader(stub, request, Options()) {}
  EventReader(v1::Telephony::Stub& stub, const v1::SubscribeRequest& request, Options options);
  ~EventReader();  // cancels the stream and joins the thread
  EventReader(const EventReader&) = delete;
  EventReader& operator=(const EventReader&) = delete;

  // The next batch, or nullopt on timeout or when the stream has ended.
  std::optional<v1::EventBatch> Next(absl::Duration timeout = kTimeout);

  // Consumes events until one satisfies `pred` and returns it (the rest of its
  // batch stays queued). `seen`, if given, gets every event consumed,
  // including the match. nullopt on timeout / end of stream.
  std::optional<v1::Event> WaitFor(const std::function<bool(const v1::Event&)>& pred,
                                   absl::Duration timeout = kTimeout,
                                   std::vector<v1::Event>* seen = nullptr);
  // Consumes events up to and including `sequence`; true if it was reached.
  bool WaitForSequence(uint64_t sequence, absl::Duration timeout = kTimeout,
                       std::vector<v1::Event>* seen = nullptr);

  // Ends the stream from the client side.
  void Cancel();
  void Resume();
  // Waits for the stream to end; the status it ended with. nullopt on timeout.
  std::optional<grpc::Status> WaitForEnd(absl::Duration timeout = kTimeout);
  bool ended();
  // Batches received so far (all, including those not consumed yet).
  int batches_received();

 private:
  void Run(v1::Telephony::Stub* stub, v1::SubscribeRequest request);

  const Options options_;
  grpc::ClientContext ctx_;
  std::thread thread_;
  absl::Mutex mu_;
  std::deque<v1::EventBatch> queue_ ABSL_GUARDED_BY(mu_);
  bool paused_ ABSL_GUARDED_BY(mu_) = false;
  bool cancelled_ ABSL_GUARDED_BY(mu_) = false;
  bool ended_ ABSL_GUARDED_BY(mu_) = false;
  grpc::Status end_status_ ABSL_GUARDED_BY(mu_);
  int received_ ABSL_GUARDED_BY(mu_) = 0;
};

// Predicates for EventReader::WaitFor.
std::function<bool(const v1::Event&)> IsCallState(const std::string& call_id,
                                                  v1::CallState state);
std::function<bool(const v1::Event&)> IsKind(v1::Event::KindCase kind);

}  // namespace linebridge::itest
