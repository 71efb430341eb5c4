#include "config/config.h"
#include "config/media_config.h"
#include "config/provider_config_hooks.h"
#include "config/server_identity.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <limits.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <cstring>
#include <map>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/strip.h"
#include "google/protobuf/descriptor.h"
#include "google/protobuf/io/tokenizer.h"
#include "google/protobuf/io/zero_copy_stream_impl_lite.h"
#include "google/protobuf/message.h"
#include "google/protobuf/text_format.h"
#include "linebridge/status_macros.h"

namespace linebridge {
namespace {

// What identifies a serial device: its device number when it exists (a
// symlink and /dev/pts/N are the same port), else its resolved path, else
// the path as written (a device missing at start).
std::string DeviceIdentity(const std::string& path) {
  struct stat st;
  if (::stat(path.c_str(), &st) == 0 && S_ISCHR(st.st_mode)) {
    return absl::StrCat("rdev:", static_cast<uint64_t>(st.st_rdev));
  }
  char resolved[PATH_MAX];
  if (::realpath(path.c_str(), resolved) != nullptr) return absl::StrCat("path:", resolved);
  return absl::StrCat("path:", path);
}


namespace pb = ::google::protobuf;
using v1::config::ModemConfig;
using v1::config::ModemPort;
using v1::config::ProviderConfig;
using v1::config::ServerConfig;
using v1::config::SimBehavior;
using v1::config::SimConfig;
using v1::config::SimExtension;
using v1::config::SimExternal;
using v1::config::TlsConfig;

constexpr char kDefaultsFilename[] = "<defaults>";

// Collects the parser's errors as "<file>:<line>:<column>: <what>" (1-based).
class ConfigErrorCollector : public pb::io::ErrorCollector {
 public:
  explicit ConfigErrorCollector(absl::string_view filename) : filename_(filename) {}

  void AddError(int line, pb::io::ColumnNumber column, const std::string& message) override {
    errors_.push_back(absl::StrCat(filename_, ":", line < 0 ? 0 : line + 1, ":",
                                   column < 0 ? 0 : column + 1, ": ", message));
  }
  void AddWarning(int /*line*/, pb::io::ColumnNumber /*column*/,
                  const std::string& /*message*/) override {}

  const std::vector<std::string>& errors() const { return errors_; }

 private:
  std::string filename_;
  std::vector<std::string> errors_;
};

// Records the 1-based line of every field present in the file, keyed by path.
void CollectLocations(const pb::Message& message, const pb::TextFormat::ParseInfoTree& tree,
                      const std::string& prefix, ParseLocations* out) {
  const pb::Descriptor* descriptor = message.GetDescriptor();
  const pb::Reflection* reflection = message.GetReflection();
  for (int i = 0; i < descriptor->field_count(); ++i) {
    const pb::FieldDescriptor* field = descriptor->field(i);
    const std::string base = prefix.empty() ? field->name() : absl::StrCat(prefix, ".", field->name());
    const bool is_message = field->cpp_type() == pb::FieldDescriptor::CPPTYPE_MESSAGE;
    if (field->is_repeated()) {
      const int size = reflection->FieldSize(message, field);
      for (int j = 0; j < size; ++j) {
        const std::string path = absl::StrCat(base, "[", j, "]");
        const pb::TextFormat::ParseLocation loc = tree.GetLocation(field, j);
        if (loc.line >= 0) out->Set(path, loc.line + 1);
        if (is_message) {
          if (const auto* nested = tree.GetTreeForNested(field, j); nested != nullptr) {
            CollectLocations(reflection->GetRepeatedMessage(message, field, j), *nested, path,
                             out);
          }
        }
      }
    } else {
      const pb::TextFormat::ParseLocation loc = tree.GetLocation(field, -1);
      if (loc.line >= 0) out->Set(base, loc.line + 1);
      if (is_message && reflection->HasField(message, field)) {
        if (const auto* nested = tree.GetTreeForNested(field, -1); nested != nullptr) {
          CollectLocations(reflection->GetMessage(message, field), *nested, base, out);
        }
      }
    }
  }
}

// Reads all of `path` into *data; 0 or the errno of the failure.
int ReadWholeFile(const std::string& path, std::string* data) {
  data->clear();
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return errno;
  char buf[16384];
  for (;;) {
    const ssize_t n = ::read(fd, buf, sizeof(buf));
    if (n < 0) {
      if (errno == EINTR) continue;
      const int err = errno;
      ::close(fd);
      return err;
    }
    if (n == 0) break;
    data->append(buf, static_cast<size_t>(n));
  }
  ::close(fd);
  return 0;
}

absl::StatusOr<std::string> ReadFile(const std::string& path) {
  std::string data;
  if (const int err = ReadWholeFile(path, &data); err != 0) {
    return absl::ErrnoToStatus(err, absl::StrCat("cannot read config file ", path));
  }
  return data;
}

}  // namespace

// Splits "host:port" / "[v6]:port". False if it has neither shape (the host is
// then not checked further).
bool SplitHostPort(absl::string_view listen, absl::string_view* host, absl::string_view* port) {
  absl::string_view s = listen;
  bool ok = false;
  if (absl::ConsumePrefix(&s, "[")) {
    const size_t close = s.find(']');
    if (close != absl::string_view::npos && s.substr(close + 1, 1) == ":") {
      *host = s.substr(0, close);
      *port = s.substr(close + 2);
      ok = !host->empty();
    }
  } else {
    const size_t colon = s.rfind(':');
    if (colon != absl::string_view::npos) {
      *host = s.substr(0, colon);
      *port = s.substr(colon + 1);
      ok = !host->empty() && host->find(':') == absl::string_view::npos;
    }
  }
  for (char ch : *host) {
    if (absl::ascii_isspace(static_cast<unsigned char>(ch)) || ch == '[' || ch == ']' ||
        ch == '/') {
      ok = false;
    }
  }
  return ok;
}

namespace {

std::string PlaintextNonLoopbackReason(absl::string_view listen) {
  return absl::StrFormat(
      "plaintext (no tls) listener on non-loopback address \"%s\" refused: configure "
      "tls { cert_file key_file } or, to accept the risk, set allow_insecure_non_loopback: true",
      absl::CEscape(listen));
}

bool AllDigits(absl::string_view s) {
  for (char c : s) {
    if (!absl::ascii_isdigit(static_cast<unsigned char>(c))) return false;
  }
  return true;
}

bool IsToken(absl::string_view s, size_t min_len, size_t max_len) {
  if (s.size() < min_len || s.size() > max_len) return false;
  for (char c : s) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-';
    if (!ok) return false;
  }
  return true;
}

bool IsDtmf(absl::string_view s) {
  for (char c : s) {
    const bool ok = (c >= '0' && c <= '9') || c == '*' || c == '#' || (c >= 'A' && c <= 'D');
    if (!ok) return false;
  }
  return true;
}

constexpr size_t kMaxNameBytes = 64;
constexpr uint32_t kMinJournalCapacity = 16;
constexpr uint32_t kMaxJournalCapacity = 16777216;
constexpr uint32_t kMaxMaxBatch = 65536;
constexpr uint32_t kMaxGracePeriodMs = 86400000;
constexpr uint32_t kMaxSimMaxCalls = 16;
constexpr uint32_t kMaxModemCommand = 200;
constexpr uint32_t kModemBauds[] = {300,     1200,    2400,    4800,    9600,    19200,
                                    38400,   57600,   115200,  230400,  460800,  500000,
                                    576000,  921600,  1000000, 1152000, 1500000, 2000000,
                                    2500000, 3000000, 3500000, 4000000};

class Validator {
 public:
  explicit Validator(const ParseLocations& locations) : locations_(locations) {}

  void Error(const std::string& path, absl::string_view what) {
    errors_.push_back(absl::StrCat(locations_.Where(path), ": ", path, ": ", what));
  }

  absl::Status Result() const {
    if (errors_.empty()) return absl::OkStatus();
    return absl::InvalidArgumentError(absl::StrJoin(errors_, "\n"));
  }

  // A principal name as the security store accepts it.
  static bool ValidPrincipalName(absl::string_view name) {
    if (name.empty() || name.size() > 128) return false;
    for (char ch : name) {
      if (!absl::ascii_isalnum(static_cast<unsigned char>(ch)) &&
          absl::string_view("._@-\\/:+").find(ch) == absl::string_view::npos) {
        return false;
      }
    }
    return true;
  }

  void CheckAuth(const ServerConfig& c) {
    const auto& auth = c.auth();
    if (!auth.loopback_principal().empty() && !ValidPrincipalName(auth.loopback_principal())) {
      Error("auth.loopback_principal",
            "1-128 characters: letters, digits and . _ @ - \\ / : +");
    }
    if (!auth.loopback_role().empty() && auth.loopback_role() != "admin" &&
        auth.loopback_role() != "user") {
      Error("auth.loopback_role",
            absl::StrCat("\"", auth.loopback_role(), "\" is neither \"admin\" nor \"user\""));
    }
    for (int i = 0; i < auth.admin_principals_size(); ++i) {
      if (!ValidPrincipalName(auth.admin_principals(i))) {
        Error(absl::StrCat("auth.admin_principals[", i, "]"),
              "1-128 characters: letters, digits and . _ @ - \\ / : +");
      }
    }
    const auto& l = c.limits();
    if (l.originations_per_minute() > 60000) {
      Error("limits.originations_per_minute",
            absl::StrFormat("%u exceeds 60000", l.originations_per_minute()));
    }
    if (l.origination_burst() > 10000) {
      Error("limits.origination_burst", absl::StrFormat("%u exceeds 10000", l.origination_burst()));
    }
    if (l.max_concurrent_calls() > 100000) {
      Error("limits.max_concurrent_calls",
            absl::StrFormat("%u exceeds 100000", l.max_concurrent_calls()));
    }
    if (l.max_streams_per_principal() > 10000) {
      Error("limits.max_streams_per_principal",
            absl::StrFormat("%u exceeds 10000", l.max_streams_per_principal()));
    }
    if (l.max_message_bytes() != 0 &&
        (l.max_message_bytes() < 1024 || l.max_message_bytes() > 64u * 1024 * 1024)) {
      Error("limits.max_message_bytes",
            absl::StrFormat("%u out of range [1024, 67108864]", l.max_message_bytes()));
    }
    if (l.idle_timeout_ms() != 0 && l.idle_timeout_ms() < 1000) {
      Error("limits.idle_timeout_ms", absl::StrFormat("%u is under 1000", l.idle_timeout_ms()));
    }
    if (l.max_connections() > 1000000) {
      Error("limits.max_connections", absl::StrFormat("%u exceeds 1000000", l.max_connections()));
    }
    if (l.max_connections() != 0 && l.max_connections_per_peer() > l.max_connections()) {
      Error("limits.max_connections_per_peer",
            absl::StrFormat("%u exceeds limits.max_connections (%u)", l.max_connections_per_peer(),
                            l.max_connections()));
    }
    if (l.max_sessions_per_principal() > 100000) {
      Error("limits.max_sessions_per_principal",
            absl::StrFormat("%u exceeds 100000", l.max_sessions_per_principal()));
    }
    if (l.handshake_timeout_ms() != 0 &&
        (l.handshake_timeout_ms() < 1000 || l.handshake_timeout_ms() > 600000)) {
      Error("limits.handshake_timeout_ms",
            absl::StrFormat("%u out of range [1000, 600000]", l.handshake_timeout_ms()));
    }
  }

  void CheckServer(const ServerConfig& c) {
    if (CheckListen("listen", c.listen())) {
      if (absl::Status secure = CheckListenSecurity(c); !secure.ok()) {
        Error("listen", PlaintextNonLoopbackReason(c.listen()));
      }
    }
    CheckSideListeners(c);
    CheckTls(c);
    CheckAuth(c);
    CheckRetention(c.retention());
    CheckStore(c.store());
    ValidateMediaConfig(c.media(), [this](const std::string& path, absl::string_view what) {
      Error(path, what);
    });
    if (c.data_dir().empty()) Error("data_dir", "must not be empty");
    if (!c.server_id().empty() && !IsServerId(c.server_id())) {
      Error("server_id", absl::StrFormat("invalid server id \"%s\": want 1-64 of [A-Za-z0-9._-]",
                                         absl::CEscape(c.server_id())));
    }
    if (c.journal_capacity() < kMinJournalCapacity ||
        c.journal_capacity() > kMaxJournalCapacity) {
      Error("journal_capacity", absl::StrFormat("%u out of range [%u, %u]", c.journal_capacity(),
                                                kMinJournalCapacity, kMaxJournalCapacity));
    }
    if (c.subscriber_queue_limit() < 1 || c.subscriber_queue_limit() > c.journal_capacity()) {
      Error("subscriber_queue_limit",
            absl::StrFormat("%u out of range [1, %u] (at most journal_capacity)",
                            c.subscriber_queue_limit(), c.journal_capacity()));
    }
    if (c.max_batch() < 1 || c.max_batch() > kMaxMaxBatch) {
      Error("max_batch", absl::StrFormat("%u out of range [1, %u]", c.max_batch(), kMaxMaxBatch));
    }
    if (c.session_grace_period_ms() > kMaxGracePeriodMs) {
      Error("session_grace_period_ms",
            absl::StrFormat("%u exceeds %u (one day)", c.session_grace_period_ms(),
                            kMaxGracePeriodMs));
    }
    std::set<std::string> sim_names;  // names of all providers
    std::map<std::string, std::string> modem_devices;  // device identity -> path
    for (int i = 0; i < c.providers_size(); ++i) {
      const ProviderConfig& p = c.providers(i);
      const std::string path = absl::StrCat("providers[", i, "]");
      switch (p.kind_case()) {
        case ProviderConfig::kSim:
          CheckSim(p.sim(), path + ".sim", &sim_names);
          break;
        case ProviderConfig::kModem:
          CheckModem(p.modem(), path + ".modem", &sim_names, &modem_devices);
          break;
        case ProviderConfig::KIND_NOT_SET:
          Error(path, "no provider kind set (expected sim { ... } or modem { ... })");
          break;
        default:
          CheckRegistered(p, path, &sim_names);
          break;
      }
    }
  }

 private:
  // False if `listen` is malformed (reported).
  bool CheckListen(const std::string& field, const std::string& listen) {
    absl::string_view host;
    absl::string_view port;
    if (!SplitHostPort(listen, &host, &port)) {
      Error(field, absl::StrFormat("\"%s\" is not host:port (IPv6 as [::1]:port)",
                                      absl::CEscape(listen)));
      return false;
    }
    uint32_t value = 0;
    if (port.empty() || port.size() > 5 || !AllDigits(port) || !absl::SimpleAtoi(port, &value) ||
        value > 65535) {
      Error(field, absl::StrFormat("port \"%s\" out of range 0..65535", absl::CEscape(port)));
      return false;
    }
    return true;
  }

  // health.listen and metrics.listen: well-formed, and no two listeners on
  // the same fixed host:port.
  void CheckSideListeners(const ServerConfig& c) {
    std::map<std::string, std::string> taken;  // "host:port" -> field
    if (!c.listen().empty()) taken[c.listen()] = "listen";
    const std::pair<const char*, const std::string*> side[] = {
        {"health.listen", &c.health().listen()},
        {"metrics.listen", &c.metrics().listen()},
    };
    for (const auto& [field, listen] : side) {
      if (listen->empty() || !CheckListen(field, *listen)) continue;
      const bool fixed_port = !absl::EndsWith(*listen, ":0");
      auto [it, inserted] = taken.emplace(*listen, field);
      if (!inserted && fixed_port) {
        Error(field, absl::StrFormat("\"%s\" is %s's address too", absl::CEscape(*listen),
                                     it->second));
      }
    }
  }

  // The TLS files must be readable PEM now; gRPC re-reads them while serving.
  void CheckTls(const ServerConfig& c) {
    const TlsConfig& tls = c.tls();
    const bool cert = !tls.cert_file().empty();
    const bool key = !tls.key_file().empty();
    if (cert && !key) {
      Error("tls.cert_file", "set without tls.key_file (set both or neither)");
    } else if (key && !cert) {
      Error("tls.key_file", "set without tls.cert_file (set both or neither)");
    }
    if (cert) CheckPemFile("tls.cert_file", tls.cert_file(), "CERTIFICATE");
    if (key) CheckPemFile("tls.key_file", tls.key_file(), "PRIVATE KEY");
    if (!tls.client_ca_file().empty()) {
      CheckPemFile("tls.client_ca_file", tls.client_ca_file(), "CERTIFICATE");
      if (!cert && !key) {
        Error("tls.client_ca_file",
              "needs tls.cert_file and tls.key_file (client certificates are checked only over "
              "TLS)");
      }
    }
    if (tls.require_client_cert() && tls.client_ca_file().empty()) {
      Error("tls.require_client_cert",
            "needs tls.client_ca_file (the CA bundle that signs client certificates)");
    }
    if (tls.reload_interval_ms() > kMaxTlsReloadIntervalMs) {
      Error("tls.reload_interval_ms",
            absl::StrFormat("%u exceeds %u (one day)", tls.reload_interval_ms(),
                            kMaxTlsReloadIntervalMs));
    }
  }

  // `label`: "CERTIFICATE" (a "-----BEGIN CERTIFICATE-----" block) or
  // "PRIVATE KEY" (any "-----BEGIN ... PRIVATE KEY-----" block).
  void CheckPemFile(const std::string& path, const std::string& file, absl::string_view label) {
    std::string data;
    if (const int err = ReadWholeFile(file, &data); err != 0) {
      Error(path,
            absl::StrFormat("cannot read \"%s\": %s", absl::CEscape(file), std::strerror(err)));
      return;
    }
    bool found = false;
    for (size_t at = data.find("-----BEGIN "); at != std::string::npos && !found;
         at = data.find("-----BEGIN ", at + 1)) {
      const size_t end = data.find("-----", at + 11);
      if (end == std::string::npos) break;
      absl::string_view kind = absl::string_view(data).substr(at + 11, end - at - 11);
      found = label == "CERTIFICATE"
                  ? kind == label
                  : absl::EndsWith(kind, label) && kind != "ENCRYPTED PRIVATE KEY";
    }
    if (!found) {
      Error(path,
            absl::StrFormat("\"%s\" holds no PEM %s", absl::CEscape(file),
                            label == "CERTIFICATE"
                                ? "certificate (-----BEGIN CERTIFICATE-----)"
                                : "private key (unencrypted, -----BEGIN ... PRIVATE KEY-----)"));
    }
  }

  // An AT command line a user may override: printable ASCII starting "AT".
  void CheckAtCommand(const std::string& cmd, const std::string& path) {
    bool printable = !cmd.empty() && cmd.size() <= kMaxModemCommand;
    for (char ch : cmd) printable &= (ch >= 0x20 && ch < 0x7f);
    if (!printable || !absl::StartsWithIgnoreCase(cmd, "AT")) {
      Error(path, absl::StrFormat("\"%s\" is not an AT command: want 1-%u printable ASCII "
                                  "characters starting with AT, no CR/LF",
                                  absl::CEscape(cmd), kMaxModemCommand));
    }
  }

  // 0 stands for the default (a config that skipped ApplyDefaults).
  void CheckStore(const v1::config::StoreConfig& store) {
    if (!store.has_postgres()) return;
    const v1::config::PostgresConfig& pg = store.postgres();
    if (pg.conninfo().empty()) {
      Error("store.postgres.conninfo", "must not be empty (a libpq connection string)");
    } else if (pg.conninfo().size() > 4096) {
      Error("store.postgres.conninfo", "at most 4096 characters");
    }
    if (!pg.password_file().empty() && !pg.password_env().empty()) {
      Error("store.postgres.password_env", "set password_file or password_env, not both");
    }
    if (pg.refresh_ms() != 0) {
      CheckRange(pg.refresh_ms(), 100, 600000, "store.postgres.refresh_ms");
    }
    if (pg.cache_ms() != 0) {
      const uint32_t refresh = pg.refresh_ms() != 0 ? pg.refresh_ms() : kDefaultStoreRefreshMs;
      CheckRange(pg.cache_ms(), refresh, 3600000, "store.postgres.cache_ms");
    }
    if (pg.spool_max_bytes() != 0 &&
        (pg.spool_max_bytes() < kMinStoreSpoolBytes || pg.spool_max_bytes() > kMaxStoreSpoolBytes)) {
      Error("store.postgres.spool_max_bytes",
            absl::StrFormat("%u out of range [%u, %u]", pg.spool_max_bytes(), kMinStoreSpoolBytes,
                            kMaxStoreSpoolBytes));
    }
  }

  void CheckRetention(const v1::config::RetentionConfig& r) {
    if (r.interval_ms() != 0) {
      CheckRange(r.interval_ms(), kMinRetentionIntervalMs, kMaxRetentionIntervalMs,
                 "retention.interval_ms");
    }
    for (const auto& [name, limits] :
         {std::pair<const char*, const v1::config::RetentionLimits*>{"call_records",
                                                                     &r.call_records()},
          {"audit", &r.audit()}}) {
      const std::string path = absl::StrCat("retention.", name);
      if (limits->max_age_days() != 0) {
        CheckRange(limits->max_age_days(), 1, kMaxRetentionAgeDays, path + ".max_age_days");
      }
      if (limits->max_rows() > kMaxRetentionRows) {
        Error(path + ".max_rows",
              absl::StrFormat("%u out of range [1, %u]", limits->max_rows(), kMaxRetentionRows));
      }
    }
  }

  void CheckRange(uint32_t value, uint32_t lo, uint32_t hi, const std::string& path) {
    if (value < lo || value > hi) {
      Error(path, absl::StrFormat("%u out of range [%u, %u]", value, lo, hi));
    }
  }

  void CheckModem(const ModemConfig& modem, const std::string& path,
                  std::set<std::string>* provider_names,
                  std::map<std::string, std::string>* devices) {
    if (!IsToken(modem.name(), 1, 32)) {
      Error(path + ".name", absl::StrFormat("invalid modem provider name \"%s\": want 1-32 of "
                                            "[a-z0-9_-]",
                                            absl::CEscape(modem.name())));
    } else if (!provider_names->insert(modem.name()).second) {
      Error(path + ".name", absl::StrFormat("duplicate provider name \"%s\"", modem.name()));
    }
    if (modem.ports_size() == 0) Error(path + ".ports", "a modem provider needs at least one port");
    std::set<std::string> names;
    for (int j = 0; j < modem.ports_size(); ++j) {
      const ModemPort& port = modem.ports(j);
      const std::string pp = absl::StrCat(path, ".ports[", j, "]");
      if (!IsToken(port.name(), 1, 32)) {
        Error(pp + ".name", absl::StrFormat("invalid port name \"%s\": want 1-32 of [a-z0-9_-]",
                                            absl::CEscape(port.name())));
      } else if (!names.insert(port.name()).second) {
        Error(pp + ".name", absl::StrFormat("duplicate port name \"%s\"", port.name()));
      }
      bool device_ok = absl::StartsWith(port.device(), "/") && port.device().size() <= 4096;
      for (char ch : port.device()) device_ok &= (ch >= 0x20 && ch != 0x7f);
      if (!device_ok) {
        Error(pp + ".device", absl::StrFormat("\"%s\" is not an absolute device path",
                                              absl::CEscape(port.device())));
      } else {
        // The same device under two paths (a symlink, /dev/pts/N) is one port.
        const auto [it, inserted] = devices->emplace(DeviceIdentity(port.device()), port.device());
        if (!inserted) {
          Error(pp + ".device",
                it->second == port.device()
                    ? absl::StrFormat("device \"%s\" is used by another port", port.device())
                    : absl::StrFormat("device \"%s\" is used by another port (as \"%s\")",
                                      port.device(), it->second));
        }
      }
      if (!v1::config::ModemProfileSetting_IsValid(port.profile())) {
        Error(pp + ".profile", absl::StrFormat("unknown profile %d", port.profile()));
      }
      if (std::find(std::begin(kModemBauds), std::end(kModemBauds), port.baud()) ==
          std::end(kModemBauds)) {
        Error(pp + ".baud", absl::StrFormat("unsupported speed %u (e.g. 9600, 57600, 115200)",
                                            port.baud()));
      }
      bool number_ok = port.number().size() <= 32;
      for (char ch : port.number()) {
        number_ok &= absl::ascii_isdigit(static_cast<unsigned char>(ch)) || ch == '*' ||
                     ch == '#' || ch == '+';
      }
      if (!number_ok) {
        Error(pp + ".number", absl::StrFormat("\"%s\" must be up to 32 of 0-9 * # +",
                                              absl::CEscape(port.number())));
      }
      CheckName(port.display_name(), pp + ".display_name");
      for (int k = 0; k < port.reset_size(); ++k) {
        CheckAtCommand(port.reset(k), absl::StrCat(pp, ".reset[", k, "]"));
      }
      for (int k = 0; k < port.init_size(); ++k) {
        CheckAtCommand(port.init(k), absl::StrCat(pp, ".init[", k, "]"));
      }
      for (int k = 0; k < port.answer_size(); ++k) {
        CheckAtCommand(port.answer(k), absl::StrCat(pp, ".answer[", k, "]"));
      }
      switch (port.incoming_media()) {
        case v1::MEDIA_MODE_UNSPECIFIED:
        case v1::MEDIA_MODE_INTERACTIVE_VOICE:
        case v1::MEDIA_MODE_AUTOMATED_VOICE:
        case v1::MEDIA_MODE_DATAMODEM:
        case v1::MEDIA_MODE_G3FAX:
          break;
        default:
          Error(pp + ".incoming_media",
                absl::StrFormat("%s is not a modem's media mode (voice, data or fax)",
                                v1::MediaMode_Name(port.incoming_media())));
      }
      if (!port.hangup().empty()) CheckAtCommand(port.hangup(), pp + ".hangup");
      if (!port.dial_prefix().empty()) CheckAtCommand(port.dial_prefix(), pp + ".dial_prefix");
      if (!port.dial_prefix().empty() &&
          (absl::StrContains(port.dial_prefix(), ";") ||
           !absl::StrContains(absl::AsciiStrToUpper(port.dial_prefix()), "D"))) {
        Error(pp + ".dial_prefix", absl::StrFormat("\"%s\" must contain the D command and no ';'",
                                                   absl::CEscape(port.dial_prefix())));
      }
      CheckRange(port.ring_timeout_ms(), 1000, 120000, pp + ".ring_timeout_ms");
      CheckRange(port.command_timeout_ms(), 100, 60000, pp + ".command_timeout_ms");
      CheckRange(port.connect_timeout_ms(), 1000, 600000, pp + ".connect_timeout_ms");
      CheckRange(port.retry_interval_ms(), 100, 3600000, pp + ".retry_interval_ms");
    }
  }

  // A provider kind whose rules live in the provider (provider_config_hooks.h).
  void CheckRegistered(const ProviderConfig& p, const std::string& path,
                       std::set<std::string>* provider_names) {
    const ProviderConfigHooks* hooks = FindProviderConfigHooks(p.kind_case());
    const pb::FieldDescriptor* field =
        ProviderConfig::descriptor()->FindFieldByNumber(static_cast<int>(p.kind_case()));
    const std::string kind_path = absl::StrCat(path, ".", field != nullptr ? field->name() : "?");
    if (hooks == nullptr || !hooks->validate) {
      Error(kind_path, "this provider kind is not built into this server");
      return;
    }
    const std::string name = hooks->validate(
        p, kind_path, [this](const std::string& at, absl::string_view what) { Error(at, what); });
    if (!name.empty() && !provider_names->insert(name).second) {
      Error(kind_path + ".name", absl::StrFormat("duplicate provider name \"%s\"", name));
    }
  }

  void CheckSim(const SimConfig& sim, const std::string& path, std::set<std::string>* sim_names) {
    if (!IsToken(sim.name(), 1, 32)) {
      Error(path + ".name", absl::StrFormat("invalid sim name \"%s\": want 1-32 of [a-z0-9_-]",
                                            absl::CEscape(sim.name())));
    } else if (!sim_names->insert(sim.name()).second) {
      Error(path + ".name", absl::StrFormat("duplicate sim name \"%s\"", sim.name()));
    }

    std::set<std::string> extensions;
    for (int j = 0; j < sim.extensions_size(); ++j) {
      const SimExtension& e = sim.extensions(j);
      const std::string epath = absl::StrCat(path, ".extensions[", j, "]");
      if (e.number().empty() || e.number().size() > 15 || !AllDigits(e.number())) {
        Error(epath + ".number", absl::StrFormat("extension number \"%s\" must be 1-15 digits",
                                                 absl::CEscape(e.number())));
      } else if (!extensions.insert(e.number()).second) {
        Error(epath + ".number", absl::StrFormat("duplicate extension \"%s\"", e.number()));
      }
      CheckName(e.name(), epath + ".name");
      if (e.max_calls() < 1 || e.max_calls() > kMaxSimMaxCalls) {
        Error(epath + ".max_calls",
              absl::StrFormat("%u out of range [1, %u]", e.max_calls(), kMaxSimMaxCalls));
      }
      if (!IsToken(e.pickup_group(), 0, 32)) {
        Error(epath + ".pickup_group",
              absl::StrFormat("invalid pickup group \"%s\": want 0-32 of [a-z0-9_-]",
                              absl::CEscape(e.pickup_group())));
      }
    }

    std::set<std::string> externals;
    for (int k = 0; k < sim.externals_size(); ++k) {
      const SimExternal& x = sim.externals(k);
      const std::string xpath = absl::StrCat(path, ".externals[", k, "]");
      if (x.number().empty() || x.number().size() > 20 || !AllDigits(x.number())) {
        Error(xpath + ".number", absl::StrFormat("external number \"%s\" must be 1-20 digits",
                                                 absl::CEscape(x.number())));
      } else if (!externals.insert(x.number()).second) {
        Error(xpath + ".number", absl::StrFormat("duplicate external number \"%s\"", x.number()));
      } else if (extensions.count(x.number()) > 0) {
        Error(xpath + ".number",
              absl::StrFormat("external number \"%s\" is also an extension", x.number()));
      }
      CheckName(x.name(), xpath + ".name");
      if (x.behavior() == v1::config::SIM_BEHAVIOR_UNSPECIFIED) {
        Error(xpath + ".behavior",
              "must be set (SIM_BEHAVIOR_ANSWER, _BUSY, _NO_ANSWER, _REJECT or _CONGESTION)");
      } else if (!v1::config::SimBehavior_IsValid(x.behavior())) {
        Error(xpath + ".behavior", absl::StrFormat("unknown behavior %d", x.behavior()));
      }
      if (!IsDtmf(x.send_digits())) {
        Error(xpath + ".send_digits",
              absl::StrFormat("\"%s\" may contain only 0-9 * # A-D",
                              absl::CEscape(x.send_digits())));
      }
    }

    const std::string& base = sim.park_orbit_base();
    uint64_t base_value = 0;
    if (base.empty() || base.size() > 10 || !AllDigits(base) ||
        !absl::SimpleAtoi(base, &base_value)) {
      Error(path + ".park_orbit_base",
            absl::StrFormat("\"%s\" must be 1-10 digits", absl::CEscape(base)));
    } else {
      std::set<std::string> orbits;
      for (uint32_t i = 0; i < kSimParkOrbits; ++i) {
        orbits.insert(absl::StrFormat("%0*d", static_cast<int>(base.size()), base_value + i));
      }
      const std::string first = absl::StrFormat("%0*d", static_cast<int>(base.size()), base_value);
      const std::string last = absl::StrFormat("%0*d", static_cast<int>(base.size()),
                                               base_value + kSimParkOrbits - 1);
      for (int j = 0; j < sim.extensions_size(); ++j) {
        if (orbits.count(sim.extensions(j).number()) > 0) {
          Error(path + ".park_orbit_base",
                absl::StrFormat("park orbits %s-%s include extension \"%s\" (extensions[%d])",
                                first, last, sim.extensions(j).number(), j));
        }
      }
    }

    if (sim.outside_prefix().size() > 4 || !AllDigits(sim.outside_prefix())) {
      Error(path + ".outside_prefix", absl::StrFormat("\"%s\" must be 0-4 digits",
                                                      absl::CEscape(sim.outside_prefix())));
    }
  }

  void CheckName(const std::string& name, const std::string& path) {
    if (name.size() > kMaxNameBytes) {
      Error(path, absl::StrFormat("name is %u bytes, at most %u", name.size(), kMaxNameBytes));
    }
  }

  const ParseLocations& locations_;
  std::vector<std::string> errors_;
};

SimExtension* AddExtension(SimConfig* sim, absl::string_view number, absl::string_view name) {
  SimExtension* e = sim->add_extensions();
  e->set_number(std::string(number));
  e->set_name(std::string(name));
  return e;
}

SimExternal* AddExternal(SimConfig* sim, absl::string_view number, absl::string_view name,
                         SimBehavior behavior, uint32_t delay_ms) {
  SimExternal* x = sim->add_externals();
  x->set_number(std::string(number));
  x->set_name(std::string(name));
  x->set_behavior(behavior);
  x->set_delay_ms(delay_ms);
  return x;
}

}  // namespace

const std::string* ParseLocations::OverrideOf(absl::string_view path) const {
  if (overrides_.empty()) return nullptr;
  for (;;) {
    if (auto it = overrides_.find(path); it != overrides_.end()) return &it->second;
    const size_t cut = path.find_last_of(".[");
    if (cut == absl::string_view::npos || cut == 0) return nullptr;
    path = path.substr(0, cut);
  }
}

std::string ParseLocations::Where(absl::string_view path) const {
  if (const std::string* source = OverrideOf(path); source != nullptr) {
    return absl::StrCat(*source, ":0");
  }
  return absl::StrCat(filename_, ":", LineOf(path));
}

int ParseLocations::LineOf(absl::string_view path) const {
  if (OverrideOf(path) != nullptr) return 0;
  for (;;) {
    if (auto it = lines_.find(path); it != lines_.end()) return it->second;
    // Strip the last component: ".name" or "[3]".
    const size_t cut = path.find_last_of(".[");
    if (cut == absl::string_view::npos || cut == 0) return 0;
    path = path.substr(0, cut);
  }
}

absl::Status ParseConfigTextRaw(absl::string_view text, absl::string_view filename,
                                ServerConfig* config, ParseLocations* locations) {
  config->Clear();
  ConfigErrorCollector errors(filename);
  pb::TextFormat::ParseInfoTree tree;
  pb::TextFormat::Parser parser;
  parser.RecordErrorsTo(&errors);
  parser.WriteLocationsTo(&tree);
  pb::io::ArrayInputStream input(text.data(), static_cast<int>(text.size()));
  if (!parser.Parse(&input, config) || !errors.errors().empty()) {
    if (errors.errors().empty()) {
      return absl::InvalidArgumentError(absl::StrCat(filename, ":0:0: cannot parse config"));
    }
    return absl::InvalidArgumentError(absl::StrJoin(errors.errors(), "\n"));
  }
  if (locations != nullptr) {
    *locations = ParseLocations(std::string(filename));
    CollectLocations(*config, tree, "", locations);
  }
  return absl::OkStatus();
}

absl::StatusOr<ServerConfig> ParseConfigText(absl::string_view text, absl::string_view filename) {
  ServerConfig config;
  ParseLocations locations;
  LB_RETURN_IF_ERROR(ParseConfigTextRaw(text, filename, &config, &locations));
  ApplyDefaults(&config);
  LB_RETURN_IF_ERROR(ValidateConfig(config, locations));
  return config;
}

absl::StatusOr<ServerConfig> LoadConfigFile(const std::string& path) {
  LB_ASSIGN_OR_RETURN(std::string text, ReadFile(path));
  return ParseConfigText(text, path);
}

absl::Status LoadConfigRaw(const std::string& path_or_empty, ServerConfig* config,
                           ParseLocations* locations) {
  config->Clear();
  if (path_or_empty.empty()) {
    *locations = ParseLocations(kDefaultsFilename);
    return absl::OkStatus();
  }
  LB_ASSIGN_OR_RETURN(std::string text, ReadFile(path_or_empty));
  return ParseConfigTextRaw(text, path_or_empty, config, locations);
}

absl::StatusOr<ServerConfig> LoadConfig(const std::string& path_or_empty) {
  if (!path_or_empty.empty()) return LoadConfigFile(path_or_empty);
  ServerConfig config;
  ApplyDefaults(&config);
  LB_RETURN_IF_ERROR(ValidateConfig(config, ParseLocations(kDefaultsFilename)));
  return config;
}

void ApplySimDefaults(SimConfig* sim) {
  if (sim->name().empty()) sim->set_name(kDefaultSimName);
  if (sim->ring_ms() == 0) sim->set_ring_ms(kDefaultSimRingMs);
  if (sim->default_no_answer_rings() == 0) {
    sim->set_default_no_answer_rings(kDefaultSimNoAnswerRings);
  }
  if (sim->park_orbit_base().empty()) sim->set_park_orbit_base(kDefaultSimParkOrbitBase);
  // A block that lists no extensions (or no externals) gets the embedded
  // PBX's, as documented; listing any replaces them all.
  if (sim->extensions().empty() || sim->externals().empty()) {
    const SimConfig defaults = DefaultSimConfig();
    if (sim->extensions().empty()) *sim->mutable_extensions() = defaults.extensions();
    if (sim->externals().empty()) *sim->mutable_externals() = defaults.externals();
  }
  for (SimExtension& e : *sim->mutable_extensions()) {
    if (e.max_calls() == 0) e.set_max_calls(kDefaultSimMaxCalls);
  }
}

void ApplyRetentionDefaults(v1::config::RetentionConfig* retention) {
  if (retention->interval_ms() == 0) retention->set_interval_ms(kDefaultRetentionIntervalMs);
  auto* records = retention->mutable_call_records();
  if (records->max_age_days() == 0) records->set_max_age_days(kDefaultRecordsMaxAgeDays);
  if (records->max_rows() == 0) records->set_max_rows(kDefaultRecordsMaxRows);
  auto* audit = retention->mutable_audit();
  if (audit->max_age_days() == 0) audit->set_max_age_days(kDefaultAuditMaxAgeDays);
  if (audit->max_rows() == 0) audit->set_max_rows(kDefaultAuditMaxRows);
}

void ApplyDefaults(ServerConfig* config) {
  if (config->listen().empty()) config->set_listen(kDefaultListen);
  if (config->data_dir().empty()) config->set_data_dir(kDefaultDataDir);
  if (config->journal_capacity() == 0) config->set_journal_capacity(kDefaultJournalCapacity);
  if (config->subscriber_queue_limit() == 0) {
    config->set_subscriber_queue_limit(
        std::min(kDefaultSubscriberQueueLimit, config->journal_capacity()));
  }
  if (config->max_batch() == 0) config->set_max_batch(kDefaultMaxBatch);
  if (config->session_grace_period_ms() == 0) {
    config->set_session_grace_period_ms(kDefaultSessionGracePeriodMs);
  }
  if (config->disconnected_linger_ms() == 0) {
    config->set_disconnected_linger_ms(kDefaultDisconnectedLingerMs);
  }
  if (config->has_tls() && config->tls().reload_interval_ms() == 0) {
    config->mutable_tls()->set_reload_interval_ms(kDefaultTlsReloadIntervalMs);
  }
  ApplyRetentionDefaults(config->mutable_retention());
  ApplyMediaDefaults(config->data_dir(), config->mutable_media());
  if (config->store().has_postgres()) {
    auto* pg = config->mutable_store()->mutable_postgres();
    if (pg->refresh_ms() == 0) pg->set_refresh_ms(kDefaultStoreRefreshMs);
    if (pg->cache_ms() == 0) pg->set_cache_ms(std::max(kDefaultStoreCacheMs, pg->refresh_ms()));
    if (pg->spool_max_bytes() == 0) pg->set_spool_max_bytes(kDefaultStoreSpoolBytes);
  }
  if (config->providers().empty()) {
    *config->add_providers()->mutable_sim() = DefaultSimConfig();
  }
  for (ProviderConfig& p : *config->mutable_providers()) {
    if (p.has_sim()) ApplySimDefaults(p.mutable_sim());
    if (p.has_modem()) ApplyModemDefaults(p.mutable_modem());
    if (const ProviderConfigHooks* hooks = FindProviderConfigHooks(p.kind_case());
        hooks != nullptr && hooks->apply_defaults) {
      hooks->apply_defaults(&p);
    }
  }
}

void ApplyModemDefaults(ModemConfig* modem) {
  if (modem->name().empty()) modem->set_name(kDefaultModemName);
  for (ModemPort& port : *modem->mutable_ports()) {
    if (port.baud() == 0) port.set_baud(kDefaultModemBaud);
    if (port.reset_size() == 0) port.add_reset("ATZ");
    if (port.answer_size() == 0) port.add_answer("ATA");
    if (port.ring_timeout_ms() == 0) port.set_ring_timeout_ms(kDefaultModemRingTimeoutMs);
    if (port.command_timeout_ms() == 0) port.set_command_timeout_ms(kDefaultModemCommandTimeoutMs);
    if (port.connect_timeout_ms() == 0) port.set_connect_timeout_ms(kDefaultModemConnectTimeoutMs);
    if (port.retry_interval_ms() == 0) port.set_retry_interval_ms(kDefaultModemRetryIntervalMs);
  }
}

SimConfig DefaultSimConfig() {
  SimConfig sim;
  sim.set_name(kDefaultSimName);
  static constexpr const char* kNames[] = {"Alice", "Bob",   "Carol", "Dave",
                                           "Erin",  "Frank", "Grace", "Heidi"};
  for (int i = 0; i < 8; ++i) {
    SimExtension* e = AddExtension(&sim, absl::StrCat(100 + i), kNames[i]);
    if (i < 4) e->set_pickup_group("sales");
  }
  AddExtension(&sim, "199", "Echo Desk")->set_auto_answer_ms(1);
  AddExternal(&sim, "5550100", "Weather Line", v1::config::SIM_BEHAVIOR_ANSWER, 0)
      ->set_media(v1::config::SIM_MEDIA_PROMPT);
  AddExternal(&sim, "5550101", "Busy Shop", v1::config::SIM_BEHAVIOR_BUSY, 0);
  AddExternal(&sim, "5550102", "Nobody Home", v1::config::SIM_BEHAVIOR_NO_ANSWER, 20000);
  AddExternal(&sim, "5550103", "Rejecting Desk", v1::config::SIM_BEHAVIOR_REJECT, 0);
  AddExternal(&sim, "5550104", "Overloaded Trunk", v1::config::SIM_BEHAVIOR_CONGESTION, 0);
  SimExternal* ivr = AddExternal(&sim, "5550105", "IVR", v1::config::SIM_BEHAVIOR_ANSWER, 500);
  ivr->set_send_digits("1#");
  ivr->set_media(v1::config::SIM_MEDIA_ECHO);
  ApplySimDefaults(&sim);
  return sim;
}

absl::Status ValidateConfig(const ServerConfig& config, const ParseLocations& locations) {
  Validator v(locations);
  v.CheckServer(config);
  return v.Result();
}

bool TlsEnabled(const ServerConfig& config) {
  return !config.tls().cert_file().empty() && !config.tls().key_file().empty();
}

bool IsLoopbackListen(absl::string_view listen) {
  absl::string_view host;
  absl::string_view port;
  if (!SplitHostPort(listen, &host, &port)) return false;
  if (absl::EqualsIgnoreCase(host, "localhost")) return true;
  const std::string h(host);
  in_addr v4{};
  if (::inet_pton(AF_INET, h.c_str(), &v4) == 1) return (ntohl(v4.s_addr) >> 24) == 127;
  in6_addr v6{};
  if (::inet_pton(AF_INET6, h.c_str(), &v6) == 1) {
    if (IN6_IS_ADDR_LOOPBACK(&v6)) return true;
    return IN6_IS_ADDR_V4MAPPED(&v6) && v6.s6_addr[12] == 127;
  }
  return false;
}

absl::Status CheckListenSecurity(const ServerConfig& config) {
  if (TlsEnabled(config) || config.allow_insecure_non_loopback() ||
      IsLoopbackListen(config.listen())) {
    return absl::OkStatus();
  }
  return absl::FailedPreconditionError(
      absl::StrCat("listen: ", PlaintextNonLoopbackReason(config.listen())));
}

bool InsecureNonLoopbackAllowed(const ServerConfig& config) {
  return !TlsEnabled(config) && config.allow_insecure_non_loopback() &&
         !IsLoopbackListen(config.listen());
}

std::string ConfigToText(const ServerConfig& config) {
  std::string out;
  pb::TextFormat::PrintToString(config, &out);
  return out;
}

}  // namespace linebridge
