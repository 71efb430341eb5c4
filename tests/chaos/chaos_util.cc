#include "chaos_util.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "tapisrv_harness.h"
#include "linebridge/deadline.h"

namespace linebridge::chaos {

int EnvInt(const char* name, int fallback) {
  const char* value = std::getenv(name);
  if (value == nullptr || *value == '\0') return fallback;
  return std::atoi(value);
}

void StreamChecker::Error(std::string what) {
  if (errors_.size() < 20) errors_.push_back(std::move(what));
}

void StreamChecker::OnBatch(const v1::EventBatch& batch) {
  absl::MutexLock lock(&mu_);
  last_batch_ = absl::Now();
  if (batch.has_snapshot()) {
    if (batch.snapshot_reason() == v1::EventBatch::SNAPSHOT_REASON_UNSPECIFIED) {
      Error("a snapshot without a reason");
    }
    started_ = true;
    epoch_ = batch.epoch();
    next_ = batch.snapshot().sequence() + 1;
    ++snapshots_;
  } else if (!started_) {
    Error("the stream began without a snapshot");
  } else if (batch.epoch() != epoch_) {
    Error(absl::StrCat("epoch ", epoch_, " -> ", batch.epoch(), " without a snapshot"));
  }
  for (const v1::Event& e : batch.events()) {
    ++events_;
    if (e.epoch() != batch.epoch()) {
      Error(absl::StrCat("event of epoch ", e.epoch(), " in a batch of epoch ", batch.epoch()));
    }
    if (started_ && e.sequence() != next_) {
      Error(absl::StrCat("epoch ", batch.epoch(), ": sequence ", e.sequence(), " where ", next_,
                         " was due (a silent gap)"));
    }
    next_ = e.sequence() + 1;
  }
}

uint64_t StreamChecker::epoch() const {
  absl::MutexLock lock(&mu_);
  return epoch_;
}

std::string StreamChecker::Describe() const {
  absl::MutexLock lock(&mu_);
  return absl::StrCat("epoch ", epoch_, ", next sequence ", next_, ", ", events_, " events, ",
                      snapshots_, " snapshots, last batch ",
                      absl::FormatDuration(absl::Now() - last_batch_), " ago");
}

std::vector<std::string> StreamChecker::errors() const {
  absl::MutexLock lock(&mu_);
  return errors_;
}

uint64_t StreamChecker::events() const {
  absl::MutexLock lock(&mu_);
  return events_;
}

uint64_t StreamChecker::snapshots() const {
  absl::MutexLock lock(&mu_);
  return snapshots_;
}

WorkerProcess::~WorkerProcess() {
  if (in_ >= 0) close(in_);
  if (out_ >= 0) close(out_);
  if (pid_ > 0) Wait(absl::Seconds(10));
}

std::string WorkerProcess::Start(const std::string& binary, const std::vector<std::string>& args,
                                 const std::vector<std::string>& env) {
  int to_child[2], from_child[2];
  if (pipe2(to_child, O_CLOEXEC) != 0 || pipe2(from_child, O_CLOEXEC) != 0) return "pipe failed";
  // Prepared before fork: the child only calls async-signal-safe functions.
  std::vector<char*> argv{const_cast<char*>(binary.c_str())};
  for (const std::string& a : args) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  std::vector<std::string> environment;
  for (char** e = environ; *e != nullptr; ++e) environment.emplace_back(*e);
  for (const std::string& e : env) environment.push_back(e);
  std::vector<char*> envp;
  for (std::string& e : environment) envp.push_back(e.data());
  envp.push_back(nullptr);
  pid_ = fork();
  if (pid_ < 0) return "fork failed";
  if (pid_ == 0) {
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    dup2(to_child[0], 0);
    dup2(from_child[1], 1);
    execve(binary.c_str(), argv.data(), envp.data());
    _exit(127);
  }
  close(to_child[0]);
  close(from_child[1]);
  in_ = to_child[1];
  out_ = from_child[0];
  return "";
}

bool WorkerProcess::WriteLine(const std::string& line) {
  const std::string data = line + "\n";
  return write(in_, data.data(), data.size()) == static_cast<ssize_t>(data.size());
}

std::string WorkerProcess::ReadLine(absl::Duration timeout) {
  const absl::Time deadline = MonotonicNow() + timeout;
  for (;;) {
    if (const size_t nl = buffer_.find('\n'); nl != std::string::npos) {
      std::string line = buffer_.substr(0, nl);
      buffer_.erase(0, nl + 1);
      return line;
    }
    const absl::Duration left = deadline - MonotonicNow();
    if (left <= absl::ZeroDuration()) return "";
    pollfd p{out_, POLLIN, 0};
    if (poll(&p, 1, static_cast<int>(absl::ToInt64Milliseconds(left)) + 1) <= 0) continue;
    char chunk[512];
    const ssize_t n = read(out_, chunk, sizeof chunk);
    if (n <= 0) return "";
    buffer_.append(chunk, static_cast<size_t>(n));
  }
}

int WorkerProcess::Wait(absl::Duration timeout) {
  if (pid_ <= 0) return -1;
  int status = 0;
  const bool exited = tsp_test::WaitOrKill(pid_, timeout, &status);
  pid_ = -1;
  if (!exited || !WIFEXITED(status)) return -1;
  return WEXITSTATUS(status);
}

}  // namespace linebridge::chaos
