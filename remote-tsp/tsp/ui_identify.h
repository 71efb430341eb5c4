// TSPI_providerUIIdentify: where the provider's UI DLL (remote-tsp/ui/) is.
// It is installed beside linebridge.tsp (docs/remote-tsp.md "The UI DLL"),
// so its full path is the provider module's directory + kUiDllName.
#pragma once

#include <string>

namespace linebridge::tsp {

inline constexpr char16_t kUiDllName[] = u"linebridge_ui.dll";

// `module_path` with its file name replaced by kUiDllName (after the last
// '\\' or '/'; a path without either gives kUiDllName alone).
std::u16string UiDllPathBeside(const std::u16string& module_path);

// The full path of the UI DLL beside the module this code is linked into
// (linebridge.tsp); empty if that module's path cannot be found.
std::u16string UiDllPath();

}  // namespace linebridge::tsp
