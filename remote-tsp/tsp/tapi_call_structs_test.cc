// The TAPI structure writers of calls (LINECALLINFO, LINECALLSTATUS) against
// layouts written out by hand, in every negotiated layout they have.
#include <gtest/gtest.h>

#include <cstddef>
#include <string>
#include <string_view>

#include "tsp/tapi_structs.h"
#include "tsp/tapi_structs_test_util.h"

namespace linebridge::tsp::structs_test {
namespace {

// ---- LINECALLINFO ----

CallSnapshot FullCall() {
  CallSnapshot s;
  s.has_call = true;
  v1::CallInfo& ci = *s.call.mutable_info();
  ci.set_address_index(1);
  ci.set_call_id(0x100000042);  // dwCallID: the low 32 bits
  ci.set_related_call_id(7);
  ci.set_bearer_mode(v1::BEARER_MODE_DATA);
  ci.set_media_mode(v1::MEDIA_MODE_DATAMODEM);
  ci.set_app_specific(std::string("\x78\x56\x34\x12", 4));
  ci.set_origin(v1::CALL_ORIGIN_INBOUND);
  ci.set_reason(v1::CALL_REASON_FWDBUSY);
  ci.set_trunk(5);
  ci.mutable_caller()->set_available(true);
  ci.mutable_caller()->set_number("+49 30 1234");
  ci.mutable_caller()->set_name("Zo\xC3\xAB");
  ci.mutable_called()->set_available(true);
  ci.mutable_called()->set_number("100");
  ci.mutable_connected()->set_available(true);  // neither number nor name: UNKNOWN
  // Blocked wins over everything, also over not available; not shown.
  ci.mutable_redirection()->set_blocked(true);
  ci.mutable_redirection()->set_number("999");
  ci.mutable_redirecting()->set_name("Bob");    // not available: not shown
  ci.set_dial_string("100");
  ci.set_user_user_info(std::string("\x01\x02\x03", 3));
  ci.set_call_data(std::string("ab\0cd", 5));
  return s;
}

TEST(WriteLineCallInfo, FullCallInEveryLayout) {
  const LineSnapshot line = FullLine();
  const CallSnapshot call = FullCall();
  for (DWORD version : {kV20, kV22, kV30}) {
    SCOPED_TRACE(::testing::Message() << "version " << std::hex << version);
    Layout l;
    l.fixed = version == kV30 ? kCallInfo30 : kCallInfo2;
    // The 3.0 address types stay 0.
    l.fields = {
        STRUCT_FIELD(LINECALLINFO, dwLineDeviceID, 7),
        STRUCT_FIELD(LINECALLINFO, dwAddressID, 1),
        STRUCT_FIELD(LINECALLINFO, dwBearerMode, LINEBEARERMODE_DATA),
        STRUCT_FIELD(LINECALLINFO, dwMediaMode, LINEMEDIAMODE_DATAMODEM),
        STRUCT_FIELD(LINECALLINFO, dwAppSpecific, 0x12345678),
        STRUCT_FIELD(LINECALLINFO, dwCallID, 0x42),
        STRUCT_FIELD(LINECALLINFO, dwRelatedCallID, 7),
        // Address 1 of the line: ONHOLD, and IDLE always.
        STRUCT_FIELD(LINECALLINFO, dwCallStates, LINECALLSTATE_IDLE | LINECALLSTATE_ONHOLD),
        STRUCT_FIELD(LINECALLINFO, dwOrigin, LINECALLORIGIN_INBOUND),
        STRUCT_FIELD(LINECALLINFO, dwReason, LINECALLREASON_FWDBUSY),
        STRUCT_FIELD(LINECALLINFO, dwTrunk, 5),
        STRUCT_FIELD(LINECALLINFO, dwCallerIDFlags, LINECALLPARTYID_ADDRESS | LINECALLPARTYID_NAME),
        STRUCT_FIELD(LINECALLINFO, dwCalledIDFlags, LINECALLPARTYID_ADDRESS),
        STRUCT_FIELD(LINECALLINFO, dwConnectedIDFlags, LINECALLPARTYID_UNKNOWN),
        STRUCT_FIELD(LINECALLINFO, dwRedirectionIDFlags, LINECALLPARTYID_BLOCKED),
        STRUCT_FIELD(LINECALLINFO, dwRedirectingIDFlags, LINECALLPARTYID_UNAVAIL)};
    l.vars = {STRUCT_VAR(LINECALLINFO, dwCallerID, Utf16(u"+49 30 1234")),
              STRUCT_VAR(LINECALLINFO, dwCallerIDName, Utf16(u"Zo\u00EB")),
              STRUCT_VAR(LINECALLINFO, dwCalledID, Utf16(u"100")),
              STRUCT_VAR(LINECALLINFO, dwCalledIDName, Bytes{}),
              STRUCT_VAR(LINECALLINFO, dwConnectedID, Bytes{}),
              STRUCT_VAR(LINECALLINFO, dwConnectedIDName, Bytes{}),
              STRUCT_VAR(LINECALLINFO, dwRedirectionID, Bytes{}),
              STRUCT_VAR(LINECALLINFO, dwRedirectionIDName, Bytes{}),
              STRUCT_VAR(LINECALLINFO, dwRedirectingID, Bytes{}),
              STRUCT_VAR(LINECALLINFO, dwRedirectingIDName, Bytes{}),
              STRUCT_VAR(LINECALLINFO, dwCalledParty, Utf16(u"100")),
              STRUCT_VAR(LINECALLINFO, dwUserUserInfo, (Bytes{1, 2, 3})),
              STRUCT_VAR(LINECALLINFO, dwCallData, Raw(std::string_view("ab\0cd", 5)))};
    EXPECT_EQ(l.Needed(), l.fixed + 24 + 8 + 8 + 8 + 3 + 5);
    ExpectLayout(l, [&](void* p) {
      return WriteLineCallInfo(line, version, call, static_cast<LPLINECALLINFO>(p));
    });
  }
}

TEST(WriteLineCallInfo, CallNotKnownYetHasDefaults) {
  const LineSnapshot line = BareLine();
  CallSnapshot call;
  // Not the 4 bytes lineSetAppSpecific stores: not reported.
  call.call.mutable_info()->set_app_specific("abc");
  for (DWORD version : {kV20, kV30}) {
    SCOPED_TRACE(::testing::Message() << "version " << std::hex << version);
    Layout l;
    l.fixed = version == kV30 ? kCallInfo30 : kCallInfo2;
    // No line info: no call states. Parties unavailable.
    l.fields = {STRUCT_FIELD(LINECALLINFO, dwLineDeviceID, 3),
                STRUCT_FIELD(LINECALLINFO, dwBearerMode, LINEBEARERMODE_VOICE),
                STRUCT_FIELD(LINECALLINFO, dwMediaMode, LINEMEDIAMODE_INTERACTIVEVOICE),
                STRUCT_FIELD(LINECALLINFO, dwOrigin, LINECALLORIGIN_UNKNOWN),
                STRUCT_FIELD(LINECALLINFO, dwReason, LINECALLREASON_UNKNOWN),
                STRUCT_FIELD(LINECALLINFO, dwTrunk, 0xFFFFFFFF),
                STRUCT_FIELD(LINECALLINFO, dwCallerIDFlags, LINECALLPARTYID_UNAVAIL),
                STRUCT_FIELD(LINECALLINFO, dwCalledIDFlags, LINECALLPARTYID_UNAVAIL),
                STRUCT_FIELD(LINECALLINFO, dwConnectedIDFlags, LINECALLPARTYID_UNAVAIL),
                STRUCT_FIELD(LINECALLINFO, dwRedirectionIDFlags, LINECALLPARTYID_UNAVAIL),
                STRUCT_FIELD(LINECALLINFO, dwRedirectingIDFlags, LINECALLPARTYID_UNAVAIL)};
    ExpectLayout(l, [&](void* p) {
      return WriteLineCallInfo(line, version, call, static_cast<LPLINECALLINFO>(p));
    });
  }
}

TEST(WriteLineCallInfo, Checks) {
  EXPECT_EQ(WriteLineCallInfo(FullLine(), kV30, FullCall(), nullptr), LINEERR_INVALPOINTER);
  // Enough for 2.x, not for 3.0.
  Bytes b = Buffer(kCallInfo2);
  EXPECT_EQ(WriteLineCallInfo(FullLine(), kV30, FullCall(),
                              reinterpret_cast<LPLINECALLINFO>(b.data())),
            LINEERR_STRUCTURETOOSMALL);
  EXPECT_EQ(b, Buffer(kCallInfo2));
}

// ---- LINECALLSTATUS ----

TEST(WriteLineCallStatus, ConnectedCall) {
  CallSnapshot call;
  call.has_call = true;
  v1::CallStatus& s = *call.call.mutable_status();
  s.set_state(v1::CALL_STATE_CONNECTED);
  s.set_connected_mode(v1::CONNECTED_MODE_INACTIVE);
  s.add_features(v1::CALL_FEATURE_DROP);
  s.add_features(v1::CALL_FEATURE_HOLD);
  s.add_features(v1::CALL_FEATURE_SECURECALL);  // not implemented
  s.set_privilege(v1::PRIVILEGE_MONITOR);
  Layout l;
  l.fixed = kCallStatus;
  l.fields = {STRUCT_FIELD(LINECALLSTATUS, dwCallState, LINECALLSTATE_CONNECTED),
              STRUCT_FIELD(LINECALLSTATUS, dwCallStateMode, LINECONNECTEDMODE_INACTIVE),
              STRUCT_FIELD(LINECALLSTATUS, dwCallPrivilege, LINECALLPRIVILEGE_MONITOR),
              STRUCT_FIELD(LINECALLSTATUS, dwCallFeatures,
                           LINECALLFEATURE_DROP | LINECALLFEATURE_HOLD)};
  l.vars = {STRUCT_VAR(LINECALLSTATUS, dwDevSpecific, Bytes{})};
  ExpectLayout(l, [&](void* p) {
    return WriteLineCallStatus(call, static_cast<LPLINECALLSTATUS>(p));
  });
}

TEST(WriteLineCallStatus, IdleAndNotYetKnown) {
  CallSnapshot call;
  v1::CallStatus& s = *call.call.mutable_status();
  s.set_state(v1::CALL_STATE_OFFERING);
  s.set_offering_mode(v1::OFFERING_MODE_INACTIVE);
  s.add_features(v1::CALL_FEATURE_ANSWER);
  // lineMakeCall in flight: IDLE, but the mode and features of what is known.
  call.has_call = false;
  Layout l;
  l.fixed = kCallStatus;
  l.fields = {STRUCT_FIELD(LINECALLSTATUS, dwCallState, LINECALLSTATE_IDLE),
              STRUCT_FIELD(LINECALLSTATUS, dwCallStateMode, LINEOFFERINGMODE_INACTIVE),
              STRUCT_FIELD(LINECALLSTATUS, dwCallPrivilege, LINECALLPRIVILEGE_OWNER),
              STRUCT_FIELD(LINECALLSTATUS, dwCallFeatures, LINECALLFEATURE_ANSWER)};
  ExpectLayout(l, [&](void* p) {
    return WriteLineCallStatus(call, static_cast<LPLINECALLSTATUS>(p));
  });
  // Reported IDLE: nothing more.
  call.has_call = true;
  call.idle = true;
  l.fields = {STRUCT_FIELD(LINECALLSTATUS, dwCallState, LINECALLSTATE_IDLE),
              STRUCT_FIELD(LINECALLSTATUS, dwCallPrivilege, LINECALLPRIVILEGE_OWNER)};
  ExpectLayout(l, [&](void* p) {
    return WriteLineCallStatus(call, static_cast<LPLINECALLSTATUS>(p));
  });
}

TEST(WriteLineCallStatus, Checks) {
  EXPECT_EQ(WriteLineCallStatus(CallSnapshot(), nullptr), LINEERR_INVALPOINTER);
}

}  // namespace
}  // namespace linebridge::tsp::structs_test
