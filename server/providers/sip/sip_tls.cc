#include "providers/sip/sip_tls.h"

#include <fcntl.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <sofia-sip/su_log.h>
#include <sofia-sip/tport_tag.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdarg>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <map>
#include <mutex>
#include <sstream>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/strip.h"
#include "absl/synchronization/mutex.h"
#include "core/log.h"

extern "C" {
extern su_log_t tport_log[];  // sofia-sip's transport log (libsofia-sip-ua)
}

namespace linebridge::sip {
namespace {

using v1::config::SipAccount;
using v1::config::SipConfig;
using v1::config::SipTls;

// The OpenSSL error queue's last reason, cleared.
std::string SslError() {
  unsigned long last = 0;
  for (unsigned long e = ERR_get_error(); e != 0; e = ERR_get_error()) last = e;
  if (last == 0) return "not PEM";
  const char* r = ERR_reason_error_string(last);
  return r != nullptr ? std::string(r) : absl::StrCat("OpenSSL error ", last);
}

// Opens `file` for reading or says why not.
FILE* OpenPem(const std::string& file, std::string* why) {
  if (!absl::StartsWith(file, "/")) {
    *why = absl::StrFormat("\"%s\" is not an absolute path", absl::CEscape(file));
    return nullptr;
  }
  FILE* f = std::fopen(file.c_str(), "re");
  if (f == nullptr) {
    *why = absl::StrFormat("cannot read \"%s\": %s", absl::CEscape(file), std::strerror(errno));
  }
  return f;
}

// Checks the CA file holds at least one certificate.
std::string CheckCaFile(const std::string& file) {
  std::string why;
  FILE* f = OpenPem(file, &why);
  if (f == nullptr) return why;
  int n = 0;
  while (X509* x = PEM_read_X509(f, nullptr, nullptr, nullptr)) {
    X509_free(x);
    ++n;
  }
  std::fclose(f);
  ERR_clear_error();
  if (n == 0) return absl::StrFormat("\"%s\" holds no PEM certificate", absl::CEscape(file));
  return "";
}

// Checks the certificate and key files and that they belong together.
void CheckCertAndKey(const SipTls& tls, const std::string& tp, const ConfigErrorFn& error) {
  std::string why;
  X509* cert = nullptr;
  if (FILE* f = OpenPem(tls.cert_file(), &why); f != nullptr) {
    cert = PEM_read_X509(f, nullptr, nullptr, nullptr);
    std::fclose(f);
    if (cert == nullptr) {
      why = absl::StrFormat("\"%s\" holds no PEM certificate (%s)", absl::CEscape(tls.cert_file()),
                            SslError());
    }
  }
  if (cert == nullptr) error(tp + ".cert_file", why);
  EVP_PKEY* key = nullptr;
  if (FILE* f = OpenPem(tls.key_file(), &why); f != nullptr) {
    key = PEM_read_PrivateKey(f, nullptr, nullptr, nullptr);
    std::fclose(f);
    if (key == nullptr) {
      why = absl::StrFormat("\"%s\" holds no unencrypted PEM private key (%s)",
                            absl::CEscape(tls.key_file()), SslError());
    }
  }
  if (key == nullptr) error(tp + ".key_file", why);
  if (cert != nullptr && key != nullptr && X509_check_private_key(cert, key) != 1) {
    error(tp + ".key_file", absl::StrFormat("\"%s\" is not the key of cert_file \"%s\"",
                                            absl::CEscape(tls.key_file()),
                                            absl::CEscape(tls.cert_file())));
  }
  ERR_clear_error();
  X509_free(cert);
  EVP_PKEY_free(key);
}

bool ReadFile(const std::string& file, std::string* out) {
  std::ifstream in(file, std::ios::binary);
  if (!in) return false;
  std::ostringstream s;
  s << in.rdbuf();
  *out = s.str();
  return !in.bad();
}

bool WritePrivate(const std::string& file, const std::string& text) {
  const int fd = ::open(file.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0) return false;
  size_t done = 0;
  while (done < text.size()) {
    const ssize_t n = ::write(fd, text.data() + done, text.size() - done);
    if (n <= 0) break;
    done += static_cast<size_t>(n);
  }
  ::close(fd);
  return done == text.size();
}

// --- sofia-sip's transport log --------------------------------------------

absl::Mutex tls_mu;
std::string tls_failure ABSL_GUARDED_BY(tls_mu);     // the last one reported
std::string tls_pending ABSL_GUARDED_BY(tls_mu);     // a certificate error being read

absl::Mutex listeners_mu;
std::map<int, std::function<void()>> listeners ABSL_GUARDED_BY(listeners_mu);
int next_listener ABSL_GUARDED_BY(listeners_mu) = 1;

// One line of sofia-sip's TLS messages (tport_tls.c) into the failure text;
// true when it completed a failure.
bool NoteTlsLine(const std::string& line) {
  absl::MutexLock lock(&tls_mu);
  const std::string before = tls_failure;
  const size_t subject = line.find("subject  = ");
  const size_t issuer = line.find("issuer   = ");
  const size_t mismatch = line.find("Peer Subject Mismatch (");
  const size_t setup = line.find("TLS setup failed (");
  if (absl::StrContains(line, "Error with certificate at depth")) {
    tls_pending = "the server's certificate is not trusted";
  } else if (issuer != std::string::npos && !tls_pending.empty()) {
    absl::StrAppend(&tls_pending, " (issuer ", line.substr(issuer + 11));
  } else if (subject != std::string::npos && !tls_pending.empty()) {
    absl::StrAppend(&tls_pending, absl::StrContains(tls_pending, "(issuer ") ? ", " : " (",
                    "subject ", line.substr(subject + 11), ")");
  } else if (absl::StartsWith(absl::StripLeadingAsciiWhitespace(line), "err ") &&
             !tls_pending.empty()) {
    const size_t colon = line.find(':');
    absl::StrAppend(&tls_pending, ": ", colon == std::string::npos ? line : line.substr(colon + 1));
    tls_failure = tls_pending;
    tls_pending.clear();
  } else if (mismatch != std::string::npos) {
    std::string host = line.substr(mismatch + 23);
    if (!host.empty() && host.back() == ')') host.pop_back();
    tls_failure = absl::StrCat("the server's certificate does not name ", host);
  } else if (setup != std::string::npos) {
    std::string what = line.substr(setup + 18);
    if (!what.empty() && what.back() == ')') what.pop_back();
    // sofia prints SSL_get_error()'s code as if it were a queue error
    // ("error:00000001:lib(0)::reason(1)"): nothing to tell from it.
    tls_failure = absl::StrContains(what, "lib(0)")
                      ? std::string("the TLS handshake failed (no TLS version, cipher or "
                                    "signature algorithm in common with the server?)")
                      : absl::StrCat("the TLS handshake failed (", what, ")");
  } else if (absl::StrContains(line, "Peer did not provide X.509")) {
    tls_failure = "the server sent no certificate";
  }
  return tls_failure != before && !tls_failure.empty();
}

void OnTportLog(void*, char const* fmt, va_list ap) {
  char buf[1024];
  std::vsnprintf(buf, sizeof(buf), fmt, ap);
  std::string line(absl::StripTrailingAsciiWhitespace(buf));
  if (line.empty()) return;
  const bool failed = NoteTlsLine(line);
  if (absl::StartsWith(line, "tls_init_context")) {
    // Setting up a TLS transport without a certificate (none configured):
    // sofia complains of the missing agent.pem at length. A configured one
    // was checked when the configuration was loaded.
    LB_DEBUG("sip: sofia tport: %s", line);
  } else {
    LB_LOG("sip: sofia tport: %s", line);
  }
  if (failed) {
    absl::MutexLock lock(&listeners_mu);
    for (auto& [id, fn] : listeners) fn();
  }
}

}  // namespace

bool IsSipsUri(const std::string& uri) { return absl::StartsWithIgnoreCase(uri, "sips:"); }

bool UsesTls(const SipAccount& account) {
  return account.transport() == v1::config::SIP_TRANSPORT_TLS || IsSipsUri(account.uri());
}

bool VerifiesServer(const SipTls& tls) { return !tls.has_verify_server() || tls.verify_server(); }

void ValidateSipTls(const SipConfig& sip, const std::string& path, const ConfigErrorFn& error) {
  bool any = false;
  for (int i = 0; i < sip.accounts_size(); ++i) {
    const SipAccount& a = sip.accounts(i);
    if (IsSipsUri(a.uri()) && a.transport() != v1::config::SIP_TRANSPORT_TLS &&
        a.transport() != v1::config::SIP_TRANSPORT_UNSPECIFIED) {
      error(absl::StrCat(path, ".accounts[", i, "].transport"),
            "a sips: account uri needs transport SIP_TRANSPORT_TLS");
    }
    any = any || UsesTls(a);
  }
  const SipTls& tls = sip.tls();
  const std::string tp = path + ".tls";
  if (!tls.ca_file().empty()) {
    if (std::string why = CheckCaFile(tls.ca_file()); !why.empty()) error(tp + ".ca_file", why);
  } else if (any && VerifiesServer(tls)) {
    error(tp + ".ca_file",
          "an account uses TLS: set the authorities that sign the server's certificate "
          "(or verify_server: false)");
  }
  if (tls.cert_file().empty() != tls.key_file().empty()) {
    error(tls.cert_file().empty() ? tp + ".cert_file" : tp + ".key_file",
          "set cert_file and key_file together");
  } else if (!tls.cert_file().empty()) {
    CheckCertAndKey(tls, tp, error);
  }
}

std::string ServerUri(const SipAccount& c, const std::string& hostport) {
  if (IsSipsUri(c.uri())) return absl::StrCat("sips:", hostport);
  const char* t = c.transport() == v1::config::SIP_TRANSPORT_TLS   ? "tls"
                  : c.transport() == v1::config::SIP_TRANSPORT_TCP ? "tcp"
                                                                   : "udp";
  return absl::StrCat("sip:", hostport, ";transport=", t);
}

std::string TlsTarget(const std::string& uri, bool sips_account) {
  if (IsSipsUri(uri) || !absl::StartsWithIgnoreCase(uri, "sip:")) return uri;
  if (sips_account) return absl::StrCat("sips:", uri.substr(4));
  if (absl::StrContains(absl::AsciiStrToLower(uri), ";transport=")) return uri;
  const size_t headers = uri.find('?');
  if (headers == std::string::npos) return absl::StrCat(uri, ";transport=tls");
  return absl::StrCat(uri.substr(0, headers), ";transport=tls", uri.substr(headers));
}

absl::StatusOr<std::string> MakeTlsDir(const SipTls& tls) {
  const char* tmp = std::getenv("TMPDIR");
  std::string tmpl = absl::StrCat(tmp != nullptr && *tmp != '\0' ? tmp : "/tmp",
                                  "/linebridged-sip-tls-XXXXXX");
  if (::mkdtemp(tmpl.data()) == nullptr) {
    return absl::UnavailableError(
        absl::StrCat("sip tls: cannot create a directory for the certificates: ",
                     std::strerror(errno)));
  }
  const std::string dir = tmpl;
  std::string ca;
  std::string cert;
  std::string key;
  std::string failed;
  if (!tls.ca_file().empty() && !ReadFile(tls.ca_file(), &ca)) {
    failed = absl::StrCat("cannot read ca_file ", tls.ca_file(), ": ", std::strerror(errno));
  } else if (!tls.cert_file().empty() && !ReadFile(tls.cert_file(), &cert)) {
    failed = absl::StrCat("cannot read cert_file ", tls.cert_file(), ": ", std::strerror(errno));
  } else if (!tls.key_file().empty() && !ReadFile(tls.key_file(), &key)) {
    failed = absl::StrCat("cannot read key_file ", tls.key_file(), ": ", std::strerror(errno));
  } else if (!ca.empty() && !WritePrivate(dir + "/cafile.pem", ca)) {
    failed = absl::StrCat("cannot write ", dir, "/cafile.pem");
  } else if (!cert.empty() &&
             !WritePrivate(dir + "/agent.pem", absl::StrCat(cert, "\n", key))) {
    failed = absl::StrCat("cannot write ", dir, "/agent.pem");
  }
  if (!failed.empty()) {
    RemoveTlsDir(dir);
    return absl::FailedPreconditionError(absl::StrCat("sip tls: ", failed));
  }
  return dir;
}

void RemoveTlsDir(const std::string& dir) {
  if (dir.empty()) return;
  for (const char* f : {"/agent.pem", "/cafile.pem"}) ::unlink((dir + f).c_str());
  ::rmdir(dir.c_str());
}

absl::StatusOr<TlsSetup> PrepareTls(const SipAccount& account, const SipTls& tls) {
  TlsSetup setup;
  if (!UsesTls(account)) return setup;
  CaptureTlsLog();
  absl::StatusOr<std::string> dir = MakeTlsDir(tls);
  if (!dir.ok()) return dir.status();
  setup.on = true;
  setup.dir = *dir;
  setup.policy = VerifiesServer(tls) ? TPTLS_VERIFY_SUBJECTS_OUT : TPTLS_VERIFY_NONE;
  return setup;
}

void CaptureTlsLog() {
  static std::once_flag once;
  std::call_once(once, [] {
    su_log_redirect(tport_log, &OnTportLog, nullptr);
    // Certificate and handshake errors are logged at level 3.
    if (std::getenv("TPORT_DEBUG") == nullptr) su_log_set_level(tport_log, 3);
  });
}

int AddTlsFailureListener(std::function<void()> fn) {
  absl::MutexLock lock(&listeners_mu);
  const int id = next_listener++;
  listeners[id] = std::move(fn);
  return id;
}

void RemoveTlsFailureListener(int id) {
  absl::MutexLock lock(&listeners_mu);
  listeners.erase(id);
}

std::string TakeTlsFailure() {
  absl::MutexLock lock(&tls_mu);
  std::string out;
  out.swap(tls_failure);
  return out;
}

}  // namespace linebridge::sip
