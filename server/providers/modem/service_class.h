// Which AT service class (+FCLASS) a modem call runs in, and the media mode
// it reports: fax calls in a fax class the modem lists, data in class 0,
// voice in class 8 (V.253). Pure functions over the probe's answers.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "absl/strings/string_view.h"
#include "linebridge/v1/config.pb.h"
#include "linebridge/v1/types.pb.h"
#include "providers/modem/at/probe.h"

namespace linebridge::modem {

// The class to run a call of `media` in, from the classes the modem listed
// for AT+FCLASS=? (`fclass`; empty: the modem did not say). Fax prefers
// class 1, then 1.0, 2.0 and 2. "" when the modem has no class for it (or
// needs none: 27.007).
std::string ClassForMedia(v1::MediaMode media, const std::vector<std::string>& fclass,
                          at::ModemProfile profile);

// The media mode of a call in class `service_class` ("1" -> G3FAX, ...);
// UNSPECIFIED for "" or an unknown class.
v1::MediaMode MediaForClass(absl::string_view service_class);

bool IsFaxClass(absl::string_view service_class);

// The class the last "AT+FCLASS=<n>" of `commands` selects (override
// strings that choose one themselves), if any.
std::optional<std::string> ClassSetBy(const std::vector<std::string>& commands);

// What a port's offered calls are (an analog line does not say): the
// configured incoming_media, else the class an answer or init string selects,
// else voice on a voice modem and data on a Hayes modem; 27.007: voice.
v1::MediaMode OfferedMedia(const v1::config::ModemPort& config, at::ModemProfile profile);

}  // namespace linebridge::modem
