#include "api/media_service.h"

#include <utility>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "linebridge/lineerr.h"
#include "linebridge/rpc_status.h"
#include "linebridge/status_macros.h"

namespace linebridge {
namespace {

Perm PermOf(rpc::Perm p) {
  switch (p) {
    case rpc::Perm::kControl:
      return Perm::kControl;
    case rpc::Perm::kOriginate:
      return Perm::kOriginate;
    case rpc::Perm::kNone:
    case rpc::Perm::kMonitor:
      break;
  }
  return Perm::kMonitor;
}

// What the audit log says about a request besides its line and call.
std::string Detail(const v1::PlayFileRequest& req) {
  return absl::StrCat("file=", absl::CHexEscape(req.file()));
}
std::string Detail(const v1::RecordCallRequest& req) {
  return absl::StrCat("file=", absl::CHexEscape(req.file()), " max_ms=", req.max_duration_ms(),
                      " silence_ms=", req.silence_ms(), " audio=",
                      v1::RecordAudio_Name(req.audio()));
}
std::string Detail(const v1::MediaJobRequest& req) {
  return absl::StrCat("job=", absl::CHexEscape(req.job_id()));
}
std::string CallOf(const v1::PlayFileRequest& req) { return req.call_id(); }
std::string CallOf(const v1::RecordCallRequest& req) { return req.call_id(); }
std::string CallOf(const v1::MediaJobRequest&) { return ""; }
std::string LineOf(const v1::PlayFileRequest&) { return ""; }
std::string LineOf(const v1::RecordCallRequest&) { return ""; }
std::string LineOf(const v1::MediaJobRequest& req) { return req.line_id(); }

}  // namespace

grpc::ServerBidiReactor<grpc::ByteBuffer, grpc::ByteBuffer>* MediaService::StreamMedia(
    grpc::CallbackServerContext* ctx) {
  return new MediaStream(ctx, engine_, hub_, guard_, options_);
}

template <typename Req>
grpc::ServerUnaryReactor* MediaService::Guarded(
    grpc::CallbackServerContext* ctx, const char* method, rpc::Policy policy, const Req& req,
    v1::MediaJob* resp,
    void (MediaService::*impl)(const std::string&, const Req&, media::FileJobs::Done)) {
  grpc::ServerUnaryReactor* reactor = ctx->DefaultReactor();
  const std::string call = CallOf(req);
  std::string line = LineOf(req);
  absl::StatusOr<Caller> caller = guard_->Authenticate(*ctx);
  if (!caller.ok()) {
    if (policy.audited()) {
      guard_->Audit(nullptr, method, line, call, std::string(caller.status().message()),
                    caller.status(), ctx->peer());
    }
    reactor->Finish(ToGrpcStatus(caller.status()));
    return reactor;
  }
  if (line.empty() && !call.empty()) line = engine_->LineOfCall(call);
  const Perm perm = PermOf(policy.perm);
  const absl::Status allowed = policy.access == rpc::Access::kCall
                                   ? guard_->CheckCall(*caller, call, perm)
                                   : guard_->CheckLine(*caller, line, perm);
  media::FileJobs::Done finish = [this, reactor, resp, method, policy, who = *caller, line, call,
                                  detail = Detail(req)](absl::StatusOr<v1::MediaJob> result) {
    if (policy.audited()) {
      std::string what = detail;
      if (result.ok()) absl::StrAppend(&what, " job=", result->job_id());
      guard_->Audit(&who, method, line, call, what, result.status());
    }
    if (result.ok()) {
      *resp = *std::move(result);
      reactor->Finish(grpc::Status::OK);
    } else {
      reactor->Finish(ToGrpcStatus(result.status()));
    }
  };
  if (!allowed.ok()) {
    finish(allowed);
    return reactor;
  }
  (this->*impl)(line, req, std::move(finish));
  return reactor;
}

#define LB_MEDIA_DEFINE(Service, Method, Req, Resp, access, perm, flags, ...) \
  LB_MEDIA_DEFINE_##Service(Method, Req, Resp,                                 \
                            (rpc::Policy{rpc::Access::access, rpc::Perm::perm, rpc::Flags::flags}))
#define LB_MEDIA_DEFINE_Telephony(...)
#define LB_MEDIA_DEFINE_Admin(...)
#define LB_MEDIA_DEFINE_Security(...)
#define LB_MEDIA_DEFINE_Media(Method, Req, Resp, policy)                                    \
  grpc::ServerUnaryReactor* MediaService::Method(grpc::CallbackServerContext* ctx,          \
                                                 const v1::Req* req, v1::Resp* resp) {      \
    return Guarded<v1::Req>(ctx, "Media." #Method, policy, *req, resp,                      \
                            &MediaService::Method##Impl);                                   \
  }
LINEBRIDGE_RPCS(LB_MEDIA_DEFINE)
#undef LB_MEDIA_DEFINE_Media
#undef LB_MEDIA_DEFINE_Security
#undef LB_MEDIA_DEFINE_Admin
#undef LB_MEDIA_DEFINE_Telephony
#undef LB_MEDIA_DEFINE

absl::Status MediaService::CheckCall(const std::string& call_id) {
  if (call_id.empty()) return InvalidArgument(LINEERR_INVALCALLHANDLE, "call_id is empty");
  if (call_id.size() > kMaxIdLength) {
    return InvalidArgument(LINEERR_INVALCALLHANDLE,
                           absl::StrCat("call_id is over ", kMaxIdLength, " bytes"));
  }
  auto calls = engine_->MediaCalls({call_id}, 0);
  const Engine::MediaCall& call = calls[call_id];
  if (!call.live) {
    return NotFound(LINEERR_INVALCALLHANDLE, absl::StrCat("no call \"", call_id, "\""));
  }
  if (!call.carries_media) {
    return FailedPrecondition(LINEERR_OPERATIONUNAVAIL,
                              absl::StrCat("the provider of line \"", call.line_id,
                                           "\" carries no audio to play or record"));
  }
  return absl::OkStatus();
}

void MediaService::PlayFileImpl(const std::string& line, const v1::PlayFileRequest& req,
                                media::FileJobs::Done done) {
  if (absl::Status st = CheckCall(req.call_id()); !st.ok()) return done(st);
  jobs_->Play(req.call_id(), line, req, std::move(done));
}

void MediaService::RecordCallImpl(const std::string& line, const v1::RecordCallRequest& req,
                                  media::FileJobs::Done done) {
  if (absl::Status st = CheckCall(req.call_id()); !st.ok()) return done(st);
  jobs_->Record(req.call_id(), line, req, std::move(done));
}

void MediaService::StopMediaJobImpl(const std::string&, const v1::MediaJobRequest& req,
                                    media::FileJobs::Done done) {
  if (req.wait_ms() != 0) {
    return done(InvalidArgument(LINEERR_INVALPARAM, "wait_ms is for GetMediaJob only"));
  }
  jobs_->Stop(req, std::move(done));
}

void MediaService::GetMediaJobImpl(const std::string&, const v1::MediaJobRequest& req,
                                   media::FileJobs::Done done) {
  jobs_->Get(req, std::move(done));
}

}  // namespace linebridge
