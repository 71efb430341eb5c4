#include "providers/modem/at/command_queue.h"

#include <utility>

#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"

namespace linebridge::at {
namespace {

Outcome OutcomeOf(FinalCode code) {
  switch (code) {
    case FinalCode::kOk: return Outcome::kOk;
    case FinalCode::kConnect: return Outcome::kConnect;
    case FinalCode::kNoCarrier: return Outcome::kNoCarrier;
    case FinalCode::kNoDialtone: return Outcome::kNoDialtone;
    case FinalCode::kBusy: return Outcome::kBusy;
    case FinalCode::kNoAnswer: return Outcome::kNoAnswer;
    case FinalCode::kCmeError: return Outcome::kCmeError;
    case FinalCode::kCmsError: return Outcome::kCmsError;
    case FinalCode::kError:
    case FinalCode::kNone: break;
  }
  return Outcome::kError;
}

// The end of a call rather than the answer to a command.
bool IsHangup(FinalCode code) {
  return code == FinalCode::kNoCarrier || code == FinalCode::kBusy ||
         code == FinalCode::kNoAnswer || code == FinalCode::kNoDialtone;
}

// "AT+XXXX", "AT+XXXX?", "AT+XXXX=?" answer with "+XXXX:" lines.
std::string ImplicitPrefix(absl::string_view text) {
  if (text.size() < 4 || !absl::StartsWithIgnoreCase(text, "AT+")) return "";
  absl::string_view name = text.substr(2);
  size_t end = name.find_first_of("=?");
  absl::string_view rest = end == absl::string_view::npos ? "" : name.substr(end);
  name = name.substr(0, end);
  if (name.size() < 2 || !(rest.empty() || rest == "?" || rest == "=?")) return "";
  return absl::StrCat(absl::AsciiStrToUpper(name), ":");
}

}  // namespace

absl::string_view OutcomeName(Outcome outcome) {
  switch (outcome) {
    case Outcome::kOk: return "OK";
    case Outcome::kConnect: return "CONNECT";
    case Outcome::kError: return "ERROR";
    case Outcome::kCmeError: return "CME_ERROR";
    case Outcome::kCmsError: return "CMS_ERROR";
    case Outcome::kNoCarrier: return "NO_CARRIER";
    case Outcome::kBusy: return "BUSY";
    case Outcome::kNoDialtone: return "NO_DIALTONE";
    case Outcome::kNoAnswer: return "NO_ANSWER";
    case Outcome::kRejected: return "REJECTED";
    case Outcome::kTimeout: return "TIMEOUT";
    case Outcome::kCancelled: return "CANCELLED";
    case Outcome::kIoError: return "IO_ERROR";
  }
  return "?";
}

std::string Describe(const Result& result) {
  std::string out(OutcomeName(result.outcome));
  if (result.error >= 0) {
    absl::StrAppend(&out, " ", result.error);
  } else if (!result.text.empty()) {
    absl::StrAppend(&out, " ", result.text);
  }
  return out;
}

CommandQueue::CommandQueue(Port& port, Clock& clock, Options options)
    : port_(port), clock_(clock), options_(options), splitter_(options.max_line) {}

CommandQueue::~CommandQueue() { CancelTimer(); }

std::optional<CommandQueue::CommandId> CommandQueue::in_flight() const {
  if (state_ != State::kWaiting) return std::nullopt;
  return current_->id;
}

absl::StatusOr<CommandQueue::CommandId> CommandQueue::Enqueue(Command command) {
  return Add(std::move(command), /*front=*/false);
}

absl::StatusOr<CommandQueue::CommandId> CommandQueue::EnqueueNext(Command command) {
  return Add(std::move(command), /*front=*/true);
}

absl::StatusOr<CommandQueue::CommandId> CommandQueue::Add(Command command, bool front) {
  if (command.text.empty() || command.text.size() >= options_.max_line) {
    return absl::InvalidArgumentError("AT command empty or too long");
  }
  for (char c : command.text) {
    auto u = static_cast<unsigned char>(c);
    if (u < 0x20 || u >= 0x7f) {
      return absl::InvalidArgumentError("AT command contains a control or non-ASCII byte");
    }
  }
  if (std::string prefix = ImplicitPrefix(command.text); !prefix.empty()) {
    command.expect.push_back(std::move(prefix));
  }
  Entry entry{next_id_++, std::move(command)};
  const CommandId id = entry.id;
  if (front) {
    pending_.push_front(std::move(entry));
  } else {
    pending_.push_back(std::move(entry));
  }
  Pump();
  return id;
}

void CommandQueue::Pump() {
  if (pumping_) return;
  pumping_ = true;
  while (state_ == State::kIdle && !online_ && !pending_.empty()) {
    current_ = std::move(pending_.front());
    pending_.pop_front();
    state_ = State::kWaiting;
    partial_ = Result();
    awaiting_echo_ = true;
    expect_ = current_->command.expect;
    absl::Status written = port_.Write(absl::StrCat(current_->command.text, "\r"));
    if (!written.ok()) {
      Result failed;
      failed.outcome = Outcome::kIoError;
      failed.text = std::string(written.message());
      if (!Complete(std::move(failed), /*drain=*/false)) return;
      continue;
    }
    ArmTimer(current_->command.timeout);
  }
  pumping_ = false;
}

bool CommandQueue::Cancel(CommandId id) {
  if (state_ == State::kWaiting && current_->id == id) {
    if (current_->command.abort_on_cancel) (void)port_.Write("\r");
    Result cancelled = std::move(partial_);
    cancelled.outcome = Outcome::kCancelled;
    Complete(std::move(cancelled), /*drain=*/true);
    return true;
  }
  for (auto it = pending_.begin(); it != pending_.end(); ++it) {
    if (it->id != id) continue;
    Done done = std::move(it->command.done);
    pending_.erase(it);
    Result cancelled;
    cancelled.outcome = Outcome::kCancelled;
    if (done) done(cancelled);
    return true;
  }
  return false;
}

void CommandQueue::CancelAll() {
  std::weak_ptr<int> alive = alive_;
  std::deque<Entry> waiting;
  waiting.swap(pending_);
  if (state_ == State::kWaiting) Cancel(current_->id);
  if (alive.expired()) return;
  for (Entry& entry : waiting) {
    Result cancelled;
    cancelled.outcome = Outcome::kCancelled;
    if (entry.command.done) entry.command.done(cancelled);
    if (alive.expired()) return;
  }
}

void CommandQueue::OnBytes(absl::string_view bytes) {
  std::weak_ptr<int> alive = alive_;
  while (!bytes.empty()) {
    if (online_) {
      if (skip_lf_ && bytes.front() == '\n') bytes.remove_prefix(1);
      skip_lf_ = false;
      if (!bytes.empty() && online_handler_) {
        OnlineHandler handler = online_handler_;
        handler(bytes);
      }
      return;
    }
    // Up to one terminator at a time: a line may start a data stream, and
    // the bytes after it are not lines.
    const size_t end = bytes.find_first_of("\r\n");
    const absl::string_view piece =
        end == absl::string_view::npos ? bytes : bytes.substr(0, end + 1);
    bytes.remove_prefix(piece.size());
    terminator_ = end == absl::string_view::npos ? 0 : piece.back();
    for (LineSplitter::Event& event : splitter_.Feed(piece)) {
      if (event.type == LineSplitter::Event::kOverflow) {
        ++stats_.overflows;
        continue;
      }
      HandleLine(event.line);
      if (alive.expired()) return;
    }
  }
}

void CommandQueue::Resume(bool await_final) {
  if (!online_) return;
  online_ = false;
  skip_lf_ = false;
  splitter_.Reset();
  if (await_final && state_ == State::kIdle) {
    state_ = State::kDraining;
    ArmTimer(options_.drain_timeout);
    return;
  }
  Pump();
}

bool CommandQueue::Expected(absl::string_view line) const {
  for (const std::string& prefix : expect_) {
    if (absl::StartsWith(line, prefix)) return true;
  }
  return false;
}

void CommandQueue::HandleLine(const std::string& raw) {
  const absl::string_view trimmed = TrimLine(raw);
  if (trimmed.empty()) return;
  if (state_ == State::kWaiting && awaiting_echo_ &&
      absl::EqualsIgnoreCase(trimmed, current_->command.text)) {
    awaiting_echo_ = false;
    return;
  }
  ParsedLine parsed = Classify(trimmed, options_.classify);
  if (parsed.type == LineType::kUnsolicited && state_ != State::kIdle && Expected(parsed.line)) {
    parsed.type = LineType::kInformation;
    parsed.urc = UrcKind::kNone;
  }

  switch (parsed.type) {
    case LineType::kUnsolicited:
      DeliverUnsolicited(std::move(parsed));
      return;

    case LineType::kFinal:
      if (state_ == State::kWaiting) {
        Result result = std::move(partial_);
        result.outcome = OutcomeOf(parsed.final);
        result.error = parsed.error;
        result.text = std::move(parsed.value);
        Complete(std::move(result), /*drain=*/false);
      } else if (state_ == State::kDraining) {
        ++stats_.swallowed;
        EndDrain();
      } else {
        parsed.type = LineType::kUnsolicited;
        if (IsHangup(parsed.final)) {
          parsed.urc = UrcKind::kHangup;
        } else {
          parsed.urc = UrcKind::kStray;
          ++stats_.stray;
        }
        DeliverUnsolicited(std::move(parsed));
      }
      return;

    case LineType::kInformation:
      if (state_ == State::kDraining) {
        ++stats_.swallowed;
        return;
      }
      if (state_ == State::kIdle) {
        parsed.type = LineType::kUnsolicited;
        parsed.urc = UrcKind::kUnknown;
        DeliverUnsolicited(std::move(parsed));
        return;
      }
      awaiting_echo_ = false;
      partial_.lines.push_back(parsed.line);
      if (current_->command.processor) {
        // A copy: the processor may cancel its own command.
        Processor processor = current_->command.processor;
        const CommandId id = current_->id;
        std::weak_ptr<int> alive = alive_;
        const Step step = processor(parsed.line);
        if (alive.expired() || state_ != State::kWaiting || current_->id != id) return;
        if (step == Step::kContinue) return;
        Result result = std::move(partial_);
        if (step == Step::kFailure) {
          result.outcome = Outcome::kRejected;
          result.text = parsed.line;
        } else {
          result.outcome = Outcome::kOk;
        }
        Complete(std::move(result), /*drain=*/step != Step::kSuccessFinal);
      }
      return;
  }
}

void CommandQueue::DeliverUnsolicited(ParsedLine urc) {
  if (!unsolicited_) return;
  UnsolicitedHandler handler = unsolicited_;  // may replace itself
  handler(urc);
}

bool CommandQueue::Complete(Result result, bool drain) {
  Entry entry = std::move(*current_);
  current_.reset();
  CancelTimer();
  partial_ = Result();
  awaiting_echo_ = false;
  if (drain) {
    state_ = State::kDraining;
    ArmTimer(options_.drain_timeout);
  } else {
    state_ = State::kIdle;
    expect_.clear();
  }
  if (entry.command.goes_online && result.outcome == Outcome::kConnect) {
    online_ = true;
    skip_lf_ = terminator_ == '\r';
  }
  std::weak_ptr<int> alive = alive_;
  if (entry.command.done) entry.command.done(result);
  if (alive.expired()) return false;
  Pump();
  return !alive.expired();
}

void CommandQueue::EndDrain() {
  CancelTimer();
  state_ = State::kIdle;
  expect_.clear();
  Pump();
}

void CommandQueue::ArmTimer(absl::Duration delay) {
  CancelTimer();
  const uint64_t generation = timer_generation_;
  std::weak_ptr<int> alive = alive_;
  timer_ = clock_.Schedule(delay, [this, alive, generation] {
    if (alive.expired() || generation != timer_generation_) return;
    timer_.reset();
    ++timer_generation_;
    OnTimer();
  });
}

void CommandQueue::OnTimer() {
  if (state_ == State::kWaiting) {
    Result result = std::move(partial_);
    result.outcome = Outcome::kTimeout;
    Complete(std::move(result), /*drain=*/true);
  } else if (state_ == State::kDraining) {
    EndDrain();
  }
}

void CommandQueue::CancelTimer() {
  ++timer_generation_;
  if (timer_) clock_.Cancel(*timer_);
  timer_.reset();
}

}  // namespace linebridge::at
