// A record store's state for Admin.GetServerStatus (v1::StoreStatus): its
// writer's counters and health, and what retention deleted.
#pragma once

#include <string>

#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "linebridge/v1/admin.pb.h"
#include "store/retention.h"
#include "store/write_health.h"

namespace linebridge {

// `Writer`: AsyncCdrWriter or AsyncAuditWriter.
template <typename Writer>
v1::StoreStatus MakeStoreStatus(absl::string_view name, const Writer& writer,
                                const RetentionStats& retention) {
  v1::StoreStatus s;
  s.set_name(std::string(name));
  s.set_written(writer.written());
  s.set_queued(writer.queued());
  s.set_dropped(writer.dropped());
  s.set_failed(writer.failed());
  const WriteHealthSnapshot health = writer.health();
  s.set_write_errors(health.write_errors);
  if (health.failing()) {
    const int64_t us = absl::ToUnixMicros(health.failing_since);
    s.mutable_failing_since()->set_seconds(us / 1000000);
    s.mutable_failing_since()->set_nanos(static_cast<int32_t>(us % 1000000) * 1000);
    s.set_last_error(health.last_error);
  }
  s.set_pruned(retention.pruned);
  return s;
}

}  // namespace linebridge
