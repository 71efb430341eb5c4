// The server's identity: a stable id that clients merging several servers
// (the remote TSP, the SDK) put in every line's key, so that two servers with
// the same line ids ("sim/100") never merge. Configured (`server_id`), or
// generated once and kept in `<data_dir>/server-id`.
#pragma once

#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "linebridge/v1/config.pb.h"

namespace linebridge {

// 1-64 of [A-Za-z0-9._-].
bool IsServerId(absl::string_view id);

// The file in `data_dir` that keeps a generated id.
std::string ServerIdPath(const std::string& data_dir);

// `config.server_id()` if set; else the id kept in the data directory; else a
// new random one ("lb-" and 16 hex digits), written there (atomically) so it
// survives restarts. An unreadable or invalid file is an error naming it.
absl::StatusOr<std::string> ResolveServerId(const v1::config::ServerConfig& config);

}  // namespace linebridge
