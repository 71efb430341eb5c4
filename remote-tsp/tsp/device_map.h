// TAPI device ids that do not move: each line, keyed by (server id, permanent
// line id) — two servers may both have "sim/101" — gets a stable index,
// remembered in a file, so a line keeps its TAPI device id (base + index)
// across restarts of TAPISRV and of the servers, whatever order the servers
// list their lines in. Lines never seen before get the next free index.
//
// File: "version 2", then "<index> <server id> <line id>" per line. A file
// of the first format ("<index> <line id>", no server) is read as entries
// without a server: the first server that reports such a line id takes the
// entry over (same index), so existing ids are kept, never renumbered.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace linebridge::tsp {

class DeviceMap {
 public:
  struct Key {
    std::string server_id;  // "" for an entry from a file of the first format
    std::string line_id;
  };

  // Loads `path` if it exists (an empty path keeps the map in memory only).
  // A corrupt file is an error naming the file and line.
  static absl::StatusOr<DeviceMap> Load(const std::string& path);

  // The index of (server_id, line_id), assigning the next free one if it is
  // new; an entry without a server for `line_id` is taken over first.
  uint32_t IndexOf(const std::string& server_id, const std::string& line_id);
  // The line at `index` (empty ids if none).
  const Key& KeyAt(uint32_t index) const;
  const std::string& LineAt(uint32_t index) const { return KeyAt(index).line_id; }
  // Indices in use, ascending; TAPI's device count is the highest + 1.
  uint32_t size() const { return static_cast<uint32_t>(by_index_.size()); }
  // Writes the map (atomically: temp file + rename) if it changed.
  absl::Status Save();

 private:
  std::string path_;
  std::map<std::pair<std::string, std::string>, uint32_t> by_key_;
  std::vector<Key> by_index_;
  bool dirty_ = false;
};

}  // namespace linebridge::tsp
