// linebridge_bench: measures a real linebridged (spawned from its binary) over
// gRPC on 127.0.0.1 and compares each figure with its target and with a
// baseline measured in the same run. See bench/README.md.
//
//   linebridge_bench [--quick] [--json FILE] [--linebridged PATH]
//                    [--only latency,fanout,memory] [--full_decode] [--keep_tmp]
//
// Exit status: 0 when the benchmarks ran (whether or not targets were met),
// 2 when one could not run (daemon did not start, RPCs failed), 1 for bad flags.
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstdarg>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include <google/protobuf/io/coded_stream.h>
#include <grpcpp/grpcpp.h>
#include <grpcpp/support/proto_buffer_reader.h>

#include "bench_util.h"
#include "config/config.h"
#include "linebridge/v1/admin.grpc.pb.h"
#include "linebridge/v1/telephony.grpc.pb.h"

namespace linebridge::bench {
namespace {

constexpr double kRpcTimeout = 10;  // seconds, every unary RPC

struct Options {
  bool quick = false;
  std::string json;
  std::string linebridged;
  std::set<std::string> only;  // empty = all
  bool full_decode = false;
  bool keep_tmp = false;
};

// Thrown when a benchmark cannot run (caught per benchmark in main).
struct BenchError {
  std::string what;
};

[[noreturn]] void Fail(const std::string& what) { throw BenchError{what}; }

void Check(const grpc::Status& s, const std::string& what) {
  if (!s.ok()) {
    Fail(what + ": " + std::to_string(s.error_code()) + " " + s.error_message());
  }
}

template <typename Fn>
grpc::Status Unary(Fn fn) {
  grpc::ClientContext ctx;
  ctx.set_deadline(DeadlineIn(kRpcTimeout));
  return fn(&ctx);
}

void Progress(const char* fmt, ...) __attribute__((format(printf, 1, 2)));
void Progress(const char* fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  std::fprintf(stderr, "[bench] ");
  std::vfprintf(stderr, fmt, ap);
  std::fprintf(stderr, "\n");
  va_end(ap);
}

std::string Fmt(const char* fmt, double v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, fmt, v);
  return buf;
}

// A connected server under test: its process, one channel and stubs.
struct Target {
  std::unique_ptr<Daemon> daemon;
  std::shared_ptr<grpc::Channel> channel;
  std::unique_ptr<v1::Telephony::Stub> tel;
  std::unique_ptr<v1::Admin::Stub> admin;
};

Target StartTarget(const Options& opt, const TempDir& dir, const std::string& name,
                   const v1::config::ServerConfig& config) {
  std::string error;
  Target t;
  t.daemon = Daemon::Start(opt.linebridged, dir.path(), name, config, &error);
  if (t.daemon == nullptr) Fail("starting linebridged (" + name + "): " + error);
  t.channel = MakeChannel(t.daemon->target(), 0);
  if (!WaitConnected(t.channel, 10)) Fail("cannot connect to " + t.daemon->target());
  t.tel = v1::Telephony::NewStub(t.channel);
  t.admin = v1::Admin::NewStub(t.channel);
  Progress("%s: linebridged pid %d on %s", name.c_str(), static_cast<int>(t.daemon->pid()),
           t.daemon->target().c_str());
  return t;
}

v1::config::ServerConfig DemoConfig() {
  v1::config::ServerConfig c;
  c.set_listen("127.0.0.1:0");
  *c.add_providers()->mutable_sim() = DefaultSimConfig();
  return c;
}

v1::ServerStatus GetStatus(v1::Admin::Stub* admin) {
  v1::ServerStatus st;
  Check(Unary([&](grpc::ClientContext* c) {
          return admin->GetServerStatus(c, v1::GetServerStatusRequest(), &st);
        }),
        "GetServerStatus");
  return st;
}

double TimedPing(v1::Admin::Stub* admin) {
  v1::PingRequest req;
  v1::PingResponse resp;
  const auto t0 = Clock::now();
  Check(Unary([&](grpc::ClientContext* c) { return admin->Ping(c, req, &resp); }), "Ping");
  return MicrosSince(t0);
}

// MakeCall from `line` to an external that answers at once; returns the call.
v1::Call MakeExternalCall(v1::Telephony::Stub* tel, const std::string& line,
                          const std::string& session = "") {
  v1::MakeCallRequest req;
  req.set_session_id(session);
  req.set_line_id(line);
  req.set_destination("5550100");
  v1::Call call;
  Check(Unary([&](grpc::ClientContext* c) { return tel->MakeCall(c, req, &call); }),
        "MakeCall " + line + " -> 5550100");
  if (call.status().state() != v1::CALL_STATE_CONNECTED) {
    Fail("MakeCall to 5550100 answered in state " + v1::CallState_Name(call.status().state()) +
         ", expected CONNECTED");
  }
  return call;
}

grpc::Status DropCall(v1::Telephony::Stub* tel, const std::string& call_id) {
  v1::CallActionRequest req;
  req.set_call_id(call_id);
  v1::Call resp;
  return Unary([&](grpc::ClientContext* c) { return tel->Drop(c, req, &resp); });
}

// ===========================================================================
// 1. MakeCall round trip vs a bare unary echo (Admin.Ping).

// Reads events one at a time from a blocking Subscribe stream.
class EventReader {
 public:
  explicit EventReader(grpc::ClientReader<v1::EventBatch>* reader) : reader_(reader) {}
  // The next event; fails the benchmark if the stream ends.
  const v1::Event& Next() {
    while (index_ >= batch_.events_size()) {
      batch_.Clear();
      index_ = 0;
      if (!reader_->Read(&batch_)) Fail("Subscribe stream ended unexpectedly");
    }
    return batch_.events(index_++);
  }

 private:
  grpc::ClientReader<v1::EventBatch>* reader_;
  v1::EventBatch batch_;
  int index_ = 0;
};

void BenchLatency(const Options& opt, const TempDir& dir, Report* report) {
  v1::config::ServerConfig config = DemoConfig();
  config.set_journal_capacity(65536);
  Target t = StartTarget(opt, dir, "latency", config);
  const int warmup = opt.quick ? 50 : 300;
  const int pairs = opt.quick ? 500 : 5000;
  const int event_pairs = opt.quick ? 100 : 1000;

  for (int i = 0; i < warmup; ++i) {
    TimedPing(t.admin.get());
    Check(DropCall(t.tel.get(), MakeExternalCall(t.tel.get(), "sim/100").id()), "Drop");
  }

  // Interleaved: echo, MakeCall, echo, MakeCall ... (Drop is not timed).
  Stats echo, make;
  for (int i = 0; i < pairs; ++i) {
    echo.Add(TimedPing(t.admin.get()));
    const auto t0 = Clock::now();
    v1::Call call = MakeExternalCall(t.tel.get(), "sim/100");
    make.Add(MicrosSince(t0));
    Check(DropCall(t.tel.get(), call.id()), "Drop");
  }
  Progress("latency: echo p50 %.1f us p99 %.1f us; MakeCall p50 %.1f us p99 %.1f us (n=%d)",
           echo.P50(), echo.P99(), make.P50(), make.P99(), pairs);

  // MakeCall 100 -> 101, Answer on 101's leg, until a subscriber to both lines
  // has seen both legs CONNECTED. Interleaved with echo again.
  grpc::ClientContext sctx;
  sctx.set_deadline(DeadlineIn(opt.quick ? 120 : 600));
  v1::SubscribeRequest sreq;
  sreq.add_line_ids("sim/100");
  sreq.add_line_ids("sim/101");
  auto reader = t.tel->Subscribe(&sctx, sreq);
  {
    v1::EventBatch first;
    if (!reader->Read(&first) || !first.has_snapshot()) Fail("Subscribe: no snapshot batch");
  }
  EventReader events(reader.get());
  Stats echo2, connected;
  for (int i = 0; i < event_pairs + warmup / 10; ++i) {
    const double e = TimedPing(t.admin.get());
    const auto t0 = Clock::now();
    v1::MakeCallRequest mreq;
    mreq.set_line_id("sim/100");
    mreq.set_destination("101");
    v1::Call a;
    Check(Unary([&](grpc::ClientContext* c) { return t.tel->MakeCall(c, mreq, &a); }),
          "MakeCall sim/100 -> 101");
    std::string b;
    std::set<std::string> up, idle;
    auto seen = [&](const v1::Event& ev) {
      if (ev.has_call_created() && ev.line_id() == "sim/101") b = ev.call_created().call().id();
      if (ev.has_call_state()) {
        const auto s = ev.call_state().status().state();
        if (s == v1::CALL_STATE_CONNECTED) up.insert(ev.call_state().call_id());
        if (s == v1::CALL_STATE_IDLE) idle.insert(ev.call_state().call_id());
      }
    };
    while (b.empty()) seen(events.Next());
    v1::CallActionRequest areq;
    areq.set_call_id(b);
    v1::Call answered;
    Check(Unary([&](grpc::ClientContext* c) { return t.tel->Answer(c, areq, &answered); }),
          "Answer " + b);
    while (!up.count(a.id()) || !up.count(b)) seen(events.Next());
    const double us = MicrosSince(t0);
    if (i >= warmup / 10) {
      echo2.Add(e);
      connected.Add(us);
    }
    // Not timed: hang up both legs and wait until the stream saw them go idle.
    Check(DropCall(t.tel.get(), a.id()), "Drop " + a.id());
    (void)DropCall(t.tel.get(), b);  // may already be idle
    while (!idle.count(a.id()) || !idle.count(b)) seen(events.Next());
  }
  sctx.TryCancel();
  {
    v1::EventBatch rest;
    while (reader->Read(&rest)) {
    }
    (void)reader->Finish();
  }
  Progress("latency: internal call connected (events) p50 %.1f us p99 %.1f us; echo p50 %.1f us",
           connected.P50(), connected.P99(), echo2.P50());

  const double ratio = make.P50() / echo.P50();
  report->Add({"makecall p50 (us)", make.P50(), "<= 2x echo", "echo " + Fmt("%.1f", echo.P50()),
               echo.P50(), ratio, ratio <= 2.0 ? "PASS" : "FAIL",
               "MakeCall sim/100 -> 5550100 (answers synchronously), n=" + std::to_string(pairs) +
                   ", interleaved with Admin.Ping"});
  report->Add({"makecall p99 (us)", make.P99(), "info", "echo " + Fmt("%.1f", echo.P99()),
               echo.P99(), make.P99() / echo.P99(), "info", ""});
  const double three = 3 * echo2.P50();
  report->Add({"call connected via events p50 (us)", connected.P50(), "~3x echo (info)",
               "3x echo " + Fmt("%.1f", three), three, connected.P50() / three, "info",
               "MakeCall 100->101, event CallCreated(101), Answer, both CONNECTED seen on stream; "
               "p99 " + Fmt("%.1f", connected.P99()) + " us, n=" +
                   std::to_string(connected.size())});
}

// ===========================================================================
// 2. Event fan-out.

// Counts events in a raw EventBatch without decoding them: per event only its
// sequence number is read (to check order and completeness).
struct ScanState {
  uint64_t next_seq = 1;   // next sequence expected
  uint64_t events = 0;
  uint64_t batches = 0;
  bool bad = false;        // snapshot, gap or malformed
  std::string why;
};

bool SkipField(google::protobuf::io::CodedInputStream* in, uint32_t tag) {
  switch (tag & 7) {
    case 0: {
      uint64_t v;
      return in->ReadVarint64(&v);
    }
    case 1:
      return in->Skip(8);
    case 2: {
      uint32_t len;
      return in->ReadVarint32(&len) && in->Skip(static_cast<int>(len));
    }
    case 5:
      return in->Skip(4);
    default:
      return false;
  }
}

void ScanBatch(grpc::ByteBuffer* buf, ScanState* st) {
  grpc::ProtoBufferReader zin(buf);
  google::protobuf::io::CodedInputStream in(&zin);
  in.SetTotalBytesLimit(1 << 30);
  ++st->batches;
  while (uint32_t tag = in.ReadTag()) {
    const uint32_t field = tag >> 3;
    if (field == 2 && (tag & 7) == 2) {  // Event events = 2
      uint32_t len;
      if (!in.ReadVarint32(&len)) break;
      const auto limit = in.PushLimit(static_cast<int>(len));
      uint64_t seq = 0;
      while (uint32_t t = in.ReadTag()) {
        if (t == ((2u << 3) | 0)) {  // uint64 sequence = 2
          in.ReadVarint64(&seq);
          break;
        }
        if (!SkipField(&in, t)) break;
      }
      in.Skip(in.BytesUntilLimit());
      in.PopLimit(limit);
      if (seq != st->next_seq && !st->bad) {
        st->bad = true;
        st->why = "sequence " + std::to_string(seq) + ", expected " + std::to_string(st->next_seq);
      }
      st->next_seq = seq + 1;
      ++st->events;
      continue;
    }
    if (field == 3 && !st->bad) {  // Snapshot snapshot = 3: the replay was not honoured
      st->bad = true;
      st->why = "got a snapshot instead of a replay";
    }
    if (!SkipField(&in, tag)) break;
  }
}

void DecodeBatch(grpc::ByteBuffer* buf, ScanState* st) {
  grpc::ProtoBufferReader zin(buf);
  v1::EventBatch batch;
  ++st->batches;
  if (!batch.ParseFromZeroCopyStream(&zin)) {
    st->bad = true;
    st->why = "unparsable EventBatch";
    return;
  }
  if (batch.has_snapshot() && !st->bad) {
    st->bad = true;
    st->why = "got a snapshot instead of a replay";
  }
  for (const auto& ev : batch.events()) {
    if (ev.sequence() != st->next_seq && !st->bad) {
      st->bad = true;
      st->why = "sequence gap";
    }
    st->next_seq = ev.sequence() + 1;
    ++st->events;
  }
}

// Completion bookkeeping shared by the readers of one fan-out run.
struct FanoutSync {
  std::mutex mu;
  std::condition_variable cv;
  int reached = 0;   // readers that have every event (or failed)
  int finished = 0;  // readers whose RPC is over (OnDone)
  Clock::time_point last_reached;
};

// One Subscribe stream read as raw bytes (callback API).
class FanoutReader : public grpc::ClientReadReactor<grpc::ByteBuffer> {
 public:
  FanoutReader(FanoutSync* sync, uint64_t last_sequence, bool full_decode)
      : sync_(sync), last_(last_sequence), full_decode_(full_decode) {}

  void Start(grpc::Channel* channel, const grpc::internal::RpcMethod& method,
             const v1::SubscribeRequest& request, double deadline_s) {
    ctx_.set_deadline(DeadlineIn(deadline_s));
    request_ = request;
    grpc::internal::ClientCallbackReaderFactory<grpc::ByteBuffer>::Create(channel, method, &ctx_,
                                                                         &request_, this);
    StartRead(&buf_);
    StartCall();
  }

  void OnReadDone(bool ok) override {
    if (!ok) {
      Reach();  // the stream ended early; OnDone has the status
      return;
    }
    if (full_decode_) {
      DecodeBatch(&buf_, &scan_);
    } else {
      ScanBatch(&buf_, &scan_);
    }
    buf_.Clear();
    events_.store(scan_.events, std::memory_order_relaxed);
    if (scan_.bad || scan_.next_seq > last_) {
      Reach();
      return;
    }
    StartRead(&buf_);
  }

  void OnDone(const grpc::Status& s) override {
    status_ = s;
    std::lock_guard<std::mutex> lock(sync_->mu);
    ++sync_->finished;
    sync_->cv.notify_all();
  }

  void Cancel() { ctx_.TryCancel(); }
  // Valid after OnDone (or, for the counters, after Reach).
  const ScanState& scan() const { return scan_; }
  uint64_t events_so_far() const { return events_.load(std::memory_order_relaxed); }
  bool complete() const { return !scan_.bad && scan_.next_seq > last_; }
  const grpc::Status& status() const { return status_; }

 private:
  void Reach() {
    std::lock_guard<std::mutex> lock(sync_->mu);
    ++sync_->reached;
    sync_->last_reached = Clock::now();
    sync_->cv.notify_all();
  }

  FanoutSync* sync_;
  const uint64_t last_;
  const bool full_decode_;
  grpc::ClientContext ctx_;
  v1::SubscribeRequest request_;
  grpc::ByteBuffer buf_;
  ScanState scan_;
  std::atomic<uint64_t> events_{0};
  grpc::Status status_;
};

struct FanoutResult {
  double seconds = 0;
  uint64_t events = 0;
  uint64_t batches = 0;
  bool complete = true;
  std::string problem;
  double rate() const { return seconds > 0 ? static_cast<double>(events) / seconds : 0; }
  double per_write() const {
    return batches > 0 ? static_cast<double>(events) / static_cast<double>(batches) : 0;
  }
};

// Fills the journal with at least `want` events: MakeCall + Drop from several
// lines in parallel. Not timed. Returns the server's last sequence.
uint64_t GenerateEvents(Target& t, uint64_t want, const char* label) {
  const auto t0 = Clock::now();
  const std::vector<std::string> lines = {"sim/100", "sim/101", "sim/102", "sim/103"};
  std::atomic<bool> stop{false};
  std::mutex err_mu;
  std::string error;
  std::vector<std::thread> threads;
  for (const std::string& line : lines) {
    threads.emplace_back([&, line] {
      try {
        while (!stop.load()) {
          for (int i = 0; i < 50; ++i) {
            Check(DropCall(t.tel.get(), MakeExternalCall(t.tel.get(), line).id()), "Drop");
          }
          if (GetStatus(t.admin.get()).sequence() >= want) stop.store(true);
        }
      } catch (const BenchError& e) {
        std::lock_guard<std::mutex> lock(err_mu);
        error = e.what;
        stop.store(true);
      }
    });
  }
  for (auto& th : threads) th.join();
  if (!error.empty()) Fail("generating events: " + error);
  const v1::ServerStatus st = GetStatus(t.admin.get());
  Progress("%s: journal holds %llu events (oldest %llu) after %.1f s of MakeCall+Drop", label,
           static_cast<unsigned long long>(st.sequence()),
           static_cast<unsigned long long>(st.journal_oldest_sequence()),
           MicrosSince(t0) / 1e6);
  if (st.journal_oldest_sequence() != 1) Fail("journal too small: it no longer holds event 1");
  return st.sequence();
}

FanoutResult RunFanout(const Options& opt, Target& t, int subscribers, uint64_t epoch,
                       uint64_t last_sequence, double cap_seconds) {
  const int nchannels = std::min(subscribers, 4);
  std::vector<std::shared_ptr<grpc::Channel>> channels;
  std::vector<std::unique_ptr<grpc::internal::RpcMethod>> methods;
  for (int i = 0; i < nchannels; ++i) {
    channels.push_back(MakeChannel(t.daemon->target(), 100 + i));
    if (!WaitConnected(channels.back(), 10)) Fail("fan-out channel did not connect");
    methods.push_back(std::make_unique<grpc::internal::RpcMethod>(
        "/linebridge.v1.Telephony/Subscribe", grpc::internal::RpcMethod::SERVER_STREAMING,
        channels.back()));
  }
  v1::SubscribeRequest req;
  req.set_resume_epoch(epoch);
  req.set_resume_sequence(0);  // replay everything from event 1

  // Leaked together with the readers if gRPC never lets go of them.
  auto sync_owner = std::make_unique<FanoutSync>();
  FanoutSync& sync = *sync_owner;
  std::vector<std::unique_ptr<FanoutReader>> readers;
  for (int i = 0; i < subscribers; ++i) {
    readers.push_back(std::make_unique<FanoutReader>(&sync, last_sequence, opt.full_decode));
  }
  const auto t0 = Clock::now();
  for (int i = 0; i < subscribers; ++i) {
    readers[i]->Start(channels[i % nchannels].get(), *methods[i % nchannels], req,
                      cap_seconds + 60);
  }
  bool all = false;
  {
    std::unique_lock<std::mutex> lock(sync.mu);
    all = sync.cv.wait_for(lock, std::chrono::duration<double>(cap_seconds),
                           [&] { return sync.reached >= subscribers; });
  }
  const auto t_end = all ? sync.last_reached : Clock::now();
  uint64_t events_at_end = 0;
  for (auto& r : readers) events_at_end += r->events_so_far();
  for (auto& r : readers) r->Cancel();
  {
    std::unique_lock<std::mutex> lock(sync.mu);
    if (!sync.cv.wait_for(lock, std::chrono::seconds(30),
                          [&] { return sync.finished >= subscribers; })) {
      // gRPC still owns some reactors: leak them rather than free live memory.
      for (auto& r : readers) (void)r.release();
      (void)sync_owner.release();
      Fail("fan-out streams did not end within 30 s of cancellation");
    }
  }
  FanoutResult res;
  res.seconds = std::chrono::duration<double>(t_end - t0).count();
  res.events = events_at_end;
  for (auto& r : readers) {
    res.batches += r->scan().batches;
    if (!r->complete()) {
      res.complete = false;
      if (res.problem.empty()) {
        res.problem = r->scan().bad ? r->scan().why
                                    : (all ? "stream ended: " + r->status().error_message()
                                           : "time cap reached");
      }
    }
  }
  return res;
}

void BenchFanout(const Options& opt, const TempDir& dir, Report* report) {
  const uint64_t want = opt.quick ? 20000 : 100000;
  const uint32_t capacity = 262144;
  const double cap = opt.quick ? 30 : 120;
  const double base_cap = opt.quick ? 15 : 60;

  auto config_with_batch = [&](uint32_t max_batch) {
    v1::config::ServerConfig c = DemoConfig();
    c.set_journal_capacity(capacity);
    c.set_subscriber_queue_limit(capacity);
    if (max_batch > 0) c.set_max_batch(max_batch);
    return c;
  };

  std::map<int, FanoutResult> batched;
  uint64_t events_total = 0;
  {
    Target t = StartTarget(opt, dir, "fanout", config_with_batch(0));
    const uint64_t last = GenerateEvents(t, want, "fanout");
    events_total = last;
    const uint64_t epoch = GetStatus(t.admin.get()).epoch();
    for (int s : {1, 10, 100}) {
      FanoutResult r = RunFanout(opt, t, s, epoch, last, cap);
      Progress("fanout: %3d subscribers: %llu events in %.3f s = %.0f events/s, %.1f events/write%s%s",
               s, static_cast<unsigned long long>(r.events), r.seconds, r.rate(), r.per_write(),
               r.complete ? "" : " INCOMPLETE: ", r.problem.c_str());
      batched[s] = r;
    }
  }
  FanoutResult single;
  {
    Target t = StartTarget(opt, dir, "fanout-batch1", config_with_batch(1));
    const uint64_t last = GenerateEvents(t, want, "fanout-batch1");
    const uint64_t epoch = GetStatus(t.admin.get()).epoch();
    single = RunFanout(opt, t, 100, epoch, last, base_cap);
    Progress("fanout: 100 subscribers, max_batch=1: %llu events in %.3f s = %.0f events/s, "
             "%.2f events/write%s%s",
             static_cast<unsigned long long>(single.events), single.seconds, single.rate(),
             single.per_write(), single.complete ? "" : " (partial: ", 
             single.complete ? "" : (single.problem + ")").c_str());
  }

  auto note = [&](const FanoutResult& r) {
    std::string n = std::to_string(r.events) + " events in " + Fmt("%.3f", r.seconds) + " s";
    if (!r.complete) n += "; INCOMPLETE: " + r.problem;
    return n;
  };
  const std::string e = std::to_string(events_total);
  report->Add({"fanout 1 sub (events/s)", batched[1].rate(), "info", "", 0, 0, "info",
               "E=" + e + "; " + note(batched[1])});
  report->Add({"fanout 10 subs (events/s)", batched[10].rate(), "info",
               "1 sub " + Fmt("%.0f", batched[1].rate()), batched[1].rate(),
               batched[1].rate() > 0 ? batched[10].rate() / batched[1].rate() : 0, "info",
               note(batched[10])});
  const FanoutResult& b100 = batched[100];
  report->Add({"fanout 100 subs (events/s)", b100.rate(), ">= 500000",
               "max_batch=1 " + Fmt("%.0f", single.rate()), single.rate(),
               single.rate() > 0 ? b100.rate() / single.rate() : 0,
               b100.complete && b100.rate() >= 500000 ? "PASS" : "FAIL", note(b100)});
  report->Add({"events per write @100 subs", b100.per_write(), "info",
               "max_batch=1 " + Fmt("%.2f", single.per_write()), single.per_write(),
               single.per_write() > 0 ? b100.per_write() / single.per_write() : 0, "info",
               "baseline run: " + note(single)});
}

// ===========================================================================
// 3. Memory: 10,000 lines, 1,000 sessions each with a bound, filtered stream.

// A session's stream (typed, callback API): the first batch is the snapshot.
class SessionStream : public grpc::ClientReadReactor<v1::EventBatch> {
 public:
  explicit SessionStream(std::function<void(bool)> on_first, std::function<void()> on_done)
      : on_first_(std::move(on_first)), on_done_(std::move(on_done)) {}

  void Start(v1::Telephony::Stub* stub, const std::string& session, const std::string& line,
             double deadline_s) {
    ctx_.set_deadline(DeadlineIn(deadline_s));
    req_.set_session_id(session);
    req_.add_line_ids(line);
    stub->async()->Subscribe(&ctx_, &req_, this);
    StartRead(&batch_);
    StartCall();
  }
  void OnReadDone(bool ok) override {
    if (!first_seen_) {
      first_seen_ = true;
      on_first_(ok && batch_.has_snapshot() && batch_.snapshot().lines_size() == 1);
    }
    if (!ok) return;
    events_ += static_cast<uint64_t>(batch_.events_size());
    batch_.Clear();
    StartRead(&batch_);
  }
  void OnDone(const grpc::Status&) override { on_done_(); }
  void Cancel() { ctx_.TryCancel(); }

 private:
  std::function<void(bool)> on_first_;
  std::function<void()> on_done_;
  grpc::ClientContext ctx_;
  v1::SubscribeRequest req_;
  v1::EventBatch batch_;
  bool first_seen_ = false;
  uint64_t events_ = 0;
};

void BenchMemory(const Options& opt, const TempDir& dir, Report* report) {
  constexpr int kLines = 10000;
  constexpr int kSessions = 1000;
  constexpr int kChannels = 8;
  const int latency_samples = opt.quick ? 100 : 300;

  v1::config::ServerConfig config;
  config.set_listen("127.0.0.1:0");
  v1::config::SimConfig* sim = config.add_providers()->mutable_sim();
  sim->set_name("sim");
  for (int i = 0; i < kLines; ++i) {
    auto* e = sim->add_extensions();
    e->set_number(std::to_string(10000 + i));
    e->set_name("Ext " + std::to_string(10000 + i));
  }
  auto* ext = sim->add_externals();
  ext->set_number("5550100");
  ext->set_name("Weather Line");
  ext->set_behavior(v1::config::SIM_BEHAVIOR_ANSWER);

  Target t = StartTarget(opt, dir, "memory", config);
  constexpr double kMB = 1024.0 * 1024.0;
  {
    const v1::ServerStatus st = GetStatus(t.admin.get());
    if (st.lines() != kLines) Fail("memory server has " + std::to_string(st.lines()) + " lines");
  }
  TimedPing(t.admin.get());
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  const double rss_idle = static_cast<double>(t.daemon->RssBytes()) / kMB;
  Progress("memory: idle with %d lines: RSS %.1f MB", kLines, rss_idle);

  // MakeCall latency on an unwatched line, before any stream is open.
  const std::string probe_line = "sim/" + std::to_string(10000 + kLines - 1);
  auto probe = [&](Stats* s) {
    for (int i = 0; i < latency_samples; ++i) {
      const auto t0 = Clock::now();
      v1::Call c = MakeExternalCall(t.tel.get(), probe_line);
      s->Add(MicrosSince(t0));
      Check(DropCall(t.tel.get(), c.id()), "Drop");
    }
  };
  Stats lat_before, lat_after;
  probe(&lat_before);

  std::vector<std::string> sessions(kSessions), lines(kSessions);
  for (int i = 0; i < kSessions; ++i) {
    lines[i] = "sim/" + std::to_string(10000 + i);
    v1::CreateSessionRequest creq;
    creq.set_client_name("bench-" + std::to_string(i));
    v1::Session s;
    Check(Unary([&](grpc::ClientContext* c) { return t.tel->CreateSession(c, creq, &s); }),
          "CreateSession");
    sessions[i] = s.id();
    v1::OpenLineRequest oreq;
    oreq.set_session_id(s.id());
    oreq.set_line_id(lines[i]);
    oreq.set_privilege(v1::PRIVILEGE_OWNER);
    v1::OpenLineResponse oresp;
    Check(Unary([&](grpc::ClientContext* c) { return t.tel->OpenLine(c, oreq, &oresp); }),
          "OpenLine " + lines[i]);
  }
  const double rss_sessions = static_cast<double>(t.daemon->RssBytes()) / kMB;
  Progress("memory: %d sessions, each with its line open: RSS %.1f MB", kSessions, rss_sessions);

  std::vector<std::shared_ptr<grpc::Channel>> channels;
  std::vector<std::unique_ptr<v1::Telephony::Stub>> stubs;
  for (int i = 0; i < kChannels; ++i) {
    channels.push_back(MakeChannel(t.daemon->target(), 200 + i));
    if (!WaitConnected(channels.back(), 10)) Fail("memory channel did not connect");
    stubs.push_back(v1::Telephony::NewStub(channels.back()));
  }
  // Shared with the stream callbacks; leaked with them if gRPC never lets go.
  struct Sync {
    std::mutex mu;
    std::condition_variable cv;
    int firsts = 0, good_firsts = 0, done = 0;
  };
  auto sync_owner = std::make_unique<Sync>();
  Sync& sync = *sync_owner;
  std::vector<std::unique_ptr<SessionStream>> streams;
  for (int i = 0; i < kSessions; ++i) {
    streams.push_back(std::make_unique<SessionStream>(
        [&sync](bool good) {
          std::lock_guard<std::mutex> lock(sync.mu);
          ++sync.firsts;
          sync.good_firsts += good;
          sync.cv.notify_all();
        },
        [&sync] {
          std::lock_guard<std::mutex> lock(sync.mu);
          ++sync.done;
          sync.cv.notify_all();
        }));
  }
  bool stopped = false;
  auto stop_streams = [&] {
    if (stopped) return;
    stopped = true;
    for (auto& s : streams) s->Cancel();
    std::unique_lock<std::mutex> lock(sync.mu);
    if (!sync.cv.wait_for(lock, std::chrono::seconds(30), [&] { return sync.done >= kSessions; })) {
      for (auto& s : streams) (void)s.release();  // gRPC still owns some
      (void)sync_owner.release();
    }
  };
  const auto open_t0 = Clock::now();
  for (int i = 0; i < kSessions; ++i) {
    streams[i]->Start(stubs[i % kChannels].get(), sessions[i], lines[i], 600);
  }
  double open_ms = 0, rss_streams = 0, rss_calls = 0, calls_ms = 0;
  v1::ServerStatus st;
  try {
    {
      std::unique_lock<std::mutex> lock(sync.mu);
      sync.cv.wait_for(lock, std::chrono::seconds(60), [&] { return sync.firsts >= kSessions; });
    }
    open_ms = MicrosSince(open_t0) / 1000;
    if (sync.firsts < kSessions || sync.good_firsts < kSessions) {
      Fail("only " + std::to_string(sync.good_firsts) + " of " + std::to_string(kSessions) +
           " streams delivered a one-line snapshot");
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
    rss_streams = static_cast<double>(t.daemon->RssBytes()) / kMB;
    const uint32_t subscribers = GetStatus(t.admin.get()).subscribers();
    Progress("memory: %d streams open (%u subscribers) in %.0f ms: RSS %.1f MB", kSessions,
             subscribers, open_ms, rss_streams);

    probe(&lat_after);
    const auto calls_t0 = Clock::now();
    for (int i = 0; i < kSessions; ++i) MakeExternalCall(t.tel.get(), lines[i], sessions[i]);
    calls_ms = MicrosSince(calls_t0) / 1000;
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
    rss_calls = static_cast<double>(t.daemon->RssBytes()) / kMB;
    st = GetStatus(t.admin.get());
  } catch (const BenchError&) {
    stop_streams();
    throw;
  }
  Progress("memory: %u calls connected in %.0f ms: RSS %.1f MB; MakeCall p50 %.1f us -> %.1f us "
           "with %d streams",
           st.calls(), calls_ms, rss_calls, lat_before.P50(), lat_after.P50(), kSessions);
  stop_streams();
  t.daemon->Stop();

  const std::string idle = "idle " + Fmt("%.1f", rss_idle);
  report->Add({"rss idle, 10k lines (MB)", rss_idle, "info", "", 0, 0, "info", ""});
  report->Add({"rss 1000 sessions+streams (MB)", rss_streams, "< 150 MB", idle, rss_idle,
               rss_streams / rss_idle, rss_streams < 150 ? "PASS" : "FAIL",
               "sessions alone (lines open, no streams): " + Fmt("%.1f", rss_sessions) +
                   " MB; streams opened in " + Fmt("%.0f", open_ms) + " ms"});
  report->Add({"rss + 1000 connected calls (MB)", rss_calls, "< 150 MB", idle, rss_idle,
               rss_calls / rss_idle, rss_calls < 150 ? "PASS" : "FAIL",
               std::to_string(st.calls()) + " calls made in " + Fmt("%.0f", calls_ms) + " ms"});
  report->Add({"per session+stream (KB)", (rss_streams - rss_idle) * 1024 / kSessions, "info", "",
               0, 0, "info", ""});
  report->Add({"makecall p50, 1000 streams (us)", lat_after.P50(), "info",
               "no streams " + Fmt("%.1f", lat_before.P50()), lat_before.P50(),
               lat_after.P50() / lat_before.P50(), "info",
               "MakeCall+Drop on " + probe_line +
                   ", a line no stream watches; p99 " + Fmt("%.1f", lat_before.P99()) + " -> " +
                   Fmt("%.1f", lat_after.P99()) + " us"});
}

// ===========================================================================

int Usage() {
  std::fprintf(stderr,
               "usage: linebridge_bench [--quick] [--json FILE] [--linebridged PATH]\n"
               "                        [--only latency,fanout,memory] [--full_decode] "
               "[--keep_tmp]\n");
  return 1;
}

int Main(int argc, char** argv) {
  Options opt;
  opt.linebridged = BinaryBesideThis("linebridged");
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    auto value = [&](const std::string& name) -> const char* {
      if (a.rfind(name + "=", 0) == 0) return argv[i] + name.size() + 1;
      if (a == name && i + 1 < argc) return argv[++i];
      return nullptr;
    };
    const char* v = nullptr;
    if (a == "--quick") {
      opt.quick = true;
    } else if (a == "--full_decode") {
      opt.full_decode = true;
    } else if (a == "--keep_tmp") {
      opt.keep_tmp = true;
    } else if ((v = value("--json")) != nullptr) {
      opt.json = v;
    } else if ((v = value("--linebridged")) != nullptr) {
      opt.linebridged = v;
    } else if ((v = value("--only")) != nullptr) {
      std::string list = v;
      size_t pos = 0;
      while (pos <= list.size()) {
        const size_t comma = std::min(list.find(',', pos), list.size());
        const std::string item = list.substr(pos, comma - pos);
        if (item != "latency" && item != "fanout" && item != "memory") return Usage();
        opt.only.insert(item);
        pos = comma + 1;
      }
    } else {
      return Usage();
    }
  }

  TempDir dir;
  if (dir.path().empty()) {
    std::fprintf(stderr, "linebridge_bench: cannot create a temporary directory\n");
    return 2;
  }
  if (opt.keep_tmp) dir.keep();
  Progress("linebridged: %s; temp dir %s%s", opt.linebridged.c_str(), dir.path().c_str(),
           opt.quick ? "; quick run" : "");

  Report report;
  int errors = 0;
  const std::vector<std::pair<std::string, void (*)(const Options&, const TempDir&, Report*)>>
      benches = {{"latency", BenchLatency}, {"fanout", BenchFanout}, {"memory", BenchMemory}};
  for (const auto& [name, fn] : benches) {
    if (!opt.only.empty() && !opt.only.count(name)) continue;
    try {
      fn(opt, dir, &report);
    } catch (const BenchError& e) {
      ++errors;
      std::fprintf(stderr, "linebridge_bench: %s benchmark could not run: %s\n", name.c_str(),
                   e.what.c_str());
      report.Add({name + ": ERROR", 0, "-", "", 0, 0, "ERROR", e.what});
    }
  }
  report.Print();
  if (!opt.json.empty() && !report.WriteJson(opt.json, opt.quick)) {
    std::fprintf(stderr, "linebridge_bench: cannot write %s\n", opt.json.c_str());
    return 2;
  }
  return errors > 0 ? 2 : 0;
}

}  // namespace
}  // namespace linebridge::bench

int main(int argc, char** argv) { return linebridge::bench::Main(argc, argv); }
