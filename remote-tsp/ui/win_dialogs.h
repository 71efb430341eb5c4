// The UI DLL's windows (Win32 only): the settings dialog and the provider's
// message dialog (TUISPI_providerGenericDialog).
#pragma once

#ifndef NOMINMAX
#define NOMINMAX
#endif
#include <windows.h>

#include <string>

#include "linebridge/tapi_abi.h"  // the SDK's tapi.h/tspi.h (LINEBRIDGE_USE_SDK_TAPI)

namespace linebridge::tspui {

// The module handle of the UI DLL (its dialog resources); set by DllMain.
HINSTANCE UiModule();
void SetUiModule(HINSTANCE module);

// Shows the settings dialog (modal, owned by `owner`, titled `title`): the
// settings of HKLM\SOFTWARE\linebridge\TSP, checked on OK by the provider's
// own validation (the message is shown and the dialog stays open while it
// fails), then written. Returns 0 (saved or cancelled) or
// LINEERR_OPERATIONFAILED (the registry could not be read or written, or
// it only names a configuration file), LINEERR_NOMEM.
LONG RunSettingsDialog(HWND owner, const std::wstring& title);

// TUISPI_providerGenericDialog / GenericDialogData (see tuispi.cc).
LONG RunMessageDialog(HTAPIDIALOGINSTANCE instance, const std::u16string& text, HANDLE ready);
LONG UpdateMessageDialog(HTAPIDIALOGINSTANCE instance, const void* params, DWORD size);

}  // namespace linebridge::tspui
