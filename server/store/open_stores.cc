#include "store/open_stores.h"

#include <filesystem>
#include <system_error>

#include "core/log.h"
#include "linebridge/status_macros.h"
#include "store/cdr_store.h"
#include "store/postgres/pg_call_record_store.h"
#include "store/postgres/pg_security_backend.h"

namespace linebridge {

absl::StatusOr<Stores> OpenStores(const v1::config::ServerConfig& config,
                                  const std::string& server_id, bool spools) {
  Stores stores;
  if (config.store().has_postgres()) {
    const v1::config::PostgresConfig& pg = config.store().postgres();
    LB_ASSIGN_OR_RETURN(PgOptions options,
                        PgOptionsFromConfig(pg, absl::StrCat("linebridged ", server_id)));
    stores.backend = "postgresql";
    const uint64_t spool_bytes =
        pg.spool_max_bytes() != 0 ? pg.spool_max_bytes() : uint64_t{64} << 20;
    std::unique_ptr<SpoolFile> record_spool, audit_spool;
    if (spools) {
      std::error_code ec;
      std::filesystem::create_directories(config.data_dir(), ec);
      if (ec) {
        return absl::UnavailableError(
            absl::StrCat("data_dir ", config.data_dir(), ": ", ec.message()));
      }
      LB_ASSIGN_OR_RETURN(record_spool,
                          SpoolFile::Open(absl::StrCat(config.data_dir(), "/", kRecordSpoolFile),
                                          spool_bytes));
      LB_ASSIGN_OR_RETURN(audit_spool,
                          SpoolFile::Open(absl::StrCat(config.data_dir(), "/", kAuditSpoolFile),
                                          spool_bytes));
    }
    LB_ASSIGN_OR_RETURN(std::unique_ptr<PgCallRecordStore> records,
                        PgCallRecordStore::Open(options, server_id));
    if (record_spool != nullptr) records->EnableSpool(std::move(record_spool));
    stores.record_spool = records->spooler();
    stores.records = std::move(records);
    LB_ASSIGN_OR_RETURN(std::unique_ptr<PgSecurityBackend> backend,
                        PgSecurityBackend::Open(options, server_id));
    if (audit_spool != nullptr) LB_RETURN_IF_ERROR(backend->EnableSpool(std::move(audit_spool)));
    stores.audit_spool = backend->spooler();
    SecurityStore::Options so;
    if (pg.refresh_ms() != 0) so.refresh = absl::Milliseconds(pg.refresh_ms());
    if (pg.cache_ms() != 0) so.cache_time = absl::Milliseconds(pg.cache_ms());
    const std::string where = backend->Describe();
    LB_ASSIGN_OR_RETURN(stores.security, SecurityStore::Create(std::move(backend), so));
    LB_LOG("store: %s shared as server %s (refresh %d ms, cache %d ms; spools in %s, at most "
           "%d bytes each)",
           where, server_id, absl::ToInt64Milliseconds(so.refresh),
           absl::ToInt64Milliseconds(so.cache_time), config.data_dir(), spool_bytes);
    return stores;
  }
  stores.backend = "sqlite";
  LB_ASSIGN_OR_RETURN(stores.records,
                      CdrStore::Open(CdrStore::PathInDataDir(config.data_dir()),
                                     CdrStore::kBusyTimeoutMs, server_id));
  LB_ASSIGN_OR_RETURN(stores.security,
                      SecurityStore::Open(SecurityStore::PathInDataDir(config.data_dir()),
                                          SecurityStore::kBusyTimeoutMs, server_id));
  return stores;
}

}  // namespace linebridge
