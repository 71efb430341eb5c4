// The PostgreSQL store against a real PostgreSQL 15 (PgCluster): schema
// migrations under concurrent starts, call records of several servers,
// security changes reaching another server's cache through LISTEN/NOTIFY,
// and failing closed after the cache time when the database is gone.
#include <gtest/gtest.h>
#include <libpq-fe.h>

#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <memory>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "pg_cluster.h"
#include "store/postgres/pg_call_record_store.h"
#include "store/postgres/pg_connection.h"
#include "store/postgres/pg_schema.h"
#include "store/postgres/pg_security_backend.h"
#include "store/postgres/sqlite_to_pg.h"
#include "store/cdr_store.h"
#include "store/security_store.h"
#include "linebridge/deadline.h"

namespace linebridge {
namespace {

using testing::PgCluster;

class PgStoreTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    absl::Status st = PgCluster::Start(&cluster_);
    ASSERT_TRUE(st.ok()) << st;
  }
  static void TearDownTestSuite() { cluster_.reset(); }

  // A fresh database per test.
  PgOptions Fresh() {
    static std::atomic<int> n{0};
    const std::string db = absl::StrCat("t", n.fetch_add(1));
    EXPECT_TRUE(cluster_->CreateDatabase(db).ok());
    PgOptions o;
    o.conninfo = cluster_->conninfo(db);
    return o;
  }

  static std::unique_ptr<PgCluster> cluster_;
};
std::unique_ptr<PgCluster> PgStoreTest::cluster_;

v1::CallRecord Record(const std::string& call, const std::string& line, int64_t ended_s) {
  v1::CallRecord r;
  r.set_call_id(call);
  r.set_line_id(line);
  r.set_origin(v1::CALL_ORIGIN_OUTBOUND);
  r.mutable_caller()->set_number("100");
  r.mutable_caller()->set_name("Alice \xc3\xa9");
  r.mutable_caller()->set_available(true);
  r.mutable_called()->set_number("5550100");
  r.mutable_connected()->set_number("5550100");
  r.mutable_connected()->set_blocked(true);
  r.mutable_started()->set_seconds(ended_s - 10);
  r.mutable_answered()->set_seconds(ended_s - 8);
  r.mutable_ended()->set_seconds(ended_s);
  r.mutable_ended()->set_nanos(123456000);
  r.set_duration_ms(8123);
  r.set_disposition(v1::DISCONNECT_MODE_NORMAL);
  return r;
}

TEST_F(PgStoreTest, ConcurrentStartsMigrateOnce) {
  const PgOptions o = Fresh();
  constexpr int kServers = 8;
  std::vector<std::thread> threads;
  std::vector<absl::Status> results(kServers);
  for (int i = 0; i < kServers; ++i) {
    threads.emplace_back([&, i] {
      auto store = PgCallRecordStore::Open(o, absl::StrCat("s", i));
      results[i] = store.status();
    });
  }
  for (auto& t : threads) t.join();
  for (const absl::Status& st : results) EXPECT_TRUE(st.ok()) << st;
  auto conn = PgConnection::Connect(o);
  ASSERT_TRUE(conn.ok()) << conn.status();
  auto rows = (*conn)->Exec("SELECT count(*), max(version) FROM linebridge_schema");
  ASSERT_TRUE(rows.ok()) << rows.status();
  EXPECT_EQ(rows->int64(0, 0), kPgSchemaVersion);  // one row per version, each applied once
  EXPECT_EQ(rows->int64(0, 1), kPgSchemaVersion);
}

TEST_F(PgStoreTest, NewerSchemaIsRefused) {
  const PgOptions o = Fresh();
  ASSERT_TRUE(PgCallRecordStore::Open(o, "a").ok());
  auto conn = PgConnection::Connect(o);
  ASSERT_TRUE(conn.ok());
  ASSERT_TRUE((*conn)->Run("INSERT INTO linebridge_schema VALUES (99, 0, 'future')").ok());
  auto again = PgCallRecordStore::Open(o, "a");
  EXPECT_EQ(again.status().code(), absl::StatusCode::kFailedPrecondition) << again.status();
  EXPECT_NE(again.status().message().find("99"), std::string::npos);
}

TEST_F(PgStoreTest, RecordsOfSeveralServersRoundTripAndFilter) {
  const PgOptions o = Fresh();
  auto a = PgCallRecordStore::Open(o, "server-a");
  auto b = PgCallRecordStore::Open(o, "server-b");
  ASSERT_TRUE(a.ok() && b.ok());
  const v1::CallRecord in = Record("c1", "sim/100", 1700000000);
  auto ids = (*a)->AppendBatch({in, Record("c2", "sim/101", 1700000100)});
  ASSERT_TRUE(ids.ok()) << ids.status();
  ASSERT_EQ(ids->size(), 2u);
  EXPECT_LT((*ids)[0], (*ids)[1]);
  ASSERT_TRUE((*b)->Append(Record("c3", "sim/100", 1700000200)).ok());

  auto all = (*b)->List(v1::ListCallRecordsRequest());
  ASSERT_TRUE(all.ok()) << all.status();
  ASSERT_EQ(all->records_size(), 3);
  EXPECT_EQ(all->records(0).server_id(), "server-b");  // newest first
  EXPECT_EQ(all->records(2).server_id(), "server-a");
  v1::CallRecord want = in;
  want.set_record_id((*ids)[0]);
  want.set_server_id("server-a");
  EXPECT_EQ(all->records(2).SerializeAsString(), want.SerializeAsString())
      << all->records(2).DebugString();

  v1::ListCallRecordsRequest by_server;
  by_server.set_server_id("server-a");
  auto only_a = (*b)->List(by_server);
  ASSERT_TRUE(only_a.ok());
  EXPECT_EQ(only_a->records_size(), 2);
  v1::ListCallRecordsRequest page;
  page.set_line_id("sim/100");
  page.set_limit(1);
  auto first = (*a)->List(page);
  ASSERT_TRUE(first.ok());
  ASSERT_EQ(first->records_size(), 1);
  EXPECT_EQ(first->records(0).call_id(), "c3");
  ASSERT_NE(first->next_before_record_id(), 0);
  page.set_before_record_id(first->next_before_record_id());
  auto second = (*a)->List(page);
  ASSERT_TRUE(second.ok());
  ASSERT_EQ(second->records_size(), 1);
  EXPECT_EQ(second->records(0).call_id(), "c1");
  EXPECT_EQ(second->next_before_record_id(), 0);
  EXPECT_EQ(*(*a)->Count(), 3u);

  v1::ListCallRecordsRequest too_many;
  too_many.set_limit(10001);
  EXPECT_EQ((*a)->List(too_many).status().code(), absl::StatusCode::kInvalidArgument);

  // Retention: the two that ended before the cutoff.
  auto pruned = (*a)->PruneBatch(1700000150LL * 1000000, UINT64_MAX, 100);
  ASSERT_TRUE(pruned.ok()) << pruned.status();
  EXPECT_EQ(*pruned, 2u);
  EXPECT_EQ(*(*b)->Count(), 1u);
}

std::unique_ptr<SecurityStore> OpenSecurity(const PgOptions& o, const std::string& server,
                                            absl::Duration refresh, absl::Duration cache) {
  auto backend = PgSecurityBackend::Open(o, server);
  EXPECT_TRUE(backend.ok()) << backend.status();
  if (!backend.ok()) return nullptr;
  SecurityStore::Options so;
  so.refresh = refresh;
  so.cache_time = cache;
  auto store = SecurityStore::Create(*std::move(backend), so);
  EXPECT_TRUE(store.ok()) << store.status();
  return store.ok() ? *std::move(store) : nullptr;
}

// Waits (bounded) until `check` holds; a change announced by NOTIFY arrives
// in milliseconds, far inside the bound.
template <typename F>
bool Within(absl::Duration d, F check) {
  const absl::Time deadline = MonotonicNow() + d;
  while (MonotonicNow() < deadline) {
    if (check()) return true;
    absl::SleepFor(absl::Milliseconds(5));
  }
  return check();
}

TEST_F(PgStoreTest, ChangesOnOneServerReachTheOtherThroughNotify) {
  const PgOptions o = Fresh();
  // A refresh interval far beyond the waits below: only NOTIFY can deliver.
  auto a = OpenSecurity(o, "a", absl::Minutes(10), absl::Minutes(20));
  auto b = OpenSecurity(o, "b", absl::Minutes(10), absl::Minutes(20));
  ASSERT_TRUE(a && b);
  for (int round = 0; round < 20; ++round) {
    const std::string name = absl::StrCat("user", round);
    v1::AddPrincipalRequest add;
    add.set_name(name);
    ASSERT_TRUE(a->AddPrincipal(add).ok());
    v1::AssignRequest assign;
    assign.set_principal(name);
    assign.mutable_grant()->set_line_id("sim/100");
    assign.mutable_grant()->set_control(true);
    ASSERT_TRUE(a->Assign(assign).ok());
    v1::IssueTokenRequest issue;
    issue.set_principal(name);
    auto token = a->IssueToken(issue, absl::Now());
    ASSERT_TRUE(token.ok()) << token.status();
    ASSERT_TRUE(Within(absl::Seconds(5), [&] { return b->VerifyToken(token->token(), absl::Now()).ok(); }))
        << "round " << round;
    auto rec = b->Find(name);
    ASSERT_NE(rec, nullptr);
    ASSERT_EQ(rec->lines.count("sim/100"), 1u);
    EXPECT_TRUE(rec->lines.at("sim/100").control);

    ASSERT_TRUE(b->RevokeToken(token->info().token_id()).ok());  // revoked on the other one
    ASSERT_TRUE(Within(absl::Seconds(5), [&] {
      return a->VerifyToken(token->token(), absl::Now()).status().code() ==
             absl::StatusCode::kUnauthenticated;
    })) << "round " << round;
  }
  // Audit of both, listed by either, filterable by server.
  v1::AuditRecord r;
  r.set_operation("MakeCall");
  r.set_principal("user1");
  r.mutable_time()->set_seconds(1700000000);
  ASSERT_TRUE(a->AppendAudit({r}).ok());
  r.set_operation("Drop");
  ASSERT_TRUE(b->AppendAudit({r}).ok());
  auto all = a->ListAudit(v1::ListAuditRequest());
  ASSERT_TRUE(all.ok()) << all.status();
  ASSERT_EQ(all->records_size(), 2);
  EXPECT_EQ(all->records(0).server_id(), "b");
  EXPECT_EQ(all->records(1).server_id(), "a");
  v1::ListAuditRequest only_a;
  only_a.set_server_id("a");
  auto a_rows = b->ListAudit(only_a);
  ASSERT_TRUE(a_rows.ok());
  ASSERT_EQ(a_rows->records_size(), 1);
  EXPECT_EQ(a_rows->records(0).operation(), "MakeCall");
}

TEST_F(PgStoreTest, ImportIsOneTransactionOnPostgres) {
  const PgOptions o = Fresh();
  auto a = OpenSecurity(o, "a", absl::Seconds(5), absl::Seconds(30));
  ASSERT_TRUE(a);
  v1::ImportAssignmentsRequest req;
  auto* u = req.add_users();
  u->set_name("bob");
  u->add_assign("sim/101");
  u->add_assign("sim/102");
  auto resp = a->ImportAssignments(req);
  ASSERT_TRUE(resp.ok()) << resp.status();
  EXPECT_EQ(resp->assigned(), 2u);
  auto b = OpenSecurity(o, "b", absl::Seconds(5), absl::Seconds(30));
  ASSERT_TRUE(b);
  auto bob = b->Find("bob");
  ASSERT_NE(bob, nullptr);
  EXPECT_EQ(bob->lines.size(), 2u);
}

TEST_F(PgStoreTest, SqliteStoresCopyIdempotentlyAndVerify) {
  const std::string dir = absl::StrCat(::testing::TempDir(), "/pg-import-", getpid());
  std::filesystem::remove_all(dir);
  std::string token;
  {
    auto security = SecurityStore::Open(SecurityStore::PathInDataDir(dir));
    ASSERT_TRUE(security.ok()) << security.status();
    v1::AddPrincipalRequest add;
    add.set_name("CORP\\erin");
    add.set_role(v1::ROLE_ADMIN);
    ASSERT_TRUE((*security)->AddPrincipal(add).ok());
    v1::AssignRequest assign;
    assign.set_principal("CORP\\erin");
    assign.mutable_grant()->set_line_id("sim/104");
    assign.mutable_grant()->set_monitor(true);
    ASSERT_TRUE((*security)->Assign(assign).ok());
    v1::IssueTokenRequest issue;
    issue.set_principal("CORP\\erin");
    auto issued = (*security)->IssueToken(issue, absl::Now());
    ASSERT_TRUE(issued.ok());
    token = issued->token();
    auto revoked = (*security)->IssueToken(issue, absl::Now());
    ASSERT_TRUE(revoked.ok());
    ASSERT_TRUE((*security)->RevokeToken(revoked->info().token_id()).ok());
    v1::AuditRecord r;
    r.set_operation("Security.IssueToken");
    r.set_principal("local");
    r.mutable_time()->set_seconds(1700000000);
    ASSERT_TRUE((*security)->AppendAudit({r, r, r}).ok());
    auto records = CdrStore::Open(CdrStore::PathInDataDir(dir));
    ASSERT_TRUE(records.ok());
    std::vector<v1::CallRecord> batch;
    for (int i = 0; i < 2500; ++i) batch.push_back(Record(absl::StrCat("old", i), "sim/104", 1700000000 + i));
    ASSERT_TRUE((*records)->AppendBatch(batch).ok());
  }
  const PgOptions o = Fresh();
  // Verify only, before any copy: everything is missing.
  auto before = CopySqliteToPg(dir, "old-server", o, false);
  ASSERT_TRUE(before.ok()) << before.status();
  EXPECT_GT(before->missing, 2500u);
  auto first = CopySqliteToPg(dir, "old-server", o, true);
  ASSERT_TRUE(first.ok()) << first.status();
  EXPECT_EQ(first->missing, 0u) << first->ToString();
  EXPECT_EQ(first->records_copied, 2500u);
  EXPECT_EQ(first->audit_copied, 3u);
  EXPECT_EQ(first->principals, 1u);
  EXPECT_EQ(first->tokens, 2u);
  // Again: nothing new, nothing doubled.
  auto second = CopySqliteToPg(dir, "old-server", o, true);
  ASSERT_TRUE(second.ok());
  EXPECT_EQ(second->records_copied, 0u);
  EXPECT_EQ(second->audit_copied, 0u);
  EXPECT_EQ(second->missing, 0u);
  // The source server wrote one more record: only it is copied.
  {
    auto records = CdrStore::Open(CdrStore::PathInDataDir(dir));
    ASSERT_TRUE(records.ok());
    ASSERT_TRUE((*records)->Append(Record("new", "sim/104", 1800000000)).ok());
  }
  auto third = CopySqliteToPg(dir, "old-server", o, true);
  ASSERT_TRUE(third.ok());
  EXPECT_EQ(third->records_copied, 1u);
  EXPECT_EQ(third->missing, 0u);

  // A server on PostgreSQL now accepts the old token, refuses the revoked
  // one, and lists the copied records under the old server's id.
  auto shared = OpenSecurity(o, "new-server", absl::Seconds(5), absl::Seconds(30));
  ASSERT_TRUE(shared);
  auto check = shared->VerifyToken(token, absl::Now());
  ASSERT_TRUE(check.ok()) << check.status();
  EXPECT_EQ(check->principal, "CORP\\erin");
  auto erin = shared->Find("CORP\\erin");
  ASSERT_NE(erin, nullptr);
  EXPECT_EQ(erin->role, v1::ROLE_ADMIN);
  EXPECT_TRUE(erin->lines.at("sim/104").monitor);
  int revoked = 0;
  const v1::ListTokensResponse tokens = shared->ListTokens("CORP\\erin");
  for (const v1::TokenInfo& t : tokens.tokens()) revoked += t.revoked();
  EXPECT_EQ(revoked, 1);
  auto pg_records = PgCallRecordStore::Open(o, "new-server");
  ASSERT_TRUE(pg_records.ok());
  EXPECT_EQ(*(*pg_records)->Count(), 2501u);
  v1::ListCallRecordsRequest newest;
  newest.set_limit(1);
  newest.set_server_id("old-server");
  auto listed = (*pg_records)->List(newest);
  ASSERT_TRUE(listed.ok());
  ASSERT_EQ(listed->records_size(), 1);
  EXPECT_EQ(listed->records(0).call_id(), "new");
  std::filesystem::remove_all(dir);
}

TEST(PgOptions, PasswordNeverInTheConnectionString) {
  v1::config::PostgresConfig c;
  c.set_conninfo("host=/tmp dbname=x password=hunter2");
  auto o = PgOptionsFromConfig(c, "t");
  EXPECT_EQ(o.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(o.status().message().find("hunter2"), std::string::npos) << o.status();
  c.set_conninfo("postgresql://u:hunter2@localhost/db");
  o = PgOptionsFromConfig(c, "t");
  EXPECT_EQ(o.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(o.status().message().find("hunter2"), std::string::npos) << o.status();
  c.set_conninfo("host=/tmp dbname=x");
  c.set_password_env("LB_PG_TEST_PASSWORD");
  setenv("LB_PG_TEST_PASSWORD", "s3cret", 1);
  o = PgOptionsFromConfig(c, "t");
  ASSERT_TRUE(o.ok()) << o.status();
  EXPECT_EQ(o->password, "s3cret");
  c.set_password_env("LB_PG_TEST_NO_SUCH_VARIABLE");
  EXPECT_EQ(PgOptionsFromConfig(c, "t").status().code(), absl::StatusCode::kFailedPrecondition);
}

// Last: it stops the shared cluster for a while.
TEST_F(PgStoreTest, ZzFailsClosedAfterTheCacheTimeAndRecovers) {
  const PgOptions o = Fresh();
  auto store = OpenSecurity(o, "a", absl::Milliseconds(200), absl::Seconds(2));
  ASSERT_TRUE(store);
  v1::AddPrincipalRequest add;
  add.set_name("carol");
  ASSERT_TRUE(store->AddPrincipal(add).ok());
  v1::IssueTokenRequest issue;
  issue.set_principal("carol");
  auto token = store->IssueToken(issue, absl::Now());
  ASSERT_TRUE(token.ok());

  ASSERT_TRUE(cluster_->Crash().ok());
  const absl::Time down = absl::Now();
  // Within the cache time the snapshot serves.
  EXPECT_TRUE(store->CheckFresh(absl::Now()).ok());
  EXPECT_TRUE(store->VerifyToken(token->token(), absl::Now()).ok());
  // Writes fail as transient (the audit and record writers keep them).
  add.set_name("dave");
  EXPECT_EQ(store->AddPrincipal(add).status().code(), absl::StatusCode::kUnavailable);
  // After it: closed.
  ASSERT_TRUE(Within(absl::Seconds(10), [&] {
    return store->CheckFresh(absl::Now()).code() == absl::StatusCode::kUnavailable;
  }));
  EXPECT_GE(absl::Now() - down, absl::Seconds(1));  // not before the snapshot aged

  ASSERT_TRUE(cluster_->Restart().ok());
  EXPECT_TRUE(Within(absl::Seconds(15), [&] { return store->CheckFresh(absl::Now()).ok(); }));
  EXPECT_TRUE(store->VerifyToken(token->token(), absl::Now()).ok());
}

}  // namespace
}  // namespace linebridge
