// Handles TAPI holds for us (HDRVLINE, HDRVCALL) are ids, never pointers: an
// id is looked up and checked on every TSPI call, so a stale or forged handle
// yields LINEERR_INVALLINEHANDLE / LINEERR_INVALCALLHANDLE instead of a crash.
// Ids are not reused for 2^32 allocations.
#pragma once

#include <cstdint>
#include <optional>
#include <utility>

#include "absl/container/flat_hash_map.h"

namespace linebridge::tsp {

template <typename T>
class HandleTable {
 public:
  // A new handle for `value` (never 0).
  uint32_t Add(T value) {
    uint32_t id;
    do {
      id = next_++;
    } while (id == 0 || entries_.contains(id));
    entries_.emplace(id, std::move(value));
    return id;
  }
  T* Find(uint32_t id) {
    auto it = entries_.find(id);
    return it == entries_.end() ? nullptr : &it->second;
  }
  std::optional<T> Remove(uint32_t id) {
    auto it = entries_.find(id);
    if (it == entries_.end()) return std::nullopt;
    T value = std::move(it->second);
    entries_.erase(it);
    return value;
  }
  size_t size() const { return entries_.size(); }
  template <typename F>
  void ForEach(F&& f) {
    for (auto& [id, value] : entries_) f(id, value);
  }

 private:
  uint32_t next_ = 1;
  absl::flat_hash_map<uint32_t, T> entries_;
};

// A TAPI handle (HDRVLINE, HDRVCALL) carries its table id; 0 if it cannot.
inline uint32_t IdOf(const void* handle) {
  const auto v = reinterpret_cast<uintptr_t>(handle);
  return v > UINT32_MAX ? 0 : static_cast<uint32_t>(v);
}
template <typename Handle>
Handle HandleOf(uint32_t id) {
  return reinterpret_cast<Handle>(static_cast<uintptr_t>(id));
}

}  // namespace linebridge::tsp
