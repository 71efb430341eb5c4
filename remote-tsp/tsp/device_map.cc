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
  bool with_servers = false;  // "version 2": entries name their server
  bool any_entry = false;
  while (std::getline(in, line)) {
    ++number;
    absl::string_view text = absl::StripAsciiWhitespace(line);
    if (text.empty() || text[0] == '#') continue;
    if (text == "version 2" && !any_entry) {
      with_servers = true;
      continue;
    }
    any_entry = true;
    // "<index> <server id> <line id>" (version 2) or "<index> <line id>".
    std::pair<absl::string_view, absl::string_view> parts =
        absl::StrSplit(text, absl::MaxSplits(' ', 1));
    uint32_t index = 0;
    Key key;
    absl::string_view rest = absl::StripAsciiWhitespace(parts.second);
    if (with_servers) {
      std::pair<absl::string_view, absl::string_view> ids =
          absl::StrSplit(rest, absl::MaxSplits(' ', 1));
      if (ids.first != "-") key.server_id = std::string(ids.first);
      key.line_id = std::string(absl::StripAsciiWhitespace(ids.second));
    } else {
      key.line_id = std::string(rest);
    }
    const char* expected =
        with_servers ? "expected \"<index> <server id> <line id>\"" : "expected \"<index> <line id>\"";
    if (!absl::SimpleAtoi(parts.first, &index) || key.line_id.empty() || index > 1000000) {
      return absl::DataLossError(absl::StrCat(path, ":", number, ": ", expected));
    }
    auto k = std::make_pair(key.server_id, key.line_id);
    if (map.by_key_.count(k) ||
        (index < map.by_index_.size() && !map.by_index_[index].line_id.empty())) {
      return absl::DataLossError(absl::StrCat(path, ":", number, ": duplicate entry"));
    }
    if (index >= map.by_index_.size()) map.by_index_.resize(index + 1);
    map.by_index_[index] = std::move(key);
    map.by_key_[k] = index;
  }
  // A file of the first format is rewritten in the second at the next save.
  map.dirty_ = any_entry && !with_servers;
  return map;
}

uint32_t DeviceMap::IndexOf(const std::string& server_id, const std::string& line_id) {
  auto it = by_key_.find({server_id, line_id});
  if (it != by_key_.end()) return it->second;
  if (!server_id.empty()) {
    // An entry from before servers had ids: the first server that reports
    // the line takes it over, keeping its index.
    auto legacy = by_key_.find({std::string(), line_id});
    if (legacy != by_key_.end()) {
      const uint32_t index = legacy->second;
      by_key_.erase(legacy);
      by_key_[{server_id, line_id}] = index;
      by_index_[index].server_id = server_id;
      dirty_ = true;
      return index;
    }
  }
  const auto index = static_cast<uint32_t>(by_index_.size());
  by_index_.push_back(Key{server_id, line_id});
  by_key_[{server_id, line_id}] = index;
  dirty_ = true;
  return index;
}

const DeviceMap::Key& DeviceMap::KeyAt(uint32_t index) const {
  static const Key kNone;
  return index < by_index_.size() ? by_index_[index] : kNone;
}

absl::Status DeviceMap::Save() {
  if (path_.empty() || !dirty_) return absl::OkStatus();
  const std::string tmp = path_ + ".tmp";
  {
    std::ofstream out(tmp, std::ios::trunc);
    if (!out) return absl::PermissionDeniedError(absl::StrCat(tmp, ": ", std::strerror(errno)));
    out << "# linebridge TSP device ids: <index> <server id> <permanent line id>\n"
        << "version 2\n";
    for (size_t i = 0; i < by_index_.size(); ++i) {
      if (by_index_[i].line_id.empty()) continue;
      // "-": an entry of the first format no server has claimed yet.
      const std::string& server = by_index_[i].server_id;
      out << i << ' ' << (server.empty() ? "-" : server) << ' ' << by_index_[i].line_id << '\n';
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
