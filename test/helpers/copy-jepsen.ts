/**
 * A seeded randomized check of RedisCopy's promise (after Jepsen): callers mix every write
 * door on three nodes while a fault loop kills, stops, partitions, OOMs and restarts random
 * nodes, and stops every node at once. At the end, with every fault healed and every node
 * repaired: every node holds the same data, every acknowledged write is there, no rejected
 * write was applied, each counter equals its acknowledged increments (give or take the
 * increments whose outcome was unknown), and no read returned a value older than a write
 * that had resolved before it. The same seed replays the same choices.
 */
import { RedisCopy } from '../../src/backends/index.ts';
import { ConstRedis } from '../../src/client/const-redis.ts';
import { startServers, type RedisServer } from '../../scripts/lib/redis-server.ts';
import { assertConverged } from './converge.ts';
import { DOORS, Tally, outcomeOf, type Outcome } from './copy-doors.ts';
import { FaultProxy } from './fault-proxy.ts';
import { seededRandom } from './random.ts';
import { eventually } from './wait.ts';

export interface JepsenOptions {
  readonly seed: number;
  readonly durationMs: number;
  readonly callers: number;
  /** Only these doors and faults (all when absent): to narrow down a failure. */
  readonly doors?: readonly string[];
  readonly faults?: readonly string[];
  /** Progress lines (faults as they happen), for long runs. */
  readonly log?: (line: string) => void;
}

export interface JepsenReport {
  seed: number;
  writes: number;
  outcomes: Record<Outcome, number>;
  faults: Record<string, number>;
  reads: number;
  readFailures: number;
  /** Must all be 0. */
  wrongReads: string[];
  lostWrites: string[];
  appliedRejected: string[];
  counterMismatches: string[];
  /**
   * Times the Copy said every node came back lacking writes only another node had applied
   * (RedisCopyWarning): it then repairs from the node that lacks the fewest, and a write
   * acknowledged by one node alone may be lost.
   */
  unrecoverable: number;
  rssStartMb: number;
  rssEndMb: number;
}

/**
 * What broke the promise in a run, one line each; empty when nothing did. When the Copy said
 * every node came back lacking writes only another had applied (`unrecoverable`), the
 * contract allows acknowledged writes to be missing, and only that: nothing rejected may be
 * applied and no read may go back in time, ever.
 */
export function brokenPromises(report: JepsenReport): string[] {
  const broken = [...report.appliedRejected, ...report.wrongReads];
  if (report.unrecoverable === 0) broken.push(...report.lostWrites, ...report.counterMismatches);
  return broken;
}

const pause = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
/** A caller whose write failed at once goes round the event loop before it tries again, as a
 * real one would: a loop of promises that reject at once would starve timers and sockets. */
const yieldTurn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

export async function runJepsen(options: JepsenOptions): Promise<JepsenReport> {
  const rnd = seededRandom(options.seed);
  const pick = <T>(list: readonly T[]): T => list[Math.floor(rnd() * list.length)]!;
  const log = options.log ?? (() => {});
  const servers: RedisServer[] = await startServers(3);
  const proxies = await Promise.all(servers.map((s) => FaultProxy.start({ host: s.host, port: s.port })));
  const direct = servers.map((s) => new ConstRedis({ port: s.port, socket_timeout: 5 }));
  const copy = new RedisCopy({
    nodes: proxies.map((p) => `127.0.0.1:${p.port}`),
    socket_timeout: 0.3, socket_connect_timeout: 0.3, server_retry_timeout: 100,
  });
  const report: JepsenReport = {
    seed: options.seed, writes: 0, outcomes: { acknowledged: 0, rejected: 0, unknown: 0 }, faults: {},
    reads: 0, readFailures: 0, wrongReads: [], lostWrites: [], appliedRejected: [], counterMismatches: [],
    unrecoverable: 0, rssStartMb: process.memoryUsage().rss / 2 ** 20, rssEndMb: 0,
  };
  copy.health.on('unrecoverable', () => report.unrecoverable++);
  const counters = Array.from({ length: 24 }, (_, i) => `ctr:${i}`);
  const tallies = new Map(counters.map((k) => [k, new Tally()]));
  const once = new Map<string, { value: string; outcome: Outcome; door: string }>();
  const doors = Object.entries(DOORS).filter(([name]) => options.doors === undefined || options.doors.includes(name));
  const deadline = performance.now() + options.durationMs;
  const busy = new Set<number>();
  let active = 0;

  const caller = async (c: number): Promise<void> => {
    for (let n = 0; performance.now() < deadline; n++) {
      const [doorName, door] = pick(doors);
      const roll = rnd();
      if (roll < 0.5) {
        const key = pick(counters);
        const [settled] = await Promise.allSettled([door(copy, key)]);
        const outcome = outcomeOf(settled!);
        tallies.get(key)!.add(outcome);
        report.outcomes[outcome]++;
        report.writes++;
        if (outcome !== 'acknowledged') await yieldTurn();
      } else if (roll < 0.9) {
        const key = `once:${c}:${n}`;
        const value = `v${c}:${n}`;
        const [settled] = await Promise.allSettled([door(copy, key, value)]);
        const outcome = outcomeOf(settled!);
        once.set(key, { value, outcome, door: doorName });
        report.outcomes[outcome]++;
        report.writes++;
        if (outcome !== 'acknowledged') await yieldTurn();
        if (outcome === 'acknowledged') {
          // Read your writes: a read after the write resolved sees it.
          report.reads++;
          const read = await copy.get(key).then((v) => ({ v }), () => null);
          if (read === null) {
            report.readFailures++;
            await yieldTurn();
          }
          else if (read.v !== value) report.wrongReads.push(`${key} (${doorName}): read ${String(read.v)} after writing ${value}`);
        }
      } else {
        report.reads++;
        await copy.get(pick(counters)).catch(async () => {
          report.readFailures++;
          await yieldTurn();
        });
      }
    }
  };

  const faults: Record<string, (node: number) => Promise<void>> = {
    sigstop: async (node) => {
      servers[node]!.pause();
      await pause(200 + rnd() * 1000);
      servers[node]!.resume();
    },
    partition: async (node) => {
      proxies[node]!.set({ refuse: true });
      proxies[node]!.dropAll();
      await pause(200 + rnd() * 1000);
      proxies[node]!.set({});
    },
    oom: async (node) => {
      await direct[node]!.call('CONFIG', 'SET', 'maxmemory', '1');
      await pause(200 + rnd() * 800);
      await direct[node]!.call('CONFIG', 'SET', 'maxmemory', '0');
    },
    // Data loss on one node, only while every other node holds everything: a promise no
    // client could keep survives no more than that.
    restart: async (node) => {
      await servers[node]!.restart();
      direct[node]!.disconnect();
      direct[node] = new ConstRedis({ port: servers[node]!.port, socket_timeout: 5 });
    },
    everyNodeAway: async () => {
      for (const s of servers) s.pause();
      await pause(200 + rnd() * 600);
      for (const s of servers) s.resume();
    },
  };
  const whole = (): boolean => copy.health.allUp && [0, 1, 2].every((i) => copy.hints.count(i) === 0 && !copy.hints.needsResync(i));

  const faultLoop = async (): Promise<void> => {
    const running: Array<Promise<void>> = [];
    while (performance.now() < deadline - 1500) {
      await pause(250 + rnd() * 700);
      const name = pick(Object.keys(faults).filter((f) => options.faults === undefined || options.faults.includes(f)));
      const node = Math.floor(rnd() * 3);
      const alone = name === 'restart' || name === 'everyNodeAway';
      if (alone ? active > 0 || !whole() : busy.has(node) || active >= 2 || busy.size > 0 && rnd() < 0.5) continue;
      report.faults[name] = (report.faults[name] ?? 0) + 1;
      log(`${(options.durationMs - (deadline - performance.now())) | 0} ms: ${name} on node ${node}`);
      const nodes = name === 'everyNodeAway' ? [0, 1, 2] : [node];
      for (const n of nodes) busy.add(n);
      active++;
      running.push(faults[name]!(node).finally(() => {
        for (const n of nodes) busy.delete(n);
        active--;
      }));
    }
    await Promise.all(running);
  };

  try {
    await Promise.all([faultLoop(), ...Array.from({ length: options.callers }, (_, c) => caller(c))]);
    // Every fault healed: the Copy must repair itself, with no operator.
    await eventually(whole, 30_000, `every node repaired (seed ${options.seed})`);
    await assertConverged(servers.map((s) => s.address));
    for (const [key, tally] of tallies) {
      const value = Number((await direct[0]!.get(key)) ?? 0);
      if (!tally.allows(value)) report.counterMismatches.push(`${key} = ${value} after ${String(tally)}`);
    }
    for (const [key, { value, outcome, door }] of once) {
      const held = await direct[0]!.get(key);
      if (outcome === 'acknowledged' && held !== value) report.lostWrites.push(`${key} (${door}): ${String(held)} instead of ${value}`);
      if (outcome === 'rejected' && held !== null) report.appliedRejected.push(`${key}: rejected, yet holds ${String(held)}`);
    }
    report.rssEndMb = process.memoryUsage().rss / 2 ** 20;
    return report;
  } finally {
    copy.disconnect();
    for (const d of direct) d.disconnect();
    for (const s of servers) {
      try {
        s.resume();
      } catch {
        // not running
      }
    }
    await Promise.all(proxies.map((p) => p.close()));
    await Promise.all(servers.map((s) => s.stop()));
  }
}
