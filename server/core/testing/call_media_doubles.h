// Test doubles for the call media RPCs: a provider whose calls carry no
// audio, and a CallMedia that records what the engine hands it.
#pragma once

#include <string>
#include <vector>

#include "absl/synchronization/mutex.h"
#include "core/call_media.h"
#include "core/provider.h"

namespace linebridge::testing {

// One line, "quiet/1", whose MakeCall connects at once; no audio.
class QuietProvider : public Provider {
 public:
  absl::string_view type() const override { return "quiet"; }
  absl::string_view name() const override { return "quiet"; }
  absl::Status Start(ProviderHost& host) override {
    host_ = &host;
    v1::Line line;
    line.set_id("quiet/1");
    line.set_name("Quiet");
    line.set_provider("quiet");
    line.mutable_caps()->add_media_modes(v1::MEDIA_MODE_INTERACTIVE_VOICE);
    v1::Address* a = line.add_addresses();
    a->set_address("1");
    a->mutable_caps()->add_address_features(v1::ADDRESS_FEATURE_MAKECALL);
    a->mutable_caps()->add_call_features(v1::CALL_FEATURE_DROP);
    host.AddLine(line);
    return absl::OkStatus();
  }
  absl::StatusOr<std::string> MakeCall(const std::string& line_id, uint32_t, const std::string&,
                                       const v1::CallParams&) override {
    v1::CallInfo info;
    info.set_line_id(line_id);
    info.set_origin(v1::CALL_ORIGIN_OUTBOUND);
    return host_->CreateCall(info, Connected());
  }
  absl::Status Drop(const std::string& call_id, const std::string&) override {
    host_->SetCallState(call_id, MakeStatus(v1::CALL_STATE_IDLE));
    return absl::OkStatus();
  }

 private:
  ProviderHost* host_ = nullptr;
};

// Records each request as "<op> <call> <session> <detail>".
class RecordingCallMedia : public CallMedia {
 public:
  absl::Status GenerateTone(const std::string& call, const std::string& session,
                            const v1::GenerateTone& tone, uint32_t id) override {
    return Add("tone " + call + " " + session + " " + tone.ShortDebugString() + " id=" +
               std::to_string(id));
  }
  absl::Status CancelTone(const std::string& call, const std::string& session) override {
    return Add("cancel-tone " + call + " " + session);
  }
  absl::Status GatherDigits(const std::string& call, const std::string& session,
                            const v1::GatherDigits& rules, uint32_t id) override {
    return Add("gather " + call + " " + session + " " + rules.ShortDebugString() + " id=" +
               std::to_string(id));
  }
  absl::Status CancelGather(const std::string& call, const std::string& session) override {
    return Add("cancel-gather " + call + " " + session);
  }
  absl::Status MonitorTones(const std::string& call, const std::string& session,
                            const v1::MonitorTonesRequest& req) override {
    return Add("tones " + call + " " + session + " n=" + std::to_string(req.tones_size()));
  }
  absl::Status MonitorMedia(const std::string& call, const std::string& session,
                            const v1::MonitorMediaRequest& req) override {
    return Add("media " + call + " " + session + " n=" + std::to_string(req.modes_size()));
  }
  std::vector<std::string> calls() {
    absl::MutexLock lock(&mu_);
    return calls_;
  }

 private:
  absl::Status Add(std::string s) {
    absl::MutexLock lock(&mu_);
    calls_.push_back(std::move(s));
    return absl::OkStatus();
  }
  absl::Mutex mu_;
  std::vector<std::string> calls_ ABSL_GUARDED_BY(mu_);
};

}  // namespace linebridge::testing
