// The UI DLL's decisions that need no window: which TUISPI_providerInstall /
// providerRemove calls to refuse, and the parameter block of the generic
// dialog (TUISPI_providerGenericDialog / GenericDialogData). Standard library
// only, tested natively (ui_rules_test.cc).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace linebridge::tspui {

// TAPI's list of installed providers (the key below under HKLM:
// NumProviders, ProviderID<i>, ProviderFileName<i>).
inline constexpr char kTapiProvidersKey[] =
    "SOFTWARE\\Microsoft\\Windows\\CurrentVersion\\Telephony\\Providers";
inline constexpr char kProviderFileName[] = "linebridge.tsp";

struct TapiProvider {
  uint32_t id = 0;
  std::string file;  // as TAPI stored it (a name or a path)
};

// Whether `file` names linebridge.tsp (its last path component, any case).
bool IsLinebridgeProvider(const std::string& file);

// TUISPI_providerInstall: 0, or LINEERR_NOMULTIPLEINSTANCE when linebridge.tsp
// is already installed under another permanent provider id (one instance
// serves every server; a second one would report every line twice). Being
// called again for the same id is allowed (TSPI: until providerRemove).
int32_t CheckInstall(const std::vector<TapiProvider>& installed, uint32_t permanent_id);

// TUISPI_providerRemove: 0, or LINEERR_INVALPARAM when TAPI lists
// `permanent_id` as another provider's (not linebridge.tsp).
int32_t CheckRemove(const std::vector<TapiProvider>& installed, uint32_t permanent_id);

// The generic dialog's parameter block (lpParams/dwSize of
// LINE_CREATEDIALOGINSTANCE and LINE_SENDDIALOGINSTANCEDATA from
// linebridge.tsp): a NUL-terminated UTF-16LE message, dwSize in bytes with
// the NUL, at most kMaxDialogTextBytes. False when the block is not one.
inline constexpr size_t kMaxDialogTextBytes = 64 * 1024;
bool ParseDialogText(const void* params, size_t size, std::u16string* text);

}  // namespace linebridge::tspui
