// Test double: a provider with one line-less phone and no way to operate it
// (like a provider whose phones a person works only at the device).
#pragma once

#include <string>

#include "core/provider.h"

namespace linebridge::testing {

class BarePhoneProvider : public Provider {
 public:
  absl::string_view type() const override { return "bare"; }
  absl::string_view name() const override { return "bare"; }
  absl::Status Start(ProviderHost& host) override {
    v1::Phone phone;
    phone.set_id("bare/phone/1");
    phone.set_name("Bare phone");
    phone.add_buttons()->set_mode(v1::PHONE_BUTTON_MODE_KEYPAD);
    phone.mutable_caps()->add_hookswitch_devices(v1::HOOK_SWITCH_DEVICE_HANDSET);
    phone.mutable_caps()->add_handset_modes(v1::HOOK_SWITCH_MODE_ONHOOK);
    phone.mutable_caps()->add_handset_modes(v1::HOOK_SWITCH_MODE_MIC_SPEAKER);
    host.AddPhone(std::move(phone));
    return absl::OkStatus();
  }
};

}  // namespace linebridge::testing
