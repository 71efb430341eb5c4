"""The examples, run as a user would, against a real linebridged."""

import array
import csv
import io
import os
import signal
import subprocess
import sys
import unittest
import wave

import linebridge

from harness import TIMEOUT, Daemon, TempDir, free_port, wait_until

EXAMPLES = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "examples")


class ExamplesTest(unittest.TestCase):
    def setUp(self):
        self.tmp = TempDir()
        self.addCleanup(self.tmp.cleanup)
        self.daemon = Daemon(self.tmp.path, free_port()).start()
        self.addCleanup(self.daemon.stop)
        self.env = dict(os.environ, LINEBRIDGE_SERVER=self.daemon.address)
        self.client = linebridge.Client(self.daemon.address)
        self.addCleanup(self.client.close)

    def run_example(self, *args):
        return subprocess.run([sys.executable, os.path.join(EXAMPLES, args[0]), *args[1:]],
                              capture_output=True, text=True, env=self.env, timeout=TIMEOUT * 3)

    def start_example(self, *args):
        out = open(os.path.join(self.tmp.path, args[0] + ".out"), "w+", encoding="utf-8")  # pylint: disable=consider-using-with
        self.addCleanup(out.close)
        proc = subprocess.Popen(  # pylint: disable=consider-using-with
            [sys.executable, os.path.join(EXAMPLES, args[0]), *args[1:]],
            stdout=out, stderr=subprocess.STDOUT, env=self.env)

        def stop():
            if proc.poll() is None:
                proc.kill()
            proc.wait(TIMEOUT)
        self.addCleanup(stop)

        def output():
            with open(out.name, encoding="utf-8") as f:
                return f.read()
        return proc, output

    def test_screen_pop_prints_the_caller(self):
        proc, output = self.start_example("screen_pop.py", "sim/101", "--count", "1")
        self.client.make_call("sim/100", "101")
        self.assertEqual(proc.wait(TIMEOUT), 0, output())
        self.assertRegex(output(), r"^sim/101: call from Alice <100>  \(call \S+\)\n$")

    def test_click_to_dial_follows_the_call(self):
        ok = self.run_example("click_to_dial.py", "sim/100", "5550100")
        self.assertEqual(ok.returncode, 0, ok.stdout + ok.stderr)
        self.assertTrue(ok.stdout.rstrip().endswith("CALL_STATE_CONNECTED"), ok.stdout)
        busy = self.run_example("click_to_dial.py", "sim/102", "5550101")
        self.assertEqual(busy.returncode, 2, busy.stdout + busy.stderr)
        self.assertEqual(self.client.list_calls("sim/102"), [])
        bad = self.run_example("click_to_dial.py", "sim/100", "12;ATZ")
        self.assertEqual(bad.returncode, 1)
        self.assertIn("INVALID_ARGUMENT, LINEERR_INVALADDRESS", bad.stderr)

    def test_record_call_records_the_far_end(self):
        path = os.path.join(self.tmp.path, "weather.wav")
        out = self.run_example("record_call.py", "sim/100", "5550100", path, "2")
        self.assertEqual(out.returncode, 0, out.stdout + out.stderr)
        self.assertIn("beep played", out.stdout)
        self.assertIn("100 frames (2.0 s)", out.stdout)
        with wave.open(path) as w:
            self.assertEqual((w.getframerate(), w.getsampwidth(), w.getnframes()), (8000, 2, 16000))
            samples = array.array("h", w.readframes(16000))
        # The Weather Line's prompt: 660 Hz, 800 ms on, 400 ms off. Its first
        # 600 ms (after two frames of jitter buffer at most) is all tone.
        tone = samples[400:400 + 4000]
        crossings = sum(1 for a, b in zip(tone, tone[1:]) if (a < 0) != (b < 0))
        self.assertAlmostEqual(crossings / 2 / 0.5, 660, delta=15)
        self.assertEqual(self.client.list_calls("sim/100"), [])

    def test_record_on_server_leaves_the_file_in_the_recordings_directory(self):
        out = self.run_example("record_on_server.py", "sim/101", "5550100", "weather.wav", "1.5")
        self.assertEqual(out.returncode, 0, out.stdout + out.stderr)
        self.assertIn("weather.wav: 1500 ms, MEDIA_JOB_END_MAX_DURATION", out.stdout)
        path = os.path.join(self.tmp.path, "data", "recordings", "weather.wav")
        with wave.open(path) as w:
            self.assertEqual((w.getframerate(), w.getsampwidth(), w.getnframes()), (8000, 2, 12000))
            samples = array.array("h", w.readframes(12000))
        # The prompt's first 800 ms are 660 Hz.
        tone = samples[0:4000]
        crossings = sum(1 for a, b in zip(tone, tone[1:]) if (a < 0) != (b < 0))
        self.assertAlmostEqual(crossings / 2 / 0.5, 660, delta=15)
        self.assertEqual(self.client.list_calls("sim/101"), [])

    def test_cdr_csv_exports_every_record(self):
        for number in ("5550100", "5550101", "101"):
            self.client.drop(self.client.make_call("sim/103", number).id)
        out = self.run_example("cdr_csv.py", "--line", "sim/103")
        self.assertEqual(out.returncode, 0, out.stderr)
        rows = list(csv.DictReader(io.StringIO(out.stdout)))
        self.assertEqual(len(rows), 3)
        self.assertEqual({r["line_id"] for r in rows}, {"sim/103"})
        self.assertTrue(all(r["ended"] for r in rows))

    def test_event_tail_survives_a_server_restart(self):
        proc, output = self.start_example("event_tail.py", "--line", "sim/100")
        wait_until(lambda: "snapshot SNAPSHOT_REASON_REQUESTED" in output(), what="first snapshot")
        self.daemon.kill9()
        self.daemon.start()
        wait_until(lambda: "snapshot SNAPSHOT_REASON_EPOCH_CHANGED" in output(), timeout=20,
                   what="snapshot after the restart")
        call = self.client.make_call("sim/100", "5550100")
        wait_until(lambda: f"call_created {call.id}" in output(), what="the new call")
        proc.send_signal(signal.SIGTERM)
        self.assertEqual(proc.wait(TIMEOUT), 0, output())


if __name__ == "__main__":
    unittest.main()
