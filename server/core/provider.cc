#include "core/provider.h"

#include <cstdio>
#include <cstdlib>

#include "absl/strings/str_cat.h"

namespace linebridge {

v1::CallStatus MakeStatus(v1::CallState state) {
  v1::CallStatus s;
  s.set_state(state);
  return s;
}
v1::CallStatus Disconnected(v1::DisconnectMode mode) {
  v1::CallStatus s = MakeStatus(v1::CALL_STATE_DISCONNECTED);
  s.set_disconnect_mode(mode);
  return s;
}
v1::CallStatus Connected(v1::ConnectedMode mode) {
  v1::CallStatus s = MakeStatus(v1::CALL_STATE_CONNECTED);
  s.set_connected_mode(mode);
  return s;
}
v1::CallStatus Offering(v1::OfferingMode mode) {
  v1::CallStatus s = MakeStatus(v1::CALL_STATE_OFFERING);
  s.set_offering_mode(mode);
  return s;
}
v1::CallStatus DialTone(v1::DialToneMode mode) {
  v1::CallStatus s = MakeStatus(v1::CALL_STATE_DIALTONE);
  s.set_dial_tone_mode(mode);
  return s;
}
v1::CallStatus Busy(v1::BusyMode mode) {
  v1::CallStatus s = MakeStatus(v1::CALL_STATE_BUSY);
  s.set_busy_mode(mode);
  return s;
}
v1::CallStatus SpecialInfo(v1::SpecialInfoMode mode) {
  v1::CallStatus s = MakeStatus(v1::CALL_STATE_SPECIALINFO);
  s.set_special_info_mode(mode);
  return s;
}

namespace {
absl::Status Unavailable(absl::string_view what) {
  return Unimplemented(std::string(what) + " is not supported by this line's provider");
}
}  // namespace

absl::StatusOr<std::string> Provider::MakeCall(const std::string&, uint32_t, const std::string&,
                                               const v1::CallParams&) {
  return Unavailable("MakeCall");
}
absl::Status Provider::Dial(const std::string&, const std::string&) { return Unavailable("Dial"); }
absl::Status Provider::Accept(const std::string&, const std::string&) { return Unavailable("Accept"); }
absl::Status Provider::Answer(const std::string&, const std::string&) { return Unavailable("Answer"); }
absl::Status Provider::Drop(const std::string&, const std::string&) { return Unavailable("Drop"); }
absl::Status Provider::Hold(const std::string&) { return Unavailable("Hold"); }
absl::Status Provider::Unhold(const std::string&) { return Unavailable("Unhold"); }
absl::Status Provider::SetCallParams(const std::string&, v1::BearerMode, uint32_t,
                                     const v1::DialParams&) {
  return Unavailable("SetCallParams");
}
absl::Status Provider::SetCallTreatment(const std::string&, v1::CallTreatment) {
  return Unavailable("SetCallTreatment");
}
absl::StatusOr<uint32_t> Provider::CompleteCall(const std::string&, v1::CompletionMode,
                                                uint32_t) {
  return Unavailable("CompleteCall");
}
absl::Status Provider::UncompleteCall(const std::string&, uint32_t) {
  return Unavailable("UncompleteCall");
}
absl::Status Provider::SendUserUserInfo(const std::string&, const std::string&) {
  return Unavailable("SendUserUserInfo");
}
absl::Status Provider::SwapHold(const std::string&, const std::string&) {
  return Unavailable("SwapHold");
}
absl::Status Provider::Redirect(const std::string&, const std::string&) {
  return Unavailable("Redirect");
}
absl::Status Provider::BlindTransfer(const std::string&, const std::string&) {
  return Unavailable("BlindTransfer");
}
absl::StatusOr<std::string> Provider::SetupTransfer(const std::string&) {
  return Unavailable("SetupTransfer");
}
absl::StatusOr<std::string> Provider::CompleteTransfer(const std::string&, const std::string&,
                                                       v1::TransferMode) {
  return Unavailable("CompleteTransfer");
}
absl::StatusOr<std::pair<std::string, std::string>> Provider::SetupConference(const std::string&) {
  return Unavailable("SetupConference");
}
absl::StatusOr<std::string> Provider::PrepareAddToConference(const std::string&) {
  return Unavailable("PrepareAddToConference");
}
absl::Status Provider::AddToConference(const std::string&, const std::string&) {
  return Unavailable("AddToConference");
}
absl::Status Provider::RemoveFromConference(const std::string&) {
  return Unavailable("RemoveFromConference");
}
absl::StatusOr<ParkResult> Provider::Park(const std::string&, v1::ParkMode, const std::string&) {
  return Unavailable("Park");
}
absl::StatusOr<std::string> Provider::Unpark(const std::string&, uint32_t, const std::string&) {
  return Unavailable("Unpark");
}
absl::StatusOr<std::string> Provider::Pickup(const std::string&, uint32_t, const std::string&,
                                             const std::string&) {
  return Unavailable("Pickup");
}
absl::Status Provider::GenerateDigits(const std::string&, const std::string&, v1::DigitMode,
                                      absl::Duration) {
  return Unavailable("GenerateDigits");
}
absl::Status Provider::SetForwarding(const std::string&, const std::vector<v1::ForwardRule>&) {
  return Unavailable("Forwarding");
}
absl::StatusOr<v1::DeviceConfig> Provider::SetDevConfig(const std::string& line_id,
                                                        const v1::DeviceConfig&) {
  return FailedPrecondition(LINEERR_INVALDEVICECLASS,
                            absl::StrCat("line ", line_id, " has no device configuration"));
}

absl::Status Provider::OperatePhone(const std::string& phone_id, const v1::OperatePhoneRequest&) {
  return PhoneErrStatus(absl::StatusCode::kUnimplemented, PHONEERR_OPERATIONUNAVAIL,
                        absl::StrCat("the provider of phone ", phone_id,
                                     " cannot operate its phones"));
}

ProviderRegistry& ProviderRegistry::Get() {
  static ProviderRegistry* registry = new ProviderRegistry();
  return *registry;
}

void ProviderRegistry::Register(const std::string& type, Factory factory) {
  if (!factories_.emplace(type, std::move(factory)).second) {
    std::fprintf(stderr, "linebridge: provider type \"%s\" registered twice\n", type.c_str());
    std::abort();
  }
}

std::string ProviderRegistry::TypeOf(const v1::config::ProviderConfig& config) {
  const auto* field = config.GetDescriptor()->FindOneofByName("kind");
  const auto* set = config.GetReflection()->GetOneofFieldDescriptor(config, field);
  return set == nullptr ? "" : set->name();
}

absl::StatusOr<std::unique_ptr<Provider>> ProviderRegistry::Create(
    const v1::config::ProviderConfig& config) const {
  const std::string type = TypeOf(config);
  auto it = factories_.find(type);
  if (it == factories_.end()) {
    return absl::InvalidArgumentError("no provider of type \"" + type + "\" is built in");
  }
  return it->second(config);
}

std::vector<std::string> ProviderRegistry::types() const {
  std::vector<std::string> out;
  for (const auto& [type, factory] : factories_) out.push_back(type);
  return out;
}

}  // namespace linebridge
