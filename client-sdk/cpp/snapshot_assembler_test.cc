#include "linebridge/snapshot_assembler.h"

#include <string>

#include <gtest/gtest.h>

namespace linebridge {
namespace {

v1::EventBatch Part(uint64_t sequence, bool more, int first_line, int lines, int calls) {
  v1::EventBatch batch;
  batch.set_epoch(3);
  batch.set_snapshot_reason(v1::EventBatch::SNAPSHOT_REASON_REQUESTED);
  batch.mutable_snapshot()->set_sequence(sequence);
  batch.mutable_snapshot()->set_more(more);
  for (int i = 0; i < lines; ++i) {
    batch.mutable_snapshot()->add_lines()->set_id("sim/" + std::to_string(first_line + i));
  }
  for (int i = 0; i < calls; ++i) batch.mutable_snapshot()->add_calls()->set_id("c");
  return batch;
}

TEST(SnapshotAssembler, AWholeSnapshotAndEventsPassUnchanged) {
  SnapshotAssembler a;
  v1::EventBatch whole = Part(10, false, 100, 3, 1);
  const std::string before = whole.SerializeAsString();
  EXPECT_TRUE(a.Add(&whole));
  EXPECT_EQ(whole.SerializeAsString(), before);
  v1::EventBatch events;
  events.add_events()->set_sequence(11);
  EXPECT_TRUE(a.Add(&events));
  EXPECT_EQ(events.events_size(), 1);
}

TEST(SnapshotAssembler, PartsBecomeOneSnapshotWithTheLastPartsEvents) {
  SnapshotAssembler a;
  v1::EventBatch p1 = Part(10, true, 100, 2, 0);
  v1::EventBatch p2 = Part(10, true, 102, 2, 0);
  v1::EventBatch p3 = Part(10, false, 104, 1, 2);
  p3.add_events()->set_sequence(11);
  EXPECT_FALSE(a.Add(&p1));
  EXPECT_TRUE(a.assembling());
  EXPECT_FALSE(a.Add(&p2));
  ASSERT_TRUE(a.Add(&p3));
  EXPECT_FALSE(a.assembling());
  ASSERT_EQ(p3.snapshot().lines_size(), 5);
  for (int i = 0; i < 5; ++i) EXPECT_EQ(p3.snapshot().lines(i).id(), "sim/" + std::to_string(100 + i));
  EXPECT_EQ(p3.snapshot().calls_size(), 2);
  EXPECT_EQ(p3.snapshot().sequence(), 10u);
  EXPECT_FALSE(p3.snapshot().more());
  EXPECT_EQ(p3.epoch(), 3u);
  EXPECT_EQ(p3.snapshot_reason(), v1::EventBatch::SNAPSHOT_REASON_REQUESTED);
  EXPECT_EQ(p3.events_size(), 1);
}

TEST(SnapshotAssembler, AnUnfinishedSnapshotIsNotMixedIntoTheNextStreams) {
  SnapshotAssembler a;
  v1::EventBatch old_part = Part(10, true, 100, 2, 0);
  EXPECT_FALSE(a.Add(&old_part));
  a.Reset();  // the stream broke; the next one starts a new snapshot
  v1::EventBatch fresh = Part(20, false, 500, 1, 0);
  ASSERT_TRUE(a.Add(&fresh));
  ASSERT_EQ(fresh.snapshot().lines_size(), 1);
  EXPECT_EQ(fresh.snapshot().lines(0).id(), "sim/500");
  // Parts of a different snapshot (another sequence) replace older ones.
  v1::EventBatch a1 = Part(30, true, 1, 1, 0);
  v1::EventBatch b1 = Part(31, true, 2, 1, 0);
  v1::EventBatch b2 = Part(31, false, 3, 1, 0);
  EXPECT_FALSE(a.Add(&a1));
  EXPECT_FALSE(a.Add(&b1));
  ASSERT_TRUE(a.Add(&b2));
  ASSERT_EQ(b2.snapshot().lines_size(), 2);
  EXPECT_EQ(b2.snapshot().lines(0).id(), "sim/2");
}

}  // namespace
}  // namespace linebridge
