// Static devices at TSPI_providerEnumDevices: a first start (no device map)
// reports the server's lines at enumeration; a server that does not answer
// within the bound (2 s) contributes nothing there and its lines arrive by
// LINE_CREATE once it does, which the provider's `log_file` says.
#include <gtest/gtest.h>
#include <stdlib.h>

#include <fstream>
#include <set>
#include <sstream>
#include <string>

#include "absl/strings/str_cat.h"
#include "tsp_test_util.h"
#include "linebridge/deadline.h"

namespace linebridge::tsp_test {
namespace {

std::string ReadFile(const std::string& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

class TspEnumerationTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/lb-tsp-enum.XXXXXX";
    dir_ = mkdtemp(tmpl);
    std::string error;
    ASSERT_TRUE(server_.Start(dir_, &error)) << error;
    const char* lib = std::getenv("LINEBRIDGE_TSP_LIBRARY");
    ASSERT_NE(lib, nullptr) << "LINEBRIDGE_TSP_LIBRARY is not set";
    ASSERT_TRUE(harness_.Load(lib, &error)) << error;
  }
  void TearDown() override {
    if (started_) {
      EXPECT_EQ(harness_.Stop(), 0);
    }
    EXPECT_EQ(harness_.TakeViolations(), std::vector<std::string>{});
    server_.Resume();
    server_.Stop();
    (void)std::system(absl::StrCat("rm -rf '", dir_, "'").c_str());
  }
  void Configure(const std::string& extra) {
    std::ofstream(dir_ + "/tsp.conf") << "server = " << server_.address() << "\n"
                                      << "device_map = " << dir_ << "/devices.map\n"
                                      << "deadline_ms = 1000\n"
                                      << extra;
    setenv("LINEBRIDGE_TSP_CONFIG", (dir_ + "/tsp.conf").c_str(), 1);
  }
  // providerEnumDevices + providerInit; returns how long they took.
  absl::Duration Start() {
    const absl::Time start = absl::Now();
    num_lines_ = 0;
    EXPECT_EQ(harness_.Start(&num_lines_), 0);
    started_ = true;
    return absl::Now() - start;
  }

  std::string dir_;
  ServerProcess server_;
  TapiSrvHarness harness_;
  DWORD num_lines_ = 0;
  bool started_ = false;
};

TEST_F(TspEnumerationTest, FirstStartWithoutDeviceMapReportsTheLinesAtEnumeration) {
  Configure("");
  const absl::Duration took = Start();
  EXPECT_LT(took, absl::Seconds(2));
  ASSERT_EQ(num_lines_, 9u);  // sim/100..107, sim/199: static devices
  // Every enumerated device is a line of the server, with its caps at once.
  std::set<std::string> lines;
  for (DWORD i = 0; i < num_lines_; ++i) {
    auto b = Buffer(4096);
    ASSERT_EQ(harness_.tspi().TSPI_lineGetDevCaps(TapiSrvHarness::kLineBase + i, 0x00030000, 0,
                                                  reinterpret_cast<LPLINEDEVCAPS>(b.data())),
              0);
    const auto caps = Fixed<LINEDEVCAPS>(b);
    lines.insert(String16At(b, caps.dwSwitchInfoSize, caps.dwSwitchInfoOffset));
    EXPECT_NE(caps.dwLineFeatures & LINEFEATURE_MAKECALL, 0u);
  }
  EXPECT_EQ(lines.size(), 9u);
  EXPECT_EQ(lines.count("sim/100"), 1u);
  EXPECT_EQ(lines.count("sim/199"), 1u);
  // Once the event stream is up nothing is created twice.
  const DWORD device = DeviceOf(harness_, num_lines_, "sim/101");
  ASSERT_NE(device, kNoDevice);
  const HTAPILINE ht_line = harness_.NewHtLine();
  HDRVLINE hd_line = nullptr;
  ASSERT_EQ(harness_.tspi().TSPI_lineOpen(device, ht_line, &hd_line, 0x00030000,
                                          &TapiSrvHarness::LineEvent),
            0);
  ASSERT_TRUE(WaitInService(harness_, hd_line));
  EXPECT_EQ(harness_.create_count(), 0u);
  EXPECT_EQ(harness_.tspi().TSPI_lineClose(hd_line), 0);
  // The ids were written to the device map: the next start has the same.
  ASSERT_EQ(harness_.Stop(), 0);
  started_ = false;
  Start();
  EXPECT_EQ(num_lines_, 9u);
  EXPECT_EQ(DeviceOf(harness_, num_lines_, "sim/101"), device);
  EXPECT_EQ(harness_.create_count(), 0u);
}

// The server is stopped (SIGSTOP: connected, but it never answers) during
// providerEnumDevices: the enumeration gives up at its bound with no lines,
// says so in the log file, and the lines come by LINE_CREATE once the server
// runs again. (tsp_tls_test checks that a refused token never reaches the
// log; tsp_log_test the scrubbing itself.)
TEST_F(TspEnumerationTest, AServerThatDoesNotAnswerInTimeDeliversItsLinesByLineCreate) {
  const std::string log = dir_ + "/tsp.log";
  Configure(absl::StrCat("log_file = ", log, "\nlog_level = debug\n"));
  server_.Pause();
  const absl::Duration took = Start();
  EXPECT_GE(took, absl::Milliseconds(1900));  // it waited for the bound...
  EXPECT_LT(took, absl::Seconds(3));          // ...and not longer
  EXPECT_EQ(num_lines_, 0u);
  server_.Resume();
  const absl::Time deadline = MonotonicNow() + absl::Seconds(10);
  while (harness_.create_count() < 9 && MonotonicNow() < deadline) {
    absl::SleepFor(absl::Milliseconds(10));
  }
  EXPECT_EQ(harness_.create_count(), 9u);
  EXPECT_NE(DeviceOf(harness_, num_lines_, "sim/104"), kNoDevice);
  const std::string text = ReadFile(log);
  EXPECT_NE(text.find(" WARNING enumeration: " + server_.address() + " did not list its lines"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find(" INFO enumeration: 0 lines from 0 of 1 servers"), std::string::npos)
      << text;
}

// A line known at enumeration (from the device map) is used while its server
// never answers (paused): lineMakeCall waits for the first session at most
// deadline_ms, then fails without being sent; once the server runs again it
// has made no call for nobody.
TEST_F(TspEnumerationTest, RequestsBeforeTheFirstSessionFailWithoutBeingSent) {
  Configure("");
  Start();  // writes the device map
  ASSERT_EQ(num_lines_, 9u);
  ASSERT_EQ(harness_.Stop(), 0);
  started_ = false;
  server_.Pause();
  Start();
  ASSERT_EQ(num_lines_, 9u);  // from the map; the server did not answer
  DWORD device = kNoDevice;
  for (DWORD i = 0; i < num_lines_; ++i) {
    auto b = Buffer(4096);
    ASSERT_EQ(harness_.tspi().TSPI_lineGetDevCaps(TapiSrvHarness::kLineBase + i, 0x00030000, 0,
                                                  reinterpret_cast<LPLINEDEVCAPS>(b.data())),
              0);
    const auto caps = Fixed<LINEDEVCAPS>(b);
    if (String16At(b, caps.dwSwitchInfoSize, caps.dwSwitchInfoOffset) == "sim/102") {
      device = TapiSrvHarness::kLineBase + i;
    }
  }
  ASSERT_NE(device, kNoDevice);
  const HTAPILINE ht_line = harness_.NewHtLine();
  HDRVLINE hd_line = nullptr;
  ASSERT_EQ(harness_.tspi().TSPI_lineOpen(device, ht_line, &hd_line, 0x00030000,
                                          &TapiSrvHarness::LineEvent),
            0);
  const HTAPICALL ht_call = reinterpret_cast<HTAPICALL>(uintptr_t{0xE100});
  HDRVCALL hd_call = nullptr;
  const DRV_REQUESTID make = harness_.NextRequestId();
  harness_.OutboundCall(ht_call, make);
  const absl::Time start = absl::Now();
  const LONG r =
      harness_.tspi().TSPI_lineMakeCall(make, hd_line, ht_call, &hd_call, u"5550100", 0, nullptr);
  harness_.Issued(make, r);
  ASSERT_EQ(r, static_cast<LONG>(make));
  EXPECT_EQ(harness_.WaitCompletion(make, absl::Seconds(4)), ::LINEERR_OPERATIONFAILED);
  EXPECT_LT(MonotonicNow() - start, absl::Seconds(3));  // deadline_ms = 1000, plus a tick
  if (hd_call != nullptr) harness_.tspi().TSPI_lineCloseCall(hd_call);
  server_.Resume();
  ASSERT_TRUE(WaitInService(harness_, hd_line, absl::Seconds(10)));
  std::string out;
  ASSERT_EQ(RunLinectl({"--server", server_.address(), "--timeout", "3s", "calls", "sim/102"},
                       &out),
            0)
      << out;
  EXPECT_EQ(out.find("5550100"), std::string::npos) << out;
  EXPECT_EQ(harness_.tspi().TSPI_lineClose(hd_line), 0);
}

// An application dials the moment TAPISRV has started the provider (an
// auto-dialer on a workstation that just booted), 40 times under a CPU hog.
// The reply naming the call may arrive before the event stream's first
// snapshot, which the server took before the call existed: the call is not
// taken for gone (DISCONNECTED/IDLE while the server has it connected); its
// states come in order and it reaches CONNECTED every time.
TEST_F(TspEnumerationTest, ACallMadeAsTheProviderStartsIsNotTakenForGoneByAnOlderSnapshot) {
  Configure("");
  CpuHogProcesses hog(2);
  for (int round = 0; round < 40; ++round) {
    SCOPED_TRACE(absl::StrCat("round ", round));
    Start();
    ASSERT_EQ(num_lines_, 9u);
    const DWORD device = DeviceOf(harness_, num_lines_, "sim/100");
    ASSERT_NE(device, kNoDevice);
    HDRVLINE hd_line = nullptr;
    ASSERT_EQ(harness_.tspi().TSPI_lineOpen(device, harness_.NewHtLine(), &hd_line, 0x00030000,
                                            &TapiSrvHarness::LineEvent),
              0);
    const HTAPICALL ht_call = reinterpret_cast<HTAPICALL>(uintptr_t{0xE200} + round);
    HDRVCALL hd_call = nullptr;
    const DRV_REQUESTID make = harness_.NextRequestId();
    harness_.OutboundCall(ht_call, make);
    const LONG r = harness_.tspi().TSPI_lineMakeCall(make, hd_line, ht_call, &hd_call, u"5550100",
                                                     0, nullptr);
    harness_.Issued(make, r);
    ASSERT_EQ(r, static_cast<LONG>(make));
    ASSERT_EQ(harness_.WaitCompletion(make, absl::Seconds(10)), 0);
    ASSERT_TRUE(harness_.WaitCallState(ht_call, LINECALLSTATE_CONNECTED, absl::Seconds(10)));
    const DRV_REQUESTID drop = harness_.NextRequestId();
    harness_.Issued(drop, harness_.tspi().TSPI_lineDrop(drop, hd_call, nullptr, 0));
    EXPECT_EQ(harness_.WaitCompletion(drop), 0);
    EXPECT_TRUE(harness_.WaitCallState(ht_call, LINECALLSTATE_IDLE));
    EXPECT_EQ(harness_.tspi().TSPI_lineCloseCall(hd_call), 0);
    EXPECT_EQ(harness_.tspi().TSPI_lineClose(hd_line), 0);
    ASSERT_EQ(harness_.Stop(), 0);
    started_ = false;
    ASSERT_EQ(harness_.TakeViolations(), std::vector<std::string>{});
  }
}

}  // namespace
}  // namespace linebridge::tsp_test
