// The writers of the TAPI structures the provider answers (LINEDEVCAPS,
// LINEADDRESSCAPS, LINEDEVSTATUS, LINEADDRESSSTATUS, lineGetID's VARSTRING,
// LINECALLINFO, LINECALLSTATUS): pure functions of a snapshot of what the
// provider knows, copied under its mutex, and of the caller's buffer. They
// write nothing past dwTotalSize (var_struct.h) and can be tested without a
// provider, a server or TAPISRV (tapi_structs_test.cc).
//
// Each returns 0 or the LINEERR_* TSPI asks for, checking its arguments in
// the order the TSPI function always has (the provider validates handles and
// device ids first): the errors TAPI sees do not depend on the split.
#pragma once

#include <optional>
#include <string>

#include "linebridge/tapi_abi.h"
#include "linebridge/v1/types.pb.h"

namespace linebridge::tsp {

// The call features (LINECALLFEATURE_*) and address features this provider
// implements; reported caps and call status are masked with them.
DWORD ImplementedCallFeatures();
DWORD ImplementedAddressFeatures();

// What the writers read about one line.
struct LineSnapshot {
  DWORD device_id = 0;
  std::string line_id;           // the permanent line id (SwitchInfo, name fallback)
  DWORD permanent_line_id = 0;   // dwPermanentLineID
  std::optional<v1::Line> info;  // last known from the server; nullopt before it answers
  bool present = false;          // the server lists the line now
  bool server_connected = false;  // the line's server has its event stream up
};

// What the status writers read about the open line (HDRVLINE).
struct OpenSnapshot {
  DWORD version = 0;  // negotiated at lineOpen
  // The server-side open: whether the server applied a privilege to it, and
  // the media modes it applied (lineSetDefaultMediaDetection).
  bool server_open = false;
  DWORD applied_media = 0;
};

// What the call writers read about one call (HDRVCALL).
struct CallSnapshot {
  v1::Call call;
  bool has_call = false;  // the server knows the call (lineMakeCall answered)
  bool idle = false;      // reported IDLE to TAPI
};

// LINEDEVCAPS and LINECALLINFO have a fixed part per negotiated version (2.0,
// 2.2, 3.0 for LINEDEVCAPS; 2.x, 3.0 for LINECALLINFO); the other structures
// have one layout from TSPI 2.0 to 3.0.

// LINEDEVCAPS (lineGetDevCaps) for a negotiated `version`. CheckDevCaps is its
// buffer check alone (INVALPOINTER, STRUCTURETOOSMALL below the version's fixed
// size), which lineGetDevCaps makes before it looks the device up.
LONG CheckDevCaps(DWORD version, const LINEDEVCAPS* caps);
LONG WriteLineDevCaps(const LineSnapshot& line, DWORD version, LPLINEDEVCAPS caps);

// LINEADDRESSCAPS (lineGetAddressCaps): INVALADDRESSID for an address the line
// does not have (a line without addresses has address 0). CheckAddressCaps is
// the buffer check alone, made before the device lookup.
LONG CheckAddressCaps(const LINEADDRESSCAPS* caps);
LONG WriteLineAddressCaps(const LineSnapshot& line, DWORD address_id, LPLINEADDRESSCAPS caps);

// LINEDEVSTATUS (lineGetLineDevStatus).
LONG WriteLineDevStatus(const LineSnapshot& line, const OpenSnapshot& open,
                        LPLINEDEVSTATUS status);

// LINEADDRESSSTATUS (lineGetAddressStatus), with the forwarding in effect as
// LINEFORWARD entries of the open's version followed by their destinations.
LONG WriteLineAddressStatus(const LineSnapshot& line, const OpenSnapshot& open,
                            DWORD address_id, LPLINEADDRESSSTATUS status);

// lineGetID's VARSTRING: the TAPI device id, STRINGFORMAT_BINARY, for the
// class "tapi/line" (any case); other classes INVALDEVICECLASS.
LONG WriteLineDeviceId(DWORD device_id, LPCWSTR device_class, LPVARSTRING out);

// LINECALLINFO (lineGetCallInfo) for the version the call's line was opened
// with; `line` is that line.
LONG WriteLineCallInfo(const LineSnapshot& line, DWORD version, const CallSnapshot& call,
                       LPLINECALLINFO info);

// LINECALLSTATUS (lineGetCallStatus).
LONG WriteLineCallStatus(const CallSnapshot& call, LPLINECALLSTATUS status);

}  // namespace linebridge::tsp
