// Certificates for TLS tests, made at test time with the `openssl` command
// line tool (scripts/bootstrap.sh installs it) in a private directory: CAs,
// server and client certificates signed by them, expired ones.
//
//   auto pki = TestPki::Create(NewTempDir("pki"));   // nullptr + test failure
//   pki->MakeCa("ca");                               // without openssl
//   pki->MakeCert("server", {.ca = "ca", .dns = {"localhost"}, .ips = {"127.0.0.1"}});
//   pki->CertPath("server"), pki->KeyPath("server"), pki->CertPath("ca")
//
// Keys are EC P-256, PEM, unencrypted. Every failure is reported with
// ADD_FAILURE (the command and openssl's output) and returns false.
#pragma once

#include <memory>
#include <string>
#include <vector>

namespace linebridge::itest {

// Whether `openssl version` runs.
bool OpensslAvailable();

class TestPki {
 public:
  // Certificates go to `dir` (created if missing). Without openssl: a test
  // failure that says so, and nullptr.
  static std::unique_ptr<TestPki> Create(const std::string& dir);

  // A self-signed CA "CN=<name>" (10 years): CertPath(name), KeyPath(name).
  bool MakeCa(const std::string& name);

  struct CertOptions {
    std::string ca;                // the issuing CA (MakeCa name)
    std::string common_name;       // default: the certificate's name
    std::vector<std::string> dns;  // subjectAltName DNS entries
    std::vector<std::string> ips;  // subjectAltName IP entries
    // Validity: `days` from now, or the fixed window not_before .. not_after
    // ("YYYYMMDDHHMMSSZ", e.g. an expired "20200101000000Z" .. "20200102000000Z").
    int days = 2;
    std::string not_before;
    std::string not_after;
  };
  // A leaf certificate (extendedKeyUsage serverAuth + clientAuth) signed by
  // options.ca: CertPath(name), KeyPath(name).
  bool MakeCert(const std::string& name, const CertOptions& options);

  std::string CertPath(const std::string& name) const { return dir_ + "/" + name + ".pem"; }
  std::string KeyPath(const std::string& name) const { return dir_ + "/" + name + ".key"; }
  const std::string& dir() const { return dir_; }

 private:
  explicit TestPki(std::string dir) : dir_(std::move(dir)) {}
  // Runs a shell command, output to a log; on failure ADD_FAILURE with both.
  bool Run(const std::string& command);

  std::string dir_;
  int runs_ = 0;
};

// Writes `from` over `to` atomically (a temp file in the same directory, then
// rename), as a certificate renewal should.
bool ReplaceFileAtomically(const std::string& from, const std::string& to);

}  // namespace linebridge::itest
