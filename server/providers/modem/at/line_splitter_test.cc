#include "providers/modem/at/line_splitter.h"

#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace linebridge::at {
namespace {

using ::testing::ElementsAre;

std::vector<std::string> Lines(const std::vector<LineSplitter::Event>& events) {
  std::vector<std::string> out;
  for (const auto& e : events) {
    out.push_back(e.type == LineSplitter::Event::kLine ? e.line
                                                       : "<overflow " + std::to_string(e.dropped) + ">");
  }
  return out;
}

std::vector<std::string> FeedAll(LineSplitter& s, const std::vector<std::string>& pieces) {
  std::vector<std::string> out;
  for (const auto& p : pieces) {
    for (auto& l : Lines(s.Feed(p))) out.push_back(l);
  }
  return out;
}

TEST(LineSplitter, AnyTerminatorAndNoEmptyLines) {
  LineSplitter s;
  EXPECT_THAT(Lines(s.Feed("\r\nOK\r\n\r\nA\rB\nC\r\r\n\n")), ElementsAre("OK", "A", "B", "C"));
  EXPECT_EQ(s.pending(), 0u);
}

TEST(LineSplitter, FragmentsJoin) {
  LineSplitter s;
  EXPECT_THAT(FeedAll(s, {"\r", "\nO", "K", "\r", "\n", "+CLIP: \"5", "55\",129\r\n"}),
              ElementsAre("OK", "+CLIP: \"555\",129"));
  EXPECT_THAT(Lines(s.Feed("partial")), ::testing::IsEmpty());
  EXPECT_EQ(s.pending(), 7u);
  s.Reset();
  EXPECT_THAT(Lines(s.Feed("\r\n")), ::testing::IsEmpty());
}

TEST(LineSplitter, KeepsGarbageBytes) {
  LineSplitter s;
  const std::string noisy("\x00\xff\x80OK\x7f", 6);
  EXPECT_THAT(Lines(s.Feed(noisy + "\r\n")), ElementsAre(noisy));
}

TEST(LineSplitter, OverflowIsReportedOnceAndResyncs) {
  LineSplitter s(8);
  EXPECT_THAT(Lines(s.Feed("12345678\r")), ElementsAre("12345678"));  // exactly the cap
  EXPECT_THAT(Lines(s.Feed("123456789")), ::testing::IsEmpty());
  EXPECT_THAT(Lines(s.Feed(std::string(5000, 'x'))), ::testing::IsEmpty());
  EXPECT_LE(s.pending(), 5009u);
  EXPECT_THAT(Lines(s.Feed("yy\r\nOK\r\n")), ElementsAre("<overflow 5011>", "OK"));
}

TEST(LineSplitter, OverflowDoesNotGrowTheBuffer) {
  LineSplitter s;
  for (int i = 0; i < 1000; ++i) s.Feed(std::string(1000, 'z'));
  EXPECT_THAT(Lines(s.Feed("\nRING\n")), ElementsAre("<overflow 1000000>", "RING"));
}

}  // namespace
}  // namespace linebridge::at
