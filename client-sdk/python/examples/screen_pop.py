#!/usr/bin/env python3
"""Screen pop: print the caller of every call offered on a line.

    screen_pop.py sim/101 [--count N]

Connects like linectl ($LINEBRIDGE_SERVER, $LINEBRIDGE_TLS_CA, $LINEBRIDGE_TOKEN_FILE, ...).
The offered call's id comes with the call_created event: answer it with
`client.answer(call.id)` without any polling.
"""

import argparse
import sys

import linebridge
from linebridge.v1 import types_pb2


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("line")
    parser.add_argument("--count", type=int, default=0, help="exit after N calls (0: never)")
    args = parser.parse_args()
    popped = set()
    with linebridge.Client() as client:
        for batch in client.events(line_ids=[args.line]):
            # Calls already ringing when the stream (re)starts come in its snapshot.
            offered = [c for c in batch.snapshot.calls if c.info.line_id == args.line]
            offered += [e.call_created.call for e in batch.events
                        if e.WhichOneof("kind") == "call_created"]
            for call in offered:
                if call.status.state != types_pb2.CALL_STATE_OFFERING or call.id in popped:
                    continue  # our own outgoing calls, or shown already
                caller = call.info.caller
                who = caller.name or "unknown"
                number = caller.number if caller.available else "withheld"
                print(f"{args.line}: call from {who} <{number}>  (call {call.id})", flush=True)
                popped.add(call.id)
                if len(popped) == args.count:
                    return 0
    return 0


if __name__ == "__main__":
    sys.exit(main())
