"""linebridge.aio.AsyncClient against real linebridged processes on 127.0.0.1."""

import asyncio
import unittest

import grpc

import linebridge
from linebridge.aio import AsyncClient
from linebridge.v1 import types_pb2 as S

from harness import Daemon, TempDir, free_port, kind

TIMEOUT = 10


async def next_matching(iterator, predicate, timeout=TIMEOUT):
    """The first batch from `iterator` satisfying predicate, within timeout."""
    async def scan():
        async for batch in iterator:
            if predicate(batch):
                return batch
        raise AssertionError("stream ended")
    return await asyncio.wait_for(scan(), timeout)


def has_event(predicate):
    return lambda batch: any(predicate(e) for e in batch.events)


class AsyncClientTest(unittest.IsolatedAsyncioTestCase):
    async def asyncSetUp(self):
        self.tmp = TempDir()
        self.daemon = Daemon(self.tmp.path, free_port()).start()
        self.client = AsyncClient(self.daemon.address)

    async def asyncTearDown(self):
        await self.client.close()
        self.daemon.stop()
        self.tmp.cleanup()

    async def test_call_flow_events_and_restart(self):
        stream = self.client.events(line_ids=["sim/100", "sim/101"], max_backoff=0.5)
        batches = stream.__aiter__()
        first = await asyncio.wait_for(batches.__anext__(), TIMEOUT)
        self.assertEqual(first.snapshot_reason, linebridge.SNAPSHOT_REQUESTED)

        call = await self.client.make_call("sim/100", "101")
        created = await next_matching(batches, has_event(
            lambda e: kind(e) == "call_created" and e.line_id == "sim/101"))
        callee = next(e.call_created.call for e in created.events
                      if kind(e) == "call_created" and e.line_id == "sim/101")
        self.assertEqual((await self.client.answer(callee.id)).status.state,
                         S.CALL_STATE_CONNECTED)
        self.assertEqual((await self.client.hold(callee.id)).status.state, S.CALL_STATE_ONHOLD)
        await self.client.drop(call.id)

        with self.assertRaises(linebridge.TapiError) as ctx:
            await self.client.unhold(callee.id)
        self.assertIn(ctx.exception.code(), (grpc.StatusCode.NOT_FOUND,
                                             grpc.StatusCode.FAILED_PRECONDITION))
        self.assertTrue(ctx.exception.name.startswith("LINEERR_"))

        self.daemon.kill9()
        self.daemon.start()
        snapshot = await next_matching(batches, lambda b: b.HasField("snapshot"), timeout=20)
        self.assertEqual(snapshot.snapshot_reason, linebridge.SNAPSHOT_EPOCH_CHANGED)
        again = await self.client.make_call("sim/100", "5550100")
        await next_matching(batches, has_event(
            lambda e: kind(e) == "call_state" and e.call_state.call_id == again.id and
            e.call_state.status.state == S.CALL_STATE_CONNECTED))
        self.assertGreaterEqual(stream.reconnects, 1)
        stream.close()
        await batches.aclose()

    async def test_sessions_status_and_records(self):
        session = await self.client.create_session("aio")
        await self.client.open_line("sim/105")
        self.assertEqual(self.client.session_id, session.id)
        status = await self.client.status()
        self.assertGreaterEqual(status.sessions, 1)
        call = await self.client.make_call("sim/105", "5550100")
        await self.client.drop(call.id)
        records = [r async for r in self.client.call_records(line_id="sim/105")]
        self.assertEqual(len(records), 1)
        await self.client.close_session()


if __name__ == "__main__":
    unittest.main()
