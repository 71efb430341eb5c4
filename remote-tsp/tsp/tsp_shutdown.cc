#include "tsp/tsp_shutdown.h"

#include <cstddef>
#include <memory>

#include "absl/synchronization/mutex.h"

namespace linebridge::tsp {

void CloseSessionsWithin(Client& client, absl::Duration budget) {
  struct State {
    absl::Mutex mu;
    size_t outstanding ABSL_GUARDED_BY(mu) = 0;
  };
  auto state = std::make_shared<State>();
  CallOptions options;
  options.deadline = budget;
  for (size_t server = 0; server < client.num_servers(); ++server) {
    v1::CloseSessionRequest request;
    request.set_session_id(client.session_id(server));
    if (request.session_id().empty()) continue;
    {
      absl::MutexLock lock(&state->mu);
      ++state->outstanding;
    }
    client.connection(server).CloseSessionAsync(
        request,
        [state](absl::StatusOr<v1::CloseSessionResponse>) {
          absl::MutexLock lock(&state->mu);
          --state->outstanding;
        },
        options);
  }
  {
    absl::MutexLock lock(&state->mu);
    state->mu.AwaitWithTimeout(
        absl::Condition(+[](size_t* n) { return *n == 0; }, &state->outstanding), budget);
  }
  client.CancelAll();
  // The cancelled closes complete at once; wait for them, so no completion
  // of ours runs after the caller goes on to destroy the client.
  absl::MutexLock lock(&state->mu);
  state->mu.Await(absl::Condition(+[](size_t* n) { return *n == 0; }, &state->outstanding));
}

}  // namespace linebridge::tsp
