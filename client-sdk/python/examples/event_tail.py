#!/usr/bin/env python3
"""Prints every event, one line each; survives server restarts (the stream
resumes by itself, and says when it starts again from a snapshot).

    event_tail.py [--line sim/100 ...]
"""

import argparse
import signal
import sys

import linebridge
from linebridge.v1 import telephony_pb2, types_pb2


def describe(event):
    kind = event.WhichOneof("kind")
    if kind == "call_created":
        call = event.call_created.call
        return f"call_created {call.id} {types_pb2.CallState.Name(call.status.state)}"
    if kind == "call_state":
        return (f"call_state {event.call_state.call_id} "
                f"{types_pb2.CallState.Name(event.call_state.status.state)}")
    if kind == "call_info":
        return f"call_info {event.call_info.call_id} {','.join(event.call_info.changed)}"
    return kind


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--line", action="append", default=[])
    args = parser.parse_args()
    with linebridge.Client() as client:
        stream = client.events(line_ids=args.line)
        signal.signal(signal.SIGTERM, lambda *_: stream.close())
        try:
            for batch in stream:
                if batch.HasField("snapshot"):
                    reason = telephony_pb2.EventBatch.SnapshotReason.Name(batch.snapshot_reason)
                    print(f"snapshot {reason} epoch={batch.epoch} seq={batch.snapshot.sequence} "
                          f"lines={len(batch.snapshot.lines)} calls={len(batch.snapshot.calls)}",
                          flush=True)
                for event in batch.events:
                    print(f"{event.sequence} {event.line_id or '-'} {describe(event)}", flush=True)
        except KeyboardInterrupt:
            pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
