#include "tsp/tsp_config.h"

#include <cstdlib>
#include <fstream>
#include <sstream>

#include "absl/status/status.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"

namespace linebridge::tsp {

absl::StatusOr<TspConfig> ParseTspConfig(absl::string_view text, absl::string_view file) {
  TspConfig config;
  int number = 0;
  for (absl::string_view raw : absl::StrSplit(text, '\n')) {
    ++number;
    absl::string_view line = absl::StripAsciiWhitespace(raw);
    if (line.empty() || line[0] == '#') continue;
    auto error = [&](absl::string_view what) {
      return absl::InvalidArgumentError(absl::StrCat(file, ":", number, ": ", what));
    };
    const size_t eq = line.find('=');
    if (eq == absl::string_view::npos) return error("expected `key = value`");
    absl::string_view key = absl::StripAsciiWhitespace(line.substr(0, eq));
    absl::string_view value = absl::StripAsciiWhitespace(line.substr(eq + 1));
    if (value.empty()) return error(absl::StrCat("empty value for `", key, "`"));
    if (key == "server") {
      if (value.find(':') == absl::string_view::npos) {
        return error(absl::StrCat("server \"", value, "\" is not host:port"));
      }
      config.servers.emplace_back(value);
    } else if (key == "device_map") {
      config.device_map = std::string(value);
    } else if (key == "client_name") {
      config.client_name = std::string(value);
    } else if (key == "deadline_ms") {
      uint32_t ms = 0;
      if (!absl::SimpleAtoi(value, &ms) || ms == 0 || ms > 600000) {
        return error(absl::StrCat("deadline_ms \"", value, "\" is not 1..600000"));
      }
      config.deadline_ms = ms;
    } else {
      return error(absl::StrCat("unknown key `", key, "`"));
    }
  }
  if (config.servers.empty()) {
    return absl::InvalidArgumentError(absl::StrCat(file, ": no `server = host:port` line"));
  }
  return config;
}

absl::StatusOr<TspConfig> LoadTspConfig() {
  const char* env = std::getenv(kTspConfigEnv);
  const std::string path = env != nullptr && *env != '\0' ? env : kTspConfigDefault;
  std::ifstream in(path);
  if (!in) return absl::NotFoundError(absl::StrCat(path, ": cannot open the TSP configuration"));
  std::stringstream text;
  text << in.rdbuf();
  return ParseTspConfig(text.str(), path);
}

}  // namespace linebridge::tsp
