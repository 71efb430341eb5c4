#!/usr/bin/env python3
"""Click-to-dial: call a number from a line and follow the call until it is
answered or fails.

    click_to_dial.py sim/100 5550100
"""

import argparse
import sys

import linebridge
from linebridge.v1 import types_pb2

DONE = {types_pb2.CALL_STATE_CONNECTED, types_pb2.CALL_STATE_BUSY,
        types_pb2.CALL_STATE_DISCONNECTED, types_pb2.CALL_STATE_IDLE}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("line")
    parser.add_argument("number")
    args = parser.parse_args()
    with linebridge.Client() as client:
        with client.events(line_ids=[args.line]) as stream:
            try:
                call = client.make_call(args.line, args.number)
            except linebridge.TapiError as e:
                print(f"cannot call {args.number}: {e.message} ({e.code().name}, {e.name})",
                      file=sys.stderr)
                return 1
            print(f"call {call.id} to {args.number}", flush=True)
            state = call.status.state
            for batch in stream:
                if batch.HasField("snapshot"):  # the stream started after the call
                    now = [c for c in batch.snapshot.calls if c.id == call.id]
                    state = now[0].status.state if now else types_pb2.CALL_STATE_IDLE
                for event in batch.events:
                    if event.WhichOneof("kind") == "call_state" and \
                            event.call_state.call_id == call.id:
                        state = event.call_state.status.state
                if state in DONE:
                    break
            if state not in (types_pb2.CALL_STATE_CONNECTED, types_pb2.CALL_STATE_IDLE):
                client.drop(call.id)  # busy, rejected: hang up our side
    print(types_pb2.CallState.Name(state), flush=True)
    return 0 if state == types_pb2.CALL_STATE_CONNECTED else 2


if __name__ == "__main__":
    sys.exit(main())
