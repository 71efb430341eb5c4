// The TUISPI entry points of linebridge_ui.dll, the provider's UI DLL: TAPI
// loads it into the application that asks for provider or line
// configuration (lineConfigDialog, lineConfigProvider, the Phone and Modem
// control panel) and calls these functions there. Exported by name
// (linebridge_ui.def); prototypes from tspi.h.
#include <new>
#include <string>
#include <vector>

#include "tsp/tsp_settings.h"
#include "ui/ui_rules.h"
#include "ui/win_dialogs.h"

using linebridge::tspui::RunSettingsDialog;

namespace {

// TAPI's providers (ui_rules.h); an absent key is an empty list.
std::vector<linebridge::tspui::TapiProvider> InstalledProviders() {
  std::vector<linebridge::tspui::TapiProvider> providers;
  HKEY key = nullptr;
  if (RegOpenKeyExA(HKEY_LOCAL_MACHINE, linebridge::tspui::kTapiProvidersKey, 0,
                    KEY_READ | KEY_WOW64_64KEY, &key) != ERROR_SUCCESS) {
    return providers;
  }
  DWORD count = 0, size = sizeof count, type = 0;
  if (RegQueryValueExA(key, "NumProviders", nullptr, &type, reinterpret_cast<BYTE*>(&count),
                       &size) != ERROR_SUCCESS || type != REG_DWORD) {
    count = 0;
  }
  for (DWORD i = 0; i < count && i < 1000; ++i) {
    const std::string n = std::to_string(i);
    DWORD id = 0;
    size = sizeof id;
    if (RegQueryValueExA(key, ("ProviderID" + n).c_str(), nullptr, &type,
                         reinterpret_cast<BYTE*>(&id), &size) != ERROR_SUCCESS ||
        type != REG_DWORD) {
      continue;
    }
    char file[MAX_PATH * 2] = {};
    size = sizeof file - 1;
    if (RegQueryValueExA(key, ("ProviderFileName" + n).c_str(), nullptr, &type,
                         reinterpret_cast<BYTE*>(file), &size) != ERROR_SUCCESS ||
        (type != REG_SZ && type != REG_EXPAND_SZ)) {
      continue;
    }
    providers.push_back({id, file});
  }
  RegCloseKey(key);
  return providers;
}

// NULL, "" and `ours` (e.g. "tapi/line") select the settings; other device
// classes have no configuration here.
bool KnownDeviceClass(LPCWSTR device_class, const wchar_t* ours) {
  return device_class == nullptr || *device_class == L'\0' || lstrcmpiW(device_class, ours) == 0;
}

std::wstring Title(const wchar_t* what, DWORD id) {
  return std::wstring(L"linebridge remote TSP - ") + what + L" " + std::to_wstring(id);
}

}  // namespace

extern "C" {

BOOL WINAPI DllMain(HINSTANCE module, DWORD reason, LPVOID) {
  if (reason == DLL_PROCESS_ATTACH) {
    linebridge::tspui::SetUiModule(module);
    DisableThreadLibraryCalls(module);
  }
  return TRUE;
}

LONG WINAPI TUISPI_providerInstall(TUISPIDLLCALLBACK, HWND, DWORD dwPermanentProviderID) {
  try {
    return linebridge::tspui::CheckInstall(InstalledProviders(), dwPermanentProviderID);
  } catch (const std::bad_alloc&) {
    return LINEERR_NOMEM;
  }
}

LONG WINAPI TUISPI_providerRemove(TUISPIDLLCALLBACK, HWND, DWORD dwPermanentProviderID) {
  try {
    if (const LONG r = linebridge::tspui::CheckRemove(InstalledProviders(), dwPermanentProviderID);
        r != 0) {
      return r;
    }
  } catch (const std::bad_alloc&) {
    return LINEERR_NOMEM;
  }
  // The provider's private registry information: its settings key.
  const LONG r = RegDeleteKeyExA(HKEY_LOCAL_MACHINE, linebridge::tsp::kTspRegistryKey,
                                 KEY_WOW64_64KEY, 0);
  return r == ERROR_SUCCESS || r == ERROR_FILE_NOT_FOUND ? 0 : LINEERR_OPERATIONFAILED;
}

LONG WINAPI TUISPI_providerConfig(TUISPIDLLCALLBACK, HWND hwndOwner, DWORD dwPermanentProviderID) {
  return RunSettingsDialog(hwndOwner, Title(L"provider", dwPermanentProviderID));
}

LONG WINAPI TUISPI_lineConfigDialog(TUISPIDLLCALLBACK, DWORD dwDeviceID, HWND hwndOwner,
                                    LPCWSTR lpszDeviceClass) {
  if (!KnownDeviceClass(lpszDeviceClass, L"tapi/line")) return LINEERR_INVALDEVICECLASS;
  return RunSettingsDialog(hwndOwner, Title(L"line", dwDeviceID));
}

LONG WINAPI TUISPI_lineConfigDialogEdit(TUISPIDLLCALLBACK, DWORD dwDeviceID, HWND hwndOwner,
                                        LPCWSTR lpszDeviceClass, LPVOID const lpDeviceConfigIn,
                                        DWORD dwSize, LPVARSTRING lpDeviceConfigOut) {
  if (!KnownDeviceClass(lpszDeviceClass, L"tapi/line")) return LINEERR_INVALDEVICECLASS;
  if (lpDeviceConfigOut == nullptr || (lpDeviceConfigIn == nullptr && dwSize != 0)) {
    return LINEERR_INVALPOINTER;
  }
  if (lpDeviceConfigOut->dwTotalSize < sizeof(VARSTRING)) return LINEERR_STRUCTURETOOSMALL;
  // The device configuration passes through unchanged (the dialog edits the
  // provider's settings, which are not part of it). A buffer too small for
  // it gets dwNeededSize without the dialog, so the application can retry.
  VARSTRING* out = lpDeviceConfigOut;
  const DWORD total = out->dwTotalSize;
  ZeroMemory(out, sizeof(VARSTRING));
  out->dwTotalSize = total;
  out->dwNeededSize = static_cast<DWORD>(sizeof(VARSTRING)) + dwSize;
  out->dwUsedSize = sizeof(VARSTRING);
  out->dwStringFormat = STRINGFORMAT_BINARY;
  if (out->dwNeededSize > total) return 0;
  const LONG r = RunSettingsDialog(hwndOwner, Title(L"line", dwDeviceID));
  if (r != 0) return r;
  if (dwSize != 0) CopyMemory(reinterpret_cast<BYTE*>(out) + sizeof(VARSTRING), lpDeviceConfigIn, dwSize);
  out->dwStringSize = dwSize;
  out->dwStringOffset = dwSize != 0 ? static_cast<DWORD>(sizeof(VARSTRING)) : 0;
  out->dwUsedSize = out->dwNeededSize;
  return 0;
}

LONG WINAPI TUISPI_phoneConfigDialog(TUISPIDLLCALLBACK, DWORD dwDeviceID, HWND hwndOwner,
                                     LPCWSTR lpszDeviceClass) {
  if (!KnownDeviceClass(lpszDeviceClass, L"tapi/phone")) return PHONEERR_INVALDEVICECLASS;
  const LONG r = RunSettingsDialog(hwndOwner, Title(L"phone", dwDeviceID));
  if (r == static_cast<LONG>(LINEERR_NOMEM)) return PHONEERR_NOMEM;
  return r != 0 ? PHONEERR_OPERATIONFAILED : 0;
}

LONG WINAPI TUISPI_providerGenericDialog(TUISPIDLLCALLBACK, HTAPIDIALOGINSTANCE htDlgInst,
                                         LPVOID lpParams, DWORD dwSize, HANDLE hEvent) {
  std::u16string text;
  try {
    if (!linebridge::tspui::ParseDialogText(lpParams, dwSize, &text)) {
      if (hEvent != nullptr) SetEvent(hEvent);
      return LINEERR_INVALPARAM;
    }
    return linebridge::tspui::RunMessageDialog(htDlgInst, text, hEvent);
  } catch (const std::bad_alloc&) {
    if (hEvent != nullptr) SetEvent(hEvent);
    return LINEERR_NOMEM;
  }
}

LONG WINAPI TUISPI_providerGenericDialogData(HTAPIDIALOGINSTANCE htDlgInst, LPVOID lpParams,
                                             DWORD dwSize) {
  try {
    return linebridge::tspui::UpdateMessageDialog(htDlgInst, lpParams, dwSize);
  } catch (const std::bad_alloc&) {
    return LINEERR_NOMEM;
  }
}

}  // extern "C"
