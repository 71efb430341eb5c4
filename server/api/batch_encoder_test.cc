#include "api/batch_encoder.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "core/journal.h"

namespace linebridge {
namespace {

std::string Bytes(const grpc::ByteBuffer& buf) {
  std::vector<grpc::Slice> slices;
  EXPECT_TRUE(buf.Dump(&slices).ok());
  std::string out;
  for (const auto& s : slices) out.append(reinterpret_cast<const char*>(s.begin()), s.size());
  return out;
}

v1::Event StampedEvent(uint64_t epoch, uint64_t seq, const std::string& line) {
  v1::Event ev;
  ev.set_epoch(epoch);
  ev.set_sequence(seq);
  ev.mutable_time()->set_seconds(1700000000 + static_cast<int64_t>(seq));
  ev.set_line_id(line);
  auto* st = ev.mutable_call_state();
  st->set_call_id(absl::StrCat("call-", seq));
  st->mutable_status()->set_state(v1::CALL_STATE_RINGBACK);
  return ev;
}

v1::EventBatch SnapshotBatch(uint64_t epoch) {
  v1::EventBatch b;
  b.set_epoch(epoch);
  b.set_snapshot_reason(v1::EventBatch::SNAPSHOT_REASON_GAP);
  v1::Snapshot* snap = b.mutable_snapshot();
  snap->set_sequence(41);
  snap->add_lines()->set_id("sim/100");
  snap->add_lines()->set_id("sim/101");
  snap->add_calls()->set_id("c1");
  return b;
}

TEST(BatchEncoderTest, EventsGiveTheBytesOfTheSerializedBatch) {
  for (uint64_t epoch : {uint64_t{0}, uint64_t{5}, uint64_t{123456789012}}) {
    for (int n : {0, 1, 2, 256}) {
      v1::EventBatch expected;
      expected.set_epoch(epoch);
      BatchEncoder enc;
      enc.Start(epoch);
      for (int i = 1; i <= n; ++i) {
        v1::Event ev = StampedEvent(epoch, static_cast<uint64_t>(i) * 97, "sim/1");
        enc.AddEvent(EncodeEventField(ev));
        *expected.add_events() = ev;
      }
      EXPECT_EQ(enc.events(), n);
      const std::string got = Bytes(enc.Finish());
      EXPECT_EQ(got, expected.SerializeAsString()) << "epoch " << epoch << ", " << n << " events";
      v1::EventBatch parsed;
      ASSERT_TRUE(parsed.ParseFromString(got));
      EXPECT_EQ(parsed.events_size(), n);
      EXPECT_EQ(enc.events(), 0);
    }
  }
}

TEST(BatchEncoderTest, SnapshotFollowsTheEventsAsInTheSerializedBatch) {
  v1::EventBatch expected = SnapshotBatch(77);
  v1::EventBatch snapshot = SnapshotBatch(77);
  BatchEncoder enc;
  enc.Start(77);
  for (uint64_t s : {42, 43}) {
    v1::Event ev = StampedEvent(77, s, "sim/100");
    enc.AddEvent(EncodeEventField(ev));
    *expected.add_events() = ev;
  }
  enc.AddSnapshot(&snapshot);
  EXPECT_EQ(Bytes(enc.Finish()), expected.SerializeAsString());
}

TEST(BatchEncoderTest, SnapshotAloneAndEncoderReuse) {
  BatchEncoder enc;
  for (int round = 0; round < 3; ++round) {
    v1::EventBatch snapshot = SnapshotBatch(3);
    enc.Start(3);
    enc.AddSnapshot(&snapshot);
    EXPECT_EQ(Bytes(enc.Finish()), SnapshotBatch(3).SerializeAsString());
    // A batch started and dropped leaves nothing behind in the next one.
    enc.Start(3);
    enc.AddEvent(EncodeEventField(StampedEvent(3, 9, "x")));
  }
  enc.Start(3);
  v1::EventBatch only_epoch;
  only_epoch.set_epoch(3);
  EXPECT_EQ(Bytes(enc.Finish()), only_epoch.SerializeAsString());
}

TEST(BatchEncoderTest, FinishedBufferOutlivesTheEncoder) {
  grpc::ByteBuffer buf;
  std::string expected;
  {
    BatchEncoder enc;
    enc.Start(1);
    v1::EventBatch b;
    b.set_epoch(1);
    for (uint64_t s = 1; s <= 10; ++s) {
      v1::Event ev = StampedEvent(1, s, "sim/2");
      enc.AddEvent(EncodeEventField(ev));
      *b.add_events() = ev;
    }
    expected = b.SerializeAsString();
    buf = enc.Finish();
    enc.Start(1);  // the next batch does not touch the finished one
    enc.AddEvent(EncodeEventField(StampedEvent(1, 11, "sim/2")));
  }
  grpc::ByteBuffer copy(buf);  // shares the slice
  EXPECT_EQ(Bytes(copy), expected);
  EXPECT_EQ(Bytes(buf), expected);
}

}  // namespace
}  // namespace linebridge
