"""Test harness: real linebridged processes on 127.0.0.1, temp dirs, bounded waits."""

import os
import queue
import signal
import socket
import subprocess
import tempfile
import threading
import time

BIN = os.environ.get("LINEBRIDGE_BIN_DIR", "")
TIMEOUT = 10.0  # every wait is bounded by this


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_until(predicate, timeout=TIMEOUT, what="condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.02)
    raise AssertionError(f"timed out waiting for {what}")


class Daemon:
    """A linebridged process; start() again restarts it on the same port."""

    def __init__(self, tmp: str, port: int = 0, extra=()):
        if not BIN:
            raise RuntimeError("LINEBRIDGE_BIN_DIR must point at the build's bin directory")
        self.tmp = tmp
        self.port = port
        self.extra = list(extra)
        self.proc = None
        self.log_path = os.path.join(tmp, "daemon.log")

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.port}"

    def start(self):
        port_file = os.path.join(self.tmp, "port")
        if os.path.exists(port_file):
            os.remove(port_file)
        log = open(self.log_path, "ab")  # pylint: disable=consider-using-with
        self.proc = subprocess.Popen(  # pylint: disable=consider-using-with
            [os.path.join(BIN, "linebridged"), "--listen", f"127.0.0.1:{self.port}",
             "--data_dir", os.path.join(self.tmp, "data"), "--port_file", port_file,
             *self.extra],
            stdout=log, stderr=subprocess.STDOUT)
        log.close()

        def ready():
            if self.proc.poll() is not None:
                raise AssertionError(f"linebridged exited at start: {self.log()[-2000:]}")
            if not os.path.exists(port_file):
                return None
            with open(port_file, encoding="utf-8") as f:
                return f.read().strip()

        self.port = int(wait_until(ready, what="linebridged's port file"))
        return self

    def kill9(self):
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(TIMEOUT)

    def stop(self):
        """SIGTERM, as systemd stops it: linebridged must exit 0 within the
        timeout, with no sanitizer report in its log."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(TIMEOUT)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(TIMEOUT)
                raise AssertionError(f"linebridged did not stop on SIGTERM: {self.log()[-2000:]}")
            if self.proc.returncode != 0:
                raise AssertionError(
                    f"linebridged exited with {self.proc.returncode} on SIGTERM: {self.log()[-2000:]}")
        self.check_log()

    def check_log(self):
        log = self.log() if os.path.exists(self.log_path) else ""
        for marker in ("ERROR: AddressSanitizer", "ERROR: LeakSanitizer", "runtime error:"):
            if marker in log:
                at = log.index(marker)
                raise AssertionError(f"sanitizer report in the linebridged log: {log[at:at + 4000]}")

    def log(self) -> str:
        with open(self.log_path, encoding="utf-8", errors="replace") as f:
            return f.read()


class TempDir:
    def __init__(self):
        self._dir = tempfile.TemporaryDirectory(prefix="lb-py-")  # pylint: disable=consider-using-with
        self.path = self._dir.name

    def cleanup(self):
        self._dir.cleanup()


class Collector:
    """Reads an EventStream on its own thread; tests wait for what they need."""

    def __init__(self, stream):
        self.stream = stream
        self.batches = queue.Queue()
        self.error = None
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self):
        try:
            for batch in self.stream:
                self.batches.put(batch)
        except Exception as e:  # pylint: disable=broad-except
            self.error = e
        self.batches.put(None)

    def next_batch(self, timeout=TIMEOUT):
        batch = self.batches.get(timeout=timeout)
        if batch is None:
            raise AssertionError(f"stream ended: {self.error!r}")
        return batch

    def wait_for(self, predicate, timeout=TIMEOUT, seen=None):
        """The first event matching predicate (events of earlier batches go to `seen`)."""
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise AssertionError("timed out waiting for an event")
            try:
                batch = self.next_batch(left)
            except queue.Empty:
                raise AssertionError("timed out waiting for an event") from None
            for event in batch.events:
                if seen is not None:
                    seen.append(event)
                if predicate(event):
                    return event

    def wait_for_batch(self, predicate, timeout=TIMEOUT):
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise AssertionError("timed out waiting for a batch")
            try:
                batch = self.next_batch(left)
            except queue.Empty:
                raise AssertionError("timed out waiting for a batch") from None
            if predicate(batch):
                return batch

    def close(self):
        self.stream.close()
        self._thread.join(TIMEOUT)
        if self._thread.is_alive():
            raise AssertionError("event stream did not stop after close()")


def kind(event) -> str:
    return event.WhichOneof("kind")


def is_call_state(call_id, state):
    return lambda e: kind(e) == "call_state" and e.call_state.call_id == call_id and \
        e.call_state.status.state == state


def is_call_created_on(line_id):
    return lambda e: kind(e) == "call_created" and e.line_id == line_id


def make_certs(directory: str):
    """A CA and a server certificate for 127.0.0.1/localhost, made by openssl."""
    def ossl(*args):
        subprocess.run(["openssl", *args], check=True, capture_output=True, cwd=directory)

    ossl("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
         "-days", "2", "-subj", "/CN=python test CA", "-keyout", "ca.key", "-out", "ca.pem",
         "-addext", "basicConstraints=critical,CA:TRUE",
         "-addext", "keyUsage=critical,keyCertSign,cRLSign")
    ossl("req", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
         "-subj", "/CN=localhost", "-keyout", "server.key", "-out", "server.csr")
    with open(os.path.join(directory, "server.ext"), "w", encoding="utf-8") as f:
        f.write("basicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n"
                "subjectAltName=DNS:localhost,IP:127.0.0.1\n")
    ossl("x509", "-req", "-in", "server.csr", "-CA", "ca.pem", "-CAkey", "ca.key",
         "-CAcreateserial", "-days", "2", "-extfile", "server.ext", "-out", "server.pem")
    # A client certificate for mutual TLS (its CN is the principal's name).
    ossl("req", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
         "-subj", "/CN=py-client", "-keyout", "client.key", "-out", "client.csr")
    with open(os.path.join(directory, "client.ext"), "w", encoding="utf-8") as f:
        f.write("basicConstraints=CA:FALSE\nextendedKeyUsage=clientAuth\n")
    ossl("x509", "-req", "-in", "client.csr", "-CA", "ca.pem", "-CAkey", "ca.key",
         "-CAcreateserial", "-days", "2", "-extfile", "client.ext", "-out", "client.pem")
    return {name: os.path.join(directory, name)
            for name in ("ca.pem", "server.pem", "server.key", "client.pem", "client.key")}


def bootstrap_admin(data_dir: str, name: str = "ops") -> str:
    """A bearer token for a new admin principal (linebridged --bootstrap_admin)."""
    out = subprocess.run([os.path.join(BIN, "linebridged"), "--data_dir", data_dir,
                          "--bootstrap_admin", name], check=True, capture_output=True, text=True,
                         timeout=TIMEOUT)
    return out.stdout.strip()
