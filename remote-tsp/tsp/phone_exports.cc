// The phone entry points of linebridge.tsp (TSPI_phone* and
// TSPI_providerCreatePhoneDevice), C linkage, exported by name like those of
// exports.cc; each is one call into RemoteProvider (phone_open.cc,
// phone_info.cc, phone_set.cc).
#include "linebridge/tapi_abi.h"
#include "tsp/remote_provider.h"

#define LB_TSPI_EXPORT __attribute__((visibility("default")))

using linebridge::tsp::RemoteProvider;

namespace {
RemoteProvider& P() { return RemoteProvider::Instance(); }
}  // namespace

extern "C" {

LB_TSPI_EXPORT LONG TSPIAPI TSPI_providerCreatePhoneDevice(DWORD_PTR dwTempID, DWORD dwDeviceID) {
  return P().CreatePhoneDevice(dwTempID, dwDeviceID);
}
LB_TSPI_EXPORT LONG TSPIAPI TSPI_phoneClose(HDRVPHONE hdPhone) {
  return P().PhoneClose(hdPhone);
}
LB_TSPI_EXPORT LONG TSPIAPI TSPI_phoneDevSpecific(DRV_REQUESTID dwRequestID, HDRVPHONE hdPhone, LPVOID lpParams, DWORD dwSize) {
  return P().PhoneDevSpecific(dwRequestID, hdPhone, lpParams, dwSize);
}
LB_TSPI_EXPORT LONG TSPIAPI TSPI_phoneGetButtonInfo(HDRVPHONE hdPhone, DWORD dwButtonLampID, LPPHONEBUTTONINFO lpButtonInfo) {
  return P().PhoneGetButtonInfo(hdPhone, dwButtonLampID, lpButtonInfo);
}
LB_TSPI_EXPORT LONG TSPIAPI TSPI_phoneGetData(HDRVPHONE hdPhone, DWORD dwDataID, LPVOID lpData, DWORD dwSize) {
  return P().PhoneGetData(hdPhone, dwDataID, lpData, dwSize);
}
LB_TSPI_EXPORT LONG TSPIAPI TSPI_phoneGetDevCaps(DWORD dwDeviceID, DWORD dwTSPIVersion, DWORD dwExtVersion, LPPHONECAPS lpPhoneCaps) {
  return P().PhoneGetDevCaps(dwDeviceID, dwTSPIVersion, dwExtVersion, lpPhoneCaps);
}
LB_TSPI_EXPORT LONG TSPIAPI TSPI_phoneGetDisplay(HDRVPHONE hdPhone, LPVARSTRING lpDisplay) {
  return P().PhoneGetDisplay(hdPhone, lpDisplay);
}
LB_TSPI_EXPORT LONG TSPIAPI TSPI_phoneGetExtensionID(DWORD dwDeviceID, DWORD dwTSPIVersion, LPPHONEEXTENSIONID lpExtensionID) {
  return P().PhoneGetExtensionID(dwDeviceID, dwTSPIVersion, lpExtensionID);
}
LB_TSPI_EXPORT LONG TSPIAPI TSPI_phoneGetGain(HDRVPHONE hdPhone, DWORD dwHookSwitchDev, LPDWORD lpdwGain) {
  return P().PhoneGetGain(hdPhone, dwHookSwitchDev, lpdwGain);
}
LB_TSPI_EXPORT LONG TSPIAPI TSPI_phoneGetHookSwitch(HDRVPHONE hdPhone, LPDWORD lpdwHookSwitchDevs) {
  return P().PhoneGetHookSwitch(hdPhone, lpdwHookSwitchDevs);
}
LB_TSPI_EXPORT LONG TSPIAPI TSPI_phoneGetIcon(DWORD dwDeviceID, LPCWSTR lpszDeviceClass, LPHICON lphIcon) {
  return P().PhoneGetIcon(dwDeviceID, lpszDeviceClass, lphIcon);
}
LB_TSPI_EXPORT LONG TSPIAPI TSPI_phoneGetID(HDRVPHONE hdPhone, LPVARSTRING lpDeviceID, LPCWSTR lpszDeviceClass, HANDLE) {
  return P().PhoneGetID(hdPhone, lpDeviceID, lpszDeviceClass);
}
LB_TSPI_EXPORT LONG TSPIAPI TSPI_phoneGetLamp(HDRVPHONE hdPhone, DWORD dwButtonLampID, LPDWORD lpdwLampMode) {
  return P().PhoneGetLamp(hdPhone, dwButtonLampID, lpdwLampMode);
}
LB_TSPI_EXPORT LONG TSPIAPI TSPI_phoneGetRing(HDRVPHONE hdPhone, LPDWORD lpdwRingMode, LPDWORD lpdwVolume) {
  return P().PhoneGetRing(hdPhone, lpdwRingMode, lpdwVolume);
}
LB_TSPI_EXPORT LONG TSPIAPI TSPI_phoneGetStatus(HDRVPHONE hdPhone, LPPHONESTATUS lpPhoneStatus) {
  return P().PhoneGetStatus(hdPhone, lpPhoneStatus);
}
LB_TSPI_EXPORT LONG TSPIAPI TSPI_phoneGetVolume(HDRVPHONE hdPhone, DWORD dwHookSwitchDev, LPDWORD lpdwVolume) {
  return P().PhoneGetVolume(hdPhone, dwHookSwitchDev, lpdwVolume);
}
LB_TSPI_EXPORT LONG TSPIAPI TSPI_phoneNegotiateExtVersion(DWORD dwDeviceID, DWORD dwTSPIVersion, DWORD dwLowVersion, DWORD dwHighVersion, LPDWORD lpdwExtVersion) {
  return P().PhoneNegotiateExtVersion(dwDeviceID, dwTSPIVersion, dwLowVersion, dwHighVersion, lpdwExtVersion);
}
LB_TSPI_EXPORT LONG TSPIAPI TSPI_phoneNegotiateTSPIVersion(DWORD dwDeviceID, DWORD dwLowVersion, DWORD dwHighVersion, LPDWORD lpdwTSPIVersion) {
  return P().PhoneNegotiateTSPIVersion(dwDeviceID, dwLowVersion, dwHighVersion, lpdwTSPIVersion);
}
LB_TSPI_EXPORT LONG TSPIAPI TSPI_phoneOpen(DWORD dwDeviceID, HTAPIPHONE htPhone, LPHDRVPHONE lphdPhone, DWORD dwTSPIVersion, PHONEEVENT lpfnEventProc) {
  return P().PhoneOpen(dwDeviceID, htPhone, lphdPhone, dwTSPIVersion, lpfnEventProc);
}
LB_TSPI_EXPORT LONG TSPIAPI TSPI_phoneSelectExtVersion(HDRVPHONE hdPhone, DWORD dwExtVersion) {
  return P().PhoneSelectExtVersion(hdPhone, dwExtVersion);
}
LB_TSPI_EXPORT LONG TSPIAPI TSPI_phoneSetButtonInfo(DRV_REQUESTID dwRequestID, HDRVPHONE hdPhone, DWORD dwButtonLampID, LPPHONEBUTTONINFO const lpButtonInfo) {
  return P().PhoneSetButtonInfo(dwRequestID, hdPhone, dwButtonLampID, lpButtonInfo);
}
LB_TSPI_EXPORT LONG TSPIAPI TSPI_phoneSetData(DRV_REQUESTID dwRequestID, HDRVPHONE hdPhone, DWORD dwDataID, LPVOID const lpData, DWORD dwSize) {
  return P().PhoneSetData(dwRequestID, hdPhone, dwDataID, lpData, dwSize);
}
LB_TSPI_EXPORT LONG TSPIAPI TSPI_phoneSetDisplay(DRV_REQUESTID dwRequestID, HDRVPHONE hdPhone, DWORD dwRow, DWORD dwColumn, LPCWSTR lpsDisplay, DWORD dwSize) {
  return P().PhoneSetDisplay(dwRequestID, hdPhone, dwRow, dwColumn, lpsDisplay, dwSize);
}
LB_TSPI_EXPORT LONG TSPIAPI TSPI_phoneSetGain(DRV_REQUESTID dwRequestID, HDRVPHONE hdPhone, DWORD dwHookSwitchDev, DWORD dwGain) {
  return P().PhoneSetGain(dwRequestID, hdPhone, dwHookSwitchDev, dwGain);
}
LB_TSPI_EXPORT LONG TSPIAPI TSPI_phoneSetHookSwitch(DRV_REQUESTID dwRequestID, HDRVPHONE hdPhone, DWORD dwHookSwitchDevs, DWORD dwHookSwitchMode) {
  return P().PhoneSetHookSwitch(dwRequestID, hdPhone, dwHookSwitchDevs, dwHookSwitchMode);
}
LB_TSPI_EXPORT LONG TSPIAPI TSPI_phoneSetLamp(DRV_REQUESTID dwRequestID, HDRVPHONE hdPhone, DWORD dwButtonLampID, DWORD dwLampMode) {
  return P().PhoneSetLamp(dwRequestID, hdPhone, dwButtonLampID, dwLampMode);
}
LB_TSPI_EXPORT LONG TSPIAPI TSPI_phoneSetRing(DRV_REQUESTID dwRequestID, HDRVPHONE hdPhone, DWORD dwRingMode, DWORD dwVolume) {
  return P().PhoneSetRing(dwRequestID, hdPhone, dwRingMode, dwVolume);
}
LB_TSPI_EXPORT LONG TSPIAPI TSPI_phoneSetStatusMessages(HDRVPHONE hdPhone, DWORD dwPhoneStates, DWORD dwButtonModes, DWORD dwButtonStates) {
  return P().PhoneSetStatusMessages(hdPhone, dwPhoneStates, dwButtonModes, dwButtonStates);
}
LB_TSPI_EXPORT LONG TSPIAPI TSPI_phoneSetVolume(DRV_REQUESTID dwRequestID, HDRVPHONE hdPhone, DWORD dwHookSwitchDev, DWORD dwVolume) {
  return P().PhoneSetVolume(dwRequestID, hdPhone, dwHookSwitchDev, dwVolume);
}

}  // extern "C"
