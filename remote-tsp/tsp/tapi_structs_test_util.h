// The harness of the TAPI structure writer tests (tapi_structs_test.cc,
// tapi_call_structs_test.cc): every dwTotalSize from the fixed size to past
// dwNeededSize is compared byte for byte with the buffer the TSPI rules
// prescribe (fixed part, variable fields packed in order after it as far as
// they fit, dwNeededSize/dwUsedSize, nothing touched past what was used).
// Expected fixed sizes, offsets and UTF-16 contents are spelled out by the
// tests, not taken from the writers.
#pragma once

#include <gtest/gtest.h>

#include <algorithm>
#include <cstddef>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "tsp/tapi_structs.h"

namespace linebridge::tsp::structs_test {

using Bytes = std::vector<unsigned char>;

inline constexpr DWORD kV20 = 0x00020000;
inline constexpr DWORD kV22 = 0x00020002;
inline constexpr DWORD kV30 = 0x00030000;
// Every byte the writer must leave alone: past dwTotalSize, and past
// dwUsedSize within it.
inline constexpr unsigned char kCanary = 0xA5;
inline constexpr size_t kSlack = 64;  // canary bytes past dwTotalSize

// The fixed parts as the TAPI 2.0 / 2.2 / 3.0 headers lay them out.
inline constexpr DWORD kDevCaps20 = 252;  // up to dwDevSpecificOffset ... dwDeviceClassesOffset
inline constexpr DWORD kDevCaps22 = 268;  // + PermanentLineGuid
inline constexpr DWORD kDevCaps30 = 292;  // + dwAddressTypes .. dwAvailableTracking
inline constexpr DWORD kAddressCaps = 228;
inline constexpr DWORD kDevStatus = 88;
inline constexpr DWORD kAddressStatus = 64;
inline constexpr DWORD kVarString = 24;
inline constexpr DWORD kCallInfo2 = 324;  // up to dwReceivingFlowspecOffset
inline constexpr DWORD kCallInfo30 = 344;  // + the five dw*IDAddressType
inline constexpr DWORD kCallStatus = 56;

// A string as TAPI wants it: UTF-16LE with its NUL.
inline Bytes Utf16(std::u16string_view s) {
  Bytes out;
  for (char16_t c : s) {
    out.push_back(static_cast<unsigned char>(c & 0xFF));
    out.push_back(static_cast<unsigned char>(c >> 8));
  }
  out.push_back(0);
  out.push_back(0);
  return out;
}
inline Bytes Raw(std::string_view s) { return Bytes(s.begin(), s.end()); }
inline Bytes Concat(Bytes a, const Bytes& b) {
  a.insert(a.end(), b.begin(), b.end());
  return a;
}
inline void PutDword(Bytes& b, size_t offset, DWORD v) {
  for (int i = 0; i < 4; ++i) b[offset + i] = static_cast<unsigned char>(v >> (8 * i));
}
inline DWORD GetDword(const Bytes& b, size_t offset) {
  DWORD v = 0;
  for (int i = 3; i >= 0; --i) v = (v << 8) | b[offset + i];
  return v;
}
// "tapi/line" then the empty name that ends the list.
inline Bytes DeviceClasses() { return Concat(Utf16(u"tapi/line"), Bytes{0, 0}); }

// A DWORD of the fixed part.
struct Field {
  const char* name;
  size_t offset;
  DWORD value;
};
// A variable field: its dwXxxSize/dwXxxOffset and what it holds (empty: not
// written, size and offset 0).
struct Var {
  const char* name;
  size_t size_field;
  size_t offset_field;
  Bytes content;
};
// What a writer must produce: the fixed size, the fixed part's DWORDs (every
// other byte of it is 0) and the variable fields in the order they are packed.
struct Layout {
  DWORD fixed = 0;
  std::vector<Field> fields;
  std::vector<Var> vars;

  DWORD Needed() const {
    DWORD n = fixed;
    for (const Var& v : vars) n += static_cast<DWORD>(v.content.size());
    return n;
  }
};

// The caller's buffer after a successful write with dwTotalSize `total`.
inline Bytes Expected(const Layout& l, DWORD total) {
  Bytes b(total + kSlack, kCanary);
  std::fill(b.begin() + 4, b.begin() + l.fixed, 0);
  PutDword(b, 0, total);
  for (const Field& f : l.fields) PutDword(b, f.offset, f.value);
  DWORD at = l.fixed;
  DWORD used = l.fixed;
  bool fits = true;  // the variable part stays contiguous: once one fails, the rest do
  for (const Var& v : l.vars) {
    if (v.content.empty()) continue;
    const auto size = static_cast<DWORD>(v.content.size());
    fits = fits && at + size <= total;
    if (fits) {
      PutDword(b, v.size_field, size);
      PutDword(b, v.offset_field, at);
      std::copy(v.content.begin(), v.content.end(), b.begin() + at);
      used = at + size;
    }
    at += size;
  }
  PutDword(b, 4, at);
  PutDword(b, 8, used);
  return b;
}

// Names the first differing byte (and the field it belongs to).
inline void ExpectSameBytes(const Layout& l, const Bytes& actual, const Bytes& expected) {
  ASSERT_EQ(actual.size(), expected.size());
  for (size_t i = 0; i < actual.size(); ++i) {
    if (actual[i] == expected[i]) continue;
    std::string where = i < 4 ? "dwTotalSize" : i < 8 ? "dwNeededSize" : i < 12 ? "dwUsedSize" : "";
    for (const Field& f : l.fields) {
      if (i >= f.offset && i < f.offset + 4) where = f.name;
    }
    for (const Var& v : l.vars) {
      if (i >= v.size_field && i < v.size_field + 4) where = std::string(v.name) + " size";
      if (i >= v.offset_field && i < v.offset_field + 4) where = std::string(v.name) + " offset";
    }
    if (where.empty()) where = i < l.fixed ? "fixed part" : "variable part / canary";
    ADD_FAILURE() << "byte " << i << " (" << where << "): " << int{actual[i]} << ", expected "
                  << int{expected[i]};
    return;
  }
}

// A caller's buffer: dwTotalSize set, every other byte the canary.
inline Bytes Buffer(DWORD total) {
  Bytes b(total + kSlack, kCanary);
  PutDword(b, 0, total);
  return b;
}

using Writer = std::function<LONG(void*)>;

// Below the fixed size: STRUCTURETOOSMALL (`too_small`: LINEERR_ or, for the
// phone structures, PHONEERR_), not a byte written. From the fixed size to
// well past dwNeededSize: exactly the expected buffer.
inline void ExpectLayout(const Layout& l, const Writer& write,
                         LONG too_small = LINEERR_STRUCTURETOOSMALL) {
  {
    Bytes b = Buffer(l.fixed - 1);
    EXPECT_EQ(write(b.data()), too_small);
    EXPECT_EQ(b, Buffer(l.fixed - 1)) << "written although too small";
  }
  const DWORD needed = l.Needed();
  for (DWORD total = l.fixed; total <= needed + 16; ++total) {
    SCOPED_TRACE(::testing::Message() << "dwTotalSize " << total);
    Bytes b = Buffer(total);
    ASSERT_EQ(write(b.data()), 0);
    EXPECT_EQ(GetDword(b, 4), needed);
    if (total == l.fixed) {
      EXPECT_EQ(GetDword(b, 8), l.fixed);
    }
    if (total >= needed) {
      EXPECT_EQ(GetDword(b, 8), needed);
    }
    ExpectSameBytes(l, b, Expected(l, total));
    if (::testing::Test::HasFailure()) return;  // one dwTotalSize tells enough
  }
}

#define STRUCT_FIELD(S, f, v) Field{#f, offsetof(S, f), static_cast<DWORD>(v)}
#define STRUCT_VAR(S, f, content) Var{#f, offsetof(S, f##Size), offsetof(S, f##Offset), content}

// A line with every field the writers read set (two addresses, in service).
inline LineSnapshot FullLine() {
  LineSnapshot s;
  s.device_id = 7;
  s.line_id = "sim/100";
  s.permanent_line_id = 0x12345678;
  s.present = true;
  s.server_connected = true;
  v1::Line& info = s.info.emplace();
  info.set_id("100");
  info.set_name("Zo\xC3\xAB's desk");
  v1::LineCaps& caps = *info.mutable_caps();
  caps.set_provider_info("Sim PBX");
  caps.set_max_data_rate(64000);
  caps.add_media_modes(v1::MEDIA_MODE_INTERACTIVE_VOICE);
  caps.add_media_modes(v1::MEDIA_MODE_DATAMODEM);
  caps.add_bearer_modes(v1::BEARER_MODE_VOICE);
  caps.add_bearer_modes(v1::BEARER_MODE_DATA);
  caps.add_generate_digit_modes(v1::DIGIT_MODE_DTMF);
  caps.add_generate_digit_modes(v1::DIGIT_MODE_PULSE);
  caps.add_generate_digit_modes(v1::DIGIT_MODE_DTMFEND);  // cannot be generated
  caps.add_monitor_digit_modes(v1::DIGIT_MODE_DTMF);
  caps.add_monitor_digit_modes(v1::DIGIT_MODE_DTMFEND);
  caps.set_max_num_active_calls(3);
  caps.set_answer_mode(LINEANSWERMODE_HOLD);
  caps.add_transfer_modes(v1::TRANSFER_MODE_TRANSFER);
  caps.add_transfer_modes(v1::TRANSFER_MODE_CONFERENCE);
  caps.add_forward_modes(v1::FORWARD_MODE_UNCOND);
  caps.add_forward_modes(v1::FORWARD_MODE_BUSY);
  caps.add_park_modes(v1::PARK_MODE_DIRECTED);

  v1::Address& a0 = *info.add_addresses();
  a0.set_address("100");
  v1::AddressCaps& ac = *a0.mutable_caps();
  ac.set_max_num_active_calls(2);
  ac.set_max_num_on_hold_calls(4);
  ac.set_max_num_on_hold_pending_calls(1);
  ac.set_max_num_conference(5);
  ac.set_max_num_trans_conf(6);
  ac.set_max_forward_entries(8);
  ac.add_address_features(v1::ADDRESS_FEATURE_FORWARD);
  ac.add_address_features(v1::ADDRESS_FEATURE_MAKECALL);
  ac.add_address_features(v1::ADDRESS_FEATURE_SETMEDIACONTROL);  // not implemented
  ac.add_call_features(v1::CALL_FEATURE_ANSWER);
  ac.add_call_features(v1::CALL_FEATURE_DROP);
  ac.add_call_features(v1::CALL_FEATURE_COMPLETETRANSF);
  ac.add_call_features(v1::CALL_FEATURE_SETUPCONF);
  ac.add_call_features(v1::CALL_FEATURE_PARK);
  ac.add_call_features(v1::CALL_FEATURE_SECURECALL);  // not implemented
  ac.add_call_states(v1::CALL_STATE_OFFERING);
  ac.add_call_states(v1::CALL_STATE_CONNECTED);
  ac.add_disconnect_modes(v1::DISCONNECT_MODE_NORMAL);
  ac.add_disconnect_modes(v1::DISCONNECT_MODE_BUSY);
  ac.set_caller_id_supported(true);
  ac.set_connected_id_supported(true);
  ac.set_redirecting_id_supported(true);

  v1::Address& a1 = *info.add_addresses();
  a1.mutable_caps()->add_call_states(v1::CALL_STATE_ONHOLD);

  v1::LineStatus& st = *info.mutable_status();
  st.set_state(v1::LINE_STATE_IN_SERVICE);
  st.set_connected(true);
  st.set_num_active_calls(1);
  st.set_num_on_hold_calls(2);
  st.set_num_on_hold_pending_calls(3);
  return s;
}

// A line known from the device map only (its server has not answered).
inline LineSnapshot BareLine() {
  LineSnapshot s;
  s.device_id = 3;
  s.line_id = "pbx2/7";
  s.permanent_line_id = 0xCAFEF00D;
  return s;
}

}  // namespace linebridge::tsp::structs_test
