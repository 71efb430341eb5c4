// The AT command engine: one command in flight on a Port, responses matched
// from the modem's lines, unsolicited results delivered apart.
//
// Everything runs on the owner's loop: the owner calls OnBytes with what it
// read from the device, the Clock fires timeouts, and callbacks (response
// processors, completions, the unsolicited handler) run from inside OnBytes,
// timer callbacks, Enqueue (a failed write), Cancel and CancelAll. Callbacks
// may enqueue or cancel commands and may destroy the queue.
//
// A command's life: written as "<text>\r"; its echo (E1) is recognised and
// skipped; information lines go to its processor; a final result code
// completes it. A timeout, a Cancel, or a processor ending it early leaves
// the queue *draining*: the command's own final result is still on its way,
// so lines are swallowed until a final result (or the drain timeout) before
// the next command is written. Unsolicited results are delivered at any
// moment, also between a command's echo and its final result.
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "providers/modem/at/classify.h"
#include "providers/modem/at/line_splitter.h"
#include "providers/modem/at/port.h"

namespace linebridge::at {

enum class Outcome {
  kOk,
  kConnect,      // text: what followed CONNECT ("9600")
  kError,
  kCmeError,     // error: the number (or -1 and text for +CMEE=2)
  kCmsError,
  kNoCarrier,
  kBusy,
  kNoDialtone,
  kNoAnswer,
  kRejected,     // the response processor returned kFailure; text: the line
  kTimeout,
  kCancelled,
  kIoError,      // Port::Write failed; text: the status message
};
absl::string_view OutcomeName(Outcome outcome);  // "OK", "CME_ERROR", "TIMEOUT", ...

struct Result {
  Outcome outcome = Outcome::kOk;
  int error = -1;
  std::string text;
  std::vector<std::string> lines;  // information lines, in order
  bool ok() const { return outcome == Outcome::kOk || outcome == Outcome::kConnect; }
};
// "ERROR", "+CME ERROR 10", "TIMEOUT", "CONNECT 9600": for logs and statuses.
std::string Describe(const Result& result);

// Called for each information line of the command in flight.
enum class Step {
  kContinue,
  kSuccess,       // done early; the modem's final result is still to come
  kFailure,       // likewise, as kRejected
  kSuccessFinal,  // done: this line was the final answer (V.253 modems answer
                  // ATA/ATD with VCON: list "VCON" in Command::expect)
};
using Processor = std::function<Step(const std::string& line)>;
using Done = std::function<void(const Result& result)>;

inline constexpr absl::Duration kDefaultTimeout = absl::Seconds(3);

struct Command {
  std::string text;  // "ATI", without terminator; no control characters
  absl::Duration timeout = kDefaultTimeout;
  Processor processor;  // optional; without one every line is collected
  Done done;            // optional
  // Prefixes of lines that answer this command although Classify calls them
  // unsolicited. "AT+XXXX", "AT+XXXX?" and "AT+XXXX=?" expect "+XXXX:"
  // implicitly (AT+CLCC -> +CLCC:, AT+CLIP? -> +CLIP:); set commands with a
  // response (AT+CCWA=1,2) list theirs here.
  std::vector<std::string> expect;
  // Cancel writes a CR: any character aborts ATD/ATA (V.250 6.3.1).
  bool abort_on_cancel = false;
  // CONNECT starts a data stream (V.253 +VTR/+VRX/+VTX): from the byte after
  // the CONNECT line on, what the modem sends goes to the online handler
  // instead of the line splitter, and nothing is written, until Resume().
  bool goes_online = false;
};

class CommandQueue {
 public:
  using CommandId = uint64_t;
  using UnsolicitedHandler = std::function<void(const ParsedLine& urc)>;

  struct Options {
    ClassifyOptions classify;
    size_t max_line = LineSplitter::kDefaultMaxLine;
    // How long to wait for the final result of a timed-out, cancelled or
    // early-completed command before writing the next one.
    absl::Duration drain_timeout = absl::Seconds(2);
  };

  struct Stats {
    uint64_t overflows = 0;  // over-long lines discarded
    uint64_t swallowed = 0;  // lines dropped while draining
    uint64_t stray = 0;      // OK/ERROR/CONNECT/... with no command in flight
  };

  CommandQueue(Port& port, Clock& clock, Options options);
  CommandQueue(Port& port, Clock& clock) : CommandQueue(port, clock, Options()) {}
  ~CommandQueue();
  CommandQueue(const CommandQueue&) = delete;
  CommandQueue& operator=(const CommandQueue&) = delete;

  void SetUnsolicitedHandler(UnsolicitedHandler handler) { unsolicited_ = std::move(handler); }
  void SetNumericResults(bool numeric) { options_.classify.numeric_results = numeric; }
  // Receives the stream of a goes_online command (may call Resume and then
  // OnBytes with what follows the stream's end).
  using OnlineHandler = std::function<void(absl::string_view bytes)>;
  void SetOnlineHandler(OnlineHandler handler) { online_handler_ = std::move(handler); }

  // Queues `command` (written at once when the queue is idle). Invalid text
  // (empty, CR, LF or other control bytes) -> InvalidArgument.
  absl::StatusOr<CommandId> Enqueue(Command command);
  // Queues `command` ahead of every waiting command (sequences use this so
  // that their steps run back to back).
  absl::StatusOr<CommandId> EnqueueNext(Command command);
  // Completes a queued or in-flight command with kCancelled (synchronously).
  // false if the command already completed.
  bool Cancel(CommandId id);
  void CancelAll();

  // Bytes read from the modem, in any fragmentation.
  void OnBytes(absl::string_view bytes);

  // Back to lines after a data stream ended. `await_final`: the modem ends
  // the stream with a final result (OK after <DLE><ETX>); it is swallowed
  // (or the drain timeout passes) before the next command is written.
  void Resume(bool await_final);
  bool online() const { return online_; }

  bool idle() const { return state_ == State::kIdle && pending_.empty() && !online_; }
  size_t queued() const { return pending_.size(); }
  std::optional<CommandId> in_flight() const;
  const Stats& stats() const { return stats_; }

 private:
  enum class State { kIdle, kWaiting, kDraining };
  struct Entry {
    CommandId id = 0;
    Command command;
  };

  absl::StatusOr<CommandId> Add(Command command, bool front);
  void Pump();
  void HandleLine(const std::string& raw);
  bool Expected(absl::string_view line) const;
  void DeliverUnsolicited(ParsedLine urc);
  // Ends the command in flight; `drain` leaves the queue draining.
  // Both return false when a callback destroyed the queue.
  bool Complete(Result result, bool drain);
  void EndDrain();
  void ArmTimer(absl::Duration delay);
  void OnTimer();
  void CancelTimer();

  Port& port_;
  Clock& clock_;
  Options options_;
  LineSplitter splitter_;
  UnsolicitedHandler unsolicited_;
  std::deque<Entry> pending_;
  State state_ = State::kIdle;
  std::optional<Entry> current_;
  Result partial_;  // lines of the command in flight
  bool awaiting_echo_ = false;
  std::vector<std::string> expect_;  // of the command in flight or draining
  std::optional<Clock::TimerId> timer_;
  uint64_t timer_generation_ = 0;
  CommandId next_id_ = 1;
  bool pumping_ = false;
  bool online_ = false;
  bool skip_lf_ = false;    // online: the CONNECT line ended in CR; its LF may follow
  char terminator_ = 0;     // of the line being handled
  OnlineHandler online_handler_;
  Stats stats_;
  // Expires when the queue is destroyed; callbacks check it before going on.
  std::shared_ptr<int> alive_ = std::make_shared<int>(0);
};

}  // namespace linebridge::at
