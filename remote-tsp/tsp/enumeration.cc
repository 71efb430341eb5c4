#include "tsp/enumeration.h"

#include <optional>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "linebridge/deadline.h"
#include "tsp/phone_rpc.h"
#include "tsp/tsp_channel.h"
#include "tsp/tsp_log.h"

namespace linebridge::tsp {
namespace {

// What the answers fill in; shared with the callbacks, which may outlive the
// wait (a server answering after the bound is ignored).
struct Answers {
  absl::Mutex mu;
  size_t outstanding ABSL_GUARDED_BY(mu) = 0;
  std::vector<std::optional<v1::ListLinesResponse>> responses ABSL_GUARDED_BY(mu);
  std::vector<std::optional<v1::ListPhonesResponse>> phones ABSL_GUARDED_BY(mu);
  std::vector<std::string> errors ABSL_GUARDED_BY(mu);
};

}  // namespace

ServerLines EnumerateServerLines(const TspConfig& config, absl::Duration bound) {
  ServerLines out;
  ClientOptions options;
  options.servers = config.servers;
  options.client_name = config.client_name;
  options.deadline = absl::Milliseconds(config.deadline_ms);
  options.channel = ChannelOptionsFor(config);
  absl::StatusOr<std::unique_ptr<Client>> client = Client::Create(std::move(options));
  if (!client.ok()) {
    LogError(client.status().ToString());
    return out;
  }
  out.client = *std::move(client);
  const size_t n = out.client->num_servers();
  auto answers = std::make_shared<Answers>();
  {
    absl::MutexLock lock(&answers->mu);
    answers->outstanding = 2 * n;
    answers->responses.resize(n);
    answers->phones.resize(n);
    answers->errors.resize(n);
  }
  const absl::Time start = MonotonicNow();
  CallOptions call;
  call.deadline = bound;
  for (size_t server = 0; server < n; ++server) {
    out.client->connection(server).ListLinesAsync(
        v1::ListLinesRequest(),
        [answers, server](absl::StatusOr<v1::ListLinesResponse> response) {
          absl::MutexLock lock(&answers->mu);
          if (response.ok()) {
            answers->responses[server] = *std::move(response);
          } else {
            answers->errors[server] = response.status().ToString();
          }
          --answers->outstanding;
        },
        call);
    PhoneRpcAsync<v1::ListPhonesRequest, v1::ListPhonesResponse>(
        out.client->connection(server), &v1::Telephony::Stub::async::ListPhones,
        v1::ListPhonesRequest(),
        [answers, server](absl::StatusOr<v1::ListPhonesResponse> response) {
          absl::MutexLock lock(&answers->mu);
          if (response.ok()) answers->phones[server] = *std::move(response);
          --answers->outstanding;
        },
        bound);
  }
  absl::MutexLock lock(&answers->mu);
  auto all = [&answers]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(answers->mu) {
    return answers->outstanding == 0;
  };
  answers->mu.AwaitWithTimeout(absl::Condition(&all), bound);
  for (size_t server = 0; server < n; ++server) {
    if (answers->responses[server].has_value()) {
      ++out.answered;
      for (const v1::Line& line : answers->responses[server]->lines()) {
        out.lines.emplace_back(server, line);
      }
      if (answers->phones[server].has_value()) {
        for (const v1::Phone& phone : answers->phones[server]->phones()) {
          out.phones.emplace_back(server, phone);
        }
      }
    } else {
      LogWarning(absl::StrCat(
          "enumeration: ", config.servers[server], " did not list its lines within ",
          absl::FormatDuration(bound), " (",
          answers->errors[server].empty() ? "no answer yet" : answers->errors[server],
          "); its lines arrive by LINE_CREATE once it answers"));
    }
  }
  LogInfo(absl::StrCat("enumeration: ", out.lines.size(), " lines from ", out.answered, " of ", n,
                       " servers in ", absl::FormatDuration(MonotonicNow() - start), " (",
                       out.phones.size(), " phones)"));
  return out;
}

}  // namespace linebridge::tsp
