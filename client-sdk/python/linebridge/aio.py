"""The asyncio client, on grpc.aio. Same helpers as Client, awaitable.

    async with linebridge.aio.AsyncClient() as client:
        call = await client.make_call("sim/100", "101")
        async for batch in client.events(line_ids=["sim/101"]):
            ...
"""

import asyncio
from typing import AsyncIterator, Iterable, List, Optional, Tuple

import grpc
import grpc.aio

from linebridge import _messages as rq
from linebridge._helpers import CallHelpers
from linebridge.config import Config
from linebridge.errors import TapiError
from linebridge.events import RETRYABLE, Backoff, EventBatch, Position, SnapshotParts
from linebridge.v1 import (
    admin_pb2,
    admin_pb2_grpc,
    security_pb2_grpc,
    telephony_pb2,
    telephony_pb2_grpc,
    types_pb2,
)


class AsyncClient(CallHelpers):
    """One server (the first of the configuration); see Client for the helpers."""

    def __init__(self, servers=None, config: Optional[Config] = None, **settings):
        self.config = config or Config.from_env(servers, **settings)
        self.metadata: Tuple[Tuple[str, str], ...] = self.config.metadata()
        creds, options = self.config.channel_parts()
        address = self.config.servers[0]
        if creds is None:
            self.channel = grpc.aio.insecure_channel(address, options=options)
        else:
            self.channel = grpc.aio.secure_channel(address, creds, options=options)
        self.telephony = telephony_pb2_grpc.TelephonyStub(self.channel)
        self.admin = admin_pb2_grpc.AdminStub(self.channel)
        self.security = security_pb2_grpc.SecurityStub(self.channel)
        self.session_id = ""

    async def close(self) -> None:
        await self.channel.close()

    async def __aenter__(self):
        return self

    async def __aexit__(self, *exc):
        await self.close()

    async def _invoke(self, stub, method: str, request):
        try:
            return await getattr(stub, method)(
                request, timeout=self.config.timeout, metadata=self.metadata
            )
        except grpc.aio.AioRpcError as e:
            raise TapiError.from_rpc_error(e) from None

    def _telephony(self, method: str, request, kind: str = "", ident: str = ""):
        return self._invoke(self.telephony, method, request)

    async def list_lines(self, provider: str = "") -> List[types_pb2.Line]:
        resp = await self._telephony("ListLines", telephony_pb2.ListLinesRequest(provider=provider))
        return list(resp.lines)

    async def list_calls(self, line_id: str = "") -> List[types_pb2.Call]:
        resp = await self._telephony("ListCalls", telephony_pb2.ListCallsRequest(line_id=line_id))
        return list(resp.calls)

    async def create_session(self, client_name: str, reclaim_session_id: str = ""):
        session = await self._telephony("CreateSession", telephony_pb2.CreateSessionRequest(
            client_name=client_name, reclaim_session_id=reclaim_session_id))
        self.session_id = session.id
        return session

    async def close_session(self, session_id: Optional[str] = None):
        sid = self._sid(session_id)
        resp = await self._telephony("CloseSession",
                                     telephony_pb2.CloseSessionRequest(session_id=sid))
        if sid == self.session_id:
            self.session_id = ""
        return resp

    async def status(self) -> admin_pb2.ServerStatus:
        return await self._invoke(self.admin, "GetServerStatus",
                                  admin_pb2.GetServerStatusRequest())

    async def ping(self, payload: bytes = b"") -> admin_pb2.PingResponse:
        return await self._invoke(self.admin, "Ping", admin_pb2.PingRequest(payload=payload))

    async def call_records(self, line_id: str = "", since=None,
                           page_size: int = 100) -> AsyncIterator[types_pb2.CallRecord]:
        before = 0
        while True:
            resp = await self._invoke(self.admin, "ListCallRecords",
                                      rq.list_records(line_id, since, page_size, before))
            for record in resp.records:
                yield record
            if resp.next_before_record_id == 0:
                return
            before = resp.next_before_record_id

    def events(self, line_ids: Iterable[str] = (), session_id: Optional[str] = None,
               resume: Optional[Tuple[int, int]] = None,
               max_backoff: float = 5.0) -> "AsyncEventStream":
        """An async iterator of EventBatch that reconnects and resumes by itself."""
        return AsyncEventStream(self, list(line_ids), self._sid(session_id), resume, max_backoff)


class AsyncEventStream:
    """See AsyncClient.events; `position`, `reconnects`, `close()` as in EventStream."""

    def __init__(self, client: AsyncClient, line_ids: List[str], session_id: str, resume,
                 max_backoff: float):
        self._client = client
        self._line_ids = line_ids
        self._session_id = session_id
        self.position = Position(resume)
        self._backoff = Backoff(maximum=max_backoff)
        self._call = None
        self._closed = False
        self.reconnects = 0

    def close(self) -> None:
        self._closed = True
        if self._call is not None:
            self._call.cancel()

    def __aiter__(self) -> AsyncIterator[EventBatch]:
        return self._run()

    async def _run(self) -> AsyncIterator[EventBatch]:
        while not self._closed:
            request = self.position.request(self._line_ids, self._session_id)
            self._call = self._client.telephony.Subscribe(request, metadata=self._client.metadata)
            try:
                parts = SnapshotParts()  # a large snapshot comes in parts
                async for batch in self._call:
                    self._backoff.reset()
                    batch = parts.add(batch)
                    if batch is None:
                        continue
                    self.position.advance(batch)
                    yield batch
            except grpc.aio.AioRpcError as e:
                if self._closed:
                    return
                if e.code() not in RETRYABLE:
                    raise TapiError.from_rpc_error(e) from None
            except asyncio.CancelledError:
                if self._closed:
                    return
                raise
            finally:
                self._call.cancel()
            if self._closed:
                return
            await asyncio.sleep(self._backoff.next_delay())
            self.reconnects += 1
