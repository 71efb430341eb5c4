// Filling TAPI's variable-size structures (LINEDEVCAPS, LINECALLINFO,
// VARSTRING, ...): the caller sets dwTotalSize; the provider writes the fixed
// part and as much of the variable part as fits, sets dwNeededSize to what the
// whole thing would take and dwUsedSize to what it wrote, and never writes a
// byte past dwTotalSize. Variable parts are located by dwXxxSize/dwXxxOffset
// fields counted from the start of the structure.
//
// Every such structure starts with dwTotalSize, dwNeededSize, dwUsedSize
// (three 32-bit little-endian DWORDs), which is all this writer relies on.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>

#include "absl/strings/string_view.h"

namespace linebridge::tsp {

// UTF-8 to UTF-16 (TAPI's WCHAR strings). Invalid sequences become U+FFFD.
std::u16string Utf8ToUtf16(absl::string_view utf8);
// UTF-16 to UTF-8 (for strings TAPI hands in: dial strings, names).
// Unpaired surrogates become U+FFFD. Stops at the first NUL.
std::string Utf16ToUtf8(const char16_t* utf16, size_t max_units = SIZE_MAX);
#ifdef _WIN32
// The SDK headers' WCHAR is wchar_t, UTF-16 on Windows.
static_assert(sizeof(wchar_t) == sizeof(char16_t));
inline std::string Utf16ToUtf8(const wchar_t* utf16, size_t max_units = SIZE_MAX) {
  return Utf16ToUtf8(reinterpret_cast<const char16_t*>(utf16), max_units);
}
#endif

class VarStructWriter {
 public:
  // The smallest dwTotalSize any TAPI variable structure can have.
  static constexpr uint32_t kHeaderSize = 12;

  // `base` points at the caller's structure; `fixed_size` is sizeof() of the
  // fixed part the provider supports. The caller has already checked that
  // dwTotalSize >= the minimum size TAPI requires for the negotiated version.
  VarStructWriter(void* base, uint32_t fixed_size);

  uint32_t total_size() const { return total_; }
  // True if the fixed part fits (dwTotalSize >= fixed_size).
  bool fixed_fits() const { return total_ >= fixed_; }

  // Sets a DWORD field of the fixed part at byte `offset`, if it fits.
  void SetDword(size_t offset, uint32_t value);

  // Appends a NUL-terminated UTF-16 string, or raw bytes, to the variable
  // part and points the size/offset fields at it (both byte counts). When it
  // does not fit, nothing is written, the size/offset fields are set to 0 and
  // only dwNeededSize grows.
  void AppendString(size_t size_field, size_t offset_field, absl::string_view utf8);
  void AppendBytes(size_t size_field, size_t offset_field, const void* data, size_t size);

  // Writes dwNeededSize and dwUsedSize. Call once, last.
  void Finish();

  uint32_t needed() const { return needed_; }
  uint32_t used() const { return used_; }

 private:
  unsigned char* base_;
  uint32_t total_;
  uint32_t fixed_;
  uint32_t needed_;
  uint32_t used_;
};

}  // namespace linebridge::tsp
