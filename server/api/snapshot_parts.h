// Splits a subscriber's snapshot into parts that each fit well inside a
// client's default message limit (gRPC: 4 MiB). A server with 100,000 lines
// has a ~30 MB snapshot; sent whole, every client with default settings
// refuses it. Each part is an EventBatch of its own with the same
// snapshot.sequence and snapshot_reason; every part but the last has
// snapshot.more set, and the state is complete with the last part (events
// follow it). A snapshot that fits is one part, exactly as before.
#pragma once

#include <cstddef>
#include <deque>
#include <memory>

#include "linebridge/v1/telephony.pb.h"

namespace linebridge {

// The default target size of one part. Parts can exceed it only by one line,
// call or phone (a single entry is never split).
inline constexpr size_t kSnapshotPartBytes = 1 << 20;

// Moves `whole`'s snapshot (lines first, then calls, then phones, in order) into parts of
// at most about `part_bytes` each. `whole` must have a snapshot.
std::deque<std::unique_ptr<v1::EventBatch>> SplitSnapshot(std::unique_ptr<v1::EventBatch> whole,
                                                          size_t part_bytes);

}  // namespace linebridge
