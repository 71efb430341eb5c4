#include "linebridge/client.h"

#include <algorithm>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/cord.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/notification.h"
#include "linebridge/lineerr.h"
#include "linebridge/rpc_status.h"
#include "linebridge/snapshot_assembler.h"

namespace linebridge {
namespace {

using Kind = RoutingTable::Kind;

// Route learning from responses: every Line and Call a server returns lives on
// that server.
template <typename T>
void Learn(RoutingTable& /*routes*/, size_t /*server*/, const T& /*response*/) {}

void Learn(RoutingTable& routes, size_t server, const v1::Line& line) {
  routes.SetLine(line.id(), server);
}
void Learn(RoutingTable& routes, size_t server, const v1::Call& call) {
  routes.SetCall(call.id(), server);
  routes.SetLine(call.info().line_id(), server);
}
void Learn(RoutingTable& routes, size_t server, const v1::ListLinesResponse& response) {
  for (const v1::Line& line : response.lines()) Learn(routes, server, line);
}
void Learn(RoutingTable& routes, size_t server, const v1::ListCallsResponse& response) {
  for (const v1::Call& call : response.calls()) Learn(routes, server, call);
}
void Learn(RoutingTable& routes, size_t server, const v1::Phone& phone) {
  routes.SetPhone(phone.id(), server);
}
void Learn(RoutingTable& routes, size_t server, const v1::ListPhonesResponse& response) {
  for (const v1::Phone& phone : response.phones()) Learn(routes, server, phone);
}
void Learn(RoutingTable& routes, size_t server, const v1::OpenLineResponse& response) {
  Learn(routes, server, response.line());
}
void Learn(RoutingTable& routes, size_t server, const v1::SetupTransferResponse& response) {
  Learn(routes, server, response.call());
  Learn(routes, server, response.consultation());
}
void Learn(RoutingTable& routes, size_t server, const v1::CompleteTransferResponse& response) {
  if (response.has_conference()) Learn(routes, server, response.conference());
}
void Learn(RoutingTable& routes, size_t server, const v1::SetupConferenceResponse& response) {
  Learn(routes, server, response.conference());
  Learn(routes, server, response.consultation());
}

// Runs an asynchronous operation and waits for its result.
template <typename T, typename Start>
absl::StatusOr<T> Await(Start&& start) {
  absl::Notification done;
  absl::StatusOr<T> result;
  start(Callback<T>([&](absl::StatusOr<T> r) {
    result = std::move(r);
    done.Notify();
  }));
  done.WaitForNotification();
  return result;
}

template <typename Response>
std::vector<absl::Status> StatusesOf(const std::vector<absl::StatusOr<Response>>& results) {
  std::vector<absl::Status> statuses;
  statuses.reserve(results.size());
  for (const auto& result : results) statuses.push_back(result.status());
  return statuses;
}

bool IsTransient(const absl::Status& status) {
  return absl::IsUnavailable(status) || absl::IsDeadlineExceeded(status);
}

}  // namespace

// ---------------------------------------------------------------------------
// Client: construction and plumbing.
// ---------------------------------------------------------------------------

absl::StatusOr<std::unique_ptr<Client>> Client::Create(ClientOptions options) {
  if (options.servers.empty()) {
    return InvalidArgument(LINEERR_INVALPARAM, "no server address given");
  }
  std::vector<std::unique_ptr<Connection>> connections;
  for (const std::string& address : options.servers) {
    ConnectionOptions connection_options;
    connection_options.deadline = options.deadline;
    connection_options.channel = options.channel;
    connection_options.channel.initial_reconnect_backoff = options.backoff.initial;
    connection_options.channel.max_reconnect_backoff = options.backoff.max;
    absl::StatusOr<std::unique_ptr<Connection>> connection =
        Connection::Create(address, std::move(connection_options));
    if (!connection.ok()) return connection.status();
    connections.push_back(*std::move(connection));
  }
  return std::make_unique<Client>(std::move(connections), std::move(options));
}

Client::Client(std::vector<std::unique_ptr<Connection>> connections, ClientOptions options)
    : options_(std::move(options)), connections_(std::move(connections)) {
  options_.servers.clear();
  for (const auto& connection : connections_) options_.servers.push_back(connection->address());
  absl::MutexLock lock(&mu_);
  sessions_.resize(connections_.size());
  server_ids_.resize(connections_.size());
}

void Client::CancelAll() {
  for (const auto& connection : connections_) connection->CancelAll();
}

std::string Client::server_id(size_t server) const {
  absl::MutexLock lock(&mu_);
  return server < server_ids_.size() ? server_ids_[server] : std::string();
}

Client::~Client() {
  absl::MutexLock lock(&mu_);
  mu_.Await(absl::Condition(
      +[](int* in_flight) { return *in_flight == 0; }, &in_flight_));
}

template <typename T>
Callback<T> Client::Track(Callback<T> done) {
  {
    absl::MutexLock lock(&mu_);
    ++in_flight_;
  }
  return [this, done = std::move(done)](absl::StatusOr<T> result) mutable {
    done(std::move(result));
    absl::MutexLock lock(&mu_);
    --in_flight_;
  };
}

absl::Status AnnotateStatus(const absl::Status& status, absl::string_view prefix) {
  if (status.ok()) return status;
  absl::Status annotated(status.code(), absl::StrCat(prefix, ": ", status.message()));
  status.ForEachPayload([&annotated](absl::string_view type_url, const absl::Cord& payload) {
    annotated.SetPayload(type_url, payload);
  });
  return annotated;
}

absl::Status Client::Annotate(size_t server, const absl::Status& status) const {
  if (connections_.size() <= 1) return status;
  return AnnotateStatus(status, connections_[server]->address());
}

template <typename Request>
void Client::FillSession(size_t server, Request& request) const {
  if constexpr (requires { request.set_session_id(std::string()); }) {
    if (request.session_id().empty()) {
      absl::MutexLock lock(&mu_);
      request.set_session_id(sessions_[server]);
    }
  }
}

template <typename Request, typename Response>
void Client::FanOutAsync(AsyncRpc<Request, Response> rpc, const Request& request,
                         const CallOptions& options,
                         std::type_identity_t<absl::AnyInvocable<void(Results<Response>)>> done) {
  struct State {
    absl::Mutex mu;
    Results<Response> results;
    size_t remaining = 0;
    absl::AnyInvocable<void(Results<Response>)> done;
  };
  auto state = std::make_shared<State>();
  state->results.resize(connections_.size());
  state->remaining = connections_.size();
  state->done = std::move(done);
  for (size_t server = 0; server < connections_.size(); ++server) {
    Request copy = request;
    FillSession(server, copy);
    (connections_[server].get()->*rpc)(
        copy,
        [this, state, server](absl::StatusOr<Response> result) {
          if (result.ok()) Learn(routes_, server, *result);
          bool last = false;
          {
            absl::MutexLock lock(&state->mu);
            state->results[server] = std::move(result);
            last = --state->remaining == 0;
          }
          if (last) state->done(std::move(state->results));
        },
        options);
  }
}

template <typename Request, typename Response>
void Client::MergedAsync(AsyncRpc<Request, Response> rpc, const Request& request,
                         Callback<Response> done, const CallOptions& options) {
  FanOutAsync(rpc, request, options,
              [this, done = std::move(done)](Results<Response> results) mutable {
                Response merged;
                for (size_t server = 0; server < results.size(); ++server) {
                  if (!results[server].ok()) {
                    return done(Annotate(server, results[server].status()));
                  }
                  merged.MergeFrom(*results[server]);
                }
                done(std::move(merged));
              });
}

void Client::ResolveAsync(Kind kind, std::string key, const CallOptions& options,
                          Callback<size_t> done) {
  // The caller named the server (a line is (server, line id): two servers
  // may have lines of the same id).
  if (options.server.has_value()) {
    if (*options.server >= connections_.size()) {
      return done(InvalidArgument(LINEERR_INVALPARAM,
                                  absl::StrCat("no server ", *options.server, " (", connections_.size(),
                                               " configured)")));
    }
    return done(*options.server);
  }
  // One server, or nothing to route by: the server answers (and validates).
  if (connections_.size() == 1 || key.empty()) return done(size_t{0});
  if (std::optional<size_t> server = routes_.Find(kind, key)) return done(*server);
  auto finish = [this, kind, key,
                 done = std::move(done)](const std::vector<absl::Status>& errors) mutable {
    if (std::optional<size_t> server = routes_.Find(kind, key)) return done(*server);
    // An unreachable server may hold it: report that rather than NOT_FOUND.
    for (size_t server = 0; server < errors.size(); ++server) {
      if (!errors[server].ok()) return done(Annotate(server, errors[server]));
    }
    // No server has it: let the first one answer, with exactly the NOT_FOUND
    // (and LINEERR) it gives for this request.
    done(size_t{0});
  };
  if (kind == Kind::kLine) {
    FanOutAsync(&Connection::ListLinesAsync, v1::ListLinesRequest(), options,
                [finish = std::move(finish)](Results<v1::ListLinesResponse> results) mutable {
                  finish(StatusesOf(results));
                });
  } else if (kind == Kind::kPhone) {
    FanOutAsync(&Connection::ListPhonesAsync, v1::ListPhonesRequest(), options,
                [finish = std::move(finish)](Results<v1::ListPhonesResponse> results) mutable {
                  finish(StatusesOf(results));
                });
  } else {
    FanOutAsync(&Connection::ListCallsAsync, v1::ListCallsRequest(), options,
                [finish = std::move(finish)](Results<v1::ListCallsResponse> results) mutable {
                  finish(StatusesOf(results));
                });
  }
}

template <typename Request, typename Response>
void Client::RoutedAsync(Kind kind, std::string key, AsyncRpc<Request, Response> rpc,
                         Request request, Callback<Response> done, const CallOptions& options) {
  ResolveAsync(
      kind, std::move(key), options,
      [this, rpc, request = std::move(request), done = std::move(done),
       options](absl::StatusOr<size_t> server) mutable {
        if (!server.ok()) return done(server.status());
        const size_t index = *server;
        FillSession(index, request);
        (connections_[index].get()->*rpc)(
            request,
            [this, index, done = std::move(done)](absl::StatusOr<Response> result) mutable {
              if (result.ok()) {
                Learn(routes_, index, *result);
              } else {
                result = Annotate(index, result.status());
              }
              done(std::move(result));
            },
            options);
      });
}

// ---------------------------------------------------------------------------
// Sessions.
// ---------------------------------------------------------------------------

absl::Status Client::CreateSession(size_t server, const std::string& reclaim_id,
                                   const CallOptions& options) {
  v1::CreateSessionRequest request;
  request.set_client_name(options_.client_name);
  request.set_reclaim_session_id(reclaim_id);
  absl::StatusOr<v1::Session> session = connections_[server]->CreateSession(request, options);
  absl::MutexLock lock(&mu_);
  if (!session.ok()) {
    if (!reclaim_id.empty() && absl::IsNotFound(session.status()) &&
        sessions_[server] == reclaim_id) {
      sessions_[server].clear();
    }
    return Annotate(server, session.status());
  }
  sessions_[server] = session->id();
  server_ids_[server] = session->server_id();
  return absl::OkStatus();
}

absl::Status Client::StartSession(const CallOptions& options) {
  absl::Status first_error;
  for (size_t server = 0; server < connections_.size(); ++server) {
    if (!session_id(server).empty()) continue;
    absl::Status status = CreateSession(server, "", options);
    if (first_error.ok()) first_error = status;
  }
  return first_error;
}

absl::Status Client::StartSession(size_t server, const CallOptions& options) {
  return CreateSession(server, "", options);
}

absl::Status Client::ReclaimSession(size_t server, const CallOptions& options) {
  std::string id = session_id(server);
  if (id.empty()) {
    return FailedPrecondition(
        LINEERR_OPERATIONFAILED,
        absl::StrCat("no session to reclaim on ", connections_[server]->address()));
  }
  return CreateSession(server, id, options);
}

absl::Status Client::CloseSession(const CallOptions& options) {
  absl::Status first_error;
  for (size_t server = 0; server < connections_.size(); ++server) {
    v1::CloseSessionRequest request;
    request.set_session_id(session_id(server));
    if (request.session_id().empty()) continue;
    absl::Status status = connections_[server]->CloseSession(request, options).status();
    if (status.ok() || absl::IsNotFound(status)) {
      absl::MutexLock lock(&mu_);
      if (sessions_[server] == request.session_id()) sessions_[server].clear();
    } else if (first_error.ok()) {
      first_error = Annotate(server, status);
    }
  }
  return first_error;
}

std::string Client::session_id(size_t server) const {
  absl::MutexLock lock(&mu_);
  return server < sessions_.size() ? sessions_[server] : std::string();
}

std::vector<std::string> Client::session_ids() const {
  absl::MutexLock lock(&mu_);
  return sessions_;
}

// ---------------------------------------------------------------------------
// RPCs.
// ---------------------------------------------------------------------------

absl::StatusOr<v1::ListLinesResponse> Client::ListLines(const v1::ListLinesRequest& request,
                                                        const CallOptions& options) {
  return Await<v1::ListLinesResponse>([&](Callback<v1::ListLinesResponse> done) {
    ListLinesAsync(request, std::move(done), options);
  });
}

void Client::ListLinesAsync(const v1::ListLinesRequest& request,
                            Callback<v1::ListLinesResponse> done, const CallOptions& options) {
  MergedAsync(&Connection::ListLinesAsync, request, Track(std::move(done)), options);
}

absl::StatusOr<v1::ListCallsResponse> Client::ListCalls(const v1::ListCallsRequest& request,
                                                        const CallOptions& options) {
  return Await<v1::ListCallsResponse>([&](Callback<v1::ListCallsResponse> done) {
    ListCallsAsync(request, std::move(done), options);
  });
}

void Client::ListCallsAsync(const v1::ListCallsRequest& request,
                            Callback<v1::ListCallsResponse> done, const CallOptions& options) {
  if (request.line_id().empty()) {
    MergedAsync(&Connection::ListCallsAsync, request, Track(std::move(done)), options);
  } else {
    RoutedAsync(Kind::kLine, request.line_id(), &Connection::ListCallsAsync, request,
                Track(std::move(done)), options);
  }
}

absl::StatusOr<v1::ListPhonesResponse> Client::ListPhones(const v1::ListPhonesRequest& request,
                                                          const CallOptions& options) {
  return Await<v1::ListPhonesResponse>([&](Callback<v1::ListPhonesResponse> done) {
    ListPhonesAsync(request, std::move(done), options);
  });
}

void Client::ListPhonesAsync(const v1::ListPhonesRequest& request,
                             Callback<v1::ListPhonesResponse> done, const CallOptions& options) {
  if (request.line_id().empty()) {
    MergedAsync(&Connection::ListPhonesAsync, request, Track(std::move(done)), options);
  } else {
    RoutedAsync(Kind::kLine, request.line_id(), &Connection::ListPhonesAsync, request,
                Track(std::move(done)), options);
  }
}

#define LINEBRIDGE_ROUTED(Method, Request, Response, kind, field)                                \
  absl::StatusOr<v1::Response> Client::Method(v1::Request request, const CallOptions& options) { \
    return Await<v1::Response>([&](Callback<v1::Response> done) {                                \
      Method##Async(std::move(request), std::move(done), options);                               \
    });                                                                                          \
  }                                                                                              \
  void Client::Method##Async(v1::Request request, Callback<v1::Response> done,                   \
                             const CallOptions& options) {                                       \
    std::string key = request.field();                                                           \
    RoutedAsync(Kind::kind, std::move(key), &Connection::Method##Async, std::move(request),      \
                Track(std::move(done)), options);                                                \
  }
LINEBRIDGE_ROUTED_RPCS
#undef LINEBRIDGE_ROUTED

// ---------------------------------------------------------------------------
// Subscription.
// ---------------------------------------------------------------------------

std::unique_ptr<Subscription> Client::Subscribe(SubscribeOptions options, EventHandler on_events,
                                                StreamStateHandler on_state) {
  std::unique_ptr<Subscription> subscription(
      new Subscription(this, std::move(options), std::move(on_events), std::move(on_state)));
  for (size_t server = 0; server < connections_.size(); ++server) {
    Subscription* raw = subscription.get();
    subscription->threads_.emplace_back([raw, server] { raw->Run(server); });
  }
  return subscription;
}

Subscription::Subscription(Client* client, SubscribeOptions options, EventHandler on_events,
                           StreamStateHandler on_state)
    : client_(client),
      options_(std::move(options)),
      on_events_(std::move(on_events)),
      on_state_(std::move(on_state)) {
  absl::MutexLock lock(&mu_);
  contexts_.assign(client->num_servers(), nullptr);
  positions_.resize(client->num_servers());
  for (size_t i = 0; i < std::min(positions_.size(), options_.resume.size()); ++i) {
    positions_[i] = options_.resume[i];
  }
}

Subscription::~Subscription() { Stop(); }

void Subscription::Stop() {
  {
    absl::MutexLock lock(&mu_);
    stopping_ = true;
    for (grpc::ClientContext* context : contexts_) {
      if (context != nullptr) context->TryCancel();
    }
  }
  absl::MutexLock lock(&join_mu_);
  for (std::thread& thread : threads_) {
    if (thread.joinable()) thread.join();
  }
}

ResumePoint Subscription::position(size_t server) const {
  absl::MutexLock lock(&mu_);
  return server < positions_.size() ? positions_[server] : ResumePoint{};
}

void Subscription::Notify(const StreamState& state) {
  absl::MutexLock lock(&handler_mu_);
  if (on_state_) on_state_(state);
}

bool Subscription::Sleep(absl::Duration delay) {
  absl::MutexLock lock(&mu_);
  mu_.AwaitWithTimeout(absl::Condition(&stopping_), delay);
  return !stopping_;
}

void Subscription::Deliver(size_t server, const v1::EventBatch& batch) {
  {
    absl::MutexLock lock(&mu_);
    if (stopping_) return;
    ResumePoint& position = positions_[server];
    if (batch.has_snapshot()) position = {batch.epoch(), batch.snapshot().sequence()};
    for (const v1::Event& event : batch.events()) {
      position = {event.epoch() != 0 ? event.epoch() : batch.epoch(), event.sequence()};
    }
  }
  client_->routes().Learn(server, batch);
  absl::MutexLock lock(&handler_mu_);
  if (on_events_) on_events_(server, batch);
}

absl::Status Subscription::ReclaimForStream(size_t server, bool* session_replaced) {
  if (client_->session_id(server).empty()) return absl::OkStatus();
  absl::Status status = client_->ReclaimSession(server);
  if (absl::IsNotFound(status)) {
    // Expired or the server restarted: a new session (its lines are closed).
    status = client_->StartSession(server);
    *session_replaced = status.ok();
    return status;
  }
  // Other refusals: subscribe with the id we have and let the server decide.
  return IsTransient(status) ? status : absl::OkStatus();
}

absl::Status Subscription::Stream(size_t server, int attempt, bool session_replaced,
                                  Backoff& backoff) {
  v1::SubscribeRequest request;
  for (const std::string& line_id : options_.line_ids) request.add_line_ids(line_id);
  if (options_.bind_session) request.set_session_id(client_->session_id(server));
  request.set_snapshot(attempt == 0 && options_.snapshot);
  grpc::ClientContext context;
  {
    absl::MutexLock lock(&mu_);
    if (stopping_) return absl::CancelledError("subscription stopped");
    const ResumePoint& position = positions_[server];
    if (!position.empty()) {
      request.set_resume_epoch(position.epoch);
      request.set_resume_sequence(position.sequence);
    }
    contexts_[server] = &context;
  }
  grpc::Status status;
  {
    std::unique_ptr<grpc::ClientReader<v1::EventBatch>> reader =
        client_->connection(server).Subscribe(&context, request);
    v1::EventBatch batch;
    SnapshotAssembler snapshot;  // a large snapshot comes in parts
    bool connected = false;
    while (reader->Read(&batch)) {
      if (!connected) {
        connected = true;
        StreamState state;
        state.kind = StreamState::Kind::kConnected;
        state.server = server;
        state.attempt = attempt;
        state.session_replaced = session_replaced;
        Notify(state);
      }
      if (!snapshot.Add(&batch)) continue;
      Deliver(server, batch);
      backoff.Reset();
    }
    status = reader->Finish();
  }
  absl::MutexLock lock(&mu_);
  contexts_[server] = nullptr;
  if (status.ok()) return absl::UnavailableError("stream closed by the server");
  return FromGrpcStatus(status);
}

void Subscription::Run(size_t server) {
  Backoff backoff(client_->options().backoff);
  for (int attempt = 0;; ++attempt) {
    absl::Status reason;
    bool session_replaced = false;
    if (attempt > 0) {
      StreamState state;
      state.kind = StreamState::Kind::kReconnecting;
      state.server = server;
      state.attempt = attempt;
      Notify(state);
      // Our backoff paces the attempts, not the channel's.
      client_->connection(server).ResetConnectBackoff();
      if (options_.bind_session) reason = ReclaimForStream(server, &session_replaced);
    }
    if (reason.ok()) reason = Stream(server, attempt, session_replaced, backoff);
    {
      absl::MutexLock lock(&mu_);
      if (stopping_) return;
    }
    StreamState state;
    state.kind = StreamState::Kind::kDisconnected;
    state.server = server;
    state.reason = reason;
    state.retry_in = backoff.Next();
    state.attempt = attempt;
    Notify(state);
    if (!Sleep(state.retry_in)) return;
  }
}

}  // namespace linebridge
