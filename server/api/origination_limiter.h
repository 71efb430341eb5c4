// The one toll-fraud limiter: every outbound leg a principal creates —
// MakeCall, Dial (also on a consultation call of SetupTransfer,
// SetupConference or PrepareAddToConference), a redirect or blind transfer
// to an outside number, forwarding to an outside number — passes the same
// token bucket (limits.originations_per_minute / origination_burst) and the
// same cap on the principal's concurrent calls (limits.max_concurrent_calls).
// Refusals are RESOURCE_EXHAUSTED + LINEERR_RESOURCEUNAVAIL.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <set>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"

namespace linebridge {

class OriginationLimiter {
 public:
  // Whether a call still exists. Called without the limiter's lock, so it may
  // take the engine's (or be called with it held).
  using LiveFn = std::function<bool(const std::string& call_id)>;

  OriginationLimiter(double originations_per_second, double burst, uint32_t max_calls);

  // Admits one outbound leg of `principal`. `call_id`: the existing call the
  // leg is dialled on (Dial), "" for any other leg; a call admitted before
  // (noted) is not counted again.
  absl::Status Admit(const std::string& principal, const std::string& call_id,
                     const LiveFn& live, absl::Time now);
  // A call of `principal` that counts towards its concurrent calls until it
  // ends.
  void Note(const std::string& principal, const std::string& call_id);

 private:
  struct Bucket {
    double tokens = 0;
    absl::Time last;
  };

  const double per_second_;
  const double burst_;
  const uint32_t max_calls_;

  absl::Mutex mu_;
  std::map<std::string, Bucket> buckets_ ABSL_GUARDED_BY(mu_);
  std::map<std::string, std::set<std::string>> calls_ ABSL_GUARDED_BY(mu_);
};

}  // namespace linebridge
