"""The synchronous client: typed helpers over the generated stubs."""

import threading
from typing import Iterable, Iterator, List, Optional, Tuple

import grpc

from linebridge import _messages as rq
from linebridge._helpers import CallHelpers
from linebridge.config import Config
from linebridge.errors import TapiError
from linebridge.events import RETRYABLE, Backoff, EventBatch, Position, SnapshotParts
from linebridge.v1 import (
    admin_pb2,
    admin_pb2_grpc,
    media_pb2_grpc,
    security_pb2_grpc,
    telephony_pb2,
    telephony_pb2_grpc,
    types_pb2,
)


class _Server:
    def __init__(self, address: str, config: Config):
        creds, options = config.channel_parts()
        if creds is None:
            self.channel = grpc.insecure_channel(address, options=options)
        else:
            self.channel = grpc.secure_channel(address, creds, options=options)
        self.address = address
        self.telephony = telephony_pb2_grpc.TelephonyStub(self.channel)
        self.admin = admin_pb2_grpc.AdminStub(self.channel)
        self.security = security_pb2_grpc.SecurityStub(self.channel)
        self.media = media_pb2_grpc.MediaStub(self.channel)


class Client(CallHelpers):
    """A linebridge client.

        client = linebridge.Client()                      # $LINEBRIDGE_SERVER, ...
        client = linebridge.Client("pbx:50051", tls_ca="ca.pem", token_file="tok")

    Every helper returns the response message (linebridge.v1 protos) and
    raises TapiError on failure. `session_id` defaults to `client.session_id`
    (set by create_session). With several servers, lines are merged and each
    request goes to the server that has its line or call. The raw stubs are
    `client.telephony`, `client.admin`, `client.security`, `client.media` (first server);
    pass `metadata=client.metadata` to them.
    """

    def __init__(self, servers=None, config: Optional[Config] = None, **settings):
        self.config = config or Config.from_env(servers, **settings)
        self.metadata: Tuple[Tuple[str, str], ...] = self.config.metadata()
        self._servers = [_Server(a, self.config) for a in self.config.servers]
        self._lines = {}  # line id -> server index
        self._calls = {}  # call id -> server index
        self._lock = threading.Lock()
        self.session_id = ""

    # -- plumbing -------------------------------------------------------------
    @property
    def telephony(self) -> telephony_pb2_grpc.TelephonyStub:
        return self._servers[0].telephony

    @property
    def admin(self) -> admin_pb2_grpc.AdminStub:
        return self._servers[0].admin

    @property
    def security(self) -> security_pb2_grpc.SecurityStub:
        return self._servers[0].security

    @property
    def media(self) -> media_pb2_grpc.MediaStub:
        """The Media stub (first server): StreamMedia, docs/media.md."""
        return self._servers[0].media

    def close(self) -> None:
        for s in self._servers:
            s.channel.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def _invoke(self, server: int, service: str, method: str, request, timeout=None):
        stub = getattr(self._servers[server], service)
        try:
            response = getattr(stub, method)(
                request, timeout=timeout or self.config.timeout, metadata=self.metadata
            )
        except grpc.RpcError as e:
            raise TapiError.from_rpc_error(e) from None
        self._learn(server, response)
        return response

    def _learn(self, server: int, message) -> None:
        with self._lock:
            for line in rq.lines_in(message):
                self._lines[line.id] = server
            for call in rq.calls_in(message):
                if call.status.state == types_pb2.CALL_STATE_IDLE:
                    self._calls.pop(call.id, None)
                else:
                    self._calls[call.id] = server

    def _server_of(self, kind: str, ident: str) -> int:
        if len(self._servers) == 1:
            return 0
        table = self._lines if kind == "line" else self._calls
        with self._lock:
            if ident in table:
                return table[ident]
        # Unknown: ask every server (lines, or calls) and look again.
        for i in range(len(self._servers)):
            try:
                if kind == "line":
                    self._invoke(i, "telephony", "ListLines", telephony_pb2.ListLinesRequest())
                else:
                    self._invoke(i, "telephony", "ListCalls", telephony_pb2.ListCallsRequest())
            except TapiError as e:
                if e.code() != grpc.StatusCode.UNAVAILABLE:
                    raise
        with self._lock:
            return table.get(ident, 0)

    def _telephony(self, method: str, request, kind: str = "", ident: str = ""):
        server = self._server_of(kind, ident) if kind else 0
        return self._invoke(server, "telephony", method, request)

    # -- lines ----------------------------------------------------------------
    def list_lines(self, provider: str = "") -> List[types_pb2.Line]:
        lines = []
        for i in range(len(self._servers)):
            resp = self._invoke(i, "telephony", "ListLines",
                                telephony_pb2.ListLinesRequest(provider=provider))
            lines.extend(resp.lines)
        return lines

    # -- sessions -------------------------------------------------------------
    def create_session(self, client_name: str, reclaim_session_id: str = ""):
        """Creates a session (a TAPI application) and makes it the default."""
        session = self._telephony("CreateSession", telephony_pb2.CreateSessionRequest(
            client_name=client_name, reclaim_session_id=reclaim_session_id))
        self.session_id = session.id
        return session

    def close_session(self, session_id: Optional[str] = None):
        sid = self._sid(session_id)
        resp = self._telephony("CloseSession", telephony_pb2.CloseSessionRequest(session_id=sid))
        if sid == self.session_id:
            self.session_id = ""
        return resp

    # -- calls ----------------------------------------------------------------
    def list_calls(self, line_id: str = "") -> List[types_pb2.Call]:
        if line_id:
            return list(self._telephony("ListCalls", telephony_pb2.ListCallsRequest(
                line_id=line_id), "line", line_id).calls)
        calls = []
        for i in range(len(self._servers)):
            calls.extend(self._invoke(i, "telephony", "ListCalls",
                                      telephony_pb2.ListCallsRequest()).calls)
        return calls

    # -- server ---------------------------------------------------------------
    def status(self, server: int = 0) -> admin_pb2.ServerStatus:
        return self._invoke(server, "admin", "GetServerStatus", admin_pb2.GetServerStatusRequest())

    def ping(self, payload: bytes = b"", server: int = 0) -> admin_pb2.PingResponse:
        return self._invoke(server, "admin", "Ping", admin_pb2.PingRequest(payload=payload))

    def call_records(self, line_id: str = "", since=None, page_size: int = 100,
                     server: int = 0) -> Iterator[types_pb2.CallRecord]:
        """Every call-detail record, newest first (pages through ListCallRecords)."""
        before = 0
        while True:
            req = rq.list_records(line_id, since, page_size, before)
            resp = self._invoke(server, "admin", "ListCallRecords", req)
            yield from resp.records
            if resp.next_before_record_id == 0:
                return
            before = resp.next_before_record_id

    # -- events ---------------------------------------------------------------
    def events(self, line_ids: Iterable[str] = (), session_id: Optional[str] = None,
               resume: Optional[Tuple[int, int]] = None, server: int = 0,
               max_backoff: float = 5.0) -> "EventStream":
        """A stream of EventBatch that reconnects and resumes by itself.

        Iterate it; a batch with `HasField("snapshot")` replaces your state
        (`snapshot_reason` says why: REQUESTED, GAP, EPOCH_CHANGED).
        `stream.position` is where it would resume; `stream.close()` ends it
        (from any thread).
        """
        return EventStream(self, server, list(line_ids), self._sid(session_id), resume,
                           max_backoff)


class EventStream:
    """Iterator over EventBatch; see Client.events."""

    def __init__(self, client: Client, server: int, line_ids: List[str], session_id: str,
                 resume, max_backoff: float):
        self._client = client
        self._server = server
        self._line_ids = line_ids
        self._session_id = session_id
        self.position = Position(resume)
        self._backoff = Backoff(maximum=max_backoff)
        self._call = None
        self._closed = threading.Event()
        self._lock = threading.Lock()
        self.reconnects = 0

    def close(self) -> None:
        self._closed.set()
        with self._lock:
            if self._call is not None:
                self._call.cancel()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def __iter__(self) -> Iterator[EventBatch]:
        stub = self._client._servers[self._server].telephony  # pylint: disable=protected-access
        while not self._closed.is_set():
            request = self.position.request(self._line_ids, self._session_id)
            with self._lock:
                self._call = stub.Subscribe(request, metadata=self._client.metadata)
            try:
                parts = SnapshotParts()  # a large snapshot comes in parts
                for batch in self._call:
                    self._backoff.reset()
                    batch = parts.add(batch)
                    if batch is None:
                        continue
                    self.position.advance(batch)
                    self._client._learn(self._server, batch)  # pylint: disable=protected-access
                    yield batch
                # The server ended the stream (shutdown): resume on a new one.
            except grpc.RpcError as e:
                if self._closed.is_set():
                    return
                if e.code() not in RETRYABLE:
                    raise TapiError.from_rpc_error(e) from None
            if self._closed.wait(self._backoff.next_delay()):
                return
            self.reconnects += 1
