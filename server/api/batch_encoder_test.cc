#include "api/batch_encoder.h"

#include <gtest/gtest.h>

#include <string>
#include <utility>
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

// Events as the journal keeps them: consecutive ones side by side in chunks.
class Chunks {
 public:
  // `ev`'s field at the end of the current chunk (a new one every `per_chunk` events).
  std::pair<absl::string_view, WireChunkRef> Put(const v1::Event& ev, int per_chunk = 1000) {
    const std::string wire = EncodeEventField(ev);
    if (count_++ % per_chunk == 0) {
      current_ = WireChunkRef::Adopt(WireChunk::New(WireChunk::kDefaultCapacity));
    }
    char* at = current_->Append(wire.size());
    EXPECT_NE(at, nullptr);
    std::copy(wire.begin(), wire.end(), at);
    return {absl::string_view(at, wire.size()), current_};
  }

 private:
  WireChunkRef current_;
  int count_ = 0;
};

TEST(BatchEncoderTest, SharedEventsAreReferredToNotCopiedAndGiveTheSameBytes) {
  Chunks chunks;
  v1::EventBatch expected;
  expected.set_epoch(7);
  BatchEncoder enc;
  enc.Start(7);
  WireChunkRef first;
  for (uint64_t s = 1; s <= 256; ++s) {
    v1::Event ev = StampedEvent(7, s, "sim/1");
    auto [wire, chunk] = chunks.Put(ev, 100);  // runs of 100, 100, 56
    if (s == 1) first = chunk;
    enc.AddShared(wire, chunk);
    *expected.add_events() = ev;
  }
  v1::EventBatch snapshot = SnapshotBatch(7);
  enc.AddSnapshot(&snapshot);
  *expected.mutable_snapshot() = SnapshotBatch(7).snapshot();
  expected.set_snapshot_reason(SnapshotBatch(7).snapshot_reason());
  const uint32_t refs_before = first->refs_for_test();
  grpc::ByteBuffer buf = enc.Finish();
  EXPECT_EQ(enc.shared_slices(), 3u);
  EXPECT_EQ(Bytes(buf), expected.SerializeAsString());
  // The message holds the chunk (the encoder handed its reference over).
  EXPECT_EQ(first->refs_for_test(), refs_before);
  buf.Clear();
  EXPECT_EQ(first->refs_for_test(), refs_before - 1);
}

TEST(BatchEncoderTest, CopiedAndSharedEventsMixInOrder) {
  Chunks chunks;
  v1::EventBatch expected;
  expected.set_epoch(2);
  BatchEncoder enc;
  enc.Start(2);
  for (uint64_t s = 1; s <= 30; ++s) {
    v1::Event ev = StampedEvent(2, s, "sim/1");
    if (s % 10 < 5) {
      auto [wire, chunk] = chunks.Put(ev);
      enc.AddShared(wire, chunk);
    } else {
      enc.AddEvent(EncodeEventField(ev));
    }
    *expected.add_events() = ev;
  }
  EXPECT_EQ(enc.events(), 30);
  EXPECT_EQ(Bytes(enc.Finish()), expected.SerializeAsString());
  EXPECT_EQ(enc.shared_slices(), 4u);  // 1-4, 10-14, 20-24, 30
}

TEST(BatchEncoderTest, ASparseBatchIsCopiedIntoOneBuffer) {
  // A filtered subscriber's events: every other one of the journal's.
  Chunks chunks;
  v1::EventBatch expected;
  expected.set_epoch(5);
  BatchEncoder enc;
  enc.Start(5);
  WireChunkRef first;
  for (uint64_t s = 1; s <= 2 * (BatchEncoder::kMaxSharedRuns + 1); ++s) {
    v1::Event ev = StampedEvent(5, s, s % 2 ? "sim/1" : "sim/2");
    auto [wire, chunk] = chunks.Put(ev);
    if (s == 1) first = chunk;
    if (s % 2 == 0) continue;
    enc.AddShared(wire, chunk);
    *expected.add_events() = ev;
  }
  grpc::ByteBuffer buf = enc.Finish();
  EXPECT_EQ(enc.shared_slices(), 0u);
  EXPECT_EQ(Bytes(buf), expected.SerializeAsString());
  // Copied: only the test holds the chunk (its writer and `first`).
  EXPECT_EQ(first->refs_for_test(), 2u);
}

TEST(BatchEncoderTest, AnEmptyBatchWithoutEpochIsEmpty) {
  BatchEncoder enc;
  enc.Start(0);
  EXPECT_EQ(Bytes(enc.Finish()), "");
}

}  // namespace
}  // namespace linebridge
