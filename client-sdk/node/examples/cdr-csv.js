#!/usr/bin/env node
// Exports call-detail records as CSV on stdout.
//   node examples/cdr-csv.js [LINE] > calls.csv
'use strict';
const { Client } = require('..');  // in an application: require('@linebridge/client')

const FIELDS = ['recordId', 'callId', 'lineId', 'origin', 'caller', 'called', 'connected',
  'started', 'answered', 'ended', 'durationMs', 'disposition'];
const csv = (v) => (/[",\n]/.test(v) ? `"${v.replace(/"/g, '""')}"` : v);
const when = (ts) => (ts && ts.seconds !== '0'
  ? new Date(Number(ts.seconds) * 1000 + Math.floor(ts.nanos / 1e6)).toISOString() : '');

async function main() {
  const [lineId = ''] = process.argv.slice(2);
  const client = new Client();
  console.log(FIELDS.join(','));
  for await (const r of client.callRecords({ lineId })) {
    console.log([r.recordId, r.callId, r.lineId, r.origin, r.caller?.number ?? '',
      r.called?.number ?? '', r.connected?.number ?? '', when(r.started), when(r.answered),
      when(r.ended), r.durationMs, r.disposition].map((v) => csv(String(v))).join(','));
  }
  client.close();
}

main().catch((e) => { console.error(e.message); process.exit(1); });
