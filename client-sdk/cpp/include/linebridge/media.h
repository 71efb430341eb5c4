// A call's audio as a stream object (linebridge.v1.Media, docs/media.md).
//
//   auto stream = MediaStream::Open(client, call_id, v1::AUDIO_FORMAT_PCMU);
//   while (auto msg = (*stream)->Read()) {
//     if (msg->has_frame()) { ... msg->frame().payload() ...; (*stream)->SendFrame(reply); }
//   }
//   absl::Status end = (*stream)->Finish();
//
// One thread may Read while another sends (gRPC allows one of each at a
// time); Finish from the reading thread (or once it stopped reading), Cancel
// from any thread. The stream has no deadline: Cancel (or the destructor)
// ends it.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include <grpcpp/grpcpp.h>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "linebridge/client.h"
#include "linebridge/connection.h"
#include "linebridge/v1/media.grpc.pb.h"

namespace linebridge {

class MediaStream {
 public:
  // Opens a stream on `call_id` and waits (at most `timeout`) for the
  // server's MediaStarted. The server's refusal comes back as its status
  // (TAPI detail included: FromGrpcStatus).
  static absl::StatusOr<std::unique_ptr<MediaStream>> Open(
      Connection& connection, const std::string& call_id,
      v1::AudioFormat format = v1::AUDIO_FORMAT_L16_8K, absl::Duration timeout = absl::Seconds(10));
  // The same on the server the client routes the call to (asked with
  // GetCall when it does not know it yet).
  static absl::StatusOr<std::unique_ptr<MediaStream>> Open(
      Client& client, const std::string& call_id,
      v1::AudioFormat format = v1::AUDIO_FORMAT_L16_8K, absl::Duration timeout = absl::Seconds(10));
  ~MediaStream();
  MediaStream(const MediaStream&) = delete;
  MediaStream& operator=(const MediaStream&) = delete;

  const v1::MediaStarted& started() const { return started_; }

  // False once the stream has ended (Finish then says why).
  bool SendFrame(std::string payload);
  bool PlayTone(const v1::GenerateTone& tone);
  bool PlayDigits(const std::string& digits);
  bool StopTone();
  bool Send(const v1::MediaRequest& request);

  // The next message from the server; nullopt once the stream has ended.
  std::optional<v1::MediaResponse> Read();

  // Half-closes, reads and drops what the server still sends, and returns
  // the stream's status. Idempotent.
  absl::Status Finish();
  // Ends the stream at once (Finish then returns CANCELLED).
  void Cancel();

 private:
  MediaStream(Connection& connection);
  Connection& connection_;
  std::unique_ptr<v1::Media::Stub> stub_;
  grpc::ClientContext context_;
  std::unique_ptr<grpc::ClientReaderWriter<v1::MediaRequest, v1::MediaResponse>> stream_;
  v1::MediaStarted started_;
  uint64_t next_timestamp_ms_ = 0;  // the sending thread's

  absl::Mutex mu_;
  bool finished_ ABSL_GUARDED_BY(mu_) = false;
  absl::Status status_ ABSL_GUARDED_BY(mu_);
};

}  // namespace linebridge
