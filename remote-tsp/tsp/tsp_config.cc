#include "tsp/tsp_config.h"

#include <cstdlib>
#include <fstream>
#include <sstream>

#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "tsp/tsp_log.h"

#ifdef _WIN32
#ifndef NOMINMAX
#define NOMINMAX
#endif
#include <windows.h>
#endif

namespace linebridge::tsp {

void ConfigureLog(const TspConfig& config) {
  LogSettings settings;
  settings.file = config.log_file;
  (void)ParseLogLevel(config.log_level, &settings.level);  // validated when loaded
  settings.max_bytes = config.log_max_bytes;
  settings.files = config.log_files;
  settings.secret = config.token;
  TspLog::Instance().Configure(std::move(settings));
}

bool IsLoopbackAddress(absl::string_view address) {
  return IsLoopbackHost(std::string(address));
}

absl::StatusOr<TspConfig> TspConfigFromSettings(const std::vector<RawSetting>& settings,
                                                absl::string_view source) {
  TspConfig config;
  std::string error;
  if (!CheckTspSettings(settings, std::string(source), &config, &error)) {
    return absl::InvalidArgumentError(error);
  }
  return config;
}

absl::StatusOr<TspConfig> ParseTspConfig(absl::string_view text, absl::string_view file) {
  std::vector<RawSetting> settings;
  int number = 0;
  for (absl::string_view raw : absl::StrSplit(text, '\n')) {
    ++number;
    absl::string_view line = absl::StripAsciiWhitespace(raw);
    if (number == 1) absl::ConsumePrefix(&line, "\xEF\xBB\xBF");  // UTF-8 BOM (Notepad)
    if (line.empty() || line[0] == '#') continue;
    const std::string where = absl::StrCat(file, ":", number);
    const size_t eq = line.find('=');
    if (eq == absl::string_view::npos) {
      return absl::InvalidArgumentError(absl::StrCat(where, ": expected `key = value`"));
    }
    RawSetting s;
    s.key = absl::AsciiStrToLower(absl::StripAsciiWhitespace(line.substr(0, eq)));
    s.value = std::string(absl::StripAsciiWhitespace(line.substr(eq + 1)));
    s.where = where;
    if (s.value.empty()) {
      return absl::InvalidArgumentError(absl::StrCat(where, ": empty value for `", s.key, "`"));
    }
    settings.push_back(std::move(s));
  }
  return TspConfigFromSettings(settings, file);
}

absl::StatusOr<TspConfig> LoadTspConfigFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return absl::NotFoundError(absl::StrCat(path, ": cannot open the TSP configuration"));
  std::stringstream text;
  text << in.rdbuf();
  return ParseTspConfig(text.str(), path);
}

#ifdef _WIN32
namespace {
std::string ExpandDefault(const char* text) {
  char buffer[MAX_PATH * 2] = {};
  const DWORD n = ExpandEnvironmentStringsA(text, buffer, sizeof buffer);
  return n > 0 && n <= sizeof buffer ? std::string(buffer) : std::string(text);
}
}  // namespace
#endif

absl::StatusOr<TspConfig> SelectTspConfig(const char* env, const RegistryRead* registry,
                                          const std::string& default_path) {
  if (env != nullptr && *env != '\0') return LoadTspConfigFile(env);
  if (registry != nullptr && !registry->error.empty()) {
    return absl::InvalidArgumentError(registry->error);
  }
  if (registry != nullptr && registry->exists) {
    for (const RawSetting& s : registry->settings) {
      if (s.key != "config_file") continue;
      if (registry->settings.size() != 1) {
        return absl::InvalidArgumentError(absl::StrCat(
            s.where, ": config_file names a file to read instead; remove the other values"));
      }
      return LoadTspConfigFile(s.value);
    }
    return TspConfigFromSettings(registry->settings, kTspRegistryKeyDisplay);
  }
  return LoadTspConfigFile(default_path);
}

absl::StatusOr<TspConfig> LoadTspConfig() {
  const char* env = std::getenv(kTspConfigEnv);
#ifdef _WIN32
  RegistryRead registry;
  if (env == nullptr || *env == '\0') {
    registry.exists = ReadRegistrySettings(&registry.settings, &registry.error);
  }
  return SelectTspConfig(env, &registry, ExpandDefault(kTspConfigDefault));
#else
  return SelectTspConfig(env, nullptr, kTspConfigDefault);
#endif
}

}  // namespace linebridge::tsp
