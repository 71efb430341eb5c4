// Transcript fixtures: a modem conversation as text, played against a
// CommandQueue on a FakePort and FakeClock, with the expected events inline.
//
//   # comment               blank lines are ignored too
//   ! TEXT                  enqueue command TEXT (lines collected, no processor)
//   !! TEXT                 enqueue with abort_on_cancel
//   !probe                  start Probe()
//   x TEXT                  cancel the last command enqueued as TEXT
//   t MS                    timeout for later enqueues (default 3000)
//   n on|off                numeric (ATV0) result codes
//   > TEXT                  the host wrote TEXT\r next
//   >> RAW                  the host wrote RAW next
//   >-                      the host has written nothing more
//   < TEXT                  the modem sends \r\nTEXT\r\n
//   << RAW                  the modem sends RAW
//   + MS                    the clock advances MS milliseconds
//   = EVENT                 the next event (already happened) is EVENT
//
// TEXT and RAW take escapes \r \n \t \\ \xHH. Events, with bytes outside
// printable ASCII written as \xHH:
//   urc <kind>[ <key>][ <value>]     (hangup/stray/unknown: urc <kind> <line>)
//   done <text> <OUTCOME>[ <error or text>][ | <line>]...
//   probe <profile> | mfr=<m> | model=<m> | fclass=<a,b> | ati=<l1/l2>
//   probe error <status>
// Consecutive modem sends form one chunk, which the player cuts into pieces
// with the given fragmenter: every cutting must give the same events.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace linebridge::at::testing {

struct TranscriptOp {
  enum Kind {
    kEnqueue, kEnqueueAbort, kProbe, kCancel, kTimeout, kNumeric, kExpectWrite,
    kExpectNoWrite, kSend, kAdvance, kExpectEvent,
  };
  Kind kind;
  std::string arg;  // escapes decoded (kExpectEvent: verbatim)
  int line = 0;
};

struct Transcript {
  std::string name;
  std::vector<TranscriptOp> ops;
};

absl::StatusOr<Transcript> ParseTranscript(absl::string_view text, std::string name);
absl::StatusOr<Transcript> LoadTranscript(const std::string& path);

using Fragmenter = std::function<std::vector<std::string>(const std::string& chunk)>;
Fragmenter Whole();
Fragmenter Bytewise();
Fragmenter SplitAt(size_t position);  // two pieces (or one if shorter)
Fragmenter Random(unsigned seed);     // pieces of 1..9 bytes

struct PlayResult {
  std::vector<std::string> events;    // everything that happened
  std::vector<std::string> failures;  // "line N: ..." mismatches
  size_t longest_chunk = 0;
};
PlayResult Play(const Transcript& transcript, const Fragmenter& fragmenter);

// Printable form of bytes: \xHH for anything outside 0x20-0x7e, \\ for '\'.
std::string Escape(absl::string_view bytes);

}  // namespace linebridge::at::testing
