#include "core/device_config_store.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>
#include <utility>

#include "absl/strings/str_cat.h"
#include "google/protobuf/text_format.h"

namespace linebridge {
namespace {

absl::Status Errno(const std::string& what) {
  return absl::PermissionDeniedError(absl::StrCat(what, ": ", std::strerror(errno)));
}

// Writes `text` to `path` durably: a temporary beside it, fsync, rename,
// fsync of the directory.
absl::Status WriteFileAtomically(const std::string& path, const std::string& text) {
  const std::string tmp = path + ".tmp";
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0640);
  if (fd < 0) return Errno(tmp);
  size_t done = 0;
  while (done < text.size()) {
    const ssize_t n = ::write(fd, text.data() + done, text.size() - done);
    if (n < 0) {
      if (errno == EINTR) continue;
      const absl::Status st = Errno(tmp);
      ::close(fd);
      return st;
    }
    done += static_cast<size_t>(n);
  }
  if (::fsync(fd) != 0) {
    const absl::Status st = Errno(tmp);
    ::close(fd);
    return st;
  }
  ::close(fd);
  if (std::rename(tmp.c_str(), path.c_str()) != 0) return Errno(path);
  const size_t slash = path.rfind('/');
  const std::string dir = slash == std::string::npos ? "." : path.substr(0, slash);
  const int dfd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd >= 0) {
    ::fsync(dfd);
    ::close(dfd);
  }
  return absl::OkStatus();
}

}  // namespace

DeviceConfigStore::DeviceConfigStore(std::string path) : path_(std::move(path)) {}

absl::Status DeviceConfigStore::Load() {
  if (path_.empty()) return absl::OkStatus();
  std::ifstream in(path_);
  if (!in) {
    if (errno == ENOENT) return absl::OkStatus();
    return Errno(path_);
  }
  std::stringstream text;
  text << in.rdbuf();
  v1::config::DeviceConfigFile file;
  if (!google::protobuf::TextFormat::ParseFromString(text.str(), &file)) {
    return absl::DataLossError(absl::StrCat(path_, ": not a DeviceConfigFile in text format"));
  }
  absl::MutexLock lock(&mu_);
  file_ = std::move(file);
  return absl::OkStatus();
}

std::optional<v1::DeviceConfig> DeviceConfigStore::Find(const std::string& line_id) const {
  absl::MutexLock lock(&mu_);
  auto it = file_.lines().find(line_id);
  if (it == file_.lines().end()) return std::nullopt;
  return it->second;
}

absl::Status DeviceConfigStore::Put(const std::string& line_id, const v1::DeviceConfig& config,
                                    uint64_t revision) {
  absl::MutexLock lock(&mu_);
  uint64_t& last = revisions_[line_id];
  if (revision < last) return absl::OkStatus();
  last = revision;
  (*file_.mutable_lines())[line_id] = config;
  return WriteLocked();
}

absl::Status DeviceConfigStore::WriteLocked() {
  if (path_.empty()) return absl::OkStatus();
  std::string text =
      "# linebridged: the lines' device configurations (lineSetDevConfig).\n"
      "# Written by the server; edit only while it is stopped.\n";
  std::string body;
  google::protobuf::TextFormat::Printer printer;
  if (!printer.PrintToString(file_, &body)) {
    return absl::InternalError("cannot print the device configurations");
  }
  text += body;
  return WriteFileAtomically(path_, text);
}

}  // namespace linebridge
