// Registry values -> RawSetting (tsp_settings.h). Standard library only, plus
// the Win32 registry API on Windows; checked with mingw-w64 by
// remote-tsp/abi/check_abi.sh.
#include "tsp/tsp_settings.h"
#include "tsp/utf8.h"

#include <algorithm>
#include <cctype>
#include <cstring>

#ifdef _WIN32
#ifndef NOMINMAX
#define NOMINMAX
#endif
#ifndef WIN32_LEAN_AND_MEAN
#define WIN32_LEAN_AND_MEAN
#endif
#include <windows.h>
#endif

namespace linebridge::tsp {
namespace {

std::string Trim(const std::string& s) {
  size_t b = 0, e = s.size();
  while (b < e && std::isspace(static_cast<unsigned char>(s[b]))) ++b;
  while (e > b && std::isspace(static_cast<unsigned char>(s[e - 1]))) --e;
  return s.substr(b, e - b);
}

}  // namespace

std::u16string Utf8ToRegistryText(const std::string& utf8) {
  std::u16string out;
  out.reserve(utf8.size());
  const auto byte = [&](size_t i) { return static_cast<unsigned char>(utf8[i]); };
  for (size_t i = 0; i < utf8.size();) {
    const unsigned char b = byte(i);
    size_t len = b < 0x80 ? 1 : (b >> 5) == 6 ? 2 : (b >> 4) == 14 ? 3 : (b >> 3) == 30 ? 4 : 0;
    uint32_t cp = len == 1 ? b : len == 2 ? (b & 0x1F) : len == 3 ? (b & 0x0F) : (b & 0x07);
    bool ok = len != 0 && i + len <= utf8.size();
    for (size_t k = 1; ok && k < len; ++k) {
      ok = (byte(i + k) & 0xC0) == 0x80;
      cp = cp << 6 | (byte(i + k) & 0x3F);
    }
    // Overlong forms, surrogates and values past U+10FFFF are invalid too.
    static constexpr uint32_t kMin[] = {0, 0, 0x80, 0x800, 0x10000};
    if (ok && (cp < kMin[len] || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))) ok = false;
    if (!ok) {
      out.push_back(u'\uFFFD');
      ++i;
      continue;
    }
    if (cp >= 0x10000) {
      out.push_back(static_cast<char16_t>(0xD800 + ((cp - 0x10000) >> 10)));
      out.push_back(static_cast<char16_t>(0xDC00 + ((cp - 0x10000) & 0x3FF)));
    } else {
      out.push_back(static_cast<char16_t>(cp));
    }
    i += len;
  }
  return out;
}

std::vector<RegistryValue> EncodeRegistrySettings(const std::vector<RawSetting>& settings) {
  std::vector<RegistryValue> values;
  const auto append = [](const std::string& text, std::vector<unsigned char>* data) {
    for (char16_t u : Utf8ToRegistryText(text)) {
      data->push_back(static_cast<unsigned char>(u & 0xFF));
      data->push_back(static_cast<unsigned char>(u >> 8));
    }
    data->push_back(0);
    data->push_back(0);
  };
  for (const RawSetting& s : settings) {
    if (s.value.empty()) continue;
    RegistryValue* value = nullptr;
    for (RegistryValue& v : values) {
      if (v.name == s.key) value = &v;
    }
    if (value == nullptr) {
      values.push_back({s.key, s.key == "server" ? kRegMultiSz : kRegSz, {}});
      value = &values.back();
    } else if (value->type == kRegMultiSz) {
      value->data.pop_back();  // the list's final NUL comes again after this string
      value->data.pop_back();
    } else {
      continue;  // a second value for a single-valued key: the first one stays
    }
    if (value->type != kRegMultiSz && s.value.find('%') != std::string::npos) {
      value->type = kRegExpandSz;
    }
    append(s.value, &value->data);
    if (value->type == kRegMultiSz) {
      value->data.push_back(0);
      value->data.push_back(0);
    }
  }
  return values;
}

std::string RegistryTextToUtf8(const char16_t* text, size_t units) {
  std::string out;
  out.reserve(units);
  for (size_t i = 0; i < units; ++i) {
    const uint32_t u = text[i];
    if (u >= 0xD800 && u <= 0xDBFF && i + 1 < units && text[i + 1] >= 0xDC00 &&
        text[i + 1] <= 0xDFFF) {
      AppendUtf8(0x10000 + ((u - 0xD800) << 10) + (text[i + 1] - 0xDC00), &out);
      ++i;
    } else if (u >= 0xD800 && u <= 0xDFFF) {
      AppendUtf8(0xFFFD, &out);
    } else {
      AppendUtf8(u, &out);
    }
  }
  return out;
}

bool DecodeRegistryValue(const std::string& name, uint32_t type, const unsigned char* data,
                         size_t size, const std::function<std::string(const std::string&)>& expand,
                         std::vector<RawSetting>* out, std::string* error) {
  std::string key;
  for (char c : name) key.push_back(static_cast<char>(std::tolower(static_cast<unsigned char>(c))));
  const std::string where = std::string(kTspRegistryKeyDisplay) + ": value " + name;
  if (name.empty() || name.size() > 64) {
    *error = where + ": value names must be 1..64 characters (the setting's key)";
    return false;
  }
  if (type == kRegDword) {
    if (size != 4) {
      *error = where + ": REG_DWORD with " + std::to_string(size) + " bytes";
      return false;
    }
    const uint32_t v = static_cast<uint32_t>(data[0]) | static_cast<uint32_t>(data[1]) << 8 |
                       static_cast<uint32_t>(data[2]) << 16 | static_cast<uint32_t>(data[3]) << 24;
    out->push_back({key, std::to_string(v), where});
    return true;
  }
  if (type != kRegSz && type != kRegExpandSz && type != kRegMultiSz) {
    *error = where + ": unsupported registry type " + std::to_string(type) +
             " (use REG_SZ, REG_EXPAND_SZ, REG_MULTI_SZ or REG_DWORD)";
    return false;
  }
  if (size % 2 != 0) {
    *error = where + ": string value with an odd byte count (" + std::to_string(size) + ")";
    return false;
  }
  std::u16string units(size / 2, u'\0');
  for (size_t i = 0; i < units.size(); ++i) {
    units[i] = static_cast<char16_t>(data[2 * i] | data[2 * i + 1] << 8);
  }
  // Split at NULs: REG_MULTI_SZ holds several strings, the others one
  // (anything after its first NUL is ignored, as Windows does).
  std::vector<std::string> strings;
  size_t start = 0;
  for (size_t i = 0; i <= units.size(); ++i) {
    if (i == units.size() || units[i] == u'\0') {
      if (i > start) strings.push_back(RegistryTextToUtf8(units.data() + start, i - start));
      if (type != kRegMultiSz) break;
      start = i + 1;
    }
  }
  for (std::string& s : strings) {
    std::string value = Trim(type == kRegExpandSz ? expand(s) : s);
    if (!value.empty()) out->push_back({key, std::move(value), where});
  }
  return true;
}

#ifdef _WIN32

namespace {

std::string Win32Message(LONG code) {
  char buffer[256] = {};
  const DWORD n =
      FormatMessageA(FORMAT_MESSAGE_FROM_SYSTEM | FORMAT_MESSAGE_IGNORE_INSERTS, nullptr,
                     static_cast<DWORD>(code), 0, buffer, sizeof buffer, nullptr);
  std::string text(buffer, n);
  return Trim(text) + " (" + std::to_string(code) + ")";
}

std::string ExpandEnvironment(const std::string& utf8) {
  // The value came from UTF-16; convert back, expand, convert again.
  const int wide_len = MultiByteToWideChar(CP_UTF8, 0, utf8.c_str(), -1, nullptr, 0);
  if (wide_len <= 0) return utf8;
  std::wstring wide(static_cast<size_t>(wide_len), L'\0');
  MultiByteToWideChar(CP_UTF8, 0, utf8.c_str(), -1, wide.data(), wide_len);
  const DWORD needed = ExpandEnvironmentStringsW(wide.c_str(), nullptr, 0);
  if (needed == 0) return utf8;
  std::wstring expanded(needed, L'\0');
  const DWORD got = ExpandEnvironmentStringsW(wide.c_str(), expanded.data(), needed);
  if (got == 0 || got > needed) return utf8;
  expanded.resize(got - 1);  // without the terminating NUL
  static_assert(sizeof(wchar_t) == sizeof(char16_t), "Windows wchar_t is UTF-16");
  return RegistryTextToUtf8(reinterpret_cast<const char16_t*>(expanded.data()), expanded.size());
}

}  // namespace

std::string ExpandEnvironmentUtf8(const std::string& utf8) { return ExpandEnvironment(utf8); }

bool ReadRegistrySettings(std::vector<RawSetting>* out, std::string* error, bool expand) {
  error->clear();
  HKEY key = nullptr;
  // The 64-bit view also from a 32-bit TSP (TAPISRV is 64-bit on x64
  // Windows; a 32-bit build on 32-bit Windows ignores the flag).
  LONG r = RegOpenKeyExA(HKEY_LOCAL_MACHINE, kTspRegistryKey, 0, KEY_READ | KEY_WOW64_64KEY, &key);
  if (r == ERROR_FILE_NOT_FOUND) return false;
  if (r != ERROR_SUCCESS) {
    *error = std::string(kTspRegistryKeyDisplay) + ": cannot open: " + Win32Message(r);
    return false;
  }
  DWORD max_name = 0, max_data = 0;
  r = RegQueryInfoKeyW(key, nullptr, nullptr, nullptr, nullptr, nullptr, nullptr, nullptr,
                       &max_name, &max_data, nullptr, nullptr);
  if (r != ERROR_SUCCESS) {
    RegCloseKey(key);
    *error = std::string(kTspRegistryKeyDisplay) + ": cannot query: " + Win32Message(r);
    return false;
  }
  std::wstring name(max_name + 1, L'\0');
  std::vector<unsigned char> data(max_data + 2, 0);
  bool ok = true;
  for (DWORD index = 0;; ++index) {
    DWORD name_len = static_cast<DWORD>(name.size());
    DWORD data_len = static_cast<DWORD>(data.size());
    DWORD type = 0;
    r = RegEnumValueW(key, index, name.data(), &name_len, nullptr, &type, data.data(), &data_len);
    if (r == ERROR_NO_MORE_ITEMS) break;
    if (r != ERROR_SUCCESS) {
      *error = std::string(kTspRegistryKeyDisplay) + ": cannot enumerate values: " + Win32Message(r);
      ok = false;
      break;
    }
    if (name_len == 0) continue;  // the key's (Default) value is not a setting
    const std::string utf8_name =
        RegistryTextToUtf8(reinterpret_cast<const char16_t*>(name.data()), name_len);
    const auto as_written = [](const std::string& text) { return text; };
    if (!DecodeRegistryValue(utf8_name, type, data.data(), data_len,
                             expand ? std::function<std::string(const std::string&)>(
                                          ExpandEnvironment)
                                    : as_written,
                             out, error)) {
      ok = false;
      break;
    }
  }
  RegCloseKey(key);
  return ok;
}

bool WriteRegistrySettings(const std::vector<RawSetting>& settings, std::string* error) {
  error->clear();
  HKEY key = nullptr;
  LONG r = RegCreateKeyExA(HKEY_LOCAL_MACHINE, kTspRegistryKey, 0, nullptr, 0,
                           KEY_READ | KEY_WRITE | KEY_WOW64_64KEY, nullptr, &key, nullptr);
  if (r != ERROR_SUCCESS) {
    *error = std::string(kTspRegistryKeyDisplay) + ": cannot create: " + Win32Message(r);
    return false;
  }
  const std::vector<RegistryValue> values = EncodeRegistrySettings(settings);
  // The names already there, to delete those not written now.
  std::vector<std::wstring> stale;
  for (DWORD index = 0;; ++index) {
    wchar_t name[256];
    DWORD name_len = 256;
    r = RegEnumValueW(key, index, name, &name_len, nullptr, nullptr, nullptr, nullptr);
    if (r != ERROR_SUCCESS) break;
    if (name_len == 0) continue;
    const std::string utf8 = RegistryTextToUtf8(reinterpret_cast<const char16_t*>(name), name_len);
    bool kept = false;
    for (const RegistryValue& v : values) {
      if (v.name.size() == utf8.size() &&
          std::equal(v.name.begin(), v.name.end(), utf8.begin(), [](char a, char b) {
            return std::tolower(static_cast<unsigned char>(a)) ==
                   std::tolower(static_cast<unsigned char>(b));
          })) {
        kept = true;
      }
    }
    if (!kept) stale.emplace_back(name, name_len);
  }
  bool ok = true;
  for (const RegistryValue& v : values) {
    const std::u16string name = Utf8ToRegistryText(v.name);
    r = RegSetValueExW(key, reinterpret_cast<const wchar_t*>(name.c_str()), 0, v.type,
                       v.data.data(), static_cast<DWORD>(v.data.size()));
    if (r != ERROR_SUCCESS) {
      *error = std::string(kTspRegistryKeyDisplay) + ": cannot write value " + v.name + ": " +
               Win32Message(r);
      ok = false;
      break;
    }
  }
  for (size_t i = 0; ok && i < stale.size(); ++i) {
    r = RegDeleteValueW(key, stale[i].c_str());
    if (r != ERROR_SUCCESS && r != ERROR_FILE_NOT_FOUND) {
      *error = std::string(kTspRegistryKeyDisplay) + ": cannot delete a value: " + Win32Message(r);
      ok = false;
    }
  }
  RegCloseKey(key);
  return ok;
}

#endif  // _WIN32

}  // namespace linebridge::tsp
