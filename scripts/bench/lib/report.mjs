/**
 * Turns raw runs into medians, same-run ratios and the targets of the performance work, and
 * prints / writes them.
 */
import { readFileSync, writeFileSync, existsSync } from 'node:fs';
import os from 'node:os';
import { LABELS, PEERS } from './clients.mjs';
import { median } from './stats.mjs';

export const TITLES = {
  a: '(a) 1 caller, sequential GET',
  b: '(b) 64 callers, SET then GET, one connection',
  c: '(c) explicit pipelines of 1000 SETs',
  d: '(d) 100 KB values, 16 callers, SET then GET',
  e: '(e) decoder alone, 50 MB mixed stream in 64 KB chunks',
  f: '(f) ketama lookups, user:NNNNNN on 4 nodes',
  g1: '(g) RedisRing over 1 node vs ConstRedis, 64 callers SET then GET',
  g3: '(g) RedisRing over 3 nodes vs ConstRedis, 64 callers SET then GET',
  h: '(h) RedisCopy writing to 2 nodes vs ConstRedis to 1, 64 callers SET',
  i: '(i) Redis Cluster of 3 primaries vs ioredis and node-redis clusters, 64 callers SET then GET',
  j1: '(j) repeated GET of 1,000 hot keys, near cache vs none, 1 caller',
  j64: '(j) repeated GET of 1,000 hot keys, near cache vs none, 64 callers',
  startup: 'startup: import + connect + first reply',
};

const label = (c) => LABELS[c] ?? c;

/** The median of redisdb's value divided by `other`'s, run by run (inverted when lower is better). */
function sameRunRatio(runs, mine, other, field = 'value') {
  const a = runs[mine];
  const b = runs[other];
  const ratios = [];
  for (let i = 0; i < Math.min(a.length, b.length); i++) {
    const r = a[i][field] / b[i][field];
    ratios.push(a[i].lowerIsBetter || field === 'p50us' || field === 'p99us' || field === 'rssMB' ? 1 / r : r);
  }
  return median(ratios);
}

/** raw: scenario → client → runs; mines: scenario → the client the ratios are about. */
export function summarize(raw, mines) {
  const out = [];
  for (const [id, runs] of Object.entries(raw)) {
    const clients = {};
    for (const [client, results] of Object.entries(runs)) {
      const first = results[0];
      const entry = { value: median(results.map((r) => r.value)), unit: first.unit, runs: results.length };
      for (const field of ['p50us', 'p99us', 'mbps', 'rssMB', 'wallMs', 'cpuUsPerOp', 'wallPerSec', 'bytesPerEntry']) {
        if (first[field] !== undefined) entry[field] = median(results.map((r) => r[field]));
      }
      entry.lowerIsBetter = first.lowerIsBetter === true;
      clients[client] = entry;
    }
    const mine = mines[id] ?? 'redisdb';
    const ratios = {};
    // Client CPU per operation, run by run: cpuRatios[p] is mine ÷ p's (lower is better),
    // cpuAdvantage[p] is p's ÷ mine (how many times less CPU redisdb needs; higher is better).
    const cpuRatios = {};
    const cpuAdvantage = {};
    for (const other of Object.keys(runs)) {
      if (other === mine) continue;
      ratios[other] = sameRunRatio(runs, mine, other);
      if (runs[mine][0].cpuUsPerOp !== undefined && runs[other][0].cpuUsPerOp !== undefined) {
        cpuRatios[other] = sameRunRatio(runs, mine, other, 'cpuUsPerOp');
        cpuAdvantage[other] = sameRunRatio(runs, other, mine, 'cpuUsPerOp');
      }
    }
    const peers = Object.keys(runs).filter((c) => PEERS.includes(c));
    let best = null;
    for (const p of peers) {
      const better = best === null || (clients[p].lowerIsBetter ? clients[p].value < clients[best].value : clients[p].value > clients[best].value);
      if (better) best = p;
    }
    const rssRatios = {};
    for (const p of peers) if (clients[p].rssMB !== undefined) rssRatios[p] = 1 / sameRunRatio(runs, mine, p, 'rssMB');
    const latency = {};
    if (id === 'a') for (const p of peers) latency[p] = { p50: sameRunRatio(runs, mine, p, 'p50us'), p99: sameRunRatio(runs, mine, p, 'p99us') };
    out.push({ id, title: TITLES[id] ?? id, mine, clients, ratios, cpuRatios, cpuAdvantage, best, rssRatios, latency });
  }
  return { scenarios: out, targets: targets(out) };
}

function targets(scenarios) {
  const by = Object.fromEntries(scenarios.map((s) => [s.id, s]));
  const list = [];
  const add = (name, goal, measured, met, note = '') => list.push({ name, goal, measured, met, note });
  const x = (r) => `${r.toFixed(2)}×`;
  const s = by;
  if (s.a) {
    const worst = Math.min(...Object.values(s.a.ratios));
    const worstP50 = Math.min(...Object.values(s.a.latency).map((l) => l.p50));
    add('(a) sequential GET, ops/s vs each peer', '≥ 1.00×', x(worst), worst >= 1, 'lowest of the three ratios');
    add('(a) sequential GET, p50 latency vs each peer', '≤ peer (≥ 1.00×)', x(worstP50), worstP50 >= 1, 'peer p50 ÷ redisdb p50, lowest');
  }
  // Every network scenario: client CPU per operation against each peer (the headline: other
  // processes on the machine move it far less than wall throughput), then wall throughput.
  const cpuVsPeers = (id, what, goal) => {
    const adv = s[id].cpuAdvantage;
    const peers = Object.keys(adv).filter((p) => PEERS.includes(p));
    if (peers.length === 0) return;
    const worst = Math.min(...peers.map((p) => adv[p]));
    const worstPeer = peers.find((p) => adv[p] === worst);
    add(`${what}: client CPU per op, each peer's ÷ redisdb's (lowest: ${label(worstPeer)})`, `≥ ${goal.toFixed(2)}×`, x(worst), worst >= goal);
  };
  if (s.a) cpuVsPeers('a', '(a) sequential GET', 1.0);
  if (s.b) {
    cpuVsPeers('b', '(b) 64 callers', 1.5);
    add(`(b) 64 callers, ops/s vs best peer (${label(s.b.best)})`, '≥ 1.50×', x(s.b.ratios[s.b.best]), s.b.ratios[s.b.best] >= 1.5);
  }
  if (s.c) {
    cpuVsPeers('c', '(c) pipelines', 1.5);
    const cpu = s.c.clients[s.c.mine].cpuUsPerOp;
    add('(c) pipelines: client CPU per command', '≤ 0.40 µs', `${cpu.toFixed(2)} µs`, cpu <= 0.4);
    add(`(c) pipelines, ops/s vs best peer (${label(s.c.best)})`, '≥ 1.50×', x(s.c.ratios[s.c.best]), s.c.ratios[s.c.best] >= 1.5);
    const ceiling = s.c.ratios['redis-benchmark'];
    if (ceiling !== undefined) add('(c) pipelines, ops/s vs redis-benchmark -P 100 on the same server', '≥ 50%', `${(ceiling * 100).toFixed(0)}%`, ceiling >= 0.5);
  }
  if (s.d) {
    cpuVsPeers('d', '(d) 100 KB values', 1.2);
    add(`(d) 100 KB values, MB/s vs best peer (${label(s.d.best)})`, '≥ 1.20×', x(s.d.ratios[s.d.best]), s.d.ratios[s.d.best] >= 1.2);
  }
  if (s.e) add('(e) decoder vs redis-parser (replies per CPU-second)', '≥ 1.30×', x(s.e.ratios['redis-parser']), s.e.ratios['redis-parser'] >= 1.3);
  if (s.f) add('(f) ketama lookups vs node:crypto md5 (per CPU-second)', '≥ 10×', x(s.f.ratios.crypto), s.f.ratios.crypto >= 10);
  if (s.g1) {
    add('(g) RedisRing over 1 node ÷ ConstRedis, client CPU per op', '≤ 1.15×', x(s.g1.cpuRatios.const), s.g1.cpuRatios.const <= 1.15);
    add('(g) RedisRing over 1 node vs ConstRedis, ops/s', '≥ 0.95×', x(s.g1.ratios.const), s.g1.ratios.const >= 0.95);
  }
  if (s.g3) add('(g) RedisRing over 3 nodes vs ConstRedis, ops/s', 'reported', x(s.g3.ratios.const), true, 'no target');
  if (s.h) {
    add('(h) RedisCopy to 2 nodes ÷ ConstRedis to one, client CPU per write', '≤ 1.30×', x(s.h.cpuRatios.const), s.h.cpuRatios.const <= 1.3);
    if (s.h.cpuRatios.dual2 !== undefined) {
      add('(h) RedisCopy ÷ two ConstRedis writing each SET to both, client CPU per write', 'reported', x(s.h.cpuRatios.dual2), true, 'the least a client does to write to two servers');
    }
    add('(h) RedisCopy to 2 nodes vs one node, time per write', 'reported', x(1 / s.h.ratios.const), true, 'no target');
  }
  if (s.i) {
    const best = ['ioredis-cluster', 'node-redis-cluster'].reduce((a, b) => (s.i.ratios[a] <= s.i.ratios[b] ? a : b));
    add(`(i) RedisCluster, ops/s vs the faster peer cluster client (${label(best)})`, '≥ 1.50×', x(s.i.ratios[best]), s.i.ratios[best] >= 1.5);
    add('(i) RedisCluster ÷ ConstRedis on one node, client CPU per op', '≤ 1.20×', x(s.i.cpuRatios.const), s.i.cpuRatios.const <= 1.2);
    if (s.i.cpuRatios.const3 !== undefined) {
      add('(i) RedisCluster ÷ three ConstRedis routed by hand, client CPU per op', 'reported', x(s.i.cpuRatios.const3), true, 'the least a client does to talk to 3 primaries');
    }
  }
  for (const id of ['a', 'b', 'c', 'd']) {
    if (!s[id]) continue;
    const rs = Object.values(s[id].rssRatios);
    if (rs.length === 0) continue;
    // rssRatios[p] = redisdb RSS ÷ peer RSS, run by run; against the lowest peer means the largest ratio.
    const vsLowest = Math.max(...rs);
    add(`peak RSS in (${id}) vs the lowest peer`, id === 'a' ? '≤ 0.80×' : '≤ 0.75×', x(vsLowest), vsLowest <= (id === 'a' ? 0.8 : 0.75));
  }
  if (s.startup) {
    const ms = s.startup.clients.redisdb.value;
    const floor = s.startup.clients.floor?.value;
    const note = floor !== undefined ? `${(ms - floor).toFixed(1)} ms above a client-less import + PING (${floor.toFixed(1)} ms)` : '';
    add('startup: import + connect, CPU', '≤ 20 ms', `${ms.toFixed(1)} ms`, ms <= 20, note);
  }
  return list;
}

function fmt(v, unit) {
  if (!Number.isFinite(v)) return 'n/a';
  if (unit === 'ms CPU') return `${v.toFixed(1)} ms`;
  if (v >= 1000) return Math.round(v).toLocaleString('en-US');
  return v.toFixed(v >= 100 ? 0 : 1);
}

function extraOf(c) {
  const parts = [];
  if (c.p50us !== undefined) parts.push(`p50 ${c.p50us.toFixed(0)} µs, p99 ${c.p99us.toFixed(0)} µs`);
  if (c.mbps !== undefined) parts.push(`${c.mbps.toFixed(0)} MB/CPU-s`);
  if (c.wallPerSec !== undefined) parts.push(`${fmt(c.wallPerSec, '')}/s wall`);
  if (c.wallMs !== undefined) parts.push(`${c.wallMs.toFixed(0)} ms wall`);
  return parts.join(', ');
}

/** Client CPU per unit of work, as the headline cell. */
function cpuCell(c) {
  if (c.cpuUsPerOp === undefined) return '';
  const per = c.unit === 'MB/s' ? 'MB' : c.unit.startsWith('replies') ? 'reply' : c.unit.startsWith('lookups') ? 'lookup' : c.unit.startsWith('writes') ? 'write' : 'op';
  return `${c.cpuUsPerOp < 0.1 ? (c.cpuUsPerOp * 1000).toFixed(0) + ' ns' : c.cpuUsPerOp.toFixed(2) + ' µs'}/${per}`;
}

function rows(summary) {
  const out = [];
  for (const s of summary.scenarios) {
    for (const [client, c] of Object.entries(s.clients)) {
      const mine = client === s.mine;
      const ratio = mine ? '—' : `${s.ratios[client].toFixed(2)}×`;
      const cpuRatio = mine ? '—' : s.cpuAdvantage[client] !== undefined ? `${s.cpuAdvantage[client].toFixed(2)}×` : '';
      out.push([s.title, label(client) + (client === s.best ? ' (best peer)' : ''), cpuCell(c), cpuRatio,
        `${fmt(c.value, c.unit)} ${c.unit === 'ms CPU' ? 'CPU' : c.unit}`, ratio, extraOf(c), c.rssMB !== undefined ? `${c.rssMB.toFixed(0)} MB` : '']);
    }
  }
  return out;
}

const HEAD = ['Scenario', 'Client', 'Client CPU', 'CPU: this ÷ first row', 'Median', 'first row ÷ this', 'Detail', 'Peak RSS'];

export function printTable(summary, meta) {
  const all = [HEAD, ...rows(summary)];
  const widths = HEAD.map((_, i) => Math.max(...all.map((r) => String(r[i]).length)));
  console.log(`\nredisdb benchmark: ${meta.date}, node ${meta.node}, redis ${meta.redis}, ${meta.runs} runs per client, medians; load average ${meta.load.before.toFixed(1)} → ${meta.load.after.toFixed(1)}`);
  let last = '';
  for (const r of all) {
    const cells = r.map((c, i) => (i === 0 && c === last ? '' : String(c)).padEnd(widths[i]));
    if (r[0] !== last && last !== '') console.log('');
    last = r[0];
    console.log(cells.join('  '));
  }
  console.log('\nTargets');
  for (const t of summary.targets) console.log(`  ${t.met ? 'met   ' : 'MISSED'}  ${t.name}: ${t.measured} (goal ${t.goal})${t.note ? ` — ${t.note}` : ''}`);
  console.log(`\ndist/: ${(meta.dist.jsBytes / 1024).toFixed(0)} KB of JavaScript in index.cjs (${(meta.dist.jsGzipBytes / 1024).toFixed(0)} KB gzipped), ${(meta.dist.totalBytes / 1024).toFixed(0)} KB with types and maps; bench took ${meta.seconds} s`);
}

export function markdown(summary, meta) {
  const v = meta.versions;
  const lines = [
    `Measured ${meta.date.slice(0, 16).replace('T', ' ')} UTC on ${meta.machine}; Node ${meta.node}, Redis ${meta.redis}, ` +
      `node-redis ${v['node-redis5']} and ${v['node-redis6']}, ioredis ${v.ioredis}, redis-parser ${v['redis-parser']}; ` +
      `redisdb built from the ${meta.build ?? 'working tree'}. ` +
      `${meta.runs} runs per client (${meta.ms} ms each after a 300 ms warm-up), medians; ratios are medians of same-run ratios. ` +
      'Client CPU is the headline: user + system CPU of the client process per operation over the counted part; ' +
      '"CPU: this ÷ first row" above 1 means redisdb needs that many times less. ' +
      `Load average (1 min) ${meta.load.before.toFixed(1)} before and ${meta.load.after.toFixed(1)} after the run.`,
    '',
    '![redisdb against node-redis and ioredis](docs/bench.svg)',
    '',
    `| ${HEAD.join(' | ')} |`,
    `| ${HEAD.map(() => '---').join(' | ')} |`,
    ...rows(summary).map((r) => `| ${r.join(' | ')} |`),
    '',
    '| Target | Goal | Measured | Met |',
    '| --- | --- | --- | --- |',
    ...summary.targets.map((t) => `| ${t.name}${t.note ? ` (${t.note})` : ''} | ${t.goal} | ${t.measured} | ${t.met ? 'yes' : '**no**'} |`),
    '',
    `Built \`dist/\`: ${(meta.dist.jsBytes / 1024).toFixed(0)} KB of JavaScript in index.cjs, ${(meta.dist.jsGzipBytes / 1024).toFixed(0)} KB gzipped ` +
      `(${(meta.dist.totalBytes / 1024).toFixed(0)} KB with declarations and source maps).`,
  ];
  return lines.join('\n');
}

const START = '<!-- results:start (written by npm run bench) -->';
const END = '<!-- results:end -->';

/** Replaces the results section of BENCHMARKS.md, keeping the text around it. */
export function updateBenchmarksMd(path, body) {
  const text = existsSync(path) ? readFileSync(path, 'utf8') : `# Benchmarks\n\n${START}\n${END}\n`;
  const a = text.indexOf(START);
  const b = text.indexOf(END);
  const next = a >= 0 && b > a
    ? text.slice(0, a + START.length) + '\n' + body + '\n' + text.slice(b)
    : `${text.trimEnd()}\n\n${START}\n${body}\n${END}\n`;
  writeFileSync(path, next);
}

export function machineInfo() {
  const cpus = os.cpus();
  return `${cpus.length} × ${cpus[0]?.model.trim() ?? 'unknown CPU'}, ${(os.totalmem() / 2 ** 30).toFixed(0)} GiB, ${os.type()} ${os.release()}`;
}
