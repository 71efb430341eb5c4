// A modem line's device configuration (GetDevConfig / SetDevConfig) through
// the engine against the pty modem emulator: the AT commands each setting
// sends, at bring-up and when changed (at once when idle, after the call
// otherwise), the checks, and the settings surviving a restart.
#include <unistd.h>

#include <fstream>
#include <sstream>
#include <string>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "core/engine.h"
#include "linebridge/lineerr.h"
#include "providers/modem/modem_settings.h"
#include "providers/modem/testing/modem_fixture.h"

namespace linebridge {
namespace {

using modem::ModemEmulator;
using testing::IsTapiError;

v1::SetDevConfigRequest SetRequest(const v1::ModemSettings& s) {
  v1::SetDevConfigRequest req;
  req.set_line_id("modem/m0");
  *req.mutable_config()->mutable_modem() = s;
  return req;
}

v1::ModemSettings Changed() {
  v1::ModemSettings s;
  s.set_call_setup_fail_timer_s(45);
  s.set_inactivity_timeout_s(95);
  s.set_speaker_volume(v1::MODEM_SPEAKER_VOLUME_HIGH);
  s.set_speaker_mode(v1::MODEM_SPEAKER_MODE_OFF);
  s.set_blind_dial(true);
  s.set_error_control(v1::MODEM_ERROR_CONTROL_FORCED);
  s.set_compression(false);
  s.set_flow_control(v1::MODEM_FLOW_CONTROL_HARDWARE);
  s.set_dte_rate(57600);
  s.set_manual_dial(true);
  return s;
}

const char* const kChangedCommands[] = {"ATL3",        "ATM0",      "ATX3",  "ATS7=45", "ATS30=10",
                                        "AT+ES=3,3,4", "AT+DS=0,0", "AT&K3"};

TEST(ModemSettings, CommandsAndDefaults) {
  v1::config::ModemPort port;
  port.set_baud(38400);
  const v1::ModemSettings d = modem::DefaultModemSettings(port);
  EXPECT_EQ(d.dte_rate(), 38400u);
  EXPECT_THAT(modem::ModemSettingsCommands(d, at::ModemProfile::kHayesData),
              ::testing::ElementsAre("ATL1", "ATM1", "ATX4", "ATS7=60", "ATS30=0", "AT+ES=3,0,2",
                                     "AT+DS=3,0", "AT&K0"));
  EXPECT_TRUE(modem::ModemSettingsCommands(d, at::ModemProfile::k3gppCellular).empty());
  auto n = modem::NormalizeModemSettings(Changed(), port);
  ASSERT_TRUE(n.ok()) << n.status();
  EXPECT_THAT(modem::ModemSettingsCommands(*n, at::ModemProfile::kV253Voice),
              ::testing::ElementsAreArray(kChangedCommands));
  // Unset fields take their documented values.
  EXPECT_EQ(n->data_bits(), 8u);
  EXPECT_EQ(n->parity(), v1::MODEM_PARITY_NONE);
  EXPECT_EQ(n->stop_bits(), v1::MODEM_STOP_BITS_ONE);
}

TEST(ModemSettings, RangesChecked) {
  v1::config::ModemPort port;
  auto bad = [&](auto edit) {
    v1::ModemSettings s = Changed();
    edit(s);
    return modem::NormalizeModemSettings(s, port).status();
  };
  const absl::StatusCode kInvalid = absl::StatusCode::kInvalidArgument;
  EXPECT_THAT(bad([](auto& s) { s.set_call_setup_fail_timer_s(256); }),
              IsTapiError(kInvalid, LINEERR_INVALPARAM));
  EXPECT_THAT(bad([](auto& s) { s.set_inactivity_timeout_s(2551); }),
              IsTapiError(kInvalid, LINEERR_INVALPARAM));
  EXPECT_THAT(bad([](auto& s) { s.set_dte_rate(299); }), IsTapiError(kInvalid, LINEERR_INVALPARAM));
  EXPECT_THAT(bad([](auto& s) { s.set_data_bits(9); }), IsTapiError(kInvalid, LINEERR_INVALPARAM));
  EXPECT_THAT(bad([](auto& s) { s.set_wait_bong_s(256); }), IsTapiError(kInvalid, LINEERR_INVALPARAM));
  EXPECT_THAT(bad([](auto& s) { s.set_speaker_mode(static_cast<v1::ModemSpeakerMode>(9)); }),
              IsTapiError(kInvalid, LINEERR_INVALPARAM));
  EXPECT_TRUE(bad([](auto& s) { s.set_inactivity_timeout_s(2550); }).ok());
}

TEST_F(ModemFixture, DefaultSettingsSentAtBringupAndShown) {
  Start(ModemEmulator::Dialect::kV253);
  ASSERT_TRUE(WaitLineState(v1::LINE_STATE_IN_SERVICE));
  for (const char* c : {"ATL1", "ATM1", "ATX4", "ATS7=60", "ATS30=0", "AT+ES=3,0,2", "AT+DS=3,0"}) {
    EXPECT_TRUE(emu_->SawCommand(c)) << c;
  }
  const v1::Line line = Line();
  ASSERT_TRUE(line.device_config().has_modem());
  EXPECT_EQ(line.device_config().modem().call_setup_fail_timer_s(), 60u);
  v1::GetDevConfigRequest get;
  get.set_line_id(kLine);
  auto got = engine_->GetDevConfig(get);
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_EQ(got->SerializeAsString(), line.device_config().SerializeAsString());
}

TEST_F(ModemFixture, SetDevConfigSendsCommandsAndSurvivesRestart) {
  device_config_file_ = dir_ + "/device-config.textproto";
  Start(ModemEmulator::Dialect::kV253);
  ASSERT_TRUE(WaitLineState(v1::LINE_STATE_IN_SERVICE));
  const uint64_t seq = engine_->journal().last_sequence();
  auto stored = engine_->SetDevConfig(SetRequest(Changed()));
  ASSERT_TRUE(stored.ok()) << stored.status();
  EXPECT_EQ(stored->modem().data_bits(), 8u);  // filled
  EXPECT_TRUE(stored->modem().manual_dial());
  for (const char* c : kChangedCommands) EXPECT_TRUE(emu_->WaitCommand(c)) << c;
  // Shown on the line and announced.
  EXPECT_EQ(Line().device_config().SerializeAsString(), stored->SerializeAsString());
  std::vector<EventPtr> events;
  engine_->journal().Read(seq + 1, 1 << 20, &events);
  int announced = 0;
  for (const auto& e : events) {
    if (e->has_device_config() && e->line_id() == kLine) {
      ++announced;
      EXPECT_EQ(e->device_config().config().SerializeAsString(), stored->SerializeAsString());
    }
  }
  EXPECT_EQ(announced, 1);
  {
    std::ifstream in(device_config_file_);
    std::stringstream text;
    text << in.rdbuf();
    EXPECT_THAT(text.str(), ::testing::HasSubstr("call_setup_fail_timer_s: 45"));
  }
  // A restart: the new engine's provider sends the stored settings again.
  engine_.reset();
  StartEngine();
  ASSERT_TRUE(WaitLineState(v1::LINE_STATE_IN_SERVICE));
  EXPECT_EQ(Line().device_config().SerializeAsString(), stored->SerializeAsString());
  for (const char* c : kChangedCommands) EXPECT_EQ(emu_->CountCommand(c), 2) << c;
  engine_.reset();
  ::unlink(device_config_file_.c_str());
}

TEST_F(ModemFixture, SetDuringACallWaitsForTheHangup) {
  Start(ModemEmulator::Dialect::kV253);
  ASSERT_TRUE(WaitLineState(v1::LINE_STATE_IN_SERVICE));
  auto call = Make("5551234");
  ASSERT_TRUE(call.ok()) << call.status();
  ASSERT_TRUE(WaitState(call->id(), v1::CALL_STATE_CONNECTED));
  ASSERT_TRUE(engine_->SetDevConfig(SetRequest(Changed())).ok());
  absl::SleepFor(absl::Milliseconds(100));  // nothing may go to a modem in a call
  EXPECT_EQ(emu_->CountCommand("ATL3"), 0);
  ASSERT_TRUE(engine_->Drop(Action(call->id())).ok());
  EXPECT_TRUE(emu_->WaitCommand("ATH"));
  for (const char* c : kChangedCommands) EXPECT_TRUE(emu_->WaitCommand(c)) << c;
  // After the hang-up, not before it.
  const auto commands = emu_->commands();
  const auto hangup = std::find(commands.begin(), commands.end(), "ATH");
  const auto volume = std::find(commands.begin(), commands.end(), "ATL3");
  EXPECT_LT(hangup - commands.begin(), volume - commands.begin());
}

TEST_F(ModemFixture, SetDevConfigChecks) {
  Start(ModemEmulator::Dialect::kV253);
  ASSERT_TRUE(WaitLineState(v1::LINE_STATE_IN_SERVICE));
  const absl::StatusCode kInvalid = absl::StatusCode::kInvalidArgument;
  v1::ModemSettings bad = Changed();
  bad.set_call_setup_fail_timer_s(300);
  EXPECT_THAT(engine_->SetDevConfig(SetRequest(bad)), IsTapiError(kInvalid, LINEERR_INVALPARAM));
  v1::SetDevConfigRequest opaque;
  opaque.set_line_id(kLine);
  opaque.mutable_config()->set_opaque("x");
  EXPECT_THAT(engine_->SetDevConfig(opaque), IsTapiError(kInvalid, LINEERR_INVALPARAM));
  v1::SetDevConfigRequest none;
  none.set_line_id(kLine);
  EXPECT_THAT(engine_->SetDevConfig(none), IsTapiError(kInvalid, LINEERR_INVALPARAM));
  v1::SetDevConfigRequest unknown = SetRequest(Changed());
  unknown.set_line_id("modem/nope");
  EXPECT_THAT(engine_->SetDevConfig(unknown),
              IsTapiError(absl::StatusCode::kNotFound, LINEERR_BADDEVICEID));
  unknown.set_line_id("");
  EXPECT_THAT(engine_->SetDevConfig(unknown), IsTapiError(kInvalid, LINEERR_BADDEVICEID));
  // Refused settings changed nothing.
  EXPECT_EQ(Line().device_config().modem().call_setup_fail_timer_s(), 60u);
  EXPECT_EQ(emu_->CountCommand("ATS7=300"), 0);
}

}  // namespace
}  // namespace linebridge
