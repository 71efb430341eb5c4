// TAPI/TSPI types, structure layouts, callbacks and TSPI entry points as
// X-macro lists. Like tapi_abi_constants.h this header declares nothing by
// itself: tapi_abi.h (through detail/tapi_abi_types.inc and
// detail/tapi_abi_structs.inc) turns the lists into declarations, and
// abi/abi_conformance.cc walks them to compare every type, field offset and
// signature with the Windows SDK headers.
//
// Layouts are those of TAPI/TSPI 3.0 as Microsoft documents them. All TAPI
// structures are byte-packed (tapi.h wraps them in #pragma pack(1)); none holds
// a pointer (HLINE/HCALL are 32-bit opaque values), so the layouts are the same
// on Win32, Win64 and LP64 Linux.
#pragma once

// Calling convention of TAPI callbacks and TSPI exports: __stdcall on 32-bit
// Windows (where it changes the ABI), nothing elsewhere.
#if defined(_WIN32) && !defined(_WIN64)
#define LINEBRIDGE_CALLBACK __stdcall
#else
#define LINEBRIDGE_CALLBACK
#endif
#define LINEBRIDGE_TSPIAPI LINEBRIDGE_CALLBACK

// ---- scalar and handle types: X(NAME) -------------------------------------
// Compared with the SDK's type of the same name for size, alignment,
// signedness and pointer-ness.
#define LINEBRIDGE_TAPI_BASE_TYPES(X) \
  X(BYTE) X(WORD) X(DWORD) X(LONG) X(BOOL) X(WCHAR) X(DWORD_PTR) \
  X(LPVOID) X(LPDWORD) X(LPSTR) X(LPCSTR) X(LPWSTR) X(LPCWSTR) \
  X(HANDLE) X(HWND) X(HICON) X(LPHICON) \
  X(HLINE) X(HCALL) \
  X(HDRVCALL) X(HDRVLINE) X(HDRVPHONE) X(HDRVMSPLINE) X(HDRVDIALOGINSTANCE) \
  X(LPHDRVCALL) X(LPHDRVLINE) X(LPHDRVPHONE) X(LPHDRVMSPLINE) X(LPHDRVDIALOGINSTANCE) \
  X(HTAPICALL) X(HTAPILINE) X(HTAPIPHONE) X(HTAPIMSPLINE) X(HTAPIDIALOGINSTANCE) \
  X(HPROVIDER) X(DRV_REQUESTID) \
  X(GUID) X(LPGUID) X(SYSTEMTIME)

// ---- structures: X(STRUCT, TYPE, FIELD) --------------------------------------
// An array member is written std::type_identity_t<T[N]> so the list stays
// three plain columns.

#define LINEBRIDGE_TAPI_STRUCT_FIELDS_GUID(X) \
  X(GUID, DWORD, Data1) \
  X(GUID, WORD, Data2) \
  X(GUID, WORD, Data3) \
  X(GUID, std::type_identity_t<BYTE[8]>, Data4)

#define LINEBRIDGE_TAPI_STRUCT_FIELDS_SYSTEMTIME(X) \
  X(SYSTEMTIME, WORD, wYear) \
  X(SYSTEMTIME, WORD, wMonth) \
  X(SYSTEMTIME, WORD, wDayOfWeek) \
  X(SYSTEMTIME, WORD, wDay) \
  X(SYSTEMTIME, WORD, wHour) \
  X(SYSTEMTIME, WORD, wMinute) \
  X(SYSTEMTIME, WORD, wSecond) \
  X(SYSTEMTIME, WORD, wMilliseconds)

#define LINEBRIDGE_TAPI_STRUCT_FIELDS_VARSTRING(X) \
  X(VARSTRING, DWORD, dwTotalSize) \
  X(VARSTRING, DWORD, dwNeededSize) \
  X(VARSTRING, DWORD, dwUsedSize) \
  X(VARSTRING, DWORD, dwStringFormat) \
  X(VARSTRING, DWORD, dwStringSize) \
  X(VARSTRING, DWORD, dwStringOffset)

#define LINEBRIDGE_TAPI_STRUCT_FIELDS_LINEDIALPARAMS(X) \
  X(LINEDIALPARAMS, DWORD, dwDialPause) \
  X(LINEDIALPARAMS, DWORD, dwDialSpeed) \
  X(LINEDIALPARAMS, DWORD, dwDigitDuration) \
  X(LINEDIALPARAMS, DWORD, dwWaitForDialtone)

#define LINEBRIDGE_TAPI_STRUCT_FIELDS_LINEDEVCAPS(X) \
  X(LINEDEVCAPS, DWORD, dwTotalSize) \
  X(LINEDEVCAPS, DWORD, dwNeededSize) \
  X(LINEDEVCAPS, DWORD, dwUsedSize) \
  X(LINEDEVCAPS, DWORD, dwProviderInfoSize) \
  X(LINEDEVCAPS, DWORD, dwProviderInfoOffset) \
  X(LINEDEVCAPS, DWORD, dwSwitchInfoSize) \
  X(LINEDEVCAPS, DWORD, dwSwitchInfoOffset) \
  X(LINEDEVCAPS, DWORD, dwPermanentLineID) \
  X(LINEDEVCAPS, DWORD, dwLineNameSize) \
  X(LINEDEVCAPS, DWORD, dwLineNameOffset) \
  X(LINEDEVCAPS, DWORD, dwStringFormat) \
  X(LINEDEVCAPS, DWORD, dwAddressModes) \
  X(LINEDEVCAPS, DWORD, dwNumAddresses) \
  X(LINEDEVCAPS, DWORD, dwBearerModes) \
  X(LINEDEVCAPS, DWORD, dwMaxRate) \
  X(LINEDEVCAPS, DWORD, dwMediaModes) \
  X(LINEDEVCAPS, DWORD, dwGenerateToneModes) \
  X(LINEDEVCAPS, DWORD, dwGenerateToneMaxNumFreq) \
  X(LINEDEVCAPS, DWORD, dwGenerateDigitModes) \
  X(LINEDEVCAPS, DWORD, dwMonitorToneMaxNumFreq) \
  X(LINEDEVCAPS, DWORD, dwMonitorToneMaxNumEntries) \
  X(LINEDEVCAPS, DWORD, dwMonitorDigitModes) \
  X(LINEDEVCAPS, DWORD, dwGatherDigitsMinTimeout) \
  X(LINEDEVCAPS, DWORD, dwGatherDigitsMaxTimeout) \
  X(LINEDEVCAPS, DWORD, dwMedCtlDigitMaxListSize) \
  X(LINEDEVCAPS, DWORD, dwMedCtlMediaMaxListSize) \
  X(LINEDEVCAPS, DWORD, dwMedCtlToneMaxListSize) \
  X(LINEDEVCAPS, DWORD, dwMedCtlCallStateMaxListSize) \
  X(LINEDEVCAPS, DWORD, dwDevCapFlags) \
  X(LINEDEVCAPS, DWORD, dwMaxNumActiveCalls) \
  X(LINEDEVCAPS, DWORD, dwAnswerMode) \
  X(LINEDEVCAPS, DWORD, dwRingModes) \
  X(LINEDEVCAPS, DWORD, dwLineStates) \
  X(LINEDEVCAPS, DWORD, dwUUIAcceptSize) \
  X(LINEDEVCAPS, DWORD, dwUUIAnswerSize) \
  X(LINEDEVCAPS, DWORD, dwUUIMakeCallSize) \
  X(LINEDEVCAPS, DWORD, dwUUIDropSize) \
  X(LINEDEVCAPS, DWORD, dwUUISendUserUserInfoSize) \
  X(LINEDEVCAPS, DWORD, dwUUICallInfoSize) \
  X(LINEDEVCAPS, LINEDIALPARAMS, MinDialParams) \
  X(LINEDEVCAPS, LINEDIALPARAMS, MaxDialParams) \
  X(LINEDEVCAPS, LINEDIALPARAMS, DefaultDialParams) \
  X(LINEDEVCAPS, DWORD, dwNumTerminals) \
  X(LINEDEVCAPS, DWORD, dwTerminalCapsSize) \
  X(LINEDEVCAPS, DWORD, dwTerminalCapsOffset) \
  X(LINEDEVCAPS, DWORD, dwTerminalTextEntrySize) \
  X(LINEDEVCAPS, DWORD, dwTerminalTextSize) \
  X(LINEDEVCAPS, DWORD, dwTerminalTextOffset) \
  X(LINEDEVCAPS, DWORD, dwDevSpecificSize) \
  X(LINEDEVCAPS, DWORD, dwDevSpecificOffset) \
  X(LINEDEVCAPS, DWORD, dwLineFeatures) \
  X(LINEDEVCAPS, DWORD, dwSettableDevStatus) \
  X(LINEDEVCAPS, DWORD, dwDeviceClassesSize) \
  X(LINEDEVCAPS, DWORD, dwDeviceClassesOffset) \
  X(LINEDEVCAPS, GUID, PermanentLineGuid) \
  X(LINEDEVCAPS, DWORD, dwAddressTypes) \
  X(LINEDEVCAPS, GUID, ProtocolGuid) \
  X(LINEDEVCAPS, DWORD, dwAvailableTracking)

#define LINEBRIDGE_TAPI_STRUCT_FIELDS_LINEADDRESSCAPS(X) \
  X(LINEADDRESSCAPS, DWORD, dwTotalSize) \
  X(LINEADDRESSCAPS, DWORD, dwNeededSize) \
  X(LINEADDRESSCAPS, DWORD, dwUsedSize) \
  X(LINEADDRESSCAPS, DWORD, dwLineDeviceID) \
  X(LINEADDRESSCAPS, DWORD, dwAddressSize) \
  X(LINEADDRESSCAPS, DWORD, dwAddressOffset) \
  X(LINEADDRESSCAPS, DWORD, dwDevSpecificSize) \
  X(LINEADDRESSCAPS, DWORD, dwDevSpecificOffset) \
  X(LINEADDRESSCAPS, DWORD, dwAddressSharing) \
  X(LINEADDRESSCAPS, DWORD, dwAddressStates) \
  X(LINEADDRESSCAPS, DWORD, dwCallInfoStates) \
  X(LINEADDRESSCAPS, DWORD, dwCallerIDFlags) \
  X(LINEADDRESSCAPS, DWORD, dwCalledIDFlags) \
  X(LINEADDRESSCAPS, DWORD, dwConnectedIDFlags) \
  X(LINEADDRESSCAPS, DWORD, dwRedirectionIDFlags) \
  X(LINEADDRESSCAPS, DWORD, dwRedirectingIDFlags) \
  X(LINEADDRESSCAPS, DWORD, dwCallStates) \
  X(LINEADDRESSCAPS, DWORD, dwDialToneModes) \
  X(LINEADDRESSCAPS, DWORD, dwBusyModes) \
  X(LINEADDRESSCAPS, DWORD, dwSpecialInfo) \
  X(LINEADDRESSCAPS, DWORD, dwDisconnectModes) \
  X(LINEADDRESSCAPS, DWORD, dwMaxNumActiveCalls) \
  X(LINEADDRESSCAPS, DWORD, dwMaxNumOnHoldCalls) \
  X(LINEADDRESSCAPS, DWORD, dwMaxNumOnHoldPendingCalls) \
  X(LINEADDRESSCAPS, DWORD, dwMaxNumConference) \
  X(LINEADDRESSCAPS, DWORD, dwMaxNumTransConf) \
  X(LINEADDRESSCAPS, DWORD, dwAddrCapFlags) \
  X(LINEADDRESSCAPS, DWORD, dwCallFeatures) \
  X(LINEADDRESSCAPS, DWORD, dwRemoveFromConfCaps) \
  X(LINEADDRESSCAPS, DWORD, dwRemoveFromConfState) \
  X(LINEADDRESSCAPS, DWORD, dwTransferModes) \
  X(LINEADDRESSCAPS, DWORD, dwParkModes) \
  X(LINEADDRESSCAPS, DWORD, dwForwardModes) \
  X(LINEADDRESSCAPS, DWORD, dwMaxForwardEntries) \
  X(LINEADDRESSCAPS, DWORD, dwMaxSpecificEntries) \
  X(LINEADDRESSCAPS, DWORD, dwMinFwdNumRings) \
  X(LINEADDRESSCAPS, DWORD, dwMaxFwdNumRings) \
  X(LINEADDRESSCAPS, DWORD, dwMaxCallCompletions) \
  X(LINEADDRESSCAPS, DWORD, dwCallCompletionConds) \
  X(LINEADDRESSCAPS, DWORD, dwCallCompletionModes) \
  X(LINEADDRESSCAPS, DWORD, dwNumCompletionMessages) \
  X(LINEADDRESSCAPS, DWORD, dwCompletionMsgTextEntrySize) \
  X(LINEADDRESSCAPS, DWORD, dwCompletionMsgTextSize) \
  X(LINEADDRESSCAPS, DWORD, dwCompletionMsgTextOffset) \
  X(LINEADDRESSCAPS, DWORD, dwAddressFeatures) \
  X(LINEADDRESSCAPS, DWORD, dwPredictiveAutoTransferStates) \
  X(LINEADDRESSCAPS, DWORD, dwNumCallTreatments) \
  X(LINEADDRESSCAPS, DWORD, dwCallTreatmentListSize) \
  X(LINEADDRESSCAPS, DWORD, dwCallTreatmentListOffset) \
  X(LINEADDRESSCAPS, DWORD, dwDeviceClassesSize) \
  X(LINEADDRESSCAPS, DWORD, dwDeviceClassesOffset) \
  X(LINEADDRESSCAPS, DWORD, dwMaxCallDataSize) \
  X(LINEADDRESSCAPS, DWORD, dwCallFeatures2) \
  X(LINEADDRESSCAPS, DWORD, dwMaxNoAnswerTimeout) \
  X(LINEADDRESSCAPS, DWORD, dwConnectedModes) \
  X(LINEADDRESSCAPS, DWORD, dwOfferingModes) \
  X(LINEADDRESSCAPS, DWORD, dwAvailableMediaModes)

#define LINEBRIDGE_TAPI_STRUCT_FIELDS_LINEDEVSTATUS(X) \
  X(LINEDEVSTATUS, DWORD, dwTotalSize) \
  X(LINEDEVSTATUS, DWORD, dwNeededSize) \
  X(LINEDEVSTATUS, DWORD, dwUsedSize) \
  X(LINEDEVSTATUS, DWORD, dwNumOpens) \
  X(LINEDEVSTATUS, DWORD, dwOpenMediaModes) \
  X(LINEDEVSTATUS, DWORD, dwNumActiveCalls) \
  X(LINEDEVSTATUS, DWORD, dwNumOnHoldCalls) \
  X(LINEDEVSTATUS, DWORD, dwNumOnHoldPendCalls) \
  X(LINEDEVSTATUS, DWORD, dwLineFeatures) \
  X(LINEDEVSTATUS, DWORD, dwNumCallCompletions) \
  X(LINEDEVSTATUS, DWORD, dwRingMode) \
  X(LINEDEVSTATUS, DWORD, dwSignalLevel) \
  X(LINEDEVSTATUS, DWORD, dwBatteryLevel) \
  X(LINEDEVSTATUS, DWORD, dwRoamMode) \
  X(LINEDEVSTATUS, DWORD, dwDevStatusFlags) \
  X(LINEDEVSTATUS, DWORD, dwTerminalModesSize) \
  X(LINEDEVSTATUS, DWORD, dwTerminalModesOffset) \
  X(LINEDEVSTATUS, DWORD, dwDevSpecificSize) \
  X(LINEDEVSTATUS, DWORD, dwDevSpecificOffset) \
  X(LINEDEVSTATUS, DWORD, dwAvailableMediaModes) \
  X(LINEDEVSTATUS, DWORD, dwAppInfoSize) \
  X(LINEDEVSTATUS, DWORD, dwAppInfoOffset)

#define LINEBRIDGE_TAPI_STRUCT_FIELDS_LINEADDRESSSTATUS(X) \
  X(LINEADDRESSSTATUS, DWORD, dwTotalSize) \
  X(LINEADDRESSSTATUS, DWORD, dwNeededSize) \
  X(LINEADDRESSSTATUS, DWORD, dwUsedSize) \
  X(LINEADDRESSSTATUS, DWORD, dwNumInUse) \
  X(LINEADDRESSSTATUS, DWORD, dwNumActiveCalls) \
  X(LINEADDRESSSTATUS, DWORD, dwNumOnHoldCalls) \
  X(LINEADDRESSSTATUS, DWORD, dwNumOnHoldPendCalls) \
  X(LINEADDRESSSTATUS, DWORD, dwAddressFeatures) \
  X(LINEADDRESSSTATUS, DWORD, dwNumRingsNoAnswer) \
  X(LINEADDRESSSTATUS, DWORD, dwForwardNumEntries) \
  X(LINEADDRESSSTATUS, DWORD, dwForwardSize) \
  X(LINEADDRESSSTATUS, DWORD, dwForwardOffset) \
  X(LINEADDRESSSTATUS, DWORD, dwTerminalModesSize) \
  X(LINEADDRESSSTATUS, DWORD, dwTerminalModesOffset) \
  X(LINEADDRESSSTATUS, DWORD, dwDevSpecificSize) \
  X(LINEADDRESSSTATUS, DWORD, dwDevSpecificOffset)

#define LINEBRIDGE_TAPI_STRUCT_FIELDS_LINECALLINFO(X) \
  X(LINECALLINFO, DWORD, dwTotalSize) \
  X(LINECALLINFO, DWORD, dwNeededSize) \
  X(LINECALLINFO, DWORD, dwUsedSize) \
  X(LINECALLINFO, HLINE, hLine) \
  X(LINECALLINFO, DWORD, dwLineDeviceID) \
  X(LINECALLINFO, DWORD, dwAddressID) \
  X(LINECALLINFO, DWORD, dwBearerMode) \
  X(LINECALLINFO, DWORD, dwRate) \
  X(LINECALLINFO, DWORD, dwMediaMode) \
  X(LINECALLINFO, DWORD, dwAppSpecific) \
  X(LINECALLINFO, DWORD, dwCallID) \
  X(LINECALLINFO, DWORD, dwRelatedCallID) \
  X(LINECALLINFO, DWORD, dwCallParamFlags) \
  X(LINECALLINFO, DWORD, dwCallStates) \
  X(LINECALLINFO, DWORD, dwMonitorDigitModes) \
  X(LINECALLINFO, DWORD, dwMonitorMediaModes) \
  X(LINECALLINFO, LINEDIALPARAMS, DialParams) \
  X(LINECALLINFO, DWORD, dwOrigin) \
  X(LINECALLINFO, DWORD, dwReason) \
  X(LINECALLINFO, DWORD, dwCompletionID) \
  X(LINECALLINFO, DWORD, dwNumOwners) \
  X(LINECALLINFO, DWORD, dwNumMonitors) \
  X(LINECALLINFO, DWORD, dwCountryCode) \
  X(LINECALLINFO, DWORD, dwTrunk) \
  X(LINECALLINFO, DWORD, dwCallerIDFlags) \
  X(LINECALLINFO, DWORD, dwCallerIDSize) \
  X(LINECALLINFO, DWORD, dwCallerIDOffset) \
  X(LINECALLINFO, DWORD, dwCallerIDNameSize) \
  X(LINECALLINFO, DWORD, dwCallerIDNameOffset) \
  X(LINECALLINFO, DWORD, dwCalledIDFlags) \
  X(LINECALLINFO, DWORD, dwCalledIDSize) \
  X(LINECALLINFO, DWORD, dwCalledIDOffset) \
  X(LINECALLINFO, DWORD, dwCalledIDNameSize) \
  X(LINECALLINFO, DWORD, dwCalledIDNameOffset) \
  X(LINECALLINFO, DWORD, dwConnectedIDFlags) \
  X(LINECALLINFO, DWORD, dwConnectedIDSize) \
  X(LINECALLINFO, DWORD, dwConnectedIDOffset) \
  X(LINECALLINFO, DWORD, dwConnectedIDNameSize) \
  X(LINECALLINFO, DWORD, dwConnectedIDNameOffset) \
  X(LINECALLINFO, DWORD, dwRedirectionIDFlags) \
  X(LINECALLINFO, DWORD, dwRedirectionIDSize) \
  X(LINECALLINFO, DWORD, dwRedirectionIDOffset) \
  X(LINECALLINFO, DWORD, dwRedirectionIDNameSize) \
  X(LINECALLINFO, DWORD, dwRedirectionIDNameOffset) \
  X(LINECALLINFO, DWORD, dwRedirectingIDFlags) \
  X(LINECALLINFO, DWORD, dwRedirectingIDSize) \
  X(LINECALLINFO, DWORD, dwRedirectingIDOffset) \
  X(LINECALLINFO, DWORD, dwRedirectingIDNameSize) \
  X(LINECALLINFO, DWORD, dwRedirectingIDNameOffset) \
  X(LINECALLINFO, DWORD, dwAppNameSize) \
  X(LINECALLINFO, DWORD, dwAppNameOffset) \
  X(LINECALLINFO, DWORD, dwDisplayableAddressSize) \
  X(LINECALLINFO, DWORD, dwDisplayableAddressOffset) \
  X(LINECALLINFO, DWORD, dwCalledPartySize) \
  X(LINECALLINFO, DWORD, dwCalledPartyOffset) \
  X(LINECALLINFO, DWORD, dwCommentSize) \
  X(LINECALLINFO, DWORD, dwCommentOffset) \
  X(LINECALLINFO, DWORD, dwDisplaySize) \
  X(LINECALLINFO, DWORD, dwDisplayOffset) \
  X(LINECALLINFO, DWORD, dwUserUserInfoSize) \
  X(LINECALLINFO, DWORD, dwUserUserInfoOffset) \
  X(LINECALLINFO, DWORD, dwHighLevelCompSize) \
  X(LINECALLINFO, DWORD, dwHighLevelCompOffset) \
  X(LINECALLINFO, DWORD, dwLowLevelCompSize) \
  X(LINECALLINFO, DWORD, dwLowLevelCompOffset) \
  X(LINECALLINFO, DWORD, dwChargingInfoSize) \
  X(LINECALLINFO, DWORD, dwChargingInfoOffset) \
  X(LINECALLINFO, DWORD, dwTerminalModesSize) \
  X(LINECALLINFO, DWORD, dwTerminalModesOffset) \
  X(LINECALLINFO, DWORD, dwDevSpecificSize) \
  X(LINECALLINFO, DWORD, dwDevSpecificOffset) \
  X(LINECALLINFO, DWORD, dwCallTreatment) \
  X(LINECALLINFO, DWORD, dwCallDataSize) \
  X(LINECALLINFO, DWORD, dwCallDataOffset) \
  X(LINECALLINFO, DWORD, dwSendingFlowspecSize) \
  X(LINECALLINFO, DWORD, dwSendingFlowspecOffset) \
  X(LINECALLINFO, DWORD, dwReceivingFlowspecSize) \
  X(LINECALLINFO, DWORD, dwReceivingFlowspecOffset) \
  X(LINECALLINFO, DWORD, dwCallerIDAddressType) \
  X(LINECALLINFO, DWORD, dwCalledIDAddressType) \
  X(LINECALLINFO, DWORD, dwConnectedIDAddressType) \
  X(LINECALLINFO, DWORD, dwRedirectionIDAddressType) \
  X(LINECALLINFO, DWORD, dwRedirectingIDAddressType)

#define LINEBRIDGE_TAPI_STRUCT_FIELDS_LINECALLSTATUS(X) \
  X(LINECALLSTATUS, DWORD, dwTotalSize) \
  X(LINECALLSTATUS, DWORD, dwNeededSize) \
  X(LINECALLSTATUS, DWORD, dwUsedSize) \
  X(LINECALLSTATUS, DWORD, dwCallState) \
  X(LINECALLSTATUS, DWORD, dwCallStateMode) \
  X(LINECALLSTATUS, DWORD, dwCallPrivilege) \
  X(LINECALLSTATUS, DWORD, dwCallFeatures) \
  X(LINECALLSTATUS, DWORD, dwDevSpecificSize) \
  X(LINECALLSTATUS, DWORD, dwDevSpecificOffset) \
  X(LINECALLSTATUS, DWORD, dwCallFeatures2) \
  X(LINECALLSTATUS, SYSTEMTIME, tStateEntryTime)

#define LINEBRIDGE_TAPI_STRUCT_FIELDS_LINECALLPARAMS(X) \
  X(LINECALLPARAMS, DWORD, dwTotalSize) \
  X(LINECALLPARAMS, DWORD, dwBearerMode) \
  X(LINECALLPARAMS, DWORD, dwMinRate) \
  X(LINECALLPARAMS, DWORD, dwMaxRate) \
  X(LINECALLPARAMS, DWORD, dwMediaMode) \
  X(LINECALLPARAMS, DWORD, dwCallParamFlags) \
  X(LINECALLPARAMS, DWORD, dwAddressMode) \
  X(LINECALLPARAMS, DWORD, dwAddressID) \
  X(LINECALLPARAMS, LINEDIALPARAMS, DialParams) \
  X(LINECALLPARAMS, DWORD, dwOrigAddressSize) \
  X(LINECALLPARAMS, DWORD, dwOrigAddressOffset) \
  X(LINECALLPARAMS, DWORD, dwDisplayableAddressSize) \
  X(LINECALLPARAMS, DWORD, dwDisplayableAddressOffset) \
  X(LINECALLPARAMS, DWORD, dwCalledPartySize) \
  X(LINECALLPARAMS, DWORD, dwCalledPartyOffset) \
  X(LINECALLPARAMS, DWORD, dwCommentSize) \
  X(LINECALLPARAMS, DWORD, dwCommentOffset) \
  X(LINECALLPARAMS, DWORD, dwUserUserInfoSize) \
  X(LINECALLPARAMS, DWORD, dwUserUserInfoOffset) \
  X(LINECALLPARAMS, DWORD, dwHighLevelCompSize) \
  X(LINECALLPARAMS, DWORD, dwHighLevelCompOffset) \
  X(LINECALLPARAMS, DWORD, dwLowLevelCompSize) \
  X(LINECALLPARAMS, DWORD, dwLowLevelCompOffset) \
  X(LINECALLPARAMS, DWORD, dwDevSpecificSize) \
  X(LINECALLPARAMS, DWORD, dwDevSpecificOffset) \
  X(LINECALLPARAMS, DWORD, dwPredictiveAutoTransferStates) \
  X(LINECALLPARAMS, DWORD, dwTargetAddressSize) \
  X(LINECALLPARAMS, DWORD, dwTargetAddressOffset) \
  X(LINECALLPARAMS, DWORD, dwSendingFlowspecSize) \
  X(LINECALLPARAMS, DWORD, dwSendingFlowspecOffset) \
  X(LINECALLPARAMS, DWORD, dwReceivingFlowspecSize) \
  X(LINECALLPARAMS, DWORD, dwReceivingFlowspecOffset) \
  X(LINECALLPARAMS, DWORD, dwDeviceClassSize) \
  X(LINECALLPARAMS, DWORD, dwDeviceClassOffset) \
  X(LINECALLPARAMS, DWORD, dwDeviceConfigSize) \
  X(LINECALLPARAMS, DWORD, dwDeviceConfigOffset) \
  X(LINECALLPARAMS, DWORD, dwCallDataSize) \
  X(LINECALLPARAMS, DWORD, dwCallDataOffset) \
  X(LINECALLPARAMS, DWORD, dwNoAnswerTimeout) \
  X(LINECALLPARAMS, DWORD, dwCallingPartyIDSize) \
  X(LINECALLPARAMS, DWORD, dwCallingPartyIDOffset) \
  X(LINECALLPARAMS, DWORD, dwAddressType)

#define LINEBRIDGE_TAPI_STRUCT_FIELDS_LINEEXTENSIONID(X) \
  X(LINEEXTENSIONID, DWORD, dwExtensionID0) \
  X(LINEEXTENSIONID, DWORD, dwExtensionID1) \
  X(LINEEXTENSIONID, DWORD, dwExtensionID2) \
  X(LINEEXTENSIONID, DWORD, dwExtensionID3)

#define LINEBRIDGE_TAPI_STRUCT_FIELDS_LINEFORWARD(X) \
  X(LINEFORWARD, DWORD, dwForwardMode) \
  X(LINEFORWARD, DWORD, dwCallerAddressSize) \
  X(LINEFORWARD, DWORD, dwCallerAddressOffset) \
  X(LINEFORWARD, DWORD, dwDestCountryCode) \
  X(LINEFORWARD, DWORD, dwDestAddressSize) \
  X(LINEFORWARD, DWORD, dwDestAddressOffset) \
  X(LINEFORWARD, DWORD, dwCallerAddressType) \
  X(LINEFORWARD, DWORD, dwDestAddressType)

#define LINEBRIDGE_TAPI_STRUCT_FIELDS_LINEFORWARDLIST(X) \
  X(LINEFORWARDLIST, DWORD, dwTotalSize) \
  X(LINEFORWARDLIST, DWORD, dwNumEntries) \
  X(LINEFORWARDLIST, std::type_identity_t<LINEFORWARD[1]>, ForwardList)

#define LINEBRIDGE_TAPI_STRUCT_FIELDS_LINEGENERATETONE(X) \
  X(LINEGENERATETONE, DWORD, dwFrequency) \
  X(LINEGENERATETONE, DWORD, dwCadenceOn) \
  X(LINEGENERATETONE, DWORD, dwCadenceOff) \
  X(LINEGENERATETONE, DWORD, dwVolume)

#define LINEBRIDGE_TAPI_STRUCT_FIELDS_LINEMONITORTONE(X) \
  X(LINEMONITORTONE, DWORD, dwAppSpecific) \
  X(LINEMONITORTONE, DWORD, dwDuration) \
  X(LINEMONITORTONE, DWORD, dwFrequency1) \
  X(LINEMONITORTONE, DWORD, dwFrequency2) \
  X(LINEMONITORTONE, DWORD, dwFrequency3)

#define LINEBRIDGE_TAPI_STRUCT_FIELDS_LINEMEDIACONTROLDIGIT(X) \
  X(LINEMEDIACONTROLDIGIT, DWORD, dwDigit) \
  X(LINEMEDIACONTROLDIGIT, DWORD, dwDigitModes) \
  X(LINEMEDIACONTROLDIGIT, DWORD, dwMediaControl)

#define LINEBRIDGE_TAPI_STRUCT_FIELDS_LINEMEDIACONTROLMEDIA(X) \
  X(LINEMEDIACONTROLMEDIA, DWORD, dwMediaModes) \
  X(LINEMEDIACONTROLMEDIA, DWORD, dwDuration) \
  X(LINEMEDIACONTROLMEDIA, DWORD, dwMediaControl)

#define LINEBRIDGE_TAPI_STRUCT_FIELDS_LINEMEDIACONTROLTONE(X) \
  X(LINEMEDIACONTROLTONE, DWORD, dwAppSpecific) \
  X(LINEMEDIACONTROLTONE, DWORD, dwDuration) \
  X(LINEMEDIACONTROLTONE, DWORD, dwFrequency1) \
  X(LINEMEDIACONTROLTONE, DWORD, dwFrequency2) \
  X(LINEMEDIACONTROLTONE, DWORD, dwFrequency3) \
  X(LINEMEDIACONTROLTONE, DWORD, dwMediaControl)

#define LINEBRIDGE_TAPI_STRUCT_FIELDS_LINEMEDIACONTROLCALLSTATE(X) \
  X(LINEMEDIACONTROLCALLSTATE, DWORD, dwCallStates) \
  X(LINEMEDIACONTROLCALLSTATE, DWORD, dwMediaControl)

#define LINEBRIDGE_TAPI_STRUCT_FIELDS_LINECALLHUBTRACKINGINFO(X) \
  X(LINECALLHUBTRACKINGINFO, DWORD, dwTotalSize) \
  X(LINECALLHUBTRACKINGINFO, DWORD, dwNeededSize) \
  X(LINECALLHUBTRACKINGINFO, DWORD, dwUsedSize) \
  X(LINECALLHUBTRACKINGINFO, DWORD, dwAvailableTracking) \
  X(LINECALLHUBTRACKINGINFO, DWORD, dwCurrentTracking)

#define LINEBRIDGE_TAPI_STRUCT_FIELDS_PHONEBUTTONINFO(X) \
  X(PHONEBUTTONINFO, DWORD, dwTotalSize) \
  X(PHONEBUTTONINFO, DWORD, dwNeededSize) \
  X(PHONEBUTTONINFO, DWORD, dwUsedSize) \
  X(PHONEBUTTONINFO, DWORD, dwButtonMode) \
  X(PHONEBUTTONINFO, DWORD, dwButtonFunction) \
  X(PHONEBUTTONINFO, DWORD, dwButtonTextSize) \
  X(PHONEBUTTONINFO, DWORD, dwButtonTextOffset) \
  X(PHONEBUTTONINFO, DWORD, dwDevSpecificSize) \
  X(PHONEBUTTONINFO, DWORD, dwDevSpecificOffset) \
  X(PHONEBUTTONINFO, DWORD, dwButtonState)

#define LINEBRIDGE_TAPI_STRUCT_FIELDS_PHONECAPS(X) \
  X(PHONECAPS, DWORD, dwTotalSize) \
  X(PHONECAPS, DWORD, dwNeededSize) \
  X(PHONECAPS, DWORD, dwUsedSize) \
  X(PHONECAPS, DWORD, dwProviderInfoSize) \
  X(PHONECAPS, DWORD, dwProviderInfoOffset) \
  X(PHONECAPS, DWORD, dwPhoneInfoSize) \
  X(PHONECAPS, DWORD, dwPhoneInfoOffset) \
  X(PHONECAPS, DWORD, dwPermanentPhoneID) \
  X(PHONECAPS, DWORD, dwPhoneNameSize) \
  X(PHONECAPS, DWORD, dwPhoneNameOffset) \
  X(PHONECAPS, DWORD, dwStringFormat) \
  X(PHONECAPS, DWORD, dwPhoneStates) \
  X(PHONECAPS, DWORD, dwHookSwitchDevs) \
  X(PHONECAPS, DWORD, dwHandsetHookSwitchModes) \
  X(PHONECAPS, DWORD, dwSpeakerHookSwitchModes) \
  X(PHONECAPS, DWORD, dwHeadsetHookSwitchModes) \
  X(PHONECAPS, DWORD, dwVolumeFlags) \
  X(PHONECAPS, DWORD, dwGainFlags) \
  X(PHONECAPS, DWORD, dwDisplayNumRows) \
  X(PHONECAPS, DWORD, dwDisplayNumColumns) \
  X(PHONECAPS, DWORD, dwNumRingModes) \
  X(PHONECAPS, DWORD, dwNumButtonLamps) \
  X(PHONECAPS, DWORD, dwButtonModesSize) \
  X(PHONECAPS, DWORD, dwButtonModesOffset) \
  X(PHONECAPS, DWORD, dwButtonFunctionsSize) \
  X(PHONECAPS, DWORD, dwButtonFunctionsOffset) \
  X(PHONECAPS, DWORD, dwLampModesSize) \
  X(PHONECAPS, DWORD, dwLampModesOffset) \
  X(PHONECAPS, DWORD, dwNumSetData) \
  X(PHONECAPS, DWORD, dwSetDataSize) \
  X(PHONECAPS, DWORD, dwSetDataOffset) \
  X(PHONECAPS, DWORD, dwNumGetData) \
  X(PHONECAPS, DWORD, dwGetDataSize) \
  X(PHONECAPS, DWORD, dwGetDataOffset) \
  X(PHONECAPS, DWORD, dwDevSpecificSize) \
  X(PHONECAPS, DWORD, dwDevSpecificOffset) \
  X(PHONECAPS, DWORD, dwDeviceClassesSize) \
  X(PHONECAPS, DWORD, dwDeviceClassesOffset) \
  X(PHONECAPS, DWORD, dwPhoneFeatures) \
  X(PHONECAPS, DWORD, dwSettableHandsetHookSwitchModes) \
  X(PHONECAPS, DWORD, dwSettableSpeakerHookSwitchModes) \
  X(PHONECAPS, DWORD, dwSettableHeadsetHookSwitchModes) \
  X(PHONECAPS, DWORD, dwMonitoredHandsetHookSwitchModes) \
  X(PHONECAPS, DWORD, dwMonitoredSpeakerHookSwitchModes) \
  X(PHONECAPS, DWORD, dwMonitoredHeadsetHookSwitchModes) \
  X(PHONECAPS, GUID, PermanentPhoneGuid)

#define LINEBRIDGE_TAPI_STRUCT_FIELDS_PHONEEXTENSIONID(X) \
  X(PHONEEXTENSIONID, DWORD, dwExtensionID0) \
  X(PHONEEXTENSIONID, DWORD, dwExtensionID1) \
  X(PHONEEXTENSIONID, DWORD, dwExtensionID2) \
  X(PHONEEXTENSIONID, DWORD, dwExtensionID3)

#define LINEBRIDGE_TAPI_STRUCT_FIELDS_PHONESTATUS(X) \
  X(PHONESTATUS, DWORD, dwTotalSize) \
  X(PHONESTATUS, DWORD, dwNeededSize) \
  X(PHONESTATUS, DWORD, dwUsedSize) \
  X(PHONESTATUS, DWORD, dwStatusFlags) \
  X(PHONESTATUS, DWORD, dwNumOwners) \
  X(PHONESTATUS, DWORD, dwNumMonitors) \
  X(PHONESTATUS, DWORD, dwRingMode) \
  X(PHONESTATUS, DWORD, dwRingVolume) \
  X(PHONESTATUS, DWORD, dwHandsetHookSwitchMode) \
  X(PHONESTATUS, DWORD, dwHandsetVolume) \
  X(PHONESTATUS, DWORD, dwHandsetGain) \
  X(PHONESTATUS, DWORD, dwSpeakerHookSwitchMode) \
  X(PHONESTATUS, DWORD, dwSpeakerVolume) \
  X(PHONESTATUS, DWORD, dwSpeakerGain) \
  X(PHONESTATUS, DWORD, dwHeadsetHookSwitchMode) \
  X(PHONESTATUS, DWORD, dwHeadsetVolume) \
  X(PHONESTATUS, DWORD, dwHeadsetGain) \
  X(PHONESTATUS, DWORD, dwDisplaySize) \
  X(PHONESTATUS, DWORD, dwDisplayOffset) \
  X(PHONESTATUS, DWORD, dwLampModesSize) \
  X(PHONESTATUS, DWORD, dwLampModesOffset) \
  X(PHONESTATUS, DWORD, dwOwnerNameSize) \
  X(PHONESTATUS, DWORD, dwOwnerNameOffset) \
  X(PHONESTATUS, DWORD, dwDevSpecificSize) \
  X(PHONESTATUS, DWORD, dwDevSpecificOffset) \
  X(PHONESTATUS, DWORD, dwPhoneFeatures)

// The packed TAPI structures, in declaration order (a structure follows the
// ones it embeds). Each has a LP<NAME> pointer typedef, as in tapi.h.
#define LINEBRIDGE_TAPI_STRUCTS(X) \
  X(VARSTRING) \
  X(LINEDIALPARAMS) \
  X(LINEDEVCAPS) \
  X(LINEADDRESSCAPS) \
  X(LINEDEVSTATUS) \
  X(LINEADDRESSSTATUS) \
  X(LINECALLINFO) \
  X(LINECALLSTATUS) \
  X(LINECALLPARAMS) \
  X(LINEEXTENSIONID) \
  X(LINEFORWARD) \
  X(LINEFORWARDLIST) \
  X(LINEGENERATETONE) \
  X(LINEMONITORTONE) \
  X(LINEMEDIACONTROLDIGIT) \
  X(LINEMEDIACONTROLMEDIA) \
  X(LINEMEDIACONTROLTONE) \
  X(LINEMEDIACONTROLCALLSTATE) \
  X(LINECALLHUBTRACKINGINFO) \
  X(PHONEBUTTONINFO) \
  X(PHONECAPS) \
  X(PHONEEXTENSIONID) \
  X(PHONESTATUS)

// ---- callbacks TAPI hands to the provider: X(RESULT, NAME, (PARAMS)) -------
#define LINEBRIDGE_TAPI_CALLBACKS(X) \
  X(void, ASYNC_COMPLETION, (DRV_REQUESTID dwRequestID, LONG lResult)) \
  X(void, LINEEVENT, (HTAPILINE htLine, HTAPICALL htCall, DWORD dwMsg, \
                      DWORD_PTR dwParam1, DWORD_PTR dwParam2, DWORD_PTR dwParam3)) \
  X(void, PHONEEVENT, (HTAPIPHONE htPhone, DWORD dwMsg, DWORD_PTR dwParam1, \
                       DWORD_PTR dwParam2, DWORD_PTR dwParam3)) \
  X(LONG, TUISPIDLLCALLBACK, (DWORD_PTR dwObjectID, DWORD dwObjectType, \
                              LPVOID lpParams, DWORD dwSize))

// ---- TSPI 3.0 provider, line and phone entry points: X(NAME, (PARAMS)) --------------
// Every function returns LONG and uses TSPIAPI. This is the set tspi.h declares
// (TSPI_provider*, TSPI_line* and TSPI_phone*); remote-tsp/linebridge.def exports exactly
// these names, undecorated.
#define LINEBRIDGE_TSPI_PROVIDER_FUNCTIONS(X) \
  X(TSPI_providerConfig, (HWND hwndOwner, DWORD dwPermanentProviderID)) \
  X(TSPI_providerCreateLineDevice, (DWORD_PTR dwTempID, DWORD dwDeviceID)) \
  X(TSPI_providerCreatePhoneDevice, (DWORD_PTR dwTempID, DWORD dwDeviceID)) \
  X(TSPI_providerEnumDevices, (DWORD dwPermanentProviderID, LPDWORD lpdwNumLines, \
      LPDWORD lpdwNumPhones, HPROVIDER hProvider, LINEEVENT lpfnLineCreateProc, \
      PHONEEVENT lpfnPhoneCreateProc)) \
  X(TSPI_providerFreeDialogInstance, (HDRVDIALOGINSTANCE hdDlgInst)) \
  X(TSPI_providerGenericDialogData, (DWORD_PTR dwObjectID, DWORD dwObjectType, \
      LPVOID lpParams, DWORD dwSize)) \
  X(TSPI_providerInit, (DWORD dwTSPIVersion, DWORD dwPermanentProviderID, \
      DWORD dwLineDeviceIDBase, DWORD dwPhoneDeviceIDBase, DWORD_PTR dwNumLines, \
      DWORD_PTR dwNumPhones, ASYNC_COMPLETION lpfnCompletionProc, \
      LPDWORD lpdwTSPIOptions)) \
  X(TSPI_providerInstall, (HWND hwndOwner, DWORD dwPermanentProviderID)) \
  X(TSPI_providerRemove, (HWND hwndOwner, DWORD dwPermanentProviderID)) \
  X(TSPI_providerShutdown, (DWORD dwTSPIVersion, DWORD dwPermanentProviderID)) \
  X(TSPI_providerUIIdentify, (LPWSTR lpszUIDLLName))

#define LINEBRIDGE_TSPI_LINE_FUNCTIONS(X) \
  X(TSPI_lineAccept, (DRV_REQUESTID dwRequestID, HDRVCALL hdCall, \
      LPCSTR lpsUserUserInfo, DWORD dwSize)) \
  X(TSPI_lineAddToConference, (DRV_REQUESTID dwRequestID, HDRVCALL hdConfCall, \
      HDRVCALL hdConsultCall)) \
  X(TSPI_lineAnswer, (DRV_REQUESTID dwRequestID, HDRVCALL hdCall, \
      LPCSTR lpsUserUserInfo, DWORD dwSize)) \
  X(TSPI_lineBlindTransfer, (DRV_REQUESTID dwRequestID, HDRVCALL hdCall, \
      LPCWSTR lpszDestAddress, DWORD dwCountryCode)) \
  X(TSPI_lineClose, (HDRVLINE hdLine)) \
  X(TSPI_lineCloseCall, (HDRVCALL hdCall)) \
  X(TSPI_lineCloseMSPInstance, (HDRVMSPLINE hdMSPLine)) \
  X(TSPI_lineCompleteCall, (DRV_REQUESTID dwRequestID, HDRVCALL hdCall, \
      LPDWORD lpdwCompletionID, DWORD dwCompletionMode, DWORD dwMessageID)) \
  X(TSPI_lineCompleteTransfer, (DRV_REQUESTID dwRequestID, HDRVCALL hdCall, \
      HDRVCALL hdConsultCall, HTAPICALL htConfCall, LPHDRVCALL lphdConfCall, \
      DWORD dwTransferMode)) \
  X(TSPI_lineConditionalMediaDetection, (HDRVLINE hdLine, DWORD dwMediaModes, \
      LPLINECALLPARAMS const lpCallParams)) \
  X(TSPI_lineCreateMSPInstance, (HDRVLINE hdLine, DWORD dwAddressID, \
      HTAPIMSPLINE htMSPLine, LPHDRVMSPLINE lphdMSPLine)) \
  X(TSPI_lineDevSpecific, (DRV_REQUESTID dwRequestID, HDRVLINE hdLine, \
      DWORD dwAddressID, HDRVCALL hdCall, LPVOID lpParams, DWORD dwSize)) \
  X(TSPI_lineDevSpecificFeature, (DRV_REQUESTID dwRequestID, HDRVLINE hdLine, \
      DWORD dwFeature, LPVOID lpParams, DWORD dwSize)) \
  X(TSPI_lineDial, (DRV_REQUESTID dwRequestID, HDRVCALL hdCall, \
      LPCWSTR lpszDestAddress, DWORD dwCountryCode)) \
  X(TSPI_lineDrop, (DRV_REQUESTID dwRequestID, HDRVCALL hdCall, \
      LPCSTR lpsUserUserInfo, DWORD dwSize)) \
  X(TSPI_lineDropNoOwner, (HDRVCALL hdCall)) \
  X(TSPI_lineDropOnClose, (HDRVCALL hdCall)) \
  X(TSPI_lineForward, (DRV_REQUESTID dwRequestID, HDRVLINE hdLine, \
      DWORD bAllAddresses, DWORD dwAddressID, LPLINEFORWARDLIST const lpForwardList, \
      DWORD dwNumRingsNoAnswer, HTAPICALL htConsultCall, LPHDRVCALL lphdConsultCall, \
      LPLINECALLPARAMS const lpCallParams)) \
  X(TSPI_lineGatherDigits, (HDRVCALL hdCall, DWORD dwEndToEndID, \
      DWORD dwDigitModes, LPWSTR lpsDigits, DWORD dwNumDigits, \
      LPCWSTR lpszTerminationDigits, DWORD dwFirstDigitTimeout, \
      DWORD dwInterDigitTimeout)) \
  X(TSPI_lineGenerateDigits, (HDRVCALL hdCall, DWORD dwEndToEndID, \
      DWORD dwDigitMode, LPCWSTR lpszDigits, DWORD dwDuration)) \
  X(TSPI_lineGenerateTone, (HDRVCALL hdCall, DWORD dwEndToEndID, \
      DWORD dwToneMode, DWORD dwDuration, DWORD dwNumTones, \
      LPLINEGENERATETONE const lpTones)) \
  X(TSPI_lineGetAddressCaps, (DWORD dwDeviceID, DWORD dwAddressID, \
      DWORD dwTSPIVersion, DWORD dwExtVersion, LPLINEADDRESSCAPS lpAddressCaps)) \
  X(TSPI_lineGetAddressID, (HDRVLINE hdLine, LPDWORD lpdwAddressID, \
      DWORD dwAddressMode, LPCWSTR lpsAddress, DWORD dwSize)) \
  X(TSPI_lineGetAddressStatus, (HDRVLINE hdLine, DWORD dwAddressID, \
      LPLINEADDRESSSTATUS lpAddressStatus)) \
  X(TSPI_lineGetCallAddressID, (HDRVCALL hdCall, LPDWORD lpdwAddressID)) \
  X(TSPI_lineGetCallHubTracking, (HDRVLINE hdLine, \
      LPLINECALLHUBTRACKINGINFO lpTrackingInfo)) \
  X(TSPI_lineGetCallIDs, (HDRVCALL hdCall, LPDWORD lpdwAddressID, \
      LPDWORD lpdwCallID, LPDWORD lpdwRelatedCallID)) \
  X(TSPI_lineGetCallInfo, (HDRVCALL hdCall, LPLINECALLINFO lpCallInfo)) \
  X(TSPI_lineGetCallStatus, (HDRVCALL hdCall, LPLINECALLSTATUS lpCallStatus)) \
  X(TSPI_lineGetDevCaps, (DWORD dwDeviceID, DWORD dwTSPIVersion, \
      DWORD dwExtVersion, LPLINEDEVCAPS lpLineDevCaps)) \
  X(TSPI_lineGetDevConfig, (DWORD dwDeviceID, LPVARSTRING lpDeviceConfig, \
      LPCWSTR lpszDeviceClass)) \
  X(TSPI_lineGetExtensionID, (DWORD dwDeviceID, DWORD dwTSPIVersion, \
      LPLINEEXTENSIONID lpExtensionID)) \
  X(TSPI_lineGetIcon, (DWORD dwDeviceID, LPCWSTR lpszDeviceClass, \
      LPHICON lphIcon)) \
  X(TSPI_lineGetID, (HDRVLINE hdLine, DWORD dwAddressID, HDRVCALL hdCall, \
      DWORD dwSelect, LPVARSTRING lpDeviceID, LPCWSTR lpszDeviceClass, \
      HANDLE hTargetProcess)) \
  X(TSPI_lineGetLineDevStatus, (HDRVLINE hdLine, LPLINEDEVSTATUS lpLineDevStatus)) \
  X(TSPI_lineGetNumAddressIDs, (HDRVLINE hdLine, LPDWORD lpdwNumAddressIDs)) \
  X(TSPI_lineHold, (DRV_REQUESTID dwRequestID, HDRVCALL hdCall)) \
  X(TSPI_lineMSPIdentify, (DWORD dwDeviceID, GUID* pCLSID)) \
  X(TSPI_lineMakeCall, (DRV_REQUESTID dwRequestID, HDRVLINE hdLine, \
      HTAPICALL htCall, LPHDRVCALL lphdCall, LPCWSTR lpszDestAddress, \
      DWORD dwCountryCode, LPLINECALLPARAMS const lpCallParams)) \
  X(TSPI_lineMonitorDigits, (HDRVCALL hdCall, DWORD dwDigitModes)) \
  X(TSPI_lineMonitorMedia, (HDRVCALL hdCall, DWORD dwMediaModes)) \
  X(TSPI_lineMonitorTones, (HDRVCALL hdCall, DWORD dwToneListID, \
      LPLINEMONITORTONE const lpToneList, DWORD dwNumEntries)) \
  X(TSPI_lineNegotiateExtVersion, (DWORD dwDeviceID, DWORD dwTSPIVersion, \
      DWORD dwLowVersion, DWORD dwHighVersion, LPDWORD lpdwExtVersion)) \
  X(TSPI_lineNegotiateTSPIVersion, (DWORD dwDeviceID, DWORD dwLowVersion, \
      DWORD dwHighVersion, LPDWORD lpdwTSPIVersion)) \
  X(TSPI_lineOpen, (DWORD dwDeviceID, HTAPILINE htLine, LPHDRVLINE lphdLine, \
      DWORD dwTSPIVersion, LINEEVENT lpfnEventProc)) \
  X(TSPI_linePark, (DRV_REQUESTID dwRequestID, HDRVCALL hdCall, \
      DWORD dwParkMode, LPCWSTR lpszDirAddress, LPVARSTRING lpNonDirAddress)) \
  X(TSPI_linePickup, (DRV_REQUESTID dwRequestID, HDRVLINE hdLine, \
      DWORD dwAddressID, HTAPICALL htCall, LPHDRVCALL lphdCall, \
      LPCWSTR lpszDestAddress, LPCWSTR lpszGroupID)) \
  X(TSPI_linePrepareAddToConference, (DRV_REQUESTID dwRequestID, \
      HDRVCALL hdConfCall, HTAPICALL htConsultCall, LPHDRVCALL lphdConsultCall, \
      LPLINECALLPARAMS const lpCallParams)) \
  X(TSPI_lineReceiveMSPData, (HDRVLINE hdLine, HDRVCALL hdCall, \
      HDRVMSPLINE hdMSPLine, LPVOID pBuffer, DWORD dwSize)) \
  X(TSPI_lineRedirect, (DRV_REQUESTID dwRequestID, HDRVCALL hdCall, \
      LPCWSTR lpszDestAddress, DWORD dwCountryCode)) \
  X(TSPI_lineReleaseUserUserInfo, (DRV_REQUESTID dwRequestID, HDRVCALL hdCall)) \
  X(TSPI_lineRemoveFromConference, (DRV_REQUESTID dwRequestID, HDRVCALL hdCall)) \
  X(TSPI_lineSecureCall, (DRV_REQUESTID dwRequestID, HDRVCALL hdCall)) \
  X(TSPI_lineSelectExtVersion, (HDRVLINE hdLine, DWORD dwExtVersion)) \
  X(TSPI_lineSendUserUserInfo, (DRV_REQUESTID dwRequestID, HDRVCALL hdCall, \
      LPCSTR lpsUserUserInfo, DWORD dwSize)) \
  X(TSPI_lineSetAppSpecific, (HDRVCALL hdCall, DWORD dwAppSpecific)) \
  X(TSPI_lineSetCallData, (DRV_REQUESTID dwRequestID, HDRVCALL hdCall, \
      LPVOID lpCallData, DWORD dwSize)) \
  X(TSPI_lineSetCallHubTracking, (HDRVLINE hdLine, \
      LPLINECALLHUBTRACKINGINFO lpTrackingInfo)) \
  X(TSPI_lineSetCallParams, (DRV_REQUESTID dwRequestID, HDRVCALL hdCall, \
      DWORD dwBearerMode, DWORD dwMinRate, DWORD dwMaxRate, \
      LPLINEDIALPARAMS const lpDialParams)) \
  X(TSPI_lineSetCallQualityOfService, (DRV_REQUESTID dwRequestID, \
      HDRVCALL hdCall, LPVOID lpSendingFlowspec, DWORD dwSendingFlowspecSize, \
      LPVOID lpReceivingFlowspec, DWORD dwReceivingFlowspecSize)) \
  X(TSPI_lineSetCallTreatment, (DRV_REQUESTID dwRequestID, HDRVCALL hdCall, \
      DWORD dwTreatment)) \
  X(TSPI_lineSetCurrentLocation, (DWORD dwLocation)) \
  X(TSPI_lineSetDefaultMediaDetection, (HDRVLINE hdLine, DWORD dwMediaModes)) \
  X(TSPI_lineSetDevConfig, (DWORD dwDeviceID, LPVOID const lpDeviceConfig, \
      DWORD dwSize, LPCWSTR lpszDeviceClass)) \
  X(TSPI_lineSetLineDevStatus, (DRV_REQUESTID dwRequestID, HDRVLINE hdLine, \
      DWORD dwStatusToChange, DWORD fStatus)) \
  X(TSPI_lineSetMediaControl, (HDRVLINE hdLine, DWORD dwAddressID, \
      HDRVCALL hdCall, DWORD dwSelect, \
      LPLINEMEDIACONTROLDIGIT const lpDigitList, DWORD dwDigitNumEntries, \
      LPLINEMEDIACONTROLMEDIA const lpMediaList, DWORD dwMediaNumEntries, \
      LPLINEMEDIACONTROLTONE const lpToneList, DWORD dwToneNumEntries, \
      LPLINEMEDIACONTROLCALLSTATE const lpCallStateList, \
      DWORD dwCallStateNumEntries)) \
  X(TSPI_lineSetMediaMode, (HDRVCALL hdCall, DWORD dwMediaMode)) \
  X(TSPI_lineSetStatusMessages, (HDRVLINE hdLine, DWORD dwLineStates, \
      DWORD dwAddressStates)) \
  X(TSPI_lineSetTerminal, (DRV_REQUESTID dwRequestID, HDRVLINE hdLine, \
      DWORD dwAddressID, HDRVCALL hdCall, DWORD dwSelect, DWORD dwTerminalModes, \
      DWORD dwTerminalID, DWORD bEnable)) \
  X(TSPI_lineSetupConference, (DRV_REQUESTID dwRequestID, HDRVCALL hdCall, \
      HDRVLINE hdLine, HTAPICALL htConfCall, LPHDRVCALL lphdConfCall, \
      HTAPICALL htConsultCall, LPHDRVCALL lphdConsultCall, DWORD dwNumParties, \
      LPLINECALLPARAMS const lpCallParams)) \
  X(TSPI_lineSetupTransfer, (DRV_REQUESTID dwRequestID, HDRVCALL hdCall, \
      HTAPICALL htConsultCall, LPHDRVCALL lphdConsultCall, \
      LPLINECALLPARAMS const lpCallParams)) \
  X(TSPI_lineSwapHold, (DRV_REQUESTID dwRequestID, HDRVCALL hdActiveCall, \
      HDRVCALL hdHeldCall)) \
  X(TSPI_lineUncompleteCall, (DRV_REQUESTID dwRequestID, HDRVLINE hdLine, \
      DWORD dwCompletionID)) \
  X(TSPI_lineUnhold, (DRV_REQUESTID dwRequestID, HDRVCALL hdCall)) \
  X(TSPI_lineUnpark, (DRV_REQUESTID dwRequestID, HDRVLINE hdLine, \
      DWORD dwAddressID, HTAPICALL htCall, LPHDRVCALL lphdCall, \
      LPCWSTR lpszDestAddress))

#define LINEBRIDGE_TSPI_PHONE_FUNCTIONS(X) \
  X(TSPI_phoneClose, (HDRVPHONE hdPhone)) \
  X(TSPI_phoneDevSpecific, (DRV_REQUESTID dwRequestID, HDRVPHONE hdPhone, \
      LPVOID lpParams, DWORD dwSize)) \
  X(TSPI_phoneGetButtonInfo, (HDRVPHONE hdPhone, DWORD dwButtonLampID, \
      LPPHONEBUTTONINFO lpButtonInfo)) \
  X(TSPI_phoneGetData, (HDRVPHONE hdPhone, DWORD dwDataID, LPVOID lpData, \
      DWORD dwSize)) \
  X(TSPI_phoneGetDevCaps, (DWORD dwDeviceID, DWORD dwTSPIVersion, \
      DWORD dwExtVersion, LPPHONECAPS lpPhoneCaps)) \
  X(TSPI_phoneGetDisplay, (HDRVPHONE hdPhone, LPVARSTRING lpDisplay)) \
  X(TSPI_phoneGetExtensionID, (DWORD dwDeviceID, DWORD dwTSPIVersion, \
      LPPHONEEXTENSIONID lpExtensionID)) \
  X(TSPI_phoneGetGain, (HDRVPHONE hdPhone, DWORD dwHookSwitchDev, LPDWORD lpdwGain)) \
  X(TSPI_phoneGetHookSwitch, (HDRVPHONE hdPhone, LPDWORD lpdwHookSwitchDevs)) \
  X(TSPI_phoneGetIcon, (DWORD dwDeviceID, LPCWSTR lpszDeviceClass, LPHICON lphIcon)) \
  X(TSPI_phoneGetID, (HDRVPHONE hdPhone, LPVARSTRING lpDeviceID, \
      LPCWSTR lpszDeviceClass, HANDLE hTargetProcess)) \
  X(TSPI_phoneGetLamp, (HDRVPHONE hdPhone, DWORD dwButtonLampID, \
      LPDWORD lpdwLampMode)) \
  X(TSPI_phoneGetRing, (HDRVPHONE hdPhone, LPDWORD lpdwRingMode, \
      LPDWORD lpdwVolume)) \
  X(TSPI_phoneGetStatus, (HDRVPHONE hdPhone, LPPHONESTATUS lpPhoneStatus)) \
  X(TSPI_phoneGetVolume, (HDRVPHONE hdPhone, DWORD dwHookSwitchDev, \
      LPDWORD lpdwVolume)) \
  X(TSPI_phoneNegotiateExtVersion, (DWORD dwDeviceID, DWORD dwTSPIVersion, \
      DWORD dwLowVersion, DWORD dwHighVersion, LPDWORD lpdwExtVersion)) \
  X(TSPI_phoneNegotiateTSPIVersion, (DWORD dwDeviceID, DWORD dwLowVersion, \
      DWORD dwHighVersion, LPDWORD lpdwTSPIVersion)) \
  X(TSPI_phoneOpen, (DWORD dwDeviceID, HTAPIPHONE htPhone, LPHDRVPHONE lphdPhone, \
      DWORD dwTSPIVersion, PHONEEVENT lpfnEventProc)) \
  X(TSPI_phoneSelectExtVersion, (HDRVPHONE hdPhone, DWORD dwExtVersion)) \
  X(TSPI_phoneSetButtonInfo, (DRV_REQUESTID dwRequestID, HDRVPHONE hdPhone, \
      DWORD dwButtonLampID, LPPHONEBUTTONINFO const lpButtonInfo)) \
  X(TSPI_phoneSetData, (DRV_REQUESTID dwRequestID, HDRVPHONE hdPhone, \
      DWORD dwDataID, LPVOID const lpData, DWORD dwSize)) \
  X(TSPI_phoneSetDisplay, (DRV_REQUESTID dwRequestID, HDRVPHONE hdPhone, \
      DWORD dwRow, DWORD dwColumn, LPCWSTR lpsDisplay, DWORD dwSize)) \
  X(TSPI_phoneSetGain, (DRV_REQUESTID dwRequestID, HDRVPHONE hdPhone, \
      DWORD dwHookSwitchDev, DWORD dwGain)) \
  X(TSPI_phoneSetHookSwitch, (DRV_REQUESTID dwRequestID, HDRVPHONE hdPhone, \
      DWORD dwHookSwitchDevs, DWORD dwHookSwitchMode)) \
  X(TSPI_phoneSetLamp, (DRV_REQUESTID dwRequestID, HDRVPHONE hdPhone, \
      DWORD dwButtonLampID, DWORD dwLampMode)) \
  X(TSPI_phoneSetRing, (DRV_REQUESTID dwRequestID, HDRVPHONE hdPhone, \
      DWORD dwRingMode, DWORD dwVolume)) \
  X(TSPI_phoneSetStatusMessages, (HDRVPHONE hdPhone, DWORD dwPhoneStates, \
      DWORD dwButtonModes, DWORD dwButtonStates)) \
  X(TSPI_phoneSetVolume, (DRV_REQUESTID dwRequestID, HDRVPHONE hdPhone, \
      DWORD dwHookSwitchDev, DWORD dwVolume))

#define LINEBRIDGE_TSPI_FUNCTIONS(X) \
  LINEBRIDGE_TSPI_PROVIDER_FUNCTIONS(X) \
  LINEBRIDGE_TSPI_LINE_FUNCTIONS(X) \
  LINEBRIDGE_TSPI_PHONE_FUNCTIONS(X)
