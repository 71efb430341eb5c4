// linebridge_bench: measures a real linebridged (spawned from its binary) over
// gRPC on 127.0.0.1 and compares each figure with its target and with a
// baseline measured in the same run. See bench/README.md.
//
//   linebridge_bench [--quick] [--json FILE] [--linebridged PATH]
//                    [--only latency,fanout,setups,memory,scale,idle] [--full_decode] [--keep_tmp]
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
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <sstream>
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
#include "providers/modem/modem_emulator.h"

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
  report->Add({"makecall p50 (us)", make.P50(), "<= 1.2x echo", "echo " + Fmt("%.1f", echo.P50()),
               echo.P50(), ratio, ratio <= 1.2 ? "PASS" : "FAIL",
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
  // `capture`, if set, gets the bytes of every message received.
  FanoutReader(FanoutSync* sync, uint64_t last_sequence, bool full_decode,
               std::vector<std::string>* capture = nullptr)
      : sync_(sync), last_(last_sequence), full_decode_(full_decode), capture_(capture) {}

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
    if (capture_ != nullptr) {
      std::vector<grpc::Slice> slices;
      (void)buf_.Dump(&slices);
      std::string bytes;
      for (const auto& sl : slices) bytes.append(reinterpret_cast<const char*>(sl.begin()), sl.size());
      capture_->push_back(std::move(bytes));
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
  std::vector<std::string>* const capture_;
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

// `target` is a linebridged or the bare stream server. With `capture` (one
// subscriber), the messages it received.
FanoutResult RunFanout(const Options& opt, const std::string& target, int subscribers,
                       uint64_t epoch, uint64_t last_sequence, double cap_seconds,
                       std::vector<std::string>* capture = nullptr) {
  const int nchannels = std::min(subscribers, 4);
  std::vector<std::shared_ptr<grpc::Channel>> channels;
  std::vector<std::unique_ptr<grpc::internal::RpcMethod>> methods;
  for (int i = 0; i < nchannels; ++i) {
    channels.push_back(MakeChannel(target, 100 + i));
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
    readers.push_back(
        std::make_unique<FanoutReader>(&sync, last_sequence, opt.full_decode, capture));
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
  // 100 subscribers against linebridged and against the bare stream server
  // (the same bytes, pre-serialized), alternating, `rounds` times each.
  const int rounds = opt.quick ? 1 : 5;
  std::vector<FanoutResult> lb100, bare100;
  {
    Target t = StartTarget(opt, dir, "fanout", config_with_batch(0));
    const uint64_t last = GenerateEvents(t, want, "fanout");
    events_total = last;
    const uint64_t epoch = GetStatus(t.admin.get()).epoch();
    for (int s : {1, 10}) {
      FanoutResult r = RunFanout(opt, t.daemon->target(), s, epoch, last, cap);
      Progress("fanout: %3d subscribers: %llu events in %.3f s = %.0f events/s, %.1f events/write%s%s",
               s, static_cast<unsigned long long>(r.events), r.seconds, r.rate(), r.per_write(),
               r.complete ? "" : " INCOMPLETE: ", r.problem.c_str());
      batched[s] = r;
    }
    // The replay's messages as linebridged sent them, for the bare server.
    std::vector<std::string> captured;
    FanoutResult cap_run = RunFanout(opt, t.daemon->target(), 1, epoch, last, cap, &captured);
    if (!cap_run.complete) Fail("capturing the replay: " + cap_run.problem);
    const std::string batches_path = dir.path() + "/fanout-batches.bin";
    {
      std::ofstream out(batches_path, std::ios::binary | std::ios::trunc);
      for (const std::string& b : captured) {
        const uint32_t n = static_cast<uint32_t>(b.size());
        const char len[4] = {static_cast<char>(n), static_cast<char>(n >> 8),
                             static_cast<char>(n >> 16), static_cast<char>(n >> 24)};
        out.write(len, 4);
        out.write(b.data(), static_cast<std::streamsize>(b.size()));
      }
      if (!out) Fail("cannot write " + batches_path);
    }
    std::string error;
    std::unique_ptr<Daemon> bare = Daemon::StartProgram(
        {BinaryBesideThis("bare_stream_server"), "--batches", batches_path}, dir.path(),
        "bare-stream", &error);
    if (bare == nullptr) Fail("starting bare_stream_server: " + error);
    Progress("fanout: bare stream server pid %d serves the %zu captured messages",
             static_cast<int>(bare->pid()), captured.size());
    for (int round = 0; round < rounds; ++round) {
      FanoutResult r = RunFanout(opt, t.daemon->target(), 100, epoch, last, cap);
      FanoutResult b = RunFanout(opt, bare->target(), 100, epoch, last, cap);
      Progress("fanout: round %d, 100 subscribers: linebridged %.0f events/s (%.1f events/write%s%s), "
               "bare gRPC %.0f events/s%s%s: %.2fx",
               round + 1, r.rate(), r.per_write(), r.complete ? "" : " INCOMPLETE: ",
               r.problem.c_str(), b.rate(), b.complete ? "" : " INCOMPLETE: ", b.problem.c_str(),
               b.rate() > 0 ? r.rate() / b.rate() : 0);
      lb100.push_back(r);
      bare100.push_back(b);
    }
  }
  FanoutResult single;
  {
    Target t = StartTarget(opt, dir, "fanout-batch1", config_with_batch(1));
    const uint64_t last = GenerateEvents(t, want, "fanout-batch1");
    const uint64_t epoch = GetStatus(t.admin.get()).epoch();
    single = RunFanout(opt, t.daemon->target(), 100, epoch, last, base_cap);
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
  // The median round (by linebridged's rate) and the spread of all rounds.
  std::vector<size_t> order(lb100.size());
  for (size_t i = 0; i < order.size(); ++i) order[i] = i;
  std::sort(order.begin(), order.end(),
            [&](size_t a, size_t b) { return lb100[a].rate() < lb100[b].rate(); });
  const size_t mid = order[order.size() / 2];
  const FanoutResult& b100 = lb100[mid];
  bool complete = true;
  double rmin = 1e18, rmax = 0, lo = 1e18, hi = 0, bare_lo = 1e18, bare_hi = 0;
  std::vector<double> ratios;
  for (size_t i = 0; i < lb100.size(); ++i) {
    complete = complete && lb100[i].complete && bare100[i].complete;
    const double ratio = bare100[i].rate() > 0 ? lb100[i].rate() / bare100[i].rate() : 0;
    ratios.push_back(ratio);
    rmin = std::min(rmin, ratio);
    rmax = std::max(rmax, ratio);
    lo = std::min(lo, lb100[i].rate());
    hi = std::max(hi, lb100[i].rate());
    bare_lo = std::min(bare_lo, bare100[i].rate());
    bare_hi = std::max(bare_hi, bare100[i].rate());
  }
  std::sort(ratios.begin(), ratios.end());
  const double median_ratio = ratios[ratios.size() / 2];
  std::vector<double> bare_rates;
  for (const auto& b : bare100) bare_rates.push_back(b.rate());
  std::sort(bare_rates.begin(), bare_rates.end());
  const double bare_median = bare_rates[bare_rates.size() / 2];
  const std::string spread = std::to_string(lb100.size()) + " rounds alternating with the bare server: " +
                             Fmt("%.0f", lo) + "-" + Fmt("%.0f", hi) + " events/s, bare " +
                             Fmt("%.0f", bare_lo) + "-" + Fmt("%.0f", bare_hi) + ", ratio " +
                             Fmt("%.2f", rmin) + "-" + Fmt("%.2f", rmax);
  report->Add({"fanout 100 subs (events/s)", b100.rate(), ">= 1500000",
               "bare gRPC " + Fmt("%.0f", bare_median), bare_median, median_ratio,
               complete && b100.rate() >= 1500000 ? "PASS" : "FAIL",
               "median round; " + note(b100) + "; " + spread});
  report->Add({"fanout 100 subs vs bare gRPC (ratio)", median_ratio, ">= 0.8x bare",
               "bare gRPC, same bytes", bare_median, median_ratio,
               complete && median_ratio >= 0.8 ? "PASS" : "FAIL",
               "median of per-round ratios; " + spread});
  report->Add({"fanout 100 subs, max_batch=1 (events/s)", single.rate(), "info",
               "batched " + Fmt("%.0f", b100.rate()), b100.rate(),
               b100.rate() > 0 ? single.rate() / b100.rate() : 0, "info",
               "one event per message; " + note(single)});
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
  void OnDone(const grpc::Status& s) override {
    {
      std::lock_guard<std::mutex> lock(status_mu_);
      status_ = s;
    }
    on_done_();
  }
  void Cancel() { ctx_.TryCancel(); }
  // How the stream ended ("" while it runs or when it ended OK).
  std::string error() {
    std::lock_guard<std::mutex> lock(status_mu_);
    return status_.ok() ? "" : std::to_string(status_.error_code()) + " " + status_.error_message();
  }

 private:
  std::function<void(bool)> on_first_;
  std::function<void()> on_done_;
  grpc::ClientContext ctx_;
  v1::SubscribeRequest req_;
  v1::EventBatch batch_;
  bool first_seen_ = false;
  uint64_t events_ = 0;
  std::mutex status_mu_;
  grpc::Status status_;
};

// One one-line Subscribe stream per session, spread over `channels` shared
// channels: opened together, waited for (first batch: a one-line snapshot),
// and cancelled together. Streams gRPC never lets go of are leaked with the
// counters their callbacks use, rather than freed under them.
class SessionStreams {
 public:
  SessionStreams(const std::string& target, int channels, int channel_base, int count,
                 const std::string& what)
      : count_(count), sync_(std::make_unique<Sync>()) {
    for (int i = 0; i < channels; ++i) {
      channels_.push_back(MakeChannel(target, channel_base + i));
      if (!WaitConnected(channels_.back(), 10)) Fail(what + " channel did not connect");
      stubs_.push_back(v1::Telephony::NewStub(channels_.back()));
    }
    Sync& sync = *sync_;
    for (int i = 0; i < count; ++i) {
      streams_.push_back(std::make_unique<SessionStream>(
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
  }
  ~SessionStreams() { Stop(std::chrono::seconds(60)); }

  void Start(const std::vector<std::string>& sessions, const std::vector<std::string>& lines) {
    for (int i = 0; i < count_; ++i) {
      streams_[i]->Start(stubs_[i % stubs_.size()].get(), sessions[i], lines[i], 600);
    }
  }
  // Waits up to `timeout` for every stream's first batch; returns how many
  // were a one-line snapshot (and sets `*firsts` to how many came at all).
  int WaitFirsts(std::chrono::seconds timeout, int* firsts) {
    std::unique_lock<std::mutex> lock(sync_->mu);
    sync_->cv.wait_for(lock, timeout, [&] { return sync_->firsts >= count_; });
    *firsts = sync_->firsts;
    return sync_->good_firsts;
  }
  // How the first stream that ended with an error ended ("" if none did).
  std::string FirstError() {
    for (auto& s : streams_) {
      if (std::string e = s->error(); !e.empty()) return e;
    }
    return "";
  }
  // Cancels every stream and waits up to `timeout` for them to end.
  void Stop(std::chrono::seconds timeout) {
    if (stopped_) return;
    stopped_ = true;
    for (auto& s : streams_) s->Cancel();
    std::unique_lock<std::mutex> lock(sync_->mu);
    if (!sync_->cv.wait_for(lock, timeout, [&] { return sync_->done >= count_; })) {
      lock.unlock();
      for (auto& s : streams_) (void)s.release();  // gRPC still owns some
      (void)sync_.release();
    }
  }

 private:
  struct Sync {
    std::mutex mu;
    std::condition_variable cv;
    int firsts = 0, good_firsts = 0, done = 0;
  };
  const int count_;
  std::unique_ptr<Sync> sync_;
  std::vector<std::shared_ptr<grpc::Channel>> channels_;
  std::vector<std::unique_ptr<v1::Telephony::Stub>> stubs_;
  std::vector<std::unique_ptr<SessionStream>> streams_;
  bool stopped_ = false;
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

  SessionStreams streams(t.daemon->target(), kChannels, 200, kSessions, "memory");
  auto stop_streams = [&] { streams.Stop(std::chrono::seconds(30)); };
  const auto open_t0 = Clock::now();
  streams.Start(sessions, lines);
  double open_ms = 0, rss_streams = 0, rss_calls = 0, calls_ms = 0;
  v1::ServerStatus st;
  try {
    int firsts = 0;
    const int good_firsts = streams.WaitFirsts(std::chrono::seconds(60), &firsts);
    open_ms = MicrosSince(open_t0) / 1000;
    if (firsts < kSessions || good_firsts < kSessions) {
      Fail("only " + std::to_string(good_firsts) + " of " + std::to_string(kSessions) +
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
// 4. Call setups per second: many sessions, each in a closed loop of
// MakeCall (to an external that answers: the reply says CONNECTED) and Drop.
// Baseline: the same loops with two Admin.Ping echoes in place of the two
// RPCs, in the same run.

struct LoopTotals {
  std::mutex mu;
  std::condition_variable cv;
  Stats setup;          // MakeCall (or first echo) round trip, microseconds
  uint64_t cycles = 0;  // completed make + drop
  int finished = 0;     // loops that stopped
  std::string error;
};

// One session's loop, on gRPC's callback threads; stops at `end`.
class SetupLoop {
 public:
  SetupLoop(v1::Telephony::Stub* tel, v1::Admin::Stub* admin, bool echo, std::string session,
            std::string line, Clock::time_point end, LoopTotals* totals)
      : tel_(tel), admin_(admin), echo_(echo), end_(end), totals_(totals) {
    make_.set_session_id(std::move(session));
    make_.set_line_id(std::move(line));
    make_.set_destination("5550100");
  }
  void Start() { Make(); }

 private:
  void Stop(const std::string& error) {
    std::lock_guard<std::mutex> lock(totals_->mu);
    if (!error.empty() && totals_->error.empty()) totals_->error = error;
    ++totals_->finished;
    totals_->cv.notify_all();
  }
  void Make() {
    if (Clock::now() >= end_) return Stop("");
    grpc::ClientContext* ctx = Fresh();
    t0_ = Clock::now();
    if (echo_) {
      admin_->async()->Ping(ctx, &ping_, &pong_, [this](grpc::Status st) {
        AfterMake(st, st.ok());
      });
    } else {
      tel_->async()->MakeCall(ctx, &make_, &call_, [this](grpc::Status st) {
        AfterMake(st, st.ok() && call_.status().state() == v1::CALL_STATE_CONNECTED);
      });
    }
  }
  void AfterMake(const grpc::Status& st, bool connected) {
    const double us = MicrosSince(t0_);
    if (!st.ok()) return Stop("MakeCall: " + st.error_message());
    if (!connected) return Stop("MakeCall reply not CONNECTED");
    {
      std::lock_guard<std::mutex> lock(totals_->mu);
      totals_->setup.Add(us);
    }
    grpc::ClientContext* ctx = Fresh();
    auto after_drop = [this](grpc::Status s) {
      if (!s.ok()) return Stop("Drop: " + s.error_message());
      {
        std::lock_guard<std::mutex> lock(totals_->mu);
        ++totals_->cycles;
      }
      Make();
    };
    if (echo_) {
      admin_->async()->Ping(ctx, &ping_, &pong_, after_drop);
    } else {
      drop_.set_call_id(call_.id());
      tel_->async()->Drop(ctx, &drop_, &dropped_, after_drop);
    }
  }

  v1::Telephony::Stub* const tel_;
  v1::Admin::Stub* const admin_;
  const bool echo_;
  const Clock::time_point end_;
  LoopTotals* const totals_;
  // A new context per RPC; the one replaced is two RPCs old (its callback
  // has returned), never the one whose callback is running.
  grpc::ClientContext* Fresh() {
    slot_ ^= 1;
    ctx_[slot_] = std::make_unique<grpc::ClientContext>();
    ctx_[slot_]->set_deadline(DeadlineIn(kRpcTimeout));
    return ctx_[slot_].get();
  }
  std::unique_ptr<grpc::ClientContext> ctx_[2];
  int slot_ = 0;
  Clock::time_point t0_;
  v1::MakeCallRequest make_;
  v1::Call call_;
  v1::CallActionRequest drop_;
  v1::Call dropped_;
  v1::PingRequest ping_;
  v1::PingResponse pong_;
};

struct SetupResult {
  double per_second = 0;
  double p50 = 0, p99 = 0;
  uint64_t cycles = 0;
};

void BenchSetups(const Options& opt, const TempDir& dir, Report* report) {
  const int sessions = 64;
  const int channels = 4;
  const double seconds = opt.quick ? 1.5 : 5;
  const int rounds = opt.quick ? 1 : 5;

  v1::config::ServerConfig config;
  config.set_listen("127.0.0.1:0");
  v1::config::SimConfig* sim = config.add_providers()->mutable_sim();
  sim->set_name("sim");
  for (int i = 0; i < sessions; ++i) sim->add_extensions()->set_number(std::to_string(2000 + i));
  auto* ext = sim->add_externals();
  ext->set_number("5550100");
  ext->set_behavior(v1::config::SIM_BEHAVIOR_ANSWER);
  Target t = StartTarget(opt, dir, "setups", config);

  std::vector<std::shared_ptr<grpc::Channel>> chans;
  std::vector<std::unique_ptr<v1::Telephony::Stub>> tels;
  std::vector<std::unique_ptr<v1::Admin::Stub>> admins;
  for (int i = 0; i < channels; ++i) {
    chans.push_back(MakeChannel(t.daemon->target(), 300 + i));
    if (!WaitConnected(chans.back(), 10)) Fail("setups channel did not connect");
    tels.push_back(v1::Telephony::NewStub(chans.back()));
    admins.push_back(v1::Admin::NewStub(chans.back()));
  }
  std::vector<std::string> ids(sessions), lines(sessions);
  for (int i = 0; i < sessions; ++i) {
    lines[i] = "sim/" + std::to_string(2000 + i);
    v1::CreateSessionRequest creq;
    creq.set_client_name("setups-" + std::to_string(i));
    v1::Session s;
    Check(Unary([&](grpc::ClientContext* c) { return t.tel->CreateSession(c, creq, &s); }),
          "CreateSession");
    ids[i] = s.id();
    v1::OpenLineRequest oreq;
    oreq.set_session_id(s.id());
    oreq.set_line_id(lines[i]);
    oreq.set_privilege(v1::PRIVILEGE_OWNER);
    v1::OpenLineResponse oresp;
    Check(Unary([&](grpc::ClientContext* c) { return t.tel->OpenLine(c, oreq, &oresp); }),
          "OpenLine " + lines[i]);
  }

  // Each session holds a Subscribe stream on its line, as a TAPI client does
  // (a session without one expires), so every call's events are delivered too.
  struct StreamSync {
    std::mutex mu;
    std::condition_variable cv;
    int firsts = 0, done = 0;
  };
  auto stream_sync = std::make_unique<StreamSync>();
  StreamSync& ss = *stream_sync;
  std::vector<std::unique_ptr<SessionStream>> streams;
  for (int i = 0; i < sessions; ++i) {
    streams.push_back(std::make_unique<SessionStream>(
        [&ss](bool) {
          std::lock_guard<std::mutex> lock(ss.mu);
          ++ss.firsts;
          ss.cv.notify_all();
        },
        [&ss] {
          std::lock_guard<std::mutex> lock(ss.mu);
          ++ss.done;
          ss.cv.notify_all();
        }));
    streams.back()->Start(tels[i % channels].get(), ids[i], lines[i], 600);
  }
  auto stop_streams = [&] {
    for (auto& st : streams) st->Cancel();
    std::unique_lock<std::mutex> lock(ss.mu);
    if (!ss.cv.wait_for(lock, std::chrono::seconds(30), [&] { return ss.done >= sessions; })) {
      for (auto& st : streams) (void)st.release();  // gRPC still owns some
      (void)stream_sync.release();
    }
  };
  {
    std::unique_lock<std::mutex> lock(ss.mu);
    ss.cv.wait_for(lock, std::chrono::seconds(30), [&] { return ss.firsts >= sessions; });
    if (ss.firsts < sessions) {
      lock.unlock();
      stop_streams();
      Fail("setups: session streams did not open");
    }
  }

  auto run = [&](bool echo, double secs) {
    LoopTotals totals;
    std::vector<std::unique_ptr<SetupLoop>> loops;
    const auto t0 = Clock::now();
    const auto end = t0 + std::chrono::microseconds(static_cast<int64_t>(secs * 1e6));
    for (int i = 0; i < sessions; ++i) {
      loops.push_back(std::make_unique<SetupLoop>(tels[i % channels].get(),
                                                  admins[i % channels].get(), echo, ids[i],
                                                  lines[i], end, &totals));
    }
    for (auto& l : loops) l->Start();
    std::unique_lock<std::mutex> lock(totals.mu);
    if (!totals.cv.wait_for(lock, std::chrono::duration<double>(secs + 30),
                            [&] { return totals.finished >= sessions; })) {
      for (auto& l : loops) (void)l.release();  // gRPC may still call them
      Fail("setup loops did not stop");
    }
    if (!totals.error.empty()) Fail("setup loop: " + totals.error);
    SetupResult r;
    r.cycles = totals.cycles;
    r.per_second = static_cast<double>(totals.cycles) / MicrosSince(t0) * 1e6;
    r.p50 = totals.setup.P50();
    r.p99 = totals.setup.P99();
    return r;
  };
  std::vector<SetupResult> calls, echoes;
  try {
    run(false, 0.5);  // warm-up
    run(true, 0.5);
    for (int round = 0; round < rounds; ++round) {
      echoes.push_back(run(true, seconds));
      calls.push_back(run(false, seconds));
      Progress("setups: round %d, %d sessions: %.0f setups/s (p50 %.0f us, p99 %.0f us); echo "
               "pairs %.0f/s (p99 %.0f us)",
               round + 1, sessions, calls.back().per_second, calls.back().p50, calls.back().p99,
             echoes.back().per_second, echoes.back().p99);
    }
  } catch (const BenchError&) {
    stop_streams();
    throw;
  }
  stop_streams();
  auto by_rate = [](const SetupResult& a, const SetupResult& b) {
    return a.per_second < b.per_second;
  };
  std::vector<SetupResult> cs = calls, es = echoes;
  std::sort(cs.begin(), cs.end(), by_rate);
  std::sort(es.begin(), es.end(), by_rate);
  const SetupResult& c = cs[cs.size() / 2];
  const SetupResult& e = es[es.size() / 2];
  std::vector<double> p99s;
  for (const auto& r : calls) p99s.push_back(r.p99);
  std::sort(p99s.begin(), p99s.end());
  const std::string spread = std::to_string(rounds) + " rounds of " + Fmt("%.1f", seconds) +
                             " s: " + Fmt("%.0f", cs.front().per_second) + "-" +
                             Fmt("%.0f", cs.back().per_second) + " setups/s, echo pairs " +
                             Fmt("%.0f", es.front().per_second) + "-" +
                             Fmt("%.0f", es.back().per_second) + "/s";
  report->Add({"call setups/s, 64 sessions", c.per_second, ">= 5000",
               "echo pairs/s " + Fmt("%.0f", e.per_second), e.per_second,
               e.per_second > 0 ? c.per_second / e.per_second : 0,
               c.per_second >= 5000 ? "PASS" : "FAIL",
               "MakeCall (reply CONNECTED) + Drop per setup, 64 sessions in closed loops over " +
                   std::to_string(channels) + " connections; median; " + spread});
  report->Add({"call setup p99 under load (us)", p99s[p99s.size() / 2], "info",
               "echo p99 " + Fmt("%.0f", es[es.size() / 2].p99), es[es.size() / 2].p99,
               es[es.size() / 2].p99 > 0 ? p99s[p99s.size() / 2] / es[es.size() / 2].p99 : 0,
               "info",
               "p50 " + Fmt("%.0f", c.p50) + " us; p99 over rounds " + Fmt("%.0f", p99s.front()) +
                   "-" + Fmt("%.0f", p99s.back()) + " us"});
}

// ===========================================================================
// 5. Scale: 100,000 lines and 10,000 sessions, each with its line open and a
// Subscribe stream filtered to it, on one server.

void BenchScale(const Options& opt, const TempDir& dir, Report* report) {
  const int lines = opt.quick ? 10000 : 100000;
  const int sessions = opt.quick ? 1000 : 10000;
  const int kChannels = std::max(16, sessions / 100);  // about 100 streams per connection
  constexpr double kMB = 1024.0 * 1024.0;
  const std::string tag = opt.quick ? "10k lines, 1k sessions" : "100k lines, 10k sessions";

  v1::config::ServerConfig config;
  config.set_listen("127.0.0.1:0");
  v1::config::SimConfig* sim = config.add_providers()->mutable_sim();
  sim->set_name("sim");
  for (int i = 0; i < lines; ++i) sim->add_extensions()->set_number(std::to_string(100000 + i));
  auto* ext = sim->add_externals();
  ext->set_number("5550100");
  ext->set_behavior(v1::config::SIM_BEHAVIOR_ANSWER);
  const auto start_t0 = Clock::now();
  Target t = StartTarget(opt, dir, "scale", config);
  const double start_ms = MicrosSince(start_t0) / 1000;
  if (GetStatus(t.admin.get()).lines() != static_cast<uint32_t>(lines)) {
    Fail("scale server does not have " + std::to_string(lines) + " lines");
  }
  TimedPing(t.admin.get());
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  const double rss_idle = static_cast<double>(t.daemon->RssBytes()) / kMB;
  Progress("scale: %d lines, started in %.0f ms: RSS %.1f MB", lines, start_ms, rss_idle);

  // Sessions, each owning its line, created by parallel clients.
  std::vector<std::string> ids(sessions), line_ids(sessions);
  {
    const auto t0 = Clock::now();
    std::vector<std::thread> workers;
    std::mutex err_mu;
    std::string error;
    constexpr int kWorkers = 8;
    for (int w = 0; w < kWorkers; ++w) {
      workers.emplace_back([&, w] {
        auto chan = MakeChannel(t.daemon->target(), 400 + w);
        auto tel = v1::Telephony::NewStub(chan);
        for (int i = w; i < sessions; i += kWorkers) {
          line_ids[i] = "sim/" + std::to_string(100000 + i);
          v1::CreateSessionRequest creq;
          creq.set_client_name("scale-" + std::to_string(i));
          v1::Session sess;
          grpc::Status st =
              Unary([&](grpc::ClientContext* c) { return tel->CreateSession(c, creq, &sess); });
          v1::OpenLineResponse oresp;
          if (st.ok()) {
            v1::OpenLineRequest oreq;
            oreq.set_session_id(sess.id());
            oreq.set_line_id(line_ids[i]);
            oreq.set_privilege(v1::PRIVILEGE_OWNER);
            st = Unary([&](grpc::ClientContext* c) { return tel->OpenLine(c, oreq, &oresp); });
          }
          if (!st.ok()) {
            std::lock_guard<std::mutex> lock(err_mu);
            error = "session " + std::to_string(i) + ": " + st.error_message();
            return;
          }
          ids[i] = sess.id();
        }
      });
    }
    for (auto& w : workers) w.join();
    if (!error.empty()) Fail(error);
    Progress("scale: %d sessions with their lines open in %.0f ms", sessions,
             MicrosSince(t0) / 1000);
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  const double rss_sessions = static_cast<double>(t.daemon->RssBytes()) / kMB;

  SessionStreams streams(t.daemon->target(), kChannels, 500, sessions, "scale");
  auto stop_streams = [&] { streams.Stop(std::chrono::seconds(60)); };
  const auto open_t0 = Clock::now();
  streams.Start(ids, line_ids);
  double open_ms = 0, rss_streams = 0;
  Stats probe;
  try {
    int firsts = 0;
    const int good_firsts = streams.WaitFirsts(std::chrono::seconds(120), &firsts);
    open_ms = MicrosSince(open_t0) / 1000;
    if (good_firsts < sessions) {
      const std::string why = streams.FirstError();
      Fail("only " + std::to_string(good_firsts) + " of " + std::to_string(sessions) +
           " streams delivered a one-line snapshot in " + Fmt("%.0f", open_ms) +
           " ms; first error: " + (why.empty() ? "none (still waiting)" : why));
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(500));
    rss_streams = static_cast<double>(t.daemon->RssBytes()) / kMB;
    // MakeCall on a watched line, with every stream open.
    for (int i = 0; i < 200; ++i) {
      const auto t0 = Clock::now();
      v1::Call c = MakeExternalCall(t.tel.get(), line_ids[i % sessions], ids[i % sessions]);
      probe.Add(MicrosSince(t0));
      Check(DropCall(t.tel.get(), c.id()), "Drop");
    }
  } catch (const BenchError&) {
    stop_streams();
    throw;
  }
  Progress("scale: %d streams open in %.0f ms: RSS %.1f MB (sessions alone %.1f MB); MakeCall "
           "p50 %.0f us",
           sessions, open_ms, rss_streams, rss_sessions, probe.P50());
  Stats paged, list, one, snapshot;
  size_t list_bytes = 0;
  int snapshot_parts = 0;  // over the 3 rounds
  double rss_listed = 0;
  try {
    // With every stream open: ListLines paged (1,000 lines a page, as a client
    // must page at this size), unpaged (all lines in one reply), GetLine.
    for (int i = 0; i < 3; ++i) {
      v1::ListLinesRequest req;
      req.set_page_size(1000);
      int got = 0;
      const auto t0 = Clock::now();
      while (true) {
        v1::ListLinesResponse resp;
        Check(Unary([&](grpc::ClientContext* c) { return t.tel->ListLines(c, req, &resp); }),
              "ListLines (paged)");
        got += resp.lines_size();
        if (resp.next_page_token().empty()) break;
        req.set_page_token(resp.next_page_token());
      }
      paged.Add(MicrosSince(t0));
      if (got != lines) Fail("paged ListLines returned " + std::to_string(got) + " lines");
    }
    for (int i = 0; i < 3; ++i) {
      v1::ListLinesResponse resp;
      const auto t0 = Clock::now();
      Check(Unary([&](grpc::ClientContext* c) {
              return t.tel->ListLines(c, v1::ListLinesRequest(), &resp);
            }),
            "ListLines");
      list.Add(MicrosSince(t0));
      if (resp.lines_size() != lines) Fail("ListLines returned " + std::to_string(resp.lines_size()));
      list_bytes = resp.ByteSizeLong();
    }
    for (int i = 0; i < 50; ++i) {
      v1::GetLineRequest greq;
      greq.set_line_id("sim/" + std::to_string(100000 + i * (lines / 50)));
      v1::Line line;
      const auto t1 = Clock::now();
      Check(Unary([&](grpc::ClientContext* c) { return t.tel->GetLine(c, greq, &line); }),
            "GetLine");
      one.Add(MicrosSince(t1));
    }
    // The snapshot of every line: the first batch of an unfiltered Subscribe.
    for (int i = 0; i < 3; ++i) {
      grpc::ClientContext sctx;
      sctx.set_deadline(DeadlineIn(60));
      const auto t0 = Clock::now();
      auto reader = t.tel->Subscribe(&sctx, v1::SubscribeRequest());
      // It comes in parts of about 1 MiB (v1::Snapshot.more).
      v1::EventBatch first;
      int listed = 0;
      do {
        if (!reader->Read(&first) || !first.has_snapshot()) {
          Fail("unfiltered Subscribe: the snapshot ended early");
        }
        listed += first.snapshot().lines_size();
        ++snapshot_parts;
      } while (first.snapshot().more());
      if (listed != lines) Fail("unfiltered Subscribe: no snapshot of all lines");
      snapshot.Add(MicrosSince(t0));
      sctx.TryCancel();
      while (reader->Read(&first)) {
      }
      (void)reader->Finish();
    }
    rss_listed = static_cast<double>(t.daemon->RssBytes()) / kMB;
    Progress("scale: ListLines paged %.1f ms, unpaged %.1f ms (%zu bytes), GetLine %.0f us, snapshot "
             "of all lines %.1f ms; RSS after these %.1f MB",
             paged.P50() / 1000, list.P50() / 1000, list_bytes, one.P50(), snapshot.P50() / 1000,
             rss_listed);
  } catch (const BenchError&) {
    stop_streams();
    throw;
  }
  stop_streams();
  t.daemon->Stop();

  report->Add({"rss " + tag + " subscribed (MB)", rss_streams, "< 1024 MB",
               "idle " + Fmt("%.1f", rss_idle), rss_idle, rss_streams / rss_idle,
               rss_streams < 1024 ? "PASS" : "FAIL",
               "sessions alone (lines open): " + Fmt("%.1f", rss_sessions) +
                   " MB; after the unpaged ListLines and full snapshots that followed: " +
                   Fmt("%.1f", rss_listed) + " MB; server start " +
                   Fmt("%.0f", start_ms) + " ms"});
  report->Add({"ListLines paged (1000/page), " + tag + " (ms)", paged.P50() / 1000, "info",
               "unpaged " + Fmt("%.1f", list.P50() / 1000) + " ms", list.P50() / 1000,
               paged.P50() / list.P50(), "info", "every page in turn; p50 of 3"});
  report->Add({"ListLines unpaged, " + tag + " (ms)", list.P50() / 1000, "info",
               "GetLine p50 " + Fmt("%.0f", one.P50()) + " us", one.P50() / 1000,
               list.P50() / one.P50(), "info",
               std::to_string(list_bytes) + " bytes in one reply; p50 of 3"});
  report->Add({"snapshot of all lines, " + tag + " (ms)", snapshot.P50() / 1000, "info",
               "ListLines " + Fmt("%.1f", list.P50() / 1000) + " ms", list.P50() / 1000,
               snapshot.P50() / list.P50(), "info",
               "an unfiltered Subscribe's snapshot, " + std::to_string(snapshot_parts / 3) +
                   " parts; p50 of 3"});
  report->Add({"open " + std::to_string(sessions) + " filtered streams (ms)", open_ms, "info",
               "", 0, 0, "info",
               "until every stream's one-line snapshot arrived, over " +
                   std::to_string(kChannels) + " connections; " +
                   Fmt("%.1f", open_ms * 1000 / sessions) + " us per stream"});
  report->Add({"makecall p50, " + std::to_string(sessions) + " streams (us)", probe.P50(),
               "info", "", 0, 0, "info",
               "MakeCall+Drop on watched lines; p99 " + Fmt("%.0f", probe.P99()) + " us"});
}

// ===========================================================================
// 6. Idle cost: 32 modem lines (emulated modems on ptys) and 1,000 idle
// sessions, each with a Subscribe stream open, against an idle server with
// the demo PBX only, in the same run.

struct ProcCpu {
  uint64_t ticks = 0;     // utime + stime
  uint64_t switches = 0;  // voluntary + involuntary, all threads
};

ProcCpu ReadCpu(pid_t pid) {
  ProcCpu c;
  std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
  std::string all((std::istreambuf_iterator<char>(stat)), std::istreambuf_iterator<char>());
  const size_t close = all.rfind(')');
  if (close == std::string::npos) return c;
  std::istringstream rest(all.substr(close + 2));
  std::string field;
  for (int i = 3; i <= 15 && rest >> field; ++i) {
    if (i == 14 || i == 15) c.ticks += std::stoull(field);
  }
  const std::string task_dir = "/proc/" + std::to_string(pid) + "/task";
  std::error_code ec;
  for (const auto& e : std::filesystem::directory_iterator(task_dir, ec)) {
    std::ifstream st(e.path() / "status");
    std::string line;
    while (std::getline(st, line)) {
      if (line.rfind("voluntary_ctxt_switches:", 0) == 0 ||
          line.rfind("nonvoluntary_ctxt_switches:", 0) == 0) {
        c.switches += std::stoull(line.substr(line.find(':') + 1));
      }
    }
  }
  return c;
}

struct IdleFigures {
  double cpu_percent = 0;
  double switches_per_s = 0;
};

IdleFigures MeasureIdle(pid_t pid, double seconds) {
  const ProcCpu a = ReadCpu(pid);
  std::this_thread::sleep_for(std::chrono::duration<double>(seconds));
  const ProcCpu b = ReadCpu(pid);
  const double hz = static_cast<double>(sysconf(_SC_CLK_TCK));
  IdleFigures r;
  r.cpu_percent = 100.0 * static_cast<double>(b.ticks - a.ticks) / hz / seconds;
  r.switches_per_s = static_cast<double>(b.switches - a.switches) / seconds;
  return r;
}

void BenchIdle(const Options& opt, const TempDir& dir, Report* report) {
  constexpr int kModems = 32;
  const int sessions = 1000;
  const double window = opt.quick ? 2 : 10;
  constexpr int kChannels = 8;

  // Baseline: the demo PBX, nothing connected but the bench's channel.
  IdleFigures base;
  {
    Target t = StartTarget(opt, dir, "idle-sim", DemoConfig());
    std::this_thread::sleep_for(std::chrono::seconds(1));
    base = MeasureIdle(t.daemon->pid(), window);
  }

  std::vector<std::unique_ptr<modem::ModemEmulator>> emus;
  v1::config::ServerConfig config = DemoConfig();
  auto* mc = config.add_providers()->mutable_modem();
  mc->set_name("modem");
  for (int i = 0; i < kModems; ++i) {
    const std::string link = dir.path() + "/idle-tty" + std::to_string(i);
    emus.push_back(
        std::make_unique<modem::ModemEmulator>(modem::ModemEmulator::Dialect::kV253, link));
    auto* p = mc->add_ports();
    p->set_name("m" + std::to_string(i));
    p->set_device(link);
  }
  Target t = StartTarget(opt, dir, "idle-modems", config);
  const auto give_up = Clock::now() + std::chrono::seconds(30);
  for (auto& e : emus) {
    while (!e->SawCommand("AT+VCID=1")) {
      if (Clock::now() > give_up) Fail("modem lines did not initialise: " + t.daemon->LogTail());
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
  }
  std::vector<std::string> ids(sessions);
  for (int i = 0; i < sessions; ++i) {
    v1::CreateSessionRequest creq;
    creq.set_client_name("idle-" + std::to_string(i));
    v1::Session s;
    Check(Unary([&](grpc::ClientContext* c) { return t.tel->CreateSession(c, creq, &s); }),
          "CreateSession");
    ids[i] = s.id();
  }
  std::vector<std::shared_ptr<grpc::Channel>> channels;
  std::vector<std::unique_ptr<v1::Telephony::Stub>> stubs;
  for (int i = 0; i < kChannels; ++i) {
    channels.push_back(MakeChannel(t.daemon->target(), 600 + i));
    if (!WaitConnected(channels.back(), 10)) Fail("idle channel did not connect");
    stubs.push_back(v1::Telephony::NewStub(channels.back()));
  }
  struct Sync {
    std::mutex mu;
    std::condition_variable cv;
    int firsts = 0, done = 0;
  };
  auto sync_owner = std::make_unique<Sync>();
  Sync& sync = *sync_owner;
  std::vector<std::unique_ptr<SessionStream>> streams;
  for (int i = 0; i < sessions; ++i) {
    streams.push_back(std::make_unique<SessionStream>(
        [&sync](bool) {
          std::lock_guard<std::mutex> lock(sync.mu);
          ++sync.firsts;
          sync.cv.notify_all();
        },
        [&sync] {
          std::lock_guard<std::mutex> lock(sync.mu);
          ++sync.done;
          sync.cv.notify_all();
        }));
  }
  // Each session watches one modem line (a line nobody calls).
  for (int i = 0; i < sessions; ++i) {
    streams[i]->Start(stubs[i % kChannels].get(), ids[i], "modem/m" + std::to_string(i % kModems),
                      600);
  }
  IdleFigures idle;
  {
    std::unique_lock<std::mutex> lock(sync.mu);
    sync.cv.wait_for(lock, std::chrono::seconds(60), [&] { return sync.firsts >= sessions; });
  }
  const int opened = sync.firsts;
  if (opened >= sessions) {
    std::this_thread::sleep_for(std::chrono::seconds(1));
    idle = MeasureIdle(t.daemon->pid(), window);
  }
  const uint32_t subscribers = GetStatus(t.admin.get()).subscribers();
  for (auto& s : streams) s->Cancel();
  {
    std::unique_lock<std::mutex> lock(sync.mu);
    if (!sync.cv.wait_for(lock, std::chrono::seconds(30), [&] { return sync.done >= sessions; })) {
      for (auto& s : streams) (void)s.release();
      (void)sync_owner.release();
    }
  }
  if (opened < sessions) Fail("only " + std::to_string(opened) + " idle streams opened");
  Progress("idle: %d modem lines + %d sessions (%u streams): %.2f%% CPU, %.1f switches/s; demo "
           "PBX alone %.2f%%, %.1f/s",
           kModems, sessions, subscribers, idle.cpu_percent, idle.switches_per_s,
           base.cpu_percent, base.switches_per_s);
  const std::string w = Fmt("%.0f", window) + " s window";
  report->Add({"idle CPU, 32 modems + 1000 sessions (% core)", idle.cpu_percent, "<= 0.5",
               "demo PBX alone " + Fmt("%.2f", base.cpu_percent), base.cpu_percent, 0,
               idle.cpu_percent <= 0.5 ? "PASS" : "FAIL",
               "each session with a Subscribe stream open; " + w});
  report->Add({"idle wake-ups, 32 modems + 1000 sessions (switches/s)", idle.switches_per_s,
               "<= base + 5", "demo PBX alone " + Fmt("%.1f", base.switches_per_s),
               base.switches_per_s, 0,
               idle.switches_per_s <= base.switches_per_s + 5 ? "PASS" : "FAIL",
               "context switches of all the daemon's threads; " + w});
}

// ===========================================================================

int Usage() {
  std::fprintf(stderr,
               "usage: linebridge_bench [--quick] [--json FILE] [--linebridged PATH]\n"
               "                        [--only latency,fanout,setups,memory,scale,idle] [--full_decode] "
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
        if (item != "latency" && item != "fanout" && item != "memory" && item != "setups" &&
            item != "scale" && item != "idle") {
          return Usage();
        }
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
      benches = {{"latency", BenchLatency}, {"fanout", BenchFanout}, {"setups", BenchSetups},
                 {"memory", BenchMemory},   {"scale", BenchScale},   {"idle", BenchIdle}};
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
