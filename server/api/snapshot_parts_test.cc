#include "api/snapshot_parts.h"

#include <memory>
#include <string>

#include <gtest/gtest.h>

namespace linebridge {
namespace {

std::unique_ptr<v1::EventBatch> Whole(int lines, int calls) {
  auto batch = std::make_unique<v1::EventBatch>();
  batch->set_epoch(7);
  batch->set_snapshot_reason(v1::EventBatch::SNAPSHOT_REASON_GAP);
  v1::Snapshot* snap = batch->mutable_snapshot();
  snap->set_sequence(4242);
  for (int i = 0; i < lines; ++i) {
    v1::Line* line = snap->add_lines();
    line->set_id("sim/" + std::to_string(1000 + i));
    line->set_name(std::string(200, 'n'));
  }
  for (int i = 0; i < calls; ++i) {
    v1::Call* call = snap->add_calls();
    call->set_id("c" + std::to_string(i));
    call->mutable_info()->set_line_id("sim/" + std::to_string(1000 + i));
  }
  return batch;
}

TEST(SnapshotParts, ASnapshotThatFitsIsOnePartUnchanged) {
  auto whole = Whole(3, 2);
  const std::string before = whole->SerializeAsString();
  auto parts = SplitSnapshot(std::move(whole), kSnapshotPartBytes);
  ASSERT_EQ(parts.size(), 1u);
  EXPECT_FALSE(parts[0]->snapshot().more());
  EXPECT_EQ(parts[0]->SerializeAsString(), before);
}

TEST(SnapshotParts, ALargeSnapshotIsSplitInOrderAndEachPartFits) {
  constexpr size_t kPart = 16 * 1024;
  auto parts = SplitSnapshot(Whole(2000, 700), kPart);
  ASSERT_GT(parts.size(), 10u);
  int line = 0, call = 0;
  for (size_t i = 0; i < parts.size(); ++i) {
    const v1::EventBatch& p = *parts[i];
    EXPECT_LE(p.ByteSizeLong(), kPart) << "part " << i;
    EXPECT_EQ(p.snapshot().more(), i + 1 < parts.size()) << "part " << i;
    EXPECT_EQ(p.snapshot().sequence(), 4242u);
    EXPECT_EQ(p.snapshot_reason(), v1::EventBatch::SNAPSHOT_REASON_GAP);
    EXPECT_GT(p.snapshot().lines_size() + p.snapshot().calls_size(), 0) << "empty part " << i;
    for (const v1::Line& l : p.snapshot().lines()) {
      EXPECT_EQ(call, 0) << "a line after a call";
      EXPECT_EQ(l.id(), "sim/" + std::to_string(1000 + line++));
    }
    for (const v1::Call& c : p.snapshot().calls()) EXPECT_EQ(c.id(), "c" + std::to_string(call++));
  }
  EXPECT_EQ(line, 2000);
  EXPECT_EQ(call, 700);
}

TEST(SnapshotParts, AnEntryLargerThanAPartTravelsAlone) {
  auto whole = Whole(3, 0);
  whole->mutable_snapshot()->mutable_lines(1)->set_name(std::string(5000, 'x'));
  auto parts = SplitSnapshot(std::move(whole), 1024);
  ASSERT_EQ(parts.size(), 3u);
  EXPECT_EQ(parts[1]->snapshot().lines_size(), 1);
  EXPECT_EQ(parts[1]->snapshot().lines(0).id(), "sim/1001");
  EXPECT_FALSE(parts[2]->snapshot().more());
}

}  // namespace
}  // namespace linebridge

namespace linebridge {
namespace {

TEST(SnapshotParts, PhonesComeLastAndEveryOneArrives) {
  constexpr size_t kPart = 16 * 1024;
  auto whole = std::make_unique<v1::EventBatch>();
  v1::Snapshot* snap = whole->mutable_snapshot();
  snap->set_sequence(9);
  for (int i = 0; i < 300; ++i) {
    snap->add_lines()->set_id("sim/" + std::to_string(1000 + i));
    v1::Phone* phone = snap->add_phones();
    phone->set_id("sim/phone/" + std::to_string(1000 + i));
    phone->mutable_status()->set_display(std::string(80, ' '));
  }
  auto parts = SplitSnapshot(std::move(whole), kPart);
  ASSERT_GT(parts.size(), 2u);
  int phones = 0;
  bool seen_phone = false;
  for (size_t i = 0; i < parts.size(); ++i) {
    const v1::Snapshot& p = parts[i]->snapshot();
    EXPECT_LE(parts[i]->ByteSizeLong(), kPart) << "part " << i;
    EXPECT_EQ(p.more(), i + 1 < parts.size());
    if (seen_phone) {
      EXPECT_EQ(p.lines_size(), 0) << "a line after a phone";
    }
    for (const v1::Phone& ph : p.phones()) {
      EXPECT_EQ(ph.id(), "sim/phone/" + std::to_string(1000 + phones++));
      seen_phone = true;
    }
  }
  EXPECT_EQ(phones, 300);
}

}  // namespace
}  // namespace linebridge
