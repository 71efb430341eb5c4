#include "tsp/tsp_config.h"

#include <algorithm>
#include <cstdlib>
#include <fstream>
#include <sstream>

#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
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
namespace {

absl::Status Error(const RawSetting& s, absl::string_view what) {
  return absl::InvalidArgumentError(absl::StrCat(s.where, ": ", s.key, ": ", what));
}

// The largest file a setting may name (a CA bundle is a few hundred KiB):
// a setting naming a device (/dev/zero) or a huge file fails instead of
// reading without end.
constexpr size_t kMaxSettingFileBytes = 4 << 20;

// Reads a whole file; NotFound/PermissionDenied-style message on failure.
absl::StatusOr<std::string> ReadAll(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return absl::NotFoundError(absl::StrCat("cannot read \"", path, "\""));
  std::string text;
  char buffer[8192];
  while (in.read(buffer, sizeof buffer) || in.gcount() > 0) {
    text.append(buffer, static_cast<size_t>(in.gcount()));
    if (text.size() > kMaxSettingFileBytes) {
      return absl::InvalidArgumentError(absl::StrCat(
          "\"", path, "\" is larger than ", kMaxSettingFileBytes >> 20, " MiB"));
    }
  }
  if (in.bad()) return absl::DataLossError(absl::StrCat("error reading \"", path, "\""));
  return text;
}

// A PEM file that must exist and hold `marker`.
absl::Status CheckPem(const RawSetting& s, absl::string_view marker) {
  absl::StatusOr<std::string> text = ReadAll(s.value);
  if (!text.ok()) return Error(s, text.status().message());
  if (!absl::StrContains(*text, marker)) {
    return Error(s, absl::StrCat("\"", s.value, "\" is not PEM (no \"", marker, "\")"));
  }
  return absl::OkStatus();
}

absl::StatusOr<bool> ParseBool(const RawSetting& s) {
  const std::string v = absl::AsciiStrToLower(s.value);
  if (v == "on" || v == "true" || v == "yes" || v == "1") return true;
  if (v == "off" || v == "false" || v == "no" || v == "0") return false;
  return Error(s, absl::StrCat("\"", s.value, "\" is not on/off"));
}

absl::StatusOr<std::string> ReadToken(const RawSetting& s) {
  absl::StatusOr<std::string> text = ReadAll(s.value);
  if (!text.ok()) return Error(s, text.status().message());
  absl::string_view token = absl::StripAsciiWhitespace(*text);
  if (token.empty()) return Error(s, absl::StrCat("\"", s.value, "\" is empty"));
  for (char c : token) {
    // An HTTP/2 header value: printable ASCII; a token is one word.
    if (c <= ' ' || c > '~') {
      return Error(s, absl::StrCat("\"", s.value,
                                   "\" must hold one token (printable ASCII, no spaces or "
                                   "line breaks)"));
    }
  }
  return std::string(token);
}

}  // namespace

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
  absl::string_view host = address;
  if (absl::ConsumePrefix(&host, "[")) {
    host = host.substr(0, host.find(']'));
  } else {
    const size_t colon = host.rfind(':');
    if (colon != absl::string_view::npos) host = host.substr(0, colon);
  }
  if (absl::EqualsIgnoreCase(host, "localhost") || host == "::1") return true;
  return absl::StartsWith(host, "127.") &&
         std::count(host.begin(), host.end(), '.') == 3;
}

absl::StatusOr<TspConfig> TspConfigFromSettings(const std::vector<RawSetting>& settings,
                                                absl::string_view source) {
  TspConfig config;
  config.source = std::string(source);
  absl::flat_hash_map<std::string, const RawSetting*> seen;
  const RawSetting* tls_on = nullptr;
  const RawSetting* tls_off = nullptr;
  const RawSetting* token = nullptr;
  for (const RawSetting& s : settings) {
    if (s.key != "server" && !seen.emplace(s.key, &s).second) {
      return Error(s, absl::StrCat("given twice (first at ", seen[s.key]->where, ")"));
    }
    if (s.value.empty()) return Error(s, "empty value");
    if (s.key == "server") {
      if (s.value.find(':') == std::string::npos || s.value.back() == ':') {
        return Error(s, absl::StrCat("\"", s.value, "\" is not host:port"));
      }
      config.servers.push_back(s.value);
    } else if (s.key == "device_map") {
      config.device_map = s.value;
    } else if (s.key == "client_name") {
      config.client_name = s.value;
    } else if (s.key == "deadline_ms") {
      uint32_t ms = 0;
      if (!absl::SimpleAtoi(s.value, &ms) || ms == 0 || ms > 600000) {
        return Error(s, absl::StrCat("\"", s.value, "\" is not 1..600000"));
      }
      config.deadline_ms = ms;
    } else if (s.key == "tls") {
      absl::StatusOr<bool> on = ParseBool(s);
      if (!on.ok()) return on.status();
      (*on ? tls_on : tls_off) = &s;
    } else if (s.key == "ca_file") {
      if (absl::Status st = CheckPem(s, "-----BEGIN CERTIFICATE"); !st.ok()) return st;
      config.ca_file = s.value;
    } else if (s.key == "cert_file") {
      if (absl::Status st = CheckPem(s, "-----BEGIN CERTIFICATE"); !st.ok()) return st;
      config.cert_file = s.value;
    } else if (s.key == "key_file") {
      if (absl::Status st = CheckPem(s, "PRIVATE KEY-----"); !st.ok()) return st;
      config.key_file = s.value;
    } else if (s.key == "server_name") {
      if (s.value.find_first_of(" :/\\") != std::string::npos) {
        return Error(s, absl::StrCat("\"", s.value, "\" is not a host name"));
      }
      config.server_name = s.value;
    } else if (s.key == "token_file") {
      absl::StatusOr<std::string> t = ReadToken(s);
      if (!t.ok()) return t.status();
      config.token_file = s.value;
      config.token = *std::move(t);
      token = &s;
    } else if (s.key == "log_file") {
      config.log_file = s.value;
    } else if (s.key == "log_level") {
      LogLevel level;
      if (!ParseLogLevel(s.value, &level)) {
        return Error(s, absl::StrCat("\"", s.value, "\" is not error, warning, info or debug"));
      }
      config.log_level = absl::AsciiStrToLower(s.value);
    } else if (s.key == "log_max_bytes") {
      uint64_t bytes = 0;
      if (!absl::SimpleAtoi(s.value, &bytes) || bytes < 4096 || bytes > (uint64_t{1} << 30)) {
        return Error(s, absl::StrCat("\"", s.value, "\" is not 4096..1073741824"));
      }
      config.log_max_bytes = bytes;
    } else if (s.key == "log_files") {
      uint32_t files = 0;
      if (!absl::SimpleAtoi(s.value, &files) || files == 0 || files > 20) {
        return Error(s, absl::StrCat("\"", s.value, "\" is not 1..20"));
      }
      config.log_files = files;
    } else if (s.key == "config_file") {
      return Error(s, "only valid in the registry (it names the file to read instead)");
    } else {
      return Error(s, "unknown setting");
    }
  }
  if (config.servers.empty()) {
    return absl::InvalidArgumentError(absl::StrCat(source, ": no `server` (host:port) given"));
  }
  if (config.cert_file.empty() != config.key_file.empty()) {
    const RawSetting* given = seen[config.cert_file.empty() ? "key_file" : "cert_file"];
    return Error(*given, absl::StrCat("needs ", config.cert_file.empty() ? "cert_file" : "key_file",
                                      " too (mutual TLS uses both)"));
  }
  const bool implied = !config.ca_file.empty() || !config.cert_file.empty() ||
                       !config.server_name.empty();
  if (tls_off != nullptr && implied) {
    return Error(*tls_off, "off, but ca_file/cert_file/key_file/server_name are set");
  }
  config.tls = tls_on != nullptr || implied;
  if (token != nullptr && !config.tls) {
    for (const std::string& server : config.servers) {
      if (!IsLoopbackAddress(server)) {
        return Error(*token, absl::StrCat("the token would be sent in plaintext to ", server,
                                          "; enable TLS (tls = on or ca_file)"));
      }
    }
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
