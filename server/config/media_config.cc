#include "config/media_config.h"

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

namespace linebridge {
namespace {

void CheckDir(const std::string& dir, const std::string& path, const ConfigErrorFn& error) {
  if (dir.empty()) {
    error(path, "must not be empty");
  } else if (dir.find('\0') != std::string::npos || dir.size() > 4096) {
    error(path, absl::StrFormat("\"%s\" is not a usable directory name", absl::CEscape(dir)));
  }
}

}  // namespace

void ApplyMediaDefaults(const std::string& data_dir, v1::config::MediaConfig* media) {
  if (media->media_dir().empty()) {
    media->set_media_dir(absl::StrCat(data_dir, "/", kDefaultMediaSubdir));
  }
  if (media->recordings_dir().empty()) {
    media->set_recordings_dir(absl::StrCat(data_dir, "/", kDefaultRecordingsSubdir));
  }
  if (media->max_file_bytes() == 0) media->set_max_file_bytes(kDefaultMediaMaxFileBytes);
  if (media->max_record_ms() == 0) media->set_max_record_ms(kDefaultMediaMaxRecordMs);
  if (media->max_jobs() == 0) media->set_max_jobs(kDefaultMediaMaxJobs);
}

void ValidateMediaConfig(const v1::config::MediaConfig& media, const ConfigErrorFn& error) {
  CheckDir(media.media_dir(), "media.media_dir", error);
  CheckDir(media.recordings_dir(), "media.recordings_dir", error);
  if (media.max_file_bytes() < kMinMediaMaxFileBytes ||
      media.max_file_bytes() > kMaxMediaMaxFileBytes) {
    error("media.max_file_bytes", absl::StrFormat("%u out of range [%u, %u]", media.max_file_bytes(),
                                                  kMinMediaMaxFileBytes, kMaxMediaMaxFileBytes));
  }
  if (media.max_record_ms() < kMinMediaMaxRecordMs || media.max_record_ms() > kMaxMediaMaxRecordMs) {
    error("media.max_record_ms", absl::StrFormat("%u out of range [%u, %u]", media.max_record_ms(),
                                                 kMinMediaMaxRecordMs, kMaxMediaMaxRecordMs));
  }
  if (media.max_jobs() < 1 || media.max_jobs() > kMaxMediaMaxJobs) {
    error("media.max_jobs",
          absl::StrFormat("%u out of range [1, %u]", media.max_jobs(), kMaxMediaMaxJobs));
  }
}

}  // namespace linebridge
