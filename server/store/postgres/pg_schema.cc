#include "store/postgres/pg_schema.h"

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "core/log.h"

namespace linebridge {
namespace {

struct Migration {
  int version;
  const char* sql;
};

// Append only: a released step never changes.
constexpr Migration kMigrations[] = {
    {1, R"sql(
CREATE TABLE principals (
  name text PRIMARY KEY,
  role text NOT NULL,
  display_name text NOT NULL DEFAULT '',
  created_us bigint NOT NULL
);
CREATE TABLE grants (
  principal text NOT NULL REFERENCES principals(name) ON DELETE CASCADE,
  line_id text NOT NULL,
  monitor boolean NOT NULL,
  control boolean NOT NULL,
  originate boolean NOT NULL,
  PRIMARY KEY (principal, line_id)
);
CREATE TABLE tokens (
  token_id text PRIMARY KEY,
  principal text NOT NULL REFERENCES principals(name) ON DELETE CASCADE,
  secret_sha256 bytea NOT NULL,
  created_us bigint NOT NULL,
  expires_us bigint,
  revoked boolean NOT NULL DEFAULT false,
  description text NOT NULL DEFAULT ''
);
CREATE TABLE audit (
  audit_id bigserial PRIMARY KEY,
  server_id text NOT NULL,
  time_us bigint NOT NULL,
  principal text NOT NULL,
  operation text NOT NULL,
  line_id text NOT NULL,
  call_id text NOT NULL,
  detail text NOT NULL,
  code integer NOT NULL,
  lineerr text NOT NULL,
  peer text NOT NULL DEFAULT '',
  repeats bigint NOT NULL DEFAULT 1,
  source_key text UNIQUE
);
CREATE INDEX audit_by_principal ON audit(principal, audit_id);
CREATE INDEX audit_by_server ON audit(server_id, audit_id);
CREATE INDEX audit_by_time ON audit(time_us);
CREATE TABLE call_records (
  record_id bigserial PRIMARY KEY,
  server_id text NOT NULL,
  call_id text NOT NULL,
  line_id text NOT NULL,
  origin text NOT NULL,
  reason text NOT NULL,
  caller_number text NOT NULL,
  caller_name text NOT NULL,
  called_number text NOT NULL,
  called_name text NOT NULL,
  connected_number text NOT NULL,
  connected_name text NOT NULL,
  started_us bigint,
  answered_us bigint,
  ended_us bigint,
  disposition text NOT NULL,
  media_mode text NOT NULL,
  duration_ms bigint NOT NULL,
  caller_available boolean NOT NULL DEFAULT false,
  caller_blocked boolean NOT NULL DEFAULT false,
  called_available boolean NOT NULL DEFAULT false,
  called_blocked boolean NOT NULL DEFAULT false,
  connected_available boolean NOT NULL DEFAULT false,
  connected_blocked boolean NOT NULL DEFAULT false,
  source_key text UNIQUE
);
CREATE INDEX call_records_by_line ON call_records(line_id, record_id);
CREATE INDEX call_records_by_server ON call_records(server_id, record_id);
CREATE INDEX call_records_by_ended ON call_records(ended_us);
CREATE FUNCTION linebridge_security_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM pg_notify('linebridge_security', TG_TABLE_NAME);
  RETURN NULL;
END
$$;
CREATE TRIGGER principals_changed AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON principals
  FOR EACH STATEMENT EXECUTE FUNCTION linebridge_security_changed();
CREATE TRIGGER grants_changed AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON grants
  FOR EACH STATEMENT EXECUTE FUNCTION linebridge_security_changed();
CREATE TRIGGER tokens_changed AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON tokens
  FOR EACH STATEMENT EXECUTE FUNCTION linebridge_security_changed();
)sql"},
};

static_assert(sizeof(kMigrations) / sizeof(kMigrations[0]) == kPgSchemaVersion,
              "one migration per schema version");

absl::StatusOr<int> CurrentVersion(PgConnection& conn) {
  absl::StatusOr<PgResult> r = conn.Exec("SELECT coalesce(max(version), 0) FROM linebridge_schema");
  if (!r.ok()) return r.status();
  return static_cast<int>(r->int64(0, 0));
}

}  // namespace

absl::StatusOr<int> PgSchemaVersion(PgConnection& conn) {
  absl::StatusOr<PgResult> exists = conn.Exec("SELECT to_regclass('linebridge_schema') IS NOT NULL");
  if (!exists.ok()) return exists.status();
  if (!exists->boolean(0, 0)) return 0;
  return CurrentVersion(conn);
}

absl::Status MigratePg(PgConnection& conn, const std::string& server_id) {
  const std::string key = absl::StrCat(kMigrationLockKey);
  // Servers starting at once queue here; the lock goes with the session if
  // this process dies.
  if (absl::Status st = conn.Run("SELECT pg_advisory_lock($1)", {key}); !st.ok()) return st;
  absl::Status status = [&]() -> absl::Status {
    if (absl::Status st = conn.Run(
            "CREATE TABLE IF NOT EXISTS linebridge_schema (version integer PRIMARY KEY, "
            "applied_us bigint NOT NULL, by_server text NOT NULL)");
        !st.ok()) {
      return st;
    }
    absl::StatusOr<int> current = CurrentVersion(conn);
    if (!current.ok()) return current.status();
    if (*current > kPgSchemaVersion) {
      return absl::FailedPreconditionError(absl::StrCat(
          "postgresql ", conn.Describe(), ": schema version ", *current,
          " is newer than this server supports (", kPgSchemaVersion, ")"));
    }
    for (const Migration& m : kMigrations) {
      if (m.version <= *current) continue;
      absl::Status st = conn.Transaction("BEGIN", [&]() -> absl::Status {
        if (absl::Status s = conn.Run(m.sql); !s.ok()) return s;
        return conn.Run(
            "INSERT INTO linebridge_schema (version, applied_us, by_server) VALUES ($1, $2, $3)",
            {absl::StrCat(m.version), absl::StrCat(absl::ToUnixMicros(absl::Now())), server_id});
      });
      if (!st.ok()) return st;
      LB_LOG("store: postgresql %s migrated to schema version %d", conn.Describe(), m.version);
    }
    return absl::OkStatus();
  }();
  absl::Status unlock = conn.Run("SELECT pg_advisory_unlock($1)", {key});
  return status.ok() ? unlock : status;
}

}  // namespace linebridge
