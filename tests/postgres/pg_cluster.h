// A real PostgreSQL 15 server for one test: initdb and pg_ctl from
// /usr/lib/postgresql/15/bin (Debian's postgresql-15) in a fresh temp dir,
// listening only on a Unix socket in that dir (no TCP port at all).
//
// PostgreSQL refuses to run as root. When the test runs as root the cluster
// belongs to the unprivileged `nobody` user: the temp dir is chowned to it
// and every initdb/pg_ctl runs through `runuser -u nobody --`. Otherwise it
// runs as the test's own user.
#pragma once

#include <memory>
#include <string>

#include "absl/status/status.h"

namespace linebridge::testing {

class PgCluster {
 public:
  static constexpr char kBinDir[] = "/usr/lib/postgresql/15/bin";

  // initdb (trust authentication, superuser "postgres") and start; the
  // error names the log.
  static absl::Status Start(std::unique_ptr<PgCluster>* out);
  ~PgCluster();  // stops the server (immediate) and removes the dir

  // A libpq connection string for `dbname`.
  std::string conninfo(const std::string& dbname = "postgres") const;
  // Creates a database (as the superuser).
  absl::Status CreateDatabase(const std::string& name);

  // A crash: immediate shutdown (every backend quits at once, no
  // checkpoint; recovery at the next start).
  absl::Status Crash();
  // Starts the server again (after Crash); waits until it accepts.
  absl::Status Restart();
  const std::string& dir() const { return dir_; }

 private:
  PgCluster() = default;
  // Runs a PostgreSQL program as the cluster's user; its output goes to the
  // log. Returns the exit status.
  int RunAsOwner(const std::string& args) const;
  absl::Status StartServer();

  std::string dir_;
  bool as_nobody_ = false;
  bool running_ = false;
};

}  // namespace linebridge::testing
