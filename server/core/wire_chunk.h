// Memory the journal encodes events into: a block written front to back,
// once, and only read afterwards. Consecutive events share a block, so a
// subscriber's batch of consecutive events is one range of it, which a
// stream hands to gRPC by reference instead of copying it (BatchEncoder).
//
// Reference counted by hand (WireChunk::Ref/Unref, or a WireChunkRef that
// holds one) so that a gRPC slice can hold a reference without an allocation
// of its own: the slice's destroy callback is Unref.
//
// Threading: Append is for the one writer (the journal, under its lock);
// the bytes it wrote are immutable and may be read by any thread that
// learned of them through that lock (or a later happens-before). Ref and
// Unref are thread-safe.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <utility>

namespace linebridge {

class WireChunk {
 public:
  static constexpr size_t kDefaultCapacity = 64 * 1024;

  // A chunk of at least `capacity` bytes with one reference, the caller's.
  static WireChunk* New(size_t capacity) { return new WireChunk(capacity); }

  void Ref() const { refs_.fetch_add(1, std::memory_order_relaxed); }
  void Unref() const {
    if (refs_.fetch_sub(1, std::memory_order_acq_rel) == 1) delete this;
  }
  // For a gRPC slice's destroy callback.
  static void UnrefCallback(void* chunk) { static_cast<const WireChunk*>(chunk)->Unref(); }

  // `n` bytes at the end of what is written, or nullptr if they do not fit.
  char* Append(size_t n) {
    if (n > capacity_ - used_) return nullptr;
    char* p = data_.get() + used_;
    used_ += n;
    return p;
  }
  size_t capacity() const { return capacity_; }
  size_t used() const { return used_; }
  uint32_t refs_for_test() const { return refs_.load(std::memory_order_acquire); }

 private:
  explicit WireChunk(size_t capacity)
      : capacity_(capacity), data_(std::make_unique_for_overwrite<char[]>(capacity)) {}
  ~WireChunk() = default;

  mutable std::atomic<uint32_t> refs_{1};
  const size_t capacity_;
  size_t used_ = 0;
  std::unique_ptr<char[]> data_;
};

// One reference to a chunk (or none).
class WireChunkRef {
 public:
  WireChunkRef() = default;
  // Takes over the reference `chunk` came with (WireChunk::New).
  static WireChunkRef Adopt(WireChunk* chunk) {
    WireChunkRef r;
    r.chunk_ = chunk;
    return r;
  }
  WireChunkRef(const WireChunkRef& other) : chunk_(other.chunk_) {
    if (chunk_ != nullptr) chunk_->Ref();
  }
  WireChunkRef(WireChunkRef&& other) noexcept : chunk_(std::exchange(other.chunk_, nullptr)) {}
  WireChunkRef& operator=(WireChunkRef other) noexcept {
    std::swap(chunk_, other.chunk_);
    return *this;
  }
  ~WireChunkRef() {
    if (chunk_ != nullptr) chunk_->Unref();
  }

  // Gives the reference up to the caller (who must Unref it).
  WireChunk* Release() { return std::exchange(chunk_, nullptr); }

  WireChunk* get() const { return chunk_; }
  WireChunk* operator->() const { return chunk_; }
  explicit operator bool() const { return chunk_ != nullptr; }

 private:
  WireChunk* chunk_ = nullptr;
};

}  // namespace linebridge
