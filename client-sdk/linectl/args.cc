#include "linectl/args.h"

#include <utility>

#include "absl/strings/cord.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"

namespace linebridge::linectl {
namespace {

constexpr absl::string_view kUsageErrorUrl = "linectl/usage-error";
constexpr absl::string_view kDefaultServer = "127.0.0.1:50051";

std::vector<std::string> SplitServers(absl::string_view list) {
  return absl::StrSplit(list, ',', absl::SkipWhitespace());
}

std::vector<absl::string_view> Words(absl::string_view path) {
  return absl::StrSplit(path, ' ', absl::SkipEmpty());
}

// Whether `flag` is in `spec` ("a= b"); sets *takes_value.
bool FindFlag(absl::string_view spec, absl::string_view flag, bool* takes_value) {
  for (absl::string_view entry : absl::StrSplit(spec, ' ', absl::SkipEmpty())) {
    *takes_value = absl::ConsumeSuffix(&entry, "=");
    if (entry == flag) return true;
  }
  return false;
}

// Applies a global flag at argv[*i] ("--json", "--server X", "--timeout=5s").
// Returns false if argv[*i] is not a global flag.
bool GlobalFlag(const std::vector<std::string>& argv, size_t* i, GlobalOptions* global,
                absl::Status* error) {
  absl::string_view arg = argv[*i];
  if (arg == "-h" || arg == "--help") {
    global->help = true;
    return true;
  }
  if (arg == "--json") {
    global->json = true;
    return true;
  }
  for (absl::string_view name : {"--server", "--timeout"}) {
    std::string value;
    if (arg == name) {
      if (*i + 1 >= argv.size()) {
        *error = UsageError(absl::StrCat(name, " needs a value"));
        return true;
      }
      value = argv[++*i];
    } else if (absl::StartsWith(arg, absl::StrCat(name, "="))) {
      value = std::string(arg.substr(name.size() + 1));
    } else {
      continue;
    }
    if (name == "--server") {
      global->servers = SplitServers(value);
      if (global->servers.empty()) *error = UsageError("--server needs host:port");
    } else if (!ParseTimeout(value, &global->timeout)) {
      *error = UsageError(absl::StrCat("bad --timeout \"", value, "\""));
    }
    return true;
  }
  return false;
}

// The longest command path that prefixes `words`.
const CommandSpec* FindCommand(absl::Span<const CommandSpec> table,
                               const std::vector<std::string>& words, size_t* consumed) {
  const CommandSpec* best = nullptr;
  *consumed = 0;
  for (const CommandSpec& command : table) {
    std::vector<absl::string_view> path = Words(command.path);
    if (path.size() > words.size() || path.size() <= *consumed) continue;
    bool match = true;
    for (size_t i = 0; i < path.size() && match; ++i) match = path[i] == words[i];
    if (match) {
      best = &command;
      *consumed = path.size();
    }
  }
  return best;
}

}  // namespace

std::string Invocation::Get(absl::string_view flag, absl::string_view fallback) const {
  auto it = flags.find(flag);
  if (it == flags.end() || it->second.empty()) return std::string(fallback);
  return it->second.back();
}

std::vector<std::string> Invocation::GetAll(absl::string_view flag) const {
  auto it = flags.find(flag);
  return it == flags.end() ? std::vector<std::string>() : it->second;
}

bool ParseTimeout(absl::string_view text, absl::Duration* duration) {
  double seconds = 0;
  if (absl::SimpleAtod(text, &seconds)) {
    if (seconds < 0) return false;
    *duration = absl::Seconds(seconds);
    return true;
  }
  absl::Duration parsed;
  if (!absl::ParseDuration(text, &parsed) || parsed < absl::ZeroDuration()) return false;
  *duration = parsed;
  return true;
}

absl::Status ParseCommandLine(const std::vector<std::string>& argv,
                              absl::Span<const CommandSpec> table,
                              absl::string_view default_servers, Invocation* invocation) {
  GlobalOptions& global = invocation->global;
  global.servers = SplitServers(default_servers.empty() ? kDefaultServer : default_servers);
  size_t i = 0;
  for (; i < argv.size() && absl::StartsWith(argv[i], "-"); ++i) {
    absl::Status error;
    if (!GlobalFlag(argv, &i, &global, &error)) {
      return UsageError(absl::StrCat("unknown flag ", argv[i]));
    }
    if (!error.ok()) return error;
  }
  std::vector<std::string> rest(argv.begin() + static_cast<std::ptrdiff_t>(i), argv.end());
  if (rest.empty()) {
    if (global.help) return absl::OkStatus();
    return UsageError("missing command");
  }
  size_t consumed = 0;
  const CommandSpec* command = FindCommand(table, rest, &consumed);
  if (command == nullptr) {
    return UsageError(absl::StrCat("unknown command \"", rest[0], "\""));
  }
  invocation->command = command;
  bool only_positional = false;
  for (size_t j = consumed; j < rest.size(); ++j) {
    const std::string& arg = rest[j];
    if (only_positional || !absl::StartsWith(arg, "--") || arg.size() == 2) {
      if (arg == "--" && !only_positional) {
        only_positional = true;
      } else {
        invocation->args.push_back(arg);
      }
      continue;
    }
    absl::string_view name = absl::string_view(arg).substr(2);
    std::string value;
    const size_t equals = name.find('=');
    const bool inline_value = equals != absl::string_view::npos;
    if (inline_value) {
      value = std::string(name.substr(equals + 1));
      name = name.substr(0, equals);
    }
    bool takes_value = false;
    if (!FindFlag(command->flags, name, &takes_value)) {
      absl::Status error;
      if (GlobalFlag(rest, &j, &global, &error)) {  // global flags are accepted anywhere
        if (!error.ok()) return error;
        continue;
      }
      return UsageError(absl::StrCat("unknown flag --", name));
    }
    if (takes_value && !inline_value) {
      if (j + 1 >= rest.size()) return UsageError(absl::StrCat("--", name, " needs a value"));
      value = rest[++j];
    } else if (!takes_value && inline_value) {
      return UsageError(absl::StrCat("--", name, " takes no value"));
    }
    invocation->flags[name].push_back(std::move(value));
  }
  if (global.help) return absl::OkStatus();
  const int count = static_cast<int>(invocation->args.size());
  if (count < command->min_args || count > command->max_args) {
    return UsageError(count < command->min_args ? "missing arguments" : "too many arguments");
  }
  return absl::OkStatus();
}

std::string UsageLine(const CommandSpec& command) {
  return absl::StrCat("linectl ", command.path, command.usage.empty() ? "" : " ", command.usage);
}

std::string UsageText(absl::Span<const CommandSpec> table) {
  std::string text =
      "usage: linectl [--server host:port[,host:port...]] [--json] [--timeout 5s] <command>\n"
      "\ncommands:\n";
  for (const CommandSpec& command : table) {
    std::string syntax =
        absl::StrCat(command.path, command.usage.empty() ? "" : " ", command.usage);
    if (syntax.size() > 46) {
      absl::StrAppendFormat(&text, "  %s\n  %-46s  %s\n", syntax, "", command.help);
    } else {
      absl::StrAppendFormat(&text, "  %-46s  %s\n", syntax, command.help);
    }
  }
  return text;
}

absl::Status UsageError(absl::string_view message) {
  absl::Status status = absl::InvalidArgumentError(message);
  status.SetPayload(kUsageErrorUrl, absl::Cord("1"));
  return status;
}

bool IsUsageError(const absl::Status& status) {
  return status.GetPayload(kUsageErrorUrl).has_value();
}

}  // namespace linebridge::linectl
