/**
 * The cost of routing, measured on local servers this script starts:
 *   - ketama lookups per second on short keys, with our MD5 and with node:crypto's;
 *   - RedisRing over one node against ConstRedis alone (pipelined GET / SET);
 *   - the routing step alone (prepare, route, plan) in CPU nanoseconds, which a busy machine
 *     disturbs far less than throughput;
 *   - RedisCopy writing to two nodes against ConstRedis writing to one (one at a time, and pipelined).
 *
 *   npx tsx test/backends/routing.bench.ts [--quick]
 *
 * Not part of `npm test`: it measures, it does not judge.
 */
import { createHash } from 'node:crypto';
import { ConstRedis } from '../../src/client/const-redis.ts';
import { RedisCopy, RedisCopyBase, RedisRing, RedisRingBase, type Backend } from '../../src/backends/index.ts';
import type { CommandSpec } from '../../src/client/conventions.ts';
import type { Route } from '../../src/backends/index.ts';
import { startServers } from '../helpers/servers.ts';

const quick = process.argv.includes('--quick');
const ROUNDS = quick ? 3 : 7;

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[s.length >> 1]!;
}

function lookups(): void {
  const ring = new RedisRing(['127.0.0.1:7001', '127.0.0.1:7002', '127.0.0.1:7003']);
  const continuum = ring.continuum;
  const keys = Array.from({ length: 10_000 }, (_, i) => `user:${i}`);
  const cryptoNode = (key: string): number => continuum.nodeForHash(createHash('md5').update(key).digest().readUInt32LE(0));
  for (const k of keys) if (cryptoNode(k) !== continuum.nodeFor(k)) throw new Error(`placement differs for ${k}`);
  const rate = (fn: (k: string) => number): number => {
    const n = quick ? 300_000 : 1_000_000;
    let sink = 0;
    const t = performance.now();
    for (let i = 0; i < n; i++) sink += fn(keys[i % keys.length]!);
    const ms = performance.now() - t;
    if (sink < 0) console.log(sink);
    return n / (ms / 1000);
  };
  const ours: number[] = [];
  const theirs: number[] = [];
  for (let r = 0; r < ROUNDS; r++) {
    ours.push(rate((k) => continuum.nodeFor(k)));
    theirs.push(rate(cryptoNode));
  }
  console.log(`ketama lookups, short keys ('user:N'), 3 nodes:`);
  console.log(`  our MD5            ${(median(ours) / 1e6).toFixed(2)} M lookups/s`);
  console.log(`  node:crypto MD5    ${(median(theirs) / 1e6).toFixed(2)} M lookups/s`);
  void ring.close();
}

/** CPU nanoseconds per call of `fn`, median of rounds. */
function cpuNs(fn: (i: number) => unknown, n: number): number {
  const xs: number[] = [];
  let sink = 0;
  for (let r = 0; r < ROUNDS; r++) {
    const t = process.cpuUsage();
    for (let i = 0; i < n; i++) if (fn(i) !== undefined) sink++;
    const u = process.cpuUsage(t);
    xs.push(((u.user + u.system) * 1000) / n);
  }
  if (sink < 0) console.log(sink);
  return median(xs);
}

/** What routing adds to preparing a command: no network, so it measures our code alone. */
async function routingStep(address: string): Promise<void> {
  // The classes without their Proxy: the Proxy is passed once per call, as with ConstRedis.
  const ring1 = new RedisRingBase([address]);
  const ring3 = new RedisRingBase([address, '127.0.0.1:1', '127.0.0.1:2']);
  const copy3 = new RedisCopyBase([address, '127.0.0.1:1', '127.0.0.1:2']);
  const backends: Array<[string, Backend]> = [['ring of 1', ring1], ['ring of 3', ring3], ['copy of 3', copy3]];
  for (const [, b] of backends) for (const name of ['SET', 'GET']) await b.routes.learn(name);
  const keys = Array.from({ length: 1000 }, (_, i) => `user:${i}`);
  const n = quick ? 300_000 : 1_000_000;
  console.log('routing step alone (CPU ns per command; no network):');
  for (const method of ['set', 'get']) {
    const args = (i: number): unknown[] => (method === 'set' ? [keys[i % 1000], 'v'] : [keys[i % 1000]]);
    const prepareOnly = cpuNs((i) => ring1.builder.build(method, args(i)), n);
    const parts = backends.map(([label, b]) => {
      const ns = cpuNs((i) => {
        const spec = b.builder.build(method, args(i)) as CommandSpec;
        return b.planFor(spec, b.routes.routeFor(spec) as Route);
      }, n);
      return `${label} +${(ns - prepareOnly).toFixed(0)}`;
    });
    console.log(`  ${method.toUpperCase()}: prepare ${prepareOnly.toFixed(0)} ns; route and plan: ${parts.join(', ')} ns`);
  }
  await Promise.all(backends.map(([, b]) => b.close()));
}

type Runner = { [command: string]: (...args: unknown[]) => Promise<unknown> };

/** Client CPU microseconds per operation of the last `pipelined` run: robust on a busy machine. */
let lastCpuPerOp = 0;

/** Operations per second with `depth` commands in flight at all times. */
async function pipelined(target: Runner, method: 'get' | 'set', total: number, depth: number): Promise<number> {
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < total) {
      const i = next++;
      if (method === 'set') await target.set!(`bench:${i % 1000}`, 'value');
      else await target.get!(`bench:${i % 1000}`);
    }
  };
  const t = performance.now();
  const cpu = process.cpuUsage();
  await Promise.all(Array.from({ length: depth }, worker));
  const used = process.cpuUsage(cpu);
  lastCpuPerOp = (used.user + used.system) / total;
  return total / ((performance.now() - t) / 1000);
}

/** Mean milliseconds per command, one at a time. */
async function serial(target: Runner, total: number): Promise<number> {
  const t = performance.now();
  for (let i = 0; i < total; i++) await target.set!(`serial:${i % 100}`, 'value');
  return (performance.now() - t) / total;
}

async function main(): Promise<void> {
  lookups();
  const servers = await startServers(2);
  await routingStep(servers[0]!.address);
  const one = new ConstRedis(servers[0]!.url) as unknown as Runner;
  const ring = new RedisRing([servers[0]!.address]) as unknown as Runner;
  const copy = new RedisCopy(servers.map((s) => s.address)) as unknown as Runner;
  try {
    const total = quick ? 50_000 : 200_000;
    await pipelined(one, 'set', 20_000, 64);
    await pipelined(ring, 'set', 20_000, 64);
    await pipelined(copy, 'set', 20_000, 64);
    for (const method of ['set', 'get'] as const) {
      const a: number[] = [];
      const b: number[] = [];
      const ca: number[] = [];
      const cb: number[] = [];
      const runA = async (): Promise<void> => {
        a.push(await pipelined(one, method, total, 64));
        ca.push(lastCpuPerOp);
      };
      const runB = async (): Promise<void> => {
        b.push(await pipelined(ring, method, total, 64));
        cb.push(lastCpuPerOp);
      };
      for (let r = 0; r < ROUNDS; r++) {
        // Alternate which goes first, so neither always runs on a warmer process.
        if (r % 2 === 0) {
          await runA();
          await runB();
        } else {
          await runB();
          await runA();
        }
      }
      console.log(`${method.toUpperCase()} pipelined (64 in flight), one node: throughput, client CPU per command`);
      console.log(`  ConstRedis         ${(median(a) / 1000).toFixed(1)} k ops/s   ${median(ca).toFixed(2)} µs`);
      console.log(`  RedisRing          ${(median(b) / 1000).toFixed(1)} k ops/s   ${median(cb).toFixed(2)} µs  ` +
        `(throughput ${((1 - median(b) / median(a)) * 100).toFixed(1)}% lower, CPU ${((median(cb) / median(ca) - 1) * 100).toFixed(1)}% higher)`);
    }
    const s1: number[] = [];
    const s2: number[] = [];
    const p1: number[] = [];
    const p2: number[] = [];
    for (let r = 0; r < ROUNDS; r++) {
      s1.push(await serial(one, quick ? 2000 : 5000));
      s2.push(await serial(copy, quick ? 2000 : 5000));
      p1.push(await pipelined(one, 'set', total / 2, 64));
      p2.push(await pipelined(copy, 'set', total / 2, 64));
    }
    console.log('SET on RedisCopy (2 nodes) against ConstRedis (1 node):');
    console.log(`  one at a time      ${(median(s1) * 1000).toFixed(0)} µs vs ${(median(s2) * 1000).toFixed(0)} µs per write (${(median(s2) / median(s1)).toFixed(2)}×)`);
    console.log(`  pipelined          ${(median(p1) / 1000).toFixed(1)} k vs ${(median(p2) / 1000).toFixed(1)} k writes/s (${(median(p1) / median(p2)).toFixed(2)}× the time)`);
  } finally {
    await Promise.all([(one as unknown as ConstRedis).close(), (ring as unknown as RedisRing).close(), (copy as unknown as RedisCopy).close()]);
    await Promise.all(servers.map((s) => s.stop()));
  }
}

await main();
