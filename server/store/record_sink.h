// The engine's call records (CallRecordSink) into an AsyncCdrWriter: the
// engine holds a call's IDLE event until the writer settles its record
// (docs/reliability.md). A record the writer refuses because its queue is
// full is dropped — counted in the writer's dropped() and logged at most
// every kLogInterval — and its IDLE event is released at once: a full queue
// never stalls the event streams.
#pragma once

#include <cstdint>
#include <functional>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "core/engine.h"
#include "store/cdr_store.h"

namespace linebridge {

class WriterRecordSink : public CallRecordSink {
 public:
  static constexpr absl::Duration kLogInterval = absl::Seconds(30);

  // `writer` must outlive the sink.
  explicit WriterRecordSink(AsyncCdrWriter* writer) : writer_(writer) {}
  void Record(v1::CallRecord record, std::function<void()> settled) override;

 private:
  AsyncCdrWriter* const writer_;
  absl::Mutex mu_;
  absl::Time last_log_ ABSL_GUARDED_BY(mu_) = absl::InfinitePast();
  uint64_t unlogged_ ABSL_GUARDED_BY(mu_) = 0;
};

}  // namespace linebridge
