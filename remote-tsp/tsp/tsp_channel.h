// TspConfig's client-side security as the SDK's channel options (the same
// for every server of the configuration).
#pragma once

#include "linebridge/connection.h"
#include "tsp/tsp_config.h"

namespace linebridge::tsp {

inline ChannelOptions ChannelOptionsFor(const TspConfig& config) {
  ChannelOptions channel;
  channel.tls = config.tls;
  channel.tls_options.ca_file = config.ca_file;
  channel.tls_options.cert_file = config.cert_file;
  channel.tls_options.key_file = config.key_file;
  channel.tls_options.server_name_override = config.server_name;
  channel.bearer_token = config.token;
  return channel;
}

}  // namespace linebridge::tsp
