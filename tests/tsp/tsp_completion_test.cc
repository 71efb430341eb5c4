// lineCompleteCall / lineUncompleteCall driven the way TAPISRV drives them
// against a real linebridged (sim provider): the address caps say CALLBACK,
// a call to an extension that does not answer is completed, and once that
// extension has used its phone the switch offers the caller a call with
// LINECALLREASON_CALLCOMPLETION and the completion id; answering it rings
// the extension.
#include <string>
#include <vector>

#include "tsp_line_fixture.h"

namespace linebridge::tsp_test {
namespace {

class TspCompletionTest : public TspLineFunctionsTest {
 protected:
  LINECALLINFO InfoOf(HDRVCALL hd_call) {
    auto info = Buffer(4096);
    EXPECT_EQ(T().TSPI_lineGetCallInfo(hd_call, reinterpret_cast<LPLINECALLINFO>(info.data())), 0);
    return Fixed<LINECALLINFO>(info);
  }
  // Drops and closes a call as TAPISRV does when the application is done.
  void Finish(HDRVCALL hd_call, HTAPICALL ht_call) {
    (void)Run([&](DRV_REQUESTID id) { return T().TSPI_lineDrop(id, hd_call, nullptr, 0); });
    EXPECT_TRUE(harness_.WaitCallState(ht_call, LINECALLSTATE_IDLE));
    EXPECT_EQ(T().TSPI_lineCloseCall(hd_call), 0);
  }
};

TEST_F(TspCompletionTest, CapsOfferCallback) {
  const DWORD device = DeviceOf(harness_, num_lines_, "sim/100");
  ASSERT_NE(device, kNoDevice);
  auto caps = Buffer(8192);
  ASSERT_EQ(T().TSPI_lineGetAddressCaps(device, 0, 0x00030000, 0,
                                        reinterpret_cast<LPLINEADDRESSCAPS>(caps.data())),
            0);
  const LINEADDRESSCAPS ac = Fixed<LINEADDRESSCAPS>(caps);
  EXPECT_EQ(ac.dwCallCompletionModes, static_cast<DWORD>(LINECALLCOMPLMODE_CALLBACK));
  EXPECT_EQ(ac.dwMaxCallCompletions, 4u);
  EXPECT_EQ(ac.dwNumCompletionMessages, 0u);
  EXPECT_NE(ac.dwAddrCapFlags & LINEADDRCAPFLAGS_COMPLETIONID, 0u);
  EXPECT_NE(ac.dwCallFeatures & LINECALLFEATURE_COMPLETECALL, 0u);
  EXPECT_NE(ac.dwAddressFeatures & LINEADDRFEATURE_UNCOMPLETECALL, 0u);
}

TEST_F(TspCompletionTest, CallbackAfterNoAnswerRingsThePartyWhenAnswered) {
  HTAPILINE ht_a = nullptr, ht_b = nullptr;
  HDRVLINE hd_a = Open("sim/100", &ht_a);
  HDRVLINE hd_b = Open("sim/101", &ht_b);
  ASSERT_NE(hd_a, nullptr);
  ASSERT_NE(hd_b, nullptr);
  ASSERT_TRUE(Detect(hd_a, LINEMEDIAMODE_INTERACTIVEVOICE));
  ASSERT_TRUE(Detect(hd_b, LINEMEDIAMODE_INTERACTIVEVOICE));
  // 100 calls 101, which rings and does not answer.
  const HTAPICALL ht_out = reinterpret_cast<HTAPICALL>(uintptr_t{0x0501});
  HDRVCALL hd_out = MakeCall(hd_a, ht_out, u"101", LINECALLSTATE_RINGBACK);
  ASSERT_NE(hd_out, nullptr);
  HTAPICALL ht_ring = nullptr;
  HDRVCALL hd_ring = nullptr;
  ASSERT_TRUE(harness_.WaitNewCall(ht_b, &ht_ring, &hd_ring));
  EXPECT_NE(FeaturesOf(hd_out) & LINECALLFEATURE_COMPLETECALL, 0u);
  // Refused at once: not one mode bit, a message without messages, no
  // place for the id; then by the server: a mode the address lacks.
  DWORD completion = 0;
  EXPECT_EQ(Run([&](DRV_REQUESTID id) {
              return T().TSPI_lineCompleteCall(
                  id, hd_out, &completion, LINECALLCOMPLMODE_CALLBACK | LINECALLCOMPLMODE_CAMPON,
                  0);
            }),
            ::LINEERR_INVALCALLCOMPLMODE);
  EXPECT_EQ(Run([&](DRV_REQUESTID id) {
              return T().TSPI_lineCompleteCall(id, hd_out, &completion,
                                               LINECALLCOMPLMODE_MESSAGE, 0);
            }),
            ::LINEERR_INVALMESSAGEID);
  EXPECT_EQ(Run([&](DRV_REQUESTID id) {
              return T().TSPI_lineCompleteCall(id, hd_out, nullptr, LINECALLCOMPLMODE_CALLBACK,
                                               0);
            }),
            ::LINEERR_INVALPOINTER);
  EXPECT_EQ(Run([&](DRV_REQUESTID id) {
              return T().TSPI_lineCompleteCall(id, hd_out, &completion,
                                               LINECALLCOMPLMODE_CAMPON, 0);
            }),
            ::LINEERR_INVALCALLCOMPLMODE);
  // Completed: the id is there when the request completes.
  ASSERT_EQ(Run([&](DRV_REQUESTID id) {
              return T().TSPI_lineCompleteCall(id, hd_out, &completion,
                                               LINECALLCOMPLMODE_CALLBACK, 0);
            }),
            0);
  EXPECT_NE(completion, 0u);
  Finish(hd_out, ht_out);
  EXPECT_TRUE(harness_.WaitCallState(ht_ring, LINECALLSTATE_DISCONNECTED));
  Finish(hd_ring, ht_ring);
  // Unknown ids are refused; the real one stays pending.
  EXPECT_EQ(Run([&](DRV_REQUESTID id) {
              return T().TSPI_lineUncompleteCall(id, hd_a, completion + 1000);
            }),
            ::LINEERR_INVALCOMPLETIONID);
  EXPECT_EQ(Run([&](DRV_REQUESTID id) { return T().TSPI_lineUncompleteCall(id, hd_a, 0); }),
            ::LINEERR_INVALCOMPLETIONID);

  // 101 uses its phone (calls 102) and hangs up: the switch calls 100 back.
  const HTAPICALL ht_use = reinterpret_cast<HTAPICALL>(uintptr_t{0x0502});
  HDRVCALL hd_use = MakeCall(hd_b, ht_use, u"102", LINECALLSTATE_RINGBACK);
  ASSERT_NE(hd_use, nullptr);
  harness_.ClearEvents();
  Finish(hd_use, ht_use);
  HTAPICALL ht_cb = nullptr;
  HDRVCALL hd_cb = nullptr;
  ASSERT_TRUE(harness_.WaitNewCall(ht_a, &ht_cb, &hd_cb));
  ASSERT_TRUE(harness_.WaitCallState(ht_cb, LINECALLSTATE_OFFERING));
  LINECALLINFO ci = InfoOf(hd_cb);
  EXPECT_EQ(ci.dwReason, static_cast<DWORD>(LINECALLREASON_CALLCOMPLETION));
  EXPECT_EQ(ci.dwCompletionID, completion);
  // Answering it rings 101, which answers: both connected.
  harness_.ClearEvents();
  ASSERT_EQ(Run([&](DRV_REQUESTID id) { return T().TSPI_lineAnswer(id, hd_cb, nullptr, 0); }), 0);
  ASSERT_TRUE(harness_.WaitCallState(ht_cb, LINECALLSTATE_RINGBACK));
  HTAPICALL ht_in = nullptr;
  HDRVCALL hd_in = nullptr;
  ASSERT_TRUE(harness_.WaitNewCall(ht_b, &ht_in, &hd_in));
  ASSERT_TRUE(harness_.WaitCallState(ht_in, LINECALLSTATE_OFFERING));
  ASSERT_EQ(Run([&](DRV_REQUESTID id) { return T().TSPI_lineAnswer(id, hd_in, nullptr, 0); }), 0);
  EXPECT_TRUE(harness_.WaitCallState(ht_cb, LINECALLSTATE_CONNECTED));
  EXPECT_TRUE(harness_.WaitCallState(ht_in, LINECALLSTATE_CONNECTED));
  // The completion was used: cancelling it now is refused.
  EXPECT_EQ(Run([&](DRV_REQUESTID id) {
              return T().TSPI_lineUncompleteCall(id, hd_a, completion);
            }),
            ::LINEERR_INVALCOMPLETIONID);
  Finish(hd_cb, ht_cb);
  EXPECT_TRUE(harness_.WaitCallState(ht_in, LINECALLSTATE_DISCONNECTED));
  Finish(hd_in, ht_in);
}

TEST_F(TspCompletionTest, UncompletedRequestIsGone) {
  HTAPILINE ht_a = nullptr;
  HDRVLINE hd_a = Open("sim/100", &ht_a);
  ASSERT_NE(hd_a, nullptr);
  const HTAPICALL ht_out = reinterpret_cast<HTAPICALL>(uintptr_t{0x0601});
  HDRVCALL hd_out = MakeCall(hd_a, ht_out, u"103", LINECALLSTATE_RINGBACK);
  ASSERT_NE(hd_out, nullptr);
  DWORD completion = 0;
  ASSERT_EQ(Run([&](DRV_REQUESTID id) {
              return T().TSPI_lineCompleteCall(id, hd_out, &completion,
                                               LINECALLCOMPLMODE_CALLBACK, 0);
            }),
            0);
  ASSERT_EQ(Run([&](DRV_REQUESTID id) {
              return T().TSPI_lineUncompleteCall(id, hd_a, completion);
            }),
            0);
  EXPECT_EQ(Run([&](DRV_REQUESTID id) {
              return T().TSPI_lineUncompleteCall(id, hd_a, completion);
            }),
            ::LINEERR_INVALCOMPLETIONID);
  const HDRVLINE bogus = reinterpret_cast<HDRVLINE>(uintptr_t{0x7777});
  EXPECT_EQ(Run([&](DRV_REQUESTID id) { return T().TSPI_lineUncompleteCall(id, bogus, 1); }),
            ::LINEERR_INVALLINEHANDLE);
  Finish(hd_out, ht_out);
}

}  // namespace
}  // namespace linebridge::tsp_test
