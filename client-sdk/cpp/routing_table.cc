#include "linebridge/routing_table.h"

#include "absl/container/flat_hash_set.h"

namespace linebridge {

void RoutingTable::Set(Kind kind, absl::string_view id, size_t server) {
  if (id.empty()) return;
  absl::MutexLock lock(&mu_);
  map(kind)[id] = server;
}

void RoutingTable::Remove(Kind kind, absl::string_view id) {
  absl::MutexLock lock(&mu_);
  map(kind).erase(id);
}

std::optional<size_t> RoutingTable::Find(Kind kind, absl::string_view id) const {
  absl::ReaderMutexLock lock(&mu_);
  const Map& m = map(kind);
  auto it = m.find(id);
  if (it == m.end()) return std::nullopt;
  return it->second;
}

size_t RoutingTable::size(Kind kind) const {
  absl::ReaderMutexLock lock(&mu_);
  return map(kind).size();
}

void RoutingTable::ForgetCallsOf(size_t server) {
  absl::MutexLock lock(&mu_);
  absl::erase_if(calls_, [server](const auto& entry) { return entry.second == server; });
}

void RoutingTable::Learn(size_t server, const v1::EventBatch& batch) {
  absl::MutexLock lock(&mu_);
  if (batch.has_snapshot()) {
    absl::erase_if(calls_, [server](const auto& entry) { return entry.second == server; });
    for (const v1::Line& line : batch.snapshot().lines()) lines_[line.id()] = server;
    for (const v1::Call& call : batch.snapshot().calls()) calls_[call.id()] = server;
    for (const v1::Phone& phone : batch.snapshot().phones()) phones_[phone.id()] = server;
  }
  for (const v1::Event& event : batch.events()) LearnEvent(server, event);
}

void RoutingTable::LearnEvent(size_t server, const v1::Event& event) {
  auto set = [server](Map& m, const std::string& id) {
    if (!id.empty()) m[id] = server;
  };
  switch (event.kind_case()) {
    case v1::Event::kLineCreated:
      set(lines_, event.line_created().line().id());
      break;
    case v1::Event::kLineRemoved:
      lines_.erase(event.line_removed().line_id().empty() ? event.line_id()
                                                          : event.line_removed().line_id());
      break;
    case v1::Event::kPhoneCreated:
      set(phones_, event.phone_created().phone().id());
      break;
    case v1::Event::kPhoneRemoved:
      phones_.erase(event.phone_removed().phone_id());
      break;
    case v1::Event::kCallCreated:
      set(calls_, event.call_created().call().id());
      break;
    case v1::Event::kCallState:
      if (event.call_state().status().state() == v1::CALL_STATE_IDLE) {
        calls_.erase(event.call_state().call_id());
      } else {
        set(calls_, event.call_state().call_id());
      }
      break;
    case v1::Event::kCallInfo:
      set(calls_, event.call_info().call_id());
      break;
    default:
      break;
  }
  if (!event.line_id().empty() && event.kind_case() != v1::Event::kLineRemoved) {
    set(lines_, event.line_id());
  }
}

}  // namespace linebridge
