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

// Files on the server (docs/media.md#files-on-the-server): each prints the
// job as it starts and, unless --no-wait, waits for its end and prints how
// it ended.
// media play-file <call> <name>: a WAV file of the server's media directory.
absl::Status CmdMediaPlayFile(Context& context);
// media record-file <call> <name> [--max-ms N] [--silence-ms N] [--both]:
// into a new WAV file of the server's recordings directory.
absl::Status CmdMediaRecordFile(Context& context);
// media stop-file <line> <job>: stops a job; prints how it ended.
absl::Status CmdMediaStopFile(Context& context);

}  // namespace linebridge::linectl
