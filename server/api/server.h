// linebridged assembled: config -> CDR store -> engine + providers -> gRPC
// services (Telephony, Admin, health, reflection).
#pragma once

#include <memory>
#include <string>

#include <grpcpp/grpcpp.h>

#include "absl/status/statusor.h"
#include "core/engine.h"
#include "linebridge/v1/config.pb.h"

namespace linebridge {

class CdrStore;
class AsyncCdrWriter;
class BlockingExecutor;
class TelephonyService;
class AdminService;

class Server {
 public:
  struct Options {
    v1::config::ServerConfig config;  // defaults applied, validated
    std::string config_path;          // for ReloadConfig; empty = embedded default
    uint64_t epoch = 0;               // 0 = random (tests pin it)
  };

  static absl::StatusOr<std::unique_ptr<Server>> Start(Options options);
  ~Server();

  // "host:port" actually bound (port 0 in the config picks a free one).
  const std::string& address() const { return address_; }
  int port() const { return port_; }
  Engine& engine() { return *engine_; }

  // Graceful stop: subscribers are told, streams end, the CDR store is
  // flushed. Idempotent.
  void Shutdown(absl::string_view reason);
  void Wait();

 private:
  Server() = default;
  class CdrSink;

  Options options_;
  std::string address_;
  int port_ = 0;
  std::unique_ptr<CdrStore> store_;
  std::unique_ptr<AsyncCdrWriter> writer_;
  std::unique_ptr<CdrSink> sink_;
  std::unique_ptr<BlockingExecutor> executor_;
  std::unique_ptr<Engine> engine_;
  std::unique_ptr<TelephonyService> telephony_;
  std::unique_ptr<AdminService> admin_;
  std::unique_ptr<grpc::Server> grpc_server_;
  bool shut_down_ = false;
};

}  // namespace linebridge
