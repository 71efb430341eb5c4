// AsyncAuditWriter: the audit log's writer thread and the aggregation of
// repeated refusals (declared in store/security_store.h).
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "core/log.h"
#include "store/audit_sanitize.h"
#include "store/security_store.h"

namespace linebridge {
namespace {

// How often the writer looks for aggregation windows that have ended.
constexpr absl::Duration kWindowCheck = absl::Milliseconds(500);
// Records per transaction at most.
constexpr size_t kMaxBatch = 1024;

std::string RepeatKey(const v1::AuditRecord& r) {
  return absl::StrCat(r.peer(), "\x1f", r.principal(), "\x1f", r.operation(), "\x1f", r.code(),
                      "\x1f", r.lineerr());
}

}  // namespace

AsyncAuditWriter::AsyncAuditWriter(SecurityStore* store, size_t queue_limit,
                                   absl::Duration repeat_window, size_t max_repeat_keys)
    : store_(store),
      queue_limit_(queue_limit),
      repeat_window_(repeat_window),
      max_repeat_keys_(max_repeat_keys),
      thread_([this] { Run(); }) {}

AsyncAuditWriter::~AsyncAuditWriter() {
  {
    absl::MutexLock lock(&mu_);
    CloseWindowsLocked(absl::InfiniteFuture());
    stopping_ = true;
  }
  thread_.join();
}

void AsyncAuditWriter::PushLocked(v1::AuditRecord record) {
  if (queue_.size() >= queue_limit_) {
    ++dropped_;
    return;
  }
  queue_.push_back(std::move(record));
  ++enqueued_;
}

void AsyncAuditWriter::CloseWindowsLocked(absl::Time now) {
  for (auto it = repeats_.begin(); it != repeats_.end();) {
    if (it->second.window_end > now) {
      ++it;
      continue;
    }
    if (it->second.more > 0) {
      v1::AuditRecord r = std::move(it->second.first);
      r.set_count(it->second.more);
      r.set_detail(AuditEscape(absl::StrCat("repeated ", it->second.more, " more times: ",
                                            r.detail()),
                               kAuditMaxDetail));
      const int64_t us = absl::ToUnixMicros(absl::Now());
      r.mutable_time()->set_seconds(us / 1000000);
      r.mutable_time()->set_nanos(static_cast<int32_t>(us % 1000000) * 1000);
      PushLocked(std::move(r));
    }
    it = repeats_.erase(it);
  }
}

bool AsyncAuditWriter::Enqueue(v1::AuditRecord record) {
  // Bounded before it waits in the queue (a request may carry megabytes).
  SanitizeAuditRecord(&record);
  absl::MutexLock lock(&mu_);
  if (record.code() != 0) {
    const absl::Time now = absl::Now();
    const std::string key = RepeatKey(record);
    auto it = repeats_.find(key);
    if (it != repeats_.end() && now < it->second.window_end) {
      ++it->second.more;
      return true;
    }
    if (it != repeats_.end()) CloseWindowsLocked(now);
    if (repeats_.size() < max_repeat_keys_) {
      repeats_[key] = Repeats{record, 0, now + repeat_window_};
    }
  }
  const uint64_t before = dropped_;
  PushLocked(std::move(record));
  return dropped_ == before;
}

absl::Status AsyncAuditWriter::Flush() {
  absl::MutexLock lock(&mu_);
  CloseWindowsLocked(absl::InfiniteFuture());
  // Done, or an attempt failed after the call (the records stay for retry).
  struct Arg {
    AsyncAuditWriter* writer;
    uint64_t target;
    uint64_t attempts;
  } arg{this, enqueued_, failed_attempts_};
  ++flushing_;
  mu_.Await(absl::Condition(
      +[](Arg* a) {
        a->writer->mu_.AssertReaderHeld();
        return a->writer->done_ >= a->target || a->writer->failed_attempts_ > a->attempts;
      },
      &arg));
  --flushing_;
  absl::Status st = error_;
  error_ = absl::OkStatus();
  return st;
}

uint64_t AsyncAuditWriter::dropped() const {
  absl::MutexLock lock(&mu_);
  return dropped_;
}

uint64_t AsyncAuditWriter::written() const {
  absl::MutexLock lock(&mu_);
  return written_;
}

uint64_t AsyncAuditWriter::failed() const {
  absl::MutexLock lock(&mu_);
  return failed_;
}

size_t AsyncAuditWriter::queued() const {
  absl::MutexLock lock(&mu_);
  return static_cast<size_t>(enqueued_ - done_);
}

void AsyncAuditWriter::Run() {
  std::vector<v1::AuditRecord> batch;  // kept while a transient error lasts
  while (true) {
    {
      absl::MutexLock lock(&mu_);
      if (batch.empty()) {
        const absl::Condition work(
            +[](AsyncAuditWriter* w) {
              w->mu_.AssertReaderHeld();
              return w->stopping_ || !w->queue_.empty();
            },
            this);
        // Only open aggregation windows need a timer; otherwise the writer
        // sleeps until a record comes.
        if (repeats_.empty()) {
          mu_.Await(work);
        } else {
          mu_.AwaitWithTimeout(work, kWindowCheck);
        }
        // Let more records join this transaction (kCommitLinger).
        const absl::Condition enough(
            +[](AsyncAuditWriter* w) {
              w->mu_.AssertReaderHeld();
              return w->stopping_ || w->flushing_ > 0 || w->queue_.size() >= kMaxBatch;
            },
            this);
        if (!queue_.empty() && !enough.Eval()) mu_.AwaitWithTimeout(enough, kCommitLinger);
        if (!repeats_.empty()) CloseWindowsLocked(absl::Now());
        if (queue_.empty()) {
          if (stopping_) return;  // stopping and drained
          continue;
        }
        while (!queue_.empty() && batch.size() < kMaxBatch) {
          batch.push_back(std::move(queue_.front()));
          queue_.pop_front();
        }
      }
    }
    absl::Status st = store_->AppendAudit(batch);
    if (st.ok()) {
      health_.Succeeded();
    } else {
      health_.Failed(st, batch.size(), queued());
    }
    absl::MutexLock lock(&mu_);
    if (!st.ok()) {
      ++failed_attempts_;
      error_ = st;
    }
    if (!st.ok() && IsTransientWriteError(st)) {
      if (!stopping_) {
        mu_.AwaitWithTimeout(absl::Condition(&stopping_), health_.Backoff());
        if (!repeats_.empty()) CloseWindowsLocked(absl::Now());
        continue;  // the same batch again
      }
      // Shutting down and the store still refuses: give up what is left.
      const uint64_t lost = batch.size() + queue_.size();
      LB_ERROR("audit: %d audit records lost at shutdown: %s", lost, st.message());
      done_ += lost;
      failed_ += lost;
      queue_.clear();
      batch.clear();
      continue;
    }
    done_ += batch.size();
    if (st.ok()) {
      written_ += batch.size();
    } else {
      failed_ += batch.size();
    }
    batch.clear();
  }
}

}  // namespace linebridge
