// Pure translations between SIP and TAPI for the SIP provider: response
// codes to disconnect modes, SIP identities to party ids, dial strings to
// request URIs, SDP.
#pragma once

#include <string>

#include "linebridge/v1/types.pb.h"

namespace linebridge::sip {

// The TAPI disconnect mode for a final failure response to an INVITE.
v1::DisconnectMode DisconnectModeForStatus(int status);

// A party from a SIP identity: the number is the URI's user part (else the
// whole URI without "sip:"), the name the display name without quotes.
v1::PartyId PartyFromIdentity(const std::string& display, const std::string& user,
                              const std::string& host);

// The request URI for a dial string: "sip:..."/"sips:..." as given,
// "user@host" as sip:user@host, anything else as sip:<digits>@<default_host>.
// "" if nothing dialable remains.
std::string DestinationUri(const std::string& dial, const std::string& default_host);

// The SDP the user agent offers/answers with: G.711 mu-law and A-law on
// `address`:`port`.
std::string LocalSdp(const std::string& address, int port);

// The audio destination of an SDP body: connection address, port and the
// first G.711 payload type (0 or 8; -1 if none). False if the body has no
// audio stream.
struct SdpAudio {
  std::string address;
  int port = 0;
  int payload_type = -1;
};
bool ParseSdpAudio(const std::string& sdp, SdpAudio* out);

}  // namespace linebridge::sip
