// linebridge::tsp::TspLog: the provider's log. TAPISRV is a service without a
// console, so on a workstation the log goes to the file named by `log_file`
// (configuration file or registry value), with a level and size-based
// rotation; without `log_file` it goes to stderr (as before).
//
// Rotation: when a write would take the file past `log_max_bytes`, the file
// is renamed to "<log_file>.1" (".1" to ".2", ... up to `log_files` kept
// files; the oldest is deleted) and a new file is started.
//
// Secrets: messages never carry a token or a private key. Callers do not
// format them in; as a second line of defence every line is scrubbed of the
// configured bearer token, of anything after "Bearer " and of PEM blocks.
//
// Thread-safe; one instance per process (the provider is one per process).
#pragma once

#include <cstdint>
#include <cstdio>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "tsp/tsp_settings_check.h"  // LogLevel

namespace linebridge::tsp {

// "error", "warning", "info", "debug" (case-insensitive); false if none.
bool ParseLogLevel(absl::string_view text, LogLevel* level);
absl::string_view LogLevelName(LogLevel level);

struct LogSettings {
  std::string file;                    // empty: stderr
  LogLevel level = LogLevel::kWarning;
  uint64_t max_bytes = 1 << 20;        // per file, before rotation
  uint32_t files = 3;                  // rotated files kept besides the current one
  std::string secret;                  // the bearer token, scrubbed from every line
};

// `text` without `secret`, without what follows "Bearer " (up to white
// space) and without PEM blocks ("-----BEGIN ... -----END ...-----").
std::string ScrubSecrets(absl::string_view text, absl::string_view secret);

class TspLog {
 public:
  static TspLog& Instance();

  // Applies new settings (providerEnumDevices, after reading the configuration).
  void Configure(LogSettings settings);
  bool Enabled(LogLevel level) const;
  // One line: "2026-12-04T17:00:00.123Z WARNING <message>".
  void Write(LogLevel level, absl::string_view message);

 private:
  TspLog() = default;
  bool OpenLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void RotateLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  mutable absl::Mutex mu_;
  LogSettings settings_ ABSL_GUARDED_BY(mu_);
  std::FILE* file_ ABSL_GUARDED_BY(mu_) = nullptr;
  uint64_t size_ ABSL_GUARDED_BY(mu_) = 0;
};

// Shorthands: LogError(absl::StrCat(...)).
void LogError(absl::string_view message);
void LogWarning(absl::string_view message);
void LogInfo(absl::string_view message);
void LogDebug(absl::string_view message);

}  // namespace linebridge::tsp
