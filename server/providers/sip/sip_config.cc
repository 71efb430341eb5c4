#include "providers/sip/sip_config.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <set>

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "providers/sip/sip_phone_config.h"
#include "providers/sip/sip_tls.h"

namespace linebridge::sip {
namespace {

using v1::config::SipAccount;
using v1::config::SipConfig;

bool IsToken(const std::string& s) {
  if (s.empty() || s.size() > 32) return false;
  for (char c : s) {
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-')) return false;
  }
  return true;
}

// "sip:user@host[:port]" (or sips:) with a non-empty user and host, no spaces.
bool IsAccountUri(const std::string& uri) {
  const size_t scheme = absl::StartsWith(uri, "sips:") ? 5 : 4;
  if ((scheme == 4 && !absl::StartsWith(uri, "sip:")) || uri.size() > 256) return false;
  const std::string rest = uri.substr(scheme);
  const size_t at = rest.find('@');
  if (at == std::string::npos || at == 0 || at + 1 >= rest.size()) return false;
  for (char c : rest) {
    if (absl::ascii_isspace(static_cast<unsigned char>(c)) || c == '<' || c == '>' || c == '"') {
      return false;
    }
  }
  return true;
}

bool IsHostPort(const std::string& s) {
  std::string host;
  uint32_t port = 0;
  return SplitSipHostPort(s, &host, &port);
}

}  // namespace

bool SplitSipHostPort(const std::string& hostport, std::string* host, uint32_t* port) {
  *port = 0;
  std::string h = hostport;
  std::string p;
  if (absl::StartsWith(h, "[")) {
    const size_t close = h.find(']');
    if (close == std::string::npos) return false;
    const std::string after = h.substr(close + 1);
    h = h.substr(0, close + 1);
    if (!after.empty()) {
      if (after[0] != ':') return false;
      p = after.substr(1);
      if (p.empty()) return false;
    }
  } else if (const size_t colon = h.rfind(':'); colon != std::string::npos) {
    p = h.substr(colon + 1);
    h = h.substr(0, colon);
    if (p.empty()) return false;
  }
  if (h.empty() || h.size() > 253) return false;
  for (char c : h) {
    const bool ok = absl::ascii_isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '-' ||
                    c == '[' || c == ']' || c == ':';
    if (!ok) return false;
  }
  if (!p.empty()) {
    if (p.size() > 5 || !absl::SimpleAtoi(p, port) || *port == 0 || *port > 65535) return false;
    for (char c : p) {
      if (!absl::ascii_isdigit(static_cast<unsigned char>(c))) return false;
    }
  }
  *host = h;
  return true;
}

void ApplySipDefaults(SipConfig* sip) {
  if (sip->name().empty()) sip->set_name(kDefaultSipName);
  if (sip->bind_address().empty()) sip->set_bind_address(kDefaultSipBindAddress);
  for (SipAccount& a : *sip->mutable_accounts()) {
    if (a.transport() == v1::config::SIP_TRANSPORT_UNSPECIFIED) {
      a.set_transport(IsSipsUri(a.uri()) ? v1::config::SIP_TRANSPORT_TLS
                                         : v1::config::SIP_TRANSPORT_UDP);
    }
    if (a.register_expiry_s() == 0) a.set_register_expiry_s(kDefaultRegisterExpiryS);
    if (a.register_retry_s() == 0) a.set_register_retry_s(kDefaultRegisterRetryS);
  }
  ApplySipPhoneDefaults(sip);
}

std::string ValidateSipConfig(const SipConfig& sip, const std::string& path,
                              const ConfigErrorFn& error) {
  if (!IsToken(sip.name())) {
    error(path + ".name", absl::StrFormat("invalid sip provider name \"%s\": want 1-32 of "
                                          "[a-z0-9_-]",
                                          absl::CEscape(sip.name())));
  }
  in_addr v4{};
  if (::inet_pton(AF_INET, sip.bind_address().c_str(), &v4) != 1) {
    error(path + ".bind_address", absl::StrFormat("\"%s\" is not an IPv4 address",
                                                  absl::CEscape(sip.bind_address())));
  }
  if (sip.accounts_size() == 0) error(path + ".accounts", "a sip provider needs at least one account");
  std::set<std::string> names;
  std::set<std::string> uris;
  std::set<uint32_t> ports;
  for (int i = 0; i < sip.accounts_size(); ++i) {
    const SipAccount& a = sip.accounts(i);
    const std::string ap = absl::StrCat(path, ".accounts[", i, "]");
    if (!IsToken(a.name())) {
      error(ap + ".name", absl::StrFormat("invalid account name \"%s\": want 1-32 of [a-z0-9_-]",
                                          absl::CEscape(a.name())));
    } else if (!names.insert(a.name()).second) {
      error(ap + ".name", absl::StrFormat("duplicate account name \"%s\"", a.name()));
    }
    if (!IsAccountUri(a.uri())) {
      error(ap + ".uri", absl::StrFormat("\"%s\" is not a sip[s]:user@host[:port] address",
                                         absl::CEscape(a.uri())));
    } else if (!uris.insert(a.uri()).second) {
      error(ap + ".uri", absl::StrFormat("duplicate account uri \"%s\"", a.uri()));
    }
    if (a.display_name().size() > 64 || absl::StrContains(a.display_name(), "\"") ||
        absl::StrContains(a.display_name(), "\n")) {
      error(ap + ".display_name", "at most 64 bytes, no quotes or line breaks");
    }
    if (!a.registrar().empty() && !IsHostPort(a.registrar())) {
      error(ap + ".registrar",
            absl::StrFormat("\"%s\" is not host[:port]", absl::CEscape(a.registrar())));
    }
    if (!a.backup_registrar().empty()) {
      if (a.registrar().empty()) {
        error(ap + ".backup_registrar", "set without registrar");
      } else if (!IsHostPort(a.backup_registrar())) {
        error(ap + ".backup_registrar",
              absl::StrFormat("\"%s\" is not host[:port]", absl::CEscape(a.backup_registrar())));
      }
    }
    if (!a.outbound_proxy().empty() && !IsHostPort(a.outbound_proxy())) {
      error(ap + ".outbound_proxy",
            absl::StrFormat("\"%s\" is not host[:port]", absl::CEscape(a.outbound_proxy())));
    }
    if (!a.password_file().empty() && !a.password_env().empty()) {
      error(ap + ".password_env", "set together with password_file (set one)");
    }
    const bool has_secret = !a.password_file().empty() || !a.password_env().empty();
    if (!a.auth_user().empty() && !has_secret) {
      error(ap + ".auth_user", "set without password_file or password_env");
    }
    if (has_secret && a.auth_user().empty()) {
      error(ap + ".auth_user", "a password is configured but no auth_user");
    }
    if (!a.password_file().empty()) {
      if (!absl::StartsWith(a.password_file(), "/")) {
        error(ap + ".password_file", absl::StrFormat("\"%s\" is not an absolute path",
                                                     absl::CEscape(a.password_file())));
      } else if (::access(a.password_file().c_str(), R_OK) != 0) {
        error(ap + ".password_file", absl::StrFormat("cannot read \"%s\": %s",
                                                     absl::CEscape(a.password_file()),
                                                     std::strerror(errno)));
      }
    }
    if (!a.password_env().empty() && std::getenv(a.password_env().c_str()) == nullptr) {
      error(ap + ".password_env",
            absl::StrFormat("environment variable %s is not set", a.password_env()));
    }
    if (!v1::config::SipTransport_IsValid(a.transport())) {
      error(ap + ".transport", absl::StrFormat("unknown transport %d", a.transport()));
    }
    if (a.local_port() > 65535) {
      error(ap + ".local_port", absl::StrFormat("%u out of range 0..65535", a.local_port()));
    } else if (a.local_port() != 0 && !ports.insert(a.local_port()).second) {
      error(ap + ".local_port", absl::StrFormat("port %u is another account's", a.local_port()));
    }
    if (a.register_expiry_s() < 5 || a.register_expiry_s() > 86400) {
      error(ap + ".register_expiry_s",
            absl::StrFormat("%u out of range [5, 86400]", a.register_expiry_s()));
    }
    if (a.register_retry_s() < 1 || a.register_retry_s() > 3600) {
      error(ap + ".register_retry_s",
            absl::StrFormat("%u out of range [1, 3600]", a.register_retry_s()));
    }
    if (a.session_expires_s() != 0 &&
        (a.session_expires_s() < 2 || a.session_expires_s() > 86400)) {
      error(ap + ".session_expires_s",
            absl::StrFormat("%u out of range [2, 86400] (0 = off)", a.session_expires_s()));
    }
  }
  ValidateSipTls(sip, path, error);
  ValidateSipPhones(sip, path, error);
  ValidateSipPbxControl(sip, path, error);
  return sip.name();
}

ProviderConfigHooks SipConfigHooks() {
  ProviderConfigHooks hooks;
  hooks.apply_defaults = [](v1::config::ProviderConfig* p) {
    if (p->has_sip()) ApplySipDefaults(p->mutable_sip());
  };
  hooks.validate = [](const v1::config::ProviderConfig& p, const std::string& path,
                      const ConfigErrorFn& error) { return ValidateSipConfig(p.sip(), path, error); };
  return hooks;
}

absl::StatusOr<std::string> ReadAccountPassword(const SipAccount& account) {
  if (!account.password_env().empty()) {
    const char* v = std::getenv(account.password_env().c_str());
    if (v == nullptr) {
      return absl::FailedPreconditionError(absl::StrCat(
          "account ", account.name(), ": environment variable ", account.password_env(),
          " is not set"));
    }
    return std::string(v);
  }
  if (account.password_file().empty()) return std::string();
  const int fd = ::open(account.password_file().c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    return absl::FailedPreconditionError(absl::StrCat("account ", account.name(),
                                                      ": cannot read password_file ",
                                                      account.password_file(), ": ",
                                                      std::strerror(errno)));
  }
  std::string text;
  char buf[512];
  for (;;) {
    const ssize_t n = ::read(fd, buf, sizeof(buf));
    if (n <= 0 || text.size() > 4096) break;
    text.append(buf, static_cast<size_t>(n));
  }
  ::close(fd);
  const size_t nl = text.find_first_of("\r\n");
  if (nl != std::string::npos) text.resize(nl);
  return text;
}

}  // namespace linebridge::sip
