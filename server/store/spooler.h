// Rows on their way to a database that may be unreachable (PostgreSQL): a
// batch is written to the database directly while nothing waits in the
// spool and the database answers; otherwise — the database unreachable, or
// older rows still waiting — it is appended to a SpoolFile in data_dir and
// synced before Write returns. A thread of the Spooler's own delivers the
// spooled rows, oldest first, as soon as the database takes them again
// (also those a previous run left, from start-up on), and cuts them from
// the file once delivered.
//
// Delivery may repeat rows (a commit whose reply was lost, a crash before
// the head was rewritten): `deliver` must make a repeated row a no-op (each
// row's key; store/postgres/ uses ON CONFLICT DO NOTHING).
//
// A full spool (SpoolFile::max_bytes) refuses the batch with
// ResourceExhausted: the rows are lost, counted in full_drops and logged at
// most every 30 s. A row the database refuses for good (not Unavailable) is
// dropped from the spool, counted in discarded and logged.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "store/spool_file.h"
#include "store/write_health.h"

namespace linebridge {

struct SpoolStats {
  uint64_t rows = 0;        // waiting in the spool
  uint64_t bytes = 0;       // their size in the file
  uint64_t max_bytes = 0;   // the bound
  int64_t oldest_us = 0;    // when the oldest waiting row was spooled; 0 if none
  uint64_t spooled = 0;     // rows appended since start
  uint64_t delivered = 0;   // rows delivered from the spool since start
  uint64_t full_drops = 0;  // rows refused because the spool was full
  uint64_t discarded = 0;   // spooled rows the database refused for good
  WriteHealthSnapshot health;  // of the database writes (direct and from the spool)
};

class Spooler {
 public:
  // Writes `entries` to the database; Unavailable if it may work later.
  using Deliver = std::function<absl::Status(const std::vector<SpoolEntry>& entries)>;

  static constexpr size_t kDeliverBatch = 1000;
  static constexpr size_t kDeliverBytes = 4u << 20;

  // `what` names the rows in log lines ("cdr", "audit").
  Spooler(std::unique_ptr<SpoolFile> file, Deliver deliver, std::string what);
  // Stops delivering; what waits stays in the file for the next start.
  ~Spooler();
  Spooler(const Spooler&) = delete;
  Spooler& operator=(const Spooler&) = delete;

  // The rows of one batch (in order): delivered through `direct` (which
  // writes the same rows, perhaps returning more to its caller; null: the
  // Deliver function) when the spool is empty and the database reachable,
  // else spooled. OK once they are in the database or durably in the spool;
  // ResourceExhausted when the spool is full (the rows are lost); other
  // errors from `direct` that retrying cannot fix; Unavailable when the
  // spool cannot be written either (disk full, I/O error: the caller keeps
  // the rows and retries).
  absl::Status Write(const std::vector<SpoolEntry>& entries,
                     const std::function<absl::Status()>& direct = nullptr);

  // Waits until the spool is empty or `timeout` passes; true if empty.
  bool WaitDrained(absl::Duration timeout) const;

  SpoolStats stats() const;
  const std::string& path() const { return path_; }

 private:
  void Run();
  // Delivers `batch`; returns how many of its rows are done (delivered or,
  // `*dropped` of them, refused for good) and, if not all, the error that
  // stopped it.
  size_t DeliverBatch(const std::vector<SpoolEntry>& batch, size_t* dropped, absl::Status* error);

  const Deliver deliver_;
  const std::string what_;
  const std::string path_;
  WriteHealth health_;
  mutable absl::Mutex mu_;
  std::unique_ptr<SpoolFile> file_ ABSL_GUARDED_BY(mu_);
  // A direct write failed: spool everything until the spool has drained.
  bool down_ ABSL_GUARDED_BY(mu_) = false;
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  uint64_t spooled_ ABSL_GUARDED_BY(mu_) = 0;
  uint64_t delivered_ ABSL_GUARDED_BY(mu_) = 0;
  uint64_t full_drops_ ABSL_GUARDED_BY(mu_) = 0;
  uint64_t discarded_ ABSL_GUARDED_BY(mu_) = 0;
  uint64_t unlogged_drops_ ABSL_GUARDED_BY(mu_) = 0;
  absl::Time last_full_log_ ABSL_GUARDED_BY(mu_) = absl::InfinitePast();
  std::thread thread_;
};

}  // namespace linebridge
