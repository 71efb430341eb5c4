// Ownership has no window (DESIGN.md 12): an application opens a line,
// calls lineSetDefaultMediaDetection and a call arrives at once (the first
// thing an auto-answer IVR, a screen-pop CRM or a dialer does); lineAnswer
// must succeed whatever order the server saw the open and the call in.
// 200 times in a row, under a CPU hog (child processes), zero NOTOWNER.
#include <gtest/gtest.h>
#include <stdlib.h>

#include <fstream>
#include <map>
#include <string>

#include "absl/strings/str_cat.h"
#include "tsp_line_fixture.h"

namespace linebridge::tsp_test {
namespace {

class TspOwnershipTest : public TspHarnessFixture {
 protected:
  TspOwnershipTest() : TspHarnessFixture("tsp-ownership") {}
};

TEST_F(TspOwnershipTest, OpenDetectImmediateCallAnswer200TimesUnderLoadNeverNotOwner) {
  const DWORD caller_device = DeviceOf(harness_, num_lines_, "sim/100");
  const DWORD device = DeviceOf(harness_, num_lines_, "sim/101");
  ASSERT_NE(caller_device, kNoDevice);
  ASSERT_NE(device, kNoDevice);
  // The caller's line, open for the whole test (its calls are made by this
  // same workstation: the call reaches the server as fast as anything can).
  const HTAPILINE ht_caller = harness_.NewHtLine();
  HDRVLINE hd_caller = nullptr;
  ASSERT_EQ(T().TSPI_lineOpen(caller_device, ht_caller, &hd_caller, 0x00030000,
                              &TapiSrvHarness::LineEvent),
            0);
  ASSERT_TRUE(WaitInService(harness_, hd_caller));
  CpuHogProcesses hog(2);
  ASSERT_EQ(hog.size(), 2u);
  constexpr int kRounds = 200;
  std::map<LONG, int> answer_results;
  for (int i = 0; i < kRounds; ++i) {
    SCOPED_TRACE(absl::StrCat("round ", i));
    harness_.ClearEvents();
    const HTAPILINE ht_line = harness_.NewHtLine();
    HDRVLINE hd_line = nullptr;
    ASSERT_EQ(T().TSPI_lineOpen(device, ht_line, &hd_line, 0x00030000, &TapiSrvHarness::LineEvent),
              0);
    ASSERT_EQ(T().TSPI_lineSetDefaultMediaDetection(hd_line, LINEMEDIAMODE_INTERACTIVEVOICE), 0);
    // The call, right away.
    const HTAPICALL ht_out = reinterpret_cast<HTAPICALL>(uintptr_t{0x7A0000} + i);
    HDRVCALL hd_out = nullptr;
    const DRV_REQUESTID make = harness_.NextRequestId();
    harness_.OutboundCall(ht_out, make);
    const LONG r = T().TSPI_lineMakeCall(make, hd_caller, ht_out, &hd_out, u"101", 0, nullptr);
    harness_.Issued(make, r);
    ASSERT_EQ(r, static_cast<LONG>(make));

    HTAPICALL ht_in = nullptr;
    HDRVCALL hd_in = nullptr;
    ASSERT_TRUE(harness_.WaitNewCall(ht_line, &ht_in, &hd_in));
    ASSERT_TRUE(harness_.WaitCallState(ht_in, LINECALLSTATE_OFFERING));
    const LONG answered =
        Run([&](DRV_REQUESTID id) { return T().TSPI_lineAnswer(id, hd_in, nullptr, 0); });
    ++answer_results[answered];
    EXPECT_EQ(answered, 0) << "lineAnswer: 0x" << std::hex << answered;
    ASSERT_EQ(harness_.WaitCompletion(make), 0);
    if (answered == 0) {
      EXPECT_TRUE(harness_.WaitCallState(ht_in, LINECALLSTATE_CONNECTED));
      EXPECT_TRUE(harness_.WaitCallState(ht_out, LINECALLSTATE_CONNECTED));
    }
    EXPECT_EQ(Run([&](DRV_REQUESTID id) { return T().TSPI_lineDrop(id, hd_out, nullptr, 0); }), 0);
    EXPECT_TRUE(harness_.WaitCallState(ht_out, LINECALLSTATE_IDLE));
    EXPECT_TRUE(harness_.WaitCallState(ht_in, LINECALLSTATE_DISCONNECTED) ||
                harness_.WaitCallState(ht_in, LINECALLSTATE_IDLE));
    (void)Run([&](DRV_REQUESTID id) { return T().TSPI_lineDrop(id, hd_in, nullptr, 0); });
    EXPECT_TRUE(harness_.WaitCallState(ht_in, LINECALLSTATE_IDLE));
    EXPECT_EQ(T().TSPI_lineCloseCall(hd_in), 0);
    EXPECT_EQ(T().TSPI_lineCloseCall(hd_out), 0);
    ASSERT_EQ(T().TSPI_lineClose(hd_line), 0);
    // Bounded on a failing provider: a call it cannot answer costs seconds.
    if (HasFatalFailure() || answer_results[0] + 10 <= i + 1) break;
  }
  std::string summary;
  for (const auto& [result, count] : answer_results) {
    absl::StrAppend(&summary, " 0x", absl::Hex(result), ":", count);
  }
  EXPECT_EQ(answer_results[::LINEERR_NOTOWNER], 0) << "lineAnswer results:" << summary;
  EXPECT_EQ(answer_results[0], kRounds) << "lineAnswer results:" << summary;
  EXPECT_EQ(T().TSPI_lineClose(hd_caller), 0);
}

}  // namespace
}  // namespace linebridge::tsp_test
