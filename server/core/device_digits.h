// A device far end (DeviceAudio, core/provider.h) that signals the far end's
// digits itself, such as a V.253 modem's <DLE> codes, which its provider
// reports as digit events. The media hub asks such a device for the digits
// each tick: it gathers them for the call's streams and does not run its
// DTMF detector on the device's audio (the digits would be reported twice).
// Called like DeviceAudio: on the hub's clock thread with its lock held.
#pragma once

#include <string>

namespace linebridge {

class DeviceDigits {
 public:
  virtual ~DeviceDigits() = default;
  // Appends the digits that arrived since the last call.
  virtual void TakeDigits(std::string* digits) = 0;
};

}  // namespace linebridge
