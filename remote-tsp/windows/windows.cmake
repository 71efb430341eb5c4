# The Windows build: linebridge.tsp (the remote TSP DLL) and only what it
# links: the generated API (proto/), the C++ SDK (client-sdk/cpp) and
# remote-tsp/. Included by the top-level CMakeLists.txt when WIN32; the
# server, linectl and the Linux test harnesses are not built on Windows.
#
# Dependencies come from vcpkg (vcpkg.json at the repository root; presets
# windows-x64 / windows-x86 in CMakePresets.json). See docs/remote-tsp.md
# "Building on Windows".

option(LINEBRIDGE_STATIC_CRT
  "Link the C runtime statically (/MT); must match the vcpkg triplet (*-windows-static)" ON)
option(LINEBRIDGE_TSP_TESTS "Build the unit tests that run on Windows (needs vcpkg feature tests)" OFF)
option(LINEBRIDGE_WERROR "Treat warnings as errors" OFF)

if(LINEBRIDGE_STATIC_CRT)
  # CMP0091 (NEW since cmake_minimum_required 3.15+): the runtime is chosen here.
  set(CMAKE_MSVC_RUNTIME_LIBRARY "MultiThreaded$<$<CONFIG:Debug>:Debug>")
endif()

find_package(Threads REQUIRED)
find_package(absl CONFIG REQUIRED)
find_package(Protobuf REQUIRED)  # vcpkg: its wrapper; FindProtobuf gives protobuf_generate
find_package(gRPC CONFIG REQUIRED)
if(LINEBRIDGE_TSP_TESTS)
  find_package(GTest CONFIG REQUIRED)
  enable_testing()
endif()

# The project's warning settings for MSVC (GCC/Clang flags on MinGW).
add_library(linebridge_warnings INTERFACE)
if(MSVC)
  target_compile_options(linebridge_warnings INTERFACE /W4 /permissive- /utf-8
    /wd4100 /wd4127 /wd4244 /wd4267)
  if(LINEBRIDGE_WERROR)
    target_compile_options(linebridge_warnings INTERFACE /WX)
  endif()
  # Windows headers: no min/max macros, no winsock 1.
  add_compile_definitions(NOMINMAX WIN32_LEAN_AND_MEAN _WIN32_WINNT=0x0A00)
else()
  target_compile_options(linebridge_warnings INTERFACE -Wall -Wextra)
endif()
# The TSP compiles against the SDK's <tapi.h>/<tspi.h> (gRPC and Abseil pull
# in <windows.h>, whose DWORD/LONG/WCHAR the project's own declarations would
# collide with): the export layer is checked against tspi.h's prototypes, and
# TSPIAPI is __stdcall on x86.
add_compile_definitions(LINEBRIDGE_USE_SDK_TAPI)

# linebridge_test(name LABEL label SOURCES ... LIBS ...): built only with
# LINEBRIDGE_TSP_TESTS (tests that need Linux processes stay in the Linux build).
function(linebridge_test name)
  if(NOT LINEBRIDGE_TSP_TESTS)
    return()
  endif()
  cmake_parse_arguments(T "" "LABEL;TIMEOUT" "SOURCES;LIBS" ${ARGN})
  add_executable(${name} ${T_SOURCES})
  target_link_libraries(${name} PRIVATE ${T_LIBS} GTest::gmock GTest::gtest_main
    linebridge_warnings)
  add_test(NAME ${name} COMMAND ${name})
  set_tests_properties(${name} PROPERTIES LABELS "${T_LABEL}")
endfunction()

set(CMAKE_RUNTIME_OUTPUT_DIRECTORY ${CMAKE_BINARY_DIR}/bin)

add_subdirectory(proto)
add_subdirectory(client-sdk/cpp)
add_subdirectory(remote-tsp)
