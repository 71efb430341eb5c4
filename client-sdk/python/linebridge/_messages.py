"""Request builders and response walkers shared by both clients."""

import datetime
from typing import Iterator, Sequence

from linebridge.v1 import admin_pb2, telephony_pb2, types_pb2


def open_line(session_id: str, line_id: str, owner: bool, media_modes: Sequence[int]):
    return telephony_pb2.OpenLineRequest(
        session_id=session_id,
        line_id=line_id,
        privilege=types_pb2.PRIVILEGE_OWNER if owner else types_pb2.PRIVILEGE_MONITOR,
        media_modes=list(media_modes) or [types_pb2.MEDIA_MODE_INTERACTIVE_VOICE],
    )


def make_call(session_id: str, line_id: str, destination: str, params: dict):
    return telephony_pb2.MakeCallRequest(
        session_id=session_id,
        line_id=line_id,
        destination=destination,
        params=telephony_pb2.CallParams(**params) if params else None,
    )


def list_records(line_id: str, since, limit: int, before: int):
    req = admin_pb2.ListCallRecordsRequest(line_id=line_id, limit=limit, before_record_id=before)
    if since is not None:
        if isinstance(since, datetime.datetime):
            req.since.FromDatetime(since.astimezone(datetime.timezone.utc).replace(tzinfo=None))
        else:
            req.since.CopyFrom(since)
    return req


def lines_in(message) -> Iterator[types_pb2.Line]:
    """Every Line a response or event batch names."""
    if isinstance(message, types_pb2.Line):
        yield message
    elif isinstance(message, telephony_pb2.ListLinesResponse):
        yield from message.lines
    elif isinstance(message, telephony_pb2.OpenLineResponse):
        yield message.line
    elif isinstance(message, telephony_pb2.EventBatch):
        if message.HasField("snapshot"):
            yield from message.snapshot.lines
        for event in message.events:
            if event.HasField("line_created"):
                yield event.line_created.line


def calls_in(message) -> Iterator[types_pb2.Call]:
    """Every Call a response or event batch names."""
    if isinstance(message, types_pb2.Call):
        yield message
    elif isinstance(message, telephony_pb2.ListCallsResponse):
        yield from message.calls
    elif isinstance(message, telephony_pb2.EventBatch):
        if message.HasField("snapshot"):
            yield from message.snapshot.calls
        for event in message.events:
            if event.HasField("call_created"):
                yield event.call_created.call
    else:
        for field in ("call", "consultation", "conference"):
            if hasattr(message, field) and message.HasField(field):
                yield getattr(message, field)
