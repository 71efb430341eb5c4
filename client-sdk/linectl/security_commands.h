// linectl commands for principals, line assignments, tokens, the audit log
// and tsecimp XML (Windows Telephony Server assignments).
#pragma once

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "linebridge/v1/security.pb.h"
#include "linectl/commands.h"
#include "linectl/tsec_xml.h"

namespace linebridge::linectl {

absl::Status CmdWhoAmI(Context& context);
absl::Status CmdPrincipalAdd(Context& context);
absl::Status CmdPrincipalList(Context& context);
absl::Status CmdPrincipalRemove(Context& context);
absl::Status CmdAssign(Context& context);
absl::Status CmdUnassign(Context& context);
absl::Status CmdTokenIssue(Context& context);
absl::Status CmdTokenRevoke(Context& context);
absl::Status CmdTokenList(Context& context);
absl::Status CmdAudit(Context& context);
absl::Status CmdTsecImport(Context& context);
absl::Status CmdTsecExport(Context& context);

// "90d", "12h", "30m", "45s", or bare seconds.
bool ParseTtl(absl::string_view text, uint64_t* seconds);

}  // namespace linebridge::linectl
