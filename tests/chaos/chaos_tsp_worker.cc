// The remote TSP's side of the chaos test, in a process of its own (the TSP
// carries its own copy of the generated API, which must not meet the SDK's in
// one process). Loads linebridge.tsp through the TAPISRV harness (the
// provider's configuration comes from $LINEBRIDGE_TSP_CONFIG), opens one line
// and then answers commands on stdin, one per line:
//   check  after a restart of linebridged: every device id still names the
//          same line, no device was created or removed, the open line's
//          handle works again (in service, a call made and dropped on it) and
//          the harness saw no TAPI rule broken. Answers "ok <ms>" or
//          "fail <why>".
//   quit   closes the line, shuts the provider down, exits 0.
// Usage: chaos_tsp_worker <linebridge.tsp> <line id to open>
#include <cstdint>
#include <iostream>
#include <map>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/time/clock.h"
#include "tapi_buffers.h"
#include "tapisrv_harness.h"
#include "linebridge/deadline.h"

namespace linebridge::tsp_test {
namespace {

class Worker {
 public:
  // Empty on success, else what failed.
  std::string Start(const std::string& library, const std::string& line_id) {
    std::string error;
    if (!harness_.Load(library, &error)) return error;
    if (harness_.Start(&num_lines_) != 0) return "providerInit failed";
    // Every enumerated device names its line once the server's list arrived.
    const absl::Time deadline = MonotonicNow() + absl::Seconds(20);
    while (MonotonicNow() < deadline) {
      devices_.clear();
      for (DWORD id = TapiSrvHarness::kLineBase; id < TapiSrvHarness::kLineBase + num_lines_; ++id) {
        const std::string line = LineOf(id);
        if (!line.empty()) devices_[id] = line;
      }
      if (devices_.size() == num_lines_ && num_lines_ > 0) break;
      absl::SleepFor(absl::Milliseconds(20));
    }
    if (devices_.size() != num_lines_ || num_lines_ == 0) {
      return absl::StrCat("devices without a line: ", num_lines_ - devices_.size(), " of ",
                          num_lines_);
    }
    creates_ = harness_.create_count();
    for (const auto& [id, line] : devices_) {
      if (line == line_id) device_ = id;
    }
    if (device_ == 0) return absl::StrCat("no device for ", line_id);
    ht_line_ = harness_.NewHtLine();
    if (harness_.tspi().TSPI_lineOpen(device_, ht_line_, &hd_line_, 0x00030000,
                                      &TapiSrvHarness::LineEvent) != 0) {
      return "lineOpen failed";
    }
    return "";
  }

  std::string Check() {
    const absl::Time start = absl::Now();
    const absl::Time deadline = start + absl::Seconds(30);
    // The open line's handle: in service again on the restarted server.
    while (!InService()) {
      if (MonotonicNow() > deadline) return "the open line did not come back in service";
      absl::SleepFor(absl::Milliseconds(10));
    }
    for (const auto& [id, line] : devices_) {
      if (LineOf(id) != line) return absl::StrCat("device ", id, " no longer names ", line);
    }
    if (harness_.create_count() != creates_) return "a LINE_CREATE after a restart";
    for (const RecordedEvent& e : harness_.events()) {
      if (e.msg == LINE_REMOVE) return "a LINE_REMOVE after a restart";
    }
    // A call on the handle opened before the first kill.
    std::string why;
    while (!CallOnce(&why)) {
      if (MonotonicNow() > deadline) return absl::StrCat("no call on the open line: ", why);
      absl::SleepFor(absl::Milliseconds(50));
    }
    if (std::vector<std::string> v = harness_.TakeViolations(); !v.empty()) {
      return absl::StrCat("TAPI rules broken: ", absl::StrJoin(v, "; "));
    }
    harness_.ClearEvents();
    return absl::StrCat("ok ", absl::ToInt64Milliseconds(absl::Now() - start));
  }

  void Quit() {
    harness_.tspi().TSPI_lineClose(hd_line_);
    harness_.Stop();
  }

 private:
  std::string LineOf(DWORD id) {
    auto b = Buffer(4096);
    if (harness_.tspi().TSPI_lineGetDevCaps(id, 0x00030000, 0,
                                            reinterpret_cast<LPLINEDEVCAPS>(b.data())) != 0) {
      return "";
    }
    const auto caps = Fixed<LINEDEVCAPS>(b);
    return String16At(b, caps.dwSwitchInfoSize, caps.dwSwitchInfoOffset);
  }

  bool InService() {
    auto status = Buffer(sizeof(LINEDEVSTATUS), 512);
    if (harness_.tspi().TSPI_lineGetLineDevStatus(
            hd_line_, reinterpret_cast<LPLINEDEVSTATUS>(status.data())) != 0) {
      return false;
    }
    return (Fixed<LINEDEVSTATUS>(status).dwDevStatusFlags & LINEDEVSTATUSFLAGS_INSERVICE) != 0;
  }

  // lineMakeCall to the sim's answering number, lineDrop, lineCloseCall.
  bool CallOnce(std::string* why) {
    TspiTable& t = harness_.tspi();
    const HTAPICALL ht_call = reinterpret_cast<HTAPICALL>(next_call_++);
    HDRVCALL hd_call = nullptr;
    const DRV_REQUESTID make = harness_.NextRequestId();
    harness_.OutboundCall(ht_call, make);
    const LONG r = t.TSPI_lineMakeCall(make, hd_line_, ht_call, &hd_call, u"5550100", 0, nullptr);
    harness_.Issued(make, r);
    if (r != static_cast<LONG>(make)) {
      *why = absl::StrCat("lineMakeCall returned ", r);
      return false;
    }
    if (const LONG done = harness_.WaitCompletion(make, absl::Seconds(10)); done != 0) {
      *why = absl::StrCat("lineMakeCall completed with ", done);
      return false;
    }
    bool ok = harness_.WaitCallState(ht_call, LINECALLSTATE_CONNECTED, absl::Seconds(10));
    if (!ok) *why = "never CONNECTED";
    const DRV_REQUESTID drop = harness_.NextRequestId();
    const LONG d = t.TSPI_lineDrop(drop, hd_call, nullptr, 0);
    harness_.Issued(drop, d);
    if (d == static_cast<LONG>(drop)) (void)harness_.WaitCompletion(drop, absl::Seconds(10));
    if (!harness_.WaitCallState(ht_call, LINECALLSTATE_IDLE, absl::Seconds(10))) {
      if (ok) *why = "never IDLE";
      ok = false;
    }
    if (t.TSPI_lineCloseCall(hd_call) != 0) {
      if (ok) *why = "lineCloseCall failed";
      ok = false;
    }
    return ok;
  }

  TapiSrvHarness harness_;
  DWORD num_lines_ = 0;
  std::map<DWORD, std::string> devices_;  // device id -> line id, at start
  size_t creates_ = 0;
  DWORD device_ = 0;
  HTAPILINE ht_line_ = nullptr;
  HDRVLINE hd_line_ = nullptr;
  uintptr_t next_call_ = 0xC0000;
};

}  // namespace
}  // namespace linebridge::tsp_test

int main(int argc, char** argv) {
  if (argc != 3) {
    std::cerr << "usage: chaos_tsp_worker <linebridge.tsp> <line id>\n";
    return 2;
  }
  linebridge::tsp_test::Worker worker;
  const std::string error = worker.Start(argv[1], argv[2]);
  if (!error.empty()) {
    std::cout << "fail " << error << std::endl;
    return 1;
  }
  std::cout << "ready" << std::endl;
  std::string command;
  while (std::getline(std::cin, command)) {
    if (command == "check") {
      std::cout << worker.Check() << std::endl;
    } else if (command == "quit") {
      break;
    }
  }
  worker.Quit();
  return 0;
}
