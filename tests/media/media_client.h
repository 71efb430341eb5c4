// A test's media stream client over the generated stub: the first message,
// frames both ways in lock step with the server's 20 ms clock, and the
// other messages kept aside.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <grpcpp/grpcpp.h>

#include "absl/time/time.h"
#include "linebridge/v1/media.grpc.pb.h"

namespace linebridge::mtest {

class MediaClient {
 public:
  MediaClient(v1::Media::Stub& stub, absl::Duration timeout = absl::Seconds(20));
  ~MediaClient();

  // Sends the MediaStart and reads the answer: the MediaStarted, or nullopt
  // (then Finish() has the status).
  std::optional<v1::MediaStarted> Start(const std::string& call_id,
                                        v1::AudioFormat format = v1::AUDIO_FORMAT_UNSPECIFIED);
  bool Send(const v1::MediaRequest& req) { return stream_->Write(req); }
  // One frame of L16 8 kHz samples (encoded as `format`).
  bool SendFrame(const std::vector<int16_t>& samples, v1::AudioFormat format);
  // The next frame's payload (other messages are kept in `others`); false
  // when the stream ended.
  bool ReadFrame(v1::AudioFrame* frame);
  // Half-closes and returns the final status.
  grpc::Status Finish();

  grpc::ClientContext& context() { return ctx_; }
  std::vector<v1::MediaResponse> others;
  uint64_t next_timestamp_ms = 0;

 private:
  grpc::ClientContext ctx_;
  std::unique_ptr<grpc::ClientReaderWriter<v1::MediaRequest, v1::MediaResponse>> stream_;
  bool finished_ = false;
  grpc::Status status_;
};

// Samples <-> payloads for the test's side (L16 little-endian; G.711 via
// spandsp like the server, which the test then checks by frequency only).
std::string EncodeSamples(const std::vector<int16_t>& samples, v1::AudioFormat format);
std::vector<int16_t> DecodePayload(const std::string& payload, v1::AudioFormat format);

}  // namespace linebridge::mtest
