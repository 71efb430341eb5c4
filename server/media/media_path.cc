#include "media/media_path.h"

#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <vector>

#include "absl/strings/escaping.h"

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "linebridge/lineerr.h"
#include "linebridge/status_macros.h"

namespace linebridge::media {
namespace {

bool NameChar(char c) { return absl::ascii_isalnum(c) || c == '.' || c == '_' || c == '-'; }

absl::StatusOr<std::string> RealPath(const std::string& path) {
  char buf[PATH_MAX];
  if (::realpath(path.c_str(), buf) == nullptr) return absl::ErrnoToStatus(errno, path);
  return std::string(buf);
}

// The real path of `dir`: FAILED_PRECONDITION when it is missing.
absl::StatusOr<std::string> RealDir(const std::string& dir) {
  absl::StatusOr<std::string> real = RealPath(dir);
  if (!real.ok()) {
    return FailedPrecondition(LINEERR_OPERATIONUNAVAIL,
                              absl::StrCat("the server's directory \"", dir,
                                           "\" is not there: ", real.status().message()));
  }
  return real;
}

bool Inside(const std::string& root, const std::string& path) {
  return absl::StartsWith(path, root) && path.size() > root.size() &&
         (root == "/" || path[root.size()] == '/');
}

absl::Status Missing(absl::string_view field, absl::string_view name, absl::string_view why) {
  return NotFound(LINEERR_INVALPARAM, absl::StrCat(field, " \"", name, "\": ", why));
}

}  // namespace

absl::Status CheckMediaFileName(absl::string_view name, absl::string_view field) {
  auto bad = [&](absl::string_view why) {
    return InvalidArgument(LINEERR_INVALPARAM, absl::StrCat(field, " \"", absl::CEscape(name),
                                                            "\": ", why));
  };
  if (name.empty()) return bad("is empty");
  if (name.size() > kMaxFileName) return bad(absl::StrCat("is over ", kMaxFileName, " bytes"));
  if (name.front() == '/') return bad("must be relative to the server's directory");
  for (absl::string_view part : absl::StrSplit(name, '/')) {
    if (part.empty()) return bad("has an empty path component");
    if (part == "." || part == "..") return bad("may not contain \".\" or \"..\"");
    for (char c : part) {
      if (!NameChar(c)) return bad("may hold only A-Z a-z 0-9 . _ - and '/' between names");
    }
  }
  if (name.size() < 5 || !absl::EndsWithIgnoreCase(name, ".wav")) return bad("must end in .wav");
  return absl::OkStatus();
}

absl::StatusOr<std::string> ResolveExisting(const std::string& dir, absl::string_view name,
                                            absl::string_view field) {
  LB_RETURN_IF_ERROR(CheckMediaFileName(name, field));
  LB_ASSIGN_OR_RETURN(const std::string root, RealDir(dir));
  absl::StatusOr<std::string> real = RealPath(absl::StrCat(root, "/", name));
  if (!real.ok()) return Missing(field, name, "no such file in the server's directory");
  if (!Inside(root, *real)) return Missing(field, name, "leads out of the server's directory");
  struct stat st;
  if (::stat(real->c_str(), &st) != 0 || !S_ISREG(st.st_mode)) {
    return Missing(field, name, "not a regular file");
  }
  return real;
}

absl::StatusOr<int> CreateNew(const std::string& dir, absl::string_view name,
                              absl::string_view field) {
  LB_RETURN_IF_ERROR(CheckMediaFileName(name, field));
  LB_ASSIGN_OR_RETURN(const std::string root, RealDir(dir));
  const size_t slash = name.rfind('/');
  std::string parent = root;
  if (slash != absl::string_view::npos) {
    absl::StatusOr<std::string> real = RealPath(absl::StrCat(root, "/", name.substr(0, slash)));
    if (!real.ok()) return Missing(field, name, "its directory is not there");
    if (!Inside(root, *real)) return Missing(field, name, "leads out of the server's directory");
    parent = *real;
  }
  const std::string path =
      absl::StrCat(parent, "/", slash == absl::string_view::npos ? name : name.substr(slash + 1));
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0640);
  if (fd >= 0) return fd;
  if (errno == EEXIST) {
    return TapiStatus(absl::StatusCode::kAlreadyExists, LINEERR_INVALPARAM,
                      absl::StrCat(field, " \"", name, "\": the file exists"));
  }
  return absl::InternalError(absl::StrCat("creating ", path, ": ", std::strerror(errno)));
}

}  // namespace linebridge::media
