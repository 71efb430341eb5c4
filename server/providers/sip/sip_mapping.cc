#include "providers/sip/sip_mapping.h"

#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
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

namespace {

// '#' escaped for a URI's user part.
std::string EscapeHash(absl::string_view user) {
  return absl::StrReplaceAll(user, {{"#", "%23"}});
}

// A tel: URI (RFC 3966) as the SIP URI RFC 3261 section 19.1.6 gives for it:
// sip:<number>[;<params>]@<host>;user=phone. The number: digits, * and #,
// a leading + (global), visual separators (- . ( )) dropped; "" if it is
// anything else.
std::string TelToSip(absl::string_view tel, const std::string& host) {
  const size_t semi = tel.find(';');
  const absl::string_view number = tel.substr(0, semi);
  const absl::string_view params = semi == absl::string_view::npos ? "" : tel.substr(semi);
  std::string digits;
  for (size_t i = 0; i < number.size(); ++i) {
    const char c = number[i];
    if (absl::ascii_isdigit(static_cast<unsigned char>(c)) || c == '*' || c == '#' ||
        (c == '+' && i == 0)) {
      digits.push_back(c);
    } else if (c != '-' && c != '.' && c != '(' && c != ')') {
      return "";
    }
  }
  if (digits.empty() || digits == "+" || host.empty() ||
      params.find_first_of(" \t<>\"@") != absl::string_view::npos) {
    return "";
  }
  return absl::StrCat("sip:", EscapeHash(digits), EscapeHash(params), "@", host, ";user=phone");
}

}  // namespace

std::string DestinationUri(const std::string& dial, const std::string& default_host) {
  std::string d(absl::StripAsciiWhitespace(dial));
  if (absl::StartsWithIgnoreCase(d, "sip:") || absl::StartsWithIgnoreCase(d, "sips:")) {
    return d.find_first_of(" \t<>\"") == std::string::npos && d.size() > 4 ? d : "";
  }
  if (absl::StartsWithIgnoreCase(d, "tel:")) return TelToSip(absl::string_view(d).substr(4), default_host);
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
  return absl::StrCat("sip:", EscapeHash(digits), "@", default_host);
}

std::string LocalSdp(const std::string& address, int port) {
  return absl::StrCat("v=0\r\n", "c=IN IP4 ", address, "\r\n", "m=audio ", port,
                      " RTP/AVP 0 8 ", kTelephoneEventPayloadType, "\r\n", "a=rtpmap:0 PCMU/8000\r\n",
                      "a=rtpmap:8 PCMA/8000\r\n", "a=rtpmap:", kTelephoneEventPayloadType,
                      " telephone-event/8000\r\n", "a=fmtp:", kTelephoneEventPayloadType,
                      " 0-16\r\n", "a=ptime:20\r\n");
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
      out->telephone_event = -1;
      found = true;
    } else if (in_audio && absl::StartsWith(line, "a=rtpmap:")) {
      // a=rtpmap:<payload type> <encoding>/<clock rate>
      std::vector<absl::string_view> f =
          absl::StrSplit(line.substr(9), absl::ByAnyChar(" \t"), absl::SkipEmpty());
      int pt = -1;
      if (f.size() >= 2 && absl::SimpleAtoi(f[0], &pt) && pt >= 96 && pt <= 127 &&
          absl::StartsWithIgnoreCase(f[1], "telephone-event/8000") && out->telephone_event < 0) {
        out->telephone_event = pt;
      }
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

std::string DtmfFromInfo(absl::string_view content_type, absl::string_view body) {
  auto valid = [](char c) {
    return absl::ascii_isdigit(static_cast<unsigned char>(c)) || c == '*' || c == '#' ||
           (c >= 'A' && c <= 'D');
  };
  absl::string_view type = absl::StripAsciiWhitespace(content_type.substr(0, content_type.find(';')));
  std::string digits;
  if (absl::EqualsIgnoreCase(type, "application/dtmf-relay")) {
    for (absl::string_view line : absl::StrSplit(body, absl::ByAnyChar("\r\n"), absl::SkipEmpty())) {
      const size_t eq = line.find('=');
      if (eq == absl::string_view::npos) continue;
      if (!absl::EqualsIgnoreCase(absl::StripAsciiWhitespace(line.substr(0, eq)), "Signal")) continue;
      absl::string_view v = absl::StripAsciiWhitespace(line.substr(eq + 1));
      if (v.size() == 1) {
        const char c = absl::ascii_toupper(static_cast<unsigned char>(v[0]));
        if (valid(c)) digits.push_back(c);
      } else if (v == "10") {
        digits.push_back('*');
      } else if (v == "11") {
        digits.push_back('#');
      }
      break;
    }
  } else if (absl::EqualsIgnoreCase(type, "application/dtmf")) {
    absl::string_view v = absl::StripAsciiWhitespace(body);
    if (v.size() == 1) {
      const char c = absl::ascii_toupper(static_cast<unsigned char>(v[0]));
      if (valid(c)) digits.push_back(c);
    }
  }
  return digits;
}

int SipfragStatus(absl::string_view body) {
  body = absl::StripLeadingAsciiWhitespace(body);
  if (!absl::ConsumePrefix(&body, "SIP/2.0 ")) return -1;
  int status = 0;
  if (body.size() < 3 || !absl::SimpleAtoi(body.substr(0, 3), &status) || status < 100 ||
      status > 699) {
    return -1;
  }
  return status;
}

namespace {

// One entry of a comma-separated list of name-addr/addr-spec values (RFC 3261
// section 20): display name, URI and the parameters after it.
struct NameAddr {
  std::string display;
  std::string uri;
  std::string params;
};

std::vector<NameAddr> SplitNameAddrs(absl::string_view value) {
  std::vector<NameAddr> out;
  std::string current;
  bool quoted = false;
  bool bracket = false;
  auto flush = [&] {
    const std::string entry(absl::StripAsciiWhitespace(current));
    current.clear();
    absl::string_view e = entry;
    if (e.empty()) return;
    NameAddr na;
    const size_t lt = e.find('<');
    const size_t gt = e.find('>', lt == absl::string_view::npos ? 0 : lt);
    if (lt != absl::string_view::npos && gt != absl::string_view::npos) {
      na.display = std::string(absl::StripAsciiWhitespace(e.substr(0, lt)));
      na.uri = std::string(e.substr(lt + 1, gt - lt - 1));
      na.params = std::string(e.substr(gt + 1));
    } else {
      const size_t semi = e.find(';');
      na.uri = std::string(e.substr(0, semi));
      if (semi != absl::string_view::npos) na.params = std::string(e.substr(semi));
    }
    out.push_back(std::move(na));
  };
  for (char c : value) {
    if (c == '"') quoted = !quoted;
    if (!quoted && c == '<') bracket = true;
    if (!quoted && c == '>') bracket = false;
    if (!quoted && !bracket && c == ',') {
      flush();
      continue;
    }
    current.push_back(c);
  }
  flush();
  return out;
}

// The value of `name` among ";name=value" parameters, lower-case name, or "".
std::string Param(absl::string_view params, absl::string_view name) {
  for (absl::string_view p : absl::StrSplit(params, absl::ByAnyChar(";?&"), absl::SkipEmpty())) {
    const size_t eq = p.find('=');
    if (eq == absl::string_view::npos) continue;
    if (absl::EqualsIgnoreCase(absl::StripAsciiWhitespace(p.substr(0, eq)), name)) {
      std::string v(absl::StripAsciiWhitespace(p.substr(eq + 1)));
      if (v.size() >= 2 && v.front() == '"' && v.back() == '"') v = v.substr(1, v.size() - 2);
      return v;
    }
  }
  return "";
}

bool PartyFromNameAddr(const NameAddr& na, v1::PartyId* out) {
  absl::string_view uri = na.uri;
  if (!absl::ConsumePrefix(&uri, "sip:") && !absl::ConsumePrefix(&uri, "sips:") &&
      !absl::ConsumePrefix(&uri, "tel:")) {
    return false;
  }
  uri = uri.substr(0, uri.find_first_of(";?"));
  std::string user;
  std::string host(uri);
  if (const size_t at = uri.find('@'); at != absl::string_view::npos) {
    user = std::string(uri.substr(0, at));
    host = std::string(uri.substr(at + 1));
  }
  *out = PartyFromIdentity(na.display, user, host);
  return out->available() || out->blocked();
}

}  // namespace

bool RedirectingFromDiversion(absl::string_view value, Redirecting* out) {
  // The first value is the most recent diversion.
  const std::vector<NameAddr> entries = SplitNameAddrs(value);
  if (entries.empty() || !PartyFromNameAddr(entries.front(), &out->party)) return false;
  const std::string reason = absl::AsciiStrToLower(Param(entries.front().params, "reason"));
  if (reason == "user-busy") {
    out->reason = v1::CALL_REASON_FWDBUSY;
  } else if (reason == "no-answer") {
    out->reason = v1::CALL_REASON_FWDNOANSWER;
  } else if (reason == "unconditional") {
    out->reason = v1::CALL_REASON_FWDUNCOND;
  } else if (reason == "deflection") {
    out->reason = v1::CALL_REASON_REDIRECT;
  } else {
    out->reason = v1::CALL_REASON_UNKNOWN;
  }
  return true;
}

bool RedirectingFromHistoryInfo(absl::string_view value, Redirecting* out) {
  // Entries in index order: the one before the last is the party that
  // retargeted the request; the last one's cause says why (RFC 7044 section
  // 9.4, or the older Reason header parameter of RFC 4244).
  const std::vector<NameAddr> entries = SplitNameAddrs(value);
  if (entries.size() < 2 || !PartyFromNameAddr(entries[entries.size() - 2], &out->party)) {
    return false;
  }
  const std::string& last = entries.back().uri;
  int cause = 0;
  std::string c = Param(last, "cause");
  if (c.empty()) {
    // ?Reason=SIP%3Bcause%3D486
    std::string reason = absl::AsciiStrToLower(Param(last, "reason"));
    if (const size_t at = reason.find("cause%3d"); at != std::string::npos) c = reason.substr(at + 8, 3);
  }
  (void)absl::SimpleAtoi(c, &cause);
  switch (cause) {
    case 302:
      out->reason = v1::CALL_REASON_FWDUNCOND;
      break;
    case 486:
    case 600:
      out->reason = v1::CALL_REASON_FWDBUSY;
      break;
    case 408:
      out->reason = v1::CALL_REASON_FWDNOANSWER;
      break;
    case 480:
    case 487:
      out->reason = v1::CALL_REASON_REDIRECT;
      break;
    default:
      out->reason = v1::CALL_REASON_UNKNOWN;
  }
  return true;
}

}  // namespace linebridge::sip
