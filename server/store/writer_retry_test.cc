// The record writers under a transient store failure: another process holds
// the database's write lock (SQLITE_BUSY after the busy timeout). Records
// wait and are retried, the failure is visible, nothing is lost.
#include <sqlite3.h>
#include <stdlib.h>

#include <atomic>
#include <memory>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "gtest/gtest.h"
#include "store/testing/sqlite_lock_holder.h"
#include "store/testing/store_test_util.h"
#include "store/cdr_store.h"
#include "store/security_store.h"

namespace linebridge {
namespace {

constexpr int kBusyMs = 50;

std::string MakeTempDir() { return store_testing::MakeTempDir("writer_retry_test"); }

using store_testing::LockHolder;
using store_testing::WaitFor;

v1::CallRecord Record(int n) {
  v1::CallRecord r;
  r.set_call_id(absl::StrCat("call-", n));
  r.set_line_id("sim/100");
  return r;
}

TEST(CdrWriterRetry, LockedDatabaseDelaysRecordsWithoutLosingThem) {
  const std::string path = CdrStore::PathInDataDir(MakeTempDir());
  auto store = CdrStore::Open(path, kBusyMs);
  ASSERT_TRUE(store.ok()) << store.status();
  AsyncCdrWriter writer(store->get());
  {
    LockHolder lock(path);
    for (int i = 0; i < 10; ++i) ASSERT_TRUE(writer.Enqueue(Record(i)));
    ASSERT_TRUE(WaitFor([&] { return writer.health().write_errors >= 2; }));
    const WriteHealthSnapshot health = writer.health();
    EXPECT_TRUE(health.failing());
    EXPECT_NE(health.last_error.find("locked"), std::string::npos) << health.last_error;
    // Flush comes back with the error instead of waiting for the lock.
    absl::Status flushed = writer.Flush();
    EXPECT_TRUE(absl::IsUnavailable(flushed)) << flushed;
    EXPECT_EQ(writer.written(), 0u);
    EXPECT_EQ(writer.failed(), 0u);
    EXPECT_EQ(writer.queued(), 10u);
    ASSERT_TRUE(writer.Enqueue(Record(10)));  // calls keep ending meanwhile
  }
  ASSERT_TRUE(WaitFor([&] { return writer.written() == 11; }));
  EXPECT_TRUE(writer.Flush().ok());
  EXPECT_FALSE(writer.health().failing());
  EXPECT_EQ(writer.failed(), 0u);
  EXPECT_EQ(writer.dropped(), 0u);
  EXPECT_EQ(*(*store)->Count(), 11u);
}

TEST(CdrWriterRetry, FullQueueWhileFailingCountsDrops) {
  const std::string path = CdrStore::PathInDataDir(MakeTempDir());
  auto store = CdrStore::Open(path, kBusyMs);
  ASSERT_TRUE(store.ok()) << store.status();
  AsyncCdrWriter writer(store->get(), /*queue_limit=*/4, /*max_batch=*/2);
  LockHolder lock(path);
  // The first record alone is the failing batch (retried, out of the queue);
  // the queue's limit of 4 applies to what waits behind it.
  ASSERT_TRUE(writer.Enqueue(Record(0)));
  ASSERT_TRUE(WaitFor([&] { return writer.health().failing(); }));
  int accepted = 0;
  for (int i = 1; i < 10; ++i) accepted += writer.Enqueue(Record(i)) ? 1 : 0;
  EXPECT_EQ(accepted, 4);
  EXPECT_EQ(writer.dropped(), 5u);
  lock.Release();
  ASSERT_TRUE(WaitFor([&] { return writer.written() == 5; }));
  EXPECT_EQ(*(*store)->Count(), 5u);
}

TEST(CdrWriterRetry, ShutdownWhileLockedGivesUpInsteadOfHanging) {
  const std::string path = CdrStore::PathInDataDir(MakeTempDir());
  auto store = CdrStore::Open(path, kBusyMs);
  ASSERT_TRUE(store.ok()) << store.status();
  LockHolder lock(path);
  const absl::Time start = absl::Now();
  {
    AsyncCdrWriter writer(store->get());
    for (int i = 0; i < 3; ++i) ASSERT_TRUE(writer.Enqueue(Record(i)));
    ASSERT_TRUE(WaitFor([&] { return writer.health().failing(); }));
  }
  EXPECT_LT(absl::Now() - start, absl::Seconds(10));
  lock.Release();
  EXPECT_EQ(*(*store)->Count(), 0u);
}

TEST(CdrWriterSettle, SettledOnlyOnceTheRecordIsCommitted) {
  const std::string path = CdrStore::PathInDataDir(MakeTempDir());
  auto store = CdrStore::Open(path, kBusyMs);
  ASSERT_TRUE(store.ok()) << store.status();
  // A second connection: what it reads is what a restarted daemon would.
  auto reader = CdrStore::Open(path, kBusyMs);
  ASSERT_TRUE(reader.ok()) << reader.status();
  AsyncCdrWriter writer(store->get());
  constexpr int kRecords = 200;
  std::atomic<int> settled{0};
  std::atomic<int> unseen{0};
  for (int i = 0; i < kRecords; ++i) {
    ASSERT_TRUE(writer.Enqueue(Record(i), [&, i] {
      // Called on the writer's thread once committed: the row is there.
      absl::StatusOr<uint64_t> n = (*reader)->Count();
      if (!n.ok() || *n < static_cast<uint64_t>(i + 1)) unseen.fetch_add(1);
      settled.fetch_add(1);
    }));
  }
  ASSERT_TRUE(WaitFor([&] { return settled.load() == kRecords; }));
  EXPECT_EQ(unseen.load(), 0);
  EXPECT_EQ(writer.written(), static_cast<uint64_t>(kRecords));
}

TEST(CdrWriterSettle, AFailingWriteSettlesOnceAndKeepsTheRecord) {
  const std::string path = CdrStore::PathInDataDir(MakeTempDir());
  auto store = CdrStore::Open(path, kBusyMs);
  ASSERT_TRUE(store.ok()) << store.status();
  AsyncCdrWriter writer(store->get());
  std::atomic<int> settled{0};
  {
    LockHolder lock(path);
    ASSERT_TRUE(writer.Enqueue(Record(0), [&] { settled.fetch_add(1); }));
    // Settled at the first failed attempt: nothing waits on a failing disk.
    ASSERT_TRUE(WaitFor([&] { return settled.load() == 1; }));
    ASSERT_TRUE(WaitFor([&] { return writer.health().write_errors >= 3; }));
    EXPECT_EQ(settled.load(), 1);  // not again on the retries
  }
  ASSERT_TRUE(WaitFor([&] { return writer.written() == 1; }));
  EXPECT_EQ(settled.load(), 1);
  EXPECT_EQ(*(*store)->Count(), 1u);
}

TEST(CdrWriterSettle, EveryRecordIsSettledAtShutdownEvenIfLost) {
  const std::string path = CdrStore::PathInDataDir(MakeTempDir());
  auto store = CdrStore::Open(path, kBusyMs);
  ASSERT_TRUE(store.ok()) << store.status();
  LockHolder lock(path);
  std::atomic<int> settled{0};
  {
    AsyncCdrWriter writer(store->get(), /*queue_limit=*/100, /*max_batch=*/1);
    for (int i = 0; i < 5; ++i) {
      ASSERT_TRUE(writer.Enqueue(Record(i), [&] { settled.fetch_add(1); }));
    }
    ASSERT_TRUE(WaitFor([&] { return writer.health().failing(); }));
  }
  EXPECT_EQ(settled.load(), 5);
}

TEST(AuditWriterRetry, LockedDatabaseDelaysAuditRowsWithoutLosingThem) {
  const std::string path = SecurityStore::PathInDataDir(MakeTempDir());
  auto store = SecurityStore::Open(path, kBusyMs);
  ASSERT_TRUE(store.ok()) << store.status();
  AsyncAuditWriter writer(store->get());
  {
    LockHolder lock(path);
    for (int i = 0; i < 5; ++i) {
      v1::AuditRecord r;
      r.set_principal("alice");
      r.set_operation(absl::StrCat("Op", i));  // distinct: no aggregation
      ASSERT_TRUE(writer.Enqueue(r));
    }
    ASSERT_TRUE(WaitFor([&] { return writer.health().write_errors >= 2; }));
    EXPECT_TRUE(writer.health().failing());
    EXPECT_TRUE(absl::IsUnavailable(writer.Flush()));
    EXPECT_EQ(writer.written(), 0u);
    EXPECT_EQ(writer.failed(), 0u);
  }
  ASSERT_TRUE(WaitFor([&] { return writer.written() == 5; }));
  EXPECT_TRUE(writer.Flush().ok());
  EXPECT_FALSE(writer.health().failing());
  v1::ListAuditRequest req;
  absl::StatusOr<v1::ListAuditResponse> rows = (*store)->ListAudit(req);
  ASSERT_TRUE(rows.ok());
  EXPECT_EQ(rows->records_size(), 5);
}

}  // namespace
}  // namespace linebridge
