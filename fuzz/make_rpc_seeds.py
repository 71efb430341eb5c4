#!/usr/bin/python3
"""Writes the seed corpus of rpc_fuzz: one file per request, its first byte
the method's index among the unary methods of Telephony, Admin and Security
(in declaration order, as rpc_fuzz.cc numbers them), the rest the request.

  protoc --python_out=DIR -I proto proto/linebridge/v1/*.proto proto/google/rpc/status.proto
  /usr/bin/python3 fuzz/make_rpc_seeds.py DIR fuzz/corpus/rpc_fuzz

Call ids are those the fuzzer's server (epoch 0x5eed0001) gives its first
calls: ed0001-1, ed0001-2, ...
"""
import os
import sys

sys.path.append(sys.argv[1])
from linebridge.v1 import admin_pb2, phone_pb2, security_pb2, telephony_pb2, types_pb2  # noqa: E402

out = sys.argv[2]
methods = []
for module, service in ((telephony_pb2, "Telephony"), (admin_pb2, "Admin"),
                        (security_pb2, "Security")):
    for m in module.DESCRIPTOR.services_by_name[service].methods:
        if not m.client_streaming and not m.server_streaming:
            methods.append(m)
by_name = {m.name: i for i, m in enumerate(methods)}
T = telephony_pb2
S = security_pb2
A = admin_pb2
Y = types_pb2
P = phone_pb2
seeds = {
    "list_lines": ("ListLines", T.ListLinesRequest()),
    "get_line": ("GetLine", T.GetLineRequest(line_id="sim/100")),
    "create_session": ("CreateSession", T.CreateSessionRequest(client_name="fuzz")),
    "make_call": ("MakeCall", T.MakeCallRequest(line_id="sim/100", destination="+1 (425) 555-0101",
                                                tag="t1")),
    "make_call_dialtone": ("MakeCall", T.MakeCallRequest(line_id="sim/101")),
    "dial": ("Dial", T.DialRequest(call_id="ed0001-2", destination="102")),
    "answer": ("Answer", T.CallActionRequest(call_id="ed0001-1", user_user_info=b"uui")),
    "hold": ("Hold", T.CallActionRequest(call_id="ed0001-1")),
    "drop": ("Drop", T.CallActionRequest(call_id="ed0001-1")),
    "list_calls": ("ListCalls", T.ListCallsRequest(line_id="sim/100")),
    "get_call": ("GetCall", T.GetCallRequest(call_id="ed0001-1")),
    "blind_transfer": ("BlindTransfer", T.BlindTransferRequest(call_id="ed0001-1",
                                                               destination="103")),
    "digits": ("GenerateDigits", T.GenerateDigitsRequest(call_id="ed0001-1", digits="12,3#")),
    "park": ("Park", T.ParkRequest(call_id="ed0001-1")),
    "tone": ("GenerateTone", T.GenerateToneRequest(
        call_id="ed0001-1", kind=5, duration_ms=300,
        components=[T.ToneComponent(frequency_hz=1400, cadence_on_ms=100, cadence_off_ms=50)])),
    "gather": ("GatherDigits", T.GatherDigitsRequest(call_id="ed0001-1", max_digits=4,
                                                     termination_digits="#",
                                                     first_digit_timeout_ms=500)),
    "monitor_tones": ("MonitorTones", T.MonitorTonesRequest(
        call_id="ed0001-1", tone_list_id=1,
        tones=[T.MonitoredTone(app_specific=1, duration_ms=100, frequencies_hz=[440, 480])])),
    "monitor_media": ("MonitorMedia", T.MonitorMediaRequest(call_id="ed0001-1", modes=[5, 4])),
    "media_mode": ("SetMediaMode", T.SetMediaModeRequest(call_id="ed0001-1", media_modes=[1, 5])),
    "forwarding": ("SetLineForwarding", T.SetLineForwardingRequest(line_id="sim/100")),
    "get_dev_config": ("GetDevConfig", T.GetDevConfigRequest(line_id="modem/m1")),
    "set_dev_config": ("SetDevConfig", T.SetDevConfigRequest(
        line_id="modem/m1", config=Y.DeviceConfig(modem=Y.ModemSettings(
            call_setup_fail_timer_s=45, speaker_volume=3, blind_dial=True)))),
    "complete_call": ("CompleteCall", T.CompleteCallRequest(
        call_id="ed0001-1", mode=Y.COMPLETION_MODE_CALLBACK)),
    "uncomplete_call": ("UncompleteCall", T.UncompleteCallRequest(line_id="sim/100",
                                                                  completion_id=1)),
    "list_phones": ("ListPhones", T.ListPhonesRequest(line_id="sim/100")),
    "get_phone": ("GetPhone", T.GetPhoneRequest(phone_id="sim/phone/100")),
    "open_phone": ("OpenPhone", T.OpenPhoneRequest(session_id="s-0", phone_id="sim/phone/100",
                                                   privilege=Y.PRIVILEGE_OWNER)),
    "phone_display": ("SetPhoneDisplay", T.SetPhoneDisplayRequest(
        phone_id="sim/phone/100", row=1, column=3, text="Hello")),
    "phone_lamp": ("SetPhoneLamp", T.SetPhoneLampRequest(
        phone_id="sim/phone/100", button_lamp_id=12, mode=P.LAMP_MODE_FLASH)),
    "phone_data": ("SetPhoneData", T.SetPhoneDataRequest(phone_id="sim/phone/100", data_id=1,
                                                         data=b"\x00\x01speed")),
    "phone_press": ("OperatePhone", T.OperatePhoneRequest(phone_id="sim/phone/100",
                                                          press_button=5)),
    "phone_hook": ("OperatePhone", T.OperatePhoneRequest(
        phone_id="sim/phone/100", hookswitch=T.HookSwitchChange(
            device=P.HOOK_SWITCH_DEVICE_HANDSET, mode=P.HOOK_SWITCH_MODE_MIC_SPEAKER))),
    "status": ("GetServerStatus", A.GetServerStatusRequest()),
    "sessions": ("ListSessions", A.ListSessionsRequest()),
    "records": ("ListCallRecords", A.ListCallRecordsRequest(limit=5)),
    "ping": ("Ping", A.PingRequest()),
    "whoami": ("WhoAmI", S.WhoAmIRequest()),
    "add_principal": ("AddPrincipal", S.AddPrincipalRequest(name="CORP\\alice",
                                                            display_name="Alice")),
    "assign": ("Assign", S.AssignRequest(principal="CORP\\alice")),
    "issue_token": ("IssueToken", S.IssueTokenRequest(principal="CORP\\alice", ttl_seconds=60)),
    "list_tokens": ("ListTokens", S.ListTokensRequest()),
    "audit": ("ListAudit", S.ListAuditRequest(limit=3)),
    "import": ("ImportAssignments", S.ImportAssignmentsRequest()),
}
os.makedirs(out, exist_ok=True)
for name, (method, request) in seeds.items():
    with open(os.path.join(out, name), "wb") as f:
        f.write(bytes([by_name[method]]) + request.SerializeToString())
print(f"{len(seeds)} seeds for {len(methods)} methods")
