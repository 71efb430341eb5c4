#include "store/cdr_store.h"

#include <signal.h>
#include <sqlite3.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "google/protobuf/util/message_differencer.h"
#include "gtest/gtest.h"
#include "store/testing/store_test_util.h"

namespace linebridge {
namespace {

using ::google::protobuf::util::MessageDifferencer;
using ::testing::HasSubstr;

std::string MakeTempDir() { return store_testing::MakeTempDir("cdr_store_test"); }

// A valid Timestamp (nanos in [0, 1e9)) for `us` microseconds since the epoch.
google::protobuf::Timestamp Micros(int64_t us) {
  int64_t seconds = us / 1000000;
  int64_t rem = us % 1000000;
  if (rem < 0) {
    rem += 1000000;
    --seconds;
  }
  google::protobuf::Timestamp t;
  t.set_seconds(seconds);
  t.set_nanos(static_cast<int32_t>(rem * 1000));
  return t;
}

// A record with every field set; `n` varies it.
v1::CallRecord FullRecord(int n) {
  v1::CallRecord r;
  r.set_call_id(absl::StrCat("e1-call-", n));
  r.set_line_id(absl::StrCat("sim/", 100 + n % 3));
  r.set_origin(v1::CALL_ORIGIN_INBOUND);
  r.set_reason(v1::CALL_REASON_FWDNOANSWER);
  r.mutable_caller()->set_number("5550100");
  r.mutable_caller()->set_name("Weather Line");
  r.mutable_caller()->set_available(true);
  r.mutable_caller()->set_blocked(true);
  r.mutable_called()->set_number(absl::StrCat(100 + n % 3));
  r.mutable_called()->set_name("Alice \"A\" 'x' ünïcode");
  r.mutable_called()->set_available(true);
  r.mutable_connected()->set_number("101");
  r.mutable_connected()->set_name("Bob");
  r.mutable_connected()->set_available(false);
  r.mutable_connected()->set_blocked(true);
  const int64_t base = 1700000000000000 + int64_t{n} * 60000000;
  *r.mutable_started() = Micros(base + 123456);
  *r.mutable_answered() = Micros(base + 5000001);
  *r.mutable_ended() = Micros(base + 30000999);
  r.set_disposition(v1::DISCONNECT_MODE_NOANSWER);
  r.set_media_mode(v1::MEDIA_MODE_INTERACTIVE_VOICE);
  r.set_duration_ms(25000 + static_cast<uint64_t>(n));
  return r;
}

std::unique_ptr<CdrStore> OpenOrDie(const std::string& path) {
  absl::StatusOr<std::unique_ptr<CdrStore>> store = CdrStore::Open(path);
  EXPECT_TRUE(store.ok()) << store.status();
  return store.ok() ? std::move(*store) : nullptr;
}

std::vector<int64_t> Ids(const v1::ListCallRecordsResponse& response) {
  std::vector<int64_t> ids;
  for (const auto& r : response.records()) ids.push_back(r.record_id());
  return ids;
}

class CdrStoreTest : public testing::Test {
 protected:
  void SetUp() override {
    dir_ = MakeTempDir();
    path_ = dir_ + "/data/cdr.sqlite3";  // the directory is created by Open
    store_ = OpenOrDie(path_);
    ASSERT_NE(store_, nullptr);
  }

  // Appends FullRecord(0..n-1); record ids are 1..n.
  void AppendN(int n) {
    for (int i = 0; i < n; ++i) {
      absl::StatusOr<int64_t> id = store_->Append(FullRecord(i));
      ASSERT_TRUE(id.ok()) << id.status();
      ASSERT_EQ(*id, i + 1);
    }
  }

  v1::ListCallRecordsResponse List(const v1::ListCallRecordsRequest& request) {
    absl::StatusOr<v1::ListCallRecordsResponse> response = store_->List(request);
    EXPECT_TRUE(response.ok()) << response.status();
    return response.ok() ? *response : v1::ListCallRecordsResponse();
  }

  std::string dir_;
  std::string path_;
  std::unique_ptr<CdrStore> store_;
};

TEST_F(CdrStoreTest, RoundTripsEveryField) {
  v1::CallRecord in = FullRecord(7);
  in.set_record_id(999);  // ignored: the store assigns ids
  absl::StatusOr<int64_t> id = store_->Append(in);
  ASSERT_TRUE(id.ok()) << id.status();
  EXPECT_EQ(*id, 1);

  // Never answered, unknown (future) enum values, nothing else set.
  v1::CallRecord sparse;
  sparse.set_call_id("c2");
  sparse.set_line_id("sim/100");
  sparse.set_origin(static_cast<v1::CallOrigin>(77));
  sparse.set_disposition(v1::DISCONNECT_MODE_BUSY);
  *sparse.mutable_started() = Micros(-1500000);  // before the epoch
  *sparse.mutable_ended() = Micros(0);
  ASSERT_EQ(*store_->Append(sparse), 2);

  v1::ListCallRecordsResponse list = List({});
  ASSERT_EQ(list.records_size(), 2);
  EXPECT_EQ(list.next_before_record_id(), 0);
  in.set_record_id(1);
  sparse.set_record_id(2);
  v1::CallRecord want_sparse = sparse;
  // Party ids always come back (empty), timestamps only when set.
  want_sparse.mutable_caller();
  want_sparse.mutable_called();
  want_sparse.mutable_connected();
  EXPECT_TRUE(MessageDifferencer::Equals(list.records(0), want_sparse))
      << list.records(0).DebugString();
  EXPECT_FALSE(list.records(0).has_answered());
  EXPECT_EQ(list.records(0).origin(), 77);
  EXPECT_TRUE(MessageDifferencer::Equals(list.records(1), in)) << list.records(1).DebugString();
  EXPECT_EQ(*store_->Count(), 2u);
}

TEST_F(CdrStoreTest, ReadableWithSqlite) {
  ASSERT_TRUE(store_->Append(FullRecord(1)).ok());
  v1::CallRecord no_answer = FullRecord(2);
  no_answer.clear_answered();
  ASSERT_TRUE(store_->Append(no_answer).ok());

  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open_v2(path_.c_str(), &db, SQLITE_OPEN_READONLY, nullptr), SQLITE_OK);
  sqlite3_stmt* s = nullptr;
  ASSERT_EQ(sqlite3_prepare_v2(db,
                               "SELECT origin, reason, disposition, media_mode, answered_us IS "
                               "NULL, started_us FROM call_records ORDER BY record_id",
                               -1, &s, nullptr),
            SQLITE_OK);
  ASSERT_EQ(sqlite3_step(s), SQLITE_ROW);
  EXPECT_STREQ(reinterpret_cast<const char*>(sqlite3_column_text(s, 0)), "CALL_ORIGIN_INBOUND");
  EXPECT_STREQ(reinterpret_cast<const char*>(sqlite3_column_text(s, 1)),
               "CALL_REASON_FWDNOANSWER");
  EXPECT_STREQ(reinterpret_cast<const char*>(sqlite3_column_text(s, 2)),
               "DISCONNECT_MODE_NOANSWER");
  EXPECT_STREQ(reinterpret_cast<const char*>(sqlite3_column_text(s, 3)),
               "MEDIA_MODE_INTERACTIVE_VOICE");
  EXPECT_EQ(sqlite3_column_int(s, 4), 0);
  EXPECT_EQ(sqlite3_column_int64(s, 5), 1700000000000000 + 60000000 + 123456);
  ASSERT_EQ(sqlite3_step(s), SQLITE_ROW);
  EXPECT_EQ(sqlite3_column_int(s, 4), 1);
  sqlite3_finalize(s);

  ASSERT_EQ(sqlite3_prepare_v2(db, "PRAGMA journal_mode", -1, &s, nullptr), SQLITE_OK);
  ASSERT_EQ(sqlite3_step(s), SQLITE_ROW);
  EXPECT_STREQ(reinterpret_cast<const char*>(sqlite3_column_text(s, 0)), "wal");
  sqlite3_finalize(s);
  ASSERT_EQ(sqlite3_prepare_v2(db, "PRAGMA user_version", -1, &s, nullptr), SQLITE_OK);
  ASSERT_EQ(sqlite3_step(s), SQLITE_ROW);
  EXPECT_EQ(sqlite3_column_int(s, 0), CdrStore::kSchemaVersion);
  sqlite3_finalize(s);
  // The line filter uses its index.
  ASSERT_EQ(sqlite3_prepare_v2(db,
                               "EXPLAIN QUERY PLAN SELECT * FROM call_records WHERE line_id = 'x' "
                               "AND record_id < 5 ORDER BY record_id DESC",
                               -1, &s, nullptr),
            SQLITE_OK);
  ASSERT_EQ(sqlite3_step(s), SQLITE_ROW);
  EXPECT_THAT(reinterpret_cast<const char*>(sqlite3_column_text(s, 3)),
              HasSubstr("call_records_by_line"));
  sqlite3_finalize(s);
  sqlite3_close(db);
}

TEST_F(CdrStoreTest, PagesNewestFirst) {
  AppendN(25);
  v1::ListCallRecordsRequest request;
  request.set_limit(10);
  std::vector<int64_t> seen;
  int pages = 0;
  for (;;) {
    v1::ListCallRecordsResponse page = List(request);
    ++pages;
    for (int64_t id : Ids(page)) seen.push_back(id);
    if (page.next_before_record_id() == 0) break;
    EXPECT_EQ(page.next_before_record_id(), page.records(page.records_size() - 1).record_id());
    request.set_before_record_id(page.next_before_record_id());
  }
  EXPECT_EQ(pages, 3);
  std::vector<int64_t> want;
  for (int64_t id = 25; id >= 1; --id) want.push_back(id);
  EXPECT_EQ(seen, want);

  // Exactly one page: no next page.
  request.set_before_record_id(11);
  v1::ListCallRecordsResponse last = List(request);
  EXPECT_EQ(last.records_size(), 10);
  EXPECT_EQ(last.next_before_record_id(), 0);

  // Default limit is 100.
  for (int i = 0; i < 90; ++i) ASSERT_TRUE(store_->Append(FullRecord(i)).ok());
  v1::ListCallRecordsResponse page = List({});
  EXPECT_EQ(page.records_size(), 100);
  EXPECT_EQ(page.records(0).record_id(), 115);
  EXPECT_EQ(page.next_before_record_id(), 16);
}

TEST_F(CdrStoreTest, Filters) {
  AppendN(12);  // line sim/100 for i%3==0: ids 1,4,7,10
  v1::ListCallRecordsRequest request;
  request.set_line_id("sim/100");
  EXPECT_EQ(Ids(List(request)), (std::vector<int64_t>{10, 7, 4, 1}));
  request.set_limit(2);
  v1::ListCallRecordsResponse page = List(request);
  EXPECT_EQ(Ids(page), (std::vector<int64_t>{10, 7}));
  EXPECT_EQ(page.next_before_record_id(), 7);
  request.set_before_record_id(7);
  page = List(request);
  EXPECT_EQ(Ids(page), (std::vector<int64_t>{4, 1}));
  EXPECT_EQ(page.next_before_record_id(), 0);

  // since: ended at or after (record i ends at base + i min + 30.000999 s).
  v1::ListCallRecordsRequest since;
  *since.mutable_since() = FullRecord(9).ended();
  EXPECT_EQ(Ids(List(since)), (std::vector<int64_t>{12, 11, 10}));
  since.set_line_id("sim/100");
  EXPECT_EQ(Ids(List(since)), (std::vector<int64_t>{10}));
  since.set_before_record_id(10);
  EXPECT_TRUE(Ids(List(since)).empty());
  since.clear_line_id();
  since.set_before_record_id(12);
  EXPECT_EQ(Ids(List(since)), (std::vector<int64_t>{11, 10}));

  v1::ListCallRecordsRequest none;
  none.set_line_id("sim/999");
  EXPECT_TRUE(Ids(List(none)).empty());
  EXPECT_EQ(List(none).next_before_record_id(), 0);
}

TEST_F(CdrStoreTest, LimitValidation) {
  AppendN(3);
  v1::ListCallRecordsRequest request;
  request.set_limit(10000);
  EXPECT_EQ(List(request).records_size(), 3);
  request.set_limit(10001);
  absl::StatusOr<v1::ListCallRecordsResponse> too_many = store_->List(request);
  EXPECT_EQ(too_many.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(too_many.status().message(), HasSubstr("10000"));
  request.set_limit(1);
  request.set_before_record_id(-1);
  EXPECT_EQ(store_->List(request).status().code(), absl::StatusCode::kInvalidArgument);
}

TEST_F(CdrStoreTest, ReopenPersists) {
  AppendN(5);
  store_.reset();
  store_ = OpenOrDie(path_);
  ASSERT_NE(store_, nullptr);
  EXPECT_EQ(*store_->Count(), 5u);
  absl::StatusOr<int64_t> id = store_->Append(FullRecord(5));
  ASSERT_TRUE(id.ok());
  EXPECT_EQ(*id, 6);
  v1::CallRecord want = FullRecord(2);
  want.set_record_id(3);
  v1::ListCallRecordsRequest request;
  request.set_before_record_id(4);
  request.set_limit(1);
  EXPECT_TRUE(MessageDifferencer::Equals(List(request).records(0), want));
}

TEST_F(CdrStoreTest, AppendBatchIsOneTransaction) {
  std::vector<v1::CallRecord> batch;
  for (int i = 0; i < 50; ++i) batch.push_back(FullRecord(i));
  absl::StatusOr<std::vector<int64_t>> ids = store_->AppendBatch(batch);
  ASSERT_TRUE(ids.ok()) << ids.status();
  ASSERT_EQ(ids->size(), 50u);
  EXPECT_EQ(ids->front(), 1);
  EXPECT_EQ(ids->back(), 50);
  EXPECT_EQ(*store_->Count(), 50u);
  EXPECT_TRUE(store_->AppendBatch({})->empty());
}

TEST_F(CdrStoreTest, SurvivesSigkillAfterAppend) {
  store_.reset();
  int fds[2];
  ASSERT_EQ(pipe(fds), 0);
  const pid_t child = fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    close(fds[0]);
    absl::StatusOr<std::unique_ptr<CdrStore>> store = CdrStore::Open(path_);
    if (!store.ok()) _exit(2);
    v1::CallRecord record = FullRecord(42);
    if (!(*store)->Append(record).ok()) _exit(3);
    const char byte = 'x';
    if (write(fds[1], &byte, 1) != 1) _exit(4);
    for (;;) pause();  // killed here, the database still open
  }
  close(fds[1]);
  char byte = 0;
  ASSERT_EQ(read(fds[0], &byte, 1), 1) << "child failed before appending";
  close(fds[0]);
  ASSERT_EQ(kill(child, SIGKILL), 0);
  int wstatus = 0;
  ASSERT_EQ(waitpid(child, &wstatus, 0), child);
  ASSERT_TRUE(WIFSIGNALED(wstatus));
  EXPECT_EQ(WTERMSIG(wstatus), SIGKILL);

  store_ = OpenOrDie(path_);
  ASSERT_NE(store_, nullptr);
  v1::ListCallRecordsResponse list = List({});
  ASSERT_EQ(list.records_size(), 1);
  v1::CallRecord want = FullRecord(42);
  want.set_record_id(1);
  EXPECT_TRUE(MessageDifferencer::Equals(list.records(0), want));
}

TEST_F(CdrStoreTest, ConcurrentUse) {
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([this, t] {
      for (int i = 0; i < 50; ++i) {
        EXPECT_TRUE(store_->Append(FullRecord(t * 100 + i)).ok());
        v1::ListCallRecordsRequest request;
        request.set_limit(5);
        EXPECT_TRUE(store_->List(request).ok());
      }
    });
  }
  for (std::thread& t : threads) t.join();
  EXPECT_EQ(*store_->Count(), 200u);
}

TEST(CdrStoreOpen, Errors) {
  const std::string dir = MakeTempDir();
  // A directory where the database file should be.
  absl::StatusOr<std::unique_ptr<CdrStore>> store = CdrStore::Open(dir);
  EXPECT_FALSE(store.ok());
  EXPECT_THAT(store.status().message(), HasSubstr(dir));
  EXPECT_TRUE(store.status().code() == absl::StatusCode::kUnavailable ||
              store.status().code() == absl::StatusCode::kInternal)
      << store.status();

  // A database from a newer server.
  const std::string path = dir + "/future.sqlite3";
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(path.c_str(), &db), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(db, "PRAGMA user_version = 99", nullptr, nullptr, nullptr), SQLITE_OK);
  sqlite3_close(db);
  store = CdrStore::Open(path);
  EXPECT_EQ(store.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(store.status().message(), HasSubstr("schema version 99"));

  // Not a database at all.
  const std::string junk = dir + "/junk.sqlite3";
  FILE* f = fopen(junk.c_str(), "w");
  ASSERT_NE(f, nullptr);
  fputs("this is not an SQLite database, not even close; padding padding padding padding\n", f);
  fclose(f);
  store = CdrStore::Open(junk);
  EXPECT_FALSE(store.ok());
  EXPECT_THAT(store.status().message(), HasSubstr(junk));
  EXPECT_THAT(store.status().message(), HasSubstr("not a database"));

  EXPECT_EQ(CdrStore::PathInDataDir("/var/lib/lb"), "/var/lib/lb/cdr.sqlite3");
  EXPECT_EQ(CdrStore::PathInDataDir("d/"), "d/cdr.sqlite3");
}

TEST(AsyncCdrWriterTest, FlushWaitsForEverythingEnqueued) {
  const std::string path = MakeTempDir() + "/cdr.sqlite3";
  std::unique_ptr<CdrStore> store = OpenOrDie(path);
  ASSERT_NE(store, nullptr);
  {
    AsyncCdrWriter writer(store.get(), 100000, 64);
    EXPECT_TRUE(writer.Flush().ok());  // nothing queued
    for (int i = 0; i < 1000; ++i) ASSERT_TRUE(writer.Enqueue(FullRecord(i)));
    EXPECT_TRUE(writer.Flush().ok());
    EXPECT_EQ(*store->Count(), 1000u);
    EXPECT_EQ(writer.written(), 1000u);
    EXPECT_EQ(writer.queued(), 0u);
    EXPECT_EQ(writer.dropped(), 0u);
    EXPECT_EQ(writer.failed(), 0u);

    // Flush from several threads while others enqueue.
    std::vector<std::thread> threads;
    for (int t = 0; t < 4; ++t) {
      threads.emplace_back([&writer, &store, t] {
        for (int i = 0; i < 100; ++i) writer.Enqueue(FullRecord(t * 1000 + i));
        EXPECT_TRUE(writer.Flush().ok());
        EXPECT_GE(*store->Count(), 1100u);
      });
    }
    for (std::thread& t : threads) t.join();
    EXPECT_EQ(*store->Count(), 1400u);

    // Records come back in enqueue order.
    v1::ListCallRecordsRequest request;
    request.set_limit(1);
    request.set_before_record_id(2);
    EXPECT_EQ(store->List(request)->records(0).call_id(), "e1-call-0");
    for (int i = 0; i < 300; ++i) writer.Enqueue(FullRecord(i));
  }  // the destructor flushes
  EXPECT_EQ(*store->Count(), 1700u);
}

TEST(AsyncCdrWriterTest, NeverBlocksAndCountsDrops) {
  const std::string path = MakeTempDir() + "/cdr.sqlite3";
  std::unique_ptr<CdrStore> store = OpenOrDie(path);
  ASSERT_NE(store, nullptr);
  // Hold the database's write lock from another connection so the writer
  // cannot drain; Enqueue must still return at once.
  sqlite3* blocker = nullptr;
  ASSERT_EQ(sqlite3_open(path.c_str(), &blocker), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(blocker, "BEGIN IMMEDIATE", nullptr, nullptr, nullptr), SQLITE_OK);
  {
    AsyncCdrWriter writer(store.get(), 10, 4);
    int accepted = 0;
    for (int i = 0; i < 100; ++i) accepted += writer.Enqueue(FullRecord(i)) ? 1 : 0;
    EXPECT_GE(accepted, 10);
    EXPECT_LE(accepted, 14);  // the queue plus at most one batch in flight
    EXPECT_EQ(writer.dropped(), static_cast<uint64_t>(100 - accepted));
    ASSERT_EQ(sqlite3_exec(blocker, "COMMIT", nullptr, nullptr, nullptr), SQLITE_OK);
    EXPECT_TRUE(writer.Flush().ok());
    EXPECT_EQ(writer.written(), static_cast<uint64_t>(accepted));
    EXPECT_EQ(*store->Count(), static_cast<uint64_t>(accepted));
  }
  sqlite3_close(blocker);
}

}  // namespace
}  // namespace linebridge
