// lineCompleteCall / lineUncompleteCall: the engine checks the call, the
// mode against the address's caps and the ids; the provider (the switch)
// keeps the completions and offers the callback calls.
#include <algorithm>
#include <string>

#include "absl/strings/str_cat.h"
#include "core/engine.h"
#include "linebridge/status_macros.h"

namespace linebridge {

absl::StatusOr<v1::CompleteCallResponse> Engine::CompleteCall(const v1::CompleteCallRequest& req) {
  EngineLock lock(this);
  LB_ASSIGN_OR_RETURN(
      Op op, PrepareCallOp(req.session_id(), req.call_id(),
                           {v1::CALL_STATE_RINGBACK, v1::CALL_STATE_BUSY,
                            v1::CALL_STATE_DISCONNECTED},
                           v1::CALL_FEATURE_COMPLETECALL));
  const v1::CallStatus& status = op.call->call.status();
  if (status.state() == v1::CALL_STATE_DISCONNECTED &&
      status.disconnect_mode() != v1::DISCONNECT_MODE_BUSY &&
      status.disconnect_mode() != v1::DISCONNECT_MODE_NOANSWER) {
    return FailedPrecondition(
        LINEERR_INVALCALLSTATE,
        absl::StrCat("call ", req.call_id(),
                     " is disconnected, but not because its party was busy or did not answer"));
  }
  const int index = static_cast<int>(op.call->call.info().address_index());
  bool offered = false;
  if (index < op.line->line.addresses_size()) {
    const auto& modes = op.line->line.addresses(index).caps().completion_modes();
    offered = std::find(modes.begin(), modes.end(), req.mode()) != modes.end();
  }
  if (!offered) {
    return InvalidArgument(LINEERR_INVALCALLCOMPLMODE,
                           absl::StrCat("address ", index, " of line ", op.line->line.id(),
                                        " offers no completion mode ",
                                        v1::CompletionMode_Name(req.mode())));
  }
  if (req.mode() != v1::COMPLETION_MODE_MESSAGE && req.message_id() != 0) {
    return InvalidArgument(LINEERR_INVALMESSAGEID, "message_id is only for mode MESSAGE");
  }
  OpScope scope(this, op.session, op.line->line.id());
  LB_ASSIGN_OR_RETURN(const uint32_t id,
                      op.provider->CompleteCall(req.call_id(), req.mode(), req.message_id()));
  v1::CompleteCallResponse out;
  out.set_completion_id(id);
  *out.mutable_call() = View(req.call_id(), op.session);
  return out;
}

absl::StatusOr<v1::UncompleteCallResponse> Engine::UncompleteCall(
    const v1::UncompleteCallRequest& req) {
  EngineLock lock(this);
  LB_ASSIGN_OR_RETURN(Op op, PrepareLineOp(req.session_id(), req.line_id(), 0,
                                           v1::ADDRESS_FEATURE_UNCOMPLETECALL));
  if (req.completion_id() == 0) {
    return InvalidArgument(LINEERR_INVALCOMPLETIONID, "completion_id is required");
  }
  OpScope scope(this, op.session, op.line->line.id());
  LB_RETURN_IF_ERROR(op.provider->UncompleteCall(req.line_id(), req.completion_id()));
  return v1::UncompleteCallResponse();
}

}  // namespace linebridge
