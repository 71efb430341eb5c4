// linebridge.tsp with two linebridged servers in its configuration, driven the
// way TAPISRV drives it: the lines of both merge into one device list keyed
// by (server id, permanent line id); device ids are stable across provider restarts; two
// workstations (two harness processes, each loading the TSP) see the same
// lines with the same ids.
//
// What "the same ids" means for TAPI: TAPISRV numbers devices per machine
// (dwDeviceIDBase + index), so a TAPI device id is a per-workstation number.
// The TSP keeps it stable on each workstation (the persisted device map,
// keyed by (server id, permanent line id)), and workstations that share a
// device map (deployed with the configuration) number every line identically. On every
// workstation, whatever its map, a line has the same dwPermanentLineID and
// SwitchInfo (the permanent line id, e.g. "pbx2/100").
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#if defined(__SANITIZE_ADDRESS__)
#include <sanitizer/lsan_interface.h>
#endif

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "tapi_buffers.h"
#include "tapisrv_harness.h"
#include "linebridge/deadline.h"

namespace linebridge::tsp_test {
namespace {

struct DeviceRow {
  std::string line_id;
  DWORD permanent_id = 0;
  std::string name;
  bool operator==(const DeviceRow& o) const {
    return line_id == o.line_id && permanent_id == o.permanent_id && name == o.name;
  }
};
using DeviceTable = std::map<DWORD, DeviceRow>;  // TAPI device id -> line

// Every device the provider reported (enumerated or LINE_CREATE) whose line
// info arrived, read through TSPI_lineGetDevCaps.
DeviceTable ReadDevices(TapiSrvHarness& harness, DWORD num_lines) {
  std::vector<DWORD> ids;
  for (DWORD i = 0; i < num_lines; ++i) ids.push_back(TapiSrvHarness::kLineBase + i);
  for (DWORD id : harness.created_devices()) ids.push_back(id);
  DeviceTable table;
  for (DWORD id : ids) {
    std::vector<unsigned char> b(4096, 0);
    const DWORD total = 4096;
    std::memcpy(b.data(), &total, sizeof total);
    if (harness.tspi().TSPI_lineGetDevCaps(id, 0x00030000, 0,
                                           reinterpret_cast<LPLINEDEVCAPS>(b.data())) != 0) {
      continue;
    }
    LINEDEVCAPS caps;
    std::memcpy(&caps, b.data(), sizeof caps);
    if ((caps.dwLineFeatures & LINEFEATURE_MAKECALL) == 0) continue;  // not heard of yet
    table[id] = {String16At(b, caps.dwSwitchInfoSize, caps.dwSwitchInfoOffset),
                 caps.dwPermanentLineID,
                 String16At(b, caps.dwLineNameSize, caps.dwLineNameOffset)};
  }
  return table;
}

DeviceTable WaitDevices(TapiSrvHarness& harness, DWORD num_lines, size_t want,
                        absl::Duration timeout = absl::Seconds(15)) {
  const absl::Time deadline = MonotonicNow() + timeout;
  DeviceTable table;
  while (MonotonicNow() < deadline) {
    table = ReadDevices(harness, num_lines);
    if (table.size() >= want) break;
    absl::SleepFor(absl::Milliseconds(20));
  }
  return table;
}

std::string Serialize(const DeviceTable& table) {
  std::ostringstream out;
  for (const auto& [id, row] : table) {
    out << id << " " << row.line_id << " " << row.permanent_id << " " << row.name << "\n";
  }
  return out.str();
}
DeviceTable Parse(const std::string& text) {
  DeviceTable table;
  std::istringstream in(text);
  DWORD id;
  DeviceRow row;
  while (in >> id >> row.line_id >> row.permanent_id) {
    std::getline(in, row.name);
    if (!row.name.empty() && row.name[0] == ' ') row.name.erase(0, 1);
    table[id] = row;
  }
  return table;
}

int FreePort() {
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof addr;
  int port = 0;
  if (bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0 &&
      getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) == 0) {
    port = ntohs(addr.sin_port);
  }
  close(fd);
  return port;
}

// The workstation role: run in a child process of this test binary (its own
// TAPISRV stand-in, its own copy of the TSP). Writes its device table to
// $LB_WORKSTATION_OUT once $LB_WORKSTATION_LINES devices are known.
// Runs only as a child of TspMultiServerTest (disabled in a normal run).
TEST(TspWorkstation, DISABLED_Role) {
  const char* out = std::getenv("LB_WORKSTATION_OUT");
  ASSERT_NE(out, nullptr) << "runs as a child of TspMultiServerTest";
  const size_t want = std::stoul(std::getenv("LB_WORKSTATION_LINES"));
  TapiSrvHarness harness;
  std::string error;
  ASSERT_TRUE(harness.Load(std::getenv("LINEBRIDGE_TSP_LIBRARY"), &error)) << error;
  DWORD num_lines = 0;
  ASSERT_EQ(harness.Start(&num_lines), 0);
  const DeviceTable table = WaitDevices(harness, num_lines, want);
  EXPECT_EQ(table.size(), want);
  EXPECT_EQ(harness.Stop(), 0);
  EXPECT_EQ(harness.violations(), std::vector<std::string>{});
  std::ofstream(out) << Serialize(table);
  // The leak check now, while the provider's gRPC threads sit idle, rather
  // than at exit, where gRPC's threads end while LeakSanitizer stops the
  // world (which crashed it intermittently). A leak ends the process with
  // LeakSanitizer's exit code; the parent fails on any exit but 0.
#if defined(__SANITIZE_ADDRESS__)
  __lsan_do_leak_check();
#endif
  std::fflush(nullptr);
  _exit(::testing::Test::HasFailure() ? 1 : 0);
}

class TspMultiServerTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    char tmpl[] = "/tmp/lb-tspmulti.XXXXXX";
    dir_ = mkdtemp(tmpl);
    (void)std::system(("mkdir -p '" + dir_ + "/a' '" + dir_ + "/b'").c_str());
    server_a_ = new ServerProcess();
    server_b_ = new ServerProcess();
    std::string error;
    if (!server_a_->Start(dir_ + "/a", &error)) setup_error_ = error;
    port_b_ = FreePort();
    std::ofstream b(dir_ + "/b/linebridged.textproto");
    b << "providers { sim { name: \"pbx2\"\n"
      << "  extensions { number: \"100\" name: \"Ivan\" }\n"
      << "  extensions { number: \"101\" name: \"Judy\" }\n"
      << "  externals { number: \"5550100\" name: \"Weather Line\" behavior: SIM_BEHAVIOR_ANSWER }\n"
      << "} }\n";
  }
  static void TearDownTestSuite() {
    delete server_a_;
    delete server_b_;
    (void)std::system(("rm -rf '" + dir_ + "'").c_str());
  }
  void SetUp() override { ASSERT_EQ(setup_error_, ""); }

  // A TSP configuration naming both servers (B by its port even while down).
  static std::string WriteConfig(const std::string& name, const std::string& map) {
    const std::string path = dir_ + "/" + name + ".conf";
    std::ofstream conf(path);
    conf << "server = " << server_a_->address() << "\n"
         << "server = 127.0.0.1:" << port_b_ << "\n"
         << "device_map = " << map << "\n"
         << "client_name = " << name << "\n"
         << "deadline_ms = 1000\n";
    return path;
  }

  // Starts a workstation child process; returns its pid.
  static pid_t StartWorkstation(const std::string& config, const std::string& out, size_t lines) {
    const pid_t pid = fork();
    if (pid == 0) {
      prctl(PR_SET_PDEATHSIG, SIGKILL);
      setenv("LINEBRIDGE_TSP_CONFIG", config.c_str(), 1);
      setenv("LB_WORKSTATION_OUT", out.c_str(), 1);
      setenv("LB_WORKSTATION_LINES", std::to_string(lines).c_str(), 1);
      execl("/proc/self/exe", "tsp_multi_server_test",
            "--gtest_filter=TspWorkstation.DISABLED_Role", "--gtest_also_run_disabled_tests",
            static_cast<char*>(nullptr));
      _exit(127);
    }
    return pid;
  }
  // Waits (bounded) for a workstation; its table ("" if it failed).
  static std::string WaitWorkstation(pid_t pid, const std::string& out) {
    int status = -1;
    if (!WaitOrKill(pid, absl::Seconds(40), &status)) return "";
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) return "";
    std::ifstream in(out);
    std::stringstream text;
    text << in.rdbuf();
    return text.str();
  }

  static inline std::string dir_;
  static inline std::string setup_error_;
  static inline ServerProcess* server_a_ = nullptr;
  static inline ServerProcess* server_b_ = nullptr;
  static inline int port_b_ = 0;
  static inline DeviceTable first_;  // workstation 1's devices (test 1)
};

// Workstation 1 (this process): server B is down when the provider starts;
// A's lines appear, then B's when it comes up; a call works on each server;
// after a provider restart every line keeps its device id.
TEST_F(TspMultiServerTest, LinesOfTwoServersMergeIntoOneDeviceListWithStableIds) {
  setenv("LINEBRIDGE_TSP_CONFIG", WriteConfig("ws1", dir_ + "/ws1.map").c_str(), 1);
  TapiSrvHarness harness;
  std::string error;
  ASSERT_TRUE(harness.Load(std::getenv("LINEBRIDGE_TSP_LIBRARY"), &error)) << error;
  DWORD num_lines = 0;
  const absl::Time start = absl::Now();
  ASSERT_EQ(harness.Start(&num_lines), 0);
  // A answers at enumeration (static devices); B is down (refused at once).
  EXPECT_LT(absl::Now() - start, absl::Seconds(2) + absl::Milliseconds(500));
  EXPECT_EQ(num_lines, 9u);  // sim/100..107, sim/199
  const DeviceTable only_a = WaitDevices(harness, num_lines, 9);
  ASSERT_EQ(only_a.size(), 9u);
  EXPECT_EQ(harness.create_count(), 0u);
  // B starts only after providerInit: its lines come by LINE_CREATE.
  ASSERT_TRUE(server_b_->Start(dir_ + "/b", &error, port_b_, dir_ + "/b/linebridged.textproto"))
      << error;
  first_ = WaitDevices(harness, num_lines, 11);
  ASSERT_EQ(first_.size(), 11u) << Serialize(first_);
  EXPECT_EQ(harness.create_count(), 2u);  // pbx2's two lines
  std::map<std::string, DWORD> id_of;
  for (const auto& [id, row] : first_) {
    EXPECT_EQ(id_of.count(row.line_id), 0u) << "two devices for " << row.line_id;
    id_of[row.line_id] = id;
  }
  ASSERT_EQ(id_of.count("pbx2/100"), 1u);
  ASSERT_EQ(id_of.count("sim/100"), 1u);
  EXPECT_NE(first_[id_of["pbx2/100"]].permanent_id, first_[id_of["sim/100"]].permanent_id);
  EXPECT_EQ(first_[id_of["pbx2/100"]].name, "Ivan (100)");

  // A call on a line of each server.
  for (const std::string line : {"sim/100", "pbx2/100"}) {
    SCOPED_TRACE(line);
    const HTAPILINE ht_line = harness.NewHtLine();
    HDRVLINE hd_line = nullptr;
    ASSERT_EQ(harness.tspi().TSPI_lineOpen(id_of[line], ht_line, &hd_line, 0x00030000,
                                           &TapiSrvHarness::LineEvent),
              0);
    const HTAPICALL ht_call = reinterpret_cast<HTAPICALL>(uintptr_t{0xD000} + id_of[line]);
    HDRVCALL hd_call = nullptr;
    const DRV_REQUESTID make = harness.NextRequestId();
    harness.OutboundCall(ht_call, make);
    const LONG r = harness.tspi().TSPI_lineMakeCall(make, hd_line, ht_call, &hd_call, u"5550100",
                                                    0, nullptr);
    harness.Issued(make, r);
    ASSERT_EQ(r, static_cast<LONG>(make));
    ASSERT_EQ(harness.WaitCompletion(make), 0);
    ASSERT_TRUE(harness.WaitCallState(ht_call, LINECALLSTATE_CONNECTED));
    const DRV_REQUESTID drop = harness.NextRequestId();
    harness.Issued(drop, harness.tspi().TSPI_lineDrop(drop, hd_call, nullptr, 0));
    EXPECT_EQ(harness.WaitCompletion(drop), 0);
    EXPECT_TRUE(harness.WaitCallState(ht_call, LINECALLSTATE_IDLE));
    EXPECT_EQ(harness.tspi().TSPI_lineCloseCall(hd_call), 0);
    EXPECT_EQ(harness.tspi().TSPI_lineClose(hd_line), 0);
  }
  ASSERT_EQ(harness.Stop(), 0);

  // TAPISRV restarts: all 11 are enumerated now, each under its old id.
  num_lines = 0;
  ASSERT_EQ(harness.Start(&num_lines), 0);
  EXPECT_EQ(num_lines, 11u);
  const DeviceTable again = WaitDevices(harness, num_lines, 11);
  EXPECT_EQ(Serialize(again), Serialize(first_));
  EXPECT_EQ(harness.create_count(), 0u);  // no LINE_CREATE: all were known
  ASSERT_EQ(harness.Stop(), 0);
  EXPECT_EQ(harness.violations(), std::vector<std::string>{});
}

// Two more workstations at once (two processes, each loading the TSP) with
// the device map deployed from workstation 1: same device ids for the same
// lines. A third with a fresh map of its own: the same lines with the same
// permanent ids and names (its device numbers are its own).
TEST_F(TspMultiServerTest, TwoWorkstationsSeeTheSameLinesWithTheSameIds) {
  ASSERT_EQ(first_.size(), 11u) << "needs the previous test";
  (void)std::system(("cp '" + dir_ + "/ws1.map' '" + dir_ + "/ws2.map' && cp '" + dir_ +
                     "/ws1.map' '" + dir_ + "/ws3.map'")
                        .c_str());
  const pid_t ws2 = StartWorkstation(WriteConfig("ws2", dir_ + "/ws2.map"), dir_ + "/ws2.out", 11);
  const pid_t ws3 = StartWorkstation(WriteConfig("ws3", dir_ + "/ws3.map"), dir_ + "/ws3.out", 11);
  const pid_t ws4 =
      StartWorkstation(WriteConfig("ws4", dir_ + "/ws4-fresh.map"), dir_ + "/ws4.out", 11);
  const std::string t2 = WaitWorkstation(ws2, dir_ + "/ws2.out");
  const std::string t3 = WaitWorkstation(ws3, dir_ + "/ws3.out");
  const std::string t4 = WaitWorkstation(ws4, dir_ + "/ws4.out");
  ASSERT_NE(t2, "");
  ASSERT_NE(t3, "");
  ASSERT_NE(t4, "");
  EXPECT_EQ(t2, Serialize(first_));
  EXPECT_EQ(t3, Serialize(first_));
  std::map<std::string, DeviceRow> by_line_1, by_line_4;
  for (const auto& [id, row] : first_) by_line_1[row.line_id] = row;
  for (const auto& [id, row] : Parse(t4)) by_line_4[row.line_id] = row;
  ASSERT_EQ(by_line_4.size(), 11u) << t4;
  for (const auto& [line, row] : by_line_1) {
    EXPECT_TRUE(by_line_4[line] == row) << line;
  }
}

// Lines added and removed on a server at runtime (its configuration reloaded
// with linectl reload): LINE_CREATE for the new line (answered with
// providerCreateLineDevice, the new id usable), the removed line's call goes
// IDLE, then LINE_REMOVE with its device id; TAPISRV closes the call and the
// line, and the removed device id is refused from then on. A line that comes
// back is a new device.
TEST_F(TspMultiServerTest, LinesAddedAndRemovedOnTheServerAtRuntime) {
  setenv("LINEBRIDGE_TSP_CONFIG", WriteConfig("ws1", dir_ + "/ws1.map").c_str(), 1);
  TapiSrvHarness harness;
  std::string error;
  ASSERT_TRUE(harness.Load(std::getenv("LINEBRIDGE_TSP_LIBRARY"), &error)) << error;
  DWORD num_lines = 0;
  ASSERT_EQ(harness.Start(&num_lines), 0);
  const DeviceTable before = WaitDevices(harness, num_lines, 11);
  ASSERT_EQ(before.size(), 11u);
  DWORD old_id = 0;
  for (const auto& [id, row] : before) {
    if (row.line_id == "pbx2/101") old_id = id;
  }
  ASSERT_NE(old_id, 0u);
  const HTAPILINE ht_line = harness.NewHtLine();
  HDRVLINE hd_line = nullptr;
  ASSERT_EQ(harness.tspi().TSPI_lineOpen(old_id, ht_line, &hd_line, 0x00030000,
                                         &TapiSrvHarness::LineEvent),
            0);
  const HTAPICALL ht_call = reinterpret_cast<HTAPICALL>(uintptr_t{0xE001});
  HDRVCALL hd_call = nullptr;
  const DRV_REQUESTID make = harness.NextRequestId();
  harness.OutboundCall(ht_call, make);
  const LONG r = harness.tspi().TSPI_lineMakeCall(make, hd_line, ht_call, &hd_call, u"5550100", 0,
                                                  nullptr);
  harness.Issued(make, r);
  ASSERT_EQ(harness.WaitCompletion(make), 0);
  ASSERT_TRUE(harness.WaitCallState(ht_call, LINECALLSTATE_CONNECTED));

  auto write_b = [&](const std::vector<std::string>& extensions) {
    std::ofstream b(dir_ + "/b/linebridged.textproto");
    b << "providers { sim { name: \"pbx2\"\n";
    for (const std::string& e : extensions) b << "  extensions { number: \"" << e << "\" }\n";
    b << "  externals { number: \"5550100\" name: \"Weather Line\" behavior: SIM_BEHAVIOR_ANSWER }\n"
      << "} }\n";
  };
  write_b({"100", "102"});
  std::string out;
  ASSERT_EQ(RunLinectl({"--server", server_b_->address(), "--timeout", "3s", "reload"}, &out), 0)
      << out;
  // The call on the removed line ends, then the device goes.
  ASSERT_TRUE(harness.WaitCallState(ht_call, LINECALLSTATE_IDLE));
  RecordedEvent removed;
  ASSERT_TRUE(harness.WaitEvent([](const RecordedEvent& e) { return e.msg == LINE_REMOVE; },
                                absl::Seconds(5), &removed));
  EXPECT_EQ(removed.p1, static_cast<DWORD_PTR>(old_id));
  EXPECT_EQ(removed.ht_line, nullptr);
  bool idle_before_remove = false;
  for (const RecordedEvent& e : harness.events()) {
    if (e.msg == LINE_CALLSTATE && e.ht_call == ht_call && e.p1 == LINECALLSTATE_IDLE) {
      idle_before_remove = true;
    }
    if (e.msg == LINE_REMOVE) break;
  }
  EXPECT_TRUE(idle_before_remove);
  // What TAPISRV does on LINE_REMOVE: close the calls, then the line.
  EXPECT_EQ(harness.tspi().TSPI_lineCloseCall(hd_call), 0);
  EXPECT_EQ(harness.tspi().TSPI_lineClose(hd_line), 0);
  // The removed device id is refused from now on.
  std::vector<unsigned char> caps(4096, 0);
  const DWORD total = 4096;
  std::memcpy(caps.data(), &total, sizeof total);
  EXPECT_EQ(harness.tspi().TSPI_lineGetDevCaps(old_id, 0x00030000, 0,
                                               reinterpret_cast<LPLINEDEVCAPS>(caps.data())),
            ::LINEERR_BADDEVICEID);
  HDRVLINE stale = nullptr;
  EXPECT_EQ(harness.tspi().TSPI_lineOpen(old_id, harness.NewHtLine(), &stale, 0x00030000,
                                         &TapiSrvHarness::LineEvent),
            ::LINEERR_BADDEVICEID);
  DWORD version = 0;
  EXPECT_EQ(harness.tspi().TSPI_lineNegotiateTSPIVersion(old_id, 0x00020000, 0x00030000, &version),
            ::LINEERR_BADDEVICEID);

  // The new line: LINE_CREATE, a new device id, usable.
  DeviceTable after = WaitDevices(harness, num_lines, 11);
  DWORD new_id = 0;
  for (const auto& [id, row] : after) {
    if (row.line_id == "pbx2/102") new_id = id;
    EXPECT_NE(row.line_id, "pbx2/101");
  }
  ASSERT_NE(new_id, 0u) << Serialize(after);
  EXPECT_GE(new_id, TapiSrvHarness::kLineBase + num_lines);  // numbered by TAPISRV
  std::vector<DWORD> created = harness.created_devices();
  EXPECT_NE(std::find(created.begin(), created.end(), new_id), created.end());
  const HTAPILINE ht_new = harness.NewHtLine();
  HDRVLINE hd_new = nullptr;
  ASSERT_EQ(harness.tspi().TSPI_lineOpen(new_id, ht_new, &hd_new, 0x00030000,
                                         &TapiSrvHarness::LineEvent),
            0);
  const HTAPICALL ht_call2 = reinterpret_cast<HTAPICALL>(uintptr_t{0xE002});
  HDRVCALL hd_call2 = nullptr;
  const DRV_REQUESTID make2 = harness.NextRequestId();
  harness.OutboundCall(ht_call2, make2);
  harness.Issued(make2, harness.tspi().TSPI_lineMakeCall(make2, hd_new, ht_call2, &hd_call2,
                                                         u"5550100", 0, nullptr));
  ASSERT_EQ(harness.WaitCompletion(make2), 0);
  ASSERT_TRUE(harness.WaitCallState(ht_call2, LINECALLSTATE_CONNECTED));
  const DRV_REQUESTID drop = harness.NextRequestId();
  harness.Issued(drop, harness.tspi().TSPI_lineDrop(drop, hd_call2, nullptr, 0));
  EXPECT_EQ(harness.WaitCompletion(drop), 0);
  EXPECT_TRUE(harness.WaitCallState(ht_call2, LINECALLSTATE_IDLE));
  EXPECT_EQ(harness.tspi().TSPI_lineCloseCall(hd_call2), 0);
  EXPECT_EQ(harness.tspi().TSPI_lineClose(hd_new), 0);

  // pbx2/101 comes back: a new device (not the removed id).
  const size_t creates = harness.create_count();
  write_b({"100", "101", "102"});
  ASSERT_EQ(RunLinectl({"--server", server_b_->address(), "--timeout", "3s", "reload"}, &out), 0)
      << out;
  after = WaitDevices(harness, num_lines, 12);
  DWORD back_id = 0;
  for (const auto& [id, row] : after) {
    if (row.line_id == "pbx2/101") back_id = id;
  }
  ASSERT_NE(back_id, 0u) << Serialize(after);
  EXPECT_NE(back_id, old_id);
  EXPECT_EQ(harness.create_count(), creates + 1);
  ASSERT_EQ(harness.Stop(), 0);
  EXPECT_EQ(harness.violations(), std::vector<std::string>{});
}

}  // namespace
}  // namespace linebridge::tsp_test
