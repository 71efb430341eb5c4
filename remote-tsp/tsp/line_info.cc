// RemoteProvider: what TAPI reads about lines and addresses: version
// negotiation, LINEDEVCAPS, LINEADDRESSCAPS, LINEDEVSTATUS, LINEADDRESSSTATUS,
// lineGetID.
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

LONG RemoteProvider::NegotiateTSPIVersion(DWORD device_id, DWORD low_version,
                                          DWORD high_version, LPDWORD tspi_version) {
  if (tspi_version == nullptr) return LINEERR_INVALPOINTER;
  if (device_id != kInitializeNegotiation) {
    absl::MutexLock lock(&mu_);
    if (!IndexOfDeviceLocked(device_id).has_value()) return LINEERR_BADDEVICEID;
  }
  if (low_version > high_version || low_version > kTspiVersionHigh ||
      high_version < kTspiVersionLow) {
    return LINEERR_INCOMPATIBLEAPIVERSION;
  }
  *tspi_version = std::min(high_version, kTspiVersionHigh);
  return 0;
}

LONG RemoteProvider::GetDevCaps(DWORD device_id, DWORD tspi_version, DWORD,
                                LPLINEDEVCAPS caps) {
  if (caps == nullptr) return LINEERR_INVALPOINTER;
  if (tspi_version < kTspiVersionLow || tspi_version > kTspiVersionHigh) {
    return LINEERR_INCOMPATIBLEAPIVERSION;
  }
  const DWORD fixed = MinDevCaps(tspi_version);
  if (TotalSizeOf(caps) < fixed) return LINEERR_STRUCTURETOOSMALL;
  absl::MutexLock lock(&mu_);
  std::optional<uint32_t> index = IndexOfDeviceLocked(device_id);
  if (!index.has_value()) return LINEERR_BADDEVICEID;
  const LineEntry& line = lines_[*index];
  const v1::Line info = line.info.value_or(v1::Line());
  const v1::LineCaps& lc = info.caps();
  VarStructWriter w = StartStruct(caps, fixed);
  w.AppendString(offsetof(LINEDEVCAPS, dwProviderInfoSize),
                 offsetof(LINEDEVCAPS, dwProviderInfoOffset),
                 lc.provider_info().empty() ? std::string("linebridge") : lc.provider_info());
  w.AppendString(offsetof(LINEDEVCAPS, dwSwitchInfoSize), offsetof(LINEDEVCAPS, dwSwitchInfoOffset),
                 line.line_id);
  // The server's permanent id is FNV-1a of the permanent line id: computed
  // here too, so it is known before the server answers and identical on
  // every workstation and across restarts.
  LB_SET(w, LINEDEVCAPS, dwPermanentLineID, PermanentLineIdOf(line.server_id, line.line_id));
  w.AppendString(offsetof(LINEDEVCAPS, dwLineNameSize), offsetof(LINEDEVCAPS, dwLineNameOffset),
                 info.name().empty() ? line.line_id : info.name());
  LB_SET(w, LINEDEVCAPS, dwStringFormat, STRINGFORMAT_UNICODE);
  LB_SET(w, LINEDEVCAPS, dwAddressModes, LINEADDRESSMODE_ADDRESSID);
  LB_SET(w, LINEDEVCAPS, dwNumAddresses, std::max(1, info.addresses_size()));
  LB_SET(w, LINEDEVCAPS, dwBearerModes,
         lc.bearer_modes_size() > 0 ? ToTapiMask<v1::BearerMode>(lc.bearer_modes()) : LINEBEARERMODE_VOICE);
  LB_SET(w, LINEDEVCAPS, dwMaxRate, lc.max_data_rate());
  LB_SET(w, LINEDEVCAPS, dwMediaModes,
         lc.media_modes_size() > 0 ? ToTapiMask<v1::MediaMode>(lc.media_modes())
                                   : LINEMEDIAMODE_INTERACTIVEVOICE);
  // Digits: what the line can do and this provider implements; tones and
  // media control are not implemented (0).
  LB_SET(w, LINEDEVCAPS, dwGenerateDigitModes,
         ToTapiMask<v1::DigitMode>(lc.generate_digit_modes()) & kGenerateDigitModes);
  LB_SET(w, LINEDEVCAPS, dwMonitorDigitModes,
         ToTapiMask<v1::DigitMode>(lc.monitor_digit_modes()) & kMonitorDigitModes);
  LB_SET(w, LINEDEVCAPS, dwMaxNumActiveCalls, lc.max_num_active_calls());
  LB_SET(w, LINEDEVCAPS, dwAnswerMode, lc.answer_mode() != 0 ? lc.answer_mode() : LINEANSWERMODE_NONE);
  LB_SET(w, LINEDEVCAPS, dwRingModes, 1);
  // lineClose drops the calls this provider's session is the only owner of
  // (the server's drop-no-owner rule; lineCloseCall drops owned calls too).
  LB_SET(w, LINEDEVCAPS, dwDevCapFlags, LINEDEVCAPFLAGS_CLOSEDROP);
  LB_SET(w, LINEDEVCAPS, dwLineStates,
         LINEDEVSTATE_INSERVICE | LINEDEVSTATE_OUTOFSERVICE | LINEDEVSTATE_MAINTENANCE |
             LINEDEVSTATE_CAPSCHANGE | LINEDEVSTATE_REMOVED);
  LB_SET(w, LINEDEVCAPS, dwLineFeatures, line.info.has_value() ? LINEFEATURE_MAKECALL : 0);
  AppendDeviceClasses(w, offsetof(LINEDEVCAPS, dwDeviceClassesSize),
                      offsetof(LINEDEVCAPS, dwDeviceClassesOffset));
  if (tspi_version >= 0x00030000) {
    LB_SET(w, LINEDEVCAPS, dwAddressTypes, LINEADDRESSTYPE_PHONENUMBER);
  }
  w.Finish();
  return 0;
}

LONG RemoteProvider::GetAddressCaps(DWORD device_id, DWORD address_id, DWORD tspi_version,
                                    DWORD, LPLINEADDRESSCAPS caps) {
  if (caps == nullptr) return LINEERR_INVALPOINTER;
  if (tspi_version < kTspiVersionLow || tspi_version > kTspiVersionHigh) {
    return LINEERR_INCOMPATIBLEAPIVERSION;
  }
  if (TotalSizeOf(caps) < sizeof(LINEADDRESSCAPS)) return LINEERR_STRUCTURETOOSMALL;
  absl::MutexLock lock(&mu_);
  std::optional<uint32_t> index = IndexOfDeviceLocked(device_id);
  if (!index.has_value()) return LINEERR_BADDEVICEID;
  const LineEntry& line = lines_[*index];
  const v1::Line info = line.info.value_or(v1::Line());
  if (address_id >= static_cast<DWORD>(std::max(1, info.addresses_size()))) {
    return LINEERR_INVALADDRESSID;
  }
  const v1::Address address =
      address_id < static_cast<DWORD>(info.addresses_size()) ? info.addresses(address_id)
                                                             : v1::Address();
  const v1::AddressCaps& ac = address.caps();
  VarStructWriter w = StartStruct(caps, sizeof(LINEADDRESSCAPS));
  LB_SET(w, LINEADDRESSCAPS, dwLineDeviceID, device_id);
  w.AppendString(offsetof(LINEADDRESSCAPS, dwAddressSize),
                 offsetof(LINEADDRESSCAPS, dwAddressOffset), address.address());
  LB_SET(w, LINEADDRESSCAPS, dwAddressSharing, LINEADDRESSSHARING_PRIVATE);
  LB_SET(w, LINEADDRESSCAPS, dwCallInfoStates, kReportedCallInfoStates);
  const DWORD party = kPartyIdFlags;
  LB_SET(w, LINEADDRESSCAPS, dwCallerIDFlags, ac.caller_id_supported() ? party : LINECALLPARTYID_UNAVAIL);
  LB_SET(w, LINEADDRESSCAPS, dwCalledIDFlags, ac.called_id_supported() ? party : LINECALLPARTYID_UNAVAIL);
  LB_SET(w, LINEADDRESSCAPS, dwConnectedIDFlags,
         ac.connected_id_supported() ? party : LINECALLPARTYID_UNAVAIL);
  LB_SET(w, LINEADDRESSCAPS, dwRedirectionIDFlags, LINECALLPARTYID_UNAVAIL);
  LB_SET(w, LINEADDRESSCAPS, dwRedirectingIDFlags,
         ac.redirecting_id_supported() ? party : LINECALLPARTYID_UNAVAIL);
  LB_SET(w, LINEADDRESSCAPS, dwCallStates, ToTapiMask<v1::CallState>(ac.call_states()) | LINECALLSTATE_IDLE);
  LB_SET(w, LINEADDRESSCAPS, dwDialToneModes, LINEDIALTONEMODE_UNAVAIL);
  LB_SET(w, LINEADDRESSCAPS, dwBusyModes, LINEBUSYMODE_UNAVAIL);
  LB_SET(w, LINEADDRESSCAPS, dwSpecialInfo, LINESPECIALINFO_UNAVAIL);
  LB_SET(w, LINEADDRESSCAPS, dwDisconnectModes, ToTapiMask<v1::DisconnectMode>(ac.disconnect_modes()));
  LB_SET(w, LINEADDRESSCAPS, dwMaxNumActiveCalls, ac.max_num_active_calls());
  LB_SET(w, LINEADDRESSCAPS, dwMaxNumOnHoldCalls, ac.max_num_on_hold_calls());
  // Transfer and conference as the line can; park, forward, completion: not
  // in this slice (0).
  const DWORD call_features =
      ToTapiMask<v1::CallFeature>(ac.call_features()) & ImplementedCallFeatures();
  if (call_features & LINECALLFEATURE_COMPLETETRANSF) {
    LB_SET(w, LINEADDRESSCAPS, dwTransferModes,
           ToTapiMask<v1::TransferMode>(info.caps().transfer_modes()) &
               (LINETRANSFERMODE_TRANSFER | LINETRANSFERMODE_CONFERENCE));
  }
  if (call_features & (LINECALLFEATURE_SETUPCONF | LINECALLFEATURE_ADDTOCONF)) {
    LB_SET(w, LINEADDRESSCAPS, dwMaxNumConference, ac.max_num_conference());
    LB_SET(w, LINEADDRESSCAPS, dwMaxNumTransConf, ac.max_num_trans_conf());
  }
  const DWORD address_features =
      ToTapiMask<v1::AddressFeature>(ac.address_features()) & ImplementedAddressFeatures();
  if (address_features & LINEADDRFEATURE_FORWARD) {
    LB_SET(w, LINEADDRESSCAPS, dwForwardModes,
           ToTapiMask<v1::ForwardMode>(info.caps().forward_modes()) & ~kSpecificForwardModes);
    LB_SET(w, LINEADDRESSCAPS, dwMaxForwardEntries, ac.max_forward_entries());
    LB_SET(w, LINEADDRESSCAPS, dwMinFwdNumRings, kMinFwdRings);
    LB_SET(w, LINEADDRESSCAPS, dwMaxFwdNumRings, kMaxFwdRings);
  }
  if (call_features & LINECALLFEATURE_PARK) {
    LB_SET(w, LINEADDRESSCAPS, dwParkModes, ToTapiMask<v1::ParkMode>(info.caps().park_modes()));
  }
  LB_SET(w, LINEADDRESSCAPS, dwMaxNumOnHoldPendingCalls, ac.max_num_on_hold_pending_calls());
  LB_SET(w, LINEADDRESSCAPS, dwCallFeatures, ToTapiMask<v1::CallFeature>(ac.call_features()) & ImplementedCallFeatures());
  LB_SET(w, LINEADDRESSCAPS, dwAddressFeatures,
         ToTapiMask<v1::AddressFeature>(ac.address_features()) & ImplementedAddressFeatures());
  AppendDeviceClasses(w, offsetof(LINEADDRESSCAPS, dwDeviceClassesSize),
                      offsetof(LINEADDRESSCAPS, dwDeviceClassesOffset));
  LB_SET(w, LINEADDRESSCAPS, dwConnectedModes, LINECONNECTEDMODE_ACTIVE);
  LB_SET(w, LINEADDRESSCAPS, dwOfferingModes, LINEOFFERINGMODE_ACTIVE);
  LB_SET(w, LINEADDRESSCAPS, dwAvailableMediaModes,
         info.caps().media_modes_size() > 0 ? ToTapiMask<v1::MediaMode>(info.caps().media_modes())
                                            : LINEMEDIAMODE_INTERACTIVEVOICE);
  w.Finish();
  return 0;
}

LONG RemoteProvider::GetLineDevStatus(HDRVLINE hd_line, LPLINEDEVSTATUS status) {
  absl::MutexLock lock(&mu_);
  OpenLine* open = FindOpenLocked(hd_line);
  if (open == nullptr) return LINEERR_INVALLINEHANDLE;
  if (status == nullptr) return LINEERR_INVALPOINTER;
  if (TotalSizeOf(status) < sizeof(LINEDEVSTATUS)) return LINEERR_STRUCTURETOOSMALL;
  const LineEntry& line = lines_[open->index];
  const v1::LineStatus s = line.info.has_value() ? line.info->status() : v1::LineStatus();
  const bool in_service = line.present && server_connected_[line.server] &&
                          s.state() == v1::LINE_STATE_IN_SERVICE;
  VarStructWriter w = StartStruct(status, sizeof(LINEDEVSTATUS));
  LB_SET(w, LINEDEVSTATUS, dwNumOpens, 1);
  LB_SET(w, LINEDEVSTATUS, dwOpenMediaModes, open->applied_privilege != 0 ? open->applied_media : 0);
  LB_SET(w, LINEDEVSTATUS, dwNumActiveCalls, s.num_active_calls());
  LB_SET(w, LINEDEVSTATUS, dwNumOnHoldCalls, s.num_on_hold_calls());
  LB_SET(w, LINEDEVSTATUS, dwNumOnHoldPendCalls, s.num_on_hold_pending_calls());
  LB_SET(w, LINEDEVSTATUS, dwLineFeatures, in_service ? LINEFEATURE_MAKECALL : 0);
  LB_SET(w, LINEDEVSTATUS, dwRoamMode, LINEROAMMODE_UNAVAIL);
  LB_SET(w, LINEDEVSTATUS, dwDevStatusFlags,
         (in_service ? LINEDEVSTATUSFLAGS_INSERVICE : 0) |
             (server_connected_[line.server] && s.connected() ? LINEDEVSTATUSFLAGS_CONNECTED : 0));
  LB_SET(w, LINEDEVSTATUS, dwAvailableMediaModes,
         line.info.has_value() ? ToTapiMask<v1::MediaMode>(line.info->caps().media_modes()) : 0);
  w.Finish();
  return 0;
}

LONG RemoteProvider::GetAddressStatus(HDRVLINE hd_line, DWORD address_id,
                                      LPLINEADDRESSSTATUS status) {
  absl::MutexLock lock(&mu_);
  OpenLine* open = FindOpenLocked(hd_line);
  if (open == nullptr) return LINEERR_INVALLINEHANDLE;
  const LineEntry& line = lines_[open->index];
  const int num_addresses = line.info.has_value() ? std::max(1, line.info->addresses_size()) : 1;
  if (address_id >= static_cast<DWORD>(num_addresses)) return LINEERR_INVALADDRESSID;
  if (status == nullptr) return LINEERR_INVALPOINTER;
  if (TotalSizeOf(status) < sizeof(LINEADDRESSSTATUS)) return LINEERR_STRUCTURETOOSMALL;
  const v1::LineStatus s = line.info.has_value() ? line.info->status() : v1::LineStatus();
  const bool in_service = line.present && server_connected_[line.server] &&
                          s.state() == v1::LINE_STATE_IN_SERVICE;
  VarStructWriter w = StartStruct(status, sizeof(LINEADDRESSSTATUS));
  LB_SET(w, LINEADDRESSSTATUS, dwNumInUse, s.num_active_calls() + s.num_on_hold_calls() > 0 ? 1 : 0);
  LB_SET(w, LINEADDRESSSTATUS, dwNumActiveCalls, s.num_active_calls());
  LB_SET(w, LINEADDRESSSTATUS, dwNumOnHoldCalls, s.num_on_hold_calls());
  LB_SET(w, LINEADDRESSSTATUS, dwNumOnHoldPendCalls, s.num_on_hold_pending_calls());
  LB_SET(w, LINEADDRESSSTATUS, dwAddressFeatures, in_service ? ImplementedAddressFeatures() : 0);
  // Forwarding in effect: LINEFORWARD entries, then their destinations.
  LB_SET(w, LINEADDRESSSTATUS, dwForwardNumEntries, s.forwarding_size());
  if (s.forwarding_size() > 0) {
    const DWORD stride = ForwardEntrySize(open->version);
    const uint32_t start = w.needed();
    std::vector<unsigned char> blob(stride * s.forwarding_size(), 0);
    for (int i = 0; i < s.forwarding_size(); ++i) {
      const v1::ForwardRule& rule = s.forwarding(i);
      std::u16string dest = Utf8ToUtf16(rule.destination());
      dest.push_back(u'\0');
      const DWORD entry[6] = {ToTapi(rule.mode()), 0, 0, 0,
                              static_cast<DWORD>(dest.size() * sizeof(char16_t)),
                              static_cast<DWORD>(start + blob.size())};
      std::memcpy(blob.data() + i * stride, entry, sizeof entry);
      const auto* bytes = reinterpret_cast<const unsigned char*>(dest.data());
      blob.insert(blob.end(), bytes, bytes + dest.size() * sizeof(char16_t));
    }
    w.AppendBytes(offsetof(LINEADDRESSSTATUS, dwForwardSize),
                  offsetof(LINEADDRESSSTATUS, dwForwardOffset), blob.data(), blob.size());
  }
  w.Finish();
  return 0;
}

LONG RemoteProvider::GetNumAddressIDs(HDRVLINE hd_line, LPDWORD num_address_ids) {
  absl::MutexLock lock(&mu_);
  OpenLine* open = FindOpenLocked(hd_line);
  if (open == nullptr) return LINEERR_INVALLINEHANDLE;
  if (num_address_ids == nullptr) return LINEERR_INVALPOINTER;
  const LineEntry& line = lines_[open->index];
  *num_address_ids = line.info.has_value() ? std::max(1, line.info->addresses_size()) : 1;
  return 0;
}

LONG RemoteProvider::GetID(HDRVLINE hd_line, DWORD address_id, HDRVCALL hd_call, DWORD select,
                           LPVARSTRING device_id, LPCWSTR device_class) {
  absl::MutexLock lock(&mu_);
  uint32_t index = 0;
  if (select == LINECALLSELECT_CALL) {
    CallEntry* call = FindCallLocked(hd_call);
    if (call == nullptr) return LINEERR_INVALCALLHANDLE;
    OpenLine* open = open_lines_.Find(call->hd_line);
    if (open == nullptr) return LINEERR_INVALCALLHANDLE;
    index = open->index;
  } else if (select == LINECALLSELECT_LINE || select == LINECALLSELECT_ADDRESS) {
    OpenLine* open = FindOpenLocked(hd_line);
    if (open == nullptr) return LINEERR_INVALLINEHANDLE;
    index = open->index;
    if (select == LINECALLSELECT_ADDRESS) {
      const LineEntry& line = lines_[index];
      const int n = line.info.has_value() ? std::max(1, line.info->addresses_size()) : 1;
      if (address_id >= static_cast<DWORD>(n)) return LINEERR_INVALADDRESSID;
    }
  } else {
    return LINEERR_INVALPARAM;
  }
  if (device_id == nullptr || device_class == nullptr) return LINEERR_INVALPOINTER;
  if (absl::AsciiStrToLower(Utf16ToUtf8(device_class, 256)) != "tapi/line") {
    return LINEERR_INVALDEVICECLASS;
  }
  if (TotalSizeOf(device_id) < sizeof(VARSTRING)) return LINEERR_STRUCTURETOOSMALL;
  const DWORD id = lines_[index].device_id;
  VarStructWriter w = StartStruct(device_id, sizeof(VARSTRING));
  LB_SET(w, VARSTRING, dwStringFormat, STRINGFORMAT_BINARY);
  w.AppendBytes(offsetof(VARSTRING, dwStringSize), offsetof(VARSTRING, dwStringOffset), &id,
                sizeof id);
  w.Finish();
  return 0;
}

}  // namespace linebridge::tsp
