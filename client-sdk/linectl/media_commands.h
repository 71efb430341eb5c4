// `linectl media ...`: a call's audio (docs/media.md) from the command line.
#pragma once

#include "absl/status/status.h"
#include "linectl/commands.h"

namespace linebridge::linectl {

// media tone <call> beep|billing|busy|ringback|<hz>[+<hz>] [--duration D] [--on MS] [--off MS]
absl::Status CmdMediaTone(Context& context);
// media digits <call> <digits>: DTMF in band.
absl::Status CmdMediaDigits(Context& context);
// media record <call> <file.wav> [--duration D]: what the call hears, 8 kHz 16-bit mono.
absl::Status CmdMediaRecord(Context& context);
// media play <call> <file.wav>: a mono WAV (8 or 16 kHz) into the call.
absl::Status CmdMediaPlay(Context& context);
// media gather <call> [--max N] [--term DIGITS] [--first-timeout D] [--inter-timeout D]:
// the server gathers the DTMF digits the call hears (Telephony.GatherDigits);
// prints them and why the gathering ended.
absl::Status CmdMediaGather(Context& context);

}  // namespace linebridge::linectl
