// The remote TSP's configuration.
//
// Sources, first match wins (docs/remote-tsp.md "Configuration"):
//  1. the file named by $LINEBRIDGE_TSP_CONFIG, if set;
//  2. Windows: the registry key HKLM\SOFTWARE\linebridge\TSP, if it exists
//     (its `config_file` value, if present, names a file to read instead);
//  3. the default file: ./linebridge-tsp.conf (Windows:
//     %ProgramData%\linebridge\linebridge-tsp.conf).
//
// File syntax, one setting per line (registry: one value per key, same names):
//
//   # comment
//   server = pbx.example.com:50051   (repeatable / REG_MULTI_SZ; at least one)
//   device_map = /var/lib/linebridge/devices.map
//   client_name = tapisrv
//   deadline_ms = 3000
//   # Client-side security; applies to every server.
//   tls = on                          (implied by any of the next four)
//   ca_file = /etc/linebridge/ca.pem  (empty/absent: the system roots)
//   cert_file = client.pem            (mutual TLS; with key_file)
//   key_file = client.key
//   server_name = pbx.example.com     (name checked in the server's certificate)
//   token_file = /etc/linebridge/tsp.token  (sent as "authorization: Bearer <token>")
//   # The provider's log (tsp_log.h); without log_file it goes to stderr.
//   log_file = C:\ProgramData\linebridge\tsp.log
//   log_level = warning               (error, warning, info, debug)
//   log_max_bytes = 1048576           (rotate past this size; 4096..1073741824)
//   log_files = 3                     (rotated files kept: 1..20)
//
// Errors name the source and line (file) or value (registry).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "tsp/tsp_settings.h"
#include "tsp/tsp_settings_check.h"

namespace linebridge::tsp {

// TspConfig: tsp_settings_check.h (the validation the configuration dialog
// shares).

inline constexpr char kTspConfigEnv[] = "LINEBRIDGE_TSP_CONFIG";
#ifdef _WIN32
inline constexpr char kTspConfigDefault[] = "%ProgramData%\\linebridge\\linebridge-tsp.conf";
#else
inline constexpr char kTspConfigDefault[] = "./linebridge-tsp.conf";
#endif

// Validates settings from either source (`source` names it in errors about
// what is missing): CheckTspSettings (tsp_settings_check.h), errors as
// InvalidArgument.
absl::StatusOr<TspConfig> TspConfigFromSettings(const std::vector<RawSetting>& settings,
                                                absl::string_view source);

// Splits a configuration file's text into settings (errors name `file` and
// the line) and validates them.
absl::StatusOr<TspConfig> ParseTspConfig(absl::string_view text, absl::string_view file);
// Reads the file `path`.
absl::StatusOr<TspConfig> LoadTspConfigFile(const std::string& path);
// What the registry gave (Windows): `exists` false when the key is absent;
// `error` set when it exists but could not be read.
struct RegistryRead {
  bool exists = false;
  std::vector<RawSetting> settings;
  std::string error;
};
// The choice among the sources above, given what was found: `env` (the
// variable's value or nullptr), `registry` (nullptr where there is none, i.e.
// not Windows) and the default file. Portable, so it is tested on Linux.
absl::StatusOr<TspConfig> SelectTspConfig(const char* env, const RegistryRead* registry,
                                          const std::string& default_path);
// Reads the configuration from the sources above.
absl::StatusOr<TspConfig> LoadTspConfig();

// Applies the log settings of `config` to TspLog (tsp_log.h); the bearer
// token is scrubbed from every line.
void ConfigureLog(const TspConfig& config);

// Whether `address` ("host:port") names a loopback host (127.0.0.0/8, ::1,
// localhost).
bool IsLoopbackAddress(absl::string_view address);

}  // namespace linebridge::tsp
