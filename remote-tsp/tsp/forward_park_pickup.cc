// RemoteProvider: address features: lineForward, linePark, lineUnpark,
// linePickup.
#include <algorithm>
#include <cstddef>
#include <cstring>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "tapi_mapping.h"
#include "tsp/provider_internal.h"
#include "tsp/remote_provider.h"
#include "absl/strings/ascii.h"

namespace linebridge::tsp {

LONG RemoteProvider::Forward(DRV_REQUESTID request_id, HDRVLINE hd_line, DWORD all_addresses,
                             DWORD address_id, const LINEFORWARDLIST* forward_list,
                             DWORD num_rings_no_answer, LPHDRVCALL hd_consult_call) {
  absl::MutexLock lock(&mu_);
  OpenLine* open = FindOpenLocked(hd_line);
  if (open == nullptr) return LINEERR_INVALLINEHANDLE;
  if (client_ == nullptr || stopping_ || pending_.contains(request_id)) {
    return LINEERR_OPERATIONFAILED;
  }
  const LineEntry& line = lines_[open->index];
  const v1::Line info = line.info.value_or(v1::Line());
  const int num_addresses = std::max(1, info.addresses_size());
  if (!all_addresses && address_id >= static_cast<DWORD>(num_addresses)) {
    return LINEERR_INVALADDRESSID;
  }
  const v1::AddressCaps caps =
      info.addresses_size() > 0 ? info.addresses(0).caps() : v1::AddressCaps();
  if ((ToTapiMask<v1::AddressFeature>(caps.address_features()) & LINEADDRFEATURE_FORWARD) == 0) {
    return LINEERR_OPERATIONUNAVAIL;
  }
  const DWORD modes =
      ToTapiMask<v1::ForwardMode>(info.caps().forward_modes()) & ~kSpecificForwardModes;
  v1::SetLineForwardingRequest request;
  request.set_line_id(line.line_id);
  if (forward_list != nullptr) {  // NULL cancels forwarding
    const DWORD total = forward_list->dwTotalSize;
    const DWORD header = offsetof(LINEFORWARDLIST, ForwardList);
    if (total < header) return LINEERR_STRUCTURETOOSMALL;
    const DWORD stride = ForwardEntrySize(open->version);
    const DWORD n = forward_list->dwNumEntries;
    if (n > caps.max_forward_entries() ||
        static_cast<uint64_t>(header) + static_cast<uint64_t>(n) * stride > total) {
      return LINEERR_INVALPARAM;
    }
    const auto* base = reinterpret_cast<const unsigned char*>(forward_list);
    const DWORD rings = std::clamp(num_rings_no_answer, kMinFwdRings, kMaxFwdRings);
    for (DWORD i = 0; i < n; ++i) {
      LINEFORWARD entry{};
      std::memcpy(&entry, base + header + i * stride, std::min<DWORD>(stride, sizeof entry));
      const DWORD mode = entry.dwForwardMode;
      // Exactly one mode bit, one this line can do.
      if (mode == 0 || (mode & (mode - 1)) != 0 || (mode & modes) == 0) {
        return LINEERR_INVALPARAM;
      }
      if (entry.dwDestAddressSize == 0 || entry.dwDestAddressSize % 2 != 0 ||
          static_cast<uint64_t>(entry.dwDestAddressOffset) + entry.dwDestAddressSize > total ||
          entry.dwDestAddressOffset < header + n * stride) {
        return LINEERR_INVALADDRESS;
      }
      std::u16string dest(entry.dwDestAddressSize / 2, u'\0');
      std::memcpy(dest.data(), base + entry.dwDestAddressOffset, entry.dwDestAddressSize);
      const std::string destination = Utf16ToUtf8(dest.c_str(), dest.size());
      if (destination.empty()) return LINEERR_INVALADDRESS;
      v1::ForwardRule* rule = request.add_rules();
      rule->set_mode(*FromTapi<v1::ForwardMode>(mode));
      rule->set_destination(destination);
      if (mode & kNoAnswerForwardModes) rule->set_num_rings(rings);
    }
  }
  // No consultation call is ever created: the location stays NULL.
  if (hd_consult_call != nullptr) *hd_consult_call = nullptr;
  pending_[request_id] = Pending{0};
  Client* client = client_.get();
  SendWhenOpenLocked(IdOf(hd_line), [this, client, request_id,
                                     options = LineCallOptionsLocked(lines_[open->index]),
                                     request = std::move(request)]() mutable {
    client->SetLineForwardingAsync(
        std::move(request),
        [this, request_id](absl::StatusOr<v1::Line> updated) {
          DrainingLock done_lock(this);
          CompleteLocked(request_id, updated.ok() ? 0 : ErrOf(updated.status()));
        },
        options);
  });
  return static_cast<LONG>(request_id);
}

// ============================================================================
// Park, unpark, pickup
// ============================================================================

LONG RemoteProvider::Park(DRV_REQUESTID request_id, HDRVCALL hd_call, DWORD park_mode,
                          LPCWSTR dir_address, LPVARSTRING non_dir_address) {
  absl::MutexLock lock(&mu_);
  CallEntry* entry = nullptr;
  if (LONG err = CheckCallLocked(hd_call, request_id, &entry); err != 0) return err;
  std::optional<v1::ParkMode> mode = FromTapi<v1::ParkMode>(park_mode);
  if (!mode.has_value()) return LINEERR_INVALPARKMODE;
  v1::ParkRequest request;
  request.set_call_id(entry->call_id);
  request.set_mode(*mode);
  if (*mode == v1::PARK_MODE_DIRECTED) {
    if (dir_address == nullptr) return LINEERR_INVALADDRESS;
    request.set_destination(Utf16ToUtf8(dir_address, 1024));
    if (request.destination().empty()) return LINEERR_INVALADDRESS;
    non_dir_address = nullptr;  // not ours to write for a directed park
  } else {
    if (non_dir_address == nullptr) return LINEERR_INVALPOINTER;
    if (TotalSizeOf(non_dir_address) < sizeof(VARSTRING)) return LINEERR_STRUCTURETOOSMALL;
  }
  pending_[request_id] = Pending{IdOf(hd_call)};
  client_->ParkAsync(
      std::move(request),
      [this, request_id, non_dir_address](absl::StatusOr<v1::ParkResponse> response) {
        DrainingLock done_lock(this);
        if (!pending_.contains(request_id)) return;  // completed at shutdown
        if (response.ok() && non_dir_address != nullptr) {
          // Where the call was parked, before the completion (TAPI reads it then).
          VarStructWriter w = StartStruct(non_dir_address, sizeof(VARSTRING));
          LB_SET(w, VARSTRING, dwStringFormat, STRINGFORMAT_UNICODE);
          w.AppendString(offsetof(VARSTRING, dwStringSize), offsetof(VARSTRING, dwStringOffset),
                         response->park_address());
          w.Finish();
        }
        CompleteLocked(request_id, response.ok() ? 0 : ErrOf(response.status()));
      },
      call_options());
  return static_cast<LONG>(request_id);
}

LONG RemoteProvider::Unpark(DRV_REQUESTID request_id, HDRVLINE hd_line, DWORD address_id,
                            HTAPICALL ht_call, LPHDRVCALL hd_call, LPCWSTR dest_address) {
  absl::MutexLock lock(&mu_);
  OpenLine* open = FindOpenLocked(hd_line);
  if (open == nullptr) return LINEERR_INVALLINEHANDLE;
  if (client_ == nullptr || stopping_ || pending_.contains(request_id)) {
    return LINEERR_OPERATIONFAILED;
  }
  const LineEntry& line = lines_[open->index];
  const int n = line.info.has_value() ? std::max(1, line.info->addresses_size()) : 1;
  if (address_id >= static_cast<DWORD>(n)) return LINEERR_INVALADDRESSID;
  if (hd_call == nullptr) return LINEERR_INVALPOINTER;
  if (dest_address == nullptr) return LINEERR_INVALADDRESS;
  v1::UnparkRequest request;
  request.set_line_id(line.line_id);
  request.set_address_index(address_id);
  request.set_park_address(Utf16ToUtf8(dest_address, 1024));
  if (request.park_address().empty()) return LINEERR_INVALADDRESS;
  Client* client = client_.get();
  return CreateCallsLocked(
      request_id, IdOf(hd_line), 0, {NewCall{ht_call, hd_call}},
      [client, options = LineCallOptionsLocked(line), request = std::move(request)](
          std::string tag, absl::AnyInvocable<void(CreatedCalls)> done) mutable {
        request.set_tag(std::move(tag));
        client->UnparkAsync(std::move(request), OneCreatedCall(std::move(done)), options);
      });
}

LONG RemoteProvider::Pickup(DRV_REQUESTID request_id, HDRVLINE hd_line, DWORD address_id,
                            HTAPICALL ht_call, LPHDRVCALL hd_call, LPCWSTR dest_address,
                            LPCWSTR group_id) {
  absl::MutexLock lock(&mu_);
  OpenLine* open = FindOpenLocked(hd_line);
  if (open == nullptr) return LINEERR_INVALLINEHANDLE;
  if (client_ == nullptr || stopping_ || pending_.contains(request_id)) {
    return LINEERR_OPERATIONFAILED;
  }
  const LineEntry& line = lines_[open->index];
  const int n = line.info.has_value() ? std::max(1, line.info->addresses_size()) : 1;
  if (address_id >= static_cast<DWORD>(n)) return LINEERR_INVALADDRESSID;
  if (hd_call == nullptr) return LINEERR_INVALPOINTER;
  v1::PickupRequest request;
  request.set_line_id(line.line_id);
  request.set_address_index(address_id);
  if (dest_address != nullptr) request.set_destination(Utf16ToUtf8(dest_address, 1024));
  if (group_id != nullptr) request.set_group_id(Utf16ToUtf8(group_id, 256));
  // A directed pickup names the ringing address; otherwise the group.
  if (request.destination().empty() && request.group_id().empty()) {
    return group_id == nullptr ? LINEERR_INVALADDRESS : LINEERR_INVALGROUPID;
  }
  Client* client = client_.get();
  return CreateCallsLocked(
      request_id, IdOf(hd_line), 0, {NewCall{ht_call, hd_call}},
      [client, options = LineCallOptionsLocked(line), request = std::move(request)](
          std::string tag, absl::AnyInvocable<void(CreatedCalls)> done) mutable {
        request.set_tag(std::move(tag));
        client->PickupAsync(std::move(request), OneCreatedCall(std::move(done)), options);
      });
}

}  // namespace linebridge::tsp
