// The engine's side of media (server/media): call routes from the providers
// and digits detected in audio, each under one engine lock.
#include "core/engine.h"

namespace linebridge {

absl::flat_hash_map<std::string, Engine::MediaCall> Engine::MediaCalls(
    const std::vector<std::string>& call_ids, int depth) {
  absl::flat_hash_map<std::string, MediaCall> out;
  EngineLock lock(this);
  std::vector<std::string> next = call_ids;
  for (int level = 0; level <= depth && !next.empty(); ++level) {
    std::vector<std::string> named;
    for (const std::string& id : next) {
      if (out.contains(id)) continue;
      MediaCall& m = out[id];
      auto it = calls_.find(id);
      if (it == calls_.end()) continue;
      m.live = true;
      m.line_id = it->second.call.info().line_id();
      auto line = lines_.find(m.line_id);
      Provider* provider = line == lines_.end() ? nullptr : line->second.provider;
      if (provider == nullptr || !provider->CallCarriesMedia(id)) continue;
      m.carries_media = true;
      m.route = provider->MediaRouteOf(id);
      for (const std::string& heard : m.route.hears) {
        if (!out.contains(heard)) named.push_back(heard);
      }
    }
    next = std::move(named);
  }
  return out;
}

void Engine::MediaDigits(const std::vector<std::pair<std::string, char>>& digits) {
  if (digits.empty()) return;
  EngineLock lock(this);
  if (shut_down_) return;
  for (const auto& [call_id, digit] : digits) {
    DigitReceived(call_id, absl::string_view(&digit, 1), v1::DIGIT_MODE_DTMF);
  }
}

}  // namespace linebridge
