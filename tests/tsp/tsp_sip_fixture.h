// The fixture of the remote TSP on a SIP user-agent line: kamailio as the
// registrar (digest auth) and proxy, a real linebridged whose line
// "sip/alice" is an account registered there with kamailio as its outbound
// proxy (calls for anyone but a registered user go on to a sipp far end), and
// linebridge.tsp loaded and started under the TAPISRV harness, per test.
#pragma once

#include <gtest/gtest.h>
#include <stdlib.h>

#include <fstream>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "providers/sip/testing/sip_peers.h"
#include "tsp_test_util.h"
#include "linebridge/deadline.h"

namespace linebridge::tsp_test {

inline constexpr absl::Duration kSipWait = absl::Seconds(10);

class TspSipFixture : public ::testing::Test {
 protected:
  using ChildProcess = sip::testing::ChildProcess;
  using SippOptions = sip::testing::SippOptions;

  void SetUp() override {
    char tmpl[] = "/tmp/lb-tspsip.XXXXXX";
    dir_ = mkdtemp(tmpl);
    registrar_port_ = sip::testing::FreePort();
    alice_port_ = sip::testing::FreePort();
    far_port_ = sip::testing::FreePort();
    ASSERT_GT(registrar_port_, 0);
    ASSERT_GT(alice_port_, 0);
    ASSERT_GT(far_port_, 0);
  }
  void TearDown() override {
    if (started_) {
      EXPECT_EQ(harness_.Stop(), 0);
    }
    EXPECT_EQ(harness_.TakeViolations(), std::vector<std::string>{});
    server_.Stop();
    kamailio_.Kill();
    (void)std::system(absl::StrCat("rm -rf '", dir_, "'").c_str());
  }

  // kamailio, linebridged with sip/alice (`extra` account fields), the TSP.
  void StartAll(const std::string& extra = "") {
    std::string error;
    ASSERT_TRUE(StartKamailio(&error)) << error;
    std::ofstream(dir_ + "/alice.pw") << "pw\n";
    const std::string config = dir_ + "/lb.textproto";
    std::ofstream(config) << absl::StrFormat(
        R"(providers { sip { name: "sip" accounts { name: "alice" uri: "sip:alice@127.0.0.1"
            display_name: "Alice" local_port: %d registrar: "127.0.0.1:%d" auth_user: "alice"
            password_file: "%s/alice.pw" outbound_proxy: "127.0.0.1:%d" %s } } })",
        alice_port_, registrar_port_, dir_, registrar_port_, extra);
    ASSERT_TRUE(server_.Start(dir_, &error, 0, config)) << error;
    std::ofstream conf(dir_ + "/tsp.conf");
    conf << "server = " << server_.address() << "\n"
         << "device_map = " << dir_ << "/devices.map\n"
         << "client_name = tsp-sip-harness\n"
         << "deadline_ms = 3000\n";
    conf.close();
    setenv("LINEBRIDGE_TSP_CONFIG", (dir_ + "/tsp.conf").c_str(), 1);
    const char* lib = std::getenv("LINEBRIDGE_TSP_LIBRARY");
    ASSERT_NE(lib, nullptr) << "LINEBRIDGE_TSP_LIBRARY is not set";
    ASSERT_TRUE(harness_.Load(lib, &error)) << error;
    ASSERT_EQ(harness_.Start(&num_lines_), 0);
    started_ = true;
    device_ = DeviceOf(harness_, num_lines_, "sip/alice", kSipWait);
    ASSERT_NE(device_, kNoDevice) << "sip/alice never appeared";
  }

  // kamailio on registrar_port_: registrar, and proxy to the far end.
  bool StartKamailio(std::string* error) {
    return sip::testing::StartKamailio(kamailio_, registrar_port_, "pw", dir_, error, far_port_);
  }
  TspiTable& T() { return harness_.tspi(); }

  // lineOpen of sip/alice; waits until it is in service (registered).
  HDRVLINE Open(HTAPILINE* ht_line) {
    *ht_line = harness_.NewHtLine();
    HDRVLINE hd = nullptr;
    EXPECT_EQ(T().TSPI_lineOpen(device_, *ht_line, &hd, 0x00030000, &TapiSrvHarness::LineEvent),
              0);
    EXPECT_TRUE(WaitInService(harness_, hd, kSipWait)) << "sip/alice did not register";
    return hd;
  }
  // StartAll, then Open; nullptr if either failed.
  HDRVLINE StartAndOpen(HTAPILINE* ht_line) {
    StartAll();
    if (::testing::Test::HasFatalFailure()) return nullptr;
    return Open(ht_line);
  }
  // Runs an asynchronous request: its synchronous error, or its completion.
  template <typename F>
  LONG Run(F&& call) {
    const DRV_REQUESTID id = harness_.NextRequestId();
    const LONG r = call(id);
    harness_.Issued(id, r);
    return r == static_cast<LONG>(id) ? harness_.WaitCompletion(id, kSipWait) : r;
  }
  // lineMakeCall; its synchronous error or completion. `hd_call` is set.
  LONG MakeCall(HDRVLINE hd_line, HTAPICALL ht_call, const char16_t* dest, HDRVCALL* hd_call) {
    const DRV_REQUESTID make = harness_.NextRequestId();
    harness_.OutboundCall(ht_call, make);
    const LONG r = T().TSPI_lineMakeCall(make, hd_line, ht_call, hd_call, dest, 0, nullptr);
    harness_.Issued(make, r);
    return r == static_cast<LONG>(make) ? harness_.WaitCompletion(make, kSipWait) : r;
  }
  // lineDrop, then IDLE, then lineCloseCall.
  void DropToIdle(HTAPICALL ht_call, HDRVCALL hd_call) {
    EXPECT_EQ(Run([&](DRV_REQUESTID id) { return T().TSPI_lineDrop(id, hd_call, nullptr, 0); }),
              0);
    EXPECT_TRUE(harness_.WaitCallState(ht_call, LINECALLSTATE_IDLE, kSipWait));
    EXPECT_EQ(T().TSPI_lineCloseCall(hd_call), 0);
  }
  // The LINE_CALLSTATE states `ht_call` went through, in order.
  std::vector<DWORD> StatesOf(HTAPICALL ht_call) {
    std::vector<DWORD> out;
    for (const RecordedEvent& e : harness_.events()) {
      if (e.msg == LINE_CALLSTATE && e.ht_call == ht_call) out.push_back(static_cast<DWORD>(e.p1));
    }
    return out;
  }
  // The disconnect mode of `ht_call`'s LINECALLSTATE_DISCONNECTED (0 if none).
  DWORD DisconnectModeOf(HTAPICALL ht_call) {
    RecordedEvent e;
    if (!harness_.WaitEvent(
            [&](const RecordedEvent& ev) {
              return ev.msg == LINE_CALLSTATE && ev.ht_call == ht_call &&
                     ev.p1 == LINECALLSTATE_DISCONNECTED;
            },
            kSipWait, &e)) {
      return 0;
    }
    return static_cast<DWORD>(e.p2);
  }
  // lineSetDefaultMediaDetection(INTERACTIVEVOICE), waiting until the server
  // applied it (LINEDEVSTATUS dwOpenMediaModes), so that offered calls are
  // owned.
  bool DetectVoice(HDRVLINE hd_line) {
    if (T().TSPI_lineSetDefaultMediaDetection(hd_line, LINEMEDIAMODE_INTERACTIVEVOICE) != 0) {
      return false;
    }
    const absl::Time deadline = MonotonicNow() + kSipWait;
    while (MonotonicNow() < deadline) {
      auto status = Buffer(sizeof(LINEDEVSTATUS) + 64, 512);
      if (T().TSPI_lineGetLineDevStatus(hd_line,
                                        reinterpret_cast<LPLINEDEVSTATUS>(status.data())) == 0 &&
          Fixed<LINEDEVSTATUS>(status).dwOpenMediaModes == LINEMEDIAMODE_INTERACTIVEVOICE) {
        return true;
      }
      absl::SleepFor(absl::Milliseconds(5));  // polling what an application reads
    }
    return false;
  }
  // A sipp far end where kamailio sends the line's calls.
  bool StartFarEnd(ChildProcess& sipp, SippOptions options) {
    options.port = far_port_;
    return sip::testing::StartSipp(sipp, options, dir_);
  }
  // A sipp client scenario calling sip/alice at its port.
  bool CallAlice(ChildProcess& sipp, SippOptions options) {
    options.remote = absl::StrFormat("127.0.0.1:%d", alice_port_);
    options.service = "alice";
    options.port = sip::testing::FreePort();
    return sip::testing::StartSipp(sipp, options, dir_);
  }
  std::string ReadFile(const std::string& path) {
    std::ifstream in(path);
    return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  }

  std::string dir_;
  int registrar_port_ = 0;
  int alice_port_ = 0;
  int far_port_ = 0;  // the sipp far end
  ChildProcess kamailio_;
  ServerProcess server_;
  TapiSrvHarness harness_;  // the library stays loaded (it may hold our callbacks)
  bool started_ = false;
  DWORD num_lines_ = 0;
  DWORD device_ = kNoDevice;
};

}  // namespace linebridge::tsp_test
