#include "api/snapshot_parts.h"

#include <utility>

namespace linebridge {

std::deque<std::unique_ptr<v1::EventBatch>> SplitSnapshot(std::unique_ptr<v1::EventBatch> whole,
                                                          size_t part_bytes) {
  std::deque<std::unique_ptr<v1::EventBatch>> parts;
  if (whole->ByteSizeLong() <= part_bytes) {
    parts.push_back(std::move(whole));
    return parts;
  }
  v1::Snapshot* snap = whole->mutable_snapshot();
  size_t size = 0;
  auto start_part = [&] {
    auto part = std::make_unique<v1::EventBatch>();
    part->set_epoch(whole->epoch());
    part->set_snapshot_reason(whole->snapshot_reason());
    part->mutable_snapshot()->set_sequence(snap->sequence());
    part->mutable_snapshot()->set_more(true);
    size = part->ByteSizeLong();
    parts.push_back(std::move(part));
  };
  // Room for an entry: its bytes plus its tag and length prefix (an entry
  // larger than a part still goes into a part of its own).
  auto room_for = [&](size_t entry) {
    const v1::Snapshot& current = parts.back()->snapshot();
    if (size + entry + 6 > part_bytes && current.lines_size() + current.calls_size() + current.phones_size() > 0) {
      start_part();
    }
    size += entry + 6;
  };
  start_part();
  for (v1::Line& line : *snap->mutable_lines()) {
    room_for(line.ByteSizeLong());
    *parts.back()->mutable_snapshot()->add_lines() = std::move(line);
  }
  for (v1::Call& call : *snap->mutable_calls()) {
    room_for(call.ByteSizeLong());
    *parts.back()->mutable_snapshot()->add_calls() = std::move(call);
  }
  for (v1::Phone& phone : *snap->mutable_phones()) {
    room_for(phone.ByteSizeLong());
    *parts.back()->mutable_snapshot()->add_phones() = std::move(phone);
  }
  parts.back()->mutable_snapshot()->set_more(false);
  return parts;
}

}  // namespace linebridge
