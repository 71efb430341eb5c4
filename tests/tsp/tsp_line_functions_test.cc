// The TSPI line functions beyond the core, driven the way TAPISRV drives
// them against a real linebridged (sim provider): lineSwapHold, the TAPI 3
// call ids and call-hub tracking, lineDropOnClose / lineDropNoOwner.
#include <algorithm>
#include <string>
#include <vector>

#include "tsp_line_fixture.h"

namespace linebridge::tsp_test {
namespace {

TEST_F(TspLineFunctionsTest, SwapHoldAlternatesTwoCallsInTapiOrder) {
  HTAPILINE ht_line = nullptr;
  HDRVLINE hd_line = Open("sim/102", &ht_line);
  ASSERT_NE(hd_line, nullptr);
  const HTAPICALL ht_a = reinterpret_cast<HTAPICALL>(uintptr_t{0x5A01});
  const HTAPICALL ht_b = reinterpret_cast<HTAPICALL>(uintptr_t{0x5A02});
  HDRVCALL hd_a = MakeCall(hd_line, ht_a, u"5550100", LINECALLSTATE_CONNECTED);
  ASSERT_NE(hd_a, nullptr);
  EXPECT_NE(FeaturesOf(hd_a) & LINECALLFEATURE_SWAPHOLD, 0u);
  ASSERT_EQ(Run([&](DRV_REQUESTID id) { return T().TSPI_lineHold(id, hd_a); }), 0);
  ASSERT_TRUE(harness_.WaitCallState(ht_a, LINECALLSTATE_ONHOLD));
  EXPECT_NE(FeaturesOf(hd_a) & LINECALLFEATURE_SWAPHOLD, 0u);
  HDRVCALL hd_b = MakeCall(hd_line, ht_b, u"199", LINECALLSTATE_CONNECTED);
  ASSERT_NE(hd_b, nullptr);

  // Alternating between the two, as call waiting does: each swap puts the
  // active call on hold before the other becomes active.
  HDRVCALL active = hd_b, held = hd_a;
  HTAPICALL ht_active = ht_b, ht_held = ht_a;
  for (int i = 0; i < 20; ++i) {
    SCOPED_TRACE(absl::StrCat("swap ", i));
    harness_.ClearEvents();
    ASSERT_EQ(Run([&](DRV_REQUESTID id) { return T().TSPI_lineSwapHold(id, active, held); }), 0);
    ASSERT_TRUE(harness_.WaitCallState(ht_held, LINECALLSTATE_CONNECTED));
    ASSERT_TRUE(harness_.WaitCallState(ht_active, LINECALLSTATE_ONHOLD));
    const long put_on_hold = PositionOf(ht_active, LINECALLSTATE_ONHOLD);
    const long made_active = PositionOf(ht_held, LINECALLSTATE_CONNECTED);
    EXPECT_LT(put_on_hold, made_active) << "the held call became active before the other was held";
    EXPECT_EQ(StateOf(active), static_cast<DWORD>(LINECALLSTATE_ONHOLD));
    EXPECT_EQ(StateOf(held), static_cast<DWORD>(LINECALLSTATE_CONNECTED));
    std::swap(active, held);
    std::swap(ht_active, ht_held);
  }

  // What TAPI refuses: the same call twice, a bad handle (synchronously);
  // an "active" call that is on hold (its completion).
  LONG r = Run([&](DRV_REQUESTID id) { return T().TSPI_lineSwapHold(id, active, active); });
  EXPECT_EQ(r, ::LINEERR_INVALCALLHANDLE);
  const HDRVCALL bogus = reinterpret_cast<HDRVCALL>(uintptr_t{0x7777});
  EXPECT_EQ(Run([&](DRV_REQUESTID id) { return T().TSPI_lineSwapHold(id, bogus, held); }),
            ::LINEERR_INVALCALLHANDLE);
  EXPECT_EQ(Run([&](DRV_REQUESTID id) { return T().TSPI_lineSwapHold(id, active, bogus); }),
            ::LINEERR_INVALCALLHANDLE);
  EXPECT_EQ(Run([&](DRV_REQUESTID id) { return T().TSPI_lineSwapHold(id, held, active); }),
            ::LINEERR_INVALCALLSTATE);
  EXPECT_EQ(StateOf(active), static_cast<DWORD>(LINECALLSTATE_CONNECTED));
  EXPECT_EQ(StateOf(held), static_cast<DWORD>(LINECALLSTATE_ONHOLD));

  for (HDRVCALL c : {hd_a, hd_b}) {
    EXPECT_EQ(Run([&](DRV_REQUESTID id) { return T().TSPI_lineDrop(id, c, nullptr, 0); }), 0);
  }
  EXPECT_TRUE(harness_.WaitCallState(ht_a, LINECALLSTATE_IDLE));
  EXPECT_TRUE(harness_.WaitCallState(ht_b, LINECALLSTATE_IDLE));
  EXPECT_EQ(T().TSPI_lineCloseCall(hd_a), 0);
  EXPECT_EQ(T().TSPI_lineCloseCall(hd_b), 0);
  EXPECT_EQ(T().TSPI_lineClose(hd_line), 0);
}

TEST_F(TspLineFunctionsTest, SwapHoldWithCallsOfTwoLinesIsRefused) {
  HTAPILINE ht_1 = nullptr, ht_2 = nullptr;
  HDRVLINE hd_1 = Open("sim/105", &ht_1);
  HDRVLINE hd_2 = Open("sim/106", &ht_2);
  ASSERT_NE(hd_1, nullptr);
  ASSERT_NE(hd_2, nullptr);
  const HTAPICALL ht_a = reinterpret_cast<HTAPICALL>(uintptr_t{0x5B01});
  const HTAPICALL ht_b = reinterpret_cast<HTAPICALL>(uintptr_t{0x5B02});
  HDRVCALL hd_a = MakeCall(hd_1, ht_a, u"5550100", LINECALLSTATE_CONNECTED);
  HDRVCALL hd_b = MakeCall(hd_2, ht_b, u"5550100", LINECALLSTATE_CONNECTED);
  ASSERT_NE(hd_a, nullptr);
  ASSERT_NE(hd_b, nullptr);
  ASSERT_EQ(Run([&](DRV_REQUESTID id) { return T().TSPI_lineHold(id, hd_b); }), 0);
  ASSERT_TRUE(harness_.WaitCallState(ht_b, LINECALLSTATE_ONHOLD));
  EXPECT_EQ(Run([&](DRV_REQUESTID id) { return T().TSPI_lineSwapHold(id, hd_a, hd_b); }),
            ::LINEERR_INVALCALLHANDLE);
  EXPECT_EQ(StateOf(hd_a), static_cast<DWORD>(LINECALLSTATE_CONNECTED));
  for (HDRVCALL c : {hd_a, hd_b}) {
    EXPECT_EQ(Run([&](DRV_REQUESTID id) { return T().TSPI_lineDrop(id, c, nullptr, 0); }), 0);
  }
  EXPECT_TRUE(harness_.WaitCallState(ht_a, LINECALLSTATE_IDLE));
  EXPECT_TRUE(harness_.WaitCallState(ht_b, LINECALLSTATE_IDLE));
  EXPECT_EQ(T().TSPI_lineCloseCall(hd_a), 0);
  EXPECT_EQ(T().TSPI_lineCloseCall(hd_b), 0);
  EXPECT_EQ(T().TSPI_lineClose(hd_1), 0);
  EXPECT_EQ(T().TSPI_lineClose(hd_2), 0);
}

TEST_F(TspLineFunctionsTest, CallIdsMatchCallInfoAndHubTrackingIsNone) {
  HTAPILINE ht_line = nullptr;
  HDRVLINE hd_line = Open("sim/103", &ht_line);
  ASSERT_NE(hd_line, nullptr);
  const HTAPICALL ht_a = reinterpret_cast<HTAPICALL>(uintptr_t{0x1D01});
  HDRVCALL hd_a = MakeCall(hd_line, ht_a, u"5550100", LINECALLSTATE_CONNECTED);
  ASSERT_NE(hd_a, nullptr);
  // A consultation call is related to the call it serves.
  const HTAPICALL ht_c = reinterpret_cast<HTAPICALL>(uintptr_t{0x1D02});
  HDRVCALL hd_c = nullptr;
  const DRV_REQUESTID setup = harness_.NextRequestId();
  harness_.OutboundCall(ht_c, setup);
  const LONG r = T().TSPI_lineSetupTransfer(setup, hd_a, ht_c, &hd_c, nullptr);
  harness_.Issued(setup, r);
  ASSERT_EQ(r, static_cast<LONG>(setup));
  ASSERT_EQ(harness_.WaitCompletion(setup), 0);
  ASSERT_TRUE(harness_.WaitCallState(ht_c, LINECALLSTATE_DIALTONE));

  for (HDRVCALL c : {hd_a, hd_c}) {
    auto info = Buffer(2048);
    ASSERT_EQ(T().TSPI_lineGetCallInfo(c, reinterpret_cast<LPLINECALLINFO>(info.data())), 0);
    auto ci = Fixed<LINECALLINFO>(info);
    DWORD address = 99, call_id = 0, related = 99;
    ASSERT_EQ(T().TSPI_lineGetCallIDs(c, &address, &call_id, &related), 0);
    EXPECT_EQ(address, ci.dwAddressID);
    EXPECT_EQ(call_id, ci.dwCallID);
    EXPECT_NE(call_id, 0u);
    EXPECT_EQ(related, ci.dwRelatedCallID);
    DWORD by_address_id = 99;
    EXPECT_EQ(T().TSPI_lineGetCallAddressID(c, &by_address_id), 0);
    EXPECT_EQ(by_address_id, address);
  }
  DWORD address = 0, a_id = 0, a_related = 0, c_id = 0, c_related = 0;
  ASSERT_EQ(T().TSPI_lineGetCallIDs(hd_a, &address, &a_id, &a_related), 0);
  ASSERT_EQ(T().TSPI_lineGetCallIDs(hd_c, &address, &c_id, &c_related), 0);
  EXPECT_NE(a_id, c_id);
  EXPECT_EQ(c_related, a_id);
  EXPECT_EQ(T().TSPI_lineGetCallIDs(hd_a, nullptr, &a_id, &a_related), ::LINEERR_INVALPOINTER);
  EXPECT_EQ(T().TSPI_lineGetCallIDs(reinterpret_cast<HDRVCALL>(uintptr_t{0x7777}), &address,
                                    &a_id, &a_related),
            ::LINEERR_INVALCALLHANDLE);

  // Call hubs: dwCallID is per call, so the provider offers no tracking.
  auto tracking = Buffer(sizeof(LINECALLHUBTRACKINGINFO), 64);
  auto* t = reinterpret_cast<LPLINECALLHUBTRACKINGINFO>(tracking.data());
  ASSERT_EQ(T().TSPI_lineGetCallHubTracking(hd_line, t), 0);
  auto got = Fixed<LINECALLHUBTRACKINGINFO>(tracking);
  EXPECT_EQ(got.dwAvailableTracking, static_cast<DWORD>(LINECALLHUBTRACKING_NONE));
  EXPECT_EQ(got.dwCurrentTracking, static_cast<DWORD>(LINECALLHUBTRACKING_NONE));
  EXPECT_EQ(got.dwNeededSize, sizeof(LINECALLHUBTRACKINGINFO));
  EXPECT_EQ(got.dwUsedSize, sizeof(LINECALLHUBTRACKINGINFO));
  EXPECT_TRUE(PoisonIntact(tracking, sizeof(LINECALLHUBTRACKINGINFO)));
  auto small = Buffer(sizeof(LINECALLHUBTRACKINGINFO) - 4, 64);
  EXPECT_EQ(T().TSPI_lineGetCallHubTracking(
                hd_line, reinterpret_cast<LPLINECALLHUBTRACKINGINFO>(small.data())),
            ::LINEERR_STRUCTURETOOSMALL);
  EXPECT_EQ(T().TSPI_lineGetCallHubTracking(hd_line, nullptr), ::LINEERR_INVALPOINTER);
  EXPECT_EQ(T().TSPI_lineGetCallHubTracking(reinterpret_cast<HDRVLINE>(uintptr_t{0x7777}), t),
            ::LINEERR_INVALLINEHANDLE);
  t->dwCurrentTracking = LINECALLHUBTRACKING_NONE;
  EXPECT_EQ(T().TSPI_lineSetCallHubTracking(hd_line, t), 0);
  t->dwCurrentTracking = LINECALLHUBTRACKING_PROVIDERLEVEL;
  EXPECT_EQ(T().TSPI_lineSetCallHubTracking(hd_line, t), ::LINEERR_INVALPARAM);
  t->dwCurrentTracking = LINECALLHUBTRACKING_ALLCALLS;
  EXPECT_EQ(T().TSPI_lineSetCallHubTracking(hd_line, t), ::LINEERR_INVALPARAM);

  for (HDRVCALL c : {hd_c, hd_a}) {
    (void)Run([&](DRV_REQUESTID id) { return T().TSPI_lineDrop(id, c, nullptr, 0); });
  }
  EXPECT_TRUE(harness_.WaitCallState(ht_a, LINECALLSTATE_IDLE));
  EXPECT_TRUE(harness_.WaitCallState(ht_c, LINECALLSTATE_IDLE));
  EXPECT_EQ(T().TSPI_lineCloseCall(hd_c), 0);
  EXPECT_EQ(T().TSPI_lineCloseCall(hd_a), 0);
  EXPECT_EQ(T().TSPI_lineClose(hd_line), 0);
}

// lineDropOnClose / lineDropNoOwner drop a call this workstation alone owns;
// a call it only monitors is left to its owners (here: none, so the server
// keeps the undecided offer).
TEST_F(TspLineFunctionsTest, DropOnCloseAndNoOwnerDropOnlyCallsWeAloneOwn) {
  HTAPILINE ht_owner = nullptr, ht_monitor = nullptr;
  HDRVLINE hd_owner = Open("sim/104", &ht_owner);
  HDRVLINE hd_monitor = Open("sim/107", &ht_monitor);
  ASSERT_NE(hd_owner, nullptr);
  ASSERT_NE(hd_monitor, nullptr);
  ASSERT_TRUE(Detect(hd_owner, LINEMEDIAMODE_INTERACTIVEVOICE));

  const struct {
    const char* name;
    LONG (*drop)(HDRVCALL);
    const char* watched_from;
    const char* owned_from;
  } kCases[] = {{"lineDropOnClose", T().TSPI_lineDropOnClose, "sim/100", "sim/101"},
                {"lineDropNoOwner", T().TSPI_lineDropNoOwner, "sim/102", "sim/103"}};
  for (const auto& c : kCases) {
    SCOPED_TRACE(c.name);
    harness_.ClearEvents();
    HTAPICALL ht_watched = nullptr, ht_owned = nullptr;
    HDRVCALL hd_watched = nullptr, hd_owned = nullptr;
    ASSERT_TRUE(Incoming(c.watched_from, "107", ht_monitor, &ht_watched, &hd_watched));
    ASSERT_TRUE(Incoming(c.owned_from, "104", ht_owner, &ht_owned, &hd_owned));
    EXPECT_EQ(c.drop(hd_watched), 0);
    EXPECT_EQ(c.drop(hd_owned), 0);
    EXPECT_TRUE(harness_.WaitCallState(ht_owned, LINECALLSTATE_IDLE));
    // A request after both: the watched call is still offered, and not ours.
    EXPECT_EQ(Run([&](DRV_REQUESTID id) {
                return T().TSPI_lineSetCallData(id, hd_watched, nullptr, 0);
              }),
              ::LINEERR_NOTOWNER);
    EXPECT_EQ(StateOf(hd_watched), static_cast<DWORD>(LINECALLSTATE_OFFERING));
    EXPECT_EQ(PositionOf(ht_watched, LINECALLSTATE_IDLE), -1);
    EXPECT_EQ(c.drop(reinterpret_cast<HDRVCALL>(uintptr_t{0x7777})), ::LINEERR_INVALCALLHANDLE);
    EXPECT_EQ(c.drop(hd_owned), 0);  // already IDLE: nothing to do
    EXPECT_EQ(T().TSPI_lineCloseCall(hd_owned), 0);
    EXPECT_EQ(T().TSPI_lineCloseCall(hd_watched), 0);
  }
  EXPECT_EQ(T().TSPI_lineClose(hd_monitor), 0);
  EXPECT_EQ(T().TSPI_lineClose(hd_owner), 0);
}

}  // namespace
}  // namespace linebridge::tsp_test
