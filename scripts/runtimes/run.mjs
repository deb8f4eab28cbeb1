/**
 * The runtime check: packs the library as npm would publish it, installs the tarball in a
 * scratch consumer, and runs one smoke script (smoke-core.cjs) under Node 20, 22 and 24
 * (import and require), an esbuild ESM bundle, an esbuild CommonJS bundle, Bun, Deno and
 * workerd (Cloudflare Workers with nodejs_compat), and on the TypeScript sources vendored as
 * they are (Node's type stripping, Deno), against two redis-server processes it starts on free
 * loopback ports.
 * Then it prints the bundle's size and the cold-start CPU of redisdb, ioredis and node-redis.
 *
 *   cd scripts/runtimes && npm install && npm run check      (RUNS=N sets the cold-start runs, default 9)
 */
import { execFileSync, spawn } from 'node:child_process';
import { copyFileSync, cpSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { build } from 'esbuild';
import { startRedis } from '../bench/lib/servers.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const root = resolve(here, '../..');
const out = join(here, 'out');
const consumer = join(out, 'consumer');
const bin = (name) => join(here, 'node_modules', '.bin', name);
const RUNS = Number(process.env.RUNS ?? 9);

function freePort() {
  return new Promise((ok, fail) => {
    const srv = net.createServer().once('error', fail);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => ok(port));
    });
  });
}

/** Runs a command to its end (or kills it after timeoutMs); resolves with what it did. */
function run(cmd, args, { cwd = consumer, env = {}, timeoutMs = 60_000 } = {}) {
  return new Promise((ok) => {
    const started = performance.now();
    const child = spawn(cmd, args, { cwd, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => { stdout += d; });
    child.stderr.on('data', (d) => { stderr += d; });
    let timedOut = false;
    const timer = setTimeout(() => { timedOut = true; child.kill('SIGKILL'); }, timeoutMs);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      ok({ code, signal, timedOut, stdout, stderr, ms: performance.now() - started });
    });
  });
}

function lastJson(text) {
  const line = text.trim().split('\n').reverse().find((l) => l.startsWith('{'));
  try {
    return line === undefined ? null : JSON.parse(line);
  } catch {
    return null;
  }
}

function median(xs) {
  const s = [...xs].sort((a, b) => a - b);
  return s.length === 0 ? NaN : s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
}

const kb = (n) => `${(n / 1024).toFixed(1)} KB`;

// 1. Pack, and install the tarball in a scratch consumer, as a user would.
rmSync(out, { recursive: true, force: true });
mkdirSync(consumer, { recursive: true });
console.log('packing (npm pack runs the build) ...');
const [packed] = JSON.parse(execFileSync('npm', ['pack', '--json', '--pack-destination', out], { cwd: root, encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] }));
const tarball = join(out, packed.filename);
writeFileSync(join(consumer, 'package.json'), `${JSON.stringify({ name: 'consumer', private: true }, null, 2)}\n`);
execFileSync('npm', ['install', '--no-audit', '--no-fund', '--loglevel', 'error', tarball], { cwd: consumer, stdio: 'inherit' });
copyFileSync(join(here, 'smoke-core.cjs'), join(consumer, 'smoke-core.cjs'));
cpSync(join(here, 'entries'), join(consumer, 'entries'), { recursive: true });
// The sources vendored as they are, in an ES module project of their own.
cpSync(join(root, 'src'), join(consumer, 'vendor', 'src'), { recursive: true });
writeFileSync(join(consumer, 'vendor', 'package.json'), '{ "type": "module" }\n');

// 2. Bundle the entries as users package them: esbuild for Node (ESM, and CommonJS as for
// Lambda), and for a Worker (what wrangler does: the workerd/worker conditions, node: external).
const bundle = (entry, outfile, options) =>
  build({ absWorkingDir: consumer, entryPoints: [entry], outfile, bundle: true, logLevel: 'error', ...options });
await bundle('entries/esm.mjs', 'bundle/esm.mjs', { platform: 'node', format: 'esm' });
await bundle('entries/cjs.cjs', 'bundle/cjs.cjs', { platform: 'node', format: 'cjs' });
await bundle('entries/worker.mjs', 'bundle/worker.mjs', {
  platform: 'neutral', format: 'esm', conditions: ['workerd', 'worker'], mainFields: ['module', 'main'], external: ['node:*'],
});

// 3. Two servers, and every runtime against them.
const servers = [await startRedis(), await startRedis()];
const ports = servers.map((s) => String(s.port));

async function workerd() {
  const port = await freePort();
  writeFileSync(join(consumer, 'bundle', 'config.capnp'), `using Workerd = import "/workerd/workerd.capnp";
const config :Workerd.Config = (
  services = [
    (name = "main", worker = .smoke),
    # Workers reach only public addresses by default; the test servers are on loopback.
    (name = "loopback", network = (allow = ["public", "private", "local"])),
  ],
  sockets = [(name = "http", address = "127.0.0.1:${port}", http = (), service = "main")],
);
const smoke :Workerd.Worker = (
  modules = [(name = "worker.mjs", esModule = embed "worker.mjs")],
  compatibilityDate = "2026-07-01",
  compatibilityFlags = ["nodejs_compat"],
  globalOutbound = "loopback",
);
`);
  const child = spawn(bin('workerd'), ['serve', 'bundle/config.capnp'], { cwd: consumer, stdio: ['ignore', 'pipe', 'pipe'] });
  let log = '';
  child.stdout.on('data', (d) => { log += d; });
  child.stderr.on('data', (d) => { log += d; });
  const started = performance.now();
  try {
    for (let attempt = 0; ; attempt++) {
      try {
        const response = await fetch(`http://127.0.0.1:${port}/?port=${ports[0]}&port=${ports[1]}`, { signal: AbortSignal.timeout(30_000) });
        const body = await response.text();
        return { code: response.ok ? 0 : 1, signal: null, timedOut: false, stdout: body, stderr: log, ms: performance.now() - started };
      } catch (err) {
        // Until workerd listens; a request that hangs is a failure, not a retry.
        if (attempt >= 100 || err.name === 'TimeoutError') return { code: 1, signal: null, timedOut: err.name === 'TimeoutError', stdout: '', stderr: `${err}\n${log}`, ms: performance.now() - started };
        await new Promise((r) => setTimeout(r, 100));
      }
    }
  } finally {
    child.kill('SIGKILL');
  }
}

const version = (cmd, args) => {
  try {
    // The first line, without what follows the version ("deno 2.9.6 (stable, ...)").
    return execFileSync(cmd, args, { encoding: 'utf8' }).trim().split('\n')[0].replace(/ \(.*$/, '');
  } catch {
    return null;
  }
};
// The Node that started the check: under `npm run`, node_modules/.bin comes first on PATH and
// its `node` is the Node 22 package, so npm's own Node is asked for by name.
const hostNode = process.env.npm_node_execpath ?? process.execPath;
const hostVersion = version(hostNode, ['--version']) ?? process.version;
// Node 22 and 24 come from npm packages (Linux x64); elsewhere their rows are left out.
const nodes = [['Node', hostNode], ['Node', join(here, 'node_modules', 'node22', 'bin', 'node')], ['Node', join(here, 'node_modules', 'node24', 'bin', 'node')]]
  .map(([name, path]) => [name, path, version(path, ['--version'])])
  .filter(([, , v]) => v !== null)
  .filter(([, , v], i, all) => all.findIndex(([, , w]) => w === v) === i);
const both = { SMOKE_BOTH: '1' };
const deno = { ...both, DENO_NO_UPDATE_CHECK: '1' };
const targets = [
  ...nodes.flatMap(([, node, v]) => [
    [`Node ${v.split('.')[0].slice(1)} import`, v, () => run(node, ['entries/esm.mjs', ...ports], { env: both })],
    [`Node ${v.split('.')[0].slice(1)} require()`, v, () => run(node, ['entries/cjs.cjs', ...ports], { env: both })],
  ]),
  ['esbuild ESM bundle', hostVersion, () => run(hostNode, ['bundle/esm.mjs', ...ports])],
  ['esbuild CommonJS bundle', hostVersion, () => run(hostNode, ['bundle/cjs.cjs', ...ports], { env: both })],
  ['Bun', version(bin('bun'), ['--version']), () => run(bin('bun'), ['entries/esm.mjs', ...ports], { env: both })],
  ['Deno', version(bin('deno'), ['--version']), () => run(bin('deno'), ['run', '--allow-all', 'entries/esm.mjs', ...ports], { env: deno })],
  ['workerd, nodejs_compat', version(bin('workerd'), ['--version']), workerd],
  ...nodes.filter(([, , v]) => Number(v.slice(1).split('.')[0]) >= 22).slice(0, 1).map(([, node, v]) =>
    ['vendored src/, type stripping', `Node ${v}`, () => run(node, ['--experimental-strip-types', '--no-warnings', 'entries/vendored.mts', ...ports])]),
  ['vendored src/, Deno, no flags', version(bin('deno'), ['--version']), () => run(bin('deno'), ['run', '--allow-all', 'entries/vendored.mts', ...ports], { env: deno })],
  ['the redisdb command (npm bin link)', hostVersion, async () => {
    const r = await run(join(consumer, 'node_modules', '.bin', 'redisdb'), ['--url', `127.0.0.1:${ports[0]}`, 'ping']);
    return { ...r, stdout: JSON.stringify({ ok: r.stdout.trim() === 'PONG', checks: ['PING answered PONG'] }) };
  }],
];

const rows = [];
let failed = 0;
for (const [name, runtime, go] of targets) {
  const r = await go();
  const result = lastJson(r.stdout);
  const ok = r.code === 0 && !r.timedOut && result?.ok === true;
  if (!ok) failed++;
  rows.push([name, runtime ?? '?', ok ? 'works' : 'FAILS', ok ? `${result.checks.length} checks` : (r.timedOut ? 'did not exit' : `exit ${r.code ?? r.signal}`), `${r.ms.toFixed(0)} ms`]);
  if (!ok) console.error(`--- ${name} ---\n${r.stdout}\n${r.stderr}`.slice(0, 4000));
}

// 4. Figures: what the package and a Worker bundle weigh, and cold start against the peers.
const dist = join(consumer, 'node_modules', 'redisdb-client', 'dist');
const sizes = [
  ['dist/index.cjs (require, and import through index.mjs)', readFileSync(join(dist, 'index.cjs'))],
  ['dist/index.bundler.mjs (bundlers)', readFileSync(join(dist, 'index.bundler.mjs'))],
  ['Worker bundle of the smoke script', readFileSync(join(consumer, 'bundle', 'worker.mjs'))],
];

const clients = ['redisdb-esm', 'redisdb-cjs', 'ioredis', 'node-redis'];
const cpu = Object.fromEntries(clients.map((c) => [c, []]));
for (let i = 0; i < RUNS; i++) {
  // Interleaved, so a busy moment of the machine falls on every client alike.
  for (const c of clients) {
    const r = await run(hostNode, [join(here, 'cold.mjs'), c, ports[0], consumer], { cwd: here });
    const result = lastJson(r.stdout);
    if (r.code !== 0 || result === null) throw new Error(`cold start of ${c} failed:\n${r.stdout}\n${r.stderr}`);
    cpu[c].push(result.cpuMs);
  }
}
await Promise.all(servers.map((s) => s.stop()));

const table = (header, body) => {
  const all = [header, ...body];
  const widths = header.map((_, i) => Math.max(...all.map((r) => String(r[i]).length)));
  const line = (r) => `| ${r.map((c, i) => String(c).padEnd(widths[i])).join(' | ')} |`;
  return [line(header), `|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`, ...body.map(line)].join('\n');
};
const pkgVersion = (name) => JSON.parse(readFileSync(join(here, 'node_modules', name, 'package.json'), 'utf8')).version;

console.log(`\n${packed.filename} (${kb(packed.size)} packed, ${kb(packed.unpackedSize)} unpacked, ${packed.entryCount} files)\n`);
console.log(table(['where', 'runtime', 'result', 'what', 'wall'], rows));
console.log(`\n${table(['file', 'raw', 'gzip'], sizes.map(([name, bytes]) => [name, kb(bytes.length), kb(gzipSync(bytes).length)]))}`);
const cold = [
  ['redisdb-client, import', cpu['redisdb-esm']],
  ['redisdb-client, require', cpu['redisdb-cjs']],
  [`ioredis ${pkgVersion('ioredis')}`, cpu['ioredis']],
  [`node-redis ${pkgVersion('redis')}`, cpu['node-redis']],
];
console.log(`\nimport + connect + first reply, CPU ms (median of ${RUNS} processes, Node ${hostVersion}):\n`);
console.log(table(['client', 'median', 'min', 'max'], cold.map(([name, xs]) => [name, median(xs).toFixed(1), Math.min(...xs).toFixed(1), Math.max(...xs).toFixed(1)])));
process.exitCode = failed === 0 ? 0 : 1;
