#include "config/server_identity.h"

#include <sys/stat.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <sstream>

#include "absl/random/random.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/strip.h"

namespace linebridge {

bool IsServerId(absl::string_view id) {
  if (id.empty() || id.size() > 64) return false;
  for (char c : id) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    c == '.' || c == '_' || c == '-';
    if (!ok) return false;
  }
  return true;
}

std::string ServerIdPath(const std::string& data_dir) { return data_dir + "/server-id"; }

absl::StatusOr<std::string> ResolveServerId(const v1::config::ServerConfig& config) {
  if (!config.server_id().empty()) {
    if (!IsServerId(config.server_id())) {
      return absl::InvalidArgumentError(
          absl::StrCat("server_id \"", config.server_id(), "\": want 1-64 of [A-Za-z0-9._-]"));
    }
    return config.server_id();
  }
  const std::string path = ServerIdPath(config.data_dir());
  {
    std::ifstream in(path);
    if (in) {
      std::stringstream text;
      text << in.rdbuf();
      const std::string id(absl::StripAsciiWhitespace(text.str()));
      if (!IsServerId(id)) {
        return absl::DataLossError(
            absl::StrCat(path, ": not a server id (want 1-64 of [A-Za-z0-9._-])"));
      }
      return id;
    }
    if (errno != ENOENT) {
      return absl::PermissionDeniedError(absl::StrCat(path, ": ", std::strerror(errno)));
    }
  }
  absl::BitGen gen;
  const std::string id = absl::StrFormat("lb-%016x", absl::Uniform<uint64_t>(gen));
  ::mkdir(config.data_dir().c_str(), 0750);  // may exist; a failure shows below
  const std::string tmp = path + ".tmp";
  {
    std::ofstream out(tmp, std::ios::trunc);
    out << id << "\n";
    out.flush();
    if (!out) return absl::PermissionDeniedError(absl::StrCat(tmp, ": cannot write"));
  }
  if (std::rename(tmp.c_str(), path.c_str()) != 0) {
    return absl::PermissionDeniedError(absl::StrCat(path, ": ", std::strerror(errno)));
  }
  return id;
}

}  // namespace linebridge
