#!/usr/bin/env node
// Builds the package: copies the API's proto files into ./proto (shipped with
// it and loaded at run time), generates TypeScript types from them
// (proto-loader-gen-types) into src/gen, and compiles src/ to dist/ with tsc.
'use strict';
const { execFileSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');

const here = path.resolve(__dirname, '..');
// The repository's proto/ (or LINEBRIDGE_PROTO_DIR when the package is built elsewhere).
const repoProto = process.env.LINEBRIDGE_PROTO_DIR || path.resolve(here, '..', '..', 'proto');
const proto = path.join(here, 'proto');
const files = ['linebridge/v1/types.proto', 'linebridge/v1/telephony.proto',
  'linebridge/v1/admin.proto', 'linebridge/v1/security.proto', 'google/rpc/status.proto',
  // imported by telephony.proto and types.proto (tones, gathering)
  'linebridge/v1/media.proto',
  // imported by telephony.proto (phone devices)
  'linebridge/v1/phone.proto'];

if (fs.existsSync(repoProto)) {
  for (const f of files) {
    fs.mkdirSync(path.dirname(path.join(proto, f)), { recursive: true });
    fs.copyFileSync(path.join(repoProto, f), path.join(proto, f));
  }
}
const bin = (name) => path.join(here, 'node_modules', '.bin', name);
fs.rmSync(path.join(here, 'src', 'gen'), { recursive: true, force: true });
execFileSync(bin('proto-loader-gen-types'), [
  ...files.slice(1, 4), '--longs=String', '--enums=String', '--defaults', '--oneofs',
  '--grpcLib=@grpc/grpc-js', '--outDir=src/gen', `--includeDirs=${proto}`,
], { cwd: here, stdio: ['ignore', 'ignore', 'inherit'] });
try {
  execFileSync(bin('tsc'), ['-p', 'tsconfig.json'], { cwd: here, stdio: 'inherit' });
} catch {
  process.exit(1);  // tsc printed why
}
