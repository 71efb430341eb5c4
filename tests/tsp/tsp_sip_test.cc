// The remote TSP on a SIP user-agent line: linebridge.tsp driven the way
// TAPISRV drives it, against a real linebridged whose line "sip/alice" is an
// account registered at kamailio (digest auth), which proxies its calls to
// sipp scenarios (server/providers/sip/testing/) as the far ends. Caps, calls both ways,
// failure, hold, transfer, redirect, digits, SIP URIs as destinations, and
// the registrar going away and coming back.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <fstream>
#include <string>
#include <vector>

#include "tsp_sip_fixture.h"

namespace linebridge::tsp_test {
namespace {

using ::testing::HasSubstr;

class TspSipTest : public TspSipFixture {};

HTAPICALL Ht(uintptr_t n) { return reinterpret_cast<HTAPICALL>(n); }

TEST_F(TspSipTest, CapsSayWhatTheSipLineDoes) {
  StartAll();
  auto b = Buffer(4096);
  ASSERT_EQ(
      T().TSPI_lineGetDevCaps(device_, 0x00030000, 0, reinterpret_cast<LPLINEDEVCAPS>(b.data())),
      0);
  const auto caps = Fixed<LINEDEVCAPS>(b);
  EXPECT_EQ(String16At(b, caps.dwProviderInfoSize, caps.dwProviderInfoOffset),
            "linebridge sip (user agent)");
  EXPECT_EQ(String16At(b, caps.dwSwitchInfoSize, caps.dwSwitchInfoOffset), "sip/alice");
  EXPECT_EQ(caps.dwMediaModes, static_cast<DWORD>(LINEMEDIAMODE_INTERACTIVEVOICE));
  EXPECT_EQ(caps.dwBearerModes, static_cast<DWORD>(LINEBEARERMODE_VOICE));
  EXPECT_EQ(caps.dwGenerateDigitModes, static_cast<DWORD>(LINEDIGITMODE_DTMF));
  EXPECT_EQ(caps.dwMonitorDigitModes,
            static_cast<DWORD>(LINEDIGITMODE_DTMF | LINEDIGITMODE_DTMFEND));
  EXPECT_NE(caps.dwGenerateToneModes, 0u);  // the call's audio passes through the server
  EXPECT_EQ(caps.dwMaxNumActiveCalls, 1u);
  EXPECT_EQ(caps.dwNumAddresses, 1u);
  EXPECT_EQ(caps.dwUUIMakeCallSize, 0u);  // SIP carries no user-user information here
  EXPECT_EQ(caps.dwLineFeatures, static_cast<DWORD>(LINEFEATURE_MAKECALL));

  auto a = Buffer(4096);
  ASSERT_EQ(T().TSPI_lineGetAddressCaps(device_, 0, 0x00030000, 0,
                                        reinterpret_cast<LPLINEADDRESSCAPS>(a.data())),
            0);
  const auto ac = Fixed<LINEADDRESSCAPS>(a);
  EXPECT_EQ(String16At(a, ac.dwAddressSize, ac.dwAddressOffset), "sip:alice@127.0.0.1");
  EXPECT_EQ(ac.dwAddressFeatures, static_cast<DWORD>(LINEADDRFEATURE_MAKECALL));
  EXPECT_EQ(ac.dwCallFeatures,
            static_cast<DWORD>(
                LINECALLFEATURE_ANSWER | LINECALLFEATURE_DROP | LINECALLFEATURE_HOLD |
                LINECALLFEATURE_UNHOLD | LINECALLFEATURE_BLINDTRANSFER |
                LINECALLFEATURE_REDIRECT | LINECALLFEATURE_GENERATEDIGITS |
                LINECALLFEATURE_MONITORDIGITS | LINECALLFEATURE_SETUPTRANSFER |
                LINECALLFEATURE_COMPLETETRANSF | LINECALLFEATURE_DIAL |
                LINECALLFEATURE_GENERATETONE | LINECALLFEATURE_GATHERDIGITS |
                LINECALLFEATURE_MONITORTONES | LINECALLFEATURE_MONITORMEDIA));
  EXPECT_EQ(ac.dwCallStates,
            static_cast<DWORD>(LINECALLSTATE_IDLE | LINECALLSTATE_OFFERING |
                               LINECALLSTATE_DIALTONE | LINECALLSTATE_DIALING |
                               LINECALLSTATE_PROCEEDING | LINECALLSTATE_RINGBACK |
                               LINECALLSTATE_CONNECTED | LINECALLSTATE_ONHOLD |
                               LINECALLSTATE_ONHOLDPENDTRANSFER | LINECALLSTATE_DISCONNECTED));
  EXPECT_EQ(ac.dwTransferModes, static_cast<DWORD>(LINETRANSFERMODE_TRANSFER));
  EXPECT_EQ(ac.dwMaxNumConference, 0u);
  EXPECT_EQ(ac.dwParkModes, 0u);
  EXPECT_EQ(ac.dwForwardModes, 0u);
  EXPECT_EQ(ac.dwMaxNumActiveCalls, 1u);
  EXPECT_EQ(ac.dwMaxNumOnHoldCalls, 1u);
  EXPECT_EQ(ac.dwMaxNumOnHoldPendingCalls, 1u);
  const DWORD sip_modes = LINEDISCONNECTMODE_NORMAL | LINEDISCONNECTMODE_BUSY |
                          LINEDISCONNECTMODE_REJECT | LINEDISCONNECTMODE_NOANSWER |
                          LINEDISCONNECTMODE_BADADDRESS | LINEDISCONNECTMODE_CONGESTION |
                          LINEDISCONNECTMODE_INCOMPATIBLE | LINEDISCONNECTMODE_UNAVAIL;
  EXPECT_EQ(ac.dwDisconnectModes & sip_modes, sip_modes);
  EXPECT_NE(ac.dwCallerIDFlags & LINECALLPARTYID_ADDRESS, 0u);
  EXPECT_NE(ac.dwCallerIDFlags & LINECALLPARTYID_NAME, 0u);
  EXPECT_NE(ac.dwRedirectingIDFlags & LINECALLPARTYID_ADDRESS, 0u);
  EXPECT_EQ(ac.dwAvailableMediaModes, static_cast<DWORD>(LINEMEDIAMODE_INTERACTIVEVOICE));
}

TEST_F(TspSipTest, OutboundCallsProgressAndDropBackToBack) {
  HTAPILINE ht_line = nullptr;
  const HDRVLINE hd_line = StartAndOpen(&ht_line);
  ASSERT_NE(hd_line, nullptr);
  ChildProcess sipp;
  ASSERT_TRUE(StartFarEnd(sipp, {.scenario = "uas_progress_answer.xml", .calls = 2}));
  for (uintptr_t n : {0xA1u, 0xA2u}) {
    HDRVCALL hd_call = nullptr;
    ASSERT_EQ(MakeCall(hd_line, Ht(n), u"+1 (555) 0100", &hd_call), 0);
    ASSERT_TRUE(harness_.WaitCallState(Ht(n), LINECALLSTATE_CONNECTED, kSipWait));
    // As the provider reports them: INVITE sent, 183, 180, 200 (kamailio's 100 is not
    // a state).
    EXPECT_EQ(StatesOf(Ht(n)),
              (std::vector<DWORD>{LINECALLSTATE_DIALING, LINECALLSTATE_PROCEEDING,
                                  LINECALLSTATE_RINGBACK, LINECALLSTATE_CONNECTED}));
    auto info = Buffer(2048);
    ASSERT_EQ(T().TSPI_lineGetCallInfo(hd_call, reinterpret_cast<LPLINECALLINFO>(info.data())), 0);
    const auto ci = Fixed<LINECALLINFO>(info);
    EXPECT_EQ(ci.dwOrigin, static_cast<DWORD>(LINECALLORIGIN_OUTBOUND));
    EXPECT_EQ(ci.dwMediaMode, static_cast<DWORD>(LINEMEDIAMODE_INTERACTIVEVOICE));
    DropToIdle(Ht(n), hd_call);  // BYE; the next call at once
  }
  EXPECT_EQ(sipp.Wait(kSipWait), 0) << sipp.ReadLog();
  EXPECT_EQ(T().TSPI_lineClose(hd_line), 0);
}

TEST_F(TspSipTest, InboundCallWithCallerIdAnsweredThenFarEndHangsUp) {
  HTAPILINE ht_line = nullptr;
  const HDRVLINE hd_line = StartAndOpen(&ht_line);
  ASSERT_NE(hd_line, nullptr);
  ASSERT_TRUE(DetectVoice(hd_line));
  ChildProcess sipp;
  ASSERT_TRUE(CallAlice(sipp, {.scenario = "uac_call.xml"}));
  HTAPICALL ht_call = nullptr;
  HDRVCALL hd_call = nullptr;
  ASSERT_TRUE(harness_.WaitNewCall(ht_line, &ht_call, &hd_call, kSipWait));
  ASSERT_TRUE(harness_.WaitCallState(ht_call, LINECALLSTATE_OFFERING, kSipWait));
  auto info = Buffer(4096);
  ASSERT_EQ(T().TSPI_lineGetCallInfo(hd_call, reinterpret_cast<LPLINECALLINFO>(info.data())), 0);
  const auto ci = Fixed<LINECALLINFO>(info);
  EXPECT_EQ(ci.dwOrigin & LINECALLORIGIN_OUTBOUND, 0u);
  EXPECT_EQ(ci.dwCallerIDFlags & (LINECALLPARTYID_ADDRESS | LINECALLPARTYID_NAME),
            static_cast<DWORD>(LINECALLPARTYID_ADDRESS | LINECALLPARTYID_NAME));
  EXPECT_EQ(String16At(info, ci.dwCallerIDSize, ci.dwCallerIDOffset), "5551234");
  EXPECT_EQ(String16At(info, ci.dwCallerIDNameSize, ci.dwCallerIDNameOffset), "Carol Caller");
  EXPECT_EQ(String16At(info, ci.dwCalledIDSize, ci.dwCalledIDOffset), "alice");
  EXPECT_EQ(ci.dwMediaMode, static_cast<DWORD>(LINEMEDIAMODE_INTERACTIVEVOICE));
  EXPECT_EQ(Run([&](DRV_REQUESTID id) { return T().TSPI_lineAnswer(id, hd_call, nullptr, 0); }),
            0);
  ASSERT_TRUE(harness_.WaitCallState(ht_call, LINECALLSTATE_CONNECTED, kSipWait));
  // The caller's BYE (200 ms after the ACK).
  EXPECT_EQ(DisconnectModeOf(ht_call), static_cast<DWORD>(LINEDISCONNECTMODE_NORMAL));
  DropToIdle(ht_call, hd_call);
  EXPECT_EQ(StatesOf(ht_call),
            (std::vector<DWORD>{LINECALLSTATE_OFFERING, LINECALLSTATE_CONNECTED,
                                LINECALLSTATE_DISCONNECTED, LINECALLSTATE_IDLE}));
  EXPECT_EQ(sipp.Wait(kSipWait), 0) << sipp.ReadLog();
  EXPECT_EQ(T().TSPI_lineClose(hd_line), 0);
}

TEST_F(TspSipTest, BusyFarEndDisconnectsWithBusy) {
  HTAPILINE ht_line = nullptr;
  const HDRVLINE hd_line = StartAndOpen(&ht_line);
  ASSERT_NE(hd_line, nullptr);
  // sipp takes no response code from the command line: the scenario with it.
  std::string xml = ReadFile(sip::testing::ScenarioDir() + "/uas_reject.xml");
  ASSERT_NE(xml.find("[code] [reason]"), std::string::npos);
  for (size_t at; (at = xml.find("[code] [reason]")) != std::string::npos;) {
    xml.replace(at, 15, "486 Busy Here");
  }
  const std::string file = dir_ + "/uas_reject_486.xml";
  std::ofstream(file) << xml;
  ChildProcess sipp;
  ASSERT_TRUE(StartFarEnd(sipp, {.scenario = file}));
  HDRVCALL hd_call = nullptr;
  ASSERT_EQ(MakeCall(hd_line, Ht(0xB5), u"5550100", &hd_call), 0);
  EXPECT_EQ(DisconnectModeOf(Ht(0xB5)), static_cast<DWORD>(LINEDISCONNECTMODE_BUSY));
  DropToIdle(Ht(0xB5), hd_call);
  EXPECT_EQ(sipp.Wait(kSipWait), 0) << sipp.ReadLog();
  EXPECT_EQ(T().TSPI_lineClose(hd_line), 0);
}

TEST_F(TspSipTest, HoldAndUnholdByReInvite) {
  HTAPILINE ht_line = nullptr;
  const HDRVLINE hd_line = StartAndOpen(&ht_line);
  ASSERT_NE(hd_line, nullptr);
  ChildProcess sipp;  // checks a=sendonly in the hold, not in the resume
  ASSERT_TRUE(StartFarEnd(sipp, {.scenario = "uas_hold_resume.xml"}));
  const HTAPICALL ht_call = Ht(0xC1);
  HDRVCALL hd_call = nullptr;
  ASSERT_EQ(MakeCall(hd_line, ht_call, u"5550100", &hd_call), 0);
  ASSERT_TRUE(harness_.WaitCallState(ht_call, LINECALLSTATE_CONNECTED, kSipWait));
  EXPECT_EQ(Run([&](DRV_REQUESTID id) { return T().TSPI_lineHold(id, hd_call); }), 0);
  ASSERT_TRUE(harness_.WaitCallState(ht_call, LINECALLSTATE_ONHOLD, kSipWait));
  harness_.ClearEvents();  // the next CONNECTED is the resume's
  EXPECT_EQ(Run([&](DRV_REQUESTID id) { return T().TSPI_lineUnhold(id, hd_call); }), 0);
  ASSERT_TRUE(harness_.WaitCallState(ht_call, LINECALLSTATE_CONNECTED, kSipWait));
  DropToIdle(ht_call, hd_call);
  EXPECT_EQ(sipp.Wait(kSipWait), 0) << sipp.ReadLog();
  EXPECT_EQ(T().TSPI_lineClose(hd_line), 0);
}

// lineBlindTransfer to a number (dialled as sip:<number>@<host of the account
// URI>) or to a SIP URI: a REFER the far end accepts, a 200 sipfrag, the call
// IDLE.
class TspSipTransferTest : public TspSipTest,
                           public ::testing::WithParamInterface<const char16_t*> {};

TEST_P(TspSipTransferTest, BlindTransferByRefer) {
  HTAPILINE ht_line = nullptr;
  const HDRVLINE hd_line = StartAndOpen(&ht_line);
  ASSERT_NE(hd_line, nullptr);
  ChildProcess sipp;  // checks Refer-To: sip:5550199@127.0.0.1
  ASSERT_TRUE(StartFarEnd(sipp, {.scenario = "uas_transferee.xml",
                                 .keys = {{"target", "sip:5550199@127.0.0.1"},
                                          {"frag", "200 OK"}}}));
  const HTAPICALL ht_call = Ht(0xD1);
  HDRVCALL hd_call = nullptr;
  ASSERT_EQ(MakeCall(hd_line, ht_call, u"5550100", &hd_call), 0);
  ASSERT_TRUE(harness_.WaitCallState(ht_call, LINECALLSTATE_CONNECTED, kSipWait));
  EXPECT_EQ(Run([&](DRV_REQUESTID id) {
              return T().TSPI_lineBlindTransfer(id, hd_call, GetParam(), 0);
            }),
            0);
  ASSERT_TRUE(harness_.WaitCallState(ht_call, LINECALLSTATE_IDLE, kSipWait));
  EXPECT_EQ(T().TSPI_lineCloseCall(hd_call), 0);
  EXPECT_EQ(sipp.Wait(kSipWait), 0) << sipp.ReadLog();
  EXPECT_EQ(T().TSPI_lineClose(hd_line), 0);
}

INSTANTIATE_TEST_SUITE_P(NumberAndUri, TspSipTransferTest,
                         ::testing::Values(u"555 0199", u"sip:5550199@127.0.0.1"));

// The target is busy (a 486 sipfrag): lineBlindTransfer's LINE_REPLY is
// LINEERR_OPERATIONFAILED, and the call stays connected for the application
// to take back or drop.
TEST_F(TspSipTest, BlindTransferToABusyTargetFailsTheRequest) {
  HTAPILINE ht_line = nullptr;
  const HDRVLINE hd_line = StartAndOpen(&ht_line);
  ASSERT_NE(hd_line, nullptr);
  ChildProcess sipp;
  ASSERT_TRUE(StartFarEnd(sipp, {.scenario = "uas_transferee.xml",
                                 .keys = {{"target", "sip:5550199@127.0.0.1"},
                                          {"frag", "486 Busy Here"}}}));
  const HTAPICALL ht_call = Ht(0xD5);
  HDRVCALL hd_call = nullptr;
  ASSERT_EQ(MakeCall(hd_line, ht_call, u"5550100", &hd_call), 0);
  ASSERT_TRUE(harness_.WaitCallState(ht_call, LINECALLSTATE_CONNECTED, kSipWait));
  harness_.ClearEvents();
  EXPECT_EQ(Run([&](DRV_REQUESTID id) {
              return T().TSPI_lineBlindTransfer(id, hd_call, u"5550199", 0);
            }),
            LINEERR_OPERATIONFAILED);
  auto status = Buffer(1024);
  ASSERT_EQ(T().TSPI_lineGetCallStatus(hd_call, reinterpret_cast<LPLINECALLSTATUS>(status.data())),
            0);
  EXPECT_EQ(Fixed<LINECALLSTATUS>(status).dwCallState,
            static_cast<DWORD>(LINECALLSTATE_CONNECTED));
  DropToIdle(ht_call, hd_call);
  EXPECT_EQ(sipp.Wait(kSipWait), 0) << sipp.ReadLog();
  EXPECT_EQ(T().TSPI_lineClose(hd_line), 0);
}

// A target that rings 4 s, longer than the provider's deadline_ms (3 s),
// then answers or not: lineBlindTransfer's LINE_REPLY is the outcome (the
// transfer's request waits for it), not an "under way" guess.
TEST_F(TspSipTest, BlindTransferToATargetThatRingsRepliesWithTheOutcome) {
  HTAPILINE ht_line = nullptr;
  const HDRVLINE hd_line = StartAndOpen(&ht_line);
  ASSERT_NE(hd_line, nullptr);
  struct Case {
    const char* frag;
    LONG reply;
    DWORD state_after;
  };
  DWORD ht = 0xD7;
  for (const Case& c : {Case{"480 Temporarily Unavailable", LINEERR_OPERATIONFAILED,
                             static_cast<DWORD>(LINECALLSTATE_CONNECTED)},
                        Case{"200 OK", 0, static_cast<DWORD>(LINECALLSTATE_IDLE)}}) {
    SCOPED_TRACE(c.frag);
    ChildProcess sipp;
    ASSERT_TRUE(StartFarEnd(sipp, {.scenario = "uas_transferee_slow.xml",
                                   .keys = {{"target", "sip:5550199@127.0.0.1"},
                                            {"frag", c.frag}}}));
    const HTAPICALL ht_call = Ht(ht++);
    HDRVCALL hd_call = nullptr;
    ASSERT_EQ(MakeCall(hd_line, ht_call, u"5550100", &hd_call), 0);
    ASSERT_TRUE(harness_.WaitCallState(ht_call, LINECALLSTATE_CONNECTED, kSipWait));
    const absl::Time sent = MonotonicNow();
    EXPECT_EQ(Run([&](DRV_REQUESTID id) {
                return T().TSPI_lineBlindTransfer(id, hd_call, u"5550199", 0);
              }),
              c.reply);
    EXPECT_GE(MonotonicNow() - sent, absl::Seconds(3.5));
    auto status = Buffer(1024);
    ASSERT_EQ(
        T().TSPI_lineGetCallStatus(hd_call, reinterpret_cast<LPLINECALLSTATUS>(status.data())), 0);
    if (c.state_after == LINECALLSTATE_IDLE) {
      ASSERT_TRUE(harness_.WaitCallState(ht_call, LINECALLSTATE_IDLE, kSipWait));
      EXPECT_EQ(T().TSPI_lineCloseCall(hd_call), 0);
    } else {
      EXPECT_EQ(Fixed<LINECALLSTATUS>(status).dwCallState, c.state_after);
      DropToIdle(ht_call, hd_call);
    }
    EXPECT_EQ(sipp.Wait(kSipWait), 0) << sipp.ReadLog();
  }
  EXPECT_EQ(T().TSPI_lineClose(hd_line), 0);
}

// lineSetupTransfer (hold re-INVITE, a DIALTONE consultation), lineDial of
// the consultation to a SIP URI, lineCompleteTransfer: a REFER with Replaces
// naming the consultation dialog; the 200 sipfrag ends both calls.
TEST_F(TspSipTest, ConsultationTransferWithASipUriDialled) {
  HTAPILINE ht_line = nullptr;
  const HDRVLINE hd_line = StartAndOpen(&ht_line);
  ASSERT_NE(hd_line, nullptr);
  ChildProcess sipp;  // both far ends; checks the consultation's INVITE and the REFER
  ASSERT_TRUE(StartFarEnd(sipp, {.scenario = "uas_attended.xml", .calls = 2}));
  const HTAPICALL ht_call = Ht(0x7A1);
  HDRVCALL hd_call = nullptr;
  ASSERT_EQ(MakeCall(hd_line, ht_call, u"+15550100", &hd_call), 0);
  ASSERT_TRUE(harness_.WaitCallState(ht_call, LINECALLSTATE_CONNECTED, kSipWait));
  const HTAPICALL ht_consult = Ht(0x7A2);
  HDRVCALL hd_consult = nullptr;
  const DRV_REQUESTID setup = harness_.NextRequestId();
  harness_.OutboundCall(ht_consult, setup);
  const LONG r = T().TSPI_lineSetupTransfer(setup, hd_call, ht_consult, &hd_consult, nullptr);
  harness_.Issued(setup, r);
  ASSERT_EQ(r, static_cast<LONG>(setup));
  ASSERT_EQ(harness_.WaitCompletion(setup, kSipWait), 0);
  ASSERT_TRUE(harness_.WaitCallState(ht_consult, LINECALLSTATE_DIALTONE, kSipWait));
  ASSERT_TRUE(harness_.WaitCallState(ht_call, LINECALLSTATE_ONHOLDPENDTRANSFER, kSipWait));
  EXPECT_EQ(Run([&](DRV_REQUESTID id) {
              return T().TSPI_lineDial(id, hd_consult, u"sip:5550177 @127.0.0.1", 0);
            }),
            LINEERR_INVALADDRESS);
  EXPECT_EQ(Run([&](DRV_REQUESTID id) {
              return T().TSPI_lineDial(id, hd_consult, u"sip:5550177@127.0.0.1", 0);
            }),
            0);
  ASSERT_TRUE(harness_.WaitCallState(ht_consult, LINECALLSTATE_CONNECTED, kSipWait));
  EXPECT_EQ(Run([&](DRV_REQUESTID id) {
              return T().TSPI_lineCompleteTransfer(id, hd_call, hd_consult, nullptr, nullptr,
                                                   LINETRANSFERMODE_TRANSFER);
            }),
            0);
  EXPECT_TRUE(harness_.WaitCallState(ht_call, LINECALLSTATE_IDLE, kSipWait));
  EXPECT_TRUE(harness_.WaitCallState(ht_consult, LINECALLSTATE_IDLE, kSipWait));
  EXPECT_EQ(T().TSPI_lineCloseCall(hd_call), 0);
  EXPECT_EQ(T().TSPI_lineCloseCall(hd_consult), 0);
  EXPECT_EQ(sipp.Wait(kSipWait), 0) << sipp.ReadLog();
  EXPECT_EQ(T().TSPI_lineClose(hd_line), 0);
}

TEST_F(TspSipTest, DigitsOutAsTelephoneEventsAndIn) {
  HTAPILINE ht_line = nullptr;
  const HDRVLINE hd_line = StartAndOpen(&ht_line);
  ASSERT_NE(hd_line, nullptr);
  ChildProcess sipp;  // telephone-events on 96, echoed; then INFOs with 5 and 9
  ASSERT_TRUE(StartFarEnd(sipp, {.scenario = "uas_dtmf.xml"}));
  const HTAPICALL ht_call = Ht(0xE1);
  HDRVCALL hd_call = nullptr;
  ASSERT_EQ(MakeCall(hd_line, ht_call, u"5550100", &hd_call), 0);
  EXPECT_EQ(T().TSPI_lineMonitorDigits(hd_call, LINEDIGITMODE_DTMF), 0);
  ASSERT_TRUE(harness_.WaitCallState(ht_call, LINECALLSTATE_CONNECTED, kSipWait));
  auto digits = [&] {
    std::string out;
    for (const RecordedEvent& e : harness_.events()) {
      if (e.msg == LINE_MONITORDIGITS && e.ht_call == ht_call) {
        EXPECT_EQ(e.p2, static_cast<DWORD_PTR>(LINEDIGITMODE_DTMF));
        out.push_back(static_cast<char>(e.p1));
      }
    }
    return out;
  };
  // The far end's INFOs (dtmf-relay, then application/dtmf).
  ASSERT_TRUE(harness_.WaitEvent(
      [&](const RecordedEvent& e) {
        return e.msg == LINE_MONITORDIGITS && e.ht_call == ht_call && e.p1 == '9';
      },
      kSipWait));
  // Pulse is not something a SIP line generates.
  EXPECT_EQ(T().TSPI_lineGenerateDigits(hd_call, 76, LINEDIGITMODE_PULSE, u"1", 0),
            LINEERR_INVALDIGITMODE);
  // RFC 4733 events on the far end's payload type; sipp echoes the RTP, so
  // they come back as digits, each once.
  ASSERT_EQ(T().TSPI_lineGenerateDigits(hd_call, 77, LINEDIGITMODE_DTMF, u"1*#", 0), 0);
  RecordedEvent done;
  ASSERT_TRUE(harness_.WaitEvent(
      [&](const RecordedEvent& e) { return e.msg == LINE_GENERATE && e.ht_call == ht_call; },
      kSipWait, &done));
  EXPECT_EQ(done.p1, static_cast<DWORD_PTR>(LINEGENERATETERM_DONE));
  EXPECT_EQ(done.p2, 77u);
  ASSERT_TRUE(harness_.WaitEvent(
      [&](const RecordedEvent& e) {
        return e.msg == LINE_MONITORDIGITS && e.ht_call == ht_call && e.p1 == '#';
      },
      kSipWait));
  EXPECT_EQ(digits(), "591*#");
  DropToIdle(ht_call, hd_call);
  EXPECT_EQ(sipp.Wait(kSipWait), 0) << sipp.ReadLog();
  EXPECT_EQ(T().TSPI_lineClose(hd_line), 0);
}

TEST_F(TspSipTest, SipUriDestinations) {
  HTAPILINE ht_line = nullptr;
  const HDRVLINE hd_line = StartAndOpen(&ht_line);
  ASSERT_NE(hd_line, nullptr);
  // Malformed URIs and letters outside a URI are refused before anything is
  // sent (TAPI's pre-scan), with INVALADDRESS.
  uintptr_t n = 0xF00;
  for (const char16_t* bad : {u"sip:carol @127.0.0.1", u"sip:", u"sips:<carol@127.0.0.1>",
                              u"sip:\"carol\"@127.0.0.1", u"carol@127.0.0.1", u"555x0100"}) {
    HDRVCALL hd_call = nullptr;
    EXPECT_EQ(MakeCall(hd_line, Ht(++n), bad, &hd_call), LINEERR_INVALADDRESS);
  }
  ChildProcess sipp;
  ASSERT_TRUE(StartFarEnd(sipp, {.scenario = "uas_answer.xml"}));
  const HTAPICALL ht_call = Ht(0xF1);
  HDRVCALL hd_call = nullptr;
  ASSERT_EQ(MakeCall(hd_line, ht_call, u"sip:carol@127.0.0.1", &hd_call), 0);
  ASSERT_TRUE(harness_.WaitCallState(ht_call, LINECALLSTATE_CONNECTED, kSipWait));
  auto info = Buffer(4096);
  ASSERT_EQ(T().TSPI_lineGetCallInfo(hd_call, reinterpret_cast<LPLINECALLINFO>(info.data())), 0);
  const auto ci = Fixed<LINECALLINFO>(info);
  EXPECT_EQ(String16At(info, ci.dwCalledIDSize, ci.dwCalledIDOffset), "sip:carol@127.0.0.1");
  // The connected call's transfer destination is checked the same way.
  EXPECT_EQ(Run([&](DRV_REQUESTID id) {
              return T().TSPI_lineBlindTransfer(id, hd_call, u"sip:a b@h", 0);
            }),
            LINEERR_INVALADDRESS);
  DropToIdle(ht_call, hd_call);
  EXPECT_EQ(sipp.Wait(kSipWait), 0) << sipp.ReadLog();
  EXPECT_THAT(sipp.ReadLog() + ReadFile(dir_ + "/uas_answer_messages.log"),
              HasSubstr("INVITE sip:carol@127.0.0.1 SIP/2.0"));
  EXPECT_EQ(T().TSPI_lineClose(hd_line), 0);
}

TEST_F(TspSipTest, RedirectOfAnOfferedCallToASipUri) {
  HTAPILINE ht_line = nullptr;
  const HDRVLINE hd_line = StartAndOpen(&ht_line);
  ASSERT_NE(hd_line, nullptr);
  ASSERT_TRUE(DetectVoice(hd_line));
  ChildProcess sipp;  // expects 180, then 302 with Contact <sip:5550142@127.0.0.1>
  ASSERT_TRUE(CallAlice(sipp, {.scenario = "uac_diverted.xml",
                               .keys = {{"diversion",
                                         "Diversion: <sip:3000@127.0.0.1>;reason=user-busy"}}}));
  HTAPICALL ht_call = nullptr;
  HDRVCALL hd_call = nullptr;
  ASSERT_TRUE(harness_.WaitNewCall(ht_line, &ht_call, &hd_call, kSipWait));
  ASSERT_TRUE(harness_.WaitCallState(ht_call, LINECALLSTATE_OFFERING, kSipWait));
  auto info = Buffer(4096);
  ASSERT_EQ(T().TSPI_lineGetCallInfo(hd_call, reinterpret_cast<LPLINECALLINFO>(info.data())), 0);
  const auto ci = Fixed<LINECALLINFO>(info);
  EXPECT_EQ(ci.dwReason, static_cast<DWORD>(LINECALLREASON_FWDBUSY));
  EXPECT_EQ(String16At(info, ci.dwRedirectingIDSize, ci.dwRedirectingIDOffset), "3000");
  EXPECT_EQ(Run([&](DRV_REQUESTID id) {
              return T().TSPI_lineRedirect(id, hd_call, u"sip:555 0142@x", 0);
            }),
            LINEERR_INVALADDRESS);
  EXPECT_EQ(Run([&](DRV_REQUESTID id) {
              return T().TSPI_lineRedirect(id, hd_call, u"sip:5550142@127.0.0.1", 0);
            }),
            0);
  ASSERT_TRUE(harness_.WaitCallState(ht_call, LINECALLSTATE_IDLE, kSipWait));
  EXPECT_EQ(T().TSPI_lineCloseCall(hd_call), 0);
  EXPECT_EQ(sipp.Wait(kSipWait), 0) << sipp.ReadLog();
  EXPECT_EQ(T().TSPI_lineClose(hd_line), 0);
}

TEST_F(TspSipTest, RegistrarLostAndBack) {
  // TCP: the registrar's end of the connection closing is seen at once; the
  // registration is refreshed every few seconds and retried every second.
  StartAll("register_expiry_s: 5 register_retry_s: 1 transport: SIP_TRANSPORT_TCP");
  HTAPILINE ht_line = nullptr;
  const HDRVLINE hd_line = Open(&ht_line);
  ASSERT_NE(hd_line, nullptr);
  auto devstate = [&](DWORD state) {
    return [ht_line, state](const RecordedEvent& e) {
      return e.msg == LINE_LINEDEVSTATE && e.ht_line == ht_line && e.p1 == state;
    };
  };
  kamailio_.Kill();
  ASSERT_TRUE(harness_.WaitEvent(devstate(LINEDEVSTATE_OUTOFSERVICE), absl::Seconds(20)));
  auto status = Buffer(sizeof(LINEDEVSTATUS) + 64, 512);
  ASSERT_EQ(T().TSPI_lineGetLineDevStatus(hd_line, reinterpret_cast<LPLINEDEVSTATUS>(status.data())),
            0);
  EXPECT_EQ(Fixed<LINEDEVSTATUS>(status).dwDevStatusFlags & LINEDEVSTATUSFLAGS_INSERVICE, 0u);
  EXPECT_EQ(Fixed<LINEDEVSTATUS>(status).dwLineFeatures, 0u);
  HDRVCALL refused = nullptr;  // no calls while unregistered
  EXPECT_NE(MakeCall(hd_line, Ht(0x0905), u"5550100", &refused), 0);
  harness_.ClearEvents();  // no registrar now: the INSERVICE that follows is the new one
  std::string error;
  ASSERT_TRUE(StartKamailio(&error)) << error;
  ASSERT_TRUE(harness_.WaitEvent(devstate(LINEDEVSTATE_INSERVICE), absl::Seconds(20)));
  EXPECT_TRUE(WaitInService(harness_, hd_line));
  EXPECT_EQ(T().TSPI_lineClose(hd_line), 0);
}

}  // namespace
}  // namespace linebridge::tsp_test
