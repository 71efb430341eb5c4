// The remote TSP on a modem line: linebridge.tsp driven the way TAPISRV
// drives it, against a real linebridged whose line "modem/m0" is a modem on a
// pty (the project's V.253 modem emulator, a test double for the hardware).
// Outbound, inbound and drop scenarios, and a dial string that must never
// reach the modem.
#include <gtest/gtest.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstring>
#include <fstream>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "providers/modem/modem_emulator.h"
#include "tapi_buffers.h"
#include "tapisrv_harness.h"
#include "linebridge/deadline.h"

namespace linebridge::tsp_test {
namespace {

using modem::ModemEmulator;

// linebridged with one modem line on the emulator's pty.
class ModemServer {
 public:
  ~ModemServer() {
    if (pid_ > 0) {
      kill(pid_, SIGKILL);
      waitpid(pid_, nullptr, 0);
    }
  }
  bool Start(const std::string& dir, const std::string& device, std::string* error) {
    const char* bin_dir = std::getenv("LINEBRIDGE_BIN_DIR");
    if (bin_dir == nullptr) {
      *error = "LINEBRIDGE_BIN_DIR is not set";
      return false;
    }
    const std::string config = dir + "/lb.textproto";
    std::ofstream(config) << "providers {\n  modem {\n    ports {\n      name: \"m0\"\n"
                          << "      device: \"" << device << "\"\n"
                          << "      number: \"5550000\"\n      ring_timeout_ms: 2000\n"
                          << "      retry_interval_ms: 200\n    }\n  }\n}\n";
    const std::string binary = absl::StrCat(bin_dir, "/linebridged");
    const std::string port_file = dir + "/port";
    const std::string data_dir = dir + "/data";
    const std::string log = dir + "/linebridged.log";
    pid_ = fork();
    if (pid_ < 0) {
      *error = "fork failed";
      return false;
    }
    if (pid_ == 0) {
      prctl(PR_SET_PDEATHSIG, SIGKILL);
      FILE* out = std::freopen(log.c_str(), "a", stderr);
      (void)out;
      execl(binary.c_str(), binary.c_str(), "--config", config.c_str(), "--listen",
            "127.0.0.1:0", "--port_file", port_file.c_str(), "--data_dir", data_dir.c_str(),
            static_cast<char*>(nullptr));
      _exit(127);
    }
    const absl::Time deadline = MonotonicNow() + absl::Seconds(10);
    while (MonotonicNow() < deadline) {
      std::ifstream in(port_file);
      int port = 0;
      if (in >> port && port > 0) {
        port_ = port;
        return true;
      }
      if (waitpid(pid_, nullptr, WNOHANG) == pid_) {
        pid_ = -1;
        *error = "linebridged exited at start; see " + log;
        return false;
      }
      absl::SleepFor(absl::Milliseconds(20));
    }
    *error = "linebridged did not report its port";
    return false;
  }
  std::string address() const { return "127.0.0.1:" + std::to_string(port_); }

 private:
  pid_t pid_ = -1;
  int port_ = 0;
};

class TspModemTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    char tmpl[] = "/tmp/lb-tspmodem.XXXXXX";
    dir_ = mkdtemp(tmpl);
    emu_ = new ModemEmulator(ModemEmulator::Dialect::kV253, dir_ + "/ttyModem");
    server_ = new ModemServer();
    server_ok_ = server_->Start(dir_, dir_ + "/ttyModem", &server_error_);
    std::ofstream conf(dir_ + "/tsp.conf");
    conf << "server = " << server_->address() << "\n"
         << "device_map = " << dir_ << "/devices.map\n"
         << "client_name = tsp-modem-harness\n"
         << "deadline_ms = 2000\n";
    conf.close();
    setenv("LINEBRIDGE_TSP_CONFIG", (dir_ + "/tsp.conf").c_str(), 1);
    harness_ = new TapiSrvHarness();
    const char* lib = std::getenv("LINEBRIDGE_TSP_LIBRARY");
    load_ok_ = lib != nullptr && harness_->Load(lib, &load_error_);
    if (lib == nullptr) load_error_ = "LINEBRIDGE_TSP_LIBRARY is not set";
    if (load_ok_) started_ = harness_->Start(&num_lines_) == 0;
  }
  static void TearDownTestSuite() {
    // providerShutdown, as TAPISRV does before it exits: no provider threads
    // left running when the process ends (LeakSanitizer's exit check in the
    // asan build crashed with the gRPC threads still running).
    if (started_) {
      EXPECT_EQ(harness_->Stop(), 0);
    }
    started_ = false;
    delete server_;
    server_ = nullptr;
    delete emu_;
    emu_ = nullptr;
    std::string cmd = "rm -rf '" + dir_ + "'";
    (void)std::system(cmd.c_str());
  }
  void SetUp() override {
    ASSERT_TRUE(server_ok_) << server_error_;
    ASSERT_TRUE(load_ok_) << load_error_;
    ASSERT_TRUE(started_);
    harness_->ClearEvents();
  }
  void TearDown() override { EXPECT_EQ(harness_->violations(), std::vector<std::string>{}); }

  TspiTable& T() { return harness_->tspi(); }

  // The device id of "modem/m0" once it is in service (MAKECALL feature), <= 10 s.
  DWORD Device() {
    const absl::Time deadline = MonotonicNow() + absl::Seconds(10);
    while (MonotonicNow() < deadline) {
      std::vector<DWORD> ids;
      for (DWORD i = 0; i < num_lines_; ++i) ids.push_back(TapiSrvHarness::kLineBase + i);
      for (DWORD id : harness_->created_devices()) ids.push_back(id);
      for (DWORD id : ids) {
        auto b = Buffer(4096);
        if (T().TSPI_lineGetDevCaps(id, 0x00030000, 0,
                                    reinterpret_cast<LPLINEDEVCAPS>(b.data())) != 0) {
          continue;
        }
        auto caps = Fixed<LINEDEVCAPS>(b);
        if (String16At(b, caps.dwSwitchInfoSize, caps.dwSwitchInfoOffset) == "modem/m0" &&
            (caps.dwLineFeatures & LINEFEATURE_MAKECALL) != 0) {
          return id;
        }
      }
      absl::SleepFor(absl::Milliseconds(20));
    }
    return 0xFFFFFFFF;
  }
  HDRVLINE Open(HTAPILINE* ht_line) {
    const DWORD device = Device();
    EXPECT_NE(device, 0xFFFFFFFF) << "modem/m0 never appeared";
    *ht_line = harness_->NewHtLine();
    HDRVLINE hd = nullptr;
    EXPECT_EQ(T().TSPI_lineOpen(device, *ht_line, &hd, 0x00030000, &TapiSrvHarness::LineEvent), 0);
    return hd;
  }
  template <typename F>
  DRV_REQUESTID Async(F&& call) {
    const DRV_REQUESTID id = harness_->NextRequestId();
    harness_->Issued(id, call(id));
    return id;
  }

  static inline std::string dir_;
  static inline ModemEmulator* emu_ = nullptr;
  static inline ModemServer* server_ = nullptr;
  static inline bool server_ok_ = false;
  static inline std::string server_error_;
  static inline TapiSrvHarness* harness_ = nullptr;
  static inline bool load_ok_ = false;
  static inline bool started_ = false;
  static inline std::string load_error_;
  static inline DWORD num_lines_ = 0;
};

TEST_F(TspModemTest, ModemLineCapsComeFromTheProbe) {
  const DWORD device = Device();
  ASSERT_NE(device, 0xFFFFFFFF);
  auto b = Buffer(4096);
  ASSERT_EQ(T().TSPI_lineGetDevCaps(device, 0x00030000, 0,
                                    reinterpret_cast<LPLINEDEVCAPS>(b.data())),
            0);
  auto caps = Fixed<LINEDEVCAPS>(b);
  EXPECT_NE(String16At(b, caps.dwProviderInfoSize, caps.dwProviderInfoOffset)
                .find("v253"),
            std::string::npos);
  EXPECT_NE(caps.dwMediaModes & LINEMEDIAMODE_INTERACTIVEVOICE, 0u);
  EXPECT_NE(caps.dwMediaModes & LINEMEDIAMODE_G3FAX, 0u);
  EXPECT_EQ(caps.dwMaxNumActiveCalls, 1u);
}

TEST_F(TspModemTest, OutboundCallConnectsAndDrops) {
  HTAPILINE ht_line = nullptr;
  HDRVLINE hd_line = Open(&ht_line);
  ASSERT_NE(hd_line, nullptr);
  const HTAPICALL ht_call = reinterpret_cast<HTAPICALL>(uintptr_t{0xC0DE});
  HDRVCALL hd_call = nullptr;
  const DRV_REQUESTID make = harness_->NextRequestId();
  harness_->OutboundCall(ht_call, make);
  const LONG r = T().TSPI_lineMakeCall(make, hd_line, ht_call, &hd_call, u"555-1234", 0, nullptr);
  harness_->Issued(make, r);
  ASSERT_EQ(r, static_cast<LONG>(make));
  EXPECT_EQ(harness_->WaitCompletion(make), 0);
  ASSERT_TRUE(harness_->WaitCallState(ht_call, LINECALLSTATE_CONNECTED, absl::Seconds(10)));
  EXPECT_TRUE(emu_->SawCommand("ATDT5551234"));
  const DRV_REQUESTID drop =
      Async([&](DRV_REQUESTID id) { return T().TSPI_lineDrop(id, hd_call, nullptr, 0); });
  EXPECT_EQ(harness_->WaitCompletion(drop), 0);
  EXPECT_TRUE(harness_->WaitCallState(ht_call, LINECALLSTATE_IDLE));
  EXPECT_TRUE(emu_->WaitCommand("ATH"));
  EXPECT_EQ(T().TSPI_lineCloseCall(hd_call), 0);
  EXPECT_EQ(T().TSPI_lineClose(hd_line), 0);
}

TEST_F(TspModemTest, InjectedDialStringFailsWithInvalAddress) {
  HTAPILINE ht_line = nullptr;
  HDRVLINE hd_line = Open(&ht_line);
  ASSERT_NE(hd_line, nullptr);
  const size_t before = emu_->commands().size();
  const HTAPICALL ht_call = reinterpret_cast<HTAPICALL>(uintptr_t{0xBAD});
  HDRVCALL hd_call = nullptr;
  const DRV_REQUESTID make = harness_->NextRequestId();
  harness_->OutboundCall(ht_call, make);
  const LONG r = T().TSPI_lineMakeCall(make, hd_line, ht_call, &hd_call, u"123;ATZ", 0, nullptr);
  harness_->Issued(make, r);
  if (r == static_cast<LONG>(make)) {
    EXPECT_EQ(harness_->WaitCompletion(make), ::LINEERR_INVALADDRESS);
  } else {
    EXPECT_EQ(r, ::LINEERR_INVALADDRESS);
  }
  absl::SleepFor(absl::Milliseconds(100));
  EXPECT_EQ(emu_->commands().size(), before);
  EXPECT_EQ(T().TSPI_lineClose(hd_line), 0);
}

TEST_F(TspModemTest, InboundCallWithCallerIdAnswerAndRemoteHangup) {
  HTAPILINE ht_line = nullptr;
  HDRVLINE hd_line = Open(&ht_line);
  ASSERT_NE(hd_line, nullptr);
  ASSERT_EQ(T().TSPI_lineSetDefaultMediaDetection(hd_line, LINEMEDIAMODE_INTERACTIVEVOICE), 0);
  // lineSetDefaultMediaDetection returns at once and the server applies the
  // OWNER open afterwards; a call offered before that is not owned (lineAnswer
  // would complete with NOTOWNER). An application sees the modes in effect in
  // LINEDEVSTATUS.dwOpenMediaModes, and so does this test before it rings.
  const absl::Time applied_by = absl::Now() + absl::Seconds(5);
  DWORD applied = 0;
  while (absl::Now() < applied_by) {
    auto status = Buffer(sizeof(LINEDEVSTATUS), 512);
    ASSERT_EQ(T().TSPI_lineGetLineDevStatus(hd_line, reinterpret_cast<LPLINEDEVSTATUS>(status.data())), 0);
    applied = Fixed<LINEDEVSTATUS>(status).dwOpenMediaModes;
    if (applied == LINEMEDIAMODE_INTERACTIVEVOICE) break;
    absl::SleepFor(absl::Milliseconds(5));
  }
  ASSERT_EQ(applied, static_cast<DWORD>(LINEMEDIAMODE_INTERACTIVEVOICE));
  emu_->StartRinging("5559876", "DORA");
  HTAPICALL ht_call = nullptr;
  HDRVCALL hd_call = nullptr;
  ASSERT_TRUE(harness_->WaitNewCall(ht_line, &ht_call, &hd_call, absl::Seconds(10)));
  ASSERT_TRUE(harness_->WaitCallState(ht_call, LINECALLSTATE_OFFERING));
  // The caller-id block follows the first RING (LINE_CALLINFO).
  std::string caller;
  const absl::Time deadline = MonotonicNow() + absl::Seconds(5);
  while (MonotonicNow() < deadline) {
    auto info = Buffer(2048);
    ASSERT_EQ(T().TSPI_lineGetCallInfo(hd_call, reinterpret_cast<LPLINECALLINFO>(info.data())), 0);
    auto ci = Fixed<LINECALLINFO>(info);
    caller = String16At(info, ci.dwCallerIDSize, ci.dwCallerIDOffset);
    if (caller == "5559876") break;
    absl::SleepFor(absl::Milliseconds(20));
  }
  EXPECT_EQ(caller, "5559876");
  const DRV_REQUESTID answer =
      Async([&](DRV_REQUESTID id) { return T().TSPI_lineAnswer(id, hd_call, nullptr, 0); });
  EXPECT_EQ(harness_->WaitCompletion(answer), 0);
  ASSERT_TRUE(harness_->WaitCallState(ht_call, LINECALLSTATE_CONNECTED, absl::Seconds(10)));
  EXPECT_TRUE(emu_->SawCommand("ATA"));
  emu_->RemoteHangup();
  ASSERT_TRUE(harness_->WaitCallState(ht_call, LINECALLSTATE_DISCONNECTED, absl::Seconds(10)));
  const DRV_REQUESTID drop =
      Async([&](DRV_REQUESTID id) { return T().TSPI_lineDrop(id, hd_call, nullptr, 0); });
  EXPECT_EQ(harness_->WaitCompletion(drop), 0);
  EXPECT_TRUE(harness_->WaitCallState(ht_call, LINECALLSTATE_IDLE));
  EXPECT_EQ(T().TSPI_lineCloseCall(hd_call), 0);
  EXPECT_EQ(T().TSPI_lineClose(hd_line), 0);
}

}  // namespace
}  // namespace linebridge::tsp_test
