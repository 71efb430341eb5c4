// RemoteProvider: consultation transfers and conferences: lineSetupTransfer,
// lineCompleteTransfer, lineSetupConference, lineAddToConference,
// lineRemoveFromConference, linePrepareAddToConference.
#include <algorithm>
#include <cstddef>
#include <cstring>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "tapi_mapping.h"
#include "tsp/provider_internal.h"
#include "tsp/remote_provider.h"

namespace linebridge::tsp {

LONG RemoteProvider::SetupTransfer(DRV_REQUESTID request_id, HDRVCALL hd_call,
                                   HTAPICALL ht_consult_call, LPHDRVCALL hd_consult_call) {
  absl::MutexLock lock(&mu_);
  CallEntry* entry = nullptr;
  if (LONG err = CheckCallLocked(hd_call, request_id, &entry); err != 0) return err;
  if (hd_consult_call == nullptr) return LINEERR_INVALPOINTER;
  if (open_lines_.Find(entry->hd_line) == nullptr) return LINEERR_INVALCALLHANDLE;
  v1::SetupTransferRequest request;
  request.set_call_id(entry->call_id);
  Client* client = client_.get();
  return CreateCallsLocked(
      request_id, entry->hd_line, IdOf(hd_call), {NewCall{ht_consult_call, hd_consult_call}},
      [client, options = call_options(), request = std::move(request)](
          std::string tag, absl::AnyInvocable<void(CreatedCalls)> done) mutable {
        request.set_tag(std::move(tag));
        client->SetupTransferAsync(
            std::move(request),
            [done = std::move(done)](absl::StatusOr<v1::SetupTransferResponse> r) mutable {
              if (!r.ok()) return done(r.status());
              done(std::vector<v1::Call>{r->consultation()});
            },
            options);
      });
}

LONG RemoteProvider::CompleteTransfer(DRV_REQUESTID request_id, HDRVCALL hd_call,
                                      HDRVCALL hd_consult_call, HTAPICALL ht_conf_call,
                                      LPHDRVCALL hd_conf_call, DWORD transfer_mode) {
  absl::MutexLock lock(&mu_);
  CallEntry* entry = nullptr;
  if (LONG err = CheckCallLocked(hd_call, request_id, &entry); err != 0) return err;
  CallEntry* consult = FindCallLocked(hd_consult_call);
  if (consult == nullptr || consult->hd_line != entry->hd_line || consult == entry) {
    return LINEERR_INVALCONSULTCALLHANDLE;
  }
  if (consult->call_id.empty() || consult->idle) return LINEERR_INVALCALLSTATE;
  std::optional<v1::TransferMode> mode = FromTapi<v1::TransferMode>(transfer_mode);
  if (!mode.has_value()) return LINEERR_INVALTRANSFERMODE;
  const bool conference = *mode == v1::TRANSFER_MODE_CONFERENCE;
  if (conference && hd_conf_call == nullptr) return LINEERR_INVALPOINTER;
  const uint32_t hd_line = entry->hd_line;
  if (open_lines_.Find(hd_line) == nullptr) return LINEERR_INVALCALLHANDLE;
  v1::CompleteTransferRequest request;
  request.set_call_id(entry->call_id);
  request.set_consultation_call_id(consult->call_id);
  request.set_mode(*mode);
  Client* client = client_.get();
  if (!conference) {  // creates no call
    pending_[request_id] = Pending{IdOf(hd_call)};
    client->CompleteTransferAsync(
        std::move(request),
        [this, request_id](absl::StatusOr<v1::CompleteTransferResponse> response) {
          DrainingLock done_lock(this);
          CompleteLocked(request_id, response.ok() ? 0 : ErrOf(response.status()));
        },
        outcome_options());  // waits for the target's answer
    return static_cast<LONG>(request_id);
  }
  return CreateCallsLocked(
      request_id, hd_line, IdOf(hd_call), {NewCall{ht_conf_call, hd_conf_call}},
      [client, options = call_options(), request = std::move(request)](
          std::string tag, absl::AnyInvocable<void(CreatedCalls)> done) mutable {
        request.set_tag(std::move(tag));
        client->CompleteTransferAsync(
            std::move(request),
            [done = std::move(done)](absl::StatusOr<v1::CompleteTransferResponse> r) mutable {
              if (!r.ok()) return done(r.status());
              done(std::vector<v1::Call>{r->conference()});
            },
            options);
      });
}

LONG RemoteProvider::SetupConference(DRV_REQUESTID request_id, HDRVCALL hd_call, HDRVLINE,
                                     HTAPICALL ht_conf_call, LPHDRVCALL hd_conf_call,
                                     HTAPICALL ht_consult_call, LPHDRVCALL hd_consult_call) {
  absl::MutexLock lock(&mu_);
  // The server builds a conference around an existing call only (no
  // LINEADDRFEATURE_SETUPCONF: hdCall NULL is not supported).
  if (hd_call == nullptr) return LINEERR_OPERATIONUNAVAIL;
  CallEntry* entry = nullptr;
  if (LONG err = CheckCallLocked(hd_call, request_id, &entry); err != 0) return err;
  if (hd_conf_call == nullptr || hd_consult_call == nullptr) return LINEERR_INVALPOINTER;
  if (open_lines_.Find(entry->hd_line) == nullptr) return LINEERR_INVALCALLHANDLE;
  v1::SetupConferenceRequest request;
  request.set_call_id(entry->call_id);
  Client* client = client_.get();
  // Both new calls carry the tag; the conference call is the one of origin
  // CONFERENCE (BindTaggedCallLocked).
  return CreateCallsLocked(
      request_id, entry->hd_line, IdOf(hd_call),
      {NewCall{ht_conf_call, hd_conf_call}, NewCall{ht_consult_call, hd_consult_call}},
      [client, options = call_options(), request = std::move(request)](
          std::string tag, absl::AnyInvocable<void(CreatedCalls)> done) mutable {
        request.set_tag(std::move(tag));
        client->SetupConferenceAsync(
            std::move(request),
            [done = std::move(done)](absl::StatusOr<v1::SetupConferenceResponse> r) mutable {
              if (!r.ok()) return done(r.status());
              done(std::vector<v1::Call>{r->conference(), r->consultation()});
            },
            options);
      });
}

LONG RemoteProvider::AddToConference(DRV_REQUESTID request_id, HDRVCALL hd_conf_call,
                                     HDRVCALL hd_consult_call) {
  absl::MutexLock lock(&mu_);
  CallEntry* conf = FindCallLocked(hd_conf_call);
  if (conf == nullptr) return LINEERR_INVALCONFCALLHANDLE;
  if (LONG err = CheckCallLocked(hd_conf_call, request_id, &conf); err != 0) return err;
  CallEntry* party = FindCallLocked(hd_consult_call);
  if (party == nullptr || party == conf || party->hd_line != conf->hd_line) {
    return LINEERR_INVALCONSULTCALLHANDLE;
  }
  if (party->call_id.empty() || party->idle) return LINEERR_INVALCALLSTATE;
  pending_[request_id] = Pending{IdOf(hd_conf_call)};
  v1::AddToConferenceRequest request;
  request.set_conference_call_id(conf->call_id);
  request.set_call_id(party->call_id);
  client_->AddToConferenceAsync(std::move(request), CompleteWithCall(request_id),
                                call_options());
  return static_cast<LONG>(request_id);
}

LONG RemoteProvider::RemoveFromConference(DRV_REQUESTID request_id, HDRVCALL hd_call) {
  return CallAction(request_id, hd_call, Action::kRemoveFromConference);
}

LONG RemoteProvider::PrepareAddToConference(DRV_REQUESTID request_id, HDRVCALL hd_conf_call,
                                            HTAPICALL ht_consult_call,
                                            LPHDRVCALL hd_consult_call) {
  absl::MutexLock lock(&mu_);
  CallEntry* conf = FindCallLocked(hd_conf_call);
  if (conf == nullptr) return LINEERR_INVALCONFCALLHANDLE;
  if (LONG err = CheckCallLocked(hd_conf_call, request_id, &conf); err != 0) return err;
  if (hd_consult_call == nullptr) return LINEERR_INVALPOINTER;
  if (conf->call.info().origin() != v1::CALL_ORIGIN_CONFERENCE) {
    return LINEERR_INVALCONFCALLHANDLE;
  }
  v1::PrepareAddToConferenceRequest request;
  request.set_conference_call_id(conf->call_id);
  Client* client = client_.get();
  return CreateCallsLocked(
      request_id, conf->hd_line, IdOf(hd_conf_call), {NewCall{ht_consult_call, hd_consult_call}},
      [client, options = call_options(), request = std::move(request)](
          std::string tag, absl::AnyInvocable<void(CreatedCalls)> done) mutable {
        request.set_tag(std::move(tag));
        client->PrepareAddToConferenceAsync(std::move(request), OneCreatedCall(std::move(done)),
                                            options);
      });
}

}  // namespace linebridge::tsp
