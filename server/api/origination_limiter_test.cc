#include "api/origination_limiter.h"

#include <gtest/gtest.h>

#include <set>
#include <string>

#include "linebridge/lineerr.h"

namespace linebridge {
namespace {

// Calls that still exist, as the engine would answer.
struct Calls {
  std::set<std::string> live;
  OriginationLimiter::LiveFn fn() {
    return [this](const std::string& id) { return live.count(id) > 0; };
  }
};

const absl::Time kT0 = absl::FromUnixSeconds(1'800'000'000);

TEST(OriginationLimiter, BurstThenRate) {
  OriginationLimiter limiter(/*per_second=*/1.0, /*burst=*/2, /*max_calls=*/100);
  Calls calls;
  EXPECT_TRUE(limiter.Admit("a", "", calls.fn(), kT0).ok());
  EXPECT_TRUE(limiter.Admit("a", "", calls.fn(), kT0).ok());
  absl::Status third = limiter.Admit("a", "", calls.fn(), kT0);
  EXPECT_EQ(third.code(), absl::StatusCode::kResourceExhausted);
  EXPECT_EQ(LineErrOf(third), LINEERR_RESOURCEUNAVAIL);
  // Another principal has its own bucket.
  EXPECT_TRUE(limiter.Admit("b", "", calls.fn(), kT0).ok());
  // One token a second comes back, never more than the burst.
  EXPECT_FALSE(limiter.Admit("a", "", calls.fn(), kT0 + absl::Milliseconds(900)).ok());
  EXPECT_TRUE(limiter.Admit("a", "", calls.fn(), kT0 + absl::Milliseconds(1100)).ok());
  EXPECT_TRUE(limiter.Admit("a", "", calls.fn(), kT0 + absl::Seconds(60)).ok());
  EXPECT_TRUE(limiter.Admit("a", "", calls.fn(), kT0 + absl::Seconds(60)).ok());
  EXPECT_FALSE(limiter.Admit("a", "", calls.fn(), kT0 + absl::Seconds(60)).ok());
}

TEST(OriginationLimiter, ConcurrentCallsUntilTheyEnd) {
  OriginationLimiter limiter(1000.0, 1000, /*max_calls=*/2);
  Calls calls;
  for (const char* id : {"c1", "c2"}) {
    ASSERT_TRUE(limiter.Admit("a", "", calls.fn(), kT0).ok());
    limiter.Note("a", id);
    calls.live.insert(id);
  }
  absl::Status full = limiter.Admit("a", "", calls.fn(), kT0);
  EXPECT_EQ(full.code(), absl::StatusCode::kResourceExhausted);
  EXPECT_NE(std::string(full.message()).find("max_concurrent_calls"), std::string::npos);
  calls.live.erase("c1");
  EXPECT_TRUE(limiter.Admit("a", "", calls.fn(), kT0).ok());
}

// Dialling a call that was admitted (MakeCall to dial tone) is not a second
// origination; dialling any other call (a consultation call) is.
TEST(OriginationLimiter, ANotedCallIsNotCountedAgain) {
  OriginationLimiter limiter(0.001, /*burst=*/1, 10);
  Calls calls;
  ASSERT_TRUE(limiter.Admit("a", "", calls.fn(), kT0).ok());
  limiter.Note("a", "dialtone");
  calls.live.insert("dialtone");
  EXPECT_TRUE(limiter.Admit("a", "dialtone", calls.fn(), kT0).ok());
  EXPECT_TRUE(limiter.Admit("a", "dialtone", calls.fn(), kT0).ok());
  EXPECT_EQ(limiter.Admit("a", "consultation", calls.fn(), kT0).code(),
            absl::StatusCode::kResourceExhausted);
}

}  // namespace
}  // namespace linebridge
