#include "providers/sip/testing/tls_peers.h"

#include <sys/stat.h>

#include <fstream>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/time/clock.h"
#include "linebridge/deadline.h"

namespace linebridge::sip::testing {
namespace {

bool Run(const std::vector<std::string>& argv, const std::string& dir, std::string* error) {
  ChildProcess child;
  const std::string log = absl::StrCat(dir, "/openssl.log");
  if (!child.Start(argv, log) || child.Wait(absl::Seconds(20)) != 0) {
    *error = absl::StrCat(absl::StrJoin(argv, " "), " failed: ", child.ReadLog());
    return false;
  }
  return true;
}

// A P-256 key and a certificate for `cn` (with `san`) signed by the
// authority `ca` (its .pem and .key).
bool Issue(const std::string& dir, const std::string& name, const std::string& cn,
           const std::string& san, const std::string& ca, std::string* error) {
  const std::string ext = absl::StrCat(dir, "/", name, ".ext");
  std::ofstream(ext) << "subjectAltName=" << san << "\n"
                     << "basicConstraints=CA:FALSE\n"
                     << "keyUsage=digitalSignature,keyEncipherment\n"
                     << "extendedKeyUsage=serverAuth,clientAuth\n";
  const std::string base = absl::StrCat(dir, "/", name);
  return Run({"openssl", "req", "-new", "-newkey", "ec", "-pkeyopt",
              "ec_paramgen_curve:prime256v1", "-nodes", "-keyout", base + ".key", "-out",
              base + ".csr", "-subj", "/CN=" + cn},
             dir, error) &&
         Run({"openssl", "x509", "-req", "-in", base + ".csr", "-CA", ca + ".pem", "-CAkey",
              ca + ".key", "-CAcreateserial", "-days", "2", "-extfile", ext, "-out",
              base + ".pem"},
             dir, error);
}

bool MakeAuthority(const std::string& dir, const std::string& name, std::string* error) {
  const std::string base = absl::StrCat(dir, "/", name);
  return Run({"openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
              "ec_paramgen_curve:prime256v1", "-nodes", "-keyout", base + ".key", "-out",
              base + ".pem", "-days", "2", "-subj", "/CN=linebridge test " + name, "-addext",
              "basicConstraints=critical,CA:TRUE", "-addext",
              "keyUsage=critical,keyCertSign,cRLSign"},
             dir, error);
}

}  // namespace

bool MakeTestCertificates(const std::string& dir, TestCertificates* out, std::string* error) {
  const std::string ca = dir + "/ca";
  const std::string rogue_ca = dir + "/rogue_ca";
  if (!MakeAuthority(dir, "ca", error) || !MakeAuthority(dir, "rogue_ca", error) ||
      !Issue(dir, "server", "127.0.0.1", "IP:127.0.0.1,DNS:127.0.0.1", ca, error) ||
      !Issue(dir, "client", "linebridged", "DNS:linebridged", ca, error) ||
      !Issue(dir, "rogue", "127.0.0.1", "IP:127.0.0.1,DNS:127.0.0.1", rogue_ca, error) ||
      !Issue(dir, "misnamed", "pbx.invalid", "DNS:pbx.invalid", ca, error)) {
    return false;
  }
  out->ca = ca + ".pem";
  out->server_cert = dir + "/server.pem";
  out->server_key = dir + "/server.key";
  out->client_cert = dir + "/client.pem";
  out->client_key = dir + "/client.key";
  out->rogue_cert = dir + "/rogue.pem";
  out->rogue_key = dir + "/rogue.key";
  out->misnamed_cert = dir + "/misnamed.pem";
  out->misnamed_key = dir + "/misnamed.key";
  return true;
}

bool StartKamailioTls(ChildProcess& child, const KamailioTls& o, const std::string& dir,
                      std::string* error) {
  const std::string tls_cfg = absl::StrCat(dir, "/kamailio_tls_", o.port, ".cfg");
  const std::string verify_clients =
      o.client_ca.empty()
          ? std::string("verify_certificate = no\nrequire_certificate = no\n")
          : absl::StrCat("verify_certificate = yes\nrequire_certificate = yes\nca_list = ",
                         o.client_ca, "\n");
  std::ofstream(tls_cfg) << "[server:default]\n"
                         << "method = " << o.method << "\n"
                         << verify_clients
                         << "private_key = " << o.key << "\n"
                         << "certificate = " << o.cert << "\n\n"
                         << "[client:default]\n"
                         << "method = " << o.method << "\n"
                         << "verify_certificate = no\nrequire_certificate = no\n";
  const std::string cfg = absl::StrCat(dir, "/kamailio_", o.port, ".cfg");
  std::ofstream(cfg)
      << "#!KAMAILIO\n"
      << "debug=2\nlog_stderror=yes\nchildren=1\ntcp_children=1\nenable_tls=yes\n"
      << "listen=udp:127.0.0.1:" << o.port << "\n"
      << "listen=tls:127.0.0.1:" << o.port << "\n"
      << "mpath=\"/usr/lib/x86_64-linux-gnu/kamailio/modules/\"\n"
      << "loadmodule \"tls.so\"\n"
      << "modparam(\"tls\", \"config\", \"" << tls_cfg << "\")\n"
      << "loadmodule \"tm.so\"\nloadmodule \"sl.so\"\nloadmodule \"pv.so\"\n"
      << "loadmodule \"usrloc.so\"\nloadmodule \"registrar.so\"\n"
      << "loadmodule \"auth.so\"\n"
      << "modparam(\"usrloc\", \"db_mode\", 0)\n"
      << "modparam(\"registrar\", \"min_expires\", 1)\n"
      << "request_route {\n"
      << "  if (method==\"OPTIONS\" && proto==UDP) { sl_send_reply(\"200\", \"OK\"); exit; }\n"
      << "  if (proto!=TLS) { sl_send_reply(\"403\", \"TLS Only\"); exit; }\n"
      << "  if (method==\"REGISTER\") {\n"
      << "    if (!pv_www_authenticate(\"$td\", \"" << o.password << "\", \"0\")) {\n"
      << "      www_challenge(\"$td\", \"0\");\n      exit;\n    }\n"
      << "    save(\"location\");\n    exit;\n  }\n"
      << "  if ($tt != $null) {\n"
      << "    if (method==\"ACK\") { forward(); exit; }\n"
      << "    if (!t_relay()) sl_reply_error();\n    exit;\n  }\n"
      << "  if (method==\"CANCEL\") { if (t_check_trans()) t_relay(); exit; }\n"
      << "  if (method==\"INVITE\") {\n"
      << "    if (!lookup(\"location\")) { sl_send_reply(\"404\", \"Not Here\"); exit; }\n"
      << "    if (!t_relay()) sl_reply_error();\n    exit;\n  }\n"
      << "  sl_send_reply(\"404\", \"Not Here\");\n}\n";
  const std::string run = absl::StrCat(dir, "/kamailio_run_", o.port);
  ::mkdir(run.c_str(), 0755);
  if (!child.Start({"kamailio", "-DD", "-E", "-f", cfg, "-Y", run, "-w", run},
                   absl::StrCat(dir, "/kamailio_", o.port, ".log"))) {
    *error = "cannot start kamailio";
    return false;
  }
  const absl::Time deadline = MonotonicNow() + absl::Seconds(10);
  while (MonotonicNow() < deadline) {
    if (AnswersOptions(o.port)) return true;
  }
  *error = absl::StrCat("kamailio (tls) on port ", o.port, " never answered OPTIONS; log:\n",
                        child.ReadLog());
  return false;
}

}  // namespace linebridge::sip::testing
