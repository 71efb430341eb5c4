#include "linebridge/connection.h"

#include <fcntl.h>
#ifdef _WIN32
#include <io.h>  // _open/_read/_close (the Windows build of the remote TSP)
#else
#include <unistd.h>
#endif

#include <grpcpp/create_channel.h>
#include <grpcpp/security/credentials.h>
#include <grpcpp/support/time.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "linebridge/lineerr.h"
#include "linebridge/rpc_status.h"
#include "linebridge/deadline.h"

namespace linebridge {
namespace {

template <typename Stub, typename Request, typename Response>
using SyncMethod = grpc::Status (Stub::*)(grpc::ClientContext*, const Request&, Response*);

template <typename AsyncStub, typename Request, typename Response>
using AsyncMethod = void (AsyncStub::*)(grpc::ClientContext*, const Request*, Response*,
                                        std::function<void(grpc::Status)>);

// One call in flight: owns everything gRPC needs until the completion runs.
template <typename Request, typename Response>
struct PendingCall {
  grpc::ClientContext context;
  Request request;
  Response response;
  Callback<Response> done;
};

absl::Status CancelledCall() {
  return absl::CancelledError("connection cancelled (shutting down)");
}

template <typename Stub, typename Request, typename Response>
absl::StatusOr<Response> Unary(const Connection& connection, Stub& stub,
                               SyncMethod<Stub, Request, Response> method, const Request& request,
                               const CallOptions& options) {
  grpc::ClientContext context;
  connection.PrepareContext(context, options);
  Connection& tracker = const_cast<Connection&>(connection);
  if (!tracker.Track(&context)) return CancelledCall();
  Response response;
  grpc::Status status = (stub.*method)(&context, request, &response);
  tracker.Untrack(&context);
  if (!status.ok()) return FromGrpcStatus(status);
  return response;
}

template <typename AsyncStub, typename Request, typename Response>
void UnaryAsync(const Connection& connection, AsyncStub* stub,
                AsyncMethod<AsyncStub, Request, Response> method, const Request& request,
                Callback<Response> done, const CallOptions& options) {
  auto* call = new PendingCall<Request, Response>;
  connection.PrepareContext(call->context, options);
  Connection* tracker = const_cast<Connection*>(&connection);
  if (!tracker->Track(&call->context)) {
    Callback<Response> finish = std::move(done);
    delete call;
    finish(CancelledCall());
    return;
  }
  call->request = request;
  call->done = std::move(done);
  (stub->*method)(&call->context, &call->request, &call->response, [call, tracker](grpc::Status status) {
    tracker->Untrack(&call->context);
    // Everything gRPC owns goes first (the ClientContext holds a reference to
    // the channel), then `done` runs. A Client waits for its `done`s before
    // it releases its channels, so the last channel reference is always
    // dropped by the Client's owner, never on this gRPC callback thread:
    // dropping it here would tear the channel (and possibly gRPC itself)
    // down under the very thread that is still running this callback.
    Callback<Response> finish = std::move(call->done);
    absl::StatusOr<Response> result =
        status.ok() ? absl::StatusOr<Response>(std::move(call->response)) : FromGrpcStatus(status);
    delete call;
    finish(std::move(result));
  });
}

bool UsesTls(const ChannelOptions& options) { return options.tls || options.tls_options.any(); }

// The PEM text of `path` (`what`: "CA file", ...). The status names the file.
absl::StatusOr<std::string> ReadPem(const std::string& path, absl::string_view what,
                                    absl::string_view marker) {
  std::string data;
#ifdef _WIN32
  const int fd = ::_open(path.c_str(), _O_RDONLY | _O_BINARY);
#else
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
#endif
  int err = fd < 0 ? errno : 0;
  if (fd >= 0) {
    char buf[8192];
    for (;;) {
#ifdef _WIN32
      const int n = ::_read(fd, buf, sizeof(buf));
#else
      const ssize_t n = ::read(fd, buf, sizeof(buf));
#endif
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) err = errno;
      if (n <= 0) break;
      data.append(buf, static_cast<size_t>(n));
    }
#ifdef _WIN32
    ::_close(fd);
#else
    ::close(fd);
#endif
  }
  if (err != 0) {
    return TapiStatus(absl::ErrnoToStatusCode(err), LINEERR_INVALPARAM,
                      absl::StrCat("cannot read TLS ", what, " ", path, ": ", std::strerror(err)));
  }
  if (!absl::StrContains(data, marker)) {
    return InvalidArgument(LINEERR_INVALPARAM,
                           absl::StrCat("TLS ", what, " ", path, " holds no PEM (", marker, ")"));
  }
  return data;
}

v1::Telephony::Stub& StubOf(Connection& connection, v1::Telephony* /*service*/) {
  return connection.telephony();
}
v1::Admin::Stub& StubOf(Connection& connection, v1::Admin* /*service*/) {
  return connection.admin();
}
v1::Security::Stub& StubOf(Connection& connection, v1::Security* /*service*/) {
  return connection.security();
}
v1::Media::Stub& StubOf(Connection& connection, v1::Media* /*service*/) {
  return connection.media();
}

}  // namespace

grpc::ChannelArguments MakeChannelArguments(const ChannelOptions& options) {
  grpc::ChannelArguments args;
  args.SetMaxReceiveMessageSize(options.max_receive_message_size);
  args.SetInt(GRPC_ARG_INITIAL_RECONNECT_BACKOFF_MS,
              static_cast<int>(absl::ToInt64Milliseconds(options.initial_reconnect_backoff)));
  args.SetInt(GRPC_ARG_MAX_RECONNECT_BACKOFF_MS,
              static_cast<int>(absl::ToInt64Milliseconds(options.max_reconnect_backoff)));
  // After a server restart the channel re-resolves its target before it
  // reconnects; gRPC's default cool-down between resolutions is 30 s.
  args.SetInt(GRPC_ARG_DNS_MIN_TIME_BETWEEN_RESOLUTIONS_MS,
              static_cast<int>(absl::ToInt64Milliseconds(options.min_time_between_resolutions)));
  if (!options.tls_options.server_name_override.empty()) {
    args.SetSslTargetNameOverride(options.tls_options.server_name_override);
  }
  if (options.customize_arguments) options.customize_arguments(args);
  return args;
}

absl::StatusOr<std::shared_ptr<grpc::ChannelCredentials>> MakeChannelCredentials(
    const ChannelOptions& options) {
  const TlsOptions& tls = options.tls_options;
  if (options.credentials != nullptr) {
    if (options.tls || !tls.ca_file.empty() || !tls.cert_file.empty() || !tls.key_file.empty()) {
      return InvalidArgument(LINEERR_INVALPARAM,
                             "TLS: give either credentials or tls / tls_options files, not both");
    }
    return options.credentials;
  }
  if (!UsesTls(options)) return grpc::InsecureChannelCredentials();
  if (tls.cert_file.empty() != tls.key_file.empty()) {
    return InvalidArgument(LINEERR_INVALPARAM, tls.cert_file.empty()
                                                   ? "TLS: a client key_file needs its cert_file"
                                                   : "TLS: a client cert_file needs its key_file");
  }
  grpc::SslCredentialsOptions ssl;
  if (!tls.ca_file.empty()) {
    absl::StatusOr<std::string> roots = ReadPem(tls.ca_file, "CA file", "-----BEGIN CERTIFICATE");
    if (!roots.ok()) return roots.status();
    ssl.pem_root_certs = *std::move(roots);
  }
  if (!tls.cert_file.empty()) {
    absl::StatusOr<std::string> cert =
        ReadPem(tls.cert_file, "certificate file", "-----BEGIN CERTIFICATE");
    if (!cert.ok()) return cert.status();
    absl::StatusOr<std::string> key = ReadPem(tls.key_file, "key file", "PRIVATE KEY-----");
    if (!key.ok()) return key.status();
    ssl.pem_cert_chain = *std::move(cert);
    ssl.pem_private_key = *std::move(key);
  }
  std::shared_ptr<grpc::ChannelCredentials> credentials = grpc::SslCredentials(ssl);
  if (credentials == nullptr) {
    return InvalidArgument(LINEERR_INVALPARAM, "TLS: gRPC rejected the TLS settings");
  }
  return credentials;
}

absl::StatusOr<std::unique_ptr<Connection>> Connection::Create(absl::string_view address,
                                                               ConnectionOptions options) {
  if (address.empty()) {
    return InvalidArgument(LINEERR_INVALPARAM, "empty server address");
  }
  absl::StatusOr<std::shared_ptr<grpc::ChannelCredentials>> credentials =
      MakeChannelCredentials(options.channel);
  if (!credentials.ok()) return credentials.status();
  std::shared_ptr<grpc::Channel> channel = grpc::CreateCustomChannel(
      std::string(address), *credentials, MakeChannelArguments(options.channel));
  if (channel == nullptr) {
    return InvalidArgument(LINEERR_INVALPARAM,
                           absl::StrCat("cannot create a channel to ", address));
  }
  return std::make_unique<Connection>(std::string(address), std::move(channel), std::move(options));
}

Connection::Connection(std::string address, std::shared_ptr<grpc::Channel> channel,
                       ConnectionOptions options)
    : address_(std::move(address)),
      options_(std::move(options)),
      channel_(std::move(channel)),
      telephony_(v1::Telephony::NewStub(channel_)),
      admin_(v1::Admin::NewStub(channel_)),
      security_(v1::Security::NewStub(channel_)),
      media_(v1::Media::NewStub(channel_)) {}

Connection::~Connection() = default;

bool Connection::WaitForConnected(absl::Duration timeout) {
  return channel_->WaitForConnected(DeadlineAfter(timeout));
}

void Connection::CancelAll() {
  absl::MutexLock lock(&calls_mu_);
  cancelled_ = true;
  for (grpc::ClientContext* context : calls_) context->TryCancel();
}

bool Connection::cancelled() const {
  absl::MutexLock lock(&calls_mu_);
  return cancelled_;
}

bool Connection::Track(grpc::ClientContext* context) {
  absl::MutexLock lock(&calls_mu_);
  if (cancelled_) return false;
  calls_.insert(context);
  return true;
}

void Connection::Untrack(grpc::ClientContext* context) {
  absl::MutexLock lock(&calls_mu_);
  calls_.erase(context);
}

void Connection::ResetConnectBackoff() {
  grpc::experimental::ChannelResetConnectionBackoff(channel_.get());
}

void Connection::PrepareContext(grpc::ClientContext& context, const CallOptions& options) const {
  absl::Duration deadline =
      options.deadline > absl::ZeroDuration() ? options.deadline : options_.deadline;
  if (deadline > absl::ZeroDuration() && deadline != absl::InfiniteDuration()) {
    context.set_deadline(DeadlineAfter(deadline));
  }
  AddCredentials(context);
}

void Connection::AddCredentials(grpc::ClientContext& context) const {
  if (!options_.channel.bearer_token.empty()) {
    context.AddMetadata("authorization", absl::StrCat("Bearer ", options_.channel.bearer_token));
  }
}

std::unique_ptr<grpc::ClientReader<v1::EventBatch>> Connection::Subscribe(
    grpc::ClientContext* context, const v1::SubscribeRequest& request) {
  AddCredentials(*context);
  return telephony_->Subscribe(context, request);
}

#define LINEBRIDGE_DEFINE_UNARY(Service, Method, Request, Response, ...)                    \
  absl::StatusOr<v1::Response> Connection::Method(const v1::Request& request,             \
                                                  const CallOptions& options) {           \
    return Unary(*this, StubOf(*this, static_cast<v1::Service*>(nullptr)),                \
                 &v1::Service::Stub::Method, request, options);                           \
  }                                                                                       \
  void Connection::Method##Async(const v1::Request& request, Callback<v1::Response> done, \
                                 const CallOptions& options) {                            \
    UnaryAsync(*this, StubOf(*this, static_cast<v1::Service*>(nullptr)).async(),          \
               &v1::Service::Stub::async::Method, request, std::move(done), options);     \
  }
LINEBRIDGE_RPCS(LINEBRIDGE_DEFINE_UNARY)
#undef LINEBRIDGE_DEFINE_UNARY

}  // namespace linebridge
