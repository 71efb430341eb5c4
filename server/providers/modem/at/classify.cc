#include "providers/modem/at/classify.h"

#include <cstddef>

#include "absl/strings/match.h"

namespace linebridge::at {
namespace {

bool IsSpace(char c) {
  return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\v' || c == '\f';
}
bool IsDigit(char c) { return c >= '0' && c <= '9'; }

// A small non-negative decimal, or -1.
int ParseSmallInt(absl::string_view s) {
  s = TrimLine(s);
  if (s.empty() || s.size() > 6) return -1;
  int n = 0;
  for (char c : s) {
    if (!IsDigit(c)) return -1;
    n = n * 10 + (c - '0');
  }
  return n;
}

// "KEY=value", "KEY = value": the value, or nullopt.
std::optional<absl::string_view> KeyValue(absl::string_view line, absl::string_view key) {
  if (!absl::StartsWith(line, key)) return std::nullopt;
  absl::string_view rest = line.substr(key.size());
  size_t i = 0;
  while (i < rest.size() && rest[i] == ' ') ++i;
  if (i >= rest.size() || rest[i] != '=') return std::nullopt;
  return TrimLine(rest.substr(i + 1));
}

// "+XXXX: rest" -> rest, or nullopt.
std::optional<absl::string_view> AfterPrefix(absl::string_view line, absl::string_view prefix) {
  if (!absl::StartsWith(line, prefix)) return std::nullopt;
  return TrimLine(line.substr(prefix.size()));
}

ParsedLine Final(ParsedLine p, FinalCode code, absl::string_view value = {}) {
  p.type = LineType::kFinal;
  p.final = code;
  p.value = std::string(value);
  return p;
}

ParsedLine Urc(ParsedLine p, UrcKind kind, absl::string_view key = {},
               absl::string_view value = {}) {
  p.type = LineType::kUnsolicited;
  p.urc = kind;
  p.key = std::string(key);
  p.value = std::string(value);
  return p;
}

constexpr absl::string_view kCallerIdFields[] = {"DATE", "TIME", "NMBR", "NAME", "MESG",
                                                 "DDN_NMBR"};
constexpr absl::string_view kOtherUrcs[] = {"+CCWA", "+CREG", "+CGREG", "+CEREG", "+CMTI",
                                            "+CUSD", "+CSSI", "+CSSU", "+CIEV",  "+CGEV",
                                            "+CTZV"};

}  // namespace

absl::string_view TrimLine(absl::string_view line) {
  while (!line.empty() && IsSpace(line.front())) line.remove_prefix(1);
  while (!line.empty() && IsSpace(line.back())) line.remove_suffix(1);
  return line;
}

ParsedLine Classify(absl::string_view raw, const ClassifyOptions& options) {
  const absl::string_view line = TrimLine(raw);
  ParsedLine p;
  p.line = std::string(line);

  if (options.numeric_results && line.size() == 1 && IsDigit(line[0])) {
    switch (line[0]) {
      case '0': return Final(std::move(p), FinalCode::kOk);
      case '1': return Final(std::move(p), FinalCode::kConnect);
      case '2': return Urc(std::move(p), UrcKind::kRing);
      case '3': return Final(std::move(p), FinalCode::kNoCarrier);
      case '4': return Final(std::move(p), FinalCode::kError);
      case '6': return Final(std::move(p), FinalCode::kNoDialtone);
      case '7': return Final(std::move(p), FinalCode::kBusy);
      case '8': return Final(std::move(p), FinalCode::kNoAnswer);
      default: break;
    }
  }

  if (line == "OK") return Final(std::move(p), FinalCode::kOk);
  if (line == "CONNECT") return Final(std::move(p), FinalCode::kConnect);
  if (absl::StartsWith(line, "CONNECT ")) {
    return Final(std::move(p), FinalCode::kConnect, TrimLine(line.substr(8)));
  }
  if (line == "ERROR") return Final(std::move(p), FinalCode::kError);
  if (line == "NO CARRIER") return Final(std::move(p), FinalCode::kNoCarrier);
  if (line == "NO DIALTONE" || line == "NO DIAL TONE") {
    return Final(std::move(p), FinalCode::kNoDialtone);
  }
  if (line == "BUSY") return Final(std::move(p), FinalCode::kBusy);
  if (line == "NO ANSWER") return Final(std::move(p), FinalCode::kNoAnswer);
  for (auto [prefix, code] : {std::pair{absl::string_view("+CME ERROR:"), FinalCode::kCmeError},
                              std::pair{absl::string_view("+CMS ERROR:"), FinalCode::kCmsError}}) {
    if (auto rest = AfterPrefix(line, prefix)) {
      p.error = ParseSmallInt(*rest);
      return Final(std::move(p), code, *rest);
    }
  }

  if (line == "RING") return Urc(std::move(p), UrcKind::kRing);
  if (line == "VCON") return Urc(std::move(p), UrcKind::kVcon);
  if (auto rest = AfterPrefix(line, "+CRING:")) return Urc(std::move(p), UrcKind::kCring, {}, *rest);
  if (auto rest = AfterPrefix(line, "+CLIP:")) return Urc(std::move(p), UrcKind::kClip, {}, *rest);
  if (auto rest = AfterPrefix(line, "+CLCC:")) {
    return Urc(std::move(p), UrcKind::kCallList, "+CLCC", *rest);
  }
  if (auto value = KeyValue(line, "DTMF")) return Urc(std::move(p), UrcKind::kDtmf, {}, *value);
  for (absl::string_view field : kCallerIdFields) {
    if (auto value = KeyValue(line, field)) {
      return Urc(std::move(p), UrcKind::kCallerId, field, *value);
    }
  }
  if (absl::StartsWith(line, "+")) {
    for (absl::string_view prefix : kOtherUrcs) {
      if (absl::StartsWith(line, prefix) && line.size() > prefix.size() &&
          line[prefix.size()] == ':') {
        return Urc(std::move(p), UrcKind::kOther, prefix,
                   TrimLine(line.substr(prefix.size() + 1)));
      }
    }
  }
  return p;
}

bool IsSuccess(FinalCode code) { return code == FinalCode::kOk || code == FinalCode::kConnect; }

absl::string_view FinalCodeName(FinalCode code) {
  switch (code) {
    case FinalCode::kNone: return "NONE";
    case FinalCode::kOk: return "OK";
    case FinalCode::kConnect: return "CONNECT";
    case FinalCode::kNoCarrier: return "NO CARRIER";
    case FinalCode::kError: return "ERROR";
    case FinalCode::kNoDialtone: return "NO DIALTONE";
    case FinalCode::kBusy: return "BUSY";
    case FinalCode::kNoAnswer: return "NO ANSWER";
    case FinalCode::kCmeError: return "+CME ERROR";
    case FinalCode::kCmsError: return "+CMS ERROR";
  }
  return "?";
}

absl::string_view UrcKindName(UrcKind kind) {
  switch (kind) {
    case UrcKind::kNone: return "none";
    case UrcKind::kRing: return "ring";
    case UrcKind::kCring: return "cring";
    case UrcKind::kClip: return "clip";
    case UrcKind::kCallerId: return "callerid";
    case UrcKind::kDtmf: return "dtmf";
    case UrcKind::kVcon: return "vcon";
    case UrcKind::kCallList: return "clcc";
    case UrcKind::kOther: return "other";
    case UrcKind::kHangup: return "hangup";
    case UrcKind::kStray: return "stray";
    case UrcKind::kUnknown: return "unknown";
  }
  return "?";
}

std::vector<std::string> SplitParams(absl::string_view params) {
  std::vector<std::string> out;
  params = TrimLine(params);
  if (params.empty()) return out;
  std::string field;
  bool quoted = false;
  int depth = 0;
  for (char c : params) {
    if (c == '"') {
      quoted = !quoted;
    } else if (quoted) {
      field.push_back(c);
    } else if (c == ',' && depth == 0) {
      out.emplace_back(TrimLine(field));
      field.clear();
    } else {
      if (c == '(') ++depth;
      if (c == ')' && depth > 0) --depth;
      field.push_back(c);
    }
  }
  out.emplace_back(TrimLine(field));
  return out;
}

std::optional<Clip> ParseClip(absl::string_view params) {
  std::vector<std::string> f = SplitParams(params);
  if (f.empty()) return std::nullopt;
  Clip clip;
  clip.number = f[0];
  if (f.size() > 1) clip.type = ParseSmallInt(f[1]);
  if (f.size() > 4) clip.alpha = f[4];
  if (f.size() > 5) clip.validity = ParseSmallInt(f[5]);
  return clip;
}

}  // namespace linebridge::at
