// The PostgreSQL schema of the shared store and its migrations.
//
// Versions are rows of linebridge_schema(version, applied_us, by_server).
// Every server applies what is missing at start, under a session advisory
// lock (kMigrationLockKey), so servers starting at once wait for each
// other and each step runs exactly once, in its own transaction. A database
// with a version this build does not know is refused (FailedPrecondition).
//
// Version 1:
//   principals(name PRIMARY KEY, role, display_name, created_us)
//   grants(principal -> principals ON DELETE CASCADE, line_id, monitor,
//          control, originate, PRIMARY KEY(principal, line_id))
//   tokens(token_id PRIMARY KEY, principal -> principals ON DELETE CASCADE,
//          secret_sha256 bytea, created_us, expires_us, revoked, description)
//   audit(audit_id bigserial, server_id, time_us, principal, operation,
//         line_id, call_id, detail, code, lineerr, peer, repeats, source_key UNIQUE)
//   call_records(record_id bigserial, server_id, the CdrStore columns,
//                source_key UNIQUE)
//   A statement trigger on principals, grants and tokens sends
//   NOTIFY linebridge_security on every change.
// source_key marks rows copied from an SQLite store ("<server>/<id>") so a
// second copy skips them (store/postgres/sqlite_to_pg.h).
#pragma once

#include <cstdint>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "store/postgres/pg_connection.h"

namespace linebridge {

inline constexpr int kPgSchemaVersion = 1;
// pg_advisory_lock key of the migrations ("linebrdg").
inline constexpr int64_t kMigrationLockKey = 0x6c696e6562726467;
// The channel the security trigger notifies.
inline constexpr char kSecurityChannel[] = "linebridge_security";

// Brings the database up to kPgSchemaVersion; `server_id` is recorded with
// each step applied.
absl::Status MigratePg(PgConnection& conn, const std::string& server_id);

// The version the database is at (0: none).
absl::StatusOr<int> PgSchemaVersion(PgConnection& conn);

}  // namespace linebridge
