#!/usr/bin/env node
// Screen pop: print the caller of every call offered on a line.
//   node examples/screen-pop.js sim/101 [count]
// Connects like linectl ($LINEBRIDGE_SERVER, $LINEBRIDGE_TLS_CA, $LINEBRIDGE_TOKEN_FILE, ...).
// The offered call's id comes with the callCreated event: answer it with
// client.answer(call.id), no polling.
'use strict';
const { Client } = require('..');  // in an application: require('@linebridge/client')

async function main() {
  const [line, count = '0'] = process.argv.slice(2);
  if (!line) throw new Error('usage: screen-pop.js LINE [COUNT]');
  const client = new Client();
  const stream = client.events({ lineIds: [line] });
  const popped = new Set();
  for await (const batch of stream) {
    // Calls already ringing when the stream (re)starts come in its snapshot.
    const offered = [...(batch.snapshot?.calls ?? []).filter((c) => c.info.lineId === line),
      ...batch.events.filter((e) => e.kind === 'callCreated').map((e) => e.callCreated.call)];
    for (const call of offered) {
      if (call.status.state !== 'CALL_STATE_OFFERING' || popped.has(call.id)) continue;
      const { name, number, available } = call.info.caller;
      console.log(`${line}: call from ${name || 'unknown'} <${available ? number : 'withheld'}>  (call ${call.id})`);
      popped.add(call.id);
      if (popped.size === Number(count)) stream.close();
    }
  }
  client.close();
}

main().catch((e) => { console.error(e.message); process.exit(1); });
