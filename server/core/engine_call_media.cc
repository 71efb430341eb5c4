// The call media RPCs (core/call_media.h): GenerateTone, GatherDigits,
// MonitorTones, MonitorMedia — checked here, run by the server's CallMedia —
// and SetMediaMode, which only changes the call's info.
#include <algorithm>

#include "absl/strings/str_cat.h"
#include "core/engine.h"
#include "linebridge/lineerr.h"
#include "linebridge/status_macros.h"

namespace linebridge {
namespace {

template <typename List>
bool InList(const List& list, int value) {
  return std::find(list.begin(), list.end(), value) != list.end();
}

}  // namespace

absl::StatusOr<v1::Call> Engine::MediaCallAction(
    const std::string& session_id, const std::string& call_id,
    std::initializer_list<v1::CallState> states,
    const std::function<absl::Status(CallMedia*)>& run) {
  v1::Call view;
  {
    EngineLock lock(this);
    LB_ASSIGN_OR_RETURN(Op op, PrepareCallOp(session_id, call_id, {}, v1::CALL_FEATURE_UNSPECIFIED));
    if (!op.provider->CallCarriesMedia(call_id)) {
      return FailedPrecondition(LINEERR_OPERATIONUNAVAIL,
                                absl::StrCat("the provider of line \"", op.line->line.id(),
                                             "\" carries no audio"));
    }
    // The state after the audio check: a call without audio fails the same
    // way in every state.
    LB_RETURN_IF_ERROR(PrepareCallOp(session_id, call_id, states, v1::CALL_FEATURE_UNSPECIFIED)
                           .status());
    view = View(call_id, op.session);
  }
  CallMedia* media = call_media_.load(std::memory_order_acquire);
  if (media == nullptr) {
    return FailedPrecondition(LINEERR_OPERATIONUNAVAIL, "this server runs no call media");
  }
  LB_RETURN_IF_ERROR(run(media));
  return view;
}

absl::StatusOr<v1::Call> Engine::GenerateTone(const v1::GenerateToneRequest& req) {
  LB_ASSIGN_OR_RETURN(v1::GenerateTone tone, ToneOfRequest(req));
  return MediaCallAction(
      req.session_id(), req.call_id(), {v1::CALL_STATE_CONNECTED, v1::CALL_STATE_CONFERENCED},
      [&](CallMedia* media) {
        if (tone.kind() == v1::TONE_KIND_UNSPECIFIED) {
          return media->CancelTone(req.call_id(), req.session_id());
        }
        return media->GenerateTone(req.call_id(), req.session_id(), tone, req.end_to_end_id());
      });
}

absl::StatusOr<v1::Call> Engine::GatherDigits(const v1::GatherDigitsRequest& req) {
  LB_ASSIGN_OR_RETURN(v1::GatherDigits rules, GatherOfRequest(req));
  // Cancelling is allowed in any state (the call may have left CONNECTED).
  if (req.cancel()) {
    return MediaCallAction(req.session_id(), req.call_id(), {}, [&](CallMedia* media) {
      return media->CancelGather(req.call_id(), req.session_id());
    });
  }
  return MediaCallAction(
      req.session_id(), req.call_id(), {v1::CALL_STATE_CONNECTED, v1::CALL_STATE_CONFERENCED},
      [&](CallMedia* media) {
        return media->GatherDigits(req.call_id(), req.session_id(), rules, req.end_to_end_id());
      });
}

absl::StatusOr<v1::Call> Engine::MonitorTones(const v1::MonitorTonesRequest& req) {
  LB_RETURN_IF_ERROR(CheckMonitorTones(req));
  return MediaCallAction(req.session_id(), req.call_id(), {}, [&](CallMedia* media) {
    return media->MonitorTones(req.call_id(), req.session_id(), req);
  });
}

absl::StatusOr<v1::Call> Engine::MonitorMedia(const v1::MonitorMediaRequest& req) {
  LB_RETURN_IF_ERROR(CheckMonitorMedia(req));
  return MediaCallAction(req.session_id(), req.call_id(), {}, [&](CallMedia* media) {
    return media->MonitorMedia(req.call_id(), req.session_id(), req);
  });
}

absl::StatusOr<v1::Call> Engine::SetMediaMode(const v1::SetMediaModeRequest& req) {
  if (req.media_modes_size() == 0) {
    return InvalidArgument(LINEERR_INVALMEDIAMODE, "media_modes is empty");
  }
  for (int m : req.media_modes()) {
    if (m == v1::MEDIA_MODE_UNSPECIFIED || !v1::MediaMode_IsValid(m)) {
      return InvalidArgument(LINEERR_INVALMEDIAMODE, absl::StrCat("unknown media mode ", m));
    }
  }
  const bool unknown = InList(req.media_modes(), v1::MEDIA_MODE_UNKNOWN);
  if (req.media_modes_size() > 1 && !unknown) {
    return InvalidArgument(LINEERR_INVALMEDIAMODE,
                           "several media modes only together with UNKNOWN");
  }
  const v1::MediaMode mode =
      unknown ? v1::MEDIA_MODE_UNKNOWN : static_cast<v1::MediaMode>(req.media_modes(0));
  return CallAction(req.session_id(), req.call_id(), {}, v1::CALL_FEATURE_UNSPECIFIED,
                    [&](Provider*, const std::string& id) -> absl::Status {
                      mu_.AssertHeld();
                      const CallEntry& c = calls_.find(id)->second;
                      const v1::LineCaps& caps = lines_.find(c.call.info().line_id())->second.line.caps();
                      // A mode the line carries, or one it tells a call is.
                      for (int m : req.media_modes()) {
                        if (m != v1::MEDIA_MODE_UNKNOWN && !InList(caps.media_modes(), m) &&
                            !InList(caps.monitor_media_modes(), m)) {
                          return InvalidArgument(
                              LINEERR_INVALMEDIAMODE,
                              absl::StrCat("line ", c.call.info().line_id(), " has no media mode ",
                                           v1::MediaMode_Name(static_cast<v1::MediaMode>(m))));
                        }
                      }
                      if (c.call.info().media_mode() == mode) return absl::OkStatus();
                      UpdateCallInfo(
                          id, [&](v1::CallInfo* info) { info->set_media_mode(mode); },
                          {"media_mode"});
                      return absl::OkStatus();
                    });
}

void Engine::MediaEvents(std::vector<std::pair<std::string, v1::Event>> events) {
  if (events.empty()) return;
  EngineLock lock(this);
  if (shut_down_) return;
  for (auto& [call_id, ev] : events) {
    auto it = calls_.find(call_id);
    if (it == calls_.end()) continue;
    ev.set_line_id(it->second.call.info().line_id());
    Emit(std::move(ev));
  }
}

}  // namespace linebridge
