// Buffers for the variable-size TAPI structures the TSPI functions fill
// (LINEDEVCAPS, LINECALLINFO, VARSTRING, ...), shared by the harness tests.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstring>
#include <string>
#include <vector>

#include "linebridge/tapi_abi.h"

namespace linebridge::tsp_test {

// What fills a buffer past dwTotalSize: the provider must never write there.
inline constexpr unsigned char kPoison = 0xAB;

// A structure buffer of `capacity` bytes: the first `total` zeroed with
// dwTotalSize = `total`, poison after them.
inline std::vector<unsigned char> Buffer(DWORD total, size_t capacity = 8192) {
  std::vector<unsigned char> b(capacity, kPoison);
  std::memset(b.data(), 0, std::min<size_t>(total, capacity));
  std::memcpy(b.data(), &total, sizeof total);
  return b;
}

// The fixed part of the structure (a copy: the buffer is byte-aligned).
template <typename S>
S Fixed(const std::vector<unsigned char>& b) {
  S s;
  std::memcpy(&s, b.data(), sizeof s);
  return s;
}

// Whether every byte from `from` on is still poison.
inline bool PoisonIntact(const std::vector<unsigned char>& b, size_t from) {
  return std::all_of(b.begin() + static_cast<std::ptrdiff_t>(std::min(from, b.size())), b.end(),
                     [](unsigned char c) { return c == kPoison; });
}

// The UTF-16 string at dwXxxOffset/dwXxxSize, as ASCII ("" if out of range).
inline std::string String16At(const std::vector<unsigned char>& b, DWORD size, DWORD offset) {
  std::string out;
  if (size == 0 || static_cast<size_t>(offset) + size > b.size()) return out;
  for (DWORD i = 0; i + 1 < size; i += 2) {
    char16_t c;
    std::memcpy(&c, b.data() + offset + i, 2);
    if (c == 0) break;
    out.push_back(static_cast<char>(c));
  }
  return out;
}

}  // namespace linebridge::tsp_test
