// The spool in data_dir against a real PostgreSQL 15 (PgCluster): while
// the database is down, call records and audit rows are spooled (synced)
// and AppendBatch / AppendAudit succeed; a store opened on a spool that an
// earlier run left delivers it in order once the database is back; a spool
// delivered a second time (the head not rewritten before a crash) adds no
// duplicate; a full spool refuses and counts, and the record writer then
// releases each record's wait at once.
#include <gtest/gtest.h>

#include <atomic>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "pg_cluster.h"
#include "store/cdr_store.h"
#include "store/postgres/pg_call_record_store.h"
#include "store/postgres/pg_connection.h"
#include "store/postgres/pg_security_backend.h"
#include "store/spool_file.h"
#include "linebridge/deadline.h"

namespace linebridge {
namespace {

using testing::PgCluster;

class PgSpoolTest : public ::testing::Test {
 protected:
  void SetUp() override {
    absl::Status st = PgCluster::Start(&cluster_);
    ASSERT_TRUE(st.ok()) << st;
    ASSERT_TRUE(cluster_->CreateDatabase("spool").ok());
    options_.conninfo = cluster_->conninfo("spool");
    options_.connect_timeout_s = 2;
    dir_ = cluster_->dir() + "/data_dir";
    std::filesystem::create_directories(dir_);
  }

  std::unique_ptr<PgCallRecordStore> OpenRecords(uint64_t max_bytes = 1 << 20) {
    auto store = PgCallRecordStore::Open(options_, "srv");
    EXPECT_TRUE(store.ok()) << store.status();
    auto file = SpoolFile::Open(dir_ + "/cdr.spool", max_bytes);
    EXPECT_TRUE(file.ok()) << file.status();
    if (!store.ok() || !file.ok()) return nullptr;
    (*store)->EnableSpool(std::move(*file));
    return std::move(*store);
  }
  std::unique_ptr<PgSecurityBackend> OpenAudit() {
    auto backend = PgSecurityBackend::Open(options_, "srv");
    EXPECT_TRUE(backend.ok()) << backend.status();
    auto file = SpoolFile::Open(dir_ + "/audit.spool", 1 << 20);
    EXPECT_TRUE(file.ok()) << file.status();
    if (!backend.ok() || !file.ok()) return nullptr;
    EXPECT_TRUE((*backend)->EnableSpool(std::move(*file)).ok());
    return std::move(*backend);
  }

  // count(*) and count(DISTINCT <column>) of `table`.
  std::pair<int64_t, int64_t> Count(const std::string& table, const std::string& column) {
    auto conn = PgConnection::Connect(options_);
    EXPECT_TRUE(conn.ok()) << conn.status();
    if (!conn.ok()) return {-1, -1};
    auto r = (*conn)->Exec(
        absl::StrCat("SELECT count(*), count(DISTINCT ", column, ") FROM ", table));
    EXPECT_TRUE(r.ok()) << r.status();
    if (!r.ok()) return {-1, -1};
    return {r->int64(0, 0), r->int64(0, 1)};
  }

  std::unique_ptr<PgCluster> cluster_;
  PgOptions options_;
  std::string dir_;
};

v1::CallRecord Record(int n) {
  v1::CallRecord r;
  r.set_call_id(absl::StrCat("e1-", n));
  r.set_line_id("sim/100");
  r.mutable_called()->set_number("5550100");
  r.mutable_ended()->set_seconds(1700000000 + n);
  r.set_disposition(v1::DISCONNECT_MODE_NORMAL);
  return r;
}

v1::AuditRecord Audit(int n) {
  v1::AuditRecord a;
  a.mutable_time()->set_seconds(1700000000 + n);
  a.set_principal("alice");
  a.set_operation("Telephony.MakeCall");
  a.set_line_id("sim/100");
  a.set_detail(absl::StrCat("call ", n));
  return a;
}

TEST_F(PgSpoolTest, WhileDownRowsAreSpooledAndArriveOnceAfterARestart) {
  auto records = OpenRecords();
  auto audit = OpenAudit();
  ASSERT_TRUE(records && audit);
  ASSERT_TRUE(records->AppendBatch({Record(0), Record(1)}).ok());
  ASSERT_TRUE(audit->AppendAudit({Audit(0)}).ok());
  EXPECT_EQ(records->spooler()->stats().rows, 0u);  // written directly

  ASSERT_TRUE(cluster_->Crash().ok());
  for (int n = 2; n < 52; n += 5) {
    std::vector<v1::CallRecord> batch;
    for (int i = n; i < n + 5; ++i) batch.push_back(Record(i));
    absl::StatusOr<std::vector<int64_t>> ids = records->AppendBatch(batch);
    ASSERT_TRUE(ids.ok()) << ids.status();
    EXPECT_TRUE(ids->empty());
    ASSERT_TRUE(audit->AppendAudit({Audit(n), Audit(n + 1)}).ok());
  }
  const SpoolStats rs = records->spooler()->stats();
  EXPECT_EQ(rs.rows, 50u);
  EXPECT_EQ(rs.spooled, 50u);
  EXPECT_GT(rs.bytes, 0u);
  EXPECT_NE(rs.oldest_us, 0);
  EXPECT_TRUE(rs.health.failing());
  EXPECT_EQ(audit->spooler()->stats().rows, 20u);

  // The process goes away with the database still down; the spool is what
  // is left. A copy stands for a crash before the head was rewritten.
  records.reset();
  audit.reset();
  std::filesystem::copy_file(dir_ + "/cdr.spool", dir_ + "/cdr.copy");
  std::filesystem::copy_file(dir_ + "/audit.spool", dir_ + "/audit.copy");

  ASSERT_TRUE(cluster_->Restart().ok());
  records = OpenRecords();
  audit = OpenAudit();
  ASSERT_TRUE(records && audit);
  ASSERT_TRUE(records->spooler()->WaitDrained(absl::Seconds(20)));
  ASSERT_TRUE(audit->spooler()->WaitDrained(absl::Seconds(20)));
  EXPECT_EQ(records->spooler()->stats().delivered, 50u);
  EXPECT_EQ(std::filesystem::file_size(dir_ + "/cdr.spool"), SpoolFile::kHeaderBytes);
  EXPECT_EQ(Count("call_records", "call_id"), std::make_pair(int64_t{52}, int64_t{52}));
  EXPECT_EQ(Count("audit", "detail"), std::make_pair(int64_t{21}, int64_t{21}));
  // In order: record ids follow the calls.
  v1::ListCallRecordsRequest list;
  list.set_limit(100);
  auto listed = records->List(list);
  ASSERT_TRUE(listed.ok());
  for (int i = 0; i < listed->records_size(); ++i) {
    EXPECT_EQ(listed->records(i).call_id(), absl::StrCat("e1-", 51 - i));
  }

  // Delivered again: nothing more.
  records.reset();
  audit.reset();
  std::filesystem::rename(dir_ + "/cdr.copy", dir_ + "/cdr.spool");
  std::filesystem::rename(dir_ + "/audit.copy", dir_ + "/audit.spool");
  records = OpenRecords();
  audit = OpenAudit();
  ASSERT_TRUE(records && audit);
  ASSERT_TRUE(records->spooler()->WaitDrained(absl::Seconds(20)));
  ASSERT_TRUE(audit->spooler()->WaitDrained(absl::Seconds(20)));
  EXPECT_EQ(Count("call_records", "call_id"), std::make_pair(int64_t{52}, int64_t{52}));
  EXPECT_EQ(Count("audit", "detail"), std::make_pair(int64_t{21}, int64_t{21}));
  // New rows go straight to the database again.
  ASSERT_TRUE(records->AppendBatch({Record(100)}).ok());
  EXPECT_EQ(records->spooler()->stats().spooled, 0u);
  EXPECT_FALSE(records->spooler()->stats().health.failing());
}

TEST_F(PgSpoolTest, AFullSpoolRefusesCountsAndReleasesEachRecordsWait) {
  // Room for a few records only.
  auto records = OpenRecords(SpoolFile::kHeaderBytes + 400);
  ASSERT_TRUE(records);
  ASSERT_TRUE(cluster_->Crash().ok());
  constexpr int kRecords = 40;
  std::atomic<int> settled{0};
  uint64_t written = 0, failed = 0;
  {
    AsyncCdrWriter writer(records.get(), 1000, 4);
    for (int i = 0; i < kRecords; ++i) {
      ASSERT_TRUE(writer.Enqueue(Record(i), [&settled] { ++settled; }));
    }
    (void)writer.Flush();
    // Every record's wait ends: spooled, or lost to the full spool.
    const absl::Time deadline = MonotonicNow() + absl::Seconds(20);
    while (settled.load() < kRecords && MonotonicNow() < deadline) {
      absl::SleepFor(absl::Milliseconds(5));
    }
    EXPECT_EQ(settled.load(), kRecords);
    written = writer.written();
    failed = writer.failed();
    EXPECT_EQ(writer.queued(), 0u);
  }
  const SpoolStats s = records->spooler()->stats();
  EXPECT_GT(s.rows, 0u);
  EXPECT_GT(s.full_drops, 0u);
  EXPECT_EQ(s.rows, written);
  EXPECT_EQ(s.full_drops, failed);
  EXPECT_EQ(written + failed, static_cast<uint64_t>(kRecords));
  EXPECT_LE(s.bytes, 400u);

  // What was spooled arrives; the lost ones do not.
  ASSERT_TRUE(cluster_->Restart().ok());
  ASSERT_TRUE(records->spooler()->WaitDrained(absl::Seconds(20)));
  EXPECT_EQ(Count("call_records", "call_id").first, static_cast<int64_t>(written));
}

}  // namespace
}  // namespace linebridge
