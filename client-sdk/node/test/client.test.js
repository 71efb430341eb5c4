// The Node client against real linebridged processes on 127.0.0.1.
'use strict';
const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');
const { after, before, describe, test } = require('node:test');
const grpc = require('@grpc/grpc-js');
const { Client, TapiError, tapiErrorOf } = require('..');
const {
  Collector, Daemon, bootstrapAdmin, freePort, isCallCreatedOn, isCallState, makeCerts, tempDir,
} = require('./harness');

function withDaemon(extra = []) {
  const ctx = {};
  before(async () => {
    ctx.dir = tempDir();
    ctx.daemon = await new Daemon(ctx.dir, await freePort(), extra).start();
    ctx.client = new Client({ server: ctx.daemon.address });
  });
  after(async () => {
    ctx.client.close();
    await ctx.daemon.stop();
    fs.rmSync(ctx.dir, { recursive: true, force: true });
  });
  return ctx;
}

async function rejection(promise) {
  try {
    await promise;
  } catch (e) {
    return e;
  }
  assert.fail('the call succeeded');
}

describe('calls and events', () => {
  const ctx = withDaemon();

  test('a call answered, held and dropped, with the callee id from call_created', async () => {
    const { client } = ctx;
    const lines = (await client.listLines()).map((l) => l.id);
    assert.ok(lines.includes('sim/100') && lines.includes('sim/101'), String(lines));
    const events = new Collector(client.events({ lineIds: ['sim/100', 'sim/101'] }));
    try {
      const first = await events.nextBatch();
      assert.equal(first.snapshotReason, 'SNAPSHOT_REASON_REQUESTED');
      assert.ok(first.snapshot);

      const call = await client.makeCall('sim/100', '101');
      const created = await events.waitFor(isCallCreatedOn('sim/101'));
      const callee = created.callCreated.call;
      assert.equal(callee.status.state, 'CALL_STATE_OFFERING');
      assert.equal(callee.info.caller.number, '100');
      assert.equal((await client.answer(callee.id)).status.state, 'CALL_STATE_CONNECTED');
      assert.equal((await client.hold(callee.id)).status.state, 'CALL_STATE_ONHOLD');
      assert.equal((await client.unhold(callee.id)).status.state, 'CALL_STATE_CONNECTED');
      await client.drop(call.id);
      const seen = [];
      await events.waitFor(isCallState(call.id, 'CALL_STATE_IDLE'), undefined, seen);
      const states = seen.filter((e) => e.kind === 'callState' && e.callState.callId === callee.id)
        .map((e) => e.callState.status.state);
      assert.ok(states.includes('CALL_STATE_ONHOLD'), String(states));
    } finally {
      await events.close();
    }
  });

  test('64-bit epoch and sequences are exact, so a resume replays without a snapshot', async () => {
    const { client, daemon } = ctx;
    const status = await client.status();
    const logged = /\(epoch (\d+)\)/.exec(daemon.log())[1];
    assert.equal(status.epoch, logged);  // a decimal string, not a rounded Number
    assert.equal(typeof status.sequence, 'string');

    const stream = client.events();
    const events = new Collector(stream);
    await events.nextBatch();
    const call = await client.makeCall('sim/102', '5550100');
    await events.waitFor(isCallState(call.id, 'CALL_STATE_CONNECTED'));
    await events.close();
    const position = { ...stream.position };
    assert.equal(position.epoch, logged);
    await client.drop(call.id);  // while nobody listens
    const last = BigInt((await client.status()).sequence);

    const resumed = new Collector(client.events({ resume: position }));
    try {
      const batch = await resumed.nextBatch();
      assert.equal(batch.snapshot, null, `resume gave a snapshot: ${batch.snapshotReason}`);
      const seen = [...batch.events];
      while (BigInt(seen[seen.length - 1].sequence) < last) seen.push(...(await resumed.nextBatch()).events);
      const want = [];
      for (let s = BigInt(position.sequence) + 1n; s <= last; s++) want.push(String(s));
      assert.deepEqual(seen.map((e) => e.sequence), want);
    } finally {
      await resumed.close();
    }
  });

  test('call-detail records page through', async () => {
    const { client } = ctx;
    for (let i = 0; i < 3; i++) await client.drop((await client.makeCall('sim/104', '5550100')).id);
    const records = [];
    for await (const r of client.callRecords({ lineId: 'sim/104', pageSize: 2 })) records.push(r);
    assert.equal(records.length, 3);
    assert.equal(new Set(records.map((r) => r.recordId)).size, 3);
  });
});

describe('a snapshot larger than a message', () => {
  const LINES = 16000;
  const ctx = {};
  before(async () => {
    ctx.dir = tempDir();
    const config = path.join(ctx.dir, 'large.textproto');
    let text = 'providers { sim { name: "sim" ';
    for (let i = 0; i < LINES; i++) {
      text += `extensions { number: "${100000 + i}" name: "Extension ${i} of the large test switch" } `;
    }
    fs.writeFileSync(config, `${text}} }\n`);
    ctx.daemon = await new Daemon(ctx.dir, await freePort(), ['--config', config]).start();
    ctx.client = new Client({ server: ctx.daemon.address });
  });
  after(async () => {
    ctx.client.close();
    await ctx.daemon.stop();
    fs.rmSync(ctx.dir, { recursive: true, force: true });
  });

  test('its parts arrive as one batch with every line', async () => {
    const stream = ctx.client.events();
    const events = new Collector(stream);
    try {
      const first = await events.nextBatch();
      assert.ok(first.snapshot, 'no snapshot');
      assert.equal(first.snapshot.more, false);
      const ids = new Set(first.snapshot.lines.map((l) => l.id));
      assert.equal(first.snapshot.lines.length, LINES);
      assert.equal(ids.size, LINES);
      assert.equal(stream.position.sequence, first.snapshot.sequence);
    } finally {
      await events.close();
    }
  });
});

describe('errors', () => {
  const ctx = withDaemon();

  test('typed errors carry the code and the LINEERR', async () => {
    const { client } = ctx;
    let e = await rejection(client.hold('nope-1'));
    assert.ok(e instanceof TapiError);
    assert.equal(e.codeName, 'NOT_FOUND');
    assert.equal(e.lineerrName, 'LINEERR_INVALCALLHANDLE');
    assert.equal(e.lineerr, 0x80000018);
    e = await rejection(client.makeCall('sim/100', '12;ATZ'));
    assert.equal(e.code, grpc.status.INVALID_ARGUMENT);
    assert.equal(e.lineerrName, 'LINEERR_INVALADDRESS');
    await client.makeCall('sim/100', '101');
    const [ringing] = await client.listCalls('sim/101');
    e = await rejection(client.hold(ringing.id));
    assert.equal(e.codeName, 'FAILED_PRECONDITION');
    assert.equal(e.lineerr, 0x8000001c);
  });

  test('raw stub errors decode with tapiErrorOf', async () => {
    const { client } = ctx;
    const e = await new Promise((resolve) => client.telephony.Hold({ callId: 'nope-2' },
      client.metadata(), (err) => resolve(err)));
    assert.deepEqual(tapiErrorOf(e),
      { lineerr: 0x80000018, name: 'LINEERR_INVALCALLHANDLE', phoneerr: 0 });
  });

  test('phone errors carry the PHONEERR', async () => {
    const { client } = ctx;
    const e = await new Promise((resolve) => client.telephony.GetPhone(
      { phoneId: 'sim/phone/404' }, client.metadata(), (err) => resolve(err)));
    assert.deepEqual(tapiErrorOf(e), { lineerr: 0, name: 'PHONEERR_BADDEVICEID', phoneerr: 0x90000002 });
    const typed = TapiError.from(e);
    assert.equal(typed.codeName, 'NOT_FOUND');
    assert.equal(typed.phoneerr, 0x90000002);
  });

  test('a body that does not parse is INVALID_ARGUMENT with LINEERR_INVALPARAM', async () => {
    const { client } = ctx;
    const raw = new grpc.Client(ctx.daemon.address, grpc.credentials.createInsecure());
    const send = (method, body) => new Promise((resolve) => raw.makeUnaryRequest(method,
      (b) => b, (b) => b, body, (err) => resolve(err)));
    for (const [method, body] of [
      ['/linebridge.v1.Telephony/MakeCall', Buffer.from([0x12, 0x02, 0xff, 0xfe])],
      ['/linebridge.v1.Telephony/Subscribe', Buffer.from([0x0f])],
      ['/linebridge.v1.Admin/GetServerStatus', Buffer.from([0x0a, 0x05, 0x61])],
    ]) {
      const e = TapiError.from(await send(method, body));
      assert.equal(e.codeName, 'INVALID_ARGUMENT', `${method}: ${e.message}`);
      assert.equal(e.lineerrName, 'LINEERR_INVALPARAM', method);
    }
    raw.close();
    assert.ok((await client.ping()).payload);
  });
});

describe('restart', () => {
  const ctx = withDaemon();

  test('the stream survives kill -9 and SIGTERM restarts with a flagged snapshot', async () => {
    const { client, daemon } = ctx;
    const stream = client.events({ lineIds: ['sim/100'], maxBackoffMs: 500 });
    const events = new Collector(stream);
    try {
      await events.nextBatch();
      let epoch = stream.position.epoch;
      for (const stop of ['kill9', 'stop']) {
        await daemon[stop]();
        await daemon.start();
        const snap = await events.waitForBatch((b) => b.snapshot !== null, 20000);
        assert.equal(snap.snapshotReason, 'SNAPSHOT_REASON_EPOCH_CHANGED');
        assert.notEqual(snap.epoch, epoch);
        epoch = snap.epoch;
        const call = await client.makeCall('sim/100', '5550100');
        await events.waitFor(isCallState(call.id, 'CALL_STATE_CONNECTED'));
        await client.drop(call.id);
      }
      assert.ok(stream.reconnects >= 2);
    } finally {
      await events.close();
    }
  });
});

describe('TLS with a token', () => {
  const ctx = {};
  before(async () => {
    ctx.dir = tempDir();
    ctx.certs = makeCerts(ctx.dir);
    ctx.token = bootstrapAdmin(path.join(ctx.dir, 'data'));
    ctx.daemon = await new Daemon(ctx.dir, 0, ['--tls_cert', ctx.certs.cert, '--tls_key', ctx.certs.key]).start();
  });
  after(async () => {
    await ctx.daemon.stop();
    fs.rmSync(ctx.dir, { recursive: true, force: true });
  });

  test('a token file over TLS, and the environment variables', async () => {
    const tokenFile = path.join(ctx.dir, 'token');
    fs.writeFileSync(tokenFile, `${ctx.token}\n`);
    const client = new Client({ server: ctx.daemon.address, tlsCa: ctx.certs.ca, tokenFile });
    const call = await client.makeCall('sim/100', '5550100');
    assert.equal((await client.drop(call.id)).info.lineId, 'sim/100');
    client.close();

    const saved = { ...process.env };
    Object.assign(process.env, { LINEBRIDGE_SERVER: ctx.daemon.address,
      LINEBRIDGE_TLS_CA: ctx.certs.ca, LINEBRIDGE_TOKEN: ctx.token });
    try {
      const fromEnv = new Client();
      assert.ok((await fromEnv.status()).lines > 0);
      fromEnv.close();
    } finally {
      for (const k of ['LINEBRIDGE_SERVER', 'LINEBRIDGE_TLS_CA', 'LINEBRIDGE_TOKEN']) {
        if (saved[k] === undefined) delete process.env[k]; else process.env[k] = saved[k];
      }
    }
  });

  test('without the token: UNAUTHENTICATED; without TLS: UNAVAILABLE', async () => {
    const noToken = new Client({ server: ctx.daemon.address, tlsCa: ctx.certs.ca });
    assert.equal((await rejection(noToken.listLines())).codeName, 'UNAUTHENTICATED');
    noToken.close();
    const plain = new Client({ server: ctx.daemon.address, token: ctx.token, timeoutMs: 2000 });
    assert.equal((await rejection(plain.listLines())).codeName, 'UNAVAILABLE');
    plain.close();
  });
});
