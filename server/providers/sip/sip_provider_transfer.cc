// Transfers started by the far end, as TAPI sees them (docs/sip.md): the
// call the line places for a far end's REFER, and the call that replaces one
// of the line's calls (INVITE with Replaces). Both are new calls with
// LINECALLREASON_TRANSFER whose RedirectingID is the transferor and whose
// related call is the call they take over; the call taken over goes
// DISCONNECTED (NORMAL), then IDLE.
#include <utility>

#include "absl/strings/str_cat.h"
#include "core/log.h"
#include "providers/sip/sip_provider.h"

namespace linebridge {

void SipProvider::EndHandedOver(uint64_t leg) {
  auto it = calls_.find(leg);
  if (it == calls_.end()) return;
  const std::string call_id = it->second.call_id;
  const uint64_t consult_for = it->second.consult_for;
  if (auto placed = calls_.find(it->second.referral); placed != calls_.end()) {
    placed->second.referred_from = 0;
  }
  LB_LOG("sip: call %s handed over by a transfer", call_id);
  SetState(leg, Disconnected(v1::DISCONNECT_MODE_NORMAL));  // forgets the leg
  host_->SetCallState(call_id, MakeStatus(v1::CALL_STATE_IDLE));
  ReleaseConsultation(consult_for);
}

void SipProvider::OnReferred(uint64_t leg, uint64_t new_leg, sip::ReferredCall in) {
  RunLocked([this, leg, new_leg, in = std::move(in)] {
    auto it = calls_.find(leg);
    const v1::Call* origin = it == calls_.end() ? nullptr : host_->FindCall(it->second.call_id);
    if (origin == nullptr) {
      // The application dropped the call meanwhile: nothing to transfer.
      agent_->Hangup(new_leg, 0);
      return;
    }
    const size_t account = it->second.account;
    v1::CallInfo info;
    info.set_line_id(lines_[account].line_id);
    info.set_origin(v1::CALL_ORIGIN_OUTBOUND);
    info.set_reason(v1::CALL_REASON_TRANSFER);
    info.set_media_mode(v1::MEDIA_MODE_INTERACTIVE_VOICE);
    info.set_bearer_mode(v1::BEARER_MODE_VOICE);
    info.set_related_call_id(origin->info().call_id());
    info.set_dial_string(in.target);
    *info.mutable_caller() = SelfParty(account);
    info.mutable_called()->set_number(in.target);
    info.mutable_called()->set_available(true);
    // Who transferred the call, and to whom (as for a call transferred to a
    // station: LINECALLINFO's RedirectingID and RedirectionID).
    *info.mutable_redirecting() = in.referred_by;
    *info.mutable_redirection() = info.called();
    const std::string call_id =
        host_->CreateCall(std::move(info), MakeStatus(v1::CALL_STATE_DIALING));
    it->second.referral = new_leg;
    Call placed{call_id, account, false, v1::CALL_STATE_DIALING};
    placed.referred_from = leg;
    calls_[new_leg] = placed;
    leg_of_call_[call_id] = new_leg;
    LB_LOG("sip: call %s: the far end transfers it; calling %s as call %s%s",
           it->second.call_id, in.target, call_id, in.replaces ? " (with Replaces)" : "");
  });
}

void SipProvider::OnReplaced(size_t account, uint64_t new_leg, uint64_t replaced,
                             sip::IncomingCall in) {
  RunLocked([this, account, new_leg, replaced, in = std::move(in)] {
    if (account >= lines_.size()) return;
    v1::CallInfo info;
    info.set_line_id(lines_[account].line_id);
    info.set_origin(v1::CALL_ORIGIN_INBOUND);
    // A call the line was placing, answered elsewhere and replaced, was
    // picked up; a connected call replaced was transferred.
    info.set_reason(in.picked_up ? v1::CALL_REASON_PICKUP : v1::CALL_REASON_TRANSFER);
    info.set_media_mode(v1::MEDIA_MODE_INTERACTIVE_VOICE);
    info.set_bearer_mode(v1::BEARER_MODE_VOICE);
    *info.mutable_caller() = in.caller;
    *info.mutable_called() = in.called;
    if (in.referred) {
      *info.mutable_redirecting() = in.referred_by;
      *info.mutable_redirection() = in.called;
    }
    if (auto old = calls_.find(replaced); old != calls_.end()) {
      if (const v1::Call* c = host_->FindCall(old->second.call_id); c != nullptr) {
        info.set_related_call_id(c->info().call_id());
      }
      EndHandedOver(replaced);
    }
    // Answered at once: the call is up as far as this line is concerned.
    const std::string call_id = host_->CreateCall(std::move(info), Connected());
    calls_[new_leg] = Call{call_id, account, true, v1::CALL_STATE_CONNECTED};
    leg_of_call_[call_id] = new_leg;
    LB_LOG("sip: call %s replaces the line's call (RFC 3891)", call_id);
  });
}

}  // namespace linebridge
