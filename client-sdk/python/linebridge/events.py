"""Where an event stream stands, and how it resumes (shared by the sync and
asyncio clients).

The server numbers events (epoch, sequence). After each batch the position
moves to its last event (or to the snapshot's sequence); a new stream resumes
from there. If the server no longer holds that point, or restarted (new
epoch), the first batch is a snapshot, flagged with its reason.
"""

import random
from typing import Iterable, Optional, Tuple

import grpc

from linebridge.v1 import telephony_pb2

EventBatch = telephony_pb2.EventBatch
SNAPSHOT_REQUESTED = EventBatch.SNAPSHOT_REASON_REQUESTED
SNAPSHOT_GAP = EventBatch.SNAPSHOT_REASON_GAP
SNAPSHOT_EPOCH_CHANGED = EventBatch.SNAPSHOT_REASON_EPOCH_CHANGED

# Codes after which a stream is opened again: the server went away or
# restarted, or cut a slow reader off (resumable by design).
RETRYABLE = frozenset(
    {
        grpc.StatusCode.UNAVAILABLE,
        grpc.StatusCode.RESOURCE_EXHAUSTED,
        grpc.StatusCode.CANCELLED,
        grpc.StatusCode.DEADLINE_EXCEEDED,
        grpc.StatusCode.INTERNAL,
        grpc.StatusCode.UNKNOWN,
        grpc.StatusCode.ABORTED,
    }
)


class SnapshotParts:
    """Merges the parts of a large snapshot (`snapshot.more`) into one batch:
    `add` returns the batch to hand on, or None while parts are still due."""

    def __init__(self):
        self._pending = None

    def add(self, batch: EventBatch) -> Optional[EventBatch]:
        if not batch.HasField("snapshot"):
            self._pending = None
            return batch
        part = batch.snapshot
        if self._pending is not None and self._pending.sequence == part.sequence:
            self._pending.lines.extend(part.lines)
            self._pending.calls.extend(part.calls)
            self._pending.phones.extend(part.phones)
        else:
            self._pending = telephony_pb2.Snapshot()
            self._pending.CopyFrom(part)
        if part.more:
            return None
        batch.snapshot.CopyFrom(self._pending)
        batch.snapshot.more = False
        self._pending = None
        return batch


class Position:
    """The last (epoch, sequence) processed; (0, 0) = none yet."""

    def __init__(self, resume: Optional[Tuple[int, int]] = None):
        self.epoch, self.sequence = resume or (0, 0)

    def advance(self, batch: EventBatch) -> None:
        self.epoch = batch.epoch
        if batch.HasField("snapshot"):
            self.sequence = batch.snapshot.sequence
        for event in batch.events:
            self.sequence = event.sequence

    def request(
        self, line_ids: Iterable[str] = (), session_id: str = "", snapshot: bool = False
    ) -> telephony_pb2.SubscribeRequest:
        return telephony_pb2.SubscribeRequest(
            session_id=session_id,
            line_ids=list(line_ids),
            resume_epoch=self.epoch,
            resume_sequence=self.sequence,
            snapshot=snapshot,
        )

    def __iter__(self):  # epoch, sequence = position
        return iter((self.epoch, self.sequence))

    def __repr__(self) -> str:
        return f"Position(epoch={self.epoch}, sequence={self.sequence})"


class Backoff:
    """Exponential backoff with full jitter; reset after a healthy stream."""

    def __init__(self, initial: float = 0.05, maximum: float = 5.0):
        self.initial = initial
        self.maximum = maximum
        self.attempt = 0

    def next_delay(self) -> float:
        cap = min(self.maximum, self.initial * (2**self.attempt))
        self.attempt += 1
        return random.uniform(cap / 2, cap)

    def reset(self) -> None:
        self.attempt = 0
