#include "linebridge/snapshot_assembler.h"

#include <utility>

namespace linebridge {
namespace {

void MoveEntries(v1::Snapshot* from, v1::Snapshot* to) {
  to->mutable_lines()->Reserve(to->lines_size() + from->lines_size());
  for (v1::Line& line : *from->mutable_lines()) *to->add_lines() = std::move(line);
  to->mutable_calls()->Reserve(to->calls_size() + from->calls_size());
  for (v1::Call& call : *from->mutable_calls()) *to->add_calls() = std::move(call);
  to->mutable_phones()->Reserve(to->phones_size() + from->phones_size());
  for (v1::Phone& phone : *from->mutable_phones()) *to->add_phones() = std::move(phone);
}

}  // namespace

bool SnapshotAssembler::Add(v1::EventBatch* batch) {
  if (!batch->has_snapshot()) {
    // A stream never interleaves events with the parts; an event batch
    // between them means the parts before were not a snapshot of this
    // stream any more.
    pending_.reset();
    return true;
  }
  v1::Snapshot* snap = batch->mutable_snapshot();
  if (snap->more()) {
    if (!pending_.has_value() || pending_->sequence() != snap->sequence()) {
      pending_.emplace();
      pending_->set_sequence(snap->sequence());
    }
    MoveEntries(snap, &*pending_);
    return false;
  }
  if (pending_.has_value() && pending_->sequence() == snap->sequence()) {
    MoveEntries(snap, &*pending_);
    pending_->Swap(snap);
  }
  pending_.reset();
  return true;
}

}  // namespace linebridge
