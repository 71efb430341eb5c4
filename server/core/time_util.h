#pragma once

#include "absl/time/time.h"
#include "google/protobuf/timestamp.pb.h"

namespace linebridge {

inline google::protobuf::Timestamp ToProto(absl::Time t) {
  google::protobuf::Timestamp ts;
  const int64_t us = absl::ToUnixMicros(t);
  int64_t sec = us / 1000000;
  int64_t rem = us % 1000000;
  if (rem < 0) {
    rem += 1000000;
    --sec;
  }
  ts.set_seconds(sec);
  ts.set_nanos(static_cast<int32_t>(rem * 1000));
  return ts;
}

inline absl::Time FromProto(const google::protobuf::Timestamp& ts) {
  return absl::FromUnixSeconds(ts.seconds()) + absl::Nanoseconds(ts.nanos());
}

}  // namespace linebridge
