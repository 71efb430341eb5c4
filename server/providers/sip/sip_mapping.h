// Pure translations between SIP and TAPI for the SIP provider: response
// codes to disconnect modes, SIP identities to party ids, dial strings to
// request URIs, SDP.
#pragma once

#include <string>

#include "absl/strings/string_view.h"

#include "linebridge/v1/types.pb.h"

namespace linebridge::sip {

// The TAPI disconnect mode for a final failure response to an INVITE.
v1::DisconnectMode DisconnectModeForStatus(int status);

// A party from a SIP identity: the number is the URI's user part (else the
// whole URI without "sip:"), the name the display name without quotes.
v1::PartyId PartyFromIdentity(const std::string& display, const std::string& user,
                              const std::string& host);

// The request URI for a dial string: "sip:..."/"sips:..." as given,
// "tel:<number>[;params]" as sip:<number>[;params]@<default_host>;user=phone
// (RFC 3261 section 19.1.6; visual separators dropped), "user@host" as
// sip:user@host, anything else as sip:<digits>@<default_host>. "" if nothing
// dialable remains.
std::string DestinationUri(const std::string& dial, const std::string& default_host);

// The SDP the user agent offers/answers with: G.711 mu-law and A-law on
// `address`:`port`, and RFC 4733 telephone-events on payload type 101.
constexpr int kTelephoneEventPayloadType = 101;
std::string LocalSdp(const std::string& address, int port);

// The audio destination of an SDP body: connection address, port and the
// first G.711 payload type (0 or 8; -1 if none), the telephone-event payload
// type (-1 if not offered). False if the body has no audio stream.
struct SdpAudio {
  std::string address;
  int port = 0;
  int payload_type = -1;
  int telephone_event = -1;
};
bool ParseSdpAudio(const std::string& sdp, SdpAudio* out);

// The digits a SIP INFO carries: application/dtmf-relay ("Signal=5") or
// application/dtmf ("5"). "" when the body is neither or holds no DTMF digit.
std::string DtmfFromInfo(absl::string_view content_type, absl::string_view body);

// The status code of a message/sipfrag body ("SIP/2.0 200 OK"), or -1.
int SipfragStatus(absl::string_view body);

// Who redirected an inbound call, from a Diversion (RFC 5806) or History-Info
// (RFC 7044) header value; false if the value names nobody.
struct Redirecting {
  v1::PartyId party;
  v1::CallReason reason = v1::CALL_REASON_UNKNOWN;
};
bool RedirectingFromDiversion(absl::string_view value, Redirecting* out);
bool RedirectingFromHistoryInfo(absl::string_view value, Redirecting* out);

}  // namespace linebridge::sip
