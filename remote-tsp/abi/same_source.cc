// "Same source, either header": TSP-style code written against
// linebridge/tapi_abi.h. check_abi.sh compiles it natively (our
// declarations), with mingw-w64 for x86_64 and i686 against the SDK headers
// (-DLINEBRIDGE_USE_SDK_TAPI) and against our declarations on Windows.
#include "linebridge/tapi_abi.h"

#include <cstring>

namespace {

ASYNC_COMPLETION g_completion = nullptr;
LINEEVENT g_line_event = nullptr;
DWORD g_line_base = 0;

const char* StateName(DWORD state) {
  switch (state) {
    case LINECALLSTATE_IDLE: return "idle";
    case LINECALLSTATE_OFFERING: return "offering";
    case LINECALLSTATE_CONNECTED: return "connected";
    case LINECALLSTATE_DISCONNECTED: return "disconnected";
    default: return "other";
  }
}

}  // namespace

extern "C" {

LONG TSPIAPI TSPI_providerInit(DWORD dwTSPIVersion, DWORD dwPermanentProviderID,
                               DWORD dwLineDeviceIDBase, DWORD dwPhoneDeviceIDBase,
                               DWORD_PTR dwNumLines, DWORD_PTR dwNumPhones,
                               ASYNC_COMPLETION lpfnCompletionProc, LPDWORD lpdwTSPIOptions) {
  (void)dwTSPIVersion, (void)dwPermanentProviderID, (void)dwPhoneDeviceIDBase;
  (void)dwNumLines, (void)dwNumPhones;
  g_completion = lpfnCompletionProc;
  g_line_base = dwLineDeviceIDBase;
  *lpdwTSPIOptions = LINETSPIOPTION_NONREENTRANT;
  return 0;
}

LONG TSPIAPI TSPI_lineNegotiateTSPIVersion(DWORD dwDeviceID, DWORD dwLowVersion,
                                           DWORD dwHighVersion, LPDWORD lpdwTSPIVersion) {
  if (dwDeviceID != static_cast<DWORD>(-1) &&
      dwDeviceID < g_line_base) {
    return LINEERR_BADDEVICEID;
  }
  if (dwLowVersion > TAPI_VERSION3_0 || dwHighVersion < TAPI_VERSION2_0) {
    return LINEERR_INCOMPATIBLEAPIVERSION;
  }
  *lpdwTSPIVersion = dwHighVersion < TAPI_VERSION3_0 ? dwHighVersion : TAPI_VERSION3_0;
  return 0;
}

LONG TSPIAPI TSPI_lineGetDevCaps(DWORD dwDeviceID, DWORD dwTSPIVersion, DWORD dwExtVersion,
                                 LPLINEDEVCAPS lpLineDevCaps) {
  (void)dwDeviceID, (void)dwTSPIVersion, (void)dwExtVersion;
  if (lpLineDevCaps->dwTotalSize < sizeof(LINEDEVCAPS)) return LINEERR_STRUCTURETOOSMALL;
  std::memset(reinterpret_cast<BYTE*>(lpLineDevCaps) + sizeof(DWORD), 0,
              sizeof(LINEDEVCAPS) - sizeof(DWORD));
  lpLineDevCaps->dwNeededSize = lpLineDevCaps->dwUsedSize = sizeof(LINEDEVCAPS);
  lpLineDevCaps->dwStringFormat = STRINGFORMAT_UNICODE;
  lpLineDevCaps->dwAddressModes = LINEADDRESSMODE_ADDRESSID;
  lpLineDevCaps->dwNumAddresses = 1;
  lpLineDevCaps->dwBearerModes = LINEBEARERMODE_VOICE;
  lpLineDevCaps->dwMediaModes = LINEMEDIAMODE_INTERACTIVEVOICE | LINEMEDIAMODE_UNKNOWN;
  lpLineDevCaps->dwGenerateDigitModes = LINEDIGITMODE_DTMF;
  lpLineDevCaps->dwDevCapFlags = LINEDEVCAPFLAGS_CLOSEDROP | LINEDEVCAPFLAGS_DIALBILLING;
  lpLineDevCaps->dwLineFeatures = LINEFEATURE_MAKECALL;
  lpLineDevCaps->dwAnswerMode = LINEANSWERMODE_NONE;
  lpLineDevCaps->DefaultDialParams.dwDialPause = 2000;
  lpLineDevCaps->dwAddressTypes = LINEADDRESSTYPE_PHONENUMBER;
  lpLineDevCaps->PermanentLineGuid.Data4[7] = 1;
  return 0;
}

LONG TSPIAPI TSPI_lineOpen(DWORD dwDeviceID, HTAPILINE htLine, LPHDRVLINE lphdLine,
                           DWORD dwTSPIVersion, LINEEVENT lpfnEventProc) {
  (void)dwTSPIVersion;
  g_line_event = lpfnEventProc;
  *lphdLine = reinterpret_cast<HDRVLINE>(static_cast<DWORD_PTR>(dwDeviceID) + 1);
  lpfnEventProc(htLine, nullptr, LINE_LINEDEVSTATE, LINEDEVSTATE_OPEN, 0, 0);
  return 0;
}

LONG TSPIAPI TSPI_lineDrop(DRV_REQUESTID dwRequestID, HDRVCALL hdCall,
                           LPCSTR lpsUserUserInfo, DWORD dwSize) {
  (void)lpsUserUserInfo;
  if (hdCall == nullptr) return LINEERR_INVALCALLHANDLE;
  if (dwSize > 0) return LINEERR_USERUSERINFOTOOBIG;
  g_completion(dwRequestID, 0);
  return static_cast<LONG>(dwRequestID);
}

LONG TSPIAPI TSPI_lineGetCallStatus(HDRVCALL hdCall, LPLINECALLSTATUS lpCallStatus) {
  (void)hdCall;
  lpCallStatus->dwCallState = LINECALLSTATE_DISCONNECTED;
  lpCallStatus->dwCallStateMode = LINEDISCONNECTMODE_CANCELLED;
  lpCallStatus->dwCallFeatures = LINECALLFEATURE_DROP | LINECALLFEATURE_SETCALLDATA;
  lpCallStatus->dwCallPrivilege = LINECALLPRIVILEGE_OWNER;
  lpCallStatus->tStateEntryTime.wYear = 2024;
  return StateName(lpCallStatus->dwCallState)[0] == 'd' ? 0 : LINEERR_OPERATIONFAILED;
}

LONG TSPIAPI TSPI_providerUIIdentify(LPWSTR lpszUIDLLName) {
  lpszUIDLLName[0] = 0;
  return 0;
}

}  // extern "C"
