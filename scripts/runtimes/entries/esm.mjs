// The smoke run through `import`, as an ES module program (Node, Bun, Deno; bundled by esbuild).
// Where the runtime has require as well, the same run checks that both give one set of classes.
import { createRequire } from 'node:module';
import process from 'node:process';
import * as lib from 'redisdb-client';
import core from '../smoke-core.cjs';

const ports = process.argv.slice(2).map(Number);
const other = process.env.SMOKE_BOTH === '1' ? createRequire(import.meta.url)('redisdb-client') : undefined;
const checks = await core.smoke(lib, ports, other);
console.log(JSON.stringify({ ok: true, checks }));
