/**
 * `npm run bench`: installs this folder's dependencies if missing, builds redisdb (the
 * benchmark imports dist/, what users run), starts three redis-server processes of its own on
 * free ports, and runs every scenario for every client, each measurement in a fresh process,
 * alternating the clients' order run by run. Prints the table, writes out/results.json,
 * docs/bench.svg and the results section of BENCHMARKS.md.
 *
 *   node scripts/bench/run.mjs [--runs 7] [--ms 1500] [--only a,b,c] [--no-write] [--committed]
 *   node scripts/bench/run.mjs --from scripts/bench/out/results.json
 *
 * --committed measures the last commit (built apart in a temporary folder) rather than the
 * working tree, which may hold unfinished changes; --from draws the outputs again from saved
 * results without running anything.
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import os, { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '..', '..');

const { values: opts } = parseArgs({
  options: {
    runs: { type: 'string', default: '7' },
    ms: { type: 'string', default: '1500' },
    only: { type: 'string' },
    'no-write': { type: 'boolean', default: false },
    'no-build': { type: 'boolean', default: false },
    committed: { type: 'boolean', default: false },
    // Draws the table, chart and BENCHMARKS.md again from a saved results.json, running nothing.
    from: { type: 'string' },
  },
});
const RUNS = Number(opts.runs);
const MS = Number(opts.ms);
if (!Number.isInteger(RUNS) || RUNS < 1) throw new RangeError('--runs must be a positive integer');
if (!Number.isFinite(MS) || MS < 100) throw new RangeError('--ms must be at least 100');

function sh(cmd, args, cwd) {
  const r = spawnSync(cmd, args, { cwd, stdio: 'inherit' });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed (${r.status ?? r.signal})`);
}

if (opts.from !== undefined) {
  const { readFileSync } = await import('node:fs');
  const { printTable, markdown, updateBenchmarksMd } = await import('./lib/report.mjs');
  const { drawChart } = await import('./lib/chart.mjs');
  const saved = JSON.parse(readFileSync(opts.from, 'utf8'));
  printTable(saved.summary, saved.meta);
  if (!opts['no-write']) {
    writeFileSync(join(root, 'docs', 'bench.svg'), drawChart(saved.summary, saved.meta));
    updateBenchmarksMd(join(root, 'BENCHMARKS.md'), markdown(saved.summary, saved.meta));
  }
  process.exit(0);
}

// The peers live in this folder's own node_modules, never in redisdb's.
if (!existsSync(join(here, 'node_modules', 'redis-parser')) || !existsSync(join(here, 'node_modules', 'redis6'))) {
  console.log('installing the benchmark dependencies...');
  sh('npm', ['ci', '--no-audit', '--no-fund'], here);
}
let dist = join(root, 'dist');
let builtDir = null;
if (opts.committed) {
  const dir = mkdtempSync(join(tmpdir(), 'redisdb-bench-head-'));
  builtDir = dir;
  const head = spawnSync('sh', ['-c', `git archive HEAD src scripts/build.ts scripts/lib tsconfig.json tsconfig.build.json package.json | tar -x -C "${dir}"`], { cwd: root, stdio: 'inherit' });
  if (head.status !== 0) throw new Error('git archive HEAD failed');
  symlinkSync(join(root, 'node_modules'), join(dir, 'node_modules'));
  const r = spawnSync(join(root, 'node_modules', '.bin', 'tsx'), ['scripts/build.ts'], { cwd: dir, stdio: 'inherit' });
  if (r.status !== 0) throw new Error('building the last commit failed');
  dist = join(dir, 'dist');
  // The workers inherit this and import redisdb from there.
  process.env.REDISDB_BENCH_DIST = dist;
  console.log(`measuring the last commit, built in ${dir}`);
} else if (!opts['no-build']) {
  const r = spawnSync('npm', ['run', '--silent', 'build'], { cwd: root, stdio: 'inherit' });
  // tsc still emits on type errors; measuring what was emitted beats measuring nothing.
  if (r.status !== 0 && !existsSync(join(root, 'dist', 'index.mjs'))) throw new Error('npm run build failed');
  if (r.status !== 0) console.warn('warning: the build reported type errors; benchmarking the emitted dist/ anyway');
}

const { CLIENTS, LABELS, versions } = await import('./lib/clients.mjs');
const { startRedis } = await import('./lib/servers.mjs');
const { makeStream } = await import('./lib/stream.mjs');
const { summarize, printTable, markdown, updateBenchmarksMd, machineInfo } = await import('./lib/report.mjs');
const { drawChart } = await import('./lib/chart.mjs');

/** The scenarios, in order, with the clients each compares. */
const PLAN = [
  { id: 'a', clients: CLIENTS },
  { id: 'b', clients: CLIENTS },
  { id: 'c', clients: [...CLIENTS, 'redis-benchmark'] },
  { id: 'd', clients: CLIENTS },
  { id: 'e', clients: ['redisdb', 'redis-parser', 'node-redis5-decoder'] },
  { id: 'f', clients: ['redisdb', 'crypto'], ms: 1000 },
  { id: 'g1', scenario: 'g', clients: ['ring1', 'const'], mine: 'ring1' },
  { id: 'g3', scenario: 'g', clients: ['ring3', 'const'], mine: 'ring3' },
  { id: 'h', clients: ['copy2', 'const', 'dual2'], mine: 'copy2' },
  { id: 'i', clients: ['cluster3', 'ioredis-cluster', 'node-redis-cluster', 'const', 'const3'], mine: 'cluster3' },
  { id: 'j1', scenario: 'j', clients: ['near', 'const'], mine: 'near', callers: 1 },
  { id: 'j64', scenario: 'j', clients: ['near', 'const'], mine: 'near', callers: 64 },
  { id: 'startup', clients: [...CLIENTS, 'floor'], warmupMs: 0 },
].filter((s) => opts.only === undefined || opts.only.split(',').includes(s.id));

function runWorker(config) {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [join(here, 'worker.mjs'), JSON.stringify(config)], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let out = '';
    child.stdout.on('data', (d) => { out += d; });
    // Bounded: a hung client or server must not hang the benchmark.
    const limit = setTimeout(() => child.kill('SIGKILL'), config.ms * 4 + config.warmupMs + 30_000);
    child.once('exit', (code, signal) => {
      clearTimeout(limit);
      const line = out.trim().split('\n').pop();
      if (code !== 0 || !line) reject(new Error(`${config.scenario}/${config.client} failed (${code ?? signal})`));
      else resolve(JSON.parse(line));
    });
  });
}

function redisBenchmark(port) {
  const r = spawnSync('redis-benchmark', ['-h', '127.0.0.1', '-p', String(port), '-P', '100', '-t', 'set', '-n', '2000000', '-q'], { encoding: 'utf8', timeout: 120_000 });
  const m = /SET: ([\d.]+) requests per second/.exec(r.stdout ?? '');
  if (r.status !== 0 || m === null) throw new Error(`redis-benchmark failed: ${r.stderr || r.stdout}`);
  return { value: Number(m[1]), unit: 'ops/s' };
}

// One server for the single-node scenarios, two more for the backends (g, h).
const servers = await Promise.all([startRedis(), startRedis(), startRedis()]);
// (i) runs against a cluster of its own.
const cluster = PLAN.some((s) => s.id === 'i') ? await (await import('./lib/cluster.mjs')).startCluster(3) : null;
const server = servers[0];
const started = Date.now();
const loadBefore = os.loadavg()[0];
const stream = makeStream(50e6);
const decoderFile = join(tmpdir(), `redisdb-bench-stream-${process.pid}.resp`);
writeFileSync(decoderFile, stream.buffer);

const raw = {};
try {
  for (const s of PLAN) {
    raw[s.id] = {};
    for (const c of s.clients) raw[s.id][c] = [];
    for (let run = 0; run < RUNS; run++) {
      // Alternate who goes first, so drift (heat, caches, the server's memory) is shared.
      const order = s.clients.map((_, i) => s.clients[(i + run) % s.clients.length]);
      for (const client of order) {
        const config = {
          scenario: s.scenario ?? s.id, client, port: server.port, ports: servers.map((x) => x.port), clusterPorts: cluster?.ports,
          ms: s.ms ?? MS, warmupMs: s.warmupMs ?? 300, callers: s.callers,
          decoderFile, decoderReplies: stream.replies,
        };
        const result = client === 'redis-benchmark' ? redisBenchmark(server.port) : await runWorker(config);
        raw[s.id][client].push(result);
        process.stdout.write(`  ${s.id} run ${run + 1}/${RUNS} ${LABELS[client] ?? client}: ${format(result)}\n`);
      }
    }
  }
} finally {
  await Promise.all(servers.map((x) => x.stop()));
  await cluster?.stop();
  rmSync(decoderFile, { force: true });
}
const size = distSize();
if (builtDir !== null) rmSync(builtDir, { recursive: true, force: true });

function format(r) {
  const v = r.value >= 100 ? Math.round(r.value).toLocaleString('en-US') : r.value.toFixed(2);
  return `${v} ${r.unit}${r.rssMB ? `, peak RSS ${r.rssMB.toFixed(1)} MB` : ''}`;
}

const redisVersion = spawnSync('redis-server', ['--version'], { encoding: 'utf8' }).stdout.match(/v=([\d.]+)/)?.[1];
const meta = {
  date: new Date().toISOString(),
  machine: machineInfo(),
  node: process.version,
  redis: redisVersion,
  versions: versions(),
  runs: RUNS,
  ms: MS,
  seconds: Math.round((Date.now() - started) / 1000),
  // Other processes on the machine skew throughput; the 1-minute load average says how much.
  load: { before: loadBefore, after: os.loadavg()[0] },
  stream: { bytes: stream.buffer.length, replies: stream.replies },
  dist: size,
  build: opts.committed ? `last commit ${spawnSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: root, encoding: 'utf8' }).stdout.trim()}` : 'working tree',
};
const summary = summarize(raw, Object.fromEntries(PLAN.map((s) => [s.id, s.mine ?? 'redisdb'])));
printTable(summary, meta);

if (!opts['no-write']) {
  mkdirSync(join(here, 'out'), { recursive: true });
  writeFileSync(join(here, 'out', 'results.json'), JSON.stringify({ meta, summary, raw }, null, 2) + '\n');
  mkdirSync(join(root, 'docs'), { recursive: true });
  writeFileSync(join(root, 'docs', 'bench.svg'), drawChart(summary, meta));
  updateBenchmarksMd(join(root, 'BENCHMARKS.md'), markdown(summary, meta));
  console.log('\nwrote scripts/bench/out/results.json, docs/bench.svg and BENCHMARKS.md');
}

function distSize() {
  const r = spawnSync('du', ['-sb', dist], { encoding: 'utf8' });
  // The library is one file, which require() and import both load (the others are the same
  // code for bundlers, the command line, maps and types).
  const js = spawnSync('sh', ['-c', `wc -c < "${dist}/index.cjs"`], { encoding: 'utf8' });
  const gz = spawnSync('sh', ['-c', `gzip -9 < "${dist}/index.cjs" | wc -c`], { encoding: 'utf8' });
  return { totalBytes: Number(r.stdout.split('\t')[0]), jsBytes: Number(js.stdout.trim()), jsGzipBytes: Number(gz.stdout.trim()) };
}
