// The TAPI structure writers: what lineGetDevCaps, lineGetAddressCaps,
// lineGetLineDevStatus, lineGetAddressStatus, lineGetID, lineGetCallInfo and
// lineGetCallStatus answer, from a snapshot of the provider's state.
#include "tsp/tapi_structs.h"

#include <algorithm>
#include <cstddef>
#include <cstring>
#include <vector>

#include "absl/strings/ascii.h"
#include "tapi_mapping.h"
#include "tsp/provider_internal.h"
#include "tsp/var_struct.h"

namespace linebridge::tsp {
namespace {

// The fixed part of LINEDEVCAPS / LINECALLINFO for a negotiated version.
DWORD MinDevCaps(DWORD version) {
  if (version >= 0x00030000) return sizeof(LINEDEVCAPS);
  if (version >= 0x00020002) return offsetof(LINEDEVCAPS, dwAddressTypes);
  return offsetof(LINEDEVCAPS, PermanentLineGuid);
}
DWORD MinCallInfo(DWORD version) {
  return version >= 0x00030000 ? sizeof(LINECALLINFO)
                               : offsetof(LINECALLINFO, dwCallerIDAddressType);
}

// The LINECALLINFOSTATE_* bits this provider ever reports (LINEADDRESSCAPS).
constexpr DWORD kReportedCallInfoStates =
    LINECALLINFOSTATE_OTHER | LINECALLINFOSTATE_CALLERID | LINECALLINFOSTATE_CALLEDID |
    LINECALLINFOSTATE_CONNECTEDID | LINECALLINFOSTATE_REDIRECTIONID |
    LINECALLINFOSTATE_REDIRECTINGID | LINECALLINFOSTATE_USERUSERINFO |
    LINECALLINFOSTATE_RELATEDCALLID | LINECALLINFOSTATE_MEDIAMODE |
    LINECALLINFOSTATE_BEARERMODE | LINECALLINFOSTATE_APPSPECIFIC | LINECALLINFOSTATE_CALLDATA |
    LINECALLINFOSTATE_ORIGIN | LINECALLINFOSTATE_REASON | LINECALLINFOSTATE_TRUNK |
    LINECALLINFOSTATE_RATE | LINECALLINFOSTATE_DIALPARAMS | LINECALLINFOSTATE_TREATMENT |
    LINECALLINFOSTATE_MONITORMODES | LINECALLINFOSTATE_COMPLETIONID;
// The party id flags an address that reports a party can give.
constexpr DWORD kPartyIdFlags = LINECALLPARTYID_BLOCKED | LINECALLPARTYID_NAME |
                                LINECALLPARTYID_ADDRESS | LINECALLPARTYID_UNKNOWN |
                                LINECALLPARTYID_UNAVAIL;

// The LINECALLPARTYID_* flags of a party.
DWORD PartyFlags(const v1::PartyId& p) {
  if (p.blocked()) return LINECALLPARTYID_BLOCKED;
  if (!p.available()) return LINECALLPARTYID_UNAVAIL;
  DWORD flags = 0;
  if (!p.number().empty()) flags |= LINECALLPARTYID_ADDRESS;
  if (!p.name().empty()) flags |= LINECALLPARTYID_NAME;
  return flags == 0 ? static_cast<DWORD>(LINECALLPARTYID_UNKNOWN) : flags;
}

// "tapi/line\0\0": the device classes lineGetID answers.
void AppendDeviceClasses(VarStructWriter& w, size_t size_field, size_t offset_field) {
  static constexpr char16_t kClasses[] = u"tapi/line\0";
  w.AppendBytes(size_field, offset_field, kClasses, sizeof kClasses);
}

// The line's info, or an empty one before the server has answered.
const v1::Line& InfoOf(const LineSnapshot& line) {
  return line.info.has_value() ? *line.info : v1::Line::default_instance();
}

// The addresses TAPI sees: the server's, but at least one (address 0).
DWORD NumAddressesOf(const v1::Line& info) {
  return static_cast<DWORD>(std::max(1, info.addresses_size()));
}

// Address 0 of the line offers lineSendUserUserInfo.
bool CanSendUserUserInfo(const v1::Line& info) {
  if (info.addresses_size() == 0) return false;
  const auto& features = info.addresses(0).caps().call_features();
  return std::find(features.begin(), features.end(), v1::CALL_FEATURE_SENDUSERUSER) !=
         features.end();
}

// LINEADDRESSCAPS CallTreatmentList: one LINECALLTREATMENTENTRY (dwCallTreatmentID,
// dwCallTreatmentNameSize, dwCallTreatmentNameOffset) per treatment, then the
// names (UTF-16, NUL-terminated), as one block.
void AppendCallTreatments(VarStructWriter& w, const v1::AddressCaps& ac) {
  static constexpr const char16_t* kNames[] = {u"", u"Silence", u"Ringback", u"Busy", u"Music"};
  std::vector<v1::CallTreatment> treatments;
  for (int t : ac.call_treatments()) {
    if (t >= v1::CALL_TREATMENT_SILENCE && t <= v1::CALL_TREATMENT_MUSIC) {
      treatments.push_back(static_cast<v1::CallTreatment>(t));
    }
  }
  if (treatments.empty()) return;
  const size_t entries = treatments.size() * 3 * sizeof(DWORD);
  std::vector<unsigned char> block(entries);
  const DWORD start = w.needed();  // where the block goes, if it fits
  auto put = [&](size_t at, DWORD v) { std::memcpy(block.data() + at, &v, sizeof v); };
  for (size_t i = 0; i < treatments.size(); ++i) {
    const std::u16string name(kNames[treatments[i]]);
    const size_t bytes = (name.size() + 1) * sizeof(char16_t);
    put(i * 12, static_cast<DWORD>(treatments[i]));
    put(i * 12 + 4, static_cast<DWORD>(bytes));
    put(i * 12 + 8, static_cast<DWORD>(start + block.size()));
    const auto* raw = reinterpret_cast<const unsigned char*>(name.c_str());
    block.insert(block.end(), raw, raw + bytes);
  }
  LB_SET(w, LINEADDRESSCAPS, dwNumCallTreatments, treatments.size());
  // The list's size covers the entries; the names follow them in the block.
  w.AppendBytes(offsetof(LINEADDRESSCAPS, dwCallTreatmentListSize),
                offsetof(LINEADDRESSCAPS, dwCallTreatmentListOffset), block.data(), block.size());
  w.SetDword(offsetof(LINEADDRESSCAPS, dwCallTreatmentListSize),
             w.used() >= start + block.size() ? static_cast<uint32_t>(entries) : 0);
}

// The line can make calls now: listed by its server, whose stream is up, and
// in service there.
bool InService(const LineSnapshot& line) {
  return line.present && line.server_connected &&
         InfoOf(line).status().state() == v1::LINE_STATE_IN_SERVICE;
}

// LINETONEMODE_* of a tone kind.
DWORD ToneModeOf(int kind) {
  switch (kind) {
    case v1::TONE_KIND_BEEP: return LINETONEMODE_BEEP;
    case v1::TONE_KIND_BILLING: return LINETONEMODE_BILLING;
    case v1::TONE_KIND_BUSY: return LINETONEMODE_BUSY;
    case v1::TONE_KIND_RINGBACK: return LINETONEMODE_RINGBACK;
    case v1::TONE_KIND_CUSTOM: return LINETONEMODE_CUSTOM;
    default: return 0;
  }
}

}  // namespace

DWORD GenerateToneModesOf(const v1::LineCaps& caps) {
  DWORD modes = 0;
  for (int k : caps.generate_tone_modes()) modes |= ToneModeOf(k);
  return modes;
}

DWORD ImplementedCallFeatures() {
  return LINECALLFEATURE_ANSWER | LINECALLFEATURE_DROP | LINECALLFEATURE_HOLD |
         LINECALLFEATURE_UNHOLD | LINECALLFEATURE_ACCEPT | LINECALLFEATURE_DIAL |
         LINECALLFEATURE_REDIRECT | LINECALLFEATURE_BLINDTRANSFER |
         LINECALLFEATURE_SETUPTRANSFER | LINECALLFEATURE_COMPLETETRANSF |
         LINECALLFEATURE_SETUPCONF | LINECALLFEATURE_ADDTOCONF | LINECALLFEATURE_REMOVEFROMCONF |
         LINECALLFEATURE_GENERATEDIGITS | LINECALLFEATURE_MONITORDIGITS |
         LINECALLFEATURE_SETCALLDATA | LINECALLFEATURE_PARK | LINECALLFEATURE_PREPAREADDCONF |
         LINECALLFEATURE_SWAPHOLD | LINECALLFEATURE_SENDUSERUSER |
         LINECALLFEATURE_RELEASEUSERUSERINFO | LINECALLFEATURE_SETCALLPARAMS |
         LINECALLFEATURE_SETTREATMENT | LINECALLFEATURE_GENERATETONE |
         LINECALLFEATURE_GATHERDIGITS | LINECALLFEATURE_MONITORTONES |
         LINECALLFEATURE_MONITORMEDIA | LINECALLFEATURE_COMPLETECALL;
}
DWORD ImplementedAddressFeatures() {
  return LINEADDRFEATURE_MAKECALL | LINEADDRFEATURE_PICKUP | LINEADDRFEATURE_PICKUPDIRECT |
         LINEADDRFEATURE_PICKUPGROUP | LINEADDRFEATURE_UNPARK | LINEADDRFEATURE_FORWARD |
         LINEADDRFEATURE_FORWARDFWD | LINEADDRFEATURE_UNCOMPLETECALL;
}

// ---- lines ----

LONG CheckDevCaps(DWORD version, const LINEDEVCAPS* caps) {
  if (caps == nullptr) return LINEERR_INVALPOINTER;
  if (TotalSizeOf(caps) < MinDevCaps(version)) return LINEERR_STRUCTURETOOSMALL;
  return 0;
}

LONG WriteLineDevCaps(const LineSnapshot& line, DWORD version, LPLINEDEVCAPS caps) {
  if (LONG err = CheckDevCaps(version, caps); err != 0) return err;
  const v1::Line& info = InfoOf(line);
  const v1::LineCaps& lc = info.caps();
  VarStructWriter w = StartStruct(caps, MinDevCaps(version));
  w.AppendString(offsetof(LINEDEVCAPS, dwProviderInfoSize),
                 offsetof(LINEDEVCAPS, dwProviderInfoOffset),
                 lc.provider_info().empty() ? std::string("linebridge") : lc.provider_info());
  w.AppendString(offsetof(LINEDEVCAPS, dwSwitchInfoSize), offsetof(LINEDEVCAPS, dwSwitchInfoOffset),
                 line.line_id);
  // FNV-1a of the permanent line id (the provider computes it): known before
  // the server answers and identical on every workstation and across restarts.
  LB_SET(w, LINEDEVCAPS, dwPermanentLineID, line.permanent_line_id);
  w.AppendString(offsetof(LINEDEVCAPS, dwLineNameSize), offsetof(LINEDEVCAPS, dwLineNameOffset),
                 info.name().empty() ? line.line_id : info.name());
  LB_SET(w, LINEDEVCAPS, dwStringFormat, STRINGFORMAT_UNICODE);
  LB_SET(w, LINEDEVCAPS, dwAddressModes, LINEADDRESSMODE_ADDRESSID);
  LB_SET(w, LINEDEVCAPS, dwNumAddresses, NumAddressesOf(info));
  LB_SET(w, LINEDEVCAPS, dwBearerModes,
         lc.bearer_modes_size() > 0 ? ToTapiMask<v1::BearerMode>(lc.bearer_modes())
                                    : LINEBEARERMODE_VOICE);
  LB_SET(w, LINEDEVCAPS, dwMaxRate, lc.max_data_rate());
  LB_SET(w, LINEDEVCAPS, dwMediaModes,
         lc.media_modes_size() > 0 ? ToTapiMask<v1::MediaMode>(lc.media_modes())
                                   : LINEMEDIAMODE_INTERACTIVEVOICE);
  // Digits: what the line can do and this provider implements; tones and
  // gathering from the server's call media (0 where the line has no audio);
  // media control is not implemented (0).
  LB_SET(w, LINEDEVCAPS, dwGenerateDigitModes,
         ToTapiMask<v1::DigitMode>(lc.generate_digit_modes()) & kGenerateDigitModes);
  LB_SET(w, LINEDEVCAPS, dwMonitorDigitModes,
         ToTapiMask<v1::DigitMode>(lc.monitor_digit_modes()) & kMonitorDigitModes);
  LB_SET(w, LINEDEVCAPS, dwGenerateToneModes, GenerateToneModesOf(lc));
  LB_SET(w, LINEDEVCAPS, dwGenerateToneMaxNumFreq, lc.generate_tone_max_num_freq());
  LB_SET(w, LINEDEVCAPS, dwMonitorToneMaxNumFreq, lc.monitor_tone_max_num_freq());
  LB_SET(w, LINEDEVCAPS, dwMonitorToneMaxNumEntries, lc.monitor_tone_max_num_entries());
  LB_SET(w, LINEDEVCAPS, dwGatherDigitsMinTimeout, lc.gather_digits_min_timeout_ms());
  LB_SET(w, LINEDEVCAPS, dwGatherDigitsMaxTimeout, lc.gather_digits_max_timeout_ms());
  LB_SET(w, LINEDEVCAPS, dwMaxNumActiveCalls, lc.max_num_active_calls());
  LB_SET(w, LINEDEVCAPS, dwAnswerMode,
         lc.answer_mode() != 0 ? lc.answer_mode() : LINEANSWERMODE_NONE);
  LB_SET(w, LINEDEVCAPS, dwRingModes, 1);
  // User-user information up to the line's limit: with lineAccept,
  // lineAnswer, lineDrop and lineMakeCall, and by lineSendUserUserInfo where
  // the line offers it; what arrives is kept whole in LINECALLINFO.
  const DWORD uui = lc.max_user_user_info_size();
  LB_SET(w, LINEDEVCAPS, dwUUIAcceptSize, uui);
  LB_SET(w, LINEDEVCAPS, dwUUIAnswerSize, uui);
  LB_SET(w, LINEDEVCAPS, dwUUIMakeCallSize, uui);
  LB_SET(w, LINEDEVCAPS, dwUUIDropSize, uui);
  LB_SET(w, LINEDEVCAPS, dwUUISendUserUserInfoSize, CanSendUserUserInfo(info) ? uui : 0);
  LB_SET(w, LINEDEVCAPS, dwUUICallInfoSize, uui);
  // lineClose drops the calls this provider's session is the only owner of
  // (the server's drop-no-owner rule; lineCloseCall drops owned calls too).
  LB_SET(w, LINEDEVCAPS, dwDevCapFlags, LINEDEVCAPFLAGS_CLOSEDROP);
  // CONFIGCHANGE: lineSetDevConfig on a line that has a device configuration.
  LB_SET(w, LINEDEVCAPS, dwLineStates,
         LINEDEVSTATE_INSERVICE | LINEDEVSTATE_OUTOFSERVICE | LINEDEVSTATE_MAINTENANCE |
             LINEDEVSTATE_CAPSCHANGE | LINEDEVSTATE_REMOVED |
             (info.has_device_config() ? LINEDEVSTATE_CONFIGCHANGE : 0));
  LB_SET(w, LINEDEVCAPS, dwLineFeatures, line.info.has_value() ? LINEFEATURE_MAKECALL : 0);
  AppendDeviceClasses(w, offsetof(LINEDEVCAPS, dwDeviceClassesSize),
                      offsetof(LINEDEVCAPS, dwDeviceClassesOffset));
  // Beyond the 2.x fixed part (SetDword ignores it there anyway; explicit
  // because the field does not exist for those versions).
  if (version >= 0x00030000) {
    LB_SET(w, LINEDEVCAPS, dwAddressTypes, LINEADDRESSTYPE_PHONENUMBER);
  }
  w.Finish();
  return 0;
}

LONG CheckAddressCaps(const LINEADDRESSCAPS* caps) {
  if (caps == nullptr) return LINEERR_INVALPOINTER;
  if (TotalSizeOf(caps) < sizeof(LINEADDRESSCAPS)) return LINEERR_STRUCTURETOOSMALL;
  return 0;
}

LONG WriteLineAddressCaps(const LineSnapshot& line, DWORD address_id, LPLINEADDRESSCAPS caps) {
  if (LONG err = CheckAddressCaps(caps); err != 0) return err;
  const v1::Line& info = InfoOf(line);
  if (address_id >= NumAddressesOf(info)) return LINEERR_INVALADDRESSID;
  const v1::Address& address = address_id < static_cast<DWORD>(info.addresses_size())
                                   ? info.addresses(static_cast<int>(address_id))
                                   : v1::Address::default_instance();
  const v1::AddressCaps& ac = address.caps();
  VarStructWriter w = StartStruct(caps, sizeof(LINEADDRESSCAPS));
  LB_SET(w, LINEADDRESSCAPS, dwLineDeviceID, line.device_id);
  w.AppendString(offsetof(LINEADDRESSCAPS, dwAddressSize),
                 offsetof(LINEADDRESSCAPS, dwAddressOffset), address.address());
  LB_SET(w, LINEADDRESSCAPS, dwAddressSharing, LINEADDRESSSHARING_PRIVATE);
  LB_SET(w, LINEADDRESSCAPS, dwCallInfoStates, kReportedCallInfoStates);
  const DWORD unavail = LINECALLPARTYID_UNAVAIL;
  LB_SET(w, LINEADDRESSCAPS, dwCallerIDFlags, ac.caller_id_supported() ? kPartyIdFlags : unavail);
  LB_SET(w, LINEADDRESSCAPS, dwCalledIDFlags, ac.called_id_supported() ? kPartyIdFlags : unavail);
  LB_SET(w, LINEADDRESSCAPS, dwConnectedIDFlags,
         ac.connected_id_supported() ? kPartyIdFlags : unavail);
  LB_SET(w, LINEADDRESSCAPS, dwRedirectionIDFlags, unavail);
  LB_SET(w, LINEADDRESSCAPS, dwRedirectingIDFlags,
         ac.redirecting_id_supported() ? kPartyIdFlags : unavail);
  LB_SET(w, LINEADDRESSCAPS, dwCallStates,
         ToTapiMask<v1::CallState>(ac.call_states()) | LINECALLSTATE_IDLE);
  LB_SET(w, LINEADDRESSCAPS, dwDialToneModes, LINEDIALTONEMODE_UNAVAIL);
  LB_SET(w, LINEADDRESSCAPS, dwBusyModes, LINEBUSYMODE_UNAVAIL);
  LB_SET(w, LINEADDRESSCAPS, dwSpecialInfo, LINESPECIALINFO_UNAVAIL);
  LB_SET(w, LINEADDRESSCAPS, dwDisconnectModes,
         ToTapiMask<v1::DisconnectMode>(ac.disconnect_modes()));
  LB_SET(w, LINEADDRESSCAPS, dwMaxNumActiveCalls, ac.max_num_active_calls());
  LB_SET(w, LINEADDRESSCAPS, dwMaxNumOnHoldCalls, ac.max_num_on_hold_calls());
  // Transfer, conference, forward and park modes only with the features that
  // use them (what the line can and this provider implements).
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
  if (call_features & LINECALLFEATURE_SETTREATMENT) AppendCallTreatments(w, ac);
  if (call_features & LINECALLFEATURE_COMPLETECALL) {
    // Completion ids identify the callback calls (LINECALLINFO dwCompletionID);
    // no canned messages (LINECALLCOMPLMODE_MESSAGE is never offered).
    LB_SET(w, LINEADDRESSCAPS, dwAddrCapFlags, LINEADDRCAPFLAGS_COMPLETIONID);
    LB_SET(w, LINEADDRESSCAPS, dwCallCompletionModes,
           ToTapiMask<v1::CompletionMode>(ac.completion_modes()) &
               (LINECALLCOMPLMODE_CAMPON | LINECALLCOMPLMODE_CALLBACK |
                LINECALLCOMPLMODE_INTRUDE));
    LB_SET(w, LINEADDRESSCAPS, dwMaxCallCompletions, ac.max_call_completions());
  }
  if (call_features & LINECALLFEATURE_PARK) {
    LB_SET(w, LINEADDRESSCAPS, dwParkModes, ToTapiMask<v1::ParkMode>(info.caps().park_modes()));
  }
  LB_SET(w, LINEADDRESSCAPS, dwMaxNumOnHoldPendingCalls, ac.max_num_on_hold_pending_calls());
  LB_SET(w, LINEADDRESSCAPS, dwCallFeatures, call_features);
  LB_SET(w, LINEADDRESSCAPS, dwAddressFeatures, address_features);
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

LONG WriteLineDevStatus(const LineSnapshot& line, const OpenSnapshot& open,
                        LPLINEDEVSTATUS status) {
  if (status == nullptr) return LINEERR_INVALPOINTER;
  if (TotalSizeOf(status) < sizeof(LINEDEVSTATUS)) return LINEERR_STRUCTURETOOSMALL;
  const v1::LineStatus& s = InfoOf(line).status();
  const bool in_service = InService(line);
  VarStructWriter w = StartStruct(status, sizeof(LINEDEVSTATUS));
  LB_SET(w, LINEDEVSTATUS, dwNumOpens, 1);
  LB_SET(w, LINEDEVSTATUS, dwOpenMediaModes, open.server_open ? open.applied_media : 0);
  LB_SET(w, LINEDEVSTATUS, dwNumActiveCalls, s.num_active_calls());
  LB_SET(w, LINEDEVSTATUS, dwNumOnHoldCalls, s.num_on_hold_calls());
  LB_SET(w, LINEDEVSTATUS, dwNumOnHoldPendCalls, s.num_on_hold_pending_calls());
  LB_SET(w, LINEDEVSTATUS, dwLineFeatures, in_service ? LINEFEATURE_MAKECALL : 0);
  LB_SET(w, LINEDEVSTATUS, dwRoamMode, LINEROAMMODE_UNAVAIL);
  LB_SET(w, LINEDEVSTATUS, dwDevStatusFlags,
         (in_service ? LINEDEVSTATUSFLAGS_INSERVICE : 0) |
             (line.server_connected && s.connected() ? LINEDEVSTATUSFLAGS_CONNECTED : 0));
  LB_SET(w, LINEDEVSTATUS, dwAvailableMediaModes,
         line.info.has_value() ? ToTapiMask<v1::MediaMode>(line.info->caps().media_modes()) : 0);
  w.Finish();
  return 0;
}

LONG WriteLineAddressStatus(const LineSnapshot& line, const OpenSnapshot& open,
                            DWORD address_id, LPLINEADDRESSSTATUS status) {
  if (address_id >= NumAddressesOf(InfoOf(line))) return LINEERR_INVALADDRESSID;
  if (status == nullptr) return LINEERR_INVALPOINTER;
  if (TotalSizeOf(status) < sizeof(LINEADDRESSSTATUS)) return LINEERR_STRUCTURETOOSMALL;
  const v1::LineStatus& s = InfoOf(line).status();
  VarStructWriter w = StartStruct(status, sizeof(LINEADDRESSSTATUS));
  LB_SET(w, LINEADDRESSSTATUS, dwNumInUse,
         s.num_active_calls() + s.num_on_hold_calls() > 0 ? 1 : 0);
  LB_SET(w, LINEADDRESSSTATUS, dwNumActiveCalls, s.num_active_calls());
  LB_SET(w, LINEADDRESSSTATUS, dwNumOnHoldCalls, s.num_on_hold_calls());
  LB_SET(w, LINEADDRESSSTATUS, dwNumOnHoldPendCalls, s.num_on_hold_pending_calls());
  // What the address can do now: its features (all of them while in service).
  const v1::Line& info = InfoOf(line);
  const DWORD features =
      info.addresses_size() > static_cast<int>(address_id)
          ? ToTapiMask<v1::AddressFeature>(
                info.addresses(static_cast<int>(address_id)).caps().address_features())
          : ImplementedAddressFeatures();
  LB_SET(w, LINEADDRESSSTATUS, dwAddressFeatures,
         InService(line) ? (features & ImplementedAddressFeatures()) : 0);
  // Forwarding in effect: one LINEFORWARD list, its entries' destination
  // offsets counted from the start of LINEADDRESSSTATUS like every offset.
  LB_SET(w, LINEADDRESSSTATUS, dwForwardNumEntries, s.forwarding_size());
  if (s.forwarding_size() > 0) {
    const DWORD stride = ForwardEntrySize(open.version);
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

LONG WriteLineDeviceId(DWORD device_id, LPCWSTR device_class, LPVARSTRING out) {
  if (out == nullptr || device_class == nullptr) return LINEERR_INVALPOINTER;
  if (absl::AsciiStrToLower(Utf16ToUtf8(device_class, 256)) != "tapi/line") {
    return LINEERR_INVALDEVICECLASS;
  }
  if (TotalSizeOf(out) < sizeof(VARSTRING)) return LINEERR_STRUCTURETOOSMALL;
  VarStructWriter w = StartStruct(out, sizeof(VARSTRING));
  LB_SET(w, VARSTRING, dwStringFormat, STRINGFORMAT_BINARY);
  w.AppendBytes(offsetof(VARSTRING, dwStringSize), offsetof(VARSTRING, dwStringOffset),
                &device_id, sizeof device_id);
  w.Finish();
  return 0;
}

// ---- calls ----

LONG WriteLineCallInfo(const LineSnapshot& line, DWORD version, const CallSnapshot& call,
                       LPLINECALLINFO info) {
  if (info == nullptr) return LINEERR_INVALPOINTER;
  const DWORD fixed = MinCallInfo(version);
  if (TotalSizeOf(info) < fixed) return LINEERR_STRUCTURETOOSMALL;
  const v1::CallInfo& ci = call.call.info();
  VarStructWriter w = StartStruct(info, fixed);
  LB_SET(w, LINECALLINFO, dwLineDeviceID, line.device_id);
  LB_SET(w, LINECALLINFO, dwAddressID, ci.address_index());
  LB_SET(w, LINECALLINFO, dwBearerMode,
         ci.bearer_mode() != 0 ? ToTapi(ci.bearer_mode()) : LINEBEARERMODE_VOICE);
  LB_SET(w, LINECALLINFO, dwMediaMode,
         ci.media_mode() != 0 ? ToTapi(ci.media_mode()) : LINEMEDIAMODE_INTERACTIVEVOICE);
  // lineSetAppSpecific stores 4 bytes; anything else is not ours (0).
  if (ci.app_specific().size() == sizeof(DWORD)) {
    DWORD app;
    std::memcpy(&app, ci.app_specific().data(), sizeof app);
    LB_SET(w, LINECALLINFO, dwAppSpecific, app);
  }
  LB_SET(w, LINECALLINFO, dwRate, ci.rate());
  if (ci.has_dial_params()) {
    LB_SET(w, LINECALLINFO, DialParams.dwDialPause, ci.dial_params().dial_pause_ms());
    LB_SET(w, LINECALLINFO, DialParams.dwDialSpeed, ci.dial_params().dial_speed_ms());
    LB_SET(w, LINECALLINFO, DialParams.dwDigitDuration, ci.dial_params().digit_duration_ms());
    LB_SET(w, LINECALLINFO, DialParams.dwWaitForDialtone, ci.dial_params().wait_for_dialtone_ms());
  }
  LB_SET(w, LINECALLINFO, dwCallTreatment, static_cast<DWORD>(ci.treatment()));
  LB_SET(w, LINECALLINFO, dwCallID, static_cast<DWORD>(ci.call_id()));
  LB_SET(w, LINECALLINFO, dwRelatedCallID, static_cast<DWORD>(ci.related_call_id()));
  if (line.info.has_value() &&
      ci.address_index() < static_cast<uint32_t>(line.info->addresses_size())) {
    LB_SET(w, LINECALLINFO, dwCallStates,
           ToTapiMask<v1::CallState>(
               line.info->addresses(static_cast<int>(ci.address_index())).caps().call_states()) |
               LINECALLSTATE_IDLE);
  }
  LB_SET(w, LINECALLINFO, dwOrigin,
         ci.origin() != 0 ? ToTapi(ci.origin()) : static_cast<DWORD>(LINECALLORIGIN_UNKNOWN));
  LB_SET(w, LINECALLINFO, dwReason,
         ci.reason() != 0 ? ToTapi(ci.reason()) : LINECALLREASON_UNKNOWN);
  LB_SET(w, LINECALLINFO, dwTrunk, ci.trunk() != 0 ? ci.trunk() : 0xFFFFFFFF);
  LB_SET(w, LINECALLINFO, dwCompletionID, ci.completion_id());
  struct Party {
    const v1::PartyId& id;
    size_t flags, size, offset, name_size, name_offset;
  };
  const Party parties[] = {
      {ci.caller(), offsetof(LINECALLINFO, dwCallerIDFlags), offsetof(LINECALLINFO, dwCallerIDSize),
       offsetof(LINECALLINFO, dwCallerIDOffset), offsetof(LINECALLINFO, dwCallerIDNameSize),
       offsetof(LINECALLINFO, dwCallerIDNameOffset)},
      {ci.called(), offsetof(LINECALLINFO, dwCalledIDFlags), offsetof(LINECALLINFO, dwCalledIDSize),
       offsetof(LINECALLINFO, dwCalledIDOffset), offsetof(LINECALLINFO, dwCalledIDNameSize),
       offsetof(LINECALLINFO, dwCalledIDNameOffset)},
      {ci.connected(), offsetof(LINECALLINFO, dwConnectedIDFlags),
       offsetof(LINECALLINFO, dwConnectedIDSize), offsetof(LINECALLINFO, dwConnectedIDOffset),
       offsetof(LINECALLINFO, dwConnectedIDNameSize),
       offsetof(LINECALLINFO, dwConnectedIDNameOffset)},
      {ci.redirection(), offsetof(LINECALLINFO, dwRedirectionIDFlags),
       offsetof(LINECALLINFO, dwRedirectionIDSize), offsetof(LINECALLINFO, dwRedirectionIDOffset),
       offsetof(LINECALLINFO, dwRedirectionIDNameSize),
       offsetof(LINECALLINFO, dwRedirectionIDNameOffset)},
      {ci.redirecting(), offsetof(LINECALLINFO, dwRedirectingIDFlags),
       offsetof(LINECALLINFO, dwRedirectingIDSize), offsetof(LINECALLINFO, dwRedirectingIDOffset),
       offsetof(LINECALLINFO, dwRedirectingIDNameSize),
       offsetof(LINECALLINFO, dwRedirectingIDNameOffset)},
  };
  for (const Party& p : parties) {
    const DWORD flags = PartyFlags(p.id);
    w.SetDword(p.flags, flags);
    if (flags & LINECALLPARTYID_ADDRESS) w.AppendString(p.size, p.offset, p.id.number());
    if (flags & LINECALLPARTYID_NAME) w.AppendString(p.name_size, p.name_offset, p.id.name());
  }
  w.AppendString(offsetof(LINECALLINFO, dwCalledPartySize),
                 offsetof(LINECALLINFO, dwCalledPartyOffset), ci.dial_string());
  w.AppendBytes(offsetof(LINECALLINFO, dwUserUserInfoSize),
                offsetof(LINECALLINFO, dwUserUserInfoOffset), ci.user_user_info().data(),
                ci.user_user_info().size());
  w.AppendBytes(offsetof(LINECALLINFO, dwCallDataSize), offsetof(LINECALLINFO, dwCallDataOffset),
                ci.call_data().data(), ci.call_data().size());
  w.Finish();
  return 0;
}

LONG WriteLineCallStatus(const CallSnapshot& call, LPLINECALLSTATUS status) {
  if (status == nullptr) return LINEERR_INVALPOINTER;
  if (TotalSizeOf(status) < sizeof(LINECALLSTATUS)) return LINEERR_STRUCTURETOOSMALL;
  const v1::CallStatus& s = call.call.status();
  VarStructWriter w = StartStruct(status, sizeof(LINECALLSTATUS));
  // Until the server knows the call (lineMakeCall in flight) it is IDLE to TAPI.
  const DWORD state =
      call.has_call ? ToTapi(s.state()) : static_cast<DWORD>(LINECALLSTATE_IDLE);
  LB_SET(w, LINECALLSTATUS, dwCallState, call.idle ? LINECALLSTATE_IDLE : state);
  LB_SET(w, LINECALLSTATUS, dwCallStateMode, call.idle ? 0 : CallStateModeToTapi(s));
  LB_SET(w, LINECALLSTATUS, dwCallPrivilege,
         s.privilege() != 0 ? ToTapi(s.privilege()) : LINECALLPRIVILEGE_OWNER);
  LB_SET(w, LINECALLSTATUS, dwCallFeatures,
         call.idle ? 0 : ToTapiMask<v1::CallFeature>(s.features()) & ImplementedCallFeatures());
  w.Finish();
  return 0;
}

}  // namespace linebridge::tsp
