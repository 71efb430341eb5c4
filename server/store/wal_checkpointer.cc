#include "store/wal_checkpointer.h"

#include <sqlite3.h>

#include <utility>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "core/log.h"
#include "store/write_health.h"

namespace linebridge {

absl::StatusOr<std::unique_ptr<WalCheckpointer>> WalCheckpointer::Start(const std::string& path,
                                                                        int busy_timeout_ms,
                                                                        int threshold_pages) {
  std::unique_ptr<WalCheckpointer> c(new WalCheckpointer(path, threshold_pages));
  const int rc =
      sqlite3_open_v2(path.c_str(), &c->db_, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, nullptr);
  if (rc != SQLITE_OK) {
    const std::string message = c->db_ != nullptr ? sqlite3_errmsg(c->db_) : sqlite3_errstr(rc);
    return absl::Status(SqliteStatusCode(rc),
                        absl::StrCat("checkpoint connection to ", path, ": ", message));
  }
  sqlite3_busy_timeout(c->db_, busy_timeout_ms);
  // Until a connection has read the database it does not know the log is
  // there, and a checkpoint does nothing.
  if (const int wal = sqlite3_exec(c->db_, "PRAGMA journal_mode=WAL", nullptr, nullptr, nullptr);
      wal != SQLITE_OK) {
    return absl::Status(SqliteStatusCode(wal), absl::StrCat("checkpoint connection to ", path,
                                                            ": ", sqlite3_errmsg(c->db_)));
  }
  // This connection never writes rows; it must not checkpoint on its own either.
  sqlite3_wal_autocheckpoint(c->db_, 0);
  c->thread_ = std::thread([p = c.get()] { p->Run(); });
  return c;
}

WalCheckpointer::WalCheckpointer(std::string path, int threshold_pages)
    : path_(std::move(path)),
      threshold_pages_(threshold_pages > 0 ? threshold_pages : 1),
      hard_limit_pages_(4 * threshold_pages_),
      writer_limit_pages_(8 * threshold_pages_) {}

WalCheckpointer::~WalCheckpointer() {
  {
    absl::MutexLock lock(&mu_);
    stopping_ = true;
  }
  if (thread_.joinable()) thread_.join();
  sqlite3_close(db_);
}

void WalCheckpointer::Attach(sqlite3* writer, absl::Mutex* writer_mu) {
  writer_mu_ = writer_mu;
  sqlite3_wal_hook(writer, &OnCommit, this);
  // When the log starts over, its file is cut back to the threshold's size.
  sqlite3_exec(writer,
               absl::StrCat("PRAGMA journal_size_limit=", int64_t{threshold_pages_} * 4096).c_str(),
               nullptr, nullptr, nullptr);
}

int WalCheckpointer::OnCommit(void* self, sqlite3* db, const char* /*schema*/, int pages) {
  auto* c = static_cast<WalCheckpointer*>(self);
  if (pages >= c->threshold_pages_) {
    absl::MutexLock lock(&c->mu_);
    c->due_ = true;
  }
  if (pages >= c->writer_limit_pages_) {
    // The checkpoint thread has not run for twice the hard limit (its CPU
    // went to others): the writer copies the log and starts it over now,
    // as SQLite's own automatic checkpoint would, rather than let the log
    // grow without bound. Rare: only a starved checkpoint thread gets here.
    int log_frames = 0;
    int copied = 0;
    const int rc =
        sqlite3_wal_checkpoint_v2(db, nullptr, SQLITE_CHECKPOINT_RESTART, &log_frames, &copied);
    absl::MutexLock lock(&c->mu_);
    if (rc == SQLITE_OK) ++c->writer_checkpoints_;
  }
  return SQLITE_OK;
}

uint64_t WalCheckpointer::writer_checkpoints() const {
  absl::MutexLock lock(&mu_);
  return writer_checkpoints_;
}

uint64_t WalCheckpointer::checkpoints() const {
  absl::MutexLock lock(&mu_);
  return checkpoints_;
}

uint64_t WalCheckpointer::failures() const {
  absl::MutexLock lock(&mu_);
  return failures_;
}

void WalCheckpointer::Run() {
  bool failing = false;
  for (;;) {
    {
      absl::MutexLock lock(&mu_);
      const auto ready = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return due_ || stopping_; };
      mu_.Await(absl::Condition(&ready));
      if (stopping_) return;
      due_ = false;
    }
    // PASSIVE: copies what no reader still needs and never blocks the
    // writer; the writer starts the log over once it has all been copied
    // with no commit in between. A writer that never pauses always commits
    // in between, and its log would grow without end: past the hard limit a
    // RESTART checkpoint copies the rest while it holds the writer back (a
    // short stall, under sustained load only) so the log starts over.
    int log_frames = 0;
    int copied = 0;
    int rc =
        sqlite3_wal_checkpoint_v2(db_, nullptr, SQLITE_CHECKPOINT_PASSIVE, &log_frames, &copied);
    // The writer was starting the log over just then: the next commit past
    // the threshold asks again.
    if (rc == SQLITE_BUSY) continue;
    if (rc == SQLITE_OK && log_frames >= hard_limit_pages_ && writer_mu_ != nullptr) {
      // SQLite's busy handler would lose the race to a writer that takes
      // its lock again at once: hold the writer back in this process.
      absl::MutexLock writer(writer_mu_);
      rc = sqlite3_wal_checkpoint_v2(db_, nullptr, SQLITE_CHECKPOINT_RESTART, &log_frames,
                                     &copied);
      if (rc == SQLITE_BUSY) rc = SQLITE_OK;  // another process reads: next time
    }
    absl::MutexLock lock(&mu_);
    if (rc == SQLITE_OK) {
      ++checkpoints_;
      if (failing) LB_LOG("%s: checkpoints succeed again", path_);
      failing = false;
    } else {
      ++failures_;
      // Logged once per failing spell (a full disk fails every attempt);
      // the next commit past the threshold tries again.
      if (!failing) LB_WARN("%s: checkpoint failed: %s", path_, sqlite3_errmsg(db_));
      failing = true;
    }
  }
}

}  // namespace linebridge
