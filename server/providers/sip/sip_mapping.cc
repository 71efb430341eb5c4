#include "providers/sip/sip_mapping.h"

#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"

namespace linebridge::sip {

v1::DisconnectMode DisconnectModeForStatus(int status) {
  switch (status) {
    case 486:
    case 600:
      return v1::DISCONNECT_MODE_BUSY;
    case 404:
    case 484:
    case 604:
      return v1::DISCONNECT_MODE_BADADDRESS;
    case 480:
    case 408:
      return v1::DISCONNECT_MODE_NOANSWER;
    case 603:
      return v1::DISCONNECT_MODE_REJECT;
    case 503:
      return v1::DISCONNECT_MODE_CONGESTION;
    case 488:
    case 606:
    case 415:
      return v1::DISCONNECT_MODE_INCOMPATIBLE;
    case 410:
      return v1::DISCONNECT_MODE_NUMBERCHANGED;
    case 403:
      return v1::DISCONNECT_MODE_BLOCKED;
    case 487:
      return v1::DISCONNECT_MODE_CANCELLED;
    default:
      break;
  }
  if (status >= 500 && status < 600) return v1::DISCONNECT_MODE_UNAVAIL;
  return v1::DISCONNECT_MODE_UNKNOWN;
}

v1::PartyId PartyFromIdentity(const std::string& display, const std::string& user,
                              const std::string& host) {
  v1::PartyId p;
  std::string name(absl::StripAsciiWhitespace(display));
  if (name.size() >= 2 && name.front() == '"' && name.back() == '"') {
    name = name.substr(1, name.size() - 2);
  }
  p.set_name(name);
  p.set_number(!user.empty() ? user : host);
  p.set_available(!p.number().empty() || !p.name().empty());
  if (absl::EqualsIgnoreCase(p.number(), "anonymous") ||
      absl::EqualsIgnoreCase(p.name(), "anonymous")) {
    p.set_blocked(true);
    p.set_available(false);
    p.clear_number();
    p.clear_name();
  }
  return p;
}

std::string DestinationUri(const std::string& dial, const std::string& default_host) {
  std::string d(absl::StripAsciiWhitespace(dial));
  if (absl::StartsWithIgnoreCase(d, "sip:") || absl::StartsWithIgnoreCase(d, "sips:")) {
    return d.find_first_of(" \t<>\"") == std::string::npos && d.size() > 4 ? d : "";
  }
  if (absl::StrContains(d, "@")) {
    return d.find_first_of(" \t<>\"") == std::string::npos ? absl::StrCat("sip:", d) : "";
  }
  std::string digits;
  for (char c : d) {
    if (absl::ascii_isalnum(static_cast<unsigned char>(c)) || c == '*' || c == '#' || c == '+') {
      digits.push_back(c);
    }
    // Separators people type in numbers (space, -, (, ), .) are dropped.
  }
  if (digits.empty() || default_host.empty()) return "";
  // '#' must be escaped in a URI user part.
  std::string user;
  for (char c : digits) {
    if (c == '#') {
      user += "%23";
    } else {
      user.push_back(c);
    }
  }
  return absl::StrCat("sip:", user, "@", default_host);
}

std::string LocalSdp(const std::string& address, int port) {
  return absl::StrCat("v=0\r\n", "c=IN IP4 ", address, "\r\n", "m=audio ", port,
                      " RTP/AVP 0 8\r\n", "a=rtpmap:0 PCMU/8000\r\n", "a=rtpmap:8 PCMA/8000\r\n",
                      "a=ptime:20\r\n");
}

namespace {

// An SDP connection address (RFC 4566 section 5.7, RFC 8866 section 5.7): an
// IPv4 or IPv6 literal or a host name. Anything else — a control character,
// a quote, a space smuggled in — is not an address to send RTP to.
bool IsSdpAddress(absl::string_view a) {
  if (a.empty() || a.size() > 255) return false;
  for (const char c : a) {
    if (!absl::ascii_isalnum(static_cast<unsigned char>(c)) && c != '.' && c != ':' &&
        c != '-' && c != '_') {
      return false;
    }
  }
  return true;
}

}  // namespace

bool ParseSdpAudio(const std::string& sdp, SdpAudio* out) {
  std::string session_address;
  std::string media_address;
  bool in_audio = false;
  bool found = false;
  // Lines end in CRLF; a bare LF is tolerated, and a bare CR ends a line too,
  // so no CR ever stays inside a field.
  for (absl::string_view line :
       absl::StrSplit(sdp, absl::ByAnyChar("\r\n"), absl::SkipEmpty())) {
    line = absl::StripAsciiWhitespace(line);
    if (absl::StartsWith(line, "m=")) {
      if (found) break;  // only the first audio stream
      std::vector<absl::string_view> f =
          absl::StrSplit(line.substr(2), absl::ByAnyChar(" \t"), absl::SkipEmpty());
      in_audio = f.size() >= 4 && f[0] == "audio";
      if (!in_audio) continue;
      // <port>[/<number of ports>]
      absl::string_view port_field = f[1];
      if (const size_t slash = port_field.find('/'); slash != absl::string_view::npos) {
        port_field = port_field.substr(0, slash);
      }
      int port = 0;
      if (!absl::SimpleAtoi(port_field, &port) || port < 0 || port > 65535) return false;
      out->port = port;
      out->payload_type = -1;
      for (size_t i = 3; i < f.size(); ++i) {
        int pt = -1;
        if (absl::SimpleAtoi(f[i], &pt) && (pt == 0 || pt == 8)) {
          out->payload_type = pt;
          break;
        }
      }
      found = true;
    } else if (absl::StartsWith(line, "c=")) {
      std::vector<absl::string_view> f =
          absl::StrSplit(line.substr(2), absl::ByAnyChar(" \t"), absl::SkipEmpty());
      if (f.size() < 3) continue;
      absl::string_view addr = f[2];
      if (const size_t slash = addr.find('/'); slash != absl::string_view::npos) {
        addr = addr.substr(0, slash);  // multicast TTL / count
      }
      if (!IsSdpAddress(addr)) continue;
      (in_audio ? media_address : session_address) = std::string(addr);
    }
  }
  if (!found) return false;
  out->address = !media_address.empty() ? media_address : session_address;
  return !out->address.empty();
}

}  // namespace linebridge::sip
