// The settings dialog (IDD_CONFIG in linebridge_ui.rc).
#include <new>
#include <string>
#include <vector>

#include "tsp/tsp_settings.h"
#include "ui/settings_form.h"
#include "ui/ui_resource.h"
#include "ui/win_dialogs.h"

namespace linebridge::tspui {
namespace {

HINSTANCE g_module = nullptr;

std::wstring Wide(const std::string& utf8) {
  const std::u16string units = tsp::Utf8ToRegistryText(utf8);
  return std::wstring(units.begin(), units.end());
}

std::string Utf8(const std::wstring& wide) {
  return tsp::RegistryTextToUtf8(reinterpret_cast<const char16_t*>(wide.data()), wide.size());
}

std::wstring ControlText(HWND dialog, int id) {
  HWND control = GetDlgItem(dialog, id);
  const int length = GetWindowTextLengthW(control);
  std::wstring text(static_cast<size_t>(length) + 1, L'\0');
  const int got = GetWindowTextW(control, text.data(), length + 1);
  text.resize(static_cast<size_t>(got > 0 ? got : 0));
  return text;
}

struct DialogState {
  std::wstring title;
  FormValues form;
};

void ShowError(HWND dialog, const std::string& message) {
  SetDlgItemTextW(dialog, IDC_ERROR, Wide(message).c_str());
  MessageBeep(MB_ICONWARNING);
}

void Save(HWND dialog) {
  FormValues form;
  for (size_t i = 0; i < kFields.size(); ++i) {
    const int id = IDC_FIELD0 + static_cast<int>(i);
    if (kFields[i].kind == FieldKind::kCheck) {
      form[i] = IsDlgButtonChecked(dialog, id) == BST_CHECKED ? "on" : "";
    } else {
      form[i] = Utf8(ControlText(dialog, id));
    }
  }
  TspConfig config;
  std::string error;
  if (!CheckForm(form, tsp::ExpandEnvironmentUtf8, tsp::kTspRegistryKeyDisplay, &config, &error)) {
    ShowError(dialog, error);
    return;
  }
  if (!tsp::WriteRegistrySettings(SettingsFromForm(form), &error)) {
    ShowError(dialog, error);
    return;
  }
  EndDialog(dialog, IDOK);
}

INT_PTR CALLBACK SettingsProc(HWND dialog, UINT message, WPARAM wparam, LPARAM lparam) {
  switch (message) {
    case WM_INITDIALOG: {
      const DialogState* state = reinterpret_cast<const DialogState*>(lparam);
      SetWindowTextW(dialog, state->title.c_str());
      for (size_t i = 0; i < kFields.size(); ++i) {
        const int offset = static_cast<int>(i);
        SetDlgItemTextW(dialog, IDC_LABEL0 + offset, Wide(kFields[i].label).c_str());
        if (kFields[i].kind == FieldKind::kCheck) {
          CheckDlgButton(dialog, IDC_FIELD0 + offset,
                         state->form[i] == "on" ? BST_CHECKED : BST_UNCHECKED);
        } else {
          SetDlgItemTextW(dialog, IDC_FIELD0 + offset, Wide(state->form[i]).c_str());
        }
      }
      return TRUE;
    }
    case WM_COMMAND:
      if (LOWORD(wparam) == IDOK) {
        Save(dialog);
        return TRUE;
      }
      if (LOWORD(wparam) == IDCANCEL) {
        EndDialog(dialog, IDCANCEL);
        return TRUE;
      }
      break;
    default:
      break;
  }
  return FALSE;
}

}  // namespace

HINSTANCE UiModule() { return g_module; }
void SetUiModule(HINSTANCE module) { g_module = module; }

LONG RunSettingsDialog(HWND owner, const std::wstring& title) {
  try {
    DialogState state;
    state.title = title;
    std::vector<tsp::RawSetting> settings;
    std::string error;
    const bool exists = tsp::ReadRegistrySettings(&settings, &error, /*expand=*/false);
    if (!exists && error.empty()) settings.clear();  // no key yet: an empty form
    // A key that names a configuration file (config_file) sets `error`.
    if (error.empty()) FormFromSettings(settings, &state.form, &error);
    if (!error.empty()) {
      MessageBoxW(owner, Wide(error).c_str(), title.c_str(), MB_OK | MB_ICONERROR);
      return LINEERR_OPERATIONFAILED;
    }
    const INT_PTR r = DialogBoxParamW(UiModule(), MAKEINTRESOURCEW(IDD_CONFIG), owner,
                                      SettingsProc, reinterpret_cast<LPARAM>(&state));
    if (r == -1 || r == 0) return LINEERR_OPERATIONFAILED;  // the dialog could not be created
    return 0;
  } catch (const std::bad_alloc&) {
    return LINEERR_NOMEM;
  }
}

}  // namespace linebridge::tspui
