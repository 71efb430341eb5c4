// A fresh directory for one test, under gtest's temporary directory.
#pragma once

#include <gtest/gtest.h>
#include <stdlib.h>

#include <string>

namespace linebridge::media::testing {

inline std::string NewTempDir(const std::string& prefix) {
  std::string tmpl = ::testing::TempDir() + "/" + prefix + "XXXXXX";
  EXPECT_NE(::mkdtemp(tmpl.data()), nullptr) << tmpl;
  return tmpl;
}

}  // namespace linebridge::media::testing
