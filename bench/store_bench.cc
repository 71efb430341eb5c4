// store_bench: the shared PostgreSQL store against the embedded SQLite one,
// in one run.
//   1. A control RPC with authorization: GetLine with a user's bearer token,
//      checked against its line assignment, on two real linebridged
//      processes — one on SQLite, one on a real PostgreSQL 15 started here
//      (PgCluster: Unix socket, a temp dir). Calls alternate between them.
//      Target: PostgreSQL p50 <= 1.05 x SQLite p50 (the check is served
//      from memory on both).
//   2. Call-record insert rate of each store (in this process): batches of
//      1024 (what the writer does under load) and single records.
//
//   store_bench [--quick] [--samples N] [--linebridged PATH]
// Exit 1 on errors (not on a missed target).
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <stdexcept>
#include <string>

#include <grpcpp/grpcpp.h>

#include "bench_util.h"
#include "config/config.h"
#include "linebridge/v1/security.grpc.pb.h"
#include "linebridge/v1/telephony.grpc.pb.h"
#include "pg_cluster.h"
#include "store/cdr_store.h"
#include "store/postgres/pg_call_record_store.h"

namespace linebridge::bench {
namespace {

[[noreturn]] void Fail(const std::string& what) { throw std::runtime_error(what); }

void Check(const grpc::Status& st, const std::string& what) {
  if (!st.ok()) Fail(what + ": " + st.error_message());
}

void WithToken(grpc::ClientContext* ctx, const std::string& token) {
  ctx->set_deadline(DeadlineIn(10));
  if (!token.empty()) ctx->AddMetadata("authorization", "Bearer " + token);
}

// A user principal that may monitor sim/100, and a token for it (issued as
// the anonymous local admin on loopback).
std::string UserToken(v1::Security::Stub* security) {
  v1::AddPrincipalRequest add;
  add.set_name("bench-user");
  v1::Principal p;
  {
    grpc::ClientContext ctx;
    WithToken(&ctx, "");
    Check(security->AddPrincipal(&ctx, add, &p), "AddPrincipal");
  }
  v1::AssignRequest assign;
  assign.set_principal("bench-user");
  assign.mutable_grant()->set_line_id("sim/100");
  assign.mutable_grant()->set_monitor(true);
  {
    grpc::ClientContext ctx;
    WithToken(&ctx, "");
    Check(security->Assign(&ctx, assign, &p), "Assign");
  }
  v1::IssueTokenRequest issue;
  issue.set_principal("bench-user");
  v1::IssueTokenResponse token;
  grpc::ClientContext ctx;
  WithToken(&ctx, "");
  Check(security->IssueToken(&ctx, issue, &token), "IssueToken");
  return token.token();
}

double TimedGetLine(v1::Telephony::Stub* tel, const std::string& token,
                    const std::string& line = "sim/100") {
  v1::GetLineRequest req;
  req.set_line_id(line);
  v1::Line out;
  grpc::ClientContext ctx;
  WithToken(&ctx, token);
  const auto t0 = Clock::now();
  grpc::Status st = tel->GetLine(&ctx, req, &out);
  const double us = MicrosSince(t0);
  Check(st, "GetLine " + line);
  return us;
}

v1::CallRecord SampleRecord(int i) {
  v1::CallRecord r;
  r.set_call_id("c" + std::to_string(i));
  r.set_line_id("sim/100");
  r.set_origin(v1::CALL_ORIGIN_OUTBOUND);
  r.mutable_caller()->set_number("100");
  r.mutable_caller()->set_name("Alice");
  r.mutable_called()->set_number("5550100");
  r.mutable_started()->set_seconds(1700000000 + i);
  r.mutable_answered()->set_seconds(1700000002 + i);
  r.mutable_ended()->set_seconds(1700000010 + i);
  r.set_duration_ms(8000);
  r.set_disposition(v1::DISCONNECT_MODE_NORMAL);
  return r;
}

// Records per second into `store`: `total` records in batches of `batch`.
double InsertRate(CallRecordStore* store, int total, int batch) {
  std::vector<v1::CallRecord> records;
  for (int i = 0; i < batch; ++i) records.push_back(SampleRecord(i));
  const auto t0 = Clock::now();
  for (int done = 0; done < total; done += batch) {
    auto ids = store->AppendBatch(records);
    if (!ids.ok()) Fail("AppendBatch: " + std::string(ids.status().message()));
  }
  return total / (MicrosSince(t0) / 1e6);
}

int Main(int argc, char** argv) {
  bool quick = false;
  int samples_flag = 0;
  std::string linebridged = BinaryBesideThis("linebridged");
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "--quick") {
      quick = true;
    } else if (a == "--samples" && i + 1 < argc) {
      samples_flag = std::atoi(argv[++i]);
    } else if (a == "--linebridged" && i + 1 < argc) {
      linebridged = argv[++i];
    } else {
      std::fprintf(stderr, "usage: store_bench [--quick] [--samples N] [--linebridged PATH]\n");
      return 1;
    }
  }
  TempDir dir;
  try {
    std::unique_ptr<testing::PgCluster> cluster;
    if (absl::Status st = testing::PgCluster::Start(&cluster); !st.ok()) {
      Fail("postgresql: " + std::string(st.message()));
    }
    if (absl::Status st = cluster->CreateDatabase("bench"); !st.ok()) {
      Fail("create database: " + std::string(st.message()));
    }
    std::string error;
    v1::config::ServerConfig sqlite_config;
    ApplyDefaults(&sqlite_config);
    auto sqlite = Daemon::Start(linebridged, dir.path(), "sqlite", sqlite_config, &error);
    if (sqlite == nullptr) Fail("sqlite daemon: " + error);
    v1::config::ServerConfig pg_config = sqlite_config;
    pg_config.mutable_store()->mutable_postgres()->set_conninfo(cluster->conninfo("bench"));
    ApplyDefaults(&pg_config);
    auto pg = Daemon::Start(linebridged, dir.path(), "postgres", pg_config, &error);
    if (pg == nullptr) Fail("postgres daemon: " + error);

    auto sqlite_channel = MakeChannel(sqlite->target(), 1);
    auto pg_channel = MakeChannel(pg->target(), 2);
    if (!WaitConnected(sqlite_channel, 10) || !WaitConnected(pg_channel, 10)) {
      Fail("cannot connect to the daemons");
    }
    auto sqlite_tel = v1::Telephony::NewStub(sqlite_channel);
    auto pg_tel = v1::Telephony::NewStub(pg_channel);
    const std::string sqlite_user = UserToken(v1::Security::NewStub(sqlite_channel).get());
    const std::string pg_user = UserToken(v1::Security::NewStub(pg_channel).get());

    const int warmup = quick ? 200 : 2000;
    const int samples = samples_flag > 0 ? samples_flag : quick ? 1000 : 20000;
    for (int i = 0; i < warmup; ++i) {
      TimedGetLine(sqlite_tel.get(), sqlite_user);
      TimedGetLine(pg_tel.get(), pg_user);
    }
    Stats on_sqlite, on_pg;
    for (int i = 0; i < samples; ++i) {
      // Alternate, each timed call after one to the other daemon; the
      // order flips every round so neither always goes first.
      if (i % 2 == 0) {
        on_sqlite.Add(TimedGetLine(sqlite_tel.get(), sqlite_user));
        on_pg.Add(TimedGetLine(pg_tel.get(), pg_user));
      } else {
        on_pg.Add(TimedGetLine(pg_tel.get(), pg_user));
        on_sqlite.Add(TimedGetLine(sqlite_tel.get(), sqlite_user));
      }
    }
    // The checks really run: a line the user has no right to is refused.
    {
      v1::GetLineRequest req;
      req.set_line_id("sim/101");
      v1::Line line;
      grpc::ClientContext ctx;
      WithToken(&ctx, pg_user);
      if (pg_tel->GetLine(&ctx, req, &line).error_code() != grpc::StatusCode::NOT_FOUND) {
        Fail("bench-user could read sim/101 on the postgres daemon: authorization is off");
      }
    }
    Report report;
    const double ratio = on_pg.P50() / on_sqlite.P50();
    char note[200];
    std::snprintf(note, sizeof note, "p99 %.1f vs %.1f us; n=%zu each, daemons alternate",
                  on_pg.P99(), on_sqlite.P99(), on_pg.size());
    report.Add({"GetLine + token + authz p50, postgresql (us)", on_pg.P50(), "<= 1.05x sqlite",
                "sqlite " + std::to_string(on_sqlite.P50()).substr(0, 6), on_sqlite.P50(), ratio,
                ratio <= 1.05 ? "PASS" : "FAIL", note});

    // Insert rates, in this process, each store on its own.
    sqlite.reset();
    pg.reset();
    auto cdr = CdrStore::Open(dir.path() + "/rate/cdr.sqlite3");
    if (!cdr.ok()) Fail("cdr store: " + std::string(cdr.status().message()));
    PgOptions options;
    options.conninfo = cluster->conninfo("bench");
    auto pg_records = PgCallRecordStore::Open(options, "bench");
    if (!pg_records.ok()) Fail("pg store: " + std::string(pg_records.status().message()));
    const int total = quick ? 20480 : 204800;
    const int singles = quick ? 500 : 5000;
    const double sqlite_batch = InsertRate(cdr->get(), total, 1024);
    const double pg_batch = InsertRate(pg_records->get(), total, 1024);
    const double sqlite_one = InsertRate(cdr->get(), singles, 1);
    const double pg_one = InsertRate(pg_records->get(), singles, 1);
    report.Add({"record inserts/s, batches of 1024, postgresql", pg_batch, "info",
                "sqlite " + std::to_string(static_cast<int>(sqlite_batch)), sqlite_batch,
                pg_batch / sqlite_batch, "info", std::to_string(total) + " records each"});
    report.Add({"record inserts/s, one per transaction, postgresql", pg_one, "info",
                "sqlite " + std::to_string(static_cast<int>(sqlite_one)), sqlite_one,
                pg_one / sqlite_one, "info",
                std::to_string(singles) + " records each; postgresql with fsync=off (a test "
                                          "cluster), sqlite synchronous=NORMAL"});
    report.Print();
    if (quick) std::fprintf(stderr, "store_bench: quick run: figures are indicative only\n");
  } catch (const std::exception& e) {
    std::fprintf(stderr, "store_bench: FAILED: %s\n", e.what());
    return 1;
  }
  return 0;
}

}  // namespace
}  // namespace linebridge::bench

int main(int argc, char** argv) { return linebridge::bench::Main(argc, argv); }
