// TAPI device ids that do not move: each permanent line id ("sim/101") gets a
// stable index, remembered in a file, so a line keeps its TAPI device id (base
// + index) across restarts of TAPISRV and of the servers, whatever order the
// servers list their lines in. Lines never seen before get the next free index.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace linebridge::tsp {

class DeviceMap {
 public:
  // Loads `path` if it exists (an empty path keeps the map in memory only).
  // A corrupt file is an error naming the file and line.
  static absl::StatusOr<DeviceMap> Load(const std::string& path);

  // The index of `line_id`, assigning the next free one if it is new.
  uint32_t IndexOf(const std::string& line_id);
  // The line at `index`, or "" if none.
  const std::string& LineAt(uint32_t index) const;
  // Indices in use, ascending; TAPI's device count is the highest + 1.
  uint32_t size() const { return static_cast<uint32_t>(by_index_.size()); }
  // Writes the map (atomically: temp file + rename) if it changed.
  absl::Status Save();

 private:
  std::string path_;
  std::map<std::string, uint32_t> by_line_;
  std::vector<std::string> by_index_;
  bool dirty_ = false;
};

}  // namespace linebridge::tsp
