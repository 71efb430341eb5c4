#include "tsp/var_struct.h"

#include <algorithm>

#include "tsp/utf8.h"

namespace linebridge::tsp {
namespace {

constexpr char32_t kReplacement = 0xFFFD;

uint32_t LoadDword(const unsigned char* p) {
  uint32_t v;
  std::memcpy(&v, p, sizeof v);
  return v;
}
void StoreDword(unsigned char* p, uint32_t v) { std::memcpy(p, &v, sizeof v); }

void AppendUtf16(std::u16string* out, char32_t cp) {
  if (cp >= 0x10000) {
    cp -= 0x10000;
    out->push_back(static_cast<char16_t>(0xD800 + (cp >> 10)));
    out->push_back(static_cast<char16_t>(0xDC00 + (cp & 0x3FF)));
  } else {
    out->push_back(static_cast<char16_t>(cp));
  }
}

}  // namespace

std::u16string Utf8ToUtf16(absl::string_view in) {
  std::u16string out;
  out.reserve(in.size());
  size_t i = 0;
  while (i < in.size()) {
    const auto b0 = static_cast<unsigned char>(in[i]);
    int len = b0 < 0x80 ? 1 : (b0 >> 5) == 0x6 ? 2 : (b0 >> 4) == 0xE ? 3 : (b0 >> 3) == 0x1E ? 4 : 0;
    if (len == 0 || i + len > in.size()) {
      AppendUtf16(&out, kReplacement);
      ++i;
      continue;
    }
    char32_t cp = len == 1 ? b0 : len == 2 ? (b0 & 0x1F) : len == 3 ? (b0 & 0x0F) : (b0 & 0x07);
    bool ok = true;
    for (int k = 1; k < len; ++k) {
      const auto b = static_cast<unsigned char>(in[i + k]);
      if ((b & 0xC0) != 0x80) {
        ok = false;
        break;
      }
      cp = (cp << 6) | (b & 0x3F);
    }
    // Reject overlong forms, surrogates and values past U+10FFFF.
    static constexpr char32_t kMin[] = {0, 0, 0x80, 0x800, 0x10000};
    if (!ok || cp < kMin[len] || (cp >= 0xD800 && cp <= 0xDFFF) || cp > 0x10FFFF) {
      AppendUtf16(&out, kReplacement);
      ++i;
      continue;
    }
    AppendUtf16(&out, cp);
    i += len;
  }
  return out;
}

std::string Utf16ToUtf8(const char16_t* in, size_t max_units) {
  std::string out;
  if (in == nullptr) return out;
  for (size_t i = 0; i < max_units && in[i] != 0; ++i) {
    char32_t cp = in[i];
    if (cp >= 0xD800 && cp <= 0xDBFF) {
      if (i + 1 < max_units && in[i + 1] >= 0xDC00 && in[i + 1] <= 0xDFFF) {
        cp = 0x10000 + ((cp - 0xD800) << 10) + (in[i + 1] - 0xDC00);
        ++i;
      } else {
        cp = kReplacement;
      }
    } else if (cp >= 0xDC00 && cp <= 0xDFFF) {
      cp = kReplacement;
    }
    AppendUtf8(cp, &out);
  }
  return out;
}

VarStructWriter::VarStructWriter(void* base, uint32_t fixed_size)
    : base_(static_cast<unsigned char*>(base)),
      total_(LoadDword(base_)),
      fixed_(fixed_size),
      needed_(fixed_size),
      used_(std::min(total_, fixed_size)) {}

void VarStructWriter::SetDword(size_t offset, uint32_t value) {
  if (offset + sizeof(uint32_t) <= std::min(total_, fixed_)) StoreDword(base_ + offset, value);
}

void VarStructWriter::AppendBytes(size_t size_field, size_t offset_field, const void* data,
                                  size_t size) {
  const uint32_t start = needed_;
  needed_ += static_cast<uint32_t>(size);
  if (size == 0) {
    SetDword(size_field, 0);
    SetDword(offset_field, 0);
    return;
  }
  // Everything before must have fitted too, so the parts stay contiguous.
  if (used_ == start && static_cast<uint64_t>(start) + size <= total_) {
    std::memcpy(base_ + start, data, size);
    used_ = start + static_cast<uint32_t>(size);
    SetDword(size_field, static_cast<uint32_t>(size));
    SetDword(offset_field, start);
  } else {
    SetDword(size_field, 0);
    SetDword(offset_field, 0);
  }
}

void VarStructWriter::AppendString(size_t size_field, size_t offset_field,
                                   absl::string_view utf8) {
  if (utf8.empty()) {
    AppendBytes(size_field, offset_field, nullptr, 0);
    return;
  }
  std::u16string wide = Utf8ToUtf16(utf8);
  wide.push_back(u'\0');
  // TAPI is little-endian; so are all the platforms TAPISRV runs on.
  AppendBytes(size_field, offset_field, wide.data(), wide.size() * sizeof(char16_t));
}

void VarStructWriter::Finish() {
  if (total_ < kHeaderSize) return;
  StoreDword(base_ + 4, needed_);
  StoreDword(base_ + 8, used_);
}

}  // namespace linebridge::tsp
