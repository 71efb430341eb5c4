// The three dial-string checks a destination meets on its way to a line:
// the remote TSP's pre-scan of a dialable address (what TAPI hands in), the
// server's NormalizeDialString (the TAPI dialable grammar, digits to route
// on) and the modem's ValidateModemDialString / ModemDialCommand (what may
// follow ATD). Besides never crashing, they must agree: what the server
// accepts the TSP's pre-scan does not refuse (unless it names a dial
// modifier TAPI wants reported), and the server's digits are safe for ATD.
#include <cstddef>
#include <cstdint>
#include <string>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "core/engine.h"
#include "fuzz/fuzz_check.h"
#include "providers/modem/at/dial_string.h"
#include "tsp/provider_internal.h"

namespace at = linebridge::at;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string dial(reinterpret_cast<const char*>(data), size);

  const LONG scan = linebridge::tsp::ScanDialable(dial);
  const absl::StatusOr<std::string> digits = linebridge::NormalizeDialString(dial);
  if (digits.ok()) {
    FUZZ_CHECK(!digits->empty(), "no digits to route on");
    FUZZ_CHECK(digits->size() <= dial.size(), "the digits are longer than the destination");
    for (char c : *digits) {
      FUZZ_CHECK((c >= '0' && c <= '9') || c == '*' || c == '#' || (c >= 'A' && c <= 'D'),
                 "a routing digit outside 0-9 * # A-D");
    }
    if (dial.find_first_of("Ww@$?") == std::string::npos) {
      FUZZ_CHECK(scan == 0, "the TSP refuses what the server accepts");
    }
    if (digits->size() <= at::kMaxModemDialString) {
      for (at::ModemProfile p : {at::ModemProfile::kHayesData, at::ModemProfile::kV253Voice,
                                 at::ModemProfile::k3gppCellular}) {
        FUZZ_CHECK(at::ValidateModemDialString(*digits, p).ok(),
                   "the modem refuses the server's digits");
      }
    }
  } else {
    FUZZ_CHECK(digits.status().code() == absl::StatusCode::kInvalidArgument,
               "a refusal other than InvalidArgument");
  }

  for (at::ModemProfile p : {at::ModemProfile::kHayesData, at::ModemProfile::kV253Voice,
                             at::ModemProfile::k3gppCellular}) {
    for (bool voice : {true, false}) {
      const absl::StatusOr<std::string> cmd = at::ModemDialCommand(dial, p, voice);
      if (!cmd.ok()) continue;
      FUZZ_CHECK(at::ValidateModemDialString(dial, p).ok(), "a command from a refused string");
      FUZZ_CHECK(absl::StartsWith(*cmd, "ATD"), "not a dial command");
      const std::string rest = cmd->substr(3);
      FUZZ_CHECK(rest.size() <= at::kMaxModemDialString + 1, "a dial command too long");
      for (size_t i = 0; i < rest.size(); ++i) {
        const auto c = static_cast<unsigned char>(rest[i]);
        FUZZ_CHECK(c >= 0x20 && c < 0x7f, "a control or non-ASCII byte after ATD");
        FUZZ_CHECK(c != ';' || i + 1 == rest.size(), "a ';' before the end (commands after it)");
      }
      FUZZ_CHECK(!absl::StrContains(absl::AsciiStrToUpper(rest), "AT"), "\"AT\" after ATD");
    }
  }
  return 0;
}
