#include "linebridge/backoff.h"

#include <cstdint>
#include <limits>
#include <random>
#include <vector>

#include "gtest/gtest.h"

namespace linebridge {
namespace {

// A URBG that always returns the same value (min or max of its range).
class ConstantBits {
 public:
  using result_type = uint64_t;
  explicit ConstantBits(uint64_t value) : value_(value) {}
  static constexpr result_type min() { return 0; }
  static constexpr result_type max() { return std::numeric_limits<uint64_t>::max(); }
  result_type operator()() { return value_; }

 private:
  uint64_t value_;
};

BackoffPolicy DefaultPolicy() { return BackoffPolicy{}; }

TEST(BackoffTest, CeilingGrowsExponentiallyUpToMax) {
  std::mt19937_64 gen(42);
  Backoff backoff(DefaultPolicy(), gen);
  std::vector<int64_t> ceilings;
  for (int i = 0; i < 9; ++i) {
    ceilings.push_back(absl::ToInt64Milliseconds(backoff.ceiling()));
    backoff.Next();
  }
  EXPECT_EQ(ceilings, (std::vector<int64_t>{100, 200, 400, 800, 1600, 3200, 5000, 5000, 5000}));
  EXPECT_EQ(backoff.attempts(), 9);
}

TEST(BackoffTest, FullJitterStaysWithinZeroAndCeiling) {
  std::mt19937_64 gen(7);
  Backoff backoff(DefaultPolicy(), gen);
  absl::Duration min = absl::InfiniteDuration();
  for (int i = 0; i < 200; ++i) {
    absl::Duration ceiling = backoff.ceiling();
    absl::Duration delay = backoff.Next();
    EXPECT_GE(delay, absl::ZeroDuration());
    EXPECT_LE(delay, ceiling);
    min = std::min(min, delay);
  }
  // Full jitter (not "equal" jitter): delays well below half the cap occur.
  EXPECT_LT(min, absl::Milliseconds(2500));
}

TEST(BackoffTest, DeterministicWithSeededGenerator) {
  std::mt19937_64 gen_a(1234), gen_b(1234);
  Backoff a(DefaultPolicy(), gen_a), b(DefaultPolicy(), gen_b);
  for (int i = 0; i < 20; ++i) EXPECT_EQ(a.Next(), b.Next());
}

TEST(BackoffTest, ExtremesOfTheRandomSourceGiveZeroAndCeiling) {
  ConstantBits low(0);
  Backoff zero(DefaultPolicy(), low);
  EXPECT_EQ(zero.Next(), absl::ZeroDuration());

  ConstantBits high(std::numeric_limits<uint64_t>::max());
  Backoff top(DefaultPolicy(), high);
  for (int ms : {100, 200, 400, 800}) {
    absl::Duration delay = top.Next();
    EXPECT_LE(delay, absl::Milliseconds(ms));
    EXPECT_GE(delay, absl::Milliseconds(ms) - absl::Microseconds(1));
  }
}

TEST(BackoffTest, ResetStartsOver) {
  std::mt19937_64 gen(5);
  Backoff backoff(DefaultPolicy(), gen);
  for (int i = 0; i < 5; ++i) backoff.Next();
  EXPECT_EQ(backoff.ceiling(), absl::Milliseconds(3200));
  backoff.Reset();
  EXPECT_EQ(backoff.ceiling(), absl::Milliseconds(100));
  EXPECT_EQ(backoff.attempts(), 0);
  EXPECT_LE(backoff.Next(), absl::Milliseconds(100));
}

TEST(BackoffTest, CustomPolicyAndNormalization) {
  std::mt19937_64 gen(9);
  Backoff backoff({absl::Milliseconds(10), absl::Milliseconds(25), 3.0}, gen);
  backoff.Next();
  EXPECT_EQ(backoff.ceiling(), absl::Milliseconds(25));  // 30 capped at 25

  Backoff odd({absl::ZeroDuration(), absl::ZeroDuration(), 0.5}, gen);
  EXPECT_GT(odd.ceiling(), absl::ZeroDuration());
  odd.Next();
  EXPECT_EQ(odd.ceiling(), odd.policy().initial);  // multiplier clamped to 1
}

TEST(BackoffTest, OwnGeneratorWorks) {
  Backoff backoff(DefaultPolicy());
  for (int i = 0; i < 10; ++i) {
    absl::Duration ceiling = backoff.ceiling();
    EXPECT_LE(backoff.Next(), ceiling);
  }
}

}  // namespace
}  // namespace linebridge
