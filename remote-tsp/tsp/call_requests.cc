// RemoteProvider: requests on one call: lineMakeCall, lineAnswer, lineDrop,
// lineHold/Unhold, lineAccept, lineDial, lineRedirect, lineBlindTransfer, and the
// common checks and completions they share.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "tapi_mapping.h"
#include "tsp/provider_internal.h"
#include "tsp/remote_provider.h"
#include "tsp/tsp_log.h"
#include "absl/strings/ascii.h"

namespace linebridge::tsp {

LONG RemoteProvider::MakeCall(DRV_REQUESTID request_id, HDRVLINE hd_line, HTAPICALL ht_call,
                              LPHDRVCALL hd_call, LPCWSTR dest_address, DWORD,
                              const LINECALLPARAMS* params) {
  absl::MutexLock lock(&mu_);
  OpenLine* open = FindOpenLocked(hd_line);
  if (open == nullptr) return LINEERR_INVALLINEHANDLE;
  if (hd_call == nullptr) return LINEERR_INVALPOINTER;
  if (client_ == nullptr || stopping_) return LINEERR_OPERATIONFAILED;
  if (pending_.contains(request_id)) return LINEERR_OPERATIONFAILED;
  const LineEntry& line = lines_[open->index];
  v1::MakeCallRequest request;
  request.set_line_id(line.line_id);
  if (dest_address != nullptr) {
    request.set_destination(Utf16ToUtf8(dest_address, 1024));
    const bool uris = line.info.has_value() && line.info->caps().dials_uris();
    if (LONG err = ScanDestination(request.destination(), uris); err != 0) return err;
  }
  if (params != nullptr) {
    if (params->dwTotalSize < offsetof(LINECALLPARAMS, DialParams)) return LINEERR_STRUCTURETOOSMALL;
    if (params->dwAddressMode == LINEADDRESSMODE_ADDRESSID) {
      const int n = line.info.has_value() ? std::max(1, line.info->addresses_size()) : 1;
      if (params->dwAddressID >= static_cast<DWORD>(n)) return LINEERR_INVALADDRESSID;
      request.set_address_index(params->dwAddressID);
    }
    if (auto media = FromTapi<v1::MediaMode>(params->dwMediaMode)) {
      request.mutable_params()->set_media_mode(*media);
    }
    if (auto bearer = FromTapi<v1::BearerMode>(params->dwBearerMode)) {
      request.mutable_params()->set_bearer_mode(*bearer);
    }
    if (params->dwUserUserInfoSize > 0) {
      // Inside the structure TAPI handed over.
      const uint64_t end = uint64_t{params->dwUserUserInfoOffset} + params->dwUserUserInfoSize;
      if (params->dwUserUserInfoOffset < sizeof(LINECALLPARAMS) || end > params->dwTotalSize) {
        return LINEERR_INVALPARAM;
      }
      std::string uui;
      if (LONG err = UserUserInfoFor(
              line, reinterpret_cast<const char*>(params) + params->dwUserUserInfoOffset,
              params->dwUserUserInfoSize, &uui);
          err != 0) {
        return err;
      }
      request.mutable_params()->set_user_user_info(std::move(uui));
    }
  }
  Client* client = client_.get();
  return CreateCallsLocked(
      request_id, IdOf(hd_line), 0, {NewCall{ht_call, hd_call}},
      [client, options = LineCallOptionsLocked(line), request = std::move(request)](
          std::string tag, absl::AnyInvocable<void(CreatedCalls)> done) mutable {
        request.set_tag(std::move(tag));
        client->MakeCallAsync(std::move(request), OneCreatedCall(std::move(done)), options);
      });
}

void RemoteProvider::SendWhenOpenLocked(uint32_t hd_line, absl::AnyInvocable<void()> send,
                                        absl::AnyInvocable<void()> fail) {
  // The line must be open on the server first (lineOpen opened it in the
  // background). If that open failed (e.g. it timed out), open it again; while
  // an open is in flight, send right after it (it fails on the server if the
  // open failed, and completes with that error).
  OpenLine* open = open_lines_.Find(hd_line);
  if (open != nullptr && !open->open_in_flight && open->applied_privilege == 0) {
    OpenOnServerLocked(hd_line);
  }
  if (open != nullptr && open->open_in_flight) {
    QueueAfterOpenLocked(*open, std::move(send), std::move(fail));
  } else {
    send();
  }
}

LONG RemoteProvider::UserUserInfoFor(const LineEntry& line, LPCSTR uui, DWORD size,
                                     std::string* out) {
  out->clear();
  if (uui == nullptr || size == 0) return 0;
  // LINEDEVCAPS dwUUIAcceptSize/AnswerSize/DropSize/MakeCallSize.
  const DWORD max = line.info.has_value() ? line.info->caps().max_user_user_info_size() : 0;
  if (size > max) return LINEERR_USERUSERINFOTOOBIG;
  out->assign(uui, size);
  return 0;
}

LONG RemoteProvider::CallAction(DRV_REQUESTID request_id, HDRVCALL hd_call, Action action,
                                LPCSTR uui, DWORD uui_size) {
  absl::MutexLock lock(&mu_);
  CallEntry* entry = FindCallLocked(hd_call);
  if (entry == nullptr) return LINEERR_INVALCALLHANDLE;
  if (client_ == nullptr || stopping_) return LINEERR_OPERATIONFAILED;
  if (entry->call_id.empty() || entry->idle) return LINEERR_INVALCALLSTATE;
  if (pending_.contains(request_id)) return LINEERR_OPERATIONFAILED;
  std::string user_user_info;
  if (uui != nullptr && uui_size > 0) {
    const OpenLine* open = open_lines_.Find(entry->hd_line);
    if (open == nullptr) return LINEERR_INVALCALLHANDLE;
    if (LONG err = UserUserInfoFor(lines_[open->index], uui, uui_size, &user_user_info);
        err != 0) {
      return err;
    }
  }
  pending_[request_id] = Pending{IdOf(hd_call)};
  v1::CallActionRequest request;
  request.set_call_id(entry->call_id);
  request.set_user_user_info(std::move(user_user_info));
  auto done = [this, request_id](absl::StatusOr<v1::Call> call) {
    DrainingLock done_lock(this);
    CompleteLocked(request_id, call.ok() ? 0 : ErrOf(call.status()));
  };
  if (action == Action::kAnswer || action == Action::kAccept) {
    // Once this session owns the call on the server (DESIGN.md 12).
    Client* client = client_.get();
    SendWhenOwnerLocked(
        entry->hd_line,
        [client, options = call_options(), action, request = std::move(request),
         done = std::move(done)]() mutable {
          if (action == Action::kAnswer) {
            client->AnswerAsync(std::move(request), std::move(done), options);
          } else {
            client->AcceptAsync(std::move(request), std::move(done), options);
          }
        },
        [this, request_id] {
          DrainingLock fail_lock(this);
          CompleteLocked(request_id, LINEERR_OPERATIONFAILED);
        });
    return static_cast<LONG>(request_id);
  }
  switch (action) {
    case Action::kAnswer: client_->AnswerAsync(std::move(request), std::move(done), call_options()); break;
    case Action::kDrop: client_->DropAsync(std::move(request), std::move(done), call_options()); break;
    case Action::kHold: client_->HoldAsync(std::move(request), std::move(done), call_options()); break;
    case Action::kUnhold: client_->UnholdAsync(std::move(request), std::move(done), call_options()); break;
    case Action::kAccept: client_->AcceptAsync(std::move(request), std::move(done), call_options()); break;
    case Action::kRemoveFromConference:
      client_->RemoveFromConferenceAsync(std::move(request), std::move(done), call_options());
      break;
  }
  return static_cast<LONG>(request_id);
}

LONG RemoteProvider::Answer(DRV_REQUESTID request_id, HDRVCALL hd_call, LPCSTR uui,
                            DWORD uui_size) {
  return CallAction(request_id, hd_call, Action::kAnswer, uui, uui_size);
}

LONG RemoteProvider::Drop(DRV_REQUESTID request_id, HDRVCALL hd_call, LPCSTR uui,
                          DWORD uui_size) {
  return CallAction(request_id, hd_call, Action::kDrop, uui, uui_size);
}

LONG RemoteProvider::Hold(DRV_REQUESTID request_id, HDRVCALL hd_call) {
  return CallAction(request_id, hd_call, Action::kHold);
}

LONG RemoteProvider::Unhold(DRV_REQUESTID request_id, HDRVCALL hd_call) {
  return CallAction(request_id, hd_call, Action::kUnhold);
}

LONG RemoteProvider::CheckCallLocked(HDRVCALL hd_call, DRV_REQUESTID request_id,
                                     CallEntry** entry) {
  *entry = FindCallLocked(hd_call);
  if (*entry == nullptr) return LINEERR_INVALCALLHANDLE;
  if (client_ == nullptr || stopping_) return LINEERR_OPERATIONFAILED;
  if ((*entry)->call_id.empty() || (*entry)->idle) return LINEERR_INVALCALLSTATE;
  if (request_id != 0 && pending_.contains(request_id)) return LINEERR_OPERATIONFAILED;
  return 0;
}

absl::AnyInvocable<void(absl::StatusOr<v1::Call>)> RemoteProvider::CompleteWithCall(
    DRV_REQUESTID request_id) {
  return [this, request_id](absl::StatusOr<v1::Call> call) {
    DrainingLock done_lock(this);
    CompleteLocked(request_id, call.ok() ? 0 : ErrOf(call.status()));
  };
}

bool RemoteProvider::CallDialsUrisLocked(const CallEntry& entry) {
  const OpenLine* open = open_lines_.Find(entry.hd_line);
  if (open == nullptr) return false;
  const LineEntry& line = lines_[open->index];
  return line.info.has_value() && line.info->caps().dials_uris();
}

LONG RemoteProvider::Dial(DRV_REQUESTID request_id, HDRVCALL hd_call, LPCWSTR dest_address) {
  absl::MutexLock lock(&mu_);
  CallEntry* entry = nullptr;
  if (LONG err = CheckCallLocked(hd_call, request_id, &entry); err != 0) return err;
  // TSPI_lineDial has no INVALPOINTER: a missing address is an invalid one.
  if (dest_address == nullptr) return LINEERR_INVALADDRESS;
  v1::DialRequest request;
  request.set_call_id(entry->call_id);
  request.set_destination(Utf16ToUtf8(dest_address, 1024));
  if (LONG err = ScanDestination(request.destination(), CallDialsUrisLocked(*entry)); err != 0) {
    return err;
  }
  pending_[request_id] = Pending{IdOf(hd_call)};
  client_->DialAsync(std::move(request), CompleteWithCall(request_id), call_options());
  return static_cast<LONG>(request_id);
}

LONG RemoteProvider::Accept(DRV_REQUESTID request_id, HDRVCALL hd_call, LPCSTR uui,
                            DWORD uui_size) {
  return CallAction(request_id, hd_call, Action::kAccept, uui, uui_size);
}

LONG RemoteProvider::Redirect(DRV_REQUESTID request_id, HDRVCALL hd_call, LPCWSTR dest_address) {
  return SendCallTo<v1::RedirectRequest>(request_id, hd_call, dest_address,
                                         &Client::RedirectAsync, &RemoteProvider::call_options);
}

LONG RemoteProvider::BlindTransfer(DRV_REQUESTID request_id, HDRVCALL hd_call,
                                   LPCWSTR dest_address) {
  // The reply waits for the target's answer.
  return SendCallTo<v1::BlindTransferRequest>(request_id, hd_call, dest_address,
                                              &Client::BlindTransferAsync,
                                              &RemoteProvider::outcome_options);
}

template <typename Request>
LONG RemoteProvider::SendCallTo(DRV_REQUESTID request_id, HDRVCALL hd_call, LPCWSTR dest_address,
                                void (Client::*rpc)(Request, Callback<v1::Call>,
                                                    const CallOptions&),
                                CallOptions (RemoteProvider::*options)() const) {
  absl::MutexLock lock(&mu_);
  CallEntry* entry = nullptr;
  if (LONG err = CheckCallLocked(hd_call, request_id, &entry); err != 0) return err;
  if (dest_address == nullptr) return LINEERR_INVALADDRESS;
  Request request;
  request.set_call_id(entry->call_id);
  request.set_destination(Utf16ToUtf8(dest_address, 1024));
  if (request.destination().empty() ||
      ScanDestination(request.destination(), CallDialsUrisLocked(*entry)) != 0) {
    return LINEERR_INVALADDRESS;
  }
  pending_[request_id] = Pending{IdOf(hd_call)};
  (client_.get()->*rpc)(std::move(request), CompleteWithCall(request_id), (this->*options)());
  return static_cast<LONG>(request_id);
}

}  // namespace linebridge::tsp
