"""linebridge: a Python client for the linebridge.v1 telephony API.

    import linebridge
    client = linebridge.Client()              # $LINEBRIDGE_SERVER or 127.0.0.1:50051
    call = client.make_call("sim/100", "101")
    for batch in client.events(line_ids=["sim/101"]):
        ...

The generated messages and stubs are linebridge.v1.*_pb2 / *_pb2_grpc;
asyncio: linebridge.aio.AsyncClient.
"""

from linebridge.client import Client, EventStream
from linebridge.config import Config
from linebridge.errors import TapiError, decode_details, tapi_error_of
from linebridge.events import (
    SNAPSHOT_EPOCH_CHANGED,
    SNAPSHOT_GAP,
    SNAPSHOT_REQUESTED,
    Position,
)
from linebridge.v1 import admin_pb2, security_pb2, telephony_pb2, types_pb2

__all__ = [
    "Client",
    "Config",
    "EventStream",
    "Position",
    "SNAPSHOT_EPOCH_CHANGED",
    "SNAPSHOT_GAP",
    "SNAPSHOT_REQUESTED",
    "TapiError",
    "admin_pb2",
    "decode_details",
    "security_pb2",
    "tapi_error_of",
    "telephony_pb2",
    "types_pb2",
]

__version__ = "0.1.0"
