#include "pg_cluster.h"

#include <libpq-fe.h>
#include <pwd.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "absl/strings/str_cat.h"

namespace linebridge::testing {
namespace {

std::string Tail(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  std::string s = ss.str();
  return s.size() > 2000 ? s.substr(s.size() - 2000) : s;
}

}  // namespace

absl::Status PgCluster::Start(std::unique_ptr<PgCluster>* out) {
  if (!std::filesystem::exists(absl::StrCat(kBinDir, "/initdb"))) {
    return absl::FailedPreconditionError(absl::StrCat(
        kBinDir, "/initdb not found: install postgresql-15 (scripts/bootstrap.sh --test)"));
  }
  std::unique_ptr<PgCluster> c(new PgCluster());
  // Short: the socket path (dir + "/.s.PGSQL.5432") must fit in 107 bytes.
  char tmpl[] = "/tmp/lbpg.XXXXXX";
  if (mkdtemp(tmpl) == nullptr) return absl::InternalError("mkdtemp failed");
  c->dir_ = tmpl;
  c->as_nobody_ = geteuid() == 0;
  if (c->as_nobody_) {
    const passwd* pw = getpwnam("nobody");
    if (pw == nullptr) return absl::FailedPreconditionError("no user \"nobody\" to run postgres");
    if (chown(c->dir_.c_str(), pw->pw_uid, pw->pw_gid) != 0) {
      return absl::InternalError(absl::StrCat("chown ", c->dir_, " failed"));
    }
  }
  const int rc = c->RunAsOwner(absl::StrCat(kBinDir, "/initdb -D ", c->dir_,
                                            "/data -A trust -U postgres --no-sync -E UTF8"));
  if (rc != 0) {
    return absl::InternalError(
        absl::StrCat("initdb failed (", rc, "): ", Tail(c->dir_ + "/log")));
  }
  if (absl::Status st = c->StartServer(); !st.ok()) return st;
  *out = std::move(c);
  return absl::OkStatus();
}

PgCluster::~PgCluster() {
  if (running_) {
    RunAsOwner(absl::StrCat(kBinDir, "/pg_ctl -D ", dir_, "/data -m immediate -w stop"));
  }
  std::error_code ec;
  if (!dir_.empty()) std::filesystem::remove_all(dir_, ec);
}

int PgCluster::RunAsOwner(const std::string& args) const {
  // cd /: runuser keeps the cwd, which `nobody` may not be allowed to read.
  const std::string command =
      absl::StrCat("cd / && ", as_nobody_ ? "runuser -u nobody -- " : "", args, " >>", dir_,
                   "/log 2>&1");
  const int status = std::system(command.c_str());
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

absl::Status PgCluster::StartServer() {
  // Only the Unix socket in dir_ (listen_addresses ''), fsync off: a test
  // cluster whose crashes are immediate shutdowns, not power cuts.
  const int rc = RunAsOwner(absl::StrCat(
      kBinDir, "/pg_ctl -D ", dir_, "/data -l ", dir_, "/server.log -w -t 30 -o \"-k ", dir_,
      " -c listen_addresses='' -p 5432 -c fsync=off -c max_connections=60\" start"));
  if (rc != 0) {
    return absl::InternalError(absl::StrCat("pg_ctl start failed (", rc, "): ",
                                            Tail(dir_ + "/log"), Tail(dir_ + "/server.log")));
  }
  running_ = true;
  return absl::OkStatus();
}

std::string PgCluster::conninfo(const std::string& dbname) const {
  return absl::StrCat("host=", dir_, " port=5432 user=postgres dbname=", dbname);
}

absl::Status PgCluster::CreateDatabase(const std::string& name) {
  PGconn* c = PQconnectdb(conninfo().c_str());
  absl::Status st;
  if (PQstatus(c) != CONNECTION_OK) {
    st = absl::UnavailableError(PQerrorMessage(c));
  } else {
    PGresult* r = PQexec(c, absl::StrCat("CREATE DATABASE ", name).c_str());
    if (PQresultStatus(r) != PGRES_COMMAND_OK) st = absl::InternalError(PQresultErrorMessage(r));
    PQclear(r);
  }
  PQfinish(c);
  return st;
}

absl::Status PgCluster::Crash() {
  const int rc = RunAsOwner(absl::StrCat(kBinDir, "/pg_ctl -D ", dir_, "/data -m immediate -w stop"));
  if (rc != 0) return absl::InternalError(absl::StrCat("pg_ctl stop failed: ", Tail(dir_ + "/log")));
  running_ = false;
  return absl::OkStatus();
}

absl::Status PgCluster::Restart() { return StartServer(); }

}  // namespace linebridge::testing
