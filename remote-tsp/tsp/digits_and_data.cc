// RemoteProvider: digits and call data: lineGenerateDigits, lineMonitorDigits,
// lineSetAppSpecific, lineSetCallData.
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

LONG RemoteProvider::GenerateDigits(HDRVCALL hd_call, DWORD end_to_end_id, DWORD digit_mode,
                                    LPCWSTR digits, DWORD duration) {
  absl::MutexLock lock(&mu_);
  CallEntry* entry = nullptr;
  if (LONG err = CheckCallLocked(hd_call, 0, &entry); err != 0) return err;
  const uint32_t id = IdOf(hd_call);
  auto cancel_running = [&]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    // TAPI: a new request (or NULL digits) cancels the one in progress.
    for (DWORD old : entry->generating) {
      RequestEndedLocked(*entry, id, LINE_GENERATE, LINEGENERATETERM_CANCEL, old);
    }
    entry->generating.clear();
  };
  if (digits == nullptr) {
    cancel_running();
    return 0;
  }
  if ((digit_mode & kGenerateDigitModes) == 0 || (digit_mode & ~kGenerateDigitModes) != 0 ||
      (digit_mode & (digit_mode - 1)) != 0) {
    return LINEERR_INVALDIGITMODE;
  }
  // A mode the line does not generate (LINEDEVCAPS dwGenerateDigitModes: a
  // SIP line has no pulse) is refused here, not cancelled after the server's no.
  if (const OpenLine* open = open_lines_.Find(entry->hd_line);
      open != nullptr && lines_[open->index].info.has_value() &&
      (digit_mode & ToTapiMask<v1::DigitMode>(
                        lines_[open->index].info->caps().generate_digit_modes())) == 0) {
    return LINEERR_INVALDIGITMODE;
  }
  std::string text = Utf16ToUtf8(digits, 256);
  if (text.empty() || text.size() > 64) return LINEERR_INVALDIGITS;
  for (char c : text) {
    const bool ok = (c >= '0' && c <= '9') || c == '*' || c == '#' || (c >= 'A' && c <= 'D') ||
                    c == ',';
    if (!ok) return LINEERR_INVALDIGITS;
  }
  cancel_running();
  entry->generating.push_back(end_to_end_id);
  v1::GenerateDigitsRequest request;
  request.set_call_id(entry->call_id);
  request.set_digits(text);
  request.set_mode(digit_mode == LINEDIGITMODE_PULSE ? v1::DIGIT_MODE_PULSE : v1::DIGIT_MODE_DTMF);
  request.set_duration_ms(std::min<DWORD>(duration, 10000));
  client_->GenerateDigitsAsync(
      std::move(request),
      [this, id, end_to_end_id](absl::StatusOr<v1::Call> call) {
        if (call.ok()) return;  // digits_generated reports the end
        DrainingLock done_lock(this);
        CallEntry* e = calls_.Find(id);
        if (e == nullptr || e->idle) return;
        auto it = std::find(e->generating.begin(), e->generating.end(), end_to_end_id);
        if (it == e->generating.end()) return;
        e->generating.erase(it);
        RequestEndedLocked(*e, id, LINE_GENERATE, LINEGENERATETERM_CANCEL, end_to_end_id);
      },
      call_options());
  return 0;
}

LONG RemoteProvider::MonitorDigits(HDRVCALL hd_call, DWORD digit_modes) {
  absl::MutexLock lock(&mu_);
  CallEntry* entry = nullptr;
  if (LONG err = CheckCallLocked(hd_call, 0, &entry); err != 0) return err;
  if ((digit_modes & ~kMonitorDigitModes) != 0) return LINEERR_INVALDIGITMODE;
  const OpenLine* open = open_lines_.Find(entry->hd_line);
  if (open != nullptr && lines_[open->index].info.has_value()) {
    const DWORD supported =
        ToTapiMask<v1::DigitMode>(lines_[open->index].info->caps().monitor_digit_modes());
    if ((digit_modes & ~supported) != 0) return LINEERR_INVALDIGITMODE;
  }
  v1::MonitorDigitsRequest request;
  request.set_call_id(entry->call_id);
  for (v1::DigitMode m : FromTapiMask<v1::DigitMode>(digit_modes)) request.add_modes(m);
  client_->MonitorDigitsAsync(std::move(request), [](absl::StatusOr<v1::Call>) {},
                              call_options());
  return 0;
}

LONG RemoteProvider::SetAppSpecific(HDRVCALL hd_call, DWORD app_specific) {
  absl::MutexLock lock(&mu_);
  CallEntry* entry = nullptr;
  if (LONG err = CheckCallLocked(hd_call, 0, &entry); err != 0) return err;
  std::string bytes(sizeof app_specific, '\0');
  std::memcpy(bytes.data(), &app_specific, sizeof app_specific);
  // lineGetCallInfo shows it at once; LINE_CALLINFO follows from the server.
  entry->call.mutable_info()->set_app_specific(bytes);
  v1::SetAppSpecificRequest request;
  request.set_call_id(entry->call_id);
  request.set_app_specific(bytes);
  client_->SetAppSpecificAsync(std::move(request), [](absl::StatusOr<v1::Call>) {},
                               call_options());
  return 0;
}

LONG RemoteProvider::SetCallData(DRV_REQUESTID request_id, HDRVCALL hd_call, LPVOID call_data,
                                 DWORD size) {
  absl::MutexLock lock(&mu_);
  CallEntry* entry = nullptr;
  if (LONG err = CheckCallLocked(hd_call, request_id, &entry); err != 0) return err;
  if (call_data == nullptr && size != 0) return LINEERR_INVALPOINTER;
  if (size > 4096) return LINEERR_INVALPARAM;  // docs/api.md: call_data <= 4096 bytes
  pending_[request_id] = Pending{IdOf(hd_call)};
  v1::SetCallDataRequest request;
  request.set_call_id(entry->call_id);
  if (size != 0) request.set_call_data(std::string(static_cast<const char*>(call_data), size));
  client_->SetCallDataAsync(std::move(request), CompleteWithCall(request_id), call_options());
  return static_cast<LONG>(request_id);
}

}  // namespace linebridge::tsp
