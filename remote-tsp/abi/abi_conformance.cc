// ABI conformance check for linebridge/tapi_abi.h. Compile-only: every check
// is a static_assert, so a successful compile is the proof.
//
// With a mingw-w64 compiler (_WIN32; run for x86_64 and i686 by check_abi.sh)
// the real <windows.h>/<tapi.h>/<tspi.h> are included first and the project's
// own declarations are included into `namespace linebridge_abi`; then, for
//  * every scalar/handle type: size, alignment, signedness, pointer-ness and
//    constness of the pointee equal;
//  * every structure: size and alignment equal, size equal to the table below,
//    and for every field: offset and size equal, and the field list's type
//    column names the SDK member's type;
//  * every callback typedef and every TSPI entry point: the SDK's type equals
//    the list's signature (with the calling convention, which is part of the
//    type on i686);
//  * every constant: the SDK's macro has the list's value (and, except for
//    LINEERR_* and PHONEERR_*, the same signedness); constants mingw lacks
//    must stay absent.
//
// With the native compiler (Linux) only tapi_abi.h is included: it must be
// self-contained, its structures must have the Windows sizes (they hold no
// pointers, so LP64 matches Win64 and Win32), and the generated constants,
// callbacks and prototypes must match the lists.

#if defined(_WIN32)
#include <windows.h>
#include <tapi.h>
#include <tspi.h>
#include <mcx.h>
#endif

#include <array>
#include <bit>
#include <cstddef>
#include <cstdint>
#include <string_view>
#include <type_traits>

#include "linebridge/unimodem_layout.h"

#if defined(_WIN32)
#include "linebridge/tapi_abi_constants.h"
#include "linebridge/tapi_abi_decls.h"
namespace linebridge_abi {
#include "linebridge/detail/tapi_abi_types.inc"
#include "linebridge/detail/tapi_abi_structs.inc"
}  // namespace linebridge_abi
#else
#include "linebridge/tapi_abi.h"
#endif

// Sizes of the structures on Win32 and Win64 alike (no pointers, pack(1)).
#define LINEBRIDGE_TAPI_STRUCT_SIZES(X) \
  X(VARSTRING, 24) \
  X(LINEDIALPARAMS, 16) \
  X(LINEDEVCAPS, 292) \
  X(LINEADDRESSCAPS, 228) \
  X(LINEDEVSTATUS, 88) \
  X(LINEADDRESSSTATUS, 64) \
  X(LINECALLINFO, 344) \
  X(LINECALLSTATUS, 56) \
  X(LINECALLPARAMS, 180) \
  X(LINEEXTENSIONID, 16) \
  X(LINEFORWARD, 32) \
  X(LINEFORWARDLIST, 40) \
  X(LINEGENERATETONE, 16) \
  X(LINEMONITORTONE, 20) \
  X(LINEMEDIACONTROLDIGIT, 12) \
  X(LINEMEDIACONTROLMEDIA, 12) \
  X(LINEMEDIACONTROLTONE, 24) \
  X(LINEMEDIACONTROLCALLSTATE, 8) \
  X(LINECALLHUBTRACKINGINFO, 20) \
  X(PHONEBUTTONINFO, 40) \
  X(PHONECAPS, 196) \
  X(PHONEEXTENSIONID, 16) \
  X(PHONESTATUS, 104) \
  X(GUID, 16) \
  X(SYSTEMTIME, 16)

namespace {

template <typename A, typename B>
constexpr bool kSameScalarShape =
    sizeof(A) == sizeof(B) && alignof(A) == alignof(B) &&
    std::is_signed_v<A> == std::is_signed_v<B> &&
    std::is_pointer_v<A> == std::is_pointer_v<B> &&
    std::is_class_v<A> == std::is_class_v<B> &&
    std::is_const_v<std::remove_pointer_t<A>> == std::is_const_v<std::remove_pointer_t<B>>;

#define LB_STR2(x) #x
#define LB_STR(x) LB_STR2(x)

#if defined(_WIN32)

// ---- types ------------------------------------------------------------------
#define LB_CHECK_TYPE(T) \
  static_assert(kSameScalarShape<::T, linebridge_abi::T>, "type " #T " differs from the SDK's");
LINEBRIDGE_TAPI_BASE_TYPES(LB_CHECK_TYPE)
#undef LB_CHECK_TYPE

// ---- structures ----------------------------------------------------------------
#define LB_CHECK_FIELD(S, T, F)                                                    \
  static_assert(offsetof(::S, F) == offsetof(linebridge_abi::S, F),                \
                "offset of " #S "." #F " differs from the SDK's");                 \
  static_assert(sizeof(::S::F) == sizeof(linebridge_abi::S::F),                    \
                "size of " #S "." #F " differs from the SDK's");                   \
  static_assert(std::is_same_v<decltype(::S::F), T>,                               \
                "type column of " #S "." #F " is not the SDK member's type");
#define LB_CHECK_STRUCT(S)                                                         \
  static_assert(sizeof(::S) == sizeof(linebridge_abi::S), "size of " #S " differs"); \
  static_assert(alignof(::S) == alignof(linebridge_abi::S), "alignment of " #S " differs"); \
  static_assert(std::is_same_v<::LP##S, ::S*> &&                                   \
                std::is_same_v<linebridge_abi::LP##S, linebridge_abi::S*>, "LP" #S); \
  LINEBRIDGE_TAPI_STRUCT_FIELDS_##S(LB_CHECK_FIELD)
LINEBRIDGE_TAPI_STRUCTS(LB_CHECK_STRUCT)
LINEBRIDGE_TAPI_STRUCT_FIELDS_GUID(LB_CHECK_FIELD)
LINEBRIDGE_TAPI_STRUCT_FIELDS_SYSTEMTIME(LB_CHECK_FIELD)
#undef LB_CHECK_STRUCT
#undef LB_CHECK_FIELD

#define LB_CHECK_SIZE(S, N) \
  static_assert(sizeof(::S) == (N) && sizeof(linebridge_abi::S) == (N), "sizeof(" #S ") != " #N);
LINEBRIDGE_TAPI_STRUCT_SIZES(LB_CHECK_SIZE)
#undef LB_CHECK_SIZE

// ---- callbacks and TSPI entry points (SDK types at global scope) --------------
#define LB_CHECK_CALLBACK(R, NAME, PARAMS)                                          \
  static_assert(std::is_same_v<::NAME, R(LINEBRIDGE_CALLBACK*) PARAMS>,             \
                "callback " #NAME " differs from the SDK's");
LINEBRIDGE_TAPI_CALLBACKS(LB_CHECK_CALLBACK)
#undef LB_CHECK_CALLBACK

#define LB_CHECK_TSPI(NAME, PARAMS)                                                 \
  static_assert(std::is_same_v<decltype(&::NAME), LONG(LINEBRIDGE_TSPIAPI*) PARAMS>, \
                #NAME " differs from tspi.h's prototype");
LINEBRIDGE_TSPI_FUNCTIONS(LB_CHECK_TSPI)
#undef LB_CHECK_TSPI

// ---- constants -----------------------------------------------------------------
// NAME expands to the SDK macro's replacement; #NAME is the name as listed.
#define LB_CHECK_CONSTANT(NAME, VALUE)                                              \
  static_assert(static_cast<std::uint32_t>(NAME) == static_cast<std::uint32_t>(VALUE), \
                #NAME " differs from the SDK's value");                             \
  static_assert(std::is_signed_v<decltype(NAME)> == std::is_signed_v<decltype(VALUE)>, \
                #NAME " differs from the SDK's signedness");
#define LB_CHECK_LONG_CONSTANT(NAME, VALUE)                                         \
  static_assert(static_cast<std::uint32_t>(NAME) == static_cast<std::uint32_t>(VALUE), \
                #NAME " differs from the SDK's value");                             \
  static_assert(std::is_signed_v<decltype(NAME)> && sizeof(NAME) == 4, #NAME " is not LONG");
// mingw-w64 writes LINEERR_* as unsigned literals where the SDK casts to LONG,
// so only the value is compared.
#define LB_CHECK_LINEERR(NAME, VALUE)                                               \
  static_assert(static_cast<std::uint32_t>(LINEERR_##NAME) == (VALUE),              \
                "LINEERR_" #NAME " differs from the SDK's value");
#define LB_CHECK_PHONEERR(NAME, VALUE)                                              \
  static_assert(static_cast<std::uint32_t>(NAME) == (VALUE), #NAME " differs from the SDK's value");
#define LB_CHECK_ABSENT(NAME, VALUE)                                                \
  static_assert(std::string_view(#NAME) == std::string_view(LB_STR(NAME)),          \
                #NAME " is now defined by the headers: move it to a checked list");
LINEBRIDGE_TAPI_CONSTANTS(LB_CHECK_CONSTANT)
LINEBRIDGE_TAPI_LONG_CONSTANTS(LB_CHECK_LONG_CONSTANT)
LINEBRIDGE_LINEERR_LIST(LB_CHECK_LINEERR)
LINEBRIDGE_TAPI_PHONEERR(LB_CHECK_PHONEERR)
LINEBRIDGE_TAPI_VERSIONS(LB_CHECK_ABSENT)
#undef LB_CHECK_CONSTANT
#undef LB_CHECK_LONG_CONSTANT
#undef LB_CHECK_LINEERR
#undef LB_CHECK_PHONEERR
#undef LB_CHECK_ABSENT

// ---- Unimodem's device configuration (linebridge/unimodem_layout.h) --------------
// COMMCONFIG and DCB (winbase.h), MODEMSETTINGS and its constants (mcx.h).
// DEVCFGHDR and MDMCFG_VERSION are in no mingw-w64 header: the TAPI
// reference's comm/datamodem page gives them (checked natively below).
namespace um = linebridge::unimodem;
static_assert(sizeof(DCB) == um::kDcbSize && sizeof(COMMCONFIG) == um::kCommConfigSize &&
              sizeof(MODEMSETTINGS) == um::kModemSettingsSize);
static_assert(offsetof(DCB, DCBlength) == um::kDcbDCBlength &&
              offsetof(DCB, BaudRate) == um::kDcbBaudRate &&
              offsetof(DCB, wReserved) == um::kDcbWReserved &&
              offsetof(DCB, XonLim) == um::kDcbXonLim && offsetof(DCB, XoffLim) == um::kDcbXoffLim &&
              offsetof(DCB, ByteSize) == um::kDcbByteSize && offsetof(DCB, Parity) == um::kDcbParity &&
              offsetof(DCB, StopBits) == um::kDcbStopBits &&
              offsetof(DCB, XonChar) == um::kDcbXonChar && offsetof(DCB, XoffChar) == um::kDcbXoffChar);
// The bit-fields: each flag set alone lands on its bit of the DWORD at kDcbFlags.
constexpr std::uint32_t DcbFlags(DCB d) {
  const auto bytes = std::bit_cast<std::array<unsigned char, sizeof(DCB)>>(d);
  return static_cast<std::uint32_t>(bytes[um::kDcbFlags]) |
         static_cast<std::uint32_t>(bytes[um::kDcbFlags + 1]) << 8 |
         static_cast<std::uint32_t>(bytes[um::kDcbFlags + 2]) << 16 |
         static_cast<std::uint32_t>(bytes[um::kDcbFlags + 3]) << 24;
}
static_assert(DcbFlags([] { DCB d{}; d.fBinary = 1; return d; }()) == um::kDcbFBinary);
static_assert(DcbFlags([] { DCB d{}; d.fParity = 1; return d; }()) == um::kDcbFParity);
static_assert(DcbFlags([] { DCB d{}; d.fOutxCtsFlow = 1; return d; }()) == um::kDcbFOutxCtsFlow);
static_assert(DcbFlags([] { DCB d{}; d.fOutxDsrFlow = 1; return d; }()) == um::kDcbFOutxDsrFlow);
static_assert(DcbFlags([] { DCB d{}; d.fOutX = 1; return d; }()) == um::kDcbFOutX);
static_assert(DcbFlags([] { DCB d{}; d.fInX = 1; return d; }()) == um::kDcbFInX);
static_assert(DcbFlags([] { DCB d{}; d.fDtrControl = DTR_CONTROL_ENABLE; return d; }()) ==
              um::kDtrControlEnable << um::kDcbFDtrControlShift);
static_assert(DcbFlags([] { DCB d{}; d.fRtsControl = RTS_CONTROL_HANDSHAKE; return d; }()) ==
              um::kRtsControlHandshake << um::kDcbFRtsControlShift);
static_assert(DTR_CONTROL_ENABLE == um::kDtrControlEnable &&
              RTS_CONTROL_ENABLE == um::kRtsControlEnable &&
              RTS_CONTROL_HANDSHAKE == um::kRtsControlHandshake);
static_assert(NOPARITY == um::kNoParity && ODDPARITY == um::kOddParity &&
              EVENPARITY == um::kEvenParity && MARKPARITY == um::kMarkParity &&
              SPACEPARITY == um::kSpaceParity && ONESTOPBIT == um::kOneStopBit &&
              ONE5STOPBITS == um::kOne5StopBits && TWOSTOPBITS == um::kTwoStopBits);
static_assert(offsetof(COMMCONFIG, dwSize) == um::kCcDwSize &&
              offsetof(COMMCONFIG, wVersion) == um::kCcWVersion &&
              offsetof(COMMCONFIG, wReserved) == um::kCcWReserved &&
              offsetof(COMMCONFIG, dcb) == um::kCcDcb &&
              offsetof(COMMCONFIG, dwProviderSubType) == um::kCcDwProviderSubType &&
              offsetof(COMMCONFIG, dwProviderOffset) == um::kCcDwProviderOffset &&
              offsetof(COMMCONFIG, dwProviderSize) == um::kCcDwProviderSize &&
              offsetof(COMMCONFIG, wcProviderData) == um::kCcWcProviderData &&
              PST_MODEM == um::kPstModem);
static_assert(offsetof(MODEMSETTINGS, dwActualSize) == um::kMsDwActualSize &&
              offsetof(MODEMSETTINGS, dwRequiredSize) == um::kMsDwRequiredSize &&
              offsetof(MODEMSETTINGS, dwDevSpecificOffset) == um::kMsDwDevSpecificOffset &&
              offsetof(MODEMSETTINGS, dwDevSpecificSize) == um::kMsDwDevSpecificSize &&
              offsetof(MODEMSETTINGS, dwCallSetupFailTimer) == um::kMsDwCallSetupFailTimer &&
              offsetof(MODEMSETTINGS, dwInactivityTimeout) == um::kMsDwInactivityTimeout &&
              offsetof(MODEMSETTINGS, dwSpeakerVolume) == um::kMsDwSpeakerVolume &&
              offsetof(MODEMSETTINGS, dwSpeakerMode) == um::kMsDwSpeakerMode &&
              offsetof(MODEMSETTINGS, dwPreferredModemOptions) == um::kMsDwPreferredModemOptions &&
              offsetof(MODEMSETTINGS, dwNegotiatedModemOptions) == um::kMsDwNegotiatedModemOptions &&
              offsetof(MODEMSETTINGS, dwNegotiatedDCERate) == um::kMsDwNegotiatedDCERate &&
              offsetof(MODEMSETTINGS, abVariablePortion) == um::kMsAbVariablePortion &&
              um::kModemSettingsFixed == offsetof(MODEMSETTINGS, abVariablePortion));
static_assert(MDMVOL_LOW == um::kMdmVolLow && MDMVOL_MEDIUM == um::kMdmVolMedium &&
              MDMVOL_HIGH == um::kMdmVolHigh && MDMSPKR_OFF == um::kMdmSpkrOff &&
              MDMSPKR_DIAL == um::kMdmSpkrDial && MDMSPKR_ON == um::kMdmSpkrOn &&
              MDMSPKR_CALLSETUP == um::kMdmSpkrCallSetup);
static_assert(MDM_COMPRESSION == um::kMdmCompression && MDM_ERROR_CONTROL == um::kMdmErrorControl &&
              MDM_FORCED_EC == um::kMdmForcedEc &&
              MDM_FLOWCONTROL_HARD == um::kMdmFlowControlHard &&
              MDM_FLOWCONTROL_SOFT == um::kMdmFlowControlSoft &&
              MDM_BLIND_DIAL == um::kMdmBlindDial);

#else  // native: the project's header alone

// The internal headers also work inside a namespace on this platform.
namespace linebridge_abi {
#include "linebridge/detail/tapi_abi_types.inc"
#include "linebridge/detail/tapi_abi_structs.inc"
}  // namespace linebridge_abi

#define LB_CHECK_TYPE(T) static_assert(kSameScalarShape<::T, linebridge_abi::T>, #T);
LINEBRIDGE_TAPI_BASE_TYPES(LB_CHECK_TYPE)
#undef LB_CHECK_TYPE

static_assert(sizeof(BYTE) == 1 && sizeof(WORD) == 2 && sizeof(DWORD) == 4 && sizeof(LONG) == 4);
static_assert(std::is_unsigned_v<DWORD> && std::is_signed_v<LONG> && sizeof(BOOL) == 4);
static_assert(std::is_same_v<WCHAR, char16_t>, "WCHAR is UTF-16, never wchar_t");
static_assert(sizeof(DWORD_PTR) == sizeof(void*) && sizeof(HDRVLINE) == sizeof(void*));
static_assert(sizeof(HLINE) == 4 && sizeof(HTAPIMSPLINE) == 4, "32-bit TAPI handles");

#define LB_CHECK_SIZE(S, N) static_assert(sizeof(S) == (N), "sizeof(" #S ") != " #N " (Windows)");
LINEBRIDGE_TAPI_STRUCT_SIZES(LB_CHECK_SIZE)
#undef LB_CHECK_SIZE

#define LB_CHECK_FIELD(S, T, F)                                                     \
  static_assert(std::is_same_v<decltype(S::F), T>, #S "." #F);                      \
  static_assert(offsetof(S, F) == offsetof(linebridge_abi::S, F), #S "." #F);
#define LB_CHECK_STRUCT(S) \
  static_assert(alignof(S) == 1, #S " is packed"); \
  LINEBRIDGE_TAPI_STRUCT_FIELDS_##S(LB_CHECK_FIELD)
LINEBRIDGE_TAPI_STRUCTS(LB_CHECK_STRUCT)
#undef LB_CHECK_STRUCT
#undef LB_CHECK_FIELD

#define LB_CHECK_CALLBACK(R, NAME, PARAMS) \
  static_assert(std::is_same_v<NAME, R(LINEBRIDGE_CALLBACK*) PARAMS>, #NAME);
LINEBRIDGE_TAPI_CALLBACKS(LB_CHECK_CALLBACK)
#undef LB_CHECK_CALLBACK

#define LB_CHECK_TSPI(NAME, PARAMS) \
  static_assert(std::is_same_v<decltype(&NAME), LONG(LINEBRIDGE_TSPIAPI*) PARAMS>, #NAME);
LINEBRIDGE_TSPI_FUNCTIONS(LB_CHECK_TSPI)
#undef LB_CHECK_TSPI

#define LB_CHECK_CONSTANT(NAME, VALUE)                                              \
  static_assert(NAME == (VALUE) && std::is_same_v<decltype(NAME), const decltype(VALUE)>, #NAME);
#define LB_CHECK_LONG_CONSTANT(NAME, VALUE) \
  static_assert(NAME == (VALUE) && std::is_same_v<decltype(NAME), const LONG>, #NAME);
#define LB_CHECK_LINEERR(NAME, VALUE)                                               \
  static_assert(static_cast<std::uint32_t>(LINEERR_##NAME) == (VALUE) &&            \
                std::is_same_v<decltype(LINEERR_##NAME), const LONG>, "LINEERR_" #NAME);
#define LB_CHECK_PHONEERR(NAME, VALUE)                                              \
  static_assert(static_cast<std::uint32_t>(NAME) == (VALUE) &&                      \
                std::is_same_v<decltype(NAME), const LONG>, #NAME);
#define LB_CHECK_VERSION(NAME, VALUE) static_assert(NAME == (VALUE), #NAME);
LINEBRIDGE_TAPI_CONSTANTS(LB_CHECK_CONSTANT)
LINEBRIDGE_TAPI_LONG_CONSTANTS(LB_CHECK_LONG_CONSTANT)
LINEBRIDGE_LINEERR_LIST(LB_CHECK_LINEERR)
LINEBRIDGE_TAPI_PHONEERR(LB_CHECK_PHONEERR)
LINEBRIDGE_TAPI_VERSIONS(LB_CHECK_VERSION)
#undef LB_CHECK_CONSTANT
#undef LB_CHECK_LONG_CONSTANT
#undef LB_CHECK_LINEERR
#undef LB_CHECK_PHONEERR
#undef LB_CHECK_VERSION

// Unimodem's UMDEVCFG as the TSP writes it: DEVCFGHDR (the TAPI reference's
// comm/datamodem: DWORD dwSize, DWORD dwVersion, WORD fwOptions, WORD
// wWaitBong), then COMMCONFIG up to its provider data, then MODEMSETTINGS.
static_assert(linebridge::unimodem::kHdrSize == 12 && linebridge::unimodem::kHdrWWaitBong == 10 &&
              linebridge::unimodem::kMdmCfgVersion == 0x00010003 &&
              linebridge::unimodem::kUmDevCfgModemSettings == 60 &&
              linebridge::unimodem::kUmDevCfgSize == 108);

// A constant is usable as a case label and combines like the SDK's macros.
static_assert((LINECALLSTATE_CONNECTED | LINECALLSTATE_ONHOLD) == 0x500);
static_assert(static_cast<DWORD>(LINECALLFEATURE_SETCALLDATA) == 0x80000000u);
#if !defined(TSPIAPI) || !defined(TRUE) || !defined(FALSE)
#error "tapi_abi.h must define TSPIAPI, TRUE and FALSE"
#endif

#endif

}  // namespace
