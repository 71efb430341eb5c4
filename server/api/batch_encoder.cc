#include "api/batch_encoder.h"

#include <algorithm>

namespace linebridge {

void BatchEncoder::Start(uint64_t epoch) {
  buf_ = std::make_unique<std::string>();
  buf_->reserve(std::max<size_t>(last_size_, 256));
  events_ = 0;
  if (epoch != 0) {  // uint64 epoch = 1 (proto3: absent when zero)
    buf_->push_back(static_cast<char>((1 << 3) | 0));
    while (epoch >= 0x80) {
      buf_->push_back(static_cast<char>(epoch | 0x80));
      epoch >>= 7;
    }
    buf_->push_back(static_cast<char>(epoch));
  }
}

void BatchEncoder::AddEvent(absl::string_view wire) {
  buf_->append(wire.data(), wire.size());
  ++events_;
}

void BatchEncoder::AddSnapshot(v1::EventBatch* snapshot_batch) {
  snapshot_batch->clear_epoch();
  snapshot_batch->clear_events();
  snapshot_batch->AppendToString(buf_.get());
}

grpc::ByteBuffer BatchEncoder::Finish() {
  std::string* bytes = buf_.release();
  last_size_ = bytes->size();
  grpc::Slice slice(
      bytes->data(), bytes->size(), [](void* p) { delete static_cast<std::string*>(p); }, bytes);
  events_ = 0;
  return grpc::ByteBuffer(&slice, 1);
}

}  // namespace linebridge
