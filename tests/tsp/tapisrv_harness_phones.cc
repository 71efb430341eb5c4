// The TAPISRV harness's phone side: PHONEEVENT recorded and checked (PHONE_CREATE
// answered with providerCreatePhoneDevice, nothing for a phone after its
// phoneClose returned), and waits on the phone events.
#include "absl/strings/str_cat.h"
#include "tapisrv_harness.h"

namespace linebridge::tsp_test {

HTAPIPHONE TapiSrvHarness::NewHtPhone() {
  absl::MutexLock lock(&mu_);
  return reinterpret_cast<HTAPIPHONE>(next_handle_++);
}

void TapiSrvHarness::Closed(HTAPIPHONE ht_phone) {
  absl::MutexLock lock(&mu_);
  closed_phones_.insert(ht_phone);
}

void TapiSrvHarness::OnPhoneEvent(const RecordedPhoneEvent& event) {
  bool create = false;
  {
    absl::MutexLock lock(&mu_);
    switch (event.msg) {
      case PHONE_CREATE:
        if (event.ht_phone != nullptr) Violation("PHONE_CREATE with a phone handle");
        if (event.p1 != reinterpret_cast<DWORD_PTR>(provider_handle())) {
          Violation("PHONE_CREATE without our hProvider");
        }
        create = true;
        break;
      case PHONE_REMOVE: break;
      case PHONE_STATE:
      case PHONE_BUTTON:
        if (event.ht_phone == nullptr) Violation(absl::StrCat("phone event ", event.msg, " without htPhone"));
        if (closed_phones_.count(event.ht_phone) > 0) {
          Violation(absl::StrCat("phone event ", event.msg, " after phoneClose"));
        }
        if (event.msg == PHONE_STATE && (event.p1 == 0 || (event.p1 & (event.p1 - 1)) != 0)) {
          Violation(absl::StrCat("PHONE_STATE with dwParam1 0x", absl::Hex(event.p1),
                                 " (one PHONESTATE_* per event)"));
        }
        break;
      default:
        Violation(absl::StrCat("unexpected phone message ", event.msg));
        break;
    }
    phone_events_.push_back(event);
  }
  if (create) {
    DWORD device;
    {
      absl::MutexLock lock(&mu_);
      device = next_phone_device_++;
    }
    const LONG r = tspi_.TSPI_providerCreatePhoneDevice(event.p2, device);
    absl::MutexLock lock(&mu_);
    if (r != 0) {
      Violation(absl::StrCat("providerCreatePhoneDevice(", event.p2, ") = ", r));
    } else {
      created_phones_.push_back(device);
    }
  }
}

bool TapiSrvHarness::WaitPhoneEvent(const std::function<bool(const RecordedPhoneEvent&)>& match,
                                    absl::Duration timeout, RecordedPhoneEvent* found) {
  absl::MutexLock lock(&mu_);
  auto seen = [&]() {
    for (const RecordedPhoneEvent& e : phone_events_) {
      if (match(e)) {
        if (found != nullptr) *found = e;
        return true;
      }
    }
    return false;
  };
  return mu_.AwaitWithTimeout(absl::Condition(&seen), timeout);
}

std::vector<RecordedPhoneEvent> TapiSrvHarness::phone_events() {
  absl::MutexLock lock(&mu_);
  return phone_events_;
}

void TapiSrvHarness::ClearPhoneEvents() {
  absl::MutexLock lock(&mu_);
  phone_events_.clear();
}

std::vector<DWORD> TapiSrvHarness::created_phones() {
  absl::MutexLock lock(&mu_);
  return created_phones_;
}

}  // namespace linebridge::tsp_test
