// The lines' device configurations (SetDevConfig) kept across restarts, in
// a text-format DeviceConfigFile in the data directory. Loaded once at
// start; every change rewrites the file (write to a temporary, fsync,
// rename), so a crash leaves the old or the new file, never half of one.
//
// Thread-safe. Find is cheap (memory); Put does file I/O and is called
// without the engine lock.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"
#include "linebridge/v1/config.pb.h"

namespace linebridge {

class DeviceConfigStore {
 public:
  // `path` empty: nothing is read or written (tests, embedded engines).
  explicit DeviceConfigStore(std::string path);

  // Reads the file; a missing file is an empty store. A file that does not
  // parse is an error (the server refuses to start rather than lose it).
  absl::Status Load();

  std::optional<v1::DeviceConfig> Find(const std::string& line_id) const;

  // Records `config` for the line and rewrites the file. `revision` orders
  // concurrent Puts (taken under the engine lock when the change was
  // applied): an older one than the line's last is ignored.
  absl::Status Put(const std::string& line_id, const v1::DeviceConfig& config, uint64_t revision);

  const std::string& path() const { return path_; }

 private:
  absl::Status WriteLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  const std::string path_;
  mutable absl::Mutex mu_;
  v1::config::DeviceConfigFile file_ ABSL_GUARDED_BY(mu_);
  std::map<std::string, uint64_t> revisions_ ABSL_GUARDED_BY(mu_);
};

}  // namespace linebridge
