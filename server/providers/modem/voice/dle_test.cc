#include "providers/modem/voice/dle.h"

#include <random>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace linebridge::modem::voice {
namespace {

using ::testing::ElementsAre;

std::string Bytes(std::initializer_list<int> b) {
  std::string s;
  for (int c : b) s.push_back(static_cast<char>(c));
  return s;
}

TEST(DleDecoder, DataPassesAndDoubledDleIsOneByte) {
  DleDecoder d;
  DleDecoder::Output out;
  const std::string in = Bytes({0x01, 0x10, 0x10, 0x7f, 0x10, 0x1a, 0x80});
  EXPECT_EQ(d.Feed(in, &out), in.size());
  EXPECT_EQ(out.data, Bytes({0x01, 0x10, 0x7f, 0x10, 0x10, 0x80}));
  EXPECT_TRUE(out.events.empty());
}

TEST(DleDecoder, EventCodesAreDecodedWithTheirPlace) {
  DleDecoder d;
  DleDecoder::Output out;
  const std::string in = Bytes({'x', 0x10, '5', 'y', 0x10, '#', 0x10, 'b', 0x10, 'd', 0x10, 's',
                                0x10, 'q', 0x10, 'c', 0x10, 'e', 0x10, 'D', 0x10, 'Z'});
  d.Feed(in, &out);
  EXPECT_EQ(out.data, "xy");
  ASSERT_EQ(out.events.size(), 10u);
  EXPECT_EQ(out.events[0], (DleEvent{DleEventKind::kDigit, '5'}));
  EXPECT_EQ(out.events[1], (DleEvent{DleEventKind::kDigit, '#'}));
  EXPECT_EQ(out.events[2].kind, DleEventKind::kBusy);
  EXPECT_EQ(out.events[3].kind, DleEventKind::kDialTone);
  EXPECT_EQ(out.events[4].kind, DleEventKind::kSilence);
  EXPECT_EQ(out.events[5].kind, DleEventKind::kQuiet);
  EXPECT_EQ(out.events[6].kind, DleEventKind::kFaxCalling);
  EXPECT_EQ(out.events[7].kind, DleEventKind::kDataCalling);
  EXPECT_EQ(out.events[8], (DleEvent{DleEventKind::kDigit, 'D'}));
  EXPECT_EQ(out.events[9], (DleEvent{DleEventKind::kOther, 'Z'}));
  EXPECT_THAT(out.event_offsets, ElementsAre(1, 2, 2, 2, 2, 2, 2, 2, 2, 2));
}

TEST(DleDecoder, EndOfStreamStopsAndLeavesTheRest) {
  DleDecoder d;
  DleDecoder::Output out;
  const std::string in = Bytes({0x41, 0x10, 0x03, '\r', '\n', 'O', 'K', '\r', '\n'});
  EXPECT_EQ(d.Feed(in, &out), 3u);
  EXPECT_TRUE(d.ended());
  EXPECT_EQ(out.data, "A");
  ASSERT_EQ(out.events.size(), 1u);
  EXPECT_EQ(out.events[0].kind, DleEventKind::kEndOfStream);
  // Nothing more is taken until a new stream.
  EXPECT_EQ(d.Feed("zz", &out), 0u);
  d.Reset();
  EXPECT_EQ(d.Feed("zz", &out), 2u);
  EXPECT_EQ(out.data, "Azz");
}

TEST(DleDecoder, CutAnywhereGivesTheSameResult) {
  std::mt19937 rng(7);
  std::string stream;
  for (int i = 0; i < 2000; ++i) {
    const int b = static_cast<int>(rng() % 256);
    if (b == 0x10) {
      stream += (rng() % 2) ? Bytes({0x10, 0x10}) : Bytes({0x10, '3'});
    } else {
      stream.push_back(static_cast<char>(b));
    }
  }
  stream += Bytes({0x10, 0x03});
  DleDecoder whole;
  DleDecoder::Output expected;
  ASSERT_EQ(whole.Feed(stream, &expected), stream.size());
  for (int seed = 0; seed < 20; ++seed) {
    std::mt19937 cut(static_cast<unsigned>(seed));
    DleDecoder d;
    DleDecoder::Output out;
    size_t at = 0;
    while (at < stream.size()) {
      const size_t n = 1 + cut() % 7;
      at += d.Feed(absl::string_view(stream).substr(at, n), &out);
    }
    EXPECT_EQ(out.data, expected.data);
    EXPECT_EQ(out.events, expected.events);
    EXPECT_EQ(out.event_offsets, expected.event_offsets);
  }
}

TEST(DleShield, DoublesDleOnlyAndRoundTrips) {
  std::string data;
  for (int i = 0; i < 256; ++i) data.push_back(static_cast<char>(i));
  std::string shielded;
  DleShield(data, &shielded);
  EXPECT_EQ(shielded.size(), 257u);
  DleDecoder d;
  DleDecoder::Output out;
  d.Feed(shielded, &out);
  EXPECT_EQ(out.data, data);
  EXPECT_TRUE(out.events.empty());
}

TEST(DleKinds, NamesAndCodes) {
  EXPECT_EQ(KindOfDleCode('0'), DleEventKind::kDigit);
  EXPECT_EQ(KindOfDleCode('*'), DleEventKind::kDigit);
  EXPECT_EQ(KindOfDleCode('E'), DleEventKind::kOther);
  EXPECT_EQ(KindOfDleCode('l'), DleEventKind::kLoopBreak);
  EXPECT_EQ(DleEventName(DleEventKind::kBusy), "busy");
  EXPECT_EQ(DleEventName(DleEventKind::kDialTone), "dial_tone");
}

}  // namespace
}  // namespace linebridge::modem::voice
