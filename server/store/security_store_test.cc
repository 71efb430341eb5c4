#include "store/security_store.h"

#include <gtest/gtest.h>
#include <sqlite3.h>

#include <filesystem>
#include <fstream>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "store/sqlite_security_backend.h"

namespace linebridge {
namespace {

std::string FreshPath(const std::string& name) {
  const std::string dir = absl::StrCat(testing::TempDir(), "/secstore-", name, "-", getpid());
  std::filesystem::remove_all(dir);
  return SecurityStore::PathInDataDir(dir);
}

std::unique_ptr<SecurityStore> OpenOrDie(const std::string& path) {
  auto s = SecurityStore::Open(path);
  EXPECT_TRUE(s.ok()) << s.status();
  return s.ok() ? *std::move(s) : nullptr;
}

v1::AddPrincipalRequest User(const std::string& name, v1::Role role = v1::ROLE_USER) {
  v1::AddPrincipalRequest r;
  r.set_name(name);
  r.set_role(role);
  return r;
}

TEST(SecurityStore, TokenVerifiesUntilRevokedAndSurvivesReopen) {
  const std::string path = FreshPath("revoke");
  auto store = OpenOrDie(path);
  ASSERT_TRUE(store->AddPrincipal(User("alice")).ok());
  v1::IssueTokenRequest req;
  req.set_principal("alice");
  auto issued = store->IssueToken(req, absl::Now());
  ASSERT_TRUE(issued.ok()) << issued.status();
  const std::string token = issued->token();
  EXPECT_EQ(token.size(), 4u + 16 + 1 + 64);  // 256-bit secret
  auto ok = store->VerifyToken(token, absl::Now());
  ASSERT_TRUE(ok.ok()) << ok.status();
  EXPECT_EQ(ok->principal, "alice");
  EXPECT_EQ(ok->token_id, issued->info().token_id());

  // The secret itself is nowhere in the database file.
  store.reset();
  store = OpenOrDie(path);
  ASSERT_TRUE(store->VerifyToken(token, absl::Now()).ok());

  ASSERT_TRUE(store->RevokeToken(issued->info().token_id()).ok());
  auto revoked = store->VerifyToken(token, absl::Now());
  EXPECT_EQ(revoked.status().code(), absl::StatusCode::kUnauthenticated);
  EXPECT_NE(revoked.status().message().find("revoked"), std::string::npos);
  store.reset();
  store = OpenOrDie(path);
  EXPECT_EQ(store->VerifyToken(token, absl::Now()).status().code(),
            absl::StatusCode::kUnauthenticated);
}

TEST(SecurityStore, ExpiredTokenRefused) {
  auto store = OpenOrDie(FreshPath("expiry"));
  ASSERT_TRUE(store->AddPrincipal(User("bob")).ok());
  v1::IssueTokenRequest req;
  req.set_principal("bob");
  req.set_ttl_seconds(60);
  const absl::Time t0 = absl::Now();
  auto issued = store->IssueToken(req, t0);
  ASSERT_TRUE(issued.ok());
  EXPECT_TRUE(store->VerifyToken(issued->token(), t0 + absl::Seconds(59)).ok());
  auto late = store->VerifyToken(issued->token(), t0 + absl::Seconds(60));
  EXPECT_EQ(late.status().code(), absl::StatusCode::kUnauthenticated);
  EXPECT_NE(late.status().message().find("expired"), std::string::npos);
}

TEST(SecurityStore, MalformedAndForgedTokensRefused) {
  auto store = OpenOrDie(FreshPath("malformed"));
  ASSERT_TRUE(store->AddPrincipal(User("carol")).ok());
  v1::IssueTokenRequest req;
  req.set_principal("carol");
  auto issued = store->IssueToken(req, absl::Now());
  ASSERT_TRUE(issued.ok());
  std::string forged = issued->token();
  forged.back() = forged.back() == '0' ? '1' : '0';
  std::string upper = issued->token();
  upper[upper.size() - 1] = 'A';
  for (const std::string& bad :
       {std::string(), std::string("Bearer"), std::string("lb1."), forged, upper,
        std::string(5000, 'x'), issued->token() + "0", issued->token().substr(1),
        std::string("lb1.") + std::string(16, '0') + "." + std::string(64, '0'),
        std::string("lb1.\0\0", 6)}) {
    auto r = store->VerifyToken(bad, absl::Now());
    EXPECT_EQ(r.status().code(), absl::StatusCode::kUnauthenticated) << bad.size();
    // The secret never appears in an error.
    EXPECT_EQ(r.status().message().find(issued->token().substr(21)), std::string::npos);
  }
}

TEST(SecurityStore, PrincipalsAndGrantsPersistAndRemoveCascades) {
  const std::string path = FreshPath("grants");
  auto store = OpenOrDie(path);
  ASSERT_TRUE(store->AddPrincipal(User("DOMAIN\\dave")).ok());
  EXPECT_EQ(store->AddPrincipal(User("DOMAIN\\dave")).status().code(),
            absl::StatusCode::kAlreadyExists);
  EXPECT_EQ(store->AddPrincipal(User("bad name")).status().code(),
            absl::StatusCode::kInvalidArgument);
  v1::AssignRequest a;
  a.set_principal("DOMAIN\\dave");
  a.mutable_grant()->set_line_id("sim/100");
  a.mutable_grant()->set_control(true);
  ASSERT_TRUE(store->Assign(a).ok());
  a.set_principal("nobody");
  EXPECT_EQ(store->Assign(a).status().code(), absl::StatusCode::kNotFound);
  v1::IssueTokenRequest req;
  req.set_principal("DOMAIN\\dave");
  auto issued = store->IssueToken(req, absl::Now());
  ASSERT_TRUE(issued.ok());

  store.reset();
  store = OpenOrDie(path);
  auto dave = store->Find("DOMAIN\\dave");
  ASSERT_NE(dave, nullptr);
  ASSERT_EQ(dave->lines.count("sim/100"), 1u);
  EXPECT_TRUE(dave->lines.at("sim/100").monitor);  // control implies monitor
  EXPECT_TRUE(dave->lines.at("sim/100").control);
  EXPECT_FALSE(dave->lines.at("sim/100").originate);

  v1::UnassignRequest u;
  u.set_principal("DOMAIN\\dave");
  u.set_line_id("sim/100");
  ASSERT_TRUE(store->Unassign(u).ok());
  EXPECT_TRUE(store->Find("DOMAIN\\dave")->lines.empty());
  // The earlier snapshot is unchanged (readers keep a consistent view).
  EXPECT_EQ(dave->lines.size(), 1u);

  ASSERT_TRUE(store->RemovePrincipal("DOMAIN\\dave").ok());
  EXPECT_EQ(store->Find("DOMAIN\\dave"), nullptr);
  EXPECT_FALSE(store->VerifyToken(issued->token(), absl::Now()).ok());
  store.reset();
  store = OpenOrDie(path);
  EXPECT_EQ(store->Find("DOMAIN\\dave"), nullptr);
  EXPECT_EQ(store->ListTokens("").tokens_size(), 0);
}

TEST(SecurityStore, AuditWrittenAsynchronouslyAndQueried) {
  auto store = OpenOrDie(FreshPath("audit"));
  {
    AsyncAuditWriter writer(store.get());
    for (int i = 0; i < 5; ++i) {
      v1::AuditRecord r;
      r.set_principal(i % 2 ? "alice" : "bob");
      r.set_operation("Drop");
      r.set_call_id(absl::StrCat("c", i));
      r.mutable_time()->set_seconds(1000 + i);
      ASSERT_TRUE(writer.Enqueue(r));
    }
    ASSERT_TRUE(writer.Flush().ok());
  }
  v1::ListAuditRequest req;
  auto all = store->ListAudit(req);
  ASSERT_TRUE(all.ok());
  ASSERT_EQ(all->records_size(), 5);
  EXPECT_EQ(all->records(0).call_id(), "c4");  // newest first
  req.set_principal("alice");
  EXPECT_EQ(store->ListAudit(req)->records_size(), 2);
  req.clear_principal();
  req.mutable_since()->set_seconds(1003);
  EXPECT_EQ(store->ListAudit(req)->records_size(), 2);
  req.set_limit(1);
  EXPECT_EQ(store->ListAudit(req)->records_size(), 1);
  req.set_limit(10001);
  EXPECT_EQ(store->ListAudit(req).status().code(), absl::StatusCode::kInvalidArgument);
}


// A store that cannot be opened stops the daemon with the file and the reason.
TEST(SecurityStore, WhatIsNotADatabaseIsRefusedNamingTheFile) {
  const std::string path = FreshPath("garbage");
  std::filesystem::create_directories(std::filesystem::path(path).parent_path());
  {
    std::ofstream out(path, std::ios::binary);
    for (int i = 0; i < 4096; ++i) out.put(static_cast<char>(i * 37 + 11));
  }
  auto s = SecurityStore::Open(path);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.status().code(), absl::StatusCode::kInternal);
  EXPECT_NE(s.status().message().find(path), std::string::npos) << s.status();
  EXPECT_NE(s.status().message().find("not a database"), std::string::npos) << s.status();
}

TEST(SecurityStore, ADirectoryInThePlaceOfTheFileIsRefused) {
  const std::string path = FreshPath("dir");
  std::filesystem::create_directories(path);
  auto s = SecurityStore::Open(path);
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.status().message().find(path), std::string::npos) << s.status();
}

TEST(SecurityStore, AStoreWrittenByANewerVersionIsRefused) {
  const std::string path = FreshPath("newer");
  { ASSERT_NE(OpenOrDie(path), nullptr); }
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(path.c_str(), &db), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(db,
                         absl::StrCat("PRAGMA user_version = ", SqliteSecurityBackend::kSchemaVersion + 1)
                             .c_str(),
                         nullptr, nullptr, nullptr),
            SQLITE_OK);
  sqlite3_close(db);
  auto s = SecurityStore::Open(path);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_NE(s.status().message().find("newer"), std::string::npos) << s.status();
}

// A write the database refuses (here: another connection holds the write
// lock past the busy timeout) is an error to the caller and changes nothing
// in memory; the same write succeeds once the lock is gone. Every writing
// method takes this path; each is tried.
TEST(SecurityStore, RefusedWritesChangeNothing) {
  const std::string path = FreshPath("locked");
  auto store = OpenOrDie(path);
  ASSERT_TRUE(store->AddPrincipal(User("mallory")).ok());
  v1::IssueTokenRequest issue;
  issue.set_principal("mallory");
  auto token = store->IssueToken(issue, absl::Now());
  ASSERT_TRUE(token.ok());
  store->SetBusyTimeout(absl::Milliseconds(50));

  sqlite3* other = nullptr;
  ASSERT_EQ(sqlite3_open(path.c_str(), &other), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(other, "BEGIN EXCLUSIVE", nullptr, nullptr, nullptr), SQLITE_OK);
  auto locked = [](const absl::Status& st) {
    return st.code() == absl::StatusCode::kUnavailable &&
           st.message().find("locked") != std::string::npos;
  };
  EXPECT_TRUE(locked(store->AddPrincipal(User("oscar")).status()));
  v1::AssignRequest assign;
  assign.set_principal("mallory");
  assign.mutable_grant()->set_line_id("sim/100");
  assign.mutable_grant()->set_control(true);
  EXPECT_TRUE(locked(store->Assign(assign).status()));
  EXPECT_TRUE(locked(store->IssueToken(issue, absl::Now()).status()));
  EXPECT_TRUE(locked(store->RevokeToken(token->info().token_id()).status()));
  EXPECT_TRUE(locked(store->RemovePrincipal("mallory")));
  v1::AuditRecord row;
  row.set_operation("Drop");
  EXPECT_TRUE(locked(store->AppendAudit({row})));

  // Nothing of it took effect.
  const auto principals = store->ListPrincipals();
  ASSERT_EQ(principals.principals_size(), 1);
  EXPECT_EQ(principals.principals(0).name(), "mallory");
  EXPECT_EQ(principals.principals(0).lines_size(), 0);
  EXPECT_TRUE(store->VerifyToken(token->token(), absl::Now()).ok());
  EXPECT_EQ(store->ListTokens("").tokens_size(), 1);

  ASSERT_EQ(sqlite3_exec(other, "ROLLBACK", nullptr, nullptr, nullptr), SQLITE_OK);
  sqlite3_close(other);
  EXPECT_TRUE(store->Assign(assign).ok());
  EXPECT_TRUE(store->AppendAudit({row}).ok());
  EXPECT_TRUE(store->RevokeToken(token->info().token_id()).ok());
  EXPECT_FALSE(store->VerifyToken(token->token(), absl::Now()).ok());
  // And the reopened file agrees with memory.
  store.reset();
  auto again = OpenOrDie(path);
  ASSERT_EQ(again->ListPrincipals().principals_size(), 1);
  EXPECT_EQ(again->ListPrincipals().principals(0).lines_size(), 1);
}

}  // namespace
}  // namespace linebridge
