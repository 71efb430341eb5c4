// The TAPI structure writers of lines (LINEDEVCAPS, LINEADDRESSCAPS,
// LINEDEVSTATUS, LINEADDRESSSTATUS, lineGetID's VARSTRING) against layouts
// written out by hand, in every negotiated layout they have.
#include "tsp/tapi_structs.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstddef>
#include <cstring>
#include <string>
#include <initializer_list>
#include <vector>

#include "tsp/tapi_structs_test_util.h"

namespace linebridge::tsp::structs_test {
namespace {

std::vector<Field> DevCapsCommon() {
  return {STRUCT_FIELD(LINEDEVCAPS, dwStringFormat, STRINGFORMAT_UNICODE),
          STRUCT_FIELD(LINEDEVCAPS, dwAddressModes, LINEADDRESSMODE_ADDRESSID),
          STRUCT_FIELD(LINEDEVCAPS, dwRingModes, 1),
          STRUCT_FIELD(LINEDEVCAPS, dwDevCapFlags, LINEDEVCAPFLAGS_CLOSEDROP),
          STRUCT_FIELD(LINEDEVCAPS, dwLineStates,
                LINEDEVSTATE_INSERVICE | LINEDEVSTATE_OUTOFSERVICE | LINEDEVSTATE_MAINTENANCE |
                    LINEDEVSTATE_CAPSCHANGE | LINEDEVSTATE_REMOVED)};
}

TEST(WriteLineDevCaps, FullLineInEveryLayout) {
  const LineSnapshot line = FullLine();
  for (DWORD version : {kV20, kV22, kV30}) {
    SCOPED_TRACE(::testing::Message() << "version " << std::hex << version);
    Layout l;
    l.fixed = version == kV30 ? kDevCaps30 : version == kV22 ? kDevCaps22 : kDevCaps20;
    l.fields = DevCapsCommon();
    l.fields.insert(
        l.fields.end(),
        {STRUCT_FIELD(LINEDEVCAPS, dwPermanentLineID, 0x12345678),
         STRUCT_FIELD(LINEDEVCAPS, dwNumAddresses, 2),
         STRUCT_FIELD(LINEDEVCAPS, dwBearerModes, LINEBEARERMODE_VOICE | LINEBEARERMODE_DATA),
         STRUCT_FIELD(LINEDEVCAPS, dwMaxRate, 64000),
         STRUCT_FIELD(LINEDEVCAPS, dwMediaModes,
                      LINEMEDIAMODE_INTERACTIVEVOICE | LINEMEDIAMODE_DATAMODEM),
         STRUCT_FIELD(LINEDEVCAPS, dwGenerateDigitModes, LINEDIGITMODE_DTMF | LINEDIGITMODE_PULSE),
         STRUCT_FIELD(LINEDEVCAPS, dwMonitorDigitModes, LINEDIGITMODE_DTMF | LINEDIGITMODE_DTMFEND),
         STRUCT_FIELD(LINEDEVCAPS, dwMaxNumActiveCalls, 3),
         STRUCT_FIELD(LINEDEVCAPS, dwAnswerMode, LINEANSWERMODE_HOLD),
         STRUCT_FIELD(LINEDEVCAPS, dwLineFeatures, LINEFEATURE_MAKECALL)});
    // Only the 3.0 layout has the field.
    if (version == kV30) {
      l.fields.push_back(STRUCT_FIELD(LINEDEVCAPS, dwAddressTypes, LINEADDRESSTYPE_PHONENUMBER));
    }
    l.vars = {STRUCT_VAR(LINEDEVCAPS, dwProviderInfo, Utf16(u"Sim PBX")),
              STRUCT_VAR(LINEDEVCAPS, dwSwitchInfo, Utf16(u"sim/100")),
              STRUCT_VAR(LINEDEVCAPS, dwLineName, Utf16(u"Zo\u00EB's desk")),
              STRUCT_VAR(LINEDEVCAPS, dwDeviceClasses, DeviceClasses())};
    // 8 + 8 + 11 UTF-16 units, then 11 units of device classes.
    EXPECT_EQ(l.Needed(), l.fixed + 16 + 16 + 22 + 22);
    ExpectLayout(l, [&](void* p) {
      return WriteLineDevCaps(line, version, static_cast<LPLINEDEVCAPS>(p));
    });
  }
}

TEST(WriteLineDevCaps, LineWithoutInfoHasDefaults) {
  const LineSnapshot line = BareLine();
  for (DWORD version : {kV20, kV22, kV30}) {
    SCOPED_TRACE(::testing::Message() << "version " << std::hex << version);
    Layout l;
    l.fixed = version == kV30 ? kDevCaps30 : version == kV22 ? kDevCaps22 : kDevCaps20;
    l.fields = DevCapsCommon();
    // One address, voice, no MAKECALL before the server has described the line.
    l.fields.insert(l.fields.end(),
                    {STRUCT_FIELD(LINEDEVCAPS, dwPermanentLineID, 0xCAFEF00D),
                     STRUCT_FIELD(LINEDEVCAPS, dwNumAddresses, 1),
                     STRUCT_FIELD(LINEDEVCAPS, dwBearerModes, LINEBEARERMODE_VOICE),
                     STRUCT_FIELD(LINEDEVCAPS, dwMediaModes, LINEMEDIAMODE_INTERACTIVEVOICE),
                     STRUCT_FIELD(LINEDEVCAPS, dwAnswerMode, LINEANSWERMODE_NONE)});
    if (version == kV30) {
      l.fields.push_back(STRUCT_FIELD(LINEDEVCAPS, dwAddressTypes, LINEADDRESSTYPE_PHONENUMBER));
    }
    l.vars = {STRUCT_VAR(LINEDEVCAPS, dwProviderInfo, Utf16(u"linebridge")),
              STRUCT_VAR(LINEDEVCAPS, dwSwitchInfo, Utf16(u"pbx2/7")),
              STRUCT_VAR(LINEDEVCAPS, dwLineName, Utf16(u"pbx2/7")),
              STRUCT_VAR(LINEDEVCAPS, dwDeviceClasses, DeviceClasses())};
    ExpectLayout(l, [&](void* p) {
      return WriteLineDevCaps(line, version, static_cast<LPLINEDEVCAPS>(p));
    });
  }
}

TEST(WriteLineDevCaps, Checks) {
  EXPECT_EQ(WriteLineDevCaps(FullLine(), kV30, nullptr), LINEERR_INVALPOINTER);
  EXPECT_EQ(CheckDevCaps(kV30, nullptr), LINEERR_INVALPOINTER);
  // The 2.2 size is enough for 2.2 but not for 3.0.
  Bytes b = Buffer(kDevCaps22);
  EXPECT_EQ(CheckDevCaps(kV30, reinterpret_cast<LINEDEVCAPS*>(b.data())),
            LINEERR_STRUCTURETOOSMALL);
  EXPECT_EQ(CheckDevCaps(kV22, reinterpret_cast<LINEDEVCAPS*>(b.data())), 0);
  EXPECT_EQ(b, Buffer(kDevCaps22)) << "the check writes nothing";
  b = Buffer(kDevCaps20 - 1);
  EXPECT_EQ(CheckDevCaps(kV20, reinterpret_cast<LINEDEVCAPS*>(b.data())),
            LINEERR_STRUCTURETOOSMALL);
}

// ---- LINEADDRESSCAPS ----

std::vector<Field> AddressCapsCommon(DWORD device_id) {
  return {STRUCT_FIELD(LINEADDRESSCAPS, dwLineDeviceID, device_id),
          STRUCT_FIELD(LINEADDRESSCAPS, dwAddressSharing, LINEADDRESSSHARING_PRIVATE),
          STRUCT_FIELD(LINEADDRESSCAPS, dwCallInfoStates,
                LINECALLINFOSTATE_OTHER | LINECALLINFOSTATE_CALLERID | LINECALLINFOSTATE_CALLEDID |
                    LINECALLINFOSTATE_CONNECTEDID | LINECALLINFOSTATE_REDIRECTIONID |
                    LINECALLINFOSTATE_REDIRECTINGID | LINECALLINFOSTATE_USERUSERINFO |
                    LINECALLINFOSTATE_RELATEDCALLID | LINECALLINFOSTATE_MEDIAMODE |
                    LINECALLINFOSTATE_BEARERMODE | LINECALLINFOSTATE_APPSPECIFIC |
                    LINECALLINFOSTATE_CALLDATA | LINECALLINFOSTATE_ORIGIN |
                    LINECALLINFOSTATE_REASON | LINECALLINFOSTATE_TRUNK |
                    LINECALLINFOSTATE_RATE | LINECALLINFOSTATE_DIALPARAMS |
                    LINECALLINFOSTATE_TREATMENT | LINECALLINFOSTATE_MONITORMODES |
                    LINECALLINFOSTATE_COMPLETIONID),
          STRUCT_FIELD(LINEADDRESSCAPS, dwRedirectionIDFlags, LINECALLPARTYID_UNAVAIL),
          STRUCT_FIELD(LINEADDRESSCAPS, dwDialToneModes, LINEDIALTONEMODE_UNAVAIL),
          STRUCT_FIELD(LINEADDRESSCAPS, dwBusyModes, LINEBUSYMODE_UNAVAIL),
          STRUCT_FIELD(LINEADDRESSCAPS, dwSpecialInfo, LINESPECIALINFO_UNAVAIL),
          STRUCT_FIELD(LINEADDRESSCAPS, dwConnectedModes, LINECONNECTEDMODE_ACTIVE),
          STRUCT_FIELD(LINEADDRESSCAPS, dwOfferingModes, LINEOFFERINGMODE_ACTIVE)};
}

TEST(WriteLineAddressCaps, AddressWithEveryFeature) {
  const LineSnapshot line = FullLine();
  const DWORD party = LINECALLPARTYID_BLOCKED | LINECALLPARTYID_NAME | LINECALLPARTYID_ADDRESS |
                      LINECALLPARTYID_UNKNOWN | LINECALLPARTYID_UNAVAIL;
  Layout l;
  l.fixed = kAddressCaps;
  l.fields = AddressCapsCommon(7);
  l.fields.insert(
      l.fields.end(),
      {STRUCT_FIELD(LINEADDRESSCAPS, dwCallerIDFlags, party),
       STRUCT_FIELD(LINEADDRESSCAPS, dwCalledIDFlags, LINECALLPARTYID_UNAVAIL),
       STRUCT_FIELD(LINEADDRESSCAPS, dwConnectedIDFlags, party),
       STRUCT_FIELD(LINEADDRESSCAPS, dwRedirectingIDFlags, party),
       STRUCT_FIELD(LINEADDRESSCAPS, dwCallStates,
             LINECALLSTATE_IDLE | LINECALLSTATE_OFFERING | LINECALLSTATE_CONNECTED),
       STRUCT_FIELD(LINEADDRESSCAPS, dwDisconnectModes,
             LINEDISCONNECTMODE_NORMAL | LINEDISCONNECTMODE_BUSY),
       STRUCT_FIELD(LINEADDRESSCAPS, dwMaxNumActiveCalls, 2),
       STRUCT_FIELD(LINEADDRESSCAPS, dwMaxNumOnHoldCalls, 4),
       STRUCT_FIELD(LINEADDRESSCAPS, dwMaxNumOnHoldPendingCalls, 1),
       // With COMPLETETRANSF / SETUPCONF / FORWARD / PARK, their modes and limits.
       STRUCT_FIELD(LINEADDRESSCAPS, dwTransferModes,
             LINETRANSFERMODE_TRANSFER | LINETRANSFERMODE_CONFERENCE),
       STRUCT_FIELD(LINEADDRESSCAPS, dwMaxNumConference, 5),
       STRUCT_FIELD(LINEADDRESSCAPS, dwMaxNumTransConf, 6),
       STRUCT_FIELD(LINEADDRESSCAPS, dwForwardModes, LINEFORWARDMODE_UNCOND | LINEFORWARDMODE_BUSY),
       STRUCT_FIELD(LINEADDRESSCAPS, dwMaxForwardEntries, 8),
       STRUCT_FIELD(LINEADDRESSCAPS, dwMinFwdNumRings, 1),
       STRUCT_FIELD(LINEADDRESSCAPS, dwMaxFwdNumRings, 15),
       STRUCT_FIELD(LINEADDRESSCAPS, dwParkModes, LINEPARKMODE_DIRECTED),
       // SECURECALL and SETMEDIACONTROL are not implemented.
       STRUCT_FIELD(LINEADDRESSCAPS, dwCallFeatures,
             LINECALLFEATURE_ANSWER | LINECALLFEATURE_DROP | LINECALLFEATURE_COMPLETETRANSF |
                 LINECALLFEATURE_SETUPCONF | LINECALLFEATURE_PARK),
       STRUCT_FIELD(LINEADDRESSCAPS, dwAddressFeatures,
             LINEADDRFEATURE_FORWARD | LINEADDRFEATURE_MAKECALL),
       STRUCT_FIELD(LINEADDRESSCAPS, dwAvailableMediaModes,
             LINEMEDIAMODE_INTERACTIVEVOICE | LINEMEDIAMODE_DATAMODEM)});
  l.vars = {STRUCT_VAR(LINEADDRESSCAPS, dwAddress, Utf16(u"100")),
            STRUCT_VAR(LINEADDRESSCAPS, dwDeviceClasses, DeviceClasses())};
  EXPECT_EQ(l.Needed(), kAddressCaps + 8 + 22);
  ExpectLayout(l, [&](void* p) {
    return WriteLineAddressCaps(line, 0, static_cast<LPLINEADDRESSCAPS>(p));
  });
}

// The treatments of an address with SETTREATMENT: dwNumCallTreatments, the
// LINECALLTREATMENTENTRY list, each naming its UTF-16 name in the variable
// part; all or nothing when the buffer is too small.
TEST(WriteLineAddressCaps, CallTreatmentList) {
  LineSnapshot line = FullLine();
  v1::AddressCaps& ac = *line.info->mutable_addresses(0)->mutable_caps();
  ac.add_call_features(v1::CALL_FEATURE_SETTREATMENT);
  ac.add_call_treatments(v1::CALL_TREATMENT_BUSY);
  ac.add_call_treatments(v1::CALL_TREATMENT_MUSIC);
  ac.add_call_treatments(static_cast<v1::CallTreatment>(77));  // unknown: left out
  Bytes b = Buffer(2048);
  ASSERT_EQ(WriteLineAddressCaps(line, 0, reinterpret_cast<LPLINEADDRESSCAPS>(b.data())), 0);
  LINEADDRESSCAPS caps;
  std::memcpy(&caps, b.data(), sizeof caps);
  EXPECT_NE(caps.dwCallFeatures & LINECALLFEATURE_SETTREATMENT, 0u);
  ASSERT_EQ(caps.dwNumCallTreatments, 2u);
  ASSERT_EQ(caps.dwCallTreatmentListSize, 24u);
  ASSERT_GE(caps.dwCallTreatmentListOffset, sizeof(LINEADDRESSCAPS));
  const std::u16string names[] = {u"Busy", u"Music"};
  const DWORD ids[] = {LINECALLTREATMENT_BUSY, LINECALLTREATMENT_MUSIC};
  for (int i = 0; i < 2; ++i) {
    DWORD entry[3];
    std::memcpy(entry, b.data() + caps.dwCallTreatmentListOffset + i * 12, sizeof entry);
    EXPECT_EQ(entry[0], ids[i]);
    EXPECT_EQ(entry[1], (names[i].size() + 1) * 2);
    ASSERT_LE(entry[2] + entry[1], caps.dwUsedSize);
    std::u16string got(reinterpret_cast<const char16_t*>(b.data() + entry[2]), names[i].size());
    EXPECT_EQ(got, names[i]);
  }
  EXPECT_EQ(caps.dwUsedSize, caps.dwNeededSize);
  // Room for the entries but not their names: no list, the need is told.
  const DWORD short_total = caps.dwCallTreatmentListOffset + 24 + 4;
  Bytes small = Buffer(short_total);
  ASSERT_EQ(WriteLineAddressCaps(line, 0, reinterpret_cast<LPLINEADDRESSCAPS>(small.data())), 0);
  LINEADDRESSCAPS partial;
  std::memcpy(&partial, small.data(), sizeof partial);
  EXPECT_EQ(partial.dwNeededSize, caps.dwNeededSize);
  EXPECT_EQ(partial.dwCallTreatmentListSize, 0u);
  EXPECT_EQ(partial.dwCallTreatmentListOffset, 0u);
  EXPECT_LE(partial.dwUsedSize, short_total);
  EXPECT_TRUE(std::all_of(small.begin() + short_total, small.end(),
                          [](unsigned char c) { return c == kCanary; }));
}

TEST(WriteLineAddressCaps, CallCompletion) {
  LineSnapshot line = FullLine();
  v1::AddressCaps& ac = *line.info->mutable_addresses(0)->mutable_caps();
  Bytes b = Buffer(2048);
  LINEADDRESSCAPS caps;
  // Without COMPLETECALL nothing about completion is said.
  ac.add_completion_modes(v1::COMPLETION_MODE_CALLBACK);
  ac.set_max_call_completions(4);
  ASSERT_EQ(WriteLineAddressCaps(line, 0, reinterpret_cast<LPLINEADDRESSCAPS>(b.data())), 0);
  std::memcpy(&caps, b.data(), sizeof caps);
  EXPECT_EQ(caps.dwCallCompletionModes, 0u);
  EXPECT_EQ(caps.dwMaxCallCompletions, 0u);
  EXPECT_EQ(caps.dwAddrCapFlags & LINEADDRCAPFLAGS_COMPLETIONID, 0u);
  // With it: the modes (MESSAGE never: no canned messages), the limit, ids.
  ac.add_call_features(v1::CALL_FEATURE_COMPLETECALL);
  ac.add_address_features(v1::ADDRESS_FEATURE_UNCOMPLETECALL);
  ac.add_completion_modes(v1::COMPLETION_MODE_MESSAGE);
  b = Buffer(2048);
  ASSERT_EQ(WriteLineAddressCaps(line, 0, reinterpret_cast<LPLINEADDRESSCAPS>(b.data())), 0);
  std::memcpy(&caps, b.data(), sizeof caps);
  EXPECT_EQ(caps.dwCallCompletionModes, static_cast<DWORD>(LINECALLCOMPLMODE_CALLBACK));
  EXPECT_EQ(caps.dwMaxCallCompletions, 4u);
  EXPECT_EQ(caps.dwNumCompletionMessages, 0u);
  EXPECT_NE(caps.dwAddrCapFlags & LINEADDRCAPFLAGS_COMPLETIONID, 0u);
  EXPECT_NE(caps.dwCallFeatures & LINECALLFEATURE_COMPLETECALL, 0u);
  EXPECT_NE(caps.dwAddressFeatures & LINEADDRFEATURE_UNCOMPLETECALL, 0u);
}

TEST(WriteLineAddressCaps, AddressWithoutFeatures) {
  const LineSnapshot line = FullLine();
  Layout l;
  l.fixed = kAddressCaps;
  l.fields = AddressCapsCommon(7);
  // No feature: no transfer, conference, forward or park fields; no address
  // string (size and offset 0).
  l.fields.insert(l.fields.end(),
                  {STRUCT_FIELD(LINEADDRESSCAPS, dwCallerIDFlags, LINECALLPARTYID_UNAVAIL),
                   STRUCT_FIELD(LINEADDRESSCAPS, dwCalledIDFlags, LINECALLPARTYID_UNAVAIL),
                   STRUCT_FIELD(LINEADDRESSCAPS, dwConnectedIDFlags, LINECALLPARTYID_UNAVAIL),
                   STRUCT_FIELD(LINEADDRESSCAPS, dwRedirectingIDFlags, LINECALLPARTYID_UNAVAIL),
                   STRUCT_FIELD(LINEADDRESSCAPS, dwCallStates,
                                LINECALLSTATE_IDLE | LINECALLSTATE_ONHOLD),
                   STRUCT_FIELD(LINEADDRESSCAPS, dwAvailableMediaModes,
                         LINEMEDIAMODE_INTERACTIVEVOICE | LINEMEDIAMODE_DATAMODEM)});
  l.vars = {STRUCT_VAR(LINEADDRESSCAPS, dwAddress, Bytes{}),
            STRUCT_VAR(LINEADDRESSCAPS, dwDeviceClasses, DeviceClasses())};
  ExpectLayout(l, [&](void* p) {
    return WriteLineAddressCaps(line, 1, static_cast<LPLINEADDRESSCAPS>(p));
  });
}

TEST(WriteLineAddressCaps, LineWithoutInfoHasAddressZero) {
  const LineSnapshot line = BareLine();
  Layout l;
  l.fixed = kAddressCaps;
  l.fields = AddressCapsCommon(3);
  l.fields.insert(l.fields.end(),
                  {STRUCT_FIELD(LINEADDRESSCAPS, dwCallerIDFlags, LINECALLPARTYID_UNAVAIL),
                   STRUCT_FIELD(LINEADDRESSCAPS, dwCalledIDFlags, LINECALLPARTYID_UNAVAIL),
                   STRUCT_FIELD(LINEADDRESSCAPS, dwConnectedIDFlags, LINECALLPARTYID_UNAVAIL),
                   STRUCT_FIELD(LINEADDRESSCAPS, dwRedirectingIDFlags, LINECALLPARTYID_UNAVAIL),
                   STRUCT_FIELD(LINEADDRESSCAPS, dwCallStates, LINECALLSTATE_IDLE),
                   STRUCT_FIELD(LINEADDRESSCAPS, dwAvailableMediaModes,
                                LINEMEDIAMODE_INTERACTIVEVOICE)});
  l.vars = {STRUCT_VAR(LINEADDRESSCAPS, dwDeviceClasses, DeviceClasses())};
  ExpectLayout(l, [&](void* p) {
    return WriteLineAddressCaps(line, 0, static_cast<LPLINEADDRESSCAPS>(p));
  });
}

TEST(WriteLineAddressCaps, Checks) {
  Bytes b = Buffer(kAddressCaps + 100);
  auto* caps = reinterpret_cast<LPLINEADDRESSCAPS>(b.data());
  EXPECT_EQ(WriteLineAddressCaps(FullLine(), 2, caps), LINEERR_INVALADDRESSID);
  EXPECT_EQ(WriteLineAddressCaps(BareLine(), 1, caps), LINEERR_INVALADDRESSID);
  EXPECT_EQ(b, Buffer(kAddressCaps + 100)) << "written although refused";
  EXPECT_EQ(WriteLineAddressCaps(FullLine(), 0, nullptr), LINEERR_INVALPOINTER);
  EXPECT_EQ(CheckAddressCaps(nullptr), LINEERR_INVALPOINTER);
  // The buffer is checked before the address.
  b = Buffer(kAddressCaps - 1);
  EXPECT_EQ(WriteLineAddressCaps(FullLine(), 2, reinterpret_cast<LPLINEADDRESSCAPS>(b.data())),
            LINEERR_STRUCTURETOOSMALL);
}

// ---- LINEDEVSTATUS ----

TEST(WriteLineDevStatus, InServiceLineOpenedAsOwner) {
  const LineSnapshot line = FullLine();
  OpenSnapshot open;
  open.version = kV30;
  open.server_open = true;
  open.applied_media = LINEMEDIAMODE_DATAMODEM;
  Layout l;
  l.fixed = kDevStatus;
  l.fields = {STRUCT_FIELD(LINEDEVSTATUS, dwNumOpens, 1),
              STRUCT_FIELD(LINEDEVSTATUS, dwOpenMediaModes, LINEMEDIAMODE_DATAMODEM),
              STRUCT_FIELD(LINEDEVSTATUS, dwNumActiveCalls, 1),
              STRUCT_FIELD(LINEDEVSTATUS, dwNumOnHoldCalls, 2),
              STRUCT_FIELD(LINEDEVSTATUS, dwNumOnHoldPendCalls, 3),
              STRUCT_FIELD(LINEDEVSTATUS, dwLineFeatures, LINEFEATURE_MAKECALL),
              STRUCT_FIELD(LINEDEVSTATUS, dwRoamMode, LINEROAMMODE_UNAVAIL),
              STRUCT_FIELD(LINEDEVSTATUS, dwDevStatusFlags,
                    LINEDEVSTATUSFLAGS_INSERVICE | LINEDEVSTATUSFLAGS_CONNECTED),
              STRUCT_FIELD(LINEDEVSTATUS, dwAvailableMediaModes,
                    LINEMEDIAMODE_INTERACTIVEVOICE | LINEMEDIAMODE_DATAMODEM)};
  // No variable part: terminal modes, device specifics and app infos are
  // not reported.
  l.vars = {STRUCT_VAR(LINEDEVSTATUS, dwTerminalModes, Bytes{}),
            STRUCT_VAR(LINEDEVSTATUS, dwDevSpecific, Bytes{}),
            STRUCT_VAR(LINEDEVSTATUS, dwAppInfo, Bytes{})};
  for (DWORD version : {kV20, kV22, kV30}) {
    SCOPED_TRACE(::testing::Message() << "version " << std::hex << version);
    open.version = version;
    ExpectLayout(l, [&](void* p) {
      return WriteLineDevStatus(line, open, static_cast<LPLINEDEVSTATUS>(p));
    });
  }
}

// The flags and MAKECALL follow the server's stream, the line's presence
// and its state; the open media modes only a server-side open.
TEST(WriteLineDevStatus, ServiceFlags) {
  struct Case {
    const char* name;
    bool present, server_connected;
    v1::LineState state;
    bool server_open;
    DWORD features, flags, open_media;
  };
  const Case cases[] = {
      {"in service", true, true, v1::LINE_STATE_IN_SERVICE, false, LINEFEATURE_MAKECALL,
       LINEDEVSTATUSFLAGS_INSERVICE | LINEDEVSTATUSFLAGS_CONNECTED, 0},
      {"stream down", true, false, v1::LINE_STATE_IN_SERVICE, true, 0, 0,
       LINEMEDIAMODE_INTERACTIVEVOICE},
      {"not listed", false, true, v1::LINE_STATE_IN_SERVICE, true, 0,
       LINEDEVSTATUSFLAGS_CONNECTED, LINEMEDIAMODE_INTERACTIVEVOICE},
      {"out of service", true, true, v1::LINE_STATE_OUT_OF_SERVICE, false, 0,
       LINEDEVSTATUSFLAGS_CONNECTED, 0},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    LineSnapshot line = FullLine();
    line.present = c.present;
    line.server_connected = c.server_connected;
    line.info->mutable_status()->set_state(c.state);
    OpenSnapshot open;
    open.version = kV30;
    open.server_open = c.server_open;
    open.applied_media = LINEMEDIAMODE_INTERACTIVEVOICE;
    Bytes b = Buffer(kDevStatus);
    ASSERT_EQ(WriteLineDevStatus(line, open, reinterpret_cast<LPLINEDEVSTATUS>(b.data())), 0);
    EXPECT_EQ(GetDword(b, offsetof(LINEDEVSTATUS, dwLineFeatures)), c.features);
    EXPECT_EQ(GetDword(b, offsetof(LINEDEVSTATUS, dwDevStatusFlags)), c.flags);
    EXPECT_EQ(GetDword(b, offsetof(LINEDEVSTATUS, dwOpenMediaModes)), c.open_media);
  }
}

TEST(WriteLineDevStatus, LineWithoutInfo) {
  const LineSnapshot line = BareLine();
  OpenSnapshot open;
  open.version = kV20;
  Layout l;
  l.fixed = kDevStatus;
  l.fields = {STRUCT_FIELD(LINEDEVSTATUS, dwNumOpens, 1),
              STRUCT_FIELD(LINEDEVSTATUS, dwRoamMode, LINEROAMMODE_UNAVAIL)};
  ExpectLayout(l, [&](void* p) {
    return WriteLineDevStatus(line, open, static_cast<LPLINEDEVSTATUS>(p));
  });
  EXPECT_EQ(WriteLineDevStatus(line, open, nullptr), LINEERR_INVALPOINTER);
}

// ---- LINEADDRESSSTATUS ----

LineSnapshot ForwardedLine() {
  LineSnapshot line = FullLine();
  v1::ForwardRule& r0 = *line.info->mutable_status()->add_forwarding();
  r0.set_mode(v1::FORWARD_MODE_UNCOND);
  r0.set_destination("200");
  v1::ForwardRule& r1 = *line.info->mutable_status()->add_forwarding();
  r1.set_mode(v1::FORWARD_MODE_BUSYNA);
  r1.set_destination("Zo\xC3\xAB");
  return line;
}

// `features`: the address's own (address 0 of FullLine: MAKECALL, FORWARD).
std::vector<Field> AddressStatusFields(
    DWORD forward_entries, DWORD features = LINEADDRFEATURE_MAKECALL | LINEADDRFEATURE_FORWARD) {
  return {STRUCT_FIELD(LINEADDRESSSTATUS, dwNumInUse, 1),
          STRUCT_FIELD(LINEADDRESSSTATUS, dwNumActiveCalls, 1),
          STRUCT_FIELD(LINEADDRESSSTATUS, dwNumOnHoldCalls, 2),
          STRUCT_FIELD(LINEADDRESSSTATUS, dwNumOnHoldPendCalls, 3),
          // What the address can do (its caps), not every feature the provider has.
          STRUCT_FIELD(LINEADDRESSSTATUS, dwAddressFeatures, features),
          STRUCT_FIELD(LINEADDRESSSTATUS, dwForwardNumEntries, forward_entries)};
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

TEST(WriteLineAddressStatus, ForwardingAsTwoPointTwoEntries) {
  const LineSnapshot line = ForwardedLine();
  OpenSnapshot open;
  open.version = kV22;
  Layout l;
  l.fixed = kAddressStatus;
  l.fields = AddressStatusFields(2);
  // Two 6-DWORD LINEFORWARD at 64, "200" at 64 + 48, "Zoë" 8 bytes later;
  // offsets from the start of LINEADDRESSSTATUS.
  const Bytes entries = Dwords({LINEFORWARDMODE_UNCOND, 0, 0, 0, 8, 112,  //
                                LINEFORWARDMODE_BUSYNA, 0, 0, 0, 8, 120});
  l.vars = {STRUCT_VAR(LINEADDRESSSTATUS, dwForward,
                Concat(Concat(entries, Utf16(u"200")), Utf16(u"Zo\u00EB")))};
  EXPECT_EQ(l.Needed(), 64u + 48 + 16);
  ExpectLayout(l, [&](void* p) {
    return WriteLineAddressStatus(line, open, 0, static_cast<LPLINEADDRESSSTATUS>(p));
  });
  // Address 1 has no address features of its own.
  open.version = kV20;
  l.fields = AddressStatusFields(2, 0);
  ExpectLayout(l, [&](void* p) {
    return WriteLineAddressStatus(line, open, 1, static_cast<LPLINEADDRESSSTATUS>(p));
  });
}

TEST(WriteLineAddressStatus, ForwardingAsThreePointZeroEntries) {
  const LineSnapshot line = ForwardedLine();
  OpenSnapshot open;
  open.version = kV30;
  Layout l;
  l.fixed = kAddressStatus;
  l.fields = AddressStatusFields(2);
  // 8-DWORD entries (caller and destination address types 0).
  const Bytes entries = Dwords({LINEFORWARDMODE_UNCOND, 0, 0, 0, 8, 128, 0, 0,  //
                                LINEFORWARDMODE_BUSYNA, 0, 0, 0, 8, 136, 0, 0});
  l.vars = {STRUCT_VAR(LINEADDRESSSTATUS, dwForward,
                Concat(Concat(entries, Utf16(u"200")), Utf16(u"Zo\u00EB")))};
  EXPECT_EQ(l.Needed(), 64u + 64 + 16);
  ExpectLayout(l, [&](void* p) {
    return WriteLineAddressStatus(line, open, 0, static_cast<LPLINEADDRESSSTATUS>(p));
  });
}

TEST(WriteLineAddressStatus, IdleLineOutOfService) {
  LineSnapshot line = FullLine();
  line.server_connected = false;
  v1::LineStatus& st = *line.info->mutable_status();
  st.set_num_active_calls(0);
  st.set_num_on_hold_calls(0);
  OpenSnapshot open;
  open.version = kV30;
  Layout l;
  l.fixed = kAddressStatus;
  // Pending calls alone do not put the address in use; no features while
  // the server's stream is down; no forwarding, no variable part.
  l.fields = {STRUCT_FIELD(LINEADDRESSSTATUS, dwNumOnHoldPendCalls, 3)};
  l.vars = {STRUCT_VAR(LINEADDRESSSTATUS, dwForward, Bytes{})};
  ExpectLayout(l, [&](void* p) {
    return WriteLineAddressStatus(line, open, 0, static_cast<LPLINEADDRESSSTATUS>(p));
  });
}

TEST(WriteLineAddressStatus, Checks) {
  OpenSnapshot open;
  open.version = kV30;
  Bytes b = Buffer(kAddressStatus - 1);
  auto* status = reinterpret_cast<LPLINEADDRESSSTATUS>(b.data());
  // The address id first, then the pointer, then the size.
  EXPECT_EQ(WriteLineAddressStatus(FullLine(), open, 2, status), LINEERR_INVALADDRESSID);
  EXPECT_EQ(WriteLineAddressStatus(BareLine(), open, 1, nullptr), LINEERR_INVALADDRESSID);
  EXPECT_EQ(WriteLineAddressStatus(BareLine(), open, 0, nullptr), LINEERR_INVALPOINTER);
  EXPECT_EQ(WriteLineAddressStatus(FullLine(), open, 1, status), LINEERR_STRUCTURETOOSMALL);
  EXPECT_EQ(b, Buffer(kAddressStatus - 1));
}

// ---- lineGetID's VARSTRING ----

TEST(WriteLineDeviceId, BinaryDeviceId) {
  Layout l;
  l.fixed = kVarString;
  l.fields = {STRUCT_FIELD(VARSTRING, dwStringFormat, STRINGFORMAT_BINARY)};
  l.vars = {STRUCT_VAR(VARSTRING, dwString, (Bytes{0x04, 0x03, 0x02, 0x01}))};
  for (const char16_t* device_class : {u"tapi/line", u"TAPI/Line"}) {
    ExpectLayout(l, [&](void* p) {
      return WriteLineDeviceId(0x01020304, reinterpret_cast<LPCWSTR>(device_class),
                               static_cast<LPVARSTRING>(p));
    });
  }
}

TEST(WriteLineDeviceId, Checks) {
  Bytes b = Buffer(kVarString - 1);
  auto* out = reinterpret_cast<LPVARSTRING>(b.data());
  const auto* line = reinterpret_cast<LPCWSTR>(u"tapi/line");
  EXPECT_EQ(WriteLineDeviceId(1, line, nullptr), LINEERR_INVALPOINTER);
  EXPECT_EQ(WriteLineDeviceId(1, nullptr, out), LINEERR_INVALPOINTER);
  // The class before the size.
  EXPECT_EQ(WriteLineDeviceId(1, reinterpret_cast<LPCWSTR>(u"tapi/phone"), out),
            LINEERR_INVALDEVICECLASS);
  EXPECT_EQ(WriteLineDeviceId(1, reinterpret_cast<LPCWSTR>(u"tapi/lin"), out),
            LINEERR_INVALDEVICECLASS);
  EXPECT_EQ(WriteLineDeviceId(1, line, out), LINEERR_STRUCTURETOOSMALL);
  EXPECT_EQ(b, Buffer(kVarString - 1));
}

// The harness itself: a writer that writes one byte too many, or packs a
// field one byte off, is caught.
TEST(TapiStructsTestHarness, CatchesStrayWrites) {
  Layout l;
  l.fixed = kVarString;
  l.fields = {STRUCT_FIELD(VARSTRING, dwStringFormat, STRINGFORMAT_BINARY)};
  l.vars = {STRUCT_VAR(VARSTRING, dwString, (Bytes{1, 2}))};
  Bytes b = Buffer(64);
  ASSERT_EQ(WriteLineDeviceId(0x0201, reinterpret_cast<LPCWSTR>(u"tapi/line"),
                              reinterpret_cast<LPVARSTRING>(b.data())),
            0);
  // The real string is 4 bytes: dwNeededSize, dwUsedSize and bytes 26-27 differ.
  EXPECT_NE(b, Expected(l, 64));
  Layout right = l;
  right.vars = {STRUCT_VAR(VARSTRING, dwString, (Bytes{1, 2, 0, 0}))};
  EXPECT_EQ(b, Expected(right, 64));
  b[kVarString + 4] = 0;  // one byte past dwUsedSize
  EXPECT_NE(b, Expected(right, 64));
}

}  // namespace
}  // namespace linebridge::tsp::structs_test
