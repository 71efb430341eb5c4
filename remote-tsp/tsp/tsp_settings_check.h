// The remote TSP's settings checked and turned into a TspConfig: the one
// validation of the provider's settings, used by the provider (tsp_config.h,
// whichever the source: file or registry) and by its configuration dialog
// (remote-tsp/ui/, which links no Abseil or gRPC).
//
// Standard library only, like tsp_settings.h and tsp_registry.cc, so it
// compiles with the mingw-w64 cross compilers and MSVC without the rest of
// the provider.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "tsp/tsp_settings.h"

namespace linebridge::tsp {

enum class LogLevel { kError = 0, kWarning = 1, kInfo = 2, kDebug = 3 };

// "error", "warning" (or "warn"), "info", "debug", case-insensitive; false if none.
bool ParseLogLevelName(const std::string& text, LogLevel* level);

struct TspConfig {
  std::vector<std::string> servers;
  std::string device_map;  // empty: in memory only
  std::string client_name = "linebridge-tsp";
  uint32_t deadline_ms = 3000;

  // Client-side security, the same for every server.
  bool tls = false;         // `tls = on`, or implied by a TLS file / server_name
  std::string ca_file;      // PEM roots; empty: the system roots
  std::string cert_file;    // client certificate chain (mutual TLS)
  std::string key_file;     // its private key
  std::string server_name;  // certificate name override
  std::string token_file;   // where `token` was read from
  std::string token;        // bearer token (read from token_file at load time)

  // The log (tsp_log.h).
  std::string log_file;  // empty: stderr
  std::string log_level = "warning";
  uint64_t log_max_bytes = 1 << 20;
  uint32_t log_files = 3;

  std::string source;  // the file or registry key it came from
};

// Validates settings from any source (`source` names it in errors about what
// is missing). Files named by ca_file/cert_file/key_file must be readable
// PEM; token_file is read here (one line, printable, no spaces). A token is
// refused over plaintext to a server that is not on loopback. On failure
// returns false with `error` = "<where>: <key>: <what>" (or "<source>: ...").
bool CheckTspSettings(const std::vector<RawSetting>& settings, const std::string& source,
                      TspConfig* config, std::string* error);

// Whether `address` ("host:port") names a loopback host (127.0.0.0/8, ::1,
// localhost).
bool IsLoopbackHost(const std::string& address);

}  // namespace linebridge::tsp
