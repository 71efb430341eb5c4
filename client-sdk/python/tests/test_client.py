"""The Python client against real linebridged processes on 127.0.0.1."""

import os
import unittest

import grpc

import linebridge
from linebridge.v1 import telephony_pb2, types_pb2

from harness import (
    Collector,
    Daemon,
    TempDir,
    bootstrap_admin,
    free_port,
    is_call_created_on,
    is_call_state,
    kind,
    make_certs,
)

S = types_pb2


class DaemonTestCase(unittest.TestCase):
    port = 0
    extra = ()

    def setUp(self):
        self.tmp = TempDir()
        self.addCleanup(self.tmp.cleanup)
        self.daemon = Daemon(self.tmp.path, self.port, self.extra).start()
        self.addCleanup(self.daemon.stop)
        self.client = linebridge.Client(self.daemon.address)
        self.addCleanup(self.client.close)

    def collect(self, stream):
        collector = Collector(stream)
        self.addCleanup(collector.close)
        return collector


class CallsTest(DaemonTestCase):
    def test_lines_and_a_call_answered_held_dropped_with_the_callee_id_from_call_created(self):
        lines = {line.id for line in self.client.list_lines()}
        self.assertTrue({"sim/100", "sim/101", "sim/199"} <= lines, lines)
        self.assertEqual(self.client.get_line("sim/101").name, "Bob (101)")

        events = self.collect(self.client.events(line_ids=["sim/100", "sim/101"]))
        first = events.next_batch()
        self.assertTrue(first.HasField("snapshot"))
        self.assertEqual(first.snapshot_reason, linebridge.SNAPSHOT_REQUESTED)

        # Back to back, no waiting between the calls: the callee's call id
        # comes from the call_created event, not from polling.
        call = self.client.make_call("sim/100", "101")
        self.assertEqual(call.info.line_id, "sim/100")
        created = events.wait_for(is_call_created_on("sim/101"))
        callee = created.call_created.call
        self.assertEqual(callee.status.state, S.CALL_STATE_OFFERING)
        self.assertEqual(callee.info.caller.number, "100")

        answered = self.client.answer(callee.id)
        self.assertEqual(answered.status.state, S.CALL_STATE_CONNECTED)
        held = self.client.hold(callee.id)
        self.assertEqual(held.status.state, S.CALL_STATE_ONHOLD)
        self.assertEqual(self.client.unhold(callee.id).status.state, S.CALL_STATE_CONNECTED)
        dropped = self.client.drop(call.id)
        self.assertIn(dropped.status.state, (S.CALL_STATE_IDLE, S.CALL_STATE_DISCONNECTED))

        seen = []
        events.wait_for(is_call_state(call.id, S.CALL_STATE_IDLE), seen=seen)
        states = [e.call_state.status.state for e in seen
                  if kind(e) == "call_state" and e.call_state.call_id == callee.id]
        self.assertIn(S.CALL_STATE_CONNECTED, states)
        self.assertIn(S.CALL_STATE_ONHOLD, states)

    def test_a_session_owns_its_line_and_answers_offered_calls(self):
        agent = linebridge.Client(self.daemon.address)
        self.addCleanup(agent.close)
        session = agent.create_session("python agent")
        self.assertEqual(agent.session_id, session.id)
        agent.open_line("sim/102", owner=True)
        events = self.collect(agent.events(line_ids=["sim/102"]))
        events.next_batch()

        for _ in range(5):
            call = self.client.make_call("sim/103", "102")
            offered = events.wait_for(is_call_created_on("sim/102")).call_created.call
            self.assertIn(session.id, offered.owner_sessions)
            self.assertEqual(agent.answer(offered.id).status.state, S.CALL_STATE_CONNECTED)
            self.client.drop(call.id)
            events.wait_for(is_call_state(offered.id, S.CALL_STATE_IDLE))
        agent.close_session()
        self.assertEqual(agent.session_id, "")

    def test_call_records_page_through_every_record(self):
        for _ in range(5):
            call = self.client.make_call("sim/104", "5550100")
            self.client.drop(call.id)
        records = list(self.client.call_records(line_id="sim/104", page_size=2))
        self.assertEqual(len(records), 5)
        self.assertEqual(len({r.record_id for r in records}), 5)
        self.assertTrue(all(r.called.number.endswith("5550100") for r in records))


class TwoServersTest(DaemonTestCase):
    def test_lines_are_merged_and_requests_go_to_the_server_of_their_line_or_call(self):
        config = os.path.join(self.tmp.path, "east.textproto")
        with open(config, "w", encoding="utf-8") as f:
            f.write('providers { sim { name: "east" extensions { number: "300" name: "East" } '
                    'externals { number: "5550100" name: "Weather" '
                    'behavior: SIM_BEHAVIOR_ANSWER } } }\n')
        east_dir = os.path.join(self.tmp.path, "east")
        os.mkdir(east_dir)
        east = Daemon(east_dir, 0, ["--config", config]).start()
        self.addCleanup(east.stop)
        with linebridge.Client([self.daemon.address, east.address]) as both:
            lines = {line.id for line in both.list_lines()}
            self.assertIn("sim/100", lines)
            self.assertIn("east/300", lines)
            for line in ("east/300", "sim/100"):
                call = both.make_call(line, "5550100")
                self.assertEqual(both.get_call(call.id).info.line_id, line)
                both.drop(call.id)
            # A fresh client learns where a line lives on first use.
            with linebridge.Client([self.daemon.address, east.address]) as fresh:
                self.assertEqual(fresh.get_line("east/300").name, "East (300)")
                with self.assertRaises(linebridge.TapiError) as ctx:
                    fresh.get_line("nowhere/1")
                self.assertEqual(ctx.exception.name, "LINEERR_BADDEVICEID")


class ErrorsTest(DaemonTestCase):
    def assert_tapi(self, ctx, code, name, lineerr):
        e = ctx.exception
        self.assertIsInstance(e, grpc.RpcError)
        self.assertEqual(e.code(), code, repr(e))
        self.assertEqual(e.name, name, repr(e))
        self.assertEqual(e.lineerr, lineerr, repr(e))
        self.assertTrue(e.message)

    def test_errors_carry_the_code_and_the_lineerr(self):
        with self.assertRaises(linebridge.TapiError) as ctx:
            self.client.hold("nope-1")
        self.assert_tapi(ctx, grpc.StatusCode.NOT_FOUND, "LINEERR_INVALCALLHANDLE", 0x80000018)

        with self.assertRaises(linebridge.TapiError) as ctx:
            self.client.make_call("sim/100", "12;ATZ")
        self.assert_tapi(ctx, grpc.StatusCode.INVALID_ARGUMENT, "LINEERR_INVALADDRESS",
                         0x80000010)

        self.client.make_call("sim/100", "101")
        ringing = self.client.list_calls("sim/101")[0]
        with self.assertRaises(linebridge.TapiError) as ctx:
            self.client.hold(ringing.id)
        self.assert_tapi(ctx, grpc.StatusCode.FAILED_PRECONDITION, "LINEERR_INVALCALLSTATE",
                         0x8000001C)

    def test_phone_errors_carry_the_phoneerr(self):
        with self.assertRaises(grpc.RpcError) as ctx:
            self.client.telephony.GetPhone(telephony_pb2.GetPhoneRequest(phone_id="sim/phone/404"),
                                           timeout=5, metadata=self.client.metadata)
        e = linebridge.TapiError.from_rpc_error(ctx.exception)
        self.assertEqual(e.code(), grpc.StatusCode.NOT_FOUND)
        self.assertEqual(e.name, "PHONEERR_BADDEVICEID")
        self.assertEqual(e.phoneerr, 0x90000002)
        self.assertEqual(e.lineerr, 0)

    def test_raw_stub_errors_decode_without_grpcio_status(self):
        with self.assertRaises(grpc.RpcError) as ctx:
            self.client.telephony.Hold(telephony_pb2.CallActionRequest(call_id="nope-2"),
                                       timeout=5, metadata=self.client.metadata)
        detail = linebridge.tapi_error_of(ctx.exception)
        self.assertEqual(detail.name, "LINEERR_INVALCALLHANDLE")
        self.assertEqual(detail.lineerr, 0x80000018)

    def test_a_body_that_does_not_parse_is_invalid_argument_with_the_detail(self):
        # What a client with mismatched proto files sends: here a string field
        # holding bytes that are not UTF-8, and bytes that are not protobuf.
        cases = [(m, b) for m in ("/linebridge.v1.Telephony/MakeCall",
                                  "/linebridge.v1.Telephony/Hold",
                                  "/linebridge.v1.Telephony/Subscribe")
                 for b in (b"\x12\x02\xff\xfe", b"\x0f")]  # field 2 is a string in each
        cases.append(("/linebridge.v1.Admin/Ping", b"\x0a\x05ab"))  # runs past the end
        channel = self.client._servers[0].channel  # pylint: disable=protected-access
        for method, body in cases:
            raw = channel.unary_unary(method)
            with self.assertRaises(grpc.RpcError) as ctx:
                raw(body, timeout=5)
            e = linebridge.TapiError.from_rpc_error(ctx.exception)
            self.assertEqual(e.code(), grpc.StatusCode.INVALID_ARGUMENT, (method, repr(e)))
            self.assertEqual(e.name, "LINEERR_INVALPARAM", (method, repr(e)))
        # Logged once for this peer, with no line per request from libprotobuf.
        self.daemon.stop()
        log = self.daemon.log()
        self.assertNotIn("libprotobuf", log)
        self.assertEqual(log.count("a request from 127.0.0.1"), 1, log)
        self.assertIn("6 more request(s) from 127.0.0.1 did not parse", log)


class ResumeTest(DaemonTestCase):
    def test_resume_replays_exactly_what_was_missed(self):
        stream = self.client.events()
        events = self.collect(stream)
        events.next_batch()
        call = self.client.make_call("sim/100", "5550100")
        events.wait_for(is_call_state(call.id, S.CALL_STATE_CONNECTED))
        events.close()
        position = tuple(stream.position)
        # While nobody listens.
        self.client.drop(call.id)
        last = self.client.status().sequence
        self.assertGreater(last, position[1])

        again = self.client.events(resume=position)
        resumed = self.collect(again)
        batch = resumed.next_batch()
        self.assertFalse(batch.HasField("snapshot"))
        self.assertEqual(batch.events[0].sequence, position[1] + 1)
        seen = list(batch.events)
        while seen[-1].sequence < last:
            seen.extend(resumed.next_batch().events)
        self.assertEqual([e.sequence for e in seen], list(range(position[1] + 1, last + 1)))


class RestartTest(DaemonTestCase):
    port = free_port()

    def test_the_stream_survives_kill_and_restart_with_a_flagged_snapshot(self):
        stream = self.client.events(line_ids=["sim/100"], max_backoff=0.5)
        events = self.collect(stream)
        events.next_batch()
        call = self.client.make_call("sim/100", "5550100")
        events.wait_for(is_call_state(call.id, S.CALL_STATE_CONNECTED))
        epoch_before = stream.position.epoch

        for stop in (self.daemon.kill9, self.daemon.stop):
            stop()
            self.daemon.start()  # same port, new epoch
            snapshot = events.wait_for_batch(lambda b: b.HasField("snapshot"), timeout=20)
            self.assertEqual(snapshot.snapshot_reason, linebridge.SNAPSHOT_EPOCH_CHANGED)
            self.assertNotEqual(snapshot.epoch, epoch_before)
            self.assertEqual([c.id for c in snapshot.snapshot.calls], [])
            epoch_before = snapshot.epoch
            # Live events flow again on the same iterator.
            after = self.client.make_call("sim/100", "5550100")
            events.wait_for(is_call_state(after.id, S.CALL_STATE_CONNECTED))
            self.client.drop(after.id)
        self.assertGreaterEqual(stream.reconnects, 2)


class TlsTokenTest(unittest.TestCase):
    def setUp(self):
        self.tmp = TempDir()
        self.addCleanup(self.tmp.cleanup)
        certs = make_certs(self.tmp.path)
        self.certs = certs
        self.ca = certs["ca.pem"]
        self.token = bootstrap_admin(os.path.join(self.tmp.path, "data"))
        self.daemon = Daemon(self.tmp.path, 0, ["--tls_cert", certs["server.pem"], "--tls_key",
                                                certs["server.key"]]).start()
        self.addCleanup(self.daemon.stop)

    def test_tls_with_a_token_from_a_file_and_from_the_environment(self):
        token_file = os.path.join(self.tmp.path, "token")
        with open(token_file, "w", encoding="utf-8") as f:
            f.write(self.token + "\n")
        with linebridge.Client(self.daemon.address, tls_ca=self.ca, token_file=token_file) as c:
            self.assertIn("sim/100", {line.id for line in c.list_lines()})
            call = c.make_call("sim/100", "5550100")
            self.assertEqual(c.drop(call.id).info.line_id, "sim/100")

        env = {"LINEBRIDGE_SERVER": self.daemon.address, "LINEBRIDGE_TLS_CA": self.ca,
               "LINEBRIDGE_TOKEN": self.token}
        saved = {k: os.environ.get(k) for k in env}
        os.environ.update(env)
        try:
            with linebridge.Client() as c:
                self.assertGreater(c.status().lines, 0)
        finally:
            for k, v in saved.items():
                if v is None:
                    os.environ.pop(k, None)
                else:
                    os.environ[k] = v

    def test_without_the_token_or_the_ca_the_call_fails_with_one_clear_error(self):
        with linebridge.Client(self.daemon.address, tls_ca=self.ca) as c:
            with self.assertRaises(linebridge.TapiError) as ctx:
                c.list_lines()
            self.assertEqual(ctx.exception.code(), grpc.StatusCode.UNAUTHENTICATED)
            self.assertTrue(ctx.exception.name)
        with linebridge.Client(self.daemon.address, token=self.token, timeout=2) as c:
            with self.assertRaises(linebridge.TapiError) as ctx:
                c.list_lines()  # plaintext against a TLS server
            self.assertEqual(ctx.exception.code(), grpc.StatusCode.UNAVAILABLE)


class MutualTlsTest(unittest.TestCase):
    def test_a_client_certificate_is_the_credential(self):
        tmp = TempDir()
        self.addCleanup(tmp.cleanup)
        certs = make_certs(tmp.path)
        config = os.path.join(tmp.path, "mtls.textproto")
        with open(config, "w", encoding="utf-8") as f:
            f.write(f'tls {{ cert_file: "{certs["server.pem"]}" key_file: "{certs["server.key"]}" '
                    f'client_ca_file: "{certs["ca.pem"]}" require_client_cert: true }}\n'
                    'auth { admin_principals: "py-client" }\n')
        daemon = Daemon(tmp.path, 0, ["--config", config]).start()
        self.addCleanup(daemon.stop)
        with linebridge.Client(daemon.address, tls_ca=certs["ca.pem"], tls_cert=certs["client.pem"],
                               tls_key=certs["client.key"]) as c:
            self.assertIn("sim/100", {line.id for line in c.list_lines()})
            who = c.security.WhoAmI(linebridge.security_pb2.WhoAmIRequest(), timeout=5,
                                    metadata=c.metadata)
            self.assertEqual(who.name, "py-client")
        with linebridge.Client(daemon.address, tls_ca=certs["ca.pem"], timeout=3) as c:
            with self.assertRaises(linebridge.TapiError) as ctx:
                c.list_lines()  # no client certificate: the handshake fails
            self.assertEqual(ctx.exception.code(), grpc.StatusCode.UNAVAILABLE)
        with self.assertRaises(ValueError):
            linebridge.Client(daemon.address, tls_cert=certs["client.pem"])


class LargeSnapshotTest(unittest.TestCase):
    LINES = 16000

    def test_a_snapshot_sent_in_parts_arrives_as_one_batch(self):
        tmp = TempDir()
        self.addCleanup(tmp.cleanup)
        config = os.path.join(tmp.path, "large.textproto")
        with open(config, "w", encoding="utf-8") as f:
            f.write('providers { sim { name: "sim" ')
            for i in range(self.LINES):
                f.write(f'extensions {{ number: "{100000 + i}" name: "Extension {i} of the large '
                        'test switch" } ')
            f.write("} }\n")
        daemon = Daemon(tmp.path, 0, ["--config", config]).start()
        self.addCleanup(daemon.stop)
        with linebridge.Client(daemon.address) as client:
            # Parts as the server sends them, read raw: more than one, each under 4 MiB.
            raw = client._servers[0].telephony.Subscribe(  # pylint: disable=protected-access
                telephony_pb2.SubscribeRequest(), metadata=client.metadata)
            parts = []
            for batch in raw:
                parts.append(batch)
                if not batch.snapshot.more:
                    break
            raw.cancel()
            self.assertGreater(len(parts), 3)
            self.assertTrue(all(p.ByteSize() < 4 * 1024 * 1024 for p in parts))
            self.assertEqual(sum(len(p.snapshot.lines) for p in parts), self.LINES)
            # Through the client: one batch with every line, then live events.
            stream = client.events()
            self.addCleanup(stream.close)
            first = next(iter(stream))
            self.assertTrue(first.HasField("snapshot"))
            self.assertFalse(first.snapshot.more)
            ids = [line.id for line in first.snapshot.lines]
            self.assertEqual(len(ids), self.LINES)
            self.assertEqual(len(set(ids)), self.LINES)
            self.assertEqual(stream.position.sequence, first.snapshot.sequence)


if __name__ == "__main__":
    unittest.main()
