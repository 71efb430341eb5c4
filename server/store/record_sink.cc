#include "store/record_sink.h"

#include <memory>
#include <utility>

#include "absl/time/clock.h"
#include "core/log.h"

namespace linebridge {

void WriterRecordSink::Record(v1::CallRecord record, std::function<void()> settled) {
  // Enqueue keeps `settled` only if it takes the record.
  auto keep = std::make_shared<std::function<void()>>(std::move(settled));
  if (writer_->Enqueue(std::move(record), [keep] { (*keep)(); })) return;
  (*keep)();
  const absl::Time now = absl::Now();
  absl::MutexLock lock(&mu_);
  ++unlogged_;
  if (now - last_log_ < kLogInterval) return;
  LB_WARN("cdr: write queue full: %d call-detail records dropped since the last report (%d in "
          "all); their calls' IDLE events were not held back",
          unlogged_, writer_->dropped());
  last_log_ = now;
  unlogged_ = 0;
}

}  // namespace linebridge
