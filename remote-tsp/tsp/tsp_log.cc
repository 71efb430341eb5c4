#include "tsp/tsp_log.h"

#include <cerrno>
#include <cstring>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"

namespace linebridge::tsp {

bool ParseLogLevel(absl::string_view text, LogLevel* level) {
  return ParseLogLevelName(std::string(text), level);
}

absl::string_view LogLevelName(LogLevel level) {
  switch (level) {
    case LogLevel::kError: return "ERROR";
    case LogLevel::kWarning: return "WARNING";
    case LogLevel::kInfo: return "INFO";
    case LogLevel::kDebug: return "DEBUG";
  }
  return "?";
}

std::string ScrubSecrets(absl::string_view text, absl::string_view secret) {
  std::string out;
  out.reserve(text.size());
  size_t i = 0;
  while (i < text.size()) {
    absl::string_view rest = text.substr(i);
    if (!secret.empty() && absl::StartsWith(rest, secret)) {
      out += "[redacted]";
      i += secret.size();
      continue;
    }
    if (absl::StartsWithIgnoreCase(rest, "bearer ")) {
      out.append(rest.data(), 7);
      out += "[redacted]";
      i += 7;
      while (i < text.size() && !absl::ascii_isspace(static_cast<unsigned char>(text[i]))) ++i;
      continue;
    }
    if (absl::StartsWith(rest, "-----BEGIN ")) {
      out += "[redacted PEM]";
      const size_t end = rest.find("-----END ");
      if (end == absl::string_view::npos) break;  // the rest of the line
      const size_t close = rest.find("-----", end + 9);
      i += close == absl::string_view::npos ? rest.size() : close + 5;
      continue;
    }
    out.push_back(text[i++]);
  }
  return out;
}

TspLog& TspLog::Instance() {
  static TspLog* log = new TspLog();  // never destroyed: TAPISRV may log while unloading
  return *log;
}

void TspLog::Configure(LogSettings settings) {
  absl::MutexLock lock(&mu_);
  const bool reopen = settings.file != settings_.file;
  settings_ = std::move(settings);
  if (settings_.files == 0) settings_.files = 1;
  if (reopen && file_ != nullptr) {
    std::fclose(file_);
    file_ = nullptr;
  }
}

bool TspLog::Enabled(LogLevel level) const {
  absl::MutexLock lock(&mu_);
  return static_cast<int>(level) <= static_cast<int>(settings_.level);
}

bool TspLog::OpenLocked() {
  if (file_ != nullptr) return true;
  file_ = std::fopen(settings_.file.c_str(), "ab");
  if (file_ == nullptr) return false;
  std::fseek(file_, 0, SEEK_END);
  const long at = std::ftell(file_);
  size_ = at > 0 ? static_cast<uint64_t>(at) : 0;
  return true;
}

void TspLog::RotateLocked() {
  std::fclose(file_);
  file_ = nullptr;
  const std::string& base = settings_.file;
  std::remove(absl::StrCat(base, ".", settings_.files).c_str());
  for (uint32_t n = settings_.files; n > 1; --n) {
    std::rename(absl::StrCat(base, ".", n - 1).c_str(), absl::StrCat(base, ".", n).c_str());
  }
  std::rename(base.c_str(), absl::StrCat(base, ".1").c_str());
  size_ = 0;
}

void TspLog::Write(LogLevel level, absl::string_view message) {
  absl::MutexLock lock(&mu_);
  if (static_cast<int>(level) > static_cast<int>(settings_.level)) return;
  std::string line = absl::StrCat(
      absl::FormatTime("%Y-%m-%dT%H:%M:%E3SZ", absl::Now(), absl::UTCTimeZone()), " ",
      LogLevelName(level), " ", ScrubSecrets(message, settings_.secret));
  for (char& c : line) {
    if (c == '\n' || c == '\r') c = ' ';  // one record per line
  }
  line.push_back('\n');
  if (settings_.file.empty()) {
    std::fputs(absl::StrCat("linebridge.tsp: ", line).c_str(), stderr);
    return;
  }
  if (!OpenLocked()) {
    std::fprintf(stderr, "linebridge.tsp: cannot write the log %s: %s\n", settings_.file.c_str(),
                 std::strerror(errno));
    std::fputs(line.c_str(), stderr);
    return;
  }
  if (size_ > 0 && size_ + line.size() > settings_.max_bytes) {
    RotateLocked();
    if (!OpenLocked()) return;
  }
  std::fwrite(line.data(), 1, line.size(), file_);
  std::fflush(file_);
  size_ += line.size();
}

void LogError(absl::string_view message) { TspLog::Instance().Write(LogLevel::kError, message); }
void LogWarning(absl::string_view message) {
  TspLog::Instance().Write(LogLevel::kWarning, message);
}
void LogInfo(absl::string_view message) { TspLog::Instance().Write(LogLevel::kInfo, message); }
void LogDebug(absl::string_view message) { TspLog::Instance().Write(LogLevel::kDebug, message); }

}  // namespace linebridge::tsp
