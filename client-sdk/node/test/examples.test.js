// The examples, run as a user would, against a real linebridged.
'use strict';
const assert = require('node:assert/strict');
const { execFile, spawn } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');
const { after, before, test } = require('node:test');
const { Client } = require('..');
const { Daemon, freePort, tempDir } = require('./harness');

const EXAMPLES = path.join(__dirname, '..', 'examples');
const ctx = {};

before(async () => {
  ctx.dir = tempDir();
  ctx.daemon = await new Daemon(ctx.dir, await freePort()).start();
  ctx.env = { ...process.env, LINEBRIDGE_SERVER: ctx.daemon.address };
  ctx.client = new Client({ server: ctx.daemon.address });
});
after(async () => {
  ctx.client.close();
  await ctx.daemon.stop();
  fs.rmSync(ctx.dir, { recursive: true, force: true });
});

function run(script, ...args) {
  return new Promise((resolve) => {
    execFile(process.execPath, [path.join(EXAMPLES, script), ...args], { env: ctx.env, timeout: 30000 },
      (error, stdout, stderr) => resolve({ code: error ? error.code : 0, stdout, stderr }));
  });
}

// A long-running example; `output()` is what it printed so far.
function start(script, ...args) {
  const proc = spawn(process.execPath, [path.join(EXAMPLES, script), ...args], { env: ctx.env });
  let text = '';
  proc.stdout.on('data', (d) => { text += d; });
  proc.stderr.on('data', (d) => { text += d; });
  const exited = new Promise((resolve) => proc.on('exit', (code) => resolve(code)));
  return { proc, exited, output: () => text };
}

async function waitFor(predicate, what, timeoutMs = 10000) {
  const deadline = Date.now() + timeoutMs;
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

test('screen-pop prints the caller', async () => {
  const pop = start('screen-pop.js', 'sim/101', '1');
  await ctx.client.makeCall('sim/100', '101');
  assert.equal(await pop.exited, 0, pop.output());
  assert.match(pop.output(), /^sim\/101: call from Alice <100> {2}\(call \S+\)\n$/);
});

test('click-to-dial follows the call', async () => {
  const ok = await run('click-to-dial.js', 'sim/102', '5550100');
  assert.equal(ok.code, 0, ok.stdout + ok.stderr);
  assert.match(ok.stdout, /CALL_STATE_CONNECTED\n$/);
  const busy = await run('click-to-dial.js', 'sim/103', '5550101');
  assert.equal(busy.code, 2, busy.stdout + busy.stderr);
  assert.deepEqual(await ctx.client.listCalls('sim/103'), []);
  const bad = await run('click-to-dial.js', 'sim/103', '12;ATZ');
  assert.equal(bad.code, 1);
  assert.match(bad.stderr, /INVALID_ARGUMENT, LINEERR_INVALADDRESS/);
});

test('cdr-csv exports every record', async () => {
  for (const n of ['5550100', '5550101']) await ctx.client.drop((await ctx.client.makeCall('sim/104', n)).id);
  const out = await run('cdr-csv.js', 'sim/104');
  assert.equal(out.code, 0, out.stderr);
  const rows = out.stdout.trim().split('\n');
  assert.equal(rows[0], 'recordId,callId,lineId,origin,caller,called,connected,started,answered,ended,durationMs,disposition');
  assert.equal(rows.length, 3);
  assert.ok(rows.slice(1).every((r) => r.split(',')[2] === 'sim/104'));
});

test('event-tail survives a server restart', async () => {
  const tail = start('event-tail.js', 'sim/105');
  await waitFor(() => tail.output().includes('snapshot SNAPSHOT_REASON_REQUESTED'), 'first snapshot');
  await ctx.daemon.kill9();
  await ctx.daemon.start();
  await waitFor(() => tail.output().includes('snapshot SNAPSHOT_REASON_EPOCH_CHANGED'), 'snapshot after restart', 20000);
  const call = await ctx.client.makeCall('sim/105', '5550100');
  await waitFor(() => tail.output().includes(`callCreated ${call.id}`), 'the new call');
  tail.proc.kill('SIGTERM');
  assert.equal(await tail.exited, 0, tail.output());
});
