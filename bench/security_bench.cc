// security_bench: what TLS, token authentication and per-line authorization
// cost a unary call. Two real linebridged processes in one run:
//   plain: plaintext on 127.0.0.1, anonymous local admin (no checks beyond
//          the loopback rule) — the baseline;
//   tls:   TLS (certificates made with openssl here), a user principal's
//          bearer token, GetLine authorized against its line assignment.
// Also plaintext + the same token (authentication and authorization without
// TLS) for information. Calls are interleaved so both see the same machine.
// For the analysis it also times TLS record protection alone (OpenSSL over
// memory BIOs, tls_record_cost.h) for four AEAD suites: the part of the TLS
// per-call cost that is the cipher.
//
//   security_bench [--quick] [--samples N] [--only plain|token|tls]
//                  [--linebridged PATH] [--keep_tmp]
// --only runs one path alone (for profiling one daemon with perf/strace).
// Target: tls p50 <= 1.15 x plain p50. Exit 1 on errors (not on a missed target).
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <string>

#include <grpcpp/grpcpp.h>

#include "bench_util.h"
#include "config/config.h"
#include "linebridge/v1/security.grpc.pb.h"
#include "linebridge/v1/telephony.grpc.pb.h"
#include "tls_record_cost.h"

namespace linebridge::bench {
namespace {

[[noreturn]] void Fail(const std::string& what) { throw std::runtime_error(what); }

void Progress(const std::string& line) {
  std::fprintf(stderr, "security_bench: %s\n", line.c_str());
}

void Run(const std::string& command) {
  if (std::system(command.c_str()) != 0) Fail("command failed: " + command);
}

std::string ReadFile(const std::string& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

// A CA and a server certificate for 127.0.0.1 / localhost.
void MakeCertificates(const std::string& dir) {
  const std::string log = " >>" + dir + "/openssl.log 2>&1";
  Run("openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 2 "
      "-subj /CN=bench-ca -keyout " + dir + "/ca.key -out " + dir + "/ca.pem "
      "-addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign" + log);
  Run("openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes "
      "-subj /CN=localhost -keyout " + dir + "/server.key -out " + dir + "/server.csr" + log);
  std::ofstream(dir + "/server.ext") << "basicConstraints=CA:FALSE\n"
                                        "extendedKeyUsage=serverAuth\n"
                                        "subjectAltName=DNS:localhost,IP:127.0.0.1\n";
  Run("openssl x509 -req -in " + dir + "/server.csr -CA " + dir + "/ca.pem -CAkey " + dir +
      "/ca.key -CAcreateserial -days 2 -extfile " + dir + "/server.ext -out " + dir +
      "/server.pem" + log);
}

// `linebridged --bootstrap_admin`: the first admin's token for a data dir.
std::string BootstrapAdmin(const std::string& linebridged, const std::string& data_dir) {
  const std::string out = data_dir + ".admin-token";
  Run(linebridged + " --data_dir " + data_dir + " --bootstrap_admin bench-admin >" + out +
      " 2>/dev/null");
  std::string token = ReadFile(out);
  while (!token.empty() && (token.back() == '\n' || token.back() == '\r')) token.pop_back();
  if (token.empty()) Fail("no token from --bootstrap_admin");
  return token;
}

void WithToken(grpc::ClientContext* ctx, const std::string& token) {
  ctx->set_deadline(DeadlineIn(10));
  if (!token.empty()) ctx->AddMetadata("authorization", "Bearer " + token);
}

void Check(const grpc::Status& st, const std::string& what) {
  if (!st.ok()) Fail(what + ": " + st.error_message());
}

// A user principal that may monitor `line`, and a token for it.
std::string UserToken(v1::Security::Stub* security, const std::string& admin_token,
                      const std::string& line) {
  v1::AddPrincipalRequest add;
  add.set_name("bench-user");
  add.set_role(v1::ROLE_USER);
  v1::Principal p;
  {
    grpc::ClientContext ctx;
    WithToken(&ctx, admin_token);
    Check(security->AddPrincipal(&ctx, add, &p), "AddPrincipal");
  }
  v1::AssignRequest assign;
  assign.set_principal("bench-user");
  assign.mutable_grant()->set_line_id(line);
  assign.mutable_grant()->set_monitor(true);
  {
    grpc::ClientContext ctx;
    WithToken(&ctx, admin_token);
    Check(security->Assign(&ctx, assign, &p), "Assign");
  }
  v1::IssueTokenRequest issue;
  issue.set_principal("bench-user");
  v1::IssueTokenResponse token;
  grpc::ClientContext ctx;
  WithToken(&ctx, admin_token);
  Check(security->IssueToken(&ctx, issue, &token), "IssueToken");
  return token.token();
}

double TimedGetLine(v1::Telephony::Stub* tel, const std::string& token) {
  v1::GetLineRequest req;
  req.set_line_id("sim/100");
  v1::Line line;
  grpc::ClientContext ctx;
  WithToken(&ctx, token);
  const auto t0 = Clock::now();
  grpc::Status st = tel->GetLine(&ctx, req, &line);
  const double us = MicrosSince(t0);
  Check(st, "GetLine");
  return us;
}

int Main(int argc, char** argv) {
  bool quick = false;
  bool keep = false;
  int samples_flag = 0;
  std::string only;  // profiling: run one path only ("plain", "token", "tls")
  char self[4096];
  const ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
  std::string linebridged = "linebridged";
  if (n > 0) {
    const std::string path(self, static_cast<size_t>(n));
    linebridged = path.substr(0, path.rfind('/') + 1) + "linebridged";
  }
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "--quick") {
      quick = true;
    } else if (a == "--samples" && i + 1 < argc) {
      samples_flag = std::atoi(argv[++i]);
    } else if (a == "--only" && i + 1 < argc) {
      only = argv[++i];
      if (only != "plain" && only != "token" && only != "tls") {
        std::fprintf(stderr, "security_bench: --only takes plain, token or tls\n");
        return 1;
      }
    } else if (a == "--keep_tmp") {
      keep = true;
    } else if (a == "--linebridged" && i + 1 < argc) {
      linebridged = argv[++i];
    } else {
      std::fprintf(stderr,
                   "usage: security_bench [--quick] [--samples N] [--only plain|token|tls]\n"
                   "                      [--linebridged PATH] [--keep_tmp]\n");
      return 1;
    }
  }
  TempDir dir;
  if (keep) dir.keep();
  try {
    MakeCertificates(dir.path());
    std::string error;
    v1::config::ServerConfig plain_config;
    ApplyDefaults(&plain_config);
    auto plain = Daemon::Start(linebridged, dir.path(), "plain", plain_config, &error);
    if (plain == nullptr) Fail("plain daemon: " + error);
    v1::config::ServerConfig tls_config = plain_config;
    tls_config.mutable_tls()->set_cert_file(dir.path() + "/server.pem");
    tls_config.mutable_tls()->set_key_file(dir.path() + "/server.key");
    // Daemon::Start uses <dir>/<name>-data: bootstrap the admin there first.
    const std::string admin_token = BootstrapAdmin(linebridged, dir.path() + "/tls-data");
    auto tls = Daemon::Start(linebridged, dir.path(), "tls", tls_config, &error);
    if (tls == nullptr) Fail("tls daemon: " + error);

    auto plain_channel = MakeChannel(plain->target(), 1);
    grpc::SslCredentialsOptions ssl;
    ssl.pem_root_certs = ReadFile(dir.path() + "/ca.pem");
    grpc::ChannelArguments args;
    args.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);
    auto tls_channel = grpc::CreateCustomChannel(tls->target(), grpc::SslCredentials(ssl), args);
    if (!WaitConnected(plain_channel, 10)) Fail("cannot connect to " + plain->target());
    if (!WaitConnected(tls_channel, 10)) Fail("cannot connect over TLS to " + tls->target());
    auto plain_tel = v1::Telephony::NewStub(plain_channel);
    auto tls_tel = v1::Telephony::NewStub(tls_channel);
    auto plain_sec = v1::Security::NewStub(plain_channel);
    auto tls_sec = v1::Security::NewStub(tls_channel);
    const std::string plain_user = UserToken(plain_sec.get(), "", "sim/100");
    const std::string tls_user = UserToken(tls_sec.get(), admin_token, "sim/100");

    const int warmup = quick ? 200 : 2000;
    const int samples = samples_flag > 0 ? samples_flag : quick ? 1000 : 20000;
    for (int i = 0; i < warmup; ++i) {
      TimedGetLine(plain_tel.get(), "");
      TimedGetLine(tls_tel.get(), tls_user);
      TimedGetLine(plain_tel.get(), plain_user);
      TimedGetLine(tls_tel.get(), tls_user);
    }
    if (!only.empty()) {
      Stats one;
      for (int i = 0; i < samples; ++i) {
        if (only == "plain") {
          one.Add(TimedGetLine(plain_tel.get(), ""));
        } else if (only == "token") {
          one.Add(TimedGetLine(plain_tel.get(), plain_user));
        } else {
          one.Add(TimedGetLine(tls_tel.get(), tls_user));
        }
      }
      std::printf("%s only: p50 %.1f us, p99 %.1f us, n=%zu (server pids: plain %d, tls %d)\n",
                  only.c_str(), one.P50(), one.P99(), one.size(), static_cast<int>(plain->pid()),
                  static_cast<int>(tls->pid()));
      return 0;
    }
    Stats base, token_only, secured;
    for (int i = 0; i < samples; ++i) {
      // The two daemons take turns: every timed call follows a call to the
      // other daemon, so each finds its threads equally idle. (With the calls
      // rotated among three paths, the plaintext daemon served two calls in a
      // row two times out of three and the TLS daemon never did.)
      base.Add(TimedGetLine(plain_tel.get(), ""));
      secured.Add(TimedGetLine(tls_tel.get(), tls_user));
      token_only.Add(TimedGetLine(plain_tel.get(), plain_user));
      secured.Add(TimedGetLine(tls_tel.get(), tls_user));
    }
    // A user denied the line is refused (the checks really run).
    {
      v1::GetLineRequest req;
      req.set_line_id("sim/101");
      v1::Line line;
      grpc::ClientContext ctx;
      WithToken(&ctx, tls_user);
      if (tls_tel->GetLine(&ctx, req, &line).error_code() != grpc::StatusCode::NOT_FOUND) {
        Fail("bench-user could read sim/101: authorization is not in effect");
      }
    }
    Report report;
    const double ratio = secured.P50() / base.P50();
    char note[200];
    std::snprintf(note, sizeof note,
                  "p99 %.1f vs %.1f us; n=%zu TLS, %zu plaintext GetLine calls, daemons alternate",
                  secured.P99(), base.P99(), secured.size(), base.size());
    report.Add({"unary p50, TLS + token + authz (us)", secured.P50(), "<= 1.15x plaintext",
                "plaintext " + std::to_string(base.P50()).substr(0, 6), base.P50(), ratio,
                ratio <= 1.15 ? "PASS" : "FAIL", note});
    report.Add({"unary p50, plaintext + token + authz (us)", token_only.P50(), "info",
                "plaintext " + std::to_string(base.P50()).substr(0, 6), base.P50(),
                token_only.P50() / base.P50(), "info", ""});
    // Why TLS costs what it costs: the record protection alone (OpenSSL, no
    // gRPC, no sockets) for one request and one response record of about the
    // GetLine sizes seen on the wire (170 and 333 bytes of HTTP/2 frames).
    const double delta = secured.P50() - token_only.P50();
    struct Suite {
      const char* label;
      bool tls12;
      const char* suites;
    };
    const Suite suites[] = {
        {"1.3 AES-128-GCM", false, "TLS_AES_128_GCM_SHA256"},
        {"1.3 AES-256-GCM", false, "TLS_AES_256_GCM_SHA384"},
        {"1.3 ChaCha20", false, "TLS_CHACHA20_POLY1305_SHA256"},
        {"1.2 AES-128-GCM", true, "ECDHE-ECDSA-AES128-GCM-SHA256"},
    };
    char delta_text[64];
    std::snprintf(delta_text, sizeof delta_text, "TLS-token delta %.1f", delta);
    for (const Suite& suite : suites) {
      RecordCost cost;
      std::string record_error;
      if (!MeasureRecordCost(dir.path() + "/server.pem", dir.path() + "/server.key", suite.tls12,
                             suite.suites, 170, 333, quick ? 2000 : 50000, &cost,
                             &record_error)) {
        Fail(std::string("record cost, ") + suite.label + ": " + record_error);
      }
      report.Add({std::string("TLS records only, ") + suite.label + " (us)",
                  cost.round_p50_us, "info", delta_text, delta,
                  delta > 0 ? cost.round_p50_us / delta : 0, "info",
                  cost.version + " " + cost.cipher +
                      ": protect+unprotect of one request and one response record"});
    }
    report.Print();
    if (quick) Progress("quick run: figures are indicative only");
  } catch (const std::exception& e) {
    std::fprintf(stderr, "security_bench: FAILED: %s\n", e.what());
    return 1;
  }
  return 0;
}

}  // namespace
}  // namespace linebridge::bench

int main(int argc, char** argv) { return linebridge::bench::Main(argc, argv); }
