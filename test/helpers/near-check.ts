/**
 * The near cache's randomized check: one writer per key (sequential, so each key's writes are
 * applied in the order they are acknowledged) on other connections, readers reading through
 * the near cache, and a disruption or two while they run. The checker's rule, per read:
 *
 *   a read that starts after write n of its key was acknowledged, and after an invalidation
 *   of that key (or a flush of the cache) arrived following that acknowledgement, returns
 *   write n or a later one — never an older value.
 *
 * Between the acknowledgement and the arrival of its invalidation an older value may be
 * served: that window is the invalidation latency, measured separately. At the end every key
 * must read as its last write. FLUSHALL counts as a write of "no value" to every key; writers
 * are paused around it so that its order among the writes is known.
 */
import type { NearCache } from '../../src/client/near-cache/near-cache.ts';
import { seededRandom } from './random.ts';
import { eventually } from './wait.ts';

export interface NearClient {
  get(key: string): Promise<unknown>;
}

export interface NearWriter {
  set(key: string, value: string): Promise<unknown>;
  flushall(): Promise<unknown>;
}

export interface NearCheckOptions {
  seed: number;
  /** Read through the near cache. */
  reader: NearClient;
  /** Writes on other connections. */
  writer: NearWriter;
  /** The caches whose invalidations and flushes count as arrivals. */
  caches: () => readonly NearCache[];
  /** Whether a cache's flush counts as every key's invalidation arriving (one node: yes). */
  flushesCount?: boolean;
  keys?: readonly string[];
  readers?: number;
  durationMs?: number;
  /**
   * Run at 1/3 and 2/3 of the run; 'flushall' is the checker's own (it pauses the writers).
   * `writes` pauses the writers around a disruption whose order among the writes must be known.
   */
  disrupt?: ((round: number, writes: WritePause) => Promise<void>) | 'flushall';
}

export interface WritePause {
  /** Holds every writer before its next write, once the writes in flight are acknowledged (or failed). */
  pause(): Promise<void>;
  resume(): void;
}

export interface NearCheckReport {
  reads: number;
  writes: number;
  errors: number;
  /** Reads that returned an older value than the rule allows. */
  violations: string[];
  /** Reads answered with an older value inside the latency window (allowed). */
  lateReads: number;
}

interface Write {
  seq: number;
  value: string | null;
  sent: number;
  acked: number;
}

const now = (): number => performance.now();

/** The index of the first element of a sorted list greater than `t`. */
function after(list: readonly number[], t: number): number {
  let lo = 0;
  let hi = list.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (list[mid]! <= t) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

export async function runNearCheck(o: NearCheckOptions): Promise<NearCheckReport> {
  const random = seededRandom(o.seed);
  const keys = o.keys ?? Array.from({ length: 6 }, (_, i) => `nc:r:${i}`);
  const duration = o.durationMs ?? 900;
  const writes = new Map<string, Write[]>(keys.map((k) => [k, []]));
  const arrivals = new Map<string, number[]>(keys.map((k) => [k, []]));
  const flushes: number[] = [];
  let seq = 0;

  const onInvalidate = (names: string[] | null): void => {
    const t = now();
    if (names === null) flushes.push(t);
    else for (const n of names) arrivals.get(n)?.push(t);
  };
  const onFlush = (): void => {
    if (o.flushesCount !== false) flushes.push(now());
  };
  const listening = o.caches();
  for (const c of listening) {
    c.on('invalidate', onInvalidate);
    c.on('flush', onFlush);
  }

  // The first write of every key, before anything reads.
  for (const k of keys) {
    const w: Write = { seq: ++seq, value: `v${seq}`, sent: now(), acked: 0 };
    await o.writer.set(k, w.value!);
    w.acked = now();
    writes.get(k)!.push(w);
  }

  let stop = false;
  let gate: Promise<void> | null = null;
  const busy = new Set<string>();
  let writeCount = 0;
  let writeErrors = 0;
  const writers = keys.map(async (k) => {
    while (!stop) {
      if (gate !== null) await gate;
      if (stop) break;
      busy.add(k);
      const w: Write = { seq: ++seq, value: `v${seq}`, sent: now(), acked: 0 };
      writes.get(k)!.push(w);
      try {
        await o.writer.set(k, w.value!);
        w.acked = now();
        writeCount++;
      } catch {
        // Not acknowledged (a failover): it may or may not have been applied.
        writeErrors++;
      }
      busy.delete(k);
      // Writes spaced a little (0-3 ms) so that readers cache values between them.
      await new Promise((resolve) => setTimeout(resolve, Math.floor(random() * 4)));
    }
  });

  const report: NearCheckReport = { reads: 0, writes: 0, errors: 0, violations: [], lateReads: 0 };
  const check = (k: string, value: unknown, start: number, end: number): void => {
    const list = writes.get(k)!;
    const got = value === null
      ? [...list].reverse().find((w) => w.value === null && w.sent < end)
      : list.find((w) => w.value === value);
    if (got === undefined) {
      report.violations.push(`${k}: read ${String(value)}, which was never written (read ${start.toFixed(1)}-${end.toFixed(1)})`);
      return;
    }
    if (got.sent > end) report.violations.push(`${k}: read ${String(value)} before it was sent`);
    // The newest write acknowledged before the read began whose invalidation (or a flush)
    // arrived after its acknowledgement and before the read began.
    const keyArrivals = arrivals.get(k)!;
    let late = false;
    for (let i = list.length - 1; i >= 0; i--) {
      const w = list[i]!;
      if (w.seq <= got.seq) break;
      if (w.acked === 0 || w.acked >= start) continue;
      const arrivedAfterAck = after(keyArrivals, w.acked);
      const keyArrived = arrivedAfterAck < keyArrivals.length && keyArrivals[arrivedAfterAck]! < start;
      const flushAfterAck = after(flushes, w.acked);
      const flushed = flushAfterAck < flushes.length && flushes[flushAfterAck]! < start;
      if (keyArrived || flushed) {
        report.violations.push(`${k}: read v${got.seq} (started ${start.toFixed(1)}) after write v${w.seq} was acknowledged (${w.acked.toFixed(1)}) and its invalidation had arrived`);
        return;
      }
      late = true;
    }
    if (late) report.lateReads++;
  };

  const readers = Array.from({ length: o.readers ?? 4 }, async () => {
    while (!stop) {
      const k = keys[Math.floor(random() * keys.length)]!;
      const start = now();
      let value: unknown;
      try {
        value = await o.reader.get(k);
      } catch {
        report.errors++;
        continue;
      }
      report.reads++;
      check(k, value, start, now());
      // A read answered from memory settles without I/O: let the sockets be read.
      await new Promise((resolve) => setImmediate(resolve));
    }
  });

  const begun = now();
  let openGate: (() => void) | null = null;
  const writePause: WritePause = {
    pause: async () => {
      gate = new Promise<void>((resolve) => (openGate = resolve));
      await eventually(() => busy.size === 0, 2000, 'the writers to pause');
    },
    resume: () => {
      gate = null;
      (openGate as (() => void) | null)?.();
    },
  };
  const disruptions = async (): Promise<void> => {
    for (const round of [1, 2]) {
      const at = begun + (duration * round) / 3;
      await new Promise((resolve) => setTimeout(resolve, Math.max(0, at - now())));
      if (o.disrupt === undefined) continue;
      if (o.disrupt === 'flushall') {
        await writePause.pause();
        const w: Write = { seq: ++seq, value: null, sent: now(), acked: 0 };
        for (const k of keys) writes.get(k)!.push(w);
        await o.writer.flushall();
        w.acked = now();
        writePause.resume();
      } else {
        await o.disrupt(round, writePause);
      }
    }
    await new Promise((resolve) => setTimeout(resolve, Math.max(0, begun + duration - now())));
  };
  try {
    await disruptions();
  } finally {
    // A disruption that failed ends the run too: its writers and readers must not run on.
    stop = true;
    writePause.resume();
    await Promise.allSettled([...writers, ...readers]);
  }
  await Promise.all([...writers, ...readers]);
  report.writes = writeCount;
  report.errors += writeErrors;

  // Every key reads as its last write, soon.
  for (const k of keys) {
    const last = writes.get(k)!.at(-1)!;
    try {
      await eventually(async () => (await o.reader.get(k).catch(() => undefined)) === last.value, 3000, `${k} to read as its last write v${last.seq}`);
    } catch (err) {
      report.violations.push((err as Error).message);
    }
  }
  for (const c of listening) {
    c.off('invalidate', onInvalidate);
    c.off('flush', onFlush);
  }
  return report;
}

/** The seed of a randomized test: REDISDB_SEED replays a run. */
export function seedFromEnv(): number {
  return Number(process.env['REDISDB_SEED'] ?? Math.floor(Math.random() * 2 ** 31));
}

/** The p-th percentile (0..100) of some numbers. */
export function percentile(values: readonly number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}
