// The project's TAPI/TSPI ABI: the types, structures, constants and TSPI
// entry points a TAPI line service provider needs, declared in the global
// namespace under the Windows SDK's names so the same TSP source compiles
// against either header.
//
//  * Windows with LINEBRIDGE_USE_SDK_TAPI: the SDK's <tapi.h>/<tspi.h> (TAPI
//    3.0 layouts; TAPI_CURRENT_VERSION defaults to 0x00030000 here).
//  * Otherwise (Linux, or Windows without the SDK): our own declarations,
//    generated from the X-macro lists in tapi_abi_constants.h and
//    tapi_abi_decls.h. abi/abi_conformance.cc proves them equal to the SDK's.
//
// Differences a TSP author should know about in our own declarations:
//  * Constants are `inline constexpr` variables, not macros (same values and,
//    for all but LINEERR_*/PHONEERR_*, the same types as the SDK's literals;
//    LINEERR_*, PHONEERR_* and LINE_*/PHONE_* message ids are LONG as in the
//    SDK). Don't test them with #ifdef.
//  * WCHAR is char16_t everywhere; write UTF-16 literals as u"..." and convert
//    at the boundary when building with the SDK (where WCHAR is wchar_t).
//  * DWORD is uint32_t and LONG int32_t (the SDK's are unsigned long / long).
#pragma once

#include "linebridge/tapi_abi_constants.h"
#include "linebridge/tapi_abi_decls.h"

#if defined(_WIN32) && defined(LINEBRIDGE_USE_SDK_TAPI)

#ifndef TAPI_CURRENT_VERSION
#define TAPI_CURRENT_VERSION 0x00030000
#endif
#include <windows.h>
#include <tapi.h>
#include <tspi.h>
#if TAPI_CURRENT_VERSION < 0x00030000
#error "linebridge's TSP needs the TAPI 3.0 layouts (TAPI_CURRENT_VERSION >= 0x00030000)"
#endif

#ifndef TAPI_VERSION3_0  // mingw-w64's tapi.h has no TAPI_VERSION* constants
#define LINEBRIDGE_DETAIL_CONSTANT(NAME, VALUE) inline constexpr DWORD NAME = VALUE;
LINEBRIDGE_TAPI_VERSIONS(LINEBRIDGE_DETAIL_CONSTANT)
#undef LINEBRIDGE_DETAIL_CONSTANT
#endif

#else  // our own declarations

#include <cstddef>
#include <cstdint>
#include <type_traits>

#include "linebridge/detail/tapi_abi_types.inc"
#include "linebridge/detail/tapi_abi_structs.inc"

#define LINEBRIDGE_DETAIL_CONSTANT(NAME, VALUE) inline constexpr auto NAME = VALUE;
#define LINEBRIDGE_DETAIL_LONG_CONSTANT(NAME, VALUE) inline constexpr LONG NAME = VALUE;
#define LINEBRIDGE_DETAIL_LINEERR(NAME, VALUE) \
  inline constexpr LONG LINEERR_##NAME = static_cast<LONG>(VALUE);
#define LINEBRIDGE_DETAIL_PHONEERR(NAME, VALUE) inline constexpr LONG NAME = static_cast<LONG>(VALUE);
#define LINEBRIDGE_DETAIL_DWORD_CONSTANT(NAME, VALUE) inline constexpr DWORD NAME = VALUE;
LINEBRIDGE_TAPI_CONSTANTS(LINEBRIDGE_DETAIL_CONSTANT)
LINEBRIDGE_TAPI_LONG_CONSTANTS(LINEBRIDGE_DETAIL_LONG_CONSTANT)
LINEBRIDGE_LINEERR_LIST(LINEBRIDGE_DETAIL_LINEERR)
LINEBRIDGE_TAPI_PHONEERR(LINEBRIDGE_DETAIL_PHONEERR)
LINEBRIDGE_TAPI_VERSIONS(LINEBRIDGE_DETAIL_DWORD_CONSTANT)
#undef LINEBRIDGE_DETAIL_CONSTANT
#undef LINEBRIDGE_DETAIL_LONG_CONSTANT
#undef LINEBRIDGE_DETAIL_LINEERR
#undef LINEBRIDGE_DETAIL_PHONEERR
#undef LINEBRIDGE_DETAIL_DWORD_CONSTANT

#ifndef TSPIAPI
#define TSPIAPI LINEBRIDGE_TSPIAPI
#endif
#ifndef TRUE
#define TRUE 1
#endif
#ifndef FALSE
#define FALSE 0
#endif

// The entry points a TSP exports (tspi.h's prototypes).
extern "C" {
#define LINEBRIDGE_DETAIL_TSPI(NAME, PARAMS) LONG LINEBRIDGE_TSPIAPI NAME PARAMS;
LINEBRIDGE_TSPI_FUNCTIONS(LINEBRIDGE_DETAIL_TSPI)
#undef LINEBRIDGE_DETAIL_TSPI
}

#endif
