// The sim's call completion (lineCompleteCall, CALLBACK): the switch keeps
// the request, watches the party, and when the party and the caller are
// both free offers the caller a call with reason CALLCOMPLETION; answering
// it rings the party as if the caller had dialled it.
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "core/log.h"
#include "linebridge/status_macros.h"
#include "providers/sim/sim_provider.h"

namespace linebridge {

absl::StatusOr<uint32_t> SimProvider::CompleteCall(const std::string& call_id,
                                                   v1::CompletionMode mode, uint32_t) {
  LB_ASSIGN_OR_RETURN(Leg * leg, GetLeg(call_id));
  if (mode != v1::COMPLETION_MODE_CALLBACK) {
    return InvalidArgument(LINEERR_INVALCALLCOMPLMODE,
                           absl::StrCat(name(), " completes calls by CALLBACK only"));
  }
  // The party: the leg ringing it, or the number dialled (busy: the leg was
  // never linked).
  std::string party;
  if (const Leg* ringing = leg->remote.leg.empty() ? nullptr : FindLeg(leg->remote.leg)) {
    party = ringing->ext;
  } else {
    const Resolved r = Resolve(InfoOf(call_id).called().number());
    if (r.kind == Target::kExtension) party = r.number;
  }
  if (party.empty() || party == leg->ext) {
    return FailedPrecondition(
        LINEERR_OPERATIONFAILED,
        absl::StrCat("call ", call_id, " is not to another extension of ", name(),
                     ": only those calls can be completed"));
  }
  int pending = 0;
  for (const auto& [id, c] : completions_) {
    if (c.ext == leg->ext) ++pending;
  }
  if (pending >= kMaxCompletions) {
    return ResourceExhausted(LINEERR_COMPLETIONOVERRUN,
                             absl::StrFormat("%s already has %d completions pending",
                                             LineId(leg->ext), pending));
  }
  const v1::Call* call = host_->FindCall(call_id);
  // A party that is busy is free once its calls end; one that did not
  // answer must use its phone first.
  const bool no_answer = call != nullptr && call->status().state() == v1::CALL_STATE_RINGBACK;
  const bool no_answer_disconnect = call != nullptr &&
                               call->status().state() == v1::CALL_STATE_DISCONNECTED &&
                               call->status().disconnect_mode() == v1::DISCONNECT_MODE_NOANSWER;
  const uint32_t id = next_completion_id_++;
  if (next_completion_id_ == 0) next_completion_id_ = 1;
  Completion& c = completions_[id];
  c.ext = leg->ext;
  c.party = party;
  c.armed = !(no_answer || no_answer_disconnect);
  c.expiry = host_->Schedule(kCompletionLifetime, [this, id] {
    auto it = completions_.find(id);
    if (it == completions_.end()) return;
    LB_LOG("%s: completion %d to %s expired", LineId(it->second.ext), id, it->second.party);
    completions_.erase(it);
  });
  OfferCallbacks();
  return id;
}

absl::Status SimProvider::UncompleteCall(const std::string& line_id, uint32_t completion_id) {
  const std::string ext = line_id.substr(line_id.find('/') + 1);
  auto it = completions_.find(completion_id);
  if (it == completions_.end() || it->second.ext != ext) {
    return NotFound(LINEERR_INVALCOMPLETIONID,
                    absl::StrFormat("%s has no pending completion %d", line_id, completion_id));
  }
  host_->CancelTimer(it->second.expiry);
  completions_.erase(it);
  return absl::OkStatus();
}

void SimProvider::ArmCompletions(const std::string& ext) {
  for (auto& [id, c] : completions_) {
    if (c.party == ext) c.armed = true;
  }
}

void SimProvider::OfferCallbacks() {
  // Offered from a timer, not from inside the state change that freed the
  // party: the switch notices the party is free, then rings the caller.
  if (callbacks_scheduled_ || completions_.empty()) return;
  callbacks_scheduled_ = true;
  host_->Schedule(absl::ZeroDuration(), [this] {
    callbacks_scheduled_ = false;
    std::vector<uint32_t> ready;
    for (const auto& [id, c] : completions_) {
      auto caller = extensions_.find(c.ext);
      if (!c.armed || caller == extensions_.end() || extensions_.count(c.party) == 0) continue;
      if (ActiveLegs(c.party) == 0 &&
          ActiveLegs(c.ext) < static_cast<int>(caller->second.config.max_calls())) {
        ready.push_back(id);
      }
    }
    for (uint32_t id : ready) OfferCallback(id);
  });
}

void SimProvider::OfferCallback(uint32_t id) {
  auto it = completions_.find(id);
  if (it == completions_.end()) return;
  const Completion c = it->second;
  host_->CancelTimer(c.expiry);
  completions_.erase(it);
  v1::CallInfo info;
  info.set_origin(v1::CALL_ORIGIN_INTERNAL);
  info.set_reason(v1::CALL_REASON_CALLCOMPLETION);
  info.set_completion_id(id);
  *info.mutable_caller() = PartyOfExtension(c.party);
  *info.mutable_called() = PartyOfExtension(c.ext);
  Leg& leg = NewLeg(c.ext, std::move(info), Offering());
  leg.callback_to = c.party;
  const std::string leg_id = leg.id;
  // Unanswered, the callback is withdrawn after the usual rings.
  leg.timer = host_->Schedule(
      absl::Milliseconds(static_cast<int64_t>(config_.default_no_answer_rings()) *
                         config_.ring_ms()),
      [this, leg_id] {
        Leg* l = FindLeg(leg_id);
        const v1::Call* call = host_->FindCall(leg_id);
        if (l == nullptr || call == nullptr ||
            (call->status().state() != v1::CALL_STATE_OFFERING &&
             call->status().state() != v1::CALL_STATE_ACCEPTED)) {
          return;
        }
        l->timer = 0;
        host_->SetCallState(leg_id, Disconnected(v1::DISCONNECT_MODE_NOANSWER));
      });
}

void SimProvider::PlaceCallback(Leg& leg) {
  const std::string party = leg.callback_to;
  leg.callback_to.clear();
  CancelTimers(leg);
  host_->UpdateCallInfo(leg.id, [&](v1::CallInfo* i) { i->set_dial_string(party); },
                        {"dial_string"});
  host_->SetCallState(leg.id, MakeStatus(v1::CALL_STATE_DIALING));
  Route(Remote{leg.id, std::nullopt}, party, v1::CALL_REASON_DIRECT, {});
}

}  // namespace linebridge
