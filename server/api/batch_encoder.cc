#include "api/batch_encoder.h"

#include <algorithm>
#include <utility>

namespace linebridge {
namespace {

grpc::Slice OwningSlice(std::unique_ptr<std::string> bytes) {
  std::string* s = bytes.release();
  return grpc::Slice(
      s->data(), s->size(), [](void* p) { delete static_cast<std::string*>(p); }, s);
}

}  // namespace

void BatchEncoder::Start(uint64_t epoch) {
  pieces_.clear();
  runs_ = 0;
  events_ = 0;
  std::string* head = Owned();
  if (epoch != 0) {  // uint64 epoch = 1 (proto3: absent when zero)
    head->push_back(static_cast<char>((1 << 3) | 0));
    while (epoch >= 0x80) {
      head->push_back(static_cast<char>(epoch | 0x80));
      epoch >>= 7;
    }
    head->push_back(static_cast<char>(epoch));
  }
}

std::string* BatchEncoder::Owned() {
  if (pieces_.empty() || pieces_.back().owned == nullptr) {
    Piece p;
    p.owned = std::make_unique<std::string>();
    // The first piece usually takes the whole batch (copied events).
    p.owned->reserve(pieces_.empty() ? std::max<size_t>(last_size_, 256) : 256);
    pieces_.push_back(std::move(p));
  }
  return pieces_.back().owned.get();
}

void BatchEncoder::AddEvent(absl::string_view wire) {
  Owned()->append(wire.data(), wire.size());
  ++events_;
}

void BatchEncoder::AddShared(absl::string_view wire, const WireChunkRef& chunk) {
  ++events_;
  if (!pieces_.empty()) {
    Piece& last = pieces_.back();
    if (last.chunk.get() == chunk.get() && last.data + last.size == wire.data()) {
      last.size += wire.size();  // the next event in the same chunk
      return;
    }
  }
  Piece p;
  p.chunk = chunk;
  p.data = wire.data();
  p.size = wire.size();
  pieces_.push_back(std::move(p));
  ++runs_;
}

void BatchEncoder::AddSnapshot(v1::EventBatch* snapshot_batch) {
  snapshot_batch->clear_epoch();
  snapshot_batch->clear_events();
  snapshot_batch->AppendToString(Owned());
}

grpc::ByteBuffer BatchEncoder::Finish() {
  std::vector<Piece> pieces = std::move(pieces_);
  pieces_.clear();
  events_ = 0;
  shared_slices_ = 0;
  if (runs_ > kMaxSharedRuns) {
    // Too fragmented to send by reference: one buffer.
    size_t total = 0;
    for (const Piece& p : pieces) total += p.owned ? p.owned->size() : p.size;
    auto flat = std::make_unique<std::string>();
    flat->reserve(total);
    for (const Piece& p : pieces) {
      if (p.owned) {
        flat->append(*p.owned);
      } else {
        flat->append(p.data, p.size);
      }
    }
    runs_ = 0;
    last_size_ = flat->size();
    grpc::Slice slice = OwningSlice(std::move(flat));
    return grpc::ByteBuffer(&slice, 1);
  }
  runs_ = 0;
  std::vector<grpc::Slice> slices;
  slices.reserve(pieces.size());
  last_size_ = 0;
  for (Piece& p : pieces) {
    if (p.owned) {
      if (p.owned->empty()) continue;
      last_size_ += p.owned->size();
      slices.push_back(OwningSlice(std::move(p.owned)));
    } else {
      // The piece's reference goes to the slice, whose destroy callback
      // releases it.
      slices.emplace_back(const_cast<char*>(p.data), p.size, &WireChunk::UnrefCallback,
                          p.chunk.Release());
      ++shared_slices_;
    }
  }
  if (slices.empty()) slices.push_back(OwningSlice(std::make_unique<std::string>()));
  return grpc::ByteBuffer(slices.data(), slices.size());
}

}  // namespace linebridge
