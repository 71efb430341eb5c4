#include "tapi_mapping.h"

#include <gtest/gtest.h>

#include <bit>
#include <set>
#include <span>
#include <string>
#include <string_view>

#include "google/protobuf/generated_enum_reflection.h"

namespace linebridge::tsp {
namespace {

// The TAPI constants of one family, by name, from tapi_abi_constants.h (the
// lists the ABI conformance check proves equal to the Windows headers).
struct Constant {
  std::string_view name;
  DWORD value;
};
#define LB_CONSTANT(NAME, VALUE) Constant{#NAME, static_cast<DWORD>(NAME)},
constexpr Constant kLineCallState[] = {LINEBRIDGE_TAPI_LINECALLSTATE(LB_CONSTANT)};
constexpr Constant kLineDialToneMode[] = {LINEBRIDGE_TAPI_LINEDIALTONEMODE(LB_CONSTANT)};
constexpr Constant kLineBusyMode[] = {LINEBRIDGE_TAPI_LINEBUSYMODE(LB_CONSTANT)};
constexpr Constant kLineSpecialInfo[] = {LINEBRIDGE_TAPI_LINESPECIALINFO(LB_CONSTANT)};
constexpr Constant kLineConnectedMode[] = {LINEBRIDGE_TAPI_LINECONNECTEDMODE(LB_CONSTANT)};
constexpr Constant kLineOfferingMode[] = {LINEBRIDGE_TAPI_LINEOFFERINGMODE(LB_CONSTANT)};
constexpr Constant kLineDisconnectMode[] = {LINEBRIDGE_TAPI_LINEDISCONNECTMODE(LB_CONSTANT)};
constexpr Constant kLineMediaMode[] = {LINEBRIDGE_TAPI_LINEMEDIAMODE(LB_CONSTANT)};
constexpr Constant kLineBearerMode[] = {LINEBRIDGE_TAPI_LINEBEARERMODE(LB_CONSTANT)};
constexpr Constant kLineCallFeature[] = {LINEBRIDGE_TAPI_LINECALLFEATURE(LB_CONSTANT)};
constexpr Constant kLineAddrFeature[] = {LINEBRIDGE_TAPI_LINEADDRFEATURE(LB_CONSTANT)};
constexpr Constant kLineForwardMode[] = {LINEBRIDGE_TAPI_LINEFORWARDMODE(LB_CONSTANT)};
constexpr Constant kLineDigitMode[] = {LINEBRIDGE_TAPI_LINEDIGITMODE(LB_CONSTANT)};
constexpr Constant kLineCallOrigin[] = {LINEBRIDGE_TAPI_LINECALLORIGIN(LB_CONSTANT)};
constexpr Constant kLineCallReason[] = {LINEBRIDGE_TAPI_LINECALLREASON(LB_CONSTANT)};
constexpr Constant kLineCallPrivilege[] = {LINEBRIDGE_TAPI_LINECALLPRIVILEGE(LB_CONSTANT)};
constexpr Constant kLineParkMode[] = {LINEBRIDGE_TAPI_LINEPARKMODE(LB_CONSTANT)};
constexpr Constant kLineTransferMode[] = {LINEBRIDGE_TAPI_LINETRANSFERMODE(LB_CONSTANT)};
constexpr Constant kLineDevState[] = {LINEBRIDGE_TAPI_LINEDEVSTATE(LB_CONSTANT)};
#undef LB_CONSTANT

// Per enum: its value-name prefix, the TAPI family and prefix, and whether the
// enum covers the whole family.
template <typename E>
struct Spec;
#define LB_SPEC(E, PROTO_PREFIX, FAMILY, TAPI_PREFIX, COMPLETE)              \
  template <>                                                                \
  struct Spec<E> {                                                           \
    static constexpr std::string_view kProtoPrefix = PROTO_PREFIX;           \
    static constexpr std::span<const Constant> kFamily = FAMILY;             \
    static constexpr std::string_view kTapiPrefix = TAPI_PREFIX;             \
    static constexpr bool kComplete = COMPLETE;                              \
  };
LB_SPEC(v1::CallState, "CALL_STATE_", kLineCallState, "LINECALLSTATE_", true)
LB_SPEC(v1::DialToneMode, "DIAL_TONE_MODE_", kLineDialToneMode, "LINEDIALTONEMODE_", true)
LB_SPEC(v1::BusyMode, "BUSY_MODE_", kLineBusyMode, "LINEBUSYMODE_", true)
LB_SPEC(v1::SpecialInfoMode, "SPECIAL_INFO_MODE_", kLineSpecialInfo, "LINESPECIALINFO_", true)
LB_SPEC(v1::ConnectedMode, "CONNECTED_MODE_", kLineConnectedMode, "LINECONNECTEDMODE_", true)
LB_SPEC(v1::OfferingMode, "OFFERING_MODE_", kLineOfferingMode, "LINEOFFERINGMODE_", true)
LB_SPEC(v1::DisconnectMode, "DISCONNECT_MODE_", kLineDisconnectMode, "LINEDISCONNECTMODE_", true)
LB_SPEC(v1::MediaMode, "MEDIA_MODE_", kLineMediaMode, "LINEMEDIAMODE_", true)
LB_SPEC(v1::BearerMode, "BEARER_MODE_", kLineBearerMode, "LINEBEARERMODE_", true)
LB_SPEC(v1::CallFeature, "CALL_FEATURE_", kLineCallFeature, "LINECALLFEATURE_", true)
LB_SPEC(v1::AddressFeature, "ADDRESS_FEATURE_", kLineAddrFeature, "LINEADDRFEATURE_", true)
LB_SPEC(v1::ForwardMode, "FORWARD_MODE_", kLineForwardMode, "LINEFORWARDMODE_", false)
LB_SPEC(v1::DigitMode, "DIGIT_MODE_", kLineDigitMode, "LINEDIGITMODE_", true)
LB_SPEC(v1::CallOrigin, "CALL_ORIGIN_", kLineCallOrigin, "LINECALLORIGIN_", true)
LB_SPEC(v1::CallReason, "CALL_REASON_", kLineCallReason, "LINECALLREASON_", true)
LB_SPEC(v1::Privilege, "PRIVILEGE_", kLineCallPrivilege, "LINECALLPRIVILEGE_", true)
LB_SPEC(v1::ParkMode, "PARK_MODE_", kLineParkMode, "LINEPARKMODE_", true)
LB_SPEC(v1::TransferMode, "TRANSFER_MODE_", kLineTransferMode, "LINETRANSFERMODE_", true)
LB_SPEC(v1::LineState, "LINE_STATE_", kLineDevState, "LINEDEVSTATE_", false)
#undef LB_SPEC

template <typename E>
class TapiMappingTest : public ::testing::Test {};
using MappedEnums =
    ::testing::Types<v1::CallState, v1::DialToneMode, v1::BusyMode, v1::SpecialInfoMode,
                     v1::ConnectedMode, v1::OfferingMode, v1::DisconnectMode, v1::MediaMode,
                     v1::BearerMode, v1::CallFeature, v1::AddressFeature, v1::ForwardMode,
                     v1::DigitMode, v1::CallOrigin, v1::CallReason, v1::Privilege,
                     v1::ParkMode, v1::TransferMode, v1::LineState>;
TYPED_TEST_SUITE(TapiMappingTest, MappedEnums);

// "MEDIA_MODE_INTERACTIVE_VOICE" -> "LINEMEDIAMODE_INTERACTIVEVOICE".
template <typename E>
std::string TapiNameFor(std::string_view proto_name) {
  std::string name(Spec<E>::kTapiPrefix);
  for (char c : proto_name.substr(Spec<E>::kProtoPrefix.size())) {
    if (c != '_') name += c;
  }
  return name;
}

template <typename E>
DWORD FamilyBits() {
  DWORD bits = 0;
  for (const Constant& c : Spec<E>::kFamily) bits |= c.value;
  return bits;
}

TYPED_TEST(TapiMappingTest, EveryValueMapsToItsOwnConstantAndRoundTrips) {
  using E = TypeParam;
  const auto* desc = google::protobuf::GetEnumDescriptor<E>();
  std::set<DWORD> seen;
  for (int i = 0; i < desc->value_count(); ++i) {
    const auto* v = desc->value(i);
    const E value = static_cast<E>(v->number());
    SCOPED_TRACE(v->name());
    ASSERT_TRUE(v->name().starts_with(Spec<E>::kProtoPrefix));
    if (v->number() == 0) {
      EXPECT_EQ(ToTapi(value), 0u) << "UNSPECIFIED has no constant";
      continue;
    }
    const DWORD tapi = ToTapi(value);
    EXPECT_NE(tapi, 0u);
    EXPECT_TRUE(std::has_single_bit(tapi)) << std::hex << tapi;
    EXPECT_TRUE(seen.insert(tapi).second) << "constant used twice: 0x" << std::hex << tapi;
    EXPECT_EQ(FromTapi<E>(tapi), value);

    // The constant is the one of the same name in the TAPI family.
    const std::string expected_name = TapiNameFor<E>(v->name());
    bool found = false;
    for (const Constant& c : Spec<E>::kFamily) {
      if (c.name == expected_name) {
        found = true;
        EXPECT_EQ(tapi, c.value) << "expected " << expected_name;
      }
    }
    EXPECT_TRUE(found) << expected_name << " is not in the TAPI family";
  }
  EXPECT_EQ(seen.size(), static_cast<size_t>(desc->value_count() - 1));
}

TYPED_TEST(TapiMappingTest, CoversTheFamily) {
  using E = TypeParam;
  const DWORD family = FamilyBits<E>();
  EXPECT_EQ(AllTapiBits<E>() & ~family, 0u) << "maps to a constant outside the family";
  if (Spec<E>::kComplete) {
    EXPECT_EQ(AllTapiBits<E>(), family);
  }
}

TYPED_TEST(TapiMappingTest, RejectsWhatIsNotExactlyOneKnownConstant) {
  using E = TypeParam;
  EXPECT_EQ(ToTapi(static_cast<E>(999)), 0u);
  EXPECT_EQ(FromTapi<E>(0), std::nullopt);
  const DWORD all = AllTapiBits<E>();
  if (std::popcount(all) > 1) {
    EXPECT_EQ(FromTapi<E>(all), std::nullopt);
  }
  for (DWORD bit = 1; bit != 0; bit <<= 1) {
    if ((all & bit) == 0) {
      EXPECT_EQ(FromTapi<E>(bit), std::nullopt) << std::hex << bit;
    }
  }
}

TYPED_TEST(TapiMappingTest, MasksRoundTrip) {
  using E = TypeParam;
  const auto* desc = google::protobuf::GetEnumDescriptor<E>();
  google::protobuf::RepeatedField<int> values;
  std::vector<E> expected;
  for (int i = 0; i < desc->value_count(); ++i) {
    values.Add(desc->value(i)->number());
    if (desc->value(i)->number() != 0) expected.push_back(static_cast<E>(desc->value(i)->number()));
  }
  values.Add(999);  // unknown numbers contribute nothing
  EXPECT_EQ(ToTapiMask<E>(values), AllTapiBits<E>());

  const DWORD stray = ~AllTapiBits<E>() & 0x80000000u ? 0x80000000u : 0u;
  DWORD unmapped = 12345;
  EXPECT_EQ(FromTapiMask<E>(AllTapiBits<E>() | stray, &unmapped), expected);
  EXPECT_EQ(unmapped, stray);
  EXPECT_TRUE(FromTapiMask<E>(0).empty());
}

TEST(TapiMapping, KnownValues) {
  EXPECT_EQ(ToTapi(v1::CALL_STATE_CONNECTED), 0x100u);
  EXPECT_EQ(ToTapi(v1::MEDIA_MODE_INTERACTIVE_VOICE), 0x4u);
  EXPECT_EQ(ToTapi(v1::DISCONNECT_MODE_CANCELLED), 0x80000u);
  EXPECT_EQ(ToTapi(v1::CALL_FEATURE_SETCALLDATA), 0x80000000u);
  EXPECT_EQ(ToTapi(v1::CALL_STATE_IDLE), 0x1u);
  EXPECT_EQ(ToTapi(v1::CALL_STATE_UNKNOWN), 0x8000u);
  EXPECT_EQ(ToTapi(v1::MEDIA_MODE_UNKNOWN), 0x2u);
  EXPECT_EQ(ToTapi(v1::MEDIA_MODE_VIDEO), 0x8000u);
  EXPECT_EQ(ToTapi(v1::CALL_ORIGIN_UNKNOWN), 0x10u);  // TAPI skips 0x8
  EXPECT_EQ(ToTapi(v1::CALL_ORIGIN_INBOUND), 0x80u);
  EXPECT_EQ(ToTapi(v1::FORWARD_MODE_BUSY), 0x10u);
  EXPECT_EQ(ToTapi(v1::FORWARD_MODE_BUSYNA), 0x1000u);
  EXPECT_EQ(ToTapi(v1::ADDRESS_FEATURE_FORWARDDND), 0x2000u);
  EXPECT_EQ(ToTapi(v1::PRIVILEGE_OWNER), 0x4u);
  EXPECT_EQ(ToTapi(v1::LINE_STATE_IN_SERVICE), 0x40u);
  EXPECT_EQ(ToTapi(v1::CONNECTED_MODE_CONFIRMED), 0x10u);
  EXPECT_EQ(FromTapi<v1::ForwardMode>(LINEFORWARDMODE_UNCONDINTERNAL), std::nullopt);
}

TEST(TapiMapping, MediaModeListToBitmask) {
  v1::LineCaps caps;
  caps.add_media_modes(v1::MEDIA_MODE_INTERACTIVE_VOICE);
  caps.add_media_modes(v1::MEDIA_MODE_G3FAX);
  caps.add_media_modes(v1::MEDIA_MODE_DATAMODEM);
  EXPECT_EQ(ToTapiMask<v1::MediaMode>(caps.media_modes()), 0x4u | 0x20u | 0x10u);
  EXPECT_EQ(ToTapiMask({v1::CALL_FEATURE_ANSWER, v1::CALL_FEATURE_DROP}), 0x84u);
  EXPECT_EQ(FromTapiMask<v1::MediaMode>(0x24),
            (std::vector<v1::MediaMode>{v1::MEDIA_MODE_INTERACTIVE_VOICE, v1::MEDIA_MODE_G3FAX}));
  DWORD unmapped = 0;
  EXPECT_EQ(FromTapiMask<v1::ForwardMode>(LINEFORWARDMODE_UNCOND | LINEFORWARDMODE_BUSYEXTERNAL,
                                          &unmapped),
            std::vector<v1::ForwardMode>{v1::FORWARD_MODE_UNCOND});
  EXPECT_EQ(unmapped, static_cast<DWORD>(LINEFORWARDMODE_BUSYEXTERNAL));
}

TEST(TapiMapping, CallStateModeToTapi) {
  v1::CallStatus status;
  status.set_state(v1::CALL_STATE_CONNECTED);
  EXPECT_EQ(CallStateModeToTapi(status), 0u);  // no mode
  status.set_connected_mode(v1::CONNECTED_MODE_INACTIVE);
  EXPECT_EQ(CallStateModeToTapi(status), 0x2u);
  status.set_disconnect_mode(v1::DISCONNECT_MODE_BUSY);  // mode of another state
  EXPECT_EQ(CallStateModeToTapi(status), 0u);
  status.set_state(v1::CALL_STATE_DISCONNECTED);
  EXPECT_EQ(CallStateModeToTapi(status), static_cast<DWORD>(LINEDISCONNECTMODE_BUSY));
  status.set_state(v1::CALL_STATE_OFFERING);
  status.set_offering_mode(v1::OFFERING_MODE_INACTIVE);
  EXPECT_EQ(CallStateModeToTapi(status), static_cast<DWORD>(LINEOFFERINGMODE_INACTIVE));
}

TEST(TapiMapping, CallStateFromTapi) {
  v1::CallStatus status;
  ASSERT_TRUE(CallStateFromTapi(LINECALLSTATE_DISCONNECTED, LINEDISCONNECTMODE_CANCELLED, &status));
  EXPECT_EQ(status.state(), v1::CALL_STATE_DISCONNECTED);
  EXPECT_EQ(status.disconnect_mode(), v1::DISCONNECT_MODE_CANCELLED);

  ASSERT_TRUE(CallStateFromTapi(LINECALLSTATE_CONNECTED, 0, &status));
  EXPECT_EQ(status.state(), v1::CALL_STATE_CONNECTED);
  EXPECT_EQ(status.mode_case(), v1::CallStatus::MODE_NOT_SET);

  // CONFERENCED has no mode enum: LINE_CALLSTATE's dwParam2 is the conference call.
  ASSERT_TRUE(CallStateFromTapi(LINECALLSTATE_CONFERENCED, 0x1234, &status));
  EXPECT_EQ(status.state(), v1::CALL_STATE_CONFERENCED);
  EXPECT_EQ(status.mode_case(), v1::CallStatus::MODE_NOT_SET);

  const v1::CallStatus before = status;
  EXPECT_FALSE(CallStateFromTapi(LINECALLSTATE_BUSY, 0x3, &status));  // two bits
  EXPECT_FALSE(CallStateFromTapi(LINECALLSTATE_BUSY, 0x10, &status));  // not a busy mode
  EXPECT_FALSE(CallStateFromTapi(0x3, 0, &status));
  EXPECT_FALSE(CallStateFromTapi(0, 0, &status));
  EXPECT_EQ(status.SerializeAsString(), before.SerializeAsString());
}

template <typename M>
void ExpectModesRoundTrip(v1::CallState state) {
  const auto* desc = google::protobuf::GetEnumDescriptor<M>();
  for (int i = 1; i < desc->value_count(); ++i) {
    const M mode = static_cast<M>(desc->value(i)->number());
    SCOPED_TRACE(desc->value(i)->name());
    v1::CallStatus status;
    ASSERT_TRUE(CallStateFromTapi(ToTapi(state), ToTapi(mode), &status));
    EXPECT_EQ(status.state(), state);
    EXPECT_EQ(CallStateModeToTapi(status), ToTapi(mode));
  }
}

TEST(TapiMapping, EveryStateModeRoundTrips) {
  ExpectModesRoundTrip<v1::OfferingMode>(v1::CALL_STATE_OFFERING);
  ExpectModesRoundTrip<v1::DialToneMode>(v1::CALL_STATE_DIALTONE);
  ExpectModesRoundTrip<v1::BusyMode>(v1::CALL_STATE_BUSY);
  ExpectModesRoundTrip<v1::SpecialInfoMode>(v1::CALL_STATE_SPECIALINFO);
  ExpectModesRoundTrip<v1::ConnectedMode>(v1::CALL_STATE_CONNECTED);
  ExpectModesRoundTrip<v1::DisconnectMode>(v1::CALL_STATE_DISCONNECTED);
}

}  // namespace
}  // namespace linebridge::tsp
