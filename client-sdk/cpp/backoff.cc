#include "linebridge/backoff.h"

#include <algorithm>

#include "absl/random/distributions.h"

namespace linebridge {
namespace {

BackoffPolicy Normalize(BackoffPolicy policy) {
  if (policy.initial <= absl::ZeroDuration()) policy.initial = absl::Milliseconds(1);
  if (policy.max < policy.initial) policy.max = policy.initial;
  if (!(policy.multiplier >= 1.0)) policy.multiplier = 1.0;  // also catches NaN
  return policy;
}

}  // namespace

Backoff::Backoff(BackoffPolicy policy)
    : policy_(Normalize(policy)),
      own_gen_(std::make_unique<absl::BitGen>()),
      gen_(*own_gen_),
      ceiling_(policy_.initial) {}

Backoff::Backoff(BackoffPolicy policy, absl::BitGenRef gen)
    : policy_(Normalize(policy)), gen_(gen), ceiling_(policy_.initial) {}

absl::Duration Backoff::Next() {
  // A fraction in [0, 1] scales the ceiling (no rejection sampling: any
  // source, even a constant one, yields a value).
  const double fraction = absl::Uniform(absl::IntervalClosedClosed, gen_, 0.0, 1.0);
  const absl::Duration delay =
      std::min(ceiling_, absl::Trunc(ceiling_ * fraction, absl::Microseconds(1)));
  ++attempts_;
  ceiling_ = std::min(policy_.max, ceiling_ * policy_.multiplier);
  return delay;
}

void Backoff::Reset() {
  ceiling_ = policy_.initial;
  attempts_ = 0;
}

}  // namespace linebridge
