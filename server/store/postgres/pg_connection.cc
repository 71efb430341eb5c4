#include "store/postgres/pg_connection.h"

#include <algorithm>
#include <cstdlib>
#include <fstream>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"

namespace linebridge {
namespace {

// SQLSTATE classes and codes that may pass by themselves.
bool TransientSqlState(absl::string_view state) {
  return absl::StartsWith(state, "08") ||   // connection exception
         absl::StartsWith(state, "53") ||   // insufficient resources
         absl::StartsWith(state, "57P") ||  // admin shutdown, crash shutdown, cannot connect now
         absl::StartsWith(state, "58") ||   // system error (I/O)
         state == "40001" || state == "40P01" || state == "55P03";
}

std::string FirstLine(absl::string_view s) {
  const size_t nl = s.find('\n');
  return std::string(absl::StripAsciiWhitespace(s.substr(0, nl)));
}

}  // namespace

absl::StatusOr<PgOptions> PgOptionsFromConfig(const v1::config::PostgresConfig& config,
                                              absl::string_view application_name) {
  PgOptions o;
  o.conninfo = config.conninfo();
  o.application_name = std::string(application_name);
  // The connection string must parse and must not carry the password (it
  // would end up in process listings, configs under version control, logs).
  char* err = nullptr;
  PQconninfoOption* opts = PQconninfoParse(o.conninfo.c_str(), &err);
  if (opts == nullptr) {
    PQfreemem(err);
    return absl::InvalidArgumentError(
        "store.postgres.conninfo: not a valid libpq connection string");
  }
  bool has_password = false;
  for (PQconninfoOption* opt = opts; opt->keyword != nullptr; ++opt) {
    if (std::string(opt->keyword) == "password" && opt->val != nullptr && opt->val[0] != '\0') {
      has_password = true;
    }
  }
  PQconninfoFree(opts);
  if (has_password) {
    return absl::InvalidArgumentError(
        "store.postgres.conninfo: holds a password; put it in password_file or password_env");
  }
  if (!config.password_file().empty()) {
    std::ifstream in(config.password_file());
    if (!in) {
      return absl::FailedPreconditionError(absl::StrCat(
          "store.postgres.password_file: cannot read ", config.password_file()));
    }
    std::string line;
    std::getline(in, line);
    o.password = std::string(absl::StripTrailingAsciiWhitespace(line));
  } else if (!config.password_env().empty()) {
    const char* v = std::getenv(config.password_env().c_str());
    if (v == nullptr) {
      return absl::FailedPreconditionError(absl::StrCat(
          "store.postgres.password_env: the environment has no ", config.password_env()));
    }
    o.password = v;
  }
  return o;
}

PgResult& PgResult::operator=(PgResult&& o) noexcept {
  if (this != &o) {
    PQclear(r_);
    r_ = o.r_;
    o.r_ = nullptr;
  }
  return *this;
}

std::string PgResult::text(int row, int col) const {
  return std::string(PQgetvalue(r_, row, col), static_cast<size_t>(PQgetlength(r_, row, col)));
}

int64_t PgResult::int64(int row, int col) const {
  int64_t v = 0;
  (void)absl::SimpleAtoi(absl::string_view(PQgetvalue(r_, row, col)), &v);
  return v;
}

bool PgResult::boolean(int row, int col) const { return PQgetvalue(r_, row, col)[0] == 't'; }

std::string PgResult::bytea(int row, int col) const {
  absl::string_view v(PQgetvalue(r_, row, col), static_cast<size_t>(PQgetlength(r_, row, col)));
  if (!absl::ConsumePrefix(&v, "\\x")) return std::string(v);
  return absl::HexStringToBytes(v);
}

uint64_t PgResult::affected() const {
  uint64_t n = 0;
  (void)absl::SimpleAtoi(absl::string_view(PQcmdTuples(r_)), &n);
  return n;
}

std::string PgBytea(absl::string_view bytes) {
  return absl::StrCat("\\x", absl::BytesToHexString(bytes));
}

absl::StatusOr<std::unique_ptr<PgConnection>> PgConnection::Connect(const PgOptions& options) {
  std::unique_ptr<PgConnection> c(new PgConnection(options));
  if (absl::Status st = c->Open(); !st.ok()) return st;
  return c;
}

PgConnection::~PgConnection() {
  if (conn_ != nullptr) PQfinish(conn_);
}

absl::Status PgConnection::Open() {
  if (conn_ != nullptr) {
    PQfinish(conn_);
    conn_ = nullptr;
  }
  const std::string timeout = absl::StrCat(options_.connect_timeout_s);
  std::vector<const char*> keys = {"dbname", "application_name", "connect_timeout"};
  std::vector<const char*> values = {options_.conninfo.c_str(), options_.application_name.c_str(),
                                     timeout.c_str()};
  if (!options_.password.empty()) {
    keys.push_back("password");
    values.push_back(options_.password.c_str());
  }
  keys.push_back(nullptr);
  values.push_back(nullptr);
  // expand_dbname: the first "dbname" is the whole connection string.
  conn_ = PQconnectdbParams(keys.data(), values.data(), 1);
  if (conn_ == nullptr) return absl::UnavailableError("postgresql: out of memory");
  if (PQstatus(conn_) != CONNECTION_OK) {
    return absl::UnavailableError(
        absl::StrCat("postgresql ", Describe(), ": ", FirstLine(PQerrorMessage(conn_))));
  }
  // The server's notices ("relation already exists, skipping") are not errors.
  PQsetNoticeProcessor(conn_, [](void*, const char*) {}, nullptr);
  // Times and text exactly as written; no surprises from a server's defaults.
  PGresult* r = PQexec(conn_, "SET client_encoding = 'UTF8'; SET TIME ZONE 'UTC'");
  const bool ok = PQresultStatus(r) == PGRES_COMMAND_OK;
  absl::Status st = ok ? absl::OkStatus() : ErrorFrom(r, "session setup");
  PQclear(r);
  return st;
}

std::string PgConnection::Describe() const {
  if (conn_ == nullptr) return "(not connected)";
  const char* host = PQhost(conn_);
  const char* port = PQport(conn_);
  const char* db = PQdb(conn_);
  return absl::StrCat(host != nullptr ? host : "", ":", port != nullptr ? port : "", "/",
                      db != nullptr ? db : "");
}

absl::Status PgConnection::Ensure() {
  if (conn_ != nullptr && PQstatus(conn_) == CONNECTION_OK) return absl::OkStatus();
  if (in_transaction_) {
    return absl::UnavailableError(
        absl::StrCat("postgresql ", Describe(), ": the connection was lost in a transaction"));
  }
  return Open();
}

absl::Status PgConnection::ErrorFrom(const PGresult* r, absl::string_view what) const {
  const char* state = r != nullptr ? PQresultErrorField(r, PG_DIAG_SQLSTATE) : nullptr;
  const std::string message =
      FirstLine(r != nullptr && PQresultErrorMessage(r)[0] != '\0' ? PQresultErrorMessage(r)
                                                                   : PQerrorMessage(conn_));
  const bool transient = PQstatus(conn_) != CONNECTION_OK ||
                         (state != nullptr && TransientSqlState(state)) ||
                         (state == nullptr && PQresultStatus(r) == PGRES_FATAL_ERROR);
  const std::string text = absl::StrCat("postgresql ", Describe(), ": ", what, ": ", message,
                                        state != nullptr ? absl::StrCat(" (", state, ")") : "");
  return transient ? absl::UnavailableError(text) : absl::InternalError(text);
}

absl::StatusOr<PgResult> PgConnection::Exec(absl::string_view sql,
                                            const std::vector<PgParam>& params) {
  if (absl::Status st = Ensure(); !st.ok()) return st;
  std::vector<const char*> values;
  values.reserve(params.size());
  for (const PgParam& p : params) values.push_back(p.has_value() ? p->c_str() : nullptr);
  const std::string statement(sql);
  // Without parameters PQexec, which also runs several statements at once.
  PgResult result(params.empty()
                      ? PQexec(conn_, statement.c_str())
                      : PQexecParams(conn_, statement.c_str(), static_cast<int>(values.size()),
                                     nullptr, values.data(), nullptr, nullptr, 0));
  const ExecStatusType status = PQresultStatus(result.get());
  if (status != PGRES_TUPLES_OK && status != PGRES_COMMAND_OK) {
    return ErrorFrom(result.get(), sql.substr(0, std::min<size_t>(sql.size(), 60)));
  }
  return result;
}

absl::Status PgConnection::Run(absl::string_view sql, const std::vector<PgParam>& params) {
  absl::StatusOr<PgResult> r = Exec(sql, params);
  return r.status();
}

}  // namespace linebridge
