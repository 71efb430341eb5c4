#include "linebridge/media.h"

#include <thread>

#include "linebridge/rpc_status.h"

namespace linebridge {

MediaStream::MediaStream(Connection& connection)
    : connection_(connection), stub_(v1::Media::NewStub(connection.channel())) {}

absl::StatusOr<std::unique_ptr<MediaStream>> MediaStream::Open(Connection& connection,
                                                               const std::string& call_id,
                                                               v1::AudioFormat format,
                                                               absl::Duration timeout) {
  std::unique_ptr<MediaStream> s(new MediaStream(connection));
  connection.AddCredentials(s->context_);
  if (!connection.Track(&s->context_)) {
    return absl::CancelledError("the connection was cancelled");
  }
  s->stream_ = s->stub_->StreamMedia(&s->context_);
  v1::MediaRequest start;
  start.mutable_start()->set_call_id(call_id);
  start.mutable_start()->set_format(format);
  // The first answer within `timeout`: a watchdog cancels the stream if not.
  absl::Mutex mu;
  bool answered = false;
  std::thread watchdog([&] {
    absl::MutexLock lock(&mu);
    if (!mu.AwaitWithTimeout(absl::Condition(&answered), timeout)) s->context_.TryCancel();
  });
  std::optional<v1::MediaResponse> first;
  if (s->stream_->Write(start)) first = s->Read();
  {
    absl::MutexLock lock(&mu);
    answered = true;
  }
  watchdog.join();
  if (!first.has_value() || !first->has_started()) {
    absl::Status st = s->Finish();
    if (st.ok()) st = absl::UnknownError("the server did not start the media stream");
    return st;
  }
  s->started_ = first->started();
  return s;
}

absl::StatusOr<std::unique_ptr<MediaStream>> MediaStream::Open(Client& client,
                                                               const std::string& call_id,
                                                               v1::AudioFormat format,
                                                               absl::Duration timeout) {
  std::optional<size_t> server = client.routes().CallServer(call_id);
  if (!server && client.num_servers() > 1) {
    v1::GetCallRequest get;
    get.set_call_id(call_id);
    absl::StatusOr<v1::Call> call = client.GetCall(get);
    if (!call.ok()) return call.status();
    server = client.routes().CallServer(call_id);
  }
  return Open(client.connection(server.value_or(0)), call_id, format, timeout);
}

MediaStream::~MediaStream() {
  Cancel();
  (void)Finish();
  connection_.Untrack(&context_);
}

bool MediaStream::SendFrame(std::string payload) {
  v1::MediaRequest req;
  req.mutable_frame()->set_payload(std::move(payload));
  req.mutable_frame()->set_timestamp_ms(next_timestamp_ms_);
  next_timestamp_ms_ += 20;
  return stream_->Write(req);
}

bool MediaStream::PlayTone(const v1::GenerateTone& tone) {
  v1::MediaRequest req;
  *req.mutable_tone() = tone;
  return stream_->Write(req);
}

bool MediaStream::PlayDigits(const std::string& digits) {
  v1::MediaRequest req;
  req.mutable_digits()->set_digits(digits);
  return stream_->Write(req);
}

bool MediaStream::StopTone() {
  v1::MediaRequest req;
  req.mutable_stop_tone();
  return stream_->Write(req);
}

bool MediaStream::Send(const v1::MediaRequest& request) { return stream_->Write(request); }

std::optional<v1::MediaResponse> MediaStream::Read() {
  v1::MediaResponse resp;
  if (!stream_->Read(&resp)) return std::nullopt;
  return resp;
}

absl::Status MediaStream::Finish() {
  absl::MutexLock lock(&mu_);
  if (finished_) return status_;
  stream_->WritesDone();
  v1::MediaResponse resp;
  while (stream_->Read(&resp)) {
  }
  status_ = FromGrpcStatus(stream_->Finish());
  finished_ = true;
  return status_;
}

void MediaStream::Cancel() { context_.TryCancel(); }

}  // namespace linebridge
