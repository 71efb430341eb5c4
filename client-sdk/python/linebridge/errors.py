"""TapiError: a failed RPC with its canonical code and LINEERR_* value.

The server puts a google.rpc.Status in the "grpc-status-details-bin" trailer;
its details carry a linebridge.v1.TapiError. This module decodes it with
protobuf alone (no grpcio-status, which Debian does not package).
"""

from typing import Optional

import grpc
from google.protobuf import any_pb2, descriptor_pb2, descriptor_pool, message_factory

from linebridge.v1 import types_pb2

DETAILS_KEY = "grpc-status-details-bin"
TAPI_ERROR_TYPE = "linebridge.v1.TapiError"


def _status_class():
    # google.rpc.Status, built in a private descriptor pool so that it never
    # clashes with another copy of google/rpc/status.proto in the process.
    pool = descriptor_pool.DescriptorPool()
    pool.AddSerializedFile(any_pb2.DESCRIPTOR.serialized_pb)
    fd = descriptor_pb2.FileDescriptorProto(
        name="linebridge/private/google_rpc_status.proto",
        package="google.rpc",
        dependency=["google/protobuf/any.proto"],
        syntax="proto3",
    )
    msg = fd.message_type.add(name="Status")
    f = descriptor_pb2.FieldDescriptorProto
    msg.field.add(name="code", number=1, type=f.TYPE_INT32, label=f.LABEL_OPTIONAL)
    msg.field.add(name="message", number=2, type=f.TYPE_STRING, label=f.LABEL_OPTIONAL)
    msg.field.add(
        name="details",
        number=3,
        type=f.TYPE_MESSAGE,
        label=f.LABEL_REPEATED,
        type_name=".google.protobuf.Any",
    )
    pool.Add(fd)
    desc = pool.FindMessageTypeByName("google.rpc.Status")
    if hasattr(message_factory, "GetMessageClass"):  # protobuf >= 4.24
        return message_factory.GetMessageClass(desc)
    return message_factory.MessageFactory(pool).GetPrototype(desc)


RpcStatus = _status_class()


def decode_details(details: bytes) -> Optional[types_pb2.TapiError]:
    """The TapiError inside a serialized google.rpc.Status, or None."""
    if not details:
        return None
    status = RpcStatus.FromString(details)
    for detail in status.details:
        if detail.type_url.rsplit("/", 1)[-1] == TAPI_ERROR_TYPE:
            return types_pb2.TapiError.FromString(detail.value)
    return None


def tapi_error_of(error) -> Optional[types_pb2.TapiError]:
    """The TapiError of a grpc.RpcError (sync or grpc.aio), or None."""
    trailing = error.trailing_metadata() if hasattr(error, "trailing_metadata") else None
    for key, value in trailing or ():
        if key == DETAILS_KEY:
            return decode_details(value)
    return None


class TapiError(grpc.RpcError):
    """A failed linebridge RPC.

    code: grpc.StatusCode (e.g. FAILED_PRECONDITION); message: the server's text;
    lineerr: the LINEERR_* value (0 when the server sent none, e.g. the
    network failed); name: "LINEERR_INVALCALLSTATE" (or ""); phoneerr: the
    PHONEERR_* value of a phone RPC (lineerr is then 0 and name
    "PHONEERR_...").
    """

    def __init__(self, code: grpc.StatusCode, message: str, lineerr: int = 0, name: str = "",
                 phoneerr: int = 0):
        super().__init__(f"{message} ({code.name}{', ' + name if name else ''})")
        self._code = code
        self.message = message
        self.lineerr = lineerr
        self.name = name
        self.phoneerr = phoneerr

    @property
    def status(self) -> grpc.StatusCode:
        return self._code

    def code(self) -> grpc.StatusCode:  # like grpc.Call
        return self._code

    def details(self) -> str:  # like grpc.Call
        return self.message

    def __repr__(self) -> str:
        return (
            f"TapiError({self._code.name}, {self.message!r}, "
            f"lineerr=0x{self.lineerr:08x}, name={self.name!r})"
        )

    @classmethod
    def from_rpc_error(cls, error) -> "TapiError":
        """Wraps a grpc.RpcError (or grpc.aio.AioRpcError)."""
        if isinstance(error, TapiError):
            return error
        code = error.code() if hasattr(error, "code") else grpc.StatusCode.UNKNOWN
        message = error.details() if hasattr(error, "details") else str(error)
        detail = tapi_error_of(error)
        if detail is None:
            return cls(code, message or "")
        return cls(code, message or "", detail.lineerr, detail.name, detail.phoneerr)

