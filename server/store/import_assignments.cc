// SecurityStore::ImportAssignments: a tsecimp batch, validated as a whole and
// applied in one transaction of the backend.
#include <set>

#include "absl/strings/str_cat.h"
#include "linebridge/lineerr.h"
#include "linebridge/printable.h"
#include "linebridge/status_macros.h"
#include "store/security_store.h"

namespace linebridge {
namespace {

constexpr int kMaxImportUsers = 10000;
constexpr int kMaxImportLinesPerUser = 1000;

absl::Status Invalid(int index, const std::string& name, const absl::Status& why) {
  return InvalidArgument(LINEERR_INVALPARAM,
                         absl::StrCat("users[", index, "] (", EscapeControl(name, 130), "): ",
                                      why.message()));
}

}  // namespace

absl::StatusOr<v1::ImportAssignmentsResponse> SecurityStore::ImportAssignments(
    const v1::ImportAssignmentsRequest& req) {
  if (req.users_size() > kMaxImportUsers) {
    return InvalidArgument(LINEERR_INVALPARAM,
                           absl::StrCat("users: at most ", kMaxImportUsers, " per import"));
  }
  // Everything is checked before anything is written.
  std::set<std::string> seen;
  for (int i = 0; i < req.users_size(); ++i) {
    const auto& u = req.users(i);
    if (absl::Status st = CheckPrincipalName("name", u.name()); !st.ok()) {
      return Invalid(i, u.name(), st);
    }
    if (!seen.insert(u.name()).second) {
      return Invalid(i, u.name(), absl::InvalidArgumentError("the user appears twice"));
    }
    if (absl::Status st = CheckDisplayName("display_name", u.display_name()); !st.ok()) {
      return Invalid(i, u.name(), st);
    }
    if (u.assign_size() + u.remove_size() > kMaxImportLinesPerUser) {
      return Invalid(i, u.name(),
                     absl::InvalidArgumentError(absl::StrCat(
                         "at most ", kMaxImportLinesPerUser, " line changes per user")));
    }
    for (const auto* list : {&u.assign(), &u.remove()}) {
      for (const std::string& line : *list) {
        if (absl::Status st = CheckLineId(line); !st.ok()) return Invalid(i, u.name(), st);
      }
    }
  }
  v1::ImportAssignmentsResponse resp;
  absl::MutexLock db(&db_mu_);
  const int64_t now_us = absl::ToUnixMicros(absl::Now());
  auto apply = [&]() -> absl::Status {
    db_mu_.AssertHeld();
    for (const auto& u : req.users()) {
      std::shared_ptr<const PrincipalRecord> current = Find(u.name());
      const v1::Role role = current != nullptr ? current->role : v1::ROLE_USER;
      const std::string display = u.display_name().empty() && current != nullptr
                                      ? current->display_name
                                      : u.display_name();
      LB_RETURN_IF_ERROR(backend_->UpsertPrincipal(u.name(), role, display, now_us));
      if (u.replace() && current != nullptr) {
        resp.set_removed(resp.removed() + static_cast<uint32_t>(current->lines.size()));
        LB_RETURN_IF_ERROR(backend_->DeleteGrants(u.name()));
      }
      for (const std::string& line : u.remove()) {
        LB_RETURN_IF_ERROR(backend_->WriteGrant(u.name(), line, LineGrant{}));
        resp.set_removed(resp.removed() + 1);
      }
      LineGrant full;
      full.monitor = full.control = full.originate = true;
      for (const std::string& line : u.assign()) {
        LB_RETURN_IF_ERROR(backend_->WriteGrant(u.name(), line, full));
        resp.set_assigned(resp.assigned() + 1);
      }
    }
    return absl::OkStatus();
  };
  LB_RETURN_IF_ERROR(backend_->InTransaction(apply));
  resp.set_users(static_cast<uint32_t>(req.users_size()));
  LB_RETURN_IF_ERROR(LoadLocked());  // the cache follows the committed rows
  return resp;
}

}  // namespace linebridge
