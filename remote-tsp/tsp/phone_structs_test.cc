// The phone structure writers (phone_structs.h): PHONECAPS in both
// negotiated layouts, PHONESTATUS, PHONEBUTTONINFO and the VARSTRINGs, byte
// for byte at every dwTotalSize from the fixed size to past dwNeededSize;
// the PHONEBUTTONINFO phoneSetButtonInfo hands in; the enum conversions.
#include "tsp/phone_structs.h"

#include <gtest/gtest.h>

#include <cstddef>
#include <cstring>

#include "tsp/tapi_structs_test_util.h"

namespace linebridge::tsp {
namespace {

using structs_test::Buffer;
using structs_test::Bytes;
using structs_test::Concat;
using structs_test::Field;
using structs_test::GetDword;
using structs_test::Layout;
using structs_test::PutDword;
using structs_test::Utf16;
using structs_test::Var;
using structs_test::Writer;

// The fixed parts as tapi.h lays them out (written out, not taken from it).
constexpr DWORD kPhoneCaps20 = 180;  // up to dwMonitoredHeadsetHookSwitchModes
constexpr DWORD kPhoneCaps22 = 196;  // + PermanentPhoneGuid
constexpr DWORD kPhoneStatus = 104;
constexpr DWORD kButtonInfo = 40;
constexpr DWORD kVarString = 24;

// Below the fixed size PHONEERR_STRUCTURETOOSMALL and nothing written; from
// it to past dwNeededSize exactly the expected buffer.
void ExpectPhoneLayout(const Layout& l, const Writer& write) {
  structs_test::ExpectLayout(l, write, PHONEERR_STRUCTURETOOSMALL);
}

Bytes Dwords(std::initializer_list<DWORD> values) {
  Bytes b(values.size() * 4);
  size_t at = 0;
  for (DWORD v : values) {
    PutDword(b, at, v);
    at += 4;
  }
  return b;
}

// A desk phone: handset (settable) and speaker, a 2×8 display, two ring
// modes, three buttons (a call appearance with a lamp, HOLD without one,
// a keypad digit), two data areas.
PhoneSnapshot Desk() {
  PhoneSnapshot s;
  s.device_id = 3;
  s.phone_id = "sim/phone/100";
  s.permanent_phone_id = 0xCAFEF00D;
  s.present = true;
  s.server_connected = true;
  v1::Phone& p = s.info;
  p.set_id("sim/phone/100");
  p.set_name("Desk 100");
  p.set_line_id("sim/100");
  v1::PhoneCaps& c = *p.mutable_caps();
  c.set_provider_info("Sim");
  c.add_hookswitch_devices(v1::HOOK_SWITCH_DEVICE_HANDSET);
  c.add_hookswitch_devices(v1::HOOK_SWITCH_DEVICE_SPEAKER);
  c.add_handset_modes(v1::HOOK_SWITCH_MODE_ONHOOK);
  c.add_handset_modes(v1::HOOK_SWITCH_MODE_MIC_SPEAKER);
  c.add_speaker_modes(v1::HOOK_SWITCH_MODE_ONHOOK);
  c.add_speaker_modes(v1::HOOK_SWITCH_MODE_SPEAKER);
  c.add_settable_hookswitch_devices(v1::HOOK_SWITCH_DEVICE_HANDSET);
  c.add_volume_devices(v1::HOOK_SWITCH_DEVICE_HANDSET);
  c.add_gain_devices(v1::HOOK_SWITCH_DEVICE_HANDSET);
  c.set_display_rows(2);
  c.set_display_columns(8);
  c.set_num_ring_modes(2);
  c.set_num_button_lamps(3);
  c.add_data_area_sizes(16);
  c.add_data_area_sizes(4);
  c.add_device_classes("tapi/phone");
  c.set_display_settable(true);
  c.set_lamps_settable(true);
  c.set_ring_settable(true);
  c.set_button_info_settable(true);
  v1::PhoneButton* b0 = p.add_buttons();
  b0->set_id(0);
  b0->set_mode(v1::PHONE_BUTTON_MODE_CALL);
  b0->set_text("Line 1");
  b0->add_lamp_modes(v1::LAMP_MODE_OFF);
  b0->add_lamp_modes(v1::LAMP_MODE_STEADY);
  b0->add_lamp_modes(v1::LAMP_MODE_FLASH);
  v1::PhoneButton* b1 = p.add_buttons();
  b1->set_id(1);
  b1->set_mode(v1::PHONE_BUTTON_MODE_FEATURE);
  b1->set_function(v1::PHONE_BUTTON_FUNCTION_HOLD);
  b1->set_text("Hold");
  v1::PhoneButton* b2 = p.add_buttons();
  b2->set_id(2);
  b2->set_mode(v1::PHONE_BUTTON_MODE_KEYPAD);
  b2->set_text("1");
  v1::PhoneStatus& st = *p.mutable_status();
  st.set_connected(true);
  st.set_num_owners(1);
  st.set_num_monitors(2);
  st.set_ring_mode(1);
  st.set_ring_volume(0x8000);
  st.set_handset_mode(v1::HOOK_SWITCH_MODE_MIC_SPEAKER);
  st.set_speaker_mode(v1::HOOK_SWITCH_MODE_ONHOOK);
  st.set_handset_volume(100);
  st.set_handset_gain(200);
  st.set_display("Hello   World   ");
  st.add_lamp_modes(v1::LAMP_MODE_FLASH);
  st.add_lamp_modes(v1::LAMP_MODE_DUMMY);
  st.add_lamp_modes(v1::LAMP_MODE_DUMMY);
  st.add_button_states(v1::PHONE_BUTTON_STATE_UP);
  st.add_button_states(v1::PHONE_BUTTON_STATE_DOWN);
  return s;
}

constexpr DWORD kDeskFeatures =
    PHONEFEATURE_GETBUTTONINFO | PHONEFEATURE_GETRING | PHONEFEATURE_GETLAMP |
    PHONEFEATURE_GETDISPLAY | PHONEFEATURE_SETDISPLAY | PHONEFEATURE_GETDATA |
    PHONEFEATURE_SETDATA | PHONEFEATURE_SETLAMP | PHONEFEATURE_SETRING |
    PHONEFEATURE_SETBUTTONINFO | PHONEFEATURE_GETHOOKSWITCHHANDSET |
    PHONEFEATURE_GETHOOKSWITCHSPEAKER | PHONEFEATURE_SETHOOKSWITCHHANDSET |
    PHONEFEATURE_GETVOLUMEHANDSET | PHONEFEATURE_SETVOLUMEHANDSET | PHONEFEATURE_GETGAINHANDSET |
    PHONEFEATURE_SETGAINHANDSET;

Layout DeskCaps(DWORD fixed) {
  Layout l;
  l.fixed = fixed;
  l.fields = {
      STRUCT_FIELD(PHONECAPS, dwPermanentPhoneID, 0xCAFEF00D),
      STRUCT_FIELD(PHONECAPS, dwStringFormat, STRINGFORMAT_UNICODE),
      STRUCT_FIELD(PHONECAPS, dwPhoneStates,
                   PHONESTATE_OTHER | PHONESTATE_CONNECTED | PHONESTATE_DISCONNECTED |
                       PHONESTATE_OWNER | PHONESTATE_MONITORS | PHONESTATE_RINGMODE |
                       PHONESTATE_RINGVOLUME | PHONESTATE_CAPSCHANGE | PHONESTATE_REMOVED |
                       PHONESTATE_DISPLAY | PHONESTATE_LAMP | PHONESTATE_HANDSETHOOKSWITCH |
                       PHONESTATE_SPEAKERHOOKSWITCH | PHONESTATE_HANDSETVOLUME |
                       PHONESTATE_HANDSETGAIN),
      STRUCT_FIELD(PHONECAPS, dwHookSwitchDevs, 0x3),
      STRUCT_FIELD(PHONECAPS, dwHandsetHookSwitchModes, 0x1 | 0x8),
      STRUCT_FIELD(PHONECAPS, dwSpeakerHookSwitchModes, 0x1 | 0x4),
      STRUCT_FIELD(PHONECAPS, dwVolumeFlags, 0x1),
      STRUCT_FIELD(PHONECAPS, dwGainFlags, 0x1),
      STRUCT_FIELD(PHONECAPS, dwDisplayNumRows, 2),
      STRUCT_FIELD(PHONECAPS, dwDisplayNumColumns, 8),
      STRUCT_FIELD(PHONECAPS, dwNumRingModes, 2),
      STRUCT_FIELD(PHONECAPS, dwNumButtonLamps, 3),
      STRUCT_FIELD(PHONECAPS, dwNumSetData, 2),
      STRUCT_FIELD(PHONECAPS, dwNumGetData, 2),
      STRUCT_FIELD(PHONECAPS, dwPhoneFeatures, kDeskFeatures),
      STRUCT_FIELD(PHONECAPS, dwSettableHandsetHookSwitchModes, 0x1 | 0x8),
      STRUCT_FIELD(PHONECAPS, dwMonitoredHandsetHookSwitchModes, 0x1 | 0x8),
      STRUCT_FIELD(PHONECAPS, dwMonitoredSpeakerHookSwitchModes, 0x1 | 0x4),
  };
  l.vars = {
      STRUCT_VAR(PHONECAPS, dwProviderInfo, Utf16(u"Sim")),
      STRUCT_VAR(PHONECAPS, dwPhoneInfo, Utf16(u"sim/phone/100")),
      STRUCT_VAR(PHONECAPS, dwPhoneName, Utf16(u"Desk 100")),
      // CALL, FEATURE, KEYPAD; UNKNOWN, HOLD, UNKNOWN; OFF|STEADY|FLASH, DUMMY, DUMMY.
      STRUCT_VAR(PHONECAPS, dwButtonModes, Dwords({0x2, 0x4, 0x8})),
      STRUCT_VAR(PHONECAPS, dwButtonFunctions, Dwords({0, 4, 0})),
      STRUCT_VAR(PHONECAPS, dwLampModes, Dwords({0x2 | 0x4 | 0x10, 0x1, 0x1})),
      STRUCT_VAR(PHONECAPS, dwSetData, Dwords({16, 4})),
      STRUCT_VAR(PHONECAPS, dwGetData, Dwords({16, 4})),
      STRUCT_VAR(PHONECAPS, dwDeviceClasses, Concat(Utf16(u"tapi/phone"), Bytes{0, 0})),
  };
  return l;
}

TEST(PhoneStructsTest, PhoneCapsEveryLayout) {
  const PhoneSnapshot desk = Desk();
  for (DWORD version : {0x00020000u, 0x00020001u}) {
    ExpectPhoneLayout(DeskCaps(kPhoneCaps20), [&](void* b) {
      return WritePhoneCaps(desk, version, static_cast<LPPHONECAPS>(b));
    });
  }
  for (DWORD version : {0x00020002u, 0x00030000u}) {
    ExpectPhoneLayout(DeskCaps(kPhoneCaps22), [&](void* b) {
      return WritePhoneCaps(desk, version, static_cast<LPPHONECAPS>(b));
    });
  }
  EXPECT_EQ(CheckPhoneCaps(0x00030000, nullptr), PHONEERR_INVALPOINTER);
  static_assert(sizeof(PHONECAPS) == kPhoneCaps22 &&
                offsetof(PHONECAPS, PermanentPhoneGuid) == kPhoneCaps20);
}

TEST(PhoneStructsTest, PhoneCapsBeforeTheServerAnswers) {
  PhoneSnapshot s;
  s.device_id = 9;
  s.phone_id = "sim/phone/101";
  s.permanent_phone_id = 42;
  Layout l;
  l.fixed = kPhoneCaps22;
  l.fields = {
      STRUCT_FIELD(PHONECAPS, dwPermanentPhoneID, 42),
      STRUCT_FIELD(PHONECAPS, dwStringFormat, STRINGFORMAT_UNICODE),
      STRUCT_FIELD(PHONECAPS, dwPhoneStates,
                   PHONESTATE_OTHER | PHONESTATE_CONNECTED | PHONESTATE_DISCONNECTED |
                       PHONESTATE_OWNER | PHONESTATE_MONITORS | PHONESTATE_RINGMODE |
                       PHONESTATE_RINGVOLUME | PHONESTATE_CAPSCHANGE | PHONESTATE_REMOVED),
      STRUCT_FIELD(PHONECAPS, dwPhoneFeatures, PHONEFEATURE_GETBUTTONINFO | PHONEFEATURE_GETRING),
  };
  l.vars = {
      STRUCT_VAR(PHONECAPS, dwProviderInfo, Utf16(u"linebridge")),
      STRUCT_VAR(PHONECAPS, dwPhoneInfo, Utf16(u"sim/phone/101")),
      STRUCT_VAR(PHONECAPS, dwPhoneName, Utf16(u"sim/phone/101")),
      STRUCT_VAR(PHONECAPS, dwDeviceClasses, Concat(Utf16(u"tapi/phone"), Bytes{0, 0})),
  };
  ExpectPhoneLayout(l, [&](void* b) {
    return WritePhoneCaps(s, 0x00030000, static_cast<LPPHONECAPS>(b));
  });
}

TEST(PhoneStructsTest, PhoneStatus) {
  const PhoneSnapshot desk = Desk();
  Layout l;
  l.fixed = kPhoneStatus;
  l.fields = {
      STRUCT_FIELD(PHONESTATUS, dwStatusFlags, PHONESTATUSFLAGS_CONNECTED),
      STRUCT_FIELD(PHONESTATUS, dwNumOwners, 1),
      STRUCT_FIELD(PHONESTATUS, dwNumMonitors, 2),
      STRUCT_FIELD(PHONESTATUS, dwRingMode, 1),
      STRUCT_FIELD(PHONESTATUS, dwRingVolume, 0x8000),
      STRUCT_FIELD(PHONESTATUS, dwHandsetHookSwitchMode, PHONEHOOKSWITCHMODE_MICSPEAKER),
      STRUCT_FIELD(PHONESTATUS, dwHandsetVolume, 100),
      STRUCT_FIELD(PHONESTATUS, dwHandsetGain, 200),
      STRUCT_FIELD(PHONESTATUS, dwSpeakerHookSwitchMode, PHONEHOOKSWITCHMODE_ONHOOK),
      STRUCT_FIELD(PHONESTATUS, dwPhoneFeatures, kDeskFeatures),
  };
  l.vars = {
      STRUCT_VAR(PHONESTATUS, dwDisplay, Utf16(u"Hello   World   ")),
      STRUCT_VAR(PHONESTATUS, dwLampModes,
                 Dwords({PHONELAMPMODE_FLASH, PHONELAMPMODE_DUMMY, PHONELAMPMODE_DUMMY})),
  };
  ExpectPhoneLayout(l, [&](void* b) { return WritePhoneStatus(desk, static_cast<LPPHONESTATUS>(b)); });
  EXPECT_EQ(WritePhoneStatus(desk, nullptr), PHONEERR_INVALPOINTER);

  // Its server's stream down: not connected, whatever the last status said.
  PhoneSnapshot away = desk;
  away.server_connected = false;
  Bytes b = Buffer(512);
  ASSERT_EQ(WritePhoneStatus(away, reinterpret_cast<LPPHONESTATUS>(b.data())), 0);
  EXPECT_EQ(GetDword(b, offsetof(PHONESTATUS, dwStatusFlags)), 0u);
}

TEST(PhoneStructsTest, PhoneButtonInfo) {
  const PhoneSnapshot desk = Desk();
  Layout l;
  l.fixed = kButtonInfo;
  l.fields = {
      STRUCT_FIELD(PHONEBUTTONINFO, dwButtonMode, PHONEBUTTONMODE_FEATURE),
      STRUCT_FIELD(PHONEBUTTONINFO, dwButtonFunction, PHONEBUTTONFUNCTION_HOLD),
      STRUCT_FIELD(PHONEBUTTONINFO, dwButtonState, PHONEBUTTONSTATE_DOWN),
  };
  l.vars = {STRUCT_VAR(PHONEBUTTONINFO, dwButtonText, Utf16(u"Hold"))};
  ExpectPhoneLayout(l, [&](void* b) {
    return WritePhoneButtonInfo(desk, 1, static_cast<LPPHONEBUTTONINFO>(b));
  });
  // A button with no state reported yet: UNKNOWN.
  Layout key;
  key.fixed = kButtonInfo;
  key.fields = {
      STRUCT_FIELD(PHONEBUTTONINFO, dwButtonMode, PHONEBUTTONMODE_KEYPAD),
      STRUCT_FIELD(PHONEBUTTONINFO, dwButtonState, PHONEBUTTONSTATE_UNKNOWN),
  };
  key.vars = {STRUCT_VAR(PHONEBUTTONINFO, dwButtonText, Utf16(u"1"))};
  ExpectPhoneLayout(key, [&](void* b) {
    return WritePhoneButtonInfo(desk, 2, static_cast<LPPHONEBUTTONINFO>(b));
  });
  EXPECT_EQ(WritePhoneButtonInfo(desk, 0, nullptr), PHONEERR_INVALPOINTER);
}

TEST(PhoneStructsTest, DisplayAndDeviceIds) {
  const PhoneSnapshot desk = Desk();
  Layout l;
  l.fixed = kVarString;
  l.fields = {STRUCT_FIELD(VARSTRING, dwStringFormat, STRINGFORMAT_UNICODE)};
  l.vars = {STRUCT_VAR(VARSTRING, dwString, Utf16(u"Hello   World   "))};
  ExpectPhoneLayout(l, [&](void* b) { return WritePhoneDisplay(desk, static_cast<LPVARSTRING>(b)); });

  Layout phone;
  phone.fixed = kVarString;
  phone.fields = {STRUCT_FIELD(VARSTRING, dwStringFormat, STRINGFORMAT_BINARY)};
  phone.vars = {STRUCT_VAR(VARSTRING, dwString, Dwords({3}))};
  ExpectPhoneLayout(phone, [&](void* b) {
    return WritePhoneDeviceId(3, 11, true, reinterpret_cast<LPCWSTR>(u"TAPI/Phone"),
                              static_cast<LPVARSTRING>(b));
  });
  Layout line = phone;
  line.vars = {STRUCT_VAR(VARSTRING, dwString, Dwords({11}))};
  ExpectPhoneLayout(line, [&](void* b) {
    return WritePhoneDeviceId(3, 11, true, reinterpret_cast<LPCWSTR>(u"tapi/line"),
                              static_cast<LPVARSTRING>(b));
  });
  Bytes b = Buffer(64);
  auto* out = reinterpret_cast<LPVARSTRING>(b.data());
  EXPECT_EQ(WritePhoneDeviceId(3, 0, false, reinterpret_cast<LPCWSTR>(u"tapi/line"), out),
            PHONEERR_INVALDEVICECLASS);
  EXPECT_EQ(WritePhoneDeviceId(3, 11, true, reinterpret_cast<LPCWSTR>(u"wave/in"), out),
            PHONEERR_INVALDEVICECLASS);
  EXPECT_EQ(WritePhoneDeviceId(3, 11, true, nullptr, out), PHONEERR_INVALPOINTER);
  EXPECT_EQ(b, Buffer(64)) << "written on an error";
}

// phoneSetButtonInfo's structure: dwButtonState is not needed, the text must
// lie inside dwTotalSize.
TEST(PhoneStructsTest, ReadButtonInfo) {
  Bytes in(64, 0);
  PutDword(in, 0, 64);
  PutDword(in, offsetof(PHONEBUTTONINFO, dwButtonMode), PHONEBUTTONMODE_FEATURE);
  PutDword(in, offsetof(PHONEBUTTONINFO, dwButtonFunction), PHONEBUTTONFUNCTION_TRANSFER);
  const Bytes text = Utf16(u"Xfer");
  PutDword(in, offsetof(PHONEBUTTONINFO, dwButtonTextSize), static_cast<DWORD>(text.size()));
  PutDword(in, offsetof(PHONEBUTTONINFO, dwButtonTextOffset), 40);
  std::copy(text.begin(), text.end(), in.begin() + 40);
  auto* info = reinterpret_cast<const PHONEBUTTONINFO*>(in.data());
  v1::PhoneButton button;
  ASSERT_EQ(ReadPhoneButtonInfo(info, 5, &button), 0);
  EXPECT_EQ(button.id(), 5u);
  EXPECT_EQ(button.mode(), v1::PHONE_BUTTON_MODE_FEATURE);
  EXPECT_EQ(button.function(), v1::PHONE_BUTTON_FUNCTION_TRANSFER);
  EXPECT_EQ(button.text(), "Xfer");

  EXPECT_EQ(ReadPhoneButtonInfo(nullptr, 0, &button), PHONEERR_INVALPOINTER);
  Bytes small = in;
  PutDword(small, 0, offsetof(PHONEBUTTONINFO, dwButtonState) - 1);
  EXPECT_EQ(ReadPhoneButtonInfo(reinterpret_cast<const PHONEBUTTONINFO*>(small.data()), 0, &button),
            PHONEERR_STRUCTURETOOSMALL);
  Bytes two_modes = in;
  PutDword(two_modes, offsetof(PHONEBUTTONINFO, dwButtonMode), 0x6);
  EXPECT_EQ(
      ReadPhoneButtonInfo(reinterpret_cast<const PHONEBUTTONINFO*>(two_modes.data()), 0, &button),
      PHONEERR_INVALBUTTONMODE);
  Bytes outside = in;
  PutDword(outside, 0, 48);  // the text ends at 50
  EXPECT_EQ(
      ReadPhoneButtonInfo(reinterpret_cast<const PHONEBUTTONINFO*>(outside.data()), 0, &button),
      PHONEERR_INVALPARAM);
  Bytes function = in;
  PutDword(function, offsetof(PHONEBUTTONINFO, dwButtonFunction), 0x30);
  EXPECT_EQ(
      ReadPhoneButtonInfo(reinterpret_cast<const PHONEBUTTONINFO*>(function.data()), 0, &button),
      PHONEERR_INVALPARAM);
}

TEST(PhoneStructsTest, Conversions) {
  EXPECT_EQ(PhoneBitOf(v1::HOOK_SWITCH_DEVICE_HEADSET), static_cast<DWORD>(PHONEHOOKSWITCHDEV_HEADSET));
  EXPECT_EQ(PhoneBitOf(v1::HOOK_SWITCH_MODE_UNKNOWN), static_cast<DWORD>(PHONEHOOKSWITCHMODE_UNKNOWN));
  EXPECT_EQ(PhoneBitOf(v1::PHONE_BUTTON_MODE_DISPLAY), static_cast<DWORD>(PHONEBUTTONMODE_DISPLAY));
  EXPECT_EQ(PhoneBitOf(v1::PHONE_BUTTON_STATE_UNAVAIL), static_cast<DWORD>(PHONEBUTTONSTATE_UNAVAIL));
  EXPECT_EQ(PhoneBitOf(v1::LAMP_MODE_UNKNOWN), static_cast<DWORD>(PHONELAMPMODE_UNKNOWN));
  EXPECT_EQ(PhoneBitOf(0), 0u);
  EXPECT_EQ(PhoneValueOfBit(PHONELAMPMODE_BROKENFLUTTER), v1::LAMP_MODE_BROKENFLUTTER);
  EXPECT_EQ(PhoneValueOfBit(0), 0);
  EXPECT_EQ(PhoneValueOfBit(0x3), 0);
  EXPECT_EQ(PhoneStateOfChange("lamp_modes", true), static_cast<DWORD>(PHONESTATE_LAMP));
  EXPECT_EQ(PhoneStateOfChange("connected", false), static_cast<DWORD>(PHONESTATE_DISCONNECTED));
  EXPECT_EQ(PhoneStateOfChange("headset_gain", true), static_cast<DWORD>(PHONESTATE_HEADSETGAIN));
  EXPECT_EQ(PhoneStateOfChange("buttons", true), static_cast<DWORD>(PHONESTATE_CAPSCHANGE));
  EXPECT_EQ(PhoneStateOfChange("button_states", true), 0u);
  const PhoneSnapshot desk = Desk();
  EXPECT_EQ(OffHookDevicesOf(desk.info.status()), static_cast<DWORD>(PHONEHOOKSWITCHDEV_HANDSET));
  EXPECT_EQ(HookSwitchModeOf(desk.info.status(), v1::HOOK_SWITCH_DEVICE_SPEAKER),
            static_cast<DWORD>(PHONEHOOKSWITCHMODE_ONHOOK));
  EXPECT_EQ(VolumeOf(desk.info.status(), v1::HOOK_SWITCH_DEVICE_HANDSET), 100u);
  EXPECT_EQ(GainOf(desk.info.status(), v1::HOOK_SWITCH_DEVICE_HANDSET), 200u);
}

}  // namespace
}  // namespace linebridge::tsp
