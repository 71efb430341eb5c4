#include "tapi_mapping.h"

#include <span>

namespace linebridge::tsp {
namespace {

template <typename E>
struct Entry {
  E value;
  DWORD tapi;
};

// Tables: one row per enum value except *_UNSPECIFIED, in TAPI bit order.

constexpr Entry<v1::CallState> kCallState[] = {
    {v1::CALL_STATE_IDLE, LINECALLSTATE_IDLE},
    {v1::CALL_STATE_OFFERING, LINECALLSTATE_OFFERING},
    {v1::CALL_STATE_ACCEPTED, LINECALLSTATE_ACCEPTED},
    {v1::CALL_STATE_DIALTONE, LINECALLSTATE_DIALTONE},
    {v1::CALL_STATE_DIALING, LINECALLSTATE_DIALING},
    {v1::CALL_STATE_RINGBACK, LINECALLSTATE_RINGBACK},
    {v1::CALL_STATE_BUSY, LINECALLSTATE_BUSY},
    {v1::CALL_STATE_SPECIALINFO, LINECALLSTATE_SPECIALINFO},
    {v1::CALL_STATE_CONNECTED, LINECALLSTATE_CONNECTED},
    {v1::CALL_STATE_PROCEEDING, LINECALLSTATE_PROCEEDING},
    {v1::CALL_STATE_ONHOLD, LINECALLSTATE_ONHOLD},
    {v1::CALL_STATE_CONFERENCED, LINECALLSTATE_CONFERENCED},
    {v1::CALL_STATE_ONHOLDPENDCONF, LINECALLSTATE_ONHOLDPENDCONF},
    {v1::CALL_STATE_ONHOLDPENDTRANSFER, LINECALLSTATE_ONHOLDPENDTRANSFER},
    {v1::CALL_STATE_DISCONNECTED, LINECALLSTATE_DISCONNECTED},
    {v1::CALL_STATE_UNKNOWN, LINECALLSTATE_UNKNOWN},
};

constexpr Entry<v1::DialToneMode> kDialToneMode[] = {
    {v1::DIAL_TONE_MODE_NORMAL, LINEDIALTONEMODE_NORMAL},
    {v1::DIAL_TONE_MODE_SPECIAL, LINEDIALTONEMODE_SPECIAL},
    {v1::DIAL_TONE_MODE_INTERNAL, LINEDIALTONEMODE_INTERNAL},
    {v1::DIAL_TONE_MODE_EXTERNAL, LINEDIALTONEMODE_EXTERNAL},
    {v1::DIAL_TONE_MODE_UNKNOWN, LINEDIALTONEMODE_UNKNOWN},
    {v1::DIAL_TONE_MODE_UNAVAIL, LINEDIALTONEMODE_UNAVAIL},
};

constexpr Entry<v1::BusyMode> kBusyMode[] = {
    {v1::BUSY_MODE_STATION, LINEBUSYMODE_STATION},
    {v1::BUSY_MODE_TRUNK, LINEBUSYMODE_TRUNK},
    {v1::BUSY_MODE_UNKNOWN, LINEBUSYMODE_UNKNOWN},
    {v1::BUSY_MODE_UNAVAIL, LINEBUSYMODE_UNAVAIL},
};

constexpr Entry<v1::SpecialInfoMode> kSpecialInfoMode[] = {
    {v1::SPECIAL_INFO_MODE_NOCIRCUIT, LINESPECIALINFO_NOCIRCUIT},
    {v1::SPECIAL_INFO_MODE_CUSTIRREG, LINESPECIALINFO_CUSTIRREG},
    {v1::SPECIAL_INFO_MODE_REORDER, LINESPECIALINFO_REORDER},
    {v1::SPECIAL_INFO_MODE_UNKNOWN, LINESPECIALINFO_UNKNOWN},
    {v1::SPECIAL_INFO_MODE_UNAVAIL, LINESPECIALINFO_UNAVAIL},
};

constexpr Entry<v1::ConnectedMode> kConnectedMode[] = {
    {v1::CONNECTED_MODE_ACTIVE, LINECONNECTEDMODE_ACTIVE},
    {v1::CONNECTED_MODE_INACTIVE, LINECONNECTEDMODE_INACTIVE},
    {v1::CONNECTED_MODE_ACTIVEHELD, LINECONNECTEDMODE_ACTIVEHELD},
    {v1::CONNECTED_MODE_INACTIVEHELD, LINECONNECTEDMODE_INACTIVEHELD},
    {v1::CONNECTED_MODE_CONFIRMED, LINECONNECTEDMODE_CONFIRMED},
};

constexpr Entry<v1::OfferingMode> kOfferingMode[] = {
    {v1::OFFERING_MODE_ACTIVE, LINEOFFERINGMODE_ACTIVE},
    {v1::OFFERING_MODE_INACTIVE, LINEOFFERINGMODE_INACTIVE},
};

constexpr Entry<v1::DisconnectMode> kDisconnectMode[] = {
    {v1::DISCONNECT_MODE_NORMAL, LINEDISCONNECTMODE_NORMAL},
    {v1::DISCONNECT_MODE_UNKNOWN, LINEDISCONNECTMODE_UNKNOWN},
    {v1::DISCONNECT_MODE_REJECT, LINEDISCONNECTMODE_REJECT},
    {v1::DISCONNECT_MODE_PICKUP, LINEDISCONNECTMODE_PICKUP},
    {v1::DISCONNECT_MODE_FORWARDED, LINEDISCONNECTMODE_FORWARDED},
    {v1::DISCONNECT_MODE_BUSY, LINEDISCONNECTMODE_BUSY},
    {v1::DISCONNECT_MODE_NOANSWER, LINEDISCONNECTMODE_NOANSWER},
    {v1::DISCONNECT_MODE_BADADDRESS, LINEDISCONNECTMODE_BADADDRESS},
    {v1::DISCONNECT_MODE_UNREACHABLE, LINEDISCONNECTMODE_UNREACHABLE},
    {v1::DISCONNECT_MODE_CONGESTION, LINEDISCONNECTMODE_CONGESTION},
    {v1::DISCONNECT_MODE_INCOMPATIBLE, LINEDISCONNECTMODE_INCOMPATIBLE},
    {v1::DISCONNECT_MODE_UNAVAIL, LINEDISCONNECTMODE_UNAVAIL},
    {v1::DISCONNECT_MODE_NODIALTONE, LINEDISCONNECTMODE_NODIALTONE},
    {v1::DISCONNECT_MODE_NUMBERCHANGED, LINEDISCONNECTMODE_NUMBERCHANGED},
    {v1::DISCONNECT_MODE_OUTOFORDER, LINEDISCONNECTMODE_OUTOFORDER},
    {v1::DISCONNECT_MODE_TEMPFAILURE, LINEDISCONNECTMODE_TEMPFAILURE},
    {v1::DISCONNECT_MODE_QOSUNAVAIL, LINEDISCONNECTMODE_QOSUNAVAIL},
    {v1::DISCONNECT_MODE_BLOCKED, LINEDISCONNECTMODE_BLOCKED},
    {v1::DISCONNECT_MODE_DONOTDISTURB, LINEDISCONNECTMODE_DONOTDISTURB},
    {v1::DISCONNECT_MODE_CANCELLED, LINEDISCONNECTMODE_CANCELLED},
};

constexpr Entry<v1::MediaMode> kMediaMode[] = {
    {v1::MEDIA_MODE_UNKNOWN, LINEMEDIAMODE_UNKNOWN},
    {v1::MEDIA_MODE_INTERACTIVE_VOICE, LINEMEDIAMODE_INTERACTIVEVOICE},
    {v1::MEDIA_MODE_AUTOMATED_VOICE, LINEMEDIAMODE_AUTOMATEDVOICE},
    {v1::MEDIA_MODE_DATAMODEM, LINEMEDIAMODE_DATAMODEM},
    {v1::MEDIA_MODE_G3FAX, LINEMEDIAMODE_G3FAX},
    {v1::MEDIA_MODE_TDD, LINEMEDIAMODE_TDD},
    {v1::MEDIA_MODE_G4FAX, LINEMEDIAMODE_G4FAX},
    {v1::MEDIA_MODE_DIGITAL_DATA, LINEMEDIAMODE_DIGITALDATA},
    {v1::MEDIA_MODE_TELETEX, LINEMEDIAMODE_TELETEX},
    {v1::MEDIA_MODE_VIDEOTEX, LINEMEDIAMODE_VIDEOTEX},
    {v1::MEDIA_MODE_TELEX, LINEMEDIAMODE_TELEX},
    {v1::MEDIA_MODE_MIXED, LINEMEDIAMODE_MIXED},
    {v1::MEDIA_MODE_ADSI, LINEMEDIAMODE_ADSI},
    {v1::MEDIA_MODE_VOICE_VIEW, LINEMEDIAMODE_VOICEVIEW},
    {v1::MEDIA_MODE_VIDEO, LINEMEDIAMODE_VIDEO},
};

constexpr Entry<v1::BearerMode> kBearerMode[] = {
    {v1::BEARER_MODE_VOICE, LINEBEARERMODE_VOICE},
    {v1::BEARER_MODE_SPEECH, LINEBEARERMODE_SPEECH},
    {v1::BEARER_MODE_MULTIUSE, LINEBEARERMODE_MULTIUSE},
    {v1::BEARER_MODE_DATA, LINEBEARERMODE_DATA},
    {v1::BEARER_MODE_ALTSPEECHDATA, LINEBEARERMODE_ALTSPEECHDATA},
    {v1::BEARER_MODE_NONCALLSIGNALING, LINEBEARERMODE_NONCALLSIGNALING},
    {v1::BEARER_MODE_PASSTHROUGH, LINEBEARERMODE_PASSTHROUGH},
    {v1::BEARER_MODE_RESTRICTEDDATA, LINEBEARERMODE_RESTRICTEDDATA},
};

constexpr Entry<v1::CallFeature> kCallFeature[] = {
    {v1::CALL_FEATURE_ACCEPT, LINECALLFEATURE_ACCEPT},
    {v1::CALL_FEATURE_ADDTOCONF, LINECALLFEATURE_ADDTOCONF},
    {v1::CALL_FEATURE_ANSWER, LINECALLFEATURE_ANSWER},
    {v1::CALL_FEATURE_BLINDTRANSFER, LINECALLFEATURE_BLINDTRANSFER},
    {v1::CALL_FEATURE_COMPLETECALL, LINECALLFEATURE_COMPLETECALL},
    {v1::CALL_FEATURE_COMPLETETRANSF, LINECALLFEATURE_COMPLETETRANSF},
    {v1::CALL_FEATURE_DIAL, LINECALLFEATURE_DIAL},
    {v1::CALL_FEATURE_DROP, LINECALLFEATURE_DROP},
    {v1::CALL_FEATURE_GATHERDIGITS, LINECALLFEATURE_GATHERDIGITS},
    {v1::CALL_FEATURE_GENERATEDIGITS, LINECALLFEATURE_GENERATEDIGITS},
    {v1::CALL_FEATURE_GENERATETONE, LINECALLFEATURE_GENERATETONE},
    {v1::CALL_FEATURE_HOLD, LINECALLFEATURE_HOLD},
    {v1::CALL_FEATURE_MONITORDIGITS, LINECALLFEATURE_MONITORDIGITS},
    {v1::CALL_FEATURE_MONITORMEDIA, LINECALLFEATURE_MONITORMEDIA},
    {v1::CALL_FEATURE_MONITORTONES, LINECALLFEATURE_MONITORTONES},
    {v1::CALL_FEATURE_PARK, LINECALLFEATURE_PARK},
    {v1::CALL_FEATURE_PREPAREADDCONF, LINECALLFEATURE_PREPAREADDCONF},
    {v1::CALL_FEATURE_REDIRECT, LINECALLFEATURE_REDIRECT},
    {v1::CALL_FEATURE_REMOVEFROMCONF, LINECALLFEATURE_REMOVEFROMCONF},
    {v1::CALL_FEATURE_SECURECALL, LINECALLFEATURE_SECURECALL},
    {v1::CALL_FEATURE_SENDUSERUSER, LINECALLFEATURE_SENDUSERUSER},
    {v1::CALL_FEATURE_SETCALLPARAMS, LINECALLFEATURE_SETCALLPARAMS},
    {v1::CALL_FEATURE_SETMEDIACONTROL, LINECALLFEATURE_SETMEDIACONTROL},
    {v1::CALL_FEATURE_SETTERMINAL, LINECALLFEATURE_SETTERMINAL},
    {v1::CALL_FEATURE_SETUPCONF, LINECALLFEATURE_SETUPCONF},
    {v1::CALL_FEATURE_SETUPTRANSFER, LINECALLFEATURE_SETUPTRANSFER},
    {v1::CALL_FEATURE_SWAPHOLD, LINECALLFEATURE_SWAPHOLD},
    {v1::CALL_FEATURE_UNHOLD, LINECALLFEATURE_UNHOLD},
    {v1::CALL_FEATURE_RELEASEUSERUSERINFO, LINECALLFEATURE_RELEASEUSERUSERINFO},
    {v1::CALL_FEATURE_SETTREATMENT, LINECALLFEATURE_SETTREATMENT},
    {v1::CALL_FEATURE_SETQOS, LINECALLFEATURE_SETQOS},
    {v1::CALL_FEATURE_SETCALLDATA, LINECALLFEATURE_SETCALLDATA},
};

constexpr Entry<v1::AddressFeature> kAddressFeature[] = {
    {v1::ADDRESS_FEATURE_FORWARD, LINEADDRFEATURE_FORWARD},
    {v1::ADDRESS_FEATURE_MAKECALL, LINEADDRFEATURE_MAKECALL},
    {v1::ADDRESS_FEATURE_PICKUP, LINEADDRFEATURE_PICKUP},
    {v1::ADDRESS_FEATURE_SETMEDIACONTROL, LINEADDRFEATURE_SETMEDIACONTROL},
    {v1::ADDRESS_FEATURE_SETTERMINAL, LINEADDRFEATURE_SETTERMINAL},
    {v1::ADDRESS_FEATURE_SETUPCONF, LINEADDRFEATURE_SETUPCONF},
    {v1::ADDRESS_FEATURE_UNCOMPLETECALL, LINEADDRFEATURE_UNCOMPLETECALL},
    {v1::ADDRESS_FEATURE_UNPARK, LINEADDRFEATURE_UNPARK},
    {v1::ADDRESS_FEATURE_PICKUPHELD, LINEADDRFEATURE_PICKUPHELD},
    {v1::ADDRESS_FEATURE_PICKUPGROUP, LINEADDRFEATURE_PICKUPGROUP},
    {v1::ADDRESS_FEATURE_PICKUPDIRECT, LINEADDRFEATURE_PICKUPDIRECT},
    {v1::ADDRESS_FEATURE_PICKUPWAITING, LINEADDRFEATURE_PICKUPWAITING},
    {v1::ADDRESS_FEATURE_FORWARDFWD, LINEADDRFEATURE_FORWARDFWD},
    {v1::ADDRESS_FEATURE_FORWARDDND, LINEADDRFEATURE_FORWARDDND},
};

// Only the plain modes; the *INTERNAL/*EXTERNAL/*SPECIFIC variants, UNKNOWN
// and UNAVAIL have no ForwardMode value.
constexpr Entry<v1::ForwardMode> kForwardMode[] = {
    {v1::FORWARD_MODE_UNCOND, LINEFORWARDMODE_UNCOND},
    {v1::FORWARD_MODE_BUSY, LINEFORWARDMODE_BUSY},
    {v1::FORWARD_MODE_NOANSW, LINEFORWARDMODE_NOANSW},
    {v1::FORWARD_MODE_BUSYNA, LINEFORWARDMODE_BUSYNA},
};

constexpr Entry<v1::DigitMode> kDigitMode[] = {
    {v1::DIGIT_MODE_PULSE, LINEDIGITMODE_PULSE},
    {v1::DIGIT_MODE_DTMF, LINEDIGITMODE_DTMF},
    {v1::DIGIT_MODE_DTMFEND, LINEDIGITMODE_DTMFEND},
};

constexpr Entry<v1::CallOrigin> kCallOrigin[] = {
    {v1::CALL_ORIGIN_OUTBOUND, LINECALLORIGIN_OUTBOUND},
    {v1::CALL_ORIGIN_INTERNAL, LINECALLORIGIN_INTERNAL},
    {v1::CALL_ORIGIN_EXTERNAL, LINECALLORIGIN_EXTERNAL},
    {v1::CALL_ORIGIN_UNKNOWN, LINECALLORIGIN_UNKNOWN},
    {v1::CALL_ORIGIN_UNAVAIL, LINECALLORIGIN_UNAVAIL},
    {v1::CALL_ORIGIN_CONFERENCE, LINECALLORIGIN_CONFERENCE},
    {v1::CALL_ORIGIN_INBOUND, LINECALLORIGIN_INBOUND},
};

constexpr Entry<v1::CallReason> kCallReason[] = {
    {v1::CALL_REASON_DIRECT, LINECALLREASON_DIRECT},
    {v1::CALL_REASON_FWDBUSY, LINECALLREASON_FWDBUSY},
    {v1::CALL_REASON_FWDNOANSWER, LINECALLREASON_FWDNOANSWER},
    {v1::CALL_REASON_FWDUNCOND, LINECALLREASON_FWDUNCOND},
    {v1::CALL_REASON_PICKUP, LINECALLREASON_PICKUP},
    {v1::CALL_REASON_UNPARK, LINECALLREASON_UNPARK},
    {v1::CALL_REASON_REDIRECT, LINECALLREASON_REDIRECT},
    {v1::CALL_REASON_CALLCOMPLETION, LINECALLREASON_CALLCOMPLETION},
    {v1::CALL_REASON_TRANSFER, LINECALLREASON_TRANSFER},
    {v1::CALL_REASON_REMINDER, LINECALLREASON_REMINDER},
    {v1::CALL_REASON_UNKNOWN, LINECALLREASON_UNKNOWN},
    {v1::CALL_REASON_UNAVAIL, LINECALLREASON_UNAVAIL},
    {v1::CALL_REASON_INTRUDE, LINECALLREASON_INTRUDE},
    {v1::CALL_REASON_PARKED, LINECALLREASON_PARKED},
    {v1::CALL_REASON_CAMPEDON, LINECALLREASON_CAMPEDON},
    {v1::CALL_REASON_ROUTEREQUEST, LINECALLREASON_ROUTEREQUEST},
};

constexpr Entry<v1::Privilege> kPrivilege[] = {
    {v1::PRIVILEGE_NONE, LINECALLPRIVILEGE_NONE},
    {v1::PRIVILEGE_MONITOR, LINECALLPRIVILEGE_MONITOR},
    {v1::PRIVILEGE_OWNER, LINECALLPRIVILEGE_OWNER},
};

constexpr Entry<v1::ParkMode> kParkMode[] = {
    {v1::PARK_MODE_DIRECTED, LINEPARKMODE_DIRECTED},
    {v1::PARK_MODE_NONDIRECTED, LINEPARKMODE_NONDIRECTED},
};

constexpr Entry<v1::TransferMode> kTransferMode[] = {
    {v1::TRANSFER_MODE_TRANSFER, LINETRANSFERMODE_TRANSFER},
    {v1::TRANSFER_MODE_CONFERENCE, LINETRANSFERMODE_CONFERENCE},
};

// The LINEDEVSTATE_* bits that are states rather than changes.
constexpr Entry<v1::LineState> kLineState[] = {
    {v1::LINE_STATE_IN_SERVICE, LINEDEVSTATE_INSERVICE},
    {v1::LINE_STATE_OUT_OF_SERVICE, LINEDEVSTATE_OUTOFSERVICE},
    {v1::LINE_STATE_MAINTENANCE, LINEDEVSTATE_MAINTENANCE},
    {v1::LINE_STATE_REMOVED, LINEDEVSTATE_REMOVED},
};

constexpr Entry<v1::CompletionMode> kCompletionMode[] = {
    {v1::COMPLETION_MODE_CAMPON, LINECALLCOMPLMODE_CAMPON},
    {v1::COMPLETION_MODE_CALLBACK, LINECALLCOMPLMODE_CALLBACK},
    {v1::COMPLETION_MODE_INTRUDE, LINECALLCOMPLMODE_INTRUDE},
    {v1::COMPLETION_MODE_MESSAGE, LINECALLCOMPLMODE_MESSAGE},
};

template <typename E>
constexpr std::span<const Entry<E>> kTable = {};
template <> constexpr std::span<const Entry<v1::CallState>> kTable<v1::CallState> = kCallState;
template <> constexpr std::span<const Entry<v1::DialToneMode>> kTable<v1::DialToneMode> = kDialToneMode;
template <> constexpr std::span<const Entry<v1::BusyMode>> kTable<v1::BusyMode> = kBusyMode;
template <> constexpr std::span<const Entry<v1::SpecialInfoMode>> kTable<v1::SpecialInfoMode> = kSpecialInfoMode;
template <> constexpr std::span<const Entry<v1::ConnectedMode>> kTable<v1::ConnectedMode> = kConnectedMode;
template <> constexpr std::span<const Entry<v1::OfferingMode>> kTable<v1::OfferingMode> = kOfferingMode;
template <> constexpr std::span<const Entry<v1::DisconnectMode>> kTable<v1::DisconnectMode> = kDisconnectMode;
template <> constexpr std::span<const Entry<v1::MediaMode>> kTable<v1::MediaMode> = kMediaMode;
template <> constexpr std::span<const Entry<v1::BearerMode>> kTable<v1::BearerMode> = kBearerMode;
template <> constexpr std::span<const Entry<v1::CallFeature>> kTable<v1::CallFeature> = kCallFeature;
template <> constexpr std::span<const Entry<v1::AddressFeature>> kTable<v1::AddressFeature> = kAddressFeature;
template <> constexpr std::span<const Entry<v1::ForwardMode>> kTable<v1::ForwardMode> = kForwardMode;
template <> constexpr std::span<const Entry<v1::DigitMode>> kTable<v1::DigitMode> = kDigitMode;
template <> constexpr std::span<const Entry<v1::CallOrigin>> kTable<v1::CallOrigin> = kCallOrigin;
template <> constexpr std::span<const Entry<v1::CallReason>> kTable<v1::CallReason> = kCallReason;
template <> constexpr std::span<const Entry<v1::Privilege>> kTable<v1::Privilege> = kPrivilege;
template <> constexpr std::span<const Entry<v1::ParkMode>> kTable<v1::ParkMode> = kParkMode;
template <> constexpr std::span<const Entry<v1::TransferMode>> kTable<v1::TransferMode> = kTransferMode;
template <> constexpr std::span<const Entry<v1::LineState>> kTable<v1::LineState> = kLineState;
template <> constexpr std::span<const Entry<v1::CompletionMode>> kTable<v1::CompletionMode> = kCompletionMode;

template <typename E>
DWORD Lookup(E value) {
  for (const Entry<E>& e : kTable<E>) {
    if (e.value == value) return e.tapi;
  }
  return 0;
}

}  // namespace

DWORD ToTapi(v1::CallState value) { return Lookup(value); }
DWORD ToTapi(v1::DialToneMode value) { return Lookup(value); }
DWORD ToTapi(v1::BusyMode value) { return Lookup(value); }
DWORD ToTapi(v1::SpecialInfoMode value) { return Lookup(value); }
DWORD ToTapi(v1::ConnectedMode value) { return Lookup(value); }
DWORD ToTapi(v1::OfferingMode value) { return Lookup(value); }
DWORD ToTapi(v1::DisconnectMode value) { return Lookup(value); }
DWORD ToTapi(v1::MediaMode value) { return Lookup(value); }
DWORD ToTapi(v1::BearerMode value) { return Lookup(value); }
DWORD ToTapi(v1::CallFeature value) { return Lookup(value); }
DWORD ToTapi(v1::AddressFeature value) { return Lookup(value); }
DWORD ToTapi(v1::ForwardMode value) { return Lookup(value); }
DWORD ToTapi(v1::DigitMode value) { return Lookup(value); }
DWORD ToTapi(v1::CallOrigin value) { return Lookup(value); }
DWORD ToTapi(v1::CallReason value) { return Lookup(value); }
DWORD ToTapi(v1::Privilege value) { return Lookup(value); }
DWORD ToTapi(v1::ParkMode value) { return Lookup(value); }
DWORD ToTapi(v1::TransferMode value) { return Lookup(value); }
DWORD ToTapi(v1::LineState value) { return Lookup(value); }
DWORD ToTapi(v1::CompletionMode value) { return Lookup(value); }

template <TapiMappedEnum E>
std::optional<E> FromTapi(DWORD constant) {
  if (constant == 0) return std::nullopt;
  for (const Entry<E>& e : kTable<E>) {
    if (e.tapi == constant) return e.value;
  }
  return std::nullopt;
}

template <TapiMappedEnum E>
DWORD ToTapiMask(const google::protobuf::RepeatedField<int>& values) {
  DWORD mask = 0;
  for (int v : values) mask |= Lookup(static_cast<E>(v));
  return mask;
}

template <TapiMappedEnum E>
DWORD ToTapiMask(std::initializer_list<E> values) {
  DWORD mask = 0;
  for (E v : values) mask |= Lookup(v);
  return mask;
}

template <TapiMappedEnum E>
std::vector<E> FromTapiMask(DWORD mask, DWORD* unmapped) {
  std::vector<E> out;
  DWORD rest = mask;
  for (const Entry<E>& e : kTable<E>) {
    if ((mask & e.tapi) == e.tapi) {
      out.push_back(e.value);
      rest &= ~e.tapi;
    }
  }
  if (unmapped != nullptr) *unmapped = rest;
  return out;
}

template <TapiMappedEnum E>
DWORD AllTapiBits() {
  DWORD mask = 0;
  for (const Entry<E>& e : kTable<E>) mask |= e.tapi;
  return mask;
}

#define LINEBRIDGE_INSTANTIATE(E)                                                  \
  template std::optional<E> FromTapi<E>(DWORD);                                    \
  template DWORD ToTapiMask<E>(const google::protobuf::RepeatedField<int>&);       \
  template DWORD ToTapiMask<E>(std::initializer_list<E>);                          \
  template std::vector<E> FromTapiMask<E>(DWORD, DWORD*);                          \
  template DWORD AllTapiBits<E>();
LINEBRIDGE_INSTANTIATE(v1::CallState)
LINEBRIDGE_INSTANTIATE(v1::DialToneMode)
LINEBRIDGE_INSTANTIATE(v1::BusyMode)
LINEBRIDGE_INSTANTIATE(v1::SpecialInfoMode)
LINEBRIDGE_INSTANTIATE(v1::ConnectedMode)
LINEBRIDGE_INSTANTIATE(v1::OfferingMode)
LINEBRIDGE_INSTANTIATE(v1::DisconnectMode)
LINEBRIDGE_INSTANTIATE(v1::MediaMode)
LINEBRIDGE_INSTANTIATE(v1::BearerMode)
LINEBRIDGE_INSTANTIATE(v1::CallFeature)
LINEBRIDGE_INSTANTIATE(v1::AddressFeature)
LINEBRIDGE_INSTANTIATE(v1::ForwardMode)
LINEBRIDGE_INSTANTIATE(v1::DigitMode)
LINEBRIDGE_INSTANTIATE(v1::CallOrigin)
LINEBRIDGE_INSTANTIATE(v1::CallReason)
LINEBRIDGE_INSTANTIATE(v1::Privilege)
LINEBRIDGE_INSTANTIATE(v1::ParkMode)
LINEBRIDGE_INSTANTIATE(v1::TransferMode)
LINEBRIDGE_INSTANTIATE(v1::LineState)
LINEBRIDGE_INSTANTIATE(v1::CompletionMode)
#undef LINEBRIDGE_INSTANTIATE

DWORD CallStateModeToTapi(const v1::CallStatus& status) {
  switch (status.mode_case()) {
    case v1::CallStatus::kOfferingMode:
      return status.state() == v1::CALL_STATE_OFFERING ? ToTapi(status.offering_mode()) : 0;
    case v1::CallStatus::kDialToneMode:
      return status.state() == v1::CALL_STATE_DIALTONE ? ToTapi(status.dial_tone_mode()) : 0;
    case v1::CallStatus::kBusyMode:
      return status.state() == v1::CALL_STATE_BUSY ? ToTapi(status.busy_mode()) : 0;
    case v1::CallStatus::kSpecialInfoMode:
      return status.state() == v1::CALL_STATE_SPECIALINFO ? ToTapi(status.special_info_mode())
                                                          : 0;
    case v1::CallStatus::kConnectedMode:
      return status.state() == v1::CALL_STATE_CONNECTED ? ToTapi(status.connected_mode()) : 0;
    case v1::CallStatus::kDisconnectMode:
      return status.state() == v1::CALL_STATE_DISCONNECTED ? ToTapi(status.disconnect_mode())
                                                           : 0;
    case v1::CallStatus::MODE_NOT_SET:
      return 0;
  }
  return 0;
}

bool CallStateFromTapi(DWORD state, DWORD mode, v1::CallStatus* status) {
  std::optional<v1::CallState> s = FromTapi<v1::CallState>(state);
  if (!s) return false;
  // Validates `mode` for the state's mode enum; `set` stores it.
  auto apply = [&]<typename M>(void (v1::CallStatus::*set)(M)) {
    if (mode == 0) {
      status->set_state(*s);
      status->clear_mode();
      return true;
    }
    std::optional<M> m = FromTapi<M>(mode);
    if (!m) return false;
    status->set_state(*s);
    (status->*set)(*m);
    return true;
  };
  switch (*s) {
    case v1::CALL_STATE_OFFERING: return apply(&v1::CallStatus::set_offering_mode);
    case v1::CALL_STATE_DIALTONE: return apply(&v1::CallStatus::set_dial_tone_mode);
    case v1::CALL_STATE_BUSY: return apply(&v1::CallStatus::set_busy_mode);
    case v1::CALL_STATE_SPECIALINFO: return apply(&v1::CallStatus::set_special_info_mode);
    case v1::CALL_STATE_CONNECTED: return apply(&v1::CallStatus::set_connected_mode);
    case v1::CALL_STATE_DISCONNECTED: return apply(&v1::CallStatus::set_disconnect_mode);
    default:
      status->set_state(*s);
      status->clear_mode();
      return true;
  }
}

}  // namespace linebridge::tsp
