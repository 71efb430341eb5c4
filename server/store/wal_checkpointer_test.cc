// The WAL checkpointer: the writing connection's commits never checkpoint;
// the checkpointer's own connection does, once the log passes its threshold,
// and the log then starts over instead of growing.
#include "store/testing/store_test_util.h"
#include "store/wal_checkpointer.h"

#include <sqlite3.h>
#include <stdlib.h>
#include <sys/stat.h>

#include <algorithm>
#include <cstdio>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "gtest/gtest.h"
#include "store/cdr_store.h"

namespace linebridge {
namespace {

std::string MakeTempDir() { return store_testing::MakeTempDir("wal_checkpointer_test"); }

int64_t FileSize(const std::string& path) {
  struct stat st {};
  return stat(path.c_str(), &st) == 0 ? static_cast<int64_t>(st.st_size) : -1;
}

using store_testing::WaitFor;

class WalCheckpointerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    path_ = MakeTempDir() + "/db.sqlite3";
    ASSERT_EQ(sqlite3_open(path_.c_str(), &db_), SQLITE_OK);
    ASSERT_EQ(Exec("PRAGMA journal_mode=WAL"), SQLITE_OK);
    ASSERT_EQ(Exec("PRAGMA synchronous=NORMAL"), SQLITE_OK);
    ASSERT_EQ(Exec("CREATE TABLE t(x BLOB)"), SQLITE_OK);
  }
  void TearDown() override { sqlite3_close(db_); }
  int Exec(const std::string& sql) {
    return sqlite3_exec(db_, sql.c_str(), nullptr, nullptr, nullptr);
  }
  // One commit of about one page, holding the writer's mutex as a store does.
  void Commit() {
    absl::MutexLock lock(&mu_);
    ASSERT_EQ(Exec("INSERT INTO t VALUES (randomblob(3000))"), SQLITE_OK);
  }

  absl::Mutex mu_;
  std::string path_;
  sqlite3* db_ = nullptr;
};

TEST_F(WalCheckpointerTest, TheWriterNoLongerCheckpointsTheCheckpointerDoes) {
  auto c = WalCheckpointer::Start(path_, 1000, /*threshold_pages=*/200);
  ASSERT_TRUE(c.ok()) << c.status();
  (*c)->Attach(db_, &mu_);
  for (int i = 0; i < 10; ++i) Commit();  // a few frames each: below the threshold
  absl::SleepFor(absl::Milliseconds(50));
  EXPECT_EQ((*c)->checkpoints(), 0u);
  while ((*c)->checkpoints() == 0) {
    Commit();
    ASSERT_LT(FileSize(path_ + "-wal"), 64 * 1024 * 1024) << "never checkpointed";
  }
  EXPECT_EQ((*c)->failures(), 0u);
}

TEST_F(WalCheckpointerTest, TheLogStaysBoundedUnderAWriterThatNeverPauses) {
  auto c = WalCheckpointer::Start(path_, 1000, /*threshold_pages=*/100);
  ASSERT_TRUE(c.ok()) << c.status();
  (*c)->Attach(db_, &mu_);
  // Some 30 MB written without a pause: each passive checkpoint overlaps a
  // commit, so only the hard limit's RESTART lets the log start over.
  int64_t largest = 0;
  for (int i = 0; i < 10000; ++i) {
    Commit();
    largest = std::max(largest, FileSize(path_ + "-wal"));
  }
  EXPECT_GT((*c)->checkpoints() + (*c)->writer_checkpoints(), 5u);
  // 4 x 100 pages is the hard limit; what the writer adds while a
  // checkpoint runs comes on top, up to 8 x 100 pages (then the writer
  // starts the log over itself: the checkpoint thread did not get the CPU).
  EXPECT_LT(largest, 32 * 1024 * 1024);  // without the RESTART: 125 MB
  std::printf("checkpoints %llu, by the writer %llu, largest log %lld bytes\n",
              static_cast<unsigned long long>((*c)->checkpoints()),
              static_cast<unsigned long long>((*c)->writer_checkpoints()),
              static_cast<long long>(largest));
  EXPECT_EQ((*c)->failures(), 0u);
}

// The checkpoint thread starved (here: it cannot take the writer's mutex
// for its RESTART while the test holds it between commits... simulated by
// a threshold the thread is never told about): the writer's own RESTART
// past 8 x the threshold keeps the log bounded.
TEST_F(WalCheckpointerTest, AStarvedCheckpointThreadLeavesItToTheWriter) {
  auto c = WalCheckpointer::Start(path_, 1000, /*threshold_pages=*/50);
  ASSERT_TRUE(c.ok()) << c.status();
  (*c)->Attach(db_, &mu_);
  int64_t largest = 0;
  {
    // The writer's mutex held throughout: the thread's RESTART waits, as
    // it would for a thread that gets no CPU.
    absl::MutexLock lock(&mu_);
    for (int i = 0; i < 3000; ++i) {
      ASSERT_EQ(Exec("INSERT INTO t VALUES (randomblob(3000))"), SQLITE_OK);
      largest = std::max(largest, FileSize(path_ + "-wal"));
    }
  }
  EXPECT_GT((*c)->writer_checkpoints(), 0u);
  EXPECT_LT(largest, 8 * 1024 * 1024);  // 8 x 50 pages and a commit's worth
}

TEST_F(WalCheckpointerTest, WithoutItTheWriterCheckpointsItself) {
  // The control for the test above: SQLite's automatic checkpoint (after
  // 1000 pages) keeps the log small too, but inside the writer's commit.
  sqlite3_wal_autocheckpoint(db_, 50);
  for (int i = 0; i < 600; ++i) Commit();
  EXPECT_LT(FileSize(path_ + "-wal"), 4 * 1024 * 1024);
}

TEST_F(WalCheckpointerTest, AMissingDatabaseIsAnError) {
  auto c = WalCheckpointer::Start(MakeTempDir() + "/none/db.sqlite3", 1000);
  EXPECT_FALSE(c.ok());
}

TEST(CdrStoreCheckpoints, TheRecordLogIsCheckpointedAndBounded) {
  const std::string path = CdrStore::PathInDataDir(MakeTempDir());
  auto store = CdrStore::Open(path);
  ASSERT_TRUE(store.ok()) << store.status();
  const int64_t empty = FileSize(path);
  // 20,000 records as fast as one thread can write them, far past SQLite's
  // 1000-page threshold.
  std::vector<v1::CallRecord> batch(100);
  for (int i = 0; i < 100; ++i) {
    batch[static_cast<size_t>(i)].set_call_id(absl::StrCat("c-", i));
    batch[static_cast<size_t>(i)].set_line_id(std::string(300, 'l'));
  }
  int64_t largest = 0;
  for (int round = 0; round < 200; ++round) {
    ASSERT_TRUE((*store)->AppendBatch(batch).ok());
    largest = std::max(largest, FileSize(path + "-wal"));
  }
  EXPECT_EQ(*(*store)->Count(), 20000u);
  // Checkpoints copied the records into the database file itself (which
  // stays at its empty size for as long as nothing checkpoints) ...
  EXPECT_TRUE(WaitFor([&] { return FileSize(path) > empty + 4 * 1024 * 1024; }))
      << FileSize(path);
  // ... and the log stayed bounded: the hard limit (16 MB) plus what the
  // writer added while a checkpoint ran (seen: 17-26 MB).
  EXPECT_LT(largest, 64 * 1024 * 1024);
}

}  // namespace
}  // namespace linebridge
