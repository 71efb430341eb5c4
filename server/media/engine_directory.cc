#include "media/engine_directory.h"

namespace linebridge::media {

absl::flat_hash_map<std::string, CallView> EngineDirectory::Lookup(
    const std::vector<std::string>& call_ids, int depth) {
  absl::flat_hash_map<std::string, CallView> out;
  for (auto& [id, call] : engine_->MediaCalls(call_ids, depth)) {
    out[id] = CallView{call.live, call.carries_media, std::move(call.line_id),
                       std::move(call.route)};
  }
  return out;
}

}  // namespace linebridge::media
