#include "tls_certs.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

namespace linebridge::itest {
namespace {

// Single-quoted for sh (the paths come from the test's temp dir).
std::string Quote(const std::string& s) {
  std::string out = "'";
  for (char c : s) {
    if (c == '\'') {
      out += "'\\''";
    } else {
      out += c;
    }
  }
  return out + "'";
}

bool WriteText(const std::string& path, const std::string& text) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << text;
  out.close();
  return out.good();
}

std::string ReadText(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream buffer;
  buffer << in.rdbuf();
  return buffer.str();
}

}  // namespace

bool OpensslAvailable() { return std::system("openssl version >/dev/null 2>&1") == 0; }

std::unique_ptr<TestPki> TestPki::Create(const std::string& dir) {
  if (!OpensslAvailable()) {
    ADD_FAILURE() << "the `openssl` command line tool is not installed; the TLS tests make "
                     "their certificates with it (apt-get install openssl, or run "
                     "scripts/bootstrap.sh)";
    return nullptr;
  }
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) {
    ADD_FAILURE() << "cannot create " << dir << ": " << ec.message();
    return nullptr;
  }
  return std::unique_ptr<TestPki>(new TestPki(dir));
}

bool TestPki::Run(const std::string& command) {
  const std::string log = absl::StrCat(dir_, "/openssl-", ++runs_, ".log");
  const int status = std::system(absl::StrCat(command, " >", Quote(log), " 2>&1").c_str());
  if (status != 0) {
    ADD_FAILURE() << "command failed (status " << status << "): " << command << "\n"
                  << ReadText(log);
    return false;
  }
  return true;
}

bool TestPki::MakeCa(const std::string& name) {
  // A config of our own: independent of the system's openssl.cnf. It also
  // serves `openssl ca` for the certificates this CA signs.
  const std::string cnf = absl::StrCat(dir_, "/", name, ".cnf");
  const std::string text = absl::StrCat(
      "[ req ]\n"
      "distinguished_name = dn\n"
      "[ dn ]\n"
      "[ v3_ca ]\n"
      "basicConstraints = critical, CA:TRUE\n"
      "keyUsage = critical, keyCertSign, cRLSign\n"
      "subjectKeyIdentifier = hash\n"
      "[ ca ]\n"
      "default_ca = this_ca\n"
      "[ this_ca ]\n"
      "database = ",
      dir_, "/", name, ".index\n", "new_certs_dir = ", dir_, "/", name, ".issued\n",
      "certificate = ", CertPath(name), "\n", "private_key = ", KeyPath(name), "\n",
      "rand_serial = yes\n"
      "default_md = sha256\n"
      "policy = any_name\n"
      "unique_subject = no\n"
      "email_in_dn = no\n"
      "[ any_name ]\n"
      "commonName = supplied\n");
  std::error_code ec;
  std::filesystem::create_directories(absl::StrCat(dir_, "/", name, ".issued"), ec);
  if (!WriteText(cnf, text) || !WriteText(absl::StrCat(dir_, "/", name, ".index"), "")) {
    ADD_FAILURE() << "cannot write " << cnf;
    return false;
  }
  return Run(absl::StrCat("openssl req -x509 -new -config ", Quote(cnf),
                          " -extensions v3_ca -newkey ec -pkeyopt ec_paramgen_curve:prime256v1"
                          " -nodes -days 3650 -subj ",
                          Quote("/CN=" + name), " -keyout ", Quote(KeyPath(name)), " -out ",
                          Quote(CertPath(name))));
}

bool TestPki::MakeCert(const std::string& name, const CertOptions& options) {
  const std::string csr = absl::StrCat(dir_, "/", name, ".csr");
  const std::string ext = absl::StrCat(dir_, "/", name, ".ext");
  const std::string ca_cnf = absl::StrCat(dir_, "/", options.ca, ".cnf");
  std::vector<std::string> san;
  for (const std::string& d : options.dns) san.push_back("DNS:" + d);
  for (const std::string& ip : options.ips) san.push_back("IP:" + ip);
  std::string extensions =
      "basicConstraints = CA:FALSE\n"
      "keyUsage = critical, digitalSignature, keyEncipherment\n"
      "extendedKeyUsage = serverAuth, clientAuth\n"
      "subjectKeyIdentifier = hash\n"
      "authorityKeyIdentifier = keyid\n";
  if (!san.empty())
    absl::StrAppend(&extensions, "subjectAltName = ", absl::StrJoin(san, ", "), "\n");
  if (!WriteText(ext, extensions)) {
    ADD_FAILURE() << "cannot write " << ext;
    return false;
  }
  const std::string cn = options.common_name.empty() ? name : options.common_name;
  if (!Run(absl::StrCat("openssl req -new -config ", Quote(ca_cnf),
                        " -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -subj ",
                        Quote("/CN=" + cn), " -keyout ", Quote(KeyPath(name)), " -out ",
                        Quote(csr)))) {
    return false;
  }
  std::string validity = absl::StrCat(" -days ", options.days);
  if (!options.not_before.empty() || !options.not_after.empty()) {
    validity = absl::StrCat(" -startdate ", options.not_before, " -enddate ", options.not_after);
  }
  return Run(absl::StrCat("openssl ca -batch -notext -config ", Quote(ca_cnf), " -extfile ",
                          Quote(ext), validity, " -in ", Quote(csr), " -out ",
                          Quote(CertPath(name))));
}

bool ReplaceFileAtomically(const std::string& from, const std::string& to) {
  const std::string tmp = to + ".new";
  std::error_code ec;
  std::filesystem::copy_file(from, tmp, std::filesystem::copy_options::overwrite_existing, ec);
  if (!ec) std::filesystem::rename(tmp, to, ec);
  if (ec) {
    ADD_FAILURE() << "cannot replace " << to << " with " << from << ": " << ec.message();
    return false;
  }
  return true;
}

}  // namespace linebridge::itest
