// TLS (SIPS) on user-agent lines against kamailio's tls module, with
// certificates the test makes with openssl: registration, a call from one
// TLS line to another through the registrar (outbound on one, inbound on the
// other), and the failures a line reports as OUT_OF_SERVICE with a reason
// (an untrusted or misnamed server certificate, a failed handshake).
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstdio>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "config/config.h"
#include "core/log.h"
#include "providers/builtin.h"
#include "providers/sip/testing/sip_peers.h"
#include "providers/sip/testing/sip_ua_fixture.h"
#include "providers/sip/testing/tls_peers.h"
#include "test_server.h"
#include "linebridge/deadline.h"

// Under ASan: OpenSSL has no frame pointers, so only the slow unwinder sees
// the sofia-sip frames that tests/lsan.supp names for sofia's TLS leaks.
extern "C" __attribute__((used)) const char* __asan_default_options() {
  return "fast_unwind_on_malloc=0";
}

namespace linebridge {
namespace {

using itest::EventReader;
using itest::IsCallState;
using itest::TestServer;
using sip::testing::ChildProcess;
using sip::testing::CounterOf;
using sip::testing::FreePort;
using sip::testing::IsDisconnected;
using sip::testing::IsLineState;
using sip::testing::IsNewCallOn;
using sip::testing::KamailioTls;
using sip::testing::kWait;
using sip::testing::StartKamailioTls;
using sip::testing::TestCertificates;
using ::testing::HasSubstr;

// Waits (on events, after a snapshot) until `line` is in `state`.
bool AwaitLineState(TestServer& t, const std::string& line, v1::LineState state) {
  EventReader reader(t.telephony(), v1::SubscribeRequest());
  auto first = reader.Next();
  if (!first.has_value()) return false;
  for (const auto& l : first->snapshot().lines()) {
    if (l.id() == line && l.status().state() == state) return true;
  }
  return reader.WaitFor(IsLineState(line, state), kWait).has_value();
}

class SipTlsTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new std::string(itest::NewTempDir("siptls"));
    certs_ = new TestCertificates;
    std::string error;
    ok_ = sip::testing::MakeTestCertificates(*dir_, certs_, &error);
    if (!ok_) ADD_FAILURE() << error;
  }

  void SetUp() override {
    ASSERT_TRUE(ok_);
    RegisterBuiltinProviders();
    // The server's log, to read the reasons it gives.
    log_path_ = absl::StrCat(*dir_, "/server_", ::testing::UnitTest::GetInstance()
                                                    ->current_test_info()->name(), ".log");
    log_ = std::fopen(log_path_.c_str(), "w");
    ASSERT_NE(log_, nullptr);
    SetLogStream(log_);
  }

  void TearDown() override {
    SetLogStream(nullptr);
    if (log_ != nullptr) std::fclose(log_);
  }

  std::string ServerLog() {
    std::fflush(log_);
    std::ifstream in(log_path_);
    std::stringstream s;
    s << in.rdbuf();
    return s.str();
  }

  // Waits until the server's log has `text`.
  bool AwaitLog(const std::string& text) {
    const absl::Time deadline = MonotonicNow() + kWait;
    while (MonotonicNow() < deadline) {
      if (ServerLog().find(text) != std::string::npos) return true;
      absl::SleepFor(absl::Milliseconds(20));  // the log has no event to wait on
    }
    return false;
  }

  bool StartRegistrar(ChildProcess& kamailio, const std::string& cert, const std::string& key,
                      const std::string& method = "TLSv1.2+", const std::string& client_ca = "") {
    registrar_ = FreePort();
    std::string error;
    const bool ok = StartKamailioTls(
        kamailio, {.port = registrar_, .password = "pw", .cert = cert, .key = key,
                   .method = method, .client_ca = client_ca},
        *dir_, &error);
    EXPECT_TRUE(ok) << error;
    return ok;
  }

  // `accounts` for the sip block, with the tls block trusting the test CA
  // (and linebridged's certificate unless `client_cert` is false).
  std::unique_ptr<TestServer> StartServer(const std::string& accounts,
                                          const std::string& tls_extra = "",
                                          bool client_cert = true) {
    const std::string pw = *dir_ + "/pw";
    std::ofstream(pw) << "pw\n";
    const std::string cert =
        client_cert ? absl::StrFormat(R"(cert_file: "%s" key_file: "%s")", certs_->client_cert,
                                      certs_->client_key)
                    : "";
    return TestServer::Start(absl::StrFormat(
        R"(providers { sip { name: "sip" %s tls { ca_file: "%s" %s %s } } })", accounts,
        certs_->ca, cert, tls_extra));
  }

  // One TLS account registering at the registrar.
  std::string Account(const std::string& name, const std::string& uri, int port,
                      const std::string& extra = "") {
    return absl::StrFormat(
        R"(accounts { name: "%s" uri: "%s" local_port: %d registrar: "127.0.0.1:%d"
             outbound_proxy: "127.0.0.1:%d" auth_user: "%s" password_file: "%s/pw"
             transport: SIP_TRANSPORT_TLS register_retry_s: 60 %s })",
        name, uri, port, registrar_, registrar_, name, *dir_, extra);
  }

  // Starts a registrar with `cert`, a server with one account, and expects
  // the line out of service with `reason` in the log.
  void ExpectRefused(const std::string& cert, const std::string& key, const std::string& reason,
                     const std::string& method = "TLSv1.2+") {
    ChildProcess kamailio;
    ASSERT_TRUE(StartRegistrar(kamailio, cert, key, method));
    auto t = StartServer(Account("alice", "sip:alice@127.0.0.1", FreePort()));
    ASSERT_NE(t, nullptr);
    EXPECT_TRUE(AwaitLog("line sip/alice out of service: TLS connection to registrar 127.0.0.1:"))
        << ServerLog();
    EXPECT_THAT(ServerLog(), HasSubstr(reason));
    EXPECT_TRUE(AwaitLineState(*t, "sip/alice", v1::LINE_STATE_OUT_OF_SERVICE));
    EXPECT_EQ(CounterOf(*t, "sip_registrations_total", "sip/alice"), 0u);
    v1::Call call;
    EXPECT_FALSE(itest::MakeCall(t->telephony(), "sip/alice", "100", &call).ok());
    t.reset();
    kamailio.Kill();
  }

  static std::string* dir_;
  static TestCertificates* certs_;
  static bool ok_;
  int registrar_ = 0;
  std::string log_path_;
  std::FILE* log_ = nullptr;
};

std::string* SipTlsTest::dir_ = nullptr;
TestCertificates* SipTlsTest::certs_ = nullptr;
bool SipTlsTest::ok_ = false;

TEST_F(SipTlsTest, RegisterAndCallBetweenTwoTlsLines) {
  ChildProcess kamailio;
  ASSERT_TRUE(StartRegistrar(kamailio, certs_->server_cert, certs_->server_key));
  // alice with a sips: uri, bob with sip: and transport TLS; the registrar
  // refuses anything that is not TLS.
  const int bob_port = FreePort();
  auto t = StartServer(Account("alice", "sips:alice@127.0.0.1", FreePort()) +
                       Account("bob", "sip:bob@127.0.0.1", bob_port));
  ASSERT_NE(t, nullptr);
  ASSERT_TRUE(AwaitLineState(*t, "sip/alice", v1::LINE_STATE_IN_SERVICE)) << ServerLog();
  ASSERT_TRUE(AwaitLineState(*t, "sip/bob", v1::LINE_STATE_IN_SERVICE)) << ServerLog();
  EXPECT_GE(CounterOf(*t, "sip_registrations_total", "sip/alice"), 1u);

  EventReader reader(t->telephony(), v1::SubscribeRequest());
  ASSERT_TRUE(reader.Next().has_value());  // the snapshot: subscribed
  v1::Call out;
  grpc::Status s = itest::MakeCall(t->telephony(), "sip/alice", "sip:bob@127.0.0.1", &out);
  ASSERT_TRUE(s.ok()) << s.error_message();
  // kamailio finds bob's contact and opens a TLS connection to its port.
  auto created = reader.WaitFor(IsNewCallOn("sip/bob"), kWait);
  ASSERT_TRUE(created.has_value()) << ServerLog();
  const v1::Call& in = created->call_created().call();
  EXPECT_EQ(in.status().state(), v1::CALL_STATE_OFFERING);
  EXPECT_EQ(in.info().caller().number(), "alice");
  EXPECT_EQ(in.info().called().number(), "bob");
  ASSERT_TRUE(itest::Answer(t->telephony(), in.id()).ok());
  // Both sides connect at about the same time, in either order.
  bool out_up = false;
  bool in_up = false;
  ASSERT_TRUE(reader.WaitFor(
      [&](const v1::Event& ev) {
        out_up = out_up || IsCallState(out.id(), v1::CALL_STATE_CONNECTED)(ev);
        in_up = in_up || IsCallState(in.id(), v1::CALL_STATE_CONNECTED)(ev);
        return out_up && in_up;
      },
      kWait))
      << "outbound connected " << out_up << ", inbound connected " << in_up;
  ASSERT_TRUE(itest::Drop(t->telephony(), out.id()).ok());
  EXPECT_TRUE(reader.WaitFor(IsDisconnected(in.id(), v1::DISCONNECT_MODE_NORMAL), kWait));
  t.reset();
  kamailio.Kill();
}

TEST_F(SipTlsTest, UntrustedServerCertificateTakesTheLineOutOfService) {
  ExpectRefused(certs_->rogue_cert, certs_->rogue_key,
                "the server's certificate is not trusted (issuer /CN=linebridge test rogue_ca, "
                "subject /CN=127.0.0.1): unable to get local issuer certificate");
}

TEST_F(SipTlsTest, MisnamedServerCertificateTakesTheLineOutOfService) {
  ExpectRefused(certs_->misnamed_cert, certs_->misnamed_key,
                "the server's certificate does not name 127.0.0.1");
}

TEST_F(SipTlsTest, ServerOfferingOnlyTls11IsRefused) {
  ExpectRefused(certs_->server_cert, certs_->server_key, "the TLS handshake failed",
                "TLSv1.1");
}

TEST_F(SipTlsTest, ClientCertificatePresentedWhenTheServerAsks) {
  ChildProcess kamailio;
  // TLS 1.2: a TLS 1.3 server refuses a missing certificate only after the
  // client's handshake is done, which sofia does not report (the REGISTER
  // would time out).
  ASSERT_TRUE(StartRegistrar(kamailio, certs_->server_cert, certs_->server_key, "TLSv1.2",
                             certs_->ca));
  auto t = StartServer(Account("alice", "sip:alice@127.0.0.1", FreePort()));
  ASSERT_NE(t, nullptr);
  EXPECT_TRUE(AwaitLineState(*t, "sip/alice", v1::LINE_STATE_IN_SERVICE)) << ServerLog();
  t.reset();
  // Without one the server refuses the handshake.
  t = StartServer(Account("alice", "sip:alice@127.0.0.1", FreePort()), "", false);
  ASSERT_NE(t, nullptr);
  EXPECT_TRUE(AwaitLog("line sip/alice out of service: TLS connection to registrar"))
      << ServerLog();
  EXPECT_THAT(ServerLog(), HasSubstr("the TLS handshake failed"));
  t.reset();
  kamailio.Kill();
}

TEST_F(SipTlsTest, KeyThatIsNotTheCertificatesIsAConfigurationError) {
  auto c = ParseConfigText(
      absl::StrFormat("providers { sip {\n"
                      "  accounts { name: \"a\" uri: \"sips:a@127.0.0.1\" }\n"
                      "  tls { ca_file: \"%s\"\n"
                      "    cert_file: \"%s\"\n"
                      "    key_file: \"%s\" }\n"
                      "} }\n",
                      certs_->ca, certs_->client_cert, certs_->rogue_key),
      "lb.conf");
  ASSERT_FALSE(c.ok());
  EXPECT_THAT(c.status().message(),
              HasSubstr(absl::StrFormat("lb.conf:5: providers[0].sip.tls.key_file: \"%s\" is not "
                                        "the key of cert_file",
                                        certs_->rogue_key)));
  // The certificate where the key should be: not a key.
  c = ParseConfigText(absl::StrFormat(R"(providers { sip { accounts { name: "a"
          uri: "sips:a@127.0.0.1" } tls { ca_file: "%s" cert_file: "%s" key_file: "%s" } } })",
                                      certs_->ca, certs_->client_cert, certs_->client_cert),
                      "lb.conf");
  ASSERT_FALSE(c.ok());
  EXPECT_THAT(c.status().message(), HasSubstr("holds no unencrypted PEM private key"));
}

TEST_F(SipTlsTest, NoVerificationAcceptsAnUntrustedServer) {
  ChildProcess kamailio;
  ASSERT_TRUE(StartRegistrar(kamailio, certs_->rogue_cert, certs_->rogue_key));
  auto t = StartServer(Account("alice", "sip:alice@127.0.0.1", FreePort()),
                       "verify_server: false");
  ASSERT_NE(t, nullptr);
  EXPECT_TRUE(AwaitLineState(*t, "sip/alice", v1::LINE_STATE_IN_SERVICE)) << ServerLog();
  t.reset();
  kamailio.Kill();
}

}  // namespace
}  // namespace linebridge
