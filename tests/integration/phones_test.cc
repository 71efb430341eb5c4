// Phones over real gRPC (docs/api.md#phones): the snapshot's phones, opens
// and ownership, every Set* with its event and GetPhone reflecting it, the
// sim's desk set ringing, answering, sending DTMF and hanging up, every
// PHONEERR in the TapiError detail, and hostile input.
#include <gtest/gtest.h>

#include <string>

#include "google/rpc/status.pb.h"
#include "linebridge/lineerr.h"
#include "linebridge/v1/types.pb.h"
#include "test_server.h"

namespace linebridge::itest {
namespace {

using Stub = v1::Telephony::Stub;
constexpr char kPhone[] = "sim/phone/100";
constexpr uint32_t kCallButton = 12;

// A failed phone RPC: this code, and exactly one TapiError with lineerr 0
// and this PHONEERR (value and name).
void ExpectPhoneErr(const grpc::Status& st, grpc::StatusCode code, uint32_t phoneerr,
                    const std::string& what) {
  SCOPED_TRACE(what);
  EXPECT_EQ(st.error_code(), code) << st.error_message();
  google::rpc::Status rich;
  ASSERT_TRUE(rich.ParseFromString(st.error_details())) << st.error_message();
  ASSERT_EQ(rich.details_size(), 1);
  v1::TapiError err;
  ASSERT_TRUE(rich.details(0).UnpackTo(&err));
  EXPECT_EQ(err.lineerr(), 0u);
  EXPECT_EQ(err.phoneerr(), phoneerr) << err.name() << ": " << st.error_message();
  EXPECT_EQ(err.name(), std::string(PhoneErrName(phoneerr)));
}

class PhonesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    t_ = TestServer::Start();
    ASSERT_NE(t_, nullptr);
  }
  Stub& tel() { return t_->telephony(); }
  std::string Session() {
    v1::CreateSessionRequest req;
    req.set_client_name("phones");
    v1::Session s;
    EXPECT_TRUE(Rpc(tel(), &Stub::CreateSession, req, &s).ok());
    return s.id();
  }
  grpc::Status Open(const std::string& session, v1::Privilege p, v1::Phone* out = nullptr) {
    v1::OpenPhoneRequest req;
    req.set_session_id(session);
    req.set_phone_id(kPhone);
    req.set_privilege(p);
    v1::Phone phone;
    grpc::Status st = Rpc(tel(), &Stub::OpenPhone, req, &phone);
    if (out != nullptr) *out = phone;
    return st;
  }
  v1::Phone Get() {
    v1::GetPhoneRequest req;
    req.set_phone_id(kPhone);
    v1::Phone p;
    EXPECT_TRUE(Rpc(tel(), &Stub::GetPhone, req, &p).ok());
    return p;
  }
  grpc::Status Operate(const v1::OperatePhoneRequest& req) {
    v1::Phone p;
    return Rpc(tel(), &Stub::OperatePhone, req, &p);
  }
  grpc::Status Press(uint32_t button) {
    v1::OperatePhoneRequest req;
    req.set_phone_id(kPhone);
    req.set_press_button(button);
    return Operate(req);
  }
  grpc::Status Hook(v1::HookSwitchMode mode) {
    v1::OperatePhoneRequest req;
    req.set_phone_id(kPhone);
    req.mutable_hookswitch()->set_device(v1::HOOK_SWITCH_DEVICE_HANDSET);
    req.mutable_hookswitch()->set_mode(mode);
    return Operate(req);
  }
  // Waits for a phone_state of the phone that changed `item`.
  std::optional<v1::Event> WaitChange(EventReader& reader, const std::string& item) {
    return reader.WaitFor([&](const v1::Event& e) {
      if (!e.has_phone_state() || e.phone_id() != kPhone) return false;
      for (const std::string& c : e.phone_state().changed()) {
        if (c == item) return true;
      }
      return false;
    });
  }
  std::unique_ptr<TestServer> t_;
};

TEST_F(PhonesTest, TheSnapshotAndListHaveEveryExtensionsPhone) {
  v1::SubscribeRequest sub;
  sub.set_snapshot(true);
  EventReader reader(tel(), sub);
  auto first = reader.Next();
  ASSERT_TRUE(first.has_value());
  ASSERT_TRUE(first->has_snapshot());
  EXPECT_EQ(first->snapshot().phones_size(), first->snapshot().lines_size());
  bool found = false;
  for (const v1::Phone& p : first->snapshot().phones()) {
    if (p.id() != kPhone) continue;
    found = true;
    EXPECT_EQ(p.line_id(), "sim/100");
    EXPECT_EQ(p.provider(), "sim");
    EXPECT_EQ(p.caps().num_button_lamps(), 16u);
  }
  EXPECT_TRUE(found);
  v1::ListPhonesRequest list;
  list.set_line_id("sim/100");
  v1::ListPhonesResponse phones;
  ASSERT_TRUE(Rpc(tel(), &Stub::ListPhones, list, &phones).ok());
  ASSERT_EQ(phones.phones_size(), 1);
  EXPECT_EQ(phones.phones(0).id(), kPhone);
}

TEST_F(PhonesTest, OneOwnerAndTheSessionsEndReleasesIt) {
  EventReader reader(tel(), v1::SubscribeRequest());
  ASSERT_TRUE(reader.Next().has_value());  // the snapshot: events follow
  const std::string a = Session(), b = Session();
  ASSERT_TRUE(Open(a, v1::PRIVILEGE_OWNER).ok());
  auto owned = WaitChange(reader, "num_owners");
  ASSERT_TRUE(owned.has_value());
  EXPECT_EQ(owned->phone_state().status().num_owners(), 1u);
  EXPECT_EQ(owned->line_id(), "sim/100");
  ExpectPhoneErr(Open(b, v1::PRIVILEGE_OWNER), grpc::StatusCode::RESOURCE_EXHAUSTED,
                 PHONEERR_INUSE, "second owner");
  v1::Phone monitored;
  ASSERT_TRUE(Open(b, v1::PRIVILEGE_MONITOR, &monitored).ok());
  EXPECT_EQ(monitored.status().num_monitors(), 1u);
  v1::CloseSessionRequest close;
  close.set_session_id(a);
  v1::CloseSessionResponse closed;
  ASSERT_TRUE(Rpc(tel(), &Stub::CloseSession, close, &closed).ok());
  auto released = reader.WaitFor([](const v1::Event& e) {
    return e.has_phone_state() && e.phone_state().status().num_owners() == 0;
  });
  ASSERT_TRUE(released.has_value());
  EXPECT_TRUE(Open(b, v1::PRIVILEGE_OWNER).ok());
}

TEST_F(PhonesTest, EverySetterChangesThePhoneAndSaysSo) {
  EventReader reader(tel(), v1::SubscribeRequest());
  ASSERT_TRUE(reader.Next().has_value());  // the snapshot: events follow
  const std::string s = Session();
  ASSERT_TRUE(Open(s, v1::PRIVILEGE_OWNER).ok());
  v1::Phone out;

  v1::SetPhoneDisplayRequest display;
  display.set_session_id(s);
  display.set_phone_id(kPhone);
  display.set_row(1);
  display.set_column(2);
  display.set_text("Hello");
  ASSERT_TRUE(Rpc(tel(), &Stub::SetPhoneDisplay, display, &out).ok());
  ASSERT_TRUE(WaitChange(reader, "display").has_value());
  EXPECT_EQ(Get().status().display().substr(42, 5), "Hello");

  v1::SetPhoneLampRequest lamp;
  lamp.set_session_id(s);
  lamp.set_phone_id(kPhone);
  lamp.set_button_lamp_id(kCallButton);
  lamp.set_mode(v1::LAMP_MODE_WINK);
  ASSERT_TRUE(Rpc(tel(), &Stub::SetPhoneLamp, lamp, &out).ok());
  auto lamp_event = WaitChange(reader, "lamp_modes");
  ASSERT_TRUE(lamp_event.has_value());
  EXPECT_EQ(lamp_event->phone_state().button_lamp_id(), kCallButton);
  EXPECT_EQ(Get().status().lamp_modes(kCallButton), v1::LAMP_MODE_WINK);

  v1::SetPhoneRingRequest ring;
  ring.set_session_id(s);
  ring.set_phone_id(kPhone);
  ring.set_ring_mode(2);
  ring.set_volume(1000);
  ASSERT_TRUE(Rpc(tel(), &Stub::SetPhoneRing, ring, &out).ok());
  ASSERT_TRUE(WaitChange(reader, "ring_mode").has_value());
  EXPECT_EQ(Get().status().ring_mode(), 2u);
  EXPECT_EQ(Get().status().ring_volume(), 1000u);

  v1::SetPhoneLevelRequest level;
  level.set_session_id(s);
  level.set_phone_id(kPhone);
  level.set_device(v1::HOOK_SWITCH_DEVICE_HANDSET);
  level.set_level(65535);
  ASSERT_TRUE(Rpc(tel(), &Stub::SetPhoneVolume, level, &out).ok());
  ASSERT_TRUE(WaitChange(reader, "handset_volume").has_value());
  level.set_level(7);
  ASSERT_TRUE(Rpc(tel(), &Stub::SetPhoneGain, level, &out).ok());
  ASSERT_TRUE(WaitChange(reader, "handset_gain").has_value());
  EXPECT_EQ(Get().status().handset_volume(), 65535u);
  EXPECT_EQ(Get().status().handset_gain(), 7u);

  v1::SetPhoneHookSwitchRequest hs;
  hs.set_session_id(s);
  hs.set_phone_id(kPhone);
  hs.add_devices(v1::HOOK_SWITCH_DEVICE_SPEAKER);
  hs.set_mode(v1::HOOK_SWITCH_MODE_SPEAKER);
  ASSERT_TRUE(Rpc(tel(), &Stub::SetPhoneHookSwitch, hs, &out).ok());
  ASSERT_TRUE(WaitChange(reader, "speaker_mode").has_value());
  EXPECT_EQ(Get().status().speaker_mode(), v1::HOOK_SWITCH_MODE_SPEAKER);

  v1::SetPhoneButtonInfoRequest bi;
  bi.set_session_id(s);
  bi.set_phone_id(kPhone);
  bi.mutable_button()->set_id(15);
  bi.mutable_button()->set_mode(v1::PHONE_BUTTON_MODE_FEATURE);
  bi.mutable_button()->set_function(v1::PHONE_BUTTON_FUNCTION_REDIRECT);
  bi.mutable_button()->set_text("Fwd");
  ASSERT_TRUE(Rpc(tel(), &Stub::SetPhoneButtonInfo, bi, &out).ok());
  auto buttons = WaitChange(reader, "buttons");
  ASSERT_TRUE(buttons.has_value());
  EXPECT_EQ(buttons->phone_state().buttons(15).text(), "Fwd");
  EXPECT_EQ(Get().buttons(15).function(), v1::PHONE_BUTTON_FUNCTION_REDIRECT);

  v1::SetPhoneDataRequest data;
  data.set_session_id(s);
  data.set_phone_id(kPhone);
  data.set_data_id(0);
  data.set_data("speed dial 101");
  ASSERT_TRUE(Rpc(tel(), &Stub::SetPhoneData, data, &out).ok());
  v1::GetPhoneDataRequest get;
  get.set_phone_id(kPhone);
  v1::PhoneData got;
  ASSERT_TRUE(Rpc(tel(), &Stub::GetPhoneData, get, &got).ok());
  EXPECT_EQ(got.data().size(), 256u);
  EXPECT_EQ(got.data().substr(0, 14), "speed dial 101");
}

TEST_F(PhonesTest, TheDeskSetRingsAnswersSendsDigitsAndHangsUp) {
  v1::SubscribeRequest sub;
  sub.add_line_ids("sim/100");
  sub.add_line_ids("sim/103");
  EventReader reader(tel(), sub);
  ASSERT_TRUE(reader.Next().has_value());  // the snapshot: events follow
  v1::Call caller;
  ASSERT_TRUE(MakeCall(tel(), "sim/103", "100", &caller).ok());
  std::vector<v1::Event> before;
  auto ringing = reader.WaitFor(
      [](const v1::Event& e) {
        return e.has_phone_state() && e.phone_id() == kPhone &&
               e.phone_state().status().ring_mode() == 1;
      },
      kTimeout, &before);
  ASSERT_TRUE(ringing.has_value()) << [&] {
    std::string kinds;
    for (const v1::Event& e : before) kinds += e.ShortDebugString().substr(0, 160) + "\n";
    return kinds;
  }();
  EXPECT_EQ(Get().status().lamp_modes(kCallButton), v1::LAMP_MODE_FLASH);
  auto calls = CallsOn(tel(), "sim/100");
  ASSERT_EQ(calls.size(), 1u);
  const std::string callee = calls[0].id();

  ASSERT_TRUE(Hook(v1::HOOK_SWITCH_MODE_MIC_SPEAKER).ok());
  auto answered = reader.WaitFor([&](const v1::Event& e) {
    return e.has_call_state() && e.call_state().call_id() == callee &&
           e.call_state().status().state() == v1::CALL_STATE_CONNECTED;
  });
  ASSERT_TRUE(answered.has_value());
  EXPECT_EQ(Get().status().ring_mode(), 0u);
  EXPECT_EQ(Get().status().lamp_modes(kCallButton), v1::LAMP_MODE_STEADY);

  // The far end monitors DTMF; keypad 5 reaches it, with PHONE_BUTTON down and up.
  v1::MonitorDigitsRequest monitor;
  monitor.set_call_id(caller.id());
  monitor.add_modes(v1::DIGIT_MODE_DTMF);
  v1::Call monitored;
  ASSERT_TRUE(Rpc(tel(), &Stub::MonitorDigits, monitor, &monitored).ok());
  ASSERT_TRUE(Press(5).ok());
  std::vector<v1::Event> seen;
  auto digit = reader.WaitFor(
      [&](const v1::Event& e) { return e.has_digit() && e.digit().call_id() == caller.id(); },
      kTimeout, &seen);
  ASSERT_TRUE(digit.has_value());
  EXPECT_EQ(digit->digit().digit(), "5");
  auto up = reader.WaitFor([](const v1::Event& e) {
    return e.has_phone_button() && e.phone_button().state() == v1::PHONE_BUTTON_STATE_UP;
  }, kTimeout, &seen);
  ASSERT_TRUE(up.has_value());
  EXPECT_EQ(up->phone_button().button_lamp_id(), 5u);
  EXPECT_EQ(up->phone_button().mode(), v1::PHONE_BUTTON_MODE_KEYPAD);
  int downs = 0;
  for (const v1::Event& e : seen) {
    if (e.has_phone_button() && e.phone_button().state() == v1::PHONE_BUTTON_STATE_DOWN) ++downs;
  }
  EXPECT_EQ(downs, 1);

  ASSERT_TRUE(Hook(v1::HOOK_SWITCH_MODE_ONHOOK).ok());
  auto dropped = reader.WaitFor([&](const v1::Event& e) {
    return e.has_call_state() && e.call_state().call_id() == caller.id() &&
           e.call_state().status().state() == v1::CALL_STATE_DISCONNECTED;
  });
  ASSERT_TRUE(dropped.has_value());
}

TEST_F(PhonesTest, EveryRefusalCarriesItsPhoneErr) {
  const std::string owner = Session(), monitor = Session();
  ASSERT_TRUE(Open(owner, v1::PRIVILEGE_OWNER).ok());
  ASSERT_TRUE(Open(monitor, v1::PRIVILEGE_MONITOR).ok());
  v1::Phone out;
  v1::GetPhoneRequest get;
  get.set_phone_id("sim/phone/404");
  ExpectPhoneErr(Rpc(tel(), &Stub::GetPhone, get, &out), grpc::StatusCode::NOT_FOUND,
                 PHONEERR_BADDEVICEID, "unknown phone");

  v1::SetPhoneDisplayRequest display;
  display.set_session_id(monitor);
  display.set_phone_id(kPhone);
  display.set_text("x");
  ExpectPhoneErr(Rpc(tel(), &Stub::SetPhoneDisplay, display, &out),
                 grpc::StatusCode::FAILED_PRECONDITION, PHONEERR_NOTOWNER, "monitor sets");
  display.set_session_id(owner);
  display.set_row(2);
  ExpectPhoneErr(Rpc(tel(), &Stub::SetPhoneDisplay, display, &out),
                 grpc::StatusCode::INVALID_ARGUMENT, PHONEERR_INVALPARAM, "row outside");
  display.set_row(0);
  display.set_text(std::string(100000, 'y'));
  ExpectPhoneErr(Rpc(tel(), &Stub::SetPhoneDisplay, display, &out),
                 grpc::StatusCode::INVALID_ARGUMENT, PHONEERR_INVALPARAM, "huge display text");

  v1::SetPhoneHookSwitchRequest hs;
  hs.set_session_id(owner);
  hs.set_phone_id(kPhone);
  hs.add_devices(v1::HOOK_SWITCH_DEVICE_HEADSET);
  hs.set_mode(v1::HOOK_SWITCH_MODE_ONHOOK);
  ExpectPhoneErr(Rpc(tel(), &Stub::SetPhoneHookSwitch, hs, &out),
                 grpc::StatusCode::INVALID_ARGUMENT, PHONEERR_INVALHOOKSWITCHDEV, "headset");
  hs.set_devices(0, v1::HOOK_SWITCH_DEVICE_HANDSET);
  hs.set_mode(static_cast<v1::HookSwitchMode>(1234));
  ExpectPhoneErr(Rpc(tel(), &Stub::SetPhoneHookSwitch, hs, &out),
                 grpc::StatusCode::INVALID_ARGUMENT, PHONEERR_INVALHOOKSWITCHMODE, "unknown mode");

  v1::SetPhoneLampRequest lamp;
  lamp.set_session_id(owner);
  lamp.set_phone_id(kPhone);
  lamp.set_button_lamp_id(kCallButton);
  lamp.set_mode(static_cast<v1::LampMode>(99));
  ExpectPhoneErr(Rpc(tel(), &Stub::SetPhoneLamp, lamp, &out), grpc::StatusCode::INVALID_ARGUMENT,
                 PHONEERR_INVALLAMPMODE, "unknown lamp mode");
  lamp.set_button_lamp_id(1000);
  ExpectPhoneErr(Rpc(tel(), &Stub::SetPhoneLamp, lamp, &out), grpc::StatusCode::INVALID_ARGUMENT,
                 PHONEERR_INVALBUTTONLAMPID, "no such lamp");

  v1::SetPhoneRingRequest ring;
  ring.set_session_id(owner);
  ring.set_phone_id(kPhone);
  ring.set_ring_mode(9);
  ExpectPhoneErr(Rpc(tel(), &Stub::SetPhoneRing, ring, &out), grpc::StatusCode::INVALID_ARGUMENT,
                 PHONEERR_INVALRINGMODE, "ring mode 9");

  v1::SetPhoneLevelRequest level;
  level.set_session_id(owner);
  level.set_phone_id(kPhone);
  level.set_device(v1::HOOK_SWITCH_DEVICE_SPEAKER);
  level.set_level(0xffffffff);
  ExpectPhoneErr(Rpc(tel(), &Stub::SetPhoneVolume, level, &out),
                 grpc::StatusCode::INVALID_ARGUMENT, PHONEERR_INVALPARAM, "level too high");

  v1::SetPhoneDataRequest data;
  data.set_session_id(owner);
  data.set_phone_id(kPhone);
  data.set_data(std::string(257, 'z'));
  ExpectPhoneErr(Rpc(tel(), &Stub::SetPhoneData, data, &out), grpc::StatusCode::INVALID_ARGUMENT,
                 PHONEERR_INVALPARAM, "data larger than the area");
  data.set_data_id(5);
  data.set_data("z");
  ExpectPhoneErr(Rpc(tel(), &Stub::SetPhoneData, data, &out), grpc::StatusCode::INVALID_ARGUMENT,
                 PHONEERR_INVALDATAID, "no data area 5");

  v1::OpenPhoneRequest open;
  open.set_session_id("s-00000000000000000000000000000000");
  open.set_phone_id(kPhone);
  open.set_privilege(v1::PRIVILEGE_MONITOR);
  ExpectPhoneErr(Rpc(tel(), &Stub::OpenPhone, open, &out), grpc::StatusCode::NOT_FOUND,
                 PHONEERR_INVALAPPHANDLE, "unknown session");

  ExpectPhoneErr(Press(99), grpc::StatusCode::INVALID_ARGUMENT, PHONEERR_INVALBUTTONLAMPID,
                 "press a button the phone lacks");
  // Nothing above changed the phone.
  const v1::Phone p = Get();
  EXPECT_EQ(p.status().display(), std::string(80, ' '));
  EXPECT_EQ(p.status().ring_mode(), 0u);
}

}  // namespace
}  // namespace linebridge::itest
