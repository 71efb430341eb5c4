// Identifies the modem on a port and picks the command profile to drive it.
//
// The probe runs, as one sequence: ATE0 (must succeed: it proves an AT
// modem answers and turns the echo off), ATI, AT+GMI, AT+CGMI, AT+GMM,
// AT+CGMM, AT+FCLASS=?, AT+CPAS (all optional). The identity strings are kept
// raw for logs and the line's device info.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "providers/modem/at/command_queue.h"

namespace linebridge::at {

enum class ModemProfile {
  kHayesData,     // V.250 data (and fax) modem: AT+FCLASS lists 0/1, not 8
  kV253Voice,     // V.253 voice modem: AT+FCLASS lists 8
  k3gppCellular,  // 27.007 phone/modem: answers AT+CGMI and AT+CPAS
};
absl::string_view ProfileName(ModemProfile profile);  // "hayes-data", ...

struct ModemIdentity {
  ModemProfile profile = ModemProfile::kHayesData;
  std::vector<std::string> ati;  // ATI lines
  std::string manufacturer;      // +GMI, else +CGMI ("+CGMI: " prefix removed)
  std::string model;             // +GMM, else +CGMM
  std::string fclass_raw;        // the AT+FCLASS=? line(s); "" if unsupported
  std::vector<std::string> fclass;  // service classes: "0", "1", "1.0", "2", "8", ...
  bool cgmi = false;             // AT+CGMI answered OK
  bool cpas = false;             // AT+CPAS answered OK
};

// The modem in a few words, for logs and the line's switch info:
// "<maker> <model>" from +GMI/+GMM (or +CGMI/+CGMM), else the ATI answer
// ("ATI: ..."), else "an unidentified modem".
std::string DescribeIdentity(const ModemIdentity& identity);

// The profile the answers point to: 27.007 if +CGMI and +CPAS answered, else
// V.253 voice if class 8 is listed, else a Hayes data modem.
ModemProfile PickProfile(const ModemIdentity& identity);

// Parses an AT+FCLASS=? answer: "0,1,2,8", "(0,1,1.0,2,8)", "(0-2,8)".
std::vector<std::string> ParseFclassList(absl::string_view answer);

// Runs the probe on `queue`. Unavailable if ATE0 got no OK (no AT modem, or
// not at this speed); the message says what happened.
void Probe(CommandQueue& queue, std::function<void(absl::StatusOr<ModemIdentity>)> done);

}  // namespace linebridge::at
