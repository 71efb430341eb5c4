#include "bench_util.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include "config/config.h"

namespace linebridge::bench {

// ---------------------------------------------------------------------------
// TempDir

TempDir::TempDir() {
  const char* base = std::getenv("TMPDIR");
  std::string tmpl = std::string(base != nullptr && *base != '\0' ? base : "/tmp") +
                     "/linebridge-bench-XXXXXX";
  std::vector<char> buf(tmpl.begin(), tmpl.end());
  buf.push_back('\0');
  if (mkdtemp(buf.data()) != nullptr) path_ = buf.data();
}

TempDir::~TempDir() {
  if (path_.empty() || keep_) return;
  std::error_code ec;
  std::filesystem::remove_all(path_, ec);
}

// ---------------------------------------------------------------------------
// Daemon

namespace {

bool WriteFile(const std::string& path, const std::string& text) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << text;
  out.close();
  return static_cast<bool>(out);
}

}  // namespace

std::unique_ptr<Daemon> Daemon::Start(const std::string& binary, const std::string& dir,
                                      const std::string& name,
                                      const v1::config::ServerConfig& config,
                                      std::string* error) {
  const std::string config_path = dir + "/" + name + ".textproto";
  const std::string data_dir = dir + "/" + name + "-data";
  if (!WriteFile(config_path, ConfigToText(config))) {
    *error = "cannot write " + config_path;
    return nullptr;
  }
  std::error_code ec;
  std::filesystem::create_directories(data_dir, ec);
  return StartProgram({binary, "--config", config_path, "--listen", "127.0.0.1:0", "--data_dir",
                       data_dir},
                      dir, name, error);
}

std::unique_ptr<Daemon> Daemon::StartProgram(std::vector<std::string> args,
                                             const std::string& dir, const std::string& name,
                                             std::string* error) {
  const std::string binary = args.at(0);
  if (access(binary.c_str(), X_OK) != 0) {
    *error = "cannot execute " + binary + ": " + std::strerror(errno);
    return nullptr;
  }
  const std::string port_path = dir + "/" + name + ".port";
  std::unique_ptr<Daemon> d(new Daemon());
  d->log_path_ = dir + "/" + name + ".log";
  args.push_back("--port_file");
  args.push_back(port_path);
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  const int log_fd = open(d->log_path_.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (log_fd < 0) {
    *error = "cannot create " + d->log_path_ + ": " + std::strerror(errno);
    return nullptr;
  }
  const pid_t parent = getpid();
  const pid_t pid = fork();
  if (pid < 0) {
    *error = std::string("fork: ") + std::strerror(errno);
    close(log_fd);
    return nullptr;
  }
  if (pid == 0) {
    // Child: only async-signal-safe calls until exec. Die with the bench.
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (getppid() != parent) _exit(127);
    dup2(log_fd, STDOUT_FILENO);
    dup2(log_fd, STDERR_FILENO);
    execv(binary.c_str(), argv.data());
    _exit(127);
  }
  close(log_fd);
  d->pid_ = pid;

  // Wait for the port file (the daemon renames it into place when serving).
  const auto give_up = Clock::now() + std::chrono::seconds(30);
  while (Clock::now() < give_up) {
    int status = 0;
    if (waitpid(pid, &status, WNOHANG) == pid) {
      d->pid_ = -1;
      *error = binary + " exited during startup (status " + std::to_string(status) + "):\n" +
               d->LogTail();
      return nullptr;
    }
    std::ifstream in(port_path);
    int port = 0;
    if (in >> port && port > 0) {
      d->port_ = port;
      return d;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  *error = binary + " did not write its port file within 30 s:\n" + d->LogTail();
  d->Stop();
  return nullptr;
}

Daemon::~Daemon() { Stop(); }

bool Daemon::Stop() {
  if (pid_ <= 0) return false;
  const pid_t pid = pid_;
  pid_ = -1;
  kill(pid, SIGTERM);
  const auto give_up = Clock::now() + std::chrono::seconds(5);
  while (Clock::now() < give_up) {
    int status = 0;
    const pid_t r = waitpid(pid, &status, WNOHANG);
    if (r == pid) return WIFEXITED(status) && WEXITSTATUS(status) == 0;
    if (r < 0 && errno == ECHILD) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  kill(pid, SIGKILL);
  int status = 0;
  waitpid(pid, &status, 0);
  return false;
}

std::string BinaryBesideThis(const std::string& name) {
  char buf[4096];
  const ssize_t n = readlink("/proc/self/exe", buf, sizeof buf - 1);
  if (n <= 0) return name;
  std::string self(buf, static_cast<size_t>(n));
  return self.substr(0, self.rfind('/') + 1) + name;
}

uint64_t Daemon::RssBytes() const {
  if (pid_ <= 0) return 0;
  std::ifstream in("/proc/" + std::to_string(pid_) + "/status");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("VmRSS:", 0) == 0) {
      return std::strtoull(line.c_str() + 6, nullptr, 10) * 1024;  // "VmRSS:  1234 kB"
    }
  }
  return 0;
}

std::string Daemon::LogTail(size_t max_bytes) const {
  std::ifstream in(log_path_, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  std::string s = ss.str();
  if (s.size() > max_bytes) s = "..." + s.substr(s.size() - max_bytes);
  return s;
}

// ---------------------------------------------------------------------------
// Channels

std::shared_ptr<grpc::Channel> MakeChannel(const std::string& target, int index) {
  grpc::ChannelArguments args;
  args.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);
  args.SetInt("linebridge.bench.channel_index", index);
  args.SetMaxReceiveMessageSize(64 * 1024 * 1024);
  return grpc::CreateCustomChannel(target, grpc::InsecureChannelCredentials(), args);
}

bool WaitConnected(const std::shared_ptr<grpc::Channel>& channel, double seconds) {
  return channel->WaitForConnected(DeadlineIn(seconds));
}

// ---------------------------------------------------------------------------
// Stats

double Stats::Percentile(double p) const {
  if (samples.empty()) return 0;
  std::vector<double> s = samples;
  std::sort(s.begin(), s.end());
  const double rank = std::ceil(p / 100.0 * static_cast<double>(s.size()));
  size_t idx = rank < 1 ? 0 : static_cast<size_t>(rank) - 1;
  return s[std::min(idx, s.size() - 1)];
}

// ---------------------------------------------------------------------------
// Report

namespace {

std::string Num(double v) {
  char buf[64];
  if (std::fabs(v) >= 10000) {
    std::snprintf(buf, sizeof buf, "%.0f", v);
  } else if (std::fabs(v) >= 100) {
    std::snprintf(buf, sizeof buf, "%.1f", v);
  } else {
    std::snprintf(buf, sizeof buf, "%.2f", v);
  }
  return buf;
}

std::string JsonString(const std::string& s) {
  std::string out = "\"";
  for (char c : s) {
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      default:
        if (static_cast<unsigned char>(c) < 0x20) {
          char buf[8];
          std::snprintf(buf, sizeof buf, "\\u%04x", c);
          out += buf;
        } else {
          out += c;
        }
    }
  }
  return out + "\"";
}

std::string JsonNumber(double v) {
  if (!std::isfinite(v)) return "null";
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.6g", v);
  return buf;
}

}  // namespace

void Report::Print() const {
  std::printf("\n%-42s %12s  %-16s %-22s %8s  %s\n", "benchmark", "value", "target", "baseline",
              "ratio", "result");
  for (const Row& r : rows_) {
    std::string ratio = r.ratio > 0 ? Num(r.ratio) + "x" : "-";
    std::printf("%-42s %12s  %-16s %-22s %8s  %s\n", r.name.c_str(), Num(r.value).c_str(),
                r.target.c_str(), r.baseline.empty() ? "-" : r.baseline.c_str(), ratio.c_str(),
                r.result.c_str());
  }
  bool notes = false;
  for (const Row& r : rows_) {
    if (r.note.empty()) continue;
    if (!notes) std::printf("\nnotes:\n");
    notes = true;
    std::printf("  %s: %s\n", r.name.c_str(), r.note.c_str());
  }
  std::fflush(stdout);
}

bool Report::WriteJson(const std::string& path, bool quick) const {
  std::ostringstream out;
  out << "{\n  \"quick\": " << (quick ? "true" : "false") << ",\n  \"results\": [\n";
  for (size_t i = 0; i < rows_.size(); ++i) {
    const Row& r = rows_[i];
    out << "    {\"name\": " << JsonString(r.name) << ", \"value\": " << JsonNumber(r.value)
        << ", \"target\": " << JsonString(r.target) << ", \"baseline\": " << JsonString(r.baseline)
        << ", \"baseline_value\": " << JsonNumber(r.baseline_value)
        << ", \"ratio\": " << JsonNumber(r.ratio) << ", \"result\": " << JsonString(r.result)
        << ", \"note\": " << JsonString(r.note) << "}" << (i + 1 < rows_.size() ? "," : "")
        << "\n";
  }
  out << "  ]\n}\n";
  return WriteFile(path, out.str());
}

}  // namespace linebridge::bench
