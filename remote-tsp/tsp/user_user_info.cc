// RemoteProvider: lineSendUserUserInfo and lineReleaseUserUserInfo,
// lineSetCallParams and lineSetCallTreatment (what a call carries besides
// its state).
//
// What the far end sends arrives as a LINE_CALLINFO (LINECALLINFOSTATE_
// USERUSERINFO) and sits in LINECALLINFO's UserUserInfo until released.
#include <optional>
#include <string>
#include <utility>

#include "tapi_mapping.h"
#include "tsp/provider_internal.h"
#include "tsp/remote_provider.h"

namespace linebridge::tsp {

LONG RemoteProvider::SendUserUserInfo(DRV_REQUESTID request_id, HDRVCALL hd_call, LPCSTR uui,
                                      DWORD size) {
  absl::MutexLock lock(&mu_);
  CallEntry* entry = nullptr;
  if (LONG err = CheckCallLocked(hd_call, request_id, &entry); err != 0) return err;
  if (uui == nullptr || size == 0) return LINEERR_INVALPOINTER;
  // The line's limit, as LINEDEVCAPS dwUUISendUserUserInfoSize says.
  const OpenLine* open = open_lines_.Find(entry->hd_line);
  if (open == nullptr) return LINEERR_INVALCALLHANDLE;
  const LineEntry& line = lines_[open->index];
  const DWORD max = line.info.has_value() ? line.info->caps().max_user_user_info_size() : 0;
  if (size > max) return max == 0 ? LINEERR_OPERATIONUNAVAIL : LINEERR_USERUSERINFOTOOBIG;
  v1::SendUserUserInfoRequest request;
  request.set_call_id(entry->call_id);
  request.set_user_user_info(std::string(uui, size));
  pending_[request_id] = Pending{IdOf(hd_call)};
  client_->SendUserUserInfoAsync(std::move(request), CompleteWithCall(request_id),
                                 call_options());
  return static_cast<LONG>(request_id);
}

LONG RemoteProvider::ReleaseUserUserInfo(DRV_REQUESTID request_id, HDRVCALL hd_call) {
  absl::MutexLock lock(&mu_);
  CallEntry* entry = nullptr;
  if (LONG err = CheckCallLocked(hd_call, request_id, &entry); err != 0) return err;
  v1::ReleaseUserUserInfoRequest request;
  request.set_call_id(entry->call_id);
  pending_[request_id] = Pending{IdOf(hd_call)};
  client_->ReleaseUserUserInfoAsync(std::move(request), CompleteWithCall(request_id),
                                    call_options());
  return static_cast<LONG>(request_id);
}

LONG RemoteProvider::SetCallParams(DRV_REQUESTID request_id, HDRVCALL hd_call, DWORD bearer_mode,
                                   DWORD min_rate, DWORD max_rate,
                                   const LINEDIALPARAMS* dial_params) {
  absl::MutexLock lock(&mu_);
  CallEntry* entry = nullptr;
  if (LONG err = CheckCallLocked(hd_call, request_id, &entry); err != 0) return err;
  std::optional<v1::BearerMode> bearer = FromTapi<v1::BearerMode>(bearer_mode);
  if (!bearer.has_value()) return LINEERR_INVALBEARERMODE;
  if (max_rate != 0 && min_rate > max_rate) return LINEERR_INVALRATE;
  v1::SetCallParamsRequest request;
  request.set_call_id(entry->call_id);
  request.set_bearer_mode(*bearer);
  request.set_min_rate(min_rate);
  request.set_max_rate(max_rate);
  if (dial_params != nullptr) {
    v1::DialParams* d = request.mutable_dial_params();
    d->set_dial_pause_ms(dial_params->dwDialPause);
    d->set_dial_speed_ms(dial_params->dwDialSpeed);
    d->set_digit_duration_ms(dial_params->dwDigitDuration);
    d->set_wait_for_dialtone_ms(dial_params->dwWaitForDialtone);
  }
  pending_[request_id] = Pending{IdOf(hd_call)};
  client_->SetCallParamsAsync(std::move(request), CompleteWithCall(request_id), call_options());
  return static_cast<LONG>(request_id);
}

LONG RemoteProvider::SetCallTreatment(DRV_REQUESTID request_id, HDRVCALL hd_call,
                                      DWORD treatment) {
  absl::MutexLock lock(&mu_);
  CallEntry* entry = nullptr;
  if (LONG err = CheckCallLocked(hd_call, request_id, &entry); err != 0) return err;
  // LINECALLTREATMENT_SILENCE..MUSIC are 1..4, CALL_TREATMENT_* alike; no
  // provider-specific treatments (0x100 and up) are offered.
  if (treatment < LINECALLTREATMENT_SILENCE || treatment > LINECALLTREATMENT_MUSIC) {
    return LINEERR_INVALPARAM;
  }
  v1::SetCallTreatmentRequest request;
  request.set_call_id(entry->call_id);
  request.set_treatment(static_cast<v1::CallTreatment>(treatment));
  pending_[request_id] = Pending{IdOf(hd_call)};
  client_->SetCallTreatmentAsync(std::move(request), CompleteWithCall(request_id),
                                 call_options());
  return static_cast<LONG>(request_id);
}

}  // namespace linebridge::tsp
