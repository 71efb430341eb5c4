// The audit log against unauthenticated abuse: megabyte-sized refused
// requests do not grow the store, and control characters in a request
// cannot forge a row in `linectl audit`.
#include <gtest/gtest.h>

#include <cstdio>
#include <filesystem>
#include <fstream>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "linebridge/v1/security.grpc.pb.h"
#include "store/security_store.h"
#include "test_server.h"
#include "linebridge/deadline.h"

namespace linebridge::itest {
namespace {

constexpr char kConfig[] =
    "auth { require_credentials_on_loopback: true } limits { max_message_bytes: 8388608 }";

class AuditFloodTest : public ::testing::Test {
 protected:
  void SetUp() override {
    server_ = TestServer::Start(kConfig);
    SecurityStore& store = server_->server().security_store();
    v1::AddPrincipalRequest add;
    add.set_name("admin");
    add.set_role(v1::ROLE_ADMIN);
    ASSERT_TRUE(store.AddPrincipal(add).ok());
    v1::IssueTokenRequest issue;
    issue.set_principal("admin");
    auto token = store.IssueToken(issue, absl::Now());
    ASSERT_TRUE(token.ok());
    token_ = token->token();
    security_ = v1::Security::NewStub(server_->channel());
  }
  std::unique_ptr<grpc::ClientContext> AsAdmin() {
    auto ctx = Ctx();
    ctx->AddMetadata("authorization", absl::StrCat("Bearer ", token_));
    return ctx;
  }
  // MakeCall without credentials: refused (UNAUTHENTICATED) and audited.
  void RefusedMakeCall(const std::string& line_id) {
    v1::MakeCallRequest req;
    req.set_line_id(line_id);
    req.set_destination("101");
    v1::Call call;
    grpc::Status st = server_->telephony().MakeCall(Ctx().get(), req, &call);
    EXPECT_EQ(st.error_code(), grpc::StatusCode::UNAUTHENTICATED) << st.error_message();
  }
  uintmax_t StoreBytes() {
    uintmax_t total = 0;
    for (const char* suffix : {"", "-wal", "-shm"}) {
      std::error_code ec;
      const uintmax_t n = std::filesystem::file_size(
          SecurityStore::PathInDataDir(server_->data_dir()) + suffix, ec);
      if (!ec) total += n;
    }
    return total;
  }

  std::unique_ptr<TestServer> server_;
  std::unique_ptr<v1::Security::Stub> security_;
  std::string token_;
};

TEST_F(AuditFloodTest, TwentyFiveFourMegabyteRefusalsKeepTheStoreSmall) {
  const std::string huge(4 * 1024 * 1024, 'A');
  for (int i = 0; i < 25; ++i) RefusedMakeCall(huge);
  ASSERT_TRUE(server_->server().FlushAudit().ok());
  const uintmax_t bytes = StoreBytes();
  std::printf("security store after 25 x 4 MiB refused MakeCall: %ju bytes\n", bytes);
  EXPECT_LT(bytes, 2u * 1024 * 1024);

  // The admin reads the latest entries, even asking for the most.
  v1::ListAuditRequest req;
  req.set_limit(SecurityStore::kMaxAuditLimit);
  v1::ListAuditResponse resp;
  grpc::Status st = security_->ListAudit(AsAdmin().get(), req, &resp);
  ASSERT_TRUE(st.ok()) << st.error_message();
  uint32_t refusals = 0;
  for (const v1::AuditRecord& r : resp.records()) {
    EXPECT_LE(r.ByteSizeLong(), 4096u);
    if (r.operation() != "MakeCall") continue;
    refusals += std::max<uint32_t>(1, r.count());
    EXPECT_LE(r.line_id().size(), 256u);
    EXPECT_EQ(r.peer(), "ipv4:127.0.0.1");
  }
  // One row and one count row stand for all 25.
  EXPECT_EQ(refusals, 25u);
  EXPECT_LE(resp.records_size(), 3);
}

TEST_F(AuditFloodTest, ControlCharactersCannotForgeALinectlRow) {
  const std::string forged =
      "sim/100\n9999-01-01 00:00:00  alice  Security.IssueToken  -  -  OK  principal=admin"
      "\x1b[1A\x1b[2K\r";
  RefusedMakeCall(forged);
  ASSERT_TRUE(server_->server().FlushAudit().ok());
  const char* bin_dir = std::getenv("LINEBRIDGE_BIN_DIR");
  ASSERT_NE(bin_dir, nullptr);
  const std::string dir = NewTempDir("audit");
  const std::string token_file = dir + "/token";
  std::ofstream(token_file) << token_ << "\n";
  std::filesystem::permissions(token_file, std::filesystem::perms::owner_read |
                                               std::filesystem::perms::owner_write);
  const std::string cmd = absl::StrCat(bin_dir, "/linectl --server ", server_->address(),
                                       " --token-file ", token_file, " audit --limit 50 2>&1");
  FILE* p = ::popen(cmd.c_str(), "r");
  ASSERT_NE(p, nullptr);
  std::string out;
  char buf[4096];
  size_t n;
  while ((n = std::fread(buf, 1, sizeof(buf), p)) > 0) out.append(buf, n);
  ASSERT_EQ(::pclose(p), 0) << out;
  EXPECT_EQ(out.find('\x1b'), std::string::npos) << out;
  EXPECT_EQ(out.find('\r'), std::string::npos) << out;
  for (absl::string_view line : absl::StrSplit(out, '\n', absl::SkipEmpty())) {
    EXPECT_FALSE(absl::StartsWith(line, "9999-01-01")) << "forged row:\n" << out;
  }
  // The refusal is one row, with its line id escaped.
  EXPECT_NE(out.find("sim/100\\x0a9999-01-01"), std::string::npos) << out;
}


// With retention set to keep 300 audit rows, three rounds of 400 audited
// changes leave at most 300 rows plus what arrived since the last pass, and
// the store's files stop growing after the first round (freed pages are
// reused). Retention runs every 100 ms here; the test waits for each pass
// through the audit store's `pruned` counter in ServerStatus.
TEST(AuditRetentionTest, AuditedLoadKeepsTheStoreBounded) {
  auto server = TestServer::Start(
      "retention { audit { max_rows: 300 } interval_ms: 100 }");
  ASSERT_NE(server, nullptr);
  auto security = v1::Security::NewStub(server->channel());
  auto audit_status = [&]() {
    const v1::ServerStatus status = server->Status();
    for (const auto& s : status.stores()) {
      if (s.name() == "audit") return s;
    }
    ADD_FAILURE() << "no audit store in ServerStatus";
    return v1::StoreStatus();
  };
  auto rows = [&]() {
    v1::ListAuditRequest req;
    req.set_limit(SecurityStore::kMaxAuditLimit);
    v1::ListAuditResponse resp;
    grpc::Status st = security->ListAudit(Ctx().get(), req, &resp);
    EXPECT_TRUE(st.ok()) << st.error_message();
    return resp.records_size();
  };
  auto bytes = [&]() {
    uintmax_t total = 0;
    for (const char* suffix : {"", "-wal"}) {
      std::error_code ec;
      const uintmax_t n =
          std::filesystem::file_size(SecurityStore::PathInDataDir(server->data_dir()) + suffix, ec);
      if (!ec) total += n;
    }
    return total;
  };
  uintmax_t after_first = 0;
  uint64_t written_before = 0;
  for (int round = 0; round < 3; ++round) {
    for (int i = 0; i < 400; ++i) {
      v1::AddPrincipalRequest add;
      add.set_name(absl::StrCat("user", round, "-", i));
      add.set_display_name(std::string(200, 'd'));  // rows of some size
      v1::Principal p;
      ASSERT_TRUE(security->AddPrincipal(Ctx().get(), add, &p).ok());
      v1::RemovePrincipalRequest remove;
      remove.set_name(add.name());
      v1::RemovePrincipalResponse removed;
      ASSERT_TRUE(security->RemovePrincipal(Ctx().get(), remove, &removed).ok());
    }
    ASSERT_TRUE(server->server().FlushAudit().ok());
    // Wait (bounded) for a retention pass after everything was written.
    const uint64_t written = audit_status().written();
    EXPECT_GE(written - written_before, 800u);
    written_before = written;
    const absl::Time deadline = MonotonicNow() + absl::Seconds(10);
    while (MonotonicNow() < deadline && rows() > 300) absl::SleepFor(absl::Milliseconds(20));
    EXPECT_LE(rows(), 300) << "round " << round;
    EXPECT_GT(audit_status().pruned(), 0u);
    if (round == 0) {
      after_first = bytes();
    } else {
      // Not more than a few pages (the WAL can lag a checkpoint).
      EXPECT_LE(bytes(), after_first + 256 * 1024) << "round " << round;
    }
  }
  std::printf("audit store: %ju bytes after round 1, %ju after round 3; %llu rows pruned\n",
              after_first, bytes(), static_cast<unsigned long long>(audit_status().pruned()));
}

}  // namespace
}  // namespace linebridge::itest
