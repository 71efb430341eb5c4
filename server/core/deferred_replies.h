// Requests whose answer waits for the device: a provider that learns a
// request's outcome only later (a SIP transfer's final NOTIFY) defers the
// reply while it serves the request, and completes it when it knows. The
// service answers the client then.
//
// Defer() is called on the request's thread (the provider, under the engine
// lock) and marks that request; the service takes the mark right after the
// engine returns (TakeCurrent) and awaits the outcome. Complete() may come
// before Await() (the outcome was that quick): it is kept until then. The
// awaiting closure never runs under the caller's locks: Complete() has
// `post` (the engine's timer thread) run it, Await() runs it at once on its
// own thread when the outcome is already in. A delivery `post` dropped (the
// timer thread stopped) is made by CompleteAll, so every reply is answered.
//
// A client's deadline can come before the outcome: each deferral carries the
// answer for that case (`if_late`, e.g. OK: the request is under way), given
// by AnswerLate() when the service's timer for the client's deadline fires,
// so the client gets an answer and never DEADLINE_EXCEEDED.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/functional/any_invocable.h"
#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"

namespace linebridge {

class DeferredReplies {
 public:
  using Done = absl::AnyInvocable<void(absl::Status) &&>;
  // Runs the closure later on another thread; may drop it once stopping.
  using Post = std::function<void(std::function<void()>)>;

  explicit DeferredReplies(Post post) : post_(std::move(post)) {}

  // Defers the reply of the request being served on this thread; returns
  // its token (never 0). At most one per request: a second call returns the
  // first token (and keeps its `if_late`).
  uint64_t Defer(absl::Status if_late);
  // The token this thread's request deferred (0: none), and clears it. The
  // service calls it after every engine request.
  static uint64_t TakeCurrent();

  // Runs `done` with the outcome once it is known (at once if it is).
  // Unknown tokens (already awaited) get `done` never called: callers await
  // each token once.
  void Await(uint64_t token, Done done);
  // The outcome. Later calls for the same token are ignored.
  void Complete(uint64_t token, absl::Status outcome);
  // Completes `token` with its `if_late` answer, unless its outcome is in.
  void AnswerLate(uint64_t token);
  // Drops a deferral whose request failed after all (no reply awaits it).
  void Forget(uint64_t token);
  // Answers every awaited reply now, on this thread: with its outcome if it
  // had one, else with `outcome` (shutdown, after the timer thread stopped).
  void CompleteAll(const absl::Status& outcome);

  size_t pending() const;

 private:
  struct Entry {
    absl::Status if_late;
    std::optional<absl::Status> outcome;
    Done done;  // set once awaited
  };
  // Runs the awaiting closure of `token` if its outcome is in.
  void Deliver(uint64_t token);

  const Post post_;
  mutable absl::Mutex mu_;
  uint64_t next_ ABSL_GUARDED_BY(mu_) = 1;
  absl::flat_hash_map<uint64_t, Entry> entries_ ABSL_GUARDED_BY(mu_);
};

}  // namespace linebridge
