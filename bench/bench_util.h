// Helpers for linebridge_bench: the linebridged child process, channels,
// sample statistics and the result table.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include <grpcpp/grpcpp.h>

#include "linebridge/v1/config.pb.h"
#include "linebridge/deadline.h"

namespace linebridge::bench {

using Clock = std::chrono::steady_clock;

inline double MicrosSince(Clock::time_point t0) {
  return std::chrono::duration<double, std::micro>(Clock::now() - t0).count();
}

inline gpr_timespec DeadlineIn(double seconds) {
  return DeadlineAfter(absl::Microseconds(static_cast<int64_t>(seconds * 1e6)));
}

// The program `name` in the directory of the running executable (bin/).
std::string BinaryBesideThis(const std::string& name);

// A private temporary directory, removed (recursively) on destruction unless
// keep() was called.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::string& path() const { return path_; }
  void keep() { keep_ = true; }

 private:
  std::string path_;
  bool keep_ = false;
};

// One linebridged child: started with a generated config, listening on
// 127.0.0.1:<free port>. Stop() (or the destructor) ends exactly this pid.
class Daemon {
 public:
  // `name` names the files in `dir` (config, log, port file, data dir).
  static std::unique_ptr<Daemon> Start(const std::string& binary, const std::string& dir,
                                       const std::string& name,
                                       const v1::config::ServerConfig& config,
                                       std::string* error);
  // Any server program that takes `--port_file PATH` (appended to `args`,
  // whose first element is the binary) and writes its port there.
  static std::unique_ptr<Daemon> StartProgram(std::vector<std::string> args,
                                              const std::string& dir, const std::string& name,
                                              std::string* error);
  ~Daemon();
  Daemon(const Daemon&) = delete;
  Daemon& operator=(const Daemon&) = delete;

  pid_t pid() const { return pid_; }
  int port() const { return port_; }
  std::string target() const { return "127.0.0.1:" + std::to_string(port_); }
  const std::string& log_path() const { return log_path_; }

  // VmRSS of the child in bytes (0 if unreadable).
  uint64_t RssBytes() const;
  // Last lines of its log (for error messages).
  std::string LogTail(size_t max_bytes = 2000) const;
  // SIGTERM, wait up to 5 s, then SIGKILL. True if it exited with status 0
  // on SIGTERM (false on a second call). Idempotent.
  bool Stop();

 private:
  Daemon() = default;
  pid_t pid_ = -1;
  int port_ = 0;
  std::string log_path_;
};

// A channel with its own TCP connection: `index` goes into a channel argument
// so channels with different indexes never share a subchannel.
std::shared_ptr<grpc::Channel> MakeChannel(const std::string& target, int index);
bool WaitConnected(const std::shared_ptr<grpc::Channel>& channel, double seconds);

// Samples in microseconds.
struct Stats {
  std::vector<double> samples;
  void Add(double us) { samples.push_back(us); }
  double Percentile(double p) const;  // nearest rank, p in [0, 100]
  double P50() const { return Percentile(50); }
  double P99() const { return Percentile(99); }
  size_t size() const { return samples.size(); }
};

// One line of the final table (and one object of the JSON file).
struct Row {
  std::string name;        // "makecall p50 (us)"
  double value = 0;
  std::string target;      // "<= 2x echo", "info"
  std::string baseline;    // "echo 50.1"
  double baseline_value = 0;
  double ratio = 0;        // value / baseline (0 = none)
  std::string result;      // PASS, FAIL, info
  std::string note;        // extra detail for JSON / footnotes
};

class Report {
 public:
  void Add(Row row) { rows_.push_back(std::move(row)); }
  void Print() const;
  bool WriteJson(const std::string& path, bool quick) const;
  const std::vector<Row>& rows() const { return rows_; }

 private:
  std::vector<Row> rows_;
};

}  // namespace linebridge::bench
