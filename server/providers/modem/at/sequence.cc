#include "providers/modem/at/sequence.h"

#include <memory>
#include <utility>

namespace linebridge::at {
namespace {

struct SequenceState {
  CommandQueue* queue;
  std::vector<SequenceStep> steps;
  std::function<void(const SequenceResult&)> done;
  SequenceResult result;
};

void Finish(const std::shared_ptr<SequenceState>& state) {
  auto done = std::move(state->done);
  if (done) done(state->result);
}

void RunStep(const std::shared_ptr<SequenceState>& state, bool first) {
  const size_t index = state->result.results.size();
  if (index == state->steps.size()) {
    Finish(state);
    return;
  }
  SequenceStep& step = state->steps[index];
  Command command;
  command.text = step.text;
  command.timeout = step.timeout;
  command.processor = step.processor;
  command.done = [state, index](const Result& result) {
    state->result.results.push_back(result);
    const SequenceStep& ran = state->steps[index];
    if (!result.ok() && (ran.fatal || result.outcome == Outcome::kCancelled)) {
      state->result.failed_step = index;
      Finish(state);
      return;
    }
    RunStep(state, /*first=*/false);
  };
  auto id = first ? state->queue->Enqueue(std::move(command))
                  : state->queue->EnqueueNext(std::move(command));
  if (!id.ok()) {
    // The command text itself is bad: a programming error in the table.
    Result rejected;
    rejected.outcome = Outcome::kRejected;
    rejected.text = std::string(id.status().message());
    state->result.results.push_back(std::move(rejected));
    state->result.failed_step = index;
    Finish(state);
  }
}

}  // namespace

void RunSequence(CommandQueue& queue, std::vector<SequenceStep> steps,
                 std::function<void(const SequenceResult&)> done) {
  auto state = std::make_shared<SequenceState>();
  state->queue = &queue;
  state->steps = std::move(steps);
  state->done = std::move(done);
  RunStep(state, /*first=*/true);
}

}  // namespace linebridge::at
