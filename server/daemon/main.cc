// linebridged: the linebridge telephony server.
#include <grpc/support/log.h>
#include <signal.h>

#include <cstdio>
#include <fstream>
#include <iostream>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "absl/flags/usage_config.h"
#include "absl/synchronization/mutex.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/strip.h"
#include "absl/time/clock.h"
#include "api/server.h"
#include "config/config.h"
#include "core/log.h"
#include "providers/builtin.h"
#include "config/server_identity.h"
#include "store/open_stores.h"
#include "store/postgres/sqlite_to_pg.h"
#include "store/security_store.h"

ABSL_FLAG(std::string, config, "",
          "Configuration file (textproto of linebridge.v1.config.ServerConfig). Empty: the "
          "embedded default, a simulated PBX.");
ABSL_FLAG(std::string, listen, "", "Override `listen` (host:port; port 0 picks a free port).");
ABSL_FLAG(std::string, data_dir, "", "Override `data_dir`.");
ABSL_FLAG(std::string, tls_cert, "",
          "Override `tls.cert_file`: the server certificate chain (PEM); with --tls_key.");
ABSL_FLAG(std::string, tls_key, "", "Override `tls.key_file`: its private key (PEM).");
ABSL_FLAG(std::string, tls_client_ca, "",
          "Override `tls.client_ca_file`: CA bundle (PEM) that client certificates are verified "
          "against (mutual TLS is required with `tls.require_client_cert: true`).");
ABSL_FLAG(std::string, port_file, "", "Write the bound port to this file once serving.");
ABSL_FLAG(std::string, log_format, "text",
          "Log lines on stderr as `text` or `json` (one object per line: time, level, message "
          "and fields such as the line, for journald and Kubernetes collectors).");
ABSL_FLAG(std::string, log_level, "info",
          "Least severe level logged: debug, info, warning or error. At run time SIGUSR1 "
          "logs everything (debug) and SIGUSR2 returns to this level.");
ABSL_FLAG(bool, print_config, false, "Print the effective configuration and exit.");
ABSL_FLAG(bool, check_config, false, "Validate the configuration and exit (0 = valid).");
ABSL_FLAG(std::string, bootstrap_admin, "",
          "Make this principal an admin in data_dir's security store, issue it a bearer token "
          "(printed once on stdout, valid 90 days) and exit. A running linebridged picks it up "
          "on SIGHUP (servers sharing a PostgreSQL store see it at once). See docs/security.md.");

ABSL_FLAG(std::string, import_sqlite, "",
          "Copy the SQLite stores of this data directory (principals, token hashes, line "
          "assignments, call records, audit) into the PostgreSQL store the configuration "
          "names (`store { postgres {...} }`), verify the copy and exit (0: every row is "
          "there). Idempotent: run it again to copy what was added since. See "
          "docs/deployment.md.");
ABSL_FLAG(std::string, verify_import, "",
          "Like --import_sqlite but only verify: exit 0 if every row of this data "
          "directory's SQLite stores is in the PostgreSQL store.");
ABSL_FLAG(std::string, import_server_id, "",
          "With --import_sqlite/--verify_import: the copied server's id (default: the one kept "
          "in that data directory).");

namespace linebridge {

// --import_sqlite / --verify_import.
int ImportSqlite(const v1::config::ServerConfig& config, const std::string& dir, bool copy) {
  if (!config.store().has_postgres()) {
    std::fprintf(stderr, "linebridged: --%s needs a configuration with store { postgres {...} }\n",
                 copy ? "import_sqlite" : "verify_import");
    return 2;
  }
  v1::config::ServerConfig source = config;
  source.set_data_dir(dir);
  source.set_server_id(absl::GetFlag(FLAGS_import_server_id));
  absl::StatusOr<std::string> server_id = ResolveServerId(source);
  absl::StatusOr<PgOptions> options =
      server_id.ok() ? PgOptionsFromConfig(config.store().postgres(), "linebridged import")
                     : absl::StatusOr<PgOptions>(server_id.status());
  absl::StatusOr<SqliteCopyReport> report =
      options.ok() ? CopySqliteToPg(dir, *server_id, *options, copy)
                   : absl::StatusOr<SqliteCopyReport>(options.status());
  if (!report.ok()) {
    std::fprintf(stderr, "linebridged: %s\n", report.status().ToString().c_str());
    return 1;
  }
  std::printf("%s %s as server %s: %s\n", copy ? "copied" : "checked", dir.c_str(),
              server_id->c_str(), report->ToString().c_str());
  return report->missing == 0 ? 0 : 3;
}

// gRPC's own log lines go through the daemon's log (its format and level),
// so a JSON log stays JSON.
void GrpcLog(gpr_log_func_args* args) {
  LogLevel level = LogLevel::kError;
  if (args->severity == GPR_LOG_SEVERITY_DEBUG) level = LogLevel::kDebug;
  if (args->severity == GPR_LOG_SEVERITY_INFO) level = LogLevel::kInfo;
  if (!LogEnabled(level)) return;
  const std::string where = absl::StrCat(args->file != nullptr ? args->file : "?", ":", args->line);
  WriteLog(level, absl::StrCat("grpc: ", args->message != nullptr ? args->message : ""),
           {{"source", "grpc"}, {"file", where}});
}

// --bootstrap_admin: the first administrator of a server that accepts no
// anonymous calls (TLS or non-loopback listener).
// The store is the one the configuration names (data_dir's SQLite file or
// the shared PostgreSQL database).
int BootstrapAdmin(const v1::config::ServerConfig& config, const std::string& name) {
  absl::StatusOr<std::string> server_id = ResolveServerId(config);
  absl::StatusOr<Stores> stores =
      server_id.ok() ? OpenStores(config, *server_id, /*spools=*/false)
                     : absl::StatusOr<Stores>(server_id.status());
  if (!stores.ok()) {
    std::fprintf(stderr, "linebridged: %s\n", stores.status().ToString().c_str());
    return 1;
  }
  std::unique_ptr<SecurityStore>* store = &stores->security;
  v1::AddPrincipalRequest add;
  add.set_name(name);
  add.set_role(v1::ROLE_ADMIN);
  add.set_update((*store)->Find(name) != nullptr);
  if (add.update()) add.set_display_name((*store)->Find(name)->display_name);
  absl::StatusOr<v1::Principal> principal = (*store)->AddPrincipal(add);
  if (!principal.ok()) {
    std::fprintf(stderr, "linebridged: %s\n", principal.status().ToString().c_str());
    return 2;
  }
  v1::IssueTokenRequest issue;
  issue.set_principal(name);
  issue.set_description("linebridged --bootstrap_admin");
  absl::StatusOr<v1::IssueTokenResponse> token = (*store)->IssueToken(issue, absl::Now());
  if (!token.ok()) {
    std::fprintf(stderr, "linebridged: %s\n", token.status().ToString().c_str());
    return 1;
  }
  std::printf("%s\n", token->token().c_str());
  std::fprintf(stderr,
               "linebridged: admin %s, token %s (shown once; store it with chmod 600 and pass "
               "it to linectl with --token-file). A running linebridged needs SIGHUP to see it.\n",
               name.c_str(), token->info().token_id().c_str());
  return 0;
}

}  // namespace linebridge

int main(int argc, char** argv) {
  absl::SetProgramUsageMessage(
      "linebridged [--config FILE] [--listen HOST:PORT] [--data_dir DIR]\n"
      "            [--tls_cert PEM --tls_key PEM [--tls_client_ca PEM]]\n"
      "Serves telephony lines over gRPC (linebridge.v1). See docs/configuration.md and\n"
      "docs/security.md (plaintext is served on loopback addresses only).");
  // --help and --helpshort list the flags defined in this file (Abseil's
  // default matches files named like the program, which none is).
  absl::FlagsUsageConfig usage;
  usage.contains_help_flags = [](absl::string_view file) {
    return absl::EndsWith(file, "daemon/main.cc");
  };
  usage.contains_helpshort_flags = usage.contains_help_flags;
  // "Flags from server/daemon/main.cc", wherever the tree was built.
  usage.normalize_filename = [](absl::string_view file) {
    const size_t at = file.rfind("server/daemon/");
    if (at != absl::string_view::npos) file.remove_prefix(at);
    while (absl::ConsumePrefix(&file, "../")) {
    }
    return std::string(file);
  };
  absl::SetFlagsUsageConfig(usage);
  absl::ParseCommandLine(argc, argv);
  // Debian's Abseil is built with lock-order (deadlock) detection on, which costs
  // more than the locking itself on the event path. The tests keep it on.
  absl::SetMutexDeadlockDetectionMode(absl::OnDeadlockCycle::kIgnore);
  linebridge::LogFormat log_format;
  linebridge::LogLevel log_level;
  if (!linebridge::ParseLogFormat(absl::GetFlag(FLAGS_log_format), &log_format)) {
    std::fprintf(stderr, "linebridged: --log_format: \"%s\" is not text or json\n",
                 absl::GetFlag(FLAGS_log_format).c_str());
    return 2;
  }
  if (!linebridge::ParseLogLevel(absl::GetFlag(FLAGS_log_level), &log_level)) {
    std::fprintf(stderr, "linebridged: --log_level: \"%s\" is not debug, info, warning or error\n",
                 absl::GetFlag(FLAGS_log_level).c_str());
    return 2;
  }
  linebridge::SetLogFormat(log_format);
  linebridge::SetLogLevel(log_level);
  gpr_set_log_function(&linebridge::GrpcLog);

  // The file, then the flags on top, then defaults and validation (so a flag
  // can fix what the file alone would fail, e.g. --tls_cert for a 0.0.0.0
  // listener). Errors about a flag's value read "flags:0: <field>: ...".
  linebridge::v1::config::ServerConfig config;
  linebridge::ParseLocations locations;
  if (absl::Status loaded =
          linebridge::LoadConfigRaw(absl::GetFlag(FLAGS_config), &config, &locations);
      !loaded.ok()) {
    std::fprintf(stderr, "linebridged: bad configuration:\n%s\n",
                 std::string(loaded.message()).c_str());
    return 2;
  }
  const struct {
    const absl::Flag<std::string>& flag;
    const char* path;
    std::string* (linebridge::v1::config::ServerConfig::*field)();
  } overrides[] = {
      {FLAGS_listen, "listen", &linebridge::v1::config::ServerConfig::mutable_listen},
      {FLAGS_data_dir, "data_dir", &linebridge::v1::config::ServerConfig::mutable_data_dir},
  };
  for (const auto& o : overrides) {
    if (absl::GetFlag(o.flag).empty()) continue;
    *(config.*o.field)() = absl::GetFlag(o.flag);
    locations.SetOverride(o.path, "flags");
  }
  const struct {
    const absl::Flag<std::string>& flag;
    const char* path;
    std::string* (linebridge::v1::config::TlsConfig::*field)();
  } tls_overrides[] = {
      {FLAGS_tls_cert, "tls.cert_file", &linebridge::v1::config::TlsConfig::mutable_cert_file},
      {FLAGS_tls_key, "tls.key_file", &linebridge::v1::config::TlsConfig::mutable_key_file},
      {FLAGS_tls_client_ca, "tls.client_ca_file",
       &linebridge::v1::config::TlsConfig::mutable_client_ca_file},
  };
  for (const auto& o : tls_overrides) {
    if (absl::GetFlag(o.flag).empty()) continue;
    *(config.mutable_tls()->*o.field)() = absl::GetFlag(o.flag);
    locations.SetOverride(o.path, "flags");
  }
  linebridge::RegisterBuiltinProviders();  // provider kinds own their config rules
  linebridge::ApplyDefaults(&config);
  if (absl::Status valid = linebridge::ValidateConfig(config, locations); !valid.ok()) {
    std::fprintf(stderr, "linebridged: bad configuration:\n%s\n",
                 std::string(valid.message()).c_str());
    return 2;
  }
  if (absl::GetFlag(FLAGS_print_config)) {
    std::cout << linebridge::ConfigToText(config);
    return 0;
  }
  if (absl::GetFlag(FLAGS_check_config)) {
    std::printf("configuration OK\n");
    return 0;
  }
  if (!absl::GetFlag(FLAGS_bootstrap_admin).empty()) {
    return linebridge::BootstrapAdmin(config, absl::GetFlag(FLAGS_bootstrap_admin));
  }
  if (!absl::GetFlag(FLAGS_import_sqlite).empty()) {
    return linebridge::ImportSqlite(config, absl::GetFlag(FLAGS_import_sqlite), true);
  }
  if (!absl::GetFlag(FLAGS_verify_import).empty()) {
    return linebridge::ImportSqlite(config, absl::GetFlag(FLAGS_verify_import), false);
  }

  // Signals are taken synchronously by the main thread; every other thread
  // inherits the blocked mask.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGHUP);
  sigaddset(&signals, SIGUSR1);
  sigaddset(&signals, SIGUSR2);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  signal(SIGPIPE, SIG_IGN);

  linebridge::Server::Options options;
  options.config = config;
  options.config_path = absl::GetFlag(FLAGS_config);
  auto server = linebridge::Server::Start(options);
  if (!server.ok()) {
    std::fprintf(stderr, "linebridged: cannot start: %s\n", server.status().ToString().c_str());
    return 1;
  }
  auto status = (*server)->engine().Status();
  LB_LOG("linebridged %s (server id %s) listening on %s (epoch %d): %d lines from %s; data in %s",
         status.version(), status.server_id(), (*server)->address(), status.epoch(), status.lines(),
         absl::StrJoin(status.providers(), ", "), config.data_dir());
  if (const std::string health = (*server)->health_address(); !health.empty()) {
    LB_LOG("health service (plaintext, health checks only) on %s", health);
  }
  if (const std::string metrics = (*server)->metrics_address(); !metrics.empty()) {
    LB_LOG("metrics on http://%s/metrics", metrics);
  }
  if (!absl::GetFlag(FLAGS_port_file).empty()) {
    const std::string path = absl::GetFlag(FLAGS_port_file);
    const std::string tmp = path + ".tmp";
    std::ofstream(tmp) << (*server)->port() << "\n";
    std::rename(tmp.c_str(), path.c_str());
  }

  while (true) {
    int sig = 0;
    sigwait(&signals, &sig);
    if (sig == SIGHUP) {
      absl::Status reloaded = (*server)->security_store().Reload();
      LB_LOG("SIGHUP: principals and tokens re-read from the store%s%s; use `linectl reload` "
             "(Admin.ReloadConfig) to reload the configuration",
             reloaded.ok() ? "" : ": ", reloaded.ok() ? "" : reloaded.ToString());
      continue;
    }
    if (sig == SIGUSR1 || sig == SIGUSR2) {
      const linebridge::LogLevel level = sig == SIGUSR1 ? linebridge::LogLevel::kDebug : log_level;
      linebridge::SetLogLevel(level);
      // Said whatever the level (WriteLog does not filter).
      linebridge::WriteLog(linebridge::LogLevel::kInfo,
                           absl::StrCat(sig == SIGUSR1 ? "SIGUSR1" : "SIGUSR2", ": log level ",
                                        linebridge::LogLevelName(level)));
      continue;
    }
    LB_LOG("signal %d: shutting down", sig);
    break;
  }
  (*server)->Shutdown("server is shutting down");
  LB_LOG("linebridged stopped");
  return 0;
}
