#include "linectl/format.h"

#include "absl/time/time.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "linebridge/lineerr.h"

namespace linebridge::linectl {
namespace {

using ::testing::ElementsAre;

v1::Call MakeCall(absl::string_view id, v1::CallState state) {
  v1::Call call;
  call.set_id(std::string(id));
  call.mutable_info()->set_line_id("sim/100");
  call.mutable_status()->set_state(state);
  return call;
}

TEST(EnumNameTest, StripsTheCommonPrefixAndLowercases) {
  EXPECT_EQ(EnumName(v1::CALL_STATE_CONNECTED), "connected");
  EXPECT_EQ(EnumName(v1::MEDIA_MODE_INTERACTIVE_VOICE), "interactive_voice");
  EXPECT_EQ(EnumName(v1::FORWARD_MODE_NOANSW), "noansw");
  EXPECT_EQ(EnumName(v1::LINE_STATE_IN_SERVICE), "in_service");
  EXPECT_EQ(EnumName(v1::EventBatch::SNAPSHOT_REASON_EPOCH_CHANGED), "epoch_changed");
  EXPECT_EQ(EnumName(v1::CallState_descriptor(), 99), "99");
}

TEST(EnumNameTest, ParsesShortAndFullNames) {
  int value = 0;
  EXPECT_TRUE(ParseEnumName(v1::MediaMode_descriptor(), "G3FAX", &value));
  EXPECT_EQ(value, v1::MEDIA_MODE_G3FAX);
  EXPECT_TRUE(ParseEnumName(v1::ForwardMode_descriptor(), "FORWARD_MODE_BUSY", &value));
  EXPECT_EQ(value, v1::FORWARD_MODE_BUSY);
  EXPECT_FALSE(ParseEnumName(v1::ForwardMode_descriptor(), "sometimes", &value));
}

TEST(FormatTest, CallStateWithMode) {
  v1::CallStatus status;
  status.set_state(v1::CALL_STATE_CONNECTED);
  EXPECT_EQ(FormatCallState(status), "connected");
  status.set_connected_mode(v1::CONNECTED_MODE_ACTIVE);
  EXPECT_EQ(FormatCallState(status), "connected(active)");
  status.set_state(v1::CALL_STATE_DISCONNECTED);
  status.set_disconnect_mode(v1::DISCONNECT_MODE_BUSY);
  EXPECT_EQ(FormatCallState(status), "disconnected(busy)");
}

TEST(FormatTest, Party) {
  v1::PartyId party;
  EXPECT_EQ(FormatParty(party), "-");
  party.set_number("100");
  EXPECT_EQ(FormatParty(party), "100");
  party.set_name("Alice");
  EXPECT_EQ(FormatParty(party), "100 \"Alice\"");
  party.set_blocked(true);
  EXPECT_EQ(FormatParty(party), "blocked");
}

TEST(FormatTest, TimestampAndDuration) {
  google::protobuf::Timestamp timestamp;
  EXPECT_EQ(FormatTimestamp(timestamp, absl::UTCTimeZone()), "-");
  timestamp.set_seconds(1714564800);  // 2024-05-01 12:00:00 UTC
  EXPECT_EQ(FormatTimestamp(timestamp, absl::UTCTimeZone()), "2024-05-01 12:00:00");
  EXPECT_EQ(FormatDurationMs(7'400), "0:07");
  EXPECT_EQ(FormatDurationMs(3'723'000), "1:02:03");
}

TEST(FormatTest, CallLines) {
  v1::Call call = MakeCall("c-7", v1::CALL_STATE_OFFERING);
  call.mutable_status()->set_offering_mode(v1::OFFERING_MODE_ACTIVE);
  EXPECT_EQ(FormatCallLine(call), "call c-7 offering(active)");
  EXPECT_EQ(FormatCallLine(call, "consultation"), "consultation c-7 offering(active)");
  call.mutable_info()->mutable_caller()->set_number("100");
  call.mutable_info()->mutable_caller()->set_name("Alice");
  EXPECT_EQ(FormatCallSummary(call), "call=c-7 offering(active) caller=100 \"Alice\"");
  call.mutable_info()->mutable_called()->set_number("101");
  EXPECT_EQ(FormatCallSummary(call), "call=c-7 offering(active) caller=100 \"Alice\" called=101");
}

TEST(FormatEventTest, EventLines) {
  v1::Event event;
  event.set_sequence(42);
  event.set_line_id("sim/100");
  v1::CallStateChanged* state = event.mutable_call_state();
  state->set_call_id("c-1");
  state->mutable_status()->set_state(v1::CALL_STATE_CONNECTED);
  state->mutable_status()->set_connected_mode(v1::CONNECTED_MODE_ACTIVE);
  state->set_media_mode(v1::MEDIA_MODE_INTERACTIVE_VOICE);
  EXPECT_EQ(FormatEvent(event),
            "42 sim/100 call_state call=c-1 connected(active) media=interactive_voice");

  v1::Event created;
  created.set_sequence(43);
  created.set_line_id("sim/101");
  *created.mutable_call_created()->mutable_call() = MakeCall("c-2", v1::CALL_STATE_OFFERING);
  v1::PartyId* caller =
      created.mutable_call_created()->mutable_call()->mutable_info()->mutable_caller();
  caller->set_number("100");
  caller->set_name("Alice");
  EXPECT_EQ(FormatEvent(created), "43 sim/101 call_created call=c-2 offering caller=100 \"Alice\"");

  v1::Event digit;
  digit.set_sequence(44);
  digit.set_line_id("sim/100");
  digit.mutable_digit()->set_call_id("c-1");
  digit.mutable_digit()->set_digit("5");
  EXPECT_EQ(FormatEvent(digit), "44 sim/100 digit call=c-1 5");

  v1::Event line;
  line.set_sequence(45);
  line.mutable_line_created()->mutable_line()->set_id("sim/200");
  EXPECT_EQ(FormatEvent(line), "45 - line_created sim/200");

  v1::Event shutdown;
  shutdown.set_sequence(46);
  shutdown.mutable_server_shutdown()->set_reason("stopping");
  EXPECT_EQ(FormatEvent(shutdown), "46 - server_shutdown stopping");

  v1::Event forwarding;
  forwarding.set_sequence(47);
  forwarding.set_line_id("sim/100");
  v1::ForwardRule* rule = forwarding.mutable_address_state()->add_forwarding();
  rule->set_mode(v1::FORWARD_MODE_NOANSW);
  rule->set_destination("200");
  rule->set_num_rings(3);
  EXPECT_EQ(FormatEvent(forwarding),
            "47 sim/100 address_state address=0 active=0 forwarding=noansw 200 rings=3");

  v1::Event media;
  media.set_sequence(48);
  media.set_line_id("sim/100");
  media.mutable_tone_generated()->set_call_id("c-1");
  media.mutable_tone_generated()->set_end_to_end_id(7);
  EXPECT_EQ(FormatEvent(media), "48 sim/100 tone_generated call=c-1 id=7 done");
  media.mutable_gather_completed()->set_call_id("c-1");
  media.mutable_gather_completed()->set_digits("12#");
  media.mutable_gather_completed()->set_termination(v1::GATHER_TERMINATION_TERMINATION_DIGIT);
  EXPECT_EQ(FormatEvent(media),
            "48 sim/100 gather_completed call=c-1 id=0 digits=12# termination_digit");
  media.mutable_tone_detected()->set_call_id("c-1");
  media.mutable_tone_detected()->set_tone_list_id(3);
  media.mutable_tone_detected()->set_app_specific(9);
  EXPECT_EQ(FormatEvent(media), "48 sim/100 tone_detected call=c-1 list=3 app_specific=9");
  media.mutable_media_detected()->set_call_id("c-1");
  media.mutable_media_detected()->set_media_mode(v1::MEDIA_MODE_G3FAX);
  EXPECT_EQ(FormatEvent(media), "48 sim/100 media_detected call=c-1 g3fax");
}

TEST(FormatEventTest, Snapshot) {
  v1::EventBatch batch;
  batch.set_snapshot_reason(v1::EventBatch::SNAPSHOT_REASON_GAP);
  batch.mutable_snapshot()->set_sequence(120);
  batch.mutable_snapshot()->add_lines()->set_id("sim/100");
  batch.mutable_snapshot()->add_lines()->set_id("sim/101");
  v1::Call call = MakeCall("c-9", v1::CALL_STATE_ONHOLD);
  call.mutable_info()->mutable_caller()->set_number("100");
  *batch.mutable_snapshot()->add_calls() = call;
  EXPECT_THAT(FormatSnapshot(batch),
              ElementsAre("-- snapshot (gap) at sequence 120: 2 lines, 1 calls",
                          "  sim/100 call=c-9 onhold caller=100"));
}

TEST(FormatTest, DisconnectedAndErrors) {
  EXPECT_EQ(
      FormatDisconnected(absl::UnavailableError("connection refused"), absl::Milliseconds(180)),
      "-- disconnected: connection refused (UNAVAILABLE); reconnecting in 180 ms");
  EXPECT_EQ(FormatError(NotFound(LINEERR_INVALCALLHANDLE, "call x not found")),
            "call x not found (NOT_FOUND, LINEERR_INVALCALLHANDLE)");
  // Without a TAPI detail: the closest LINEERR for the code.
  EXPECT_EQ(FormatError(absl::UnavailableError("down")),
            "down (UNAVAILABLE, LINEERR_OPERATIONFAILED)");
}

TEST(FormatTest, Forwarding) {
  google::protobuf::RepeatedPtrField<v1::ForwardRule> rules;
  EXPECT_EQ(FormatForwarding(rules), "off");
  v1::ForwardRule* rule = rules.Add();
  rule->set_mode(v1::FORWARD_MODE_UNCOND);
  rule->set_destination("200");
  EXPECT_EQ(FormatForwarding(rules), "uncond 200");
}

TEST(FormatTest, FieldsAsKeyValueLines) {
  v1::LineStatus status;
  status.set_state(v1::LINE_STATE_IN_SERVICE);
  status.set_num_active_calls(2);
  status.set_connected(true);
  v1::ForwardRule* rule = status.add_forwarding();
  rule->set_mode(v1::FORWARD_MODE_BUSY);
  rule->set_destination("300");
  EXPECT_THAT(
      FormatFields(status, absl::UTCTimeZone()),
      ElementsAre("state: in_service", "num_active_calls: 2", "num_on_hold_calls: 0",
                  "num_on_hold_pending_calls: 0", "num_opens: 0", "forwarding[0]:", "  mode: busy",
                  "  destination: 300", "  num_rings: 0", "connected: true"));

  v1::AddressCaps caps;
  caps.add_call_features(v1::CALL_FEATURE_DROP);
  caps.add_call_features(v1::CALL_FEATURE_HOLD);
  std::vector<std::string> lines = FormatFields(caps, absl::UTCTimeZone());
  EXPECT_THAT(lines, ::testing::Contains("call_features: drop, hold"));
  EXPECT_THAT(lines, ::testing::Contains("address_features: -"));

  v1::ServerStatus server;
  server.set_version("0.1.0");
  server.mutable_started()->set_seconds(1714564800);
  server.add_providers("sim");
  lines = FormatFields(server, absl::UTCTimeZone(), {"data_dir"});
  EXPECT_THAT(lines, ::testing::Contains("started: 2024-05-01 12:00:00"));
  EXPECT_THAT(lines, ::testing::Contains("providers: sim"));
  EXPECT_THAT(lines, ::testing::Contains("version: 0.1.0"));
  EXPECT_THAT(lines, ::testing::Not(::testing::Contains(::testing::StartsWith("data_dir"))));
}

TEST(FormatTest, TableAlignsColumns) {
  EXPECT_THAT(FormatTable({"ID", "NAME"}, {{"sim/100", "Alice"}, {"x", "B"}}),
              ElementsAre("ID       NAME", "sim/100  Alice", "x        B"));
}

TEST(FormatTest, Rows) {
  v1::Line line;
  line.set_id("sim/100");
  line.set_name("Desk");
  line.set_provider("sim");
  line.add_addresses()->set_address("100");
  line.mutable_status()->set_state(v1::LINE_STATE_IN_SERVICE);
  line.mutable_status()->set_num_active_calls(1);
  line.mutable_status()->set_num_on_hold_calls(1);
  EXPECT_THAT(LineRow(line), ElementsAre("sim/100", "Desk", "sim", "in_service", "100", "2"));

  v1::Call call = MakeCall("c-1", v1::CALL_STATE_CONNECTED);
  call.mutable_status()->set_connected_mode(v1::CONNECTED_MODE_ACTIVE);
  call.mutable_info()->set_origin(v1::CALL_ORIGIN_OUTBOUND);
  call.mutable_info()->mutable_called()->set_number("101");
  EXPECT_THAT(CallRow(call),
              ElementsAre("c-1", "sim/100", "connected(active)", "outbound", "-", "101", "-"));
  EXPECT_EQ(CallHeader().size(), CallRow(call).size());

  v1::CallRecord record;
  record.set_record_id(5);
  record.set_call_id("c-1");
  record.set_duration_ms(65'000);
  record.set_disposition(v1::DISCONNECT_MODE_NORMAL);
  std::vector<std::string> row = CallRecordRow(record, absl::UTCTimeZone());
  EXPECT_EQ(row.size(), CallRecordHeader().size());
  EXPECT_EQ(row[7], "1:05");
  EXPECT_EQ(row[8], "normal");
}

TEST(FormatTest, JsonUsesProtoFieldNames) {
  v1::Call call = MakeCall("c-1", v1::CALL_STATE_IDLE);
  EXPECT_EQ(ToJson(call),
            R"({"id":"c-1","info":{"line_id":"sim/100"},"status":{"state":"CALL_STATE_IDLE"}})");
}

}  // namespace
}  // namespace linebridge::linectl

namespace linebridge::linectl {
namespace {

TEST(FormatPhoneTest, RowAndEvents) {
  v1::Phone phone;
  phone.set_id("sim/phone/100");
  phone.set_name("Alice (100)");
  phone.set_line_id("sim/100");
  phone.mutable_status()->set_handset_mode(v1::HOOK_SWITCH_MODE_MIC_SPEAKER);
  phone.mutable_status()->set_speaker_mode(v1::HOOK_SWITCH_MODE_ONHOOK);
  phone.mutable_status()->set_ring_mode(1);
  phone.mutable_status()->set_num_owners(1);
  phone.mutable_status()->set_num_monitors(2);
  EXPECT_THAT(PhoneRow(phone),
              ::testing::ElementsAre("sim/phone/100", "Alice (100)", "sim/100",
                                     "handset=mic_speaker speaker=onhook", "1", "1/2"));
  EXPECT_EQ(PhoneRow(v1::Phone())[2], "-");

  v1::Event state;
  state.set_sequence(7);
  state.set_line_id("sim/100");
  state.set_phone_id("sim/phone/100");
  state.mutable_phone_state()->add_changed("lamp_modes");
  state.mutable_phone_state()->set_button_lamp_id(12);
  EXPECT_EQ(FormatEvent(state), "7 sim/100 phone_state phone=sim/phone/100 changed=lamp_modes lamp=12");
  v1::Event button;
  button.set_sequence(8);
  button.set_line_id("sim/100");
  button.set_phone_id("sim/phone/100");
  button.mutable_phone_button()->set_button_lamp_id(5);
  button.mutable_phone_button()->set_mode(v1::PHONE_BUTTON_MODE_KEYPAD);
  button.mutable_phone_button()->set_function(v1::PHONE_BUTTON_FUNCTION_NONE);
  button.mutable_phone_button()->set_state(v1::PHONE_BUTTON_STATE_DOWN);
  EXPECT_EQ(FormatEvent(button), "8 sim/100 phone_button phone=sim/phone/100 button=5 keypad/none down");
}

TEST(FormatPhoneTest, SnapshotCountsPhones) {
  v1::EventBatch batch;
  batch.set_snapshot_reason(v1::EventBatch::SNAPSHOT_REASON_REQUESTED);
  batch.mutable_snapshot()->set_sequence(3);
  batch.mutable_snapshot()->add_lines()->set_id("sim/100");
  batch.mutable_snapshot()->add_phones()->set_id("sim/phone/100");
  EXPECT_THAT(FormatSnapshot(batch),
              ::testing::ElementsAre(
                  "-- snapshot (requested) at sequence 3: 1 lines, 0 calls, 1 phones"));
}

}  // namespace
}  // namespace linebridge::linectl
