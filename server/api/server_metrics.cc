#include "api/server_metrics.h"

#include <map>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/string_view.h"
#include "absl/time/clock.h"
#include "api/event_stream.h"
#include "api/listener.h"
#include "core/engine.h"
#include "store/cdr_store.h"
#include "store/retention.h"
#include "store/security_store.h"
#include "store/spooler.h"

namespace linebridge {
namespace {

using Labels = std::vector<std::pair<std::string, std::string>>;

// "CALL_STATE_ON_HOLD" with prefix "CALL_STATE_" -> "on_hold".
std::string EnumLabel(const std::string& name, absl::string_view prefix) {
  absl::string_view s = name;
  if (absl::StartsWith(s, prefix)) s.remove_prefix(prefix.size());
  return absl::AsciiStrToLower(s);
}

class Families {
 public:
  void Add(const std::string& name, const std::string& help, prometheus::MetricType type,
           const Labels& labels, double value) {
    prometheus::MetricFamily& f = Family(name, help, type);
    prometheus::ClientMetric m;
    for (const auto& [k, v] : labels) m.label.push_back({k, v});
    if (type == prometheus::MetricType::Counter) {
      m.counter.value = value;
    } else {
      m.gauge.value = value;
    }
    f.metric.push_back(std::move(m));
  }
  void Gauge(const std::string& name, const std::string& help, double value,
             const Labels& labels = {}) {
    Add(name, help, prometheus::MetricType::Gauge, labels, value);
  }
  void Counter(const std::string& name, const std::string& help, double value,
               const Labels& labels = {}) {
    Add(name, help, prometheus::MetricType::Counter, labels, value);
  }
  std::vector<prometheus::MetricFamily> Take() {
    std::vector<prometheus::MetricFamily> out;
    out.reserve(order_.size());
    for (const std::string& name : order_) out.push_back(std::move(by_name_[name]));
    return out;
  }

 private:
  prometheus::MetricFamily& Family(const std::string& name, const std::string& help,
                                   prometheus::MetricType type) {
    auto [it, inserted] = by_name_.try_emplace(name);
    if (inserted) {
      it->second.name = name;
      it->second.help = help;
      it->second.type = type;
      order_.push_back(name);
    }
    return it->second;
  }
  std::map<std::string, prometheus::MetricFamily> by_name_;
  std::vector<std::string> order_;
};

void AddEngine(Engine& engine, Families& out) {
  const Engine::Figures f = engine.TakeFigures();
  out.Gauge("linebridge_sessions", "Client sessions (live and in their grace period).",
            static_cast<double>(f.sessions));
  // Every provider's lines in each state, zeros included.
  std::map<Engine::Figures::LineKey, uint64_t> lines = f.lines;
  for (const auto& [type, name] : f.providers) {
    for (v1::LineState state :
         {v1::LINE_STATE_IN_SERVICE, v1::LINE_STATE_OUT_OF_SERVICE, v1::LINE_STATE_MAINTENANCE}) {
      lines.try_emplace({type, name, state}, 0);
    }
  }
  for (const auto& [key, n] : lines) {
    out.Gauge("linebridge_lines", "Lines by provider and state.", static_cast<double>(n),
              {{"provider_type", key.provider_type},
               {"provider", key.provider},
               {"state", EnumLabel(v1::LineState_Name(key.state), "LINE_STATE_")}});
  }
  const google::protobuf::EnumDescriptor* call_states = v1::CallState_descriptor();
  for (int i = 0; i < call_states->value_count(); ++i) {
    const auto state = static_cast<v1::CallState>(call_states->value(i)->number());
    // An IDLE call is gone: the engine keeps none.
    if (state == v1::CALL_STATE_UNSPECIFIED || state == v1::CALL_STATE_IDLE) continue;
    auto it = f.calls.find(state);
    out.Gauge("linebridge_calls", "Live calls by state.",
              it == f.calls.end() ? 0.0 : static_cast<double>(it->second),
              {{"state", EnumLabel(call_states->value(i)->name(), "CALL_STATE_")}});
  }
  for (const auto& [origin, n] : f.setups) {
    out.Counter("linebridge_call_setups_total", "Calls created (made or offered), by origin.",
                static_cast<double>(n),
                {{"origin", EnumLabel(v1::CallOrigin_Name(origin), "CALL_ORIGIN_")}});
  }
  for (const auto& [key, n] : f.ended) {
    out.Counter("linebridge_calls_ended_total",
                "Calls ended, by origin, whether they were ever answered and how they were "
                "disconnected (answered=\"false\": the call setup failed or was abandoned).",
                static_cast<double>(n),
                {{"origin", EnumLabel(v1::CallOrigin_Name(key.origin), "CALL_ORIGIN_")},
                 {"answered", key.answered ? "true" : "false"},
                 {"disconnect_mode",
                  EnumLabel(v1::DisconnectMode_Name(key.mode), "DISCONNECT_MODE_")}});
  }
  for (const ProviderCounter& c : f.provider_counters) {
    out.Counter("linebridge_" + c.name, c.help, static_cast<double>(c.value), c.labels);
  }
  const EventJournal& journal = engine.journal();
  out.Counter("linebridge_events_appended_total", "Events appended to the journal since start.",
              static_cast<double>(journal.last_sequence()));
  out.Gauge("linebridge_journal_capacity", "Events the journal keeps for resuming subscribers.",
            static_cast<double>(journal.capacity()));
}

void AddStreams(Families& out) {
  EventStream::Counters& c = EventStream::counters();
  out.Gauge("linebridge_subscribers", "Open event streams (Subscribe).",
            EventStream::live_count().load(std::memory_order_relaxed));
  out.Counter("linebridge_events_delivered_total",
              "Events written to subscribers (each subscriber counts).",
              static_cast<double>(c.events_delivered.load(std::memory_order_relaxed)));
  out.Counter("linebridge_subscriber_cutoffs_total",
              "Subscribers cut off for falling behind (they may resume).",
              static_cast<double>(c.cutoffs.load(std::memory_order_relaxed)));
}

void AddListener(const Listener& listener, Families& out) {
  const ListenerStats s = listener.stats();
  out.Gauge("linebridge_connections", "Client connections open.", s.open);
  out.Gauge("linebridge_listener_accepting",
            "1 while the listener accepts connections, 0 when it cannot (descriptors).",
            s.accepting ? 1 : 0);
  out.Counter("linebridge_connections_accepted_total", "Client connections accepted.",
              static_cast<double>(s.accepted));
  out.Counter("linebridge_connections_closed_total",
              "Connections closed by the listener's limits, by reason.",
              static_cast<double>(s.refused_at_cap), {{"reason", "refused_at_cap"}});
  out.Counter("linebridge_connections_closed_total", "",
              static_cast<double>(s.evicted_idle), {{"reason", "evicted_unauthenticated"}});
  out.Counter("linebridge_connections_closed_total", "",
              static_cast<double>(s.dropped_no_descriptor), {{"reason", "no_descriptor"}});
}

void AddSpool(const Spooler& spool, const std::string& what, const std::string& noun,
              Families& out) {
  const SpoolStats s = spool.stats();
  const std::string prefix = "linebridge_" + what + "_spool";
  out.Gauge(prefix + "_rows",
            noun + " waiting in the spool file for PostgreSQL (synced to disk).",
            static_cast<double>(s.rows));
  out.Gauge(prefix + "_bytes", noun + ": bytes the spool file holds for PostgreSQL.",
            static_cast<double>(s.bytes));
  out.Gauge(prefix + "_oldest_age_seconds",
            noun + ": age of the oldest row waiting in the spool (0 if none).",
            s.oldest_us == 0
                ? 0.0
                : absl::ToDoubleSeconds(absl::Now() - absl::FromUnixMicros(s.oldest_us)));
  out.Counter(prefix + "_full_drops_total", noun + " lost because the spool file was full.",
              static_cast<double>(s.full_drops));
}

template <typename Writer>
void AddWriter(const Writer& w, const std::string& what, const std::string& noun,
               const RetentionPruner* retention, const std::string& table, Families& out) {
  const std::string prefix = "linebridge_" + what;
  out.Counter(prefix + "_written_total", noun + " committed to the store.",
              static_cast<double>(w.written()));
  out.Counter(prefix + "_failed_total", noun + " lost to store write errors.",
              static_cast<double>(w.failed()));
  out.Counter(prefix + "_dropped_total", noun + " dropped because the write queue was full.",
              static_cast<double>(w.dropped()));
  out.Gauge(prefix + "_queue_depth", noun + " waiting to be written.",
            static_cast<double>(w.queued()));
  const WriteHealthSnapshot health = w.health();
  out.Counter(prefix + "_write_errors_total",
              noun + ": failed write attempts (disk full, database locked, I/O); retried.",
              static_cast<double>(health.write_errors));
  out.Gauge(prefix + "_write_failing",
            noun + ": 1 while writes fail (the records wait in the queue), else 0.",
            health.failing() ? 1 : 0);
  if (retention != nullptr) {
    out.Counter(prefix + "_pruned_total", noun + " deleted by retention (age or row limit).",
                static_cast<double>(retention->stats(table).pruned));
  }
}

}  // namespace

std::vector<prometheus::MetricFamily> ServerCollector::Collect() const {
  Families out;
  out.Gauge("linebridge_info", "This server: version and server id (value 1).", 1,
            {{"version", sources_.version}, {"server_id", sources_.server_id}});
  if (sources_.engine != nullptr) AddEngine(*sources_.engine, out);
  AddStreams(out);
  if (sources_.listener != nullptr) AddListener(*sources_.listener, out);
  if (sources_.cdr != nullptr) {
    AddWriter(*sources_.cdr, "call_records", "Call records", sources_.retention, "call_records",
              out);
  }
  if (sources_.audit != nullptr) {
    AddWriter(*sources_.audit, "audit_records", "Audit records", sources_.retention, "audit", out);
  }
  if (sources_.cdr_spool != nullptr) {
    AddSpool(*sources_.cdr_spool, "call_records", "Call records", out);
  }
  if (sources_.audit_spool != nullptr) {
    AddSpool(*sources_.audit_spool, "audit_records", "Audit records", out);
  }
  return out.Take();
}

}  // namespace linebridge
