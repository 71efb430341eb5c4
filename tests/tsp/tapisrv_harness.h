// A stand-in for TAPISRV: loads linebridge.tsp with dlopen(), resolves every
// TSPI function by name, and supplies LINEEVENT and ASYNC_COMPLETION callbacks
// that record what the provider reports and check TAPI's rules:
//  - every dwRequestID is completed exactly once, and only ids that an
//    asynchronous TSPI function returned;
//  - LINE_NEWCALL comes before the first LINE_CALLSTATE of an incoming call,
//    and an outgoing call's LINE_CALLSTATE only after its lineMakeCall
//    completed successfully (the completion may legally arrive before the
//    TSPI function returned: TAPISRV knows the request id before it calls);
//  - nothing is reported for a call after LINECALLSTATE_IDLE, and the state
//    sequence is legal (no OFFERING/dialing states once connected, only IDLE
//    after DISCONNECTED);
//  - LINE_CREATE carries the provider's hProvider; the harness answers it with
//    TSPI_providerCreateLineDevice as TAPISRV does (PHONE_CREATE likewise with
//    TSPI_providerCreatePhoneDevice; phone events are recorded apart, and
//    none may arrive for a phone after its phoneClose returned).
// Plus: a real linebridged process for the provider to talk to.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <functional>
#include <map>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "linebridge/tapi_abi.h"

namespace linebridge::tsp_test {

// Every TSPI function, as a pointer resolved with dlsym.
struct TspiTable {
#define LB_TSPI_POINTER(NAME, PARAMS) decltype(&::NAME) NAME = nullptr;
  LINEBRIDGE_TSPI_FUNCTIONS(LB_TSPI_POINTER)
#undef LB_TSPI_POINTER
};

struct RecordedPhoneEvent {
  HTAPIPHONE ht_phone = nullptr;
  DWORD msg = 0;
  DWORD_PTR p1 = 0, p2 = 0, p3 = 0;
};

struct RecordedEvent {
  HTAPILINE ht_line = nullptr;
  HTAPICALL ht_call = nullptr;
  DWORD msg = 0;
  DWORD_PTR p1 = 0, p2 = 0, p3 = 0;
};

class TapiSrvHarness {
 public:
  static constexpr DWORD kProviderId = 7;
  static constexpr DWORD kLineBase = 10;
  static constexpr DWORD kPhoneBase = 40;
  // The hProvider the harness hands to providerEnumDevices.
  static HPROVIDER provider_handle() { return reinterpret_cast<HPROVIDER>(uintptr_t{0xBEEF}); }

  TapiSrvHarness();
  ~TapiSrvHarness();

  // dlopen + dlsym of every TSPI_* name; false with `error` if any is missing.
  bool Load(const std::string& path, std::string* error);
  TspiTable& tspi() { return tspi_; }

  // providerEnumDevices + providerInit (TSPI 3.0, device ids from kLineBase).
  LONG Start(DWORD* num_lines);
  // The same, also reporting providerEnumDevices' phones (ids from kPhoneBase).
  LONG Start(DWORD* num_lines, DWORD* num_phones);
  LONG Stop();

  // A fresh request id (registered as outstanding when the function returns it).
  DRV_REQUESTID NextRequestId();
  // Records that an asynchronous function returned `result` for `id`.
  void Issued(DRV_REQUESTID id, LONG result);
  // Registers an htCall handed to lineMakeCall under request `id`.
  void OutboundCall(HTAPICALL ht_call, DRV_REQUESTID id);
  // An htLine for lineOpen.
  HTAPILINE NewHtLine();

  // Waits (<= timeout) for the completion of `id`; returns its result, or
  // nullopt-like sentinel 1 on timeout.
  LONG WaitCompletion(DRV_REQUESTID id, absl::Duration timeout = absl::Seconds(5));
  // Waits for a recorded event matching `match` (from index `from` on).
  bool WaitEvent(const std::function<bool(const RecordedEvent&)>& match,
                 absl::Duration timeout = absl::Seconds(5), RecordedEvent* found = nullptr);
  bool WaitCallState(HTAPICALL ht_call, DWORD state, absl::Duration timeout = absl::Seconds(5));
  // The htCall TAPI gave the n-th LINE_NEWCALL on `ht_line` and its hdCall.
  bool WaitNewCall(HTAPILINE ht_line, HTAPICALL* ht_call, HDRVCALL* hd_call,
                   absl::Duration timeout = absl::Seconds(5));

  // --- phones (tapisrv_harness_phones.cc) ---
  // An htPhone for phoneOpen; Closed() when phoneClose returned (events for
  // it after that are violations).
  HTAPIPHONE NewHtPhone();
  void Closed(HTAPIPHONE ht_phone);
  bool WaitPhoneEvent(const std::function<bool(const RecordedPhoneEvent&)>& match,
                      absl::Duration timeout = absl::Seconds(5),
                      RecordedPhoneEvent* found = nullptr);
  std::vector<RecordedPhoneEvent> phone_events();
  void ClearPhoneEvents();
  std::vector<DWORD> created_phones();  // device ids of PHONE_CREATE, in order
  static void PhoneEvent(HTAPIPHONE ht_phone, DWORD msg, DWORD_PTR p1, DWORD_PTR p2,
                         DWORD_PTR p3);

  // Device ids created through LINE_CREATE so far (in order).
  std::vector<DWORD> created_devices();
  size_t create_count();
  std::vector<std::string> violations();
  std::vector<std::string> TakeViolations();  // returns and clears them
  std::vector<RecordedEvent> events();
  void ClearEvents();

  // Callbacks (static: TAPI's are plain function pointers).
  static void LineEvent(HTAPILINE ht_line, HTAPICALL ht_call, DWORD msg, DWORD_PTR p1,
                        DWORD_PTR p2, DWORD_PTR p3);
  static void Completion(DRV_REQUESTID id, LONG result);

 private:
  struct CallTrack {
    bool outbound = false;
    DRV_REQUESTID make_request = 0;
    bool announced = false;  // LINE_NEWCALL seen (incoming)
    std::vector<DWORD> states;
  };
  void OnLineEvent(const RecordedEvent& event);
  void OnCompletion(DRV_REQUESTID id, LONG result);
  void OnPhoneEvent(const RecordedPhoneEvent& event);
  void Violation(const std::string& what);

  void* library_ = nullptr;
  // providerInit succeeded and no providerShutdown followed: the destructor
  // shuts the provider down, so a test that fails midway leaves the (process-
  // wide) provider ready for the next one.
  bool started_ = false;
  TspiTable tspi_;

  absl::Mutex mu_;
  DRV_REQUESTID next_request_ = 1;
  uintptr_t next_handle_ = 0x10000;
  std::set<DRV_REQUESTID> outstanding_;
  std::map<DRV_REQUESTID, LONG> completed_;
  std::map<DRV_REQUESTID, LONG> early_;  // completed before Issued() saw the return
  // Every completion in the order delivered. TSPI allows Completion_Proc
  // before the TSPI function returns, so ordering rules (an outgoing call's
  // LINE_CALLSTATE only after its completion) look here, not at completed_.
  std::map<DRV_REQUESTID, LONG> delivered_;
  std::map<HTAPICALL, CallTrack> calls_;
  std::vector<RecordedEvent> events_;
  std::vector<DWORD> created_;
  DWORD next_device_ = 0;
  std::vector<std::string> violations_;
  std::vector<RecordedPhoneEvent> phone_events_;
  std::set<HTAPIPHONE> closed_phones_;
  std::vector<DWORD> created_phones_;
  DWORD next_phone_device_ = 0;
};

// linebridged on 127.0.0.1 with an ephemeral port (binary from
// $LINEBRIDGE_BIN_DIR).
// Waits up to `timeout` for child `pid`; if it has not exited by then it is
// killed (SIGKILL) and reaped, and the result is false. `status` as waitpid.
bool WaitOrKill(pid_t pid, absl::Duration timeout, int* status);

// Ends a linebridged child as systemd does (SIGCONT, SIGTERM): it must exit
// 0 within 30 s with no ASan/LSan/UBSan report in `log`, else a gtest
// failure names the log. For every test that starts the daemon.
void StopDaemonProcess(pid_t pid, const std::string& log);
// A gtest failure quoting the report if `log` holds a sanitizer report.
void CheckDaemonLog(const std::string& log);

class ServerProcess {
 public:
  ~ServerProcess();
  // Starts linebridged with its data in `dir`/data. `port` 0: an ephemeral
  // port (then reused by Restart); `config`: a --config file ("" none).
  bool Start(const std::string& dir, std::string* error, int port = 0,
             const std::string& config = "");
  // Starts it again after Stop() or Kill(): same data dir, port and config.
  bool Restart(std::string* error);
  // Stops it as systemd would (SIGTERM; SIGCONT first if paused): it must
  // exit 0 within 30 s with no sanitizer report in its log, else the test
  // fails (gtest failure naming the log). Idempotent; the destructor calls it.
  void Stop();
  // A crash (SIGKILL): what survives one. The log is still checked.
  void Kill();
  void Pause();                    // SIGSTOP
  void Resume();                   // SIGCONT
  std::string address() const { return "127.0.0.1:" + std::to_string(port_); }
  pid_t pid() const { return pid_; }

 private:
  pid_t pid_ = -1;
  int port_ = 0;
  std::string dir_;
  std::string config_;
};

// A TCP forwarder on 127.0.0.1 standing in for the network between a
// workstation and a server: Cut() closes every connection and refuses new
// ones (accepted and closed at once) until Restore().
class TcpProxy {
 public:
  ~TcpProxy();
  bool Start(int target_port, std::string* error);
  std::string address() const { return "127.0.0.1:" + std::to_string(port_); }
  void Cut();
  void Restore();

 private:
  void Run();
  int listen_fd_ = -1;
  int wake_[2] = {-1, -1};
  int port_ = 0;
  int target_port_ = 0;
  absl::Mutex mu_;
  bool cut_ = false;
  bool stop_ = false;
  bool drop_all_ = false;
  std::thread thread_;
};

// Runs $LINEBRIDGE_BIN_DIR/linectl with `args` (a plain SDK client in its own
// process: the TSP library carries its own copy of the generated API, which
// must not be registered twice in one process). Bounded by 5 s; returns the
// exit status (-1 on timeout) and the output in `output`.
int RunLinectl(const std::vector<std::string>& args, std::string* output);
// The same for another program of $LINEBRIDGE_BIN_DIR (e.g. tsp_operate_phone).
int RunTool(const std::string& name, const std::vector<std::string>& args, std::string* output);

}  // namespace linebridge::tsp_test
