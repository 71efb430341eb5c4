"""Helpers that are one RPC each, shared by Client and AsyncClient.

Each returns what `_telephony` returns: the response in Client, an awaitable
in AsyncClient.
"""

from typing import Optional, Sequence

from linebridge import _messages as rq
from linebridge.v1 import telephony_pb2, types_pb2


class CallHelpers:
    """Lines, calls and their control; `session_id` defaults to self.session_id."""

    session_id = ""

    def _telephony(self, method: str, request, kind: str = "", ident: str = ""):
        raise NotImplementedError

    def _sid(self, session_id: Optional[str]) -> str:
        return self.session_id if session_id is None else session_id

    def get_line(self, line_id: str) -> types_pb2.Line:
        return self._telephony("GetLine", telephony_pb2.GetLineRequest(line_id=line_id),
                               "line", line_id)

    def open_line(self, line_id: str, owner: bool = True, media_modes: Sequence[int] = (),
                  session_id: Optional[str] = None):
        """Opens a line in the session: as owner (answers its calls) or monitor."""
        return self._telephony("OpenLine", rq.open_line(self._sid(session_id), line_id, owner,
                                                        media_modes), "line", line_id)

    def close_line(self, line_id: str, session_id: Optional[str] = None):
        return self._telephony("CloseLine", telephony_pb2.CloseLineRequest(
            session_id=self._sid(session_id), line_id=line_id), "line", line_id)

    def get_call(self, call_id: str, session_id: Optional[str] = None) -> types_pb2.Call:
        return self._telephony("GetCall", telephony_pb2.GetCallRequest(
            session_id=self._sid(session_id), call_id=call_id), "call", call_id)

    def make_call(self, line_id: str, destination: str, session_id: Optional[str] = None,
                  **params) -> types_pb2.Call:
        """Places a call; `params` are CallParams fields (media_mode, block_id, ...)."""
        return self._telephony("MakeCall", rq.make_call(self._sid(session_id), line_id,
                                                        destination, params), "line", line_id)

    def dial(self, call_id: str, destination: str, session_id: Optional[str] = None):
        return self._telephony("Dial", telephony_pb2.DialRequest(
            session_id=self._sid(session_id), call_id=call_id, destination=destination),
            "call", call_id)

    def _action(self, method: str, call_id: str, session_id, user_user_info: bytes = b""):
        return self._telephony(method, telephony_pb2.CallActionRequest(
            session_id=self._sid(session_id), call_id=call_id, user_user_info=user_user_info),
            "call", call_id)

    def accept(self, call_id: str, session_id: Optional[str] = None, user_user_info=b""):
        return self._action("Accept", call_id, session_id, user_user_info)

    def answer(self, call_id: str, session_id: Optional[str] = None, user_user_info=b""):
        return self._action("Answer", call_id, session_id, user_user_info)

    def drop(self, call_id: str, session_id: Optional[str] = None, user_user_info=b""):
        return self._action("Drop", call_id, session_id, user_user_info)

    def hold(self, call_id: str, session_id: Optional[str] = None):
        return self._action("Hold", call_id, session_id)

    def unhold(self, call_id: str, session_id: Optional[str] = None):
        return self._action("Unhold", call_id, session_id)

    def redirect(self, call_id: str, destination: str, session_id: Optional[str] = None):
        return self._telephony("Redirect", telephony_pb2.RedirectRequest(
            session_id=self._sid(session_id), call_id=call_id, destination=destination),
            "call", call_id)

    def blind_transfer(self, call_id: str, destination: str, session_id: Optional[str] = None):
        return self._telephony("BlindTransfer", telephony_pb2.BlindTransferRequest(
            session_id=self._sid(session_id), call_id=call_id, destination=destination),
            "call", call_id)

    def generate_digits(self, call_id: str, digits: str, session_id: Optional[str] = None):
        return self._telephony("GenerateDigits", telephony_pb2.GenerateDigitsRequest(
            session_id=self._sid(session_id), call_id=call_id, digits=digits), "call", call_id)
