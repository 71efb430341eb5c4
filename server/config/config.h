// The linebridged configuration file: protobuf text format of
// linebridge.v1.config.ServerConfig (proto/linebridge/v1/config.proto).
//
// Loading is parse -> ApplyDefaults -> ValidateConfig. Validation also reads
// the TLS files the config names (they must be readable PEM at load time).
// Every error names its place in the file:
//   syntax / unknown field:  "<file>:<line>:<column>: <what>"      (InvalidArgument)
//   semantic:                "<file>:<line>: <field path>: <what>"  (InvalidArgument)
// e.g. `lb.conf:12: providers[0].sim.extensions[3].number: duplicate extension "101"`.
// Lines and columns are 1-based; a field that is not in the file (it was given
// a default) reports the line of its nearest enclosing message in the file, or
// 0. Several semantic errors are reported together, one per line of the message.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <utility>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "linebridge/v1/config.pb.h"

namespace linebridge {

// Where the fields of a parsed config file came from: field path -> 1-based
// line. Paths look like "listen", "providers[0]", "providers[0].sim",
// "providers[0].sim.extensions[3].number".
class ParseLocations {
 public:
  // No file (built-in defaults): every line is 0, the file is "<defaults>".
  ParseLocations() = default;
  explicit ParseLocations(std::string filename) : filename_(std::move(filename)) {}

  const std::string& filename() const { return filename_; }

  // Records `line` (1-based) for `path`.
  void Set(std::string path, int line) { lines_[std::move(path)] = line; }

  // Marks `path` (and every field under it) as set elsewhere than in the file,
  // e.g. by a command-line flag: errors about it then read
  // "<source>:0: <path>: ..." (the daemon uses source "flags").
  void SetOverride(std::string path, std::string source) {
    overrides_[std::move(path)] = std::move(source);
  }

  // The line of `path`, else of its nearest enclosing message that has one,
  // else 0. 0 for an overridden path.
  int LineOf(absl::string_view path) const;

  // "<file>:<line>" of `path` for error messages ("<source>:0" if overridden).
  std::string Where(absl::string_view path) const;

  bool empty() const { return lines_.empty(); }

 private:
  // The override source of `path` or of an enclosing field, else nullptr.
  const std::string* OverrideOf(absl::string_view path) const;

  std::string filename_ = "<defaults>";
  std::map<std::string, int, std::less<>> lines_;
  std::map<std::string, std::string, std::less<>> overrides_;
};

// Parses `text` (textproto of ServerConfig) without defaults or validation.
// `filename` is used in error messages only. `locations` may be null.
absl::Status ParseConfigTextRaw(absl::string_view text, absl::string_view filename,
                                v1::config::ServerConfig* config, ParseLocations* locations);

// Parse + ApplyDefaults + ValidateConfig.
absl::StatusOr<v1::config::ServerConfig> ParseConfigText(absl::string_view text,
                                                         absl::string_view filename);

// Reads `path` and runs ParseConfigText on it. A file that cannot be read gives
// NotFound / PermissionDenied / ... with the path and strerror.
absl::StatusOr<v1::config::ServerConfig> LoadConfigFile(const std::string& path);

// LoadConfigFile(path), or for an empty path the built-in defaults (with
// DefaultSimConfig()), validated.
absl::StatusOr<v1::config::ServerConfig> LoadConfig(const std::string& path_or_empty);

// Reads and parses `path_or_empty` into `config` and `locations` without
// defaults or validation (an empty path gives an empty config and
// ParseLocations("<defaults>")). For callers that override fields (flags)
// before ApplyDefaults + ValidateConfig.
absl::Status LoadConfigRaw(const std::string& path_or_empty, v1::config::ServerConfig* config,
                           ParseLocations* locations);

// Default values (config.proto). Only fields that are unset (zero / empty) are
// filled. Empty `providers` becomes one sim provider with DefaultSimConfig().
inline constexpr char kDefaultListen[] = "127.0.0.1:50051";
inline constexpr char kDefaultDataDir[] = "./linebridge-data";
inline constexpr uint32_t kDefaultJournalCapacity = 65536;
inline constexpr uint32_t kDefaultSubscriberQueueLimit = 16384;  // capped at journal_capacity
inline constexpr uint32_t kDefaultMaxBatch = 256;
inline constexpr uint32_t kDefaultSessionGracePeriodMs = 30000;
inline constexpr uint32_t kDefaultDisconnectedLingerMs = 5000;
inline constexpr char kDefaultSimName[] = "sim";
inline constexpr uint32_t kDefaultSimRingMs = 4000;
inline constexpr uint32_t kDefaultSimNoAnswerRings = 3;
inline constexpr char kDefaultSimParkOrbitBase[] = "700";
inline constexpr uint32_t kDefaultSimMaxCalls = 4;
inline constexpr uint32_t kSimParkOrbits = 100;  // orbits base .. base+99
inline constexpr uint32_t kDefaultTlsReloadIntervalMs = 60000;  // only when `tls` is present
inline constexpr uint32_t kMaxTlsReloadIntervalMs = 86400000;   // one day

// Retention (docs/configuration.md#durability-and-retention). Call records
// are kept a year (a billing and dispute cycle) up to 10 M rows (about 3 GB);
// the audit log 90 days up to 1 M rows (a refusal flood cannot fill the disk).
inline constexpr uint32_t kDefaultRetentionIntervalMs = 60000;
inline constexpr uint32_t kDefaultStoreRefreshMs = 5000;   // store.postgres.refresh_ms
inline constexpr uint32_t kDefaultStoreCacheMs = 30000;    // store.postgres.cache_ms
// store.postgres.spool_max_bytes: each spool file (call records, audit).
// 64 MiB holds some 200,000 call records.
inline constexpr uint64_t kDefaultStoreSpoolBytes = uint64_t{64} << 20;
inline constexpr uint64_t kMinStoreSpoolBytes = uint64_t{64} << 10;
inline constexpr uint64_t kMaxStoreSpoolBytes = uint64_t{1} << 40;
inline constexpr uint32_t kMinRetentionIntervalMs = 100;
inline constexpr uint32_t kMaxRetentionIntervalMs = 86400000;
inline constexpr uint32_t kDefaultRecordsMaxAgeDays = 365;
inline constexpr uint64_t kDefaultRecordsMaxRows = 10000000;
inline constexpr uint32_t kDefaultAuditMaxAgeDays = 90;
inline constexpr uint64_t kDefaultAuditMaxRows = 1000000;
inline constexpr uint32_t kMaxRetentionAgeDays = 36500;
inline constexpr uint64_t kMaxRetentionRows = 1000000000;

void ApplyDefaults(v1::config::ServerConfig* config);
void ApplyRetentionDefaults(v1::config::RetentionConfig* retention);
void ApplySimDefaults(v1::config::SimConfig* sim);

// Modem provider defaults (config.proto, docs/modems.md). The provider applies
// the same values to a config that did not come through ApplyDefaults.
inline constexpr char kDefaultModemName[] = "modem";
inline constexpr uint32_t kDefaultModemBaud = 115200;
inline constexpr uint32_t kDefaultModemRingTimeoutMs = 8000;
inline constexpr uint32_t kDefaultModemCommandTimeoutMs = 3000;
inline constexpr uint32_t kDefaultModemConnectTimeoutMs = 60000;
inline constexpr uint32_t kDefaultModemRetryIntervalMs = 2000;
void ApplyModemDefaults(v1::config::ModemConfig* modem);

// The embedded demo PBX (defaults applied): extensions 100-107 (Alice .. Heidi,
// ring until answered; 100-103 in pickup group "sales"), 199 "Echo Desk"
// (auto-answers after 1 ms), and externals 5550100 "Weather Line" (answers at
// once), 5550101 "Busy Shop" (busy), 5550102 "Nobody Home" (no answer after
// 20 s), 5550103 "Rejecting Desk" (reject), 5550104 "Overloaded Trunk"
// (congestion), 5550105 "IVR" (answers after 500 ms, sends "1#").
v1::config::SimConfig DefaultSimConfig();

// Semantic checks of a config that had ApplyDefaults; see the file comment for
// the message format. Returns OK or InvalidArgument listing every problem.
absl::Status ValidateConfig(const v1::config::ServerConfig& config,
                            const ParseLocations& locations);

// --- Transport security -------------------------------------------------------

// Whether `config` serves TLS (tls.cert_file and tls.key_file are set).
bool TlsEnabled(const v1::config::ServerConfig& config);

// Whether the host of `listen` ("host:port", "[v6]:port") is loopback:
// 127.0.0.0/8, ::1 (also ::ffff:127.x.y.z) or "localhost". 0.0.0.0, [::],
// other names and unparseable addresses are not.
// Splits "host:port" / "[v6]:port". False if it has neither shape.
bool SplitHostPort(absl::string_view listen, absl::string_view* host, absl::string_view* port);
bool IsLoopbackListen(absl::string_view listen);

// The loopback rule: a plaintext listener (no TLS) on a non-loopback address
// is refused unless allow_insecure_non_loopback is set. FailedPrecondition
// "listen: <why>" naming `listen` and `allow_insecure_non_loopback`, else OK.
// ValidateConfig applies it too (as "<file>:<line>: listen: <why>"); the server
// checks again at start (defence in depth).
absl::Status CheckListenSecurity(const v1::config::ServerConfig& config);

// Whether `config` serves plaintext on a non-loopback address because
// allow_insecure_non_loopback allows it (the server then logs a warning).
bool InsecureNonLoopbackAllowed(const v1::config::ServerConfig& config);

// Text format of `config` (for --print_config); ParseConfigText reads it back.
std::string ConfigToText(const v1::config::ServerConfig& config);

}  // namespace linebridge
