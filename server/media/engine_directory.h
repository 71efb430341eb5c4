// The media hub's view of the engine.
#pragma once

#include "core/engine.h"
#include "media/media_hub.h"

namespace linebridge::media {

class EngineDirectory : public CallDirectory {
 public:
  explicit EngineDirectory(Engine* engine) : engine_(engine) {}
  // The journal's last sequence: every call change is an event.
  uint64_t generation() override { return engine_->journal().last_sequence(); }
  absl::flat_hash_map<std::string, CallView> Lookup(const std::vector<std::string>& call_ids,
                                                    int depth) override;
  void DigitsDetected(const std::vector<std::pair<std::string, char>>& digits) override {
    engine_->MediaDigits(digits);
  }

 private:
  Engine* const engine_;
};

}  // namespace linebridge::media
