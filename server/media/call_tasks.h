// Call media on the server (core/call_media.h): the tones, digit gatherings
// and tone/media monitors the Telephony RPCs start, run in the media hub with
// no client media stream.
//
// Each (call, session) with work running has one hub stream whose sink is
// here: it sends nothing but the tone, and what the call hears goes to the
// gathering and the monitors. The stream is detached once nothing runs on it
// any more. Results become journal events (`deliver`).
//
// The hub calls sinks with its lock held, so results wait in a queue and are
// delivered after: on the hub's tick (this class sits between the hub and
// the real CallDirectory, and the hub calls DigitsDetected after every tick
// outside its lock) and at the end of each request.
//
// Locks: ops_mu_ (one request or settlement at a time) before the hub's
// locks before mu_ (the tasks' state). Nothing is called with mu_ held.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/synchronization/mutex.h"
#include "core/call_media.h"
#include "media/media_hub.h"
#include "media/media_monitor.h"
#include "media/tone_monitor.h"

namespace linebridge::media {

class CallTasks final : public CallMedia, public CallDirectory {
 public:
  // Events for their calls (the engine's MediaEvents).
  using Deliver = std::function<void(std::vector<std::pair<std::string, v1::Event>>)>;

  // `calls` must outlive this; the hub is set once it exists (it needs this
  // as its directory).
  CallTasks(CallDirectory* calls, Deliver deliver);
  ~CallTasks() override;
  void set_hub(MediaHub* hub);

  // CallDirectory: the real directory's answers; after each tick, the
  // queued results are delivered.
  uint64_t generation() override { return calls_->generation(); }
  absl::flat_hash_map<std::string, CallView> Lookup(const std::vector<std::string>& call_ids,
                                                    int depth) override {
    return calls_->Lookup(call_ids, depth);
  }
  void DigitsDetected(const std::vector<std::pair<std::string, char>>& digits) override;

  // CallMedia.
  absl::Status GenerateTone(const std::string& call_id, const std::string& session_id,
                            const v1::GenerateTone& tone, uint32_t end_to_end_id) override;
  absl::Status CancelTone(const std::string& call_id, const std::string& session_id) override;
  absl::Status GatherDigits(const std::string& call_id, const std::string& session_id,
                            const v1::GatherDigits& rules, uint32_t end_to_end_id) override;
  absl::Status CancelGather(const std::string& call_id, const std::string& session_id) override;
  absl::Status MonitorTones(const std::string& call_id, const std::string& session_id,
                            const v1::MonitorTonesRequest& req) override;
  absl::Status MonitorMedia(const std::string& call_id, const std::string& session_id,
                            const v1::MonitorMediaRequest& req) override;

  // Hub streams held now (tests).
  size_t num_streams();

 private:
  using TaskId = uint64_t;
  class Sink;
  struct Task {
    std::string call_id;
    std::string session_id;
    std::unique_ptr<Sink> sink;
    MediaHub::StreamId stream = 0;  // 0: not attached (yet)
    bool ended = false;             // the hub ended the stream (call gone)
    std::vector<uint32_t> tones;    // end-to-end ids of tones given to the hub, oldest first
    std::vector<uint32_t> gathers;  // the same for gatherings
    std::unique_ptr<ToneMonitor> tone_monitor;
    uint32_t tone_list_id = 0;
    std::unique_ptr<MediaMonitor> media_monitor;
    std::set<int> media_modes;
    bool idle() const {
      return tones.empty() && gathers.empty() && tone_monitor == nullptr && media_monitor == nullptr;
    }
  };

  // The hub stream of (call, session), attached if there is none yet.
  absl::StatusOr<MediaHub::StreamId> StreamOf(const std::string& call_id,
                                              const std::string& session_id)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(ops_mu_);
  // The running task of (call, session), or null.
  Task* Find(const std::string& call_id, const std::string& session_id)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Delivers queued results; detaches streams with nothing left to do.
  void Settle() ABSL_EXCLUSIVE_LOCKS_REQUIRED(ops_mu_);
  void Queue(const Task& task, v1::Event event) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  // From the sinks (hub lock held).
  void OnAudio(TaskId id, const Frame& heard);
  void OnToneDone(TaskId id, bool cancelled);
  void OnGathered(TaskId id, const DigitGatherer::Result& result);
  void OnEnded(TaskId id);

  CallDirectory* const calls_;
  const Deliver deliver_;
  MediaHub* hub_ = nullptr;  // set once, before any request

  absl::Mutex ops_mu_ ABSL_ACQUIRED_BEFORE(mu_);
  absl::Mutex mu_;
  absl::flat_hash_map<TaskId, Task> tasks_ ABSL_GUARDED_BY(mu_);
  absl::flat_hash_map<std::pair<std::string, std::string>, TaskId> by_key_ ABSL_GUARDED_BY(mu_);
  TaskId next_id_ ABSL_GUARDED_BY(mu_) = 1;
  std::vector<std::pair<std::string, v1::Event>> pending_ ABSL_GUARDED_BY(mu_);
};

}  // namespace linebridge::media
