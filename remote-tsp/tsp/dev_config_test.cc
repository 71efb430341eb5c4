// lineGetDevConfig / lineSetDevConfig blocks (dev_config.h): Unimodem's
// UMDEVCFG byte for byte (offsets spelled out here from mingw-w64's
// winbase.h and mcx.h, not taken from the code), the VARSTRING at every
// dwTotalSize, the round trip, and every check of a block handed in.
#include "tsp/dev_config.h"

#include <gtest/gtest.h>

#include <string>
#include <utility>

#include "tsp/tapi_structs_test_util.h"

namespace linebridge::tsp {
namespace {

using structs_test::Bytes;
using structs_test::ExpectLayout;
using structs_test::Field;
using structs_test::Var;
using structs_test::GetDword;
using structs_test::kVarString;
using structs_test::Layout;
using structs_test::PutDword;

LPCWSTR W(const char16_t* s) { return reinterpret_cast<LPCWSTR>(s); }

v1::ModemSettings Sample() {
  v1::ModemSettings s;
  s.set_call_setup_fail_timer_s(45);
  s.set_inactivity_timeout_s(300);
  s.set_speaker_volume(v1::MODEM_SPEAKER_VOLUME_HIGH);
  s.set_speaker_mode(v1::MODEM_SPEAKER_MODE_CALL_SETUP);
  s.set_blind_dial(true);
  s.set_error_control(v1::MODEM_ERROR_CONTROL_FORCED);
  s.set_compression(false);
  s.set_flow_control(v1::MODEM_FLOW_CONTROL_HARDWARE);
  s.set_other_modem_options(0x00000100);  // MDM_TONE_DIAL, kept as given
  s.set_dte_rate(57600);
  s.set_data_bits(7);
  s.set_parity(v1::MODEM_PARITY_EVEN);
  s.set_stop_bits(v1::MODEM_STOP_BITS_TWO);
  s.set_terminal_after_dial(true);
  s.set_manual_dial(true);
  s.set_wait_bong_s(8);
  return s;
}

// UMDEVCFG of Sample(), written out field by field.
Bytes SampleBlock() {
  Bytes b(108, 0);
  // DEVCFGHDR: dwSize, dwVersion (MDMCFG_VERSION), fwOptions, wWaitBong.
  PutDword(b, 0, 108);
  PutDword(b, 4, 0x00010003);
  b[8] = 0x02 | 0x04;  // TERMINAL_POST | MANUAL_DIAL
  b[10] = 8;
  // COMMCONFIG at 12: dwSize, wVersion, wReserved, DCB (28 bytes at 20),
  // dwProviderSubType PST_MODEM, dwProviderOffset, dwProviderSize.
  PutDword(b, 12, 96);
  b[16] = 1;
  PutDword(b, 20, 28);     // DCBlength
  PutDword(b, 24, 57600);  // BaudRate
  // fBinary | fParity | fOutxCtsFlow | DTR_CONTROL_ENABLE << 4 | RTS_CONTROL_HANDSHAKE << 12
  PutDword(b, 28, 0x1 | 0x2 | 0x4 | 0x10 | 0x2000);
  b[34] = 10;  // XonLim
  b[36] = 10;  // XoffLim
  b[38] = 7;   // ByteSize
  b[39] = 2;   // EVENPARITY
  b[40] = 2;   // TWOSTOPBITS
  b[41] = 0x11;
  b[42] = 0x13;
  PutDword(b, 48, 6);
  PutDword(b, 52, 48);
  PutDword(b, 56, 48);
  // MODEMSETTINGS at 60.
  PutDword(b, 60, 48);   // dwActualSize
  PutDword(b, 64, 48);   // dwRequiredSize
  PutDword(b, 76, 45);   // dwCallSetupFailTimer
  PutDword(b, 80, 300);  // dwInactivityTimeout
  PutDword(b, 84, 2);    // MDMVOL_HIGH
  PutDword(b, 88, 3);    // MDMSPKR_CALLSETUP
  // MDM_ERROR_CONTROL | MDM_FORCED_EC | MDM_FLOWCONTROL_HARD | MDM_TONE_DIAL | MDM_BLIND_DIAL
  PutDword(b, 92, 0x2 | 0x4 | 0x10 | 0x100 | 0x200);
  return b;
}

v1::DeviceConfig ModemConfig() {
  v1::DeviceConfig c;
  *c.mutable_modem() = Sample();
  return c;
}

TEST(UmDevCfg, EncodesUnimodemLayout) {
  const std::string got = EncodeUmDevCfg(Sample());
  EXPECT_EQ(Bytes(got.begin(), got.end()), SampleBlock());
}

TEST(UmDevCfg, RoundTrip) {
  const Bytes block = SampleBlock();
  v1::ModemSettings back;
  ASSERT_EQ(DecodeUmDevCfg(block.data(), static_cast<DWORD>(block.size()), &back), 0);
  EXPECT_EQ(back.SerializeAsString(), Sample().SerializeAsString()) << back.DebugString();
  // Every speaker mode, volume, error control and flow control survives.
  for (int mode = 1; mode <= 4; ++mode) {
    for (int flow = 1; flow <= 3; ++flow) {
      v1::ModemSettings s = Sample();
      s.set_speaker_mode(static_cast<v1::ModemSpeakerMode>(mode));
      s.set_speaker_volume(static_cast<v1::ModemSpeakerVolume>(1 + mode % 3));
      s.set_error_control(static_cast<v1::ModemErrorControl>(1 + flow % 3));
      s.set_flow_control(static_cast<v1::ModemFlowControl>(flow));
      s.set_parity(static_cast<v1::ModemParity>(1 + mode));
      const std::string bytes = EncodeUmDevCfg(s);
      v1::ModemSettings r;
      ASSERT_EQ(DecodeUmDevCfg(bytes.data(), static_cast<DWORD>(bytes.size()), &r), 0);
      EXPECT_EQ(r.SerializeAsString(), s.SerializeAsString()) << r.DebugString();
    }
  }
}

// A block longer than Unimodem's (device-specific data after the settings)
// is read by its sizes and offsets.
TEST(UmDevCfg, ReadsByOffsets) {
  Bytes b = SampleBlock();
  b.resize(140, 0);
  PutDword(b, 0, 140);
  PutDword(b, 12, 128);  // COMMCONFIG dwSize
  PutDword(b, 52, 60);   // dwProviderOffset: 12 bytes further
  PutDword(b, 56, 60);
  Bytes moved(b.begin() + 60, b.begin() + 108);
  std::fill(b.begin() + 60, b.end(), 0);
  std::copy(moved.begin(), moved.end(), b.begin() + 72);
  v1::ModemSettings s;
  ASSERT_EQ(DecodeUmDevCfg(b.data(), static_cast<DWORD>(b.size()), &s), 0);
  EXPECT_EQ(s.call_setup_fail_timer_s(), 45u);
  EXPECT_EQ(s.speaker_mode(), v1::MODEM_SPEAKER_MODE_CALL_SETUP);
}

TEST(UmDevCfg, RejectsBadBlocks) {
  const Bytes good = SampleBlock();
  auto decode = [](const Bytes& b, DWORD size) {
    v1::ModemSettings s;
    return DecodeUmDevCfg(b.data(), size, &s);
  };
  EXPECT_EQ(decode(good, 108), 0);
  EXPECT_EQ(decode(good, 59), LINEERR_INVALPARAM);   // shorter than header + COMMCONFIG
  EXPECT_EQ(decode(good, 100), LINEERR_INVALPARAM);  // dwSize says 108
  struct Edit {
    const char* what;
    size_t offset;
    DWORD value;
  };
  const Edit edits[] = {
      {"header dwSize below the COMMCONFIG", 0, 40},
      {"version", 4, 0x00010002},
      {"COMMCONFIG dwSize past the block", 12, 97},
      {"DCBlength", 20, 27},
      {"BaudRate too low", 24, 110},
      {"provider subtype", 48, 1},
      {"provider offset inside the fixed part", 52, 44},
      {"provider size too small for MODEMSETTINGS", 56, 40},
      {"provider data past COMMCONFIG", 56, 52},
      {"call setup fail timer", 76, 256},
      {"inactivity timeout", 80, 2551},
      {"speaker volume", 84, 3},
      {"speaker mode", 88, 4},
  };
  for (const Edit& e : edits) {
    Bytes b = good;
    PutDword(b, e.offset, e.value);
    EXPECT_EQ(decode(b, 108), LINEERR_INVALPARAM) << e.what;
  }
  for (auto [offset, value] : {std::pair<size_t, unsigned char>{38, 4}, {38, 9}, {39, 5}, {40, 3}}) {
    Bytes b = good;
    b[offset] = value;
    EXPECT_EQ(decode(b, 108), LINEERR_INVALPARAM) << "DCB byte " << offset;
  }
  Bytes bong = good;
  bong[10] = 0;
  bong[11] = 1;  // 256 s
  EXPECT_EQ(decode(bong, 108), LINEERR_INVALPARAM);
  v1::ModemSettings s;
  EXPECT_EQ(DecodeUmDevCfg(nullptr, 108, &s), LINEERR_INVALPOINTER);
}

// lineGetDevConfig's VARSTRING at every dwTotalSize: the block when it fits,
// else dwNeededSize alone.
TEST(WriteDevConfig, VarStringAtEverySize) {
  const v1::DeviceConfig config = ModemConfig();
  Layout l;
  l.fixed = kVarString;
  l.fields = {STRUCT_FIELD(VARSTRING, dwStringFormat, STRINGFORMAT_BINARY)};
  l.vars = {STRUCT_VAR(VARSTRING, dwString, SampleBlock())};
  for (const char16_t* device_class :
       {u"comm/datamodem", u"COMM/DataModem", u"comm/datamodem/dialin", u"comm/datamodem/dialout"}) {
    ExpectLayout(l, [&](void* p) {
      return WriteDevConfig(&config, W(device_class), static_cast<LPVARSTRING>(p));
    });
  }
}

TEST(WriteDevConfig, OpaqueBlock) {
  v1::DeviceConfig config;
  config.set_opaque(std::string("\x01\x02\x03", 3));
  Layout l;
  l.fixed = kVarString;
  l.fields = {STRUCT_FIELD(VARSTRING, dwStringFormat, STRINGFORMAT_BINARY)};
  l.vars = {STRUCT_VAR(VARSTRING, dwString, (Bytes{1, 2, 3}))};
  ExpectLayout(l, [&](void* p) {
    return WriteDevConfig(&config, W(u"tapi/line"), static_cast<LPVARSTRING>(p));
  });
  // Nothing set yet: an empty string.
  v1::DeviceConfig empty;
  empty.set_opaque("");
  Layout e = l;
  e.vars = {STRUCT_VAR(VARSTRING, dwString, Bytes{})};
  ExpectLayout(e, [&](void* p) {
    return WriteDevConfig(&empty, W(u"tapi/line"), static_cast<LPVARSTRING>(p));
  });
}

TEST(WriteDevConfig, Checks) {
  const v1::DeviceConfig modem = ModemConfig();
  v1::DeviceConfig opaque;
  opaque.set_opaque("x");
  Bytes b = structs_test::Buffer(kVarString - 1);
  auto* out = reinterpret_cast<LPVARSTRING>(b.data());
  EXPECT_EQ(WriteDevConfig(&modem, W(u"comm/datamodem"), nullptr), LINEERR_INVALPOINTER);
  EXPECT_EQ(WriteDevConfig(&modem, nullptr, out), LINEERR_INVALPOINTER);
  // The class before the size.
  EXPECT_EQ(WriteDevConfig(&modem, W(u"tapi/line"), out), LINEERR_INVALDEVICECLASS);
  EXPECT_EQ(WriteDevConfig(&modem, W(u"comm"), out), LINEERR_INVALDEVICECLASS);
  EXPECT_EQ(WriteDevConfig(&opaque, W(u"comm/datamodem"), out), LINEERR_INVALDEVICECLASS);
  EXPECT_EQ(WriteDevConfig(nullptr, W(u"comm/datamodem"), out), LINEERR_INVALDEVICECLASS);
  EXPECT_EQ(WriteDevConfig(&modem, W(u"comm/datamodem"), out), LINEERR_STRUCTURETOOSMALL);
  EXPECT_EQ(b, structs_test::Buffer(kVarString - 1));
}

TEST(ReadDevConfig, ModemAndOpaque) {
  const v1::DeviceConfig modem = ModemConfig();
  const Bytes block = SampleBlock();
  v1::DeviceConfig out;
  ASSERT_EQ(ReadDevConfig(&modem, W(u"comm/datamodem"), block.data(),
                          static_cast<DWORD>(block.size()), &out),
            0);
  EXPECT_EQ(out.SerializeAsString(), modem.SerializeAsString());
  EXPECT_EQ(ReadDevConfig(&modem, W(u"tapi/line"), block.data(), 108, &out),
            LINEERR_INVALDEVICECLASS);
  EXPECT_EQ(ReadDevConfig(&modem, W(u"comm/datamodem"), nullptr, 108, &out), LINEERR_INVALPOINTER);
  EXPECT_EQ(ReadDevConfig(&modem, W(u"comm/datamodem"), block.data(), 0, &out),
            LINEERR_INVALPARAM);

  v1::DeviceConfig opaque;
  opaque.set_opaque("");
  const std::string data(4096, 'z');
  ASSERT_EQ(ReadDevConfig(&opaque, W(u"tapi/line"), data.data(), 4096, &out), 0);
  EXPECT_EQ(out.opaque(), data);
  EXPECT_EQ(ReadDevConfig(&opaque, W(u"tapi/line"), data.data(), 4097, &out), LINEERR_INVALPARAM);
  ASSERT_EQ(ReadDevConfig(&opaque, W(u"tapi/line"), nullptr, 0, &out), 0);
  EXPECT_EQ(out.kind_case(), v1::DeviceConfig::kOpaque);
  EXPECT_TRUE(out.opaque().empty());
  EXPECT_EQ(ReadDevConfig(nullptr, W(u"tapi/line"), data.data(), 1, &out),
            LINEERR_INVALDEVICECLASS);
}

}  // namespace
}  // namespace linebridge::tsp
