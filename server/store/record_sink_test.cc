// WriterRecordSink when the record writer's queue is full: the record is
// dropped and counted, and its `settled` runs before Record returns (the
// engine releases the call's IDLE event at once instead of holding it for
// a write that will never come); records already queued are still written.
#include "store/record_sink.h"

#include <atomic>
#include <string>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "store/testing/sqlite_lock_holder.h"
#include "store/testing/store_test_util.h"

namespace linebridge {
namespace {

using store_testing::LockHolder;
using store_testing::WaitFor;

v1::CallRecord Record(int n) {
  v1::CallRecord r;
  r.set_call_id(absl::StrCat("call-", n));
  r.set_line_id("sim/100");
  return r;
}

TEST(WriterRecordSink, AFullQueueDropsTheRecordAndSettlesItAtOnce) {
  const std::string path =
      CdrStore::PathInDataDir(store_testing::MakeTempDir("record_sink_test"));
  auto store = CdrStore::Open(path, /*busy_timeout_ms=*/50);
  ASSERT_TRUE(store.ok()) << store.status();
  std::atomic<int> settled[3] = {0, 0, 0};
  {
    AsyncCdrWriter writer(store->get(), /*queue_limit=*/1, /*max_batch=*/1);
    WriterRecordSink sink(&writer);
    {
      LockHolder lock(path);
      // The first record is taken and fails (settled: the failure is loud),
      // then retried; the second waits in the queue, held; the third finds
      // the queue full.
      sink.Record(Record(0), [&] { ++settled[0]; });
      ASSERT_TRUE(WaitFor([&] { return settled[0].load() == 1; }));
      sink.Record(Record(1), [&] { ++settled[1]; });
      EXPECT_EQ(writer.queued(), 2u);
      EXPECT_EQ(writer.dropped(), 0u);
      sink.Record(Record(2), [&] { ++settled[2]; });
      EXPECT_EQ(settled[2].load(), 1);  // before Record returned
      EXPECT_EQ(writer.dropped(), 1u);
      EXPECT_EQ(settled[1].load(), 0);
      EXPECT_EQ(writer.queued(), 2u);
    }
    ASSERT_TRUE(WaitFor([&] { return writer.written() == 2; }));
    ASSERT_TRUE(WaitFor([&] { return settled[1].load() == 1; }));
  }
  for (const auto& s : settled) EXPECT_EQ(s.load(), 1);  // each exactly once
  auto listed = (*store)->List(v1::ListCallRecordsRequest());
  ASSERT_TRUE(listed.ok()) << listed.status();
  ASSERT_EQ(listed->records_size(), 2);
  EXPECT_EQ(listed->records(0).call_id(), "call-1");
  EXPECT_EQ(listed->records(1).call_id(), "call-0");
}

}  // namespace
}  // namespace linebridge
