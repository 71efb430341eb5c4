// Opens the stores the configuration names: SQLite files in data_dir (the
// default) or a PostgreSQL database shared by a fleet of servers
// (`store { postgres { ... } }`, docs/configuration.md#store).
#pragma once

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "linebridge/v1/config.pb.h"
#include "store/call_record_store.h"
#include "store/security_store.h"
#include "store/spooler.h"

namespace linebridge {

struct Stores {
  std::string backend;  // "sqlite" or "postgresql"
  std::unique_ptr<CallRecordStore> records;
  std::unique_ptr<SecurityStore> security;
  // PostgreSQL: the spools of call records and audit rows (owned by the
  // stores above), else null.
  const Spooler* record_spool = nullptr;
  const Spooler* audit_spool = nullptr;
};

// The spool files' names inside data_dir.
inline constexpr char kRecordSpoolFile[] = "cdr.spool";
inline constexpr char kAuditSpoolFile[] = "audit.spool";

// `server_id`: this server's id, stamped on its call records and audit rows.
// `spools`: PostgreSQL only — false for a tool that runs beside the daemon
// on the same data_dir (--bootstrap_admin): the spool files are the
// daemon's (each is locked by the process that opened it).
absl::StatusOr<Stores> OpenStores(const v1::config::ServerConfig& config,
                                  const std::string& server_id, bool spools = true);

}  // namespace linebridge
