// SipPhoneLines's requests on click-to-dial calls: the application's hold,
// resume and blind transfer (docs/sip.md, "Phone lines"). Each is carried
// out by the agent (sip_phone_relay.cc); the request's reply is held until
// the outcome (ProviderHost::DeferReply), at most kRequestReplyWait or until
// just before the client's deadline (then OK: under way). The
// phone's own calls take no remote control (refused with
// LINEERR_OPERATIONUNAVAIL), except Drop through the PBX's call control when
// it is configured (pbx_control): of an answered call, or of one ringing.
#include <utility>

#include "absl/strings/str_cat.h"
#include "core/log.h"
#include "linebridge/lineerr.h"
#include "linebridge/status_macros.h"
#include "providers/sip/sip_mapping.h"
#include "providers/sip/sip_phone_lines.h"

namespace linebridge {

using sip::RequestName;

absl::StatusOr<SipPhoneLines::ClickIt> SipPhoneLines::FindClick(const std::string& call_id,
                                                              const char* what) {
  if (monitored_of_call_.count(call_id) > 0) {
    return FailedPrecondition(
        LINEERR_OPERATIONUNAVAIL,
        absl::StrCat("the phone's own call is ", what,
                     " at the phone (a phone line acts on the calls it placed itself)"));
  }
  auto by_call = click_of_call_.find(call_id);
  auto it = by_call == click_of_call_.end() ? clicks_.end() : clicks_.find(by_call->second);
  if (it == clicks_.end() || !agent_) {
    return FailedPrecondition(LINEERR_INVALCALLSTATE, "the call has ended");
  }
  if (it->second.request_pending) {
    return FailedPrecondition(
        LINEERR_INVALCALLSTATE,
        absl::StrCat("a ", RequestName(it->second.request), " of this call is in progress"));
  }
  return it;
}

absl::Status SipPhoneLines::Hold(const std::string& call_id, bool hold) {
  LB_ASSIGN_OR_RETURN(ClickIt it, FindClick(call_id, hold ? "held" : "resumed"));
  const v1::CallState want = hold ? v1::CALL_STATE_CONNECTED : v1::CALL_STATE_ONHOLD;
  if (it->second.state != want) {
    return FailedPrecondition(LINEERR_INVALCALLSTATE,
                              hold ? "only a connected call can be held"
                                   : "only a held call can be resumed");
  }
  DeferRequestReply(it, hold ? sip::ClickToDialRequest::kHold : sip::ClickToDialRequest::kResume);
  agent_->Hold(it->first, hold);
  return absl::OkStatus();
}

absl::Status SipPhoneLines::BlindTransfer(const std::string& call_id,
                                          const std::string& destination) {
  LB_ASSIGN_OR_RETURN(ClickIt it, FindClick(call_id, "transferred"));
  const v1::config::SipPhone& p = config_.phones(static_cast<int>(it->second.phone));
  const std::string uri = sip::DestinationUri(destination, p.uri().substr(p.uri().find('@') + 1));
  if (uri.empty()) {
    return InvalidArgument(LINEERR_INVALADDRESS,
                           "a sip phone line reaches a number, user@host, a sip: URI or a tel: URI");
  }
  // The destination is called by the transferee, outside linebridged.
  LB_RETURN_IF_ERROR(host_->AuthorizeOutside(lines_[it->second.phone].line_id));
  DeferRequestReply(it, sip::ClickToDialRequest::kTransfer);
  agent_->Transfer(it->first, uri);
  LB_LOG("sip: click-to-dial call %s: transfer to %s requested", call_id, uri);
  return absl::OkStatus();
}

void SipPhoneLines::DeferRequestReply(ClickIt it, sip::ClickToDialRequest request) {
  Click& c = it->second;
  c.request_pending = true;
  c.request = request;
  c.reply = host_->DeferReply(absl::OkStatus());  // under way
  const uint64_t click = it->first;
  c.reply_timer = host_->Schedule(kRequestReplyWait, [this, click] {
    auto found = clicks_.find(click);
    if (found == clicks_.end()) return;
    found->second.reply_timer = 0;
    // Still under way (a transfer target ringing): the reply says so; the
    // outcome shows in the call's state.
    AnswerRequest(found->second, absl::OkStatus());
  });
}

void SipPhoneLines::AnswerRequest(Click& c, absl::Status outcome) {
  if (c.reply_timer != 0) host_->CancelTimer(c.reply_timer);
  c.reply_timer = 0;
  if (c.reply != 0) host_->CompleteReply(std::exchange(c.reply, 0), std::move(outcome));
}

void SipPhoneLines::OnClickToDialRequestDone(uint64_t call, sip::ClickToDialRequest request,
                                             int status) {
  RunLocked([this, call, request, status] {
    auto it = clicks_.find(call);
    if (it == clicks_.end()) return;
    Click& c = it->second;
    if (c.request_pending && c.request == request) c.request_pending = false;
    const char* name = RequestName(request);
    if (status >= 200 && status < 300) {
      AnswerRequest(c, absl::OkStatus());
      if (request != sip::ClickToDialRequest::kTransfer) return;
      // The transferee reached the target: the call is over for this line
      // (the agent ended both legs).
      const std::string call_id = c.call_id;
      EraseClick(it);
      LB_LOG("sip: click-to-dial call %s transferred", call_id);
      host_->SetCallState(call_id, MakeStatus(v1::CALL_STATE_IDLE));
      return;
    }
    LB_WARN("sip: click-to-dial call %s: %s failed%s; the call is unchanged", c.call_id, name,
            status > 0 ? absl::StrCat(" (SIP ", status, ")") : "");
    AnswerRequest(c, status == 0
                         ? FailedPrecondition(LINEERR_INVALCALLSTATE,
                                              absl::StrCat("the ", name,
                                                           " could not be started (another "
                                                           "re-INVITE or REFER was under way)"))
                         : TapiStatus(absl::StatusCode::kAborted, LINEERR_OPERATIONFAILED,
                                      absl::StrCat("the ", name, " failed (SIP ", status, ")")));
  });
}

absl::Status SipPhoneLines::DropOwnCall(Monitored& m) {
  if (config_.pbx_control().kamailio_jsonrpc().empty()) {
    return FailedPrecondition(LINEERR_OPERATIONUNAVAIL,
                              "the phone's own call is ended at the phone (no pbx_control is "
                              "configured to end it through the PBX)");
  }
  if (m.drop_request != 0) {
    return FailedPrecondition(LINEERR_INVALCALLSTATE, "a drop of this call is in progress");
  }
  // The PBX finds the dialog by its Call-ID and From tag, and ends it as
  // its state asks (BYE both ways, or the INVITE cancelled).
  if (m.sip_call_id.empty() || m.from_tag.empty()) {
    return FailedPrecondition(LINEERR_OPERATIONFAILED,
                              "the PBX's dialog events give no Call-ID and From tag for this call "
                              "(its presence server must include them)");
  }
  m.drop_request = next_drop_++;
  drops_[m.drop_request] = m.call_id;
  m.drop_reply = host_->DeferReply(TapiStatus(absl::StatusCode::kUnavailable,
                                              LINEERR_OPERATIONFAILED,
                                              "the PBX has not confirmed the drop yet"));
  LB_LOG("sip: phone line call %s: ending it through the PBX (Call-ID %s)", m.call_id,
         m.sip_call_id);
  agent_->EndOwnCall(m.drop_request, m.sip_call_id, m.from_tag);
  return absl::OkStatus();
}

void SipPhoneLines::AnswerDrop(Monitored& m, absl::Status outcome) {
  if (m.drop_request != 0) drops_.erase(std::exchange(m.drop_request, 0));
  if (m.drop_reply != 0) host_->CompleteReply(std::exchange(m.drop_reply, 0), std::move(outcome));
}

void SipPhoneLines::OnOwnCallEnded(uint64_t request, absl::Status outcome) {
  RunLocked([this, request, outcome = std::move(outcome)]() mutable {
    auto d = drops_.find(request);
    if (d == drops_.end()) return;
    const std::string call_id = d->second;
    auto key = monitored_of_call_.find(call_id);
    if (key == monitored_of_call_.end()) {
      drops_.erase(d);
      return;
    }
    Monitored& m = monitored_.at(key->second);
    if (!outcome.ok()) {
      LB_WARN("sip: phone line call %s: the PBX did not end it: %s", call_id, outcome.message());
      AnswerDrop(m, TapiStatus(outcome.code() == absl::StatusCode::kFailedPrecondition
                                   ? absl::StatusCode::kAborted
                                   : outcome.code(),
                               LINEERR_OPERATIONFAILED,
                               absl::StrCat("the PBX did not end the call: ", outcome.message())));
      return;
    }
    // The PBX sent BYE both ways, or CANCEL to the called party: the call
    // is over for the line (its dialog's end, when the phone's NOTIFY tells
    // it, changes nothing).
    AnswerDrop(m, absl::OkStatus());
    m.call_id.clear();
    m.state = v1::CALL_STATE_IDLE;
    monitored_of_call_.erase(key);
    LB_LOG("sip: phone line call %s ended through the PBX", call_id);
    host_->SetCallState(call_id, MakeStatus(v1::CALL_STATE_IDLE));
  });
}

}  // namespace linebridge
