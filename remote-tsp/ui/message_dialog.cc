// The provider's message dialog (IDD_MESSAGE): TUISPI_providerGenericDialog
// shows it on the thread TAPI created for it and returns when it is closed;
// TUISPI_providerGenericDialogData, on another thread, replaces its text or
// closes it.
#include <map>
#include <mutex>
#include <new>
#include <string>

#include "ui/ui_resource.h"
#include "ui/ui_rules.h"
#include "ui/win_dialogs.h"

namespace linebridge::tspui {
namespace {

constexpr UINT kSetText = WM_APP + 1;  // lparam: a std::wstring* the dialog deletes

std::mutex g_mu;
std::map<HTAPIDIALOGINSTANCE, HWND> g_dialogs;  // guarded by g_mu

std::wstring Wide(const std::u16string& text) { return std::wstring(text.begin(), text.end()); }

INT_PTR CALLBACK MessageProc(HWND dialog, UINT message, WPARAM wparam, LPARAM lparam) {
  switch (message) {
    case WM_INITDIALOG:
      SetDlgItemTextW(dialog, IDC_MESSAGE, reinterpret_cast<const wchar_t*>(lparam));
      return TRUE;
    case kSetText: {
      std::wstring* text = reinterpret_cast<std::wstring*>(lparam);
      SetDlgItemTextW(dialog, IDC_MESSAGE, text->c_str());
      delete text;
      return TRUE;
    }
    case WM_COMMAND:
      if (LOWORD(wparam) == IDOK || LOWORD(wparam) == IDCANCEL) {
        DestroyWindow(dialog);
        return TRUE;
      }
      break;
    case WM_CLOSE:
      DestroyWindow(dialog);
      return TRUE;
    case WM_DESTROY:
      PostQuitMessage(0);
      return TRUE;
    default:
      break;
  }
  return FALSE;
}

}  // namespace

LONG RunMessageDialog(HTAPIDIALOGINSTANCE instance, const std::u16string& text, HANDLE ready) {
  const std::wstring wide = Wide(text);
  HWND dialog = CreateDialogParamW(UiModule(), MAKEINTRESOURCEW(IDD_MESSAGE), nullptr,
                                   MessageProc, reinterpret_cast<LPARAM>(wide.c_str()));
  if (dialog == nullptr) {
    if (ready != nullptr) SetEvent(ready);
    return LINEERR_OPERATIONFAILED;
  }
  {
    std::lock_guard<std::mutex> lock(g_mu);
    g_dialogs[instance] = dialog;
  }
  ShowWindow(dialog, SW_SHOW);
  if (ready != nullptr) SetEvent(ready);
  MSG msg;
  while (GetMessageW(&msg, nullptr, 0, 0) > 0) {
    if (!IsDialogMessageW(dialog, &msg)) {
      TranslateMessage(&msg);
      DispatchMessageW(&msg);
    }
  }
  std::lock_guard<std::mutex> lock(g_mu);
  g_dialogs.erase(instance);
  return 0;
}

LONG UpdateMessageDialog(HTAPIDIALOGINSTANCE instance, const void* params, DWORD size) {
  std::lock_guard<std::mutex> lock(g_mu);
  const auto it = g_dialogs.find(instance);
  if (it == g_dialogs.end()) return LINEERR_INVALPARAM;
  if (params == nullptr) {  // close at once
    return PostMessageW(it->second, WM_CLOSE, 0, 0) ? 0 : LINEERR_OPERATIONFAILED;
  }
  std::u16string text;
  if (!ParseDialogText(params, size, &text)) return LINEERR_INVALPARAM;
  std::wstring* wide = new (std::nothrow) std::wstring();
  if (wide == nullptr) return LINEERR_NOMEM;
  try {
    *wide = Wide(text);
  } catch (const std::bad_alloc&) {
    delete wide;
    return LINEERR_NOMEM;
  }
  if (!PostMessageW(it->second, kSetText, 0, reinterpret_cast<LPARAM>(wide))) {
    delete wide;
    return LINEERR_OPERATIONFAILED;
  }
  return 0;
}

}  // namespace linebridge::tspui
