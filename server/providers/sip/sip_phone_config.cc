#include "providers/sip/sip_phone_config.h"

#include <arpa/inet.h>

#include <set>

#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "providers/sip/sip_config.h"

namespace linebridge::sip {
namespace {

using v1::config::SipPhone;

bool IsToken(const std::string& s) {
  if (s.empty() || s.size() > 32) return false;
  for (char c : s) {
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-')) return false;
  }
  return true;
}

// "sip:user@host[:port]" with a non-empty user and host and no spaces,
// quotes or angle brackets.
bool IsAor(const std::string& uri) {
  if (!absl::StartsWith(uri, "sip:") || uri.size() > 256) return false;
  const std::string rest = uri.substr(4);
  const size_t at = rest.find('@');
  if (at == std::string::npos || at == 0 || at + 1 >= rest.size()) return false;
  for (char c : rest) {
    if (c <= ' ' || c == '<' || c == '>' || c == '"' || c == 0x7f) return false;
  }
  std::string host;
  uint32_t port = 0;
  return SplitSipHostPort(rest.substr(at + 1), &host, &port);
}

}  // namespace

void ApplySipPhoneDefaults(v1::config::SipConfig* sip) {
  for (SipPhone& p : *sip->mutable_phones()) {
    if (p.auto_answer_size() == 0) {
      p.add_auto_answer(v1::config::SIP_AUTO_ANSWER_CALL_INFO);
      p.add_auto_answer(v1::config::SIP_AUTO_ANSWER_ALERT_INFO);
    }
    if (p.subscribe_expiry_s() == 0) p.set_subscribe_expiry_s(kDefaultSubscribeExpiryS);
    if (p.answer_timeout_s() == 0) p.set_answer_timeout_s(kDefaultAnswerTimeoutS);
  }
  if (sip->has_pbx_control() && sip->pbx_control().timeout_ms() == 0) {
    sip->mutable_pbx_control()->set_timeout_ms(kDefaultPbxTimeoutMs);
  }
}

void ValidateSipPhones(const v1::config::SipConfig& sip, const std::string& path,
                       const ConfigErrorFn& error) {
  std::set<std::string> accounts;
  for (const auto& a : sip.accounts()) accounts.insert(a.name());
  std::set<std::string> names;
  std::set<std::string> uris;
  for (int i = 0; i < sip.phones_size(); ++i) {
    const SipPhone& p = sip.phones(i);
    const std::string pp = absl::StrCat(path, ".phones[", i, "]");
    if (!IsToken(p.name())) {
      error(pp + ".name", absl::StrFormat("invalid phone name \"%s\": want 1-32 of [a-z0-9_-]",
                                          absl::CEscape(p.name())));
    } else if (accounts.count(p.name()) > 0) {
      error(pp + ".name", absl::StrFormat("\"%s\" is an account's name (line ids must differ)",
                                          p.name()));
    } else if (!names.insert(p.name()).second) {
      error(pp + ".name", absl::StrFormat("duplicate phone name \"%s\"", p.name()));
    }
    if (!IsAor(p.uri())) {
      error(pp + ".uri", absl::StrFormat("\"%s\" is not a sip:user@host[:port] address",
                                         absl::CEscape(p.uri())));
    } else if (!uris.insert(p.uri()).second) {
      error(pp + ".uri", absl::StrFormat("duplicate phone uri \"%s\"", p.uri()));
    }
    if (p.display_name().size() > 64 || absl::StrContains(p.display_name(), "\"") ||
        absl::StrContains(p.display_name(), "\n")) {
      error(pp + ".display_name", "at most 64 bytes, no quotes or line breaks");
    }
    if (p.control_account().empty()) {
      error(pp + ".control_account", "required: the account that acts for the phone");
    } else if (accounts.count(p.control_account()) == 0) {
      error(pp + ".control_account",
            absl::StrFormat("no account named \"%s\"", absl::CEscape(p.control_account())));
    }
    if (!p.presence_server().empty()) {
      std::string host;
      uint32_t port = 0;
      if (!SplitSipHostPort(p.presence_server(), &host, &port)) {
        error(pp + ".presence_server",
              absl::StrFormat("\"%s\" is not host[:port]", absl::CEscape(p.presence_server())));
      }
    }
    std::set<int> hints;
    for (int h : p.auto_answer()) {
      if (!v1::config::SipAutoAnswer_IsValid(h) || h == v1::config::SIP_AUTO_ANSWER_UNSPECIFIED) {
        error(pp + ".auto_answer", absl::StrFormat("unknown auto-answer style %d", h));
      } else if (!hints.insert(h).second) {
        error(pp + ".auto_answer",
              absl::StrFormat("%s listed twice", v1::config::SipAutoAnswer_Name(h)));
      }
    }
    if (p.subscribe_expiry_s() < 5 || p.subscribe_expiry_s() > 86400) {
      error(pp + ".subscribe_expiry_s",
            absl::StrFormat("%u out of range [5, 86400]", p.subscribe_expiry_s()));
    }
    if (p.answer_timeout_s() < 2 || p.answer_timeout_s() > 300) {
      error(pp + ".answer_timeout_s",
            absl::StrFormat("%u out of range [2, 300]", p.answer_timeout_s()));
    }
  }
}

void ValidateSipPbxControl(const v1::config::SipConfig& sip, const std::string& path,
                           const ConfigErrorFn& error) {
  if (!sip.has_pbx_control()) return;
  const v1::config::SipPbxControl& c = sip.pbx_control();
  const std::string pp = absl::StrCat(path, ".pbx_control");
  const std::string& address = c.kamailio_jsonrpc();
  const size_t colon = address.rfind(':');
  uint32_t port = 0;
  in_addr ip{};
  if (address.empty()) {
    error(pp + ".kamailio_jsonrpc", "required: kamailio's jsonrpcs datagram socket, ipv4:port");
  } else if (colon == std::string::npos ||
             ::inet_pton(AF_INET, address.substr(0, colon).c_str(), &ip) != 1 ||
             !absl::SimpleAtoi(address.substr(colon + 1), &port) || port == 0 || port > 65535) {
    error(pp + ".kamailio_jsonrpc",
          absl::StrFormat("\"%s\" is not ipv4:port", absl::CEscape(address)));
  }
  if (c.timeout_ms() < 100 || c.timeout_ms() > 10000) {
    error(pp + ".timeout_ms", absl::StrFormat("%u out of range [100, 10000]", c.timeout_ms()));
  }
}

std::string PresenceServerOf(const v1::config::SipPhone& phone,
                             const v1::config::SipAccount& control) {
  if (!phone.presence_server().empty()) return phone.presence_server();
  if (!control.outbound_proxy().empty()) return control.outbound_proxy();
  if (!control.registrar().empty()) return control.registrar();
  const size_t at = phone.uri().find('@');
  return at == std::string::npos ? std::string() : phone.uri().substr(at + 1);
}

}  // namespace linebridge::sip
