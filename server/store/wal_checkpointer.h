// Checkpoints an SQLite database's write-ahead log on a thread and a
// connection of its own, so that the connection writing the records never
// does: SQLite's automatic checkpoint runs inside the COMMIT that crosses its
// threshold and waits for the disk (an fsync of the database file), while a
// commit in WAL mode with synchronous=NORMAL is only a write into the log.
// The writer's connection hands its log size over after every commit
// (Attach installs the WAL hook, which replaces automatic checkpoints).
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <thread>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"

struct sqlite3;

namespace linebridge {

class WalCheckpointer {
 public:
  // SQLite's own default threshold for its automatic checkpoint.
  static constexpr int kDefaultThresholdPages = 1000;

  // Opens a second connection to the database at `path` (which must exist
  // and be in WAL mode) and starts the checkpoint thread.
  static absl::StatusOr<std::unique_ptr<WalCheckpointer>> Start(
      const std::string& path, int busy_timeout_ms, int threshold_pages = kDefaultThresholdPages);
  WalCheckpointer(const WalCheckpointer&) = delete;
  WalCheckpointer& operator=(const WalCheckpointer&) = delete;
  ~WalCheckpointer();  // joins the thread (a running checkpoint finishes)

  // Makes `writer` report its log size to this checkpointer after each
  // commit instead of checkpointing itself, and cuts the log file back to
  // the threshold's size whenever the log starts over. `writer_mu` is the
  // mutex every use of `writer` holds: past the hard limit the checkpointer
  // holds it while it makes the log start over. Call before the checkpointer
  // can run (no commit yet past the threshold) with `writer` not in use by
  // another thread; the checkpointer must outlive `writer`'s use.
  void Attach(sqlite3* writer, absl::Mutex* writer_mu);

  uint64_t checkpoints() const;  // completed, ever
  uint64_t failures() const;     // failed attempts, ever
  // Times the writer had to start the log over itself (the checkpoint
  // thread fell behind by writer_limit_pages_).
  uint64_t writer_checkpoints() const;

 private:
  WalCheckpointer(std::string path, int threshold_pages);
  static int OnCommit(void* self, sqlite3* db, const char* schema, int pages);
  void Run();

  const std::string path_;
  const int threshold_pages_;
  const int hard_limit_pages_;  // past it: a RESTART checkpoint
  // Past it the writer starts the log over itself: the checkpoint thread
  // did not get to run (a starved CPU), and the log must stay bounded.
  const int writer_limit_pages_;
  sqlite3* db_ = nullptr;  // the checkpoint connection: used by Run only
  absl::Mutex* writer_mu_ = nullptr;  // set by Attach
  mutable absl::Mutex mu_;
  bool due_ ABSL_GUARDED_BY(mu_) = false;
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  uint64_t checkpoints_ ABSL_GUARDED_BY(mu_) = 0;
  uint64_t failures_ ABSL_GUARDED_BY(mu_) = 0;
  uint64_t writer_checkpoints_ ABSL_GUARDED_BY(mu_) = 0;
  std::thread thread_;
};

}  // namespace linebridge
