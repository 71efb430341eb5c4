#include "api/origination_limiter.h"

#include <algorithm>
#include <utility>

#include "absl/strings/str_cat.h"
#include "linebridge/lineerr.h"

namespace linebridge {

OriginationLimiter::OriginationLimiter(double originations_per_second, double burst,
                                       uint32_t max_calls)
    : per_second_(originations_per_second), burst_(burst), max_calls_(max_calls) {}

absl::Status OriginationLimiter::Admit(const std::string& principal, const std::string& call_id,
                                       const LiveFn& live, absl::Time now) {
  std::set<std::string> noted;
  {
    absl::MutexLock lock(&mu_);
    auto it = calls_.find(principal);
    if (it != calls_.end()) noted = it->second;
  }
  if (!call_id.empty() && noted.count(call_id) > 0) return absl::OkStatus();
  // Which noted calls ended, asked without the lock (see LiveFn).
  std::set<std::string> ended;
  for (const std::string& id : noted) {
    if (!live(id)) ended.insert(id);
  }
  absl::MutexLock lock(&mu_);
  std::set<std::string>& calls = calls_[principal];
  for (const std::string& id : ended) calls.erase(id);
  if (calls.size() >= max_calls_) {
    return ResourceExhausted(LINEERR_RESOURCEUNAVAIL,
                             absl::StrCat("principal \"", principal, "\" has ", calls.size(),
                                          " calls (limits.max_concurrent_calls)"));
  }
  auto [it, fresh] = buckets_.try_emplace(principal);
  Bucket& b = it->second;
  if (fresh) {
    b.tokens = burst_;
  } else {
    b.tokens = std::min(burst_, b.tokens + absl::ToDoubleSeconds(now - b.last) * per_second_);
  }
  b.last = now;
  if (b.tokens < 1.0) {
    return ResourceExhausted(LINEERR_RESOURCEUNAVAIL,
                             absl::StrCat("principal \"", principal,
                                          "\" originates too fast (limits.originations_per_minute)"));
  }
  b.tokens -= 1.0;
  return absl::OkStatus();
}

void OriginationLimiter::Note(const std::string& principal, const std::string& call_id) {
  if (call_id.empty()) return;
  absl::MutexLock lock(&mu_);
  calls_[principal].insert(call_id);
}

}  // namespace linebridge
