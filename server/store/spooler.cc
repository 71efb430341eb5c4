#include "store/spooler.h"

#include <utility>

#include "absl/time/clock.h"
#include "core/log.h"

namespace linebridge {
namespace {

constexpr absl::Duration kFullLogInterval = absl::Seconds(30);

}  // namespace

Spooler::Spooler(std::unique_ptr<SpoolFile> file, Deliver deliver, std::string what)
    : deliver_(std::move(deliver)),
      what_(std::move(what)),
      path_(file->path()),
      health_(what_ + " (database)"),
      file_(std::move(file)) {
  {
    absl::MutexLock lock(&mu_);
    down_ = !file_->empty();
  }
  thread_ = std::thread([this] { Run(); });
}

Spooler::~Spooler() {
  {
    absl::MutexLock lock(&mu_);
    stopping_ = true;
    if (!file_->empty()) {
      LB_WARN("%s: %d rows stay in the spool %s until the next start", what_, file_->rows(),
              path_);
    }
  }
  thread_.join();
}

absl::Status Spooler::Write(const std::vector<SpoolEntry>& entries,
                            const std::function<absl::Status()>& direct) {
  if (entries.empty()) return absl::OkStatus();
  bool try_direct = false;
  {
    absl::MutexLock lock(&mu_);
    try_direct = !down_ && file_->empty();
  }
  if (try_direct) {
    absl::Status st = direct ? direct() : deliver_(entries);
    if (st.ok()) {
      health_.Succeeded();
      return st;
    }
    if (!IsTransientWriteError(st)) return st;
    health_.Failed(st, entries.size(), 0);
    // The rows may or may not have been committed (a reply lost with the
    // connection): spooled, they are written again, and their keys make
    // that a no-op.
  }
  absl::MutexLock lock(&mu_);
  if (try_direct && !down_) {
    down_ = true;
    LB_WARN("%s: the database is unreachable; rows are spooled to %s until it is back", what_,
            path_);
  }
  absl::Status st = file_->Append(entries, absl::ToUnixMicros(absl::Now()));
  if (absl::IsResourceExhausted(st)) {
    full_drops_ += entries.size();
    unlogged_drops_ += entries.size();
    const absl::Time now = absl::Now();
    if (now - last_full_log_ >= kFullLogInterval) {
      LB_ERROR("%s: %d rows lost since the last report (%d in all): %s", what_, unlogged_drops_,
               full_drops_, st.message());
      last_full_log_ = now;
      unlogged_drops_ = 0;
    }
    return st;
  }
  if (st.ok()) spooled_ += entries.size();
  return st;
}

bool Spooler::WaitDrained(absl::Duration timeout) const {
  absl::MutexLock lock(&mu_);
  const auto drained = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return file_->empty(); };
  return mu_.AwaitWithTimeout(absl::Condition(&drained), timeout);
}

SpoolStats Spooler::stats() const {
  SpoolStats s;
  s.health = health_.Get();
  absl::MutexLock lock(&mu_);
  s.rows = file_->rows();
  s.bytes = file_->bytes();
  s.max_bytes = file_->max_bytes();
  s.oldest_us = file_->oldest_us();
  s.spooled = spooled_;
  s.delivered = delivered_;
  s.full_drops = full_drops_;
  s.discarded = discarded_;
  return s;
}

size_t Spooler::DeliverBatch(const std::vector<SpoolEntry>& batch, size_t* dropped,
                             absl::Status* error) {
  absl::Status st = deliver_(batch);
  if (st.ok()) return batch.size();
  if (IsTransientWriteError(st)) {
    *error = st;
    return 0;
  }
  // Refused for good: one by one, so that one row does not take the
  // others with it.
  size_t done = 0;
  for (const SpoolEntry& e : batch) {
    st = batch.size() == 1 ? st : deliver_({e});
    if (IsTransientWriteError(st)) {
      *error = st;
      return done;
    }
    if (!st.ok()) {
      LB_ERROR("%s: a spooled row (key \"%s\") is refused by the database and dropped: %s",
               what_, e.key, st.message());
      ++*dropped;
    }
    ++done;
  }
  return done;
}

void Spooler::Run() {
  for (;;) {
    std::vector<SpoolEntry> batch;
    std::vector<uint64_t> ends;
    {
      absl::MutexLock lock(&mu_);
      const auto ready = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
        return stopping_ || !file_->empty();
      };
      mu_.Await(absl::Condition(&ready));
      if (stopping_) return;
      absl::StatusOr<std::vector<SpoolEntry>> read =
          file_->ReadFront(kDeliverBatch, kDeliverBytes, &ends);
      if (!read.ok()) {
        LB_ERROR("%s: %d spooled rows given up: %s", what_, file_->rows(), read.status().message());
        discarded_ += file_->rows();
        if (absl::Status st = file_->Consume(file_->file_bytes(), file_->rows()); !st.ok()) {
          LB_ERROR("%s: %s", what_, st.message());
        }
        continue;
      }
      batch = std::move(*read);
    }
    absl::Status error;
    size_t dropped = 0;
    const size_t done = DeliverBatch(batch, &dropped, &error);
    if (error.ok()) {
      health_.Succeeded();
    } else {
      health_.Failed(error, batch.size() - done, stats().rows);
    }
    absl::MutexLock lock(&mu_);
    if (done > 0) {
      if (absl::Status st = file_->Consume(ends[done - 1], done); !st.ok()) {
        // The head stays where it was: the rows are delivered again later,
        // which their keys make harmless.
        LB_ERROR("%s: %s", what_, st.message());
      }
      delivered_ += done - dropped;
      discarded_ += dropped;
      if (file_->empty() && down_) {
        down_ = false;
        LB_LOG("%s: every spooled row is in the database (%d delivered since start)", what_,
               delivered_);
      }
    }
    if (!error.ok()) mu_.AwaitWithTimeout(absl::Condition(&stopping_), health_.Backoff());
  }
}

}  // namespace linebridge
