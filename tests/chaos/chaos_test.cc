// Chaos: a real linebridged killed with SIGKILL at random moments under load
// and restarted on the same data directory and port, again and again. Load:
// call makers on sim lines through the SDK (calls made and dropped), 20 SDK
// event subscribers that resume across restarts, and the remote TSP through
// the TAPISRV harness (in a worker process of its own). Afterwards:
//  - every subscriber's stream was gap-free: within an epoch sequences are
//    consecutive, and a new epoch (or a resume the journal could not honour)
//    began with a flagged snapshot, never a silent gap;
//  - no client crashed or hung: every subscriber sees a last call made after
//    the final restart, every call maker made calls after it;
//  - sessions: none can be reclaimed across a restart (NOT_FOUND, a new one is
//    made), and the final server holds only the sessions of live clients;
//  - call records: every call whose IDLE event reached a subscriber has its
//    record after the restart, however shortly before the kill it came (the
//    durability promise of docs/reliability.md, process-crash half);
//  - `PRAGMA integrity_check` is ok for every SQLite file in the data dir;
//  - the TSP keeps its device ids and working line handles across restarts;
//  - the last daemon stops cleanly with SIGTERM, no sanitizer report.
// Knobs (environment): LINEBRIDGE_CHAOS_KILLS (default 100),
// LINEBRIDGE_CHAOS_SEED (default: from the time; printed),
// LINEBRIDGE_CHAOS_TSP_EVERY (check the TSP after every n-th restart, default 2).
#include <gtest/gtest.h>
#include <sqlite3.h>

#include <atomic>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <memory>
#include <random>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include <grpcpp/grpcpp.h>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "chaos_util.h"
#include "linebridge/client.h"
#include "linebridge/v1/admin.grpc.pb.h"
#include "tapisrv_harness.h"
#include "linebridge/deadline.h"

namespace linebridge::chaos {
namespace {

using tsp_test::ServerProcess;

constexpr int kSubscribers = 20;
constexpr int kCallers = 4;  // sim/100 .. sim/103
ClientOptions FastClient(const std::string& address, const std::string& name) {
  ClientOptions options;
  options.servers = {address};
  options.deadline = absl::Seconds(3);
  options.backoff.initial = absl::Milliseconds(20);
  options.backoff.max = absl::Milliseconds(200);
  options.client_name = name;
  return options;
}

// Calls ended (IDLE) as seen by subscriber 0: when it saw them, and the
// epoch (server run) they belong to; and when each epoch's server was killed.
class EndedCalls {
 public:
  void Saw(const std::string& call_id) {
    absl::MutexLock lock(&mu_);
    ended_.insert(call_id);
  }
  std::vector<std::string> All() {
    absl::MutexLock lock(&mu_);
    return {ended_.begin(), ended_.end()};
  }
  size_t size() {
    absl::MutexLock lock(&mu_);
    return ended_.size();
  }

 private:
  absl::Mutex mu_;
  std::set<std::string> ended_ ABSL_GUARDED_BY(mu_);
};

// One of the call makers: its own client and session, owner of one line,
// making calls and dropping them until told to stop, starting over (new
// session, line opened again) whenever the server went away.
class Caller {
 public:
  Caller(const std::string& address, int index, uint64_t seed)
      : line_("sim/10" + std::to_string(index)), rng_(seed) {
    auto client = Client::Create(FastClient(address, "chaos-caller-" + std::to_string(index)));
    if (client.ok()) client_ = std::move(*client);
  }
  ~Caller() { Stop(); }
  bool ok() const { return client_ != nullptr; }
  void Start() { thread_ = std::thread([this] { Run(); }); }
  void Stop() {
    stop_ = true;
    if (thread_.joinable()) thread_.join();
  }
  uint64_t dropped() const { return dropped_; }
  uint64_t failed_reclaims() const { return failed_reclaims_; }
  uint64_t reclaimed() const { return reclaimed_; }
  std::string session_id() const { return client_->session_id(0); }

 private:
  void Run() {
    static const char* const kDestinations[] = {"5550100", "5550101", "5550105", "5550102"};
    bool open = false;
    while (!stop_) {
      if (!open) {
        open = Open();
        if (!open) {
          absl::SleepFor(absl::Milliseconds(20));
          continue;
        }
      }
      v1::MakeCallRequest make;
      make.set_line_id(line_);
      make.set_destination(kDestinations[rng_() % 4]);
      absl::StatusOr<v1::Call> call = client_->MakeCall(make);
      if (!call.ok()) {
        open = false;
        continue;
      }
      absl::SleepFor(absl::Milliseconds(rng_() % 30));
      v1::CallActionRequest drop;
      drop.set_call_id(call->id());
      if (client_->Drop(drop).ok()) {
        ++dropped_;
      } else {
        open = false;
      }
    }
  }
  // Reclaims the session (a restarted server has none of the old ones: that
  // must be NOT_FOUND) or starts one, and opens the line as its owner.
  bool Open() {
    if (!client_->session_id(0).empty()) {
      const absl::Status reclaim = client_->ReclaimSession(0);
      if (reclaim.ok()) {
        ++reclaimed_;
      } else if (reclaim.code() == absl::StatusCode::kNotFound) {
        ++failed_reclaims_;
      } else {
        return false;  // server not back yet
      }
    }
    if (client_->session_id(0).empty() && !client_->StartSession(0).ok()) return false;
    v1::OpenLineRequest open;
    open.set_line_id(line_);
    open.set_privilege(v1::PRIVILEGE_OWNER);
    return client_->OpenLine(open).ok();
  }

  const std::string line_;
  std::mt19937_64 rng_;
  std::unique_ptr<Client> client_;
  std::atomic<bool> stop_{false};
  std::atomic<uint64_t> dropped_{0};
  std::atomic<uint64_t> failed_reclaims_{0};
  std::atomic<uint64_t> reclaimed_{0};
  std::thread thread_;
};

// One SDK subscriber: every line, resuming across restarts; the first one
// also records which calls went IDLE.
class Subscriber {
 public:
  Subscriber(const std::string& address, int index, EndedCalls* ended) : ended_(ended) {
    auto client = Client::Create(FastClient(address, "chaos-subscriber-" + std::to_string(index)));
    if (!client.ok()) return;
    client_ = std::move(*client);
    subscription_ = client_->Subscribe(
        SubscribeOptions{}, [this](size_t, const v1::EventBatch& batch) { OnBatch(batch); });
  }
  ~Subscriber() { Stop(); }
  bool ok() const { return subscription_ != nullptr; }
  void Stop() {
    if (subscription_ != nullptr) subscription_->Stop();
  }
  StreamChecker& checker() { return checker_; }
  bool SawIdle(const std::string& call_id) {
    absl::MutexLock lock(&mu_);
    return idle_.contains(call_id);
  }

 private:
  void OnBatch(const v1::EventBatch& batch) {
    checker_.OnBatch(batch);
    for (const v1::Event& e : batch.events()) {
      if (e.has_call_state() && e.call_state().status().state() == v1::CALL_STATE_IDLE) {
        if (ended_ != nullptr) ended_->Saw(e.call_state().call_id());
        absl::MutexLock lock(&mu_);
        idle_.insert(e.call_state().call_id());
      }
    }
  }

  EndedCalls* const ended_;
  StreamChecker checker_;
  absl::Mutex mu_;
  std::set<std::string> idle_ ABSL_GUARDED_BY(mu_);
  std::unique_ptr<Client> client_;
  std::unique_ptr<Subscription> subscription_;
};

std::unique_ptr<v1::Admin::Stub> AdminStub(const std::string& address) {
  return v1::Admin::NewStub(grpc::CreateChannel(address, grpc::InsecureChannelCredentials()));
}

// Every call record id (call_id) the server holds.
absl::StatusOr<std::set<std::string>> RecordedCalls(v1::Admin::Stub& admin) {
  std::set<std::string> out;
  int64_t before = 0;
  for (;;) {
    v1::ListCallRecordsRequest request;
    request.set_limit(10000);
    request.set_before_record_id(before);
    v1::ListCallRecordsResponse response;
    grpc::ClientContext context;
    context.set_deadline(DeadlineAfter(absl::Seconds(10)));
    context.set_wait_for_ready(true);
    const grpc::Status status = admin.ListCallRecords(&context, request, &response);
    if (!status.ok()) return absl::UnavailableError(status.error_message());
    for (const v1::CallRecord& r : response.records()) out.insert(r.call_id());
    if (response.next_before_record_id() == 0) return out;
    before = response.next_before_record_id();
  }
}

std::string IntegrityCheck(const std::string& path) {
  sqlite3* db = nullptr;
  if (sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READONLY, nullptr) != SQLITE_OK) {
    sqlite3_close(db);
    return "cannot open";
  }
  std::string result;
  sqlite3_stmt* stmt = nullptr;
  if (sqlite3_prepare_v2(db, "PRAGMA integrity_check", -1, &stmt, nullptr) == SQLITE_OK) {
    while (sqlite3_step(stmt) == SQLITE_ROW) {
      absl::StrAppend(&result, result.empty() ? "" : "; ",
                      reinterpret_cast<const char*>(sqlite3_column_text(stmt, 0)));
    }
  } else {
    result = sqlite3_errmsg(db);
  }
  sqlite3_finalize(stmt);
  sqlite3_close(db);
  return result;
}

TEST(Chaos, KilledUnderLoadAndRestartedOnTheSameDataDir) {
  const int kills = EnvInt("LINEBRIDGE_CHAOS_KILLS", 100);
  const int tsp_every = std::max(1, EnvInt("LINEBRIDGE_CHAOS_TSP_EVERY", 2));
  const uint64_t seed = static_cast<uint64_t>(
      EnvInt("LINEBRIDGE_CHAOS_SEED", static_cast<int>(absl::ToUnixMicros(absl::Now()) % 1000000007)));
  std::cout << "chaos: seed " << seed << " (LINEBRIDGE_CHAOS_SEED), " << kills
            << " kills (LINEBRIDGE_CHAOS_KILLS)" << std::endl;
  std::mt19937_64 rng(seed);
  const absl::Time test_start = absl::Now();

  char tmpl[] = "/tmp/lb-chaos.XXXXXX";
  const std::string dir = mkdtemp(tmpl);
  ServerProcess server;
  std::string error;
  ASSERT_TRUE(server.Start(dir, &error)) << error;
  const std::string address = server.address();

  // The TSP, opening sim/107 (the call makers use sim/100..103).
  const char* tsp_library = std::getenv("LINEBRIDGE_TSP_LIBRARY");
  ASSERT_NE(tsp_library, nullptr) << "LINEBRIDGE_TSP_LIBRARY is not set";
  {
    std::ofstream conf(dir + "/tsp.conf");
    conf << "server = " << address << "\n"
         << "device_map = " << dir << "/devices.map\n"
         << "client_name = chaos-tsp\n"
         << "deadline_ms = 2000\n";
  }
  WorkerProcess tsp;
  ASSERT_EQ(tsp.Start(absl::StrCat(std::getenv("LINEBRIDGE_BIN_DIR"), "/chaos_tsp_worker"),
                      {tsp_library, "sim/107"}, {"LINEBRIDGE_TSP_CONFIG=" + dir + "/tsp.conf"}),
            "");
  ASSERT_EQ(tsp.ReadLine(absl::Seconds(30)), "ready");

  EndedCalls ended;
  std::vector<std::unique_ptr<Subscriber>> subscribers;
  for (int i = 0; i < kSubscribers; ++i) {
    subscribers.push_back(std::make_unique<Subscriber>(address, i, i == 0 ? &ended : nullptr));
    ASSERT_TRUE(subscribers.back()->ok());
  }
  std::vector<std::unique_ptr<Caller>> callers;
  for (int i = 0; i < kCallers; ++i) {
    callers.push_back(std::make_unique<Caller>(address, i, rng()));
    ASSERT_TRUE(callers.back()->ok());
    callers.back()->Start();
  }

  int tsp_checks = 0;
  for (int k = 1; k <= kills; ++k) {
    // A random moment: 100 ms .. 1500 ms into this server's life.
    absl::SleepFor(absl::Milliseconds(100 + static_cast<int64_t>(rng() % 1400)));
    server.Kill();
    ASSERT_TRUE(server.Restart(&error)) << "restart " << k << ": " << error;
    if (k % tsp_every == 0) {
      ASSERT_TRUE(tsp.WriteLine("check"));
      const std::string answer = tsp.ReadLine(absl::Seconds(60));
      ASSERT_EQ(answer.substr(0, 2), "ok") << "TSP after restart " << k << ": " << answer;
      ++tsp_checks;
    }
    if (k % 10 == 0) {
      std::cout << "chaos: " << k << " kills, " << ended.size() << " calls ended, "
                << absl::FormatDuration(absl::Now() - test_start) << std::endl;
    }
  }

  // The final server: clients come back to it by themselves.
  uint64_t dropped_before[kCallers];
  for (int i = 0; i < kCallers; ++i) dropped_before[i] = callers[i]->dropped();
  const absl::Time settle = absl::Now() + absl::Seconds(60);
  for (int i = 0; i < kCallers; ++i) {
    while (callers[i]->dropped() < dropped_before[i] + 3 && absl::Now() < settle) {
      absl::SleepFor(absl::Milliseconds(10));
    }
    EXPECT_GE(callers[i]->dropped(), dropped_before[i] + 3) << "call maker " << i << " is stuck";
  }
  for (auto& caller : callers) caller->Stop();
  // Every subscriber is back on the final server (its snapshot in)...
  uint64_t final_epoch = 0;
  {
    auto status_stub = AdminStub(address);
    v1::ServerStatus status;
    grpc::ClientContext context;
    context.set_deadline(DeadlineAfter(absl::Seconds(10)));
    ASSERT_TRUE(status_stub->GetServerStatus(&context, v1::GetServerStatusRequest(), &status).ok());
    final_epoch = status.epoch();
  }
  for (int i = 0; i < kSubscribers; ++i) {
    const absl::Time deadline = MonotonicNow() + absl::Seconds(30);
    while (subscribers[i]->checker().epoch() != final_epoch && MonotonicNow() < deadline) {
      absl::SleepFor(absl::Milliseconds(10));
    }
    EXPECT_EQ(subscribers[i]->checker().epoch(), final_epoch)
        << "subscriber " << i << " did not come back: " << subscribers[i]->checker().Describe();
  }
  // ...and a last call is seen ending by every one of them: none hung.
  {
    auto client = Client::Create(FastClient(address, "chaos-last"));
    ASSERT_TRUE(client.ok());
    ASSERT_TRUE((*client)->StartSession().ok());
    v1::OpenLineRequest open;
    open.set_line_id("sim/104");
    open.set_privilege(v1::PRIVILEGE_OWNER);
    ASSERT_TRUE((*client)->OpenLine(open).ok());
    v1::MakeCallRequest make;
    make.set_line_id("sim/104");
    make.set_destination("5550100");
    absl::StatusOr<v1::Call> call = (*client)->MakeCall(make);
    ASSERT_TRUE(call.ok()) << call.status();
    v1::CallActionRequest drop;
    drop.set_call_id(call->id());
    ASSERT_TRUE((*client)->Drop(drop).ok());
    for (int i = 0; i < kSubscribers; ++i) {
      const absl::Time deadline = MonotonicNow() + absl::Seconds(30);
      while (!subscribers[i]->SawIdle(call->id()) && MonotonicNow() < deadline) {
        absl::SleepFor(absl::Milliseconds(10));
      }
      EXPECT_TRUE(subscribers[i]->SawIdle(call->id()))
          << "subscriber " << i << " hung: " << subscribers[i]->checker().Describe()
          << "; the server is at epoch " << final_epoch;
    }
    (void)(*client)->CloseSession();
  }

  // Sessions: nothing reclaimed across a restart, and the server holds only
  // the sessions of the call makers and the TSP, still connected.
  auto admin = AdminStub(address);
  {
    uint64_t reclaimed = 0, replaced = 0;
    std::set<std::string> live;
    for (auto& caller : callers) {
      reclaimed += caller->reclaimed();
      replaced += caller->failed_reclaims();
      live.insert(caller->session_id());
    }
    EXPECT_EQ(reclaimed, 0u) << "a session survived a server restart";
    EXPECT_GT(replaced, 0u);
    v1::ListSessionsResponse sessions;
    grpc::ClientContext context;
    context.set_deadline(DeadlineAfter(absl::Seconds(10)));
    ASSERT_TRUE(admin->ListSessions(&context, v1::ListSessionsRequest(), &sessions).ok());
    int tsp_sessions = 0;
    for (const v1::Session& s : sessions.sessions()) {
      if (s.client_name() == "chaos-tsp") {
        ++tsp_sessions;
        continue;
      }
      EXPECT_TRUE(live.contains(s.id())) << "stray session " << s.id() << " " << s.client_name();
    }
    EXPECT_LE(tsp_sessions, 1);
  }

  // The record of every call a subscriber saw go IDLE: the server holds a
  // call's IDLE event back until its record is committed.
  const std::vector<std::string> must_survive = ended.All();
  absl::StatusOr<std::set<std::string>> recorded = RecordedCalls(*admin);
  ASSERT_TRUE(recorded.ok()) << recorded.status();
  size_t lost = 0;
  for (const std::string& id : must_survive) {
    if (!recorded->contains(id)) {
      if (++lost <= 10) ADD_FAILURE() << "call record lost: " << id;
    }
  }
  EXPECT_EQ(lost, 0u);
  EXPECT_GT(must_survive.size(), 0u);

  // Streams.
  uint64_t events = 0, snapshots = 0;
  for (int i = 0; i < kSubscribers; ++i) {
    subscribers[i]->Stop();
    StreamChecker& c = subscribers[i]->checker();
    for (const std::string& e : c.errors()) ADD_FAILURE() << "subscriber " << i << ": " << e;
    events += c.events();
    snapshots += c.snapshots();
    EXPECT_GE(c.snapshots(), 1u);
  }

  ASSERT_TRUE(tsp.WriteLine("quit"));
  EXPECT_EQ(tsp.Wait(absl::Seconds(30)), 0);
  server.Stop();

  for (const auto& entry : std::filesystem::recursive_directory_iterator(dir + "/data")) {
    const std::string path = entry.path().string();
    if (!path.ends_with(".sqlite3") && !path.ends_with(".db")) continue;
    EXPECT_EQ(IntegrityCheck(path), "ok") << path;
  }

  std::cout << "chaos: " << kills << " kills in " << absl::FormatDuration(absl::Now() - test_start)
            << "; " << ended.size() << " calls ended, " << must_survive.size()
            << " records checked; " << events << " events and " << snapshots
            << " snapshots to " << kSubscribers << " subscribers; " << tsp_checks
            << " TSP checks; seed " << seed << std::endl;
  if (!HasFailure()) std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace linebridge::chaos
