// linectl: administration and call control for linebridged.
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <string>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/str_split.h"
#include "linebridge/client.h"
#include "linectl/args.h"
#include "linectl/commands.h"
#include "linectl/format.h"

namespace linebridge::linectl {
namespace {

// Usage for an unparseable command line: the usage lines of the commands that
// share its first word, else a pointer to --help.
void PrintUsageHint(const std::vector<std::string>& argv, const Invocation& invocation) {
  if (invocation.command != nullptr) {
    std::cerr << "usage: " << UsageLine(*invocation.command) << "\n";
    return;
  }
  bool any = false;
  for (const std::string& word : argv) {
    if (word.rfind("-", 0) == 0) continue;
    for (const CommandSpec& command : Commands()) {
      std::vector<absl::string_view> path = absl::StrSplit(command.path, ' ');
      if (path[0] == word) {
        std::cerr << (any ? "       " : "usage: ") << UsageLine(command) << "\n";
        any = true;
      }
    }
    break;
  }
  if (!any) std::cerr << "run \"linectl --help\" for the list of commands\n";
}

int Main(const std::vector<std::string>& argv) {
  const char* env_server = std::getenv("LINEBRIDGE_SERVER");
  Invocation invocation;
  absl::Status parsed = ParseCommandLine(argv, Commands(), env_server == nullptr ? "" : env_server,
                                         &invocation, ProcessEnvironment());
  if (invocation.global.help) {
    if (invocation.command != nullptr) {
      std::cout << "usage: " << UsageLine(*invocation.command) << "\n";
    } else {
      std::cout << UsageText(Commands());
    }
    return 0;
  }
  if (!parsed.ok()) {
    std::cerr << "linectl: " << parsed.message() << "\n";
    PrintUsageHint(argv, invocation);
    return 2;
  }

  ClientOptions options;
  options.servers = invocation.global.servers;
  options.deadline = invocation.global.timeout;
  options.client_name = "linectl";
  const GlobalOptions& global = invocation.global;
  options.channel.tls = global.tls;
  options.channel.tls_options.ca_file = global.tls_ca;
  options.channel.tls_options.cert_file = global.tls_cert;
  options.channel.tls_options.key_file = global.tls_key;
  options.channel.tls_options.server_name_override = global.tls_server_name;
  if (!global.token_file.empty()) {
    std::ifstream in(global.token_file);
    std::string token;
    if (!in || !std::getline(in, token)) {
      std::cerr << "linectl: cannot read the token file " << global.token_file << "\n";
      return 1;
    }
    options.channel.bearer_token = std::string(absl::StripAsciiWhitespace(token));
  } else if (const char* token = std::getenv("LINEBRIDGE_TOKEN"); token != nullptr) {
    options.channel.bearer_token = std::string(absl::StripAsciiWhitespace(token));
  }
  absl::StatusOr<std::unique_ptr<Client>> client = Client::Create(std::move(options));
  if (!client.ok()) {
    std::cerr << "linectl: " << TerminalSafe(FormatError(client.status())) << "\n";
    return 1;
  }
  Context context{**client, invocation, std::cout, std::cerr, absl::LocalTimeZone()};
  absl::Status status = invocation.command->handler(context);
  if (status.ok()) return 0;
  if (IsUsageError(status)) {
    std::cerr << "linectl: " << TerminalSafe(status.message()) << "\n"
              << "usage: " << UsageLine(*invocation.command) << "\n";
    return 2;
  }
  std::cerr << "linectl: " << TerminalSafe(FormatError(status)) << "\n";
  return 1;
}

}  // namespace
}  // namespace linebridge::linectl

int main(int argc, char** argv) {
  // Failures are reported in one line; keep gRPC's own logging quiet unless asked.
  setenv("GRPC_VERBOSITY", "NONE", /*overwrite=*/0);
  const int status = linebridge::linectl::Main(std::vector<std::string>(argv + 1, argv + argc));
  // Leave without running static destructors and atexit handlers: gRPC's
  // background threads (e.g. cleaning up a TLS handshake the server just
  // refused) may still be running, and tearing down the libraries they use
  // under them crashes now and then. Everything linectl has to say is out.
  std::fflush(stdout);
  std::fflush(stderr);
  std::_Exit(status);
}
