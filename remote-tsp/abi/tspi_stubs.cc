// ABI check only: defines every TSPI entry point of linebridge.def against the
// real <tspi.h> (a definition whose signature or calling convention differs
// from tspi.h's declaration does not compile), so check_abi.sh can link a DLL
// with the .def and inspect its export table. Every stub fails with
// LINEERR_OPERATIONUNAVAIL; this is not the TSP.
#include <windows.h>
#include <tapi.h>
#include <tspi.h>

#include <type_traits>

#include "linebridge/tapi_abi_decls.h"

#define LB_STUB(NAME, PARAMS)                                   \
  extern "C" LONG TSPIAPI NAME PARAMS {                         \
    return static_cast<LONG>(LINEERR_OPERATIONUNAVAIL);         \
  }
LINEBRIDGE_TSPI_FUNCTIONS(LB_STUB)
#undef LB_STUB
