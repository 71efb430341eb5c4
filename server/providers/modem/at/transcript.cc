#include "providers/modem/at/transcript.h"

#include <algorithm>
#include <fstream>
#include <map>
#include <memory>
#include <random>
#include <sstream>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/time/time.h"
#include "providers/modem/at/command_queue.h"
#include "providers/modem/at/probe.h"
#include "providers/modem/at/test_fakes.h"

namespace linebridge::at::testing {
namespace {

int HexDigit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

absl::StatusOr<std::string> Unescape(absl::string_view s) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] != '\\') {
      out.push_back(s[i]);
      continue;
    }
    if (++i >= s.size()) return absl::InvalidArgumentError("dangling backslash");
    switch (s[i]) {
      case 'r': out.push_back('\r'); break;
      case 'n': out.push_back('\n'); break;
      case 't': out.push_back('\t'); break;
      case '\\': out.push_back('\\'); break;
      case 'x': {
        if (i + 2 >= s.size()) {
          return absl::InvalidArgumentError("short \\x escape");
        }
        int hi = HexDigit(s[i + 1]), lo = HexDigit(s[i + 2]);
        if (hi < 0 || lo < 0) return absl::InvalidArgumentError("bad \\x escape");
        out.push_back(static_cast<char>(hi * 16 + lo));
        i += 2;
        break;
      }
      default: return absl::InvalidArgumentError(absl::StrCat("unknown escape \\", s.substr(i, 1)));
    }
  }
  return out;
}

std::string FormatUrc(const ParsedLine& urc) {
  std::string out = absl::StrCat("urc ", UrcKindName(urc.urc));
  if (urc.urc == UrcKind::kHangup || urc.urc == UrcKind::kStray || urc.urc == UrcKind::kUnknown) {
    return absl::StrCat(out, " ", Escape(urc.line));
  }
  if (!urc.key.empty()) absl::StrAppend(&out, " ", Escape(urc.key));
  if (!urc.value.empty()) absl::StrAppend(&out, " ", Escape(urc.value));
  return out;
}

std::string FormatDone(const std::string& text, const Result& result) {
  std::string out = absl::StrCat("done ", Escape(text), " ", Escape(Describe(result)));
  for (const std::string& line : result.lines) absl::StrAppend(&out, " | ", Escape(line));
  return out;
}

}  // namespace

std::string Escape(absl::string_view bytes) {
  std::string out;
  for (char c : bytes) {
    auto u = static_cast<unsigned char>(c);
    if (c == '\\') {
      out += "\\\\";
    } else if (u < 0x20 || u > 0x7e) {
      out += absl::StrFormat("\\x%02x", u);
    } else {
      out.push_back(c);
    }
  }
  return out;
}

absl::StatusOr<Transcript> ParseTranscript(absl::string_view text, std::string name) {
  Transcript t;
  t.name = std::move(name);
  // Longest operators first.
  static const std::pair<absl::string_view, TranscriptOp::Kind> kOps[] = {
      {"!probe", TranscriptOp::kProbe},     {"!!", TranscriptOp::kEnqueueAbort},
      {"!", TranscriptOp::kEnqueue},        {">>", TranscriptOp::kExpectWrite},
      {">-", TranscriptOp::kExpectNoWrite}, {">", TranscriptOp::kExpectWrite},
      {"<<", TranscriptOp::kSend},          {"<", TranscriptOp::kSend},
      {"x", TranscriptOp::kCancel},         {"t", TranscriptOp::kTimeout},
      {"n", TranscriptOp::kNumeric},        {"+", TranscriptOp::kAdvance},
      {"=", TranscriptOp::kExpectEvent},
  };
  int number = 0;
  for (absl::string_view line : absl::StrSplit(text, '\n')) {
    ++number;
    while (!line.empty() && (line.back() == '\r' || line.back() == ' ')) line.remove_suffix(1);
    if (line.empty() || line[0] == '#') continue;
    bool matched = false;
    for (const auto& [op, kind] : kOps) {
      if (line.substr(0, op.size()) != op) continue;
      absl::string_view rest = line.substr(op.size());
      if (!rest.empty() && rest[0] != ' ') continue;  // "xyz" is not "x"
      if (!rest.empty()) rest.remove_prefix(1);
      TranscriptOp o{kind, "", number};
      if (kind == TranscriptOp::kExpectEvent) {
        o.arg = std::string(rest);
      } else {
        absl::StatusOr<std::string> arg = Unescape(rest);
        if (!arg.ok()) {
          return absl::InvalidArgumentError(
              absl::StrCat(t.name, ":", number, ": ", arg.status().message()));
        }
        o.arg = *std::move(arg);
      }
      if (op == ">") o.arg += "\r";
      if (op == "<") o.arg = absl::StrCat("\r\n", o.arg, "\r\n");
      t.ops.push_back(std::move(o));
      matched = true;
      break;
    }
    if (!matched) {
      return absl::InvalidArgumentError(absl::StrCat(t.name, ":", number, ": unknown operator"));
    }
  }
  return t;
}

absl::StatusOr<Transcript> LoadTranscript(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return absl::NotFoundError(absl::StrCat("cannot read ", path));
  std::stringstream buffer;
  buffer << in.rdbuf();
  std::string name = path.substr(path.find_last_of('/') + 1);
  return ParseTranscript(buffer.str(), std::move(name));
}

Fragmenter Whole() {
  return [](const std::string& chunk) { return std::vector<std::string>{chunk}; };
}

Fragmenter Bytewise() {
  return [](const std::string& chunk) {
    std::vector<std::string> pieces;
    for (char c : chunk) pieces.emplace_back(1, c);
    return pieces;
  };
}

Fragmenter SplitAt(size_t position) {
  return [position](const std::string& chunk) {
    if (position == 0 || position >= chunk.size()) return std::vector<std::string>{chunk};
    return std::vector<std::string>{chunk.substr(0, position), chunk.substr(position)};
  };
}

Fragmenter Random(unsigned seed) {
  auto rng = std::make_shared<std::mt19937>(seed);
  return [rng](const std::string& chunk) {
    std::vector<std::string> pieces;
    std::uniform_int_distribution<size_t> size(1, 9);
    for (size_t at = 0; at < chunk.size();) {
      size_t n = std::min(size(*rng), chunk.size() - at);
      pieces.push_back(chunk.substr(at, n));
      at += n;
    }
    return pieces;
  };
}

PlayResult Play(const Transcript& transcript, const Fragmenter& fragmenter) {
  PlayResult out;
  FakePort port;
  FakeClock clock;
  auto queue = std::make_unique<CommandQueue>(port, clock);
  queue->SetUnsolicitedHandler(
      [&out](const ParsedLine& urc) { out.events.push_back(FormatUrc(urc)); });
  std::map<std::string, CommandQueue::CommandId> ids;
  absl::Duration timeout = kDefaultTimeout;
  size_t next_event = 0;
  std::string chunk;

  auto fail = [&](int line, const std::string& what) {
    out.failures.push_back(absl::StrCat(transcript.name, ":", line, ": ", what));
  };
  auto flush = [&] {
    if (chunk.empty()) return;
    out.longest_chunk = std::max(out.longest_chunk, chunk.size());
    for (const std::string& piece : fragmenter(chunk)) queue->OnBytes(piece);
    chunk.clear();
  };

  for (const TranscriptOp& op : transcript.ops) {
    if (op.kind == TranscriptOp::kSend) {
      chunk += op.arg;
      continue;
    }
    flush();
    switch (op.kind) {
      case TranscriptOp::kEnqueue:
      case TranscriptOp::kEnqueueAbort: {
        Command command;
        command.text = op.arg;
        command.timeout = timeout;
        command.abort_on_cancel = op.kind == TranscriptOp::kEnqueueAbort;
        command.done = [&out, text = op.arg](const Result& result) {
          out.events.push_back(FormatDone(text, result));
        };
        absl::StatusOr<CommandQueue::CommandId> id = queue->Enqueue(std::move(command));
        if (!id.ok()) {
          fail(op.line, absl::StrCat("enqueue: ", id.status().ToString()));
        } else {
          ids[op.arg] = *id;
        }
        break;
      }
      case TranscriptOp::kProbe:
        Probe(*queue, [&out](absl::StatusOr<ModemIdentity> identity) {
          if (!identity.ok()) {
            out.events.push_back(absl::StrCat("probe error ", identity.status().ToString()));
            return;
          }
          out.events.push_back(absl::StrCat(
              "probe ", ProfileName(identity->profile), " | mfr=", Escape(identity->manufacturer),
              " | model=", Escape(identity->model), " | fclass=",
              absl::StrJoin(identity->fclass, ","), " | ati=",
              Escape(absl::StrJoin(identity->ati, "/"))));
        });
        break;
      case TranscriptOp::kCancel:
        if (auto it = ids.find(op.arg); it == ids.end()) {
          fail(op.line, "cancel of a command never enqueued");
        } else {
          queue->Cancel(it->second);
        }
        break;
      case TranscriptOp::kTimeout: {
        int ms = 0;
        if (!absl::SimpleAtoi(op.arg, &ms)) fail(op.line, "bad timeout");
        timeout = absl::Milliseconds(ms);
        break;
      }
      case TranscriptOp::kNumeric:
        queue->SetNumericResults(op.arg == "on");
        break;
      case TranscriptOp::kExpectWrite:
        if (port.written.compare(0, op.arg.size(), op.arg) != 0) {
          fail(op.line, absl::StrCat("expected write \"", Escape(op.arg), "\", have \"",
                                     Escape(port.written), "\""));
          port.written.clear();
        } else {
          port.written.erase(0, op.arg.size());
        }
        break;
      case TranscriptOp::kExpectNoWrite:
        if (!port.written.empty()) {
          fail(op.line, absl::StrCat("unexpected write \"", Escape(port.Take()), "\""));
        }
        break;
      case TranscriptOp::kAdvance: {
        int ms = 0;
        if (!absl::SimpleAtoi(op.arg, &ms)) fail(op.line, "bad clock step");
        clock.Advance(absl::Milliseconds(ms));
        break;
      }
      case TranscriptOp::kExpectEvent:
        if (next_event >= out.events.size()) {
          fail(op.line, absl::StrCat("expected event \"", op.arg, "\", none happened"));
        } else if (out.events[next_event] != op.arg) {
          fail(op.line, absl::StrCat("expected event \"", op.arg, "\", got \"",
                                     out.events[next_event], "\""));
          ++next_event;
        } else {
          ++next_event;
        }
        break;
      case TranscriptOp::kSend:
        break;
    }
  }
  flush();
  for (; next_event < out.events.size(); ++next_event) {
    fail(0, absl::StrCat("unexpected event \"", out.events[next_event], "\""));
  }
  if (!port.written.empty()) fail(0, absl::StrCat("unchecked write \"", Escape(port.written), "\""));
  return out;
}

}  // namespace linebridge::at::testing
