#include "core/deferred_replies.h"

#include <utility>
#include <vector>

namespace linebridge {
namespace {
thread_local uint64_t current_token = 0;
}  // namespace

uint64_t DeferredReplies::Defer(absl::Status if_late) {
  if (current_token != 0) return current_token;
  absl::MutexLock lock(&mu_);
  const uint64_t token = next_++;
  entries_[token].if_late = std::move(if_late);
  current_token = token;
  return token;
}

uint64_t DeferredReplies::TakeCurrent() { return std::exchange(current_token, 0); }

void DeferredReplies::Await(uint64_t token, Done done) {
  absl::Status outcome;
  {
    absl::MutexLock lock(&mu_);
    auto it = entries_.find(token);
    if (it == entries_.end()) return;
    if (!it->second.outcome.has_value()) {
      it->second.done = std::move(done);
      return;
    }
    outcome = *std::move(it->second.outcome);
    entries_.erase(it);
  }
  std::move(done)(std::move(outcome));
}

void DeferredReplies::Complete(uint64_t token, absl::Status outcome) {
  {
    absl::MutexLock lock(&mu_);
    auto it = entries_.find(token);
    if (it == entries_.end() || it->second.outcome.has_value()) return;
    it->second.outcome = std::move(outcome);
    if (!it->second.done) return;  // Await answers at once
  }
  post_([this, token] { Deliver(token); });
}

void DeferredReplies::AnswerLate(uint64_t token) {
  absl::Status if_late;
  {
    absl::MutexLock lock(&mu_);
    auto it = entries_.find(token);
    if (it == entries_.end() || it->second.outcome.has_value()) return;
    if_late = it->second.if_late;
  }
  Complete(token, std::move(if_late));
}

void DeferredReplies::Deliver(uint64_t token) {
  Done done;
  absl::Status outcome;
  {
    absl::MutexLock lock(&mu_);
    auto it = entries_.find(token);
    if (it == entries_.end() || !it->second.done || !it->second.outcome.has_value()) return;
    done = std::move(it->second.done);
    outcome = *std::move(it->second.outcome);
    entries_.erase(it);
  }
  std::move(done)(std::move(outcome));
}

void DeferredReplies::Forget(uint64_t token) {
  absl::MutexLock lock(&mu_);
  entries_.erase(token);
}

void DeferredReplies::CompleteAll(const absl::Status& outcome) {
  std::vector<std::pair<Done, absl::Status>> answers;
  {
    absl::MutexLock lock(&mu_);
    for (auto it = entries_.begin(); it != entries_.end();) {
      Entry& e = it->second;
      if (!e.outcome.has_value()) e.outcome = outcome;
      if (e.done) {
        answers.emplace_back(std::move(e.done), *std::move(e.outcome));
        entries_.erase(it++);
      } else {
        ++it;  // Await answers it at once
      }
    }
  }
  for (auto& [done, status] : answers) std::move(done)(std::move(status));
}

size_t DeferredReplies::pending() const {
  absl::MutexLock lock(&mu_);
  return entries_.size();
}

}  // namespace linebridge
