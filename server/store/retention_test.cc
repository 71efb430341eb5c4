#include "store/retention.h"

#include <stdlib.h>

#include <atomic>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "core/testing/manual_clock.h"
#include "gtest/gtest.h"
#include "store/testing/store_test_util.h"
#include "store/cdr_store.h"
#include "store/security_store.h"
#include "linebridge/deadline.h"

namespace linebridge {
namespace {

std::string MakeTempDir() { return store_testing::MakeTempDir("retention_test"); }

google::protobuf::Timestamp At(absl::Time t) {
  const int64_t us = absl::ToUnixMicros(t);
  google::protobuf::Timestamp ts;
  ts.set_seconds(us / 1000000);
  ts.set_nanos(static_cast<int32_t>(us % 1000000) * 1000);
  return ts;
}

v1::CallRecord Ended(absl::Time t, int n) {
  v1::CallRecord r;
  r.set_call_id(absl::StrCat("call-", n));
  r.set_line_id("sim/100");
  *r.mutable_ended() = At(t);
  return r;
}

v1::AuditRecord Audit(absl::Time t, int n) {
  v1::AuditRecord r;
  *r.mutable_time() = At(t);
  r.set_principal("alice");
  r.set_operation("Telephony.MakeCall");
  r.set_detail(absl::StrCat("n=", n));
  return r;
}

class RetentionTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = MakeTempDir();
    auto cdr = CdrStore::Open(CdrStore::PathInDataDir(dir_));
    ASSERT_TRUE(cdr.ok()) << cdr.status();
    cdr_ = *std::move(cdr);
    auto security = SecurityStore::Open(SecurityStore::PathInDataDir(dir_));
    ASSERT_TRUE(security.ok()) << security.status();
    security_ = *std::move(security);
  }

  // A pruner of the call records with `max_age` / `max_rows`, batches of
  // `batch` rows; every batch's size lands in batches_.
  std::unique_ptr<RetentionPruner> RecordsPruner(absl::Duration max_age, uint64_t max_rows,
                                                 uint32_t batch) {
    RetentionTable table;
    table.name = "call_records";
    table.max_age = max_age;
    table.max_rows = max_rows;
    table.prune = [this](int64_t cutoff_us, uint64_t rows, uint32_t b) {
      absl::StatusOr<uint64_t> n = cdr_->PruneBatch(cutoff_us, rows, b);
      if (n.ok()) batches_.push_back(*n);
      return n;
    };
    RetentionPruner::Options options;
    options.batch_rows = batch;
    options.batch_pause = absl::ZeroDuration();
    options.clock = clock_.AsFunction();
    options.background = false;
    return std::make_unique<RetentionPruner>(std::vector<RetentionTable>{table}, options);
  }

  uint64_t Records() {
    absl::StatusOr<uint64_t> n = cdr_->Count();
    EXPECT_TRUE(n.ok()) << n.status();
    return n.ok() ? *n : 0;
  }

  uint64_t AuditRows() {
    v1::ListAuditRequest req;
    req.set_limit(10000);
    absl::StatusOr<v1::ListAuditResponse> resp = security_->ListAudit(req);
    EXPECT_TRUE(resp.ok()) << resp.status();
    return resp.ok() ? static_cast<uint64_t>(resp->records_size()) : 0;
  }

  testing::ManualClock clock_;
  std::string dir_;
  std::unique_ptr<CdrStore> cdr_;
  std::unique_ptr<SecurityStore> security_;
  std::vector<uint64_t> batches_;
};

TEST_F(RetentionTest, RecordsOlderThanMaxAgeGoByEndTime) {
  const absl::Time start = clock_.Now();
  std::vector<v1::CallRecord> records;
  for (int day = 0; day < 10; ++day) records.push_back(Ended(start + absl::Hours(24) * day, day));
  ASSERT_TRUE(cdr_->AppendBatch(records).ok());
  auto pruner = RecordsPruner(absl::Hours(24) * 5, 1000, 100);

  clock_.Advance(absl::Hours(24) * 9);  // day 9: days 0-3 are older than 5 days
  pruner->RunPass();
  EXPECT_EQ(Records(), 6u);
  EXPECT_EQ(pruner->stats("call_records").pruned, 4u);
  pruner->RunPass();  // nothing new is due
  EXPECT_EQ(Records(), 6u);

  clock_.Advance(absl::Hours(24) * 3);  // day 12: days 4-6 go too
  pruner->RunPass();
  EXPECT_EQ(Records(), 3u);
  v1::ListCallRecordsRequest req;
  absl::StatusOr<v1::ListCallRecordsResponse> left = cdr_->List(req);
  ASSERT_TRUE(left.ok());
  ASSERT_EQ(left->records_size(), 3);
  EXPECT_EQ(left->records(2).call_id(), "call-7");  // the oldest kept
  EXPECT_EQ(pruner->stats("call_records").pruned, 7u);
  EXPECT_EQ(pruner->passes(), 3u);
}

TEST_F(RetentionTest, RecordsBeyondMaxRowsGoOldestFirstInBoundedBatches) {
  const absl::Time now = clock_.Now();
  std::vector<v1::CallRecord> records;
  for (int i = 0; i < 1234; ++i) records.push_back(Ended(now, i));
  ASSERT_TRUE(cdr_->AppendBatch(records).ok());
  auto pruner = RecordsPruner(absl::Hours(24) * 365, 100, 50);

  pruner->RunPass();
  EXPECT_EQ(Records(), 100u);
  EXPECT_EQ(pruner->stats("call_records").pruned, 1134u);
  // 22 full batches of 50, one of 34 that ends the pass.
  ASSERT_EQ(batches_.size(), 23u);
  for (size_t i = 0; i + 1 < batches_.size(); ++i) EXPECT_EQ(batches_[i], 50u) << i;
  EXPECT_EQ(batches_.back(), 34u);
  v1::ListCallRecordsRequest req;
  req.set_limit(1000);
  absl::StatusOr<v1::ListCallRecordsResponse> left = cdr_->List(req);
  ASSERT_TRUE(left.ok());
  EXPECT_EQ(left->records(0).call_id(), "call-1233");
  EXPECT_EQ(left->records(99).call_id(), "call-1134");

  // New records push the oldest out, a pass at a time.
  records.clear();
  for (int i = 1234; i < 1244; ++i) records.push_back(Ended(now, i));
  ASSERT_TRUE(cdr_->AppendBatch(records).ok());
  batches_.clear();
  pruner->RunPass();
  EXPECT_EQ(Records(), 100u);
  EXPECT_EQ(batches_, std::vector<uint64_t>{10});
}

TEST_F(RetentionTest, AuditRowsGoByAgeAndCount) {
  const absl::Time start = clock_.Now();
  std::vector<v1::AuditRecord> rows;
  for (int i = 0; i < 300; ++i) rows.push_back(Audit(start + absl::Hours(i), i));
  ASSERT_TRUE(security_->AppendAudit(rows).ok());

  RetentionTable table;
  table.name = "audit";
  table.max_age = absl::Hours(100);
  table.max_rows = 150;
  table.prune = [this](int64_t cutoff_us, uint64_t max_rows, uint32_t batch) {
    return security_->PruneAuditBatch(cutoff_us, max_rows, batch);
  };
  RetentionPruner::Options options;
  options.batch_rows = 64;
  options.batch_pause = absl::ZeroDuration();
  options.clock = clock_.AsFunction();
  options.background = false;
  RetentionPruner pruner({table}, options);

  pruner.RunPass();  // the row limit: 150 newest
  EXPECT_EQ(AuditRows(), 150u);
  clock_.Advance(absl::Hours(299 + 100 - 20));  // rows 0-278 are too old now
  pruner.RunPass();
  EXPECT_EQ(AuditRows(), 21u);
  EXPECT_EQ(pruner.stats("audit").pruned, 279u);
  EXPECT_EQ(pruner.stats("call_records").pruned, 0u);  // not a table of this pruner
}

TEST_F(RetentionTest, FailuresAreCountedAndClearWhenPruningWorksAgain) {
  bool fail = true;
  RetentionTable table;
  table.name = "call_records";
  table.max_rows = 1;
  table.prune = [&](int64_t cutoff_us, uint64_t rows, uint32_t batch) -> absl::StatusOr<uint64_t> {
    if (fail) return absl::UnavailableError("database or disk is full");
    return cdr_->PruneBatch(cutoff_us, rows, batch);
  };
  RetentionPruner::Options options;
  options.background = false;
  options.clock = clock_.AsFunction();
  RetentionPruner pruner({table}, options);
  ASSERT_TRUE(cdr_->AppendBatch({Ended(clock_.Now(), 1), Ended(clock_.Now(), 2)}).ok());

  pruner.RunPass();
  pruner.RunPass();
  EXPECT_EQ(pruner.stats("call_records").errors, 2u);
  EXPECT_EQ(pruner.stats("call_records").last_error, "database or disk is full");
  EXPECT_EQ(Records(), 2u);
  fail = false;
  pruner.RunPass();
  EXPECT_EQ(pruner.stats("call_records").last_error, "");
  EXPECT_EQ(pruner.stats("call_records").pruned, 1u);
  EXPECT_EQ(Records(), 1u);
}

TEST_F(RetentionTest, BackgroundPassesRunOnTheInterval) {
  RetentionTable table;
  table.name = "call_records";
  table.max_rows = 5;
  table.prune = [this](int64_t cutoff_us, uint64_t rows, uint32_t batch) {
    return cdr_->PruneBatch(cutoff_us, rows, batch);
  };
  RetentionPruner::Options options;
  options.interval = absl::Milliseconds(10);
  RetentionPruner pruner({table}, options);
  std::vector<v1::CallRecord> records;
  for (int i = 0; i < 40; ++i) records.push_back(Ended(absl::Now(), i));
  ASSERT_TRUE(cdr_->AppendBatch(records).ok());
  const absl::Time deadline = MonotonicNow() + absl::Seconds(20);
  while (Records() > 5 && MonotonicNow() < deadline) absl::SleepFor(absl::Milliseconds(5));
  EXPECT_EQ(Records(), 5u);
  EXPECT_GE(pruner.passes(), 1u);
}

}  // namespace
}  // namespace linebridge
