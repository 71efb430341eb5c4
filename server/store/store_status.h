// A record store's state for Admin.GetServerStatus (v1::StoreStatus): its
// writer's counters and health, and what retention deleted.
#pragma once

#include <string>

#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "linebridge/v1/admin.pb.h"
#include "store/retention.h"
#include "store/spooler.h"
#include "store/write_health.h"

namespace linebridge {

inline void SetTimestampMicros(int64_t us, google::protobuf::Timestamp* t) {
  t->set_seconds(us / 1000000);
  t->set_nanos(static_cast<int32_t>(us % 1000000) * 1000);
}

// `Writer`: AsyncCdrWriter or AsyncAuditWriter. `spool`: the store's spool
// (PostgreSQL), else null; while the database refuses writes, its failure
// is the store's.
template <typename Writer>
v1::StoreStatus MakeStoreStatus(absl::string_view name, const Writer& writer,
                                const RetentionStats& retention,
                                const Spooler* spool = nullptr) {
  v1::StoreStatus s;
  s.set_name(std::string(name));
  s.set_written(writer.written());
  s.set_queued(writer.queued());
  s.set_dropped(writer.dropped());
  s.set_failed(writer.failed());
  WriteHealthSnapshot health = writer.health();
  uint64_t write_errors = health.write_errors;
  if (spool != nullptr) {
    const SpoolStats spooled = spool->stats();
    write_errors += spooled.health.write_errors;
    if (!health.failing()) health = spooled.health;
    s.set_spool_rows(spooled.rows);
    s.set_spool_bytes(spooled.bytes);
    s.set_spool_max_bytes(spooled.max_bytes);
    if (spooled.oldest_us != 0) SetTimestampMicros(spooled.oldest_us, s.mutable_spool_oldest());
    s.set_spooled(spooled.spooled);
    s.set_spool_delivered(spooled.delivered);
    s.set_spool_full_drops(spooled.full_drops);
    s.set_spool_discarded(spooled.discarded);
  }
  s.set_write_errors(write_errors);
  if (health.failing()) {
    SetTimestampMicros(absl::ToUnixMicros(health.failing_since), s.mutable_failing_since());
    s.set_last_error(health.last_error);
  }
  s.set_pruned(retention.pruned);
  return s;
}

}  // namespace linebridge
