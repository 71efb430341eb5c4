#!/usr/bin/env python3
"""Exports call-detail records as CSV on stdout.

    cdr_csv.py [--line sim/100] [--since 2026-12-01T00:00:00+00:00] > calls.csv
"""

import argparse
import csv
import datetime
import sys

import linebridge
from linebridge.v1 import types_pb2

FIELDS = ["record_id", "call_id", "line_id", "origin", "caller", "called", "connected",
          "started", "answered", "ended", "duration_ms", "disposition"]


def when(ts):
    return ts.ToDatetime(tzinfo=datetime.timezone.utc).isoformat() if ts.seconds else ""


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--line", default="")
    parser.add_argument("--since", type=datetime.datetime.fromisoformat)
    args = parser.parse_args()
    out = csv.writer(sys.stdout)
    out.writerow(FIELDS)
    with linebridge.Client() as client:
        for r in client.call_records(line_id=args.line, since=args.since):
            out.writerow([
                r.record_id, r.call_id, r.line_id, types_pb2.CallOrigin.Name(r.origin),
                r.caller.number, r.called.number, r.connected.number, when(r.started),
                when(r.answered), when(r.ended), r.duration_ms,
                types_pb2.DisconnectMode.Name(r.disposition),
            ])
    return 0


if __name__ == "__main__":
    sys.exit(main())
