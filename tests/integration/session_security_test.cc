// Sessions under attack: unguessable ids, reclaiming only by the creating
// principal (racing the creator too), the per-principal session cap, and a
// bound on the sessions every call event lists.
#include <gtest/gtest.h>

#include <atomic>
#include <set>
#include <thread>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/synchronization/mutex.h"
#include "api/auth.h"
#include "core/engine.h"
#include "linebridge/lineerr.h"
#include "linebridge/v1/security.grpc.pb.h"
#include "test_server.h"

namespace linebridge::itest {
namespace {

class SessionSecurityTest : public ::testing::Test {
 protected:
  void SetUp() override {
    server_ = TestServer::Start();
    security_ = v1::Security::NewStub(server_->channel());
  }
  // A user with control of `line` and a token (via the loopback admin).
  std::string User(const std::string& name, const std::string& line) {
    v1::AddPrincipalRequest add;
    add.set_name(name);
    add.set_role(v1::ROLE_USER);
    v1::Principal p;
    EXPECT_TRUE(security_->AddPrincipal(Ctx().get(), add, &p).ok());
    v1::AssignRequest assign;
    assign.set_principal(name);
    assign.mutable_grant()->set_line_id(line);
    assign.mutable_grant()->set_monitor(true);
    assign.mutable_grant()->set_control(true);
    EXPECT_TRUE(security_->Assign(Ctx().get(), assign, &p).ok());
    v1::IssueTokenRequest issue;
    issue.set_principal(name);
    v1::IssueTokenResponse token;
    EXPECT_TRUE(security_->IssueToken(Ctx().get(), issue, &token).ok());
    return token.token();
  }
  grpc::Status Create(const std::string& token, v1::Session* out,
                      const std::string& reclaim = "") {
    v1::CreateSessionRequest req;
    req.set_client_name("itest");
    req.set_reclaim_session_id(reclaim);
    return server_->telephony().CreateSession(As(token).get(), req, out);
  }
  grpc::Status Open(const std::string& token, const std::string& session,
                    const std::string& line) {
    v1::OpenLineRequest req;
    req.set_session_id(session);
    req.set_line_id(line);
    req.set_privilege(v1::PRIVILEGE_OWNER);
    v1::OpenLineResponse resp;
    return server_->telephony().OpenLine(As(token).get(), req, &resp);
  }

  std::unique_ptr<TestServer> server_;
  std::unique_ptr<v1::Security::Stub> security_;
};

void ExpectCode(const grpc::Status& st, grpc::StatusCode code, uint32_t lineerr) {
  EXPECT_EQ(st.error_code(), code) << st.error_message();
  EXPECT_EQ(TapiErrorOf(st), std::optional<uint32_t>(lineerr)) << TapiErrorNameOf(st);
}

TEST_F(SessionSecurityTest, IdsCarry128RandomBits) {
  // "s-" and 32 lower-case hex digits.
  auto shaped = [](const std::string& id) {
    return id.size() == 34 && id.rfind("s-", 0) == 0 &&
           id.find_first_not_of("0123456789abcdef", 2) == std::string::npos;
  };
  std::set<std::string> ids;
  std::set<std::string> prefixes;
  for (int i = 0; i < 200; ++i) {
    v1::Session s;
    ASSERT_TRUE(Create("", &s).ok());
    EXPECT_TRUE(shaped(s.id())) << s.id();
    ids.insert(s.id());
    prefixes.insert(s.id().substr(0, 6));  // 16 random bits
  }
  EXPECT_EQ(ids.size(), 200u);
  // Sequential or clock-based ids share their leading digits.
  EXPECT_GT(prefixes.size(), 150u);
}

TEST_F(SessionSecurityTest, OnlyTheCreatorReclaimsOrUsesASession) {
  const std::string alice = User("alice", "sim/100");
  const std::string bob = User("bob", "sim/102");
  v1::Session bobs;
  ASSERT_TRUE(Create(bob, &bobs).ok());
  v1::Session got;
  // Another principal gets what an unknown id gets.
  grpc::Status unknown = Create(alice, &got, "s-00000000000000000000000000000000");
  ExpectCode(unknown, grpc::StatusCode::NOT_FOUND, LINEERR_INVALAPPHANDLE);
  ExpectCode(Create(alice, &got, bobs.id()), grpc::StatusCode::NOT_FOUND, LINEERR_INVALAPPHANDLE);
  ExpectCode(Open(alice, bobs.id(), "sim/100"), grpc::StatusCode::NOT_FOUND,
             LINEERR_INVALAPPHANDLE);
  // The admin is another principal too.
  ExpectCode(Create("", &got, bobs.id()), grpc::StatusCode::NOT_FOUND, LINEERR_INVALAPPHANDLE);
  // The creator still can.
  ASSERT_TRUE(Create(bob, &got, bobs.id()).ok());
  EXPECT_EQ(got.id(), bobs.id());
  EXPECT_TRUE(Open(bob, bobs.id(), "sim/102").ok());
}

// The attack of the finding: alice reclaims the ids bob is about to get
// (predicted from her own) and every id bob has got, while bob creates
// sessions back to back. She must never get one, and bob must always be able
// to use his.
TEST_F(SessionSecurityTest, RacingReclaimsNeverTakeAnotherPrincipalsSession) {
  const std::string alice = User("alice", "sim/100");
  const std::string bob = User("bob", "sim/102");
  absl::Mutex mu;
  std::vector<std::string> bobs_ids;
  std::atomic<bool> done{false};
  std::atomic<int> stolen{0};
  std::atomic<int> attempts{0};
  std::thread attacker([&] {
    while (!done.load()) {
      v1::Session mine;
      if (!Create(alice, &mine).ok()) continue;
      std::vector<std::string> guesses;
      // "s-<epoch>-<n>": the next few numbers.
      std::vector<std::string> parts = absl::StrSplit(mine.id(), '-');
      uint64_t n = 0;
      if (parts.size() == 3 && absl::SimpleAtoi(parts[2], &n)) {
        for (uint64_t k = 1; k <= 3; ++k) {
          guesses.push_back(absl::StrCat(parts[0], "-", parts[1], "-", n + k));
        }
      }
      {
        absl::MutexLock lock(&mu);
        if (!bobs_ids.empty()) guesses.push_back(bobs_ids.back());
      }
      v1::CloseSessionRequest close;
      close.set_session_id(mine.id());
      v1::CloseSessionResponse closed;
      server_->telephony().CloseSession(As(alice).get(), close, &closed);
      for (const std::string& g : guesses) {
        v1::Session got;
        attempts.fetch_add(1);
        if (Create(alice, &got, g).ok() && got.id() != mine.id()) stolen.fetch_add(1);
      }
    }
  });
  int bob_failures = 0;
  for (int i = 0; i < 300; ++i) {
    v1::Session s;
    ASSERT_TRUE(Create(bob, &s).ok());
    {
      absl::MutexLock lock(&mu);
      bobs_ids.push_back(s.id());
    }
    if (!Open(bob, s.id(), "sim/102").ok()) ++bob_failures;
    v1::CloseSessionRequest close;
    close.set_session_id(s.id());
    v1::CloseSessionResponse closed;
    if (!server_->telephony().CloseSession(As(bob).get(), close, &closed).ok()) ++bob_failures;
  }
  done = true;
  attacker.join();
  EXPECT_GT(attempts.load(), 0);
  EXPECT_EQ(stolen.load(), 0) << "of " << attempts.load() << " reclaim attempts";
  EXPECT_EQ(bob_failures, 0);
}

TEST_F(SessionSecurityTest, SessionsPerPrincipalAreCapped) {
  const std::string bob = User("bob", "sim/102");
  std::vector<std::string> ids;
  for (uint32_t i = 0; i < kDefaultMaxSessionsPerPrincipal; ++i) {
    v1::Session s;
    grpc::Status st = Create(bob, &s);
    ASSERT_TRUE(st.ok()) << i << ": " << st.error_message();
    ids.push_back(s.id());
  }
  v1::Session s;
  grpc::Status over = Create(bob, &s);
  ExpectCode(over, grpc::StatusCode::RESOURCE_EXHAUSTED, LINEERR_RESOURCEUNAVAIL);
  EXPECT_NE(over.error_message().find("limits.max_sessions_per_principal"), std::string::npos);
  // Reclaiming one's own is not a new session.
  EXPECT_TRUE(Create(bob, &s, ids.front()).ok());
  // Another principal is not affected; closing one makes room.
  const std::string alice = User("alice", "sim/100");
  EXPECT_TRUE(Create(alice, &s).ok());
  v1::CloseSessionRequest close;
  close.set_session_id(ids.back());
  v1::CloseSessionResponse closed;
  ASSERT_TRUE(server_->telephony().CloseSession(As(bob).get(), close, &closed).ok());
  EXPECT_TRUE(Create(bob, &s).ok());
}

TEST_F(SessionSecurityTest, ACallListsABoundedNumberOfSessions) {
  std::vector<std::string> ids;
  int refused = 0;
  for (size_t i = 0; i < kMaxOpensPerLine + 20; ++i) {
    v1::Session s;
    ASSERT_TRUE(Create("", &s).ok());
    grpc::Status st = Open("", s.id(), "sim/100");
    if (st.ok()) {
      ids.push_back(s.id());
    } else {
      ExpectCode(st, grpc::StatusCode::RESOURCE_EXHAUSTED, LINEERR_RESOURCEUNAVAIL);
      ++refused;
    }
  }
  EXPECT_EQ(ids.size(), kMaxOpensPerLine);
  EXPECT_EQ(refused, 20);
  v1::MakeCallRequest make;
  make.set_session_id(ids.front());
  make.set_line_id("sim/100");
  make.set_destination("101");
  v1::Call call;
  grpc::Status st = server_->telephony().MakeCall(Ctx().get(), make, &call);
  ASSERT_TRUE(st.ok()) << st.error_message();
  EXPECT_LE(static_cast<size_t>(call.owner_sessions_size() + call.monitor_sessions_size()),
            kMaxOpensPerLine);
}

}  // namespace
}  // namespace linebridge::itest
