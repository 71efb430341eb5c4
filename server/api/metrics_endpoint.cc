#include "api/metrics_endpoint.h"

#include <exception>

#include <prometheus/exposer.h>

#include "absl/strings/str_cat.h"

namespace linebridge {

absl::StatusOr<std::unique_ptr<MetricsEndpoint>> MetricsEndpoint::Start(
    const std::string& listen, std::vector<std::shared_ptr<prometheus::Collectable>> sources) {
  std::unique_ptr<MetricsEndpoint> e(new MetricsEndpoint());
  e->sources_ = std::move(sources);
  try {
    // Two threads serve scrapes; a scrape reads counters and takes the
    // engine lock briefly, never waiting on a client.
    e->exposer_ = std::make_unique<prometheus::Exposer>(
        std::vector<std::string>{"listening_ports", listen, "num_threads", "2",
                                 "request_timeout_ms", "10000"});
  } catch (const std::exception& ex) {
    return absl::UnavailableError(
        absl::StrCat("metrics.listen: cannot serve metrics on ", listen, ": ", ex.what()));
  }
  for (const auto& source : e->sources_) e->exposer_->RegisterCollectable(source);
  const std::vector<int> ports = e->exposer_->GetListeningPorts();
  if (ports.empty() || ports.front() <= 0) {
    return absl::UnavailableError(absl::StrCat("metrics.listen: no port bound for ", listen));
  }
  e->port_ = ports.front();
  e->address_ = absl::StrCat(listen.substr(0, listen.rfind(':')), ":", e->port_);
  return e;
}

MetricsEndpoint::~MetricsEndpoint() = default;

}  // namespace linebridge
