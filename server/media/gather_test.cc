#include "media/gather.h"

#include <gtest/gtest.h>

#include "linebridge/lineerr.h"

namespace linebridge::media {
namespace {

v1::GatherDigits Rules(uint32_t max, std::string terms, uint32_t first_ms, uint32_t inter_ms) {
  v1::GatherDigits r;
  r.set_max_digits(max);
  r.set_termination_digits(std::move(terms));
  r.set_first_digit_timeout_ms(first_ms);
  r.set_inter_digit_timeout_ms(inter_ms);
  return r;
}

TEST(Gather, TerminationDigitEndsAndIsIncluded) {
  DigitGatherer g = *DigitGatherer::Start(Rules(10, "#*", 0, 0));
  EXPECT_FALSE(g.OnDigit('1'));
  EXPECT_FALSE(g.OnTick());
  EXPECT_FALSE(g.OnDigit('2'));
  std::optional<DigitGatherer::Result> r = g.OnDigit('#');
  ASSERT_TRUE(r);
  EXPECT_EQ(r->digits, "12#");
  EXPECT_EQ(r->termination, v1::GATHER_TERMINATION_TERMINATION_DIGIT);
}

TEST(Gather, BufferFull) {
  DigitGatherer g = *DigitGatherer::Start(Rules(3, "", 0, 0));
  EXPECT_FALSE(g.OnDigit('1'));
  EXPECT_FALSE(g.OnDigit('2'));
  std::optional<DigitGatherer::Result> r = g.OnDigit('3');
  ASSERT_TRUE(r);
  EXPECT_EQ(r->digits, "123");
  EXPECT_EQ(r->termination, v1::GATHER_TERMINATION_BUFFER_FULL);
}

TEST(Gather, FirstDigitTimeoutCountsTicks) {
  DigitGatherer g = *DigitGatherer::Start(Rules(5, "", 100, 0));  // 5 ticks
  for (int i = 0; i < 4; ++i) EXPECT_FALSE(g.OnTick()) << i;
  std::optional<DigitGatherer::Result> r = g.OnTick();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->digits, "");
  EXPECT_EQ(r->termination, v1::GATHER_TERMINATION_FIRST_TIMEOUT);
}

TEST(Gather, InterDigitTimeoutRestartsWithEachDigit) {
  DigitGatherer g = *DigitGatherer::Start(Rules(5, "", 0, 50));  // 3 ticks
  for (int i = 0; i < 100; ++i) EXPECT_FALSE(g.OnTick());  // no first-digit timeout
  EXPECT_FALSE(g.OnDigit('7'));
  EXPECT_FALSE(g.OnTick());
  EXPECT_FALSE(g.OnTick());
  EXPECT_FALSE(g.OnDigit('8'));
  EXPECT_FALSE(g.OnTick());
  EXPECT_FALSE(g.OnTick());
  std::optional<DigitGatherer::Result> r = g.OnTick();
  ASSERT_TRUE(r);
  EXPECT_EQ(r->digits, "78");
  EXPECT_EQ(r->termination, v1::GATHER_TERMINATION_INTER_TIMEOUT);
  EXPECT_EQ(g.Cancel().termination, v1::GATHER_TERMINATION_CANCELLED);
}

TEST(Gather, RulesAreChecked) {
  auto code = [](const v1::GatherDigits& r) {
    absl::StatusOr<DigitGatherer> g = DigitGatherer::Start(r);
    return g.ok() ? 0u : LineErrOf(g.status());
  };
  EXPECT_EQ(code(Rules(0, "", 0, 0)), LINEERR_INVALPARAM);
  EXPECT_EQ(code(Rules(65, "", 0, 0)), LINEERR_INVALPARAM);
  EXPECT_EQ(code(Rules(5, "#x", 0, 0)), LINEERR_INVALDIGITS);
  EXPECT_EQ(code(Rules(5, "", 10, 0)), LINEERR_INVALTIMEOUT);
  EXPECT_EQ(code(Rules(5, "", 0, 600001)), LINEERR_INVALTIMEOUT);
  EXPECT_EQ(code(Rules(64, "0123456789*#ABCD", 20, 600000)), 0u);
}

}  // namespace
}  // namespace linebridge::media
