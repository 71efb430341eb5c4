// One escaping rule for strings that reach a log row or a terminal from the
// network: control characters (C0, DEL and C1) and bytes that are not UTF-8
// are written as \xNN; everything else (printable UTF-8, backslashes) stays.
// Used by the server's audit log and by every line linectl prints.
#pragma once

#include <algorithm>
#include <cstddef>
#include <string>

#include "absl/strings/str_format.h"
#include "absl/strings/string_view.h"

namespace linebridge {
namespace internal {

// Length of the valid UTF-8 sequence at `s[i]` (0 if none). C1 controls
// (U+0080..U+009F) count as invalid: terminals act on them.
inline size_t PrintableUtf8Length(absl::string_view s, size_t i) {
  const auto b = [&](size_t k) { return static_cast<unsigned char>(s[i + k]); };
  const unsigned char c = b(0);
  auto cont = [&](size_t k) { return i + k < s.size() && (b(k) & 0xC0) == 0x80; };
  if (c >= 0xC2 && c <= 0xDF && cont(1)) {
    return (c == 0xC2 && b(1) < 0xA0) ? 0 : 2;
  }
  if (c >= 0xE0 && c <= 0xEF && cont(1) && cont(2)) {
    if (c == 0xE0 && b(1) < 0xA0) return 0;              // overlong
    if (c == 0xED && b(1) >= 0xA0) return 0;             // surrogates
    return 3;
  }
  if (c >= 0xF0 && c <= 0xF4 && cont(1) && cont(2) && cont(3)) {
    if (c == 0xF0 && b(1) < 0x90) return 0;
    if (c == 0xF4 && b(1) >= 0x90) return 0;
    return 4;
  }
  return 0;
}

}  // namespace internal

// `in` escaped as above, cut to at most `max_bytes` of output (never inside
// an escape or a UTF-8 sequence) with "..." appended when cut. Idempotent:
// an escaped string passes through unchanged.
inline std::string EscapeControl(absl::string_view in, size_t max_bytes = std::string::npos) {
  std::string out;
  out.reserve(std::min(in.size(), max_bytes));
  const size_t budget = max_bytes > 3 ? max_bytes - 3 : 0;  // room for "..."
  for (size_t i = 0; i < in.size();) {
    const unsigned char c = static_cast<unsigned char>(in[i]);
    std::string piece;
    size_t used = 1;
    if (c < 0x20 || c == 0x7F) {
      piece = absl::StrFormat("\\x%02x", c);
    } else if (c < 0x80) {
      piece.assign(1, static_cast<char>(c));
    } else if (size_t n = internal::PrintableUtf8Length(in, i); n > 0) {
      piece.assign(in.data() + i, n);
      used = n;
    } else {
      piece = absl::StrFormat("\\x%02x", c);
    }
    if (out.size() + piece.size() > budget && i + used < in.size()) {
      out += "...";
      return out;
    }
    if (out.size() + piece.size() > max_bytes) {
      out += "...";
      return out;
    }
    out += piece;
    i += used;
  }
  return out;
}

}  // namespace linebridge
