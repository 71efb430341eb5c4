// linebridge.tsp's client-side security, driven through the TAPISRV harness
// against a real linebridged with openssl-made certificates: TLS (server
// certificate checked against ca_file and server_name), mutual TLS
// (cert_file/key_file, the certificate's identity an admin principal), and
// bearer tokens from token_file checked by the server itself (any TLS
// listener requires credentials): an admin token from
// `linebridged --bootstrap_admin`, wrong and revoked tokens, and a user
// principal that sees only the lines assigned to it (`linectl assign`).
#include <gtest/gtest.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstring>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "tapisrv_harness.h"
#include "tls_certs.h"
#include "linebridge/deadline.h"

namespace linebridge::tsp_test {
namespace {

constexpr char kServerName[] = "pbx.linebridge.test";

std::string ReadFile(const std::string& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

// linebridged with a configuration file (TLS), on 127.0.0.1:<ephemeral>, and
// its first administrator's token.
class TlsServer {
 public:
  bool Start(const std::string& dir, const std::string& tls_block, std::string* error) {
    const char* bin_dir = std::getenv("LINEBRIDGE_BIN_DIR");
    if (bin_dir == nullptr) {
      *error = "LINEBRIDGE_BIN_DIR is not set";
      return false;
    }
    const std::string config = dir + "/server.textproto";
    std::ofstream(config) << tls_block;
    // The first administrator: its token, made in the data directory before
    // the daemon starts (a TLS listener accepts no anonymous calls).
    admin_token_file_ = dir + "/admin.token";
    const std::string bootstrap = absl::StrCat(
        "'", bin_dir, "/linebridged' --data_dir '", dir, "/data' --bootstrap_admin tsp-admin > '",
        admin_token_file_, "' 2>> '", dir, "/bootstrap.log'");
    if (std::system(bootstrap.c_str()) != 0 || ReadFile(admin_token_file_).size() < 10) {
      *error = "linebridged --bootstrap_admin failed: " + ReadFile(dir + "/bootstrap.log");
      return false;
    }
    if (!process_.Start(dir, error, 0, config)) {
      *error += ": " + ReadFile(dir + "/linebridged.log");
      return false;
    }
    return true;
  }
  void Stop() { process_.Stop(); }
  std::string address() const { return process_.address(); }
  // File holding the admin's bearer token (`--bootstrap_admin`).
  const std::string& admin_token_file() const { return admin_token_file_; }

 private:
  ServerProcess process_;
  std::string admin_token_file_;
};

// Runs `command` through the shell; its stdout (trimmed) in *out.
int RunCapture(const std::string& command, std::string* out) {
  out->clear();
  FILE* p = popen(command.c_str(), "r");
  if (p == nullptr) return -1;
  char buf[512];
  size_t n;
  while ((n = fread(buf, 1, sizeof buf, p)) > 0) out->append(buf, n);
  const int status = pclose(p);
  while (!out->empty() && (out->back() == '\n' || out->back() == ' ')) out->pop_back();
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

// Collects what the process writes to stderr (the provider's messages)
// while it lives.
class StderrCapture {
 public:
  explicit StderrCapture(const std::string& path) : path_(path) {
    fflush(stderr);
    saved_ = dup(2);
    const int fd = open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    dup2(fd, 2);
    close(fd);
  }
  ~StderrCapture() { Restore(); }
  std::string Text() {
    fflush(stderr);
    return ReadFile(path_);
  }
  void Restore() {
    if (saved_ < 0) return;
    fflush(stderr);
    dup2(saved_, 2);
    close(saved_);
    saved_ = -1;
  }

 private:
  std::string path_;
  int saved_ = -1;
};

class TspTlsTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    char tmpl[] = "/tmp/lb-tsptls.XXXXXX";
    dir_ = mkdtemp(tmpl);
    harness_ = new TapiSrvHarness();
    const char* lib = std::getenv("LINEBRIDGE_TSP_LIBRARY");
    if (lib == nullptr) {
      load_error_ = "LINEBRIDGE_TSP_LIBRARY is not set";
    } else {
      load_ok_ = harness_->Load(lib, &load_error_);
    }
  }
  static void TearDownTestSuite() {
    std::string cmd = "rm -rf '" + dir_ + "'";
    (void)std::system(cmd.c_str());
  }

  void SetUp() override {
    ASSERT_TRUE(load_ok_) << load_error_;
    ASSERT_TRUE(itest::OpensslAvailable()) << "openssl is needed (scripts/bootstrap.sh)";
    const std::string name = ::testing::UnitTest::GetInstance()->current_test_info()->name();
    test_dir_ = dir_ + "/" + name;
    ASSERT_EQ(mkdir(test_dir_.c_str(), 0700), 0);
    pki_ = itest::TestPki::Create(test_dir_ + "/pki");
    ASSERT_NE(pki_, nullptr);
    ASSERT_TRUE(pki_->MakeCa("ca"));
    ASSERT_TRUE(pki_->MakeCa("other-ca"));
    // The certificate names only kServerName: connecting to 127.0.0.1
    // works only with server_name set.
    ASSERT_TRUE(pki_->MakeCert("server", {.ca = "ca", .dns = {kServerName}}));
    ASSERT_TRUE(pki_->MakeCert("client", {.ca = "ca"}));
    ASSERT_TRUE(pki_->MakeCert("stranger", {.ca = "other-ca"}));
    harness_->ClearEvents();
  }
  void TearDown() override {
    if (started_) {
      EXPECT_EQ(harness_->Stop(), 0);
    }
    EXPECT_EQ(harness_->violations(), std::vector<std::string>{});
  }

  std::string ServerTls(bool require_client_cert) {
    std::string block = absl::StrCat("tls {\n  cert_file: \"", pki_->CertPath("server"),
                                     "\"\n  key_file: \"", pki_->KeyPath("server"), "\"\n");
    if (require_client_cert) {
      absl::StrAppend(&block, "  client_ca_file: \"", pki_->CertPath("ca"),
                      "\"\n  require_client_cert: true\n");
    }
    block += "}\n";
    // The certificate "client" (CN=client) is an admin (mutual TLS without a token).
    if (require_client_cert) block += "auth { admin_principals: \"client\" }\n";
    return block;
  }
  // What the TSP needs to trust the server (ca_file, server_name).
  std::string Trust() const {
    return absl::StrCat("ca_file = ", pki_->CertPath("ca"), "\nserver_name = ", kServerName, "\n");
  }
  // linectl as the admin, over TLS; its stdout in *out, the exit code returned.
  int Linectl(const TlsServer& server, const std::string& args, std::string* out) {
    const char* bin_dir = std::getenv("LINEBRIDGE_BIN_DIR");
    if (bin_dir == nullptr) return -1;
    return RunCapture(absl::StrCat("'", bin_dir, "/linectl' --server ", server.address(),
                                   " --tls-ca '", pki_->CertPath("ca"), "' --tls-server-name ",
                                   kServerName, " --token-file '", server.admin_token_file(), "' ",
                                   args, " 2>> '", test_dir_, "/linectl.log'"),
                      out);
  }
  // The lines of the devices the provider reported (enumerated or created
  // by LINE_CREATE) whose SwitchInfo is known.
  std::vector<std::string> KnownLineIds() {
    std::vector<std::string> ids;
    std::vector<DWORD> devices;
    for (DWORD i = 0; i < num_lines_; ++i) devices.push_back(TapiSrvHarness::kLineBase + i);
    for (DWORD id : harness_->created_devices()) devices.push_back(id);
    for (DWORD id : devices) {
      std::vector<unsigned char> b(4096, 0);
      const DWORD total = static_cast<DWORD>(b.size());
      std::memcpy(b.data(), &total, sizeof total);
      if (harness_->tspi().TSPI_lineGetDevCaps(id, 0x00030000, 0,
                                               reinterpret_cast<LPLINEDEVCAPS>(b.data())) != 0) {
        continue;
      }
      LINEDEVCAPS fixed;
      std::memcpy(&fixed, b.data(), sizeof fixed);
      std::string name;
      for (DWORD i = 0; i + 1 < fixed.dwSwitchInfoSize; i += 2) {
        char16_t c;
        std::memcpy(&c, b.data() + fixed.dwSwitchInfoOffset + i, 2);
        if (c == 0) break;
        name.push_back(static_cast<char>(c));
      }
      ids.push_back(name);
    }
    return ids;
  }

  // Writes the TSP configuration and points $LINEBRIDGE_TSP_CONFIG at it.
  void Configure(const std::string& server, const std::string& security) {
    const std::string path = test_dir_ + "/tsp.conf";
    std::ofstream(path) << "server = " << server << "\nclient_name = tsp-tls-test\n"
                        << "deadline_ms = 1000\n" << security;
    setenv("LINEBRIDGE_TSP_CONFIG", path.c_str(), 1);
  }

  void StartProvider() {
    num_lines_ = 0;
    ASSERT_EQ(harness_->Start(&num_lines_), 0);
    started_ = true;
  }

  // The device whose caps name `line_id` and offer MAKECALL (the provider
  // learned it from the server), within `timeout`; 0xFFFFFFFF if none.
  DWORD DeviceOf(const std::string& line_id, absl::Duration timeout) {
    const absl::Time deadline = MonotonicNow() + timeout;
    do {
      std::vector<DWORD> ids;  // enumerated (static) devices, then created ones
      for (DWORD i = 0; i < num_lines_; ++i) ids.push_back(TapiSrvHarness::kLineBase + i);
      for (DWORD id : harness_->created_devices()) ids.push_back(id);
      for (DWORD id : ids) {
        std::vector<unsigned char> b(4096, 0);
        const DWORD total = static_cast<DWORD>(b.size());
        std::memcpy(b.data(), &total, sizeof total);
        auto* caps = reinterpret_cast<LPLINEDEVCAPS>(b.data());
        if (harness_->tspi().TSPI_lineGetDevCaps(id, 0x00030000, 0, caps) != 0) continue;
        LINEDEVCAPS fixed;
        std::memcpy(&fixed, b.data(), sizeof fixed);
        std::string name;
        for (DWORD i = 0; i + 1 < fixed.dwSwitchInfoSize; i += 2) {
          char16_t c;
          std::memcpy(&c, b.data() + fixed.dwSwitchInfoOffset + i, 2);
          if (c == 0) break;
          name.push_back(static_cast<char>(c));
        }
        if (name == line_id && (fixed.dwLineFeatures & LINEFEATURE_MAKECALL) != 0) return id;
      }
      absl::SleepFor(absl::Milliseconds(20));
    } while (MonotonicNow() < deadline);
    return 0xFFFFFFFF;
  }

  // Opens `device` and makes a call to the sim's answering external number;
  // true once it is CONNECTED (then dropped).
  bool CallConnects(DWORD device) {
    TspiTable& t = harness_->tspi();
    const HTAPILINE ht_line = harness_->NewHtLine();
    HDRVLINE hd_line = nullptr;
    if (t.TSPI_lineOpen(device, ht_line, &hd_line, 0x00030000, &TapiSrvHarness::LineEvent) != 0) {
      return false;
    }
    // A fresh htCall per call (the harness tracks calls by htCall).
    static uintptr_t next_ht_call = 0x7150;
    const HTAPICALL ht_call = reinterpret_cast<HTAPICALL>(next_ht_call++);
    HDRVCALL hd_call = nullptr;
    const DRV_REQUESTID make = harness_->NextRequestId();
    harness_->OutboundCall(ht_call, make);
    // Registered as outstanding before the call, as TAPISRV knows its request
    // id before it calls the provider: the completion may arrive before
    // TSPI_lineMakeCall returns, and the call's states right after it.
    harness_->Issued(make, static_cast<LONG>(make));
    const LONG r = t.TSPI_lineMakeCall(make, hd_line, ht_call, &hd_call, u"5550100", 0, nullptr);
    bool ok = r == static_cast<LONG>(make) && harness_->WaitCompletion(make) == 0 &&
              harness_->WaitCallState(ht_call, LINECALLSTATE_CONNECTED);
    if (ok) {
      const DRV_REQUESTID drop = harness_->NextRequestId();
      const LONG d = t.TSPI_lineDrop(drop, hd_call, nullptr, 0);
      harness_->Issued(drop, d);
      ok = d == static_cast<LONG>(drop) && harness_->WaitCompletion(drop) == 0 &&
           harness_->WaitCallState(ht_call, LINECALLSTATE_IDLE);
    }
    if (hd_call != nullptr) t.TSPI_lineCloseCall(hd_call);
    t.TSPI_lineClose(hd_line);
    return ok;
  }

  static inline std::string dir_;
  static inline TapiSrvHarness* harness_ = nullptr;
  static inline bool load_ok_ = false;
  static inline std::string load_error_;
  std::string test_dir_;
  std::unique_ptr<itest::TestPki> pki_;
  DWORD num_lines_ = 0;  // enumerated by providerEnumDevices
  bool started_ = false;
};

TEST_F(TspTlsTest, ConnectsOverTlsWithCaFileAndServerName) {
  TlsServer server;
  std::string error;
  ASSERT_TRUE(server.Start(test_dir_, ServerTls(false), &error)) << error;
  Configure(server.address(),
            absl::StrCat(Trust(), "token_file = ", server.admin_token_file(), "\n"));
  StartProvider();
  const DWORD device = DeviceOf("sim/100", absl::Seconds(10));
  ASSERT_NE(device, 0xFFFFFFFF) << "no line over TLS";
  EXPECT_TRUE(CallConnects(device));
}

TEST_F(TspTlsTest, WithoutServerNameTheCertificateDoesNotMatch) {
  TlsServer server;
  std::string error;
  ASSERT_TRUE(server.Start(test_dir_, ServerTls(false), &error)) << error;
  // The certificate is for kServerName, not 127.0.0.1: the handshake fails.
  Configure(server.address(), absl::StrCat("ca_file = ", pki_->CertPath("ca"), "\ntoken_file = ",
                                           server.admin_token_file(), "\n"));
  StartProvider();
  EXPECT_EQ(DeviceOf("sim/100", absl::Seconds(2)), 0xFFFFFFFF);
  EXPECT_EQ(harness_->create_count(), 0u);
}

TEST_F(TspTlsTest, WrongCaOrPlaintextIsRefused) {
  TlsServer server;
  std::string error;
  ASSERT_TRUE(server.Start(test_dir_, ServerTls(false), &error)) << error;
  Configure(server.address(), absl::StrCat("ca_file = ", pki_->CertPath("other-ca"),
                                           "\nserver_name = ", kServerName, "\ntoken_file = ",
                                           server.admin_token_file(), "\n"));
  StartProvider();
  EXPECT_EQ(DeviceOf("sim/100", absl::Seconds(2)), 0xFFFFFFFF);
  EXPECT_EQ(harness_->Stop(), 0);
  started_ = false;

  Configure(server.address(), "");  // plaintext to a TLS server
  StartProvider();
  EXPECT_EQ(DeviceOf("sim/100", absl::Seconds(2)), 0xFFFFFFFF);
}

TEST_F(TspTlsTest, MutualTlsWithClientCertificate) {
  TlsServer server;
  std::string error;
  ASSERT_TRUE(server.Start(test_dir_, ServerTls(true), &error)) << error;
  const std::string trust = absl::StrCat("ca_file = ", pki_->CertPath("ca"),
                                         "\nserver_name = ", kServerName, "\n");
  // No certificate: refused.
  Configure(server.address(), trust);
  StartProvider();
  EXPECT_EQ(DeviceOf("sim/100", absl::Seconds(2)), 0xFFFFFFFF);
  EXPECT_EQ(harness_->Stop(), 0);
  started_ = false;
  // A certificate from another CA: refused.
  Configure(server.address(), absl::StrCat(trust, "cert_file = ", pki_->CertPath("stranger"),
                                           "\nkey_file = ", pki_->KeyPath("stranger"), "\n"));
  StartProvider();
  EXPECT_EQ(DeviceOf("sim/100", absl::Seconds(2)), 0xFFFFFFFF);
  EXPECT_EQ(harness_->Stop(), 0);
  started_ = false;
  // The client certificate signed by the CA the server trusts: lines and calls.
  harness_->ClearEvents();
  Configure(server.address(), absl::StrCat(trust, "cert_file = ", pki_->CertPath("client"),
                                           "\nkey_file = ", pki_->KeyPath("client"), "\n"));
  StartProvider();
  const DWORD device = DeviceOf("sim/100", absl::Seconds(10));
  ASSERT_NE(device, 0xFFFFFFFF) << "no line over mutual TLS";
  EXPECT_TRUE(CallConnects(device));
}

TEST_F(TspTlsTest, WithoutAnyCredentialsTheServerRefusesTheProvider) {
  TlsServer server;
  std::string error;
  ASSERT_TRUE(server.Start(test_dir_, ServerTls(false), &error)) << error;
  StderrCapture log(test_dir_ + "/tsp.stderr");
  Configure(server.address(), Trust());  // TLS is fine, but no token
  StartProvider();
  EXPECT_EQ(DeviceOf("sim/100", absl::Seconds(2)), 0xFFFFFFFF);
  EXPECT_EQ(harness_->create_count(), 0u);
  const std::string text = log.Text();
  log.Restore();
  EXPECT_NE(text.find("UNAUTHENTICATED"), std::string::npos) << text;
}

TEST_F(TspTlsTest, WrongTokenMakesNoLinesAndSaysWhy) {
  TlsServer server;
  std::string error;
  ASSERT_TRUE(server.Start(test_dir_, ServerTls(false), &error)) << error;
  // Well-formed but unknown: the server checks it and refuses every call.
  const std::string token_file = test_dir_ + "/wrong.token";
  std::ofstream(token_file) << "lb1.0123456789abcdef.0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef\n";
  StderrCapture log(test_dir_ + "/tsp.stderr");
  Configure(server.address(), absl::StrCat(Trust(), "token_file = ", token_file, "\n"));
  StartProvider();
  EXPECT_EQ(DeviceOf("sim/100", absl::Seconds(2)), 0xFFFFFFFF);
  EXPECT_EQ(harness_->create_count(), 0u);
  const std::string text = log.Text();
  log.Restore();
  // One clear message from the enumeration and one from the session, not one
  // per retry.
  size_t messages = 0;
  for (size_t at = text.find("linebridge.tsp: "); at != std::string::npos;
       at = text.find("linebridge.tsp: ", at + 1)) {
    ++messages;
  }
  EXPECT_EQ(messages, 2u) << text;
  EXPECT_NE(text.find("enumeration: "), std::string::npos) << text;
  EXPECT_NE(text.find("no session yet"), std::string::npos) << text;
  EXPECT_NE(text.find("UNAUTHENTICATED"), std::string::npos) << text;
  EXPECT_EQ(text.find("0123456789abcdef0123456789abcdef"), std::string::npos) << text;
}

TEST_F(TspTlsTest, RevokedTokenMakesCallsFail) {
  TlsServer server;
  std::string error;
  ASSERT_TRUE(server.Start(test_dir_, ServerTls(false), &error)) << error;
  std::string out;
  ASSERT_EQ(Linectl(server, "token issue --principal tsp-admin --ttl 1d", &out), 0);
  const std::string token_file = test_dir_ + "/tsp.token";
  std::ofstream(token_file) << out << "\n";
  Configure(server.address(), absl::StrCat(Trust(), "token_file = ", token_file, "\n"));
  StartProvider();
  const DWORD device = DeviceOf("sim/100", absl::Seconds(10));
  ASSERT_NE(device, 0xFFFFFFFF) << "no line with a good token";
  EXPECT_TRUE(CallConnects(device));
  // lb1.<id>.<secret>: revoke it by id; the next call is refused.
  const size_t dot = out.find('.'), dot2 = out.find('.', dot + 1);
  ASSERT_NE(dot2, std::string::npos) << out;
  ASSERT_EQ(Linectl(server, "token revoke " + out.substr(dot + 1, dot2 - dot - 1), &out), 0);
  TspiTable& t = harness_->tspi();
  const HTAPILINE ht_line = harness_->NewHtLine();
  HDRVLINE hd_line = nullptr;
  ASSERT_EQ(t.TSPI_lineOpen(device, ht_line, &hd_line, 0x00030000, &TapiSrvHarness::LineEvent), 0);
  const HTAPICALL ht_call = reinterpret_cast<HTAPICALL>(uintptr_t{0x7A00});
  HDRVCALL hd_call = nullptr;
  const DRV_REQUESTID make = harness_->NextRequestId();
  harness_->OutboundCall(ht_call, make);
  harness_->Issued(make, static_cast<LONG>(make));
  ASSERT_EQ(t.TSPI_lineMakeCall(make, hd_line, ht_call, &hd_call, u"5550100", 0, nullptr),
            static_cast<LONG>(make));
  // UNAUTHENTICATED carries LINEERR_OPERATIONFAILED (docs/security.md).
  EXPECT_EQ(harness_->WaitCompletion(make), LINEERR_OPERATIONFAILED);
  if (hd_call != nullptr) t.TSPI_lineCloseCall(hd_call);
  EXPECT_EQ(t.TSPI_lineClose(hd_line), 0);
}

TEST_F(TspTlsTest, UserPrincipalSeesOnlyItsAssignedLines) {
  TlsServer server;
  std::string error;
  ASSERT_TRUE(server.Start(test_dir_, ServerTls(false), &error)) << error;
  std::string out;
  ASSERT_EQ(Linectl(server, "principal add ws-0423", &out), 0);
  ASSERT_EQ(Linectl(server, "assign ws-0423 sim/101 --control --originate", &out), 0);
  ASSERT_EQ(Linectl(server, "token issue --principal ws-0423 --ttl 1d", &out), 0);
  const std::string token_file = test_dir_ + "/ws.token";
  std::ofstream(token_file) << out << "\n";
  Configure(server.address(), absl::StrCat(Trust(), "token_file = ", token_file, "\n"));
  StartProvider();
  const DWORD device = DeviceOf("sim/101", absl::Seconds(10));
  ASSERT_NE(device, 0xFFFFFFFF) << "the assigned line did not appear";
  // Enumerated (ListLines shows a principal its lines only) or, had the
  // server been late, created from the snapshot (one batch: every LINE_CREATE
  // is there by now). Give stragglers a moment anyway: only sim/101.
  absl::SleepFor(absl::Milliseconds(300));
  EXPECT_EQ(KnownLineIds(), std::vector<std::string>{"sim/101"});
  EXPECT_EQ(DeviceOf("sim/100", absl::Milliseconds(100)), 0xFFFFFFFF);
  EXPECT_TRUE(CallConnects(device));
}

TEST_F(TspTlsTest, BadSecurityConfigFailsEnumerate) {
  // A configuration error stops the provider at providerEnumDevices (the
  // message, naming file and line, goes to stderr; tsp_config_test checks it).
  Configure("127.0.0.1:1", absl::StrCat("cert_file = ", pki_->CertPath("client"), "\n"));
  DWORD lines = 0;
  EXPECT_EQ(harness_->Start(&lines), LINEERR_OPERATIONFAILED);
  Configure("pbx.example.com:1", absl::StrCat("token_file = ", test_dir_, "/missing.token\n"));
  EXPECT_EQ(harness_->Start(&lines), LINEERR_OPERATIONFAILED);
}

}  // namespace
}  // namespace linebridge::tsp_test
