#include "store/postgres/sqlite_to_pg.h"

#include <filesystem>
#include <vector>

#include "absl/strings/str_cat.h"
#include "linebridge/status_macros.h"
#include "store/cdr_store.h"
#include "store/postgres/pg_call_record_store.h"
#include "store/postgres/pg_security_backend.h"
#include "store/security_store.h"
#include "store/sqlite_security_backend.h"

namespace linebridge {
namespace {

constexpr uint32_t kPage = 1000;

bool SameGrant(const LineGrant& a, const LineGrant& b) {
  return a.monitor == b.monitor && a.control == b.control && a.originate == b.originate;
}

}  // namespace

std::string SqliteCopyReport::ToString() const {
  return absl::StrCat("principals ", principals, ", grants ", grants, ", tokens ", tokens,
                      ", call records ", records, " (", records_copied, " copied now), audit ",
                      audit, " (", audit_copied, " copied now); ",
                      missing == 0 ? "verified: every row is in postgresql"
                                   : absl::StrCat(missing, " rows missing or different, first: ",
                                                  first_missing));
}

absl::StatusOr<SqliteCopyReport> CopySqliteToPg(const std::string& data_dir,
                                                const std::string& server_id,
                                                const PgOptions& target, bool copy) {
  const std::string security_path = SecurityStore::PathInDataDir(data_dir);
  const std::string cdr_path = CdrStore::PathInDataDir(data_dir);
  for (const std::string& p : {security_path, cdr_path}) {
    if (!std::filesystem::exists(p)) {
      return absl::NotFoundError(absl::StrCat("no store to copy: ", p, " does not exist"));
    }
  }
  LB_ASSIGN_OR_RETURN(std::unique_ptr<SqliteSecurityBackend> source,
                      SqliteSecurityBackend::Open(security_path, 5000, server_id));
  LB_ASSIGN_OR_RETURN(std::unique_ptr<CdrStore> source_records,
                      CdrStore::Open(cdr_path, 5000, server_id));
  LB_ASSIGN_OR_RETURN(std::unique_ptr<PgSecurityBackend> pg,
                      PgSecurityBackend::Open(target, server_id));
  LB_ASSIGN_OR_RETURN(std::unique_ptr<PgCallRecordStore> pg_records,
                      PgCallRecordStore::Open(target, server_id));
  SqliteCopyReport report;
  const std::string prefix = absl::StrCat(server_id, "/");

  // Principals, grants and tokens: one transaction.
  LB_ASSIGN_OR_RETURN(SecuritySnapshot snap, source->Load());
  report.principals = snap.principals.size();
  report.tokens = snap.tokens.size();
  for (const auto& [name, rec] : snap.principals) report.grants += rec->lines.size();
  const auto copy_security = [&]() -> absl::Status {
    const int64_t now_us = absl::ToUnixMicros(absl::Now());
    for (const auto& [name, rec] : snap.principals) {
      LB_RETURN_IF_ERROR(pg->UpsertPrincipal(name, rec->role, rec->display_name, now_us));
      for (const auto& [line, grant] : rec->lines) {
        LB_RETURN_IF_ERROR(pg->WriteGrant(name, line, grant));
      }
    }
    for (const auto& [id, token] : snap.tokens) LB_RETURN_IF_ERROR(pg->CopyToken(token));
    return absl::OkStatus();
  };
  if (copy) LB_RETURN_IF_ERROR(pg->InTransaction(copy_security));

  // Call records and audit, page by page (newest first), each row keyed.
  v1::ListCallRecordsRequest rreq;
  rreq.set_limit(kPage);
  for (;;) {
    LB_ASSIGN_OR_RETURN(v1::ListCallRecordsResponse page, source_records->List(rreq));
    report.records += static_cast<uint64_t>(page.records_size());
    if (copy && page.records_size() > 0) {
      std::vector<v1::CallRecord> rows(page.records().begin(), page.records().end());
      std::vector<std::string> keys;
      for (const v1::CallRecord& r : rows) keys.push_back(absl::StrCat(prefix, r.record_id()));
      LB_ASSIGN_OR_RETURN(uint64_t n, pg_records->CopyBatch(rows, keys, server_id));
      report.records_copied += n;
    }
    if (page.next_before_record_id() == 0) break;
    rreq.set_before_record_id(page.next_before_record_id());
  }
  v1::ListAuditRequest areq;
  for (;;) {
    LB_ASSIGN_OR_RETURN(v1::ListAuditResponse page,
                        source->ListAudit(areq, kPage, SecurityStore::kAuditPageBytes));
    report.audit += static_cast<uint64_t>(page.records_size());
    if (copy && page.records_size() > 0) {
      std::vector<v1::AuditRecord> rows(page.records().begin(), page.records().end());
      std::vector<std::string> keys;
      for (const v1::AuditRecord& r : rows) keys.push_back(absl::StrCat(prefix, r.audit_id()));
      LB_RETURN_IF_ERROR(pg->CopyAudit(rows, keys, server_id, &report.audit_copied));
    }
    if (page.next_before_audit_id() == 0) break;
    areq.set_before_audit_id(page.next_before_audit_id());
  }

  // Verify: every source row is in PostgreSQL.
  auto miss = [&report](const std::string& what) {
    if (report.missing++ == 0) report.first_missing = what;
  };
  LB_ASSIGN_OR_RETURN(SecuritySnapshot there, pg->Load());
  for (const auto& [name, rec] : snap.principals) {
    auto it = there.principals.find(name);
    if (it == there.principals.end() || it->second->role != rec->role) {
      miss(absl::StrCat("principal ", name));
      continue;
    }
    for (const auto& [line, grant] : rec->lines) {
      auto g = it->second->lines.find(line);
      if (g == it->second->lines.end() || !SameGrant(g->second, grant)) {
        miss(absl::StrCat("grant ", name, " ", line));
      }
    }
  }
  for (const auto& [id, token] : snap.tokens) {
    auto it = there.tokens.find(id);
    if (it == there.tokens.end() || it->second.sha256 != token.sha256 ||
        it->second.info.principal() != token.info.principal() ||
        (token.info.revoked() && !it->second.info.revoked())) {
      miss(absl::StrCat("token ", id));
    }
  }
  LB_ASSIGN_OR_RETURN(uint64_t records_there, pg_records->CountSourced(prefix));
  if (records_there < report.records) {
    miss(absl::StrCat(report.records - records_there, " call records"));
    report.missing += report.records - records_there - 1;
  }
  LB_ASSIGN_OR_RETURN(uint64_t audit_there, pg->CountAuditSourced(prefix));
  if (audit_there < report.audit) {
    miss(absl::StrCat(report.audit - audit_there, " audit rows"));
    report.missing += report.audit - audit_there - 1;
  }
  return report;
}

}  // namespace linebridge
