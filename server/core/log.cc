#include "core/log.h"

#include <atomic>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"

namespace linebridge {
namespace {

std::atomic<int> g_level{static_cast<int>(LogLevel::kInfo)};
std::atomic<int> g_format{static_cast<int>(LogFormat::kText)};
std::atomic<std::FILE*> g_stream{nullptr};

// Length of the valid UTF-8 sequence at s[i], 0 if there is none.
size_t Utf8SequenceLength(absl::string_view s, size_t i) {
  const auto c = static_cast<unsigned char>(s[i]);
  size_t n;
  uint32_t min;
  if (c < 0x80) return 1;
  if ((c & 0xE0) == 0xC0) {
    n = 2, min = 0x80;
  } else if ((c & 0xF0) == 0xE0) {
    n = 3, min = 0x800;
  } else if ((c & 0xF8) == 0xF0) {
    n = 4, min = 0x10000;
  } else {
    return 0;
  }
  if (i + n > s.size()) return 0;
  uint32_t cp = c & (0x7F >> n);
  for (size_t k = 1; k < n; ++k) {
    const auto cc = static_cast<unsigned char>(s[i + k]);
    if ((cc & 0xC0) != 0x80) return 0;
    cp = (cp << 6) | (cc & 0x3F);
  }
  if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return 0;
  return n;
}

// A JSON string: quotes, backslashes and control characters escaped; bytes
// that are not UTF-8 (a peer's garbage quoted in a message) become U+FFFD.
void AppendJsonString(std::string* out, absl::string_view s) {
  out->push_back('"');
  for (size_t i = 0; i < s.size();) {
    const auto c = static_cast<unsigned char>(s[i]);
    if (c == '"' || c == '\\') {
      out->push_back('\\');
      out->push_back(static_cast<char>(c));
      ++i;
    } else if (c == '\n') {
      out->append("\\n"), ++i;
    } else if (c == '\r') {
      out->append("\\r"), ++i;
    } else if (c == '\t') {
      out->append("\\t"), ++i;
    } else if (c < 0x20 || c == 0x7F) {
      absl::StrAppendFormat(out, "\\u%04x", c);
      ++i;
    } else if (const size_t n = Utf8SequenceLength(s, i); n > 0) {
      out->append(s.data() + i, n);
      i += n;
    } else {
      out->append("\\ufffd");
      ++i;
    }
  }
  out->push_back('"');
}

// Text lines stay one line: control characters are shown escaped.
void AppendTextEscaped(std::string* out, absl::string_view s) {
  for (unsigned char c : s) {
    if (c == '\n') {
      out->append("\\n");
    } else if (c < 0x20 || c == 0x7F) {
      absl::StrAppendFormat(out, "\\x%02x", c);
    } else {
      out->push_back(static_cast<char>(c));
    }
  }
}

}  // namespace

bool ParseLogLevel(absl::string_view text, LogLevel* level) {
  const std::string t = absl::AsciiStrToLower(text);
  if (t == "debug") *level = LogLevel::kDebug;
  else if (t == "info") *level = LogLevel::kInfo;
  else if (t == "warning" || t == "warn") *level = LogLevel::kWarning;
  else if (t == "error") *level = LogLevel::kError;
  else return false;
  return true;
}

bool ParseLogFormat(absl::string_view text, LogFormat* format) {
  const std::string t = absl::AsciiStrToLower(text);
  if (t == "text") *format = LogFormat::kText;
  else if (t == "json") *format = LogFormat::kJson;
  else return false;
  return true;
}

absl::string_view LogLevelName(LogLevel level) {
  switch (level) {
    case LogLevel::kDebug: return "debug";
    case LogLevel::kInfo: return "info";
    case LogLevel::kWarning: return "warning";
    case LogLevel::kError: return "error";
  }
  return "info";
}

void SetLogLevel(LogLevel level) { g_level.store(static_cast<int>(level)); }
LogLevel CurrentLogLevel() {
  return static_cast<LogLevel>(g_level.load(std::memory_order_relaxed));
}
void SetLogFormat(LogFormat format) { g_format.store(static_cast<int>(format)); }
void SetLogStream(std::FILE* stream) { g_stream.store(stream); }

std::string FormatJsonLogLine(absl::string_view time, LogLevel level, absl::string_view message,
                              std::initializer_list<LogField> fields) {
  std::string line = "{\"time\":";
  AppendJsonString(&line, time);
  line.append(",\"level\":");
  AppendJsonString(&line, LogLevelName(level));
  line.append(",\"message\":");
  AppendJsonString(&line, message);
  for (const auto& [key, value] : fields) {
    if (key == "time" || key == "level" || key == "message") continue;  // never a duplicate key
    line.push_back(',');
    AppendJsonString(&line, key);
    line.push_back(':');
    AppendJsonString(&line, value);
  }
  line.push_back('}');
  return line;
}

void WriteLog(LogLevel level, absl::string_view message, std::initializer_list<LogField> fields) {
  const std::string time =
      absl::FormatTime("%Y-%m-%dT%H:%M:%E3SZ", absl::Now(), absl::UTCTimeZone());
  std::string line;
  if (static_cast<LogFormat>(g_format.load(std::memory_order_relaxed)) == LogFormat::kJson) {
    line = FormatJsonLogLine(time, level, message, fields);
  } else {
    line = time;
    if (level != LogLevel::kInfo) {
      line.push_back(' ');
      line.append(absl::AsciiStrToUpper(LogLevelName(level)));
      line.push_back(':');
    }
    line.push_back(' ');
    // Fields repeat what the message names, for collectors to filter on:
    // JSON only.
    AppendTextEscaped(&line, message);
  }
  line.push_back('\n');
  std::FILE* stream = g_stream.load();
  if (stream == nullptr) stream = stderr;
  // One fwrite per line: lines of concurrent threads do not interleave.
  std::fwrite(line.data(), 1, line.size(), stream);
  std::fflush(stream);
}

}  // namespace linebridge
