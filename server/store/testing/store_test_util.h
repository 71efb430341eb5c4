// Helpers for the store tests (test code only).
#pragma once

#include <stdlib.h>

#include <string>

#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "gtest/gtest.h"
#include "linebridge/deadline.h"

namespace linebridge::store_testing {

// A new directory under the test's temporary directory, named after `name`.
inline std::string MakeTempDir(const std::string& name) {
  std::string tmpl = ::testing::TempDir();
  if (tmpl.empty() || tmpl.back() != '/') tmpl += '/';
  tmpl += name + ".XXXXXX";
  EXPECT_NE(mkdtemp(tmpl.data()), nullptr);
  return tmpl;
}

// Polls `pred` until it holds (true) or `timeout` passes (false).
template <typename Pred>
bool WaitFor(Pred pred, absl::Duration timeout = absl::Seconds(20)) {
  const absl::Time deadline = MonotonicNow() + timeout;
  while (!pred()) {
    if (MonotonicNow() > deadline) return false;
    absl::SleepFor(absl::Milliseconds(2));
  }
  return true;
}

}  // namespace linebridge::store_testing
