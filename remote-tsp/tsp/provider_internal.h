// Helpers the RemoteProvider's parts share (not part of the provider's API).
#pragma once

#include <cstddef>
#include <string>

#include "absl/status/status.h"
#include "linebridge/client.h"
#include "linebridge/linebridge_ext.h"
#include "linebridge/tapi_abi.h"
#include "tsp/var_struct.h"

namespace linebridge {
// From linebridge/lineerr.h (proto/), which the provider does not include: its
// LINEERR_* enumerators clash with the SDK tapi.h's LINEERR_* macros in the
// Windows build. The error codes used here are TAPI's (tapi_abi.h/tapi.h).
uint32_t LineErrOf(const absl::Status& status);
}  // namespace linebridge

namespace linebridge::tsp {

// An event's tick count (GetTickCount: milliseconds on a clock that never
// steps, wrapping at 2^32).
DWORD TickCount();

// The linebridge extension (linebridge_ext.h) for lineGetExtensionID and
// phoneGetExtensionID: LINEEXTENSIONID and PHONEEXTENSIONID are the same four
// DWORDs.
template <typename ExtensionId>
void FillExtensionId(ExtensionId* id) {
  id->dwExtensionID0 = LINEBRIDGE_EXT_ID0;
  id->dwExtensionID1 = LINEBRIDGE_EXT_ID1;
  id->dwExtensionID2 = LINEBRIDGE_EXT_ID2;
  id->dwExtensionID3 = LINEBRIDGE_EXT_ID3;
}
// Whether line/phoneSelectExtVersion may select `ext_version` (0 deselects).
inline bool SelectableExtVersion(DWORD ext_version) {
  return ext_version == 0 || ext_version == LINEBRIDGE_EXT_VERSION;
}

// Sets a DWORD field of structure S being written by `w`.
#define LB_SET(w, S, field, value) (w).SetDword(offsetof(S, field), static_cast<DWORD>(value))

// The LINECALLINFOSTATE_* bits a CallInfoChanged event reports.
DWORD CallInfoStateBits(const v1::CallInfoChanged& change);

// ---- structure writing (the writers themselves: tapi_structs.h) ----

// dwTotalSize of a TAPI structure.
DWORD TotalSizeOf(const void* structure);
// Zeroes the fixed part (as far as it fits) and returns the writer.
VarStructWriter StartStruct(void* structure, DWORD fixed);

// ---- forwarding ----

// Forward modes that name a caller address: ForwardRule has no caller, so
// these are neither advertised nor accepted.
inline constexpr DWORD kSpecificForwardModes =
    LINEFORWARDMODE_UNCONDSPECIFIC | LINEFORWARDMODE_BUSYSPECIFIC |
    LINEFORWARDMODE_NOANSWSPECIFIC | LINEFORWARDMODE_BUSYNASPECIFIC;
inline constexpr DWORD kNoAnswerForwardModes =
    LINEFORWARDMODE_NOANSW | LINEFORWARDMODE_NOANSWINTERNAL | LINEFORWARDMODE_NOANSWEXTERNAL |
    LINEFORWARDMODE_BUSYNA | LINEFORWARDMODE_BUSYNAINTERNAL | LINEFORWARDMODE_BUSYNAEXTERNAL;
// dwMinFwdNumRings / dwMaxFwdNumRings; dwNumRingsNoAnswer is clamped to it.
inline constexpr DWORD kMinFwdRings = 1;
inline constexpr DWORD kMaxFwdRings = 15;
// LINEFORWARD is 8 DWORDs from TSPI 3.0 on, 6 before.
DWORD ForwardEntrySize(DWORD version);

// ---- requests ----

// TAPI's pre-scan of a dialable address: 0 or the LINEERR (see the .cc).
LONG ScanDialable(const std::string& address);
// A destination of lineMakeCall, lineDial, lineRedirect or lineBlindTransfer:
// on a line whose server dials SIP URIs (LineCaps.dials_uris), a "sip:",
// "sips:" or "tel:" URI is taken in the server's form (at most 128 printable characters,
// no spaces, quotes or angle brackets, someone after the scheme), else
// INVALADDRESS; anything else (and every destination of other lines) goes
// through ScanDialable.
LONG ScanDestination(const std::string& address, bool dials_uris);
// Every LINEMEDIAMODE_* bit TAPI defines (UNKNOWN .. VIDEO).
inline constexpr DWORD kAllMediaModes = 0x0000FFFE;
// The LINEDIGITMODE_* bits lineGenerateDigits / lineMonitorDigits accept.
inline constexpr DWORD kGenerateDigitModes = LINEDIGITMODE_DTMF | LINEDIGITMODE_PULSE;
inline constexpr DWORD kMonitorDigitModes =
    LINEDIGITMODE_DTMF | LINEDIGITMODE_PULSE | LINEDIGITMODE_DTMFEND;
// LINETONEMODE_* bits of the tone kinds a line generates (call_media.cc).
DWORD GenerateToneModesOf(const v1::LineCaps& caps);
// A failure that says nothing about the server's state (it may come back).
bool IsTransient(const absl::Status& status);
// The LINEERR_* of a failed RPC (LINEERR_OPERATIONFAILED if it names none).
LONG ErrOf(const absl::Status& status);

}  // namespace linebridge::tsp
