// linebridged assembled: config -> CDR store -> engine + providers -> gRPC
// services (Telephony, Admin, health, reflection).
//
// Transport: with tls.cert_file/key_file the listener serves TLS through a
// grpc::experimental::FileWatcherCertificateProvider (certificate, key and
// client CA are re-read every tls.reload_interval_ms, rounded up to seconds),
// requesting and verifying client certificates as tls.client_ca_file and
// tls.require_client_cert say. Without TLS, Start refuses a non-loopback
// address unless allow_insecure_non_loopback is set, and then logs a warning.
#pragma once

#include <atomic>
#include <memory>
#include <string>

#include <grpcpp/grpcpp.h>
#include <grpcpp/security/tls_certificate_provider.h>

#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "core/engine.h"
#include "linebridge/v1/config.pb.h"

namespace linebridge {

class CallRecordStore;
class AsyncCdrWriter;
class Spooler;
class WriterRecordSink;
class BlockingExecutor;
class TelephonyService;
class AdminService;
class SecurityService;
class SecurityStore;
class AsyncAuditWriter;
class RetentionPruner;
class Guard;
class ParseFailureLog;
class Listener;
class HealthServer;
class GrpcMetrics;
class MetricsEndpoint;
class MediaService;
namespace media {
class CallTasks;
class EngineDirectory;
class FileJobs;
class MediaHub;
}  // namespace media

class Server {
 public:
  struct Options {
    v1::config::ServerConfig config;  // defaults applied, validated
    std::string config_path;          // for ReloadConfig; empty = embedded default
    uint64_t epoch = 0;               // 0 = random (tests pin it)
  };

  // Options.config is trusted to be validated except for the loopback rule,
  // which is checked again (FailedPrecondition naming `listen` and
  // `allow_insecure_non_loopback`).
  static absl::StatusOr<std::unique_ptr<Server>> Start(Options options);
  ~Server();

  // "host:port" actually bound (port 0 in the config picks a free one).
  const std::string& address() const { return address_; }
  int port() const { return port_; }
  Engine& engine() { return *engine_; }
  // Principals, grants, tokens and the audit log (data_dir/security.sqlite3).
  SecurityStore& security_store() { return *security_store_; }
  // Waits until every audit record so far is in the store.
  absl::Status FlushAudit();

  // Graceful stop: subscribers are told, streams end, the CDR store is
  // flushed. Idempotent.
  void Shutdown(absl::string_view reason);
  void Wait();

  // The connection listener (caps, counters).
  Listener& listener() { return *listener_; }
  // "host:port" of the health-only server / the metrics endpoint; "" when
  // not configured.
  std::string health_address() const;
  std::string metrics_address() const;

 private:
  Server() = default;
  void SetListenerHealth(bool accepting);
  void SetServingLocked(bool serving) ABSL_EXCLUSIVE_LOCKS_REQUIRED(health_mu_);
  absl::Status StartSideServers();

  Options options_;
  std::string address_;
  int port_ = 0;
  std::string store_backend_;  // "sqlite" or "postgresql"
  std::unique_ptr<CallRecordStore> store_;
  const Spooler* record_spool_ = nullptr;  // PostgreSQL: owned by store_
  const Spooler* audit_spool_ = nullptr;   // PostgreSQL: owned by security_store_
  std::unique_ptr<AsyncCdrWriter> writer_;
  std::unique_ptr<WriterRecordSink> sink_;
  std::unique_ptr<BlockingExecutor> executor_;
  std::unique_ptr<Engine> engine_;
  std::unique_ptr<TelephonyService> telephony_;
  // The media plane: its clock stops before the engine goes.
  std::unique_ptr<media::EngineDirectory> media_directory_;
  // Tones, gatherings and monitors the Telephony RPCs run in the hub; it
  // stands between the hub and media_directory_.
  std::unique_ptr<media::CallTasks> call_tasks_;
  std::unique_ptr<media::MediaHub> media_hub_;
  std::unique_ptr<media::FileJobs> media_files_;  // after the hub: its jobs are hub streams
  std::unique_ptr<MediaService> media_;
  std::unique_ptr<AdminService> admin_;
  std::unique_ptr<SecurityStore> security_store_;
  std::unique_ptr<AsyncAuditWriter> audit_;
  std::unique_ptr<RetentionPruner> retention_;  // before the stores go
  std::unique_ptr<Guard> guard_;
  std::unique_ptr<SecurityService> security_;
  // TLS only: watches the certificate files (the credentials share it).
  std::shared_ptr<grpc::experimental::CertificateProviderInterface> certificate_provider_;
  std::unique_ptr<ParseFailureLog> parse_failures_;  // outlives grpc_server_
  std::unique_ptr<GrpcMetrics> grpc_metrics_;         // outlives grpc_server_
  std::unique_ptr<Listener> listener_;
  std::unique_ptr<grpc::Server> grpc_server_;
  absl::Mutex health_mu_;  // orders health updates against Shutdown
  std::unique_ptr<HealthServer> health_server_ ABSL_GUARDED_BY(health_mu_);
  std::string health_address_;
  std::atomic<bool> shut_down_{false};
  // Last: it reads the parts above while it serves, so it goes first.
  std::unique_ptr<MetricsEndpoint> metrics_endpoint_;
};

}  // namespace linebridge
