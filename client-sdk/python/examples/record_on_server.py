#!/usr/bin/env python3
"""Calls a number and has the server record the call into a WAV file of its
recordings directory (no audio crosses the network), then prints how long
the recording is and why it ended.

    record_on_server.py LINE NUMBER NAME.wav [SECONDS] [SILENCE_MS]

e.g. record_on_server.py sim/100 5550100 weather.wav 3 (the simulated
Weather Line answers and plays a prompt). Needs the control right on the line.
"""
import sys
import time

import linebridge
from linebridge.v1 import media_pb2, types_pb2


def main():
    line, number, name = sys.argv[1:4]
    seconds = float(sys.argv[4]) if len(sys.argv) > 4 else 3.0
    silence_ms = int(sys.argv[5]) if len(sys.argv) > 5 else 0
    client = linebridge.Client()
    call = client.make_call(line, number)
    deadline = time.monotonic() + 10
    while client.get_call(call.id).status.state != types_pb2.CALL_STATE_CONNECTED:
        if time.monotonic() > deadline:
            sys.exit("the call was not answered")
        time.sleep(0.05)

    job = client.media.RecordCall(media_pb2.RecordCallRequest(
        call_id=call.id, file=name, max_duration_ms=int(seconds * 1000), silence_ms=silence_ms),
        metadata=client.metadata)
    print(f"recording {job.file} as job {job.job_id} on {job.line_id}")
    while job.state != media_pb2.MEDIA_JOB_STATE_DONE:
        # A long poll: answers when the job ends, or after wait_ms.
        job = client.media.GetMediaJob(media_pb2.MediaJobRequest(
            line_id=job.line_id, job_id=job.job_id, wait_ms=30000),
            metadata=client.metadata, timeout=40)
    client.drop(call.id)
    print(f"{job.file}: {job.duration_ms} ms, {media_pb2.MediaJobEnd.Name(job.end)}")


if __name__ == "__main__":
    main()
