// The modem provider through a real engine against the pty modem emulator:
// the fixture the provider's tests share.
#pragma once

#include <stdlib.h>
#include <unistd.h>

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "absl/time/clock.h"
#include "core/engine.h"
#include "providers/builtin.h"
#include "providers/modem/modem_emulator.h"
#include "providers/modem/modem_provider.h"
#include "providers/sim/sim_test_util.h"
#include "linebridge/deadline.h"

namespace linebridge {

class ModemFixture : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/lb-modem-XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
  }
  void TearDown() override {
    engine_.reset();
    emu_.reset();
    ::rmdir(dir_.c_str());
  }

  std::string Link() const { return dir_ + "/ttyEMU0"; }

  void Start(modem::ModemEmulator::Dialect dialect,
             v1::config::ModemProfileSetting profile = v1::config::MODEM_PROFILE_AUTO,
             uint32_t ring_timeout_ms = 2000, uint32_t command_timeout_ms = 2000) {
    emu_ = std::make_unique<modem::ModemEmulator>(dialect, Link());
    v1::config::ModemConfig mc;
    mc.set_name("modem");
    auto* p = mc.add_ports();
    p->set_name("m0");
    p->set_device(Link());
    p->set_profile(profile);
    p->set_number("5550000");
    p->set_ring_timeout_ms(ring_timeout_ms);
    p->set_command_timeout_ms(command_timeout_ms);
    p->set_connect_timeout_ms(5000);
    p->set_retry_interval_ms(100);
    if (configure_) configure_(p);
    mc_ = mc;
    StartEngine();
  }
  // A new engine and provider on the same emulator (a daemon restart).
  void StartEngine() {
    RegisterBuiltinProviders();
    EngineOptions options;
    options.epoch = 7;
    options.disconnected_linger = absl::Seconds(60);
    options.device_config_file = device_config_file_;
    engine_ = std::make_unique<Engine>(options, &sink_);
    ASSERT_TRUE(engine_->AddProvider(std::make_unique<ModemProvider>(mc_)).ok());
  }

  v1::Line Line() {
    v1::GetLineRequest req;
    req.set_line_id(kLine);
    auto l = engine_->GetLine(req);
    return l.ok() ? *l : v1::Line();
  }
  bool WaitLineState(v1::LineState state, absl::Duration timeout = absl::Seconds(10)) {
    const absl::Time deadline = MonotonicNow() + timeout;
    while (MonotonicNow() < deadline) {
      if (Line().status().state() == state) return true;
      absl::SleepFor(absl::Milliseconds(5));
    }
    return false;
  }

  absl::StatusOr<v1::Call> Make(const std::string& dest,
                                v1::MediaMode media = v1::MEDIA_MODE_UNSPECIFIED) {
    v1::MakeCallRequest req;
    req.set_line_id(kLine);
    req.set_destination(dest);
    req.mutable_params()->set_media_mode(media);
    return engine_->MakeCall(req);
  }
  v1::Call Get(const std::string& id) {
    v1::GetCallRequest req;
    req.set_call_id(id);
    auto c = engine_->GetCall(req);
    if (!c.ok()) {
      v1::Call idle;
      idle.mutable_status()->set_state(v1::CALL_STATE_IDLE);
      return idle;
    }
    return *c;
  }
  bool WaitState(const std::string& id, v1::CallState state,
                 absl::Duration timeout = absl::Seconds(10)) {
    const absl::Time deadline = MonotonicNow() + timeout;
    while (MonotonicNow() < deadline) {
      if (Get(id).status().state() == state) return true;
      absl::SleepFor(absl::Milliseconds(5));
    }
    return false;
  }
  // The one call on the line, waiting for it to appear.
  std::string WaitCall(absl::Duration timeout = absl::Seconds(10)) {
    const absl::Time deadline = MonotonicNow() + timeout;
    while (MonotonicNow() < deadline) {
      v1::ListCallsRequest req;
      req.set_line_id(kLine);
      auto calls = engine_->ListCalls(req);
      if (calls.ok() && calls->calls_size() > 0) return calls->calls(0).id();
      absl::SleepFor(absl::Milliseconds(5));
    }
    return "";
  }
  v1::CallActionRequest Action(const std::string& id) {
    v1::CallActionRequest req;
    req.set_call_id(id);
    return req;
  }
  std::vector<std::string> DigitsSince(uint64_t seq, const std::string& call_id) {
    std::vector<EventPtr> raw;
    engine_->journal().Read(seq + 1, 1 << 20, &raw);
    std::vector<std::string> out;
    for (const auto& e : raw) {
      if (e->has_digit() && e->digit().call_id() == call_id) out.push_back(e->digit().digit());
    }
    return out;
  }

  static constexpr char kLine[] = "modem/m0";
  // Changes the port's config before Start creates the provider.
  std::function<void(v1::config::ModemPort*)> configure_;
  // EngineOptions::device_config_file of the engines Start makes ("": none).
  std::string device_config_file_;
  v1::config::ModemConfig mc_;
  std::string dir_;
  testing::RecordingSink sink_;
  std::unique_ptr<modem::ModemEmulator> emu_;
  std::unique_ptr<Engine> engine_;
};

}  // namespace linebridge
