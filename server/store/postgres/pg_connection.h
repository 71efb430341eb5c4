// One libpq connection: connect (the password passed apart from the
// connection string and never logged), run a statement with text
// parameters, reconnect after the server went away, and map errors to
// absl::Status: what may pass by itself (the server unreachable or
// restarting, a connection lost, too many connections, a serialization
// conflict) is Unavailable, the rest Internal.
//
// Not thread-safe: each user holds its own connection under its own mutex.
#pragma once

#include <libpq-fe.h>

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "linebridge/v1/config.pb.h"

namespace linebridge {

struct PgOptions {
  std::string conninfo;  // libpq keywords or service=..., no password
  std::string password;  // empty: libpq's own ways (.pgpass, trust)
  std::string application_name = "linebridged";
  int connect_timeout_s = 3;
};

// PgOptions from the configuration: reads password_file / password_env and
// refuses a connection string that carries a password itself.
absl::StatusOr<PgOptions> PgOptionsFromConfig(const v1::config::PostgresConfig& config,
                                              absl::string_view application_name);

// The rows of one result; owns the PGresult.
class PgResult {
 public:
  explicit PgResult(PGresult* r) : r_(r) {}
  PgResult(PgResult&& o) noexcept : r_(o.r_) { o.r_ = nullptr; }
  PgResult& operator=(PgResult&& o) noexcept;
  ~PgResult() { PQclear(r_); }
  int rows() const { return PQntuples(r_); }
  bool null(int row, int col) const { return PQgetisnull(r_, row, col) != 0; }
  std::string text(int row, int col) const;
  int64_t int64(int row, int col) const;
  bool boolean(int row, int col) const;  // "t"
  std::string bytea(int row, int col) const;  // decoded from \x hex
  // Rows changed by an INSERT/UPDATE/DELETE.
  uint64_t affected() const;
  const PGresult* get() const { return r_; }

 private:
  PGresult* r_;
};

// A text parameter; nullopt is SQL NULL.
using PgParam = std::optional<std::string>;

class PgConnection {
 public:
  static absl::StatusOr<std::unique_ptr<PgConnection>> Connect(const PgOptions& options);
  ~PgConnection();
  PgConnection(const PgConnection&) = delete;
  PgConnection& operator=(const PgConnection&) = delete;

  // Runs `sql` ($1, $2, ... for `params`), reconnecting first if the
  // connection was lost (not inside a transaction: the caller retries the
  // whole transaction).
  absl::StatusOr<PgResult> Exec(absl::string_view sql, const std::vector<PgParam>& params = {});
  // Exec for statements without rows of interest.
  absl::Status Run(absl::string_view sql, const std::vector<PgParam>& params = {});

  // BEGIN ... body ... COMMIT (ROLLBACK on failure).
  template <typename Body>
  absl::Status Transaction(absl::string_view begin, Body body);

  // Reconnects if the connection was lost; Unavailable if it cannot.
  absl::Status Ensure();
  PGconn* raw() { return conn_; }
  // host/port/dbname for messages (never a password).
  std::string Describe() const;

 private:
  explicit PgConnection(PgOptions options) : options_(std::move(options)) {}
  absl::Status Open();
  absl::Status ErrorFrom(const PGresult* r, absl::string_view what) const;

  const PgOptions options_;
  PGconn* conn_ = nullptr;
  bool in_transaction_ = false;
};

// Bytes as a bytea text literal (\x followed by hex).
std::string PgBytea(absl::string_view bytes);

template <typename Body>
absl::Status PgConnection::Transaction(absl::string_view begin, Body body) {
  if (absl::Status st = Run(begin); !st.ok()) return st;
  // Until COMMIT is answered a lost connection is an error, never a silent
  // reconnect (which would run the rest outside the transaction).
  in_transaction_ = true;
  absl::Status st = body();
  if (st.ok()) st = Run("COMMIT");
  in_transaction_ = false;
  if (!st.ok() && PQstatus(conn_) == CONNECTION_OK &&
      PQtransactionStatus(conn_) != PQTRANS_IDLE) {
    (void)Run("ROLLBACK");
  }
  return st;
}

}  // namespace linebridge
