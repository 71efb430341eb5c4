#!/usr/bin/env python3
"""Calls a number, plays a beep into the call, records what the far end says
into a WAV file and reports DTMF digits it sends.

    record_call.py LINE NUMBER FILE.wav [SECONDS]

e.g. record_call.py sim/100 5550100 weather.wav 3 (the simulated Weather Line
answers and plays a prompt). Media needs the control right on the line.
"""
import queue
import sys
import threading
import time
import wave

import linebridge
from linebridge.v1 import media_pb2, types_pb2


def main():
    line, number, path = sys.argv[1:4]
    seconds = float(sys.argv[4]) if len(sys.argv) > 4 else 3.0
    client = linebridge.Client()
    call = client.make_call(line, number)
    deadline = time.monotonic() + 10
    while client.get_call(call.id).status.state != types_pb2.CALL_STATE_CONNECTED:
        if time.monotonic() > deadline:
            sys.exit("the call was not answered")
        time.sleep(0.05)

    # Requests go through a queue: the stream stays open until None.
    requests = queue.Queue()
    requests.put(media_pb2.MediaRequest(start=media_pb2.MediaStart(
        call_id=call.id, format=media_pb2.AUDIO_FORMAT_L16_8K)))
    requests.put(media_pb2.MediaRequest(tone=media_pb2.GenerateTone(
        kind=media_pb2.TONE_KIND_BEEP)))
    responses = client.media.StreamMedia(iter(requests.get, None), metadata=client.metadata)

    frames = 0
    with wave.open(path, "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)       # L16, little-endian like WAV
        out.setframerate(8000)
        for resp in responses:
            kind = resp.WhichOneof("kind")
            if kind == "started":
                print(f"streaming {resp.started.call_id} on {resp.started.line_id}")
            elif kind == "frame":
                out.writeframes(resp.frame.payload)
                frames += 1
                if frames == int(seconds * 50):
                    requests.put(None)  # half-close: the server ends the stream
            elif kind == "tone_done":
                print("beep played")
            elif kind == "stats":
                s = resp.stats
                print(f"stats: sent {s.frames_sent} dropped {s.frames_dropped}"
                      f" call_ended {s.call_ended}")
    client.drop(call.id)
    print(f"{frames} frames ({frames / 50:.1f} s) in {path}")


if __name__ == "__main__":
    main()
