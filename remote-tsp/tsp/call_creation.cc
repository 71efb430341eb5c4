// RemoteProvider: requests that create calls, bound to their calls by a tag
// (DESIGN.md 11), and lineAnswer/lineAccept held until the owner open is
// applied (DESIGN.md 12).
//
// A creating request gets a fresh tag ("<random prefix>-<n>") and its new
// handles before the TSPI function returns. The server puts the tag on the
// created call (Call.tag) in its call_created event and in the reply, so
// whichever arrives first binds the call to its handle; until the request's
// ASYNC_COMPLETION is queued the call's events are kept on the handle
// (CallEntry::deferred) and follow the completion through the one queue.
#include <algorithm>
#include <random>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "tapi_mapping.h"
#include "tsp/provider_internal.h"
#include "tsp/remote_provider.h"

namespace linebridge::tsp {

std::string RemoteProvider::NewTagPrefix() {
  std::random_device random;
  const uint64_t bits = (uint64_t{random()} << 32) ^ random();
  return absl::StrFormat("%016x", bits);
}

Callback<v1::Call> RemoteProvider::OneCreatedCall(absl::AnyInvocable<void(CreatedCalls)> done) {
  return [done = std::move(done)](absl::StatusOr<v1::Call> call) mutable {
    if (!call.ok()) return done(call.status());
    done(std::vector<v1::Call>{*std::move(call)});
  };
}

uint32_t RemoteProvider::NewRequestCallLocked(uint32_t hd_line, HTAPICALL ht_call) {
  CallEntry fresh;
  fresh.hd_line = hd_line;
  fresh.ht_call = ht_call;
  fresh.outbound_pending = true;
  return calls_.Add(std::move(fresh));
}

void RemoteProvider::DropRequestCallLocked(uint32_t hd_call) {
  // TAPI's rule: the hdCall a call-creating function handed out stays valid
  // until TAPISRV calls lineCloseCall, which it does also when the request
  // completed with an error. The entry stays, IDLE and bound to no server
  // call; nothing is ever reported for it.
  CallEntry* e = calls_.Find(hd_call);
  if (e == nullptr) return;
  if (!e->call_id.empty()) call_by_id_.erase(e->call_id);
  e->call_id.clear();
  e->outbound_pending = false;
  e->deferred.clear();
  e->generating.clear();
  e->tones.clear();
  e->gathers.clear();
  e->idle = true;
}

LONG RemoteProvider::CreateCallsLocked(DRV_REQUESTID request_id, uint32_t hd_line,
                                       uint32_t acting_call, std::vector<NewCall> calls,
                                       CreateSender send) {
  const OpenLine* open = open_lines_.Find(hd_line);
  if (open == nullptr) return LINEERR_INVALLINEHANDLE;
  Creating creating;
  creating.request_id = request_id;
  creating.hd_line = hd_line;
  creating.server = lines_[open->index].server;
  for (const NewCall& c : calls) {
    const uint32_t id = NewRequestCallLocked(hd_line, c.ht_call);
    *c.hd_call = reinterpret_cast<HDRVCALL>(static_cast<uintptr_t>(id));
    creating.calls.push_back(id);
  }
  pending_[request_id] = Pending{acting_call != 0 ? acting_call : creating.calls.front()};
  std::string tag = absl::StrCat(tag_prefix_, "-", next_tag_++);
  creating_[tag] = std::move(creating);
  auto done = [this, tag](CreatedCalls result) {
    DrainingLock done_lock(this);
    FinishCreateLocked(tag, std::move(result));
  };
  // No session with the line's server in time (session_wait.cc): the request
  // fails here instead of going out without one.
  auto fail = [this, tag] {
    DrainingLock fail_lock(this);
    FinishCreateLocked(tag, absl::UnavailableError("no session with the server yet"));
  };
  SendWhenOpenLocked(
      hd_line,
      [send = std::move(send), tag, done = std::move(done)]() mutable {
        send(std::move(tag), std::move(done));
      },
      std::move(fail));
  return static_cast<LONG>(request_id);
}

bool RemoteProvider::BindTaggedCallLocked(size_t server, const v1::Call& call) {
  if (call.tag().empty()) return false;
  auto it = creating_.find(call.tag());
  if (it == creating_.end()) return false;  // another client's, or a request already answered
  const Creating& creating = it->second;
  // The handle for this call: the only one, or (lineSetupConference) the
  // conference call for origin CONFERENCE and the consultation call otherwise.
  std::vector<uint32_t> order = creating.calls;
  if (order.size() > 1 && call.info().origin() != v1::CALL_ORIGIN_CONFERENCE) {
    std::reverse(order.begin(), order.end());
  }
  for (uint32_t id : order) {
    CallEntry* entry = calls_.Find(id);
    if (entry == nullptr || !entry->call_id.empty()) continue;
    entry->call_id = call.id();
    entry->call = call;
    entry->has_call = true;
    entry->seen_on_stream = true;
    call_by_id_[call.id()] = id;
    // Deferred until the completion while the request is outstanding.
    CallStateLocked(id, *entry, call.status(), ToTapi(call.info().media_mode()));
    return true;
  }
  (void)server;
  return false;
}

void RemoteProvider::FinishCreateLocked(const std::string& tag, CreatedCalls result) {
  auto it = creating_.find(tag);
  if (it == creating_.end()) return;  // providerShutdown reset everything
  Creating creating = std::move(it->second);
  creating_.erase(it);
  if (!pending_.contains(creating.request_id)) return;  // completed at providerShutdown
  if (!result.ok()) {
    CompleteLocked(creating.request_id, ErrOf(result.status()));
    for (uint32_t id : creating.calls) AbandonRequestCallLocked(id, creating.server);
    return;
  }
  // The completion first; the calls' events (deferred or still to come) after it.
  CompleteLocked(creating.request_id, 0);
  for (size_t i = 0; i < creating.calls.size(); ++i) {
    BindReplyLocked(creating.calls[i], i < result->size() ? (*result)[i] : v1::Call());
  }
}

void RemoteProvider::BindReplyLocked(uint32_t hd_call, const v1::Call& call) {
  CallEntry* entry = calls_.Find(hd_call);
  if (entry == nullptr) return;  // the line was closed meanwhile
  if (entry->call_id.empty()) {
    if (call.id().empty()) {  // the server named no call: nothing to bind
      DropRequestCallLocked(hd_call);
      return;
    }
    auto other = call_by_id_.find(call.id());
    if (other != call_by_id_.end() && other->second != hd_call) {
      // Announced meanwhile under another handle (a call the request did not
      // create, e.g. one already on the line): keep that one.
      DropRequestCallLocked(hd_call);
      return;
    }
    // The reply came before the call_created event: its states follow from
    // the event stream, in its order.
    entry->call_id = call.id();
    entry->call = call;
    entry->has_call = true;
    call_by_id_[call.id()] = hd_call;
  }
  entry->outbound_pending = false;
  for (Outgoing& out : entry->deferred) EnqueueLocked(out);
  entry->deferred.clear();
}

void RemoteProvider::AbandonRequestCallLocked(uint32_t hd_call, size_t server) {
  CallEntry* entry = calls_.Find(hd_call);
  if (entry == nullptr) return;
  const bool made = !entry->call_id.empty() && !entry->idle;
  const v1::Call call = entry->call;
  DropRequestCallLocked(hd_call);
  // E.g. the request hit its deadline after the server made the call: TAPI
  // learns of it as a new call (LINE_NEWCALL, then its state).
  if (made) ApplyCallLocked(server, call, /*created=*/true);
}

void RemoteProvider::SendWhenOwnerLocked(uint32_t hd_line, absl::AnyInvocable<void()> send,
                                         absl::AnyInvocable<void()> fail) {
  OpenLine* open = open_lines_.Find(hd_line);
  const bool wish_applied = open == nullptr || open->media_modes == 0 ||
                            (!open->open_in_flight &&
                             open->applied_privilege == v1::PRIVILEGE_OWNER &&
                             open->applied_media == open->media_modes);
  if (!wish_applied) {
    if (!open->open_in_flight) OpenOnServerLocked(hd_line);
    // Not sent while the server cannot be reached: it fails as it would anyway.
    if (open->open_in_flight) {
      QueueAfterOpenLocked(*open, std::move(send), std::move(fail));
      return;
    }
  }
  send();
}

}  // namespace linebridge::tsp
