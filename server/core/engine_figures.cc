// Engine::TakeFigures: the snapshot metrics are made from.
#include "core/engine.h"

namespace linebridge {

Engine::Figures Engine::TakeFigures() {
  Figures f;
  EngineLock lock(this);
  for (const auto& [id, line] : lines_) {
    Figures::LineKey key;
    if (line.provider != nullptr) {
      key.provider_type = std::string(line.provider->type());
      key.provider = std::string(line.provider->name());
    }
    key.state = line.line.status().state();
    ++f.lines[key];
  }
  for (const auto& [id, call] : calls_) ++f.calls[call.call.status().state()];
  f.sessions = sessions_.size();
  f.setups = setup_counts_;
  f.ended = ended_counts_;
  for (const auto& provider : providers_) {
    f.providers.emplace_back(std::string(provider->type()), std::string(provider->name()));
    for (ProviderCounter& c : provider->Counters()) {
      c.labels.insert(c.labels.begin(), {"provider", std::string(provider->name())});
      f.provider_counters.push_back(std::move(c));
    }
  }
  return f;
}

}  // namespace linebridge
