// providerShutdown with the provider's RPCs still in flight: 1,000 lines
// opened on a real linebridged, all closed, and TSPI_providerShutdown called
// at once, while the 1,000 CloseLine RPCs are still under way. Repeated in
// one process (TAPISRV starts and stops a provider many times in its life).
// This used to crash about one run in five (SIGSEGV on a gRPC callback thread
// just after providerShutdown returned): the process must survive every round,
// every request be completed exactly once, and the provider work again after
// each shutdown.
#include <gtest/gtest.h>
#include <stdlib.h>
#include <unistd.h>

#include <cstring>
#include <fstream>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "tapisrv_harness.h"

namespace linebridge::tsp_test {
namespace {

constexpr int kLines = 1000;
constexpr DWORD kVersion = 0x00030000;

DWORD OpenMediaModes(TspiTable& t, HDRVLINE hd_line) {
  std::vector<unsigned char> b(512, 0);
  const DWORD total = sizeof(LINEDEVSTATUS) + 64;
  std::memcpy(b.data(), &total, sizeof total);
  if (t.TSPI_lineGetLineDevStatus(hd_line, reinterpret_cast<LPLINEDEVSTATUS>(b.data())) != 0) {
    return 0xFFFFFFFF;
  }
  LINEDEVSTATUS s;
  std::memcpy(&s, b.data(), sizeof s);
  return s.dwOpenMediaModes;
}

TEST(TspShutdownTest, ShutdownRightAfterClosingManyLinesIsClean) {
  char tmpl[] = "/tmp/lb-tsp-shutdown.XXXXXX";
  const std::string dir = mkdtemp(tmpl);
  std::string config = "providers { sim { name: \"sim\"\n";
  for (int i = 0; i < kLines; ++i) {
    absl::StrAppend(&config, "  extensions { number: \"", 2000 + i, "\" }\n");
  }
  config += "} }\n";
  std::ofstream(dir + "/lb.textproto") << config;
  ServerProcess server;
  std::string error;
  ASSERT_TRUE(server.Start(dir, &error, 0, dir + "/lb.textproto")) << error;
  std::ofstream(dir + "/tsp.conf") << "server = " << server.address() << "\n"
                                   << "device_map = " << dir << "/devices.map\n"
                                   << "client_name = tsp-shutdown\n"
                                   << "deadline_ms = 5000\n";
  setenv("LINEBRIDGE_TSP_CONFIG", (dir + "/tsp.conf").c_str(), 1);
  // Deliberately leaked: a provider thread may still hold its callbacks.
  auto* harness = new TapiSrvHarness();
  const char* lib = std::getenv("LINEBRIDGE_TSP_LIBRARY");
  ASSERT_NE(lib, nullptr) << "LINEBRIDGE_TSP_LIBRARY is not set";
  ASSERT_TRUE(harness->Load(lib, &error)) << error;
  TspiTable& t = harness->tspi();

  const int rounds = 6;
  for (int round = 0; round < rounds; ++round) {
    SCOPED_TRACE(absl::StrCat("round ", round));
    DWORD enumerated = 0;
    ASSERT_EQ(harness->Start(&enumerated), 0);
    // Round 0 learns the lines through LINE_CREATE; later rounds from the map.
    std::vector<DWORD> devices;
    const absl::Time known_by = absl::Now() + absl::Seconds(60);
    while (absl::Now() < known_by) {
      devices.clear();
      for (DWORD i = 0; i < enumerated; ++i) devices.push_back(TapiSrvHarness::kLineBase + i);
      for (DWORD d : harness->created_devices()) devices.push_back(d);
      if (devices.size() >= static_cast<size_t>(kLines)) break;
      absl::SleepFor(absl::Milliseconds(20));
    }
    ASSERT_GE(devices.size(), static_cast<size_t>(kLines));
    std::vector<HDRVLINE> open;
    for (DWORD d : devices) {
      HDRVLINE hd = nullptr;
      ASSERT_EQ(t.TSPI_lineOpen(d, harness->NewHtLine(), &hd, kVersion, &TapiSrvHarness::LineEvent), 0);
      ASSERT_EQ(t.TSPI_lineSetDefaultMediaDetection(hd, LINEMEDIAMODE_INTERACTIVEVOICE), 0);
      open.push_back(hd);
    }
    // Every line open on the server (so each lineClose sends a CloseLine).
    const absl::Time applied_by = absl::Now() + absl::Seconds(60);
    size_t applied = 0;
    while (absl::Now() < applied_by) {
      applied = 0;
      for (HDRVLINE hd : open) applied += OpenMediaModes(t, hd) == LINEMEDIAMODE_INTERACTIVEVOICE;
      if (applied == open.size()) break;
      absl::SleepFor(absl::Milliseconds(20));
    }
    ASSERT_EQ(applied, open.size());
    for (HDRVLINE hd : open) ASSERT_EQ(t.TSPI_lineClose(hd), 0);
    // No pause: the CloseLine RPCs are in flight.
    ASSERT_EQ(harness->Stop(), 0);
    // The crash came from a gRPC thread shortly after Shutdown returned.
    absl::SleepFor(absl::Milliseconds(50));
  }
  EXPECT_EQ(harness->TakeViolations(), std::vector<std::string>{});

  // The provider still works after all that: a call on a line of the map.
  DWORD enumerated = 0;
  ASSERT_EQ(harness->Start(&enumerated), 0);
  ASSERT_GE(enumerated, static_cast<DWORD>(kLines));
  // As the other harness tests: once the provider knows the line from the
  // server again (LINEFEATURE_MAKECALL in its caps).
  const absl::Time usable_by = absl::Now() + absl::Seconds(10);
  for (;;) {
    std::vector<unsigned char> b(4096, 0);
    const DWORD size = static_cast<DWORD>(b.size());
    std::memcpy(b.data(), &size, sizeof size);
    LINEDEVCAPS c{};
    if (t.TSPI_lineGetDevCaps(TapiSrvHarness::kLineBase, kVersion, 0,
                              reinterpret_cast<LPLINEDEVCAPS>(b.data())) == 0) {
      std::memcpy(&c, b.data(), sizeof c);
    }
    if ((c.dwLineFeatures & LINEFEATURE_MAKECALL) != 0) break;
    ASSERT_LT(absl::Now(), usable_by) << "the line never became usable";
    absl::SleepFor(absl::Milliseconds(20));
  }
  HDRVLINE hd = nullptr;
  const HTAPILINE ht_line = harness->NewHtLine();
  ASSERT_EQ(t.TSPI_lineOpen(TapiSrvHarness::kLineBase, ht_line, &hd, kVersion,
                            &TapiSrvHarness::LineEvent), 0);
  const HTAPICALL ht_call = reinterpret_cast<HTAPICALL>(uintptr_t{0x7000});
  HDRVCALL hd_call = nullptr;
  const DRV_REQUESTID make = harness->NextRequestId();
  harness->OutboundCall(ht_call, make);
  // Another extension than the line itself (SwitchInfo is "sim/<number>").
  std::vector<unsigned char> caps(4096, 0);
  const DWORD caps_size = static_cast<DWORD>(caps.size());
  std::memcpy(caps.data(), &caps_size, sizeof caps_size);
  ASSERT_EQ(t.TSPI_lineGetDevCaps(TapiSrvHarness::kLineBase, kVersion, 0,
                                  reinterpret_cast<LPLINEDEVCAPS>(caps.data())), 0);
  LINEDEVCAPS fixed;
  std::memcpy(&fixed, caps.data(), sizeof fixed);
  std::u16string self;
  for (DWORD i = 0; i + 1 < fixed.dwSwitchInfoSize; i += 2) {
    char16_t c;
    std::memcpy(&c, caps.data() + fixed.dwSwitchInfoOffset + i, 2);
    if (c == 0) break;
    self.push_back(c);
  }
  const char16_t* dest = self == u"sim/2001" ? u"2002" : u"2001";
  const LONG r = t.TSPI_lineMakeCall(make, hd, ht_call, &hd_call, dest, 0, nullptr);
  harness->Issued(make, r);
  ASSERT_EQ(r, static_cast<LONG>(make));
  EXPECT_EQ(harness->WaitCompletion(make, absl::Seconds(10)), 0);
  const DRV_REQUESTID drop = harness->NextRequestId();
  harness->Issued(drop, t.TSPI_lineDrop(drop, hd_call, nullptr, 0));
  EXPECT_EQ(harness->WaitCompletion(drop, absl::Seconds(10)), 0);
  EXPECT_TRUE(harness->WaitCallState(ht_call, LINECALLSTATE_IDLE, absl::Seconds(10)));
  EXPECT_EQ(t.TSPI_lineCloseCall(hd_call), 0);
  EXPECT_EQ(t.TSPI_lineClose(hd), 0);
  ASSERT_EQ(harness->Stop(), 0);
  EXPECT_EQ(harness->TakeViolations(), std::vector<std::string>{});
  server.Stop();
  (void)std::system(("rm -rf '" + dir + "'").c_str());
}

}  // namespace
}  // namespace linebridge::tsp_test
