// kamailio as a PBX for phone lines: proxy with the dialog module, presence
// with presence_dialoginfo, and pua_dialoginfo publishing the dialog state
// of every INVITE it relays (RFC 4235). On 127.0.0.1:`port`, UDP; requests
// for "alice" go to the phone on `phone_port`, every other user to
// `far_port`. pua keeps its table in a db_text copy in `dir`. With a
// `password` it is the registrar too (digest, realm 127.0.0.1, any user)
// and calls for "alice" go to her registered contact (480 when none). With
// an `rpc_port` its JSON-RPC (jsonrpcs) answers datagrams on
// 127.0.0.1:`rpc_port`: the dialog module's dlg.terminate_dlg ends calls.
#pragma once

#include <string>

#include "providers/sip/testing/sip_peers.h"

namespace linebridge::sip::testing {

bool StartPresenceKamailio(ChildProcess& child, int port, int phone_port, int far_port,
                           const std::string& dir, std::string* error,
                           const std::string& password = "", int rpc_port = 0);

}  // namespace linebridge::sip::testing
