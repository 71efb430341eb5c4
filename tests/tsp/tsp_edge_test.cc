// linebridge.tsp at the edges, driven the way TAPISRV drives it against real
// linebridged processes:
//  - two servers with the default configuration (both name their lines
//    sim/100 ...): 18 distinct devices, stable across provider restarts, each
//    request routed to its own line's server; a device map written before
//    servers had ids keeps its ids; two servers reporting the same server id
//    are a logged configuration error, not a merge;
//  - providerShutdown with a paused (SIGSTOP) server returns within 1 s even
//    with deadline_ms 10000, and nothing calls back afterwards;
//  - an hdCall from a call-creating function that failed stays valid until
//    lineCloseCall (CALLUNAVAIL, nothing to pick up, server down);
//  - LINE_LINEDEVSTATE(INSERVICE) when the lines first become usable after a
//    start with the server down;
//  - lineClose on a line with a call ringing in: the caps advertise
//    LINEDEVCAPFLAGS_CLOSEDROP, and the call is dropped.
#include <gtest/gtest.h>
#include <stdlib.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "tapi_buffers.h"
#include "tapisrv_harness.h"
#include "tsp_test_util.h"
#include "linebridge/deadline.h"

namespace linebridge::tsp_test {
namespace {

constexpr DWORD kVersion = 0x00030000;

struct Device {
  std::string line_id;  // SwitchInfo
  DWORD permanent_id = 0;
  std::string name;
  DWORD dev_cap_flags = 0;
  bool operator==(const Device& o) const {
    return line_id == o.line_id && permanent_id == o.permanent_id && name == o.name;
  }
};
using Devices = std::map<DWORD, Device>;  // TAPI device id -> line

// The devices whose line the provider has heard of (LINEFEATURE_MAKECALL).
Devices ReadDevices(TapiSrvHarness& harness, DWORD num_lines) {
  std::vector<DWORD> ids;
  for (DWORD i = 0; i < num_lines; ++i) ids.push_back(TapiSrvHarness::kLineBase + i);
  for (DWORD id : harness.created_devices()) ids.push_back(id);
  Devices devices;
  for (DWORD id : ids) {
    std::vector<unsigned char> b = Buffer(4096, 4096);
    if (harness.tspi().TSPI_lineGetDevCaps(id, kVersion, 0,
                                           reinterpret_cast<LPLINEDEVCAPS>(b.data())) != 0) {
      continue;
    }
    const LINEDEVCAPS caps = Fixed<LINEDEVCAPS>(b);
    if ((caps.dwLineFeatures & LINEFEATURE_MAKECALL) == 0) continue;
    devices[id] = {String16At(b, caps.dwSwitchInfoSize, caps.dwSwitchInfoOffset),
                   caps.dwPermanentLineID,
                   String16At(b, caps.dwLineNameSize, caps.dwLineNameOffset), caps.dwDevCapFlags};
  }
  return devices;
}

Devices WaitDevices(TapiSrvHarness& harness, DWORD num_lines, size_t want,
                    absl::Duration timeout = absl::Seconds(15)) {
  const absl::Time deadline = MonotonicNow() + timeout;
  Devices devices;
  while (MonotonicNow() < deadline) {
    devices = ReadDevices(harness, num_lines);
    if (devices.size() >= want) break;
    absl::SleepFor(absl::Milliseconds(20));
  }
  return devices;
}

std::string Describe(const Devices& devices) {
  std::ostringstream out;
  for (const auto& [id, d] : devices) {
    out << id << " " << d.line_id << " " << d.permanent_id << " " << d.name << "\n";
  }
  return out.str();
}

std::vector<DWORD> DevicesOf(const Devices& devices, const std::string& line_id) {
  std::vector<DWORD> out;
  for (const auto& [id, d] : devices) {
    if (d.line_id == line_id) out.push_back(id);
  }
  return out;
}

int ServerCalls(const std::string& address);

// Waits (bounded) until `linectl status` of a server reports `want` calls.
bool WaitServerCalls(const std::string& address, int want) {
  const absl::Time deadline = MonotonicNow() + absl::Seconds(10);
  while (MonotonicNow() < deadline) {
    if (ServerCalls(address) == want) return true;
    absl::SleepFor(absl::Milliseconds(50));
  }
  return false;
}

// `linectl status` of one server: its "calls" count (-1 if unreadable).
int ServerCalls(const std::string& address) {
  std::string out;
  if (RunLinectl({"--server", address, "--timeout", "3s", "status"}, &out) != 0) return -1;
  for (absl::string_view line : absl::StrSplit(out, '\n')) {
    const std::string compact = absl::StrReplaceAll(line, {{" ", ""}});
    if (compact.rfind("calls:", 0) == 0) return std::atoi(compact.c_str() + 6);
  }
  return -1;
}

DWORD OpenMediaModes(TspiTable& t, HDRVLINE hd_line) {
  std::vector<unsigned char> b = Buffer(sizeof(LINEDEVSTATUS) + 64, 512);
  if (t.TSPI_lineGetLineDevStatus(hd_line, reinterpret_cast<LPLINEDEVSTATUS>(b.data())) != 0) {
    return 0xFFFFFFFF;
  }
  return Fixed<LINEDEVSTATUS>(b).dwOpenMediaModes;
}

DWORD CallState(TspiTable& t, HDRVCALL hd_call, LONG* result) {
  std::vector<unsigned char> b = Buffer(sizeof(LINECALLSTATUS) + 64, 512);
  *result = t.TSPI_lineGetCallStatus(hd_call, reinterpret_cast<LPLINECALLSTATUS>(b.data()));
  return *result == 0 ? Fixed<LINECALLSTATUS>(b).dwCallState : 0;
}

class TspEdgeTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/lb-tsp-edge.XXXXXX";
    dir_ = mkdtemp(tmpl);
    lib_ = std::getenv("LINEBRIDGE_TSP_LIBRARY") != nullptr ? std::getenv("LINEBRIDGE_TSP_LIBRARY")
                                                             : "";
    ASSERT_NE(lib_, "") << "LINEBRIDGE_TSP_LIBRARY is not set";
  }
  void TearDown() override { (void)std::system(("rm -rf '" + dir_ + "'").c_str()); }

  // A server in dir_/<name> (its own data directory, so its own server id).
  void StartServer(ServerProcess& server, const std::string& name, const std::string& config_text = "") {
    const std::string home = dir_ + "/" + name;
    (void)std::system(("mkdir -p '" + home + "'").c_str());
    std::string config;
    if (!config_text.empty()) {
      config = home + "/linebridged.textproto";
      std::ofstream(config) << config_text;
    }
    std::string error;
    ASSERT_TRUE(server.Start(home, &error, 0, config)) << error;
  }

  void UseConfig(const std::vector<std::string>& servers, int deadline_ms = 3000) {
    const std::string path = dir_ + "/tsp.conf";
    std::ofstream conf(path);
    for (const std::string& s : servers) conf << "server = " << s << "\n";
    conf << "device_map = " << dir_ << "/devices.map\n"
         << "client_name = tsp-edge\n"
         << "deadline_ms = " << deadline_ms << "\n";
    conf.close();
    setenv("LINEBRIDGE_TSP_CONFIG", path.c_str(), 1);
  }

  // One default-configured server "a" and the provider started on it with
  // its 9 lines known (fatal failure otherwise: ASSERT_NO_FATAL_FAILURE).
  void StartWithOneServer(ServerProcess& server, TapiSrvHarness& harness, Devices* devices) {
    StartServer(server, "a");
    UseConfig({server.address()});
    std::string error;
    ASSERT_TRUE(harness.Load(lib_, &error)) << error;
    DWORD num_lines = 0;
    ASSERT_EQ(harness.Start(&num_lines), 0);
    *devices = WaitDevices(harness, num_lines, 9);
    ASSERT_EQ(devices->size(), 9u);
  }

  // Makes a call from `hd_line` to `dest`; returns the completion result.
  LONG MakeCall(TapiSrvHarness& h, HDRVLINE hd_line, HTAPICALL ht_call, HDRVCALL* hd_call,
                const char16_t* dest) {
    const DRV_REQUESTID id = h.NextRequestId();
    h.OutboundCall(ht_call, id);
    const LONG r = h.tspi().TSPI_lineMakeCall(id, hd_line, ht_call, hd_call, dest, 0, nullptr);
    h.Issued(id, r);
    if (r != static_cast<LONG>(id)) return r;
    return h.WaitCompletion(id, absl::Seconds(10));
  }

  void DropAndClose(TapiSrvHarness& h, HTAPICALL ht_call, HDRVCALL hd_call) {
    const DRV_REQUESTID drop = h.NextRequestId();
    h.Issued(drop, h.tspi().TSPI_lineDrop(drop, hd_call, nullptr, 0));
    EXPECT_EQ(h.WaitCompletion(drop), 0);
    EXPECT_TRUE(h.WaitCallState(ht_call, LINECALLSTATE_IDLE));
    EXPECT_EQ(h.tspi().TSPI_lineCloseCall(hd_call), 0);
  }

  std::string dir_;
  std::string lib_;
};

// Two linebridged with the default configuration: both have sim/100..107
// and sim/199. 18 devices with 18 distinct permanent ids, each line id twice;
// a call on each "sim/100" lands on its own server; the ids survive a
// provider restart. The device map starts as one written before servers had
// ids: its entries keep their device ids.
TEST_F(TspEdgeTest, TwoDefaultServersGiveEighteenDistinctDevicesStableAcrossRestarts) {
  ServerProcess a, b;
  StartServer(a, "a");
  StartServer(b, "b");
  std::ofstream(dir_ + "/devices.map") << "# linebridge TSP device ids: <index> <permanent line id>\n"
                                       << "0 sim/100\n1 sim/101\n";
  UseConfig({a.address(), b.address()});
  TapiSrvHarness harness;
  std::string error;
  ASSERT_TRUE(harness.Load(lib_, &error)) << error;
  DWORD num_lines = 0;
  ASSERT_EQ(harness.Start(&num_lines), 0);
  EXPECT_EQ(num_lines, 18u);  // the old map's entries, then the rest the servers listed
  const Devices first = WaitDevices(harness, num_lines, 18);
  ASSERT_EQ(first.size(), 18u) << Describe(first);
  std::set<DWORD> permanent;
  std::map<std::string, int> per_line;
  for (const auto& [id, d] : first) {
    permanent.insert(d.permanent_id);
    ++per_line[d.line_id];
  }
  EXPECT_EQ(permanent.size(), 18u) << Describe(first);
  ASSERT_EQ(per_line.size(), 9u) << Describe(first);
  for (const auto& [line, n] : per_line) EXPECT_EQ(n, 2) << line;
  // The old map's entries kept their ids (taken over by a server, not renumbered).
  EXPECT_EQ(first.at(TapiSrvHarness::kLineBase + 0).line_id, "sim/100");
  EXPECT_EQ(first.at(TapiSrvHarness::kLineBase + 1).line_id, "sim/101");

  // A call on each sim/100: one lands on each server.
  const std::vector<DWORD> hundreds = DevicesOf(first, "sim/100");
  ASSERT_EQ(hundreds.size(), 2u);
  std::vector<HDRVLINE> lines;
  std::vector<std::pair<HTAPICALL, HDRVCALL>> calls;
  std::map<DWORD, std::string> server_of;  // device -> address of its server
  for (DWORD device : hundreds) {
    HDRVLINE hd_line = nullptr;
    ASSERT_EQ(harness.tspi().TSPI_lineOpen(device, harness.NewHtLine(), &hd_line, kVersion,
                                           &TapiSrvHarness::LineEvent),
              0);
    lines.push_back(hd_line);
    const HTAPICALL ht_call = reinterpret_cast<HTAPICALL>(uintptr_t{0xA000} + device);
    HDRVCALL hd_call = nullptr;
    ASSERT_EQ(MakeCall(harness, hd_line, ht_call, &hd_call, u"5550100"), 0);
    ASSERT_TRUE(harness.WaitCallState(ht_call, LINECALLSTATE_CONNECTED));
    calls.emplace_back(ht_call, hd_call);
    server_of[device] = calls.size() == 1 && ServerCalls(a.address()) == 1 ? a.address()
                        : calls.size() == 1                                ? b.address()
                        : server_of.begin()->second == a.address()         ? b.address()
                                                                           : a.address();
  }
  EXPECT_EQ(ServerCalls(a.address()), 1);
  EXPECT_EQ(ServerCalls(b.address()), 1);
  for (const auto& [ht_call, hd_call] : calls) DropAndClose(harness, ht_call, hd_call);
  for (HDRVLINE hd_line : lines) EXPECT_EQ(harness.tspi().TSPI_lineClose(hd_line), 0);
  ASSERT_EQ(harness.Stop(), 0);

  // TAPISRV restarts twice: all 18 enumerated, each under its old id.
  for (int round = 0; round < 2; ++round) {
    SCOPED_TRACE(absl::StrCat("restart ", round));
    num_lines = 0;
    ASSERT_EQ(harness.Start(&num_lines), 0);
    EXPECT_EQ(num_lines, 18u);
    const Devices again = WaitDevices(harness, num_lines, 18);
    EXPECT_EQ(Describe(again), Describe(first));
    EXPECT_EQ(harness.create_count(), 0u);  // no LINE_CREATE: all known
    ASSERT_EQ(harness.Stop(), 0);
  }
  // A line of the map opened (as owner) before any server has answered: it
  // is opened on its own server only, though the other has the same line id.
  for (DWORD device : hundreds) {
    SCOPED_TRACE(absl::StrCat("early open of device ", device));
    ASSERT_EQ(harness.Start(&num_lines), 0);
    HDRVLINE hd_line = nullptr;
    ASSERT_EQ(harness.tspi().TSPI_lineOpen(device, harness.NewHtLine(), &hd_line, kVersion,
                                           &TapiSrvHarness::LineEvent),
              0);
    ASSERT_EQ(harness.tspi().TSPI_lineSetDefaultMediaDetection(hd_line,
                                                               LINEMEDIAMODE_INTERACTIVEVOICE),
              0);
    const absl::Time applied_by = absl::Now() + absl::Seconds(10);
    while (OpenMediaModes(harness.tspi(), hd_line) != LINEMEDIAMODE_INTERACTIVEVOICE) {
      ASSERT_LT(absl::Now(), applied_by);
      absl::SleepFor(absl::Milliseconds(10));
    }
    for (const ServerProcess* s : {&a, &b}) {
      std::string out;
      ASSERT_EQ(RunLinectl({"--server", s->address(), "--timeout", "3s", "sessions"}, &out), 0);
      const bool open_here = out.find("sim/100") != std::string::npos;
      EXPECT_EQ(open_here, s->address() == server_of[device]) << s->address() << "\n" << out;
    }
    EXPECT_EQ(harness.tspi().TSPI_lineClose(hd_line), 0);
    ASSERT_EQ(harness.Stop(), 0);
  }
  EXPECT_EQ(harness.violations(), std::vector<std::string>{});
  std::ifstream map(dir_ + "/devices.map");
  std::stringstream text;
  text << map.rdbuf();
  EXPECT_NE(text.str().find("version 2"), std::string::npos) << text.str();
}

// Two servers that report the same server id (a copied data directory or
// configuration): a configuration error on stderr; the second server's lines
// are left out, never merged into the first's.
TEST_F(TspEdgeTest, TwoServersWithTheSameIdAreAConfigurationErrorNotAMerge) {
  ServerProcess a, b;
  StartServer(a, "a", "server_id: \"twin\"\n");
  StartServer(b, "b",
              "server_id: \"twin\"\n"
              "providers { sim { name: \"sim\" extensions { number: \"100\" name: \"Other\" } } }\n");
  UseConfig({a.address(), b.address()});
  const std::string log = dir_ + "/stderr.log";
  fflush(stderr);
  const int saved = dup(2);
  FILE* redirected = std::freopen(log.c_str(), "w", stderr);
  ASSERT_NE(redirected, nullptr);
  TapiSrvHarness harness;
  std::string error;
  ASSERT_TRUE(harness.Load(lib_, &error)) << error;
  DWORD num_lines = 0;
  ASSERT_EQ(harness.Start(&num_lines), 0);
  // Either server may be heard first; the other one's lines are refused.
  std::string text;
  const absl::Time deadline = MonotonicNow() + absl::Seconds(15);
  while (MonotonicNow() < deadline) {
    fflush(stderr);
    std::ifstream in(log);
    std::stringstream s;
    s << in.rdbuf();
    text = s.str();
    if (text.find("configuration error") != std::string::npos) break;
    absl::SleepFor(absl::Milliseconds(20));
  }
  // Not a merge: the devices are all of one server (A has 9 lines, B one).
  auto one_server = [](const Devices& devices) {
    if (devices.size() == 1) return devices.begin()->second.name.find("Other") == 0;
    if (devices.size() != 9) return false;
    for (const auto& [id, d] : devices) {
      if (d.name.find("Other") != std::string::npos) return false;
    }
    return true;
  };
  Devices devices;
  const absl::Time settled_by = absl::Now() + absl::Seconds(15);
  while (absl::Now() < settled_by) {
    devices = ReadDevices(harness, num_lines);
    if (one_server(devices)) break;
    absl::SleepFor(absl::Milliseconds(20));
  }
  ASSERT_EQ(harness.Stop(), 0);
  fflush(stderr);
  dup2(saved, 2);
  close(saved);
  EXPECT_NE(text.find("configuration error"), std::string::npos) << text;
  EXPECT_NE(text.find("\"twin\""), std::string::npos) << text;
  EXPECT_TRUE(one_server(devices)) << Describe(devices);
}

// providerShutdown with the server paused (SIGSTOP) and deadline_ms 10000:
// within 1 s, with a lineMakeCall in flight (completed once, with an error,
// before it returns) and when the server was paused before the provider
// started (the session request itself hangs). Nothing calls back after it
// returns. Repeated.
TEST_F(TspEdgeTest, ShutdownWithAPausedServerIsBounded) {
  ServerProcess server;
  StartServer(server, "a");
  UseConfig({server.address()}, 10000);
  auto* harness = new TapiSrvHarness();  // leaked on failure paths only
  std::string error;
  ASSERT_TRUE(harness->Load(lib_, &error)) << error;
  TspiTable& t = harness->tspi();
  absl::Duration worst = absl::ZeroDuration();
  for (int round = 0; round < 6; ++round) {
    SCOPED_TRACE(absl::StrCat("round ", round));
    const bool paused_from_start = round % 2 == 1;
    if (paused_from_start) server.Pause();
    DWORD num_lines = 0;
    ASSERT_EQ(harness->Start(&num_lines), 0);
    DRV_REQUESTID make = 0;
    if (!paused_from_start) {
      const Devices devices = WaitDevices(*harness, num_lines, 9);
      ASSERT_EQ(devices.size(), 9u);
      const DWORD device = DevicesOf(devices, "sim/100").at(0);
      HDRVLINE hd_line = nullptr;
      ASSERT_EQ(t.TSPI_lineOpen(device, harness->NewHtLine(), &hd_line, kVersion,
                                &TapiSrvHarness::LineEvent),
                0);
      ASSERT_EQ(t.TSPI_lineSetDefaultMediaDetection(hd_line, LINEMEDIAMODE_INTERACTIVEVOICE), 0);
      const absl::Time applied_by = absl::Now() + absl::Seconds(10);
      while (OpenMediaModes(t, hd_line) != LINEMEDIAMODE_INTERACTIVEVOICE) {
        ASSERT_LT(absl::Now(), applied_by);
        absl::SleepFor(absl::Milliseconds(10));
      }
      server.Pause();
      make = harness->NextRequestId();
      const HTAPICALL ht_call = reinterpret_cast<HTAPICALL>(uintptr_t{0xB000} + round);
      HDRVCALL hd_call = nullptr;
      harness->OutboundCall(ht_call, make);
      const LONG r = t.TSPI_lineMakeCall(make, hd_line, ht_call, &hd_call, u"101", 0, nullptr);
      harness->Issued(make, r);
      ASSERT_EQ(r, static_cast<LONG>(make));
    } else {
      absl::SleepFor(absl::Milliseconds(100));  // the session request is under way
    }
    const absl::Time start = absl::Now();
    ASSERT_EQ(harness->Stop(), 0);
    const absl::Duration took = absl::Now() - start;
    worst = std::max(worst, took);
    EXPECT_LE(took, absl::Seconds(1)) << "providerShutdown took " << took;
    if (make != 0) {
      // Completed before providerShutdown returned (no wait here).
      EXPECT_EQ(harness->WaitCompletion(make, absl::ZeroDuration()), LINEERR_OPERATIONFAILED);
    }
    const size_t events = harness->events().size();
    server.Resume();
    // Whatever the server now answers, the provider is gone: nothing arrives.
    absl::SleepFor(absl::Milliseconds(300));
    EXPECT_EQ(harness->events().size(), events);
    EXPECT_EQ(harness->TakeViolations(), std::vector<std::string>{});
  }
  std::printf("providerShutdown with a paused server: worst %s\n",
              absl::FormatDuration(worst).c_str());
  // And it starts again normally.
  DWORD num_lines = 0;
  ASSERT_EQ(harness->Start(&num_lines), 0);
  EXPECT_EQ(WaitDevices(*harness, num_lines, 9).size(), 9u);
  ASSERT_EQ(harness->Stop(), 0);
  EXPECT_EQ(harness->TakeViolations(), std::vector<std::string>{});
  delete harness;
}

// TAPI calls lineCloseCall also for a call whose creating request failed: the
// hdCall stays valid (IDLE) until then, and only until then.
TEST_F(TspEdgeTest, HandleOfAFailedCallCreationStaysValidUntilLineCloseCall) {
  ServerProcess server;
  StartServer(server, "a",
              "providers { sim { name: \"sim\"\n"
              "  extensions { number: \"100\" max_calls: 1 }\n"
              "  extensions { number: \"101\" }\n"
              "  externals { number: \"5550100\" behavior: SIM_BEHAVIOR_ANSWER }\n"
              "  externals { number: \"5550101\" behavior: SIM_BEHAVIOR_BUSY }\n} }\n");
  UseConfig({server.address()});
  TapiSrvHarness harness;
  std::string error;
  ASSERT_TRUE(harness.Load(lib_, &error)) << error;
  TspiTable& t = harness.tspi();
  DWORD num_lines = 0;
  ASSERT_EQ(harness.Start(&num_lines), 0);
  const Devices devices = WaitDevices(harness, num_lines, 2);
  ASSERT_EQ(devices.size(), 2u);
  HDRVLINE hd_line = nullptr;
  const HTAPILINE ht_line = harness.NewHtLine();
  ASSERT_EQ(t.TSPI_lineOpen(DevicesOf(devices, "sim/100").at(0), ht_line, &hd_line, kVersion,
                            &TapiSrvHarness::LineEvent),
            0);
  auto expect_closable = [&](HDRVCALL hd_call) {
    LONG r = 0;
    EXPECT_EQ(CallState(t, hd_call, &r), static_cast<DWORD>(LINECALLSTATE_IDLE));
    EXPECT_EQ(r, 0);
    EXPECT_EQ(t.TSPI_lineCloseCall(hd_call), 0);
    EXPECT_EQ(t.TSPI_lineCloseCall(hd_call), LINEERR_INVALCALLHANDLE);
  };
  // The line's one call appearance is busy: CALLUNAVAIL.
  const HTAPICALL first = reinterpret_cast<HTAPICALL>(uintptr_t{0xC001});
  HDRVCALL hd_first = nullptr;
  ASSERT_EQ(MakeCall(harness, hd_line, first, &hd_first, u"5550100"), 0);
  ASSERT_TRUE(harness.WaitCallState(first, LINECALLSTATE_CONNECTED));
  const HTAPICALL second = reinterpret_cast<HTAPICALL>(uintptr_t{0xC002});
  HDRVCALL hd_second = nullptr;
  EXPECT_EQ(MakeCall(harness, hd_line, second, &hd_second, u"5550101"), LINEERR_CALLUNAVAIL);
  ASSERT_NE(hd_second, nullptr);
  expect_closable(hd_second);
  DropAndClose(harness, first, hd_first);
  // linePickup with nothing ringing there: fails; the handle stays.
  {
    const DRV_REQUESTID id = harness.NextRequestId();
    const HTAPICALL ht = reinterpret_cast<HTAPICALL>(uintptr_t{0xC003});
    HDRVCALL hd = nullptr;
    const LONG r = t.TSPI_linePickup(id, hd_line, 0, ht, &hd, u"101", nullptr);
    harness.Issued(id, r);
    ASSERT_EQ(r, static_cast<LONG>(id));
    EXPECT_NE(harness.WaitCompletion(id), 0);
    ASSERT_NE(hd, nullptr);
    expect_closable(hd);
  }
  // The server is gone: lineMakeCall fails; the handle stays.
  server.Kill();
  const HTAPICALL third = reinterpret_cast<HTAPICALL>(uintptr_t{0xC004});
  HDRVCALL hd_third = nullptr;
  EXPECT_EQ(MakeCall(harness, hd_line, third, &hd_third, u"101"), LINEERR_OPERATIONFAILED);
  ASSERT_NE(hd_third, nullptr);
  expect_closable(hd_third);
  EXPECT_EQ(t.TSPI_lineClose(hd_line), 0);
  ASSERT_EQ(harness.Stop(), 0);
  EXPECT_EQ(harness.violations(), std::vector<std::string>{});
}

// The provider starts with the server down (its lines from the device map);
// when the server first answers, an open line gets LINE_LINEDEVSTATE
// (INSERVICE), as after an outage, and its status says in service.
TEST_F(TspEdgeTest, InServiceWhenLinesFirstBecomeUsableAfterAStartWithTheServerDown) {
  ServerProcess server;
  StartServer(server, "a");
  UseConfig({server.address()});
  TapiSrvHarness harness;
  std::string error;
  ASSERT_TRUE(harness.Load(lib_, &error)) << error;
  TspiTable& t = harness.tspi();
  DWORD num_lines = 0;
  ASSERT_EQ(harness.Start(&num_lines), 0);
  ASSERT_EQ(WaitDevices(harness, num_lines, 9).size(), 9u);  // the map knows them now
  ASSERT_EQ(harness.Stop(), 0);
  server.Stop();

  ASSERT_EQ(harness.Start(&num_lines), 0);
  ASSERT_EQ(num_lines, 9u);
  const HTAPILINE ht_line = harness.NewHtLine();
  HDRVLINE hd_line = nullptr;
  ASSERT_EQ(t.TSPI_lineOpen(TapiSrvHarness::kLineBase, ht_line, &hd_line, kVersion,
                            &TapiSrvHarness::LineEvent),
            0);
  harness.ClearEvents();
  ASSERT_TRUE(server.Restart(&error)) << error;
  EXPECT_TRUE(harness.WaitEvent(
      [&](const RecordedEvent& e) {
        return e.ht_line == ht_line && e.msg == LINE_LINEDEVSTATE && e.p1 == LINEDEVSTATE_INSERVICE;
      },
      absl::Seconds(15)));
  std::vector<unsigned char> b = Buffer(sizeof(LINEDEVSTATUS) + 64, 512);
  ASSERT_EQ(t.TSPI_lineGetLineDevStatus(hd_line, reinterpret_cast<LPLINEDEVSTATUS>(b.data())), 0);
  EXPECT_NE(Fixed<LINEDEVSTATUS>(b).dwDevStatusFlags & LINEDEVSTATUSFLAGS_INSERVICE, 0u);
  EXPECT_EQ(t.TSPI_lineClose(hd_line), 0);
  ASSERT_EQ(harness.Stop(), 0);
  EXPECT_EQ(harness.violations(), std::vector<std::string>{});
}

// lineClose (TAPISRV: lineCloseCall for each call, then lineClose) on a line
// with a call ringing in that the provider owns: the line advertises
// LINEDEVCAPFLAGS_CLOSEDROP and the call is dropped (the caller's ends).
TEST_F(TspEdgeTest, LineCloseOnARingingLineDropsTheCallAsTheCapsSay) {
  ServerProcess server;
  TapiSrvHarness harness;
  Devices devices;
  ASSERT_NO_FATAL_FAILURE(StartWithOneServer(server, harness, &devices));
  TspiTable& t = harness.tspi();
  const DWORD callee_device = DevicesOf(devices, "sim/100").at(0);
  const DWORD caller_device = DevicesOf(devices, "sim/101").at(0);
  EXPECT_NE(devices.at(callee_device).dev_cap_flags & LINEDEVCAPFLAGS_CLOSEDROP, 0u);
  for (int round = 0; round < 3; ++round) {
    SCOPED_TRACE(absl::StrCat("round ", round));
    const HTAPILINE ht_callee = harness.NewHtLine();
    HDRVLINE callee = nullptr, caller = nullptr;
    ASSERT_EQ(t.TSPI_lineOpen(callee_device, ht_callee, &callee, kVersion,
                              &TapiSrvHarness::LineEvent),
              0);
    ASSERT_EQ(t.TSPI_lineSetDefaultMediaDetection(callee, LINEMEDIAMODE_INTERACTIVEVOICE), 0);
    ASSERT_EQ(t.TSPI_lineOpen(caller_device, harness.NewHtLine(), &caller, kVersion,
                              &TapiSrvHarness::LineEvent),
              0);
    const absl::Time applied_by = absl::Now() + absl::Seconds(10);
    while (OpenMediaModes(t, callee) != LINEMEDIAMODE_INTERACTIVEVOICE) {
      ASSERT_LT(absl::Now(), applied_by);
      absl::SleepFor(absl::Milliseconds(10));
    }
    const HTAPICALL ht_out = reinterpret_cast<HTAPICALL>(uintptr_t{0xD000} + round);
    HDRVCALL hd_out = nullptr;
    ASSERT_EQ(MakeCall(harness, caller, ht_out, &hd_out, u"100"), 0);
    HTAPICALL ht_in = nullptr;
    HDRVCALL hd_in = nullptr;
    ASSERT_TRUE(harness.WaitNewCall(ht_callee, &ht_in, &hd_in));
    ASSERT_TRUE(harness.WaitCallState(ht_in, LINECALLSTATE_OFFERING));
    EXPECT_EQ(t.TSPI_lineCloseCall(hd_in), 0);
    EXPECT_EQ(t.TSPI_lineClose(callee), 0);
    // CLOSEDROP: the call is gone, the caller's side ends.
    EXPECT_TRUE(harness.WaitCallState(ht_out, LINECALLSTATE_DISCONNECTED, absl::Seconds(10)));
    DropAndClose(harness, ht_out, hd_out);  // what the caller's application does
    EXPECT_EQ(t.TSPI_lineClose(caller), 0);
    EXPECT_TRUE(WaitServerCalls(server.address(), 0));
  }
  ASSERT_EQ(harness.Stop(), 0);
  EXPECT_EQ(harness.violations(), std::vector<std::string>{});
}

// An application that opens a line and closes it at once (a line picker, a
// probe): lineClose comes while the OpenLine is still on its way. The line
// must not stay open for this workstation on the server, where it would take
// the calls ringing in as owner with no application behind it; a reopen right
// after still gets its media modes.
TEST_F(TspEdgeTest, LineClosedWhileItsOpenIsOnTheWayIsClosedOnTheServer) {
  ServerProcess server;
  TapiSrvHarness harness;
  Devices devices;
  ASSERT_NO_FATAL_FAILURE(StartWithOneServer(server, harness, &devices));
  TspiTable& t = harness.tspi();
  const DWORD device = DevicesOf(devices, "sim/100").at(0);
  // Opens the line as owner and waits until the server applied it.
  auto open_applied = [&](HDRVLINE* hd_line) {
    ASSERT_EQ(t.TSPI_lineOpen(device, harness.NewHtLine(), hd_line, kVersion,
                              &TapiSrvHarness::LineEvent),
              0);
    ASSERT_EQ(t.TSPI_lineSetDefaultMediaDetection(*hd_line, LINEMEDIAMODE_INTERACTIVEVOICE), 0);
    const absl::Time applied_by = absl::Now() + absl::Seconds(10);
    while (OpenMediaModes(t, *hd_line) != LINEMEDIAMODE_INTERACTIVEVOICE) {
      ASSERT_LT(absl::Now(), applied_by);
      absl::SleepFor(absl::Milliseconds(10));
    }
  };
  HDRVLINE hd_line = nullptr;
  open_applied(&hd_line);  // the session is up: every open below goes out at once
  ASSERT_EQ(t.TSPI_lineClose(hd_line), 0);
  CpuHogProcesses hog(2);
  for (int round = 0; round < 30; ++round) {
    ASSERT_EQ(t.TSPI_lineOpen(device, harness.NewHtLine(), &hd_line, kVersion,
                              &TapiSrvHarness::LineEvent),
              0);
    ASSERT_EQ(t.TSPI_lineSetDefaultMediaDetection(hd_line, LINEMEDIAMODE_INTERACTIVEVOICE), 0);
    // Closed at once or a little later: before, while and after the
    // server's replies arrive.
    absl::SleepFor(absl::Microseconds(200 * (round % 10)));
    ASSERT_EQ(t.TSPI_lineClose(hd_line), 0);
  }
  // Once all is quiet, the plain case: the OpenLine goes out at once and the
  // close comes before its reply.
  absl::SleepFor(absl::Milliseconds(200));
  ASSERT_EQ(t.TSPI_lineOpen(device, harness.NewHtLine(), &hd_line, kVersion,
                            &TapiSrvHarness::LineEvent),
            0);
  ASSERT_EQ(t.TSPI_lineClose(hd_line), 0);
  // Nothing of the line is left open on the server.
  const absl::Time deadline = MonotonicNow() + absl::Seconds(10);
  std::string out;
  while (MonotonicNow() < deadline) {
    ASSERT_EQ(RunLinectl({"--server", server.address(), "--timeout", "3s", "sessions"}, &out), 0);
    if (out.find("sim/100") == std::string::npos) break;
    absl::SleepFor(absl::Milliseconds(50));
  }
  EXPECT_EQ(out.find("sim/100"), std::string::npos) << out;
  // And the line opens again as owner.
  open_applied(&hd_line);
  ASSERT_EQ(RunLinectl({"--server", server.address(), "--timeout", "3s", "sessions"}, &out), 0);
  EXPECT_NE(out.find("sim/100"), std::string::npos) << out;
  EXPECT_EQ(t.TSPI_lineClose(hd_line), 0);
  ASSERT_EQ(harness.Stop(), 0);
  EXPECT_EQ(harness.violations(), std::vector<std::string>{});
}

}  // namespace
}  // namespace linebridge::tsp_test
