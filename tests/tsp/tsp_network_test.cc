// linebridge.tsp through network trouble, driven the way TAPISRV drives it:
// the connection to linebridged cut and restored (the server keeps the
// session in its grace period), the server stopped briefly (SIGSTOP), and the
// server killed and restarted on the same port and data directory.
// The TSP reaches the server through a TcpProxy (the "network").
#include <gtest/gtest.h>
#include <stdlib.h>

#include <cstring>
#include <fstream>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "tapi_buffers.h"
#include "tapisrv_harness.h"
#include "linebridge/deadline.h"

namespace linebridge::tsp_test {
namespace {

class TspNetworkTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    char tmpl[] = "/tmp/lb-tspnet.XXXXXX";
    dir_ = mkdtemp(tmpl);
    server_ = new ServerProcess();
    proxy_ = new TcpProxy();
    std::string error;
    if (!server_->Start(dir_, &error)) {
      setup_error_ = error;
      return;
    }
    const int port = std::stoi(server_->address().substr(server_->address().rfind(':') + 1));
    if (!proxy_->Start(port, &error)) {
      setup_error_ = error;
      return;
    }
    std::ofstream conf(dir_ + "/tsp.conf");
    conf << "server = " << proxy_->address() << "\n"
         << "device_map = " << dir_ << "/devices.map\n"
         << "client_name = tsp-network\n"
         << "deadline_ms = 1000\n";
    conf.close();
    setenv("LINEBRIDGE_TSP_CONFIG", (dir_ + "/tsp.conf").c_str(), 1);
    harness_ = new TapiSrvHarness();
    const char* lib = std::getenv("LINEBRIDGE_TSP_LIBRARY");
    if (lib == nullptr) {
      setup_error_ = "LINEBRIDGE_TSP_LIBRARY is not set";
      return;
    }
    if (!harness_->Load(lib, &error)) {
      setup_error_ = error;
      return;
    }
    if (harness_->Start(&num_lines_) != 0) setup_error_ = "provider start failed";
  }
  static void TearDownTestSuite() {
    if (harness_ != nullptr) harness_->Stop();
    delete proxy_;
    delete server_;
    (void)std::system(("rm -rf '" + dir_ + "'").c_str());
  }
  void SetUp() override {
    ASSERT_EQ(setup_error_, "");
    harness_->ClearEvents();
  }
  void TearDown() override { EXPECT_EQ(harness_->TakeViolations(), std::vector<std::string>{}); }

  TspiTable& T() { return harness_->tspi(); }

  DWORD DeviceOf(const std::string& line_id) {
    const absl::Time deadline = MonotonicNow() + absl::Seconds(5);
    while (MonotonicNow() < deadline) {
      std::vector<DWORD> ids;  // enumerated (static) devices, then created ones
      for (DWORD i = 0; i < num_lines_; ++i) ids.push_back(TapiSrvHarness::kLineBase + i);
      for (DWORD id : harness_->created_devices()) ids.push_back(id);
      for (DWORD id : ids) {
        auto b = Buffer(4096);
        if (T().TSPI_lineGetDevCaps(id, 0x00030000, 0, reinterpret_cast<LPLINEDEVCAPS>(b.data())) != 0) {
          continue;
        }
        auto caps = Fixed<LINEDEVCAPS>(b);
        if (String16At(b, caps.dwSwitchInfoSize, caps.dwSwitchInfoOffset) == line_id &&
            (caps.dwLineFeatures & LINEFEATURE_MAKECALL) != 0) {
          return id;
        }
      }
      absl::SleepFor(absl::Milliseconds(20));
    }
    return 0xFFFFFFFF;
  }
  HDRVLINE Open(const std::string& line_id, HTAPILINE* ht_line) {
    const DWORD device = DeviceOf(line_id);
    EXPECT_NE(device, 0xFFFFFFFF) << line_id;
    *ht_line = harness_->NewHtLine();
    HDRVLINE hd = nullptr;
    EXPECT_EQ(T().TSPI_lineOpen(device, *ht_line, &hd, 0x00030000, &TapiSrvHarness::LineEvent), 0);
    return hd;
  }
  bool Detect(HDRVLINE hd_line, DWORD media) {
    if (T().TSPI_lineSetDefaultMediaDetection(hd_line, media) != 0) return false;
    const absl::Time deadline = MonotonicNow() + absl::Seconds(5);
    while (MonotonicNow() < deadline) {
      auto status = Buffer(sizeof(LINEDEVSTATUS), 512);
      if (T().TSPI_lineGetLineDevStatus(hd_line, reinterpret_cast<LPLINEDEVSTATUS>(status.data())) == 0 &&
          Fixed<LINEDEVSTATUS>(status).dwOpenMediaModes == media) {
        return true;
      }
      absl::SleepFor(absl::Milliseconds(5));
    }
    return false;
  }
  template <typename F>
  DRV_REQUESTID Async(F&& call, LONG* returned = nullptr) {
    const DRV_REQUESTID id = harness_->NextRequestId();
    const LONG r = call(id);
    harness_->Issued(id, r);
    if (returned != nullptr) *returned = r;
    return id;
  }
  template <typename F>
  LONG Run(F&& call, absl::Duration timeout = absl::Seconds(5)) {
    LONG r = 0;
    const DRV_REQUESTID id = Async(std::forward<F>(call), &r);
    if (r != static_cast<LONG>(id)) return r;
    return harness_->WaitCompletion(id, timeout);
  }
  HDRVCALL MakeCall(HDRVLINE hd_line, HTAPICALL ht_call, const char16_t* dest) {
    HDRVCALL hd_call = nullptr;
    const DRV_REQUESTID make = harness_->NextRequestId();
    harness_->OutboundCall(ht_call, make);
    const LONG r = T().TSPI_lineMakeCall(make, hd_line, ht_call, &hd_call, dest, 0, nullptr);
    harness_->Issued(make, r);
    EXPECT_EQ(r, static_cast<LONG>(make));
    EXPECT_EQ(harness_->WaitCompletion(make), 0);
    return hd_call;
  }
  DWORD StateOf(HDRVCALL hd_call) {
    auto status = Buffer(sizeof(LINECALLSTATUS), 512);
    const LONG r = T().TSPI_lineGetCallStatus(hd_call, reinterpret_cast<LPLINECALLSTATUS>(status.data()));
    return r != 0 ? 0 : Fixed<LINECALLSTATUS>(status).dwCallState;
  }
  bool WaitLineState(HTAPILINE ht_line, DWORD state, absl::Duration timeout = absl::Seconds(10)) {
    return harness_->WaitEvent(
        [&](const RecordedEvent& e) {
          return e.msg == LINE_LINEDEVSTATE && e.ht_line == ht_line && e.p1 == state;
        },
        timeout);
  }
  // LINE_CALLSTATE values reported for `ht_call` (in order).
  std::vector<DWORD> StatesOf(HTAPICALL ht_call) {
    std::vector<DWORD> out;
    for (const RecordedEvent& e : harness_->events()) {
      if (e.msg == LINE_CALLSTATE && e.ht_call == ht_call) out.push_back(static_cast<DWORD>(e.p1));
    }
    return out;
  }
  static inline DWORD num_lines_ = 0;
  static inline std::string dir_;
  static inline std::string setup_error_;
  static inline ServerProcess* server_ = nullptr;
  static inline TcpProxy* proxy_ = nullptr;
  static inline TapiSrvHarness* harness_ = nullptr;
};

// The connection is cut and restored while the server runs: open lines go
// OUTOFSERVICE then INSERVICE; a request made meanwhile completes once with
// an error; the stream resumes from the server's journal, so a call whose far
// end hung up during the cut goes DISCONNECTED, and a call that stayed up is
// kept with its handle, still controllable.
TEST_F(TspNetworkTest, ConnectionCutAndRestoredReconcilesCalls) {
  HTAPILINE ht_100 = nullptr, ht_101 = nullptr;
  HDRVLINE hd_100 = Open("sim/100", &ht_100);
  HDRVLINE hd_101 = Open("sim/101", &ht_101);
  ASSERT_NE(hd_100, nullptr);
  ASSERT_NE(hd_101, nullptr);
  ASSERT_TRUE(Detect(hd_101, LINEMEDIAMODE_INTERACTIVEVOICE));

  const HTAPICALL ht_keep = reinterpret_cast<HTAPICALL>(uintptr_t{0xA001});
  const HDRVCALL hd_keep = MakeCall(hd_100, ht_keep, u"5550100");
  ASSERT_TRUE(harness_->WaitCallState(ht_keep, LINECALLSTATE_CONNECTED));

  // An inbound call on 101 from 102 (made directly on the server), answered.
  std::string out;
  ASSERT_EQ(RunLinectl({"--server", server_->address(), "--timeout", "3s", "call", "make",
                        "sim/102", "101"},
                       &out),
            0)
      << out;
  const std::vector<std::string> words = absl::StrSplit(out, absl::ByAnyChar(" \n"), absl::SkipEmpty());
  ASSERT_GE(words.size(), 2u) << out;
  ASSERT_EQ(words[0], "call") << out;
  const std::string caller_call = words[1];
  HTAPICALL ht_in = nullptr;
  HDRVCALL hd_in = nullptr;
  ASSERT_TRUE(harness_->WaitNewCall(ht_101, &ht_in, &hd_in));
  ASSERT_TRUE(harness_->WaitCallState(ht_in, LINECALLSTATE_OFFERING));
  ASSERT_EQ(Run([&](DRV_REQUESTID id) { return T().TSPI_lineAnswer(id, hd_in, nullptr, 0); }), 0);
  ASSERT_TRUE(harness_->WaitCallState(ht_in, LINECALLSTATE_CONNECTED));

  proxy_->Cut();
  ASSERT_TRUE(WaitLineState(ht_100, LINEDEVSTATE_OUTOFSERVICE));
  ASSERT_TRUE(WaitLineState(ht_101, LINEDEVSTATE_OUTOFSERVICE));
  // A request while cut off fails (exactly once: the harness checks).
  const LONG held = Run([&](DRV_REQUESTID id) { return T().TSPI_lineHold(id, hd_keep); });
  EXPECT_LT(held, 0);
  // The far end of the inbound call hangs up meanwhile.
  ASSERT_EQ(RunLinectl({"--server", server_->address(), "--timeout", "3s", "call", "drop",
                        caller_call},
                       &out),
            0)
      << out;
  harness_->ClearEvents();
  proxy_->Restore();
  ASSERT_TRUE(WaitLineState(ht_100, LINEDEVSTATE_INSERVICE));
  ASSERT_TRUE(WaitLineState(ht_101, LINEDEVSTATE_INSERVICE));
  // Ended meanwhile: DISCONNECTED (from the journal), then IDLE after lineDrop.
  ASSERT_TRUE(harness_->WaitCallState(ht_in, LINECALLSTATE_DISCONNECTED));
  EXPECT_EQ(Run([&](DRV_REQUESTID id) { return T().TSPI_lineDrop(id, hd_in, nullptr, 0); }), 0);
  EXPECT_TRUE(harness_->WaitCallState(ht_in, LINECALLSTATE_IDLE));
  EXPECT_EQ(T().TSPI_lineCloseCall(hd_in), 0);
  // Survived: same handle, same state, no IDLE, and it still works.
  EXPECT_EQ(StateOf(hd_keep), static_cast<DWORD>(LINECALLSTATE_CONNECTED));
  for (DWORD s : StatesOf(ht_keep)) EXPECT_NE(s, static_cast<DWORD>(LINECALLSTATE_IDLE));
  EXPECT_EQ(Run([&](DRV_REQUESTID id) { return T().TSPI_lineHold(id, hd_keep); }), 0);
  EXPECT_TRUE(harness_->WaitCallState(ht_keep, LINECALLSTATE_ONHOLD));
  EXPECT_EQ(Run([&](DRV_REQUESTID id) { return T().TSPI_lineDrop(id, hd_keep, nullptr, 0); }), 0);
  EXPECT_TRUE(harness_->WaitCallState(ht_keep, LINECALLSTATE_IDLE));
  EXPECT_EQ(T().TSPI_lineCloseCall(hd_keep), 0);
  EXPECT_EQ(T().TSPI_lineClose(hd_100), 0);
  EXPECT_EQ(T().TSPI_lineClose(hd_101), 0);
}

// The server stops (SIGSTOP) for a while mid-call: a request meanwhile fails
// at its deadline, once; afterwards the call is still there and works.
TEST_F(TspNetworkTest, ServerStoppedBrieflyKeepsTheCall) {
  HTAPILINE ht_line = nullptr;
  HDRVLINE hd_line = Open("sim/103", &ht_line);
  ASSERT_NE(hd_line, nullptr);
  const HTAPICALL ht_call = reinterpret_cast<HTAPICALL>(uintptr_t{0xA101});
  const HDRVCALL hd_call = MakeCall(hd_line, ht_call, u"5550100");
  ASSERT_TRUE(harness_->WaitCallState(ht_call, LINECALLSTATE_CONNECTED));
  server_->Pause();
  const LONG held = Run([&](DRV_REQUESTID id) { return T().TSPI_lineHold(id, hd_call); });
  EXPECT_LT(held, 0);
  EXPECT_NE(held, 1);  // completed (1 = no completion within 5 s)
  server_->Resume();
  // The server may still carry out the request that timed out once it runs
  // again (a deadline says nothing about the far side): whatever it did, TAPI
  // hears of it, and the handle keeps working.
  absl::SleepFor(absl::Milliseconds(300));
  const DWORD state = StateOf(hd_call);
  EXPECT_TRUE(state == LINECALLSTATE_CONNECTED || state == LINECALLSTATE_ONHOLD) << state;
  ASSERT_FALSE(StatesOf(ht_call).empty());
  EXPECT_EQ(StatesOf(ht_call).back(), state);
  if (state == LINECALLSTATE_ONHOLD) {
    EXPECT_EQ(Run([&](DRV_REQUESTID id) { return T().TSPI_lineUnhold(id, hd_call); }), 0);
    const absl::Time deadline = MonotonicNow() + absl::Seconds(5);
    while (MonotonicNow() < deadline && StatesOf(ht_call).back() != LINECALLSTATE_CONNECTED) {
      absl::SleepFor(absl::Milliseconds(10));
    }
    EXPECT_EQ(StatesOf(ht_call).back(), static_cast<DWORD>(LINECALLSTATE_CONNECTED));
  }
  EXPECT_EQ(Run([&](DRV_REQUESTID id) { return T().TSPI_lineHold(id, hd_call); }), 0);
  EXPECT_TRUE(harness_->WaitCallState(ht_call, LINECALLSTATE_ONHOLD));
  EXPECT_EQ(Run([&](DRV_REQUESTID id) { return T().TSPI_lineDrop(id, hd_call, nullptr, 0); }), 0);
  EXPECT_TRUE(harness_->WaitCallState(ht_call, LINECALLSTATE_IDLE));
  EXPECT_EQ(T().TSPI_lineCloseCall(hd_call), 0);
  EXPECT_EQ(T().TSPI_lineClose(hd_line), 0);
}

// The server is killed (SIGKILL) mid-call and restarted on the same port and
// data directory: OUTOFSERVICE; a request meanwhile fails once; INSERVICE
// when it is back; the call that died with it goes DISCONNECTED then IDLE
// (its handle valid until lineCloseCall); the line works again.
TEST_F(TspNetworkTest, ServerKilledAndRestartedMidCall) {
  HTAPILINE ht_line = nullptr;
  HDRVLINE hd_line = Open("sim/104", &ht_line);
  ASSERT_NE(hd_line, nullptr);
  const HTAPICALL ht_call = reinterpret_cast<HTAPICALL>(uintptr_t{0xA201});
  const HDRVCALL hd_call = MakeCall(hd_line, ht_call, u"5550100");
  ASSERT_TRUE(harness_->WaitCallState(ht_call, LINECALLSTATE_CONNECTED));

  server_->Kill();
  ASSERT_TRUE(WaitLineState(ht_line, LINEDEVSTATE_OUTOFSERVICE));
  const LONG held = Run([&](DRV_REQUESTID id) { return T().TSPI_lineHold(id, hd_call); });
  EXPECT_LT(held, 0);
  EXPECT_NE(held, 1);
  std::string error;
  ASSERT_TRUE(server_->Restart(&error)) << error;
  ASSERT_TRUE(WaitLineState(ht_line, LINEDEVSTATE_INSERVICE, absl::Seconds(15)));
  ASSERT_TRUE(harness_->WaitCallState(ht_call, LINECALLSTATE_IDLE));
  const std::vector<DWORD> states = StatesOf(ht_call);
  ASSERT_GE(states.size(), 2u);
  EXPECT_EQ(states[states.size() - 2], static_cast<DWORD>(LINECALLSTATE_DISCONNECTED));
  EXPECT_EQ(states.back(), static_cast<DWORD>(LINECALLSTATE_IDLE));
  for (const RecordedEvent& e : harness_->events()) {
    if (e.msg == LINE_CALLSTATE && e.ht_call == ht_call && e.p1 == LINECALLSTATE_DISCONNECTED) {
      EXPECT_EQ(e.p2, static_cast<DWORD_PTR>(LINEDISCONNECTMODE_UNKNOWN));
    }
  }
  EXPECT_EQ(StateOf(hd_call), static_cast<DWORD>(LINECALLSTATE_IDLE));
  LONG r = 0;
  Async([&](DRV_REQUESTID id) { return T().TSPI_lineDrop(id, hd_call, nullptr, 0); }, &r);
  EXPECT_EQ(r, ::LINEERR_INVALCALLSTATE);
  EXPECT_EQ(T().TSPI_lineCloseCall(hd_call), 0);

  // The line was reopened on the restarted server (a new session).
  const HTAPICALL ht_again = reinterpret_cast<HTAPICALL>(uintptr_t{0xA202});
  const HDRVCALL hd_again = MakeCall(hd_line, ht_again, u"5550100");
  ASSERT_TRUE(harness_->WaitCallState(ht_again, LINECALLSTATE_CONNECTED));
  EXPECT_EQ(Run([&](DRV_REQUESTID id) { return T().TSPI_lineDrop(id, hd_again, nullptr, 0); }), 0);
  EXPECT_TRUE(harness_->WaitCallState(ht_again, LINECALLSTATE_IDLE));
  EXPECT_EQ(T().TSPI_lineCloseCall(hd_again), 0);
  EXPECT_EQ(T().TSPI_lineClose(hd_line), 0);
}

}  // namespace
}  // namespace linebridge::tsp_test
