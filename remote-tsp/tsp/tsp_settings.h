// The remote TSP's settings as raw key/value pairs, before validation: what
// the configuration file (one `key = value` per line) and, on Windows, the
// provider's registry key (one value per key) both produce. TspConfigFromSettings
// (tsp_config.h) validates them the same way whichever the source.
//
// This header and tsp_registry.cc use only the standard library (and, on
// Windows, <windows.h>), so the registry reader also compiles with the
// mingw-w64 cross compilers (remote-tsp/abi/check_abi.sh).
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

namespace linebridge::tsp {

struct RawSetting {
  std::string key;    // lower case, e.g. "server", "ca_file"
  std::string value;  // trimmed; never empty
  std::string where;  // for errors: "C:\\path\\tsp.conf:12" or "HKLM\\...\\TSP: value ca_file"
};

// The registry key read on Windows (under HKEY_LOCAL_MACHINE).
inline constexpr char kTspRegistryKey[] = "SOFTWARE\\linebridge\\TSP";
inline constexpr char kTspRegistryKeyDisplay[] = "HKLM\\SOFTWARE\\linebridge\\TSP";

// Registry value types (winnt.h REG_*).
inline constexpr uint32_t kRegSz = 1;
inline constexpr uint32_t kRegExpandSz = 2;
inline constexpr uint32_t kRegDword = 4;
inline constexpr uint32_t kRegMultiSz = 7;

// UTF-16 (little endian code units) to UTF-8; unpaired surrogates become U+FFFD.
std::string RegistryTextToUtf8(const char16_t* text, size_t units);

// Turns one registry value into settings: REG_SZ and REG_EXPAND_SZ give one
// (REG_EXPAND_SZ through `expand`, e.g. %ProgramData%), REG_MULTI_SZ one per
// non-empty string, REG_DWORD one with the decimal number. `data`/`size` are
// the raw bytes RegQueryValueEx returns (UTF-16LE strings; the terminating
// NULs may be missing). The value name is the key (lower-cased). Empty
// strings are skipped. Other types, odd byte counts and names longer than 64
// characters are errors (false, `error` = "<where>: ...").
bool DecodeRegistryValue(const std::string& name, uint32_t type, const unsigned char* data,
                         size_t size, const std::function<std::string(const std::string&)>& expand,
                         std::vector<RawSetting>* out, std::string* error);

// UTF-8 to UTF-16 code units (what the registry stores); invalid bytes
// become U+FFFD.
std::u16string Utf8ToRegistryText(const std::string& utf8);

// One registry value to write.
struct RegistryValue {
  std::string name;                // the setting's key
  uint32_t type = kRegSz;          // kRegSz, kRegExpandSz or kRegMultiSz
  std::vector<unsigned char> data; // UTF-16LE with the terminating NUL(s)
};

// The settings as the registry values DecodeRegistryValue reads back: one
// value per key in first-seen order; `server` as one REG_MULTI_SZ with every
// server; a value holding '%' as REG_EXPAND_SZ (expanded when read), others
// REG_SZ. Empty values are left out.
std::vector<RegistryValue> EncodeRegistrySettings(const std::vector<RawSetting>& settings);

#ifdef _WIN32
// Reads every value of HKLM\SOFTWARE\linebridge\TSP (64-bit view). Returns
// false with `error` empty if the key does not exist, false with `error` set
// if it exists but cannot be read or a value is malformed. With `expand`
// false, REG_EXPAND_SZ values come as written (the configuration dialog
// shows and saves them unexpanded).
bool ReadRegistrySettings(std::vector<RawSetting>* out, std::string* error, bool expand = true);

// Replaces the key's values with `settings` (EncodeRegistrySettings), creating
// the key if needed; values not among them are deleted. False with `error`.
bool WriteRegistrySettings(const std::vector<RawSetting>& settings, std::string* error);

// Expands %VARIABLES% in a UTF-8 string (ExpandEnvironmentStringsW).
std::string ExpandEnvironmentUtf8(const std::string& utf8);
#endif

}  // namespace linebridge::tsp
