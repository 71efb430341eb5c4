#include "providers/modem/at/line_splitter.h"

#include <utility>

namespace linebridge::at {

std::vector<LineSplitter::Event> LineSplitter::Feed(absl::string_view bytes) {
  std::vector<Event> events;
  for (char c : bytes) {
    if (c == '\r' || c == '\n') {
      if (overflowing_) {
        Event e;
        e.type = Event::kOverflow;
        e.dropped = dropped_;
        events.push_back(std::move(e));
        overflowing_ = false;
        dropped_ = 0;
      } else if (!buffer_.empty()) {
        Event e;
        e.line = std::move(buffer_);
        events.push_back(std::move(e));
      }
      buffer_.clear();
      continue;
    }
    if (overflowing_) {
      ++dropped_;
    } else if (buffer_.size() >= max_line_) {
      overflowing_ = true;
      dropped_ = buffer_.size() + 1;
      buffer_.clear();
      buffer_.shrink_to_fit();
    } else {
      buffer_.push_back(c);
    }
  }
  return events;
}

void LineSplitter::Reset() {
  buffer_.clear();
  overflowing_ = false;
  dropped_ = 0;
}

}  // namespace linebridge::at
