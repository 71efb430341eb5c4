// A CallDirectory a test fills in: calls, their routes, digits reported.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/synchronization/mutex.h"
#include "core/device_digits.h"
#include "media/media_hub.h"

namespace linebridge::media::testing {

class FakeDirectory : public CallDirectory {
 public:
  void Set(const std::string& call_id, MediaRoute route) {
    absl::MutexLock lock(&mu_);
    CallView& v = calls_[call_id];
    v.live = true;
    v.carries_media = true;
    v.line_id = "test/" + call_id;
    v.route = std::move(route);
    ++generation_;
  }
  void End(const std::string& call_id) {
    absl::MutexLock lock(&mu_);
    calls_.erase(call_id);
    ++generation_;
  }
  std::string digits(const std::string& call_id) {
    absl::MutexLock lock(&mu_);
    return digits_[call_id];
  }

  uint64_t generation() override {
    absl::MutexLock lock(&mu_);
    return generation_;
  }
  absl::flat_hash_map<std::string, CallView> Lookup(const std::vector<std::string>& ids,
                                                    int depth) override {
    absl::MutexLock lock(&mu_);
    absl::flat_hash_map<std::string, CallView> out;
    std::vector<std::string> next = ids;
    for (int level = 0; level <= depth && !next.empty(); ++level) {
      std::vector<std::string> named;
      for (const std::string& id : next) {
        if (out.contains(id)) continue;
        auto it = calls_.find(id);
        CallView& v = out[id];
        if (it == calls_.end()) continue;
        v = it->second;
        for (const std::string& h : v.route.hears) named.push_back(h);
      }
      next = std::move(named);
    }
    return out;
  }
  void DigitsDetected(const std::vector<std::pair<std::string, char>>& digits) override {
    absl::MutexLock lock(&mu_);
    for (const auto& [call, d] : digits) digits_[call].push_back(d);
  }

 private:
  absl::Mutex mu_;
  absl::flat_hash_map<std::string, CallView> calls_ ABSL_GUARDED_BY(mu_);
  absl::flat_hash_map<std::string, std::string> digits_ ABSL_GUARDED_BY(mu_);
  uint64_t generation_ ABSL_GUARDED_BY(mu_) = 1;
};

// A sink that keeps everything.
class RecordingSink : public MediaSink {
 public:
  void OnAudio(const Frame& heard) override { audio.insert(audio.end(), heard.begin(), heard.end()); }
  void OnToneDone(bool cancelled) override { tone_done.push_back(cancelled); }
  void OnDigitsGathered(const DigitGatherer::Result& r) override { gathered.push_back(r); }
  void OnStats(const StreamCounters& c) override { stats.push_back(c); }
  void OnCallEnded(const StreamCounters& c, bool shutdown) override {
    ended = true;
    ended_by_shutdown = shutdown;
    final_counters = c;
  }
  std::vector<int16_t> audio;
  std::vector<bool> tone_done;
  std::vector<DigitGatherer::Result> gathered;
  std::vector<StreamCounters> stats;
  bool ended = false;
  bool ended_by_shutdown = false;
  StreamCounters final_counters;
};

// A device far end the test plays into and listens to: Pull hands out the
// frames queued with Send (nothing once they run out), Push keeps what the
// call sent while attached.
class FakeDevice : public DeviceAudio {
 public:
  void Send(const Frame& frame) { to_hub.push_back(frame); }
  void Attached(bool attached) override {
    this->attached = attached;
    ++attach_changes;
  }
  bool Pull(DeviceFrame* frame) override {
    ++pulls;
    if (to_hub.empty()) return false;
    *frame = to_hub.front();
    to_hub.erase(to_hub.begin());
    return true;
  }
  void Push(const DeviceFrame& frame) override {
    from_hub.insert(from_hub.end(), frame.begin(), frame.end());
  }

  std::vector<Frame> to_hub;
  std::vector<int16_t> from_hub;
  bool attached = false;
  int attach_changes = 0;
  int pulls = 0;
};

// A device far end that also signals its digits (as a modem's <DLE> codes
// do): TakeDigits hands over `digits`.
class FakeSignallingDevice : public FakeDevice, public DeviceDigits {
 public:
  void TakeDigits(std::string* out) override {
    out->append(digits);
    digits.clear();
  }
  std::string digits;
};

}  // namespace linebridge::media::testing
