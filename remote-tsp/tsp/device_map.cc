#include "tsp/device_map.h"

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <sstream>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"

#ifdef _WIN32
#ifndef NOMINMAX
#define NOMINMAX
#endif
#include <windows.h>
#endif

namespace linebridge::tsp {

absl::StatusOr<DeviceMap> DeviceMap::Load(const std::string& path) {
  DeviceMap map;
  map.path_ = path;
  if (path.empty()) return map;
  std::ifstream in(path);
  if (!in) {
    if (errno == ENOENT) return map;
    return absl::PermissionDeniedError(absl::StrCat(path, ": ", std::strerror(errno)));
  }
  std::string line;
  int number = 0;
  while (std::getline(in, line)) {
    ++number;
    absl::string_view text = absl::StripAsciiWhitespace(line);
    if (text.empty() || text[0] == '#') continue;
    // "<index> <line id>"
    std::pair<absl::string_view, absl::string_view> parts = absl::StrSplit(text, absl::MaxSplits(' ', 1));
    uint32_t index = 0;
    const std::string id(absl::StripAsciiWhitespace(parts.second));
    if (!absl::SimpleAtoi(parts.first, &index) || id.empty() || index > 1000000) {
      return absl::DataLossError(absl::StrCat(path, ":", number, ": expected \"<index> <line id>\""));
    }
    if (map.by_line_.count(id) || (index < map.by_index_.size() && !map.by_index_[index].empty())) {
      return absl::DataLossError(absl::StrCat(path, ":", number, ": duplicate entry"));
    }
    if (index >= map.by_index_.size()) map.by_index_.resize(index + 1);
    map.by_index_[index] = id;
    map.by_line_[id] = index;
  }
  return map;
}

uint32_t DeviceMap::IndexOf(const std::string& line_id) {
  auto it = by_line_.find(line_id);
  if (it != by_line_.end()) return it->second;
  const auto index = static_cast<uint32_t>(by_index_.size());
  by_index_.push_back(line_id);
  by_line_[line_id] = index;
  dirty_ = true;
  return index;
}

const std::string& DeviceMap::LineAt(uint32_t index) const {
  static const std::string kNone;
  return index < by_index_.size() ? by_index_[index] : kNone;
}

absl::Status DeviceMap::Save() {
  if (path_.empty() || !dirty_) return absl::OkStatus();
  const std::string tmp = path_ + ".tmp";
  {
    std::ofstream out(tmp, std::ios::trunc);
    if (!out) return absl::PermissionDeniedError(absl::StrCat(tmp, ": ", std::strerror(errno)));
    out << "# linebridge TSP device ids: <index> <permanent line id>\n";
    for (size_t i = 0; i < by_index_.size(); ++i) {
      if (!by_index_[i].empty()) out << i << ' ' << by_index_[i] << '\n';
    }
    out.flush();
    if (!out) return absl::DataLossError(absl::StrCat(tmp, ": write failed"));
  }
#ifdef _WIN32
  // The CRT's rename() refuses an existing target; replace it atomically.
  if (!MoveFileExA(tmp.c_str(), path_.c_str(), MOVEFILE_REPLACE_EXISTING | MOVEFILE_WRITE_THROUGH)) {
    return absl::DataLossError(
        absl::StrCat(path_, ": cannot replace (Windows error ", GetLastError(), ")"));
  }
#else
  if (std::rename(tmp.c_str(), path_.c_str()) != 0) {
    return absl::DataLossError(absl::StrCat(path_, ": ", std::strerror(errno)));
  }
#endif
  dirty_ = false;
  return absl::OkStatus();
}

}  // namespace linebridge::tsp
