#include "api/server.h"

#include <grpcpp/ext/proto_server_reflection_plugin.h>
#include <grpcpp/health_check_service_interface.h>
#include <grpcpp/security/server_credentials.h>
#include <grpcpp/security/tls_certificate_provider.h>
#include <grpcpp/security/tls_credentials_options.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <system_error>
#include <iterator>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "api/blocking_executor.h"
#include "api/grpc_metrics.h"
#include "api/health_server.h"
#include "api/listener.h"
#include "api/media_service.h"
#include "api/metrics_endpoint.h"
#include "api/parse_failure.h"
#include "api/server_metrics.h"
#include "api/services.h"
#include "config/config.h"
#include "config/server_identity.h"
#include "core/log.h"
#include "media/call_tasks.h"
#include "media/engine_directory.h"
#include "media/file_jobs.h"
#include "linebridge/status_macros.h"
#include "providers/builtin.h"
#include "store/cdr_store.h"
#include "store/open_stores.h"
#include "store/record_sink.h"
#include "store/retention.h"
#include "store/security_store.h"
#include "store/spooler.h"
#include "store/store_status.h"
#include "linebridge/deadline.h"

namespace linebridge {

namespace {

// gRPC's file watcher counts whole seconds.
unsigned int ReloadIntervalSeconds(const v1::config::TlsConfig& tls) {
  const uint32_t ms =
      tls.reload_interval_ms() > 0 ? tls.reload_interval_ms() : kDefaultTlsReloadIntervalMs;
  return std::max<unsigned int>(1, (ms + 999) / 1000);
}

// gRPC takes its TLS 1.2 cipher list from GRPC_SSL_CIPHER_SUITES when set
// (its default: ECDHE with AES-GCM; TLS 1.3 keeps OpenSSL's three AEAD
// suites). The variable may narrow that list but never widen it to suites
// without an AEAD cipher or forward secrecy: any other name stops the daemon
// instead of being served.
constexpr const char* kAllowedCipherSuites[] = {
    "TLS_AES_128_GCM_SHA256",        "TLS_AES_256_GCM_SHA384",
    "TLS_CHACHA20_POLY1305_SHA256",  "ECDHE-ECDSA-AES128-GCM-SHA256",
    "ECDHE-ECDSA-AES256-GCM-SHA384", "ECDHE-RSA-AES128-GCM-SHA256",
    "ECDHE-RSA-AES256-GCM-SHA384",   "ECDHE-ECDSA-CHACHA20-POLY1305",
    "ECDHE-RSA-CHACHA20-POLY1305",
};

absl::Status CheckCipherSuitesEnvironment() {
  const char* value = std::getenv("GRPC_SSL_CIPHER_SUITES");
  if (value == nullptr) return absl::OkStatus();
  for (absl::string_view suite : absl::StrSplit(value, ':')) {
    const bool allowed =
        std::find(std::begin(kAllowedCipherSuites), std::end(kAllowedCipherSuites), suite) !=
        std::end(kAllowedCipherSuites);
    if (!allowed) {
      return absl::FailedPreconditionError(absl::StrCat(
          "environment GRPC_SSL_CIPHER_SUITES: \"", suite,
          "\" is not an AEAD cipher suite with forward secrecy; allowed: ",
          absl::StrJoin(kAllowedCipherSuites, ":"), " (or leave the variable unset)"));
    }
  }
  LB_LOG("tls: cipher suites restricted by GRPC_SSL_CIPHER_SUITES to %s", value);
  return absl::OkStatus();
}

// TLS credentials watching the configured files, or plaintext ones.
std::shared_ptr<grpc::ServerCredentials> MakeServerCredentials(
    const v1::config::ServerConfig& config,
    std::shared_ptr<grpc::experimental::CertificateProviderInterface>* provider) {
  if (!TlsEnabled(config)) {
    if (InsecureNonLoopbackAllowed(config)) {
      LB_WARN(
          "INSECURE: serving PLAINTEXT gRPC (no TLS) on non-loopback address %s "
          "because allow_insecure_non_loopback is set: anyone who can reach it controls "
          "the lines. Configure tls { cert_file key_file } (docs/security.md).",
          config.listen());
    }
    return grpc::InsecureServerCredentials();
  }
  const v1::config::TlsConfig& tls = config.tls();
  const unsigned int interval = ReloadIntervalSeconds(tls);
  *provider = std::make_shared<grpc::experimental::FileWatcherCertificateProvider>(
      tls.key_file(), tls.cert_file(), tls.client_ca_file(), interval);
  grpc::experimental::TlsServerCredentialsOptions options(*provider);
  options.watch_identity_key_cert_pairs();
  grpc_ssl_client_certificate_request_type request = GRPC_SSL_DONT_REQUEST_CLIENT_CERTIFICATE;
  const char* clients = "not requested";
  if (!tls.client_ca_file().empty()) {
    options.watch_root_certs();
    if (tls.require_client_cert()) {
      request = GRPC_SSL_REQUEST_AND_REQUIRE_CLIENT_CERTIFICATE_AND_VERIFY;
      clients = "required (mutual TLS)";
    } else {
      request = GRPC_SSL_REQUEST_CLIENT_CERTIFICATE_AND_VERIFY;
      clients = "verified when presented";
    }
  }
  options.set_cert_request_type(request);
  LB_LOG("tls: certificate %s, key %s; client certificates %s%s%s; files re-read every %u s",
         tls.cert_file(), tls.key_file(), clients, tls.client_ca_file().empty() ? "" : " against ",
         tls.client_ca_file(), interval);
  return grpc::experimental::TlsServerCredentials(options);
}

std::unique_ptr<RetentionPruner> StartRetention(const v1::config::RetentionConfig& config,
                                                CallRecordStore* records, SecurityStore* audit) {
  v1::config::RetentionConfig r = config;
  ApplyRetentionDefaults(&r);  // a config built in code may leave it out
  std::vector<RetentionTable> tables(2);
  tables[0].name = "call_records";
  tables[0].max_age = absl::Hours(24) * r.call_records().max_age_days();
  tables[0].max_rows = r.call_records().max_rows();
  tables[0].prune = [records](int64_t cutoff_us, uint64_t max_rows, uint32_t batch) {
    return records->PruneBatch(cutoff_us, max_rows, batch);
  };
  tables[1].name = "audit";
  tables[1].max_age = absl::Hours(24) * r.audit().max_age_days();
  tables[1].max_rows = r.audit().max_rows();
  tables[1].prune = [audit](int64_t cutoff_us, uint64_t max_rows, uint32_t batch) {
    return audit->PruneAuditBatch(cutoff_us, max_rows, batch);
  };
  RetentionPruner::Options options;
  options.interval = absl::Milliseconds(r.interval_ms());
  LB_LOG("retention: call records %u days / %u rows, audit %u days / %u rows, checked every %u ms",
         r.call_records().max_age_days(), r.call_records().max_rows(), r.audit().max_age_days(),
         r.audit().max_rows(), r.interval_ms());
  return std::make_unique<RetentionPruner>(std::move(tables), std::move(options));
}

// The file jobs' settings (config `media`); their directories are created
// if missing (a failure is logged: the jobs then answer that the directory
// is not there).
media::FileJobsOptions FileJobsOptionsOf(const v1::config::ServerConfig& config) {
  media::FileJobsOptions o;
  o.media_dir = config.media().media_dir();
  o.recordings_dir = config.media().recordings_dir();
  if (config.media().max_file_bytes() != 0) o.max_file_bytes = config.media().max_file_bytes();
  if (config.media().max_record_ms() != 0) o.max_record_ms = config.media().max_record_ms();
  if (config.media().max_jobs() != 0) o.max_jobs = config.media().max_jobs();
  for (const std::string& dir : {o.media_dir, o.recordings_dir}) {
    if (dir.empty()) continue;
    std::error_code ec;
    std::filesystem::create_directories(dir, ec);
    if (ec) LB_ERROR("media: cannot create %s: %s", dir, ec.message());
  }
  return o;
}

}  // namespace

absl::StatusOr<std::unique_ptr<Server>> Server::Start(Options options) {
  // Defence in depth: the config was validated, but never serve plaintext off
  // loopback by accident.
  LB_RETURN_IF_ERROR(CheckListenSecurity(options.config));
  if (TlsEnabled(options.config)) LB_RETURN_IF_ERROR(CheckCipherSuitesEnvironment());
  RegisterBuiltinProviders();
  std::unique_ptr<Server> s(new Server());
  s->options_ = std::move(options);
  const auto& config = s->options_.config;

  LB_ASSIGN_OR_RETURN(const std::string server_id, ResolveServerId(config));
  LB_ASSIGN_OR_RETURN(Stores stores, OpenStores(config, server_id));
  s->store_backend_ = stores.backend;
  s->store_ = std::move(stores.records);
  s->security_store_ = std::move(stores.security);
  s->record_spool_ = stores.record_spool;
  s->audit_spool_ = stores.audit_spool;
  s->writer_ = std::make_unique<AsyncCdrWriter>(s->store_.get());
  s->sink_ = std::make_unique<WriterRecordSink>(s->writer_.get());
  s->executor_ = std::make_unique<BlockingExecutor>();

  EngineOptions eo = EngineOptions::FromConfig(config);
  eo.epoch = s->options_.epoch;
  eo.server_id = server_id;
  s->engine_ = std::make_unique<Engine>(eo, s->sink_.get());
  for (const auto& pc : config.providers()) {
    LB_ASSIGN_OR_RETURN(std::unique_ptr<Provider> provider, ProviderRegistry::Get().Create(pc));
    LB_RETURN_IF_ERROR(s->engine_->AddProvider(std::move(provider)));
  }

  s->audit_ = std::make_unique<AsyncAuditWriter>(s->security_store_.get());
  s->retention_ = StartRetention(config.retention(), s->store_.get(), s->security_store_.get());
  s->guard_ = std::make_unique<Guard>(config, s->security_store_.get(), s->audit_.get(),
                                      s->engine_.get());

  EventStreamOptions so;
  so.max_batch = config.max_batch() > 0 ? config.max_batch() : 256;
  so.queue_limit = config.subscriber_queue_limit() > 0 ? config.subscriber_queue_limit() : 16384;
  s->telephony_ = std::make_unique<TelephonyService>(s->engine_.get(), so, s->guard_.get(),
                                                    s->executor_.get());
  s->media_directory_ = std::make_unique<media::EngineDirectory>(s->engine_.get());
  Engine* engine = s->engine_.get();
  s->call_tasks_ = std::make_unique<media::CallTasks>(
      s->media_directory_.get(),
      [engine](std::vector<std::pair<std::string, v1::Event>> events) {
        engine->MediaEvents(std::move(events));
      });
  s->media_hub_ = std::make_unique<media::MediaHub>(s->call_tasks_.get(), media::HubOptions());
  s->call_tasks_->set_hub(s->media_hub_.get());
  s->engine_->set_call_media(s->call_tasks_.get());
  s->media_files_ = std::make_unique<media::FileJobs>(s->media_hub_.get(), FileJobsOptionsOf(config));
  s->media_ = std::make_unique<MediaService>(s->engine_.get(), s->media_hub_.get(),
                                             s->media_files_.get(), s->guard_.get(),
                                             MediaStreamOptions());

  AdminHooks hooks;
  hooks.data_dir = config.data_dir();
  Server* raw = s.get();
  if (!s->options_.config_path.empty()) {
    hooks.reload = [raw]() -> absl::StatusOr<v1::ReloadConfigResponse> {
      // The listeners (listen, tls, allow_insecure_non_loopback, health,
      // metrics) are fixed until a restart and may come from flags: validate
      // the file with the running values. Certificate files are re-read by the TLS provider anyway.
      v1::config::ServerConfig fresh;
      ParseLocations locations;
      LB_RETURN_IF_ERROR(LoadConfigRaw(raw->options_.config_path, &fresh, &locations));
      const v1::config::ServerConfig& running = raw->options_.config;
      fresh.set_listen(running.listen());
      locations.SetOverride("listen", "running");
      *fresh.mutable_tls() = running.tls();
      if (!running.has_tls()) fresh.clear_tls();
      locations.SetOverride("tls", "running");
      fresh.set_allow_insecure_non_loopback(running.allow_insecure_non_loopback());
      *fresh.mutable_health() = running.health();
      *fresh.mutable_metrics() = running.metrics();
      locations.SetOverride("health", "running");
      locations.SetOverride("metrics", "running");
      ApplyDefaults(&fresh);
      LB_RETURN_IF_ERROR(ValidateConfig(fresh, locations));
      LB_ASSIGN_OR_RETURN(v1::ReloadConfigResponse resp, raw->engine_->Reconfigure(fresh));
      LB_LOG("config reloaded from %s: %d lines added, %d removed", raw->options_.config_path,
             resp.lines_added_size(), resp.lines_removed_size());
      return resp;
    };
  }
  hooks.list_records = [raw](const v1::ListCallRecordsRequest& req)
      -> absl::StatusOr<v1::ListCallRecordsResponse> {
    LB_RETURN_IF_ERROR(raw->writer_->Flush());  // what has ended is visible
    // ... or, while records wait in the spool for PostgreSQL, soon is.
    if (raw->record_spool_ != nullptr) raw->record_spool_->WaitDrained(absl::Seconds(1));
    return raw->store_->List(req);
  };
  hooks.count_records = [raw]() -> uint64_t {
    auto n = raw->store_->Count();
    return n.ok() ? *n : 0;
  };
  hooks.store_status = [raw]() -> std::vector<v1::StoreStatus> {
    std::vector<v1::StoreStatus> result = {
        MakeStoreStatus("call_records", *raw->writer_, raw->retention_->stats("call_records"),
                        raw->record_spool_),
        MakeStoreStatus("audit", *raw->audit_, raw->retention_->stats("audit"),
                        raw->audit_spool_)};
    for (v1::StoreStatus& st : result) st.set_backend(raw->store_backend_);
    return result;
  };

  grpc::EnableDefaultHealthCheckService(true);
  grpc::reflection::InitProtoReflectionServerBuilderPlugin();
  grpc::ServerBuilder builder;
  // The daemon's own listener accepts and hands connections to gRPC
  // (api/listener.h: gRPC's stops for good at the first EMFILE).
  ListenerOptions lo;
  lo.max_connections = config.limits().max_connections();
  lo.max_connections_per_peer = config.limits().max_connections_per_peer();
  lo.on_health = [raw](bool accepting) { raw->SetListenerHealth(accepting); };
  LB_ASSIGN_OR_RETURN(s->listener_, Listener::Bind(config.listen(), std::move(lo)));
  s->port_ = s->listener_->port();
  s->guard_->TrackConnections(s->listener_.get());
  std::unique_ptr<grpc::experimental::ExternalConnectionAcceptor> acceptor =
      builder.experimental().AddExternalConnectionAcceptor(
          grpc::ServerBuilder::experimental_type::ExternalConnectionType::FROM_FD,
          MakeServerCredentials(config, &s->certificate_provider_));
  builder.SetMaxReceiveMessageSize(static_cast<int>(
      config.limits().max_message_bytes() > 0 ? config.limits().max_message_bytes()
                                              : kDefaultMaxMessageBytes));
  builder.AddChannelArgument(GRPC_ARG_MAX_CONNECTION_IDLE_MS,
                             static_cast<int>(config.limits().idle_timeout_ms() > 0
                                                  ? config.limits().idle_timeout_ms()
                                                  : kDefaultIdleTimeoutMs));
  builder.AddChannelArgument(GRPC_ARG_SERVER_HANDSHAKE_TIMEOUT_MS,
                             static_cast<int>(config.limits().handshake_timeout_ms() > 0
                                                  ? config.limits().handshake_timeout_ms()
                                                  : kDefaultHandshakeTimeoutMs));
  builder.SetMaxSendMessageSize(64 * 1024 * 1024);
  // Unparsable requests: INVALID_ARGUMENT + TapiError, logged per peer with a count.
  InstallProtobufParseLogFilter();
  s->parse_failures_ = std::make_unique<ParseFailureLog>();
  std::vector<std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface>> creators;
  creators.push_back(NewParseFailureInterceptorFactory(s->parse_failures_.get()));
  if (!config.metrics().listen().empty()) {
    // After the parse-failure interceptor: it sees the status that one sets.
    s->grpc_metrics_ = std::make_unique<GrpcMetrics>(GrpcMetrics::ServedMethods());
    creators.push_back(s->grpc_metrics_->NewInterceptorFactory());
  }
  builder.experimental().SetInterceptorCreators(std::move(creators));
  builder.RegisterService(s->telephony_.get());
  builder.RegisterService(s->media_.get());
  std::string host = config.listen().substr(0, config.listen().rfind(':'));
  // The admin service needs the bound address, known only after BuildAndStart;
  // register it first with a placeholder filled in below.
  hooks.listen_address = config.listen();
  s->admin_ =
      std::make_unique<AdminService>(s->engine_.get(), s->executor_.get(), hooks, s->guard_.get());
  builder.RegisterService(s->admin_.get());
  s->security_ = std::make_unique<SecurityService>(s->guard_.get(), s->executor_.get());
  builder.RegisterService(s->security_.get());
  s->grpc_server_ = builder.BuildAndStart();
  if (s->grpc_server_ == nullptr) {
    return absl::UnavailableError(absl::StrCat("cannot start the gRPC server on ", config.listen()));
  }
  s->address_ = absl::StrCat(host, ":", s->port_);
  LB_RETURN_IF_ERROR(s->StartSideServers());
  {
    absl::MutexLock lock(&s->health_mu_);
    s->SetServingLocked(true);
  }
  s->listener_->Start(std::move(acceptor));
  return s;
}

absl::Status Server::StartSideServers() {
  const v1::config::ServerConfig& config = options_.config;
  if (!config.health().listen().empty()) {
    LB_ASSIGN_OR_RETURN(std::unique_ptr<HealthServer> health,
                        HealthServer::Start(config.health().listen()));
    health_address_ = health->address();
    absl::MutexLock lock(&health_mu_);
    health_server_ = std::move(health);
  }
  if (!config.metrics().listen().empty()) {
    MetricSources sources;
    sources.engine = engine_.get();
    sources.listener = listener_.get();
    sources.cdr = writer_.get();
    sources.audit = audit_.get();
    sources.cdr_spool = record_spool_;
    sources.audit_spool = audit_spool_;
    sources.retention = retention_.get();
    const v1::ServerStatus status = engine_->Status();
    sources.version = status.version();
    sources.server_id = status.server_id();
    LB_ASSIGN_OR_RETURN(metrics_endpoint_,
                        MetricsEndpoint::Start(config.metrics().listen(),
                                               {std::make_shared<ServerCollector>(sources),
                                                grpc_metrics_->registry()}));
  }
  return absl::OkStatus();
}

std::string Server::health_address() const { return health_address_; }

std::string Server::metrics_address() const {
  return metrics_endpoint_ != nullptr ? metrics_endpoint_->address() : "";
}

void Server::SetServingLocked(bool serving) {
  if (grpc_server_ != nullptr) grpc_server_->GetHealthCheckService()->SetServingStatus(serving);
  if (health_server_ != nullptr) health_server_->SetServing(serving);
}

Server::~Server() { Shutdown("server destroyed"); }

void Server::Shutdown(absl::string_view reason) {
  if (shut_down_.exchange(true)) return;
  {
    absl::MutexLock lock(&health_mu_);
    SetServingLocked(false);
  }
  if (listener_ != nullptr) listener_->Stop();
  if (media_hub_ != nullptr) media_hub_->Shutdown();  // media streams end UNAVAILABLE
  if (media_files_ != nullptr) media_files_->Shutdown();  // recordings closed, waiters answered
  engine_->Shutdown(reason);  // subscribers get ServerShutdown, then their streams end
  if (grpc_server_ != nullptr) {
    grpc_server_->Shutdown(DeadlineAfter(absl::Seconds(2)));
    grpc_server_->Wait();
  }
  {
    absl::MutexLock lock(&health_mu_);
    if (health_server_ != nullptr) health_server_->Shutdown();
  }
  executor_.reset();
  if (audit_ != nullptr) {
    absl::Status flushed = audit_->Flush();
    if (!flushed.ok()) LB_ERROR("audit: flush at shutdown failed: %s", flushed.ToString());
  }
  if (writer_ != nullptr) {
    absl::Status flushed = writer_->Flush();
    if (!flushed.ok()) LB_ERROR("cdr: flush at shutdown failed: %s", flushed.ToString());
  }
}

void Server::SetListenerHealth(bool accepting) {
  absl::MutexLock lock(&health_mu_);
  if (shut_down_ || grpc_server_ == nullptr) return;
  // NOT_SERVING while no connection can be accepted: a supervisor watching
  // the health service restarts the daemon if it never recovers.
  SetServingLocked(accepting);
}

absl::Status Server::FlushAudit() { return audit_->Flush(); }

void Server::Wait() {
  if (grpc_server_ != nullptr) grpc_server_->Wait();
}

}  // namespace linebridge
