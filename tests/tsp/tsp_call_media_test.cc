// The remote TSP's call media functions under the TAPISRV harness against a
// real linebridged (sim provider): lineGenerateTone, lineMonitorTones,
// lineMonitorMedia, lineGatherDigits and lineSetMediaMode, their caps, and
// the LINEERR_* TAPI expects for bad parameters. The calls go to the sim's
// IVR number, which echoes what the call sends: a tone the TSP generates is
// what the call then hears.
#include <string>
#include <vector>

#include "tsp_line_fixture.h"

namespace linebridge::tsp_test {
namespace {

class TspCallMediaTest : public TspLineFunctionsTest {
 protected:
  // The first event `msg` of `ht_call` (waits up to 10 s).
  std::optional<RecordedEvent> EventOf(HTAPICALL ht_call, DWORD msg) {
    RecordedEvent got;
    if (!harness_.WaitEvent(
            [&](const RecordedEvent& e) { return e.msg == msg && e.ht_call == ht_call; },
            absl::Seconds(10), &got)) {
      return std::nullopt;
    }
    return got;
  }
  // The events `msg` of `ht_call` so far.
  std::vector<RecordedEvent> EventsOf(HTAPICALL ht_call, DWORD msg) {
    std::vector<RecordedEvent> out;
    for (const RecordedEvent& e : harness_.events()) {
      if (e.msg == msg && e.ht_call == ht_call) out.push_back(e);
    }
    return out;
  }
};

TEST_F(TspCallMediaTest, DevCapsSayWhatTheLineCanDo) {
  const DWORD device = DeviceOf(harness_, num_lines_, "sim/100");
  auto caps = Buffer(4096);
  ASSERT_EQ(T().TSPI_lineGetDevCaps(device, 0x00030000, 0,
                                    reinterpret_cast<LPLINEDEVCAPS>(caps.data())),
            0);
  const LINEDEVCAPS c = Fixed<LINEDEVCAPS>(caps);
  EXPECT_EQ(c.dwGenerateToneModes, static_cast<DWORD>(LINETONEMODE_BEEP | LINETONEMODE_BILLING |
                                                      LINETONEMODE_BUSY | LINETONEMODE_RINGBACK |
                                                      LINETONEMODE_CUSTOM));
  EXPECT_EQ(c.dwGenerateToneMaxNumFreq, 2u);
  EXPECT_EQ(c.dwMonitorToneMaxNumFreq, 3u);
  EXPECT_EQ(c.dwMonitorToneMaxNumEntries, 16u);
  EXPECT_EQ(c.dwGatherDigitsMinTimeout, 20u);
  EXPECT_EQ(c.dwGatherDigitsMaxTimeout, 600000u);
  EXPECT_NE(c.dwMediaModes & LINEMEDIAMODE_INTERACTIVEVOICE, 0u);
  auto addr = Buffer(4096);
  ASSERT_EQ(T().TSPI_lineGetAddressCaps(device, 0, 0x00030000, 0,
                                        reinterpret_cast<LPLINEADDRESSCAPS>(addr.data())),
            0);
  const DWORD features = Fixed<LINEADDRESSCAPS>(addr).dwCallFeatures;
  for (DWORD f : {LINECALLFEATURE_GENERATETONE, LINECALLFEATURE_GATHERDIGITS,
                  LINECALLFEATURE_MONITORTONES, LINECALLFEATURE_MONITORMEDIA}) {
    EXPECT_NE(features & f, 0u) << std::hex << f;
  }
}

TEST_F(TspCallMediaTest, TonesGeneratedAreHeardMonitoredAndGathered) {
  HTAPILINE ht_line = nullptr;
  HDRVLINE hd_line = Open("sim/104", &ht_line);
  ASSERT_NE(hd_line, nullptr);
  const HTAPICALL ht_call = reinterpret_cast<HTAPICALL>(uintptr_t{0x3E01});
  HDRVCALL hd_call = MakeCall(hd_line, ht_call, u"5550105", LINECALLSTATE_CONNECTED);
  ASSERT_NE(hd_call, nullptr);
  EXPECT_NE(FeaturesOf(hd_call) & LINECALLFEATURE_GENERATETONE, 0u);

  // lineMonitorTones: 1400 Hz for 200 ms (app-specific 77), and a tone
  // that is never played.
  LINEMONITORTONE watch[2] = {};
  watch[0].dwAppSpecific = 77;
  watch[0].dwDuration = 200;
  watch[0].dwFrequency1 = 1400;
  watch[1].dwAppSpecific = 78;
  watch[1].dwDuration = 200;
  watch[1].dwFrequency1 = 600;
  watch[1].dwFrequency2 = 900;
  ASSERT_EQ(T().TSPI_lineMonitorTones(hd_call, 5, watch, 2), 0);
  // lineGenerateTone: 1400 Hz for 600 ms; echoed back, it is detected.
  LINEGENERATETONE tone = {};
  tone.dwFrequency = 1400;
  tone.dwVolume = 0x4000;
  ASSERT_EQ(T().TSPI_lineGenerateTone(hd_call, 31, LINETONEMODE_CUSTOM, 600, 1, &tone), 0);
  std::optional<RecordedEvent> ev = EventOf(ht_call, LINE_MONITORTONE);
  ASSERT_TRUE(ev.has_value());
  EXPECT_EQ(ev->p1, 77u);  // dwAppSpecific
  EXPECT_EQ(ev->p2, 5u);   // dwToneListID
  ev = EventOf(ht_call, LINE_GENERATE);
  ASSERT_TRUE(ev.has_value());
  EXPECT_EQ(ev->p1, static_cast<DWORD_PTR>(LINEGENERATETERM_DONE));
  EXPECT_EQ(ev->p2, 31u);
  ASSERT_EQ(T().TSPI_lineMonitorTones(hd_call, 5, nullptr, 0), 0);  // stop

  // lineGatherDigits: '5' as a dual tone (770 + 1336 Hz), echoed back.
  std::u16string buffer(8, u'?');
  ASSERT_EQ(T().TSPI_lineGatherDigits(hd_call, 51, LINEDIGITMODE_DTMF, buffer.data(), 1, u"#",
                                      5000, 0),
            0);
  LINEGENERATETONE five[2] = {};
  five[0].dwFrequency = 770;
  five[0].dwVolume = 0x6000;
  five[1].dwFrequency = 1336;
  five[1].dwVolume = 0x6000;
  ASSERT_EQ(T().TSPI_lineGenerateTone(hd_call, 32, LINETONEMODE_CUSTOM, 120, 2, five), 0);
  ev = EventOf(ht_call, LINE_GATHERDIGITS);
  ASSERT_TRUE(ev.has_value());
  EXPECT_EQ(ev->p1, static_cast<DWORD_PTR>(LINEGATHERTERM_BUFFERFULL));
  EXPECT_EQ(ev->p2, 51u);
  EXPECT_EQ(buffer[0], u'5');
  // Nobody keys: the first-digit timeout; a cancel: LINEGATHERTERM_CANCEL.
  std::u16string second(4, u'?');
  ASSERT_EQ(T().TSPI_lineGatherDigits(hd_call, 52, LINEDIGITMODE_DTMF, second.data(), 4, nullptr,
                                      200, 0),
            0);
  ASSERT_TRUE(harness_.WaitEvent([&](const RecordedEvent& e) {
    return e.msg == LINE_GATHERDIGITS && e.ht_call == ht_call && e.p2 == 52;
  }));
  EXPECT_EQ(EventsOf(ht_call, LINE_GATHERDIGITS).back().p1,
            static_cast<DWORD_PTR>(LINEGATHERTERM_FIRSTTIMEOUT));
  EXPECT_EQ(second[0], u'\0');
  ASSERT_EQ(T().TSPI_lineGatherDigits(hd_call, 53, LINEDIGITMODE_DTMF, second.data(), 4, nullptr,
                                      0, 0),
            0);
  ASSERT_EQ(T().TSPI_lineGatherDigits(hd_call, 0, LINEDIGITMODE_DTMF, nullptr, 0, nullptr, 0, 0),
            0);
  ASSERT_TRUE(harness_.WaitEvent([&](const RecordedEvent& e) {
    return e.msg == LINE_GATHERDIGITS && e.ht_call == ht_call && e.p2 == 53;
  }));
  EXPECT_EQ(EventsOf(ht_call, LINE_GATHERDIGITS).back().p1,
            static_cast<DWORD_PTR>(LINEGATHERTERM_CANCEL));

  // lineMonitorMedia: a fax calling tone (1100 Hz, 0.5 s on, 3 s off).
  ASSERT_EQ(T().TSPI_lineMonitorMedia(hd_call, LINEMEDIAMODE_G3FAX | LINEMEDIAMODE_DATAMODEM), 0);
  LINEGENERATETONE cng = {};
  cng.dwFrequency = 1100;
  cng.dwCadenceOn = 500;
  cng.dwCadenceOff = 3000;
  cng.dwVolume = 0x4000;
  ASSERT_EQ(T().TSPI_lineGenerateTone(hd_call, 33, LINETONEMODE_CUSTOM, 1000, 1, &cng), 0);
  ev = EventOf(ht_call, LINE_MONITORMEDIA);
  ASSERT_TRUE(ev.has_value());
  EXPECT_EQ(ev->p1, static_cast<DWORD_PTR>(LINEMEDIAMODE_G3FAX));

  // A busy tone without end, cancelled with tone mode 0.
  ASSERT_EQ(T().TSPI_lineGenerateTone(hd_call, 34, LINETONEMODE_BUSY, 0, 0, nullptr), 0);
  ASSERT_EQ(T().TSPI_lineGenerateTone(hd_call, 0, 0, 0, 0, nullptr), 0);
  ASSERT_TRUE(harness_.WaitEvent([&](const RecordedEvent& e) {
    return e.msg == LINE_GENERATE && e.ht_call == ht_call && e.p2 == 34;
  }));
  EXPECT_EQ(EventsOf(ht_call, LINE_GENERATE).back().p1,
            static_cast<DWORD_PTR>(LINEGENERATETERM_CANCEL));

  // lineSetMediaMode.
  ASSERT_EQ(T().TSPI_lineSetMediaMode(hd_call, LINEMEDIAMODE_G3FAX), 0);
  auto info = Buffer(2048);
  ASSERT_EQ(T().TSPI_lineGetCallInfo(hd_call, reinterpret_cast<LPLINECALLINFO>(info.data())), 0);
  EXPECT_EQ(Fixed<LINECALLINFO>(info).dwMediaMode, static_cast<DWORD>(LINEMEDIAMODE_G3FAX));
  EXPECT_TRUE(harness_.WaitEvent([&](const RecordedEvent& e) {
    return e.msg == LINE_CALLINFO && e.ht_call == ht_call && (e.p1 & LINECALLINFOSTATE_MEDIAMODE);
  }));

  EXPECT_EQ(Run([&](DRV_REQUESTID id) { return T().TSPI_lineDrop(id, hd_call, nullptr, 0); }), 0);
  EXPECT_TRUE(harness_.WaitCallState(ht_call, LINECALLSTATE_IDLE));
  EXPECT_EQ(T().TSPI_lineCloseCall(hd_call), 0);
  EXPECT_EQ(T().TSPI_lineClose(hd_line), 0);
}

TEST_F(TspCallMediaTest, BadParametersGetTapisErrors) {
  HTAPILINE ht_line = nullptr;
  HDRVLINE hd_line = Open("sim/105", &ht_line);
  ASSERT_NE(hd_line, nullptr);
  const HTAPICALL ht_call = reinterpret_cast<HTAPICALL>(uintptr_t{0x3E02});
  HDRVCALL hd_call = MakeCall(hd_line, ht_call, u"5550100", LINECALLSTATE_CONNECTED);
  ASSERT_NE(hd_call, nullptr);
  LINEGENERATETONE t[3] = {};
  for (int i = 0; i < 3; ++i) t[i].dwFrequency = 1000 + 100 * i;
  EXPECT_EQ(T().TSPI_lineGenerateTone(hd_call, 1, 0x20, 0, 0, nullptr), ::LINEERR_INVALTONEMODE);
  EXPECT_EQ(T().TSPI_lineGenerateTone(hd_call, 1, LINETONEMODE_BUSY | LINETONEMODE_BEEP, 0, 0,
                                      nullptr),
            ::LINEERR_INVALTONEMODE);
  EXPECT_EQ(T().TSPI_lineGenerateTone(hd_call, 1, LINETONEMODE_CUSTOM, 0, 1, nullptr),
            ::LINEERR_INVALPOINTER);
  EXPECT_EQ(T().TSPI_lineGenerateTone(hd_call, 1, LINETONEMODE_CUSTOM, 0, 3, t),
            ::LINEERR_INVALTONE);
  EXPECT_EQ(T().TSPI_lineGenerateTone(hd_call, 1, LINETONEMODE_CUSTOM, 0, 0, t),
            ::LINEERR_INVALTONE);
  t[0].dwFrequency = 50;
  EXPECT_EQ(T().TSPI_lineGenerateTone(hd_call, 1, LINETONEMODE_CUSTOM, 0, 1, t),
            ::LINEERR_INVALTONE);
  std::u16string buf(8, u'?');
  EXPECT_EQ(T().TSPI_lineGatherDigits(hd_call, 1, LINEDIGITMODE_PULSE, buf.data(), 4, nullptr, 0, 0),
            ::LINEERR_INVALDIGITMODE);
  EXPECT_EQ(T().TSPI_lineGatherDigits(hd_call, 1, 0, buf.data(), 4, nullptr, 0, 0),
            ::LINEERR_INVALDIGITMODE);
  EXPECT_EQ(T().TSPI_lineGatherDigits(hd_call, 1, LINEDIGITMODE_DTMF, buf.data(), 0, nullptr, 0, 0),
            ::LINEERR_INVALPARAM);
  EXPECT_EQ(T().TSPI_lineGatherDigits(hd_call, 1, LINEDIGITMODE_DTMF, buf.data(), 4, u"#x", 0, 0),
            ::LINEERR_INVALDIGITS);
  EXPECT_EQ(T().TSPI_lineGatherDigits(hd_call, 1, LINEDIGITMODE_DTMF, buf.data(), 4, nullptr, 10, 0),
            ::LINEERR_INVALTIMEOUT);
  EXPECT_EQ(T().TSPI_lineGatherDigits(hd_call, 1, LINEDIGITMODE_DTMF, buf.data(), 4, nullptr, 0,
                                      600001),
            ::LINEERR_INVALTIMEOUT);
  std::vector<LINEMONITORTONE> many(17);
  for (auto& m : many) m.dwFrequency1 = 1000;
  EXPECT_EQ(T().TSPI_lineMonitorTones(hd_call, 1, many.data(), 17), ::LINEERR_INVALTONELIST);
  EXPECT_EQ(T().TSPI_lineMonitorTones(hd_call, 1, many.data(), 0), ::LINEERR_INVALTONELIST);
  many[0].dwFrequency1 = 20;
  EXPECT_EQ(T().TSPI_lineMonitorTones(hd_call, 1, many.data(), 1), ::LINEERR_INVALTONE);
  EXPECT_EQ(T().TSPI_lineMonitorMedia(hd_call, LINEMEDIAMODE_TDD), ::LINEERR_INVALMEDIAMODE);
  EXPECT_EQ(T().TSPI_lineSetMediaMode(hd_call, 0), ::LINEERR_INVALMEDIAMODE);
  EXPECT_EQ(T().TSPI_lineSetMediaMode(hd_call, LINEMEDIAMODE_G3FAX | LINEMEDIAMODE_DATAMODEM),
            ::LINEERR_INVALMEDIAMODE);
  EXPECT_EQ(T().TSPI_lineSetMediaMode(hd_call, LINEMEDIAMODE_TDD), ::LINEERR_INVALMEDIAMODE);
  const HDRVCALL stale = reinterpret_cast<HDRVCALL>(uintptr_t{0x7777});
  EXPECT_EQ(T().TSPI_lineGenerateTone(stale, 1, LINETONEMODE_BEEP, 0, 0, nullptr),
            ::LINEERR_INVALCALLHANDLE);
  EXPECT_EQ(T().TSPI_lineMonitorMedia(stale, 0), ::LINEERR_INVALCALLHANDLE);
  // Not connected any more.
  EXPECT_EQ(Run([&](DRV_REQUESTID id) { return T().TSPI_lineDrop(id, hd_call, nullptr, 0); }), 0);
  EXPECT_TRUE(harness_.WaitCallState(ht_call, LINECALLSTATE_IDLE));
  EXPECT_EQ(T().TSPI_lineGenerateTone(hd_call, 1, LINETONEMODE_BEEP, 0, 0, nullptr),
            ::LINEERR_INVALCALLSTATE);
  EXPECT_EQ(T().TSPI_lineCloseCall(hd_call), 0);
  EXPECT_EQ(T().TSPI_lineClose(hd_line), 0);
}

}  // namespace
}  // namespace linebridge::tsp_test
