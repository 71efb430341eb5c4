#!/usr/bin/env node
// Prints every event, one line each; survives server restarts (the stream
// resumes by itself, and says when it starts again from a snapshot).
//   node examples/event-tail.js [LINE...]
'use strict';
const { Client } = require('..');  // in an application: require('@linebridge/client')

function describe(e) {
  switch (e.kind) {
    case 'callCreated': return `callCreated ${e.callCreated.call.id} ${e.callCreated.call.status.state}`;
    case 'callState': return `callState ${e.callState.callId} ${e.callState.status.state}`;
    case 'callInfo': return `callInfo ${e.callInfo.callId} ${e.callInfo.changed.join(',')}`;
    default: return e.kind;
  }
}

async function main() {
  const client = new Client();
  const stream = client.events({ lineIds: process.argv.slice(2) });
  for (const sig of ['SIGINT', 'SIGTERM']) process.on(sig, () => stream.close());
  for await (const batch of stream) {
    if (batch.snapshot) {
      console.log(`snapshot ${batch.snapshotReason} epoch=${batch.epoch} seq=${batch.snapshot.sequence} ` +
        `lines=${batch.snapshot.lines.length} calls=${batch.snapshot.calls.length}`);
    }
    for (const e of batch.events) console.log(`${e.sequence} ${e.lineId || '-'} ${describe(e)}`);
  }
  client.close();
}

main().catch((e) => { console.error(e.message); process.exit(1); });
