// Audit fields come from requests, often unauthenticated ones: each is
// bounded and made printable before it is stored (docs/security.md, "Audit").
#pragma once

#include <cstddef>
#include <string>

#include "absl/strings/string_view.h"
#include "linebridge/v1/security.pb.h"

namespace linebridge {

// Field bounds: ids at their legal length (256 bytes), principal names 128,
// the detail 512. A stored row stays under ~2 KB.
inline constexpr size_t kAuditMaxId = 256;
inline constexpr size_t kAuditMaxPrincipal = 128;
inline constexpr size_t kAuditMaxOperation = 64;
inline constexpr size_t kAuditMaxDetail = 512;
inline constexpr size_t kAuditMaxPeer = 64;

// `in` with control characters (C0, DEL, C1) and bytes that are not UTF-8
// written as \xNN, cut to at most `max_bytes` of output (never inside an
// escape or a UTF-8 sequence) with "..." appended when cut. Idempotent: a
// stored value passes through unchanged, so rows are sanitized again when
// read (rows written before these bounds existed).
std::string AuditEscape(absl::string_view in, size_t max_bytes);

// Every string field of `record` escaped and bounded as above.
void SanitizeAuditRecord(v1::AuditRecord* record);

}  // namespace linebridge
