// What linebridged reports to Prometheus besides the gRPC counters
// (grpc_metrics.h): lines, calls, sessions, events, connections, the record
// writers and the providers' own counters, read from the parts that keep
// them when Prometheus scrapes (nothing is counted twice, nothing is kept
// here). docs/deployment.md#metrics lists every series.
#pragma once

#include <string>
#include <vector>

#include <prometheus/collectable.h>
#include <prometheus/metric_family.h>

namespace linebridge {

class Engine;
class Listener;
class AsyncCdrWriter;
class AsyncAuditWriter;
class RetentionPruner;
class Spooler;

struct MetricSources {
  Engine* engine = nullptr;
  const Listener* listener = nullptr;      // optional
  const AsyncCdrWriter* cdr = nullptr;     // optional
  const AsyncAuditWriter* audit = nullptr;  // optional
  const RetentionPruner* retention = nullptr;  // optional
  const Spooler* cdr_spool = nullptr;     // PostgreSQL only
  const Spooler* audit_spool = nullptr;   // PostgreSQL only
  std::string version;
  std::string server_id;
};

class ServerCollector final : public prometheus::Collectable {
 public:
  explicit ServerCollector(MetricSources sources) : sources_(std::move(sources)) {}
  std::vector<prometheus::MetricFamily> Collect() const override;

 private:
  const MetricSources sources_;
};

}  // namespace linebridge
