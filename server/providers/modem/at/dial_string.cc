#include "providers/modem/at/dial_string.h"

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "linebridge/lineerr.h"

namespace linebridge::at {
namespace {

bool IsDialChar(char c) {
  if (c >= '0' && c <= '9') return true;
  if (c >= 'A' && c <= 'D') return true;
  switch (c) {
    case '*': case '#': case ',': case 'W': case '@': case '!': case 'P': case 'T':
      return true;
    default:
      return false;
  }
}

absl::Status Invalid(absl::string_view why) {
  return InvalidArgument(LINEERR_INVALADDRESS, absl::StrCat("modem dial string ", why));
}

}  // namespace

absl::Status ValidateModemDialString(absl::string_view digits, ModemProfile profile) {
  if (digits.empty()) return Invalid("is empty");
  if (digits.size() > kMaxModemDialString) {
    // Worded like the server's own length check (which applies first, at
    // 128), so that a too long number reads the same at any length.
    return InvalidArgument(LINEERR_INVALADDRESS,
                           absl::StrCat("destination is ", digits.size(), " characters; at most ",
                                        kMaxModemDialString, " allowed on a modem line"));
  }
  absl::string_view body = digits;
  if (body.back() == ';') {
    if (profile != ModemProfile::k3gppCellular) {
      return Invalid("may end in ';' only on a 27.007 (cellular) modem");
    }
    body.remove_suffix(1);
    if (body.empty()) return Invalid("has no digits");
  }
  for (char c : body) {
    auto u = static_cast<unsigned char>(c);
    if (c == ';') return Invalid("contains ';' before its end");
    if (u < 0x20 || u == 0x7f) return Invalid("contains a control character");
    if (!IsDialChar(c)) {
      return Invalid(u < 0x80 ? absl::StrCat("contains '", absl::string_view(&c, 1), "'")
                              : std::string("contains a non-ASCII byte"));
    }
  }
  if (absl::StrContains(body, "AT")) return Invalid("contains \"AT\"");
  return absl::OkStatus();
}

absl::StatusOr<std::string> ModemDialCommand(absl::string_view digits, ModemProfile profile,
                                             bool voice) {
  if (absl::Status status = ValidateModemDialString(digits, profile); !status.ok()) return status;
  const bool has_semicolon = digits.back() == ';';
  if (profile == ModemProfile::k3gppCellular && !voice && has_semicolon) {
    return Invalid("ends in ';' (a voice call) for a data call");
  }
  const bool add_semicolon = profile == ModemProfile::k3gppCellular && voice && !has_semicolon;
  return absl::StrCat("ATD", digits, add_semicolon ? ";" : "");
}

}  // namespace linebridge::at
