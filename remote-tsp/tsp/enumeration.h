// Static devices at TSPI_providerEnumDevices: the lines and phones of the configured
// servers, asked in parallel, each server given at most kEnumerationBound
// (the whole enumeration takes no longer). A server that does not answer in
// time (down, unreachable, refusing the credentials) contributes nothing
// here: its lines come later through LINE_CREATE once its event stream is up.
#pragma once

#include <cstddef>
#include <memory>
#include <utility>
#include <vector>

#include "absl/time/time.h"
#include "linebridge/client.h"
#include "tsp/tsp_config.h"

namespace linebridge::tsp {

inline constexpr absl::Duration kEnumerationBound = absl::Seconds(2);

struct ServerLines {
  // The client the question was asked with (providerInit takes it over);
  // null if it could not be created (the error is logged).
  std::unique_ptr<Client> client;
  // (server index, line) for every server that answered, in server order.
  std::vector<std::pair<size_t, v1::Line>> lines;
  // (server index, phone) likewise (ListPhones, asked beside ListLines; a
  // server without phones, or without the phone API, lists none).
  std::vector<std::pair<size_t, v1::Phone>> phones;
  size_t answered = 0;  // servers that answered in time
};

// Creates the client for `config` and asks every server for its lines
// (ListLines with a kEnumerationBound deadline). Never waits longer than
// `bound` (plus scheduling slack).
ServerLines EnumerateServerLines(const TspConfig& config,
                                 absl::Duration bound = kEnumerationBound);

}  // namespace linebridge::tsp
