#include "api/parse_failure.h"

#include <google/protobuf/descriptor.h>
#include <google/protobuf/stubs/logging.h>
#include <grpcpp/server_context.h>
#include <grpcpp/support/proto_buffer_reader.h>

#include <mutex>
#include <utility>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/strip.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "core/log.h"
#include "linebridge/lineerr.h"
#include "linebridge/rpc_status.h"

namespace linebridge {

// ---------------------------------------------------------------------------
// The log.

ParseFailureLog::ParseFailureLog(Options options) : options_(std::move(options)) {}

ParseFailureLog::~ParseFailureLog() {
  absl::MutexLock lock(&mu_);
  for (const auto& [address, state] : peers_) {
    if (state.unlogged == 0) continue;
    Emit(absl::StrCat("api: ", state.unlogged, " more request(s) from ", address,
                      " did not parse (latest: ", state.last_method, ")"));
  }
}

void ParseFailureLog::Emit(const std::string& line) {
  if (options_.sink) {
    options_.sink(line);
  } else {
    LB_WARN("%s", line);
  }
}

std::string ParseFailureLog::PeerAddress(absl::string_view peer) {
  for (absl::string_view scheme : {"ipv4:", "ipv6:", "unix:"}) {
    if (absl::ConsumePrefix(&peer, scheme)) break;
  }
  if (absl::ConsumePrefix(&peer, "[")) {  // ipv6:[::1]:5432
    return std::string(peer.substr(0, peer.find(']')));
  }
  const size_t colon = peer.rfind(':');
  return std::string(colon == absl::string_view::npos ? peer : peer.substr(0, colon));
}

void ParseFailureLog::ForgetQuietPeers(absl::Time now) {
  uint64_t dropped = 0;
  std::vector<std::string> quiet;
  for (const auto& [address, state] : peers_) {
    if (now - state.last_logged >= options_.interval) {
      quiet.push_back(address);
      dropped += state.unlogged;
    }
  }
  for (const auto& address : quiet) peers_.erase(address);
  if (dropped > 0) {
    Emit(absl::StrCat("api: ", dropped, " more request(s) from ", quiet.size(),
                      " peer(s) did not parse"));
  }
}

void ParseFailureLog::Record(absl::string_view peer, absl::string_view method,
                             absl::string_view why) {
  const absl::Time now = options_.clock();
  const std::string address = PeerAddress(peer);
  absl::MutexLock lock(&mu_);
  ++total_;
  auto it = peers_.find(address);
  if (it == peers_.end()) {
    if (peers_.size() >= options_.max_peers) ForgetQuietPeers(now);
    if (peers_.size() >= options_.max_peers) {
      // Every remembered peer is active: count this one without a line of its own.
      return;
    }
    peers_[address] = PeerState{now, 0, std::string(method)};
    Emit(absl::StrCat("api: a request from ", address, " to ", method, " did not parse (", why,
                      "): answered INVALID_ARGUMENT; further ones from this address are counted "
                      "and logged at most every ",
                      absl::FormatDuration(options_.interval)));
    return;
  }
  PeerState& state = it->second;
  state.last_method = std::string(method);
  if (now - state.last_logged < options_.interval) {
    ++state.unlogged;
    return;
  }
  Emit(absl::StrCat("api: ", state.unlogged + 1, " request(s) from ", address,
                    " did not parse in the last ", absl::FormatDuration(now - state.last_logged),
                    " (latest: ", method, ", ", why, ")"));
  state.last_logged = now;
  state.unlogged = 0;
}

uint64_t ParseFailureLog::total() const {
  absl::MutexLock lock(&mu_);
  return total_;
}

// ---------------------------------------------------------------------------
// libprotobuf's own line for each bad string field.

namespace {

// The last "invalid UTF-8 when parsing" message libprotobuf reported on this
// thread. gRPC parses a request and runs the server interceptors on the same
// thread, so the interceptor can name the field in its answer.
thread_local std::string t_last_parse_error;

google::protobuf::LogHandler* g_previous_handler = nullptr;

bool IsParseError(const std::string& message) {
  return absl::StrContains(message, "when parsing a protocol buffer");
}

void FilteringLogHandler(google::protobuf::LogLevel level, const char* filename, int line,
                         const std::string& message) {
  if (level == google::protobuf::LOGLEVEL_ERROR && IsParseError(message)) {
    t_last_parse_error = message;
    return;
  }
  if (g_previous_handler != nullptr) g_previous_handler(level, filename, line, message);
}

// "String field 'linebridge.v1.X.y' contains invalid UTF-8 data when parsing a
// protocol buffer. Use the 'bytes' type ..." -> "string field
// 'linebridge.v1.X.y' is not valid UTF-8".
std::string TakeParseError() {
  if (t_last_parse_error.empty()) return "";
  std::string message = std::move(t_last_parse_error);
  t_last_parse_error.clear();
  const size_t start = message.find("field '");
  const size_t end = message.find("' contains invalid UTF-8");
  if (start == std::string::npos || end == std::string::npos || end < start) return "";
  return absl::StrCat("string field ", message.substr(start + 6, end - start - 5),
                      " is not valid UTF-8");
}

// "/linebridge.v1.Telephony/MakeCall" -> "linebridge.v1.MakeCallRequest".
std::string RequestTypeOf(absl::string_view method) {
  absl::ConsumePrefix(&method, "/");
  const std::string full = absl::StrReplaceAll(method, {{"/", "."}});
  const auto* descriptor =
      google::protobuf::DescriptorPool::generated_pool()->FindMethodByName(full);
  return descriptor == nullptr ? std::string("its request message")
                               : descriptor->input_type()->full_name();
}

}  // namespace

bool ParseRawRequest(const grpc::ByteBuffer& raw, google::protobuf::Message* out,
                     std::string* why) {
  grpc::ByteBuffer copy(raw);  // shares the slices
  grpc::ProtoBufferReader reader(&copy);
  TakeParseError();  // nothing older
  if (out->ParseFromZeroCopyStream(&reader)) return true;
  *why = TakeParseError();
  if (why->empty()) *why = "malformed protobuf";
  return false;
}

namespace {

class ParseFailureInterceptor final : public grpc::experimental::Interceptor {
 public:
  ParseFailureInterceptor(grpc::experimental::ServerRpcInfo* info, ParseFailureLog* log)
      : info_(info), log_(log) {}

  void Intercept(grpc::experimental::InterceptorBatchMethods* methods) override {
    using grpc::experimental::InterceptionHookPoints;
    if (methods->QueryInterceptionHookPoint(InterceptionHookPoints::POST_RECV_MESSAGE) &&
        info_->type() != grpc::experimental::ServerRpcInfo::Type::BIDI_STREAMING) {
      // What libprotobuf reported while parsing this request (and nothing older).
      std::string parse_error = TakeParseError();
      if (methods->GetRecvMessage() == nullptr) {
        // The handler could not deserialize the request (there is no message).
        failed_ = true;
        why_ = parse_error.empty() ? "malformed protobuf" : std::move(parse_error);
      }
    }
    if (methods->QueryInterceptionHookPoint(InterceptionHookPoints::PRE_SEND_STATUS) &&
        methods->GetSendStatus().error_code() == grpc::StatusCode::UNIMPLEMENTED) {
      // A raw method's own parse failure (ParseRawRequest).
      const std::string message = methods->GetSendStatus().error_message();
      if (absl::StartsWith(message, kRequestDidNotParse)) {
        failed_ = true;
        why_ = message.substr(kRequestDidNotParse.size());
      }
    }
    if (failed_ && methods->QueryInterceptionHookPoint(InterceptionHookPoints::PRE_SEND_STATUS) &&
        methods->GetSendStatus().error_code() == grpc::StatusCode::UNIMPLEMENTED) {
      const std::string method = info_->method();
      methods->ModifySendStatus(ToGrpcStatus(InvalidArgument(
          LINEERR_INVALPARAM,
          absl::StrCat("the request does not parse as ", RequestTypeOf(method), " (", why_,
                       "); do the client's proto files match linebridge.v1?"))));
      log_->Record(info_->server_context()->peer(), method, why_);
    }
    methods->Proceed();
  }

 private:
  grpc::experimental::ServerRpcInfo* const info_;
  ParseFailureLog* const log_;
  bool failed_ = false;
  std::string why_;
};

class ParseFailureInterceptorFactory final
    : public grpc::experimental::ServerInterceptorFactoryInterface {
 public:
  explicit ParseFailureInterceptorFactory(ParseFailureLog* log) : log_(log) {}

  grpc::experimental::Interceptor* CreateServerInterceptor(
      grpc::experimental::ServerRpcInfo* info) override {
    using Type = grpc::experimental::ServerRpcInfo::Type;
    // Only methods with one request message (a stream that ends also shows no
    // message), and only this server's API: health and reflection answer
    // for themselves.
    // Bidirectional streams (media) are raw methods and report their own
    // parse failures (ParseRawRequest).
    if (info->type() != Type::UNARY && info->type() != Type::SERVER_STREAMING &&
        info->type() != Type::BIDI_STREAMING) {
      return nullptr;
    }
    if (!absl::StartsWith(info->method(), "/linebridge.v1.")) return nullptr;
    return new ParseFailureInterceptor(info, log_);
  }

 private:
  ParseFailureLog* const log_;
};

}  // namespace

std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface>
NewParseFailureInterceptorFactory(ParseFailureLog* log) {
  return std::make_unique<ParseFailureInterceptorFactory>(log);
}

void InstallProtobufParseLogFilter() {
  static std::once_flag once;
  std::call_once(once, [] {
    g_previous_handler = google::protobuf::SetLogHandler(&FilteringLogHandler);
  });
}

}  // namespace linebridge
