// linebridge::Client: one or more linebridged servers behind one API.
//
// - ListLines / ListCalls fan out to every server and merge the answers.
// - Line-scoped requests go to the server of their line_id, call-scoped ones to
//   the server of their call_id. The routes are learned from responses and
//   events; on a miss the client refreshes them (ListLines or ListCalls on every
//   server). If no server knows the id the request goes to the first server,
//   whose NOT_FOUND (with the LINEERR it gives for that request) is returned;
//   if a server could not be asked, that failure is returned instead.
// - StartSession() creates one session per server; the client then fills
//   `session_id` of every request it sends to that server when it is empty.
// - Subscribe() keeps one event stream per server, reconnecting with backoff
//   and resuming from the last delivered (epoch, sequence).
//
// Every method is thread-safe. The Client must outlive its Subscriptions; its
// destructor waits for asynchronous calls still in flight.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <type_traits>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/functional/any_invocable.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "linebridge/backoff.h"
#include "linebridge/connection.h"
#include "linebridge/routing_table.h"

namespace linebridge {

struct ClientOptions {
  std::vector<std::string> servers;            // "host:port", at least one
  absl::Duration deadline = absl::Seconds(5);  // default deadline of unary calls
  BackoffPolicy backoff;                       // event stream reconnects
  std::string client_name = "linebridge-cpp";  // CreateSession.client_name
  ChannelOptions channel;  // credentials (TLS), channel args; reconnect backoff from `backoff`
};

// A position in a server's event journal.
struct ResumePoint {
  uint64_t epoch = 0;
  uint64_t sequence = 0;
  bool empty() const { return epoch == 0 && sequence == 0; }
};

struct SubscribeOptions {
  std::vector<std::string> line_ids;  // empty: every line
  bool bind_session = false;          // bind each stream to the client's session
  bool snapshot = false;              // ask for a snapshot on the first connect
  std::vector<ResumePoint> resume;    // per server index: where to start (optional)
};

// A change of one server's event stream.
struct StreamState {
  enum class Kind {
    kConnected,     // first batch after (re)connecting arrived
    kDisconnected,  // stream ended or failed (`reason`); retry after `retry_in`
    kReconnecting,  // attempt `attempt` starts now
  };
  Kind kind = Kind::kConnected;
  size_t server = 0;
  absl::Status reason;
  absl::Duration retry_in = absl::ZeroDuration();
  int attempt = 0;  // 0: the first connect of the subscription
  // Reconnecting with bind_session: the old session was gone and a new one
  // was created (lines must be opened again).
  bool session_replaced = false;
};

using EventHandler = std::function<void(size_t server, const v1::EventBatch& batch)>;
using StreamStateHandler = std::function<void(const StreamState& state)>;

class Client;

// `status` with "<prefix>: " before its message; code and payloads (the TAPI
// error) unchanged. OK stays OK.
absl::Status AnnotateStatus(const absl::Status& status, absl::string_view prefix);

// A running subscription. Handlers are called from the reader threads, one at
// a time (never concurrently). Stop() / the destructor cancel the streams and
// join the threads; do not call them from inside a handler.
class Subscription {
 public:
  ~Subscription();
  Subscription(const Subscription&) = delete;
  Subscription& operator=(const Subscription&) = delete;

  void Stop();
  // The last (epoch, sequence) delivered from `server`.
  ResumePoint position(size_t server) const;

 private:
  friend class Client;
  Subscription(Client* client, SubscribeOptions options, EventHandler on_events,
               StreamStateHandler on_state);
  void Run(size_t server);
  // One stream from open to end; returns why it ended.
  absl::Status Stream(size_t server, int attempt, bool session_replaced, Backoff& backoff);
  // bind_session: reclaims (or replaces) the session before a reconnect.
  absl::Status ReclaimForStream(size_t server, bool* session_replaced);
  void Deliver(size_t server, const v1::EventBatch& batch);
  void Notify(const StreamState& state);
  // Sleeps up to `delay`; false if stopped meanwhile.
  bool Sleep(absl::Duration delay);

  Client* client_;
  const SubscribeOptions options_;
  const EventHandler on_events_;
  const StreamStateHandler on_state_;

  mutable absl::Mutex mu_;
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  std::vector<grpc::ClientContext*> contexts_ ABSL_GUARDED_BY(mu_);
  std::vector<ResumePoint> positions_ ABSL_GUARDED_BY(mu_);
  absl::Mutex handler_mu_;  // serializes handler calls
  absl::Mutex join_mu_;     // serializes Stop()
  std::vector<std::thread> threads_;
};

// The rows of the RPC table (linebridge/rpc_table.h) routed by a line or
// call id: define LINEBRIDGE_ROUTED(Method, Request, Response, route kind,
// routing field), then LINEBRIDGE_ROUTED_RPCS expands it for each.
#define LINEBRIDGE_ROUTED_ROW_(Service, Method, Request, Response, Access, Perm, Flags, Route, \
                               Field)                                                        \
  LINEBRIDGE_ROUTED_##Route(Method, Request, Response, Field)
#define LINEBRIDGE_ROUTED_kDirect(Method, Request, Response, Field)
#define LINEBRIDGE_ROUTED_kFanOut(Method, Request, Response, Field)
#define LINEBRIDGE_ROUTED_kLine(Method, Request, Response, Field) \
  LINEBRIDGE_ROUTED(Method, Request, Response, kLine, Field)
#define LINEBRIDGE_ROUTED_kCall(Method, Request, Response, Field) \
  LINEBRIDGE_ROUTED(Method, Request, Response, kCall, Field)
#define LINEBRIDGE_ROUTED_kPhone(Method, Request, Response, Field) \
  LINEBRIDGE_ROUTED(Method, Request, Response, kPhone, Field)
#define LINEBRIDGE_ROUTED_RPCS LINEBRIDGE_RPCS(LINEBRIDGE_ROUTED_ROW_)

class Client {
 public:
  static absl::StatusOr<std::unique_ptr<Client>> Create(ClientOptions options);
  // Over existing connections (server index = position in the vector).
  Client(std::vector<std::unique_ptr<Connection>> connections, ClientOptions options);
  ~Client();

  Client(const Client&) = delete;
  Client& operator=(const Client&) = delete;

  size_t num_servers() const { return connections_.size(); }
  Connection& connection(size_t server) { return *connections_[server]; }
  const ClientOptions& options() const { return options_; }
  RoutingTable& routes() { return routes_; }

  // --- Sessions --------------------------------------------------------------
  // Creates a session on every server that has none.
  absl::Status StartSession(const CallOptions& options = {});
  // Creates a new session on `server` (replacing the id the client knew).
  absl::Status StartSession(size_t server, const CallOptions& options = {});
  // CreateSession(reclaim_session_id) after a reconnect. NOT_FOUND if the
  // session expired or the server restarted; the id is then forgotten.
  absl::Status ReclaimSession(size_t server, const CallOptions& options = {});
  // Closes the sessions on every server (best effort; first error returned).
  absl::Status CloseSession(const CallOptions& options = {});
  std::string session_id(size_t server) const;
  // The identity `server` reported with its session (Session.server_id; ""
  // before a session or from a server without one). Lines are (server id,
  // line id): two servers may both have "sim/100"; route a line-scoped
  // request to one of them with CallOptions::server.
  std::string server_id(size_t server) const;

  // Cancels every unary call in flight on every server (they complete with
  // CANCELLED at once) and fails later ones the same way; for an owner that
  // must stop within a bound whatever the servers do. Stop subscriptions
  // first or after (their streams have their own contexts).
  void CancelAll();
  std::vector<std::string> session_ids() const;  // "" where none

  // --- Fan-out ----------------------------------------------------------------
  // Every server's lines (fails if any server fails).
  absl::StatusOr<v1::ListLinesResponse> ListLines(const v1::ListLinesRequest& request = {},
                                                  const CallOptions& options = {});
  void ListLinesAsync(const v1::ListLinesRequest& request, Callback<v1::ListLinesResponse> done,
                      const CallOptions& options = {});
  // With line_id: routed to the line's server; otherwise every server's calls.
  absl::StatusOr<v1::ListCallsResponse> ListCalls(const v1::ListCallsRequest& request = {},
                                                  const CallOptions& options = {});
  void ListCallsAsync(const v1::ListCallsRequest& request, Callback<v1::ListCallsResponse> done,
                      const CallOptions& options = {});
  // With line_id: routed to the line's server; otherwise every server's phones.
  absl::StatusOr<v1::ListPhonesResponse> ListPhones(const v1::ListPhonesRequest& request = {},
                                                    const CallOptions& options = {});
  void ListPhonesAsync(const v1::ListPhonesRequest& request,
                       Callback<v1::ListPhonesResponse> done, const CallOptions& options = {});

  // --- Routed RPCs ------------------------------------------------------------
#define LINEBRIDGE_ROUTED(Method, Request, Response, kind, field)                            \
  absl::StatusOr<v1::Response> Method(v1::Request request, const CallOptions& options = {}); \
  void Method##Async(v1::Request request, Callback<v1::Response> done,                       \
                     const CallOptions& options = {});
  LINEBRIDGE_ROUTED_RPCS
#undef LINEBRIDGE_ROUTED

  // --- Events -----------------------------------------------------------------
  std::unique_ptr<Subscription> Subscribe(SubscribeOptions options, EventHandler on_events,
                                          StreamStateHandler on_state = nullptr);

 private:
  template <typename Request, typename Response>
  using AsyncRpc = void (Connection::*)(const Request&, Callback<Response>, const CallOptions&);
  template <typename Response>
  using Results = std::vector<absl::StatusOr<Response>>;

  // Wraps `done` so that the destructor waits for it.
  template <typename T>
  Callback<T> Track(Callback<T> done);
  template <typename Request, typename Response>
  void RoutedAsync(RoutingTable::Kind kind, std::string key, AsyncRpc<Request, Response> rpc,
                   Request request, Callback<Response> done, const CallOptions& options);
  template <typename Request, typename Response>
  void FanOutAsync(AsyncRpc<Request, Response> rpc, const Request& request,
                   const CallOptions& options,
                   std::type_identity_t<absl::AnyInvocable<void(Results<Response>)>> done);
  template <typename Request, typename Response>
  void MergedAsync(AsyncRpc<Request, Response> rpc, const Request& request, Callback<Response> done,
                   const CallOptions& options);
  void ResolveAsync(RoutingTable::Kind kind, std::string key, const CallOptions& options,
                    Callback<size_t> done);
  template <typename Request>
  void FillSession(size_t server, Request& request) const;
  absl::Status Annotate(size_t server, const absl::Status& status) const;
  absl::Status CreateSession(size_t server, const std::string& reclaim_id,
                             const CallOptions& options);

  ClientOptions options_;
  std::vector<std::unique_ptr<Connection>> connections_;
  RoutingTable routes_;

  mutable absl::Mutex mu_;
  std::vector<std::string> sessions_ ABSL_GUARDED_BY(mu_);
  std::vector<std::string> server_ids_ ABSL_GUARDED_BY(mu_);
  int in_flight_ ABSL_GUARDED_BY(mu_) = 0;
};

}  // namespace linebridge
