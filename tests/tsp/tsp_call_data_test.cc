// What a call carries besides its state, and the line functions the
// provider answers itself, driven the way TAPISRV drives them against a real
// linebridged (sim provider): lineSendUserUserInfo / lineReleaseUserUserInfo,
// lineSetCallParams, lineSetCallTreatment, lineGetAddressID, lineGetIcon,
// lineConditionalMediaDetection, lineSetLineDevStatus, lineSetTerminal,
// lineSetCurrentLocation.
#include <cstring>
#include <string>
#include <vector>

#include "linebridge/linebridge_ext.h"
#include "tsp_line_fixture.h"

namespace linebridge::tsp_test {
namespace {

// lineSendUserUserInfo from one workstation line reaches the other party's
// LINECALLINFO (LINE_CALLINFO USERUSERINFO); lineReleaseUserUserInfo empties it.
TEST_F(TspLineFunctionsTest, UserUserInfoSentReceivedAndReleased) {
  const DWORD device = DeviceOf(harness_, num_lines_, "sim/100");
  ASSERT_NE(device, kNoDevice);
  auto caps = Buffer(4096);
  ASSERT_EQ(T().TSPI_lineGetDevCaps(device, 0x00030000, 0,
                                    reinterpret_cast<LPLINEDEVCAPS>(caps.data())),
            0);
  const DWORD max = Fixed<LINEDEVCAPS>(caps).dwUUISendUserUserInfoSize;
  EXPECT_EQ(max, 256u);
  EXPECT_EQ(Fixed<LINEDEVCAPS>(caps).dwUUIAnswerSize, max);
  EXPECT_EQ(Fixed<LINEDEVCAPS>(caps).dwUUIDropSize, max);
  EXPECT_EQ(Fixed<LINEDEVCAPS>(caps).dwUUIAcceptSize, max);
  EXPECT_EQ(Fixed<LINEDEVCAPS>(caps).dwUUIMakeCallSize, max);
  HTAPILINE ht_a = nullptr, ht_b = nullptr;
  HDRVLINE hd_a = Open("sim/100", &ht_a);
  HDRVLINE hd_b = Open("sim/101", &ht_b);
  ASSERT_NE(hd_a, nullptr);
  ASSERT_NE(hd_b, nullptr);
  ASSERT_TRUE(Detect(hd_b, LINEMEDIAMODE_INTERACTIVEVOICE));
  const HTAPICALL ht_out = reinterpret_cast<HTAPICALL>(uintptr_t{0x0401});
  HDRVCALL hd_out = MakeCall(hd_a, ht_out, u"101", LINECALLSTATE_RINGBACK);
  ASSERT_NE(hd_out, nullptr);
  HTAPICALL ht_in = nullptr;
  HDRVCALL hd_in = nullptr;
  ASSERT_TRUE(harness_.WaitNewCall(ht_b, &ht_in, &hd_in));
  ASSERT_TRUE(harness_.WaitCallState(ht_in, LINECALLSTATE_OFFERING));
  EXPECT_NE(FeaturesOf(hd_out) & LINECALLFEATURE_SENDUSERUSER, 0u);
  EXPECT_NE(FeaturesOf(hd_in) & LINECALLFEATURE_RELEASEUSERUSERINFO, 0u);

  auto uui_of = [&](HDRVCALL c) {
    auto info = Buffer(4096);
    if (T().TSPI_lineGetCallInfo(c, reinterpret_cast<LPLINECALLINFO>(info.data())) != 0) {
      return std::string("?");
    }
    auto ci = Fixed<LINECALLINFO>(info);
    return std::string(reinterpret_cast<const char*>(info.data()) + ci.dwUserUserInfoOffset,
                       ci.dwUserUserInfoSize);
  };
  auto uui_event = [&](HTAPICALL ht) {
    return harness_.WaitEvent([&](const RecordedEvent& e) {
      return e.ht_call == ht && e.msg == LINE_CALLINFO &&
             (e.p1 & LINECALLINFOSTATE_USERUSERINFO) != 0;
    });
  };
  const std::string hello("order #\0 1234", 13);
  harness_.ClearEvents();
  ASSERT_EQ(Run([&](DRV_REQUESTID id) {
              return T().TSPI_lineSendUserUserInfo(id, hd_out, hello.data(),
                                                   static_cast<DWORD>(hello.size()));
            }),
            0);
  ASSERT_TRUE(uui_event(ht_in));
  EXPECT_EQ(uui_of(hd_in), hello);
  // Answered with UUI (too much is refused at once), then the other way, then
  // released.
  const std::string too_much(max + 1, 'a');
  EXPECT_EQ(Run([&](DRV_REQUESTID id) {
              return T().TSPI_lineAnswer(id, hd_in, too_much.data(), max + 1);
            }),
            ::LINEERR_USERUSERINFOTOOBIG);
  harness_.ClearEvents();
  ASSERT_EQ(Run([&](DRV_REQUESTID id) { return T().TSPI_lineAnswer(id, hd_in, "answered", 8); }),
            0);
  ASSERT_TRUE(harness_.WaitCallState(ht_out, LINECALLSTATE_CONNECTED));
  ASSERT_TRUE(uui_event(ht_out));
  EXPECT_EQ(uui_of(hd_out), "answered");
  const std::string full(max, 'z');
  harness_.ClearEvents();
  ASSERT_EQ(Run([&](DRV_REQUESTID id) {
              return T().TSPI_lineSendUserUserInfo(id, hd_in, full.data(), max);
            }),
            0);
  ASSERT_TRUE(uui_event(ht_out));
  EXPECT_EQ(uui_of(hd_out), full);
  harness_.ClearEvents();
  ASSERT_EQ(Run([&](DRV_REQUESTID id) { return T().TSPI_lineReleaseUserUserInfo(id, hd_in); }), 0);
  ASSERT_TRUE(uui_event(ht_in));
  EXPECT_EQ(uui_of(hd_in), "");
  EXPECT_EQ(uui_of(hd_out), full);  // the other side's is its own

  // Refused before anything is sent.
  const std::string too_big(max + 1, 'z');
  EXPECT_EQ(Run([&](DRV_REQUESTID id) {
              return T().TSPI_lineSendUserUserInfo(id, hd_in, too_big.data(), max + 1);
            }),
            ::LINEERR_USERUSERINFOTOOBIG);
  EXPECT_EQ(Run([&](DRV_REQUESTID id) {
              return T().TSPI_lineSendUserUserInfo(id, hd_in, nullptr, 4);
            }),
            ::LINEERR_INVALPOINTER);
  const HDRVCALL bogus = reinterpret_cast<HDRVCALL>(uintptr_t{0x7777});
  EXPECT_EQ(Run([&](DRV_REQUESTID id) {
              return T().TSPI_lineSendUserUserInfo(id, bogus, "x", 1);
            }),
            ::LINEERR_INVALCALLHANDLE);
  EXPECT_EQ(Run([&](DRV_REQUESTID id) { return T().TSPI_lineReleaseUserUserInfo(id, bogus); }),
            ::LINEERR_INVALCALLHANDLE);
  // On hold the far end is not listening: the server refuses.
  ASSERT_EQ(Run([&](DRV_REQUESTID id) { return T().TSPI_lineHold(id, hd_out); }), 0);
  ASSERT_TRUE(harness_.WaitCallState(ht_out, LINECALLSTATE_ONHOLD));
  EXPECT_EQ(Run([&](DRV_REQUESTID id) {
              return T().TSPI_lineSendUserUserInfo(id, hd_out, "x", 1);
            }),
            ::LINEERR_INVALCALLSTATE);

  // Dropped with a goodbye: the other side reads it before it goes idle.
  harness_.ClearEvents();
  EXPECT_EQ(Run([&](DRV_REQUESTID id) { return T().TSPI_lineDrop(id, hd_out, "bye", 3); }), 0);
  EXPECT_TRUE(harness_.WaitCallState(ht_out, LINECALLSTATE_IDLE));
  ASSERT_TRUE(uui_event(ht_in));
  EXPECT_TRUE(harness_.WaitCallState(ht_in, LINECALLSTATE_DISCONNECTED));
  EXPECT_EQ(uui_of(hd_in), "bye");
  (void)Run([&](DRV_REQUESTID id) { return T().TSPI_lineDrop(id, hd_in, nullptr, 0); });
  EXPECT_TRUE(harness_.WaitCallState(ht_in, LINECALLSTATE_IDLE));
  EXPECT_EQ(T().TSPI_lineCloseCall(hd_out), 0);
  EXPECT_EQ(T().TSPI_lineCloseCall(hd_in), 0);

  // lineMakeCall with UUI in LINECALLPARAMS: the called party has it on offer.
  auto params_buf = Buffer(sizeof(LINECALLPARAMS) + 16, sizeof(LINECALLPARAMS) + 16);
  auto* params = reinterpret_cast<LPLINECALLPARAMS>(params_buf.data());
  params->dwUserUserInfoSize = 5;
  params->dwUserUserInfoOffset = sizeof(LINECALLPARAMS);
  std::memcpy(params_buf.data() + sizeof(LINECALLPARAMS), "hello", 5);
  const HTAPICALL ht_out2 = reinterpret_cast<HTAPICALL>(uintptr_t{0x0402});
  HDRVCALL hd_out2 = nullptr;
  const DRV_REQUESTID make = harness_.NextRequestId();
  harness_.OutboundCall(ht_out2, make);
  LONG r = T().TSPI_lineMakeCall(make, hd_a, ht_out2, &hd_out2, u"101", 0, params);
  harness_.Issued(make, r);
  ASSERT_EQ(r, static_cast<LONG>(make));
  ASSERT_EQ(harness_.WaitCompletion(make), 0);
  HTAPICALL ht_in2 = nullptr;
  HDRVCALL hd_in2 = nullptr;
  ASSERT_TRUE(harness_.WaitNewCall(ht_b, &ht_in2, &hd_in2));
  ASSERT_TRUE(harness_.WaitCallState(ht_in2, LINECALLSTATE_OFFERING));
  EXPECT_EQ(uui_of(hd_in2), "hello");
  // Pointing outside the structure, or too much: refused before anything is sent.
  params->dwUserUserInfoOffset = sizeof(LINECALLPARAMS) + 14;
  HDRVCALL unused = nullptr;
  EXPECT_EQ(Run([&](DRV_REQUESTID id) {
              return T().TSPI_lineMakeCall(id, hd_a, nullptr, &unused, u"102", 0, params);
            }),
            ::LINEERR_INVALPARAM);
  EXPECT_EQ(Run([&](DRV_REQUESTID id) {
              return T().TSPI_lineDrop(id, hd_out2, too_much.data(), max + 1);
            }),
            ::LINEERR_USERUSERINFOTOOBIG);
  EXPECT_EQ(Run([&](DRV_REQUESTID id) { return T().TSPI_lineDrop(id, hd_out2, nullptr, 0); }),
            0);
  EXPECT_TRUE(harness_.WaitCallState(ht_out2, LINECALLSTATE_IDLE));
  (void)Run([&](DRV_REQUESTID id) { return T().TSPI_lineDrop(id, hd_in2, nullptr, 0); });
  EXPECT_TRUE(harness_.WaitCallState(ht_in2, LINECALLSTATE_IDLE));
  EXPECT_EQ(T().TSPI_lineCloseCall(hd_out2), 0);
  EXPECT_EQ(T().TSPI_lineCloseCall(hd_in2), 0);
  EXPECT_EQ(T().TSPI_lineClose(hd_a), 0);
  EXPECT_EQ(T().TSPI_lineClose(hd_b), 0);
}

TEST_F(TspLineFunctionsTest, SetCallParamsAndTreatmentReachLineCallInfo) {
  HTAPILINE ht_a = nullptr, ht_b = nullptr;
  HDRVLINE hd_a = Open("sim/100", &ht_a);
  HDRVLINE hd_b = Open("sim/101", &ht_b);
  ASSERT_NE(hd_a, nullptr);
  ASSERT_NE(hd_b, nullptr);
  ASSERT_TRUE(Detect(hd_b, LINEMEDIAMODE_INTERACTIVEVOICE));
  // LINEADDRESSCAPS: the four treatments, with names.
  auto acaps = Buffer(4096);
  ASSERT_EQ(T().TSPI_lineGetAddressCaps(DeviceOf(harness_, num_lines_, "sim/101"), 0, 0x00030000,
                                        0, reinterpret_cast<LPLINEADDRESSCAPS>(acaps.data())),
            0);
  auto ac = Fixed<LINEADDRESSCAPS>(acaps);
  EXPECT_NE(ac.dwCallFeatures & LINECALLFEATURE_SETTREATMENT, 0u);
  EXPECT_NE(ac.dwCallFeatures & LINECALLFEATURE_SETCALLPARAMS, 0u);
  ASSERT_EQ(ac.dwNumCallTreatments, 4u);
  ASSERT_EQ(ac.dwCallTreatmentListSize, 4u * 3 * sizeof(DWORD));
  const char* kNames[] = {"Silence", "Ringback", "Busy", "Music"};
  for (DWORD i = 0; i < 4; ++i) {
    DWORD entry[3];
    std::memcpy(entry, acaps.data() + ac.dwCallTreatmentListOffset + i * sizeof entry,
                sizeof entry);
    EXPECT_EQ(entry[0], i + 1);
    EXPECT_EQ(String16At(acaps, entry[1], entry[2]), kNames[i]);
  }
  // Too small for the list: dwNeededSize says so, nothing past dwTotalSize.
  auto fixed_only = Buffer(sizeof(LINEADDRESSCAPS), 256);
  ASSERT_EQ(T().TSPI_lineGetAddressCaps(DeviceOf(harness_, num_lines_, "sim/101"), 0, 0x00030000,
                                        0, reinterpret_cast<LPLINEADDRESSCAPS>(fixed_only.data())),
            0);
  EXPECT_GT(Fixed<LINEADDRESSCAPS>(fixed_only).dwNeededSize, sizeof(LINEADDRESSCAPS));
  EXPECT_TRUE(PoisonIntact(fixed_only, sizeof(LINEADDRESSCAPS)));

  const HTAPICALL ht_out = reinterpret_cast<HTAPICALL>(uintptr_t{0x0501});
  HDRVCALL hd_out = MakeCall(hd_a, ht_out, u"101", LINECALLSTATE_RINGBACK);
  ASSERT_NE(hd_out, nullptr);
  HTAPICALL ht_in = nullptr;
  HDRVCALL hd_in = nullptr;
  ASSERT_TRUE(harness_.WaitNewCall(ht_b, &ht_in, &hd_in));
  ASSERT_TRUE(harness_.WaitCallState(ht_in, LINECALLSTATE_OFFERING));
  auto info_of = [&](HDRVCALL c) {
    auto info = Buffer(4096);
    EXPECT_EQ(T().TSPI_lineGetCallInfo(c, reinterpret_cast<LPLINECALLINFO>(info.data())), 0);
    return Fixed<LINECALLINFO>(info);
  };
  auto info_event = [&](HTAPICALL ht, DWORD bits) {
    return harness_.WaitEvent([&](const RecordedEvent& e) {
      return e.ht_call == ht && e.msg == LINE_CALLINFO && (e.p1 & bits) == bits;
    });
  };

  harness_.ClearEvents();
  ASSERT_EQ(Run([&](DRV_REQUESTID id) {
              return T().TSPI_lineSetCallTreatment(id, hd_in, LINECALLTREATMENT_MUSIC);
            }),
            0);
  ASSERT_TRUE(info_event(ht_in, LINECALLINFOSTATE_TREATMENT));
  EXPECT_EQ(info_of(hd_in).dwCallTreatment, static_cast<DWORD>(LINECALLTREATMENT_MUSIC));
  EXPECT_EQ(Run([&](DRV_REQUESTID id) { return T().TSPI_lineSetCallTreatment(id, hd_in, 0); }),
            ::LINEERR_INVALPARAM);
  EXPECT_EQ(
      Run([&](DRV_REQUESTID id) { return T().TSPI_lineSetCallTreatment(id, hd_in, 0x100); }),
      ::LINEERR_INVALPARAM);
  // The caller's side is not unanswered: the server says INVALCALLSTATE.
  EXPECT_EQ(Run([&](DRV_REQUESTID id) {
              return T().TSPI_lineSetCallTreatment(id, hd_out, LINECALLTREATMENT_BUSY);
            }),
            ::LINEERR_INVALCALLSTATE);

  harness_.ClearEvents();
  LINEDIALPARAMS dial{};
  dial.dwDialPause = 1;  // below the line's minimum: raised to it
  dial.dwDigitDuration = 100;
  ASSERT_EQ(Run([&](DRV_REQUESTID id) {
              return T().TSPI_lineSetCallParams(id, hd_out, LINEBEARERMODE_SPEECH, 0, 9600,
                                                &dial);
            }),
            0);
  ASSERT_TRUE(info_event(ht_out, LINECALLINFOSTATE_BEARERMODE | LINECALLINFOSTATE_RATE |
                                     LINECALLINFOSTATE_DIALPARAMS));
  auto ci = info_of(hd_out);
  EXPECT_EQ(ci.dwBearerMode, static_cast<DWORD>(LINEBEARERMODE_SPEECH));
  EXPECT_EQ(ci.dwRate, 9600u);
  EXPECT_EQ(ci.DialParams.dwDialPause, 2000u);
  EXPECT_EQ(ci.DialParams.dwDigitDuration, 100u);
  // Refused at once: no such bearer bit, two bits, a rate range upside down.
  EXPECT_EQ(Run([&](DRV_REQUESTID id) {
              return T().TSPI_lineSetCallParams(id, hd_out, 0, 0, 0, nullptr);
            }),
            ::LINEERR_INVALBEARERMODE);
  EXPECT_EQ(Run([&](DRV_REQUESTID id) {
              return T().TSPI_lineSetCallParams(
                  id, hd_out, LINEBEARERMODE_VOICE | LINEBEARERMODE_SPEECH, 0, 0, nullptr);
            }),
            ::LINEERR_INVALBEARERMODE);
  EXPECT_EQ(Run([&](DRV_REQUESTID id) {
              return T().TSPI_lineSetCallParams(id, hd_out, LINEBEARERMODE_VOICE, 9600, 4800,
                                                nullptr);
            }),
            ::LINEERR_INVALRATE);
  // By the server: a bearer mode the line does not have.
  EXPECT_EQ(Run([&](DRV_REQUESTID id) {
              return T().TSPI_lineSetCallParams(id, hd_out, LINEBEARERMODE_DATA, 0, 0, nullptr);
            }),
            ::LINEERR_INVALBEARERMODE);
  EXPECT_EQ(info_of(hd_out).dwBearerMode, static_cast<DWORD>(LINEBEARERMODE_SPEECH));

  EXPECT_EQ(Run([&](DRV_REQUESTID id) { return T().TSPI_lineDrop(id, hd_out, nullptr, 0); }), 0);
  EXPECT_TRUE(harness_.WaitCallState(ht_out, LINECALLSTATE_IDLE));
  (void)Run([&](DRV_REQUESTID id) { return T().TSPI_lineDrop(id, hd_in, nullptr, 0); });
  EXPECT_TRUE(harness_.WaitCallState(ht_in, LINECALLSTATE_IDLE));
  EXPECT_EQ(T().TSPI_lineCloseCall(hd_out), 0);
  EXPECT_EQ(T().TSPI_lineCloseCall(hd_in), 0);
  EXPECT_EQ(T().TSPI_lineClose(hd_a), 0);
  EXPECT_EQ(T().TSPI_lineClose(hd_b), 0);
}

TEST_F(TspLineFunctionsTest, LocalAnswers) {
  const DWORD device = DeviceOf(harness_, num_lines_, "sim/106");
  ASSERT_NE(device, kNoDevice);
  HTAPILINE ht_line = nullptr;
  HDRVLINE hd_line = Open("sim/106", &ht_line);
  ASSERT_NE(hd_line, nullptr);
  const HDRVLINE bogus_line = reinterpret_cast<HDRVLINE>(uintptr_t{0x7777});

  // lineGetAddressID: the address by its dialable form.
  DWORD address = 99;
  const std::u16string number = u"106";
  const DWORD size = static_cast<DWORD>((number.size() + 1) * sizeof(char16_t));
  EXPECT_EQ(T().TSPI_lineGetAddressID(hd_line, &address, LINEADDRESSMODE_DIALABLEADDR,
                                      number.c_str(), size),
            0);
  EXPECT_EQ(address, 0u);
  EXPECT_EQ(T().TSPI_lineGetAddressID(hd_line, &address, LINEADDRESSMODE_DIALABLEADDR, u"107",
                                      8),
            ::LINEERR_INVALADDRESS);
  EXPECT_EQ(T().TSPI_lineGetAddressID(hd_line, &address, LINEADDRESSMODE_ADDRESSID,
                                      number.c_str(), size),
            ::LINEERR_INVALADDRESSMODE);
  EXPECT_EQ(T().TSPI_lineGetAddressID(hd_line, nullptr, LINEADDRESSMODE_DIALABLEADDR,
                                      number.c_str(), size),
            ::LINEERR_INVALPOINTER);
  EXPECT_EQ(T().TSPI_lineGetAddressID(bogus_line, &address, LINEADDRESSMODE_DIALABLEADDR,
                                      number.c_str(), size),
            ::LINEERR_INVALLINEHANDLE);

  // lineGetIcon: no icon of our own: NULL, TAPI's default.
  HICON icon = reinterpret_cast<HICON>(uintptr_t{0x1C0});
  EXPECT_EQ(T().TSPI_lineGetIcon(device, nullptr, &icon), 0);
  EXPECT_EQ(icon, nullptr);
  icon = reinterpret_cast<HICON>(uintptr_t{0x1C0});
  EXPECT_EQ(T().TSPI_lineGetIcon(device, u"tapi/line", &icon), 0);
  EXPECT_EQ(icon, nullptr);
  EXPECT_EQ(T().TSPI_lineGetIcon(device, u"comm/datamodem", &icon), ::LINEERR_INVALDEVICECLASS);
  EXPECT_EQ(T().TSPI_lineGetIcon(device, nullptr, nullptr), ::LINEERR_INVALPOINTER);
  EXPECT_EQ(T().TSPI_lineGetIcon(0xFFFF, nullptr, &icon), ::LINEERR_BADDEVICEID);

  // lineConditionalMediaDetection: against the line's media and bearer modes.
  auto params_buf = Buffer(sizeof(LINECALLPARAMS), sizeof(LINECALLPARAMS));
  auto* params = reinterpret_cast<LPLINECALLPARAMS>(params_buf.data());
  params->dwBearerMode = LINEBEARERMODE_VOICE;
  params->dwMediaMode = LINEMEDIAMODE_INTERACTIVEVOICE;
  EXPECT_EQ(T().TSPI_lineConditionalMediaDetection(hd_line, LINEMEDIAMODE_INTERACTIVEVOICE,
                                                   params),
            0);
  EXPECT_EQ(T().TSPI_lineConditionalMediaDetection(
                hd_line, LINEMEDIAMODE_INTERACTIVEVOICE | LINEMEDIAMODE_AUTOMATEDVOICE, params),
            0);
  EXPECT_EQ(T().TSPI_lineConditionalMediaDetection(hd_line, LINEMEDIAMODE_G3FAX, params),
            ::LINEERR_INVALMEDIAMODE);
  EXPECT_EQ(T().TSPI_lineConditionalMediaDetection(hd_line, 0, params), ::LINEERR_INVALMEDIAMODE);
  params->dwBearerMode = LINEBEARERMODE_DATA;
  EXPECT_EQ(T().TSPI_lineConditionalMediaDetection(hd_line, LINEMEDIAMODE_INTERACTIVEVOICE,
                                                   params),
            ::LINEERR_INVALBEARERMODE);
  EXPECT_EQ(T().TSPI_lineConditionalMediaDetection(hd_line, LINEMEDIAMODE_INTERACTIVEVOICE,
                                                   nullptr),
            ::LINEERR_INVALPOINTER);
  EXPECT_EQ(T().TSPI_lineConditionalMediaDetection(bogus_line, LINEMEDIAMODE_INTERACTIVEVOICE,
                                                   params),
            ::LINEERR_INVALLINEHANDLE);

  // lineSetLineDevStatus / lineSetTerminal: the caps say nothing is settable
  // and there are no terminals.
  auto caps = Buffer(4096);
  ASSERT_EQ(T().TSPI_lineGetDevCaps(device, 0x00030000, 0,
                                    reinterpret_cast<LPLINEDEVCAPS>(caps.data())),
            0);
  EXPECT_EQ(Fixed<LINEDEVCAPS>(caps).dwSettableDevStatus, 0u);
  EXPECT_EQ(Fixed<LINEDEVCAPS>(caps).dwNumTerminals, 0u);
  EXPECT_EQ(Run([&](DRV_REQUESTID id) {
              return T().TSPI_lineSetLineDevStatus(id, hd_line, LINEDEVSTATUSFLAGS_MSGWAIT, 1);
            }),
            ::LINEERR_OPERATIONUNAVAIL);
  EXPECT_EQ(Run([&](DRV_REQUESTID id) {
              return T().TSPI_lineSetLineDevStatus(
                  id, hd_line, LINEDEVSTATUSFLAGS_MSGWAIT | LINEDEVSTATUSFLAGS_LOCKED, 1);
            }),
            ::LINEERR_INVALPARAM);
  EXPECT_EQ(Run([&](DRV_REQUESTID id) {
              return T().TSPI_lineSetLineDevStatus(id, bogus_line, LINEDEVSTATUSFLAGS_MSGWAIT,
                                                   1);
            }),
            ::LINEERR_INVALLINEHANDLE);
  EXPECT_EQ(Run([&](DRV_REQUESTID id) {
              return T().TSPI_lineSetTerminal(id, hd_line, 0, nullptr, LINECALLSELECT_LINE,
                                              LINETERMMODE_RINGER, 0, 1);
            }),
            ::LINEERR_OPERATIONUNAVAIL);
  EXPECT_EQ(Run([&](DRV_REQUESTID id) {
              return T().TSPI_lineSetTerminal(id, hd_line, 5, nullptr, LINECALLSELECT_ADDRESS,
                                              LINETERMMODE_RINGER, 0, 1);
            }),
            ::LINEERR_INVALADDRESSID);
  EXPECT_EQ(Run([&](DRV_REQUESTID id) {
              return T().TSPI_lineSetTerminal(id, hd_line, 0,
                                              reinterpret_cast<HDRVCALL>(uintptr_t{0x7777}),
                                              LINECALLSELECT_CALL, LINETERMMODE_RINGER, 0, 1);
            }),
            ::LINEERR_INVALCALLHANDLE);
  EXPECT_EQ(Run([&](DRV_REQUESTID id) {
              return T().TSPI_lineSetTerminal(id, hd_line, 0, nullptr, 0x40,
                                              LINETERMMODE_RINGER, 0, 1);
            }),
            ::LINEERR_INVALCALLSELECT);
  EXPECT_EQ(Run([&](DRV_REQUESTID id) {
              return T().TSPI_lineSetTerminal(id, hd_line, 0, nullptr, LINECALLSELECT_LINE,
                                              0x100, 0, 1);
            }),
            ::LINEERR_INVALTERMINALMODE);

  // lineSetCurrentLocation: nothing of the provider's depends on it.
  EXPECT_EQ(T().TSPI_lineSetCurrentLocation(3), 0);

  // lineGetCallIDs and friends on a handle TAPI closed.
  EXPECT_EQ(T().TSPI_lineClose(hd_line), 0);
  EXPECT_EQ(T().TSPI_lineGetAddressID(hd_line, &address, LINEADDRESSMODE_DIALABLEADDR,
                                      number.c_str(), size),
            ::LINEERR_INVALLINEHANDLE);
}

// The linebridge extension as a TAPI application reaches it: negotiate,
// open with the version (TAPISRV selects it), lineDevSpecific.
TEST_F(TspLineFunctionsTest, ExtensionIdentityOfLineAndCall) {
  const DWORD device = DeviceOf(harness_, num_lines_, "sim/105");
  ASSERT_NE(device, kNoDevice);
  LINEEXTENSIONID id{};
  ASSERT_EQ(T().TSPI_lineGetExtensionID(device, 0x00030000, &id), 0);
  EXPECT_EQ(id.dwExtensionID0, LINEBRIDGE_EXT_ID0);
  EXPECT_EQ(id.dwExtensionID3, LINEBRIDGE_EXT_ID3);
  DWORD ext = 0;
  EXPECT_EQ(T().TSPI_lineNegotiateExtVersion(device, 0x00030000, 0x00010000, 0x00020000, &ext), 0);
  EXPECT_EQ(ext, LINEBRIDGE_EXT_VERSION);
  EXPECT_EQ(T().TSPI_lineNegotiateExtVersion(device, 0x00030000, 0x00020000, 0x00030000, &ext),
            ::LINEERR_INCOMPATIBLEEXTVERSION);
  EXPECT_EQ(T().TSPI_lineNegotiateExtVersion(device, 0x00030000, 0x00010000, 0x00010000, nullptr),
            ::LINEERR_INVALPOINTER);
  EXPECT_EQ(T().TSPI_lineNegotiateExtVersion(0xFFFF, 0x00030000, 0x00010000, 0x00010000, &ext),
            ::LINEERR_BADDEVICEID);

  HTAPILINE ht_line = nullptr;
  HDRVLINE hd_line = Open("sim/105", &ht_line);
  ASSERT_NE(hd_line, nullptr);
  LINEBRIDGE_IDENTITY who{};
  who.dwCommand = LINEBRIDGE_DEVSPECIFIC_IDENTITY;
  // Not selected yet: no extension for this open.
  EXPECT_EQ(Run([&](DRV_REQUESTID rid) {
              return T().TSPI_lineDevSpecific(rid, hd_line, 0, nullptr, &who, sizeof who);
            }),
            ::LINEERR_OPERATIONUNAVAIL);
  EXPECT_EQ(T().TSPI_lineSelectExtVersion(hd_line, 0x00020000), ::LINEERR_INCOMPATIBLEEXTVERSION);
  ASSERT_EQ(T().TSPI_lineSelectExtVersion(hd_line, LINEBRIDGE_EXT_VERSION), 0);

  const HTAPICALL ht_call = reinterpret_cast<HTAPICALL>(uintptr_t{0xE701});
  HDRVCALL hd_call = MakeCall(hd_line, ht_call, u"5550100", LINECALLSTATE_CONNECTED);
  ASSERT_NE(hd_call, nullptr);
  ASSERT_EQ(Run([&](DRV_REQUESTID rid) {
              return T().TSPI_lineDevSpecific(rid, hd_line, 0, hd_call, &who, sizeof who);
            }),
            0);
  EXPECT_EQ(std::string(who.szLineId), "sim/105");
  EXPECT_FALSE(std::string(who.szServerId).empty());
  const std::string call_id = who.szCallId;
  EXPECT_FALSE(call_id.empty());
  // The same call the server lists.
  std::string out;
  ASSERT_EQ(RunLinectl({"--server", server_.address(), "--timeout", "3s", "calls", "sim/105"},
                       &out),
            0)
      << out;
  EXPECT_NE(out.find(call_id), std::string::npos) << out;
  // Without hdCall: the line only.
  LINEBRIDGE_IDENTITY line_only{};
  line_only.dwCommand = LINEBRIDGE_DEVSPECIFIC_IDENTITY;
  ASSERT_EQ(Run([&](DRV_REQUESTID rid) {
              return T().TSPI_lineDevSpecific(rid, hd_line, 0, nullptr, &line_only,
                                              sizeof line_only);
            }),
            0);
  EXPECT_EQ(std::string(line_only.szCallId), "");
  EXPECT_EQ(std::string(line_only.szServerId), std::string(who.szServerId));
  // Refusals.
  uint32_t unknown[4] = {99, 0, 0, 0};
  EXPECT_EQ(Run([&](DRV_REQUESTID rid) {
              return T().TSPI_lineDevSpecific(rid, hd_line, 0, nullptr, unknown, sizeof unknown);
            }),
            ::LINEERR_OPERATIONUNAVAIL);
  EXPECT_EQ(Run([&](DRV_REQUESTID rid) {
              return T().TSPI_lineDevSpecific(rid, hd_line, 0, nullptr, &who, sizeof who - 1);
            }),
            ::LINEERR_INVALPARAM);
  EXPECT_EQ(Run([&](DRV_REQUESTID rid) {
              return T().TSPI_lineDevSpecific(rid, hd_line, 3, nullptr, &who, sizeof who);
            }),
            ::LINEERR_INVALADDRESSID);
  EXPECT_EQ(Run([&](DRV_REQUESTID rid) {
              return T().TSPI_lineDevSpecific(rid, hd_line, 0, nullptr, nullptr, 0);
            }),
            ::LINEERR_INVALPOINTER);

  EXPECT_EQ(Run([&](DRV_REQUESTID rid) { return T().TSPI_lineDrop(rid, hd_call, nullptr, 0); }),
            0);
  EXPECT_TRUE(harness_.WaitCallState(ht_call, LINECALLSTATE_IDLE));
  EXPECT_EQ(T().TSPI_lineCloseCall(hd_call), 0);
  EXPECT_EQ(T().TSPI_lineClose(hd_line), 0);
}

}  // namespace
}  // namespace linebridge::tsp_test
