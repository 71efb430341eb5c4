#include "linectl/args.h"

#include <cstdlib>
#include <utility>

#include "absl/strings/cord.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"
#include "linebridge/status_macros.h"

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

// One global flag. Switches get the value "true" from the command line; from
// the environment "1"/"0", "true"/"false", "yes"/"no".
struct GlobalFlagSpec {
  absl::string_view name;  // "--tls-ca"
  bool takes_value;
  absl::string_view env;  // "LINEBRIDGE_TLS_CA", "" = none
  // `name` is the flag, or the variable when the value comes from `env`.
  absl::Status (*apply)(absl::string_view name, const std::string& value, GlobalOptions* global);
};

absl::Status SetHelp(absl::string_view /*name*/, const std::string& /*value*/,
                     GlobalOptions* global) {
  global->help = true;
  return absl::OkStatus();
}

absl::Status SetJson(absl::string_view /*name*/, const std::string& value, GlobalOptions* global) {
  global->json = value == "true";
  return absl::OkStatus();
}

absl::Status SetServers(absl::string_view /*name*/, const std::string& value,
                        GlobalOptions* global) {
  global->servers = SplitServers(value);
  return global->servers.empty() ? UsageError("--server needs host:port") : absl::OkStatus();
}

absl::Status SetTimeout(absl::string_view /*name*/, const std::string& value,
                        GlobalOptions* global) {
  return ParseTimeout(value, &global->timeout)
             ? absl::OkStatus()
             : UsageError(absl::StrCat("bad --timeout \"", value, "\""));
}

absl::Status SetTls(absl::string_view /*name*/, const std::string& value, GlobalOptions* global) {
  global->tls = value == "true";
  return absl::OkStatus();
}

template <std::string GlobalOptions::*field>
absl::Status SetString(absl::string_view name, const std::string& value, GlobalOptions* global) {
  if (value.empty()) return UsageError(absl::StrCat(name, " needs a value"));
  global->*field = value;
  return absl::OkStatus();
}

constexpr GlobalFlagSpec kGlobalFlags[] = {
    {"-h", false, "", &SetHelp},
    {"--help", false, "", &SetHelp},
    {"--json", false, "", &SetJson},
    {"--server", true, "", &SetServers},  // LINEBRIDGE_SERVER: `default_servers`
    {"--timeout", true, "", &SetTimeout},
    {"--tls", false, "LINEBRIDGE_TLS", &SetTls},
    {"--tls-ca", true, "LINEBRIDGE_TLS_CA", &SetString<&GlobalOptions::tls_ca>},
    {"--tls-cert", true, "LINEBRIDGE_TLS_CERT", &SetString<&GlobalOptions::tls_cert>},
    {"--tls-key", true, "LINEBRIDGE_TLS_KEY", &SetString<&GlobalOptions::tls_key>},
    {"--tls-server-name", true, "LINEBRIDGE_TLS_SERVER_NAME",
     &SetString<&GlobalOptions::tls_server_name>},
    {"--token-file", true, "LINEBRIDGE_TOKEN_FILE", &SetString<&GlobalOptions::token_file>},
};

// Applies the global flag at argv[*i] ("--json", "--server X", "--timeout=5s").
// Returns false if argv[*i] is not a global flag.
bool GlobalFlag(const std::vector<std::string>& argv, size_t* i, GlobalOptions* global,
                absl::Status* error) {
  absl::string_view arg = argv[*i];
  for (const GlobalFlagSpec& flag : kGlobalFlags) {
    std::string value = "true";
    if (arg == flag.name) {
      if (flag.takes_value) {
        if (*i + 1 >= argv.size()) {
          *error = UsageError(absl::StrCat(flag.name, " needs a value"));
          return true;
        }
        value = argv[++*i];
      }
    } else if (flag.takes_value && absl::StartsWith(arg, absl::StrCat(flag.name, "="))) {
      value = std::string(arg.substr(flag.name.size() + 1));
    } else {
      continue;
    }
    *error = flag.apply(flag.name, value, global);
    return true;
  }
  return false;
}

// Global flags from `env` (before the command line, which overrides them).
absl::Status ApplyEnvironment(const Environment& env, GlobalOptions* global) {
  for (const GlobalFlagSpec& flag : kGlobalFlags) {
    if (flag.env.empty()) continue;
    auto it = env.find(flag.env);
    if (it == env.end() || it->second.empty()) continue;
    std::string value = it->second;
    if (!flag.takes_value) {
      bool on = false;
      if (!absl::SimpleAtob(value, &on)) {
        return UsageError(absl::StrCat("bad ", flag.env, "=\"", value, "\" (want 1 or 0)"));
      }
      value = on ? "true" : "false";
    }
    LB_RETURN_IF_ERROR(flag.apply(flag.env, value, global));
  }
  return absl::OkStatus();
}

// Rules across global flags, once all are in.
absl::Status FinishGlobal(GlobalOptions* global) {
  if (global->tls_cert.empty() != global->tls_key.empty()) {
    return UsageError(global->tls_cert.empty() ? "--tls-key needs --tls-cert"
                                               : "--tls-cert needs --tls-key");
  }
  if (!global->tls_ca.empty() || !global->tls_cert.empty() || !global->tls_server_name.empty()) {
    global->tls = true;
  }
  return absl::OkStatus();
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

Environment ProcessEnvironment() {
  Environment env;
  for (const GlobalFlagSpec& flag : kGlobalFlags) {
    if (flag.env.empty()) continue;
    const std::string name(flag.env);
    if (const char* value = std::getenv(name.c_str()); value != nullptr) env[name] = value;
  }
  return env;
}

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
                              absl::string_view default_servers, Invocation* invocation,
                              const Environment& env) {
  GlobalOptions& global = invocation->global;
  global.servers = SplitServers(default_servers.empty() ? kDefaultServer : default_servers);
  const absl::Status env_status = ApplyEnvironment(env, &global);  // reported after --help
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
    LB_RETURN_IF_ERROR(env_status);
    LB_RETURN_IF_ERROR(FinishGlobal(&global));
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
  LB_RETURN_IF_ERROR(env_status);
  LB_RETURN_IF_ERROR(FinishGlobal(&global));
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
      "usage: linectl [--server host:port[,host:port...]] [--json] [--timeout 5s]\n"
      "               [--tls] [--tls-ca FILE] [--tls-cert FILE --tls-key FILE]\n"
      "               [--tls-server-name NAME] [--token-file FILE] <command>\n"
      "\nTLS: --tls uses the system roots; any --tls-* flag implies --tls. Defaults from\n"
      "LINEBRIDGE_SERVER, LINEBRIDGE_TLS(=1), LINEBRIDGE_TLS_CA, LINEBRIDGE_TLS_CERT,\n"
      "LINEBRIDGE_TLS_KEY, LINEBRIDGE_TLS_SERVER_NAME.\n"
      "\nCredentials: a bearer token from --token-file FILE (LINEBRIDGE_TOKEN_FILE) or\n"
      "LINEBRIDGE_TOKEN; else the client certificate (--tls-cert); else none (accepted\n"
      "only on a plaintext loopback server).\n"
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
