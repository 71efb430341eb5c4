// A real linebridged on a real PostgreSQL 15 (PgCluster) that crashes while
// the database is down: PostgreSQL stops, calls are made and a subscriber
// sees each of them end (IDLE — which linebridged holds back until the
// call's record is settled, here: synced into data_dir/cdr.spool), then
// linebridged is killed with SIGKILL. PostgreSQL and linebridged start
// again: every call the subscriber saw end has exactly one record in
// PostgreSQL, and every audit row the server had spooled is there once.
#include <gtest/gtest.h>

#include <fstream>
#include <map>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "linebridge/v1/security.grpc.pb.h"
#include "pg_cluster.h"
#include "tapisrv_harness.h"
#include "test_server.h"
#include "linebridge/deadline.h"

namespace linebridge {
namespace {

using itest::Ctx;
using itest::EventReader;
using testing::PgCluster;
using tsp_test::ServerProcess;

template <typename F>
bool Within(absl::Duration d, F check) {
  const absl::Time deadline = MonotonicNow() + d;
  while (MonotonicNow() < deadline) {
    if (check()) return true;
    absl::SleepFor(absl::Milliseconds(10));
  }
  return check();
}

class SpoolCrashTest : public ::testing::Test {
 protected:
  void SetUp() override {
    absl::Status st = PgCluster::Start(&cluster_);
    ASSERT_TRUE(st.ok()) << st;
    ASSERT_TRUE(cluster_->CreateDatabase("fleet").ok());
    dir_ = itest::NewTempDir("spool-crash");
    const std::string config = dir_ + "/linebridged.textproto";
    std::ofstream(config) << "server_id: \"solo\"\n"
                          << "store { postgres { conninfo: \"" << cluster_->conninfo("fleet")
                          << "\" refresh_ms: 600000 cache_ms: 1200000 } }\n";
    std::string error;
    ASSERT_TRUE(process_.Start(dir_, &error, 0, config)) << error;
    Connect();
  }
  void TearDown() override {
    process_.Stop();
    cluster_.reset();
  }
  void Connect() {
    channel_ = grpc::CreateChannel(process_.address(), grpc::InsecureChannelCredentials());
    telephony_ = v1::Telephony::NewStub(channel_);
    admin_ = v1::Admin::NewStub(channel_);
    security_ = v1::Security::NewStub(channel_);
  }

  // The store status named `name`, if the server answers.
  std::optional<v1::StoreStatus> Store(const std::string& name) {
    v1::ServerStatus status;
    if (!admin_->GetServerStatus(Ctx().get(), v1::GetServerStatusRequest(), &status).ok()) {
      return std::nullopt;
    }
    for (const v1::StoreStatus& s : status.stores()) {
      if (s.name() == name) return s;
    }
    return std::nullopt;
  }

  // A call on sim/100 to an answering number, dropped; waits until the
  // subscriber sees it end. Its id, or "" on failure.
  std::string CallAndSeeIdle(EventReader& events) {
    v1::Call call;
    grpc::Status st = itest::MakeCall(*telephony_, "sim/100", "5550100", &call);
    EXPECT_TRUE(st.ok()) << st.error_message();
    if (!st.ok()) return "";
    st = itest::Drop(*telephony_, call.id());
    EXPECT_TRUE(st.ok()) << st.error_message();
    if (!events.WaitFor(itest::IsCallState(call.id(), v1::CALL_STATE_IDLE))) {
      ADD_FAILURE() << "no IDLE for " << call.id();
      return "";
    }
    return call.id();
  }

  // The MakeCall and Drop rows PostgreSQL holds ({-1, -1} if unreadable).
  std::pair<int, int> AuditRows() {
    v1::ListAuditRequest request;
    request.set_limit(10000);
    v1::ListAuditResponse rows;
    if (!security_->ListAudit(Ctx().get(), request, &rows).ok()) return {-1, -1};
    std::pair<int, int> n{0, 0};
    for (const v1::AuditRecord& r : rows.records()) {
      if (r.operation() == "MakeCall") ++n.first;
      if (r.operation() == "Drop") ++n.second;
    }
    return n;
  }

  std::unique_ptr<PgCluster> cluster_;
  std::string dir_;
  ServerProcess process_;
  std::shared_ptr<grpc::Channel> channel_;
  std::unique_ptr<v1::Telephony::Stub> telephony_;
  std::unique_ptr<v1::Admin::Stub> admin_;
  std::unique_ptr<v1::Security::Stub> security_;
};

TEST_F(SpoolCrashTest, CallsSeenEndedWhileTheDatabaseWasDownSurviveAKill) {
  constexpr int kCallsWhileDown = 30;
  std::set<std::string> seen_idle;
  {
    v1::SubscribeRequest sub;
    sub.add_line_ids("sim/100");
    EventReader events(*telephony_, sub);
    ASSERT_TRUE(events.Next().has_value());  // the snapshot
    const std::string before = CallAndSeeIdle(events);
    ASSERT_FALSE(before.empty());
    seen_idle.insert(before);
    // The first call's audit rows (MakeCall, Drop) reach PostgreSQL before it
    // goes down, so every row spooled below is one of the calls made then.
    ASSERT_TRUE(Within(absl::Seconds(5), [&] { return AuditRows() == std::make_pair(1, 1); }));

    ASSERT_TRUE(cluster_->Crash().ok());
    for (int i = 0; i < kCallsWhileDown; ++i) {
      const std::string id = CallAndSeeIdle(events);
      ASSERT_FALSE(id.empty());
      seen_idle.insert(id);
    }
  }
  // Every record waits in the spool (IDLE came after its sync); audit rows
  // (MakeCall and Drop of each call, not held back by anything) follow
  // within their writer's linger: all 2 x kCallsWhileDown of them before
  // the kill (an audit row still in the writer's queue at a SIGKILL is lost:
  // the record promise covers call records, not audit rows).
  std::optional<v1::StoreStatus> records = Store("call_records");
  ASSERT_TRUE(records.has_value());
  EXPECT_EQ(records->backend(), "postgresql");
  EXPECT_GE(records->spool_rows(), static_cast<uint64_t>(kCallsWhileDown));
  EXPECT_GT(records->spool_bytes(), 0u);
  EXPECT_TRUE(records->has_spool_oldest());
  EXPECT_TRUE(records->has_failing_since());
  EXPECT_EQ(records->spool_full_drops(), 0u);
  uint64_t audit_spooled = 0;
  ASSERT_TRUE(Within(absl::Seconds(5), [&] {
    std::optional<v1::StoreStatus> audit = Store("audit");
    audit_spooled = audit ? audit->spool_rows() : 0;
    return audit_spooled >= 2 * kCallsWhileDown;
  })) << audit_spooled;

  process_.Kill();
  ASSERT_TRUE(cluster_->Restart().ok());
  std::string error;
  ASSERT_TRUE(process_.Restart(&error)) << error;
  Connect();
  // The spools left by the killed run are delivered.
  ASSERT_TRUE(Within(absl::Seconds(20), [&] {
    std::optional<v1::StoreStatus> r = Store("call_records");
    std::optional<v1::StoreStatus> a = Store("audit");
    return r && a && r->spool_rows() == 0 && a->spool_rows() == 0 &&
           r->spool_delivered() >= static_cast<uint64_t>(kCallsWhileDown);
  }));

  v1::ListCallRecordsRequest list;
  list.set_limit(10000);
  v1::ListCallRecordsResponse listed;
  ASSERT_TRUE(admin_->ListCallRecords(Ctx().get(), list, &listed).ok());
  std::map<std::string, int> records_of;
  for (const v1::CallRecord& r : listed.records()) {
    EXPECT_EQ(r.server_id(), "solo");
    ++records_of[r.call_id()];
  }
  for (const std::string& id : seen_idle) EXPECT_EQ(records_of[id], 1) << id;
  EXPECT_EQ(records_of.size(), seen_idle.size());

  v1::ListAuditRequest audit;
  audit.set_limit(10000);
  v1::ListAuditResponse rows;
  ASSERT_TRUE(security_->ListAudit(Ctx().get(), audit, &rows).ok());
  std::map<std::string, int> drops_of;
  int make_calls = 0;
  for (const v1::AuditRecord& r : rows.records()) {
    if (r.operation() == "Drop") ++drops_of[r.call_id()];
    if (r.operation() == "MakeCall") ++make_calls;
  }
  EXPECT_EQ(make_calls, kCallsWhileDown + 1);
  for (const std::string& id : seen_idle) EXPECT_EQ(drops_of[id], 1) << id;
}

}  // namespace
}  // namespace linebridge
