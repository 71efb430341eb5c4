// linectl commands: the table and the handlers behind it.
#pragma once

#include <ostream>

#include "absl/time/time.h"
#include "absl/types/span.h"
#include "linebridge/client.h"
#include "linectl/args.h"

namespace linebridge::linectl {

struct Context {
  Client& client;
  const Invocation& invocation;
  std::ostream& out;
  std::ostream& err;
  absl::TimeZone zone;

  const std::vector<std::string>& args() const { return invocation.args; }
  bool json() const { return invocation.global.json; }
};

// Every command, in the order `linectl --help` lists them.
absl::Span<const CommandSpec> Commands();

}  // namespace linebridge::linectl
