// Merges the parts of a large snapshot (v1::Snapshot.more) into one batch, so
// that an application sees one whole snapshot whatever its size. Used by
// Subscription for every stream; usable on its own by code that reads
// Subscribe directly.
#pragma once

#include <optional>

#include "linebridge/v1/telephony.pb.h"

namespace linebridge {

class SnapshotAssembler {
 public:
  // Takes the next batch read from one stream. Returns true when `batch` is
  // ready to deliver: it is either not part of a snapshot, or the last part,
  // which then holds the whole snapshot (lines and calls of every part in
  // order) and its own events. Returns false for an earlier part (kept here).
  bool Add(v1::EventBatch* batch);
  // Forgets a half-received snapshot (call when the stream ends).
  void Reset() { pending_.reset(); }
  bool assembling() const { return pending_.has_value(); }

 private:
  std::optional<v1::Snapshot> pending_;
};

}  // namespace linebridge
