// The daemon's log on stderr: one line per message, as text
//   2026-12-05T07:50:01.123Z WARNING: modem sim/200: device went away
// or, with --log_format=json, as one JSON object per line for journald and
// Kubernetes collectors:
//   {"time":"2026-12-05T07:50:01.123Z","level":"warning","message":"...","line":"sim/200"}
// Messages below the current level (--log_level; SIGUSR1/SIGUSR2 at run time)
// are not formatted at all. (Abseil 20220623 has no absl/log.)
#pragma once

#include <cstdio>
#include <initializer_list>
#include <string>
#include <utility>

#include "absl/strings/str_format.h"
#include "absl/strings/string_view.h"

namespace linebridge {

enum class LogLevel { kDebug = 0, kInfo = 1, kWarning = 2, kError = 3 };
enum class LogFormat { kText, kJson };

// "debug", "info", "warning" (or "warn"), "error"; false for anything else.
bool ParseLogLevel(absl::string_view text, LogLevel* level);
bool ParseLogFormat(absl::string_view text, LogFormat* format);
absl::string_view LogLevelName(LogLevel level);

void SetLogLevel(LogLevel level);
LogLevel CurrentLogLevel();
void SetLogFormat(LogFormat format);
// Where lines go (stderr unless set; for tests).
void SetLogStream(std::FILE* stream);

// A structured field of a message ("line": "sim/200"); values are strings.
using LogField = std::pair<absl::string_view, absl::string_view>;

inline bool LogEnabled(LogLevel level) { return level >= CurrentLogLevel(); }
// Writes one message, whole, as one line (the fields in JSON only).
void WriteLog(LogLevel level, absl::string_view message,
              std::initializer_list<LogField> fields = {});

// The message as one JSON object (no newline); exposed for tests.
std::string FormatJsonLogLine(absl::string_view time, LogLevel level, absl::string_view message,
                              std::initializer_list<LogField> fields);

template <typename... Args>
void LogAt(LogLevel level, const absl::FormatSpec<Args...>& format, const Args&... args) {
  if (!LogEnabled(level)) return;
  WriteLog(level, absl::StrFormat(format, args...));
}
template <typename... Args>
void LogWithFields(LogLevel level, std::initializer_list<LogField> fields,
                   const absl::FormatSpec<Args...>& format, const Args&... args) {
  if (!LogEnabled(level)) return;
  WriteLog(level, absl::StrFormat(format, args...), fields);
}

}  // namespace linebridge

#define LB_LOG(...) ::linebridge::LogAt(::linebridge::LogLevel::kInfo, __VA_ARGS__)
#define LB_DEBUG(...) ::linebridge::LogAt(::linebridge::LogLevel::kDebug, __VA_ARGS__)
#define LB_WARN(...) ::linebridge::LogAt(::linebridge::LogLevel::kWarning, __VA_ARGS__)
#define LB_ERROR(...) ::linebridge::LogAt(::linebridge::LogLevel::kError, __VA_ARGS__)
