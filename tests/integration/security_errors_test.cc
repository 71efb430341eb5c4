// Every Security RPC's refusals over real gRPC: the exact canonical code and
// TapiError detail, nothing changed by a refused request, the refusal audited,
// and a security store that cannot write (another process holds its lock)
// answering UNAVAILABLE until the lock is released.
#include <gtest/gtest.h>
#include <sqlite3.h>

#include <memory>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "linebridge/lineerr.h"
#include "linebridge/v1/security.grpc.pb.h"
#include "store/security_store.h"
#include "test_server.h"
#include "linebridge/deadline.h"

namespace linebridge::itest {
namespace {

using grpc::StatusCode;

class SecurityErrorsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    server_ = TestServer::Start();
    ASSERT_NE(server_, nullptr);
    security_ = v1::Security::NewStub(server_->channel());
  }

  grpc::Status AddPrincipal(const std::string& name, v1::Role role = v1::ROLE_USER,
                            const std::string& display = "", bool update = false,
                            absl::Duration timeout = kTimeout) {
    v1::AddPrincipalRequest req;
    req.set_name(name);
    req.set_role(role);
    req.set_display_name(display);
    req.set_update(update);
    v1::Principal out;
    return security_->AddPrincipal(Ctx(timeout).get(), req, &out);
  }
  grpc::Status Assign(const std::string& principal, const std::string& line) {
    v1::AssignRequest req;
    req.set_principal(principal);
    req.mutable_grant()->set_line_id(line);
    req.mutable_grant()->set_control(true);
    v1::Principal out;
    return security_->Assign(Ctx().get(), req, &out);
  }
  grpc::Status IssueToken(const std::string& principal, uint64_t ttl = 0,
                          const std::string& description = "") {
    v1::IssueTokenRequest req;
    req.set_principal(principal);
    req.set_ttl_seconds(ttl);
    req.set_description(description);
    v1::IssueTokenResponse out;
    return security_->IssueToken(Ctx().get(), req, &out);
  }
  grpc::Status RevokeToken(const std::string& id) {
    v1::RevokeTokenRequest req;
    req.set_token_id(id);
    v1::TokenInfo out;
    return security_->RevokeToken(Ctx().get(), req, &out);
  }
  grpc::Status ListAudit(const v1::ListAuditRequest& req, v1::ListAuditResponse* out) {
    return security_->ListAudit(Ctx().get(), req, out);
  }
  std::vector<std::string> PrincipalNames() {
    v1::ListPrincipalsResponse resp;
    grpc::Status st = security_->ListPrincipals(Ctx().get(), v1::ListPrincipalsRequest(), &resp);
    EXPECT_TRUE(st.ok()) << st.error_message();
    std::vector<std::string> names;
    for (const auto& p : resp.principals()) names.push_back(p.name());
    return names;
  }

  std::unique_ptr<TestServer> server_;
  std::unique_ptr<v1::Security::Stub> security_;
};

TEST_F(SecurityErrorsTest, AddAndRemovePrincipalRefusals) {
  ExpectTapi(AddPrincipal(""), StatusCode::INVALID_ARGUMENT, LINEERR_INVALPARAM, "empty name");
  ExpectTapi(AddPrincipal("two words"), StatusCode::INVALID_ARGUMENT, LINEERR_INVALPARAM,
             "space in the name");
  ExpectTapi(AddPrincipal(std::string(129, 'a')), StatusCode::INVALID_ARGUMENT,
             LINEERR_INVALPARAM, "129 characters");
  ExpectTapi(AddPrincipal("eve\x01"), StatusCode::INVALID_ARGUMENT, LINEERR_INVALPARAM,
             "control character");
  ExpectTapi(AddPrincipal("eve", v1::ROLE_USER, std::string(257, 'd')),
             StatusCode::INVALID_ARGUMENT, LINEERR_INVALPARAM, "display name too long");
  ExpectTapi(AddPrincipal("eve", v1::ROLE_USER, "Eve\x1b[2J"), StatusCode::INVALID_ARGUMENT,
             LINEERR_INVALPARAM, "escape sequence in the display name");
  ExpectTapi(AddPrincipal("eve", static_cast<v1::Role>(77)), StatusCode::INVALID_ARGUMENT,
             LINEERR_INVALPARAM, "unknown role");
  ExpectTapi(AddPrincipal("nobody", v1::ROLE_USER, "", /*update=*/true), StatusCode::NOT_FOUND,
             LINEERR_INVALPARAM, "update of an unknown principal");
  ASSERT_TRUE(AddPrincipal("eve").ok());
  ExpectTapi(AddPrincipal("eve"), StatusCode::ALREADY_EXISTS, LINEERR_INVALPARAM,
             "the same name twice");
  // None of the refused requests left anything behind.
  EXPECT_EQ(PrincipalNames(), std::vector<std::string>{"eve"});

  v1::RemovePrincipalRequest remove;
  v1::RemovePrincipalResponse removed;
  remove.set_name("nobody");
  ExpectTapi(security_->RemovePrincipal(Ctx().get(), remove, &removed), StatusCode::NOT_FOUND,
             LINEERR_INVALPARAM, "remove an unknown principal");
  remove.set_name("");
  ExpectTapi(security_->RemovePrincipal(Ctx().get(), remove, &removed),
             StatusCode::INVALID_ARGUMENT, LINEERR_INVALPARAM, "remove with no name");
}

TEST_F(SecurityErrorsTest, AssignmentRefusals) {
  ASSERT_TRUE(AddPrincipal("frank").ok());
  ExpectTapi(Assign("nobody", "sim/100"), StatusCode::NOT_FOUND, LINEERR_INVALPARAM,
             "assign to an unknown principal");
  ExpectTapi(Assign("frank", ""), StatusCode::INVALID_ARGUMENT, LINEERR_BADDEVICEID,
             "no line id");
  ExpectTapi(Assign("frank", std::string(257, 'l')), StatusCode::INVALID_ARGUMENT,
             LINEERR_BADDEVICEID, "257-character line id");
  ExpectTapi(Assign("frank", "sim/\n100"), StatusCode::INVALID_ARGUMENT, LINEERR_BADDEVICEID,
             "control character in the line id");
  v1::UnassignRequest unassign;
  unassign.set_principal("nobody");
  unassign.set_line_id("sim/100");
  v1::Principal out;
  ExpectTapi(security_->Unassign(Ctx().get(), unassign, &out), StatusCode::NOT_FOUND,
             LINEERR_INVALPARAM, "unassign from an unknown principal");

  // A tsecimp batch with one bad user is refused whole: its good first user
  // is not created.
  v1::ImportAssignmentsRequest batch;
  auto* good = batch.add_users();
  good->set_name("grace");
  good->add_assign("sim/100");
  auto* bad = batch.add_users();
  bad->set_name("heidi");
  bad->add_assign("sim/\x7f");
  v1::ImportAssignmentsResponse imported;
  grpc::Status st = security_->ImportAssignments(Ctx().get(), batch, &imported);
  ExpectTapi(st, StatusCode::INVALID_ARGUMENT, LINEERR_INVALPARAM, "import with a bad line");
  EXPECT_NE(st.error_message().find("users[1] (heidi)"), std::string::npos) << st.error_message();
  bad->set_name("grace");
  bad->clear_assign();
  st = security_->ImportAssignments(Ctx().get(), batch, &imported);
  ExpectTapi(st, StatusCode::INVALID_ARGUMENT, LINEERR_INVALPARAM, "import naming a user twice");
  EXPECT_EQ(PrincipalNames(), std::vector<std::string>{"frank"});
}

TEST_F(SecurityErrorsTest, TokenRefusals) {
  ASSERT_TRUE(AddPrincipal("ivan").ok());
  ExpectTapi(IssueToken("nobody"), StatusCode::NOT_FOUND, LINEERR_INVALPARAM,
             "token for an unknown principal");
  ExpectTapi(IssueToken(""), StatusCode::INVALID_ARGUMENT, LINEERR_INVALPARAM,
             "token for no principal");
  ExpectTapi(IssueToken("ivan", SecurityStore::kMaxTtlSeconds + 1), StatusCode::INVALID_ARGUMENT,
             LINEERR_INVALPARAM, "lifetime over ten years");
  ExpectTapi(IssueToken("ivan", 0, std::string(257, 'x')), StatusCode::INVALID_ARGUMENT,
             LINEERR_INVALPARAM, "description too long");

  ExpectTapi(RevokeToken(""), StatusCode::INVALID_ARGUMENT, LINEERR_INVALPARAM, "no token id");
  ExpectTapi(RevokeToken("0123456789ABCDEF"), StatusCode::INVALID_ARGUMENT, LINEERR_INVALPARAM,
             "upper-case token id");
  ExpectTapi(RevokeToken("0123456789abcdef0"), StatusCode::INVALID_ARGUMENT, LINEERR_INVALPARAM,
             "17-digit token id");
  ExpectTapi(RevokeToken("0123456789abcdef"), StatusCode::NOT_FOUND, LINEERR_INVALPARAM,
             "unknown token id");

  v1::ListTokensResponse tokens;
  v1::ListTokensRequest all;
  ASSERT_TRUE(security_->ListTokens(Ctx().get(), all, &tokens).ok());
  EXPECT_EQ(tokens.tokens_size(), 0) << "a refused IssueToken left a token";
}

TEST_F(SecurityErrorsTest, AuditQueryRefusalsAndRefusalsAreAudited) {
  v1::ListAuditRequest req;
  v1::ListAuditResponse resp;
  req.set_limit(SecurityStore::kMaxAuditLimit + 1);
  ExpectTapi(ListAudit(req, &resp), StatusCode::INVALID_ARGUMENT, LINEERR_INVALPARAM,
             "limit over the maximum");
  req.set_limit(0);
  req.set_before_audit_id(-1);
  ExpectTapi(ListAudit(req, &resp), StatusCode::INVALID_ARGUMENT, LINEERR_INVALPARAM,
             "negative page start");
  req.set_before_audit_id(0);
  req.set_principal("bad name");
  ExpectTapi(ListAudit(req, &resp), StatusCode::INVALID_ARGUMENT, LINEERR_INVALPARAM,
             "malformed principal filter");

  // A refused change is in the audit log with its code and TAPI error (the
  // audit writer is asynchronous: wait for the row, bounded).
  ASSERT_TRUE(AddPrincipal("judy").ok());
  ExpectTapi(AddPrincipal("judy"), StatusCode::ALREADY_EXISTS, LINEERR_INVALPARAM, "twice");
  const absl::Time deadline = MonotonicNow() + kTimeout;
  bool found = false;
  while (!found && MonotonicNow() < deadline) {
    v1::ListAuditRequest all;
    ASSERT_TRUE(ListAudit(all, &resp).ok());
    for (const auto& r : resp.records()) {
      if (r.operation() == "Security.AddPrincipal" &&
          r.code() == static_cast<int>(StatusCode::ALREADY_EXISTS)) {
        EXPECT_EQ(r.lineerr(), "LINEERR_INVALPARAM");
        found = true;
      }
    }
    if (!found) absl::SleepFor(absl::Milliseconds(20));
  }
  EXPECT_TRUE(found) << "the refused AddPrincipal was not audited";
}

// Another process holds the security database's write lock: a change waits
// the store's busy timeout, then fails with UNAVAILABLE and the database's
// reason; what could not be written is not in effect; after the lock is
// released the same change succeeds.
TEST_F(SecurityErrorsTest, LockedSecurityStoreFailsLoudlyAndRecovers) {
  const std::string path = SecurityStore::PathInDataDir(server_->data_dir());
  sqlite3* other = nullptr;
  ASSERT_EQ(sqlite3_open_v2(path.c_str(), &other, SQLITE_OPEN_READWRITE, nullptr), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(other, "BEGIN EXCLUSIVE", nullptr, nullptr, nullptr), SQLITE_OK);
  const absl::Time start = absl::Now();
  grpc::Status st = AddPrincipal("kate", v1::ROLE_USER, "", false, absl::Seconds(30));
  ExpectTapi(st, StatusCode::UNAVAILABLE, LINEERR_OPERATIONFAILED, "locked store");
  EXPECT_NE(st.error_message().find("locked"), std::string::npos) << st.error_message();
  EXPECT_GE(absl::Now() - start, absl::Seconds(4)) << "no busy wait before failing";
  // Reads are served from memory meanwhile, and the refused change is absent.
  EXPECT_EQ(PrincipalNames(), std::vector<std::string>{});
  ASSERT_EQ(sqlite3_exec(other, "ROLLBACK", nullptr, nullptr, nullptr), SQLITE_OK);
  sqlite3_close(other);
  ASSERT_TRUE(AddPrincipal("kate").ok());
  EXPECT_EQ(PrincipalNames(), std::vector<std::string>{"kate"});
}

}  // namespace
}  // namespace linebridge::itest
