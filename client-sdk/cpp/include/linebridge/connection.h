// linebridge::Connection: one linebridged server, every unary RPC of
// linebridge.v1.Telephony and linebridge.v1.Admin as a synchronous and an
// asynchronous method.
//
//   auto conn = linebridge::Connection::Create("127.0.0.1:50051");
//   absl::StatusOr<v1::ListLinesResponse> lines = (*conn)->ListLines({});
//   (*conn)->MakeCallAsync(request, [](absl::StatusOr<v1::Call> call) { ... });
//
// Errors are absl::Status with the server's TAPI error attached (LineErrOf()).
// Asynchronous callbacks run on a gRPC thread; they must not block for long.
//
// TLS:  options.channel.tls_options.ca_file = "ca.pem";  (docs/security.md)
#pragma once

#include <grpcpp/channel.h>
#include <grpcpp/client_context.h>
#include <grpcpp/security/credentials.h>
#include <grpcpp/support/channel_arguments.h>
#include <grpcpp/support/sync_stream.h>

#include <cstddef>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_set.h"
#include "absl/functional/any_invocable.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "linebridge/rpc_table.h"
#include "linebridge/v1/admin.grpc.pb.h"
#include "linebridge/v1/media.grpc.pb.h"
#include "linebridge/v1/security.grpc.pb.h"
#include "linebridge/v1/telephony.grpc.pb.h"

namespace linebridge {

// Completion of an asynchronous call.
template <typename Response>
using Callback = absl::AnyInvocable<void(absl::StatusOr<Response>)>;

// TLS for the channel, from PEM files (read once, by Connection::Create).
struct TlsOptions {
  // Root certificates the server's certificate must chain to. Empty: the
  // system roots (gRPC's default root store; GRPC_DEFAULT_SSL_ROOTS_FILE_PATH
  // overrides it).
  std::string ca_file;
  // Client certificate chain and its private key, for servers that require
  // mutual TLS. Both or neither.
  std::string cert_file;
  std::string key_file;
  // Name to verify the server's certificate against instead of the host of
  // the address (GRPC_SSL_TARGET_NAME_OVERRIDE_ARG), e.g. when connecting by
  // IP to a certificate that names only "linebridge.example.com".
  std::string server_name_override;

  // Whether any field is set.
  bool any() const {
    return !ca_file.empty() || !cert_file.empty() || !key_file.empty() ||
           !server_name_override.empty();
  }
};

// How the channel is built. Plaintext unless `tls` is true, a field of
// `tls_options` is set, or `credentials` is given.
struct ChannelOptions {
  // Use TLS (implied by any field of tls_options): grpc::SslCredentials from
  // tls_options. Create fails with a clear status if a file is unreadable.
  bool tls = false;
  TlsOptions tls_options;
  // Custom credentials (e.g. grpc::experimental::TlsCredentials); excludes
  // `tls` and the files of `tls_options` (server_name_override still applies).
  // nullptr and no TLS: plaintext (grpc::InsecureChannelCredentials()).
  std::shared_ptr<grpc::ChannelCredentials> credentials;
  // Bearer token (issued by `linectl token issue`) sent with every call as
  // "authorization: Bearer <token>". Empty: none (certificate or anonymous).
  std::string bearer_token;
  int max_receive_message_size = 64 * 1024 * 1024;
  // gRPC's own reconnect backoff of the channel (its defaults, 1 s growing to
  // 120 s, would hold back event-stream reconnects long after a server restart).
  absl::Duration initial_reconnect_backoff = absl::Milliseconds(100);
  absl::Duration max_reconnect_backoff = absl::Seconds(5);
  // Cool-down between DNS re-resolutions (gRPC's default is 30 s, which delays
  // reconnecting to a restarted server by as much).
  absl::Duration min_time_between_resolutions = absl::Seconds(1);
  // Applied last to the channel arguments (keepalive, authority override, ...).
  std::function<void(grpc::ChannelArguments&)> customize_arguments;
};

struct ConnectionOptions {
  absl::Duration deadline = absl::Seconds(5);  // of every unary call
  ChannelOptions channel;
};

// Per-call overrides.
struct CallOptions {
  absl::Duration deadline = absl::ZeroDuration();  // <= 0: the connection's default
  // Client only: send a line-scoped request to this server (index in
  // ClientOptions::servers) instead of the one its line id routes to. Needed
  // when several servers have a line of the same id (two default `sim`s):
  // a line is (server, line id).
  std::optional<size_t> server;
};


class Connection {
 public:
  // `address` is a gRPC target ("host:port", "dns:///host:port", "unix:/path").
  static absl::StatusOr<std::unique_ptr<Connection>> Create(absl::string_view address,
                                                            ConnectionOptions options = {});
  // Over an existing channel (in-process servers, shared channels).
  Connection(std::string address, std::shared_ptr<grpc::Channel> channel,
             ConnectionOptions options = {});
  ~Connection();

  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  const std::string& address() const { return address_; }
  const ConnectionOptions& options() const { return options_; }
  const std::shared_ptr<grpc::Channel>& channel() const { return channel_; }
  v1::Telephony::Stub& telephony() { return *telephony_; }
  v1::Admin::Stub& admin() { return *admin_; }
  v1::Security::Stub& security() { return *security_; }
  v1::Media::Stub& media() { return *media_; }

  // Connects the channel now; false if not READY within `timeout`.
  bool WaitForConnected(absl::Duration timeout);
  // Lets the channel try to connect at once instead of after gRPC's own
  // reconnect backoff (callers that pace their retries themselves).
  void ResetConnectBackoff();

  // Cancels every call in flight on this connection (they complete with
  // CANCELLED at once) and fails every later one the same way: for an owner
  // that must stop within a bound whatever the server does (a paused server
  // would otherwise hold each call until its deadline). Event streams are
  // cancelled by their own contexts (Subscription::Stop).
  void CancelAll();
  bool cancelled() const;
  // Registers `context` for CancelAll; false (and not registered) once
  // cancelled. Every call this class starts goes through it.
  bool Track(grpc::ClientContext* context);
  void Untrack(grpc::ClientContext* context);

  // Sets the deadline of `options` (or the default) and the credentials
  // metadata on `context`.
  void PrepareContext(grpc::ClientContext& context, const CallOptions& options) const;

  // Adds the credentials metadata (bearer token) to `context`.
  void AddCredentials(grpc::ClientContext& context) const;

  // The raw event stream (no deadline is set; cancel with context->TryCancel()).
  // Client::Subscribe adds resume, reconnect and routing on top.
  std::unique_ptr<grpc::ClientReader<v1::EventBatch>> Subscribe(
      grpc::ClientContext* context, const v1::SubscribeRequest& request);

  // Every unary RPC of the RPC table (linebridge/rpc_table.h).
#define LINEBRIDGE_DECLARE_UNARY(Service, Method, Request, Response, ...)     \
  absl::StatusOr<v1::Response> Method(const v1::Request& request,             \
                                      const CallOptions& options = {});       \
  void Method##Async(const v1::Request& request, Callback<v1::Response> done, \
                     const CallOptions& options = {});
  LINEBRIDGE_RPCS(LINEBRIDGE_DECLARE_UNARY)
#undef LINEBRIDGE_DECLARE_UNARY

 private:
  std::string address_;
  ConnectionOptions options_;
  std::shared_ptr<grpc::Channel> channel_;
  std::unique_ptr<v1::Telephony::Stub> telephony_;
  std::unique_ptr<v1::Admin::Stub> admin_;
  std::unique_ptr<v1::Security::Stub> security_;
  std::unique_ptr<v1::Media::Stub> media_;

  mutable absl::Mutex calls_mu_;
  bool cancelled_ ABSL_GUARDED_BY(calls_mu_) = false;
  absl::flat_hash_set<grpc::ClientContext*> calls_ ABSL_GUARDED_BY(calls_mu_);
};

// Builds the channel arguments Connection::Create uses (exposed for tests and
// for callers who create channels themselves).
grpc::ChannelArguments MakeChannelArguments(const ChannelOptions& options);

// The credentials Connection::Create uses: `credentials`, else TLS from the
// PEM files of `tls_options` when TLS is on (NotFound / PermissionDenied / ...
// naming an unreadable file, InvalidArgument for cert_file without key_file or
// a file that holds no PEM), else plaintext.
absl::StatusOr<std::shared_ptr<grpc::ChannelCredentials>> MakeChannelCredentials(
    const ChannelOptions& options);

}  // namespace linebridge
