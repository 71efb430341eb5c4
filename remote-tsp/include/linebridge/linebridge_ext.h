/* linebridge.tsp's device-specific extension: what TAPI has no function for,
 * through lineDevSpecific. An application negotiates it like any TAPI
 * extension (docs/remote-tsp.md, "The linebridge extension"):
 *
 *   LINEEXTENSIONID id;
 *   DWORD ext = 0;
 *   lineNegotiateExtVersion(hApp, dev, apiVersion, LINEBRIDGE_EXT_VERSION,
 *                           LINEBRIDGE_EXT_VERSION, &ext);   // and check id
 *   lineOpen(..., dwExtVersion = ext, ...);
 *   LINEBRIDGE_IDENTITY who = {LINEBRIDGE_DEVSPECIFIC_IDENTITY};
 *   lineDevSpecific(hLine, 0, hCall, &who, sizeof who);      // LINE_REPLY, then read
 *
 * Plain C, no TAPI header needed. Strings are UTF-8 and NUL-terminated. */
#ifndef LINEBRIDGE_LINEBRIDGE_EXT_H_
#define LINEBRIDGE_LINEBRIDGE_EXT_H_

#include <stdint.h>

/* LINEEXTENSIONID of the extension (lineNegotiateExtVersion, LINEDEVCAPS). */
#define LINEBRIDGE_EXT_ID0 0x4C42E001u
#define LINEBRIDGE_EXT_ID1 0x7A3D4B19u
#define LINEBRIDGE_EXT_ID2 0x9E2F6C55u
#define LINEBRIDGE_EXT_ID3 0x0D1B8A73u

/* The only extension version so far (1.0). */
#define LINEBRIDGE_EXT_VERSION 0x00010000u

/* lineDevSpecific / phoneDevSpecific commands: the first DWORD of lpParams. */
#define LINEBRIDGE_DEVSPECIFIC_IDENTITY 1u        /* lineDevSpecific */
#define LINEBRIDGE_DEVSPECIFIC_PHONE_IDENTITY 2u  /* phoneDevSpecific */

/* LINEBRIDGE_DEVSPECIFIC_IDENTITY: who the line and call are on the server,
 * to find them in linectl, call records and server logs. dwSize must be at
 * least sizeof(LINEBRIDGE_IDENTITY). */
#define LINEBRIDGE_ID_CHARS 256
typedef struct LINEBRIDGE_IDENTITY {
  uint32_t dwCommand;                       /* LINEBRIDGE_DEVSPECIFIC_IDENTITY */
  char szServerId[LINEBRIDGE_ID_CHARS];     /* the server's identity ("" if unknown) */
  char szLineId[LINEBRIDGE_ID_CHARS];       /* the permanent line id, e.g. "sim/100" */
  char szCallId[LINEBRIDGE_ID_CHARS];       /* the server's call id; "" without hdCall */
} LINEBRIDGE_IDENTITY;

/* LINEBRIDGE_DEVSPECIFIC_PHONE_IDENTITY (phoneDevSpecific, after
 * phoneNegotiateExtVersion and phoneOpen with the extension version): who
 * the phone is on the server. dwSize at least sizeof(LINEBRIDGE_PHONE_IDENTITY). */
typedef struct LINEBRIDGE_PHONE_IDENTITY {
  uint32_t dwCommand;                       /* LINEBRIDGE_DEVSPECIFIC_PHONE_IDENTITY */
  char szServerId[LINEBRIDGE_ID_CHARS];     /* the server's identity ("" if unknown) */
  char szPhoneId[LINEBRIDGE_ID_CHARS];      /* the permanent phone id, e.g. "sim/phone/100" */
  char szLineId[LINEBRIDGE_ID_CHARS];       /* the phone's line ("" if none) */
} LINEBRIDGE_PHONE_IDENTITY;

#endif /* LINEBRIDGE_LINEBRIDGE_EXT_H_ */
