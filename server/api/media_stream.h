// The Media service: one bidirectional stream per call and client
// (linebridge.v1.Media.StreamMedia, docs/media.md).
//
// The stream is a raw bidi reactor: it parses each message itself, so a
// message that does not parse gets INVALID_ARGUMENT + TapiError like any
// other request (api/parse_failure.h). The first message is authorized
// (the RPC table's row: control on the call's line), audited and attached to
// the media hub; then the client's frames go to the hub and the hub's frames
// come back through a bounded queue: when the client reads too slowly the
// oldest frames are dropped and counted, and the hub never waits.
#pragma once

#include <atomic>
#include <deque>
#include <optional>
#include <string>

#include <grpcpp/grpcpp.h>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "api/auth.h"
#include "core/engine.h"
#include "linebridge/v1/media.grpc.pb.h"
#include "media/media_hub.h"

namespace linebridge {

struct MediaStreamOptions {
  size_t queue_frames = 25;  // frames (500 ms) a client may lag before drops
};

class MediaStream final : public grpc::ServerBidiReactor<grpc::ByteBuffer, grpc::ByteBuffer>,
                          public media::MediaSink {
 public:
  // Process-wide counters (metrics, benchmarks).
  struct Counters {
    std::atomic<uint64_t> streams{0};          // streams now
    std::atomic<uint64_t> frames_sent{0};      // frames written to clients
    std::atomic<uint64_t> frames_dropped{0};   // dropped for slow clients
  };
  static Counters& counters();

  MediaStream(grpc::CallbackServerContext* ctx, Engine* engine, media::MediaHub* hub, Guard* guard,
              MediaStreamOptions options);

  void OnReadDone(bool ok) override;
  void OnWriteDone(bool ok) override;
  void OnCancel() override;
  void OnDone() override;

  // media::MediaSink (hub lock held).
  void OnAudio(const media::Frame& heard) override;
  void OnToneDone(bool cancelled) override;
  void OnDigitsGathered(const media::DigitGatherer::Result& result) override;
  void OnStats(const media::StreamCounters& counters) override;
  void OnCallEnded(const media::StreamCounters& counters, bool shutdown) override;

 private:
  struct Out {
    grpc::ByteBuffer bytes;
    enum Kind { kFrame, kStats, kOther } kind;
  };

  // Authorizes, audits and attaches the stream.
  absl::Status Start(const v1::MediaRequest& req);
  absl::Status Attach(const std::string& call_id, v1::AudioFormat format, std::string* line);
  absl::Status Handle(const v1::MediaRequest& req);
  // Ends the stream with `status` after detaching it from the hub.
  void Fail(const grpc::Status& status);
  void Queue(const v1::MediaResponse& msg, Out::Kind kind) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void StatsLocked(const media::StreamCounters& counters, bool ended)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void WriteNext() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void FinishOnce(const grpc::Status& status) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  grpc::CallbackServerContext* const ctx_;
  Engine* const engine_;
  media::MediaHub* const hub_;
  Guard* const guard_;
  const MediaStreamOptions options_;

  // The read side: touched only by OnReadDone (gRPC runs one at a time) and
  // by OnDone after it.
  grpc::ByteBuffer in_;
  bool started_ = false;
  media::MediaHub::StreamId id_ = 0;
  std::optional<media::Codec> decoder_;
  uint64_t last_client_ms_ = 0;

  absl::Mutex mu_;
  std::optional<media::Codec> encoder_ ABSL_GUARDED_BY(mu_);
  std::deque<Out> out_ ABSL_GUARDED_BY(mu_);
  size_t queued_frames_ ABSL_GUARDED_BY(mu_) = 0;
  grpc::ByteBuffer writing_bytes_ ABSL_GUARDED_BY(mu_);
  bool writing_ ABSL_GUARDED_BY(mu_) = false;
  bool finished_ ABSL_GUARDED_BY(mu_) = false;  // Finish called
  bool closing_ ABSL_GUARDED_BY(mu_) = false;   // an end is decided: queue nothing more
  bool ready_ ABSL_GUARDED_BY(mu_) = false;     // MediaStarted queued: frames may follow
  // Finish with this once the queue is written (the call ended).
  std::optional<grpc::Status> finish_when_drained_ ABSL_GUARDED_BY(mu_);
  // Finish with this once the write in flight completes.
  std::optional<grpc::Status> finish_after_write_ ABSL_GUARDED_BY(mu_);
  uint64_t sequence_ ABSL_GUARDED_BY(mu_) = 0;
  uint64_t sent_ ABSL_GUARDED_BY(mu_) = 0;
  uint64_t dropped_ ABSL_GUARDED_BY(mu_) = 0;
  media::StreamCounters hub_counters_ ABSL_GUARDED_BY(mu_);
};

}  // namespace linebridge
