// The remote TSP's phone devices under the TAPISRV harness, against a real
// linebridged (sim provider: a desk set "sim/phone/<ext>" per extension with
// a 2×40 display, keypad buttons 0-11, the call appearance 12, HOLD 13,
// TRANSFER 14, DROP 15, three ring modes, handset and speaker, two data
// areas). Driven as TAPISRV drives a provider: requests complete through
// ASYNC_COMPLETION, waits are on the completions and events (events race
// the replies); the harness checks that every request completes once and
// that no phone event follows phoneClose.
#include <gtest/gtest.h>
#include <stdlib.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstring>
#include <fstream>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "linebridge/linebridge_ext.h"
#include "tsp_test_util.h"
#include "linebridge/deadline.h"

namespace linebridge::tsp_test {
namespace {

constexpr DWORD kV30 = 0x00030000;
constexpr DWORD kCallButton = 12;

// PHONECAPS of `device` (0 and the buffer, or the error).
LONG Caps(TapiSrvHarness& h, DWORD device, std::vector<unsigned char>* b) {
  *b = Buffer(4096);
  return h.tspi().TSPI_phoneGetDevCaps(device, kV30, 0, reinterpret_cast<LPPHONECAPS>(b->data()));
}

// The phone device whose PHONECAPS.PhoneInfo is `phone_id` (enumerated or
// created); kNoDevice if none within 5 s.
DWORD PhoneDeviceOf(TapiSrvHarness& h, DWORD num_phones, const std::string& phone_id) {
  const absl::Time deadline = MonotonicNow() + absl::Seconds(5);
  for (;;) {
    std::vector<DWORD> ids;
    for (DWORD i = 0; i < num_phones; ++i) ids.push_back(TapiSrvHarness::kPhoneBase + i);
    for (DWORD id : h.created_phones()) ids.push_back(id);
    for (DWORD id : ids) {
      std::vector<unsigned char> b;
      if (Caps(h, id, &b) != 0) continue;
      const auto caps = Fixed<PHONECAPS>(b);
      if (String16At(b, caps.dwPhoneInfoSize, caps.dwPhoneInfoOffset) == phone_id) return id;
    }
    if (MonotonicNow() >= deadline) return kNoDevice;
    absl::SleepFor(absl::Milliseconds(10));
  }
}

bool IsPhoneState(const RecordedPhoneEvent& e, HTAPIPHONE ht, DWORD state) {
  return e.ht_phone == ht && e.msg == PHONE_STATE && e.p1 == state;
}

class TspPhoneTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/lb-tsp-phone.XXXXXX";
    dir_ = mkdtemp(tmpl);
    std::string error;
    ASSERT_TRUE(server_.Start(dir_, &error)) << error;
    config_ = WriteConfig("ws1");
    setenv("LINEBRIDGE_TSP_CONFIG", config_.c_str(), 1);
    const char* lib = std::getenv("LINEBRIDGE_TSP_LIBRARY");
    ASSERT_NE(lib, nullptr) << "LINEBRIDGE_TSP_LIBRARY is not set";
    ASSERT_TRUE(harness_.Load(lib, &error)) << error;
    ASSERT_EQ(harness_.Start(&num_lines_, &num_phones_), 0);
  }
  void TearDown() override {
    EXPECT_EQ(harness_.Stop(), 0);
    EXPECT_EQ(harness_.TakeViolations(), std::vector<std::string>{});
    server_.Stop();
    (void)std::system(absl::StrCat("rm -rf '", dir_, "'").c_str());
  }
  std::string WriteConfig(const std::string& name) {
    const std::string path = dir_ + "/" + name + ".conf";
    std::ofstream conf(path);
    conf << "server = " << server_.address() << "\n"
         << "device_map = " << dir_ << "/" << name << ".map\n"
         << "client_name = " << name << "\n"
         << "deadline_ms = 3000\n";
    return path;
  }

  TspiTable& T() { return harness_.tspi(); }
  template <typename F>
  LONG Run(F&& call) {
    const DRV_REQUESTID id = harness_.NextRequestId();
    const LONG r = call(id);
    harness_.Issued(id, r);
    return r == static_cast<LONG>(id) ? harness_.WaitCompletion(id) : r;
  }
  // phoneOpen of `phone_id`; returns once the server applied the (monitor)
  // open: its PHONE_STATE MONITORS.
  HDRVPHONE Open(const std::string& phone_id, HTAPIPHONE* ht) {
    const DWORD device = PhoneDeviceOf(harness_, num_phones_, phone_id);
    EXPECT_NE(device, kNoDevice) << phone_id;
    *ht = harness_.NewHtPhone();
    HDRVPHONE hd = nullptr;
    EXPECT_EQ(T().TSPI_phoneOpen(device, *ht, &hd, kV30, &TapiSrvHarness::PhoneEvent), 0);
    EXPECT_TRUE(harness_.WaitPhoneEvent(
        [&](const RecordedPhoneEvent& e) { return IsPhoneState(e, *ht, PHONESTATE_MONITORS); }))
        << "no PHONE_STATE MONITORS after phoneOpen";
    return hd;
  }
  void Close(HDRVPHONE hd, HTAPIPHONE ht) {
    EXPECT_EQ(T().TSPI_phoneClose(hd), 0);
    harness_.Closed(ht);
  }
  LONG SetDisplay(HDRVPHONE hd, const std::u16string& text, DWORD row = 0, DWORD column = 0) {
    return Run([&](DRV_REQUESTID id) {
      return T().TSPI_phoneSetDisplay(id, hd, row, column, reinterpret_cast<LPCWSTR>(text.c_str()),
                                      static_cast<DWORD>(text.size() * sizeof(char16_t)));
    });
  }
  std::string Display(HDRVPHONE hd) {
    auto b = Buffer(1024);
    if (T().TSPI_phoneGetDisplay(hd, reinterpret_cast<LPVARSTRING>(b.data())) != 0) return "?";
    const auto v = Fixed<VARSTRING>(b);
    return String16At(b, v.dwStringSize, v.dwStringOffset);
  }

  std::string dir_;
  std::string config_;
  ServerProcess server_;
  TapiSrvHarness harness_;
  DWORD num_lines_ = 0;
  DWORD num_phones_ = 0;
};

// providerEnumDevices reports the phones; PHONECAPS as the sim describes
// them; the checks before any device lookup.
TEST_F(TspPhoneTest, EnumeratesPhonesWithCaps) {
  ASSERT_GT(num_phones_, 0u);
  const DWORD device = PhoneDeviceOf(harness_, num_phones_, "sim/phone/100");
  ASSERT_NE(device, kNoDevice);
  DWORD version = 0;
  EXPECT_EQ(T().TSPI_phoneNegotiateTSPIVersion(device, 0x00010004, 0x00030001, &version), 0);
  EXPECT_EQ(version, kV30);
  EXPECT_EQ(T().TSPI_phoneNegotiateTSPIVersion(device, 0x00010003, 0x00010004, &version),
            PHONEERR_INCOMPATIBLEAPIVERSION);
  EXPECT_EQ(T().TSPI_phoneNegotiateTSPIVersion(9999, 0x00020000, 0x00030000, &version),
            PHONEERR_BADDEVICEID);

  std::vector<unsigned char> b;
  ASSERT_EQ(Caps(harness_, device, &b), 0);
  const auto caps = Fixed<PHONECAPS>(b);
  EXPECT_EQ(caps.dwUsedSize, caps.dwNeededSize);
  EXPECT_TRUE(PoisonIntact(b, 4096));
  EXPECT_EQ(caps.dwNumButtonLamps, 16u);
  EXPECT_EQ(caps.dwDisplayNumRows, 2u);
  EXPECT_EQ(caps.dwDisplayNumColumns, 40u);
  EXPECT_EQ(caps.dwNumRingModes, 3u);
  EXPECT_EQ(caps.dwHookSwitchDevs,
            static_cast<DWORD>(PHONEHOOKSWITCHDEV_HANDSET | PHONEHOOKSWITCHDEV_SPEAKER));
  EXPECT_EQ(caps.dwNumGetData, 2u);
  EXPECT_NE(caps.dwPhoneFeatures & PHONEFEATURE_SETDISPLAY, 0u);
  EXPECT_NE(caps.dwPhoneFeatures & PHONEFEATURE_SETLAMP, 0u);
  EXPECT_NE(caps.dwPhoneStates & PHONESTATE_LAMP, 0u);
  DWORD call_mode = 0;
  std::memcpy(&call_mode, b.data() + caps.dwButtonModesOffset + 4 * kCallButton, 4);
  EXPECT_EQ(call_mode, static_cast<DWORD>(PHONEBUTTONMODE_CALL));
  EXPECT_EQ(String16At(b, caps.dwDeviceClassesSize, caps.dwDeviceClassesOffset), "tapi/phone");

  // Below the fixed part: STRUCTURETOOSMALL, nothing written.
  auto small = Buffer(sizeof(PHONECAPS) - 1, 512);
  EXPECT_EQ(T().TSPI_phoneGetDevCaps(device, kV30, 0, reinterpret_cast<LPPHONECAPS>(small.data())),
            PHONEERR_STRUCTURETOOSMALL);
  EXPECT_TRUE(PoisonIntact(small, sizeof(PHONECAPS) - 1));
  // Too small for everything: the fixed part and dwNeededSize.
  auto fixed = Buffer(sizeof(PHONECAPS), 1024);
  ASSERT_EQ(T().TSPI_phoneGetDevCaps(device, kV30, 0, reinterpret_cast<LPPHONECAPS>(fixed.data())),
            0);
  EXPECT_EQ(Fixed<PHONECAPS>(fixed).dwNeededSize, caps.dwNeededSize);
  EXPECT_EQ(Fixed<PHONECAPS>(fixed).dwUsedSize, sizeof(PHONECAPS));
  EXPECT_TRUE(PoisonIntact(fixed, sizeof(PHONECAPS)));
  EXPECT_EQ(T().TSPI_phoneGetDevCaps(9999, kV30, 0, reinterpret_cast<LPPHONECAPS>(b.data())),
            PHONEERR_BADDEVICEID);
  EXPECT_EQ(T().TSPI_phoneGetDevCaps(device, kV30, 0, nullptr), PHONEERR_INVALPOINTER);
  EXPECT_EQ(T().TSPI_phoneGetDevCaps(device, kV30, 0x00990000,
                                     reinterpret_cast<LPPHONECAPS>(b.data())),
            PHONEERR_INCOMPATIBLEEXTVERSION);

  PHONEEXTENSIONID ext{};
  EXPECT_EQ(T().TSPI_phoneGetExtensionID(device, kV30, &ext), 0);
  EXPECT_EQ(ext.dwExtensionID0, LINEBRIDGE_EXT_ID0);
  DWORD ext_version = 0;
  EXPECT_EQ(T().TSPI_phoneNegotiateExtVersion(device, kV30, 0x00010000, 0x00010000, &ext_version), 0);
  EXPECT_EQ(ext_version, LINEBRIDGE_EXT_VERSION);
  HICON icon = reinterpret_cast<HICON>(1);
  EXPECT_EQ(T().TSPI_phoneGetIcon(device, reinterpret_cast<LPCWSTR>(u"tapi/phone"), &icon), 0);
  EXPECT_EQ(icon, nullptr);
}

// Display, lamp, ring, hookswitch, volume, gain, data and button info: set
// through the asynchronous requests, read back at once after each completion,
// with PHONE_STATE for each; the checks made before anything is sent.
TEST_F(TspPhoneTest, SetAndGetEveryPart) {
  HTAPIPHONE ht;
  const HDRVPHONE hd = Open("sim/phone/100", &ht);

  ASSERT_EQ(SetDisplay(hd, u"Hello"), 0);
  EXPECT_EQ(Display(hd).substr(0, 5), "Hello");
  EXPECT_TRUE(harness_.WaitPhoneEvent(
      [&](const RecordedPhoneEvent& e) { return IsPhoneState(e, ht, PHONESTATE_DISPLAY); }));
  EXPECT_EQ(SetDisplay(hd, u"x", 2, 0), PHONEERR_INVALPARAM);  // row 2 of 2

  // Now the owner: PHONESTATUS counts it.
  auto status = Buffer(2048);
  ASSERT_EQ(T().TSPI_phoneGetStatus(hd, reinterpret_cast<LPPHONESTATUS>(status.data())), 0);
  const auto st = Fixed<PHONESTATUS>(status);
  EXPECT_EQ(st.dwNumOwners, 1u);
  EXPECT_EQ(st.dwStatusFlags & PHONESTATUSFLAGS_CONNECTED, static_cast<DWORD>(PHONESTATUSFLAGS_CONNECTED));
  EXPECT_EQ(st.dwLampModesSize, 16u * 4);
  EXPECT_EQ(String16At(status, st.dwDisplaySize, st.dwDisplayOffset).substr(0, 5), "Hello");
  auto small_status = Buffer(sizeof(PHONESTATUS) - 4, 256);
  EXPECT_EQ(T().TSPI_phoneGetStatus(hd, reinterpret_cast<LPPHONESTATUS>(small_status.data())),
            PHONEERR_STRUCTURETOOSMALL);

  ASSERT_EQ(Run([&](DRV_REQUESTID id) {
              return T().TSPI_phoneSetLamp(id, hd, kCallButton, PHONELAMPMODE_WINK);
            }),
            0);
  DWORD lamp = 0;
  EXPECT_EQ(T().TSPI_phoneGetLamp(hd, kCallButton, &lamp), 0);
  EXPECT_EQ(lamp, static_cast<DWORD>(PHONELAMPMODE_WINK));
  RecordedPhoneEvent lamp_event;
  EXPECT_TRUE(harness_.WaitPhoneEvent(
      [&](const RecordedPhoneEvent& e) { return IsPhoneState(e, ht, PHONESTATE_LAMP); },
      absl::Seconds(5), &lamp_event));
  EXPECT_EQ(lamp_event.p2, kCallButton);
  EXPECT_EQ(Run([&](DRV_REQUESTID id) {
              return T().TSPI_phoneSetLamp(id, hd, kCallButton, PHONELAMPMODE_BROKENFLUTTER);
            }),
            PHONEERR_INVALLAMPMODE);
  EXPECT_EQ(Run([&](DRV_REQUESTID id) { return T().TSPI_phoneSetLamp(id, hd, 99, PHONELAMPMODE_OFF); }),
            PHONEERR_INVALBUTTONLAMPID);

  ASSERT_EQ(Run([&](DRV_REQUESTID id) { return T().TSPI_phoneSetRing(id, hd, 2, 1000); }), 0);
  DWORD ring = 0, volume = 0;
  EXPECT_EQ(T().TSPI_phoneGetRing(hd, &ring, &volume), 0);
  EXPECT_EQ(ring, 2u);
  EXPECT_EQ(volume, 1000u);
  EXPECT_EQ(Run([&](DRV_REQUESTID id) { return T().TSPI_phoneSetRing(id, hd, 4, 0); }),
            PHONEERR_INVALRINGMODE);
  ASSERT_EQ(Run([&](DRV_REQUESTID id) { return T().TSPI_phoneSetRing(id, hd, 0, 1000); }), 0);

  ASSERT_EQ(Run([&](DRV_REQUESTID id) {
              return T().TSPI_phoneSetHookSwitch(id, hd, PHONEHOOKSWITCHDEV_SPEAKER,
                                                 PHONEHOOKSWITCHMODE_SPEAKER);
            }),
            0);
  DWORD devs = 0;
  EXPECT_EQ(T().TSPI_phoneGetHookSwitch(hd, &devs), 0);
  EXPECT_EQ(devs, static_cast<DWORD>(PHONEHOOKSWITCHDEV_SPEAKER));
  EXPECT_TRUE(harness_.WaitPhoneEvent([&](const RecordedPhoneEvent& e) {
    return IsPhoneState(e, ht, PHONESTATE_SPEAKERHOOKSWITCH) && e.p2 == PHONEHOOKSWITCHMODE_SPEAKER;
  }));
  ASSERT_EQ(Run([&](DRV_REQUESTID id) {
              return T().TSPI_phoneSetHookSwitch(id, hd, PHONEHOOKSWITCHDEV_SPEAKER,
                                                 PHONEHOOKSWITCHMODE_ONHOOK);
            }),
            0);
  EXPECT_EQ(Run([&](DRV_REQUESTID id) {
              return T().TSPI_phoneSetHookSwitch(id, hd, PHONEHOOKSWITCHDEV_HEADSET,
                                                 PHONEHOOKSWITCHMODE_ONHOOK);
            }),
            PHONEERR_INVALHOOKSWITCHDEV);
  EXPECT_EQ(Run([&](DRV_REQUESTID id) {
              return T().TSPI_phoneSetHookSwitch(id, hd, PHONEHOOKSWITCHDEV_HANDSET,
                                                 PHONEHOOKSWITCHMODE_MIC);
            }),
            PHONEERR_INVALHOOKSWITCHMODE);

  ASSERT_EQ(Run([&](DRV_REQUESTID id) {
              return T().TSPI_phoneSetVolume(id, hd, PHONEHOOKSWITCHDEV_HANDSET, 1234);
            }),
            0);
  ASSERT_EQ(Run([&](DRV_REQUESTID id) {
              return T().TSPI_phoneSetGain(id, hd, PHONEHOOKSWITCHDEV_SPEAKER, 4321);
            }),
            0);
  DWORD level = 0;
  EXPECT_EQ(T().TSPI_phoneGetVolume(hd, PHONEHOOKSWITCHDEV_HANDSET, &level), 0);
  EXPECT_EQ(level, 1234u);
  EXPECT_EQ(T().TSPI_phoneGetGain(hd, PHONEHOOKSWITCHDEV_SPEAKER, &level), 0);
  EXPECT_EQ(level, 4321u);
  EXPECT_EQ(T().TSPI_phoneGetVolume(hd, PHONEHOOKSWITCHDEV_HEADSET, &level),
            PHONEERR_INVALHOOKSWITCHDEV);
  EXPECT_EQ(Run([&](DRV_REQUESTID id) {
              return T().TSPI_phoneSetVolume(id, hd, PHONEHOOKSWITCHDEV_HANDSET, 0x10000);
            }),
            PHONEERR_INVALPARAM);

  const char data[] = "speed dial 1";
  ASSERT_EQ(Run([&](DRV_REQUESTID id) {
              return T().TSPI_phoneSetData(id, hd, 1, const_cast<char*>(data), sizeof data);
            }),
            0);
  char back[32];
  std::memset(back, 0x55, sizeof back);
  ASSERT_EQ(T().TSPI_phoneGetData(hd, 1, back, sizeof back), 0);
  EXPECT_STREQ(back, data);
  EXPECT_EQ(T().TSPI_phoneGetData(hd, 2, back, sizeof back), PHONEERR_INVALDATAID);

  // Button info: the label of TRANSFER (14) changed, read back.
  std::vector<unsigned char> info(64, 0);
  const std::u16string label = u"Xfer";
  const DWORD total = 40 + static_cast<DWORD>((label.size() + 1) * 2);
  std::memcpy(info.data(), &total, 4);
  auto put = [&](size_t off, DWORD v) { std::memcpy(info.data() + off, &v, 4); };
  put(offsetof(PHONEBUTTONINFO, dwButtonMode), PHONEBUTTONMODE_FEATURE);
  put(offsetof(PHONEBUTTONINFO, dwButtonFunction), PHONEBUTTONFUNCTION_TRANSFER);
  put(offsetof(PHONEBUTTONINFO, dwButtonTextSize), static_cast<DWORD>((label.size() + 1) * 2));
  put(offsetof(PHONEBUTTONINFO, dwButtonTextOffset), 40);
  std::memcpy(info.data() + 40, label.c_str(), (label.size() + 1) * 2);
  ASSERT_EQ(Run([&](DRV_REQUESTID id) {
              return T().TSPI_phoneSetButtonInfo(id, hd, 14,
                                                 reinterpret_cast<LPPHONEBUTTONINFO>(info.data()));
            }),
            0);
  auto out = Buffer(256);
  ASSERT_EQ(T().TSPI_phoneGetButtonInfo(hd, 14, reinterpret_cast<LPPHONEBUTTONINFO>(out.data())), 0);
  const auto bi = Fixed<PHONEBUTTONINFO>(out);
  EXPECT_EQ(bi.dwButtonMode, static_cast<DWORD>(PHONEBUTTONMODE_FEATURE));
  EXPECT_EQ(bi.dwButtonFunction, static_cast<DWORD>(PHONEBUTTONFUNCTION_TRANSFER));
  EXPECT_EQ(String16At(out, bi.dwButtonTextSize, bi.dwButtonTextOffset), "Xfer");
  EXPECT_EQ(T().TSPI_phoneGetButtonInfo(hd, 16, reinterpret_cast<LPPHONEBUTTONINFO>(out.data())),
            PHONEERR_INVALBUTTONLAMPID);

  // phoneGetID: the phone itself and its line (sim/100's device).
  auto id = Buffer(64);
  ASSERT_EQ(T().TSPI_phoneGetID(hd, reinterpret_cast<LPVARSTRING>(id.data()),
                                reinterpret_cast<LPCWSTR>(u"tapi/line"), nullptr),
            0);
  DWORD line_device = 0;
  std::memcpy(&line_device, id.data() + Fixed<VARSTRING>(id).dwStringOffset, 4);
  EXPECT_EQ(line_device, DeviceOf(harness_, num_lines_, "sim/100"));
  EXPECT_EQ(T().TSPI_phoneGetID(hd, reinterpret_cast<LPVARSTRING>(id.data()),
                                reinterpret_cast<LPCWSTR>(u"wave/in"), nullptr),
            PHONEERR_INVALDEVICECLASS);

  // The extension only for those who selected it.
  LINEBRIDGE_PHONE_IDENTITY who{};
  who.dwCommand = LINEBRIDGE_DEVSPECIFIC_PHONE_IDENTITY;
  EXPECT_EQ(Run([&](DRV_REQUESTID rid) {
              return T().TSPI_phoneDevSpecific(rid, hd, &who, sizeof who);
            }),
            PHONEERR_OPERATIONUNAVAIL);
  ASSERT_EQ(T().TSPI_phoneSelectExtVersion(hd, LINEBRIDGE_EXT_VERSION), 0);
  ASSERT_EQ(Run([&](DRV_REQUESTID rid) {
              return T().TSPI_phoneDevSpecific(rid, hd, &who, sizeof who);
            }),
            0);
  EXPECT_STREQ(who.szPhoneId, "sim/phone/100");
  EXPECT_STREQ(who.szLineId, "sim/100");

  // Bad handles.
  const HDRVPHONE stale = reinterpret_cast<HDRVPHONE>(uintptr_t{0x7777});
  EXPECT_EQ(T().TSPI_phoneGetRing(stale, &ring, &volume), PHONEERR_INVALPHONEHANDLE);
  EXPECT_EQ(Run([&](DRV_REQUESTID rid) { return T().TSPI_phoneSetRing(rid, stale, 1, 1); }),
            PHONEERR_INVALPHONEHANDLE);
  EXPECT_EQ(T().TSPI_phoneGetRing(hd, nullptr, &volume), PHONEERR_INVALPOINTER);
  Close(hd, ht);
  EXPECT_EQ(T().TSPI_phoneClose(hd), PHONEERR_INVALPHONEHANDLE);
}

// The person at the phone presses a key: PHONE_BUTTON down, then up.
TEST_F(TspPhoneTest, ButtonPressIsReported) {
  HTAPIPHONE ht;
  const HDRVPHONE hd = Open("sim/phone/100", &ht);
  std::string out;
  ASSERT_EQ(RunTool("tsp_operate_phone", {server_.address(), "sim/phone/100", "press", "5"}, &out),
            0)
      << out;
  RecordedPhoneEvent down, up;
  ASSERT_TRUE(harness_.WaitPhoneEvent(
      [&](const RecordedPhoneEvent& e) {
        return e.ht_phone == ht && e.msg == PHONE_BUTTON && e.p3 == PHONEBUTTONSTATE_DOWN;
      },
      absl::Seconds(5), &down));
  ASSERT_TRUE(harness_.WaitPhoneEvent(
      [&](const RecordedPhoneEvent& e) {
        return e.ht_phone == ht && e.msg == PHONE_BUTTON && e.p3 == PHONEBUTTONSTATE_UP;
      },
      absl::Seconds(5), &up));
  EXPECT_EQ(down.p1, 5u);
  EXPECT_EQ(down.p2, static_cast<DWORD_PTR>(PHONEBUTTONMODE_KEYPAD));
  EXPECT_EQ(up.p1, 5u);
  // DOWN came first.
  long down_at = -1, up_at = -1;
  const auto events = harness_.phone_events();
  for (size_t i = 0; i < events.size(); ++i) {
    if (events[i].msg != PHONE_BUTTON) continue;
    if (events[i].p3 == PHONEBUTTONSTATE_DOWN && down_at < 0) down_at = static_cast<long>(i);
    if (events[i].p3 == PHONEBUTTONSTATE_UP && up_at < 0) up_at = static_cast<long>(i);
  }
  EXPECT_LT(down_at, up_at);
  auto info = Buffer(256);
  ASSERT_EQ(T().TSPI_phoneGetButtonInfo(hd, 5, reinterpret_cast<LPPHONEBUTTONINFO>(info.data())), 0);
  EXPECT_EQ(Fixed<PHONEBUTTONINFO>(info).dwButtonState, static_cast<DWORD>(PHONEBUTTONSTATE_UP));
  Close(hd, ht);
}

// phoneGetData answers from the workstation's mirror: what another
// application wrote arrives with the phone's events, and reading it needs no
// server (it is frozen here: a request to it would fail after deadline_ms).
// The server's loss and return are PHONE_STATE DISCONNECTED and CONNECTED on
// the open phone, and the data areas then are the new server's.
TEST_F(TspPhoneTest, DataComesFromTheMirrorAndTheServersLossIsReported) {
  HTAPIPHONE ht;
  const HDRVPHONE hd = Open("sim/phone/102", &ht);
  std::string out;
  ASSERT_EQ(RunTool("tsp_operate_phone", {server_.address(), "sim/phone/102", "data", "0", "hello"},
                    &out),
            0)
      << out;
  char back[16];
  auto read = [&] {
    std::memset(back, 0x55, sizeof back);
    EXPECT_EQ(T().TSPI_phoneGetData(hd, 0, back, sizeof back), 0);
    return std::string(back, sizeof back);
  };
  const std::string hello = std::string("hello") + std::string(sizeof back - 5, '\0');
  const absl::Time deadline = MonotonicNow() + absl::Seconds(5);
  while (read() != hello && MonotonicNow() < deadline) absl::SleepFor(absl::Milliseconds(5));
  EXPECT_EQ(read(), hello);

  server_.Pause();
  EXPECT_EQ(read(), hello);
  // Zero bytes asked: nothing written, no error.
  EXPECT_EQ(T().TSPI_phoneGetData(hd, 1, nullptr, 0), 0);
  server_.Resume();

  server_.Kill();
  EXPECT_TRUE(harness_.WaitPhoneEvent(
      [&](const RecordedPhoneEvent& e) { return IsPhoneState(e, ht, PHONESTATE_DISCONNECTED); },
      absl::Seconds(10)))
      << "no PHONE_STATE DISCONNECTED when the server went away";
  auto status = Buffer(1024);
  ASSERT_EQ(T().TSPI_phoneGetStatus(hd, reinterpret_cast<LPPHONESTATUS>(status.data())), 0);
  EXPECT_EQ(Fixed<PHONESTATUS>(status).dwStatusFlags & PHONESTATUSFLAGS_CONNECTED, 0u);
  std::string error;
  ASSERT_TRUE(server_.Restart(&error)) << error;
  EXPECT_TRUE(harness_.WaitPhoneEvent(
      [&](const RecordedPhoneEvent& e) { return IsPhoneState(e, ht, PHONESTATE_CONNECTED); },
      absl::Seconds(20)))
      << "no PHONE_STATE CONNECTED when the server came back";
  // The restarted server's areas are blank: the mirror follows it.
  const std::string blank(sizeof back, '\0');
  const absl::Time back_deadline = MonotonicNow() + absl::Seconds(10);
  while (read() != blank && MonotonicNow() < back_deadline) absl::SleepFor(absl::Milliseconds(5));
  EXPECT_EQ(read(), blank);
  status = Buffer(1024);
  ASSERT_EQ(T().TSPI_phoneGetStatus(hd, reinterpret_cast<LPPHONESTATUS>(status.data())), 0);
  EXPECT_NE(Fixed<PHONESTATUS>(status).dwStatusFlags & PHONESTATUSFLAGS_CONNECTED, 0u);
  Close(hd, ht);
}

// A call offered to the phone's extension rings the phone.
TEST_F(TspPhoneTest, OfferedCallRingsThePhone) {
  HTAPIPHONE ht;
  const HDRVPHONE hd = Open("sim/phone/101", &ht);
  std::string out;
  ASSERT_EQ(RunLinectl({"--server", server_.address(), "--timeout", "3s", "call", "make",
                        "sim/100", "101"},
                       &out),
            0)
      << out;
  RecordedPhoneEvent ring;
  ASSERT_TRUE(harness_.WaitPhoneEvent(
      [&](const RecordedPhoneEvent& e) { return IsPhoneState(e, ht, PHONESTATE_RINGMODE); },
      absl::Seconds(5), &ring));
  EXPECT_GT(ring.p2, 0u);
  DWORD mode = 0, volume = 0;
  EXPECT_EQ(T().TSPI_phoneGetRing(hd, &mode, &volume), 0);
  EXPECT_GT(mode, 0u);
  // The call appearance flashes.
  EXPECT_TRUE(harness_.WaitPhoneEvent([&](const RecordedPhoneEvent& e) {
    return IsPhoneState(e, ht, PHONESTATE_LAMP) && e.p2 == kCallButton;
  }));
  DWORD lamp = 0;
  EXPECT_EQ(T().TSPI_phoneGetLamp(hd, kCallButton, &lamp), 0);
  EXPECT_EQ(lamp, static_cast<DWORD>(PHONELAMPMODE_FLASH));
  Close(hd, ht);
}

// phoneClose while a request is on its way: the request completes (once,
// with the server's answer) and the close reaches the server after it, so
// the phone opens again cleanly; no event after phoneClose.
TEST_F(TspPhoneTest, CloseWithARequestInFlight) {
  for (int round = 0; round < 20; ++round) {
    SCOPED_TRACE(round);
    HTAPIPHONE ht;
    const HDRVPHONE hd = Open("sim/phone/102", &ht);
    const DRV_REQUESTID first = harness_.NextRequestId();
    const std::u16string text = u"round";
    LONG r = T().TSPI_phoneSetDisplay(first, hd, 0, 0, reinterpret_cast<LPCWSTR>(text.c_str()),
                                      static_cast<DWORD>(text.size() * 2));
    harness_.Issued(first, r);
    ASSERT_EQ(r, static_cast<LONG>(first));
    if (round % 2 == 1) {  // owner first, then the lamp goes at once
      ASSERT_EQ(harness_.WaitCompletion(first), 0);
    }
    const DRV_REQUESTID lamp = harness_.NextRequestId();
    r = T().TSPI_phoneSetLamp(lamp, hd, kCallButton, PHONELAMPMODE_STEADY);
    harness_.Issued(lamp, r);
    ASSERT_EQ(r, static_cast<LONG>(lamp));
    Close(hd, ht);
    const LONG first_result = harness_.WaitCompletion(first);
    const LONG lamp_result = harness_.WaitCompletion(lamp);
    EXPECT_NE(first_result, 1) << "never completed";
    EXPECT_NE(lamp_result, 1) << "never completed";
    if (round % 2 == 1) {
      EXPECT_EQ(lamp_result, 0);
    }
  }
  // Opened again: owner at once (the server saw every close).
  HTAPIPHONE ht;
  const HDRVPHONE hd = Open("sim/phone/102", &ht);
  EXPECT_EQ(SetDisplay(hd, u"again"), 0);
  auto status = Buffer(2048);
  ASSERT_EQ(T().TSPI_phoneGetStatus(hd, reinterpret_cast<LPPHONESTATUS>(status.data())), 0);
  EXPECT_EQ(Fixed<PHONESTATUS>(status).dwNumOwners, 1u);
  EXPECT_EQ(Fixed<PHONESTATUS>(status).dwNumMonitors, 0u);
  Close(hd, ht);
}

// providerShutdown with phones open and requests on their way: bounded,
// every request completed exactly once; a second start works.
TEST_F(TspPhoneTest, ShutdownWithPhonesOpen) {
  HTAPIPHONE ht1, ht2;
  const HDRVPHONE hd1 = Open("sim/phone/100", &ht1);
  const HDRVPHONE hd2 = Open("sim/phone/101", &ht2);
  ASSERT_EQ(SetDisplay(hd1, u"busy"), 0);
  std::vector<DRV_REQUESTID> ids;
  for (int i = 0; i < 5; ++i) {
    const DRV_REQUESTID id = harness_.NextRequestId();
    const LONG r = T().TSPI_phoneSetRing(id, i % 2 == 0 ? hd1 : hd2, 1, 100 * i);
    harness_.Issued(id, r);
    ASSERT_EQ(r, static_cast<LONG>(id));
    ids.push_back(id);
  }
  const absl::Time start = absl::Now();
  ASSERT_EQ(harness_.Stop(), 0);
  EXPECT_LT(absl::Now() - start, absl::Seconds(2));
  for (DRV_REQUESTID id : ids) EXPECT_NE(harness_.WaitCompletion(id, absl::ZeroDuration()), 1);
  ASSERT_EQ(harness_.Start(&num_lines_, &num_phones_), 0);
  HTAPIPHONE ht;
  const HDRVPHONE hd = Open("sim/phone/100", &ht);
  EXPECT_EQ(SetDisplay(hd, u"back"), 0);
  Close(hd, ht);
}

// The second workstation: owner of the phone the first one owns is refused.
// Runs as a child of OwnerTwiceIsInUse (disabled in a normal run).
TEST(TspPhoneWorkstation, DISABLED_SecondOwner) {
  const char* lib = std::getenv("LINEBRIDGE_TSP_LIBRARY");
  ASSERT_NE(lib, nullptr);
  TapiSrvHarness harness;
  std::string error;
  ASSERT_TRUE(harness.Load(lib, &error)) << error;
  DWORD lines = 0, phones = 0;
  ASSERT_EQ(harness.Start(&lines, &phones), 0);
  const DWORD device = PhoneDeviceOf(harness, phones, "sim/phone/100");
  ASSERT_NE(device, kNoDevice);
  const HTAPIPHONE ht = harness.NewHtPhone();
  HDRVPHONE hd = nullptr;
  ASSERT_EQ(harness.tspi().TSPI_phoneOpen(device, ht, &hd, kV30, &TapiSrvHarness::PhoneEvent), 0);
  const std::u16string text = u"mine";
  const DRV_REQUESTID id = harness.NextRequestId();
  const LONG r = harness.tspi().TSPI_phoneSetDisplay(
      id, hd, 0, 0, reinterpret_cast<LPCWSTR>(text.c_str()), static_cast<DWORD>(text.size() * 2));
  harness.Issued(id, r);
  ASSERT_EQ(r, static_cast<LONG>(id));
  EXPECT_EQ(harness.WaitCompletion(id), PHONEERR_INUSE);
  // Reading needs no ownership.
  DWORD mode = 0, volume = 0;
  EXPECT_EQ(harness.tspi().TSPI_phoneGetRing(hd, &mode, &volume), 0);
  EXPECT_EQ(harness.tspi().TSPI_phoneClose(hd), 0);
  EXPECT_EQ(harness.Stop(), 0);
  EXPECT_EQ(harness.violations(), std::vector<std::string>{});
  std::fflush(nullptr);
  _exit(::testing::Test::HasFailure() ? 1 : 0);
}

TEST_F(TspPhoneTest, OwnerTwiceIsInUse) {
  HTAPIPHONE ht;
  const HDRVPHONE hd = Open("sim/phone/100", &ht);
  ASSERT_EQ(SetDisplay(hd, u"first"), 0);  // this workstation owns it now
  const std::string second = WriteConfig("ws2");
  const pid_t pid = fork();
  if (pid == 0) {
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    setenv("LINEBRIDGE_TSP_CONFIG", second.c_str(), 1);
    execl("/proc/self/exe", "tsp_phone_test", "--gtest_filter=TspPhoneWorkstation.DISABLED_SecondOwner",
          "--gtest_also_run_disabled_tests", static_cast<char*>(nullptr));
    _exit(127);
  }
  ASSERT_GT(pid, 0);
  int status = -1;
  ASSERT_TRUE(WaitOrKill(pid, absl::Seconds(40), &status));
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << "second workstation failed";
  // Still ours, still showing our text.
  EXPECT_EQ(Display(hd).substr(0, 5), "first");
  Close(hd, ht);
}

}  // namespace
}  // namespace linebridge::tsp_test
