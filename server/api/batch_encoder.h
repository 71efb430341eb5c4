// Builds the wire bytes of one EventBatch for a subscriber out of events that
// the journal encoded once (JournalEntry::wire): no event is serialized again
// per subscriber, and a run of consecutive events is not even copied — the
// batch refers to the journal's chunk where they lie (AddShared). The bytes
// equal what v1::EventBatch serialization gives for the same batch (fields
// in number order: epoch, events, snapshot, snapshot_reason), so every
// client decodes them as before.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include <grpcpp/support/byte_buffer.h>

#include "absl/strings/string_view.h"
#include "core/wire_chunk.h"
#include "linebridge/v1/telephony.pb.h"

namespace linebridge {

class BatchEncoder {
 public:
  // A batch with more separate runs of shared bytes than this is copied into
  // one buffer instead (a filtered subscriber's sparse events: many tiny
  // slices would cost gRPC more than the copy).
  static constexpr size_t kMaxSharedRuns = 8;

  // Starts a batch (dropping any unfinished one).
  void Start(uint64_t epoch);
  // An EventBatch.events field as the journal encoded it, copied.
  void AddEvent(absl::string_view wire);
  // The same, referred to where it lies: `wire` must be bytes of `chunk`,
  // which the batch keeps alive (one reference per run of consecutive
  // events) until gRPC is done with it.
  void AddShared(absl::string_view wire, const WireChunkRef& chunk);
  // The snapshot fields (3 and 4) of `snapshot_batch`, whose epoch and
  // events are cleared first (the batch's own are used). Call after the last
  // AddEvent.
  void AddSnapshot(v1::EventBatch* snapshot_batch);

  int events() const { return events_; }
  // Slices of the batch that refer to journal chunks (after Finish: of the
  // last batch), for tests and benchmarks.
  size_t shared_slices() const { return shared_slices_; }

  // The batch as slices that own or refer to its bytes (no further copy);
  // the encoder is empty afterwards.
  grpc::ByteBuffer Finish();

 private:
  // A part of the batch: bytes of its own, or a range of a chunk.
  struct Piece {
    std::unique_ptr<std::string> owned;
    WireChunkRef chunk;  // held from the first event of the run
    const char* data = nullptr;
    size_t size = 0;
  };
  std::string* Owned();  // the last piece, if it owns its bytes, else a new one

  std::vector<Piece> pieces_;
  size_t runs_ = 0;  // pieces that refer to a chunk
  int events_ = 0;
  size_t shared_slices_ = 0;
  size_t last_size_ = 0;  // capacity hint for the next batch
};

}  // namespace linebridge
