// Conversions between linebridge.v1's enums and TAPI's LINE* constants
// (docs/tapi-mapping.md). Every conversion goes through an explicit table in
// tapi_mapping.cc; nothing is computed from enum numbers.
//
//  * ToTapi(value): the constant for one enum value; 0 for *_UNSPECIFIED and
//    for numbers the enum does not define.
//  * FromTapi<E>(constant): the enum value for exactly one known constant;
//    nullopt for 0, for several bits and for constants E has no value for
//    (e.g. LINEFORWARDMODE_UNCONDINTERNAL: ForwardMode has only the four
//    plain modes).
//  * ToTapiMask<E>(values) / FromTapiMask<E>(mask): a repeated enum field (or
//    any list) to the OR of its constants and back, in TAPI bit order.
#pragma once

#include <initializer_list>
#include <optional>
#include <type_traits>
#include <vector>

#include "linebridge/tapi_abi.h"
#include "linebridge/v1/types.pb.h"

namespace linebridge::tsp {

// The enums with a table.
template <typename E>
concept TapiMappedEnum =
    std::is_same_v<E, v1::CallState> || std::is_same_v<E, v1::DialToneMode> ||
    std::is_same_v<E, v1::BusyMode> || std::is_same_v<E, v1::SpecialInfoMode> ||
    std::is_same_v<E, v1::ConnectedMode> || std::is_same_v<E, v1::OfferingMode> ||
    std::is_same_v<E, v1::DisconnectMode> || std::is_same_v<E, v1::MediaMode> ||
    std::is_same_v<E, v1::BearerMode> || std::is_same_v<E, v1::CallFeature> ||
    std::is_same_v<E, v1::AddressFeature> || std::is_same_v<E, v1::ForwardMode> ||
    std::is_same_v<E, v1::DigitMode> || std::is_same_v<E, v1::CallOrigin> ||
    std::is_same_v<E, v1::CallReason> || std::is_same_v<E, v1::Privilege> ||
    std::is_same_v<E, v1::ParkMode> || std::is_same_v<E, v1::TransferMode> ||
    std::is_same_v<E, v1::LineState> || std::is_same_v<E, v1::CompletionMode>;

DWORD ToTapi(v1::CallState value);        // LINECALLSTATE_*
DWORD ToTapi(v1::DialToneMode value);     // LINEDIALTONEMODE_*
DWORD ToTapi(v1::BusyMode value);         // LINEBUSYMODE_*
DWORD ToTapi(v1::SpecialInfoMode value);  // LINESPECIALINFO_*
DWORD ToTapi(v1::ConnectedMode value);    // LINECONNECTEDMODE_*
DWORD ToTapi(v1::OfferingMode value);     // LINEOFFERINGMODE_*
DWORD ToTapi(v1::DisconnectMode value);   // LINEDISCONNECTMODE_*
DWORD ToTapi(v1::MediaMode value);        // LINEMEDIAMODE_*
DWORD ToTapi(v1::BearerMode value);       // LINEBEARERMODE_*
DWORD ToTapi(v1::CallFeature value);      // LINECALLFEATURE_*
DWORD ToTapi(v1::AddressFeature value);   // LINEADDRFEATURE_*
DWORD ToTapi(v1::ForwardMode value);      // LINEFORWARDMODE_* (UNCOND, BUSY, NOANSW, BUSYNA)
DWORD ToTapi(v1::DigitMode value);        // LINEDIGITMODE_*
DWORD ToTapi(v1::CallOrigin value);       // LINECALLORIGIN_*
DWORD ToTapi(v1::CallReason value);       // LINECALLREASON_*
DWORD ToTapi(v1::Privilege value);        // LINECALLPRIVILEGE_*
DWORD ToTapi(v1::ParkMode value);         // LINEPARKMODE_*
DWORD ToTapi(v1::TransferMode value);     // LINETRANSFERMODE_*
DWORD ToTapi(v1::LineState value);        // LINEDEVSTATE_INSERVICE/OUTOFSERVICE/MAINTENANCE/REMOVED
DWORD ToTapi(v1::CompletionMode value);   // LINECALLCOMPLMODE_*

template <TapiMappedEnum E>
std::optional<E> FromTapi(DWORD constant);

// OR of the constants of `values` (ints of a repeated enum field, or enum
// values); values without a constant contribute nothing.
template <TapiMappedEnum E>
DWORD ToTapiMask(const google::protobuf::RepeatedField<int>& values);
template <TapiMappedEnum E>
DWORD ToTapiMask(std::initializer_list<E> values);

// The enum values whose constants are set in `mask`, in bit order. Bits no
// value maps to are dropped and, if `unmapped` is given, stored there.
template <TapiMappedEnum E>
std::vector<E> FromTapiMask(DWORD mask, DWORD* unmapped = nullptr);

// Every constant E maps to, ORed (what a TSP can advertise in caps).
template <TapiMappedEnum E>
DWORD AllTapiBits();

// dwCallStateMode of LINECALLSTATUS / dwParam2 of LINE_CALLSTATE: the constant
// of the `mode` oneof when the mode belongs to the state (offering_mode for
// OFFERING, dial_tone_mode for DIALTONE, busy_mode for BUSY, special_info_mode
// for SPECIALINFO, connected_mode for CONNECTED, disconnect_mode for
// DISCONNECTED); 0 when no mode is set or it belongs to another state.
DWORD CallStateModeToTapi(const v1::CallStatus& status);

// The reverse, for dwCallState/dwCallStateMode: sets `status`'s state and its
// mode (cleared for mode 0 and for states without a mode enum, where TAPI's
// second parameter means something else). Returns false, leaving `status`
// unchanged, if `state` is not one LINECALLSTATE_* or a nonzero `mode` is not
// one of the state's mode constants.
bool CallStateFromTapi(DWORD state, DWORD mode, v1::CallStatus* status);

}  // namespace linebridge::tsp
