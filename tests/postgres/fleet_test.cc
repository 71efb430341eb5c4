// Two real linebridged processes sharing one real PostgreSQL 15 (PgCluster):
// a token issued on one works on the other, revocation reaches it through
// LISTEN/NOTIFY, principals and line assignments are shared, call records
// and audit carry the server id and are listed fleet-wide. Then PostgreSQL
// crashes and restarts under load on both: calls go on (authorized from the
// snapshot) and no call record is lost.
#include <gtest/gtest.h>

#include <atomic>
#include <fstream>
#include <map>
#include <set>
#include <thread>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "test_server.h"
#include "linebridge/v1/security.grpc.pb.h"
#include "pg_cluster.h"
#include "tapisrv_harness.h"
#include "linebridge/deadline.h"

namespace linebridge {
namespace {

using itest::As;
using itest::Ctx;
using testing::PgCluster;
using tsp_test::ServerProcess;

struct Member {
  std::string dir;
  ServerProcess process;
  std::shared_ptr<grpc::Channel> channel;
  std::unique_ptr<v1::Telephony::Stub> telephony;
  std::unique_ptr<v1::Admin::Stub> admin;
  std::unique_ptr<v1::Security::Stub> security;
};

// Waits (bounded) until `check` holds, as a client polling for a result.
template <typename F>
bool Within(absl::Duration d, F check) {
  const absl::Time deadline = MonotonicNow() + d;
  while (MonotonicNow() < deadline) {
    if (check()) return true;
    absl::SleepFor(absl::Milliseconds(10));
  }
  return check();
}

class FleetTest : public ::testing::Test {
 protected:
  void SetUp() override {
    absl::Status st = PgCluster::Start(&cluster_);
    ASSERT_TRUE(st.ok()) << st;
    ASSERT_TRUE(cluster_->CreateDatabase("fleet").ok());
    for (const char* id : {"alpha", "beta"}) {
      auto m = std::make_unique<Member>();
      m->dir = itest::NewTempDir(absl::StrCat("fleet-", id));
      const std::string config = m->dir + "/linebridged.textproto";
      // A load of calls far above the toll-fraud limits' defaults.
      std::ofstream(config) << "server_id: \"" << id << "\"\n"
                            << "limits { originations_per_minute: 60000 origination_burst: 10000 }\n"
                            << "store { postgres { conninfo: \"" << cluster_->conninfo("fleet")
                            // Far beyond every wait below: only NOTIFY can
                            // bring a change in time; the snapshot outlives
                            // the outage.
                            << "\" refresh_ms: 600000 cache_ms: 1200000 } }\n";
      std::string error;
      ASSERT_TRUE(m->process.Start(m->dir, &error, 0, config)) << error;
      m->channel = grpc::CreateChannel(m->process.address(), grpc::InsecureChannelCredentials());
      m->telephony = v1::Telephony::NewStub(m->channel);
      m->admin = v1::Admin::NewStub(m->channel);
      m->security = v1::Security::NewStub(m->channel);
      members_.push_back(std::move(m));
    }
  }
  void TearDown() override {
    members_.clear();  // SIGTERM: each must exit 0
    cluster_.reset();
  }

  Member& a() { return *members_[0]; }
  Member& b() { return *members_[1]; }

  // alice: a user with sim/100 (control, originate); her token.
  std::string AddAlice() {
    v1::AddPrincipalRequest add;
    add.set_name("alice");
    v1::Principal p;
    EXPECT_TRUE(a().security->AddPrincipal(Ctx().get(), add, &p).ok());
    v1::AssignRequest assign;
    assign.set_principal("alice");
    assign.mutable_grant()->set_line_id("sim/100");
    assign.mutable_grant()->set_control(true);
    assign.mutable_grant()->set_originate(true);
    EXPECT_TRUE(a().security->Assign(Ctx().get(), assign, &p).ok());
    v1::IssueTokenRequest issue;
    issue.set_principal("alice");
    v1::IssueTokenResponse token;
    grpc::Status st = a().security->IssueToken(Ctx().get(), issue, &token);
    EXPECT_TRUE(st.ok()) << st.error_message();
    token_id_ = token.info().token_id();
    return token.token();
  }

  // A call from sim/100 to the answering external number, dropped; its id.
  static grpc::Status CallOnce(Member& m, const std::string& token, std::string* call_id) {
    v1::MakeCallRequest make;
    make.set_line_id("sim/100");
    make.set_destination("5550100");
    v1::Call call;
    grpc::Status st = m.telephony->MakeCall(As(token).get(), make, &call);
    if (!st.ok()) return st;
    *call_id = call.id();
    v1::CallActionRequest drop;
    drop.set_call_id(call.id());
    return m.telephony->Drop(As(token).get(), drop, &call);
  }

  static std::vector<v1::CallRecord> Records(Member& m, const std::string& server_id = "") {
    v1::ListCallRecordsRequest req;
    req.set_limit(10000);
    req.set_server_id(server_id);
    v1::ListCallRecordsResponse resp;
    grpc::Status st = m.admin->ListCallRecords(Ctx().get(), req, &resp);
    if (!st.ok()) return {};
    return {resp.records().begin(), resp.records().end()};
  }

  std::unique_ptr<PgCluster> cluster_;
  std::vector<std::unique_ptr<Member>> members_;
  std::string token_id_;
};

TEST_F(FleetTest, TokensAssignmentsRecordsAndAuditAreShared) {
  const std::string token = AddAlice();
  // On beta: the token, the principal and her one line, without a restart.
  ASSERT_TRUE(Within(absl::Seconds(5), [&] {
    v1::ListLinesResponse lines;
    grpc::Status st = b().telephony->ListLines(As(token).get(), v1::ListLinesRequest(), &lines);
    return st.ok() && lines.lines_size() == 1 && lines.lines(0).id() == "sim/100";
  }));
  std::string on_beta, on_alpha;
  grpc::Status st = CallOnce(b(), token, &on_beta);
  ASSERT_TRUE(st.ok()) << st.error_message();
  st = CallOnce(a(), token, &on_alpha);
  ASSERT_TRUE(st.ok()) << st.error_message();

  // Records of both servers, from either, each naming its server.
  ASSERT_TRUE(Within(absl::Seconds(10), [&] { return Records(a()).size() == 2; }));
  std::map<std::string, std::string> server_of;
  for (const v1::CallRecord& r : Records(a())) server_of[r.call_id()] = r.server_id();
  EXPECT_EQ(server_of[on_beta], "beta");
  EXPECT_EQ(server_of[on_alpha], "alpha");
  const auto only_beta = Records(a(), "beta");
  ASSERT_EQ(only_beta.size(), 1u);
  EXPECT_EQ(only_beta[0].call_id(), on_beta);

  // Audit: alpha's token issue, listed on beta, filterable by server.
  v1::ListAuditRequest audit;
  audit.set_server_id("alpha");
  audit.set_limit(1000);
  v1::ListAuditResponse rows;
  ASSERT_TRUE(Within(absl::Seconds(10), [&] {
    rows.Clear();
    if (!b().security->ListAudit(Ctx().get(), audit, &rows).ok()) return false;
    for (const v1::AuditRecord& r : rows.records()) {
      if (r.operation() == "Security.IssueToken") return true;
    }
    return false;
  }));
  for (const v1::AuditRecord& r : rows.records()) EXPECT_EQ(r.server_id(), "alpha");

  // Revoked on alpha: refused on beta promptly (NOTIFY; the refresh
  // interval is 10 minutes).
  v1::RevokeTokenRequest revoke;
  revoke.set_token_id(token_id_);
  v1::TokenInfo info;
  ASSERT_TRUE(a().security->RevokeToken(Ctx().get(), revoke, &info).ok());
  const absl::Time revoked = absl::Now();
  ASSERT_TRUE(Within(absl::Seconds(5), [&] {
    v1::ListLinesResponse lines;
    return b().telephony->ListLines(As(token).get(), v1::ListLinesRequest(), &lines)
               .error_code() == grpc::StatusCode::UNAUTHENTICATED;
  }));
  EXPECT_LT(absl::Now() - revoked, absl::Seconds(2));

  // An assignment taken away on beta reaches alpha.
  v1::UnassignRequest unassign;
  unassign.set_principal("alice");
  unassign.set_line_id("sim/100");
  v1::Principal p;
  ASSERT_TRUE(b().security->Unassign(Ctx().get(), unassign, &p).ok());
  ASSERT_TRUE(Within(absl::Seconds(5), [&] {
    v1::ListPrincipalsResponse list;
    if (!a().security->ListPrincipals(Ctx().get(), v1::ListPrincipalsRequest(), &list).ok()) {
      return false;
    }
    for (const v1::Principal& pr : list.principals()) {
      if (pr.name() == "alice") return pr.lines_size() == 0;
    }
    return false;
  }));
}

TEST_F(FleetTest, PostgresCrashUnderLoadLosesNoRecord) {
  const std::string token = AddAlice();
  ASSERT_TRUE(Within(absl::Seconds(5), [&] {
    v1::ListLinesResponse lines;
    return b().telephony->ListLines(As(token).get(), v1::ListLinesRequest(), &lines).ok();
  }));
  absl::Mutex mu;
  std::set<std::string> made;
  std::vector<std::string> failures;
  std::atomic<bool> stop{false};
  std::vector<std::thread> load;
  // However the test ends, the load stops first.
  struct Joiner {
    std::atomic<bool>* stop;
    std::vector<std::thread>* threads;
    ~Joiner() {
      *stop = true;
      for (auto& t : *threads) {
        if (t.joinable()) t.join();
      }
    }
  } joiner{&stop, &load};
  for (Member* m : {&a(), &b()}) {
    load.emplace_back([&, m] {
      while (!stop.load()) {
        std::string id;
        grpc::Status st = CallOnce(*m, token, &id);
        absl::MutexLock lock(&mu);
        if (st.ok()) {
          made.insert(id);
        } else {
          failures.push_back(st.error_message());
        }
      }
    });
  }
  auto count = [&] {
    absl::MutexLock lock(&mu);
    return made.size();
  };
  ASSERT_TRUE(Within(absl::Seconds(10), [&] { return count() >= 20; }));
  ASSERT_TRUE(cluster_->Crash().ok());
  const size_t at_crash = count();
  // Calls go on while the database is down; the stores report failing and
  // the records wait in the spool.
  ASSERT_TRUE(Within(absl::Seconds(10), [&] { return count() >= at_crash + 40; }));
  bool failing = false;
  ASSERT_TRUE(Within(absl::Seconds(10), [&] {
    v1::ServerStatus status;
    if (!a().admin->GetServerStatus(Ctx().get(), v1::GetServerStatusRequest(), &status).ok()) {
      return false;
    }
    for (const v1::StoreStatus& s : status.stores()) {
      if (s.name() == "call_records" && s.backend() == "postgresql" && s.has_failing_since() &&
          s.spool_rows() > 0) {
        failing = true;
      }
    }
    return failing;
  }));
  ASSERT_TRUE(cluster_->Restart().ok());
  ASSERT_TRUE(Within(absl::Seconds(10), [&] { return count() >= at_crash + 80; }));
  stop = true;
  for (auto& t : load) t.join();
  {
    absl::MutexLock lock(&mu);
    EXPECT_TRUE(failures.empty()) << failures.size() << " calls failed, first: "
                                  << (failures.empty() ? "" : failures[0]);
  }
  // Every call made has its record, once, whichever server wrote it.
  std::map<std::string, int> recorded;
  ASSERT_TRUE(Within(absl::Seconds(30), [&] {
    recorded.clear();
    for (const v1::CallRecord& r : Records(b())) ++recorded[r.call_id()];
    return recorded.size() >= made.size();
  })) << recorded.size() << " of " << made.size() << " records";
  for (const std::string& id : made) EXPECT_EQ(recorded[id], 1) << id;
}

}  // namespace
}  // namespace linebridge
