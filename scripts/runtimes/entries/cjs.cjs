// The smoke run through `require`, as a CommonJS program (Node; bundled by esbuild for Lambda-style
// packaging). Where it can, it also imports the package and checks both give one set of classes.
'use strict';
const lib = require('redisdb-client');
const { smoke } = require('../smoke-core.cjs');

const ports = process.argv.slice(2).map(Number);
(async () => {
  const other = process.env.SMOKE_BOTH === '1' ? await import('redisdb-client') : undefined;
  const checks = await smoke(lib, ports, other);
  console.log(JSON.stringify({ ok: true, checks }));
})().catch((err) => {
  console.error(err);
  process.exitCode = 1;
});
