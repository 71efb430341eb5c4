// The fixture of the TAPISRV harness tests of the line functions beyond
// the core (tsp_line_functions_test.cc, tsp_call_data_test.cc): a linebridged
// of its own (sim provider) and the TSP loaded and started, per test.
#pragma once

#include <gtest/gtest.h>
#include <stdlib.h>

#include <fstream>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "tsp_test_util.h"
#include "linebridge/deadline.h"

namespace linebridge::tsp_test {

// A linebridged of its own (sim provider) and the TSP loaded and started
// under the TAPISRV harness, per test; `name` tells the temp directory and
// the session's client name apart.
class TspHarnessFixture : public ::testing::Test {
 protected:
  explicit TspHarnessFixture(std::string name) : name_(std::move(name)) {}
  void SetUp() override {
    std::string tmpl = "/tmp/lb-" + name_ + ".XXXXXX";
    dir_ = mkdtemp(tmpl.data());
    std::string error;
    ASSERT_TRUE(server_.Start(dir_, &error)) << error;
    std::ofstream conf(dir_ + "/tsp.conf");
    conf << "server = " << server_.address() << "\n"
         << "device_map = " << dir_ << "/devices.map\n"
         << "client_name = " << name_ << "\n"
         << "deadline_ms = 3000\n";
    conf.close();
    setenv("LINEBRIDGE_TSP_CONFIG", (dir_ + "/tsp.conf").c_str(), 1);
    const char* lib = std::getenv("LINEBRIDGE_TSP_LIBRARY");
    ASSERT_NE(lib, nullptr) << "LINEBRIDGE_TSP_LIBRARY is not set";
    ASSERT_TRUE(harness_.Load(lib, &error)) << error;
    ASSERT_EQ(harness_.Start(&num_lines_), 0);
  }
  void TearDown() override {
    EXPECT_EQ(harness_.Stop(), 0);
    EXPECT_EQ(harness_.TakeViolations(), std::vector<std::string>{});
    server_.Stop();
    (void)std::system(absl::StrCat("rm -rf '", dir_, "'").c_str());
  }

  TspiTable& T() { return harness_.tspi(); }
  // Runs an asynchronous request: its synchronous error, or its completion.
  template <typename F>
  LONG Run(F&& call) {
    const DRV_REQUESTID id = harness_.NextRequestId();
    const LONG r = call(id);
    harness_.Issued(id, r);
    return r == static_cast<LONG>(id) ? harness_.WaitCompletion(id) : r;
  }

  const std::string name_;
  std::string dir_;
  ServerProcess server_;
  TapiSrvHarness harness_;  // the library stays loaded (it may hold our callbacks)
  DWORD num_lines_ = 0;
};

class TspLineFunctionsTest : public TspHarnessFixture {
 protected:
  TspLineFunctionsTest() : TspHarnessFixture("tsp-line-functions") {}
  HDRVLINE Open(const std::string& line_id, HTAPILINE* ht_line) {
    const DWORD device = DeviceOf(harness_, num_lines_, line_id);
    EXPECT_NE(device, kNoDevice) << line_id;
    *ht_line = harness_.NewHtLine();
    HDRVLINE hd = nullptr;
    EXPECT_EQ(T().TSPI_lineOpen(device, *ht_line, &hd, 0x00030000, &TapiSrvHarness::LineEvent), 0);
    EXPECT_TRUE(WaitInService(harness_, hd));
    return hd;
  }
  // lineMakeCall; waits for the completion and `state`.
  HDRVCALL MakeCall(HDRVLINE hd_line, HTAPICALL ht_call, const char16_t* dest, DWORD state) {
    HDRVCALL hd_call = nullptr;
    const DRV_REQUESTID make = harness_.NextRequestId();
    harness_.OutboundCall(ht_call, make);
    const LONG r = T().TSPI_lineMakeCall(make, hd_line, ht_call, &hd_call, dest, 0, nullptr);
    harness_.Issued(make, r);
    EXPECT_EQ(r, static_cast<LONG>(make));
    EXPECT_EQ(harness_.WaitCompletion(make), 0);
    EXPECT_TRUE(harness_.WaitCallState(ht_call, state)) << "state 0x" << std::hex << state;
    return hd_call;
  }
  DWORD StateOf(HDRVCALL hd_call) {
    auto status = Buffer(sizeof(LINECALLSTATUS), 512);
    if (T().TSPI_lineGetCallStatus(hd_call, reinterpret_cast<LPLINECALLSTATUS>(status.data())) !=
        0) {
      return 0;
    }
    return Fixed<LINECALLSTATUS>(status).dwCallState;
  }
  DWORD FeaturesOf(HDRVCALL hd_call) {
    auto status = Buffer(sizeof(LINECALLSTATUS), 512);
    if (T().TSPI_lineGetCallStatus(hd_call, reinterpret_cast<LPLINECALLSTATUS>(status.data())) !=
        0) {
      return 0;
    }
    return Fixed<LINECALLSTATUS>(status).dwCallFeatures;
  }
  // Position of the first LINE_CALLSTATE `state` of `ht_call` among the
  // recorded events; -1 if none.
  long PositionOf(HTAPICALL ht_call, DWORD state) {
    const std::vector<RecordedEvent> events = harness_.events();
    for (size_t i = 0; i < events.size(); ++i) {
      if (events[i].ht_call == ht_call && events[i].msg == LINE_CALLSTATE && events[i].p1 == state) {
        return static_cast<long>(i);
      }
    }
    return -1;
  }
  // lineSetDefaultMediaDetection, waiting until the server applied it.
  bool Detect(HDRVLINE hd_line, DWORD media_modes) {
    if (T().TSPI_lineSetDefaultMediaDetection(hd_line, media_modes) != 0) return false;
    const absl::Time deadline = MonotonicNow() + absl::Seconds(5);
    while (MonotonicNow() < deadline) {
      auto status = Buffer(sizeof(LINEDEVSTATUS) + 64, 512);
      if (T().TSPI_lineGetLineDevStatus(hd_line,
                                        reinterpret_cast<LPLINEDEVSTATUS>(status.data())) == 0 &&
          Fixed<LINEDEVSTATUS>(status).dwOpenMediaModes == media_modes) {
        return true;
      }
      absl::SleepFor(absl::Milliseconds(5));
    }
    return false;
  }
  // A call from `from` to `to` made by another client (linectl); returns
  // the new call TAPI sees on `ht_line` once it is OFFERING.
  bool Incoming(const std::string& from, const std::string& to, HTAPILINE ht_line,
                HTAPICALL* ht_call, HDRVCALL* hd_call) {
    std::string out;
    if (RunLinectl({"--server", server_.address(), "--timeout", "3s", "call", "make", from, to},
                   &out) != 0) {
      ADD_FAILURE() << out;
      return false;
    }
    return harness_.WaitNewCall(ht_line, ht_call, hd_call) &&
           harness_.WaitCallState(*ht_call, LINECALLSTATE_OFFERING);
  }
};

}  // namespace linebridge::tsp_test
