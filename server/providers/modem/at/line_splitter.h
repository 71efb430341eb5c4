// Splits the modem's byte stream into lines.
//
// Bytes arrive fragmented arbitrarily; a line ends at CR, LF or CRLF (so a
// modem with S3/S4 changed still splits), and empty lines are dropped (CRLF
// framing produces plenty). Lines keep every other byte as received, NUL and
// 0x80-0xff included: classification decides what they mean. A line longer
// than the cap is discarded and reported once as an overflow when its
// terminator finally arrives; the splitter is back in sync from there.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

#include "absl/strings/string_view.h"

namespace linebridge::at {

class LineSplitter {
 public:
  static constexpr size_t kDefaultMaxLine = 1024;

  struct Event {
    enum Type { kLine, kOverflow };
    Type type = kLine;
    std::string line;    // kLine: the line without its terminator
    size_t dropped = 0;  // kOverflow: bytes discarded
  };

  explicit LineSplitter(size_t max_line = kDefaultMaxLine) : max_line_(max_line) {}

  // Consumes `bytes`; returns the lines (and overflows) they complete, in order.
  std::vector<Event> Feed(absl::string_view bytes);
  // Forgets a partial line (after a port reopen).
  void Reset();

  size_t pending() const { return overflowing_ ? dropped_ : buffer_.size(); }

 private:
  size_t max_line_;
  std::string buffer_;
  bool overflowing_ = false;
  size_t dropped_ = 0;
};

}  // namespace linebridge::at
