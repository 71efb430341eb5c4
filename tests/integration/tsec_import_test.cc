// `linectl tsec import` against a real server: all or nothing, clear errors
// for bad encodings, bounded memory for huge files, no control characters in
// names.
#include <sys/resource.h>
#include <sys/wait.h>

#include <gtest/gtest.h>

#include <cstdio>
#include <fstream>

#include "absl/strings/str_cat.h"
#include "linebridge/lineerr.h"
#include "linebridge/v1/security.grpc.pb.h"
#include "test_server.h"

namespace linebridge::itest {
namespace {

class TsecImportTest : public ::testing::Test {
 protected:
  void SetUp() override {
    server_ = TestServer::Start();
    security_ = v1::Security::NewStub(server_->channel());
    dir_ = NewTempDir("tsec");
  }
  // Runs `linectl tsec import` on `xml`; its exit code, output in `out`.
  int Import(const std::string& xml, std::string* out) {
    const std::string file = dir_ + "/import.xml";
    std::ofstream(file, std::ios::binary) << xml;
    const char* bin_dir = std::getenv("LINEBRIDGE_BIN_DIR");
    EXPECT_NE(bin_dir, nullptr);
    const std::string cmd = absl::StrCat(bin_dir, "/linectl --server ", server_->address(),
                                         " tsec import ", file, " 2>&1");
    FILE* p = ::popen(cmd.c_str(), "r");
    char buf[4096];
    size_t n;
    out->clear();
    while ((n = std::fread(buf, 1, sizeof(buf), p)) > 0) out->append(buf, n);
    const int status = ::pclose(p);
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  }
  std::vector<std::string> Principals() {
    v1::ListPrincipalsResponse resp;
    EXPECT_TRUE(security_->ListPrincipals(Ctx().get(), v1::ListPrincipalsRequest(), &resp).ok());
    std::vector<std::string> names;
    for (const auto& p : resp.principals()) names.push_back(p.name());
    return names;
  }

  std::unique_ptr<TestServer> server_;
  std::unique_ptr<v1::Security::Stub> security_;
  std::string dir_;
};

std::string User(const std::string& name, const std::string& friendly, const std::string& addr) {
  return absl::StrCat("<User><DomainUserName>", name, "</DomainUserName><FriendlyName>", friendly,
                      "</FriendlyName><LineList><Line><Address>", addr,
                      "</Address></Line></LineList></User>");
}

TEST_F(TsecImportTest, ABadSecondUserChangesNothing) {
  std::string out;
  const std::string xml = absl::StrCat("<UserList>", User("CORP\\alice", "Alice", "100"),
                                       User("bad name", "Bob", "102"), "</UserList>");
  EXPECT_NE(Import(xml, &out), 0) << out;
  EXPECT_NE(out.find("users[1]"), std::string::npos) << out;
  EXPECT_EQ(Principals(), std::vector<std::string>{}) << "the first user was applied: " << out;

  // The same file without the bad user applies whole.
  const std::string good = absl::StrCat("<UserList>", User("CORP\\alice", "Alice", "100"),
                                        User("CORP\\bob", "Bob", "102"), "</UserList>");
  ASSERT_EQ(Import(good, &out), 0) << out;
  EXPECT_EQ(Principals(), (std::vector<std::string>{"CORP\\alice", "CORP\\bob"}));
}

TEST_F(TsecImportTest, InvalidUtf8IsAnInvalidArgumentNamingTheLine) {
  std::string out;
  const std::string xml =
      absl::StrCat("<UserList>\n", User("CORP\\alice", "Al\xe9 \xff", "100"), "\n</UserList>");
  EXPECT_NE(Import(xml, &out), 0);
  EXPECT_NE(out.find("line 2"), std::string::npos) << out;
  EXPECT_NE(out.find("UTF-8"), std::string::npos) << out;
  EXPECT_NE(out.find("INVALID_ARGUMENT"), std::string::npos) << out;
  EXPECT_EQ(out.find("UNIMPLEMENTED"), std::string::npos) << out;
  EXPECT_EQ(out.find("OPERATIONUNAVAIL"), std::string::npos) << out;
  EXPECT_TRUE(Principals().empty());
}

TEST_F(TsecImportTest, HugeFilesCostBoundedMemory) {
  std::string xml = "<UserList>";
  while (xml.size() < 16 * 1024 * 1024 - 64) xml += "<a/>";
  xml += "</UserList>";
  std::string out;
  EXPECT_NE(Import(xml, &out), 0);
  EXPECT_NE(out.find("elements"), std::string::npos) << out.substr(0, 500);
  rusage children{};
  ::getrusage(RUSAGE_CHILDREN, &children);
  std::printf("linectl tsec import of 16 MiB of <a/>: max RSS %ld KiB\n", children.ru_maxrss);
  EXPECT_LT(children.ru_maxrss, 200 * 1024);
}

TEST_F(TsecImportTest, NamesWithControlCharactersAreRefused) {
  std::string out;
  // A raw escape, and one written as a character reference.
  for (const std::string& friendly : {std::string("Eve\x1b[2J"), std::string("Eve&#27;[2J")}) {
    SCOPED_TRACE(friendly);
    const std::string xml =
        absl::StrCat("<UserList>", User("CORP\\eve", friendly, "100"), "</UserList>");
    EXPECT_NE(Import(xml, &out), 0);
    EXPECT_NE(out.find("control character"), std::string::npos) << out;
    EXPECT_EQ(out.find('\x1b'), std::string::npos) << out;
    EXPECT_TRUE(Principals().empty());
  }
  // The server refuses them from any client.
  v1::AddPrincipalRequest add;
  add.set_name("eve");
  add.set_display_name("Eve\x1b[2J");
  v1::Principal p;
  grpc::Status st = security_->AddPrincipal(Ctx().get(), add, &p);
  EXPECT_EQ(st.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << st.error_message();
  EXPECT_EQ(TapiErrorOf(st), std::optional<uint32_t>(LINEERR_INVALPARAM));
}

}  // namespace
}  // namespace linebridge::itest
