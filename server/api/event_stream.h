// The Subscribe stream: a write reactor that is a cursor into the event
// journal. It starts with a snapshot or a replay, batches whatever the journal
// holds past its cursor into each write, and sleeps on the journal when it has
// caught up. A subscriber that falls further behind than its queue limit is
// cut off with a resumable error; the server never waits for it.
//
// The stream writes raw bytes (the method is registered as a raw callback
// method): each event's encoding is made once by the journal and copied into
// the batch of every subscriber whose filter admits it (BatchEncoder). The
// bytes are those of a serialized v1::EventBatch; clients see no difference.
#pragma once

#include <atomic>
#include <deque>
#include <memory>
#include <optional>
#include <set>
#include <string>

#include <grpcpp/grpcpp.h>

#include "absl/synchronization/mutex.h"
#include "api/auth.h"
#include "api/batch_encoder.h"
#include "core/engine.h"
#include "linebridge/v1/telephony.pb.h"

namespace linebridge {

struct EventStreamOptions {
  size_t max_batch = 256;
  size_t queue_limit = 16384;  // events a subscriber may lag before it is cut off
};

class EventStream : public grpc::ServerWriteReactor<grpc::ByteBuffer> {
 public:
  // Counts live streams (for ServerStatus).
  static std::atomic<uint32_t>& live_count();
  // Process-wide counters for metrics.
  struct Counters {
    std::atomic<uint64_t> events_delivered{0};  // events in writes that completed
    std::atomic<uint64_t> cutoffs{0};           // subscribers cut off for falling behind
  };
  static Counters& counters();

  // The caller is authenticated and may see only its lines (Guard); a
  // stream holds one of its principal's stream slots until it ends.
  EventStream(grpc::CallbackServerContext* ctx, Engine* engine, EventStreamOptions options,
              const v1::SubscribeRequest& request, Guard* guard);

  // The reactor for a request that did not parse: finishes at once with the
  // status the parse-failure interceptor turns into INVALID_ARGUMENT.
  static grpc::ServerWriteReactor<grpc::ByteBuffer>* Refuse(const std::string& why);

  void OnWriteDone(bool ok) override;
  void OnCancel() override;
  void OnDone() override;

 private:
  // Shared with the journal's waiter list so a wake-up that races with the
  // end of the stream finds the stream gone instead of freed memory.
  class Waker : public EventJournal::Waiter {
   public:
    explicit Waker(EventStream* stream) : stream_(stream) {}
    void Wake() override;
    void Detach();

   private:
    absl::Mutex mu_;
    EventStream* stream_ ABSL_GUARDED_BY(mu_);
  };

  absl::Status Admit(const v1::SubscribeRequest& request);
  void Pump();
  void FinishOnce(const grpc::Status& status) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  grpc::CallbackServerContext* const ctx_;
  Engine* const engine_;
  const EventStreamOptions options_;
  const std::string session_id_;
  std::set<std::string> lines_;
  Guard* const guard_;
  std::optional<Caller> caller_;  // set once authenticated
  bool holds_slot_ = false;
  std::shared_ptr<Waker> waker_;
  bool started_ = false;  // the subscription bound its session

  absl::Mutex mu_;
  uint64_t next_ ABSL_GUARDED_BY(mu_) = 1;
  bool in_flight_ ABSL_GUARDED_BY(mu_) = false;
  int in_flight_events_ ABSL_GUARDED_BY(mu_) = 0;
  bool finished_ ABSL_GUARDED_BY(mu_) = false;
  bool idle_ ABSL_GUARDED_BY(mu_) = false;  // caught up, sleeping on the journal
  bool finish_after_write_ ABSL_GUARDED_BY(mu_) = false;  // ServerShutdown is in the batch
  // The snapshot still to send, in parts (api/snapshot_parts.h).
  std::deque<std::unique_ptr<v1::EventBatch>> pending_snapshot_ ABSL_GUARDED_BY(mu_);
  BatchEncoder encoder_ ABSL_GUARDED_BY(mu_);
  grpc::ByteBuffer batch_ ABSL_GUARDED_BY(mu_);  // the write in flight
};

}  // namespace linebridge
