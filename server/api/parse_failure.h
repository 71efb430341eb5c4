// Requests whose body does not parse as the method's request message
// (malformed protobuf, or a string field that is not valid UTF-8).
//
// gRPC's callback handlers answer those with UNIMPLEMENTED and no detail, so
// a client with mismatched proto files would think the method does not exist,
// and libprotobuf logs a line for each one (any client could flood the log).
// A server interceptor turns the answer into INVALID_ARGUMENT with the
// TapiError detail (LINEERR_INVALPARAM) on every linebridge.v1 method, and
// ParseFailureLog writes at most one line per interval per peer address, with
// the number of such requests.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include <grpcpp/support/byte_buffer.h>
#include <grpcpp/support/server_interceptor.h>

#include "google/protobuf/message.h"

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"

namespace linebridge {

inline constexpr absl::Duration kParseFailureLogInterval = absl::Seconds(10);

class ParseFailureLog {
 public:
  struct Options {
    absl::Duration interval = kParseFailureLogInterval;
    // Peers remembered at once; beyond that, quiet ones are forgotten.
    size_t max_peers = 4096;
    std::function<absl::Time()> clock = [] { return absl::Now(); };
    // Where lines go (default: the daemon log).
    std::function<void(const std::string&)> sink;
  };

  ParseFailureLog() : ParseFailureLog(Options()) {}
  explicit ParseFailureLog(Options options);
  // Writes the counts not logged yet.
  ~ParseFailureLog();

  // One request from `peer` (gRPC peer string, "ipv4:127.0.0.1:5432") to
  // `method` that did not parse; `why` says what was wrong.
  void Record(absl::string_view peer, absl::string_view method, absl::string_view why);

  // Every failure recorded so far.
  uint64_t total() const;

  // "ipv4:127.0.0.1:5432" -> "127.0.0.1", "ipv6:[::1]:5432" -> "::1".
  static std::string PeerAddress(absl::string_view peer);

 private:
  struct PeerState {
    absl::Time last_logged;
    uint64_t unlogged = 0;  // failures since last_logged
    std::string last_method;
  };
  void Emit(const std::string& line);
  void ForgetQuietPeers(absl::Time now) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  const Options options_;
  mutable absl::Mutex mu_;
  absl::flat_hash_map<std::string, PeerState> peers_ ABSL_GUARDED_BY(mu_);
  uint64_t total_ ABSL_GUARDED_BY(mu_) = 0;
};

// Methods registered as raw (the Subscribe stream, which writes pre-encoded
// bytes) parse their own request. ParseRawRequest does it and says what was
// wrong; such a method then finishes with UNIMPLEMENTED and a message that
// starts with kRequestDidNotParse followed by `why`, and the interceptor
// answers it like any other request that did not parse.
inline constexpr absl::string_view kRequestDidNotParse = "linebridge: request did not parse: ";
bool ParseRawRequest(const grpc::ByteBuffer& raw, google::protobuf::Message* out, std::string* why);

// Installs the interceptor's factory: add it with
// ServerBuilder::experimental().SetInterceptorCreators. `log` must outlive the
// grpc::Server.
std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface>
NewParseFailureInterceptorFactory(ParseFailureLog* log);

// Routes libprotobuf's "invalid UTF-8 when parsing" error lines (one per bad
// request) to the interceptor instead of stderr; every other libprotobuf
// message is logged as before. Idempotent.
void InstallProtobufParseLogFilter();

}  // namespace linebridge
