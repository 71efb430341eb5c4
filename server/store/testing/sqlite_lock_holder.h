// A second connection to a SQLite database holding its write lock: the
// store's own writes then fail with SQLITE_BUSY after their busy timeout,
// as when another process holds the file (test code only).
#pragma once

#include <sqlite3.h>

#include <string>

#include "gtest/gtest.h"

namespace linebridge::store_testing {

class LockHolder {
 public:
  explicit LockHolder(const std::string& path) {
    EXPECT_EQ(sqlite3_open(path.c_str(), &db_), SQLITE_OK);
    EXPECT_EQ(sqlite3_exec(db_, "BEGIN EXCLUSIVE", nullptr, nullptr, nullptr), SQLITE_OK)
        << sqlite3_errmsg(db_);
  }
  ~LockHolder() {
    Release();
    sqlite3_close(db_);
  }
  LockHolder(const LockHolder&) = delete;
  LockHolder& operator=(const LockHolder&) = delete;
  void Release() {
    if (held_) {
      EXPECT_EQ(sqlite3_exec(db_, "COMMIT", nullptr, nullptr, nullptr), SQLITE_OK);
    }
    held_ = false;
  }

 private:
  sqlite3* db_ = nullptr;
  bool held_ = true;
};

}  // namespace linebridge::store_testing
