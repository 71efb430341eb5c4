#include "tsp/ui_identify.h"

#include "tsp/tsp_settings.h"  // Utf8ToRegistryText

#ifdef _WIN32
#ifndef NOMINMAX
#define NOMINMAX
#endif
#ifndef WIN32_LEAN_AND_MEAN
#define WIN32_LEAN_AND_MEAN
#endif
#include <windows.h>
#else
#include <dlfcn.h>
#endif

namespace linebridge::tsp {

std::u16string UiDllPathBeside(const std::u16string& module_path) {
  const size_t slash = module_path.find_last_of(u"\\/");
  const std::u16string dir =
      slash == std::u16string::npos ? std::u16string() : module_path.substr(0, slash + 1);
  return dir + kUiDllName;
}

std::u16string UiDllPath() {
#ifdef _WIN32
  HMODULE module = nullptr;
  if (!GetModuleHandleExW(GET_MODULE_HANDLE_EX_FLAG_FROM_ADDRESS |
                              GET_MODULE_HANDLE_EX_FLAG_UNCHANGED_REFCOUNT,
                          reinterpret_cast<LPCWSTR>(&UiDllPath), &module)) {
    return {};
  }
  wchar_t path[32768];
  const DWORD n = GetModuleFileNameW(module, path, 32768);
  if (n == 0 || n >= 32768) return {};
  static_assert(sizeof(wchar_t) == sizeof(char16_t), "Windows wchar_t is UTF-16");
  return UiDllPathBeside(std::u16string(reinterpret_cast<const char16_t*>(path), n));
#else
  Dl_info info{};
  if (dladdr(reinterpret_cast<void*>(&UiDllPath), &info) == 0 || info.dli_fname == nullptr) {
    return {};
  }
  return UiDllPathBeside(Utf8ToRegistryText(info.dli_fname));
#endif
}

}  // namespace linebridge::tsp
