// The AT engine's parsing of what a modem sends: the line splitter, the
// classifier (final results, URCs, +CLIP and 27.007 parameters) and the
// command queue (echo, expected prefixes, draining, timeouts) fed arbitrary
// bytes in arbitrary fragments while commands are queued, cancelled and
// timed out. The data bytes come from the front of the input (a modem
// transcript is a good seed), the decisions from its end.
#include <fuzzer/FuzzedDataProvider.h>

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "fuzz/fuzz_check.h"
#include "providers/modem/at/classify.h"
#include "providers/modem/at/command_queue.h"
#include "providers/modem/at/line_splitter.h"
#include "providers/modem/at/test_fakes.h"

namespace at = linebridge::at;

namespace {

const char* const kCommands[] = {"ATI",      "AT+CLCC",        "ATD5551234;", "ATA",
                                  "AT+CLIP?", "AT+CCWA=1,2",    "ATZ",         "AT+FCLASS=?",
                                  "AT+CPAS",  "AT+VTS=\"1\"",   "ATH",         "AT+CGMI"};

void CheckLine(const std::string& line, size_t max_line, const at::ClassifyOptions& options) {
  FUZZ_CHECK(line.find('\r') == std::string::npos && line.find('\n') == std::string::npos,
             "a split line holds its terminator");
  FUZZ_CHECK(!line.empty(), "empty lines are dropped");
  FUZZ_CHECK(line.size() <= max_line, "a line longer than the cap");
  const at::ParsedLine parsed = at::Classify(line, options);
  FUZZ_CHECK(parsed.line.size() <= line.size(), "the trimmed line grew");
  FUZZ_CHECK(parsed.type != at::LineType::kFinal || parsed.final != at::FinalCode::kNone,
             "a final result without its code");
  FUZZ_CHECK(parsed.type != at::LineType::kUnsolicited || parsed.urc != at::UrcKind::kNone,
             "an unsolicited result without its kind");
  (void)at::FinalCodeName(parsed.final);
  (void)at::UrcKindName(parsed.urc);
  const size_t colon = line.find(':');
  const std::string params = colon == std::string::npos ? line : line.substr(colon + 1);
  for (const std::string& p : at::SplitParams(params)) {
    FUZZ_CHECK(p.size() <= params.size(), "a parameter longer than its list");
  }
  (void)at::ParseClip(params);
  (void)at::TrimLine(line);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  FuzzedDataProvider in(data, size);
  at::testing::FakePort port;
  at::testing::FakeClock clock;
  at::CommandQueue::Options options;
  options.classify.numeric_results = in.ConsumeBool();
  options.max_line = in.ConsumeIntegralInRange<size_t>(8, 1100);
  auto queue = std::make_unique<at::CommandQueue>(port, clock, options);
  at::LineSplitter splitter(options.max_line);
  size_t urcs = 0;
  queue->SetUnsolicitedHandler([&urcs](const at::ParsedLine& urc) {
    FUZZ_CHECK(urc.urc != at::UrcKind::kNone, "a URC without its kind");
    ++urcs;
  });
  std::vector<at::CommandQueue::CommandId> ids;
  int steps = 0;
  while (in.remaining_bytes() > 0 && ++steps < 4096) {
    const int op = in.ConsumeIntegralInRange<int>(0, 9);
    if (op <= 4) {
      const std::string bytes =
          in.ConsumeBytesAsString(in.ConsumeIntegralInRange<size_t>(1, 300));
      for (const at::LineSplitter::Event& e : splitter.Feed(bytes)) {
        if (e.type == at::LineSplitter::Event::kLine) {
          CheckLine(e.line, options.max_line, options.classify);
        } else {
          FUZZ_CHECK(e.dropped > 0, "an overflow that dropped nothing");
        }
      }
      queue->OnBytes(bytes);
    } else if (op == 5) {
      at::Command command;
      command.text = kCommands[in.ConsumeIntegralInRange<size_t>(0, std::size(kCommands) - 1)];
      command.abort_on_cancel = in.ConsumeBool();
      command.timeout = absl::Milliseconds(in.ConsumeIntegralInRange<int>(1, 5000));
      if (in.ConsumeBool()) {
        const int stop_after = in.ConsumeIntegralInRange<int>(0, 4);
        auto seen = std::make_shared<int>(0);
        command.processor = [seen, stop_after](const std::string&) {
          return ++*seen > stop_after ? at::Step::kSuccess : at::Step::kContinue;
        };
      }
      command.done = [](const at::Result& r) { (void)at::Describe(r); };
      const size_t text_size = command.text.size();
      auto id = in.ConsumeBool() ? queue->Enqueue(std::move(command))
                                 : queue->EnqueueNext(std::move(command));
      // Refused only when longer than a line may be, or when writing it to
      // the port failed at once.
      FUZZ_CHECK(id.ok() || text_size >= options.max_line || !port.fail_with.ok(),
                 "a valid command was refused");
      if (id.ok()) ids.push_back(*id);
    } else if (op == 6) {
      clock.Advance(absl::Milliseconds(in.ConsumeIntegralInRange<int>(0, 8000)));
    } else if (op == 7 && !ids.empty()) {
      (void)queue->Cancel(ids[in.ConsumeIntegralInRange<size_t>(0, ids.size() - 1)]);
    } else if (op == 8) {
      queue->SetNumericResults(in.ConsumeBool());
    } else if (op == 9) {
      port.fail_with = in.ConsumeBool() ? absl::UnavailableError("port gone") : absl::OkStatus();
    }
    const std::string written = port.Take();
    FUZZ_CHECK(written.empty() || written.back() == '\r', "a command written without its CR");
  }
  queue->CancelAll();
  queue.reset();
  clock.Advance(absl::Seconds(60));  // timers of the destroyed queue are harmless
  return 0;
}
