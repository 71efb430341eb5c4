// The engine's phones (core/phones.h, engine_phones.cc) with the sim's desk
// sets: opens and ownership, every check with its PHONEERR, the status the
// Set* requests leave and their events, hostile input, and the sim phone
// following and driving the line's calls.
#include "core/engine.h"
#include "core/testing/bare_phone_provider.h"
#include "providers/sim/sim_test_util.h"

namespace linebridge::testing {
namespace {

using absl::StatusCode;

MATCHER_P2(IsPhoneError, code, phoneerr,
           absl::StrCat("fails with ", absl::StatusCodeToString(code), " and ",
                        PhoneErrName(phoneerr))) {
  const absl::Status status = [&] {
    if constexpr (std::is_same_v<std::decay_t<arg_type>, absl::Status>) {
      return arg;
    } else {
      return arg.status();
    }
  }();
  *result_listener << "status is " << status << " (" << TapiErrNameOf(status) << ")";
  return status.code() == code && PhoneErrOf(status) == phoneerr;
}

constexpr char kPhone[] = "sim/phone/100";

class PhoneTest : public SimFixture {
 protected:
  std::string NewSession() {
    auto s = engine_->CreateSession({});
    EXPECT_TRUE(s.ok());
    return s->id();
  }
  absl::StatusOr<v1::Phone> Open(const std::string& session, v1::Privilege p,
                                 const std::string& phone = kPhone) {
    v1::OpenPhoneRequest req;
    req.set_session_id(session);
    req.set_phone_id(phone);
    req.set_privilege(p);
    return engine_->OpenPhone(req);
  }
  std::string Owner() {
    std::string s = NewSession();
    EXPECT_TRUE(Open(s, v1::PRIVILEGE_OWNER).ok());
    return s;
  }
  v1::Phone Phone(const std::string& id = kPhone) {
    v1::GetPhoneRequest req;
    req.set_phone_id(id);
    auto p = engine_->GetPhone(req);
    EXPECT_TRUE(p.ok()) << p.status();
    return p.ok() ? *p : v1::Phone();
  }
  absl::StatusOr<v1::Phone> Display(const std::string& s, uint32_t row, uint32_t col,
                                    const std::string& text) {
    v1::SetPhoneDisplayRequest req;
    req.set_session_id(s);
    req.set_phone_id(kPhone);
    req.set_row(row);
    req.set_column(col);
    req.set_text(text);
    return engine_->SetPhoneDisplay(req);
  }
  absl::StatusOr<v1::Phone> Press(uint32_t button) {
    v1::OperatePhoneRequest req;
    req.set_phone_id(kPhone);
    req.set_press_button(button);
    return engine_->OperatePhone(req);
  }
  absl::StatusOr<v1::Phone> Hook(v1::HookSwitchDevice device, v1::HookSwitchMode mode,
                                 const std::string& phone = kPhone) {
    v1::OperatePhoneRequest req;
    req.set_phone_id(phone);
    req.mutable_hookswitch()->set_device(device);
    req.mutable_hookswitch()->set_mode(mode);
    return engine_->OperatePhone(req);
  }
  // The phone_state events of the phone since `seq`, by what they changed.
  std::vector<std::string> ChangesSince(uint64_t seq) {
    std::vector<std::string> out;
    for (const v1::Event& e : EventsSince(seq)) {
      if (!e.has_phone_state() || e.phone_id() != kPhone) continue;
      EXPECT_EQ(e.line_id(), "sim/100");
      for (const std::string& c : e.phone_state().changed()) out.push_back(c);
    }
    return out;
  }
};

TEST_F(PhoneTest, EveryExtensionHasADeskSet) {
  auto list = engine_->ListPhones({});
  ASSERT_TRUE(list.ok());
  EXPECT_EQ(list->phones_size(), 7);
  const v1::Phone p = Phone();
  EXPECT_EQ(p.line_id(), "sim/100");
  EXPECT_EQ(p.caps().display_rows(), 2u);
  EXPECT_EQ(p.caps().display_columns(), 40u);
  EXPECT_EQ(p.caps().num_button_lamps(), 16u);
  EXPECT_EQ(p.caps().num_ring_modes(), 3u);
  EXPECT_EQ(p.caps().data_area_sizes_size(), 2);
  EXPECT_EQ(p.caps().permanent_phone_id(), PermanentPhoneId(kPhone));
  EXPECT_EQ(p.status().display(), std::string(80, ' '));
  EXPECT_EQ(p.status().lamp_modes(0), v1::LAMP_MODE_DUMMY);
  EXPECT_EQ(p.status().lamp_modes(SimProvider::kCallButton), v1::LAMP_MODE_OFF);
  EXPECT_EQ(p.status().handset_mode(), v1::HOOK_SWITCH_MODE_ONHOOK);
  EXPECT_EQ(p.buttons(SimProvider::kHoldButton).function(), v1::PHONE_BUTTON_FUNCTION_HOLD);
  v1::ListPhonesRequest of_line;
  of_line.set_line_id("sim/101");
  ASSERT_EQ(engine_->ListPhones(of_line)->phones_size(), 1);
  EXPECT_EQ(engine_->ListPhones(of_line)->phones(0).id(), "sim/phone/101");
}

TEST_F(PhoneTest, OneOwnerManyMonitorsAndSessionEndReleases) {
  const std::string a = NewSession(), b = NewSession(), c = NewSession();
  const uint64_t seq = Seq();
  ASSERT_TRUE(Open(a, v1::PRIVILEGE_OWNER).ok());
  EXPECT_THAT(Open(b, v1::PRIVILEGE_OWNER),
              IsPhoneError(StatusCode::kResourceExhausted, PHONEERR_INUSE));
  ASSERT_TRUE(Open(b, v1::PRIVILEGE_MONITOR).ok());
  auto opened = Open(c, v1::PRIVILEGE_MONITOR);
  ASSERT_TRUE(opened.ok());
  EXPECT_EQ(opened->status().num_owners(), 1u);
  EXPECT_EQ(opened->status().num_monitors(), 2u);
  EXPECT_THAT(ChangesSince(seq), ::testing::ElementsAre("num_owners", "num_monitors",
                                                        "num_monitors"));
  // Reopening as owner in the owning session is no conflict.
  EXPECT_TRUE(Open(a, v1::PRIVILEGE_OWNER).ok());
  // The owner's session ends: the phone is free.
  v1::CloseSessionRequest close;
  close.set_session_id(a);
  ASSERT_TRUE(engine_->CloseSession(close).ok());
  EXPECT_EQ(Phone().status().num_owners(), 0u);
  EXPECT_TRUE(Open(b, v1::PRIVILEGE_OWNER).ok());
  EXPECT_EQ(Phone().status().num_monitors(), 1u);
  v1::ClosePhoneRequest cp;
  cp.set_session_id(c);
  cp.set_phone_id(kPhone);
  ASSERT_TRUE(engine_->ClosePhone(cp).ok());
  EXPECT_THAT(engine_->ClosePhone(cp),
              IsPhoneError(StatusCode::kFailedPrecondition, PHONEERR_INVALPHONEHANDLE));
  EXPECT_EQ(Phone().status().num_monitors(), 0u);
}

TEST_F(PhoneTest, OpenAndLookupErrors) {
  const std::string s = NewSession();
  EXPECT_THAT(Open(s, v1::PRIVILEGE_OWNER, "sim/phone/999"),
              IsPhoneError(StatusCode::kNotFound, PHONEERR_BADDEVICEID));
  EXPECT_THAT(Open(s, v1::PRIVILEGE_NONE),
              IsPhoneError(StatusCode::kInvalidArgument, PHONEERR_INVALPRIVILEGE));
  EXPECT_THAT(Open(s, static_cast<v1::Privilege>(77)),
              IsPhoneError(StatusCode::kInvalidArgument, PHONEERR_INVALPRIVILEGE));
  EXPECT_THAT(Open("s-nosuchsession", v1::PRIVILEGE_OWNER),
              IsPhoneError(StatusCode::kNotFound, PHONEERR_INVALAPPHANDLE));
  EXPECT_THAT(Open("", v1::PRIVILEGE_OWNER),
              IsPhoneError(StatusCode::kInvalidArgument, PHONEERR_INVALAPPHANDLE));
  v1::GetPhoneRequest get;
  get.set_phone_id(std::string(300, 'x'));
  EXPECT_THAT(engine_->GetPhone(get),
              IsPhoneError(StatusCode::kInvalidArgument, PHONEERR_BADDEVICEID));
  get.set_phone_id("sim/phone/999");
  EXPECT_THAT(engine_->GetPhone(get), IsPhoneError(StatusCode::kNotFound, PHONEERR_BADDEVICEID));
}

TEST_F(PhoneTest, SettingNeedsTheOwner) {
  const std::string monitor = NewSession();
  ASSERT_TRUE(Open(monitor, v1::PRIVILEGE_MONITOR).ok());
  EXPECT_THAT(Display(monitor, 0, 0, "hi"),
              IsPhoneError(StatusCode::kFailedPrecondition, PHONEERR_NOTOWNER));
  EXPECT_THAT(Display("", 0, 0, "hi"),
              IsPhoneError(StatusCode::kFailedPrecondition, PHONEERR_NOTOWNER));
  EXPECT_THAT(Display(NewSession(), 0, 0, "hi"),
              IsPhoneError(StatusCode::kFailedPrecondition, PHONEERR_NOTOWNER));
  EXPECT_THAT(Display("s-nosuchsession", 0, 0, "hi"),
              IsPhoneError(StatusCode::kNotFound, PHONEERR_INVALAPPHANDLE));
  v1::SetPhoneRingRequest ring;
  ring.set_session_id(monitor);
  ring.set_phone_id(kPhone);
  ring.set_ring_mode(1);
  EXPECT_THAT(engine_->SetPhoneRing(ring),
              IsPhoneError(StatusCode::kFailedPrecondition, PHONEERR_NOTOWNER));
  EXPECT_EQ(Phone().status().ring_mode(), 0u);
}

TEST_F(PhoneTest, DisplayIsWrittenInPlaceAndClipped) {
  const std::string s = Owner();
  const uint64_t seq = Seq();
  ASSERT_TRUE(Display(s, 0, 0, "Hello").ok());
  ASSERT_TRUE(Display(s, 1, 38, "World").ok());  // runs off the end: clipped
  const std::string d = Phone().status().display();
  EXPECT_EQ(d.substr(0, 5), "Hello");
  EXPECT_EQ(d.substr(78), "Wo");
  EXPECT_EQ(d.size(), 80u);
  // Long text wraps onto the next row, and what passes the end is dropped.
  ASSERT_TRUE(Display(s, 0, 35, std::string(4000, 'x')).ok());
  EXPECT_EQ(Phone().status().display(), std::string(35, ' ').replace(0, 5, "Hello") +
                                             std::string(45, 'x'));
  EXPECT_THAT(ChangesSince(seq), ::testing::ElementsAre("display", "display", "display"));
  // The same text again changes nothing and says nothing.
  const uint64_t again = Seq();
  ASSERT_TRUE(Display(s, 0, 0, "Hello").ok());
  EXPECT_TRUE(ChangesSince(again).empty());
  EXPECT_THAT(Display(s, 2, 0, "x"), IsPhoneError(StatusCode::kInvalidArgument, PHONEERR_INVALPARAM));
  EXPECT_THAT(Display(s, 0, 40, "x"), IsPhoneError(StatusCode::kInvalidArgument, PHONEERR_INVALPARAM));
  EXPECT_THAT(Display(s, 0, 0, std::string(kMaxPhoneDisplayText + 1, 'x')),
              IsPhoneError(StatusCode::kInvalidArgument, PHONEERR_INVALPARAM));
  EXPECT_THAT(Display(s, 0, 0, "bell\a"),
              IsPhoneError(StatusCode::kInvalidArgument, PHONEERR_INVALPARAM));
  EXPECT_THAT(Display(s, 0, 0, "caf\xc3\xa9"),
              IsPhoneError(StatusCode::kInvalidArgument, PHONEERR_INVALPARAM));
}

TEST_F(PhoneTest, LampsRingLevelsAndTheirErrors) {
  const std::string s = Owner();
  v1::SetPhoneLampRequest lamp;
  lamp.set_session_id(s);
  lamp.set_phone_id(kPhone);
  lamp.set_button_lamp_id(SimProvider::kCallButton);
  lamp.set_mode(v1::LAMP_MODE_FLUTTER);
  const uint64_t seq = Seq();
  ASSERT_TRUE(engine_->SetPhoneLamp(lamp).ok());
  EXPECT_EQ(Phone().status().lamp_modes(SimProvider::kCallButton), v1::LAMP_MODE_FLUTTER);
  auto events = EventsSince(seq);
  ASSERT_FALSE(events.empty());
  EXPECT_EQ(events.back().phone_state().button_lamp_id(), SimProvider::kCallButton);
  lamp.set_mode(v1::LAMP_MODE_BROKENFLUTTER);  // not one this lamp shows
  EXPECT_THAT(engine_->SetPhoneLamp(lamp),
              IsPhoneError(StatusCode::kInvalidArgument, PHONEERR_INVALLAMPMODE));
  lamp.set_mode(static_cast<v1::LampMode>(1000));
  EXPECT_THAT(engine_->SetPhoneLamp(lamp),
              IsPhoneError(StatusCode::kInvalidArgument, PHONEERR_INVALLAMPMODE));
  lamp.set_mode(v1::LAMP_MODE_STEADY);
  lamp.set_button_lamp_id(3);  // a keypad button: no lamp
  EXPECT_THAT(engine_->SetPhoneLamp(lamp),
              IsPhoneError(StatusCode::kInvalidArgument, PHONEERR_INVALBUTTONLAMPID));
  lamp.set_button_lamp_id(16);
  EXPECT_THAT(engine_->SetPhoneLamp(lamp),
              IsPhoneError(StatusCode::kInvalidArgument, PHONEERR_INVALBUTTONLAMPID));

  v1::SetPhoneRingRequest ring;
  ring.set_session_id(s);
  ring.set_phone_id(kPhone);
  ring.set_ring_mode(3);
  ring.set_volume(65535);
  ASSERT_TRUE(engine_->SetPhoneRing(ring).ok());
  EXPECT_EQ(Phone().status().ring_mode(), 3u);
  EXPECT_EQ(Phone().status().ring_volume(), 65535u);
  ring.set_ring_mode(4);
  EXPECT_THAT(engine_->SetPhoneRing(ring),
              IsPhoneError(StatusCode::kInvalidArgument, PHONEERR_INVALRINGMODE));
  ring.set_ring_mode(0);
  ring.set_volume(65536);
  EXPECT_THAT(engine_->SetPhoneRing(ring),
              IsPhoneError(StatusCode::kInvalidArgument, PHONEERR_INVALPARAM));

  v1::SetPhoneLevelRequest level;
  level.set_session_id(s);
  level.set_phone_id(kPhone);
  level.set_device(v1::HOOK_SWITCH_DEVICE_SPEAKER);
  level.set_level(1234);
  const uint64_t levels = Seq();
  ASSERT_TRUE(engine_->SetPhoneVolume(level).ok());
  level.set_level(4321);
  ASSERT_TRUE(engine_->SetPhoneGain(level).ok());
  EXPECT_EQ(Phone().status().speaker_volume(), 1234u);
  EXPECT_EQ(Phone().status().speaker_gain(), 4321u);
  EXPECT_THAT(ChangesSince(levels), ::testing::ElementsAre("speaker_volume", "speaker_gain"));
  level.set_level(70000);
  EXPECT_THAT(engine_->SetPhoneGain(level),
              IsPhoneError(StatusCode::kInvalidArgument, PHONEERR_INVALPARAM));
  level.set_level(1);
  level.set_device(v1::HOOK_SWITCH_DEVICE_HEADSET);
  EXPECT_THAT(engine_->SetPhoneVolume(level),
              IsPhoneError(StatusCode::kInvalidArgument, PHONEERR_INVALHOOKSWITCHDEV));
  level.set_device(static_cast<v1::HookSwitchDevice>(99));
  EXPECT_THAT(engine_->SetPhoneGain(level),
              IsPhoneError(StatusCode::kInvalidArgument, PHONEERR_INVALHOOKSWITCHDEV));
}

TEST_F(PhoneTest, HookSwitchButtonInfoAndData) {
  const std::string s = Owner();
  v1::SetPhoneHookSwitchRequest hs;
  hs.set_session_id(s);
  hs.set_phone_id(kPhone);
  hs.add_devices(v1::HOOK_SWITCH_DEVICE_SPEAKER);
  hs.set_mode(v1::HOOK_SWITCH_MODE_SPEAKER);
  ASSERT_TRUE(engine_->SetPhoneHookSwitch(hs).ok());
  EXPECT_EQ(Phone().status().speaker_mode(), v1::HOOK_SWITCH_MODE_SPEAKER);
  hs.clear_devices();
  hs.add_devices(v1::HOOK_SWITCH_DEVICE_HANDSET);
  hs.set_mode(v1::HOOK_SWITCH_MODE_MIC);  // a handset is both or neither
  EXPECT_THAT(engine_->SetPhoneHookSwitch(hs),
              IsPhoneError(StatusCode::kInvalidArgument, PHONEERR_INVALHOOKSWITCHMODE));
  hs.set_mode(static_cast<v1::HookSwitchMode>(42));
  EXPECT_THAT(engine_->SetPhoneHookSwitch(hs),
              IsPhoneError(StatusCode::kInvalidArgument, PHONEERR_INVALHOOKSWITCHMODE));
  hs.clear_devices();
  hs.set_mode(v1::HOOK_SWITCH_MODE_ONHOOK);
  EXPECT_THAT(engine_->SetPhoneHookSwitch(hs),
              IsPhoneError(StatusCode::kInvalidArgument, PHONEERR_INVALHOOKSWITCHDEV));
  hs.add_devices(v1::HOOK_SWITCH_DEVICE_HEADSET);
  EXPECT_THAT(engine_->SetPhoneHookSwitch(hs),
              IsPhoneError(StatusCode::kInvalidArgument, PHONEERR_INVALHOOKSWITCHDEV));

  v1::SetPhoneButtonInfoRequest bi;
  bi.set_session_id(s);
  bi.set_phone_id(kPhone);
  bi.mutable_button()->set_id(SimProvider::kTransferButton);
  bi.mutable_button()->set_mode(v1::PHONE_BUTTON_MODE_FEATURE);
  bi.mutable_button()->set_function(v1::PHONE_BUTTON_FUNCTION_PARK);
  bi.mutable_button()->set_text("Park");
  bi.mutable_button()->add_lamp_modes(v1::LAMP_MODE_STEADY);  // the lamp is the device's
  const uint64_t seq = Seq();
  ASSERT_TRUE(engine_->SetPhoneButtonInfo(bi).ok());
  const v1::Phone p = Phone();
  EXPECT_EQ(p.buttons(SimProvider::kTransferButton).text(), "Park");
  EXPECT_EQ(p.buttons(SimProvider::kTransferButton).function(), v1::PHONE_BUTTON_FUNCTION_PARK);
  EXPECT_TRUE(p.buttons(SimProvider::kTransferButton).lamp_modes().empty());
  auto events = EventsSince(seq);
  ASSERT_EQ(events.size(), 1u);
  EXPECT_THAT(events[0].phone_state().changed(), ::testing::ElementsAre("buttons"));
  EXPECT_EQ(events[0].phone_state().buttons_size(), 16);
  bi.mutable_button()->set_mode(static_cast<v1::PhoneButtonMode>(9));
  EXPECT_THAT(engine_->SetPhoneButtonInfo(bi),
              IsPhoneError(StatusCode::kInvalidArgument, PHONEERR_INVALBUTTONMODE));
  bi.mutable_button()->set_mode(v1::PHONE_BUTTON_MODE_FEATURE);
  bi.mutable_button()->set_function(static_cast<v1::PhoneButtonFunction>(480));
  EXPECT_THAT(engine_->SetPhoneButtonInfo(bi),
              IsPhoneError(StatusCode::kInvalidArgument, PHONEERR_INVALPARAM));
  bi.mutable_button()->set_function(v1::PHONE_BUTTON_FUNCTION_PARK);
  bi.mutable_button()->set_text(std::string(65, 'p'));
  EXPECT_THAT(engine_->SetPhoneButtonInfo(bi),
              IsPhoneError(StatusCode::kInvalidArgument, PHONEERR_INVALPARAM));
  bi.mutable_button()->set_text("x");
  bi.mutable_button()->set_id(16);
  EXPECT_THAT(engine_->SetPhoneButtonInfo(bi),
              IsPhoneError(StatusCode::kInvalidArgument, PHONEERR_INVALBUTTONLAMPID));

  v1::SetPhoneDataRequest set;
  set.set_session_id(s);
  set.set_phone_id(kPhone);
  set.set_data_id(1);
  set.set_data(std::string("\x01\x02\x00\x03", 4));
  const uint64_t before_data = Seq();
  auto written = engine_->SetPhoneData(set);
  ASSERT_TRUE(written.ok());
  // The Phone carries its areas, and a phone_data event the whole new area.
  ASSERT_EQ(written->data_areas_size(), 2);
  EXPECT_EQ(written->data_areas(0), std::string(SimProvider::kPhoneDataAreaSize, '\0'));
  EXPECT_EQ(written->data_areas(1).substr(0, 5), std::string("\x01\x02\x00\x03\x00", 5));
  std::vector<v1::Event> data_events;
  for (const v1::Event& e : EventsSince(before_data)) {
    if (e.has_phone_data()) data_events.push_back(e);
  }
  ASSERT_EQ(data_events.size(), 1u);
  EXPECT_EQ(data_events[0].phone_id(), kPhone);
  EXPECT_EQ(data_events[0].line_id(), "sim/100");
  EXPECT_EQ(data_events[0].phone_data().data_id(), 1u);
  EXPECT_EQ(data_events[0].phone_data().data(), written->data_areas(1));
  // Writing what is there already tells no one.
  const uint64_t again = Seq();
  ASSERT_TRUE(engine_->SetPhoneData(set).ok());
  for (const v1::Event& e : EventsSince(again)) EXPECT_FALSE(e.has_phone_data());
  v1::GetPhoneDataRequest get;
  get.set_phone_id(kPhone);
  get.set_data_id(1);
  auto data = engine_->GetPhoneData(get);
  ASSERT_TRUE(data.ok());
  EXPECT_EQ(data->data().size(), SimProvider::kPhoneDataAreaSize);
  EXPECT_EQ(data->data().substr(0, 4), std::string("\x01\x02\x00\x03", 4));
  EXPECT_EQ(data->data()[4], '\0');
  set.set_data(std::string(SimProvider::kPhoneDataAreaSize + 1, 'd'));
  EXPECT_THAT(engine_->SetPhoneData(set),
              IsPhoneError(StatusCode::kInvalidArgument, PHONEERR_INVALPARAM));
  set.set_data_id(2);
  set.set_data("x");
  EXPECT_THAT(engine_->SetPhoneData(set),
              IsPhoneError(StatusCode::kInvalidArgument, PHONEERR_INVALDATAID));
  get.set_data_id(7);
  EXPECT_THAT(engine_->GetPhoneData(get),
              IsPhoneError(StatusCode::kInvalidArgument, PHONEERR_INVALDATAID));
}

TEST_F(PhoneTest, AnOfferedCallRingsAndTheHandsetAnswersAndHangsUp) {
  const std::string caller = Make("103", "100").id();
  const std::string callee = CallOn("100");
  v1::Phone p = Phone();
  EXPECT_EQ(p.status().ring_mode(), 1u);
  EXPECT_EQ(p.status().lamp_modes(SimProvider::kCallButton), v1::LAMP_MODE_FLASH);
  const uint64_t seq = Seq();
  ASSERT_TRUE(Hook(v1::HOOK_SWITCH_DEVICE_HANDSET, v1::HOOK_SWITCH_MODE_MIC_SPEAKER).ok());
  EXPECT_EQ(State(callee), v1::CALL_STATE_CONNECTED);
  EXPECT_EQ(State(caller), v1::CALL_STATE_CONNECTED);
  p = Phone();
  EXPECT_EQ(p.status().ring_mode(), 0u);
  EXPECT_EQ(p.status().handset_mode(), v1::HOOK_SWITCH_MODE_MIC_SPEAKER);
  EXPECT_EQ(p.status().lamp_modes(SimProvider::kCallButton), v1::LAMP_MODE_STEADY);
  const auto changes = ChangesSince(seq);
  EXPECT_THAT(changes, ::testing::IsSupersetOf({"handset_mode", "ring_mode", "lamp_modes"}));

  // Keypad digits go to the far end as DTMF (it monitors them).
  v1::MonitorDigitsRequest monitor;
  monitor.set_call_id(caller);
  monitor.add_modes(v1::DIGIT_MODE_DTMF);
  ASSERT_TRUE(engine_->MonitorDigits(monitor).ok());
  const uint64_t keys = Seq();
  ASSERT_TRUE(Press(7).ok());
  ASSERT_TRUE(Press(SimProvider::kHashButton).ok());
  std::string digits;
  std::vector<v1::PhoneButtonState> presses;
  for (const v1::Event& e : EventsSince(keys)) {
    if (e.has_digit() && e.digit().call_id() == caller) digits += e.digit().digit();
    if (e.has_phone_button()) presses.push_back(e.phone_button().state());
    EXPECT_FALSE(e.has_digits_generated());
  }
  EXPECT_EQ(digits, "7#");
  EXPECT_THAT(presses, ::testing::ElementsAre(v1::PHONE_BUTTON_STATE_DOWN, v1::PHONE_BUTTON_STATE_UP,
                                              v1::PHONE_BUTTON_STATE_DOWN,
                                              v1::PHONE_BUTTON_STATE_UP));

  // HOLD puts the call on hold (the lamp winks), HOLD again takes it back.
  ASSERT_TRUE(Press(SimProvider::kHoldButton).ok());
  EXPECT_EQ(State(callee), v1::CALL_STATE_ONHOLD);
  EXPECT_EQ(Phone().status().lamp_modes(SimProvider::kCallButton), v1::LAMP_MODE_WINK);
  EXPECT_EQ(Phone().status().lamp_modes(SimProvider::kHoldButton), v1::LAMP_MODE_STEADY);
  ASSERT_TRUE(Press(SimProvider::kHoldButton).ok());
  EXPECT_EQ(State(callee), v1::CALL_STATE_CONNECTED);

  // Replacing the handset ends the call.
  ASSERT_TRUE(Hook(v1::HOOK_SWITCH_DEVICE_HANDSET, v1::HOOK_SWITCH_MODE_ONHOOK).ok());
  EXPECT_NE(State(callee), v1::CALL_STATE_CONNECTED);
  EXPECT_NE(State(caller), v1::CALL_STATE_CONNECTED);
  EXPECT_EQ(Phone().status().lamp_modes(SimProvider::kCallButton), v1::LAMP_MODE_OFF);
}

TEST_F(PhoneTest, OffHookGivesDialToneAndTheKeypadDials) {
  ASSERT_TRUE(Hook(v1::HOOK_SWITCH_DEVICE_SPEAKER, v1::HOOK_SWITCH_MODE_MIC_SPEAKER).ok());
  const std::string call = CallOn("100");
  EXPECT_EQ(State(call), v1::CALL_STATE_DIALTONE);
  EXPECT_EQ(Phone().status().lamp_modes(SimProvider::kCallButton), v1::LAMP_MODE_STEADY);
  for (uint32_t digit : {1u, 0u, 1u}) ASSERT_TRUE(Press(digit).ok());
  EXPECT_EQ(CallsOn("101"), 1);
  EXPECT_EQ(Phone("sim/phone/101").status().ring_mode(), 1u);
  // DROP ends the call being made; 101 stops ringing.
  ASSERT_TRUE(Press(SimProvider::kDropButton).ok());
  EXPECT_NE(State(call), v1::CALL_STATE_RINGBACK);
  EXPECT_EQ(Phone("sim/phone/101").status().ring_mode(), 0u);
}

TEST_F(PhoneTest, AClientsHookSwitchAnswersButAListeningSpeakerDoesNot) {
  const std::string s = Owner();
  v1::SetPhoneHookSwitchRequest hs;
  hs.set_session_id(s);
  hs.set_phone_id(kPhone);
  hs.add_devices(v1::HOOK_SWITCH_DEVICE_SPEAKER);
  hs.set_mode(v1::HOOK_SWITCH_MODE_SPEAKER);  // plays only: no dial tone
  ASSERT_TRUE(engine_->SetPhoneHookSwitch(hs).ok());
  EXPECT_EQ(CallsOn("100"), 0);
  Make("103", "100");
  const std::string callee = CallOn("100");
  hs.set_mode(v1::HOOK_SWITCH_MODE_MIC_SPEAKER);  // the speakerphone takes the call
  ASSERT_TRUE(engine_->SetPhoneHookSwitch(hs).ok());
  EXPECT_EQ(State(callee), v1::CALL_STATE_CONNECTED);
  hs.set_mode(v1::HOOK_SWITCH_MODE_ONHOOK);
  ASSERT_TRUE(engine_->SetPhoneHookSwitch(hs).ok());
  EXPECT_NE(State(callee), v1::CALL_STATE_CONNECTED);
}

TEST_F(PhoneTest, OperateErrors) {
  EXPECT_THAT(Press(16), IsPhoneError(StatusCode::kInvalidArgument, PHONEERR_INVALBUTTONLAMPID));
  EXPECT_THAT(Hook(v1::HOOK_SWITCH_DEVICE_HEADSET, v1::HOOK_SWITCH_MODE_ONHOOK),
              IsPhoneError(StatusCode::kInvalidArgument, PHONEERR_INVALHOOKSWITCHDEV));
  EXPECT_THAT(Hook(v1::HOOK_SWITCH_DEVICE_HANDSET, v1::HOOK_SWITCH_MODE_UNKNOWN),
              IsPhoneError(StatusCode::kInvalidArgument, PHONEERR_INVALHOOKSWITCHMODE));
  v1::OperatePhoneRequest nothing;
  nothing.set_phone_id(kPhone);
  EXPECT_THAT(engine_->OperatePhone(nothing),
              IsPhoneError(StatusCode::kInvalidArgument, PHONEERR_INVALPARAM));
  nothing.set_phone_id("sim/phone/nope");
  EXPECT_THAT(engine_->OperatePhone(nothing),
              IsPhoneError(StatusCode::kNotFound, PHONEERR_BADDEVICEID));
}

TEST_F(PhoneTest, AProviderWithoutOperationsRefusesIt) {
  ASSERT_TRUE(engine_->AddProvider(std::make_unique<BarePhoneProvider>()).ok());
  const v1::Phone bare = Phone("bare/phone/1");
  EXPECT_TRUE(bare.line_id().empty());
  EXPECT_EQ(bare.caps().display_rows(), 0u);
  EXPECT_THAT(Hook(v1::HOOK_SWITCH_DEVICE_HANDSET, v1::HOOK_SWITCH_MODE_MIC_SPEAKER, "bare/phone/1"),
              IsPhoneError(StatusCode::kUnimplemented, PHONEERR_OPERATIONUNAVAIL));
  // Its caps offer nothing a client may set.
  const std::string s = NewSession();
  ASSERT_TRUE(Open(s, v1::PRIVILEGE_OWNER, "bare/phone/1").ok());
  v1::SetPhoneRingRequest ring;
  ring.set_session_id(s);
  ring.set_phone_id("bare/phone/1");
  EXPECT_THAT(engine_->SetPhoneRing(ring),
              IsPhoneError(StatusCode::kUnimplemented, PHONEERR_OPERATIONUNAVAIL));
  v1::SetPhoneDisplayRequest display;
  display.set_session_id(s);
  display.set_phone_id("bare/phone/1");
  EXPECT_THAT(engine_->SetPhoneDisplay(display),
              IsPhoneError(StatusCode::kUnimplemented, PHONEERR_OPERATIONUNAVAIL));
}

TEST_F(PhoneTest, TheSnapshotHasThePhones) {
  v1::SubscribeRequest sub;
  sub.set_snapshot(true);
  sub.add_line_ids("sim/101");
  auto start = engine_->StartSubscription(sub);
  ASSERT_TRUE(start.ok());
  ASSERT_NE(start->snapshot, nullptr);
  ASSERT_EQ(start->snapshot->snapshot().phones_size(), 1);
  EXPECT_EQ(start->snapshot->snapshot().phones(0).id(), "sim/phone/101");
  sub.clear_line_ids();
  start = engine_->StartSubscription(sub);
  ASSERT_TRUE(start.ok());
  EXPECT_EQ(start->snapshot->snapshot().phones_size(), 7);
}

class NoPhonesTest : public SimFixture {
 protected:
  void SetUp() override {
    v1::config::SimConfig sim = TestPbx();
    sim.set_phones(false);
    Start(sim);
  }
};

TEST_F(NoPhonesTest, TheSimCanDoWithoutPhones) {
  EXPECT_EQ(engine_->ListPhones({})->phones_size(), 0);
  // Its lines still ring.
  Make("103", "100");
  EXPECT_EQ(State(CallOn("100")), v1::CALL_STATE_OFFERING);
}

}  // namespace
}  // namespace linebridge::testing
