#include "store/audit_sanitize.h"

#include "linebridge/printable.h"

namespace linebridge {

std::string AuditEscape(absl::string_view in, size_t max_bytes) {
  return EscapeControl(in, max_bytes);
}

void SanitizeAuditRecord(v1::AuditRecord* r) {
  r->set_principal(AuditEscape(r->principal(), kAuditMaxPrincipal));
  r->set_operation(AuditEscape(r->operation(), kAuditMaxOperation));
  r->set_line_id(AuditEscape(r->line_id(), kAuditMaxId));
  r->set_call_id(AuditEscape(r->call_id(), kAuditMaxId));
  r->set_detail(AuditEscape(r->detail(), kAuditMaxDetail));
  r->set_lineerr(AuditEscape(r->lineerr(), kAuditMaxOperation));
  r->set_peer(AuditEscape(r->peer(), kAuditMaxPeer));
}

}  // namespace linebridge
