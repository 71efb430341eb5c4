// Modem calls end and begin right in every service class, against the pty
// modem emulator: hang-up from data, fax and voice states on both sides,
// recovery of a modem stuck online, answering by the offered media mode,
// hanging up after a failed dial, and call records that end at the
// disconnect.
#include <algorithm>
#include <optional>
#include <string>
#include <vector>

#include "providers/modem/testing/modem_fixture.h"
#include "linebridge/deadline.h"

namespace linebridge {
namespace {

using modem::ModemEmulator;

class ModemCalls : public ModemFixture {
 protected:
  // Position of the first `command` at or after `from` in the emulator's log.
  std::optional<size_t> Find(const std::string& command, size_t from = 0) {
    const std::vector<std::string> cmds = emu_->commands();
    for (size_t i = from; i < cmds.size(); ++i) {
      if (cmds[i] == command) return i;
    }
    return std::nullopt;
  }
  // Waits until `command` appears at or after `from`; its position.
  std::optional<size_t> WaitFind(const std::string& command, size_t from,
                                 absl::Duration timeout = absl::Seconds(5)) {
    const absl::Time deadline = MonotonicNow() + timeout;
    while (MonotonicNow() < deadline) {
      if (auto i = Find(command, from)) return i;
      absl::SleepFor(absl::Milliseconds(5));
    }
    return std::nullopt;
  }
  v1::MediaMode MediaOf(const std::string& id) { return Get(id).info().media_mode(); }
  // The media mode the CONNECTED call_state event of `id` carried.
  v1::MediaMode ConnectedEventMedia(const std::string& id) {
    std::vector<EventPtr> raw;
    engine_->journal().Read(1, 1 << 20, &raw);
    for (const auto& e : raw) {
      if (e->has_call_state() && e->call_state().call_id() == id &&
          e->call_state().status().state() == v1::CALL_STATE_CONNECTED) {
        return e->call_state().media_mode();
      }
    }
    return v1::MEDIA_MODE_UNSPECIFIED;
  }
  std::optional<v1::CallRecord> WaitRecord(const std::string& id) {
    const absl::Time deadline = MonotonicNow() + absl::Seconds(5);
    while (MonotonicNow() < deadline) {
      for (const auto& r : sink_.records()) {
        if (r.call_id() == id) return r;
      }
      absl::SleepFor(absl::Milliseconds(5));
    }
    return std::nullopt;
  }
};

// Outbound fax (class 1): the drop ends the fax state with DLE ETX (class 1
// ignores "+++") and hangs up; the line stays in service, call after call.
TEST_F(ModemCalls, OutboundFaxDropEndsWithDleEtxThenHangsUpRepeatedly) {
  Start(ModemEmulator::Dialect::kV253, v1::config::MODEM_PROFILE_HAYES);
  ASSERT_TRUE(WaitLineState(v1::LINE_STATE_IN_SERVICE));
  for (int i = 0; i < 4; ++i) {
    SCOPED_TRACE(i);
    const size_t from = emu_->commands().size();
    // Back to back: the line takes the next call as soon as the hang-up of
    // the previous one is through (CALLUNAVAIL until then).
    absl::StatusOr<v1::Call> call = Make("5551234", v1::MEDIA_MODE_G3FAX);
    const absl::Time deadline = MonotonicNow() + absl::Seconds(3);
    while (call.status().code() == absl::StatusCode::kResourceExhausted &&
           MonotonicNow() < deadline) {
      absl::SleepFor(absl::Milliseconds(5));
      call = Make("5551234", v1::MEDIA_MODE_G3FAX);
    }
    ASSERT_TRUE(call.ok()) << call.status();
    ASSERT_TRUE(WaitState(call->id(), v1::CALL_STATE_CONNECTED));
    EXPECT_EQ(MediaOf(call->id()), v1::MEDIA_MODE_G3FAX);
    EXPECT_EQ(ConnectedEventMedia(call->id()), v1::MEDIA_MODE_G3FAX);
    ASSERT_TRUE(engine_->Drop(Action(call->id())).ok());
    const auto end = WaitFind("<DLE><ETX>", from);
    ASSERT_TRUE(end.has_value());
    ASSERT_TRUE(WaitFind("ATH", *end).has_value()) << "no ATH after DLE ETX";
    EXPECT_FALSE(Find("+++", from).has_value());
    EXPECT_EQ(Line().status().state(), v1::LINE_STATE_IN_SERVICE);
  }
}

// The answering side of a fax call: offered as fax (incoming_media), answered
// in class 1 without override strings, reported as G3FAX, and its drop hangs
// the modem up.
TEST_F(ModemCalls, AnsweredFaxCallIsFaxAndTheCalleeCanHangUp) {
  configure_ = [](v1::config::ModemPort* p) { p->set_incoming_media(v1::MEDIA_MODE_G3FAX); };
  Start(ModemEmulator::Dialect::kV253, v1::config::MODEM_PROFILE_HAYES);
  ASSERT_TRUE(WaitLineState(v1::LINE_STATE_IN_SERVICE));
  for (int i = 0; i < 3; ++i) {
    SCOPED_TRACE(i);
    const size_t from = emu_->commands().size();
    emu_->StartRinging("5551234", "FAX");
    const std::string id = WaitCall();
    ASSERT_FALSE(id.empty());
    EXPECT_EQ(MediaOf(id), v1::MEDIA_MODE_G3FAX);
    ASSERT_TRUE(engine_->Answer(Action(id)).ok());
    ASSERT_TRUE(WaitState(id, v1::CALL_STATE_CONNECTED));
    const auto fclass = Find("AT+FCLASS=1", from);
    const auto ata = Find("ATA", from);
    ASSERT_TRUE(fclass.has_value());
    ASSERT_TRUE(ata.has_value());
    EXPECT_LT(*fclass, *ata);
    EXPECT_EQ(ConnectedEventMedia(id), v1::MEDIA_MODE_G3FAX);
    ASSERT_TRUE(engine_->Drop(Action(id)).ok());
    const auto end = WaitFind("<DLE><ETX>", *ata);
    ASSERT_TRUE(end.has_value());
    ASSERT_TRUE(WaitFind("ATH", *end).has_value());
    EXPECT_EQ(Get(id).status().state(), v1::CALL_STATE_IDLE);
    EXPECT_EQ(Line().status().state(), v1::LINE_STATE_IN_SERVICE);
    const auto r = WaitRecord(id);
    ASSERT_TRUE(r.has_value());
    EXPECT_EQ(r->media_mode(), v1::MEDIA_MODE_G3FAX);
  }
}

// A data/fax modem without configuration offers calls as data and answers
// them in class 0; the drop escapes with "+++" before ATH.
TEST_F(ModemCalls, DataCallIsAnsweredInClassZeroAndEscapedOnDrop) {
  Start(ModemEmulator::Dialect::kV253, v1::config::MODEM_PROFILE_HAYES);
  ASSERT_TRUE(WaitLineState(v1::LINE_STATE_IN_SERVICE));
  emu_->StartRinging("5551234", "DATA");
  const std::string id = WaitCall();
  ASSERT_FALSE(id.empty());
  EXPECT_EQ(MediaOf(id), v1::MEDIA_MODE_DATAMODEM);
  ASSERT_TRUE(engine_->Answer(Action(id)).ok());
  ASSERT_TRUE(WaitState(id, v1::CALL_STATE_CONNECTED));
  const auto fclass = Find("AT+FCLASS=0");
  ASSERT_TRUE(fclass.has_value());
  ASSERT_TRUE(Find("ATA", *fclass).has_value());
  EXPECT_EQ(ConnectedEventMedia(id), v1::MEDIA_MODE_DATAMODEM);
  ASSERT_TRUE(engine_->Drop(Action(id)).ok());
  const auto escape = WaitFind("+++", *fclass);
  ASSERT_TRUE(escape.has_value());
  ASSERT_TRUE(WaitFind("ATH", *escape).has_value());
  EXPECT_EQ(Line().status().state(), v1::LINE_STATE_IN_SERVICE);
}

// Answer strings that choose a class themselves are used as they are; the
// call is offered and reported in their class.
TEST_F(ModemCalls, AnswerOverrideStringsChooseTheClass) {
  configure_ = [](v1::config::ModemPort* p) {
    p->clear_answer();
    p->add_answer("AT+FCLASS=1");
    p->add_answer("ATA");
  };
  Start(ModemEmulator::Dialect::kV253, v1::config::MODEM_PROFILE_HAYES);
  ASSERT_TRUE(WaitLineState(v1::LINE_STATE_IN_SERVICE));
  emu_->StartRinging("5551234", "FAX");
  const std::string id = WaitCall();
  ASSERT_FALSE(id.empty());
  EXPECT_EQ(MediaOf(id), v1::MEDIA_MODE_G3FAX);
  ASSERT_TRUE(engine_->Answer(Action(id)).ok());
  ASSERT_TRUE(WaitState(id, v1::CALL_STATE_CONNECTED));
  EXPECT_EQ(emu_->CountCommand("AT+FCLASS=1"), 1);
  EXPECT_EQ(MediaOf(id), v1::MEDIA_MODE_G3FAX);
}

// A modem stuck in a fax state (it ignores "+++" and every command) is
// brought back by the recovery's DLE ETX and returns to service.
TEST_F(ModemCalls, ModemStuckInFaxStateRecoversThroughTheEscapes) {
  Start(ModemEmulator::Dialect::kV253, v1::config::MODEM_PROFILE_HAYES, 2000,
        /*command_timeout_ms=*/300);
  ASSERT_TRUE(WaitLineState(v1::LINE_STATE_IN_SERVICE));
  emu_->GoOnline(/*fax=*/true);
  auto call = Make("5551234", v1::MEDIA_MODE_DATAMODEM);  // AT+FCLASS=0 gets no answer
  ASSERT_TRUE(call.ok());
  ASSERT_TRUE(WaitState(call->id(), v1::CALL_STATE_DISCONNECTED));
  ASSERT_TRUE(WaitLineState(v1::LINE_STATE_OUT_OF_SERVICE));
  ASSERT_TRUE(WaitLineState(v1::LINE_STATE_IN_SERVICE, absl::Seconds(15)));
  EXPECT_TRUE(emu_->SawCommand("<DLE><ETX>"));
  ASSERT_TRUE(engine_->Drop(Action(call->id())).ok());
  auto again = Make("5551234", v1::MEDIA_MODE_G3FAX);
  ASSERT_TRUE(again.ok()) << again.status();
  ASSERT_TRUE(WaitState(again->id(), v1::CALL_STATE_CONNECTED));
}

// After BUSY, NO ANSWER, NO CARRIER or NO DIALTONE the modem is hung up, so
// the far end stops ringing.
TEST_F(ModemCalls, FailedDialsAreHungUp) {
  Start(ModemEmulator::Dialect::kV253);
  ASSERT_TRUE(WaitLineState(v1::LINE_STATE_IN_SERVICE));
  for (const char* result : {"BUSY", "NO ANSWER", "NO CARRIER", "NO DIALTONE"}) {
    SCOPED_TRACE(result);
    emu_->SetDialResult(result);
    const int hangups = emu_->CountCommand("ATH");
    auto call = Make("5551234");
    ASSERT_TRUE(call.ok()) << call.status();
    ASSERT_TRUE(WaitState(call->id(), v1::CALL_STATE_DISCONNECTED));
    const absl::Time deadline = MonotonicNow() + absl::Seconds(3);
    while (emu_->CountCommand("ATH") == hangups && MonotonicNow() < deadline) {
      absl::SleepFor(absl::Milliseconds(5));
    }
    EXPECT_EQ(emu_->CountCommand("ATH"), hangups + 1);
    ASSERT_TRUE(engine_->Drop(Action(call->id())).ok());
  }
}

// The record of a call the far end hung up ends at the NO CARRIER, not when
// the application drops the DISCONNECTED call later.
TEST_F(ModemCalls, RecordEndsAtTheRemoteHangupNotAtTheDrop) {
  Start(ModemEmulator::Dialect::kV253);
  ASSERT_TRUE(WaitLineState(v1::LINE_STATE_IN_SERVICE));
  auto call = Make("5551234");
  ASSERT_TRUE(call.ok());
  ASSERT_TRUE(WaitState(call->id(), v1::CALL_STATE_CONNECTED));
  const absl::Time connected = absl::Now();
  absl::SleepFor(absl::Milliseconds(400));  // talk time
  emu_->RemoteHangup();
  ASSERT_TRUE(WaitState(call->id(), v1::CALL_STATE_DISCONNECTED));
  const int64_t talked = absl::ToInt64Milliseconds(absl::Now() - connected);
  absl::SleepFor(absl::Milliseconds(600));  // the application notices later
  ASSERT_TRUE(engine_->Drop(Action(call->id())).ok());
  const auto r = WaitRecord(call->id());
  ASSERT_TRUE(r.has_value());
  EXPECT_NEAR(static_cast<double>(r->duration_ms()), static_cast<double>(talked), 100.0);
}

}  // namespace
}  // namespace linebridge
