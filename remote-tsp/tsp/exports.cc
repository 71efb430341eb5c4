// The TSPI entry points of linebridge.tsp (C linkage, exported by name as
// TAPISRV looks them up). Each implemented one is a call into RemoteProvider;
// every other TSPI 3.0 provider/line function returns LINEERR_OPERATIONUNAVAIL
// (and the caps the provider reports do not advertise them). The phone
// functions and TSPI_providerCreatePhoneDevice are in phone_exports.cc.
#include "linebridge/tapi_abi.h"
#include "tsp/remote_provider.h"
#include "tsp/ui_identify.h"

#define LB_TSPI_EXPORT __attribute__((visibility("default")))

using linebridge::tsp::RemoteProvider;

namespace {
RemoteProvider& P() { return RemoteProvider::Instance(); }
}  // namespace

extern "C" {

// ---- implemented ------------------------------------------------------------

LB_TSPI_EXPORT LONG TSPIAPI TSPI_providerEnumDevices(DWORD dwPermanentProviderID,
                                                     LPDWORD lpdwNumLines, LPDWORD lpdwNumPhones,
                                                     HPROVIDER hProvider,
                                                     LINEEVENT lpfnLineCreateProc,
                                                     PHONEEVENT lpfnPhoneCreateProc) {
  return P().EnumDevices(dwPermanentProviderID, lpdwNumLines, lpdwNumPhones, hProvider,
                         lpfnLineCreateProc, lpfnPhoneCreateProc);
}
LB_TSPI_EXPORT LONG TSPIAPI TSPI_providerInit(DWORD dwTSPIVersion, DWORD dwPermanentProviderID,
                                              DWORD dwLineDeviceIDBase,
                                              DWORD dwPhoneDeviceIDBase, DWORD_PTR, DWORD_PTR,
                                              ASYNC_COMPLETION lpfnCompletionProc,
                                              LPDWORD lpdwTSPIOptions) {
  return P().Init(dwTSPIVersion, dwPermanentProviderID, dwLineDeviceIDBase, lpfnCompletionProc,
                  lpdwTSPIOptions, dwPhoneDeviceIDBase);
}
LB_TSPI_EXPORT LONG TSPIAPI TSPI_providerShutdown(DWORD dwTSPIVersion,
                                                  DWORD dwPermanentProviderID) {
  return P().Shutdown(dwTSPIVersion, dwPermanentProviderID);
}
LB_TSPI_EXPORT LONG TSPIAPI TSPI_providerCreateLineDevice(DWORD_PTR dwTempID, DWORD dwDeviceID) {
  return P().CreateLineDevice(dwTempID, dwDeviceID);
}
LB_TSPI_EXPORT LONG TSPIAPI TSPI_lineNegotiateTSPIVersion(DWORD dwDeviceID, DWORD dwLowVersion,
                                                          DWORD dwHighVersion,
                                                          LPDWORD lpdwTSPIVersion) {
  return P().NegotiateTSPIVersion(dwDeviceID, dwLowVersion, dwHighVersion, lpdwTSPIVersion);
}
LB_TSPI_EXPORT LONG TSPIAPI TSPI_lineGetDevCaps(DWORD dwDeviceID, DWORD dwTSPIVersion,
                                                DWORD dwExtVersion, LPLINEDEVCAPS lpLineDevCaps) {
  return P().GetDevCaps(dwDeviceID, dwTSPIVersion, dwExtVersion, lpLineDevCaps);
}
LB_TSPI_EXPORT LONG TSPIAPI TSPI_lineGetAddressCaps(DWORD dwDeviceID, DWORD dwAddressID,
                                                    DWORD dwTSPIVersion, DWORD dwExtVersion,
                                                    LPLINEADDRESSCAPS lpAddressCaps) {
  return P().GetAddressCaps(dwDeviceID, dwAddressID, dwTSPIVersion, dwExtVersion, lpAddressCaps);
}
LB_TSPI_EXPORT LONG TSPIAPI TSPI_lineGetLineDevStatus(HDRVLINE hdLine,
                                                      LPLINEDEVSTATUS lpLineDevStatus) {
  return P().GetLineDevStatus(hdLine, lpLineDevStatus);
}
LB_TSPI_EXPORT LONG TSPIAPI TSPI_lineGetAddressStatus(HDRVLINE hdLine, DWORD dwAddressID,
                                                      LPLINEADDRESSSTATUS lpAddressStatus) {
  return P().GetAddressStatus(hdLine, dwAddressID, lpAddressStatus);
}
LB_TSPI_EXPORT LONG TSPIAPI TSPI_lineGetNumAddressIDs(HDRVLINE hdLine,
                                                      LPDWORD lpdwNumAddressIDs) {
  return P().GetNumAddressIDs(hdLine, lpdwNumAddressIDs);
}
LB_TSPI_EXPORT LONG TSPIAPI TSPI_lineGetID(HDRVLINE hdLine, DWORD dwAddressID, HDRVCALL hdCall,
                                           DWORD dwSelect, LPVARSTRING lpDeviceID,
                                           LPCWSTR lpszDeviceClass, HANDLE) {
  return P().GetID(hdLine, dwAddressID, hdCall, dwSelect, lpDeviceID, lpszDeviceClass);
}
LB_TSPI_EXPORT LONG TSPIAPI TSPI_lineOpen(DWORD dwDeviceID, HTAPILINE htLine, LPHDRVLINE lphdLine,
                                          DWORD dwTSPIVersion, LINEEVENT lpfnEventProc) {
  return P().Open(dwDeviceID, htLine, lphdLine, dwTSPIVersion, lpfnEventProc);
}
LB_TSPI_EXPORT LONG TSPIAPI TSPI_lineClose(HDRVLINE hdLine) { return P().Close(hdLine); }
LB_TSPI_EXPORT LONG TSPIAPI TSPI_lineSetDefaultMediaDetection(HDRVLINE hdLine,
                                                              DWORD dwMediaModes) {
  return P().SetDefaultMediaDetection(hdLine, dwMediaModes);
}
LB_TSPI_EXPORT LONG TSPIAPI TSPI_lineSetStatusMessages(HDRVLINE hdLine, DWORD dwLineStates,
                                                       DWORD dwAddressStates) {
  return P().SetStatusMessages(hdLine, dwLineStates, dwAddressStates);
}
LB_TSPI_EXPORT LONG TSPIAPI TSPI_lineMakeCall(DRV_REQUESTID dwRequestID, HDRVLINE hdLine,
                                              HTAPICALL htCall, LPHDRVCALL lphdCall,
                                              LPCWSTR lpszDestAddress, DWORD dwCountryCode,
                                              LPLINECALLPARAMS const lpCallParams) {
  return P().MakeCall(dwRequestID, hdLine, htCall, lphdCall, lpszDestAddress, dwCountryCode,
                      lpCallParams);
}
// User-user information goes with the request, up to the line's limit
// (LINEDEVCAPS dwUUIAnswerSize, dwUUIDropSize, dwUUIAcceptSize).
LB_TSPI_EXPORT LONG TSPIAPI TSPI_lineAnswer(DRV_REQUESTID dwRequestID, HDRVCALL hdCall,
                                            LPCSTR lpsUserUserInfo, DWORD dwSize) {
  return P().Answer(dwRequestID, hdCall, lpsUserUserInfo, dwSize);
}
LB_TSPI_EXPORT LONG TSPIAPI TSPI_lineDrop(DRV_REQUESTID dwRequestID, HDRVCALL hdCall,
                                          LPCSTR lpsUserUserInfo, DWORD dwSize) {
  return P().Drop(dwRequestID, hdCall, lpsUserUserInfo, dwSize);
}
LB_TSPI_EXPORT LONG TSPIAPI TSPI_lineHold(DRV_REQUESTID dwRequestID, HDRVCALL hdCall) {
  return P().Hold(dwRequestID, hdCall);
}
LB_TSPI_EXPORT LONG TSPIAPI TSPI_lineUnhold(DRV_REQUESTID dwRequestID, HDRVCALL hdCall) {
  return P().Unhold(dwRequestID, hdCall);
}
LB_TSPI_EXPORT LONG TSPIAPI TSPI_lineCloseCall(HDRVCALL hdCall) { return P().CloseCall(hdCall); }
LB_TSPI_EXPORT LONG TSPIAPI TSPI_lineGetCallInfo(HDRVCALL hdCall, LPLINECALLINFO lpCallInfo) {
  return P().GetCallInfo(hdCall, lpCallInfo);
}
LB_TSPI_EXPORT LONG TSPIAPI TSPI_lineGetCallStatus(HDRVCALL hdCall,
                                                   LPLINECALLSTATUS lpCallStatus) {
  return P().GetCallStatus(hdCall, lpCallStatus);
}
LB_TSPI_EXPORT LONG TSPIAPI TSPI_lineGetCallAddressID(HDRVCALL hdCall, LPDWORD lpdwAddressID) {
  return P().GetCallAddressID(hdCall, lpdwAddressID);
}

// ---- lineSwapHold, call ids and hubs, TAPISRV's drops, user-user info ----------
LB_TSPI_EXPORT LONG TSPIAPI TSPI_lineSwapHold(DRV_REQUESTID dwRequestID, HDRVCALL hdActiveCall,
                                              HDRVCALL hdHeldCall) {
  return P().SwapHold(dwRequestID, hdActiveCall, hdHeldCall);
}
LB_TSPI_EXPORT LONG TSPIAPI TSPI_lineGetCallIDs(HDRVCALL hdCall, LPDWORD lpdwAddressID,
                                                LPDWORD lpdwCallID, LPDWORD lpdwRelatedCallID) {
  return P().GetCallIDs(hdCall, lpdwAddressID, lpdwCallID, lpdwRelatedCallID);
}
LB_TSPI_EXPORT LONG TSPIAPI TSPI_lineGetCallHubTracking(
    HDRVLINE hdLine, LPLINECALLHUBTRACKINGINFO lpTrackingInfo) {
  return P().GetCallHubTracking(hdLine, lpTrackingInfo);
}
LB_TSPI_EXPORT LONG TSPIAPI TSPI_lineSetCallHubTracking(
    HDRVLINE hdLine, LPLINECALLHUBTRACKINGINFO lpTrackingInfo) {
  return P().SetCallHubTracking(hdLine, lpTrackingInfo);
}
LB_TSPI_EXPORT LONG TSPIAPI TSPI_lineDropOnClose(HDRVCALL hdCall) { return P().DropOnClose(hdCall); }
LB_TSPI_EXPORT LONG TSPIAPI TSPI_lineDropNoOwner(HDRVCALL hdCall) { return P().DropNoOwner(hdCall); }
LB_TSPI_EXPORT LONG TSPIAPI TSPI_lineSendUserUserInfo(DRV_REQUESTID dwRequestID, HDRVCALL hdCall,
                                                      LPCSTR lpsUserUserInfo, DWORD dwSize) {
  return P().SendUserUserInfo(dwRequestID, hdCall, lpsUserUserInfo, dwSize);
}
LB_TSPI_EXPORT LONG TSPIAPI TSPI_lineReleaseUserUserInfo(DRV_REQUESTID dwRequestID,
                                                         HDRVCALL hdCall) {
  return P().ReleaseUserUserInfo(dwRequestID, hdCall);
}
LB_TSPI_EXPORT LONG TSPIAPI TSPI_lineSetCallParams(DRV_REQUESTID dwRequestID, HDRVCALL hdCall,
                                                   DWORD dwBearerMode, DWORD dwMinRate,
                                                   DWORD dwMaxRate,
                                                   LPLINEDIALPARAMS const lpDialParams) {
  return P().SetCallParams(dwRequestID, hdCall, dwBearerMode, dwMinRate, dwMaxRate, lpDialParams);
}
LB_TSPI_EXPORT LONG TSPIAPI TSPI_lineSetCallTreatment(DRV_REQUESTID dwRequestID, HDRVCALL hdCall,
                                                      DWORD dwTreatment) {
  return P().SetCallTreatment(dwRequestID, hdCall, dwTreatment);
}

LB_TSPI_EXPORT LONG TSPIAPI TSPI_lineCompleteCall(DRV_REQUESTID dwRequestID, HDRVCALL hdCall,
                                                  LPDWORD lpdwCompletionID,
                                                  DWORD dwCompletionMode, DWORD dwMessageID) {
  return P().CompleteCall(dwRequestID, hdCall, lpdwCompletionID, dwCompletionMode, dwMessageID);
}

LB_TSPI_EXPORT LONG TSPIAPI TSPI_lineUncompleteCall(DRV_REQUESTID dwRequestID, HDRVLINE hdLine,
                                                    DWORD dwCompletionID) {
  return P().UncompleteCall(dwRequestID, hdLine, dwCompletionID);
}

// ---- call control beyond the core -------------------------------------------
// LINECALLPARAMS of consultation calls are not sent.
LB_TSPI_EXPORT LONG TSPIAPI TSPI_lineDial(DRV_REQUESTID dwRequestID, HDRVCALL hdCall,
                                          LPCWSTR lpszDestAddress, DWORD) {
  return P().Dial(dwRequestID, hdCall, lpszDestAddress);
}
LB_TSPI_EXPORT LONG TSPIAPI TSPI_lineAccept(DRV_REQUESTID dwRequestID, HDRVCALL hdCall,
                                            LPCSTR lpsUserUserInfo, DWORD dwSize) {
  return P().Accept(dwRequestID, hdCall, lpsUserUserInfo, dwSize);
}
LB_TSPI_EXPORT LONG TSPIAPI TSPI_lineRedirect(DRV_REQUESTID dwRequestID, HDRVCALL hdCall,
                                              LPCWSTR lpszDestAddress, DWORD) {
  return P().Redirect(dwRequestID, hdCall, lpszDestAddress);
}
LB_TSPI_EXPORT LONG TSPIAPI TSPI_lineBlindTransfer(DRV_REQUESTID dwRequestID, HDRVCALL hdCall,
                                                   LPCWSTR lpszDestAddress, DWORD) {
  return P().BlindTransfer(dwRequestID, hdCall, lpszDestAddress);
}
LB_TSPI_EXPORT LONG TSPIAPI TSPI_lineSetupTransfer(DRV_REQUESTID dwRequestID, HDRVCALL hdCall,
                                                   HTAPICALL htConsultCall,
                                                   LPHDRVCALL lphdConsultCall,
                                                   LPLINECALLPARAMS const) {
  return P().SetupTransfer(dwRequestID, hdCall, htConsultCall, lphdConsultCall);
}
LB_TSPI_EXPORT LONG TSPIAPI TSPI_lineCompleteTransfer(DRV_REQUESTID dwRequestID, HDRVCALL hdCall,
                                                      HDRVCALL hdConsultCall,
                                                      HTAPICALL htConfCall,
                                                      LPHDRVCALL lphdConfCall,
                                                      DWORD dwTransferMode) {
  return P().CompleteTransfer(dwRequestID, hdCall, hdConsultCall, htConfCall, lphdConfCall,
                              dwTransferMode);
}
LB_TSPI_EXPORT LONG TSPIAPI TSPI_lineSetupConference(DRV_REQUESTID dwRequestID, HDRVCALL hdCall,
                                                     HDRVLINE hdLine, HTAPICALL htConfCall,
                                                     LPHDRVCALL lphdConfCall,
                                                     HTAPICALL htConsultCall,
                                                     LPHDRVCALL lphdConsultCall, DWORD,
                                                     LPLINECALLPARAMS const) {
  return P().SetupConference(dwRequestID, hdCall, hdLine, htConfCall, lphdConfCall,
                             htConsultCall, lphdConsultCall);
}
LB_TSPI_EXPORT LONG TSPIAPI TSPI_lineAddToConference(DRV_REQUESTID dwRequestID,
                                                     HDRVCALL hdConfCall,
                                                     HDRVCALL hdConsultCall) {
  return P().AddToConference(dwRequestID, hdConfCall, hdConsultCall);
}
LB_TSPI_EXPORT LONG TSPIAPI TSPI_lineRemoveFromConference(DRV_REQUESTID dwRequestID,
                                                          HDRVCALL hdCall) {
  return P().RemoveFromConference(dwRequestID, hdCall);
}
LB_TSPI_EXPORT LONG TSPIAPI TSPI_lineGenerateDigits(HDRVCALL hdCall, DWORD dwEndToEndID,
                                                    DWORD dwDigitMode, LPCWSTR lpszDigits,
                                                    DWORD dwDuration) {
  return P().GenerateDigits(hdCall, dwEndToEndID, dwDigitMode, lpszDigits, dwDuration);
}
LB_TSPI_EXPORT LONG TSPIAPI TSPI_lineMonitorDigits(HDRVCALL hdCall, DWORD dwDigitModes) {
  return P().MonitorDigits(hdCall, dwDigitModes);
}
LB_TSPI_EXPORT LONG TSPIAPI TSPI_lineGenerateTone(HDRVCALL hdCall, DWORD dwEndToEndID,
                                                  DWORD dwToneMode, DWORD dwDuration,
                                                  DWORD dwNumTones,
                                                  LPLINEGENERATETONE const lpTones) {
  return P().GenerateTone(hdCall, dwEndToEndID, dwToneMode, dwDuration, dwNumTones, lpTones);
}
LB_TSPI_EXPORT LONG TSPIAPI TSPI_lineGatherDigits(HDRVCALL hdCall, DWORD dwEndToEndID,
                                                  DWORD dwDigitModes, LPWSTR lpsDigits,
                                                  DWORD dwNumDigits,
                                                  LPCWSTR lpszTerminationDigits,
                                                  DWORD dwFirstDigitTimeout,
                                                  DWORD dwInterDigitTimeout) {
  return P().GatherDigits(hdCall, dwEndToEndID, dwDigitModes, lpsDigits, dwNumDigits,
                          lpszTerminationDigits, dwFirstDigitTimeout, dwInterDigitTimeout);
}
LB_TSPI_EXPORT LONG TSPIAPI TSPI_lineMonitorTones(HDRVCALL hdCall, DWORD dwToneListID,
                                                  LPLINEMONITORTONE const lpToneList,
                                                  DWORD dwNumEntries) {
  return P().MonitorTones(hdCall, dwToneListID, lpToneList, dwNumEntries);
}
LB_TSPI_EXPORT LONG TSPIAPI TSPI_lineMonitorMedia(HDRVCALL hdCall, DWORD dwMediaModes) {
  return P().MonitorMedia(hdCall, dwMediaModes);
}
LB_TSPI_EXPORT LONG TSPIAPI TSPI_lineSetMediaMode(HDRVCALL hdCall, DWORD dwMediaModes) {
  return P().SetMediaMode(hdCall, dwMediaModes);
}
LB_TSPI_EXPORT LONG TSPIAPI TSPI_lineSetAppSpecific(HDRVCALL hdCall, DWORD dwAppSpecific) {
  return P().SetAppSpecific(hdCall, dwAppSpecific);
}
LB_TSPI_EXPORT LONG TSPIAPI TSPI_lineSetCallData(DRV_REQUESTID dwRequestID, HDRVCALL hdCall,
                                                 LPVOID lpCallData, DWORD dwSize) {
  return P().SetCallData(dwRequestID, hdCall, lpCallData, dwSize);
}

// ---- forwarding, park and pickup -------------------------------------------

LB_TSPI_EXPORT LONG TSPIAPI TSPI_lineForward(DRV_REQUESTID dwRequestID, HDRVLINE hdLine, DWORD bAllAddresses, DWORD dwAddressID, LPLINEFORWARDLIST const lpForwardList, DWORD dwNumRingsNoAnswer, HTAPICALL, LPHDRVCALL lphdConsultCall, LPLINECALLPARAMS const) {
  return P().Forward(dwRequestID, hdLine, bAllAddresses, dwAddressID, lpForwardList, dwNumRingsNoAnswer, lphdConsultCall);
}
LB_TSPI_EXPORT LONG TSPIAPI TSPI_linePark(DRV_REQUESTID dwRequestID, HDRVCALL hdCall, DWORD dwParkMode, LPCWSTR lpszDirAddress, LPVARSTRING lpNonDirAddress) {
  return P().Park(dwRequestID, hdCall, dwParkMode, lpszDirAddress, lpNonDirAddress);
}
LB_TSPI_EXPORT LONG TSPIAPI TSPI_linePickup(DRV_REQUESTID dwRequestID, HDRVLINE hdLine, DWORD dwAddressID, HTAPICALL htCall, LPHDRVCALL lphdCall, LPCWSTR lpszDestAddress, LPCWSTR lpszGroupID) {
  return P().Pickup(dwRequestID, hdLine, dwAddressID, htCall, lphdCall, lpszDestAddress, lpszGroupID);
}
LB_TSPI_EXPORT LONG TSPIAPI TSPI_linePrepareAddToConference(DRV_REQUESTID dwRequestID, HDRVCALL hdConfCall, HTAPICALL htConsultCall, LPHDRVCALL lphdConsultCall, LPLINECALLPARAMS const) {
  return P().PrepareAddToConference(dwRequestID, hdConfCall, htConsultCall, lphdConsultCall);
}
LB_TSPI_EXPORT LONG TSPIAPI TSPI_lineUnpark(DRV_REQUESTID dwRequestID, HDRVLINE hdLine, DWORD dwAddressID, HTAPICALL htCall, LPHDRVCALL lphdCall, LPCWSTR lpszDestAddress) {
  return P().Unpark(dwRequestID, hdLine, dwAddressID, htCall, lphdCall, lpszDestAddress);
}

// ---- answered locally -------------------------------------------------------------
LB_TSPI_EXPORT LONG TSPIAPI TSPI_lineGetAddressID(HDRVLINE hdLine, LPDWORD lpdwAddressID,
                                                  DWORD dwAddressMode, LPCWSTR lpsAddress,
                                                  DWORD dwSize) {
  return P().GetAddressID(hdLine, lpdwAddressID, dwAddressMode, lpsAddress, dwSize);
}
LB_TSPI_EXPORT LONG TSPIAPI TSPI_lineGetIcon(DWORD dwDeviceID, LPCWSTR lpszDeviceClass,
                                             LPHICON lphIcon) {
  return P().GetIcon(dwDeviceID, lpszDeviceClass, lphIcon);
}
LB_TSPI_EXPORT LONG TSPIAPI TSPI_lineConditionalMediaDetection(
    HDRVLINE hdLine, DWORD dwMediaModes, LPLINECALLPARAMS const lpCallParams) {
  return P().ConditionalMediaDetection(hdLine, dwMediaModes, lpCallParams);
}
LB_TSPI_EXPORT LONG TSPIAPI TSPI_lineSetLineDevStatus(DRV_REQUESTID dwRequestID, HDRVLINE hdLine,
                                                      DWORD dwStatusToChange, DWORD fStatus) {
  return P().SetLineDevStatus(dwRequestID, hdLine, dwStatusToChange, fStatus);
}
LB_TSPI_EXPORT LONG TSPIAPI TSPI_lineSetTerminal(DRV_REQUESTID dwRequestID, HDRVLINE hdLine,
                                                 DWORD dwAddressID, HDRVCALL hdCall,
                                                 DWORD dwSelect, DWORD dwTerminalModes,
                                                 DWORD dwTerminalID, DWORD bEnable) {
  return P().SetTerminal(dwRequestID, hdLine, dwAddressID, hdCall, dwSelect, dwTerminalModes,
                         dwTerminalID, bEnable);
}
LB_TSPI_EXPORT LONG TSPIAPI TSPI_lineSetCurrentLocation(DWORD dwLocation) {
  return P().SetCurrentLocation(dwLocation);
}

// ---- device configuration: Unimodem's UMDEVCFG for "comm/datamodem" ----------
LB_TSPI_EXPORT LONG TSPIAPI TSPI_lineGetDevConfig(DWORD dwDeviceID, LPVARSTRING lpDeviceConfig,
                                                  LPCWSTR lpszDeviceClass) {
  return P().GetDevConfig(dwDeviceID, lpDeviceConfig, lpszDeviceClass);
}
LB_TSPI_EXPORT LONG TSPIAPI TSPI_lineSetDevConfig(DWORD dwDeviceID, LPVOID const lpDeviceConfig,
                                                  DWORD dwSize, LPCWSTR lpszDeviceClass) {
  return P().SetDevConfig(dwDeviceID, lpDeviceConfig, dwSize, lpszDeviceClass);
}

// ---- the linebridge extension (linebridge/linebridge_ext.h) ----------------------
LB_TSPI_EXPORT LONG TSPIAPI TSPI_lineNegotiateExtVersion(DWORD dwDeviceID, DWORD dwTSPIVersion,
                                                         DWORD dwLowVersion, DWORD dwHighVersion,
                                                         LPDWORD lpdwExtVersion) {
  return P().NegotiateExtVersion(dwDeviceID, dwTSPIVersion, dwLowVersion, dwHighVersion,
                                 lpdwExtVersion);
}
LB_TSPI_EXPORT LONG TSPIAPI TSPI_lineGetExtensionID(DWORD dwDeviceID, DWORD dwTSPIVersion,
                                                    LPLINEEXTENSIONID lpExtensionID) {
  return P().GetExtensionID(dwDeviceID, dwTSPIVersion, lpExtensionID);
}
LB_TSPI_EXPORT LONG TSPIAPI TSPI_lineSelectExtVersion(HDRVLINE hdLine, DWORD dwExtVersion) {
  return P().SelectExtVersion(hdLine, dwExtVersion);
}
LB_TSPI_EXPORT LONG TSPIAPI TSPI_lineDevSpecific(DRV_REQUESTID dwRequestID, HDRVLINE hdLine,
                                                 DWORD dwAddressID, HDRVCALL hdCall,
                                                 LPVOID lpParams, DWORD dwSize) {
  return P().DevSpecific(dwRequestID, hdLine, dwAddressID, hdCall, lpParams, dwSize);
}

// The UI DLL (remote-tsp/ui/, TUISPI_*) beside this module: its full path into
// TAPI's MAX_PATH buffer.
LB_TSPI_EXPORT LONG TSPIAPI TSPI_providerUIIdentify(LPWSTR lpszUIDLLName) {
  const std::u16string path = linebridge::tsp::UiDllPath();
  constexpr size_t kMaxPath = 260;
  if (lpszUIDLLName == nullptr || path.empty() || path.size() >= kMaxPath) {
    return LINEERR_OPERATIONFAILED;
  }
  for (size_t i = 0; i < path.size(); ++i) lpszUIDLLName[i] = static_cast<WCHAR>(path[i]);
  lpszUIDLLName[path.size()] = 0;
  return 0;
}

// ---- not in this slice: LINEERR_OPERATIONUNAVAIL ------------------------------

LB_TSPI_EXPORT LONG TSPIAPI TSPI_providerConfig(HWND, DWORD) { return LINEERR_OPERATIONUNAVAIL; }
LB_TSPI_EXPORT LONG TSPIAPI TSPI_providerFreeDialogInstance(HDRVDIALOGINSTANCE) { return LINEERR_OPERATIONUNAVAIL; }
LB_TSPI_EXPORT LONG TSPIAPI TSPI_providerGenericDialogData(DWORD_PTR, DWORD, LPVOID, DWORD) { return LINEERR_OPERATIONUNAVAIL; }
LB_TSPI_EXPORT LONG TSPIAPI TSPI_providerInstall(HWND, DWORD) { return LINEERR_OPERATIONUNAVAIL; }
LB_TSPI_EXPORT LONG TSPIAPI TSPI_providerRemove(HWND, DWORD) { return LINEERR_OPERATIONUNAVAIL; }
LB_TSPI_EXPORT LONG TSPIAPI TSPI_lineCloseMSPInstance(HDRVMSPLINE) { return LINEERR_OPERATIONUNAVAIL; }
LB_TSPI_EXPORT LONG TSPIAPI TSPI_lineCreateMSPInstance(HDRVLINE, DWORD, HTAPIMSPLINE, LPHDRVMSPLINE) { return LINEERR_OPERATIONUNAVAIL; }
LB_TSPI_EXPORT LONG TSPIAPI TSPI_lineDevSpecificFeature(DRV_REQUESTID, HDRVLINE, DWORD, LPVOID, DWORD) { return LINEERR_OPERATIONUNAVAIL; }
LB_TSPI_EXPORT LONG TSPIAPI TSPI_lineMSPIdentify(DWORD, GUID*) { return LINEERR_OPERATIONUNAVAIL; }
LB_TSPI_EXPORT LONG TSPIAPI TSPI_lineReceiveMSPData(HDRVLINE, HDRVCALL, HDRVMSPLINE, LPVOID, DWORD) { return LINEERR_OPERATIONUNAVAIL; }
LB_TSPI_EXPORT LONG TSPIAPI TSPI_lineSecureCall(DRV_REQUESTID, HDRVCALL) { return LINEERR_OPERATIONUNAVAIL; }
LB_TSPI_EXPORT LONG TSPIAPI TSPI_lineSetCallQualityOfService(DRV_REQUESTID, HDRVCALL, LPVOID, DWORD, LPVOID, DWORD) { return LINEERR_OPERATIONUNAVAIL; }
LB_TSPI_EXPORT LONG TSPIAPI TSPI_lineSetMediaControl(HDRVLINE, DWORD, HDRVCALL, DWORD, LPLINEMEDIACONTROLDIGIT const, DWORD, LPLINEMEDIACONTROLMEDIA const, DWORD, LPLINEMEDIACONTROLTONE const, DWORD, LPLINEMEDIACONTROLCALLSTATE const, DWORD) { return LINEERR_OPERATIONUNAVAIL; }

}  // extern "C"
