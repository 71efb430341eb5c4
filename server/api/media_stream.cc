#include "api/media_stream.h"

#include <string_view>
#include <utility>

#include "absl/strings/str_cat.h"
#include "api/parse_failure.h"
#include "linebridge/lineerr.h"
#include "linebridge/rpc_status.h"
#include "linebridge/rpc_table.h"
#include "linebridge/status_macros.h"

namespace linebridge {
namespace {

constexpr char kOperation[] = "Media.StreamMedia";

// The stream's row of the RPC table.
constexpr rpc::Policy StreamMediaPolicy() {
#define LB_MEDIA_ROW(Service, Method, Req, Resp, access, perm, flags, ...)    \
  if (std::string_view(#Service "." #Method) == std::string_view(kOperation)) \
    return rpc::Policy{rpc::Access::access, rpc::Perm::perm, rpc::Flags::flags};
  LINEBRIDGE_STREAMING_RPCS(LB_MEDIA_ROW)
#undef LB_MEDIA_ROW
  return rpc::Policy{rpc::Access::kAdmin, rpc::Perm::kNone, rpc::Flags::kAudited};
}
constexpr rpc::Policy kPolicy = StreamMediaPolicy();
static_assert(kPolicy.access == rpc::Access::kCall, "media streams are authorized per call");

Perm PermOf(rpc::Perm p) {
  switch (p) {
    case rpc::Perm::kControl:
      return Perm::kControl;
    case rpc::Perm::kOriginate:
      return Perm::kOriginate;
    default:
      return Perm::kMonitor;
  }
}

grpc::ByteBuffer Encode(const v1::MediaResponse& msg) {
  grpc::Slice slice(msg.SerializeAsString());
  return grpc::ByteBuffer(&slice, 1);
}

}  // namespace

MediaStream::Counters& MediaStream::counters() {
  static Counters* c = new Counters();
  return *c;
}

MediaStream::MediaStream(grpc::CallbackServerContext* ctx, Engine* engine, media::MediaHub* hub,
                         Guard* guard, MediaStreamOptions options)
    : ctx_(ctx), engine_(engine), hub_(hub), guard_(guard), options_(options) {
  counters().streams.fetch_add(1, std::memory_order_relaxed);
  StartRead(&in_);
}

void MediaStream::OnReadDone(bool ok) {
  if (!ok) {
    // The client has sent its last message (or the RPC is ending): write
    // what is queued and the final counters, then finish.
    std::optional<media::StreamCounters> last;
    if (started_) last = hub_->Detach(id_);
    absl::MutexLock lock(&mu_);
    if (closing_) return;
    if (started_ && last) StatsLocked(*last, false);
    closing_ = true;
    finish_when_drained_ = grpc::Status::OK;
    WriteNext();
    return;
  }
  v1::MediaRequest req;
  std::string why;
  if (!ParseRawRequest(in_, &req, &why)) {
    Fail(grpc::Status(grpc::StatusCode::UNIMPLEMENTED, absl::StrCat(kRequestDidNotParse, why)));
    return;
  }
  absl::Status st = started_ ? Handle(req) : Start(req);
  if (!st.ok()) {
    Fail(ToGrpcStatus(st));
    return;
  }
  {
    absl::MutexLock lock(&mu_);
    if (finished_) return;
  }
  StartRead(&in_);
}

absl::Status MediaStream::Start(const v1::MediaRequest& req) {
  const std::string call_id = req.start().call_id();
  absl::StatusOr<Caller> caller = guard_->Authenticate(*ctx_);
  if (!caller.ok()) {
    if (kPolicy.audited()) {
      guard_->Audit(nullptr, kOperation, "", call_id, std::string(caller.status().message()),
                    caller.status(), ctx_->peer());
    }
    return caller.status();
  }
  std::string line;
  absl::StatusOr<v1::AudioFormat> format = media::ResolveFormat(req.start().format());
  absl::Status st = [&]() -> absl::Status {
    if (req.kind_case() != v1::MediaRequest::kStart) {
      return InvalidArgument(LINEERR_INVALPARAM, "the first message must be a MediaStart");
    }
    if (call_id.empty()) return InvalidArgument(LINEERR_INVALCALLHANDLE, "start.call_id is empty");
    if (call_id.size() > kMaxIdLength) {
      return InvalidArgument(LINEERR_INVALCALLHANDLE,
                             absl::StrCat("start.call_id is over ", kMaxIdLength, " bytes"));
    }
    LB_RETURN_IF_ERROR(format.status());
    LB_RETURN_IF_ERROR(guard_->CheckCall(*caller, call_id, PermOf(kPolicy.perm)));
    return Attach(call_id, *format, &line);
  }();
  if (kPolicy.audited()) {
    guard_->Audit(&*caller, kOperation, line, call_id,
                  format.ok() ? absl::StrCat("format=", v1::AudioFormat_Name(*format)) : "", st);
  }
  return st;
}

absl::Status MediaStream::Attach(const std::string& call_id, v1::AudioFormat format,
                                 std::string* line) {
  auto calls = engine_->MediaCalls({call_id}, 0);
  const Engine::MediaCall& call = calls[call_id];
  if (!call.live) return NotFound(LINEERR_INVALCALLHANDLE, absl::StrCat("no call \"", call_id, "\""));
  *line = call.line_id;
  if (!call.carries_media) {
    return FailedPrecondition(LINEERR_OPERATIONUNAVAIL,
                              absl::StrCat("the provider of line \"", call.line_id,
                                           "\" carries no audio to media streams"));
  }
  LB_ASSIGN_OR_RETURN(id_, hub_->Attach(call_id, this));
  started_ = true;
  decoder_.emplace(format);
  absl::MutexLock lock(&mu_);
  encoder_.emplace(format);
  v1::MediaResponse resp;
  v1::MediaStarted* s = resp.mutable_started();
  s->set_call_id(call_id);
  s->set_line_id(call.line_id);
  s->set_format(format);
  s->set_frame_bytes(media::FrameBytes(format));
  s->set_frame_ms(media::kFrameMs);
  Queue(resp, Out::kOther);
  ready_ = true;
  return absl::OkStatus();
}

absl::Status MediaStream::Handle(const v1::MediaRequest& req) {
  switch (req.kind_case()) {
    case v1::MediaRequest::kStart:
      return InvalidArgument(LINEERR_INVALPARAM, "a MediaStart only as the first message");
    case v1::MediaRequest::kFrame: {
      const v1::AudioFrame& f = req.frame();
      const uint32_t want = media::FrameBytes(decoder_->format());
      if (f.payload().size() != want) {
        return InvalidArgument(
            LINEERR_INVALPARAM,
            absl::StrCat("frame of ", f.payload().size(), " bytes; ",
                         v1::AudioFormat_Name(decoder_->format()), " frames are ", want,
                         " bytes (20 ms)"));
      }
      if (f.timestamp_ms() < last_client_ms_) {
        return InvalidArgument(LINEERR_INVALPARAM,
                               absl::StrCat("frame timestamp_ms ", f.timestamp_ms(),
                                            " goes back from ", last_client_ms_));
      }
      last_client_ms_ = f.timestamp_ms();
      media::Frame frame;
      decoder_->Decode(f.payload(), &frame);
      hub_->PushFrame(id_, frame);
      return absl::OkStatus();
    }
    case v1::MediaRequest::kTone: {
      LB_ASSIGN_OR_RETURN(std::unique_ptr<media::ToneSource> tone,
                          media::ToneSource::ForTone(req.tone()));
      hub_->PlayTone(id_, std::move(tone));
      return absl::OkStatus();
    }
    case v1::MediaRequest::kDigits: {
      LB_ASSIGN_OR_RETURN(std::unique_ptr<media::ToneSource> tone,
                          media::ToneSource::ForDigits(req.digits().digits()));
      hub_->PlayTone(id_, std::move(tone));
      return absl::OkStatus();
    }
    case v1::MediaRequest::kStopTone:
      hub_->StopTone(id_);
      return absl::OkStatus();
    case v1::MediaRequest::kGather: {
      LB_ASSIGN_OR_RETURN(media::DigitGatherer gatherer, media::DigitGatherer::Start(req.gather()));
      hub_->Gather(id_, std::move(gatherer));
      return absl::OkStatus();
    }
    case v1::MediaRequest::kStopGather:
      hub_->StopGather(id_);
      return absl::OkStatus();
    case v1::MediaRequest::KIND_NOT_SET:
      break;
  }
  return InvalidArgument(LINEERR_INVALPARAM, "a MediaRequest with nothing in it");
}

void MediaStream::Fail(const grpc::Status& status) {
  if (started_) hub_->Detach(id_);
  absl::MutexLock lock(&mu_);
  closing_ = true;
  out_.clear();
  queued_frames_ = 0;
  FinishOnce(status);
}

void MediaStream::Queue(const v1::MediaResponse& msg, Out::Kind kind) {
  if (closing_) return;
  if (kind == Out::kFrame && queued_frames_ >= options_.queue_frames) {
    // The client reads too slowly: the oldest frame goes.
    for (auto it = out_.begin(); it != out_.end(); ++it) {
      if (it->kind != Out::kFrame) continue;
      out_.erase(it);
      --queued_frames_;
      ++dropped_;
      counters().frames_dropped.fetch_add(1, std::memory_order_relaxed);
      break;
    }
  }
  if (kind == Out::kStats) {
    // Only the latest counters matter.
    std::erase_if(out_, [](const Out& o) { return o.kind == Out::kStats; });
  }
  out_.push_back(Out{Encode(msg), kind});
  if (kind == Out::kFrame) ++queued_frames_;
  WriteNext();
}

void MediaStream::WriteNext() {
  if (writing_ || finished_) return;
  if (out_.empty()) {
    if (finish_when_drained_) FinishOnce(*finish_when_drained_);
    return;
  }
  Out next = std::move(out_.front());
  out_.pop_front();
  if (next.kind == Out::kFrame) {
    --queued_frames_;
    ++sent_;
    counters().frames_sent.fetch_add(1, std::memory_order_relaxed);
  }
  writing_bytes_ = std::move(next.bytes);
  writing_ = true;
  StartWrite(&writing_bytes_);
}

void MediaStream::OnWriteDone(bool ok) {
  absl::MutexLock lock(&mu_);
  writing_ = false;
  if (!ok) {
    closing_ = true;
    out_.clear();
    queued_frames_ = 0;
    FinishOnce(grpc::Status(grpc::StatusCode::CANCELLED, "media stream write failed"));
    return;
  }
  if (finish_after_write_) {
    FinishOnce(*finish_after_write_);
    return;
  }
  WriteNext();
}

void MediaStream::FinishOnce(const grpc::Status& status) {
  if (finished_) return;
  if (writing_) {
    if (!finish_after_write_) finish_after_write_ = status;
    return;
  }
  finished_ = true;
  Finish(status);
}

void MediaStream::OnCancel() {
  absl::MutexLock lock(&mu_);
  closing_ = true;
  out_.clear();
  queued_frames_ = 0;
  FinishOnce(grpc::Status::CANCELLED);
}

void MediaStream::OnDone() {
  if (started_) hub_->Detach(id_);
  counters().streams.fetch_sub(1, std::memory_order_relaxed);
  delete this;
}

void MediaStream::OnAudio(const media::Frame& heard) {
  absl::MutexLock lock(&mu_);
  if (!ready_ || closing_) return;
  v1::MediaResponse resp;
  v1::AudioFrame* f = resp.mutable_frame();
  f->set_sequence(sequence_);
  f->set_timestamp_ms(sequence_ * media::kFrameMs);
  ++sequence_;
  encoder_->Encode(heard, f->mutable_payload());
  Queue(resp, Out::kFrame);
}

void MediaStream::OnToneDone(bool cancelled) {
  absl::MutexLock lock(&mu_);
  v1::MediaResponse resp;
  resp.mutable_tone_done()->set_cancelled(cancelled);
  Queue(resp, Out::kOther);
}

void MediaStream::OnDigitsGathered(const media::DigitGatherer::Result& result) {
  absl::MutexLock lock(&mu_);
  v1::MediaResponse resp;
  resp.mutable_gathered()->set_digits(result.digits);
  resp.mutable_gathered()->set_termination(result.termination);
  Queue(resp, Out::kOther);
}

void MediaStream::StatsLocked(const media::StreamCounters& c, bool ended) {
  hub_counters_ = c;
  v1::MediaResponse resp;
  v1::MediaStats* s = resp.mutable_stats();
  s->set_frames_sent(sent_);
  s->set_frames_dropped(dropped_);
  s->set_frames_received(c.received);
  s->set_frames_overrun(c.overrun);
  s->set_frames_underrun(c.underrun);
  s->set_call_ended(ended);
  Queue(resp, Out::kStats);
}

void MediaStream::OnStats(const media::StreamCounters& c) {
  absl::MutexLock lock(&mu_);
  if (!ready_) return;
  StatsLocked(c, false);
}

void MediaStream::OnCallEnded(const media::StreamCounters& c, bool shutdown) {
  absl::MutexLock lock(&mu_);
  StatsLocked(c, !shutdown);
  closing_ = true;
  finish_when_drained_ =
      shutdown ? grpc::Status(grpc::StatusCode::UNAVAILABLE, "the server is shutting down")
               : grpc::Status::OK;
  WriteNext();
}

}  // namespace linebridge
