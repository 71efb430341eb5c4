// The remote TSP's configuration file (named by LINEBRIDGE_TSP_CONFIG, default
// ./linebridge-tsp.conf):
//
//   # comment
//   server = 127.0.0.1:50051     (repeatable; at least one)
//   device_map = /var/lib/linebridge/devices.map
//   client_name = tapisrv
//   deadline_ms = 3000
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace linebridge::tsp {

struct TspConfig {
  std::vector<std::string> servers;
  std::string device_map;  // empty: in memory only
  std::string client_name = "linebridge-tsp";
  uint32_t deadline_ms = 3000;
};

inline constexpr char kTspConfigEnv[] = "LINEBRIDGE_TSP_CONFIG";
inline constexpr char kTspConfigDefault[] = "./linebridge-tsp.conf";

// Parses `text` (errors name `file` and the line number).
absl::StatusOr<TspConfig> ParseTspConfig(absl::string_view text, absl::string_view file);
// Reads the file named by $LINEBRIDGE_TSP_CONFIG (or the default).
absl::StatusOr<TspConfig> LoadTspConfig();

}  // namespace linebridge::tsp
