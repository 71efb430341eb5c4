#include "api/event_stream.h"

#include "api/snapshot_parts.h"

#include "absl/strings/str_format.h"
#include "linebridge/lineerr.h"
#include "linebridge/rpc_status.h"
#include "linebridge/status_macros.h"

namespace linebridge {

EventStream::Counters& EventStream::counters() {
  static Counters* c = new Counters();
  return *c;
}

std::atomic<uint32_t>& EventStream::live_count() {
  static std::atomic<uint32_t> count{0};
  return count;
}

void EventStream::Waker::Wake() {
  absl::MutexLock lock(&mu_);
  if (stream_ != nullptr) stream_->Pump();
}

void EventStream::Waker::Detach() {
  absl::MutexLock lock(&mu_);
  stream_ = nullptr;
}

EventStream::EventStream(grpc::CallbackServerContext* ctx, Engine* engine,
                         EventStreamOptions options, const v1::SubscribeRequest& request,
                         Guard* guard)
    : ctx_(ctx),
      engine_(engine),
      options_(options),
      session_id_(request.session_id()),
      lines_(request.line_ids().begin(), request.line_ids().end()),
      guard_(guard),
      waker_(std::make_shared<Waker>(this)) {
  live_count().fetch_add(1);
  absl::Status allowed = Admit(request);
  if (!allowed.ok()) {
    absl::MutexLock lock(&mu_);
    FinishOnce(ToGrpcStatus(allowed));
    return;
  }
  auto start = engine_->StartSubscription(request);
  if (!start.ok()) {
    absl::MutexLock lock(&mu_);
    FinishOnce(ToGrpcStatus(start.status()));
    return;
  }
  started_ = true;
  {
    absl::MutexLock lock(&mu_);
    next_ = start->next_sequence;
    if (start->snapshot) {
      pending_snapshot_ = SplitSnapshot(std::move(start->snapshot), kSnapshotPartBytes);
    }
  }
  Pump();
}

absl::Status EventStream::Admit(const v1::SubscribeRequest& request) {
  absl::StatusOr<Caller> caller = guard_->Authenticate(*ctx_);
  if (!caller.ok()) return caller.status();
  LB_RETURN_IF_ERROR(guard_->CheckSession(*caller, request.session_id()));
  for (const std::string& line : request.line_ids()) {
    LB_RETURN_IF_ERROR(guard_->CheckLine(*caller, line, Perm::kMonitor));
  }
  LB_RETURN_IF_ERROR(guard_->AcquireStream(*caller));
  holds_slot_ = true;
  caller_ = *std::move(caller);
  return absl::OkStatus();
}

void EventStream::Pump() {
  EventJournal& journal = engine_->journal();
  absl::MutexLock lock(&mu_);
  if (finished_) return;
  // Grants may have changed since the last batch: they apply at once.
  if (absl::StatusOr<Caller> fresh = guard_->Refresh(*caller_); fresh.ok()) {
    caller_ = *std::move(fresh);
  } else {
    FinishOnce(ToGrpcStatus(fresh.status()));
    return;
  }
  // Lag counts what the client could have read (not events held back for a
  // call record: journal.h).
  const uint64_t last = journal.visible_sequence();
  const uint64_t lag = last >= next_ ? last - next_ + 1 : 0;
  if (in_flight_) {
    if (lag > options_.queue_limit) {
      // The client stopped reading: end the RPC without waiting for it.
      counters().cutoffs.fetch_add(1, std::memory_order_relaxed);
      ctx_->TryCancel();
      return;
    }
    // Look again once the lag could exceed the limit.
    journal.WaitForSequence(next_ + options_.queue_limit, waker_);
    return;
  }
  // A stream that was asleep on the journal lags only by events its filter
  // skipped; one that was writing lags because its client is slow.
  const bool was_idle = idle_;
  idle_ = false;
  if (!was_idle && lag > options_.queue_limit) {
    FinishOnce(ToGrpcStatus(ResourceExhausted(
        LINEERR_RESOURCEUNAVAIL,
        absl::StrFormat("subscriber fell %d events behind (limit %d); resume from sequence %d",
                        lag, options_.queue_limit, next_ - 1))));
    counters().cutoffs.fetch_add(1, std::memory_order_relaxed);
    return;
  }
  std::unique_ptr<v1::EventBatch> snapshot;
  if (!pending_snapshot_.empty()) {
    snapshot = std::move(pending_snapshot_.front());
    pending_snapshot_.pop_front();
    FilterSnapshot(*caller_, snapshot.get());
  }
  encoder_.Start(journal.epoch());
  if (snapshot && snapshot->snapshot().more()) {
    // A part of a large snapshot: a batch of its own, no events.
    encoder_.AddSnapshot(snapshot.get());
    in_flight_ = true;
    in_flight_events_ = 0;
    batch_ = encoder_.Finish();
    journal.WaitForSequence(next_ + options_.queue_limit, waker_);
    StartWrite(&batch_);
    return;
  }
  bool shutdown = false;
  // Runs under the journal's shared lock (and mu_): no allocation, no copy
  // of the events' bytes but for a sparse batch (BatchEncoder).
  auto add = [&](const JournalEntry& entry) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    const v1::Event& ev = entry.event;
    if (!Engine::Matches(ev, lines_)) return;
    if (!EventVisible(*caller_, ev, session_id_)) return;
    encoder_.AddShared(entry.wire, entry.chunk);
    if (ev.has_server_shutdown()) shutdown = true;
  };
  while (true) {
    size_t visited = 0;
    if (journal.Visit(next_, options_.max_batch, add, &visited) == EventJournal::ReadStatus::kGap) {
      FinishOnce(ToGrpcStatus(ResourceExhausted(
          LINEERR_RESOURCEUNAVAIL,
          absl::StrFormat("subscriber fell behind the journal; resume from sequence %d",
                          next_ - 1))));
      counters().cutoffs.fetch_add(1, std::memory_order_relaxed);
      return;
    }
    next_ += visited;
    if (encoder_.events() > 0 || snapshot) break;
    if (visited == 0) {
      // Caught up: sleep until an event for our lines (unless one slipped in).
      if (journal.WaitFor(next_, waker_, &lines_)) {
        idle_ = true;
        return;
      }
    }
  }
  if (shutdown) finish_after_write_ = true;
  if (snapshot) encoder_.AddSnapshot(snapshot.get());
  in_flight_ = true;
  in_flight_events_ = encoder_.events();
  batch_ = encoder_.Finish();
  // While this write is out, look again if the lag could pass the limit.
  journal.WaitForSequence(next_ + options_.queue_limit, waker_);
  StartWrite(&batch_);
}

namespace {

class RefusedStream : public grpc::ServerWriteReactor<grpc::ByteBuffer> {
 public:
  explicit RefusedStream(const std::string& why) {
    Finish(grpc::Status(grpc::StatusCode::UNIMPLEMENTED, why));
  }
  void OnDone() override { delete this; }
};

}  // namespace

grpc::ServerWriteReactor<grpc::ByteBuffer>* EventStream::Refuse(const std::string& why) {
  return new RefusedStream(why);
}

void EventStream::OnWriteDone(bool ok) {
  {
    absl::MutexLock lock(&mu_);
    in_flight_ = false;
    if (ok) counters().events_delivered.fetch_add(in_flight_events_, std::memory_order_relaxed);
    if (!ok) {
      FinishOnce(grpc::Status(grpc::StatusCode::CANCELLED, "stream write failed"));
      return;
    }
    if (finish_after_write_) {
      FinishOnce(grpc::Status(grpc::StatusCode::UNAVAILABLE, "server is shutting down"));
      return;
    }
  }
  Pump();
}

void EventStream::OnCancel() {
  absl::MutexLock lock(&mu_);
  if (!in_flight_) FinishOnce(grpc::Status::CANCELLED);
}

void EventStream::FinishOnce(const grpc::Status& status) {
  if (finished_) return;
  finished_ = true;
  Finish(status);
}

void EventStream::OnDone() {
  waker_->Detach();
  engine_->journal().CancelWait(waker_.get());
  if (started_) engine_->EndSubscription(session_id_);
  if (holds_slot_) guard_->ReleaseStream(*caller_);
  live_count().fetch_sub(1);
  delete this;
}

}  // namespace linebridge
