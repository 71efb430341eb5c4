#include "tsp/tsp_settings_check.h"

#include <algorithm>
#include <cctype>
#include <fstream>
#include <map>

namespace linebridge::tsp {
namespace {

std::string Lower(const std::string& s) {
  std::string out = s;
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

bool Fail(const RawSetting& s, const std::string& what, std::string* error) {
  *error = s.where + ": " + s.key + ": " + what;
  return false;
}

// Decimal digits (an optional leading '+'), no overflow past `max`.
bool ParseUnsigned(const std::string& text, uint64_t max, uint64_t* out) {
  size_t i = text.empty() || text[0] != '+' ? 0 : 1;
  if (i == text.size()) return false;
  uint64_t v = 0;
  for (; i < text.size(); ++i) {
    if (text[i] < '0' || text[i] > '9') return false;
    const uint64_t digit = static_cast<uint64_t>(text[i] - '0');
    if (v > (max - digit) / 10) return false;
    v = v * 10 + digit;
  }
  *out = v;
  return true;
}

// The largest file a setting may name (a CA bundle is a few hundred KiB):
// a setting naming a device (/dev/zero) or a huge file fails instead of
// reading without end.
constexpr size_t kMaxSettingFileBytes = 4 << 20;

// Reads a whole file; false with a message on failure.
bool ReadAll(const std::string& path, std::string* text, std::string* error) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    *error = "cannot read \"" + path + "\"";
    return false;
  }
  char buffer[8192];
  while (in.read(buffer, sizeof buffer) || in.gcount() > 0) {
    text->append(buffer, static_cast<size_t>(in.gcount()));
    if (text->size() > kMaxSettingFileBytes) {
      *error = "\"" + path + "\" is larger than " + std::to_string(kMaxSettingFileBytes >> 20) +
               " MiB";
      return false;
    }
  }
  if (in.bad()) {
    *error = "error reading \"" + path + "\"";
    return false;
  }
  return true;
}

// A PEM file that must exist and hold `marker`.
bool CheckPem(const RawSetting& s, const std::string& marker, std::string* error) {
  std::string text, why;
  if (!ReadAll(s.value, &text, &why)) return Fail(s, why, error);
  if (text.find(marker) == std::string::npos) {
    return Fail(s, "\"" + s.value + "\" is not PEM (no \"" + marker + "\")", error);
  }
  return true;
}

bool ParseBool(const RawSetting& s, bool* on, std::string* error) {
  const std::string v = Lower(s.value);
  if (v == "on" || v == "true" || v == "yes" || v == "1") {
    *on = true;
    return true;
  }
  if (v == "off" || v == "false" || v == "no" || v == "0") {
    *on = false;
    return true;
  }
  return Fail(s, "\"" + s.value + "\" is not on/off", error);
}

bool ReadToken(const RawSetting& s, std::string* token, std::string* error) {
  std::string text, why;
  if (!ReadAll(s.value, &text, &why)) return Fail(s, why, error);
  size_t b = 0, e = text.size();
  while (b < e && std::isspace(static_cast<unsigned char>(text[b]))) ++b;
  while (e > b && std::isspace(static_cast<unsigned char>(text[e - 1]))) --e;
  if (b == e) return Fail(s, "\"" + s.value + "\" is empty", error);
  for (size_t i = b; i < e; ++i) {
    // An HTTP/2 header value: printable ASCII; a token is one word.
    if (text[i] <= ' ' || text[i] > '~') {
      return Fail(s, "\"" + s.value +
                         "\" must hold one token (printable ASCII, no spaces or line breaks)",
                  error);
    }
  }
  *token = text.substr(b, e - b);
  return true;
}

}  // namespace

bool ParseLogLevelName(const std::string& text, LogLevel* level) {
  const std::string v = Lower(text);
  if (v == "error") *level = LogLevel::kError;
  else if (v == "warning" || v == "warn") *level = LogLevel::kWarning;
  else if (v == "info") *level = LogLevel::kInfo;
  else if (v == "debug") *level = LogLevel::kDebug;
  else return false;
  return true;
}

bool IsLoopbackHost(const std::string& address) {
  std::string host = address;
  if (!host.empty() && host[0] == '[') {
    host = host.substr(1, host.find(']') == std::string::npos ? std::string::npos
                                                              : host.find(']') - 1);
  } else {
    const size_t colon = host.rfind(':');
    if (colon != std::string::npos) host = host.substr(0, colon);
  }
  if (Lower(host) == "localhost" || host == "::1") return true;
  return host.compare(0, 4, "127.") == 0 && std::count(host.begin(), host.end(), '.') == 3;
}

bool CheckTspSettings(const std::vector<RawSetting>& settings, const std::string& source,
                      TspConfig* out, std::string* error) {
  TspConfig config;
  config.source = source;
  std::map<std::string, const RawSetting*> seen;
  const RawSetting* tls_on = nullptr;
  const RawSetting* tls_off = nullptr;
  const RawSetting* token = nullptr;
  for (const RawSetting& s : settings) {
    if (s.key != "server" && !seen.emplace(s.key, &s).second) {
      return Fail(s, "given twice (first at " + seen[s.key]->where + ")", error);
    }
    if (s.value.empty()) return Fail(s, "empty value", error);
    if (s.key == "server") {
      if (s.value.find(':') == std::string::npos || s.value.back() == ':') {
        return Fail(s, "\"" + s.value + "\" is not host:port", error);
      }
      config.servers.push_back(s.value);
    } else if (s.key == "device_map") {
      config.device_map = s.value;
    } else if (s.key == "client_name") {
      config.client_name = s.value;
    } else if (s.key == "deadline_ms") {
      uint64_t ms = 0;
      if (!ParseUnsigned(s.value, UINT32_MAX, &ms) || ms == 0 || ms > 600000) {
        return Fail(s, "\"" + s.value + "\" is not 1..600000", error);
      }
      config.deadline_ms = static_cast<uint32_t>(ms);
    } else if (s.key == "tls") {
      bool on = false;
      if (!ParseBool(s, &on, error)) return false;
      (on ? tls_on : tls_off) = &s;
    } else if (s.key == "ca_file") {
      if (!CheckPem(s, "-----BEGIN CERTIFICATE", error)) return false;
      config.ca_file = s.value;
    } else if (s.key == "cert_file") {
      if (!CheckPem(s, "-----BEGIN CERTIFICATE", error)) return false;
      config.cert_file = s.value;
    } else if (s.key == "key_file") {
      if (!CheckPem(s, "PRIVATE KEY-----", error)) return false;
      config.key_file = s.value;
    } else if (s.key == "server_name") {
      if (s.value.find_first_of(" :/\\") != std::string::npos) {
        return Fail(s, "\"" + s.value + "\" is not a host name", error);
      }
      config.server_name = s.value;
    } else if (s.key == "token_file") {
      if (!ReadToken(s, &config.token, error)) return false;
      config.token_file = s.value;
      token = &s;
    } else if (s.key == "log_file") {
      config.log_file = s.value;
    } else if (s.key == "log_level") {
      LogLevel level;
      if (!ParseLogLevelName(s.value, &level)) {
        return Fail(s, "\"" + s.value + "\" is not error, warning, info or debug", error);
      }
      config.log_level = Lower(s.value);
    } else if (s.key == "log_max_bytes") {
      uint64_t bytes = 0;
      if (!ParseUnsigned(s.value, UINT64_MAX, &bytes) || bytes < 4096 ||
          bytes > (uint64_t{1} << 30)) {
        return Fail(s, "\"" + s.value + "\" is not 4096..1073741824", error);
      }
      config.log_max_bytes = bytes;
    } else if (s.key == "log_files") {
      uint64_t files = 0;
      if (!ParseUnsigned(s.value, UINT32_MAX, &files) || files == 0 || files > 20) {
        return Fail(s, "\"" + s.value + "\" is not 1..20", error);
      }
      config.log_files = static_cast<uint32_t>(files);
    } else if (s.key == "config_file") {
      return Fail(s, "only valid in the registry (it names the file to read instead)", error);
    } else {
      return Fail(s, "unknown setting", error);
    }
  }
  if (config.servers.empty()) {
    *error = source + ": no `server` (host:port) given";
    return false;
  }
  if (config.cert_file.empty() != config.key_file.empty()) {
    const RawSetting* given = seen[config.cert_file.empty() ? "key_file" : "cert_file"];
    return Fail(*given,
                std::string("needs ") + (config.cert_file.empty() ? "cert_file" : "key_file") +
                    " too (mutual TLS uses both)",
                error);
  }
  const bool implied = !config.ca_file.empty() || !config.cert_file.empty() ||
                       !config.server_name.empty();
  if (tls_off != nullptr && implied) {
    return Fail(*tls_off, "off, but ca_file/cert_file/key_file/server_name are set", error);
  }
  config.tls = tls_on != nullptr || implied;
  if (token != nullptr && !config.tls) {
    for (const std::string& server : config.servers) {
      if (!IsLoopbackHost(server)) {
        return Fail(*token,
                    "the token would be sent in plaintext to " + server +
                        "; enable TLS (tls = on or ca_file)",
                    error);
      }
    }
  }
  *out = std::move(config);
  return true;
}

}  // namespace linebridge::tsp
