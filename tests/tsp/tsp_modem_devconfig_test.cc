// lineGetDevConfig / lineSetDevConfig through linebridge.tsp, driven the way
// TAPISRV drives it, against a real linebridged whose line "modem/m0" is the
// project's V.253 modem emulator on a pty: a UMDEVCFG set by an application
// changes the AT commands the modem receives, reads back, and survives a
// restart of the daemon (which sends the stored settings to the modem again).
// The port's profile is declared (V.253), so the line keeps its device id
// across the restart (an AUTO port's line is announced again once probed).
#include <gtest/gtest.h>
#include <stdlib.h>

#include <cstring>
#include <fstream>
#include <memory>
#include <string>
#include <vector>

#include "absl/time/clock.h"
#include "linebridge/unimodem_layout.h"
#include "providers/modem/modem_emulator.h"
#include "tapi_buffers.h"
#include "tapisrv_harness.h"
#include "linebridge/deadline.h"

namespace linebridge::tsp_test {
namespace {

using modem::ModemEmulator;
namespace um = linebridge::unimodem;

DWORD Get32(const std::vector<unsigned char>& b, size_t at) {
  DWORD v;
  std::memcpy(&v, b.data() + at, sizeof v);
  return v;
}
void Put32(std::vector<unsigned char>& b, size_t at, DWORD v) {
  std::memcpy(b.data() + at, &v, sizeof v);
}

class TspModemDevConfigTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/lb-tspdevcfg.XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    emu_ = std::make_unique<ModemEmulator>(ModemEmulator::Dialect::kV253, dir_ + "/ttyModem");
    const std::string config = dir_ + "/lb.textproto";
    std::ofstream(config) << "providers {\n  modem {\n    ports {\n      name: \"m0\"\n"
                          << "      device: \"" << dir_ << "/ttyModem\"\n"
                          << "      profile: MODEM_PROFILE_V253\n"
                          << "      number: \"5550000\"\n      retry_interval_ms: 200\n"
                          << "    }\n  }\n}\n";
    std::string error;
    ASSERT_TRUE(server_.Start(dir_, &error, 0, config)) << error;
    std::ofstream conf(dir_ + "/tsp.conf");
    conf << "server = " << server_.address() << "\n"
         << "device_map = " << dir_ << "/devices.map\n"
         << "client_name = tsp-devconfig-harness\n"
         << "deadline_ms = 2000\n";
    conf.close();
    setenv("LINEBRIDGE_TSP_CONFIG", (dir_ + "/tsp.conf").c_str(), 1);
    const char* lib = std::getenv("LINEBRIDGE_TSP_LIBRARY");
    ASSERT_NE(lib, nullptr) << "LINEBRIDGE_TSP_LIBRARY is not set";
    ASSERT_TRUE(harness_.Load(lib, &error)) << error;
    ASSERT_EQ(harness_.Start(&num_lines_), 0);
    started_ = true;
  }
  void TearDown() override {
    if (started_) {
      EXPECT_EQ(harness_.Stop(), 0);
    }
    EXPECT_EQ(harness_.violations(), std::vector<std::string>{});
    server_.Stop();
    emu_.reset();
    const std::string cmd = "rm -rf '" + dir_ + "'";
    (void)std::system(cmd.c_str());
  }

  TspiTable& T() { return harness_.tspi(); }

  // The device id of "modem/m0" once it is in service, <= 10 s.
  DWORD Device() {
    const absl::Time deadline = MonotonicNow() + absl::Seconds(10);
    while (MonotonicNow() < deadline) {
      std::vector<DWORD> ids;
      for (DWORD i = 0; i < num_lines_; ++i) ids.push_back(TapiSrvHarness::kLineBase + i);
      for (DWORD id : harness_.created_devices()) ids.push_back(id);
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

  // lineGetDevConfig's block for "comm/datamodem" (empty on failure).
  std::vector<unsigned char> GetConfig(DWORD device) {
    auto b = Buffer(4096);
    if (T().TSPI_lineGetDevConfig(device, reinterpret_cast<LPVARSTRING>(b.data()),
                                  u"comm/datamodem") != 0) {
      return {};
    }
    auto vs = Fixed<VARSTRING>(b);
    EXPECT_EQ(vs.dwStringFormat, static_cast<DWORD>(STRINGFORMAT_BINARY));
    return std::vector<unsigned char>(b.begin() + vs.dwStringOffset,
                                      b.begin() + vs.dwStringOffset + vs.dwStringSize);
  }
  static DWORD SetupTimer(const std::vector<unsigned char>& block) {
    return block.size() < um::kUmDevCfgSize
               ? 0
               : Get32(block, um::kUmDevCfgModemSettings + um::kMsDwCallSetupFailTimer);
  }

  std::string dir_;
  std::unique_ptr<ModemEmulator> emu_;
  ServerProcess server_;
  TapiSrvHarness harness_;
  bool started_ = false;
  DWORD num_lines_ = 0;
};

TEST_F(TspModemDevConfigTest, SetChangesTheModemReadsBackAndSurvivesRestart) {
  const DWORD device = Device();
  ASSERT_NE(device, 0xFFFFFFFF) << "modem/m0 never came into service";
  const HTAPILINE ht_line = harness_.NewHtLine();
  HDRVLINE hd_line = nullptr;
  ASSERT_EQ(T().TSPI_lineOpen(device, ht_line, &hd_line, 0x00030000, &TapiSrvHarness::LineEvent),
            0);
  auto caps_buffer = Buffer(4096);
  ASSERT_EQ(T().TSPI_lineGetDevCaps(device, 0x00030000, 0,
                                    reinterpret_cast<LPLINEDEVCAPS>(caps_buffer.data())),
            0);
  EXPECT_NE(Fixed<LINEDEVCAPS>(caps_buffer).dwLineStates & LINEDEVSTATE_CONFIGCHANGE, 0u);

  // Sizing: a bare VARSTRING gets dwNeededSize and no data.
  auto small = Buffer(sizeof(VARSTRING));
  ASSERT_EQ(T().TSPI_lineGetDevConfig(device, reinterpret_cast<LPVARSTRING>(small.data()),
                                      u"comm/datamodem"),
            0);
  EXPECT_EQ(Fixed<VARSTRING>(small).dwNeededSize, sizeof(VARSTRING) + um::kUmDevCfgSize);
  EXPECT_EQ(Fixed<VARSTRING>(small).dwUsedSize, sizeof(VARSTRING));
  EXPECT_EQ(Fixed<VARSTRING>(small).dwStringSize, 0u);
  auto tiny = Buffer(sizeof(VARSTRING) - 1);
  EXPECT_EQ(T().TSPI_lineGetDevConfig(device, reinterpret_cast<LPVARSTRING>(tiny.data()),
                                      u"comm/datamodem"),
            ::LINEERR_STRUCTURETOOSMALL);
  EXPECT_EQ(T().TSPI_lineGetDevConfig(device, reinterpret_cast<LPVARSTRING>(small.data()),
                                      u"tapi/phone"),
            ::LINEERR_INVALDEVICECLASS);
  EXPECT_EQ(T().TSPI_lineGetDevConfig(0xFFFF, reinterpret_cast<LPVARSTRING>(small.data()),
                                      u"comm/datamodem"),
            ::LINEERR_BADDEVICEID);

  // The defaults, as an application saves them.
  std::vector<unsigned char> block = GetConfig(device);
  ASSERT_EQ(block.size(), um::kUmDevCfgSize);
  EXPECT_EQ(Get32(block, um::kHdrDwVersion), um::kMdmCfgVersion);
  EXPECT_EQ(SetupTimer(block), 60u);
  // The bring-up sent the defaults (the last of them: AT&K0).
  EXPECT_TRUE(emu_->WaitCommand("AT&K0"));
  EXPECT_TRUE(emu_->SawCommand("ATL1"));

  // A bad block changes nothing.
  std::vector<unsigned char> bad = block;
  Put32(bad, um::kHdrDwVersion, 0x00010002);
  EXPECT_EQ(T().TSPI_lineSetDevConfig(device, bad.data(), static_cast<DWORD>(bad.size()),
                                      u"comm/datamodem"),
            ::LINEERR_INVALPARAM);
  EXPECT_EQ(T().TSPI_lineSetDevConfig(device, block.data(), 20, u"comm/datamodem"),
            ::LINEERR_INVALPARAM);
  EXPECT_EQ(T().TSPI_lineSetDevConfig(device, block.data(), static_cast<DWORD>(block.size()),
                                      u"tapi/line"),
            ::LINEERR_INVALDEVICECLASS);

  // High volume, speaker off, blind dial, 45 s to set up a call.
  const size_t ms = um::kUmDevCfgModemSettings;
  Put32(block, ms + um::kMsDwCallSetupFailTimer, 45);
  Put32(block, ms + um::kMsDwSpeakerVolume, um::kMdmVolHigh);
  Put32(block, ms + um::kMsDwSpeakerMode, um::kMdmSpkrOff);
  Put32(block, ms + um::kMsDwPreferredModemOptions,
        Get32(block, ms + um::kMsDwPreferredModemOptions) | um::kMdmBlindDial);
  ASSERT_EQ(T().TSPI_lineSetDevConfig(device, block.data(), static_cast<DWORD>(block.size()),
                                      u"comm/datamodem"),
            0);
  EXPECT_TRUE(harness_.WaitEvent([&](const RecordedEvent& e) {
    return e.msg == LINE_LINEDEVSTATE && e.ht_line == ht_line &&
           e.p1 == LINEDEVSTATE_CONFIGCHANGE;
  }));
  for (const char* c : {"ATL3", "ATM0", "ATX3", "ATS7=45"}) {
    EXPECT_TRUE(emu_->WaitCommand(c)) << c;
  }
  EXPECT_EQ(GetConfig(device), block);

  // The daemon restarts: the TSP reconnects, the server sends the stored
  // settings to the modem again and reports them.
  std::string error;
  ASSERT_TRUE(server_.Restart(&error)) << error;
  const absl::Time deadline = MonotonicNow() + absl::Seconds(15);
  while (MonotonicNow() < deadline && emu_->CountCommand("ATS7=45") < 2) {
    absl::SleepFor(absl::Milliseconds(20));
  }
  EXPECT_EQ(emu_->CountCommand("ATS7=45"), 2);
  EXPECT_EQ(emu_->CountCommand("ATL3"), 2);
  EXPECT_EQ(Device(), device);
  EXPECT_EQ(GetConfig(device), block);
  EXPECT_EQ(T().TSPI_lineClose(hd_line), 0);
}

}  // namespace
}  // namespace linebridge::tsp_test
