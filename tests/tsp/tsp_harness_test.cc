// linebridge.tsp driven the way TAPISRV drives it, against a real linebridged.
// The tests share one server and run in order (the last one kills it).
#include <gtest/gtest.h>
#include <signal.h>
#include <stdlib.h>

#include <atomic>
#include <cstring>
#include <fstream>
#include <thread>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "tapi_buffers.h"
#include "tapisrv_harness.h"
#include "linebridge/deadline.h"

namespace linebridge::tsp_test {
namespace {

class TspHarnessTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    char tmpl[] = "/tmp/lb-tsp.XXXXXX";
    dir_ = mkdtemp(tmpl);
    server_ = new ServerProcess();
    std::string error;
    server_ok_ = server_->Start(dir_, &error);
    if (!server_ok_) server_error_ = error;
    std::ofstream conf(dir_ + "/tsp.conf");
    conf << "# written by tsp_harness_test\n"
         << "server = " << server_->address() << "\n"
         << "device_map = " << dir_ << "/devices.map\n"
         << "client_name = tsp-harness\n"
         << "deadline_ms = 1000\n";
    conf.close();
    setenv("LINEBRIDGE_TSP_CONFIG", (dir_ + "/tsp.conf").c_str(), 1);
    harness_ = new TapiSrvHarness();
    const char* lib = std::getenv("LINEBRIDGE_TSP_LIBRARY");
    load_ok_ = lib != nullptr && harness_->Load(lib, &load_error_);
    if (lib == nullptr) load_error_ = "LINEBRIDGE_TSP_LIBRARY is not set";
  }
  static void TearDownTestSuite() {
    delete server_;  // kills linebridged by pid
    server_ = nullptr;
    // The harness stays: the library may still hold its callbacks.
    std::string cmd = "rm -rf '" + dir_ + "'";
    (void)std::system(cmd.c_str());
  }

  void SetUp() override {
    ASSERT_TRUE(load_ok_) << load_error_;
    ASSERT_TRUE(server_ok_) << server_error_;
    harness_->ClearEvents();
  }
  void TearDown() override {
    // Taken (and cleared), so one test's violations do not fail the next.
    EXPECT_EQ(harness_->TakeViolations(), std::vector<std::string>{});
  }

  TspiTable& T() { return harness_->tspi(); }

  // The device id whose LINEDEVCAPS names `line_id` (SwitchInfo) once the
  // provider knows the line from the server (LINEFEATURE_MAKECALL), <= 5 s.
  DWORD DeviceOf(const std::string& line_id) {
    const absl::Time deadline = MonotonicNow() + absl::Seconds(5);
    while (MonotonicNow() < deadline) {
      std::vector<DWORD> ids;
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

  void StartProvider() {
    num_lines_ = 0;
    ASSERT_EQ(harness_->Start(&num_lines_), 0);
  }

  // Opens `line_id`; returns the HDRVLINE.
  HDRVLINE Open(const std::string& line_id, HTAPILINE* ht_line) {
    const DWORD device = DeviceOf(line_id);
    EXPECT_NE(device, 0xFFFFFFFF) << line_id << " never appeared";
    *ht_line = harness_->NewHtLine();
    HDRVLINE hd = nullptr;
    EXPECT_EQ(T().TSPI_lineOpen(device, *ht_line, &hd, 0x00030000, &TapiSrvHarness::LineEvent), 0);
    return hd;
  }

  // Issues an asynchronous request through `call` and returns its id.
  template <typename F>
  DRV_REQUESTID Async(F&& call, LONG* returned = nullptr) {
    const DRV_REQUESTID id = harness_->NextRequestId();
    const LONG r = call(id);
    harness_->Issued(id, r);
    if (returned != nullptr) *returned = r;
    return id;
  }

  // lineMakeCall to `dest` on `hd_line` as htCall `ht`; waits for completion
  // and `state`. Returns the hdCall (nullptr on failure).
  HDRVCALL MakeCall(HDRVLINE hd_line, uintptr_t ht, const char16_t* dest, DWORD state) {
    const HTAPICALL ht_call = reinterpret_cast<HTAPICALL>(ht);
    HDRVCALL hd_call = nullptr;
    const DRV_REQUESTID make = harness_->NextRequestId();
    harness_->OutboundCall(ht_call, make);
    const LONG r = T().TSPI_lineMakeCall(make, hd_line, ht_call, &hd_call, dest, 0, nullptr);
    harness_->Issued(make, r);
    EXPECT_EQ(r, static_cast<LONG>(make));
    EXPECT_EQ(harness_->WaitCompletion(make), 0);
    if (!harness_->WaitCallState(ht_call, state)) {
      ADD_FAILURE() << "no call state 0x" << std::hex << state;
      return nullptr;
    }
    return hd_call;
  }
  // Runs an asynchronous request and waits for its result.
  template <typename F>
  LONG Run(F&& call) {
    LONG r = 0;
    const DRV_REQUESTID id = Async(std::forward<F>(call), &r);
    if (r != static_cast<LONG>(id)) return r;
    return harness_->WaitCompletion(id);
  }
  // The media modes lineGetLineDevStatus reports as applied by the server.
  DWORD OpenMediaModes(HDRVLINE hd_line) {
    auto status = Buffer(sizeof(LINEDEVSTATUS) + 64, 512);
    if (T().TSPI_lineGetLineDevStatus(hd_line, reinterpret_cast<LPLINEDEVSTATUS>(status.data())) != 0) {
      return 0xFFFFFFFF;
    }
    return Fixed<LINEDEVSTATUS>(status).dwOpenMediaModes;
  }
  // lineSetDefaultMediaDetection returns at once; waits (<= 5 s) until the
  // server applied it, so calls offered from now on are ours to answer.
  bool Detect(HDRVLINE hd_line, DWORD media_modes) {
    if (T().TSPI_lineSetDefaultMediaDetection(hd_line, media_modes) != 0) return false;
    const absl::Time deadline = MonotonicNow() + absl::Seconds(5);
    while (MonotonicNow() < deadline) {
      if (OpenMediaModes(hd_line) == media_modes) return true;
      absl::SleepFor(absl::Milliseconds(5));
    }
    return false;
  }
  DWORD StateOf(HDRVCALL hd_call) {
    auto status = Buffer(sizeof(LINECALLSTATUS), 512);
    if (T().TSPI_lineGetCallStatus(hd_call, reinterpret_cast<LPLINECALLSTATUS>(status.data())) != 0) {
      return 0;
    }
    return Fixed<LINECALLSTATUS>(status).dwCallState;
  }
  bool NewCallCount(HTAPILINE ht_line, size_t n) {
    size_t count = 0;
    for (const RecordedEvent& e : harness_->events()) {
      if (e.msg == LINE_NEWCALL && e.ht_line == ht_line) ++count;
    }
    return count == n;
  }

  static inline std::string dir_;
  static inline ServerProcess* server_ = nullptr;
  static inline bool server_ok_ = false;
  static inline std::string server_error_;
  static inline TapiSrvHarness* harness_ = nullptr;
  static inline bool load_ok_ = false;
  static inline std::string load_error_;
  static inline DWORD num_lines_ = 0;
};

TEST_F(TspHarnessTest, EnumerateInitShutdownKeepsDeviceIds) {
  // First start: no device map yet, but the server answers at enumeration:
  // its lines are static devices (no LINE_CREATE), known before providerInit.
  StartProvider();
  EXPECT_EQ(num_lines_, 9u);  // sim/100..107, sim/199
  std::vector<std::string> ids = {"sim/100", "sim/101", "sim/102", "sim/199"};
  std::vector<DWORD> first;
  for (const auto& id : ids) first.push_back(DeviceOf(id));
  for (DWORD d : first) EXPECT_NE(d, 0xFFFFFFFF);
  EXPECT_EQ(harness_->create_count(), 0u);
  ASSERT_EQ(harness_->Stop(), 0);

  // Second start in the same process: the persisted map gives the same ids
  // through providerEnumDevices, and no LINE_CREATE.
  harness_->ClearEvents();
  StartProvider();
  EXPECT_GE(num_lines_, 9u);
  for (size_t i = 0; i < ids.size(); ++i) {
    EXPECT_EQ(DeviceOf(ids[i]), first[i]) << ids[i];
  }
  EXPECT_EQ(harness_->created_devices().size(), 0u);
  // Device ids are base + index for enumerated lines.
  for (DWORD d : first) EXPECT_LT(d - TapiSrvHarness::kLineBase, num_lines_);
}

TEST_F(TspHarnessTest, NegotiatesTspiVersions) {
  DWORD v = 0;
  EXPECT_EQ(T().TSPI_lineNegotiateTSPIVersion(0xFFFFFFFF, 0x00010003, 0x00010004, &v),
            ::LINEERR_INCOMPATIBLEAPIVERSION);
  EXPECT_EQ(T().TSPI_lineNegotiateTSPIVersion(0xFFFFFFFF, 0x00030001, 0x00040000, &v),
            ::LINEERR_INCOMPATIBLEAPIVERSION);
  EXPECT_EQ(T().TSPI_lineNegotiateTSPIVersion(0xFFFFFFFF, 0x00010004, 0x00030001, &v), 0);
  EXPECT_EQ(v, 0x00030000u);
  const DWORD device = DeviceOf("sim/100");
  EXPECT_EQ(T().TSPI_lineNegotiateTSPIVersion(device, 0x00020000, 0x00020001, &v), 0);
  EXPECT_EQ(v, 0x00020001u);
  EXPECT_EQ(T().TSPI_lineNegotiateTSPIVersion(9999, 0x00020000, 0x00030000, &v),
            ::LINEERR_BADDEVICEID);
  EXPECT_EQ(T().TSPI_lineNegotiateTSPIVersion(device, 0x00020000, 0x00030000, nullptr),
            ::LINEERR_INVALPOINTER);
}

TEST_F(TspHarnessTest, CapsRespectTotalSizeAndAreTruthful) {
  const DWORD device = DeviceOf("sim/100");
  ASSERT_NE(device, 0xFFFFFFFF);
  // Below the fixed size of the version: STRUCTURETOOSMALL, nothing written.
  auto tiny = Buffer(100, 512);
  EXPECT_EQ(T().TSPI_lineGetDevCaps(device, 0x00030000, 0, reinterpret_cast<LPLINEDEVCAPS>(tiny.data())),
            ::LINEERR_STRUCTURETOOSMALL);
  EXPECT_TRUE(PoisonIntact(tiny, 100));
  // Exactly the fixed part: success, dwNeededSize says how much more.
  auto fixed = Buffer(sizeof(LINEDEVCAPS), 1024);
  ASSERT_EQ(T().TSPI_lineGetDevCaps(device, 0x00030000, 0, reinterpret_cast<LPLINEDEVCAPS>(fixed.data())), 0);
  auto caps = Fixed<LINEDEVCAPS>(fixed);
  EXPECT_GT(caps.dwNeededSize, caps.dwTotalSize);
  EXPECT_EQ(caps.dwUsedSize, sizeof(LINEDEVCAPS));
  EXPECT_EQ(caps.dwLineNameSize, 0u);
  EXPECT_TRUE(PoisonIntact(fixed, sizeof(LINEDEVCAPS)));
  // TAPI 2.0 layout: its smaller minimum is accepted.
  auto v20 = Buffer(offsetof(LINEDEVCAPS, PermanentLineGuid), 1024);
  ASSERT_EQ(T().TSPI_lineGetDevCaps(device, 0x00020000, 0, reinterpret_cast<LPLINEDEVCAPS>(v20.data())), 0);
  EXPECT_TRUE(PoisonIntact(v20, offsetof(LINEDEVCAPS, PermanentLineGuid)));
  // Enough room: everything is there.
  auto big = Buffer(4096);
  ASSERT_EQ(T().TSPI_lineGetDevCaps(device, 0x00030000, 0, reinterpret_cast<LPLINEDEVCAPS>(big.data())), 0);
  caps = Fixed<LINEDEVCAPS>(big);
  EXPECT_EQ(caps.dwNeededSize, caps.dwUsedSize);
  EXPECT_LE(caps.dwUsedSize, 4096u);
  EXPECT_TRUE(PoisonIntact(big, 4096));
  EXPECT_EQ(String16At(big, caps.dwSwitchInfoSize, caps.dwSwitchInfoOffset), "sim/100");
  EXPECT_FALSE(String16At(big, caps.dwLineNameSize, caps.dwLineNameOffset).empty());
  EXPECT_EQ(caps.dwStringFormat, static_cast<DWORD>(STRINGFORMAT_UNICODE));
  EXPECT_EQ(caps.dwLineFeatures, static_cast<DWORD>(LINEFEATURE_MAKECALL));
  EXPECT_NE(caps.dwMediaModes & LINEMEDIAMODE_INTERACTIVEVOICE, 0u);
  EXPECT_EQ(caps.dwGenerateDigitModes & ~static_cast<DWORD>(LINEDIGITMODE_DTMF | LINEDIGITMODE_PULSE), 0u);
  EXPECT_NE(caps.dwMonitorDigitModes & LINEDIGITMODE_DTMF, 0u);

  // LINEADDRESSCAPS: same rules; only implemented features advertised.
  auto atiny = Buffer(64, 512);
  EXPECT_EQ(T().TSPI_lineGetAddressCaps(device, 0, 0x00030000, 0,
                                        reinterpret_cast<LPLINEADDRESSCAPS>(atiny.data())),
            ::LINEERR_STRUCTURETOOSMALL);
  EXPECT_TRUE(PoisonIntact(atiny, 64));
  auto afixed = Buffer(sizeof(LINEADDRESSCAPS), 1024);
  ASSERT_EQ(T().TSPI_lineGetAddressCaps(device, 0, 0x00030000, 0,
                                        reinterpret_cast<LPLINEADDRESSCAPS>(afixed.data())), 0);
  EXPECT_TRUE(PoisonIntact(afixed, sizeof(LINEADDRESSCAPS)));
  auto abig = Buffer(4096);
  ASSERT_EQ(T().TSPI_lineGetAddressCaps(device, 0, 0x00030000, 0,
                                        reinterpret_cast<LPLINEADDRESSCAPS>(abig.data())), 0);
  auto acaps = Fixed<LINEADDRESSCAPS>(abig);
  EXPECT_EQ(acaps.dwLineDeviceID, device);
  EXPECT_EQ(String16At(abig, acaps.dwAddressSize, acaps.dwAddressOffset), "100");
  const DWORD implemented =
      LINECALLFEATURE_ANSWER | LINECALLFEATURE_DROP | LINECALLFEATURE_HOLD |
      LINECALLFEATURE_UNHOLD | LINECALLFEATURE_ACCEPT | LINECALLFEATURE_DIAL |
      LINECALLFEATURE_REDIRECT | LINECALLFEATURE_BLINDTRANSFER | LINECALLFEATURE_SETUPTRANSFER |
      LINECALLFEATURE_COMPLETETRANSF | LINECALLFEATURE_SETUPCONF |
      LINECALLFEATURE_ADDTOCONF | LINECALLFEATURE_REMOVEFROMCONF |
      LINECALLFEATURE_GENERATEDIGITS | LINECALLFEATURE_MONITORDIGITS | LINECALLFEATURE_SETCALLDATA |
      LINECALLFEATURE_PARK | LINECALLFEATURE_PREPAREADDCONF | LINECALLFEATURE_SWAPHOLD |
      LINECALLFEATURE_SENDUSERUSER | LINECALLFEATURE_RELEASEUSERUSERINFO |
      LINECALLFEATURE_SETCALLPARAMS | LINECALLFEATURE_SETTREATMENT |
      LINECALLFEATURE_GENERATETONE | LINECALLFEATURE_GATHERDIGITS |
      LINECALLFEATURE_MONITORTONES | LINECALLFEATURE_MONITORMEDIA | LINECALLFEATURE_COMPLETECALL;
  EXPECT_EQ(acaps.dwCallFeatures & ~implemented, 0u);
  EXPECT_NE(acaps.dwCallFeatures & LINECALLFEATURE_SWAPHOLD, 0u);
  EXPECT_NE(acaps.dwCallFeatures & LINECALLFEATURE_DROP, 0u);
  EXPECT_NE(acaps.dwCallFeatures & LINECALLFEATURE_BLINDTRANSFER, 0u);
  // The sim line can also set up conferences without a call; this provider
  // cannot, so that is not advertised.
  EXPECT_EQ(acaps.dwAddressFeatures,
            static_cast<DWORD>(LINEADDRFEATURE_MAKECALL | LINEADDRFEATURE_PICKUP |
                               LINEADDRFEATURE_PICKUPDIRECT | LINEADDRFEATURE_PICKUPGROUP |
                               LINEADDRFEATURE_UNPARK | LINEADDRFEATURE_FORWARD |
                               LINEADDRFEATURE_FORWARDFWD | LINEADDRFEATURE_UNCOMPLETECALL));
  EXPECT_EQ(acaps.dwTransferModes & ~static_cast<DWORD>(LINETRANSFERMODE_TRANSFER |
                                                        LINETRANSFERMODE_CONFERENCE), 0u);
  EXPECT_EQ(T().TSPI_lineGetAddressCaps(device, 5, 0x00030000, 0,
                                        reinterpret_cast<LPLINEADDRESSCAPS>(abig.data())),
            ::LINEERR_INVALADDRESSID);

  // Unimplemented functions say so.
  LONG r = 0;
  Async([&](DRV_REQUESTID id) {
    return T().TSPI_lineSecureCall(id, reinterpret_cast<HDRVCALL>(uintptr_t{1}));
  }, &r);
  EXPECT_EQ(r, ::LINEERR_OPERATIONUNAVAIL);
  EXPECT_EQ(T().TSPI_lineForward(1, nullptr, 1, 0, nullptr, 0, nullptr, nullptr, nullptr),
            ::LINEERR_INVALLINEHANDLE);
}

TEST_F(TspHarnessTest, OpenCloseAndGetId) {
  HTAPILINE ht = nullptr;
  HDRVLINE hd = Open("sim/100", &ht);
  ASSERT_NE(hd, nullptr);
  const DWORD device = DeviceOf("sim/100");
  auto var = Buffer(sizeof(VARSTRING) + 16, 256);
  ASSERT_EQ(T().TSPI_lineGetID(hd, 0, nullptr, LINECALLSELECT_LINE,
                               reinterpret_cast<LPVARSTRING>(var.data()), u"tapi/line", nullptr), 0);
  auto vs = Fixed<VARSTRING>(var);
  EXPECT_EQ(vs.dwStringFormat, static_cast<DWORD>(STRINGFORMAT_BINARY));
  ASSERT_EQ(vs.dwStringSize, 4u);
  DWORD got = 0;
  std::memcpy(&got, var.data() + vs.dwStringOffset, 4);
  EXPECT_EQ(got, device);
  EXPECT_TRUE(PoisonIntact(var, sizeof(VARSTRING) + 16));
  EXPECT_EQ(T().TSPI_lineGetID(hd, 0, nullptr, LINECALLSELECT_LINE,
                               reinterpret_cast<LPVARSTRING>(var.data()), u"wave/in", nullptr),
            ::LINEERR_INVALDEVICECLASS);
  auto status = Buffer(sizeof(LINEDEVSTATUS) + 64, 512);
  ASSERT_EQ(T().TSPI_lineGetLineDevStatus(hd, reinterpret_cast<LPLINEDEVSTATUS>(status.data())), 0);
  EXPECT_EQ(T().TSPI_lineClose(hd), 0);
  EXPECT_EQ(T().TSPI_lineClose(hd), ::LINEERR_INVALLINEHANDLE);  // stale handle
  EXPECT_EQ(T().TSPI_lineGetLineDevStatus(hd, reinterpret_cast<LPLINEDEVSTATUS>(status.data())),
            ::LINEERR_INVALLINEHANDLE);
}

TEST_F(TspHarnessTest, OutboundCallConnectsAndDrops) {
  HTAPILINE ht_line = nullptr;
  HDRVLINE hd_line = Open("sim/100", &ht_line);
  ASSERT_NE(hd_line, nullptr);
  const HTAPICALL ht_call = reinterpret_cast<HTAPICALL>(uintptr_t{0xCA11});
  HDRVCALL hd_call = nullptr;
  const DRV_REQUESTID make = harness_->NextRequestId();
  harness_->OutboundCall(ht_call, make);
  const LONG r = T().TSPI_lineMakeCall(make, hd_line, ht_call, &hd_call, u"5550100", 0, nullptr);
  harness_->Issued(make, r);
  ASSERT_EQ(r, static_cast<LONG>(make));
  ASSERT_NE(hd_call, nullptr);  // written before returning
  EXPECT_EQ(harness_->WaitCompletion(make), 0);
  ASSERT_TRUE(harness_->WaitCallState(ht_call, LINECALLSTATE_CONNECTED));

  auto status = Buffer(sizeof(LINECALLSTATUS), 512);
  ASSERT_EQ(T().TSPI_lineGetCallStatus(hd_call, reinterpret_cast<LPLINECALLSTATUS>(status.data())), 0);
  auto cs = Fixed<LINECALLSTATUS>(status);
  EXPECT_EQ(cs.dwCallState, static_cast<DWORD>(LINECALLSTATE_CONNECTED));
  EXPECT_NE(cs.dwCallFeatures & LINECALLFEATURE_DROP, 0u);
  auto info = Buffer(2048);
  ASSERT_EQ(T().TSPI_lineGetCallInfo(hd_call, reinterpret_cast<LPLINECALLINFO>(info.data())), 0);
  auto ci = Fixed<LINECALLINFO>(info);
  EXPECT_EQ(ci.dwOrigin, static_cast<DWORD>(LINECALLORIGIN_OUTBOUND));
  EXPECT_EQ(ci.dwLineDeviceID, DeviceOf("sim/100"));
  EXPECT_TRUE(PoisonIntact(info, 2048));
  DWORD address = 99;
  EXPECT_EQ(T().TSPI_lineGetCallAddressID(hd_call, &address), 0);
  EXPECT_EQ(address, 0u);

  const DRV_REQUESTID drop =
      Async([&](DRV_REQUESTID id) { return T().TSPI_lineDrop(id, hd_call, nullptr, 0); });
  EXPECT_EQ(harness_->WaitCompletion(drop), 0);
  EXPECT_TRUE(harness_->WaitCallState(ht_call, LINECALLSTATE_IDLE));
  EXPECT_EQ(T().TSPI_lineCloseCall(hd_call), 0);
  EXPECT_EQ(T().TSPI_lineGetCallStatus(hd_call, reinterpret_cast<LPLINECALLSTATUS>(status.data())),
            ::LINEERR_INVALCALLHANDLE);
  EXPECT_EQ(T().TSPI_lineClose(hd_line), 0);
}

TEST_F(TspHarnessTest, InboundCallNewCallAnswerHoldDrop) {
  HTAPILINE ht_line = nullptr;
  HDRVLINE hd_line = Open("sim/101", &ht_line);
  ASSERT_NE(hd_line, nullptr);
  ASSERT_TRUE(Detect(hd_line, LINEMEDIAMODE_INTERACTIVEVOICE));

  // Someone else (a plain SDK client: linectl) calls 101 from 100.
  std::string out;
  ASSERT_EQ(RunLinectl({"--server", server_->address(), "--timeout", "3s", "call", "make",
                        "sim/100", "101"},
                       &out),
            0)
      << out;

  HTAPICALL ht_call = nullptr;
  HDRVCALL hd_call = nullptr;
  ASSERT_TRUE(harness_->WaitNewCall(ht_line, &ht_call, &hd_call));
  ASSERT_TRUE(harness_->WaitCallState(ht_call, LINECALLSTATE_OFFERING));
  auto info = Buffer(2048);
  ASSERT_EQ(T().TSPI_lineGetCallInfo(hd_call, reinterpret_cast<LPLINECALLINFO>(info.data())), 0);
  auto ci = Fixed<LINECALLINFO>(info);
  EXPECT_EQ(String16At(info, ci.dwCallerIDSize, ci.dwCallerIDOffset), "100");

  const DRV_REQUESTID answer =
      Async([&](DRV_REQUESTID id) { return T().TSPI_lineAnswer(id, hd_call, nullptr, 0); });
  EXPECT_EQ(harness_->WaitCompletion(answer), 0);
  ASSERT_TRUE(harness_->WaitCallState(ht_call, LINECALLSTATE_CONNECTED));
  const DRV_REQUESTID hold = Async([&](DRV_REQUESTID id) { return T().TSPI_lineHold(id, hd_call); });
  EXPECT_EQ(harness_->WaitCompletion(hold), 0);
  ASSERT_TRUE(harness_->WaitCallState(ht_call, LINECALLSTATE_ONHOLD));
  harness_->ClearEvents();
  const DRV_REQUESTID unhold =
      Async([&](DRV_REQUESTID id) { return T().TSPI_lineUnhold(id, hd_call); });
  EXPECT_EQ(harness_->WaitCompletion(unhold), 0);
  ASSERT_TRUE(harness_->WaitCallState(ht_call, LINECALLSTATE_CONNECTED));
  const DRV_REQUESTID drop =
      Async([&](DRV_REQUESTID id) { return T().TSPI_lineDrop(id, hd_call, nullptr, 0); });
  EXPECT_EQ(harness_->WaitCompletion(drop), 0);
  EXPECT_TRUE(harness_->WaitCallState(ht_call, LINECALLSTATE_IDLE));
  EXPECT_EQ(T().TSPI_lineCloseCall(hd_call), 0);
  EXPECT_EQ(T().TSPI_lineClose(hd_line), 0);
}

TEST_F(TspHarnessTest, BadInput) {
  const HDRVLINE bogus_line = reinterpret_cast<HDRVLINE>(uintptr_t{0x7777});
  const HDRVCALL bogus_call = reinterpret_cast<HDRVCALL>(uintptr_t{0x7777});
  auto status = Buffer(sizeof(LINEDEVSTATUS), 512);
  EXPECT_EQ(T().TSPI_lineGetLineDevStatus(bogus_line, reinterpret_cast<LPLINEDEVSTATUS>(status.data())),
            ::LINEERR_INVALLINEHANDLE);
  HDRVCALL hd_call = nullptr;
  LONG r = 0;
  Async([&](DRV_REQUESTID id) {
    return T().TSPI_lineMakeCall(id, bogus_line, nullptr, &hd_call, u"101", 0, nullptr);
  }, &r);
  EXPECT_EQ(r, ::LINEERR_INVALLINEHANDLE);
  Async([&](DRV_REQUESTID id) { return T().TSPI_lineAnswer(id, bogus_call, nullptr, 0); }, &r);
  EXPECT_EQ(r, ::LINEERR_INVALCALLHANDLE);
  Async([&](DRV_REQUESTID id) { return T().TSPI_lineDrop(id, bogus_call, nullptr, 0); }, &r);
  EXPECT_EQ(r, ::LINEERR_INVALCALLHANDLE);
  auto info = Buffer(2048);
  EXPECT_EQ(T().TSPI_lineGetCallInfo(bogus_call, reinterpret_cast<LPLINECALLINFO>(info.data())),
            ::LINEERR_INVALCALLHANDLE);

  HTAPILINE ht_line = nullptr;
  HDRVLINE hd_line = Open("sim/100", &ht_line);
  ASSERT_NE(hd_line, nullptr);
  Async([&](DRV_REQUESTID id) {
    return T().TSPI_lineMakeCall(id, hd_line, nullptr, nullptr, u"101", 0, nullptr);
  }, &r);
  EXPECT_EQ(r, ::LINEERR_INVALPOINTER);
  EXPECT_EQ(T().TSPI_lineGetLineDevStatus(hd_line, nullptr), ::LINEERR_INVALPOINTER);
  EXPECT_EQ(T().TSPI_lineGetDevCaps(DeviceOf("sim/100"), 0x00030000, 0, nullptr),
            ::LINEERR_INVALPOINTER);
  auto small = Buffer(sizeof(LINEDEVCAPS) - 4, 512);
  EXPECT_EQ(T().TSPI_lineGetDevCaps(DeviceOf("sim/100"), 0x00030000, 0,
                                    reinterpret_cast<LPLINEDEVCAPS>(small.data())),
            ::LINEERR_STRUCTURETOOSMALL);
  EXPECT_TRUE(PoisonIntact(small, sizeof(LINEDEVCAPS) - 4));

  // A dial string outside the dialable format: refused at once.
  const HTAPICALL ht_call = reinterpret_cast<HTAPICALL>(uintptr_t{0xBAD});
  const DRV_REQUESTID make = harness_->NextRequestId();
  harness_->OutboundCall(ht_call, make);
  r = T().TSPI_lineMakeCall(make, hd_line, ht_call, &hd_call, u"12;ATZ", 0, nullptr);
  harness_->Issued(make, r);
  EXPECT_EQ(r, ::LINEERR_INVALADDRESS);  // pre-scanned: nothing dialed
  EXPECT_EQ(T().TSPI_lineClose(hd_line), 0);
}

TEST_F(TspHarnessTest, BlindTransferMovesTheFarEndToAnotherLine) {
  HTAPILINE ht_100 = nullptr, ht_101 = nullptr;
  HDRVLINE hd_100 = Open("sim/100", &ht_100);
  HDRVLINE hd_101 = Open("sim/101", &ht_101);
  ASSERT_NE(hd_100, nullptr);
  ASSERT_NE(hd_101, nullptr);
  ASSERT_TRUE(Detect(hd_101, LINEMEDIAMODE_INTERACTIVEVOICE));
  const HDRVCALL hd_call = MakeCall(hd_100, 0xB71, u"5550100", LINECALLSTATE_CONNECTED);
  ASSERT_NE(hd_call, nullptr);
  EXPECT_EQ(Run([&](DRV_REQUESTID id) { return T().TSPI_lineBlindTransfer(id, hd_call, u"101", 0); }), 0);
  EXPECT_TRUE(harness_->WaitCallState(reinterpret_cast<HTAPICALL>(uintptr_t{0xB71}), LINECALLSTATE_IDLE));
  // The external party now rings on 101.
  HTAPICALL ht_in = nullptr;
  HDRVCALL hd_in = nullptr;
  ASSERT_TRUE(harness_->WaitNewCall(ht_101, &ht_in, &hd_in));
  ASSERT_TRUE(harness_->WaitCallState(ht_in, LINECALLSTATE_OFFERING));
  auto info = Buffer(2048);
  ASSERT_EQ(T().TSPI_lineGetCallInfo(hd_in, reinterpret_cast<LPLINECALLINFO>(info.data())), 0);
  EXPECT_EQ(Fixed<LINECALLINFO>(info).dwReason, static_cast<DWORD>(LINECALLREASON_TRANSFER));
  // Accept it, then drop it.
  EXPECT_EQ(Run([&](DRV_REQUESTID id) { return T().TSPI_lineAccept(id, hd_in, nullptr, 0); }), 0);
  EXPECT_TRUE(harness_->WaitCallState(ht_in, LINECALLSTATE_ACCEPTED));
  EXPECT_EQ(Run([&](DRV_REQUESTID id) { return T().TSPI_lineDrop(id, hd_in, nullptr, 0); }), 0);
  EXPECT_TRUE(harness_->WaitCallState(ht_in, LINECALLSTATE_IDLE));
  // A blind transfer of an idle call is refused synchronously.
  LONG r = 0;
  Async([&](DRV_REQUESTID id) { return T().TSPI_lineBlindTransfer(id, hd_call, u"101", 0); }, &r);
  EXPECT_EQ(r, ::LINEERR_INVALCALLSTATE);
  EXPECT_EQ(T().TSPI_lineCloseCall(hd_call), 0);
  EXPECT_EQ(T().TSPI_lineCloseCall(hd_in), 0);
  EXPECT_EQ(T().TSPI_lineClose(hd_101), 0);
  EXPECT_EQ(T().TSPI_lineClose(hd_100), 0);
}

TEST_F(TspHarnessTest, RedirectSendsAnOfferedCallElsewhere) {
  HTAPILINE ht_101 = nullptr;
  HDRVLINE hd_101 = Open("sim/101", &ht_101);
  ASSERT_NE(hd_101, nullptr);
  ASSERT_TRUE(Detect(hd_101, LINEMEDIAMODE_INTERACTIVEVOICE));
  std::string out;
  ASSERT_EQ(RunLinectl({"--server", server_->address(), "--timeout", "3s", "call", "make",
                        "sim/102", "101"}, &out), 0) << out;
  HTAPICALL ht_in = nullptr;
  HDRVCALL hd_in = nullptr;
  ASSERT_TRUE(harness_->WaitNewCall(ht_101, &ht_in, &hd_in));
  ASSERT_TRUE(harness_->WaitCallState(ht_in, LINECALLSTATE_OFFERING));
  EXPECT_EQ(Run([&](DRV_REQUESTID id) { return T().TSPI_lineRedirect(id, hd_in, u"199", 0); }), 0);
  EXPECT_TRUE(harness_->WaitCallState(ht_in, LINECALLSTATE_IDLE));
  EXPECT_EQ(T().TSPI_lineCloseCall(hd_in), 0);
  EXPECT_EQ(T().TSPI_lineClose(hd_101), 0);
}

TEST_F(TspHarnessTest, ConsultationTransferWithDialOnDialtone) {
  HTAPILINE ht_line = nullptr;
  HDRVLINE hd_line = Open("sim/103", &ht_line);
  ASSERT_NE(hd_line, nullptr);
  const HTAPICALL ht_call = reinterpret_cast<HTAPICALL>(uintptr_t{0xC71});
  const HDRVCALL hd_call = MakeCall(hd_line, 0xC71, u"5550100", LINECALLSTATE_CONNECTED);
  ASSERT_NE(hd_call, nullptr);

  const HTAPICALL ht_consult = reinterpret_cast<HTAPICALL>(uintptr_t{0xC72});
  HDRVCALL hd_consult = nullptr;
  const DRV_REQUESTID setup = harness_->NextRequestId();
  harness_->OutboundCall(ht_consult, setup);
  LONG r = T().TSPI_lineSetupTransfer(setup, hd_call, ht_consult, &hd_consult, nullptr);
  harness_->Issued(setup, r);
  ASSERT_EQ(r, static_cast<LONG>(setup));
  ASSERT_NE(hd_consult, nullptr);  // allocated before returning
  EXPECT_EQ(harness_->WaitCompletion(setup), 0);
  ASSERT_TRUE(harness_->WaitCallState(ht_consult, LINECALLSTATE_DIALTONE));
  EXPECT_TRUE(harness_->WaitCallState(ht_call, LINECALLSTATE_ONHOLDPENDTRANSFER));
  EXPECT_TRUE(NewCallCount(ht_line, 0));  // the consultation call is not a LINE_NEWCALL

  EXPECT_EQ(Run([&](DRV_REQUESTID id) { return T().TSPI_lineDial(id, hd_consult, u"199", 0); }), 0);
  ASSERT_TRUE(harness_->WaitCallState(ht_consult, LINECALLSTATE_CONNECTED));
  // Dial on a connected call: INVALCALLSTATE from the server.
  EXPECT_EQ(Run([&](DRV_REQUESTID id) { return T().TSPI_lineDial(id, hd_consult, u"101", 0); }),
            ::LINEERR_INVALCALLSTATE);
  // A bad consultation handle.
  Async([&](DRV_REQUESTID id) {
    return T().TSPI_lineCompleteTransfer(id, hd_call, hd_call, nullptr, nullptr,
                                         LINETRANSFERMODE_TRANSFER);
  }, &r);
  EXPECT_EQ(r, ::LINEERR_INVALCONSULTCALLHANDLE);
  EXPECT_EQ(Run([&](DRV_REQUESTID id) {
              return T().TSPI_lineCompleteTransfer(id, hd_call, hd_consult, nullptr, nullptr,
                                                   LINETRANSFERMODE_TRANSFER);
            }),
            0);
  EXPECT_TRUE(harness_->WaitCallState(ht_call, LINECALLSTATE_IDLE));
  EXPECT_TRUE(harness_->WaitCallState(ht_consult, LINECALLSTATE_IDLE));
  EXPECT_TRUE(NewCallCount(ht_line, 0));
  EXPECT_EQ(T().TSPI_lineCloseCall(hd_call), 0);
  EXPECT_EQ(T().TSPI_lineCloseCall(hd_consult), 0);
  EXPECT_EQ(T().TSPI_lineClose(hd_line), 0);
}

TEST_F(TspHarnessTest, TransferAsConferenceCreatesTheConferenceCall) {
  HTAPILINE ht_line = nullptr;
  HDRVLINE hd_line = Open("sim/104", &ht_line);
  ASSERT_NE(hd_line, nullptr);
  const HTAPICALL ht_call = reinterpret_cast<HTAPICALL>(uintptr_t{0xD71});
  const HDRVCALL hd_call = MakeCall(hd_line, 0xD71, u"5550100", LINECALLSTATE_CONNECTED);
  ASSERT_NE(hd_call, nullptr);
  const HTAPICALL ht_consult = reinterpret_cast<HTAPICALL>(uintptr_t{0xD72});
  HDRVCALL hd_consult = nullptr;
  const DRV_REQUESTID setup = harness_->NextRequestId();
  harness_->OutboundCall(ht_consult, setup);
  LONG r = T().TSPI_lineSetupTransfer(setup, hd_call, ht_consult, &hd_consult, nullptr);
  harness_->Issued(setup, r);
  ASSERT_EQ(harness_->WaitCompletion(setup), 0);
  EXPECT_EQ(Run([&](DRV_REQUESTID id) { return T().TSPI_lineDial(id, hd_consult, u"199", 0); }), 0);
  ASSERT_TRUE(harness_->WaitCallState(ht_consult, LINECALLSTATE_CONNECTED));

  const HTAPICALL ht_conf = reinterpret_cast<HTAPICALL>(uintptr_t{0xD73});
  HDRVCALL hd_conf = nullptr;
  const DRV_REQUESTID complete = harness_->NextRequestId();
  harness_->OutboundCall(ht_conf, complete);
  r = T().TSPI_lineCompleteTransfer(complete, hd_call, hd_consult, ht_conf, &hd_conf,
                                    LINETRANSFERMODE_CONFERENCE);
  harness_->Issued(complete, r);
  ASSERT_EQ(r, static_cast<LONG>(complete));
  ASSERT_NE(hd_conf, nullptr);
  EXPECT_EQ(harness_->WaitCompletion(complete), 0);
  EXPECT_TRUE(harness_->WaitCallState(ht_conf, LINECALLSTATE_CONNECTED));
  EXPECT_TRUE(harness_->WaitCallState(ht_call, LINECALLSTATE_CONFERENCED));
  EXPECT_TRUE(harness_->WaitCallState(ht_consult, LINECALLSTATE_CONFERENCED));
  EXPECT_TRUE(NewCallCount(ht_line, 0));
  EXPECT_EQ(Run([&](DRV_REQUESTID id) { return T().TSPI_lineDrop(id, hd_conf, nullptr, 0); }), 0);
  EXPECT_TRUE(harness_->WaitCallState(ht_conf, LINECALLSTATE_IDLE));
  EXPECT_TRUE(harness_->WaitCallState(ht_call, LINECALLSTATE_IDLE));
  EXPECT_TRUE(harness_->WaitCallState(ht_consult, LINECALLSTATE_IDLE));
  for (HDRVCALL c : {hd_call, hd_consult, hd_conf}) EXPECT_EQ(T().TSPI_lineCloseCall(c), 0);
  EXPECT_EQ(T().TSPI_lineClose(hd_line), 0);
}

TEST_F(TspHarnessTest, ThreePartyConferenceAddAndRemove) {
  HTAPILINE ht_line = nullptr;
  HDRVLINE hd_line = Open("sim/105", &ht_line);
  ASSERT_NE(hd_line, nullptr);
  const HTAPICALL ht_call = reinterpret_cast<HTAPICALL>(uintptr_t{0xE71});
  const HDRVCALL hd_call = MakeCall(hd_line, 0xE71, u"5550100", LINECALLSTATE_CONNECTED);
  ASSERT_NE(hd_call, nullptr);

  const HTAPICALL ht_conf = reinterpret_cast<HTAPICALL>(uintptr_t{0xE72});
  const HTAPICALL ht_consult = reinterpret_cast<HTAPICALL>(uintptr_t{0xE73});
  HDRVCALL hd_conf = nullptr, hd_consult = nullptr;
  const DRV_REQUESTID setup = harness_->NextRequestId();
  harness_->OutboundCall(ht_conf, setup);
  harness_->OutboundCall(ht_consult, setup);
  LONG r = T().TSPI_lineSetupConference(setup, hd_call, hd_line, ht_conf, &hd_conf, ht_consult,
                                        &hd_consult, 3, nullptr);
  harness_->Issued(setup, r);
  ASSERT_EQ(r, static_cast<LONG>(setup));
  ASSERT_NE(hd_conf, nullptr);
  ASSERT_NE(hd_consult, nullptr);
  EXPECT_EQ(harness_->WaitCompletion(setup), 0);
  EXPECT_TRUE(harness_->WaitCallState(ht_conf, LINECALLSTATE_ONHOLDPENDCONF));
  EXPECT_TRUE(harness_->WaitCallState(ht_call, LINECALLSTATE_CONFERENCED));
  ASSERT_TRUE(harness_->WaitCallState(ht_consult, LINECALLSTATE_DIALTONE));
  EXPECT_EQ(Run([&](DRV_REQUESTID id) { return T().TSPI_lineDial(id, hd_consult, u"199", 0); }), 0);
  ASSERT_TRUE(harness_->WaitCallState(ht_consult, LINECALLSTATE_CONNECTED));
  EXPECT_EQ(Run([&](DRV_REQUESTID id) {
              return T().TSPI_lineAddToConference(id, hd_conf, hd_consult);
            }),
            0);
  EXPECT_TRUE(harness_->WaitCallState(ht_consult, LINECALLSTATE_CONFERENCED));
  EXPECT_TRUE(harness_->WaitCallState(ht_conf, LINECALLSTATE_CONNECTED));

  EXPECT_TRUE(NewCallCount(ht_line, 0));
  // A third party: linePrepareAddToConference puts the conference on hold
  // pending a new consultation call (DIALTONE), dialed, then added.
  auto info = Buffer(2048);
  ASSERT_EQ(T().TSPI_lineGetCallInfo(hd_conf, reinterpret_cast<LPLINECALLINFO>(info.data())), 0);
  EXPECT_EQ(Fixed<LINECALLINFO>(info).dwOrigin, static_cast<DWORD>(LINECALLORIGIN_CONFERENCE));
  auto status = Buffer(sizeof(LINECALLSTATUS), 512);
  ASSERT_EQ(T().TSPI_lineGetCallStatus(hd_conf, reinterpret_cast<LPLINECALLSTATUS>(status.data())), 0);
  EXPECT_NE(Fixed<LINECALLSTATUS>(status).dwCallFeatures & LINECALLFEATURE_PREPAREADDCONF, 0u);
  LONG bad = 0;
  HDRVCALL hd_none = nullptr;
  Async([&](DRV_REQUESTID id) {
    return T().TSPI_linePrepareAddToConference(id, hd_call, nullptr, &hd_none, nullptr);
  }, &bad);
  EXPECT_EQ(bad, ::LINEERR_INVALCONFCALLHANDLE);  // not a conference call
  Async([&](DRV_REQUESTID id) {
    return T().TSPI_linePrepareAddToConference(id, hd_conf, nullptr, nullptr, nullptr);
  }, &bad);
  EXPECT_EQ(bad, ::LINEERR_INVALPOINTER);
  const HTAPICALL ht_third = reinterpret_cast<HTAPICALL>(uintptr_t{0xE74});
  HDRVCALL hd_third = nullptr;
  const DRV_REQUESTID prepare = harness_->NextRequestId();
  harness_->OutboundCall(ht_third, prepare);
  r = T().TSPI_linePrepareAddToConference(prepare, hd_conf, ht_third, &hd_third, nullptr);
  harness_->Issued(prepare, r);
  ASSERT_EQ(r, static_cast<LONG>(prepare));
  ASSERT_EQ(harness_->WaitCompletion(prepare), 0);
  ASSERT_TRUE(harness_->WaitCallState(ht_third, LINECALLSTATE_DIALTONE));
  EXPECT_EQ(StateOf(hd_conf), static_cast<DWORD>(LINECALLSTATE_ONHOLDPENDCONF));
  EXPECT_EQ(Run([&](DRV_REQUESTID id) { return T().TSPI_lineDial(id, hd_third, u"5550100", 0); }), 0);
  ASSERT_TRUE(harness_->WaitCallState(ht_third, LINECALLSTATE_CONNECTED));
  EXPECT_EQ(Run([&](DRV_REQUESTID id) {
              return T().TSPI_lineAddToConference(id, hd_conf, hd_third);
            }),
            0);
  EXPECT_TRUE(harness_->WaitCallState(ht_third, LINECALLSTATE_CONFERENCED));
  EXPECT_TRUE(NewCallCount(ht_line, 0));
  EXPECT_EQ(Run([&](DRV_REQUESTID id) { return T().TSPI_lineRemoveFromConference(id, hd_third); }), 0);
  EXPECT_TRUE(harness_->WaitCallState(ht_third, LINECALLSTATE_IDLE));
  EXPECT_EQ(T().TSPI_lineCloseCall(hd_third), 0);
  // Remove one party: it goes idle; the conference collapses to the last one.
  EXPECT_EQ(Run([&](DRV_REQUESTID id) { return T().TSPI_lineRemoveFromConference(id, hd_consult); }), 0);
  EXPECT_TRUE(harness_->WaitCallState(ht_consult, LINECALLSTATE_IDLE));
  // Removing a call that is not conferenced: INVALCALLSTATE.
  EXPECT_EQ(Run([&](DRV_REQUESTID id) { return T().TSPI_lineRemoveFromConference(id, hd_consult); }),
            ::LINEERR_INVALCALLSTATE);
  // One party left: the conference collapses (or is dropped) and the call ends.
  if (StateOf(hd_conf) != LINECALLSTATE_IDLE && StateOf(hd_conf) != 0) {
    (void)Run([&](DRV_REQUESTID id) { return T().TSPI_lineDrop(id, hd_conf, nullptr, 0); });
  }
  if (StateOf(hd_call) != LINECALLSTATE_IDLE) {
    EXPECT_EQ(Run([&](DRV_REQUESTID id) { return T().TSPI_lineDrop(id, hd_call, nullptr, 0); }), 0);
  }
  EXPECT_TRUE(harness_->WaitCallState(ht_call, LINECALLSTATE_IDLE));
  EXPECT_TRUE(harness_->WaitCallState(ht_conf, LINECALLSTATE_IDLE));
  for (HDRVCALL c : {hd_call, hd_conf, hd_consult}) EXPECT_EQ(T().TSPI_lineCloseCall(c), 0);
  EXPECT_EQ(T().TSPI_lineClose(hd_line), 0);
}

TEST_F(TspHarnessTest, MonitorAndGenerateDigits) {
  HTAPILINE ht_line = nullptr;
  HDRVLINE hd_line = Open("sim/106", &ht_line);
  ASSERT_NE(hd_line, nullptr);
  // The IVR answers after 0.5 s and sends "1#".
  const HTAPICALL ht_call = reinterpret_cast<HTAPICALL>(uintptr_t{0xF71});
  HDRVCALL hd_call = nullptr;
  const DRV_REQUESTID make = harness_->NextRequestId();
  harness_->OutboundCall(ht_call, make);
  LONG r = T().TSPI_lineMakeCall(make, hd_line, ht_call, &hd_call, u"5550105", 0, nullptr);
  harness_->Issued(make, r);
  ASSERT_EQ(harness_->WaitCompletion(make), 0);
  EXPECT_EQ(T().TSPI_lineMonitorDigits(hd_call, 0x80000000), ::LINEERR_INVALDIGITMODE);
  ASSERT_EQ(T().TSPI_lineMonitorDigits(hd_call, LINEDIGITMODE_DTMF), 0);
  ASSERT_TRUE(harness_->WaitCallState(ht_call, LINECALLSTATE_CONNECTED));
  ASSERT_TRUE(harness_->WaitEvent([&](const RecordedEvent& e) {
    return e.msg == LINE_MONITORDIGITS && e.ht_call == ht_call && e.p1 == '#';
  }));
  std::string digits;
  for (const RecordedEvent& e : harness_->events()) {
    if (e.msg == LINE_MONITORDIGITS && e.ht_call == ht_call) {
      digits.push_back(static_cast<char>(e.p1));
      EXPECT_EQ(e.p2, static_cast<DWORD_PTR>(LINEDIGITMODE_DTMF));
    }
  }
  EXPECT_EQ(digits, "1#");

  // Generate: LINE_GENERATE DONE with our end-to-end id.
  EXPECT_EQ(T().TSPI_lineGenerateDigits(hd_call, 41, LINEDIGITMODE_DTMF, u"12x", 0),
            ::LINEERR_INVALDIGITS);
  EXPECT_EQ(T().TSPI_lineGenerateDigits(hd_call, 41, 0x40, u"12", 0), ::LINEERR_INVALDIGITMODE);
  ASSERT_EQ(T().TSPI_lineGenerateDigits(hd_call, 42, LINEDIGITMODE_DTMF, u"12#", 0), 0);
  RecordedEvent gen;
  ASSERT_TRUE(harness_->WaitEvent([&](const RecordedEvent& e) {
    return e.msg == LINE_GENERATE && e.ht_call == ht_call;
  }, absl::Seconds(5), &gen));
  EXPECT_EQ(gen.p1, static_cast<DWORD_PTR>(LINEGENERATETERM_DONE));
  EXPECT_EQ(gen.p2, 42u);

  // App-specific and call data.
  ASSERT_EQ(T().TSPI_lineSetAppSpecific(hd_call, 0x1234ABCD), 0);
  auto info = Buffer(2048);
  ASSERT_EQ(T().TSPI_lineGetCallInfo(hd_call, reinterpret_cast<LPLINECALLINFO>(info.data())), 0);
  EXPECT_EQ(Fixed<LINECALLINFO>(info).dwAppSpecific, 0x1234ABCDu);
  EXPECT_TRUE(harness_->WaitEvent([&](const RecordedEvent& e) {
    return e.msg == LINE_CALLINFO && e.ht_call == ht_call && (e.p1 & LINECALLINFOSTATE_APPSPECIFIC);
  }));
  char data[] = "hello";
  EXPECT_EQ(Run([&](DRV_REQUESTID id) { return T().TSPI_lineSetCallData(id, hd_call, data, 5); }), 0);
  EXPECT_TRUE(harness_->WaitEvent([&](const RecordedEvent& e) {
    return e.msg == LINE_CALLINFO && e.ht_call == ht_call && (e.p1 & LINECALLINFOSTATE_CALLDATA);
  }));
  ASSERT_EQ(T().TSPI_lineGetCallInfo(hd_call, reinterpret_cast<LPLINECALLINFO>(info.data())), 0);
  auto ci = Fixed<LINECALLINFO>(info);
  ASSERT_EQ(ci.dwCallDataSize, 5u);
  EXPECT_EQ(std::memcmp(info.data() + ci.dwCallDataOffset, "hello", 5), 0);

  EXPECT_EQ(Run([&](DRV_REQUESTID id) { return T().TSPI_lineDrop(id, hd_call, nullptr, 0); }), 0);
  EXPECT_TRUE(harness_->WaitCallState(ht_call, LINECALLSTATE_IDLE));
  EXPECT_EQ(T().TSPI_lineMonitorDigits(hd_call, 0), ::LINEERR_INVALCALLSTATE);
  EXPECT_EQ(T().TSPI_lineCloseCall(hd_call), 0);
  EXPECT_EQ(T().TSPI_lineSetAppSpecific(hd_call, 1), ::LINEERR_INVALCALLHANDLE);
  EXPECT_EQ(T().TSPI_lineClose(hd_line), 0);
}

// Threads that only burn CPU until destroyed (TAPISRV on a busy machine).
class CpuHog {
 public:
  explicit CpuHog(int threads) {
    for (int i = 0; i < threads; ++i) {
      threads_.emplace_back([this] {
        volatile uint64_t x = 0;
        while (!stop_.load(std::memory_order_relaxed)) x = x + 1;
      });
    }
  }
  ~CpuHog() {
    stop_ = true;
    for (std::thread& t : threads_) t.join();
  }

 private:
  std::atomic<bool> stop_{false};
  std::vector<std::thread> threads_;
};

// Many make/drop cycles under CPU load. Every third cycle the "TAPISRV
// thread" is preempted right after TSPI_lineMakeCall returned and records the
// return only after the call's first LINE_CALLSTATE: TSPI allows the
// completion before the function returns, and the call's states must still
// come after that completion (the harness checks every event).
TEST_F(TspHarnessTest, MakeDropCyclesUnderLoadCompleteBeforeCallState) {
  HTAPILINE ht_line = nullptr;
  HDRVLINE hd_line = Open("sim/104", &ht_line);
  ASSERT_NE(hd_line, nullptr);
  CpuHog hog(2);
  constexpr int kCycles = 45;
  for (int i = 0; i < kCycles; ++i) {
    SCOPED_TRACE(absl::StrCat("cycle ", i));
    const HTAPICALL ht_call = reinterpret_cast<HTAPICALL>(uintptr_t{0x5A0000} + i);
    HDRVCALL hd_call = nullptr;
    const DRV_REQUESTID make = harness_->NextRequestId();
    harness_->OutboundCall(ht_call, make);
    const LONG r = T().TSPI_lineMakeCall(make, hd_line, ht_call, &hd_call, u"5550100", 0, nullptr);
    if (i % 3 == 0) {
      EXPECT_TRUE(harness_->WaitEvent([&](const RecordedEvent& e) {
        return e.msg == LINE_CALLSTATE && e.ht_call == ht_call;
      }));
    }
    harness_->Issued(make, r);
    ASSERT_EQ(r, static_cast<LONG>(make));
    ASSERT_EQ(harness_->WaitCompletion(make), 0);
    ASSERT_TRUE(harness_->WaitCallState(ht_call, LINECALLSTATE_CONNECTED));
    ASSERT_EQ(Run([&](DRV_REQUESTID id) { return T().TSPI_lineDrop(id, hd_call, nullptr, 0); }), 0);
    ASSERT_TRUE(harness_->WaitCallState(ht_call, LINECALLSTATE_IDLE));
    ASSERT_EQ(T().TSPI_lineCloseCall(hd_call), 0);
  }
  EXPECT_EQ(T().TSPI_lineClose(hd_line), 0);
}

// Several lineMakeCalls in flight on one line at once, issued from different
// threads: each htCall gets the states of its own call (the provider binds a
// call to its handle by the request's response, never by arrival order).
TEST_F(TspHarnessTest, ConcurrentMakeCallsOnOneLineKeepTheirOwnCalls) {
  HTAPILINE ht_line = nullptr;
  HDRVLINE hd_line = Open("sim/105", &ht_line);
  ASSERT_NE(hd_line, nullptr);
  CpuHog hog(1);
  struct Leg {
    const char16_t* dest;
    const char* dialed;
    DWORD final_state;  // reached, and the call never goes beyond it
  };
  const Leg legs[] = {{u"5550100", "5550100", LINECALLSTATE_CONNECTED},
                      {u"5550101", "5550101", LINECALLSTATE_BUSY},
                      {u"5550102", "5550102", LINECALLSTATE_RINGBACK}};
  constexpr int kRounds = 8;
  for (int round = 0; round < kRounds; ++round) {
    SCOPED_TRACE(absl::StrCat("round ", round));
    HTAPICALL ht[3];
    HDRVCALL hd[3] = {};
    DRV_REQUESTID make[3];
    LONG returned[3];
    for (int k = 0; k < 3; ++k) {
      ht[k] = reinterpret_cast<HTAPICALL>(uintptr_t{0x6B0000} + round * 16 + k);
      make[k] = harness_->NextRequestId();
      harness_->OutboundCall(ht[k], make[k]);
    }
    std::vector<std::thread> threads;
    for (int k = 0; k < 3; ++k) {
      threads.emplace_back([&, k] {
        returned[k] = T().TSPI_lineMakeCall(make[k], hd_line, ht[k], &hd[k], legs[k].dest, 0, nullptr);
        harness_->Issued(make[k], returned[k]);
      });
    }
    for (std::thread& t : threads) t.join();
    for (int k = 0; k < 3; ++k) {
      ASSERT_EQ(returned[k], static_cast<LONG>(make[k]));
      ASSERT_EQ(harness_->WaitCompletion(make[k]), 0);
      ASSERT_TRUE(harness_->WaitCallState(ht[k], legs[k].final_state)) << legs[k].dialed;
    }
    absl::SleepFor(absl::Milliseconds(100));  // let stray events (if any) arrive
    for (int k = 0; k < 3; ++k) {
      auto info = Buffer(2048);
      ASSERT_EQ(T().TSPI_lineGetCallInfo(hd[k], reinterpret_cast<LPLINECALLINFO>(info.data())), 0);
      const auto ci = Fixed<LINECALLINFO>(info);
      EXPECT_EQ(String16At(info, ci.dwCalledPartySize, ci.dwCalledPartyOffset), legs[k].dialed);
      // The states this htCall saw: all its own (busy never connects, the
      // unanswered one never leaves ringback).
      for (const RecordedEvent& e : harness_->events()) {
        if (e.msg != LINE_CALLSTATE || e.ht_call != ht[k]) continue;
        if (legs[k].final_state == LINECALLSTATE_BUSY) {
          EXPECT_NE(e.p1, DWORD{LINECALLSTATE_CONNECTED});
        }
        if (legs[k].final_state == LINECALLSTATE_RINGBACK) {
          EXPECT_NE(e.p1, DWORD{LINECALLSTATE_CONNECTED});
          EXPECT_NE(e.p1, DWORD{LINECALLSTATE_BUSY});
        }
        if (legs[k].final_state == LINECALLSTATE_CONNECTED) {
          EXPECT_NE(e.p1, DWORD{LINECALLSTATE_BUSY});
        }
      }
    }
    for (int k = 0; k < 3; ++k) {
      EXPECT_EQ(Run([&](DRV_REQUESTID id) { return T().TSPI_lineDrop(id, hd[k], nullptr, 0); }), 0);
      EXPECT_TRUE(harness_->WaitCallState(ht[k], LINECALLSTATE_IDLE));
      EXPECT_EQ(T().TSPI_lineCloseCall(hd[k]), 0);
    }
  }
  EXPECT_EQ(T().TSPI_lineClose(hd_line), 0);
}

// lineSetDefaultMediaDetection never waits on the network: with the server
// stopped (SIGSTOP) it returns at once; the OpenLine times out, is retried
// with backoff and applied once the server runs again; then an offered call
// is ours to answer.
TEST_F(TspHarnessTest, MediaDetectionReturnsAtOnceAndAppliesInTheBackground) {
  HTAPILINE ht_line = nullptr;
  HDRVLINE hd_line = Open("sim/106", &ht_line);
  ASSERT_NE(hd_line, nullptr);
  EXPECT_EQ(T().TSPI_lineSetDefaultMediaDetection(hd_line, 0x00010000), ::LINEERR_INVALMEDIAMODE);
  EXPECT_EQ(T().TSPI_lineSetDefaultMediaDetection(hd_line, LINEMEDIAMODE_INTERACTIVEVOICE | 1),
            ::LINEERR_INVALMEDIAMODE);
  EXPECT_EQ(T().TSPI_lineSetDefaultMediaDetection(reinterpret_cast<HDRVLINE>(uintptr_t{0x7777}),
                                                  LINEMEDIAMODE_INTERACTIVEVOICE),
            ::LINEERR_INVALLINEHANDLE);
  server_->Pause();
  const absl::Time start = absl::Now();
  EXPECT_EQ(T().TSPI_lineSetDefaultMediaDetection(hd_line, LINEMEDIAMODE_INTERACTIVEVOICE), 0);
  const absl::Duration took = absl::Now() - start;
  EXPECT_LT(took, absl::Milliseconds(500)) << "waited on the network";  // was the 1 s deadline
  EXPECT_EQ(OpenMediaModes(hd_line), 0u);  // not applied yet
  absl::SleepFor(absl::Milliseconds(1300));  // the OpenLine in flight hits its 1 s deadline
  EXPECT_EQ(OpenMediaModes(hd_line), 0u);
  server_->Resume();
  const absl::Time deadline = MonotonicNow() + absl::Seconds(8);
  while (MonotonicNow() < deadline && OpenMediaModes(hd_line) != LINEMEDIAMODE_INTERACTIVEVOICE) {
    absl::SleepFor(absl::Milliseconds(10));
  }
  ASSERT_EQ(OpenMediaModes(hd_line), static_cast<DWORD>(LINEMEDIAMODE_INTERACTIVEVOICE));

  std::string out;
  ASSERT_EQ(RunLinectl({"--server", server_->address(), "--timeout", "3s", "call", "make",
                        "sim/100", "106"},
                       &out),
            0)
      << out;
  HTAPICALL ht_call = nullptr;
  HDRVCALL hd_call = nullptr;
  ASSERT_TRUE(harness_->WaitNewCall(ht_line, &ht_call, &hd_call));
  ASSERT_TRUE(harness_->WaitCallState(ht_call, LINECALLSTATE_OFFERING));
  EXPECT_EQ(Run([&](DRV_REQUESTID id) { return T().TSPI_lineAnswer(id, hd_call, nullptr, 0); }), 0);
  ASSERT_TRUE(harness_->WaitCallState(ht_call, LINECALLSTATE_CONNECTED));
  EXPECT_EQ(Run([&](DRV_REQUESTID id) { return T().TSPI_lineDrop(id, hd_call, nullptr, 0); }), 0);
  EXPECT_TRUE(harness_->WaitCallState(ht_call, LINECALLSTATE_IDLE));
  EXPECT_EQ(T().TSPI_lineCloseCall(hd_call), 0);
  EXPECT_EQ(T().TSPI_lineSetDefaultMediaDetection(hd_line, 0), 0);
  EXPECT_EQ(T().TSPI_lineClose(hd_line), 0);
}

std::u16string U16(const std::string& ascii) { return std::u16string(ascii.begin(), ascii.end()); }

// Park (non-directed: the orbit comes back in the VARSTRING before the
// completion; directed), unpark on another line, directed and group pickup of
// a call ringing elsewhere; caps say what is possible; bad parameters.
TEST_F(TspHarnessTest, ParkUnparkAndPickup) {
  HTAPILINE ht_100 = nullptr, ht_101 = nullptr;
  HDRVLINE hd_100 = Open("sim/100", &ht_100);
  HDRVLINE hd_101 = Open("sim/101", &ht_101);
  ASSERT_NE(hd_100, nullptr);
  ASSERT_NE(hd_101, nullptr);
  auto acaps = Buffer(4096);
  ASSERT_EQ(T().TSPI_lineGetAddressCaps(DeviceOf("sim/100"), 0, 0x00030000, 0,
                                        reinterpret_cast<LPLINEADDRESSCAPS>(acaps.data())),
            0);
  const auto ac = Fixed<LINEADDRESSCAPS>(acaps);
  EXPECT_EQ(ac.dwParkModes, static_cast<DWORD>(LINEPARKMODE_DIRECTED | LINEPARKMODE_NONDIRECTED));
  EXPECT_NE(ac.dwAddressFeatures & LINEADDRFEATURE_UNPARK, 0u);
  EXPECT_NE(ac.dwAddressFeatures & LINEADDRFEATURE_PICKUP, 0u);
  EXPECT_NE(ac.dwAddressFeatures & LINEADDRFEATURE_PICKUPDIRECT, 0u);
  EXPECT_NE(ac.dwAddressFeatures & LINEADDRFEATURE_PICKUPGROUP, 0u);
  EXPECT_EQ(ac.dwAddressFeatures & LINEADDRFEATURE_PICKUPHELD, 0u);
  EXPECT_NE(ac.dwCallFeatures & LINECALLFEATURE_PARK, 0u);

  // Non-directed park.
  const HDRVCALL hd_call = MakeCall(hd_100, 0xF01, u"5550100", LINECALLSTATE_CONNECTED);
  ASSERT_NE(hd_call, nullptr);
  auto status = Buffer(sizeof(LINECALLSTATUS), 512);
  ASSERT_EQ(T().TSPI_lineGetCallStatus(hd_call, reinterpret_cast<LPLINECALLSTATUS>(status.data())), 0);
  EXPECT_NE(Fixed<LINECALLSTATUS>(status).dwCallFeatures & LINECALLFEATURE_PARK, 0u);
  LONG r = 0;
  auto var = Buffer(sizeof(VARSTRING) + 64, 512);
  Async([&](DRV_REQUESTID id) { return T().TSPI_linePark(id, hd_call, 0x4, nullptr, reinterpret_cast<LPVARSTRING>(var.data())); }, &r);
  EXPECT_EQ(r, ::LINEERR_INVALPARKMODE);
  Async([&](DRV_REQUESTID id) { return T().TSPI_linePark(id, hd_call, LINEPARKMODE_NONDIRECTED, nullptr, nullptr); }, &r);
  EXPECT_EQ(r, ::LINEERR_INVALPOINTER);
  auto tiny = Buffer(sizeof(VARSTRING) - 4, 512);
  Async([&](DRV_REQUESTID id) { return T().TSPI_linePark(id, hd_call, LINEPARKMODE_NONDIRECTED, nullptr, reinterpret_cast<LPVARSTRING>(tiny.data())); }, &r);
  EXPECT_EQ(r, ::LINEERR_STRUCTURETOOSMALL);
  EXPECT_TRUE(PoisonIntact(tiny, sizeof(VARSTRING) - 4));
  Async([&](DRV_REQUESTID id) { return T().TSPI_linePark(id, hd_call, LINEPARKMODE_DIRECTED, nullptr, nullptr); }, &r);
  EXPECT_EQ(r, ::LINEERR_INVALADDRESS);
  ASSERT_EQ(Run([&](DRV_REQUESTID id) {
              return T().TSPI_linePark(id, hd_call, LINEPARKMODE_NONDIRECTED, nullptr,
                                       reinterpret_cast<LPVARSTRING>(var.data()));
            }),
            0);
  const auto vs = Fixed<VARSTRING>(var);
  EXPECT_EQ(vs.dwStringFormat, static_cast<DWORD>(STRINGFORMAT_UNICODE));
  const std::string orbit = String16At(var, vs.dwStringSize, vs.dwStringOffset);
  ASSERT_EQ(orbit.size(), 3u) << orbit;
  EXPECT_EQ(orbit[0], '7');
  EXPECT_TRUE(PoisonIntact(var, sizeof(VARSTRING) + 64));
  EXPECT_TRUE(harness_->WaitCallState(reinterpret_cast<HTAPICALL>(uintptr_t{0xF01}), LINECALLSTATE_IDLE));
  EXPECT_EQ(T().TSPI_lineCloseCall(hd_call), 0);

  // Unpark on 101: a new call, its states only after the completion.
  auto unpark = [&](uintptr_t ht, const std::string& where, HDRVCALL* hd) {
    const HTAPICALL ht_call = reinterpret_cast<HTAPICALL>(ht);
    const DRV_REQUESTID id = harness_->NextRequestId();
    harness_->OutboundCall(ht_call, id);
    const std::u16string dest = U16(where);
    const LONG returned = T().TSPI_lineUnpark(id, hd_101, 0, ht_call, hd, dest.c_str());
    harness_->Issued(id, returned);
    if (returned != static_cast<LONG>(id)) return returned;
    return harness_->WaitCompletion(id);
  };
  HDRVCALL hd_un = nullptr;
  ASSERT_EQ(unpark(0xF02, orbit, &hd_un), 0);
  ASSERT_TRUE(harness_->WaitCallState(reinterpret_cast<HTAPICALL>(uintptr_t{0xF02}), LINECALLSTATE_CONNECTED));
  auto info = Buffer(2048);
  ASSERT_EQ(T().TSPI_lineGetCallInfo(hd_un, reinterpret_cast<LPLINECALLINFO>(info.data())), 0);
  EXPECT_EQ(Fixed<LINECALLINFO>(info).dwLineDeviceID, DeviceOf("sim/101"));
  // Nothing is parked there any more.
  HDRVCALL hd_none = nullptr;
  EXPECT_EQ(unpark(0xF03, orbit, &hd_none), ::LINEERR_INVALADDRESS);
  // The failed request's handle stays valid (IDLE) until lineCloseCall.
  ASSERT_EQ(T().TSPI_lineGetCallStatus(hd_none, reinterpret_cast<LPLINECALLSTATUS>(status.data())),
            0);
  EXPECT_EQ(Fixed<LINECALLSTATUS>(status).dwCallState, static_cast<DWORD>(LINECALLSTATE_IDLE));
  EXPECT_EQ(T().TSPI_lineCloseCall(hd_none), 0);
  EXPECT_EQ(T().TSPI_lineCloseCall(hd_none), ::LINEERR_INVALCALLHANDLE);

  // Directed park of the unparked call on 742, unparked again on 101.
  EXPECT_EQ(Run([&](DRV_REQUESTID id) {
              return T().TSPI_linePark(id, hd_un, LINEPARKMODE_DIRECTED, u"742", nullptr);
            }),
            0);
  EXPECT_TRUE(harness_->WaitCallState(reinterpret_cast<HTAPICALL>(uintptr_t{0xF02}), LINECALLSTATE_IDLE));
  EXPECT_EQ(T().TSPI_lineCloseCall(hd_un), 0);
  HDRVCALL hd_back = nullptr;
  ASSERT_EQ(unpark(0xF04, "742", &hd_back), 0);
  ASSERT_TRUE(harness_->WaitCallState(reinterpret_cast<HTAPICALL>(uintptr_t{0xF04}), LINECALLSTATE_CONNECTED));
  EXPECT_EQ(Run([&](DRV_REQUESTID id) { return T().TSPI_lineDrop(id, hd_back, nullptr, 0); }), 0);
  EXPECT_TRUE(harness_->WaitCallState(reinterpret_cast<HTAPICALL>(uintptr_t{0xF04}), LINECALLSTATE_IDLE));
  EXPECT_EQ(T().TSPI_lineCloseCall(hd_back), 0);

  // Pickup of a call ringing at 103 (from 102): directed, then by group.
  auto pickup = [&](uintptr_t ht, const char16_t* dest, const char16_t* group, HDRVCALL* hd) {
    const HTAPICALL ht_call = reinterpret_cast<HTAPICALL>(ht);
    const DRV_REQUESTID id = harness_->NextRequestId();
    harness_->OutboundCall(ht_call, id);
    const LONG returned = T().TSPI_linePickup(id, hd_100, 0, ht_call, hd, dest, group);
    harness_->Issued(id, returned);
    if (returned != static_cast<LONG>(id)) return returned;
    return harness_->WaitCompletion(id);
  };
  HDRVCALL hd_pick = nullptr;
  EXPECT_EQ(pickup(0xF05, nullptr, nullptr, &hd_pick), ::LINEERR_INVALADDRESS);
  EXPECT_NE(pickup(0xF06, u"103", nullptr, &hd_pick), 0);  // nothing rings there
  for (const char16_t* group : {static_cast<const char16_t*>(nullptr), u"sales"}) {
    std::string out;
    ASSERT_EQ(RunLinectl({"--server", server_->address(), "--timeout", "3s", "call", "make",
                          "sim/102", "103"},
                         &out),
              0)
        << out;
    const uintptr_t ht = group == nullptr ? 0xF07 : 0xF08;
    HDRVCALL hd_p = nullptr;
    ASSERT_EQ(pickup(ht, group == nullptr ? u"103" : nullptr, group, &hd_p), 0);
    ASSERT_TRUE(harness_->WaitCallState(reinterpret_cast<HTAPICALL>(ht), LINECALLSTATE_CONNECTED));
    info = Buffer(2048);
    ASSERT_EQ(T().TSPI_lineGetCallInfo(hd_p, reinterpret_cast<LPLINECALLINFO>(info.data())), 0);
    const auto pci = Fixed<LINECALLINFO>(info);
    EXPECT_EQ(String16At(info, pci.dwCallerIDSize, pci.dwCallerIDOffset), "102");
    EXPECT_EQ(Run([&](DRV_REQUESTID id) { return T().TSPI_lineDrop(id, hd_p, nullptr, 0); }), 0);
    EXPECT_TRUE(harness_->WaitCallState(reinterpret_cast<HTAPICALL>(ht), LINECALLSTATE_IDLE));
    EXPECT_EQ(T().TSPI_lineCloseCall(hd_p), 0);
  }
  EXPECT_EQ(T().TSPI_lineClose(hd_100), 0);
  EXPECT_EQ(T().TSPI_lineClose(hd_101), 0);
}

// A LINEFORWARDLIST in a buffer: entries (TSPI 3.0 LINEFORWARD), then the
// destinations they point at.
std::vector<unsigned char> ForwardList(const std::vector<std::pair<DWORD, std::string>>& rules) {
  const size_t header = offsetof(LINEFORWARDLIST, ForwardList);
  size_t size = header + rules.size() * sizeof(LINEFORWARD);
  for (const auto& r : rules) size += (r.second.size() + 1) * 2;
  std::vector<unsigned char> b(size, 0);
  DWORD total = static_cast<DWORD>(size), n = static_cast<DWORD>(rules.size());
  std::memcpy(b.data(), &total, 4);
  std::memcpy(b.data() + 4, &n, 4);
  size_t text = header + rules.size() * sizeof(LINEFORWARD);
  for (size_t i = 0; i < rules.size(); ++i) {
    LINEFORWARD f{};
    f.dwForwardMode = rules[i].first;
    f.dwDestAddressSize = static_cast<DWORD>((rules[i].second.size() + 1) * 2);
    f.dwDestAddressOffset = static_cast<DWORD>(text);
    std::memcpy(b.data() + header + i * sizeof(LINEFORWARD), &f, sizeof f);
    for (char c : rules[i].second) {
      const char16_t w = static_cast<char16_t>(c);
      std::memcpy(b.data() + text, &w, 2);
      text += 2;
    }
    text += 2;
  }
  return b;
}

// lineForward: caps, the forwarding in effect (LINEADDRESSSTATUS and
// LINE_ADDRESSSTATE FORWARD), cancel with a NULL list, no consultation call,
// and malformed forward lists.
TEST_F(TspHarnessTest, ForwardSetsAndCancelsForwarding) {
  HTAPILINE ht_line = nullptr;
  HDRVLINE hd_line = Open("sim/107", &ht_line);
  ASSERT_NE(hd_line, nullptr);
  auto acaps = Buffer(4096);
  ASSERT_EQ(T().TSPI_lineGetAddressCaps(DeviceOf("sim/107"), 0, 0x00030000, 0,
                                        reinterpret_cast<LPLINEADDRESSCAPS>(acaps.data())),
            0);
  const auto ac = Fixed<LINEADDRESSCAPS>(acaps);
  EXPECT_NE(ac.dwAddressFeatures & LINEADDRFEATURE_FORWARD, 0u);
  EXPECT_NE(ac.dwForwardModes & LINEFORWARDMODE_UNCOND, 0u);
  EXPECT_EQ(ac.dwForwardModes & LINEFORWARDMODE_UNCONDSPECIFIC, 0u);
  EXPECT_GT(ac.dwMaxForwardEntries, 0u);
  EXPECT_LE(ac.dwMinFwdNumRings, ac.dwMaxFwdNumRings);

  auto forward = [&](const std::vector<unsigned char>* list, DWORD all, DWORD address,
                     HDRVCALL* consult, LONG* returned) {
    const DRV_REQUESTID id = harness_->NextRequestId();
    const LONG r = T().TSPI_lineForward(
        id, hd_line, all, address,
        list == nullptr ? nullptr
                        : reinterpret_cast<LPLINEFORWARDLIST>(const_cast<unsigned char*>(list->data())),
        0, reinterpret_cast<HTAPICALL>(uintptr_t{0x1F0}), consult, nullptr);
    harness_->Issued(id, r);
    *returned = r;
    return r == static_cast<LONG>(id) ? harness_->WaitCompletion(id) : r;
  };
  LONG r = 0;
  HDRVCALL consult = nullptr;
  // Malformed lists and bad parameters, refused at once.
  auto bad_mode = ForwardList({{0, "199"}});
  EXPECT_EQ(forward(&bad_mode, 1, 0, &consult, &r), ::LINEERR_INVALPARAM);
  auto two_modes = ForwardList({{LINEFORWARDMODE_UNCOND | LINEFORWARDMODE_BUSY, "199"}});
  EXPECT_EQ(forward(&two_modes, 1, 0, &consult, &r), ::LINEERR_INVALPARAM);
  auto specific = ForwardList({{LINEFORWARDMODE_UNCONDSPECIFIC, "199"}});
  EXPECT_EQ(forward(&specific, 1, 0, &consult, &r), ::LINEERR_INVALPARAM);
  auto outside = ForwardList({{LINEFORWARDMODE_UNCOND, "199"}});
  DWORD far = 4000;
  std::memcpy(outside.data() + offsetof(LINEFORWARDLIST, ForwardList) +
                  offsetof(LINEFORWARD, dwDestAddressOffset),
              &far, 4);
  EXPECT_EQ(forward(&outside, 1, 0, &consult, &r), ::LINEERR_INVALADDRESS);
  auto too_many = ForwardList({{LINEFORWARDMODE_UNCOND, "199"}});
  DWORD lots = 1000;
  std::memcpy(too_many.data() + 4, &lots, 4);
  EXPECT_EQ(forward(&too_many, 1, 0, &consult, &r), ::LINEERR_INVALPARAM);
  std::vector<unsigned char> tiny(8, 0);
  DWORD four = 4;
  std::memcpy(tiny.data(), &four, 4);
  EXPECT_EQ(forward(&tiny, 1, 0, &consult, &r), ::LINEERR_STRUCTURETOOSMALL);
  auto good = ForwardList({{LINEFORWARDMODE_UNCOND, "199"}});
  EXPECT_EQ(forward(&good, 0, 5, &consult, &r), ::LINEERR_INVALADDRESSID);

  // Forward everything to 199.
  consult = reinterpret_cast<HDRVCALL>(uintptr_t{0xDEAD});
  EXPECT_EQ(forward(&good, 1, 0, &consult, &r), 0);
  EXPECT_EQ(consult, nullptr);  // no consultation call
  EXPECT_TRUE(harness_->WaitEvent([&](const RecordedEvent& e) {
    return e.msg == LINE_ADDRESSSTATE && e.ht_line == ht_line && e.p1 == 0 &&
           e.p2 == LINEADDRESSSTATE_FORWARD;
  }));
  auto status = Buffer(1024);
  ASSERT_EQ(T().TSPI_lineGetAddressStatus(hd_line, 0,
                                          reinterpret_cast<LPLINEADDRESSSTATUS>(status.data())),
            0);
  auto as = Fixed<LINEADDRESSSTATUS>(status);
  ASSERT_EQ(as.dwForwardNumEntries, 1u);
  ASSERT_GE(as.dwForwardSize, sizeof(LINEFORWARD));
  LINEFORWARD entry;
  std::memcpy(&entry, status.data() + as.dwForwardOffset, sizeof entry);
  EXPECT_EQ(entry.dwForwardMode, static_cast<DWORD>(LINEFORWARDMODE_UNCOND));
  EXPECT_EQ(String16At(status, entry.dwDestAddressSize, entry.dwDestAddressOffset), "199");
  // Too small for the list: the fixed part only, dwNeededSize says how much.
  auto small = Buffer(sizeof(LINEADDRESSSTATUS), 1024);
  ASSERT_EQ(T().TSPI_lineGetAddressStatus(hd_line, 0,
                                          reinterpret_cast<LPLINEADDRESSSTATUS>(small.data())),
            0);
  EXPECT_GT(Fixed<LINEADDRESSSTATUS>(small).dwNeededSize, sizeof(LINEADDRESSSTATUS));
  EXPECT_EQ(Fixed<LINEADDRESSSTATUS>(small).dwForwardSize, 0u);
  EXPECT_TRUE(PoisonIntact(small, sizeof(LINEADDRESSSTATUS)));

  // Cancel.
  harness_->ClearEvents();
  EXPECT_EQ(forward(nullptr, 1, 0, &consult, &r), 0);
  EXPECT_TRUE(harness_->WaitEvent([&](const RecordedEvent& e) {
    return e.msg == LINE_ADDRESSSTATE && e.ht_line == ht_line && e.p2 == LINEADDRESSSTATE_FORWARD;
  }));
  status = Buffer(1024);
  ASSERT_EQ(T().TSPI_lineGetAddressStatus(hd_line, 0,
                                          reinterpret_cast<LPLINEADDRESSSTATUS>(status.data())),
            0);
  EXPECT_EQ(Fixed<LINEADDRESSSTATUS>(status).dwForwardNumEntries, 0u);
  EXPECT_EQ(T().TSPI_lineClose(hd_line), 0);
}

// Bad input everywhere: stale line and call handles, unknown device ids,
// structures below their minimum size (nothing written past dwTotalSize),
// dial strings TAPI's pre-scan refuses, NULL where TAPI allows none. Every
// refusal is synchronous (the harness checks no completion follows one).
TEST_F(TspHarnessTest, BadInputStaleHandlesStructsDialStringsNulls) {
  HTAPILINE ht_line = nullptr, ht_gone = nullptr;
  HDRVLINE hd_line = Open("sim/104", &ht_line);
  HDRVLINE hd_gone = Open("sim/105", &ht_gone);
  ASSERT_NE(hd_line, nullptr);
  ASSERT_NE(hd_gone, nullptr);
  ASSERT_EQ(T().TSPI_lineClose(hd_gone), 0);  // hd_gone is stale now
  const HDRVCALL hd_call = MakeCall(hd_line, 0xBB1, u"5550100", LINECALLSTATE_CONNECTED);
  ASSERT_NE(hd_call, nullptr);
  const HDRVCALL hd_old = MakeCall(hd_line, 0xBB2, u"5550100", LINECALLSTATE_CONNECTED);
  ASSERT_NE(hd_old, nullptr);
  ASSERT_EQ(Run([&](DRV_REQUESTID id) { return T().TSPI_lineDrop(id, hd_old, nullptr, 0); }), 0);
  ASSERT_TRUE(harness_->WaitCallState(reinterpret_cast<HTAPICALL>(uintptr_t{0xBB2}), LINECALLSTATE_IDLE));
  ASSERT_EQ(T().TSPI_lineCloseCall(hd_old), 0);  // hd_old is stale now

  auto big = Buffer(4096);
  auto* var = reinterpret_cast<LPVARSTRING>(big.data());
  HDRVCALL out_call = nullptr;
  HDRVLINE out_line = nullptr;
  DWORD dw = 0;
  LONG r = 0;
  auto async = [&](auto&& call) {
    Async(call, &r);
    return r;
  };

  // Stale line handle: LINEERR_INVALLINEHANDLE.
  const LONG kLine = ::LINEERR_INVALLINEHANDLE;
  EXPECT_EQ(T().TSPI_lineGetLineDevStatus(hd_gone, reinterpret_cast<LPLINEDEVSTATUS>(big.data())), kLine);
  EXPECT_EQ(T().TSPI_lineGetAddressStatus(hd_gone, 0, reinterpret_cast<LPLINEADDRESSSTATUS>(big.data())), kLine);
  EXPECT_EQ(T().TSPI_lineGetNumAddressIDs(hd_gone, &dw), kLine);
  EXPECT_EQ(T().TSPI_lineSetDefaultMediaDetection(hd_gone, LINEMEDIAMODE_INTERACTIVEVOICE), kLine);
  EXPECT_EQ(T().TSPI_lineSetStatusMessages(hd_gone, 0, 0), kLine);
  EXPECT_EQ(T().TSPI_lineGetID(hd_gone, 0, nullptr, LINECALLSELECT_LINE, var, u"tapi/line", nullptr), kLine);
  EXPECT_EQ(T().TSPI_lineClose(hd_gone), kLine);
  EXPECT_EQ(async([&](DRV_REQUESTID id) { return T().TSPI_lineMakeCall(id, hd_gone, nullptr, &out_call, u"101", 0, nullptr); }), kLine);
  EXPECT_EQ(async([&](DRV_REQUESTID id) { return T().TSPI_lineForward(id, hd_gone, 1, 0, nullptr, 0, nullptr, &out_call, nullptr); }), kLine);
  EXPECT_EQ(async([&](DRV_REQUESTID id) { return T().TSPI_lineUnpark(id, hd_gone, 0, nullptr, &out_call, u"700"); }), kLine);
  EXPECT_EQ(async([&](DRV_REQUESTID id) { return T().TSPI_linePickup(id, hd_gone, 0, nullptr, &out_call, u"101", nullptr); }), kLine);

  // Stale call handle: LINEERR_INVALCALLHANDLE (conference ones: INVALCONFCALLHANDLE).
  const LONG kCall = ::LINEERR_INVALCALLHANDLE;
  EXPECT_EQ(async([&](DRV_REQUESTID id) { return T().TSPI_lineAnswer(id, hd_old, nullptr, 0); }), kCall);
  EXPECT_EQ(async([&](DRV_REQUESTID id) { return T().TSPI_lineDrop(id, hd_old, nullptr, 0); }), kCall);
  EXPECT_EQ(async([&](DRV_REQUESTID id) { return T().TSPI_lineHold(id, hd_old); }), kCall);
  EXPECT_EQ(async([&](DRV_REQUESTID id) { return T().TSPI_lineUnhold(id, hd_old); }), kCall);
  EXPECT_EQ(async([&](DRV_REQUESTID id) { return T().TSPI_lineAccept(id, hd_old, nullptr, 0); }), kCall);
  EXPECT_EQ(async([&](DRV_REQUESTID id) { return T().TSPI_lineDial(id, hd_old, u"1", 0); }), kCall);
  EXPECT_EQ(async([&](DRV_REQUESTID id) { return T().TSPI_lineRedirect(id, hd_old, u"101", 0); }), kCall);
  EXPECT_EQ(async([&](DRV_REQUESTID id) { return T().TSPI_lineBlindTransfer(id, hd_old, u"101", 0); }), kCall);
  EXPECT_EQ(async([&](DRV_REQUESTID id) { return T().TSPI_lineSetupTransfer(id, hd_old, nullptr, &out_call, nullptr); }), kCall);
  EXPECT_EQ(async([&](DRV_REQUESTID id) { return T().TSPI_linePark(id, hd_old, LINEPARKMODE_DIRECTED, u"701", nullptr); }), kCall);
  EXPECT_EQ(async([&](DRV_REQUESTID id) { return T().TSPI_lineRemoveFromConference(id, hd_old); }), kCall);
  EXPECT_EQ(async([&](DRV_REQUESTID id) { return T().TSPI_lineSetCallData(id, hd_old, nullptr, 0); }), kCall);
  EXPECT_EQ(async([&](DRV_REQUESTID id) { return T().TSPI_lineAddToConference(id, hd_old, hd_call); }),
            ::LINEERR_INVALCONFCALLHANDLE);
  EXPECT_EQ(async([&](DRV_REQUESTID id) { return T().TSPI_linePrepareAddToConference(id, hd_old, nullptr, &out_call, nullptr); }),
            ::LINEERR_INVALCONFCALLHANDLE);
  EXPECT_EQ(T().TSPI_lineGenerateDigits(hd_old, 1, LINEDIGITMODE_DTMF, u"1", 0), kCall);
  EXPECT_EQ(T().TSPI_lineMonitorDigits(hd_old, LINEDIGITMODE_DTMF), kCall);
  EXPECT_EQ(T().TSPI_lineSetAppSpecific(hd_old, 1), kCall);
  EXPECT_EQ(T().TSPI_lineGetCallInfo(hd_old, reinterpret_cast<LPLINECALLINFO>(big.data())), kCall);
  EXPECT_EQ(T().TSPI_lineGetCallStatus(hd_old, reinterpret_cast<LPLINECALLSTATUS>(big.data())), kCall);
  EXPECT_EQ(T().TSPI_lineGetCallAddressID(hd_old, &dw), kCall);
  EXPECT_EQ(T().TSPI_lineGetID(nullptr, 0, hd_old, LINECALLSELECT_CALL, var, u"tapi/line", nullptr), kCall);
  EXPECT_EQ(T().TSPI_lineCloseCall(hd_old), kCall);
  EXPECT_EQ(async([&](DRV_REQUESTID id) { return T().TSPI_lineCompleteTransfer(id, hd_call, hd_old, nullptr, &out_call, LINETRANSFERMODE_TRANSFER); }),
            ::LINEERR_INVALCONSULTCALLHANDLE);

  // Unknown device id: LINEERR_BADDEVICEID.
  const DWORD kNoDevice = 9999;
  EXPECT_EQ(T().TSPI_lineGetDevCaps(kNoDevice, 0x00030000, 0, reinterpret_cast<LPLINEDEVCAPS>(big.data())), ::LINEERR_BADDEVICEID);
  EXPECT_EQ(T().TSPI_lineGetAddressCaps(kNoDevice, 0, 0x00030000, 0, reinterpret_cast<LPLINEADDRESSCAPS>(big.data())), ::LINEERR_BADDEVICEID);
  EXPECT_EQ(T().TSPI_lineNegotiateTSPIVersion(kNoDevice, 0x00020000, 0x00030000, &dw), ::LINEERR_BADDEVICEID);
  EXPECT_EQ(T().TSPI_lineOpen(kNoDevice, harness_->NewHtLine(), &out_line, 0x00030000, &TapiSrvHarness::LineEvent), ::LINEERR_BADDEVICEID);

  // Structures below their minimum: STRUCTURETOOSMALL, nothing written.
  auto too_small = [&](size_t size, auto&& call) {
    auto b = Buffer(static_cast<DWORD>(size), 1024);
    const LONG result = call(b.data());
    EXPECT_TRUE(PoisonIntact(b, size)) << size;
    return result;
  };
  const LONG kSmall = ::LINEERR_STRUCTURETOOSMALL;
  EXPECT_EQ(too_small(sizeof(LINEDEVSTATUS) - 4, [&](unsigned char* p) { return T().TSPI_lineGetLineDevStatus(hd_line, reinterpret_cast<LPLINEDEVSTATUS>(p)); }), kSmall);
  EXPECT_EQ(too_small(sizeof(LINEADDRESSSTATUS) - 4, [&](unsigned char* p) { return T().TSPI_lineGetAddressStatus(hd_line, 0, reinterpret_cast<LPLINEADDRESSSTATUS>(p)); }), kSmall);
  EXPECT_EQ(too_small(sizeof(LINECALLSTATUS) - 4, [&](unsigned char* p) { return T().TSPI_lineGetCallStatus(hd_call, reinterpret_cast<LPLINECALLSTATUS>(p)); }), kSmall);
  EXPECT_EQ(too_small(sizeof(LINECALLINFO) - 4, [&](unsigned char* p) { return T().TSPI_lineGetCallInfo(hd_call, reinterpret_cast<LPLINECALLINFO>(p)); }), kSmall);
  EXPECT_EQ(too_small(sizeof(LINEADDRESSCAPS) - 4, [&](unsigned char* p) { return T().TSPI_lineGetAddressCaps(DeviceOf("sim/104"), 0, 0x00030000, 0, reinterpret_cast<LPLINEADDRESSCAPS>(p)); }), kSmall);
  EXPECT_EQ(too_small(sizeof(VARSTRING) - 4, [&](unsigned char* p) { return T().TSPI_lineGetID(hd_line, 0, nullptr, LINECALLSELECT_LINE, reinterpret_cast<LPVARSTRING>(p), u"tapi/line", nullptr); }), kSmall);

  // Dial strings TAPI's pre-scan refuses (no DIALBILLING/DIALQUIET/
  // DIALDIALTONE caps): each its own error, at once, nothing dialed.
  const std::pair<const char16_t*, LONG> refused[] = {
      {u"555W1", ::LINEERR_DIALDIALTONE}, {u"9@5550100", ::LINEERR_DIALQUIET},
      {u"5550100$", ::LINEERR_DIALBILLING}, {u"555?", ::LINEERR_DIALPROMPT},
      {u"555:1", ::LINEERR_DIALVOICEDETECT}, {u"12;ATZ", ::LINEERR_INVALADDRESS},
      {u"call me", ::LINEERR_INVALADDRESS}};
  for (const auto& entry : refused) {
    const char16_t* dest = entry.first;  // a lambda cannot capture a structured binding (clang 14)
    const LONG err = entry.second;
    EXPECT_EQ(async([&](DRV_REQUESTID id) { return T().TSPI_lineMakeCall(id, hd_line, nullptr, &out_call, dest, 0, nullptr); }), err);
    EXPECT_EQ(async([&](DRV_REQUESTID id) { return T().TSPI_lineDial(id, hd_call, dest, 0); }), err);
  }
  EXPECT_EQ(async([&](DRV_REQUESTID id) { return T().TSPI_lineDial(id, hd_call, nullptr, 0); }), ::LINEERR_INVALADDRESS);
  EXPECT_EQ(async([&](DRV_REQUESTID id) { return T().TSPI_lineRedirect(id, hd_call, u"nowhere", 0); }), ::LINEERR_INVALADDRESS);
  EXPECT_EQ(async([&](DRV_REQUESTID id) { return T().TSPI_lineBlindTransfer(id, hd_call, u"", 0); }), ::LINEERR_INVALADDRESS);
  EXPECT_EQ(async([&](DRV_REQUESTID id) { return T().TSPI_lineBlindTransfer(id, hd_call, nullptr, 0); }), ::LINEERR_INVALADDRESS);
  // Accepted by the pre-scan, unknown to the PBX: the call fails on the network side.
  const HTAPICALL ht_bad = reinterpret_cast<HTAPICALL>(uintptr_t{0xBB3});
  HDRVCALL hd_bad = nullptr;
  const DRV_REQUESTID bad = harness_->NextRequestId();
  harness_->OutboundCall(ht_bad, bad);
  harness_->Issued(bad, T().TSPI_lineMakeCall(bad, hd_line, ht_bad, &hd_bad, u"999", 0, nullptr));
  EXPECT_EQ(harness_->WaitCompletion(bad), 0);
  EXPECT_TRUE(harness_->WaitEvent([&](const RecordedEvent& e) {
    return e.msg == LINE_CALLSTATE && e.ht_call == ht_bad && e.p1 == LINECALLSTATE_DISCONNECTED &&
           e.p2 == LINEDISCONNECTMODE_BADADDRESS;
  }));
  EXPECT_EQ(Run([&](DRV_REQUESTID id) { return T().TSPI_lineDrop(id, hd_bad, nullptr, 0); }), 0);
  EXPECT_TRUE(harness_->WaitCallState(ht_bad, LINECALLSTATE_IDLE));
  EXPECT_EQ(T().TSPI_lineCloseCall(hd_bad), 0);

  // NULL where TAPI allows none: INVALPOINTER.
  const LONG kPtr = ::LINEERR_INVALPOINTER;
  EXPECT_EQ(T().TSPI_lineOpen(DeviceOf("sim/105"), harness_->NewHtLine(), nullptr, 0x00030000, &TapiSrvHarness::LineEvent), kPtr);
  EXPECT_EQ(T().TSPI_lineNegotiateTSPIVersion(DeviceOf("sim/105"), 0x00020000, 0x00030000, nullptr), kPtr);
  EXPECT_EQ(T().TSPI_lineGetNumAddressIDs(hd_line, nullptr), kPtr);
  EXPECT_EQ(T().TSPI_lineGetAddressStatus(hd_line, 0, nullptr), kPtr);
  EXPECT_EQ(T().TSPI_lineGetCallAddressID(hd_call, nullptr), kPtr);
  EXPECT_EQ(T().TSPI_lineGetCallStatus(hd_call, nullptr), kPtr);
  EXPECT_EQ(T().TSPI_lineGetCallInfo(hd_call, nullptr), kPtr);
  EXPECT_EQ(T().TSPI_lineGetAddressCaps(DeviceOf("sim/104"), 0, 0x00030000, 0, nullptr), kPtr);
  EXPECT_EQ(T().TSPI_lineGetID(hd_line, 0, nullptr, LINECALLSELECT_LINE, nullptr, u"tapi/line", nullptr), kPtr);
  EXPECT_EQ(T().TSPI_lineGetID(hd_line, 0, nullptr, LINECALLSELECT_LINE, var, nullptr, nullptr), kPtr);
  EXPECT_EQ(async([&](DRV_REQUESTID id) { return T().TSPI_lineSetupTransfer(id, hd_call, nullptr, nullptr, nullptr); }), kPtr);
  EXPECT_EQ(async([&](DRV_REQUESTID id) { return T().TSPI_lineUnpark(id, hd_line, 0, nullptr, nullptr, u"700"); }), kPtr);
  EXPECT_EQ(async([&](DRV_REQUESTID id) { return T().TSPI_linePickup(id, hd_line, 0, nullptr, nullptr, u"101", nullptr); }), kPtr);
  EXPECT_EQ(async([&](DRV_REQUESTID id) { return T().TSPI_lineSetCallData(id, hd_call, nullptr, 4); }), kPtr);

  // The live call is unharmed by all of that.
  EXPECT_EQ(StateOf(hd_call), static_cast<DWORD>(LINECALLSTATE_CONNECTED));
  EXPECT_EQ(Run([&](DRV_REQUESTID id) { return T().TSPI_lineDrop(id, hd_call, nullptr, 0); }), 0);
  EXPECT_TRUE(harness_->WaitCallState(reinterpret_cast<HTAPICALL>(uintptr_t{0xBB1}), LINECALLSTATE_IDLE));
  EXPECT_EQ(T().TSPI_lineCloseCall(hd_call), 0);
  EXPECT_EQ(T().TSPI_lineClose(hd_line), 0);
}

// Last: kills the server.
TEST_F(TspHarnessTest, ServerLossFailsPendingRequestsAndGoesOutOfService) {
  HTAPILINE ht_line = nullptr;
  HDRVLINE hd_line = Open("sim/102", &ht_line);
  ASSERT_NE(hd_line, nullptr);
  const HTAPICALL ht_call = reinterpret_cast<HTAPICALL>(uintptr_t{0xCA12});
  HDRVCALL hd_call = nullptr;
  const DRV_REQUESTID make = harness_->NextRequestId();
  harness_->OutboundCall(ht_call, make);
  LONG r = T().TSPI_lineMakeCall(make, hd_line, ht_call, &hd_call, u"5550100", 0, nullptr);
  harness_->Issued(make, r);
  ASSERT_EQ(harness_->WaitCompletion(make), 0);
  ASSERT_TRUE(harness_->WaitCallState(ht_call, LINECALLSTATE_CONNECTED));

  // The server stops answering: the request fails at the deadline (1 s).
  server_->Pause();
  const DRV_REQUESTID hold = Async([&](DRV_REQUESTID id) { return T().TSPI_lineHold(id, hd_call); });
  const LONG held = harness_->WaitCompletion(hold);
  EXPECT_LT(held, 0);
  EXPECT_NE(held, 1);  // 1: no completion within 5 s
  // Then it dies: the open line goes out of service.
  server_->Kill();
  EXPECT_TRUE(harness_->WaitEvent([&](const RecordedEvent& e) {
    return e.msg == LINE_LINEDEVSTATE && e.ht_line == ht_line && e.p1 == LINEDEVSTATE_OUTOFSERVICE;
  }));
  // A request while it is gone fails too; shutdown completes whatever is left.
  const DRV_REQUESTID drop =
      Async([&](DRV_REQUESTID id) { return T().TSPI_lineDrop(id, hd_call, nullptr, 0); });
  EXPECT_EQ(harness_->Stop(), 0);
  const LONG dropped = harness_->WaitCompletion(drop, absl::Seconds(1));
  EXPECT_LT(dropped, 0);
}

// TSPI_providerUIIdentify: the full path of linebridge_ui.dll, in the
// directory TAPISRV loaded the provider from (docs/remote-tsp.md "The UI DLL").
TEST_F(TspHarnessTest, UIIdentifyNamesTheUiDllBesideTheProvider) {
  const std::string lib = std::getenv("LINEBRIDGE_TSP_LIBRARY");
  const std::string expected = lib.substr(0, lib.rfind('/') + 1) + "linebridge_ui.dll";
  std::vector<WCHAR> buffer(260, 0xFFFF);  // TAPI passes MAX_PATH characters
  ASSERT_EQ(harness_->tspi().TSPI_providerUIIdentify(buffer.data()), 0);
  std::string got;
  for (size_t i = 0; i < buffer.size() && buffer[i] != 0; ++i) {
    got.push_back(static_cast<char>(buffer[i]));  // the build path is ASCII
  }
  EXPECT_EQ(got, expected);
  EXPECT_EQ(buffer[got.size()], 0);
  EXPECT_EQ(harness_->tspi().TSPI_providerUIIdentify(nullptr), LINEERR_OPERATIONFAILED);
}

}  // namespace
}  // namespace linebridge::tsp_test
