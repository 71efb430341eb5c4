// The media hub: every call's audio endpoint, moved on a 20 ms clock.
//
// Each tick, per call with an endpoint: what the call sends is the sum of the
// frames its streams' clients sent (one each, or silence) and the tones they
// play; what it hears is the sum of what the calls its provider routes to it
// send (MediaRoute), plus its far end: a simulated one (an echo of itself, a
// prompt) or a device outside the server (DeviceAudio: RTP, a voice modem),
// which is pulled from and pushed to once per tick.
// What it hears goes through a DTMF detector (digits become journal events)
// and to its streams' sinks.
//
// Calls get endpoints while a stream is on them or on a call they hear or
// that hears them (two route levels), so digits played on one call are
// detected on the other even with no stream there. Routes are asked of the
// providers again when anything changed in the engine (its journal moved) or
// a stream came or went; a stream whose call is gone is ended.
//
// Threading: one mutex (mu_). Sinks are called with it held and must not
// block or call back into the hub. The engine (CallDirectory) is never
// called with mu_ held, so the engine lock and the hub lock are never nested.
#pragma once

#include <atomic>
#include <cstdint>
#include <deque>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "core/provider.h"
#include "media/audio_format.h"
#include "media/gather.h"
#include "media/tones.h"

namespace linebridge::media {

// A call as the hub needs it.
struct CallView {
  bool live = false;
  bool carries_media = false;
  std::string line_id;
  MediaRoute route;
};

// Where calls live (the engine, through EngineDirectory).
class CallDirectory {
 public:
  virtual ~CallDirectory() = default;
  // Moves whenever a call may have changed.
  virtual uint64_t generation() = 0;
  // The calls named and, `depth` route levels deep, the calls they hear.
  virtual absl::flat_hash_map<std::string, CallView> Lookup(const std::vector<std::string>& call_ids,
                                                            int depth) = 0;
  virtual void DigitsDetected(const std::vector<std::pair<std::string, char>>& digits) = 0;
};

struct StreamCounters {
  uint64_t received = 0;  // client frames taken
  uint64_t overrun = 0;   // client frames dropped (sent faster than real time)
  uint64_t underrun = 0;  // ticks without a client frame (concealed, or silence)
};

// Audio played into a call frame by frame (a file's samples): like a tone,
// but from anywhere. Next runs on the media clock: no blocking.
class FrameSource {
 public:
  virtual ~FrameSource() = default;
  // Writes the next 20 ms (padded with silence at the end); false once
  // there is nothing more (then `out` is not used).
  virtual bool Next(Frame* out) = 0;
};

// One stream's side. Called with the hub lock held: no blocking, no calls
// into the hub.
class MediaSink {
 public:
  virtual ~MediaSink() = default;
  virtual void OnAudio(const Frame& heard) = 0;
  // After OnAudio: what the call sent in the same tick (its streams' audio,
  // tones and sources, mixed).
  virtual void OnSent(const Frame& /*sent*/) {}
  // The stream's FrameSource ended (cancelled: stopped or replaced).
  virtual void OnSourceDone(bool /*cancelled*/) {}
  virtual void OnToneDone(bool cancelled) = 0;
  virtual void OnDigitsGathered(const DigitGatherer::Result& result) = 0;
  virtual void OnStats(const StreamCounters& counters) = 0;
  // The last call: the call is gone (or, `shutdown`, the hub shuts down)
  // and the hub has forgotten the stream.
  virtual void OnCallEnded(const StreamCounters& counters, bool shutdown) = 0;
};

struct HubOptions {
  bool run_clock = true;       // false: the owner calls Tick() (tests)
  size_t input_frames = 5;     // client frames queued per stream (100 ms)
  // Client frames queued before play-out starts (again, after an underrun):
  // absorbs up to (jitter_frames - 1) x 20 ms of network jitter, at as much
  // added latency.
  size_t jitter_frames = 2;
  size_t max_streams = 4096;   // streams at once, server-wide
  int stats_every_ticks = 50;  // OnStats once a second
};

class MediaHub {
 public:
  using StreamId = uint64_t;
  struct Totals {
    uint64_t ticks = 0;
    uint64_t late_ticks = 0;  // the clock fell behind by more than 100 ms and skipped
    uint64_t streams = 0;     // streams now
    uint64_t endpoints = 0;   // endpoints now
    uint64_t digits = 0;      // DTMF digits detected
  };

  // `calls` must outlive the hub.
  MediaHub(CallDirectory* calls, HubOptions options);
  ~MediaHub();
  MediaHub(const MediaHub&) = delete;
  MediaHub& operator=(const MediaHub&) = delete;

  // A stream on `call_id` (already checked to be a live call with media);
  // RESOURCE_EXHAUSTED at max_streams, UNAVAILABLE after Shutdown.
  absl::StatusOr<StreamId> Attach(const std::string& call_id, MediaSink* sink);
  // Forgets the stream; its sink is not called after Detach returns. Its
  // counters, or nullopt if the hub had already ended it.
  std::optional<StreamCounters> Detach(StreamId id);
  // A frame the client sent (queued for the next ticks; beyond
  // input_frames it is dropped and counted).
  void PushFrame(StreamId id, const Frame& frame);
  // Plays `tone` into the call, replacing the stream's current one (which
  // then reports OnToneDone(cancelled)).
  void PlayTone(StreamId id, std::unique_ptr<ToneSource> tone);
  void StopTone(StreamId id);
  // Plays `source` into the call besides the stream's tone, replacing the
  // stream's current source (which then reports OnSourceDone(cancelled)).
  void PlaySource(StreamId id, std::unique_ptr<FrameSource> source);
  void StopSource(StreamId id);
  // Gathers the digits the stream's call hears, replacing (cancelling) the
  // stream's current gathering; the result goes to OnDigitsGathered.
  void Gather(StreamId id, DigitGatherer gatherer);
  void StopGather(StreamId id);

  // One 20 ms step.
  void Tick();
  // Ends every stream and stops the clock. Idempotent.
  void Shutdown();
  Totals totals();

 private:
  struct Stream {
    std::string call_id;
    MediaSink* sink = nullptr;
    std::deque<Frame> input;
    bool primed = false;  // play-out running (jitter_frames were queued)
    bool talked = false;  // a frame was played: gaps are concealed
    std::unique_ptr<LossConcealer> concealer = std::make_unique<LossConcealer>();
    std::unique_ptr<ToneSource> tone;
    std::unique_ptr<FrameSource> source;
    std::optional<DigitGatherer> gather;
    StreamCounters counters;
  };
  struct Endpoint {
    MediaRoute route;
    std::vector<StreamId> streams;
    Frame sent{};
    Frame previous_sent{};  // for an echoing far end
    std::unique_ptr<ToneSource> prompt;
    std::unique_ptr<DtmfDetector> dtmf = std::make_unique<DtmfDetector>();
  };

  void Run();
  // Asks the directory for routes when something changed.
  void Refresh();
  // Tells the devices of `endpoints` that the hub no longer drives them.
  static void DetachDevices(absl::flat_hash_map<std::string, Endpoint>& endpoints);
  void EndStream(absl::flat_hash_map<StreamId, Stream>::iterator it, bool shutdown)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  CallDirectory* const calls_;
  const HubOptions options_;
  std::thread clock_;

  absl::Mutex mu_;
  absl::flat_hash_map<StreamId, Stream> streams_ ABSL_GUARDED_BY(mu_);
  absl::flat_hash_map<std::string, Endpoint> endpoints_ ABSL_GUARDED_BY(mu_);
  StreamId next_id_ ABSL_GUARDED_BY(mu_) = 1;
  bool dirty_ ABSL_GUARDED_BY(mu_) = false;
  uint64_t seen_generation_ ABSL_GUARDED_BY(mu_) = 0;
  bool stopped_ ABSL_GUARDED_BY(mu_) = false;
  Totals totals_ ABSL_GUARDED_BY(mu_);
  // Serialises Tick (the clock thread, or a test).
  absl::Mutex tick_mu_ ABSL_ACQUIRED_BEFORE(mu_);
};

}  // namespace linebridge::media
