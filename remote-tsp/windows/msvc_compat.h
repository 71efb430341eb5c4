// Forced into exports.cc for MSVC only (remote-tsp/tsp/CMakeLists.txt):
// the export layer marks its functions with a GCC visibility attribute for
// the Linux shared library; on Windows the .def file exports them, so the
// attribute is dropped.
#pragma once
#if defined(_MSC_VER) && !defined(__clang__)
#define __attribute__(x)
#endif
