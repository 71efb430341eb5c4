// The Media service (linebridge.v1.Media, docs/media.md): the per-call
// audio stream (api/media_stream.h) and the server-side file jobs
// (media/file_jobs.h) — playing a WAV file into a call, recording a call —
// as unary RPCs. Each of those checks its row of the RPC table (control on
// the call's line for PlayFile, RecordCall and StopMediaJob; monitor for
// GetMediaJob), is audited with its outcome, and answers from the jobs'
// worker thread once the file is open (never blocking a gRPC thread).
#pragma once

#include <functional>
#include <string>

#include <grpcpp/grpcpp.h>

#include "api/auth.h"
#include "api/media_stream.h"
#include "core/engine.h"
#include "linebridge/rpc_table.h"
#include "linebridge/v1/media.grpc.pb.h"
#include "media/file_jobs.h"
#include "media/media_hub.h"

namespace linebridge {

// StreamMedia is a raw method (api/media_stream.h); the others are typed.
// A Media row of the RPC table without its method here does not compile
// (its declaration below overrides nothing).
using MediaServiceBase = v1::Media::WithRawCallbackMethod_StreamMedia<
    v1::Media::WithCallbackMethod_PlayFile<v1::Media::WithCallbackMethod_RecordCall<
        v1::Media::WithCallbackMethod_StopMediaJob<
            v1::Media::WithCallbackMethod_GetMediaJob<v1::Media::Service>>>>>;

class MediaService final : public MediaServiceBase {
 public:
  MediaService(Engine* engine, media::MediaHub* hub, media::FileJobs* jobs, Guard* guard,
               MediaStreamOptions options)
      : engine_(engine), hub_(hub), jobs_(jobs), guard_(guard), options_(options) {}

  grpc::ServerBidiReactor<grpc::ByteBuffer, grpc::ByteBuffer>* StreamMedia(
      grpc::CallbackServerContext* ctx) override;

  // The unary Media rows of the RPC table: each checks its policy, then
  // runs Method##Impl, which answers through `done`.
#define LB_MEDIA_DECLARE(Service, Method, Req, Resp, ...) LB_MEDIA_DECLARE_##Service(Method, Req, Resp)
#define LB_MEDIA_DECLARE_Telephony(Method, Req, Resp)
#define LB_MEDIA_DECLARE_Admin(Method, Req, Resp)
#define LB_MEDIA_DECLARE_Security(Method, Req, Resp)
#define LB_MEDIA_DECLARE_Media(Method, Req, Resp)                                          \
  grpc::ServerUnaryReactor* Method(grpc::CallbackServerContext* ctx, const v1::Req* req, \
                                   v1::Resp* resp) override;                             \
  void Method##Impl(const std::string& line, const v1::Req& req, media::FileJobs::Done done);
  LINEBRIDGE_RPCS(LB_MEDIA_DECLARE)
#undef LB_MEDIA_DECLARE_Media
#undef LB_MEDIA_DECLARE_Security
#undef LB_MEDIA_DECLARE_Admin
#undef LB_MEDIA_DECLARE_Telephony
#undef LB_MEDIA_DECLARE

 private:
  template <typename Req>
  grpc::ServerUnaryReactor* Guarded(grpc::CallbackServerContext* ctx, const char* method,
                                    rpc::Policy policy, const Req& req, v1::MediaJob* resp,
                                    void (MediaService::*impl)(const std::string&, const Req&,
                                                               media::FileJobs::Done));
  // The call of a PlayFile / RecordCall: a live call with audio.
  absl::Status CheckCall(const std::string& call_id);

  Engine* const engine_;
  media::MediaHub* const hub_;
  media::FileJobs* const jobs_;
  Guard* const guard_;
  const MediaStreamOptions options_;
};

}  // namespace linebridge
