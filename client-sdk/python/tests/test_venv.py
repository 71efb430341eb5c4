"""`pip install` of the package into a venv (Debian's grpcio and protobuf seen
through --system-site-packages), then a call through the installed copy."""

import os
import shutil
import subprocess
import sys
import unittest

from harness import Daemon, TempDir

HERE = os.path.dirname(os.path.abspath(__file__))
PACKAGE = os.path.dirname(HERE)
PROTO = os.path.normpath(os.path.join(PACKAGE, "..", "..", "proto"))

SCRIPT = """
import sys, linebridge
assert linebridge.__file__.startswith(sys.prefix), linebridge.__file__
with linebridge.Client(sys.argv[1]) as c:
    call = c.make_call("sim/100", "5550100")
    c.drop(call.id)
    print("ok", call.id)
"""


class VenvInstallTest(unittest.TestCase):
    def test_pip_install_into_a_venv_and_place_a_call(self):
        tmp = TempDir()
        self.addCleanup(tmp.cleanup)
        # A copy of the sources, so that the build leaves nothing in the tree.
        src = os.path.join(tmp.path, "src")
        shutil.copytree(PACKAGE, os.path.join(src, "client-sdk", "python"),
                        ignore=shutil.ignore_patterns("__pycache__", "build", "*.egg-info"))
        shutil.copytree(PROTO, os.path.join(src, "proto"))
        venv = os.path.join(tmp.path, "venv")
        subprocess.run([sys.executable, "-m", "venv", "--system-site-packages", venv],
                       check=True, timeout=120)
        py = os.path.join(venv, "bin", "python")
        out = subprocess.run([py, "-m", "pip", "install", "--no-deps", "--no-build-isolation",
                              "--no-index", "--quiet", os.path.join(src, "client-sdk", "python")],
                             capture_output=True, text=True, timeout=180)
        self.assertEqual(out.returncode, 0, out.stdout + out.stderr)

        daemon = Daemon(tmp.path).start()
        self.addCleanup(daemon.stop)
        env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
        run = subprocess.run([py, "-c", SCRIPT, daemon.address], capture_output=True, text=True,
                             timeout=60, env=env, cwd=tmp.path)
        self.assertEqual(run.returncode, 0, run.stdout + run.stderr)
        self.assertTrue(run.stdout.startswith("ok "), run.stdout)


if __name__ == "__main__":
    unittest.main()
