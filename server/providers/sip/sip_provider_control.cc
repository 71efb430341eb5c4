// SipProvider's mid-call requests (hold, resume, redirect, blind transfer,
// digits) and what the SIP loop reports back about them (docs/sip.md).
// Requests run under the engine lock and only post to the loop; reports come
// back through RunLocked.
#include <algorithm>
#include <utility>

#include "absl/strings/str_cat.h"
#include "core/log.h"
#include "linebridge/lineerr.h"
#include "linebridge/status_macros.h"
#include "providers/sip/sip_provider.h"

namespace linebridge {

absl::StatusOr<std::pair<uint64_t, SipProvider::Call*>> SipProvider::FindCall(
    const std::string& call_id) {
  auto it = leg_of_call_.find(call_id);
  if (it == leg_of_call_.end() || !agent_) {
    return FailedPrecondition(LINEERR_INVALCALLSTATE, "the call has ended");
  }
  return std::make_pair(it->second, &calls_.at(it->second));
}

namespace {

absl::Status InProgress(const char* what) {
  return FailedPrecondition(LINEERR_INVALCALLSTATE,
                            absl::StrCat("a ", what, " of this call is in progress"));
}

}  // namespace

absl::Status SipProvider::Hold(const std::string& call_id) {
  if (phones_ && phones_->OwnsCall(call_id)) return phones_->Hold(call_id, true);
  LB_ASSIGN_OR_RETURN(auto found, FindCall(call_id));
  Call& call = *found.second;
  if (call.hold_pending) return InProgress("hold or resume");
  if (call.transfer_pending) return InProgress("transfer");
  call.hold_pending = true;
  DeferRequestReply(found.first);
  agent_->Hold(found.first, true);
  return absl::OkStatus();
}

absl::Status SipProvider::Unhold(const std::string& call_id) {
  if (phones_ && phones_->OwnsCall(call_id)) return phones_->Hold(call_id, false);
  LB_ASSIGN_OR_RETURN(auto found, FindCall(call_id));
  Call& call = *found.second;
  if (call.hold_pending) return InProgress("hold or resume");
  if (call.transfer_pending) return InProgress("transfer");
  call.hold_pending = true;
  DeferRequestReply(found.first);
  agent_->Hold(found.first, false);
  return absl::OkStatus();
}

absl::Status SipProvider::Redirect(const std::string& call_id, const std::string& destination) {
  LB_ASSIGN_OR_RETURN(auto found, FindCall(call_id));
  Call& call = *found.second;
  if (!call.inbound || call.state != v1::CALL_STATE_OFFERING) {
    return FailedPrecondition(LINEERR_INVALCALLSTATE, "only an offering call can be redirected");
  }
  LB_ASSIGN_OR_RETURN(std::string uri, OutsideTarget(call, destination));
  agent_->Redirect(found.first, uri);
  LB_LOG("sip: call %s redirected to %s", call_id, uri);
  calls_.erase(found.first);
  leg_of_call_.erase(call_id);
  host_->SetCallState(call_id, MakeStatus(v1::CALL_STATE_IDLE));
  return absl::OkStatus();
}

absl::Status SipProvider::BlindTransfer(const std::string& call_id,
                                        const std::string& destination) {
  if (phones_ && phones_->OwnsCall(call_id)) return phones_->BlindTransfer(call_id, destination);
  LB_ASSIGN_OR_RETURN(auto found, FindCall(call_id));
  Call& call = *found.second;
  if (call.hold_pending) return InProgress("hold or resume");
  if (call.transfer_pending) return InProgress("transfer");
  LB_ASSIGN_OR_RETURN(std::string uri, OutsideTarget(call, destination));
  call.transfer_pending = true;
  DeferRequestReply(found.first);
  agent_->Refer(found.first, uri);
  LB_LOG("sip: call %s: transfer to %s requested (REFER)", call_id, uri);
  return absl::OkStatus();
}

absl::StatusOr<std::string> SipProvider::SetupTransfer(const std::string& call_id) {
  LB_ASSIGN_OR_RETURN(auto found, FindCall(call_id));
  Call& call = *found.second;
  if (call.hold_pending) return InProgress("hold or resume");
  if (call.transfer_pending) return InProgress("transfer");
  const v1::Call* held = host_->FindCall(call_id);
  if (held == nullptr) return FailedPrecondition(LINEERR_INVALCALLSTATE, "the call has ended");
  // The consultation call waits in DIALTONE for Dial; the held call is put
  // on hold on the wire (a=sendonly) and is ONHOLDPENDTRANSFER meanwhile.
  v1::CallInfo info;
  info.set_line_id(held->info().line_id());
  info.set_origin(v1::CALL_ORIGIN_OUTBOUND);
  info.set_reason(v1::CALL_REASON_DIRECT);
  info.set_media_mode(v1::MEDIA_MODE_INTERACTIVE_VOICE);
  info.set_bearer_mode(v1::BEARER_MODE_VOICE);
  info.set_related_call_id(held->info().call_id());
  info.set_related_kind(v1::RELATED_CALL_KIND_CONSULTATION);
  *info.mutable_caller() = SelfParty(call.account);
  const uint64_t held_leg = found.first;
  const size_t account = call.account;
  const std::string consult_id = host_->CreateCall(std::move(info), DialTone());
  const uint64_t leg = agent_->NewLegId();
  Call consult{consult_id, account, false, v1::CALL_STATE_DIALTONE};
  consult.consult_for = held_leg;
  calls_[leg] = consult;
  leg_of_call_[consult_id] = leg;
  Call& original = calls_.at(held_leg);
  original.hold_pending = true;
  agent_->Hold(held_leg, true);
  SetState(held_leg, MakeStatus(v1::CALL_STATE_ONHOLDPENDTRANSFER));
  return consult_id;
}

absl::Status SipProvider::Dial(const std::string& call_id, const std::string& destination) {
  LB_ASSIGN_OR_RETURN(auto found, FindCall(call_id));
  Call& call = *found.second;
  if (call.state != v1::CALL_STATE_DIALTONE) {
    return FailedPrecondition(LINEERR_INVALCALLSTATE,
                              "a sip call takes its whole destination at once");
  }
  LB_ASSIGN_OR_RETURN(std::string uri, OutsideTarget(call, destination));
  host_->UpdateCallInfo(
      call_id,
      [&](v1::CallInfo* info) {
        info->set_dial_string(destination);
        info->mutable_called()->set_number(uri);
        info->mutable_called()->set_available(true);
      },
      {"dial_string", "called"});
  SetState(found.first, MakeStatus(v1::CALL_STATE_DIALING));
  agent_->Call(call.account, found.first, uri);
  return absl::OkStatus();
}

absl::StatusOr<std::string> SipProvider::CompleteTransfer(const std::string& call_id,
                                                          const std::string& consultation_id,
                                                          v1::TransferMode mode) {
  if (mode != v1::TRANSFER_MODE_TRANSFER) {
    return InvalidArgument(LINEERR_INVALTRANSFERMODE, "a sip line transfers; it has no conference");
  }
  LB_ASSIGN_OR_RETURN(auto held, FindCall(call_id));
  auto consult = FindCall(consultation_id);
  if (!consult.ok()) return NotFound(LINEERR_INVALCONSULTCALLHANDLE, "the consultation has ended");
  if (consult->second->state != v1::CALL_STATE_CONNECTED) {
    return FailedPrecondition(LINEERR_INVALCALLSTATE,
                              "the consultation call must be connected to transfer to it");
  }
  Call& call = *held.second;
  if (call.hold_pending) return InProgress("hold or resume");
  if (call.transfer_pending) return InProgress("transfer");
  call.transfer_pending = true;
  call.replaces = consult->first;
  DeferRequestReply(held.first);
  agent_->ReferReplaces(held.first, consult->first);
  LB_LOG("sip: call %s: transfer to the party of %s requested (REFER with Replaces)", call_id,
         consultation_id);
  return std::string();
}

void SipProvider::DeferRequestReply(uint64_t leg) {
  Call& call = calls_.at(leg);
  call.request_reply = host_->DeferReply(absl::OkStatus());  // under way
  call.request_timer = host_->Schedule(kRequestReplyWait, [this, leg] {
    auto it = calls_.find(leg);
    if (it == calls_.end()) return;
    it->second.request_timer = 0;
    AnswerRequest(it->second, absl::OkStatus());  // under way
  });
}

void SipProvider::AnswerRequest(Call& call, absl::Status outcome) {
  if (call.request_timer != 0) host_->CancelTimer(call.request_timer);
  call.request_timer = 0;
  if (call.request_reply == 0) return;
  host_->CompleteReply(std::exchange(call.request_reply, 0), std::move(outcome));
}

void SipProvider::ReleaseConsultation(uint64_t held_leg) {
  if (held_leg == 0) return;
  auto it = calls_.find(held_leg);
  if (it == calls_.end() || it->second.state != v1::CALL_STATE_ONHOLDPENDTRANSFER) return;
  it->second.replaces = 0;
  SetState(held_leg, MakeStatus(v1::CALL_STATE_ONHOLD));
}

absl::Status SipProvider::GenerateDigits(const std::string& call_id, const std::string& digits,
                                         v1::DigitMode mode, absl::Duration duration) {
  LB_ASSIGN_OR_RETURN(auto found, FindCall(call_id));
  if (mode != v1::DIGIT_MODE_DTMF) {
    return InvalidArgument(LINEERR_INVALDIGITMODE, "a sip line generates DTMF only");
  }
  // Each digit lasts `duration` (TAPI's 0: 100 ms); RFC 4733 carries up to
  // about 8 s in one event.
  int64_t ms = absl::ToInt64Milliseconds(duration);
  ms = ms == 0 ? 100 : std::clamp<int64_t>(ms, 40, 8000);
  agent_->SendDigits(found.first, digits, static_cast<int>(ms));
  return absl::OkStatus();
}

void SipProvider::OnHold(uint64_t leg, bool local_hold, bool remote_hold) {
  RunLocked([this, leg, local_hold, remote_hold] {
    auto it = calls_.find(leg);
    if (it == calls_.end()) return;
    Call& call = it->second;
    if (call.hold_pending) AnswerRequest(call, absl::OkStatus());
    call.hold_pending = false;
    call.remote_hold = remote_hold;
    if (call.state != v1::CALL_STATE_CONNECTED && call.state != v1::CALL_STATE_ONHOLD) return;
    // This side's hold is ONHOLD; the far end's hold leaves the call
    // connected but inactive (LINECONNECTEDMODE_INACTIVE).
    v1::CallStatus status =
        local_hold ? MakeStatus(v1::CALL_STATE_ONHOLD)
                   : Connected(remote_hold ? v1::CONNECTED_MODE_INACTIVE : v1::CONNECTED_MODE_ACTIVE);
    const v1::Call* now = host_->FindCall(call.call_id);
    if (now != nullptr && now->status().state() == status.state() &&
        now->status().connected_mode() == status.connected_mode()) {
      return;
    }
    LB_LOG("sip: call %s %s%s", call.call_id, local_hold ? "on hold" : "connected",
           remote_hold ? " (held by the far end)" : "");
    SetState(leg, std::move(status));
  });
}

void SipProvider::OnHoldFailed(uint64_t leg, int status) {
  RunLocked([this, leg, status] {
    auto it = calls_.find(leg);
    if (it == calls_.end()) return;
    it->second.hold_pending = false;
    LB_WARN("sip: call %s: hold/resume refused (SIP %d); the call is unchanged",
            it->second.call_id, status);
    AnswerRequest(it->second,
                  status == 0 ? FailedPrecondition(LINEERR_OPERATIONFAILED,
                                                   "the hold or resume could not be started")
                              : TapiStatus(absl::StatusCode::kAborted, LINEERR_OPERATIONFAILED,
                                           absl::StrCat("the hold or resume failed (SIP ",
                                                        status, ")")));
  });
}

void SipProvider::OnTransferred(uint64_t leg, bool ok, int status) {
  RunLocked([this, leg, ok, status] {
    auto it = calls_.find(leg);
    if (it == calls_.end()) return;
    it->second.transfer_pending = false;
    const std::string call_id = it->second.call_id;
    if (!ok) {
      LB_WARN("sip: call %s: transfer failed (SIP %d); the call stays", call_id, status);
      AnswerRequest(it->second,
                     status == 0 ? FailedPrecondition(LINEERR_OPERATIONFAILED,
                                                      "the transfer could not be started")
                                 : TapiStatus(absl::StatusCode::kAborted, LINEERR_OPERATIONFAILED,
                                              absl::StrCat("the transfer failed (SIP ", status,
                                                           ")")));
      return;
    }
    AnswerRequest(it->second, absl::OkStatus());
    // The transferee reached the target: this line's call is over, and so is
    // the consultation it replaced.
    LB_LOG("sip: call %s transferred (sipfrag %d)", call_id, status);
    const uint64_t replaced = it->second.replaces;
    calls_.erase(it);
    leg_of_call_.erase(call_id);
    host_->SetCallState(call_id, MakeStatus(v1::CALL_STATE_IDLE));
    if (auto c = calls_.find(replaced); replaced != 0 && c != calls_.end()) {
      const std::string consult_id = c->second.call_id;
      agent_->Hangup(replaced, 0);
      calls_.erase(c);
      leg_of_call_.erase(consult_id);
      host_->SetCallState(consult_id, MakeStatus(v1::CALL_STATE_IDLE));
    }
  });
}

void SipProvider::OnDigit(uint64_t leg, char digit) {
  RunLocked([this, leg, digit] {
    auto it = calls_.find(leg);
    if (it == calls_.end()) return;
    host_->DigitReceived(it->second.call_id, std::string(1, digit), v1::DIGIT_MODE_DTMF);
  });
}

void SipProvider::OnDigitsSent(uint64_t leg, const std::string& digits) {
  RunLocked([this, leg, digits] {
    auto it = calls_.find(leg);
    if (it == calls_.end()) return;
    host_->DigitsGenerated(it->second.call_id, digits, /*cancelled=*/false);
  });
}

}  // namespace linebridge
