// Minimal logging to stderr: one line per message with a UTC timestamp.
// (Abseil 20220623 has no absl/log.)
#pragma once

#include <cstdio>
#include <string>

#include "absl/strings/str_format.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"

namespace linebridge {

template <typename... Args>
void LogLine(const absl::FormatSpec<Args...>& format, const Args&... args) {
  std::string line = absl::FormatTime("%Y-%m-%dT%H:%M:%E3SZ ", absl::Now(), absl::UTCTimeZone());
  absl::StrAppendFormat(&line, format, args...);
  line.push_back('\n');
  std::fwrite(line.data(), 1, line.size(), stderr);
}

}  // namespace linebridge

#define LB_LOG(...) ::linebridge::LogLine(__VA_ARGS__)
