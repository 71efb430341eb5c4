// Builds the wire bytes of one EventBatch for a subscriber out of events that
// the journal encoded once (JournalEntry::wire): no event is copied into a
// message or serialized again per subscriber. The bytes equal what
// v1::EventBatch serialization gives for the same batch (fields in number
// order: epoch, events, snapshot, snapshot_reason), so every client decodes
// them as before.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

#include <grpcpp/support/byte_buffer.h>

#include "absl/strings/string_view.h"
#include "linebridge/v1/telephony.pb.h"

namespace linebridge {

class BatchEncoder {
 public:
  // Starts a batch (dropping any unfinished one).
  void Start(uint64_t epoch);
  // An EventBatch.events field as the journal encoded it.
  void AddEvent(absl::string_view wire);
  // The snapshot fields (3 and 4) of `snapshot_batch`, whose epoch and
  // events are cleared first (the batch's own are used). Call after the last
  // AddEvent.
  void AddSnapshot(v1::EventBatch* snapshot_batch);

  int events() const { return events_; }
  size_t size() const { return buf_ ? buf_->size() : 0; }

  // The batch as one slice that owns the bytes (no further copy); the encoder
  // is empty afterwards.
  grpc::ByteBuffer Finish();

 private:
  std::unique_ptr<std::string> buf_;
  int events_ = 0;
  size_t last_size_ = 0;  // capacity hint for the next batch
};

}  // namespace linebridge
