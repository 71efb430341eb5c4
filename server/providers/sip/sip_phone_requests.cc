// SipPhoneLines's requests on click-to-dial calls: the application's hold,
// resume and blind transfer (docs/sip.md, "Phone lines"). Each is carried
// out by the agent (sip_phone_relay.cc); the request's reply is held until
// the outcome (ProviderHost::DeferReply), at most kRequestReplyWait. The
// phone's own calls take no remote control: refused with
// LINEERR_OPERATIONUNAVAIL.
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
  c.reply = host_->DeferReply();
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

}  // namespace linebridge
