// File names clients give for server-side media files, resolved inside one
// directory (the media directory, the recordings directory) and never out
// of it.
//
// A name is 1-255 bytes of path components of [A-Za-z0-9._-] separated by
// single '/', ending in ".wav" (any case); no component "." or "..", no
// leading '/'. Breaking the rules is INVALID_ARGUMENT + LINEERR_INVALPARAM.
// A name that leads out of the directory through a symbolic link is treated
// like a file that is not there: NOT_FOUND + LINEERR_INVALPARAM.
#pragma once

#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace linebridge::media {

inline constexpr size_t kMaxFileName = 255;

// Checks the syntax of `name` (the rules above); `field` names it in errors.
absl::Status CheckMediaFileName(absl::string_view name, absl::string_view field);

// The real path of the existing regular file `name` inside `dir`.
// FAILED_PRECONDITION + LINEERR_OPERATIONUNAVAIL if `dir` itself is missing.
absl::StatusOr<std::string> ResolveExisting(const std::string& dir, absl::string_view name,
                                            absl::string_view field);

// Creates the new file `name` inside `dir` (its directories must exist) and
// returns a descriptor open for writing (O_EXCL, O_NOFOLLOW, mode 0640).
// ALREADY_EXISTS + LINEERR_INVALPARAM if there is one.
absl::StatusOr<int> CreateNew(const std::string& dir, absl::string_view name,
                              absl::string_view field);

}  // namespace linebridge::media
