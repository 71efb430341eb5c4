// linectl command-line parsing: global flags, then a command found in a table
// of CommandSpec rows, then its positional arguments and flags.
#pragma once

#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "absl/types/span.h"

namespace linebridge::linectl {

struct GlobalOptions {
  std::vector<std::string> servers;
  bool json = false;
  absl::Duration timeout = absl::Seconds(5);
  bool help = false;
  // TLS (--tls, --tls-ca, --tls-cert, --tls-key, --tls-server-name, or their
  // LINEBRIDGE_TLS* variables). Any of the others implies `tls`.
  bool tls = false;
  std::string tls_ca;    // PEM roots; empty = system roots
  std::string tls_cert;  // client certificate (mutual TLS), with tls_key
  std::string tls_key;
  std::string tls_server_name;  // verify the server certificate for this name
  // Bearer token: read from --token-file / LINEBRIDGE_TOKEN_FILE (first line),
  // or LINEBRIDGE_TOKEN. Never a command-line value (it would show in ps).
  std::string token_file;
};

// Environment variables that set global flags (name -> value), e.g.
// {"LINEBRIDGE_TLS_CA", "/etc/linebridge/ca.pem"}. The command line wins.
using Environment = absl::flat_hash_map<std::string, std::string>;
// The variables of the global flag table found in the process environment.
Environment ProcessEnvironment();

struct Context;  // commands.h
using Handler = absl::Status (*)(Context& context);

// One row of the command table.
struct CommandSpec {
  absl::string_view path;   // "call make"
  absl::string_view usage;  // arguments: "<line> <destination> [--media voice|data|fax]"
  int min_args = 0;
  int max_args = 0;
  // Flags the command accepts, space separated; "name=" takes a value
  // (repeatable), "name" is a switch. E.g. "media= uui=".
  absl::string_view flags;
  absl::string_view help;
  Handler handler = nullptr;
};

struct Invocation {
  GlobalOptions global;
  const CommandSpec* command = nullptr;  // nullptr: no command (help)
  std::vector<std::string> args;
  absl::flat_hash_map<std::string, std::vector<std::string>> flags;

  bool Has(absl::string_view flag) const { return flags.contains(flag); }
  // The last value of `flag`, or `fallback`.
  std::string Get(absl::string_view flag, absl::string_view fallback = "") const;
  std::vector<std::string> GetAll(absl::string_view flag) const;
};

// Parses argv (without argv[0]). `default_servers` is LINEBRIDGE_SERVER (may
// be empty); `env` gives the other variables of global flags
// (ProcessEnvironment()). A usage error is INVALID_ARGUMENT;
// `invocation->command` then names the command whose usage applies, if any.
absl::Status ParseCommandLine(const std::vector<std::string>& argv,
                              absl::Span<const CommandSpec> table,
                              absl::string_view default_servers, Invocation* invocation,
                              const Environment& env = {});

// "5s", "250ms", "1m"; a bare number is seconds.
bool ParseTimeout(absl::string_view text, absl::Duration* duration);

// "linectl call make <line> <destination> ..."
std::string UsageLine(const CommandSpec& command);
// The usage of every command, one per line, with help text.
std::string UsageText(absl::Span<const CommandSpec> table);

// A usage error raised by a handler (exit status 2): INVALID_ARGUMENT with a
// marker payload.
absl::Status UsageError(absl::string_view message);
bool IsUsageError(const absl::Status& status);

}  // namespace linebridge::linectl
