#include "providers/sip/rtp_jitter_buffer.h"

#include <gtest/gtest.h>

#include <vector>

namespace linebridge::sip {
namespace {

using PullResult = JitterBuffer::PullResult;
using PutResult = JitterBuffer::PutResult;

constexpr uint32_t kSsrc = 0x1234;

// A frame whose every sample is `n`: which packet was played.
DeviceFrame FrameOf(int16_t n) {
  DeviceFrame f;
  f.fill(n);
  return f;
}

// Puts packet `n` (timestamp base + 160 n, content n).
PutResult PutN(JitterBuffer& jb, int n, uint32_t base = 1000, uint32_t ssrc = kSsrc) {
  return jb.Put(ssrc, base + static_cast<uint32_t>(n) * 160, FrameOf(static_cast<int16_t>(n + 1)));
}

struct Pulled {
  PullResult result;
  int16_t first;
};

Pulled PullOne(JitterBuffer& jb) {
  DeviceFrame f;
  const PullResult r = jb.Pull(&f);
  return {r, f[0]};
}

TEST(JitterBuffer, WaitsForDepthThenPlaysInOrder) {
  JitterBuffer jb;  // depth 3
  EXPECT_EQ(PutN(jb, 0), PutResult::kAccepted);
  EXPECT_EQ(PullOne(jb).result, PullResult::kSilence);
  EXPECT_EQ(PutN(jb, 1), PutResult::kAccepted);
  EXPECT_EQ(PullOne(jb).result, PullResult::kSilence);
  EXPECT_EQ(PutN(jb, 2), PutResult::kAccepted);
  for (int n = 0; n < 3; ++n) {
    const Pulled p = PullOne(jb);
    EXPECT_EQ(p.result, PullResult::kFrame);
    EXPECT_EQ(p.first, n + 1);
    PutN(jb, n + 3);
  }
  EXPECT_EQ(jb.stats().played, 3u);
  EXPECT_EQ(jb.stats().underruns, 0u);
}

TEST(JitterBuffer, ReordersPacketsThatOvertookOthers) {
  JitterBuffer jb;
  // 1 arrives before 0 (before play-out) and 3 before 2 (during it).
  EXPECT_EQ(PutN(jb, 1), PutResult::kAccepted);
  EXPECT_EQ(PutN(jb, 0), PutResult::kAccepted);
  EXPECT_EQ(PutN(jb, 3), PutResult::kAccepted);
  EXPECT_EQ(PutN(jb, 2), PutResult::kAccepted);
  std::vector<int16_t> order;
  for (int i = 0; i < 4; ++i) order.push_back(PullOne(jb).first);
  EXPECT_EQ(order, (std::vector<int16_t>{1, 2, 3, 4}));
  EXPECT_EQ(jb.stats().late, 0u);
  EXPECT_EQ(jb.stats().lost, 0u);
}

TEST(JitterBuffer, DropsDuplicates) {
  JitterBuffer jb;
  PutN(jb, 0);
  EXPECT_EQ(PutN(jb, 0), PutResult::kDuplicate);
  PutN(jb, 1);
  PutN(jb, 2);
  EXPECT_EQ(PullOne(jb).first, 1);
  EXPECT_EQ(PullOne(jb).first, 2);
  EXPECT_EQ(jb.stats().duplicates, 1u);
  // A duplicate of a frame already played is late.
  EXPECT_EQ(PutN(jb, 0), PutResult::kLate);
}

TEST(JitterBuffer, LossIsConcealedFadingThenSilence) {
  JitterBuffer jb;
  PutN(jb, 0);
  // 1..4 lost; 5 is buffered.
  PutN(jb, 5);
  // Span 6 >= depth: plays 0, then conceals 1..3 (fading) and is silent for 4.
  EXPECT_EQ(PullOne(jb).first, 1);
  for (int i = 0; i < 3; ++i) EXPECT_EQ(PullOne(jb).result, PullResult::kConcealed);
  EXPECT_EQ(PullOne(jb).result, PullResult::kSilence);
  const Pulled p = PullOne(jb);
  EXPECT_EQ(p.result, PullResult::kFrame);
  EXPECT_EQ(p.first, 6);
  EXPECT_EQ(jb.stats().lost, 4u);
  EXPECT_EQ(jb.stats().underruns, 0u);
}

TEST(JitterBuffer, ConcealmentFadesTheLastFrame) {
  JitterBuffer jb;
  jb.Put(kSsrc, 0, FrameOf(8000));
  jb.Put(kSsrc, 160, FrameOf(8000));
  jb.Put(kSsrc, 320, FrameOf(8000));
  jb.Put(kSsrc, 960, FrameOf(100));  // 3, 4 and 5 missing
  for (int i = 0; i < 3; ++i) EXPECT_EQ(PullOne(jb).first, 8000);
  EXPECT_EQ(PullOne(jb).first, 6000);
  EXPECT_EQ(PullOne(jb).first, 4500);
  EXPECT_EQ(PullOne(jb).first, 3375);
  EXPECT_EQ(PullOne(jb).first, 100);
}

TEST(JitterBuffer, UnderrunConcealsThenSilenceThenANewTalkspurtPrefills) {
  JitterBuffer jb;
  for (int n = 0; n < 3; ++n) PutN(jb, n);
  for (int n = 0; n < 3; ++n) EXPECT_EQ(PullOne(jb).result, PullResult::kFrame);
  // The far end stops sending.
  for (int i = 0; i < 3; ++i) EXPECT_EQ(PullOne(jb).result, PullResult::kConcealed);
  for (int i = 0; i < 5; ++i) EXPECT_EQ(PullOne(jb).result, PullResult::kSilence);
  EXPECT_EQ(jb.stats().underruns, 8u);
  EXPECT_FALSE(jb.playing());
  // It resumes 400 ms later on its clock: prefilled again, nothing lost.
  PutN(jb, 25);
  EXPECT_EQ(PullOne(jb).result, PullResult::kSilence);
  PutN(jb, 26);
  PutN(jb, 27);
  const Pulled p = PullOne(jb);
  EXPECT_EQ(p.result, PullResult::kFrame);
  EXPECT_EQ(p.first, 26);
  EXPECT_EQ(jb.stats().lost, 0u);
}

TEST(JitterBuffer, LatePacketsAreDropped) {
  JitterBuffer jb;
  PutN(jb, 0);
  PutN(jb, 2);
  PutN(jb, 3);
  EXPECT_EQ(PullOne(jb).first, 1);
  EXPECT_EQ(PullOne(jb).result, PullResult::kConcealed);  // 1 missing
  EXPECT_EQ(PutN(jb, 1), PutResult::kLate);                // came after its turn
  EXPECT_EQ(PullOne(jb).first, 3);
  EXPECT_EQ(jb.stats().late, 1u);
  EXPECT_EQ(jb.stats().lost, 1u);
}

TEST(JitterBuffer, FollowsANewSsrcOnlyWhenItPersists) {
  JitterBuffer jb;
  for (int n = 0; n < 3; ++n) PutN(jb, n);
  // A stray packet from elsewhere is dropped; the stream goes on.
  EXPECT_EQ(PutN(jb, 3, 90000, 0xbad), PutResult::kWrongSsrc);
  EXPECT_EQ(PutN(jb, 4, 90000, 0xbad), PutResult::kWrongSsrc);
  PutN(jb, 3);  // the current source interrupts the run
  EXPECT_EQ(PutN(jb, 5, 90000, 0xbad), PutResult::kWrongSsrc);
  EXPECT_EQ(jb.stats().wrong_ssrc, 3u);
  EXPECT_EQ(PullOne(jb).first, 1);
  // The far end restarted its stack: a new SSRC with its own clock, three in a row.
  EXPECT_EQ(PutN(jb, 0, 5000, 0x777), PutResult::kWrongSsrc);
  EXPECT_EQ(PutN(jb, 1, 5000, 0x777), PutResult::kWrongSsrc);
  EXPECT_EQ(PutN(jb, 2, 5000, 0x777), PutResult::kAccepted);
  EXPECT_EQ(jb.stats().ssrc_changes, 1u);
  PutN(jb, 3, 5000, 0x777);
  PutN(jb, 4, 5000, 0x777);
  const Pulled p = PullOne(jb);
  EXPECT_EQ(p.result, PullResult::kFrame);
  EXPECT_EQ(p.first, 3);  // the new source's third packet, the first it kept
  // The old source is now the stranger.
  EXPECT_EQ(PutN(jb, 9), PutResult::kWrongSsrc);
}

TEST(JitterBuffer, TimestampWrapIsContinuous) {
  JitterBuffer jb;
  const uint32_t base = 0xFFFFFFFFu - 2 * 160 + 1;  // packet 2 wraps to 1
  for (int n = 0; n < 6; ++n) EXPECT_EQ(PutN(jb, n, base), PutResult::kAccepted);
  for (int n = 0; n < 6; ++n) EXPECT_EQ(PullOne(jb).first, n + 1);
  EXPECT_EQ(jb.stats().resyncs, 0u);
  EXPECT_EQ(jb.stats().lost, 0u);
}

TEST(JitterBuffer, TimestampJumpStartsOver) {
  JitterBuffer jb;
  for (int n = 0; n < 4; ++n) PutN(jb, n);
  EXPECT_EQ(PullOne(jb).first, 1);
  // The sender's clock jumps 10 s ahead: what was buffered is dropped.
  const uint32_t later = 1000 + 80000;
  for (int n = 0; n < 3; ++n) EXPECT_EQ(PutN(jb, n, later), PutResult::kAccepted);
  EXPECT_EQ(jb.stats().resyncs, 1u);
  EXPECT_EQ(jb.stats().overflow, 3u);
  EXPECT_EQ(PullOne(jb).first, 1);
  EXPECT_EQ(PullOne(jb).first, 2);
  // ... and back 10 s: also a new clock, not late packets.
  for (int n = 0; n < 3; ++n) EXPECT_EQ(PutN(jb, n + 100, 1000), PutResult::kAccepted);
  EXPECT_EQ(jb.stats().resyncs, 2u);
  EXPECT_EQ(PullOne(jb).first, 101);
  // A timestamp off the 20 ms grid is a new clock too.
  EXPECT_EQ(jb.Put(kSsrc, 1000 + 103 * 160 + 7, FrameOf(5)), PutResult::kAccepted);
  EXPECT_EQ(jb.stats().resyncs, 3u);
}

TEST(JitterBuffer, TooFarAheadMakesRoomByDroppingTheOldest) {
  JitterBuffer jb;  // max 10 frames
  for (int n = 0; n < 3; ++n) PutN(jb, n);
  EXPECT_EQ(PutN(jb, 11), PutResult::kAccepted);  // needs slot 11: 0 and 1 go
  EXPECT_EQ(jb.stats().overflow, 2u);
  EXPECT_EQ(jb.span(), 10u);
  EXPECT_EQ(PullOne(jb).first, 3);
}

TEST(JitterBuffer, AFastSenderIsTrimmedBackTowardsDepth) {
  JitterBuffer jb;
  // Eight frames buffered, then one in and one out per tick for a second.
  for (int n = 0; n < 8; ++n) PutN(jb, n);
  for (int t = 0; t < 60; ++t) {
    PutN(jb, 8 + t);
    EXPECT_NE(PullOne(jb).result, PullResult::kSilence);
  }
  EXPECT_EQ(jb.stats().overflow, 1u);
  EXPECT_EQ(jb.span(), 7u);
}

TEST(JitterBuffer, ResetForgetsTheStream) {
  JitterBuffer jb;
  for (int n = 0; n < 3; ++n) PutN(jb, n);
  jb.Reset();
  EXPECT_EQ(PullOne(jb).result, PullResult::kSilence);
  EXPECT_EQ(PutN(jb, 0, 7, 0x999), PutResult::kAccepted);  // any SSRC, any clock
  EXPECT_EQ(jb.stats().wrong_ssrc, 0u);
}

}  // namespace
}  // namespace linebridge::sip
