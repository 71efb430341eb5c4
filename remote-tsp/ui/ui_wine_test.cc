// linebridge_ui.dll driven the way TAPI and a user drive it, under wine
// (tspui_wine_test; run_wine_test.sh starts it on a private Xvfb display in a
// temporary WINEPREFIX):
//
//   ui_wine_test.exe <linebridge_ui.dll> <work dir> <screenshot.bmp> dialog
//   ui_wine_test.exe <linebridge_ui.dll> <work dir> <screenshot.bmp> remove
//
// "dialog": the install rules against TAPI's provider list, argument checks,
// then the settings dialog: it opens with the registry's settings, takes
// input (WM_SETTEXT, WM_CHAR, the check box), refuses invalid input with the
// provider's own message (CheckTspSettings on the same input, computed here)
// and writes nothing, accepts valid input and writes the values the provider
// reads back (ReadRegistrySettings + CheckTspSettings, as providerInit does);
// lineConfigDialog shows them again; lineConfigDialogEdit returns the device
// configuration; the generic message dialog opens, changes text and closes.
// A screenshot of the settings dialog showing a refusal goes to the .bmp.
// "remove": TUISPI_providerRemove deletes the settings key.
#include <cstdio>
#include <cstring>
#include <functional>
#include <string>
#include <vector>

#include "linebridge/tapi_abi.h"
#include "tsp/tsp_settings.h"
#include "tsp/tsp_settings_check.h"
#include "ui/settings_form.h"
#include "ui/ui_resource.h"
#include "ui/ui_rules.h"

namespace {

using linebridge::tsp::RawSetting;
using linebridge::tsp::TspConfig;
using linebridge::tspui::FormValues;
using linebridge::tspui::kFields;

int g_failures = 0;

void Check(bool ok, const std::string& what) {
  std::printf("%s %s\n", ok ? "ok  " : "FAIL", what.c_str());
  std::fflush(stdout);
  if (!ok) ++g_failures;
}

std::wstring Wide(const std::string& utf8) {
  const std::u16string u = linebridge::tsp::Utf8ToRegistryText(utf8);
  return std::wstring(u.begin(), u.end());
}
std::string Utf8(const std::wstring& w) {
  return linebridge::tsp::RegistryTextToUtf8(reinterpret_cast<const char16_t*>(w.data()), w.size());
}

// Polls `done` every 10 ms for at most `ms`: for a window another thread
// creates, as an automation client waits for it.
bool WaitFor(const std::function<bool()>& done, DWORD ms) {
  const ULONGLONG end = GetTickCount64() + ms;
  while (!done()) {
    if (GetTickCount64() > end) return false;
    Sleep(10);
  }
  return true;
}

HWND WaitForDialog(const std::wstring& title) {
  HWND found = nullptr;
  WaitFor([&] { return (found = FindWindowW(L"#32770", title.c_str())) != nullptr &&
                       IsWindowVisible(found); },
          20000);
  return found;
}

std::wstring Text(HWND dialog, int id) {
  wchar_t buffer[4096] = {};
  GetDlgItemTextW(dialog, id, buffer, 4096);
  return buffer;
}

void SetField(HWND dialog, const char* key, const std::string& value) {
  const int id = IDC_FIELD0 + static_cast<int>(linebridge::tspui::FieldIndex(key));
  SetDlgItemTextW(dialog, id, Wide(value).c_str());
}

// Types `text` into the field key by key (WM_CHAR, as the keyboard would).
void TypeField(HWND dialog, const char* key, const std::string& text) {
  HWND edit = GetDlgItem(dialog, IDC_FIELD0 + static_cast<int>(linebridge::tspui::FieldIndex(key)));
  SendMessageW(edit, EM_SETSEL, 0, -1);
  SendMessageW(edit, WM_CHAR, VK_BACK, 0);
  for (char c : text) SendMessageW(edit, WM_CHAR, static_cast<WPARAM>(c), 0);
}

void Press(HWND dialog, int id) {
  SendMessageW(dialog, WM_COMMAND, MAKEWPARAM(id, BN_CLICKED),
               reinterpret_cast<LPARAM>(GetDlgItem(dialog, id)));
}

// What the dialog's fields hold now (as the dialog reads them on OK).
FormValues FormOf(HWND dialog) {
  FormValues form;
  for (size_t i = 0; i < kFields.size(); ++i) {
    const int id = IDC_FIELD0 + static_cast<int>(i);
    if (kFields[i].kind == linebridge::tspui::FieldKind::kCheck) {
      form[i] = IsDlgButtonChecked(dialog, id) == BST_CHECKED ? "on" : "";
    } else {
      form[i] = Utf8(Text(dialog, id));
    }
  }
  return form;
}

// The provider's message for this input (empty if it accepts it).
std::string ProviderMessage(const FormValues& form) {
  TspConfig config;
  std::string error;
  linebridge::tspui::CheckForm(form, linebridge::tsp::ExpandEnvironmentUtf8,
                               linebridge::tsp::kTspRegistryKeyDisplay, &config, &error);
  return error;
}

bool SettingsKeyExists() {
  HKEY key = nullptr;
  if (RegOpenKeyExA(HKEY_LOCAL_MACHINE, linebridge::tsp::kTspRegistryKey, 0,
                    KEY_READ | KEY_WOW64_64KEY, &key) != ERROR_SUCCESS) {
    return false;
  }
  RegCloseKey(key);
  return true;
}

DWORD ValueType(const char* name) {
  DWORD type = 0;
  if (RegGetValueA(HKEY_LOCAL_MACHINE, linebridge::tsp::kTspRegistryKey, name,
                   RRF_RT_ANY | RRF_NOEXPAND | RRF_SUBKEY_WOW6464KEY, &type, nullptr,
                   nullptr) != ERROR_SUCCESS) {
    return 0;
  }
  return type;
}

bool WriteFile(const std::string& path, const std::string& text) {
  FILE* f = std::fopen(path.c_str(), "wb");
  if (f == nullptr) return false;
  const bool ok = std::fwrite(text.data(), 1, text.size(), f) == text.size();
  return std::fclose(f) == 0 && ok;
}

// A 24-bit BMP of the screen area under `window`.
bool Screenshot(HWND window, const std::string& path) {
  RedrawWindow(window, nullptr, nullptr,
               RDW_INVALIDATE | RDW_ERASE | RDW_ALLCHILDREN | RDW_UPDATENOW);
  RECT r;
  if (!GetWindowRect(window, &r)) return false;
  const int w = r.right - r.left, h = r.bottom - r.top;
  HDC screen = GetDC(nullptr);
  HDC memory = CreateCompatibleDC(screen);
  HBITMAP bitmap = CreateCompatibleBitmap(screen, w, h);
  HGDIOBJ old = SelectObject(memory, bitmap);
  BitBlt(memory, 0, 0, w, h, screen, r.left, r.top, SRCCOPY);
  SelectObject(memory, old);
  BITMAPINFOHEADER info{};
  info.biSize = sizeof info;
  info.biWidth = w;
  info.biHeight = h;
  info.biPlanes = 1;
  info.biBitCount = 24;
  info.biCompression = BI_RGB;
  const DWORD stride = (static_cast<DWORD>(w) * 3 + 3) & ~3u;
  std::vector<unsigned char> pixels(stride * static_cast<DWORD>(h));
  const int lines = GetDIBits(memory, bitmap, 0, static_cast<UINT>(h), pixels.data(),
                              reinterpret_cast<BITMAPINFO*>(&info), DIB_RGB_COLORS);
  DeleteObject(bitmap);
  DeleteDC(memory);
  ReleaseDC(nullptr, screen);
  if (lines != h) return false;
  BITMAPFILEHEADER file{};
  file.bfType = 0x4D42;
  file.bfOffBits = sizeof file + sizeof info;
  file.bfSize = file.bfOffBits + static_cast<DWORD>(pixels.size());
  FILE* f = std::fopen(path.c_str(), "wb");
  if (f == nullptr) return false;
  std::fwrite(&file, sizeof file, 1, f);
  std::fwrite(&info, sizeof info, 1, f);
  std::fwrite(pixels.data(), 1, pixels.size(), f);
  return std::fclose(f) == 0;
}

// A TUISPI call that may show a modal dialog, on a thread of its own.
struct Call {
  std::function<LONG()> fn;
  LONG result = 1;
  HANDLE thread = nullptr;
  static DWORD WINAPI Run(LPVOID self) {
    Call* call = static_cast<Call*>(self);
    call->result = call->fn();
    return 0;
  }
  void Start() { thread = CreateThread(nullptr, 0, Run, this, 0, nullptr); }
  bool Finished(DWORD ms) { return WaitForSingleObject(thread, ms) == WAIT_OBJECT_0; }
};

LONG CALLBACK TapiCallback(DWORD_PTR, DWORD, LPVOID, DWORD) { return 0; }

template <typename F>
F Get(HMODULE dll, const char* name) {
  FARPROC p = GetProcAddress(dll, name);
  Check(p != nullptr, std::string("exported: ") + name);
  return reinterpret_cast<F>(reinterpret_cast<void*>(p));
}

struct Ui {
  decltype(&TUISPI_providerInstall) install;
  decltype(&TUISPI_providerRemove) remove;
  decltype(&TUISPI_providerConfig) config;
  decltype(&TUISPI_lineConfigDialog) line_config;
  decltype(&TUISPI_lineConfigDialogEdit) line_config_edit;
  decltype(&TUISPI_phoneConfigDialog) phone_config;
  decltype(&TUISPI_providerGenericDialog) generic;
  decltype(&TUISPI_providerGenericDialogData) generic_data;
};

void SetTapiProviders() {
  HKEY key = nullptr;
  RegDeleteTreeA(HKEY_LOCAL_MACHINE, linebridge::tspui::kTapiProvidersKey);
  RegCreateKeyExA(HKEY_LOCAL_MACHINE, linebridge::tspui::kTapiProvidersKey, 0, nullptr, 0,
                  KEY_WRITE | KEY_WOW64_64KEY, nullptr, &key, nullptr);
  const DWORD count = 2, unimodem = 1, ours = 5;
  RegSetValueExA(key, "NumProviders", 0, REG_DWORD, reinterpret_cast<const BYTE*>(&count), 4);
  RegSetValueExA(key, "ProviderID0", 0, REG_DWORD, reinterpret_cast<const BYTE*>(&unimodem), 4);
  RegSetValueExA(key, "ProviderFileName0", 0, REG_SZ, reinterpret_cast<const BYTE*>("unimdm.tsp"), 11);
  RegSetValueExA(key, "ProviderID1", 0, REG_DWORD, reinterpret_cast<const BYTE*>(&ours), 4);
  const char file[] = "C:\\windows\\system32\\LineBridge.TSP";
  RegSetValueExA(key, "ProviderFileName1", 0, REG_SZ, reinterpret_cast<const BYTE*>(file), sizeof file);
  RegCloseKey(key);
}

std::vector<unsigned char> DialogText(const std::u16string& text, bool with_nul = true) {
  std::vector<unsigned char> bytes;
  for (char16_t u : text) {
    bytes.push_back(static_cast<unsigned char>(u & 0xFF));
    bytes.push_back(static_cast<unsigned char>(u >> 8));
  }
  if (with_nul) bytes.insert(bytes.end(), {0, 0});
  return bytes;
}

void InstallAndArguments(const Ui& ui) {
  SetTapiProviders();
  Check(ui.install(TapiCallback, nullptr, 5) == 0, "providerInstall again for the installed id: 0");
  Check(ui.install(TapiCallback, nullptr, 6) == static_cast<LONG>(LINEERR_NOMULTIPLEINSTANCE),
        "providerInstall of a second instance: LINEERR_NOMULTIPLEINSTANCE");
  Check(ui.remove(TapiCallback, nullptr, 1) == static_cast<LONG>(LINEERR_INVALPARAM),
        "providerRemove for another provider's id: LINEERR_INVALPARAM");
  Check(ui.line_config(TapiCallback, 0, nullptr, L"comm/datamodem") ==
            static_cast<LONG>(LINEERR_INVALDEVICECLASS),
        "lineConfigDialog comm/datamodem: LINEERR_INVALDEVICECLASS");
  Check(ui.phone_config(TapiCallback, 0, nullptr, L"tapi/line") ==
            static_cast<LONG>(PHONEERR_INVALDEVICECLASS),
        "phoneConfigDialog tapi/line: PHONEERR_INVALDEVICECLASS");
  unsigned char in[4] = {'a', 'b', 'c', 'd'};
  Check(ui.line_config_edit(TapiCallback, 0, nullptr, nullptr, in, 4, nullptr) ==
            static_cast<LONG>(LINEERR_INVALPOINTER),
        "lineConfigDialogEdit without lpDeviceConfigOut: LINEERR_INVALPOINTER");
  VARSTRING small{};
  small.dwTotalSize = 8;
  Check(ui.line_config_edit(TapiCallback, 0, nullptr, nullptr, in, 4, &small) ==
            static_cast<LONG>(LINEERR_STRUCTURETOOSMALL),
        "lineConfigDialogEdit with 8 bytes: LINEERR_STRUCTURETOOSMALL");
  VARSTRING header{};
  header.dwTotalSize = sizeof header;
  // Too small for the configuration: dwNeededSize, at once, without a dialog.
  Call call{[&] { return ui.line_config_edit(TapiCallback, 0, nullptr, L"", in, 4, &header); }};
  call.Start();
  Check(call.Finished(5000) && call.result == 0 && header.dwNeededSize == sizeof header + 4 &&
            header.dwStringSize == 0,
        "lineConfigDialogEdit with a header-sized VARSTRING: 0, dwNeededSize = header + 4");
}

void SettingsDialog(const Ui& ui, const std::string& work, const std::string& shot) {
  const std::string ca = work + "\\ca.pem";
  const std::string token = work + "\\tsp.token";
  Check(WriteFile(ca, "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n") &&
            WriteFile(token, "s3cr3t-token\n"),
        "PEM and token files written");
  Check(!SettingsKeyExists(), "no settings key before the dialog");

  Call call{[&] { return ui.config(TapiCallback, nullptr, 5); }};
  call.Start();
  HWND dialog = WaitForDialog(L"linebridge remote TSP - provider 5");
  Check(dialog != nullptr, "providerConfig opens the settings dialog");
  if (dialog == nullptr) return;
  Check(Utf8(Text(dialog, IDC_LABEL0)) == kFields[0].label, "field labels from kFields");
  Check(Text(dialog, IDC_FIELD0).empty(), "empty form without settings");

  SetField(dialog, "server", "127.0.0.1:50051\r\npbx.example.com:50052");
  SetField(dialog, "device_map", "C:\\ProgramData\\linebridge\\devices.map");
  SetField(dialog, "ca_file", work + "\\missing.pem");
  TypeField(dialog, "log_level", "info");
  Check(Text(dialog, IDC_FIELD0 + static_cast<int>(linebridge::tspui::FieldIndex("log_level"))) ==
            L"info",
        "typed into log_level");

  // A CA file that does not exist: refused with the provider's message.
  std::string expected = ProviderMessage(FormOf(dialog));
  Press(dialog, IDOK);
  Check(!expected.empty() && expected.find("cannot read") != std::string::npos &&
            Utf8(Text(dialog, IDC_ERROR)) == expected,
        "missing ca_file refused with the provider's message: " + Utf8(Text(dialog, IDC_ERROR)));
  Check(IsWindow(dialog) && !call.Finished(0), "the dialog stays open");
  Check(!SettingsKeyExists(), "nothing written");

  // A token in plaintext to a server off loopback: refused likewise.
  SetField(dialog, "ca_file", "");
  SetField(dialog, "token_file", token);
  expected = ProviderMessage(FormOf(dialog));
  Press(dialog, IDOK);
  Check(expected.find("plaintext to pbx.example.com:50052") != std::string::npos &&
            Utf8(Text(dialog, IDC_ERROR)) == expected,
        "token without TLS refused with the provider's message: " + Utf8(Text(dialog, IDC_ERROR)));
  Check(!SettingsKeyExists(), "still nothing written");
  Check(Screenshot(dialog, shot), "screenshot of the dialog with the refusal: " + shot);

  // Valid input: written and the dialog closes.
  SetField(dialog, "ca_file", ca);
  CheckDlgButton(dialog, IDC_FIELD0 + static_cast<int>(linebridge::tspui::FieldIndex("tls")),
                 BST_CHECKED);
  SetField(dialog, "log_file", "%TEMP%\\linebridge-tsp.log");
  SetField(dialog, "log_files", "5");
  Check(ProviderMessage(FormOf(dialog)).empty(), "the provider accepts the corrected input");
  Press(dialog, IDOK);
  Check(call.Finished(10000) && call.result == 0, "OK closes the dialog; providerConfig returns 0");

  std::vector<RawSetting> settings;
  std::string error;
  Check(linebridge::tsp::ReadRegistrySettings(&settings, &error), "settings key written: " + error);
  TspConfig config;
  Check(linebridge::tsp::CheckTspSettings(settings, linebridge::tsp::kTspRegistryKeyDisplay,
                                          &config, &error),
        "the provider accepts what was written: " + error);
  Check(config.servers == std::vector<std::string>{"127.0.0.1:50051", "pbx.example.com:50052"},
        "two servers");
  Check(config.device_map == "C:\\ProgramData\\linebridge\\devices.map", "device_map");
  Check(config.tls && config.ca_file == ca, "tls on, ca_file");
  Check(config.token_file == token && config.token == "s3cr3t-token", "token_file and its token");
  Check(config.log_level == "info" && config.log_files == 5, "log_level info, log_files 5");
  Check(!config.log_file.empty() && config.log_file.find('%') == std::string::npos &&
            config.log_file.find("linebridge-tsp.log") != std::string::npos,
        "log_file expanded when read: " + config.log_file);
  Check(ValueType("server") == REG_MULTI_SZ && ValueType("log_file") == REG_EXPAND_SZ &&
            ValueType("ca_file") == REG_SZ && ValueType("client_name") == 0,
        "value types: server REG_MULTI_SZ, log_file REG_EXPAND_SZ, ca_file REG_SZ, no empty ones");

  // lineConfigDialog shows what was saved (unexpanded); Cancel keeps it.
  Call again{[&] { return ui.line_config(TapiCallback, 3, nullptr, L"tapi/line"); }};
  again.Start();
  dialog = WaitForDialog(L"linebridge remote TSP - line 3");
  Check(dialog != nullptr, "lineConfigDialog opens the settings dialog");
  if (dialog == nullptr) return;
  const FormValues shown = FormOf(dialog);
  Check(shown[0] == "127.0.0.1:50051\r\npbx.example.com:50052", "servers shown one per line");
  Check(shown[linebridge::tspui::FieldIndex("log_file")] == "%TEMP%\\linebridge-tsp.log",
        "log_file shown as written");
  Check(shown[linebridge::tspui::FieldIndex("tls")] == "on", "TLS box checked");
  SetField(dialog, "server", "10.1.1.1:1");
  Press(dialog, IDCANCEL);
  Check(again.Finished(10000) && again.result == 0, "Cancel: lineConfigDialog returns 0");
  settings.clear();
  linebridge::tsp::ReadRegistrySettings(&settings, &error);
  config = TspConfig();
  Check(linebridge::tsp::CheckTspSettings(settings, "r", &config, &error) &&
            config.servers == std::vector<std::string>{"127.0.0.1:50051", "pbx.example.com:50052"},
        "Cancel writes nothing");

  // lineConfigDialogEdit: the dialog, then the configuration handed back.
  std::vector<unsigned char> buffer(sizeof(VARSTRING) + 16, 0xEE);
  VARSTRING* out = reinterpret_cast<VARSTRING*>(buffer.data());
  out->dwTotalSize = static_cast<DWORD>(buffer.size());
  unsigned char in[4] = {'a', 'b', 'c', 'd'};
  Call edit{[&] { return ui.line_config_edit(TapiCallback, 4, nullptr, nullptr, in, 4, out); }};
  edit.Start();
  dialog = WaitForDialog(L"linebridge remote TSP - line 4");
  Check(dialog != nullptr, "lineConfigDialogEdit opens the settings dialog");
  if (dialog == nullptr) return;
  Press(dialog, IDOK);
  Check(edit.Finished(10000) && edit.result == 0 && out->dwStringSize == 4 &&
            out->dwStringOffset == sizeof(VARSTRING) &&
            out->dwStringFormat == STRINGFORMAT_BINARY &&
            out->dwUsedSize == sizeof(VARSTRING) + 4 &&
            std::memcmp(buffer.data() + sizeof(VARSTRING), "abcd", 4) == 0 &&
            buffer[sizeof(VARSTRING) + 4] == 0xEE,
        "lineConfigDialogEdit returns the device configuration, nothing past it");
}

void GenericDialog(const Ui& ui) {
  const HTAPIDIALOGINSTANCE instance = static_cast<HTAPIDIALOGINSTANCE>(0x1234);
  HANDLE ready = CreateEventW(nullptr, TRUE, FALSE, nullptr);
  std::vector<unsigned char> odd = DialogText(u"no NUL", false);
  Check(ui.generic(TapiCallback, instance, odd.data(), static_cast<DWORD>(odd.size()), ready) ==
                static_cast<LONG>(LINEERR_INVALPARAM) &&
            WaitForSingleObject(ready, 0) == WAIT_OBJECT_0,
        "providerGenericDialog with a malformed block: LINEERR_INVALPARAM, hEvent set");
  ResetEvent(ready);
  std::vector<unsigned char> text = DialogText(u"Server pbx.example.com:50052 refused the token");
  Call call{[&] {
    return ui.generic(TapiCallback, instance, text.data(), static_cast<DWORD>(text.size()), ready);
  }};
  call.Start();
  Check(WaitForSingleObject(ready, 20000) == WAIT_OBJECT_0, "generic dialog: hEvent when ready");
  HWND dialog = WaitForDialog(L"linebridge remote TSP");
  Check(dialog != nullptr && Text(dialog, IDC_MESSAGE) ==
                                 L"Server pbx.example.com:50052 refused the token",
        "generic dialog shows the provider's text");
  std::vector<unsigned char> update = DialogText(u"Token accepted");
  Check(ui.generic_data(instance, update.data(), static_cast<DWORD>(update.size())) == 0,
        "providerGenericDialogData: 0");
  Check(WaitFor([&] { return Text(dialog, IDC_MESSAGE) == L"Token accepted"; }, 5000),
        "the text changes");
  Check(ui.generic_data(static_cast<HTAPIDIALOGINSTANCE>(0x9999), update.data(),
                        static_cast<DWORD>(update.size())) == static_cast<LONG>(LINEERR_INVALPARAM),
        "unknown dialog instance: LINEERR_INVALPARAM");
  Check(ui.generic_data(instance, odd.data(), static_cast<DWORD>(odd.size())) ==
            static_cast<LONG>(LINEERR_INVALPARAM),
        "malformed data: LINEERR_INVALPARAM");
  Check(ui.generic_data(instance, nullptr, 0) == 0, "NULL data closes the dialog: 0");
  Check(call.Finished(10000) && call.result == 0, "providerGenericDialog returns 0 when closed");
  CloseHandle(ready);
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 5) {
    std::fprintf(stderr, "usage: ui_wine_test.exe <dll> <work dir> <shot.bmp> dialog|remove\n");
    return 2;
  }
  const std::string mode = argv[4];
  HMODULE dll = LoadLibraryA(argv[1]);
  Check(dll != nullptr, std::string("LoadLibrary ") + argv[1]);
  if (dll == nullptr) return 1;
  Ui ui{};
  ui.install = Get<decltype(ui.install)>(dll, "TUISPI_providerInstall");
  ui.remove = Get<decltype(ui.remove)>(dll, "TUISPI_providerRemove");
  ui.config = Get<decltype(ui.config)>(dll, "TUISPI_providerConfig");
  ui.line_config = Get<decltype(ui.line_config)>(dll, "TUISPI_lineConfigDialog");
  ui.line_config_edit = Get<decltype(ui.line_config_edit)>(dll, "TUISPI_lineConfigDialogEdit");
  ui.phone_config = Get<decltype(ui.phone_config)>(dll, "TUISPI_phoneConfigDialog");
  ui.generic = Get<decltype(ui.generic)>(dll, "TUISPI_providerGenericDialog");
  ui.generic_data = Get<decltype(ui.generic_data)>(dll, "TUISPI_providerGenericDialogData");
  if (g_failures != 0) return 1;
  if (mode == "dialog") {
    InstallAndArguments(ui);
    SettingsDialog(ui, argv[2], argv[3]);
    GenericDialog(ui);
  } else if (mode == "remove") {
    Check(SettingsKeyExists(), "settings key present before providerRemove");
    Check(ui.remove(TapiCallback, nullptr, 5) == 0, "providerRemove: 0");
    Check(!SettingsKeyExists(), "settings key deleted");
    Check(ui.remove(TapiCallback, nullptr, 5) == 0, "providerRemove again (nothing left): 0");
  } else {
    Check(false, "unknown mode " + mode);
  }
  std::printf("%s: %d failure(s)\n", g_failures == 0 ? "PASS" : "FAIL", g_failures);
  return g_failures == 0 ? 0 : 1;
}
