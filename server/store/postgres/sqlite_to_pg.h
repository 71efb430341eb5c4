// Copies a server's SQLite stores (data_dir/security.sqlite3 and
// data_dir/cdr.sqlite3: principals, grants, token hashes, call records,
// audit) into the shared PostgreSQL store, and verifies the copy.
//
// Idempotent: principals and grants are upserted (the copy's values win),
// a token already present keeps its row (a revocation on either side
// stays), call records and audit rows are marked with a source key
// "<server_id>/<id>" and skipped when already there. Running it again
// after the server wrote more rows copies only the new ones. Records and
// audit keep the source server's id.
#pragma once

#include <cstdint>
#include <string>

#include "absl/status/statusor.h"
#include "store/postgres/pg_connection.h"

namespace linebridge {

struct SqliteCopyReport {
  uint64_t principals = 0, grants = 0, tokens = 0;  // in the source
  uint64_t records = 0, audit = 0;                  // in the source
  uint64_t records_copied = 0, audit_copied = 0;    // inserted by this run
  // Verification: rows of the source missing or different in PostgreSQL.
  uint64_t missing = 0;
  std::string first_missing;  // what, for the message
  std::string ToString() const;
};

// `copy` false: verify only. `server_id`: the source server's id.
absl::StatusOr<SqliteCopyReport> CopySqliteToPg(const std::string& data_dir,
                                                const std::string& server_id,
                                                const PgOptions& target, bool copy);

}  // namespace linebridge
