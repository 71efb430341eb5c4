// What a line from the modem is: a final result code that ends the command in
// flight, an unsolicited result code (URC) that can arrive at any time, or an
// information line belonging to the command in flight.
//
// Classify looks at the line alone. The context-dependent rules live in
// CommandQueue: the echo of the command, prefixes a command expects (+CLCC:
// lines answer AT+CLCC although they look unsolicited), and final results
// that arrive while no command is in flight (NO CARRIER then is a hang-up).
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "absl/strings/string_view.h"

namespace linebridge::at {

enum class LineType { kInformation, kFinal, kUnsolicited };

enum class FinalCode {
  kNone,
  kOk,
  kConnect,     // CONNECT[ text]: success (data/voice stream starts)
  kNoCarrier,
  kError,
  kNoDialtone,  // NO DIALTONE or NO DIAL TONE
  kBusy,
  kNoAnswer,
  kCmeError,    // +CME ERROR: n (27.007 equipment error)
  kCmsError,    // +CMS ERROR: n (27.005 message service error)
};

enum class UrcKind {
  kNone,
  kRing,      // RING (V0: 2)
  kCring,     // +CRING: <type>; value = type ("VOICE")
  kClip,      // +CLIP: "number",type[,...]; value = parameters (see ParseClip)
  kCallerId,  // DATE= TIME= NMBR= NAME= MESG= DDN_NMBR=; key = field, value = text
  kDtmf,      // DTMF=<digit> (iaxmodem); value = digit
  kVcon,      // VCON: voice connection established (V.253)
  kCallList,  // +CLCC: ...; a response to AT+CLCC, a URC on modems that push it
  kOther,     // another 27.007 URC (+CCWA, +CREG, +CMTI, ...); key = prefix
  // Assigned by CommandQueue, never by Classify:
  kHangup,    // NO CARRIER / BUSY / NO ANSWER / NO DIALTONE with no command in
              // flight (the far end hung up; 27.007 voice calls end this way)
  kStray,     // another final result with no command in flight
  kUnknown,   // an information line with no command in flight
};

struct ClassifyOptions {
  // ATV0: single-digit result codes (0 OK, 1 CONNECT, 2 RING, 3 NO CARRIER,
  // 4 ERROR, 6 NO DIALTONE, 7 BUSY, 8 NO ANSWER). Verbose codes are still
  // recognised, so the switch can be made before ATV0 is sent.
  bool numeric_results = false;
};

struct ParsedLine {
  LineType type = LineType::kInformation;
  FinalCode final = FinalCode::kNone;  // kFinal (and kHangup/kStray URCs)
  UrcKind urc = UrcKind::kNone;        // kUnsolicited
  int error = -1;     // +CME/+CMS ERROR number; -1 when absent or textual
  std::string key;    // caller-id field, or the +XXXX prefix of kOther/kCallList
  std::string value;  // CONNECT text, error text, URC payload
  std::string line;   // the line without surrounding whitespace
};

ParsedLine Classify(absl::string_view line, const ClassifyOptions& options = {});

bool IsSuccess(FinalCode code);  // OK, CONNECT
absl::string_view FinalCodeName(FinalCode code);  // "OK", "NO CARRIER", ...
absl::string_view UrcKindName(UrcKind kind);      // "ring", "clip", ...

// Splits 27.007 parameters ("a",129,,"b,c") at top-level commas; quotes are
// removed, fields trimmed; parentheses are kept.
std::vector<std::string> SplitParams(absl::string_view params);

// +CLIP: "<number>",<type>[,<subaddr>,<satype>[,<alpha>[,<CLI validity>]]]
struct Clip {
  std::string number;
  int type = -1;      // 129 national/unknown, 145 international
  std::string alpha;  // name from the network or phonebook
  int validity = -1;  // 0 valid, 1 withheld, 2 unavailable
};
// `params` is the text after "+CLIP:"; nullopt when it is not a CLIP.
std::optional<Clip> ParseClip(absl::string_view params);

// Trims ASCII whitespace; never looks at bytes >= 0x80 as anything else.
absl::string_view TrimLine(absl::string_view line);

}  // namespace linebridge::at
