// The smoke run on the library's TypeScript sources as they are, vendored into a project (no
// build): Node's type stripping (22+) and Deno run them without flags.
import process from 'node:process';
import * as lib from '../vendor/src/index.ts';
import core from '../smoke-core.cjs';

const ports = process.argv.slice(2).map(Number);
const checks = await core.smoke(lib, ports, undefined);
console.log(JSON.stringify({ ok: true, checks }));
