// Engine requests beyond the core call actions: lineSwapHold (two calls of
// one address) and user-user information sent and released on a call.
#include <algorithm>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "core/engine.h"
#include "linebridge/status_macros.h"

namespace linebridge {

absl::StatusOr<v1::SwapHoldResponse> Engine::SwapHold(const v1::SwapHoldRequest& req) {
  EngineLock lock(this);
  LB_ASSIGN_OR_RETURN(Op active, PrepareCallOp(req.session_id(), req.call_id(),
                                               {v1::CALL_STATE_CONNECTED},
                                               v1::CALL_FEATURE_SWAPHOLD));
  if (req.held_call_id().empty()) {
    return InvalidArgument(LINEERR_INVALCALLHANDLE, "held_call_id is required");
  }
  if (req.held_call_id() == req.call_id()) {
    return InvalidArgument(LINEERR_INVALCALLHANDLE,
                           "held_call_id names the active call; swapping needs two calls");
  }
  LB_ASSIGN_OR_RETURN(
      Op held, PrepareCallOp(req.session_id(), req.held_call_id(),
                             {v1::CALL_STATE_ONHOLD, v1::CALL_STATE_ONHOLDPENDTRANSFER,
                              v1::CALL_STATE_ONHOLDPENDCONF},
                             v1::CALL_FEATURE_UNSPECIFIED));
  if (held.line != active.line ||
      held.call->call.info().address_index() != active.call->call.info().address_index()) {
    return InvalidArgument(
        LINEERR_INVALCALLHANDLE,
        absl::StrFormat("call %s is on %s address %d, call %s on %s address %d: swapping needs "
                        "two calls of one address",
                        req.call_id(), active.line->line.id(),
                        active.call->call.info().address_index(), req.held_call_id(),
                        held.line->line.id(), held.call->call.info().address_index()));
  }
  OpScope scope(this, active.session, active.line->line.id());
  LB_RETURN_IF_ERROR(active.provider->SwapHold(req.call_id(), req.held_call_id()));
  v1::SwapHoldResponse resp;
  *resp.mutable_call() = View(req.call_id(), active.session);
  *resp.mutable_held_call() = View(req.held_call_id(), active.session);
  return resp;
}

absl::StatusOr<v1::Call> Engine::SendUserUserInfo(const v1::SendUserUserInfoRequest& req) {
  if (req.user_user_info().empty()) {
    return InvalidArgument(LINEERR_INVALPOINTER, "user_user_info is required");
  }
  EngineLock lock(this);
  LB_ASSIGN_OR_RETURN(Op op, PrepareCallOp(req.session_id(), req.call_id(),
                                           {v1::CALL_STATE_CONNECTED, v1::CALL_STATE_OFFERING,
                                            v1::CALL_STATE_ACCEPTED, v1::CALL_STATE_RINGBACK},
                                           v1::CALL_FEATURE_SENDUSERUSER));
  // The line's own limit (LINEDEVCAPS dwUUISendUserUserInfoSize) within the
  // server's.
  size_t max = options_.max_user_user_info;
  if (const uint32_t line_max = op.line->line.caps().max_user_user_info_size(); line_max > 0) {
    max = std::min<size_t>(max, line_max);
  }
  if (req.user_user_info().size() > max) {
    return InvalidArgument(LINEERR_USERUSERINFOTOOBIG,
                           absl::StrFormat("user_user_info is %d bytes; at most %d allowed",
                                           req.user_user_info().size(), max));
  }
  OpScope scope(this, op.session, op.line->line.id());
  LB_RETURN_IF_ERROR(op.provider->SendUserUserInfo(req.call_id(), req.user_user_info()));
  return View(req.call_id(), op.session);
}

absl::StatusOr<v1::Call> Engine::ReleaseUserUserInfo(const v1::ReleaseUserUserInfoRequest& req) {
  EngineLock lock(this);
  LB_ASSIGN_OR_RETURN(Op op, PrepareCallOp(req.session_id(), req.call_id(), {},
                                           v1::CALL_FEATURE_RELEASEUSERUSERINFO));
  OpScope scope(this, op.session, op.line->line.id());
  // Nothing received (or already released): nothing changes.
  if (!op.call->call.info().user_user_info().empty()) {
    UpdateCallInfo(req.call_id(), [](v1::CallInfo* info) { info->clear_user_user_info(); },
                   {"user_user_info"});
  }
  return View(req.call_id(), op.session);
}

namespace {

template <typename List, typename T>
bool Lists(const List& list, T value) {
  return std::find(list.begin(), list.end(), value) != list.end();
}

// A dial parameter: 0 asks for the line's default; anything else is held to
// the line's range (a range with max 0 is none).
uint32_t DialParam(uint32_t asked, uint32_t dflt, uint32_t min, uint32_t max) {
  if (asked == 0) return dflt;
  if (max == 0 || max < min) return asked;
  return std::clamp(asked, min, max);
}

}  // namespace

absl::StatusOr<v1::Call> Engine::SetCallParams(const v1::SetCallParamsRequest& req) {
  EngineLock lock(this);
  LB_ASSIGN_OR_RETURN(Op op, PrepareCallOp(req.session_id(), req.call_id(), {},
                                           v1::CALL_FEATURE_SETCALLPARAMS));
  const v1::LineCaps& caps = op.line->line.caps();
  if (!Lists(caps.bearer_modes(), req.bearer_mode())) {
    return InvalidArgument(
        LINEERR_INVALBEARERMODE,
        absl::StrCat("line ", op.line->line.id(), " has no bearer mode ",
                     v1::BearerMode_Name(req.bearer_mode())));
  }
  const uint32_t line_max = caps.max_data_rate();
  if (req.max_rate() != 0 && req.min_rate() > req.max_rate()) {
    return InvalidArgument(LINEERR_INVALRATE,
                           absl::StrFormat("min_rate %d is above max_rate %d", req.min_rate(),
                                           req.max_rate()));
  }
  if (line_max != 0 && req.min_rate() > line_max) {
    return InvalidArgument(LINEERR_INVALRATE,
                           absl::StrFormat("min_rate %d is above the line's max_data_rate %d",
                                           req.min_rate(), line_max));
  }
  uint32_t rate = req.max_rate() == 0 ? line_max : req.max_rate();
  if (line_max != 0) rate = std::min(rate, line_max);
  const v1::CallInfo& info = op.call->call.info();
  v1::DialParams dial = info.has_dial_params() ? info.dial_params() : caps.default_dial_params();
  if (req.has_dial_params()) {
    const v1::DialParams& in = req.dial_params();
    const v1::DialParams& d = caps.default_dial_params();
    const v1::DialParams& lo = caps.min_dial_params();
    const v1::DialParams& hi = caps.max_dial_params();
    dial.set_dial_pause_ms(
        DialParam(in.dial_pause_ms(), d.dial_pause_ms(), lo.dial_pause_ms(), hi.dial_pause_ms()));
    dial.set_dial_speed_ms(
        DialParam(in.dial_speed_ms(), d.dial_speed_ms(), lo.dial_speed_ms(), hi.dial_speed_ms()));
    dial.set_digit_duration_ms(DialParam(in.digit_duration_ms(), d.digit_duration_ms(),
                                         lo.digit_duration_ms(), hi.digit_duration_ms()));
    dial.set_wait_for_dialtone_ms(DialParam(in.wait_for_dialtone_ms(), d.wait_for_dialtone_ms(),
                                            lo.wait_for_dialtone_ms(),
                                            hi.wait_for_dialtone_ms()));
  }
  OpScope scope(this, op.session, op.line->line.id());
  LB_RETURN_IF_ERROR(op.provider->SetCallParams(req.call_id(), req.bearer_mode(), rate, dial));
  return View(req.call_id(), op.session);
}

absl::StatusOr<v1::Call> Engine::SetCallTreatment(const v1::SetCallTreatmentRequest& req) {
  EngineLock lock(this);
  LB_ASSIGN_OR_RETURN(Op op, PrepareCallOp(req.session_id(), req.call_id(),
                                           {v1::CALL_STATE_OFFERING, v1::CALL_STATE_ACCEPTED},
                                           v1::CALL_FEATURE_SETTREATMENT));
  const int index = static_cast<int>(op.call->call.info().address_index());
  const bool offered =
      index < op.line->line.addresses_size() &&
      Lists(op.line->line.addresses(index).caps().call_treatments(), req.treatment());
  if (!offered) {
    return InvalidArgument(LINEERR_INVALPARAM,
                           absl::StrCat("address ", index, " of line ", op.line->line.id(),
                                        " offers no treatment ",
                                        v1::CallTreatment_Name(req.treatment())));
  }
  OpScope scope(this, op.session, op.line->line.id());
  LB_RETURN_IF_ERROR(op.provider->SetCallTreatment(req.call_id(), req.treatment()));
  return View(req.call_id(), op.session);
}

}  // namespace linebridge
