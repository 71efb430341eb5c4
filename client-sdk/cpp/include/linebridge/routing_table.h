// Which server a line, call or phone lives on. Thread-safe. Filled from responses
// (ListLines, ListCalls, every returned Line or Call) and from event batches.
#pragma once

#include <cstddef>
#include <optional>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "linebridge/v1/telephony.pb.h"

namespace linebridge {

class RoutingTable {
 public:
  enum class Kind { kLine, kCall, kPhone };

  void Set(Kind kind, absl::string_view id, size_t server);
  void Remove(Kind kind, absl::string_view id);
  std::optional<size_t> Find(Kind kind, absl::string_view id) const;
  size_t size(Kind kind) const;

  void SetLine(absl::string_view line_id, size_t server) { Set(Kind::kLine, line_id, server); }
  void SetCall(absl::string_view call_id, size_t server) { Set(Kind::kCall, call_id, server); }
  std::optional<size_t> LineServer(absl::string_view id) const { return Find(Kind::kLine, id); }
  std::optional<size_t> CallServer(absl::string_view id) const { return Find(Kind::kCall, id); }
  void SetPhone(absl::string_view phone_id, size_t server) { Set(Kind::kPhone, phone_id, server); }

  // Forgets every call routed to `server` (its epoch changed: old ids are dead).
  void ForgetCallsOf(size_t server);

  // Learns from an event batch of `server`: snapshot lines/calls, created lines
  // and calls, call ids of state/info events; forgets removed lines and calls
  // that went IDLE. A snapshot replaces what was known about the server's calls.
  void Learn(size_t server, const v1::EventBatch& batch);

 private:
  using Map = absl::flat_hash_map<std::string, size_t>;
  Map& map(Kind kind) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    return kind == Kind::kLine ? lines_ : kind == Kind::kCall ? calls_ : phones_;
  }
  const Map& map(Kind kind) const ABSL_SHARED_LOCKS_REQUIRED(mu_) {
    return kind == Kind::kLine ? lines_ : kind == Kind::kCall ? calls_ : phones_;
  }
  void LearnEvent(size_t server, const v1::Event& event) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  mutable absl::Mutex mu_;
  Map lines_ ABSL_GUARDED_BY(mu_);
  Map calls_ ABSL_GUARDED_BY(mu_);
  Map phones_ ABSL_GUARDED_BY(mu_);
};

}  // namespace linebridge
