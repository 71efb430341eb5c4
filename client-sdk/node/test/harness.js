// Test harness: real linebridged processes on 127.0.0.1, temp dirs, bounded waits.
'use strict';
const { spawn, execFileSync } = require('node:child_process');
const fs = require('node:fs');
const net = require('node:net');
const os = require('node:os');
const path = require('node:path');

const BIN = process.env.LINEBRIDGE_BIN_DIR;
const TIMEOUT_MS = 10000;

function tempDir() {
  return fs.mkdtempSync(path.join(os.tmpdir(), 'lb-node-'));
}

function freePort() {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
    srv.on('error', reject);
  });
}

async function waitUntil(predicate, what, timeoutMs = TIMEOUT_MS) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await predicate();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

// A linebridged process; start() again restarts it on the same port.
class Daemon {
  constructor(dir, port = 0, extra = []) {
    if (!BIN) throw new Error('LINEBRIDGE_BIN_DIR must point at the build bin directory');
    this.dir = dir;
    this.port = port;
    this.extra = extra;
    this.logPath = path.join(dir, 'daemon.log');
  }

  get address() {
    return `127.0.0.1:${this.port}`;
  }

  async start() {
    const portFile = path.join(this.dir, 'port');
    fs.rmSync(portFile, { force: true });
    const log = fs.openSync(this.logPath, 'a');
    this.proc = spawn(path.join(BIN, 'linebridged'), ['--listen', `127.0.0.1:${this.port}`,
      '--data_dir', path.join(this.dir, 'data'), '--port_file', portFile, ...this.extra],
    { stdio: ['ignore', log, log] });
    fs.closeSync(log);
    const proc = this.proc;
    let exited = false;
    proc.on('exit', () => { exited = true; });
    this.exited = new Promise((resolve) => proc.on('exit', resolve));
    const text = await waitUntil(() => {
      if (exited) throw new Error(`linebridged exited at start: ${this.log().slice(-2000)}`);
      return fs.existsSync(portFile) && fs.readFileSync(portFile, 'utf8').trim();
    }, "linebridged's port file");
    this.port = Number(text);
    return this;
  }

  async signal(sig) {
    if (!this.proc || this.proc.exitCode !== null || this.proc.signalCode !== null) return;
    this.proc.kill(sig);
    const timer = setTimeout(() => this.proc.kill('SIGKILL'), TIMEOUT_MS);
    await this.exited;
    clearTimeout(timer);
  }

  kill9() { return this.signal('SIGKILL'); }

  // SIGTERM, as systemd stops it: linebridged must exit 0 in time, with no
  // sanitizer report in its log.
  async stop() {
    const running = this.proc && this.proc.exitCode === null && this.proc.signalCode === null;
    await this.signal('SIGTERM');
    if (running && this.proc.exitCode !== 0) {
      throw new Error(`linebridged ended with ${this.proc.exitCode ?? this.proc.signalCode} ` +
                      `on SIGTERM: ${this.log().slice(-2000)}`);
    }
    const log = fs.existsSync(this.logPath) ? this.log() : '';
    for (const marker of ['ERROR: AddressSanitizer', 'ERROR: LeakSanitizer', 'runtime error:']) {
      const at = log.indexOf(marker);
      if (at >= 0) throw new Error(`sanitizer report in the linebridged log: ${log.slice(at, at + 4000)}`);
    }
  }

  log() {
    return fs.readFileSync(this.logPath, 'utf8');
  }
}

// Reads an EventStream in the background; tests wait for what they need.
class Collector {
  constructor(stream) {
    this.stream = stream;
    this.batches = [];
    this.waiters = [];
    this.error = undefined;
    this.done = (async () => {
      try {
        for await (const batch of stream) {
          this.batches.push(batch);
          this.notify();
        }
      } catch (e) {
        this.error = e;
      }
      this.ended = true;
      this.notify();
    })();
  }

  notify() {
    for (const w of this.waiters.splice(0)) w();
  }

  async nextBatch(timeoutMs = TIMEOUT_MS) {
    const deadline = Date.now() + timeoutMs;
    while (this.batches.length === 0) {
      if (this.ended) throw new Error(`stream ended: ${this.error}`);
      const left = deadline - Date.now();
      if (left <= 0) throw new Error('timed out waiting for a batch');
      await new Promise((resolve) => {
        const t = setTimeout(resolve, left);
        this.waiters.push(() => { clearTimeout(t); resolve(); });
      });
    }
    return this.batches.shift();
  }

  async waitForBatch(predicate, timeoutMs = TIMEOUT_MS) {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const batch = await this.nextBatch(Math.max(1, deadline - Date.now()));
      if (predicate(batch)) return batch;
    }
  }

  // The first event matching predicate; `seen` (if given) gets every event consumed.
  async waitFor(predicate, timeoutMs = TIMEOUT_MS, seen = undefined) {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const batch = await this.nextBatch(Math.max(1, deadline - Date.now()));
      for (const e of batch.events) {
        if (seen) seen.push(e);
        if (predicate(e)) return e;
      }
    }
  }

  async close() {
    this.stream.close();
    await this.done;
  }
}

const isCallState = (callId, state) => (e) =>
  e.kind === 'callState' && e.callState.callId === callId && e.callState.status.state === state;
const isCallCreatedOn = (lineId) => (e) => e.kind === 'callCreated' && e.lineId === lineId;

function makeCerts(dir) {
  const ossl = (...args) => execFileSync('openssl', args, { cwd: dir, stdio: 'ignore' });
  ossl('req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes',
    '-days', '2', '-subj', '/CN=node test CA', '-keyout', 'ca.key', '-out', 'ca.pem',
    '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign');
  ossl('req', '-new', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes',
    '-subj', '/CN=localhost', '-keyout', 'server.key', '-out', 'server.csr');
  fs.writeFileSync(path.join(dir, 'server.ext'), 'basicConstraints=CA:FALSE\n' +
    'extendedKeyUsage=serverAuth\nsubjectAltName=DNS:localhost,IP:127.0.0.1\n');
  ossl('x509', '-req', '-in', 'server.csr', '-CA', 'ca.pem', '-CAkey', 'ca.key', '-CAcreateserial',
    '-days', '2', '-extfile', 'server.ext', '-out', 'server.pem');
  return { ca: path.join(dir, 'ca.pem'), cert: path.join(dir, 'server.pem'), key: path.join(dir, 'server.key') };
}

function bootstrapAdmin(dataDir, name = 'ops') {
  return execFileSync(path.join(BIN, 'linebridged'), ['--data_dir', dataDir, '--bootstrap_admin', name],
    { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'], timeout: TIMEOUT_MS }).trim();
}

module.exports = {
  Collector, Daemon, bootstrapAdmin, freePort, isCallCreatedOn, isCallState, makeCerts, tempDir,
};
