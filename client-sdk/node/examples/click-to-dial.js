#!/usr/bin/env node
// Click-to-dial: call a number from a line and follow the call until it is
// answered or fails.   node examples/click-to-dial.js sim/100 5550100
'use strict';
const { Client, TapiError } = require('..');  // in an application: require('@linebridge/client')

const DONE = new Set(['CALL_STATE_CONNECTED', 'CALL_STATE_BUSY', 'CALL_STATE_DISCONNECTED',
  'CALL_STATE_IDLE']);

async function main() {
  const [line, number] = process.argv.slice(2);
  if (!line || !number) throw new Error('usage: click-to-dial.js LINE NUMBER');
  const client = new Client();
  const stream = client.events({ lineIds: [line] });
  const batches = stream[Symbol.asyncIterator]();
  const first = batches.next();  // subscribe before dialling
  let call;
  try {
    call = await client.makeCall(line, number);
  } catch (e) {
    if (!(e instanceof TapiError)) throw e;
    console.error(`cannot call ${number}: ${e.details} (${e.codeName}, ${e.lineerrName})`);
    stream.close();
    client.close();
    return 1;
  }
  console.log(`call ${call.id} to ${number}`);
  let state = call.status.state;
  for (let next = await first; !next.done && !DONE.has(state); next = await batches.next()) {
    const batch = next.value;
    if (batch.snapshot) {  // the stream started after the call
      const now = batch.snapshot.calls.find((c) => c.id === call.id);
      state = now ? now.status.state : 'CALL_STATE_IDLE';
    }
    for (const e of batch.events) {
      if (e.kind === 'callState' && e.callState.callId === call.id) state = e.callState.status.state;
    }
  }
  stream.close();
  await batches.return?.();
  if (state !== 'CALL_STATE_CONNECTED' && state !== 'CALL_STATE_IDLE') await client.drop(call.id);
  console.log(state);
  client.close();
  return state === 'CALL_STATE_CONNECTED' ? 0 : 2;
}

main().then((code) => { process.exitCode = code; },
  (e) => { console.error(e.message); process.exitCode = 1; });
