#include "media_client.h"

#include <spandsp.h>

#include "absl/time/clock.h"
#include "linebridge/deadline.h"

namespace linebridge::mtest {

MediaClient::MediaClient(v1::Media::Stub& stub, absl::Duration timeout) {
  ctx_.set_deadline(DeadlineAfter(timeout));
  stream_ = stub.StreamMedia(&ctx_);
}

MediaClient::~MediaClient() {
  if (!finished_) {
    ctx_.TryCancel();
    (void)stream_->Finish();
  }
}

std::optional<v1::MediaStarted> MediaClient::Start(const std::string& call_id,
                                                   v1::AudioFormat format) {
  v1::MediaRequest req;
  req.mutable_start()->set_call_id(call_id);
  req.mutable_start()->set_format(format);
  if (!stream_->Write(req)) return std::nullopt;
  v1::MediaResponse resp;
  while (stream_->Read(&resp)) {
    if (resp.has_started()) return resp.started();
    others.push_back(resp);
  }
  return std::nullopt;
}

bool MediaClient::SendFrame(const std::vector<int16_t>& samples, v1::AudioFormat format) {
  v1::MediaRequest req;
  req.mutable_frame()->set_payload(EncodeSamples(samples, format));
  req.mutable_frame()->set_timestamp_ms(next_timestamp_ms);
  next_timestamp_ms += 20;
  return stream_->Write(req);
}

bool MediaClient::ReadFrame(v1::AudioFrame* frame) {
  v1::MediaResponse resp;
  while (stream_->Read(&resp)) {
    if (resp.has_frame()) {
      *frame = resp.frame();
      return true;
    }
    others.push_back(resp);
  }
  return false;
}

grpc::Status MediaClient::Finish() {
  if (finished_) return status_;
  stream_->WritesDone();
  v1::MediaResponse resp;
  while (stream_->Read(&resp)) others.push_back(resp);
  finished_ = true;
  status_ = stream_->Finish();
  return status_;
}

std::string EncodeSamples(const std::vector<int16_t>& s, v1::AudioFormat format) {
  std::string out;
  switch (format) {
    case v1::AUDIO_FORMAT_PCMU:
      for (int16_t x : s) out.push_back(static_cast<char>(linear_to_ulaw(x)));
      return out;
    case v1::AUDIO_FORMAT_PCMA:
      for (int16_t x : s) out.push_back(static_cast<char>(linear_to_alaw(x)));
      return out;
    case v1::AUDIO_FORMAT_L16_16K:
      // Linear interpolation to 16 kHz (good enough for a 1 kHz test tone).
      for (size_t i = 0; i < s.size(); ++i) {
        const int16_t next = i + 1 < s.size() ? s[i + 1] : s[i];
        for (int16_t x : {s[i], static_cast<int16_t>((s[i] + next) / 2)}) {
          out.push_back(static_cast<char>(x & 0xff));
          out.push_back(static_cast<char>((static_cast<uint16_t>(x) >> 8) & 0xff));
        }
      }
      return out;
    default:
      for (int16_t x : s) {
        out.push_back(static_cast<char>(x & 0xff));
        out.push_back(static_cast<char>((static_cast<uint16_t>(x) >> 8) & 0xff));
      }
      return out;
  }
}

std::vector<int16_t> DecodePayload(const std::string& p, v1::AudioFormat format) {
  std::vector<int16_t> out;
  const auto* b = reinterpret_cast<const uint8_t*>(p.data());
  switch (format) {
    case v1::AUDIO_FORMAT_PCMU:
      for (size_t i = 0; i < p.size(); ++i) out.push_back(ulaw_to_linear(b[i]));
      return out;
    case v1::AUDIO_FORMAT_PCMA:
      for (size_t i = 0; i < p.size(); ++i) out.push_back(alaw_to_linear(b[i]));
      return out;
    default:  // L16 at either rate
      for (size_t i = 0; i + 1 < p.size(); i += 2) {
        out.push_back(static_cast<int16_t>(b[i] | (b[i + 1] << 8)));
      }
      return out;
  }
}

}  // namespace linebridge::mtest
