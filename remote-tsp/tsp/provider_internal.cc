// Helpers the provider's parts share: starting a structure, the LINEFORWARD
// size, error mapping, the dialable-address pre-scan.
#include "tsp/provider_internal.h"

#include <algorithm>
#include <cstring>

#include "linebridge/deadline.h"

namespace linebridge::tsp {

DWORD TickCount() {
  return static_cast<DWORD>(absl::ToInt64Milliseconds(MonotonicNow() - absl::UnixEpoch()));
}

DWORD CallInfoStateBits(const v1::CallInfoChanged& change) {
  DWORD out = 0;
  for (const std::string& field : change.changed()) {
    if (field == "caller") out |= LINECALLINFOSTATE_CALLERID;
    else if (field == "called") out |= LINECALLINFOSTATE_CALLEDID;
    else if (field == "connected") out |= LINECALLINFOSTATE_CONNECTEDID;
    else if (field == "redirection") out |= LINECALLINFOSTATE_REDIRECTIONID;
    else if (field == "redirecting") out |= LINECALLINFOSTATE_REDIRECTINGID;
    else if (field == "user_user_info") out |= LINECALLINFOSTATE_USERUSERINFO;
    else if (field == "related_call_id") out |= LINECALLINFOSTATE_RELATEDCALLID;
    else if (field == "media_mode") out |= LINECALLINFOSTATE_MEDIAMODE;
    else if (field == "bearer_mode") out |= LINECALLINFOSTATE_BEARERMODE;
    else if (field == "app_specific") out |= LINECALLINFOSTATE_APPSPECIFIC;
    else if (field == "call_data") out |= LINECALLINFOSTATE_CALLDATA;
    else if (field == "origin") out |= LINECALLINFOSTATE_ORIGIN;
    else if (field == "reason") out |= LINECALLINFOSTATE_REASON;
    else if (field == "trunk") out |= LINECALLINFOSTATE_TRUNK;
    else if (field == "monitored_digit_modes") out |= LINECALLINFOSTATE_MONITORMODES;
    else if (field == "rate") out |= LINECALLINFOSTATE_RATE;
    else if (field == "dial_params") out |= LINECALLINFOSTATE_DIALPARAMS;
    else if (field == "treatment") out |= LINECALLINFOSTATE_TREATMENT;
    else if (field == "completion_id") out |= LINECALLINFOSTATE_COMPLETIONID;
    else out |= LINECALLINFOSTATE_OTHER;
  }
  return out == 0 ? static_cast<DWORD>(LINECALLINFOSTATE_OTHER) : out;
}

// ---- structure writing ----

DWORD TotalSizeOf(const void* structure) {
  DWORD total;
  std::memcpy(&total, structure, sizeof total);
  return total;
}

// Zeroes the fixed part (as far as it fits) and returns the writer.
VarStructWriter StartStruct(void* structure, DWORD fixed) {
  VarStructWriter w(structure, fixed);
  const DWORD total = w.total_size();
  const DWORD end = std::min(total, fixed);
  if (end > VarStructWriter::kHeaderSize) {
    std::memset(static_cast<unsigned char*>(structure) + VarStructWriter::kHeaderSize, 0,
                end - VarStructWriter::kHeaderSize);
  }
  return w;
}

// LINEFORWARD is 8 DWORDs from TSPI 3.0 on, 6 before.
DWORD ForwardEntrySize(DWORD version) {
  return version >= 0x00030000 ? sizeof(LINEFORWARD)
                               : static_cast<DWORD>(offsetof(LINEFORWARD, dwCallerAddressType));
}

// TAPI's pre-scan of a dialable address (TSPI_lineDial/lineMakeCall: "the
// service provider should pre-scan the number for unsupported characters"
// and then dial nothing): 0 or the LINEERR. This provider advertises none of
// LINEDEVCAPFLAGS_DIALBILLING/DIALQUIET/DIALDIALTONE, so '$', '@', 'W' and
// '?' are refused with their own errors, ':' with DIALVOICEDETECT; anything
// outside the dialable number format is INVALADDRESS. What follows '|'
// (subaddress) or '^' (name) is free text.
LONG ScanDialable(const std::string& address) {
  for (char c : address) {
    if (c == '|' || c == '^') return 0;
    if ((c >= '0' && c <= '9') || (c >= 'A' && c <= 'D') || (c >= 'a' && c <= 'd')) continue;
    switch (c) {
      case '*': case '#': case ',': case '!': case 'P': case 'p': case 'T': case 't':
      case ';': case '+': case ' ': case '(': case ')': case '-': case '.': case '/':
      case '\r': case '\n':
        continue;
      case 'W': case 'w': return LINEERR_DIALDIALTONE;
      case '@': return LINEERR_DIALQUIET;
      case '$': return LINEERR_DIALBILLING;
      case '?': return LINEERR_DIALPROMPT;
      case ':': return LINEERR_DIALVOICEDETECT;
      default: return LINEERR_INVALADDRESS;
    }
  }
  return 0;
}

namespace {
bool HasUriScheme(const std::string& address) {
  auto starts = [&](const char* scheme) {
    const size_t n = std::strlen(scheme);
    if (address.size() < n) return false;
    for (size_t i = 0; i < n; ++i) {
      const char c = address[i];
      if ((c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c) != scheme[i]) return false;
    }
    return true;
  };
  return starts("sip:") || starts("sips:") || starts("tel:");
}
}  // namespace

LONG ScanDestination(const std::string& address, bool dials_uris) {
  if (!dials_uris || !HasUriScheme(address)) return ScanDialable(address);
  // The server's own check (engine.cc CheckUriDestination), made here so that
  // nothing it would refuse goes on the wire.
  constexpr size_t kMaxUri = 128;
  if (address.size() > kMaxUri) return LINEERR_INVALADDRESS;
  for (char c : address) {
    if (c <= 0x20 || c >= 0x7f || c == '<' || c == '>' || c == '"') return LINEERR_INVALADDRESS;
  }
  if (address.find(':') + 1 == address.size()) return LINEERR_INVALADDRESS;
  return 0;
}

// A failure that says nothing about the server's state (it may come back).
bool IsTransient(const absl::Status& status) {
  switch (status.code()) {
    case absl::StatusCode::kUnavailable:
    case absl::StatusCode::kDeadlineExceeded:
    case absl::StatusCode::kCancelled:
    case absl::StatusCode::kAborted:
    case absl::StatusCode::kResourceExhausted:
    case absl::StatusCode::kUnknown:
      return true;
    default:
      return false;
  }
}

LONG ErrOf(const absl::Status& status) {
  const uint32_t err = LineErrOf(status);
  return err == 0 ? LINEERR_OPERATIONFAILED : static_cast<LONG>(err);
}

}  // namespace linebridge::tsp
