// RemoteProvider: lineCompleteCall and lineUncompleteCall (the switch calls
// back a party that was busy or did not answer; docs/remote-tsp.md).
#include <utility>

#include "tapi_mapping.h"
#include "tsp/provider_internal.h"
#include "tsp/remote_provider.h"

namespace linebridge::tsp {

LONG RemoteProvider::CompleteCall(DRV_REQUESTID request_id, HDRVCALL hd_call,
                                  LPDWORD completion_id, DWORD completion_mode,
                                  DWORD message_id) {
  absl::MutexLock lock(&mu_);
  CallEntry* entry = nullptr;
  if (LONG err = CheckCallLocked(hd_call, request_id, &entry); err != 0) return err;
  // Exactly one LINECALLCOMPLMODE_* bit.
  const std::optional<v1::CompletionMode> mode = FromTapi<v1::CompletionMode>(completion_mode);
  if (!mode.has_value()) return LINEERR_INVALCALLCOMPLMODE;
  // No canned messages are offered (LINEADDRESSCAPS dwNumCompletionMessages 0).
  if (*mode == v1::COMPLETION_MODE_MESSAGE) return LINEERR_INVALMESSAGEID;
  if (completion_id == nullptr) return LINEERR_INVALPOINTER;
  v1::CompleteCallRequest request;
  request.set_call_id(entry->call_id);
  request.set_mode(*mode);
  (void)message_id;  // only meaningful with LINECALLCOMPLMODE_MESSAGE
  pending_[request_id] = Pending{IdOf(hd_call)};
  client_->CompleteCallAsync(
      std::move(request),
      [this, request_id, completion_id](absl::StatusOr<v1::CompleteCallResponse> response) {
        DrainingLock done_lock(this);
        if (!pending_.contains(request_id)) return;  // completed at shutdown
        // The id before the completion: TAPI hands it to the application then.
        if (response.ok()) *completion_id = response->completion_id();
        CompleteLocked(request_id, response.ok() ? 0 : ErrOf(response.status()));
      },
      call_options());
  return static_cast<LONG>(request_id);
}

LONG RemoteProvider::UncompleteCall(DRV_REQUESTID request_id, HDRVLINE hd_line,
                                    DWORD completion_id) {
  absl::MutexLock lock(&mu_);
  OpenLine* open = FindOpenLocked(hd_line);
  if (open == nullptr) return LINEERR_INVALLINEHANDLE;
  if (client_ == nullptr || stopping_ || pending_.contains(request_id)) {
    return LINEERR_OPERATIONFAILED;
  }
  if (completion_id == 0) return LINEERR_INVALCOMPLETIONID;
  v1::UncompleteCallRequest request;
  request.set_line_id(lines_[open->index].line_id);
  request.set_completion_id(completion_id);
  pending_[request_id] = Pending{0};
  Client* client = client_.get();
  SendWhenOpenLocked(IdOf(hd_line), [this, client, request_id,
                                     options = LineCallOptionsLocked(lines_[open->index]),
                                     request = std::move(request)]() mutable {
    client->UncompleteCallAsync(
        std::move(request),
        [this, request_id](absl::StatusOr<v1::UncompleteCallResponse> done) {
          DrainingLock done_lock(this);
          CompleteLocked(request_id, done.ok() ? 0 : ErrOf(done.status()));
        },
        options);
  });
  return static_cast<LONG>(request_id);
}

}  // namespace linebridge::tsp
