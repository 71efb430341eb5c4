// TLS and mutual TLS end to end in process: a real linebridge::Server with
// tls { ... } and the SDK's Connection with ChannelOptions.tls_options, with
// certificates made by openssl at test time (tls_certs.h).
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <atomic>
#include <map>
#include <memory>
#include <string>
#include <utility>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "api/server.h"
#include "config/config.h"
#include "linebridge/connection.h"
#include "store/security_store.h"
#include "test_server.h"
#include "tls_certs.h"
#include "linebridge/deadline.h"

namespace linebridge::itest {
namespace {

using ::testing::HasSubstr;

class TlsTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    std::unique_ptr<TestPki> pki = TestPki::Create(NewTempDir("pki"));
    if (pki == nullptr) return;
    const bool ok =
        pki->MakeCa("ca") && pki->MakeCa("other-ca") &&
        pki->MakeCert(
            "server",
            {.ca = "ca", .common_name = "localhost", .dns = {"localhost"}, .ips = {"127.0.0.1"}}) &&
        pki->MakeCert("server-renewed", {.ca = "other-ca",
                                         .common_name = "localhost",
                                         .dns = {"localhost"},
                                         .ips = {"127.0.0.1"}}) &&
        pki->MakeCert(
            "server-named",
            {.ca = "ca", .common_name = "pbx.linebridge.test", .dns = {"pbx.linebridge.test"}}) &&
        pki->MakeCert("client", {.ca = "ca", .common_name = "client-1"}) &&
        pki->MakeCert("client-other-ca", {.ca = "other-ca", .common_name = "client-2"}) &&
        pki->MakeCert("client-expired", {.ca = "ca",
                                         .common_name = "client-3",
                                         .not_before = "20200101000000Z",
                                         .not_after = "20200102000000Z"});
    if (ok) pki_ = pki.release();
  }
  static void TearDownTestSuite() {
    delete pki_;
    pki_ = nullptr;
  }

  void SetUp() override {
    ASSERT_NE(pki_, nullptr) << "the test certificates could not be made (see the failure above)";
  }

  const TestPki& pki() const { return *pki_; }

  // A server on 127.0.0.1:<free port> with `tls_fields` inside tls { }
  // (empty: no tls block) and `extra` top-level fields.
  std::unique_ptr<Server> StartServer(const std::string& tls_fields,
                                      const std::string& extra = "") {
    std::string text =
        absl::StrCat("listen: \"127.0.0.1:0\"\ndata_dir: \"", NewTempDir("tls"), "\"\n", extra);
    if (!tls_fields.empty()) absl::StrAppend(&text, "tls {\n", tls_fields, "}\n");
    absl::StatusOr<v1::config::ServerConfig> config = ParseConfigText(text, "tls.textproto");
    EXPECT_TRUE(config.ok()) << config.status();
    if (!config.ok()) return nullptr;
    absl::StatusOr<std::unique_ptr<Server>> server =
        Server::Start(Server::Options{*config, "", kDefaultEpoch});
    EXPECT_TRUE(server.ok()) << server.status();
    if (!server.ok()) return nullptr;
    RememberAdminToken(**server);
    return *std::move(server);
  }

  // These tests are about the transport: every connection carries an admin
  // token of its server (security_test.cc covers calls without one).
  static std::map<int, std::string>& Tokens() {
    static auto* tokens = new std::map<int, std::string>();
    return *tokens;
  }
  static void RememberAdminToken(Server& server) {
    v1::AddPrincipalRequest add;
    add.set_name("tls-test-admin");
    add.set_role(v1::ROLE_ADMIN);
    ASSERT_TRUE(server.security_store().AddPrincipal(add).ok());
    v1::IssueTokenRequest issue;
    issue.set_principal("tls-test-admin");
    absl::StatusOr<v1::IssueTokenResponse> token =
        server.security_store().IssueToken(issue, absl::Now());
    ASSERT_TRUE(token.ok()) << token.status();
    Tokens()[server.port()] = token->token();
  }

  // tls { } fields serving certificate `name`.
  std::string Serving(const std::string& name) const {
    return absl::StrCat("  cert_file: \"", pki().CertPath(name), "\"\n  key_file: \"",
                        pki().KeyPath(name), "\"\n");
  }
  std::string ClientCa(const std::string& ca, bool required) const {
    return absl::StrCat("  client_ca_file: \"", pki().CertPath(ca), "\"\n",
                        required ? "  require_client_cert: true\n" : "");
  }

  // Client TLS options trusting `ca`, presenting certificate `client` ("" = none).
  TlsOptions Trusting(const std::string& ca, const std::string& client = "") const {
    TlsOptions tls;
    tls.ca_file = pki().CertPath(ca);
    if (!client.empty()) {
      tls.cert_file = pki().CertPath(client);
      tls.key_file = pki().KeyPath(client);
    }
    return tls;
  }

  // A new connection (its own transport, so its own handshake).
  static std::unique_ptr<Connection> Connect(const std::string& address, const TlsOptions& tls,
                                             bool use_tls = true) {
    static std::atomic<int> n{0};
    ConnectionOptions options;
    options.deadline = absl::Seconds(3);
    options.channel.tls = use_tls;
    if (use_tls) options.channel.tls_options = tls;
    int port = 0;
    if (absl::SimpleAtoi(address.substr(address.rfind(':') + 1), &port) && Tokens().count(port)) {
      options.channel.bearer_token = Tokens()[port];
    }
    const int id = n.fetch_add(1);
    options.channel.customize_arguments = [id](grpc::ChannelArguments& args) {
      args.SetInt("linebridge.itest.channel", id);
    };
    absl::StatusOr<std::unique_ptr<Connection>> connection =
        Connection::Create(address, std::move(options));
    EXPECT_TRUE(connection.ok()) << connection.status();
    return connection.ok() ? *std::move(connection) : nullptr;
  }

  // Ping over a new connection.
  static absl::Status PingNew(const std::string& address, const TlsOptions& tls,
                              bool use_tls = true) {
    std::unique_ptr<Connection> connection = Connect(address, tls, use_tls);
    if (connection == nullptr) return absl::InternalError("no connection");
    return connection->Ping(v1::PingRequest()).status();
  }

  static TestPki* pki_;
};

TestPki* TlsTest::pki_ = nullptr;

TEST_F(TlsTest, ServerTlsWithTheRightCa) {
  std::unique_ptr<Server> server = StartServer(Serving("server"));
  ASSERT_NE(server, nullptr);
  std::unique_ptr<Connection> connection = Connect(server->address(), Trusting("ca"));
  ASSERT_NE(connection, nullptr);
  absl::StatusOr<v1::PingResponse> ping = connection->Ping(v1::PingRequest());
  EXPECT_TRUE(ping.ok()) << ping.status();
  absl::StatusOr<v1::ListLinesResponse> lines = connection->ListLines(v1::ListLinesRequest());
  ASSERT_TRUE(lines.ok()) << lines.status();
  EXPECT_GT(lines->lines_size(), 0);
  // "localhost" is in the certificate too.
  EXPECT_TRUE(PingNew(absl::StrCat("localhost:", server->port()), Trusting("ca")).ok());
}

TEST_F(TlsTest, WrongCaOrPlaintextClientFails) {
  std::unique_ptr<Server> server = StartServer(Serving("server"));
  ASSERT_NE(server, nullptr);
  absl::Status wrong_ca = PingNew(server->address(), Trusting("other-ca"));
  EXPECT_EQ(wrong_ca.code(), absl::StatusCode::kUnavailable) << wrong_ca;
  absl::Status plaintext = PingNew(server->address(), {}, /*use_tls=*/false);
  EXPECT_EQ(plaintext.code(), absl::StatusCode::kUnavailable) << plaintext;
  // System roots do not know the test CA.
  absl::Status system_roots = PingNew(server->address(), {});
  EXPECT_EQ(system_roots.code(), absl::StatusCode::kUnavailable) << system_roots;
}

TEST_F(TlsTest, TlsClientToPlaintextServerFails) {
  std::unique_ptr<Server> server = StartServer("");
  ASSERT_NE(server, nullptr);
  absl::Status status = PingNew(server->address(), Trusting("ca"));
  EXPECT_EQ(status.code(), absl::StatusCode::kUnavailable) << status;
  EXPECT_TRUE(PingNew(server->address(), {}, /*use_tls=*/false).ok());
}

TEST_F(TlsTest, MutualTlsRequired) {
  std::unique_ptr<Server> server = StartServer(Serving("server") + ClientCa("ca", true));
  ASSERT_NE(server, nullptr);
  const std::string& address = server->address();

  absl::Status no_cert = PingNew(address, Trusting("ca"));
  EXPECT_EQ(no_cert.code(), absl::StatusCode::kUnavailable) << no_cert;
  absl::Status other_ca = PingNew(address, Trusting("ca", "client-other-ca"));
  EXPECT_EQ(other_ca.code(), absl::StatusCode::kUnavailable) << other_ca;
  absl::Status expired = PingNew(address, Trusting("ca", "client-expired"));
  EXPECT_EQ(expired.code(), absl::StatusCode::kUnavailable) << expired;

  std::unique_ptr<Connection> valid = Connect(address, Trusting("ca", "client"));
  ASSERT_NE(valid, nullptr);
  absl::StatusOr<v1::PingResponse> ping = valid->Ping(v1::PingRequest());
  EXPECT_TRUE(ping.ok()) << ping.status();
  absl::StatusOr<v1::ListLinesResponse> lines = valid->ListLines(v1::ListLinesRequest());
  ASSERT_TRUE(lines.ok()) << lines.status();
  EXPECT_GT(lines->lines_size(), 0);
}

TEST_F(TlsTest, OptionalClientCertificatesAreVerifiedWhenPresented) {
  std::unique_ptr<Server> server = StartServer(Serving("server") + ClientCa("ca", false));
  ASSERT_NE(server, nullptr);
  EXPECT_TRUE(PingNew(server->address(), Trusting("ca")).ok());
  EXPECT_TRUE(PingNew(server->address(), Trusting("ca", "client")).ok());
  absl::Status other_ca = PingNew(server->address(), Trusting("ca", "client-other-ca"));
  EXPECT_EQ(other_ca.code(), absl::StatusCode::kUnavailable) << other_ca;
}

TEST_F(TlsTest, ServerNameOverride) {
  // The certificate names only pbx.linebridge.test; we connect to 127.0.0.1.
  std::unique_ptr<Server> server = StartServer(Serving("server-named"));
  ASSERT_NE(server, nullptr);
  absl::Status mismatch = PingNew(server->address(), Trusting("ca"));
  EXPECT_EQ(mismatch.code(), absl::StatusCode::kUnavailable) << mismatch;
  TlsOptions tls = Trusting("ca");
  tls.server_name_override = "pbx.linebridge.test";
  absl::Status status = PingNew(server->address(), tls);
  EXPECT_TRUE(status.ok()) << status;
  tls.server_name_override = "other.linebridge.test";
  EXPECT_EQ(PingNew(server->address(), tls).code(), absl::StatusCode::kUnavailable);
}

TEST_F(TlsTest, CertificatesAreReloadedFromDisk) {
  // The server reads its certificate from files we replace while it runs.
  const std::string live = NewTempDir("live");
  const std::string cert = live + "/server.pem";
  const std::string key = live + "/server.key";
  ASSERT_TRUE(ReplaceFileAtomically(pki().CertPath("server"), cert));
  ASSERT_TRUE(ReplaceFileAtomically(pki().KeyPath("server"), key));
  std::unique_ptr<Server> server = StartServer(absl::StrCat(
      "  cert_file: \"", cert, "\"\n  key_file: \"", key, "\"\n  reload_interval_ms: 200\n"));
  ASSERT_NE(server, nullptr);
  const std::string& address = server->address();
  std::unique_ptr<Connection> before = Connect(address, Trusting("ca"));
  ASSERT_NE(before, nullptr);
  ASSERT_TRUE(before->Ping(v1::PingRequest()).ok());
  EXPECT_EQ(PingNew(address, Trusting("other-ca")).code(), absl::StatusCode::kUnavailable);

  // Renewal: a new pair from the second CA (key first; gRPC skips a pair that
  // does not match and takes it on the next check).
  ASSERT_TRUE(ReplaceFileAtomically(pki().KeyPath("server-renewed"), key));
  ASSERT_TRUE(ReplaceFileAtomically(pki().CertPath("server-renewed"), cert));
  const absl::Time deadline = MonotonicNow() + absl::Seconds(10);
  absl::Status renewed = absl::UnknownError("not tried");
  while (MonotonicNow() < deadline) {
    renewed = PingNew(address, Trusting("other-ca"));
    if (renewed.ok()) break;
    absl::SleepFor(absl::Milliseconds(100));
  }
  ASSERT_TRUE(renewed.ok()) << "new connections never verified with the new CA: " << renewed;
  // New connections no longer verify with the old CA ...
  EXPECT_EQ(PingNew(address, Trusting("ca")).code(), absl::StatusCode::kUnavailable);
  // ... while an established one goes on.
  absl::StatusOr<v1::PingResponse> still = before->Ping(v1::PingRequest());
  EXPECT_TRUE(still.ok()) << still.status();
}

TEST_F(TlsTest, PlaintextOnNonLoopbackIsRefusedUnlessAllowed) {
  v1::config::ServerConfig config;
  ApplyDefaults(&config);
  config.set_listen("0.0.0.0:0");
  config.set_data_dir(NewTempDir("insecure"));
  absl::StatusOr<std::unique_ptr<Server>> refused =
      Server::Start(Server::Options{config, "", kDefaultEpoch});
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(std::string(refused.status().message()), HasSubstr("listen: "));
  EXPECT_THAT(std::string(refused.status().message()), HasSubstr("allow_insecure_non_loopback"));
  EXPECT_THAT(std::string(refused.status().message()), HasSubstr("\"0.0.0.0:0\""));

  config.set_allow_insecure_non_loopback(true);
  ::testing::internal::CaptureStderr();
  absl::StatusOr<std::unique_ptr<Server>> allowed =
      Server::Start(Server::Options{config, "", kDefaultEpoch});
  const std::string log = ::testing::internal::GetCapturedStderr();
  ASSERT_TRUE(allowed.ok()) << allowed.status();
  // Off loopback even plaintext needs credentials.
  EXPECT_EQ(PingNew(absl::StrCat("127.0.0.1:", (*allowed)->port()), {}, false).code(),
            absl::StatusCode::kUnauthenticated);
  RememberAdminToken(**allowed);
  EXPECT_THAT(log, HasSubstr("WARNING: INSECURE: serving PLAINTEXT gRPC (no TLS) on "
                             "non-loopback address 0.0.0.0:0"));
  EXPECT_TRUE(PingNew(absl::StrCat("127.0.0.1:", (*allowed)->port()), {}, false).ok());

  // With TLS, any address is fine and nothing is logged as insecure.
  config.set_allow_insecure_non_loopback(false);
  config.mutable_tls()->set_cert_file(pki().CertPath("server"));
  config.mutable_tls()->set_key_file(pki().KeyPath("server"));
  config.set_data_dir(NewTempDir("tls-any"));
  ::testing::internal::CaptureStderr();
  absl::StatusOr<std::unique_ptr<Server>> tls =
      Server::Start(Server::Options{config, "", kDefaultEpoch});
  const std::string tls_log = ::testing::internal::GetCapturedStderr();
  ASSERT_TRUE(tls.ok()) << tls.status();
  RememberAdminToken(**tls);
  EXPECT_THAT(tls_log, ::testing::Not(HasSubstr("INSECURE")));
  EXPECT_TRUE(PingNew(absl::StrCat("127.0.0.1:", (*tls)->port()), Trusting("ca")).ok());
}

TEST_F(TlsTest, ClientFileErrorsAreClear) {
  const std::string missing = pki().dir() + "/missing.pem";
  ConnectionOptions options;
  options.channel.tls_options.ca_file = missing;
  absl::StatusOr<std::unique_ptr<Connection>> c = Connection::Create("127.0.0.1:1", options);
  EXPECT_EQ(c.status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(c.status().message(),
            absl::StrCat("cannot read TLS CA file ", missing, ": No such file or directory"));

  options = {};
  options.channel.tls_options.ca_file = pki().KeyPath("ca");  // not a certificate
  c = Connection::Create("127.0.0.1:1", options);
  EXPECT_EQ(c.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(c.status().message()), HasSubstr("holds no PEM"));

  options = {};
  options.channel.tls_options.cert_file = pki().CertPath("client");
  c = Connection::Create("127.0.0.1:1", options);
  EXPECT_EQ(c.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(c.status().message(), "TLS: a client cert_file needs its key_file");

  options = {};
  options.channel.tls_options.cert_file = pki().CertPath("client");
  options.channel.tls_options.key_file = pki().dir();
  c = Connection::Create("127.0.0.1:1", options);
  EXPECT_FALSE(c.ok());
  EXPECT_THAT(std::string(c.status().message()), HasSubstr("Is a directory"));

  options = {};
  options.channel.tls = true;
  options.channel.credentials = grpc::InsecureChannelCredentials();
  EXPECT_EQ(Connection::Create("127.0.0.1:1", options).status().code(),
            absl::StatusCode::kInvalidArgument);

  // Custom credentials with a name override are fine.
  options.channel.tls = false;
  options.channel.tls_options.server_name_override = "x";
  EXPECT_TRUE(Connection::Create("127.0.0.1:1", options).ok());
}

}  // namespace
}  // namespace linebridge::itest
