// Reconnect delays: exponential backoff with full jitter.
//
// The n-th delay (n = 0, 1, ...) is drawn uniformly from
// [0, min(max, initial * multiplier^n)] ("full jitter"); Reset() starts over
// at n = 0 (after a connection proved healthy).
#pragma once

#include <memory>

#include "absl/random/bit_gen_ref.h"
#include "absl/random/random.h"
#include "absl/time/time.h"

namespace linebridge {

struct BackoffPolicy {
  absl::Duration initial = absl::Milliseconds(100);
  absl::Duration max = absl::Seconds(5);
  double multiplier = 2.0;
};

class Backoff {
 public:
  // Draws from its own absl::BitGen.
  explicit Backoff(BackoffPolicy policy);
  // Draws from `gen`, which must outlive the Backoff (tests: a seeded URBG).
  Backoff(BackoffPolicy policy, absl::BitGenRef gen);

  Backoff(const Backoff&) = delete;
  Backoff& operator=(const Backoff&) = delete;

  // The next delay; advances the attempt counter.
  absl::Duration Next();
  // The upper bound the next call of Next() draws below.
  absl::Duration ceiling() const { return ceiling_; }
  // Number of Next() calls since construction or the last Reset().
  int attempts() const { return attempts_; }
  void Reset();

  const BackoffPolicy& policy() const { return policy_; }

 private:
  BackoffPolicy policy_;
  std::unique_ptr<absl::BitGen> own_gen_;
  absl::BitGenRef gen_;
  absl::Duration ceiling_;
  int attempts_ = 0;
};

}  // namespace linebridge
