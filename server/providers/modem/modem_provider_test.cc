// The modem provider through the engine, against the pty modem emulator
// (V.253 voice and 3GPP 27.007 dialects): real ttys, real termios, the real
// I/O threads and command queue.
#include "providers/modem/modem_provider.h"

#include <stdlib.h>
#include <unistd.h>

#include <memory>
#include <string>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "core/engine.h"
#include "linebridge/lineerr.h"
#include "providers/builtin.h"
#include "providers/modem/modem_emulator.h"
#include "providers/sim/sim_test_util.h"
#include "providers/modem/testing/modem_fixture.h"
#include "linebridge/deadline.h"

namespace linebridge {
namespace {

using modem::ModemEmulator;
using ::testing::HasSubstr;
using testing::IsTapiError;

// The modem's metrics counter `name` (the fixture has one port).
uint64_t CounterOf(Engine& engine, const std::string& name) {
  for (const ProviderCounter& c : engine.TakeFigures().provider_counters) {
    if (c.name == name) return c.value;
  }
  ADD_FAILURE() << "no counter " << name;
  return 0;
}


TEST_F(ModemFixture, V253ProbedLineInServiceWithVoiceCaps) {
  Start(ModemEmulator::Dialect::kV253);
  ASSERT_TRUE(WaitLineState(v1::LINE_STATE_IN_SERVICE));
  const v1::Line line = Line();
  EXPECT_EQ(line.caps().permanent_line_id(), PermanentLineId(Link()));
  EXPECT_THAT(line.caps().provider_info(), HasSubstr("v253"));
  EXPECT_THAT(line.caps().media_modes(),
              ::testing::Contains(static_cast<int>(v1::MEDIA_MODE_INTERACTIVE_VOICE)));
  EXPECT_TRUE(line.caps().can_generate_digits());
  EXPECT_TRUE(line.caps().can_monitor_digits());
  EXPECT_EQ(line.addresses(0).address(), "5550000");
  EXPECT_TRUE(emu_->SawCommand("ATE0"));
  EXPECT_TRUE(emu_->SawCommand("AT+FCLASS=?"));
  EXPECT_TRUE(emu_->SawCommand("AT+FCLASS=8"));
  EXPECT_TRUE(emu_->SawCommand("AT+VCID=1"));
}

TEST_F(ModemFixture, V253OutboundConnectsAndDropHangsUp) {
  Start(ModemEmulator::Dialect::kV253);
  ASSERT_TRUE(WaitLineState(v1::LINE_STATE_IN_SERVICE));
  auto call = Make("555-1234");
  ASSERT_TRUE(call.ok()) << call.status();
  EXPECT_EQ(call->status().state(), v1::CALL_STATE_DIALING);
  ASSERT_TRUE(WaitState(call->id(), v1::CALL_STATE_CONNECTED));
  EXPECT_TRUE(emu_->SawCommand("ATDT5551234"));
  // A second call while one is up is refused.
  EXPECT_THAT(Make("1"), IsTapiError(absl::StatusCode::kResourceExhausted, LINEERR_CALLUNAVAIL));
  ASSERT_TRUE(engine_->Drop(Action(call->id())).ok());
  EXPECT_TRUE(emu_->WaitCommand("ATH"));
  EXPECT_EQ(Get(call->id()).status().state(), v1::CALL_STATE_IDLE);
}

TEST_F(ModemFixture, DialStringInjectionRefusedBeforeTheModem) {
  Start(ModemEmulator::Dialect::kV253);
  ASSERT_TRUE(WaitLineState(v1::LINE_STATE_IN_SERVICE));
  const size_t before = emu_->commands().size();
  for (const char* bad : {"123;ATH", "12\r\nATZ", "AT", "5551234;", "12\x01" "3", "+15551234",
                          "555$", "12ATD3", ""}) {
    EXPECT_THAT(Make(bad), IsTapiError(absl::StatusCode::kInvalidArgument, LINEERR_INVALADDRESS))
        << absl::CEscape(bad);
  }
  absl::SleepFor(absl::Milliseconds(100));
  EXPECT_EQ(emu_->commands().size(), before);
}

TEST_F(ModemFixture, V253DialFailuresMapToDisconnectModes) {
  Start(ModemEmulator::Dialect::kV253);
  ASSERT_TRUE(WaitLineState(v1::LINE_STATE_IN_SERVICE));
  const std::pair<const char*, v1::DisconnectMode> cases[] = {
      {"BUSY", v1::DISCONNECT_MODE_BUSY},
      {"NO ANSWER", v1::DISCONNECT_MODE_NOANSWER},
      {"NO DIALTONE", v1::DISCONNECT_MODE_NODIALTONE},
      {"ERROR", v1::DISCONNECT_MODE_UNAVAIL},
      {"NO CARRIER", v1::DISCONNECT_MODE_UNREACHABLE},
  };
  for (const auto& [result, mode] : cases) {
    emu_->SetDialResult(result);
    auto call = Make("5551234");
    ASSERT_TRUE(call.ok()) << call.status();
    ASSERT_TRUE(WaitState(call->id(), v1::CALL_STATE_DISCONNECTED)) << result;
    EXPECT_EQ(Get(call->id()).status().disconnect_mode(), mode) << result;
    ASSERT_TRUE(engine_->Drop(Action(call->id())).ok());
  }
}

TEST_F(ModemFixture, V253InboundCallerIdAnswerDtmfAndRemoteHangup) {
  Start(ModemEmulator::Dialect::kV253);
  ASSERT_TRUE(WaitLineState(v1::LINE_STATE_IN_SERVICE));
  emu_->StartRinging("5551234", "ALICE");
  const std::string id = WaitCall();
  ASSERT_FALSE(id.empty());
  EXPECT_EQ(Get(id).status().state(), v1::CALL_STATE_OFFERING);
  // The caller-id block follows the first RING.
  const absl::Time deadline = MonotonicNow() + absl::Seconds(5);
  while (Get(id).info().caller().name() != "ALICE" && MonotonicNow() < deadline) {
    absl::SleepFor(absl::Milliseconds(5));
  }
  EXPECT_EQ(Get(id).info().caller().number(), "5551234");
  EXPECT_EQ(Get(id).info().caller().name(), "ALICE");
  ASSERT_TRUE(engine_->Answer(Action(id)).ok());
  ASSERT_TRUE(WaitState(id, v1::CALL_STATE_CONNECTED));
  EXPECT_TRUE(emu_->SawCommand("ATA"));

  v1::MonitorDigitsRequest mon;
  mon.set_call_id(id);
  mon.add_modes(v1::DIGIT_MODE_DTMF);
  ASSERT_TRUE(engine_->MonitorDigits(mon).ok());
  const uint64_t seq = engine_->journal().last_sequence();
  emu_->Send("\r\nDTMF=5\r\n\r\nDTMF=#\r\n");
  const absl::Time d2 = absl::Now() + absl::Seconds(5);
  while (DigitsSince(seq, id).size() < 2 && absl::Now() < d2) absl::SleepFor(absl::Milliseconds(5));
  EXPECT_THAT(DigitsSince(seq, id), ::testing::ElementsAre("5", "#"));

  v1::GenerateDigitsRequest gen;
  gen.set_call_id(id);
  gen.set_digits("12#");
  gen.set_mode(v1::DIGIT_MODE_DTMF);
  ASSERT_TRUE(engine_->GenerateDigits(gen).ok());
  EXPECT_TRUE(emu_->WaitCommand("AT+VTS=1,2,#"));

  emu_->RemoteHangup();
  ASSERT_TRUE(WaitState(id, v1::CALL_STATE_DISCONNECTED));
  EXPECT_EQ(Get(id).status().disconnect_mode(), v1::DISCONNECT_MODE_NORMAL);
}

TEST_F(ModemFixture, CallerAbandonsWhenRingsStop) {
  Start(ModemEmulator::Dialect::kV253, v1::config::MODEM_PROFILE_AUTO, /*ring_timeout_ms=*/2000);
  ASSERT_TRUE(WaitLineState(v1::LINE_STATE_IN_SERVICE));
  emu_->StartRinging("5551234", "BOB");
  const std::string id = WaitCall();
  ASSERT_FALSE(id.empty());
  absl::SleepFor(absl::Milliseconds(700));  // a few rings
  emu_->StopRinging();
  EXPECT_EQ(Get(id).status().state(), v1::CALL_STATE_OFFERING);
  ASSERT_TRUE(WaitState(id, v1::CALL_STATE_DISCONNECTED, absl::Seconds(5)));
  EXPECT_EQ(Get(id).status().disconnect_mode(), v1::DISCONNECT_MODE_CANCELLED);
}

TEST_F(ModemFixture, RejectingAnOfferedCallHangsUp) {
  Start(ModemEmulator::Dialect::kV253);
  ASSERT_TRUE(WaitLineState(v1::LINE_STATE_IN_SERVICE));
  emu_->StartRinging("5551234", "EVE");
  const std::string id = WaitCall();
  ASSERT_FALSE(id.empty());
  ASSERT_TRUE(engine_->Drop(Action(id)).ok());
  EXPECT_TRUE(emu_->WaitCommand("ATH"));
  EXPECT_EQ(Get(id).status().state(), v1::CALL_STATE_IDLE);
}

TEST_F(ModemFixture, Gpp27007OutboundProceedingRingbackConnected) {
  Start(ModemEmulator::Dialect::k3gpp);
  ASSERT_TRUE(WaitLineState(v1::LINE_STATE_IN_SERVICE));
  EXPECT_THAT(Line().caps().provider_info(), HasSubstr("3gpp"));
  EXPECT_TRUE(emu_->SawCommand("AT+CLIP=1"));
  EXPECT_TRUE(emu_->SawCommand("AT+CRC=1"));
  EXPECT_TRUE(emu_->SawCommand("AT+CMEE=1"));
  auto call = Make("5551234");
  ASSERT_TRUE(call.ok()) << call.status();
  ASSERT_TRUE(WaitState(call->id(), v1::CALL_STATE_RINGBACK));
  EXPECT_TRUE(emu_->SawCommand("ATD5551234;"));
  emu_->RemoteAnswer();
  ASSERT_TRUE(WaitState(call->id(), v1::CALL_STATE_CONNECTED));
  v1::GenerateDigitsRequest gen;
  gen.set_call_id(call->id());
  gen.set_digits("9*");
  gen.set_mode(v1::DIGIT_MODE_DTMF);
  ASSERT_TRUE(engine_->GenerateDigits(gen).ok());
  EXPECT_TRUE(emu_->WaitCommand("AT+VTS=*"));
  EXPECT_TRUE(emu_->SawCommand("AT+VTS=9"));
  ASSERT_TRUE(engine_->Drop(Action(call->id())).ok());
  EXPECT_TRUE(emu_->WaitCommand("AT+CHUP"));
}

TEST_F(ModemFixture, Gpp27007InboundClipAnswerRemoteHangup) {
  Start(ModemEmulator::Dialect::k3gpp);
  ASSERT_TRUE(WaitLineState(v1::LINE_STATE_IN_SERVICE));
  emu_->StartRinging("+4930123", "CAROL");
  const std::string id = WaitCall();
  ASSERT_FALSE(id.empty());
  EXPECT_EQ(Get(id).info().caller().number(), "+4930123");
  EXPECT_EQ(Get(id).info().caller().name(), "CAROL");
  ASSERT_TRUE(engine_->Answer(Action(id)).ok());
  ASSERT_TRUE(WaitState(id, v1::CALL_STATE_CONNECTED));
  emu_->RemoteHangup();
  ASSERT_TRUE(WaitState(id, v1::CALL_STATE_DISCONNECTED));
}

TEST_F(ModemFixture, FragmentedReadsWithInterleavedUrcs) {
  Start(ModemEmulator::Dialect::k3gpp);
  emu_->SetFragmented(true, true);
  ASSERT_TRUE(WaitLineState(v1::LINE_STATE_IN_SERVICE));
  EXPECT_THAT(Line().caps().provider_info(), HasSubstr("3gpp"));
  auto call = Make("5551234");
  ASSERT_TRUE(call.ok());
  ASSERT_TRUE(WaitState(call->id(), v1::CALL_STATE_RINGBACK));
  emu_->RemoteAnswer();
  ASSERT_TRUE(WaitState(call->id(), v1::CALL_STATE_CONNECTED));
}

TEST_F(ModemFixture, GarbageAndOverlongLinesSurvived) {
  Start(ModemEmulator::Dialect::kV253);
  ASSERT_TRUE(WaitLineState(v1::LINE_STATE_IN_SERVICE));
  emu_->Send(std::string(5000, 'x'));
  emu_->Send("\r\n\x01\x02\xff garbage\r\nOK\r\nERROR\r\n+XYZ: 1\r\n");
  // The garbage arrives while the modem is idle (stray final results during
  // a command would be taken as its answer, as from a real modem).
  absl::SleepFor(absl::Milliseconds(200));
  auto call = Make("5551234");
  ASSERT_TRUE(call.ok());
  ASSERT_TRUE(WaitState(call->id(), v1::CALL_STATE_CONNECTED));
  EXPECT_EQ(Line().status().state(), v1::LINE_STATE_IN_SERVICE);
}

TEST_F(ModemFixture, PortVanishesAndReturns) {
  Start(ModemEmulator::Dialect::kV253);
  ASSERT_TRUE(WaitLineState(v1::LINE_STATE_IN_SERVICE));
  auto call = Make("5551234");
  ASSERT_TRUE(call.ok());
  ASSERT_TRUE(WaitState(call->id(), v1::CALL_STATE_CONNECTED));
  emu_->Vanish();
  ASSERT_TRUE(WaitState(call->id(), v1::CALL_STATE_DISCONNECTED));
  EXPECT_EQ(Get(call->id()).status().disconnect_mode(), v1::DISCONNECT_MODE_OUTOFORDER);
  ASSERT_TRUE(WaitLineState(v1::LINE_STATE_OUT_OF_SERVICE));
  EXPECT_THAT(Make("5551234"),
              IsTapiError(absl::StatusCode::kFailedPrecondition, LINEERR_INVALLINESTATE));
  absl::SleepFor(absl::Milliseconds(300));  // a few failed reopen attempts
  emu_->Return();
  ASSERT_TRUE(WaitLineState(v1::LINE_STATE_IN_SERVICE));
  EXPECT_EQ(CounterOf(*engine_, "modem_device_losses_total"), 1u);
  EXPECT_EQ(CounterOf(*engine_, "modem_resets_total"), 0u);
  EXPECT_EQ(CounterOf(*engine_, "modem_probes_total"), 2u);  // at start, after the return
  ASSERT_TRUE(engine_->Drop(Action(call->id())).ok());
  auto again = Make("5551234");
  ASSERT_TRUE(again.ok()) << again.status();
  ASSERT_TRUE(WaitState(again->id(), v1::CALL_STATE_CONNECTED));
}

TEST_F(ModemFixture, MissingDeviceAtStartIsOutOfServiceUntilItAppears) {
  emu_ = nullptr;
  v1::config::ModemConfig mc;
  auto* p = mc.add_ports();
  p->set_name("m0");
  p->set_device(Link());
  p->set_retry_interval_ms(100);
  RegisterBuiltinProviders();
  engine_ = std::make_unique<Engine>(EngineOptions{}, &sink_);
  ASSERT_TRUE(engine_->AddProvider(std::make_unique<ModemProvider>(mc)).ok());
  EXPECT_EQ(Line().status().state(), v1::LINE_STATE_OUT_OF_SERVICE);
  absl::SleepFor(absl::Milliseconds(250));
  EXPECT_EQ(Line().status().state(), v1::LINE_STATE_OUT_OF_SERVICE);
  emu_ = std::make_unique<ModemEmulator>(ModemEmulator::Dialect::kV253, Link());
  ASSERT_TRUE(WaitLineState(v1::LINE_STATE_IN_SERVICE));
}

TEST_F(ModemFixture, UnresponsiveModemIsResetAndProbedAgain) {
  Start(ModemEmulator::Dialect::kV253, v1::config::MODEM_PROFILE_AUTO, 2000,
        /*command_timeout_ms=*/300);
  ASSERT_TRUE(WaitLineState(v1::LINE_STATE_IN_SERVICE));
  emu_->SetMute(true);
  // The voice call's AT+FCLASS=8 gets no answer.
  auto call = Make("5551234", v1::MEDIA_MODE_INTERACTIVE_VOICE);
  ASSERT_TRUE(call.ok());
  ASSERT_TRUE(WaitState(call->id(), v1::CALL_STATE_DISCONNECTED));
  EXPECT_EQ(Get(call->id()).status().disconnect_mode(), v1::DISCONNECT_MODE_OUTOFORDER);
  ASSERT_TRUE(WaitLineState(v1::LINE_STATE_OUT_OF_SERVICE));
  emu_->SetMute(false);
  ASSERT_TRUE(WaitLineState(v1::LINE_STATE_IN_SERVICE));
  EXPECT_EQ(CounterOf(*engine_, "modem_resets_total"), 1u);
  EXPECT_GE(CounterOf(*engine_, "modem_probes_total"), 2u);
  EXPECT_EQ(CounterOf(*engine_, "modem_device_losses_total"), 0u);
}

TEST_F(ModemFixture, ForcedHayesProfileRefusesVoiceAndDigits) {
  Start(ModemEmulator::Dialect::kV253, v1::config::MODEM_PROFILE_HAYES);
  ASSERT_TRUE(WaitLineState(v1::LINE_STATE_IN_SERVICE));
  EXPECT_FALSE(Line().caps().can_generate_digits());
  EXPECT_THAT(Make("5551234", v1::MEDIA_MODE_INTERACTIVE_VOICE),
              IsTapiError(absl::StatusCode::kInvalidArgument, LINEERR_INVALMEDIAMODE));
  auto call = Make("5551234", v1::MEDIA_MODE_G3FAX);
  ASSERT_TRUE(call.ok());
  EXPECT_TRUE(emu_->WaitCommand("AT+FCLASS=1"));
}

TEST_F(ModemFixture, DataCallDropEscapesToCommandStateBeforeHangingUp) {
  Start(ModemEmulator::Dialect::kV253, v1::config::MODEM_PROFILE_HAYES);
  ASSERT_TRUE(WaitLineState(v1::LINE_STATE_IN_SERVICE));
  emu_->SetDialResult("CONNECT 33600");
  auto call = Make("5551234", v1::MEDIA_MODE_DATAMODEM);
  ASSERT_TRUE(call.ok());
  ASSERT_TRUE(WaitState(call->id(), v1::CALL_STATE_CONNECTED));
  EXPECT_TRUE(emu_->SawCommand("AT+FCLASS=0"));
  ASSERT_TRUE(engine_->Drop(Action(call->id())).ok());
  // While the escape's guard time runs the line takes no new call.
  EXPECT_THAT(Make("1"), IsTapiError(absl::StatusCode::kResourceExhausted, LINEERR_CALLUNAVAIL));
  ASSERT_TRUE(emu_->WaitCommand("ATH"));
  const std::vector<std::string> cmds = emu_->commands();
  const auto escape = std::find(cmds.begin(), cmds.end(), "+++");
  ASSERT_NE(escape, cmds.end());
  EXPECT_LT(escape - cmds.begin(), std::find(cmds.begin(), cmds.end(), "ATH") - cmds.begin());
}

TEST_F(ModemFixture, FailingInitKeepsTheLineOutOfServiceAndIsRetried) {
  emu_ = std::make_unique<ModemEmulator>(ModemEmulator::Dialect::kV253, Link());
  emu_->SetFailCommand("ATV1Q0");  // the first of the profile's default init strings
  v1::config::ModemConfig mc;
  auto* p = mc.add_ports();
  p->set_name("m0");
  p->set_device(Link());
  p->set_retry_interval_ms(100);
  RegisterBuiltinProviders();
  engine_ = std::make_unique<Engine>(EngineOptions{}, &sink_);
  ASSERT_TRUE(engine_->AddProvider(std::make_unique<ModemProvider>(mc)).ok());
  const absl::Time deadline = MonotonicNow() + absl::Seconds(10);
  while (emu_->CountCommand("ATV1Q0") < 3 && MonotonicNow() < deadline) {
    absl::SleepFor(absl::Milliseconds(10));
  }
  EXPECT_GE(emu_->CountCommand("ATV1Q0"), 3);
  EXPECT_EQ(Line().status().state(), v1::LINE_STATE_OUT_OF_SERVICE);
  emu_->SetFailCommand("");
  ASSERT_TRUE(WaitLineState(v1::LINE_STATE_IN_SERVICE));
}

TEST(ModemProviderReload, SamePortsAcceptedChangedPortsNeedARestart) {
  v1::config::ProviderConfig pc;
  auto* p = pc.mutable_modem()->add_ports();
  p->set_name("m0");
  p->set_device("/dev/null-modem-test");
  ModemProvider provider(pc.modem());
  EXPECT_TRUE(provider.Reconfigure(pc).ok());
  pc.mutable_modem()->mutable_ports(0)->set_baud(9600);
  EXPECT_THAT(provider.Reconfigure(pc),
              IsTapiError(absl::StatusCode::kFailedPrecondition, LINEERR_OPERATIONUNAVAIL));
}

}  // namespace
}  // namespace linebridge
