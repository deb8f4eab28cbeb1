/**
 * Soak test for RedisCopy (not run in CI): mixed load from many callers on three local
 * servers while one node is killed and restarted empty every `--kill-every` seconds. Every
 * value read is checked against what this process wrote; at the end every node is compared
 * with the model key by key.
 *
 *   npx tsx scripts/soak/soak.ts [--minutes 10] [--kill-every 60] [--down 10] [--callers 64] [--keys 500]
 *
 * Prints ops/s, errors by kind, wrong reads, lost writes (must be 0) and RSS at start and end.
 */
import { RedisCopy } from '../../src/backends/index.ts';
import { ConstRedis } from '../../src/client/const-redis.ts';
import { startServers } from '../lib/redis-server.ts';

function numberArg(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  if (i < 0) return fallback;
  const n = Number(process.argv[i + 1]);
  if (!Number.isFinite(n) || n <= 0) throw new RangeError(`--${name} must be a positive number, got ${process.argv[i + 1]}`);
  return n;
}

const minutes = numberArg('minutes', 10);
const killEvery = numberArg('kill-every', 60) * 1000;
const downFor = numberArg('down', 10) * 1000;
const callerCount = numberArg('callers', 64);
const keysPerCaller = numberArg('keys', 500);

/** What a key must hold: a string, a counter, or nothing. `uncertain` after a write that failed. */
interface Expected {
  value: string | null;
  uncertain: boolean;
}

const mb = (n: number): string => `${(n / 1024 / 1024).toFixed(1)} MB`;

async function main(): Promise<void> {
  const servers = await startServers(3);
  const copy = new RedisCopy({
    nodes: servers.map((s) => s.address),
    socket_timeout: 1, socket_connect_timeout: 1, server_failure_limit: 2, server_retry_timeout: 500,
  });
  const direct = servers.map((s) => new ConstRedis({ port: s.port, socket_timeout: 5 }));
  const model = new Map<string, Expected>();
  const errors = new Map<string, number>();
  const wrongReads: string[] = [];
  let ops = 0;
  let stop = false;
  const note = (err: unknown): void => {
    const name = err instanceof Error ? err.name : typeof err;
    errors.set(name, (errors.get(name) ?? 0) + 1);
  };
  copy.health.on('down', (_i: number, address: string) => console.log(`  ${address} is down`));
  copy.health.on('up', (_i: number, address: string) => console.log(`  ${address} is back up (repaired)`));

  const caller = async (c: number): Promise<void> => {
    let seed = c * 7919 + 1;
    const rand = (n: number): number => {
      seed = (seed * 1103515245 + 12345) & 0x7fffffff;
      return seed % n;
    };
    while (!stop) {
      const key = `soak:${c}:${rand(keysPerCaller)}`;
      const entry = model.get(key) ?? { value: null, uncertain: false };
      const roll = rand(100);
      try {
        if (roll < 40) {
          const value = `${c}:${ops}:${rand(1e9)}`;
          model.set(key, { value: entry.value, uncertain: true });
          await copy.set(key, value);
          model.set(key, { value, uncertain: false });
        } else if (roll < 50) {
          model.set(key, { value: entry.value, uncertain: true });
          await copy.del(key);
          model.set(key, { value: null, uncertain: false });
        } else if (roll < 60) {
          const counter = `${key}:n`;
          const before = model.get(counter) ?? { value: null, uncertain: false };
          model.set(counter, { value: before.value, uncertain: true });
          const results = (await copy.incr(counter)) as unknown[];
          const n = results.find((r) => typeof r === 'number') as number;
          model.set(counter, { value: String(n), uncertain: false });
        } else if (!entry.uncertain) {
          const got = await copy.get(key);
          if (got !== entry.value) wrongReads.push(`${key}: read ${String(got)}, wrote ${String(entry.value)}`);
        }
        ops++;
      } catch (err) {
        note(err);
      }
    }
  };

  const started = performance.now();
  const rssStart = process.memoryUsage().rss;
  console.log(`soak: RedisCopy on ${servers.map((s) => s.address).join(', ')}, ${callerCount} callers, ` +
    `${minutes} min, a node killed every ${killEvery / 1000} s for ${downFor / 1000} s; RSS ${mb(rssStart)}`);
  const callers = Array.from({ length: callerCount }, (_, c) => caller(c));

  let lastOps = 0;
  let lastAt = started;
  let rssWarm = 0;
  const report = setInterval(() => {
    if (rssWarm === 0) rssWarm = process.memoryUsage().rss;
    const now = performance.now();
    const rate = ((ops - lastOps) / (now - lastAt)) * 1000;
    lastOps = ops;
    lastAt = now;
    const errs = [...errors].map(([k, n]) => `${k} ${n}`).join(', ') || 'none';
    console.log(`  ${((now - started) / 1000).toFixed(0)} s: ${rate.toFixed(0)} ops/s, errors: ${errs}, wrong reads ${wrongReads.length}, RSS ${mb(process.memoryUsage().rss)}`);
  }, 10_000);

  const end = started + minutes * 60_000;
  let victim = 0;
  let kills = 0;
  while (performance.now() + killEvery < end + 1) {
    await new Promise((resolve) => setTimeout(resolve, killEvery - downFor));
    const server = servers[victim]!;
    console.log(`  killing ${server.address}`);
    await server.kill();
    kills++;
    await new Promise((resolve) => setTimeout(resolve, downFor));
    await server.start();
    victim = (victim + 1) % servers.length;
  }
  await new Promise((resolve) => setTimeout(resolve, Math.max(0, end - performance.now())));
  stop = true;
  await Promise.all(callers);
  clearInterval(report);
  const elapsed = (performance.now() - started) / 1000;

  // Let the last node finish its repair, then compare every node with the model.
  const deadline = Date.now() + 60_000;
  while ([0, 1, 2].some((i) => copy.health.state(i) !== 'up') && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  const certain = [...model].filter(([, e]) => !e.uncertain);
  const keys = certain.map(([k]) => k);
  let lost = 0;
  const lostSamples: string[] = [];
  for (const [i, node] of direct.entries()) {
    for (let at = 0; at < keys.length; at += 1000) {
      const slice = keys.slice(at, at + 1000);
      const values = (await node.mget(slice)) as Array<string | null>;
      slice.forEach((k, j) => {
        const want = model.get(k)!.value;
        if (values[j] !== want) {
          lost++;
          if (lostSamples.length < 5) lostSamples.push(`node ${i} ${k}: ${String(values[j])} instead of ${String(want)}`);
        }
      });
    }
  }
  const rssEnd = process.memoryUsage().rss;
  console.log(`done: ${ops} ops in ${elapsed.toFixed(0)} s (${(ops / elapsed).toFixed(0)} ops/s), ${kills} kills`);
  console.log(`errors by kind: ${[...errors].map(([k, n]) => `${k} ${n}`).join(', ') || 'none'}`);
  console.log(`wrong reads: ${wrongReads.length}${wrongReads.length ? ` (${wrongReads.slice(0, 3).join('; ')})` : ''}`);
  console.log(`lost writes: ${lost} of ${keys.length} keys checked on each of 3 nodes${lost ? ` (${lostSamples.join('; ')})` : ''}`);
  console.log(`RSS: ${mb(rssStart)} before the load, ${mb(rssWarm)} after 10 s of it, ${mb(rssEnd)} at the end; heap used ${mb(process.memoryUsage().heapUsed)}`);
  copy.disconnect();
  for (const d of direct) d.disconnect();
  await Promise.all(servers.map((s) => s.stop()));
  process.exitCode = lost === 0 && wrongReads.length === 0 ? 0 : 1;
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
