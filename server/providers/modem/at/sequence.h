// A table of AT commands run back to back with one completion: init strings,
// the probe. Once its first step is written, later steps go ahead of anything
// else queued (CommandQueue::EnqueueNext), so nothing interleaves.
#pragma once

#include <cstddef>
#include <functional>
#include <string>
#include <vector>

#include "absl/time/time.h"
#include "providers/modem/at/command_queue.h"

namespace linebridge::at {

struct SequenceStep {
  std::string text;
  absl::Duration timeout = kDefaultTimeout;
  Processor processor;  // optional
  bool fatal = true;    // a failure ends the sequence (a cancel always does)
};

struct SequenceResult {
  static constexpr size_t kNone = static_cast<size_t>(-1);
  bool ok() const { return failed_step == kNone; }
  size_t failed_step = kNone;   // the step that ended the sequence
  std::vector<Result> results;  // one per step run, in order
};

// Runs `steps` on `queue` and calls `done` once (not if the queue is destroyed
// first). An empty table completes at once.
void RunSequence(CommandQueue& queue, std::vector<SequenceStep> steps,
                 std::function<void(const SequenceResult&)> done);

}  // namespace linebridge::at
