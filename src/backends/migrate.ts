/**
 * Copies every key of one backend into another — off a ring onto a cluster, typically — with
 * its TTL: SCAN on each source node, DUMP and PTTL pipelined there, RESTORE … REPLACE pipelined
 * to the target, which routes each key as it routes any command. Resumable: the progress given
 * to `onProgress` holds where to start again (`resume`), and REPLACE makes a batch copied twice
 * harmless. `verify` walks the source again and compares each key's DUMP and expiry.
 */
import { Buffer } from 'node:buffer';
import { ConstRedisBase } from '../client/const-redis.ts';
import type { Connection } from '../connection/connection.ts';
import { RedisError } from '../errors.ts';
import { Backend } from './backend.ts';
import { RedisClusterBase } from './cluster.ts';
import { RedisCopyBase } from './copy.ts';

/** Where a migration stands; give it back as `resume` to carry on from there. */
export interface MigrateProgress {
  /** Index of the source node being walked, and how many there are. */
  readonly node: number;
  readonly nodes: number;
  /** SCAN cursor on that node ('0' at its start). */
  readonly cursor: string;
  /** Keys seen, copied, and gone before they could be copied (expired or deleted meanwhile). */
  readonly scanned: number;
  readonly copied: number;
  readonly skipped: number;
  /** Keys on the source when the migration started (DBSIZE), for a progress bar. */
  readonly total: number;
  readonly done: boolean;
}

export interface MigrateOptions {
  /** Called after every batch, and once at the end (done: true). An exception stops the migration. */
  onProgress?: (progress: MigrateProgress) => void;
  /** Keys per SCAN step and per pipeline (default 500). */
  batch?: number;
  /** Where to start: a progress reported by an earlier run. */
  resume?: MigrateProgress;
  /** Only keys matching this pattern. */
  match?: string;
}

export interface VerifyResult {
  readonly checked: number;
  /** Keys missing on the target, or holding another value or expiry (at most 100 listed). */
  readonly mismatched: number;
  readonly examples: readonly string[];
}

/** A ConstRedis, RedisRing, RedisCopy or RedisCluster. */
export type MigrateEnd = ConstRedisBase | Backend;

/** The connections whose keyspaces together hold every key once. */
function sourceConnections(from: MigrateEnd): Connection[] {
  if (from instanceof ConstRedisBase) return [from.connection];
  if (from instanceof RedisCopyBase) return [from.clients[0]!.connection];
  if (from instanceof RedisClusterBase) return from.primaries.map((i) => from.clients[i]!.connection);
  if (from instanceof Backend) return from.clients.map((c) => c.connection);
  throw new TypeError('migrate: from must be a ConstRedis, RedisRing, RedisCopy or RedisCluster');
}

function checkTarget(to: unknown): MigrateEnd {
  if (!(to instanceof ConstRedisBase) && !(to instanceof Backend)) throw new TypeError('migrate: to must be a ConstRedis, RedisRing, RedisCopy or RedisCluster');
  return to;
}

async function ready(end: MigrateEnd): Promise<void> {
  // A cluster reads its slot map first; the others connect on their first command.
  if (end instanceof RedisClusterBase) await end.connect();
}

function checkOptions(options: MigrateOptions): number {
  if (typeof options !== 'object' || options === null) throw new TypeError('migrate: options must be an object');
  const batch = options.batch ?? 500;
  if (!Number.isInteger(batch) || batch < 1 || batch > 100_000) throw new TypeError(`migrate: batch must be an integer from 1 to 100000, got ${String(batch)}`);
  if (options.onProgress !== undefined && typeof options.onProgress !== 'function') throw new TypeError('migrate: onProgress must be a function');
  if (options.match !== undefined && typeof options.match !== 'string') throw new TypeError('migrate: match must be a string');
  return batch;
}

/** One SCAN step: the next cursor and the keys, as bytes (keys need not be UTF-8). */
async function scanStep(conn: Connection, cursor: string, batch: number, match: string | undefined): Promise<[string, Buffer[]]> {
  const argv = ['SCAN', cursor, 'COUNT', batch, ...(match !== undefined ? ['MATCH', match] : [])];
  const reply = (await conn.send(argv, { buffers: true, name: 'SCAN' })) as [Buffer, Buffer[]];
  return [reply[0].toString(), reply[1]];
}

/** Each key's DUMP payload and PTTL, in one round trip; null where the key is gone. */
async function dumpAll(conn: Connection, keys: readonly Buffer[]): Promise<Array<{ value: Buffer; pttl: number } | null>> {
  const replies = await conn.sendBatch(keys.flatMap((k) => [{ argv: ['DUMP', k], buffers: true }, { argv: ['PTTL', k] }]));
  return keys.map((_, i) => {
    const value = replies[2 * i];
    const pttl = replies[2 * i + 1];
    if (value instanceof Error) throw value;
    if (pttl instanceof Error) throw pttl;
    if (value === null || pttl === -2) return null;
    return { value: value as Buffer, pttl: Number(pttl) };
  });
}

interface Queueing {
  call(...args: unknown[]): unknown;
  queue(method: string, args: readonly unknown[]): unknown;
  exec(options?: { raiseOnError?: boolean }): Promise<unknown[]>;
}

/** Copies every key of `from` into `to`, with its TTL. Resolves to the final progress. */
export async function migrate(from: MigrateEnd, to: MigrateEnd, options: MigrateOptions = {}): Promise<MigrateProgress> {
  const batch = checkOptions(options);
  const sources = sourceConnections(from);
  checkTarget(to);
  await Promise.all([ready(from), ready(to)]);
  const conns = from instanceof RedisClusterBase ? sourceConnections(from) : sources;
  const resume = options.resume;
  let total = resume?.total ?? 0;
  if (resume === undefined) {
    for (const c of conns) total += Number(await c.send(['DBSIZE']));
  }
  let progress: MigrateProgress = resume !== undefined && !resume.done
    ? { ...resume, nodes: conns.length }
    : { node: 0, nodes: conns.length, cursor: '0', scanned: 0, copied: 0, skipped: 0, total, done: false };
  for (let node = progress.node; node < conns.length; node++) {
    const conn = conns[node]!;
    let cursor = node === progress.node ? progress.cursor : '0';
    do {
      const [next, keys] = await scanStep(conn, cursor, batch, options.match);
      let copied = 0;
      let skipped = 0;
      if (keys.length > 0) {
        const dumps = await dumpAll(conn, keys);
        const pipe = (to as unknown as { pipeline(o: { transaction: boolean }): Queueing }).pipeline({ transaction: false });
        dumps.forEach((d, i) => {
          if (d === null) skipped++;
          else pipe.call('RESTORE', keys[i], d.pttl > 0 ? d.pttl : 0, d.value, 'REPLACE');
        });
        const results = await pipe.exec({ raiseOnError: false });
        for (const r of results) {
          const failed = r instanceof Error ? r : Array.isArray(r) ? r.find((x) => x instanceof Error) : undefined;
          if (failed !== undefined) throw new RedisError(`migrate: RESTORE on the target failed: ${(failed as Error).message}`, { cause: failed });
          copied++;
        }
      }
      cursor = next;
      const atEnd = cursor === '0';
      progress = {
        node: atEnd ? node + 1 : node, nodes: conns.length, cursor: atEnd ? '0' : cursor,
        scanned: progress.scanned + keys.length, copied: progress.copied + copied, skipped: progress.skipped + skipped, total, done: false,
      };
      options.onProgress?.(progress);
    } while (cursor !== '0');
  }
  progress = { ...progress, done: true };
  options.onProgress?.(progress);
  return progress;
}

/** Walks `from` again and checks each key on `to`: same DUMP payload, and an expiry where it has one. */
export async function verifyMigration(from: MigrateEnd, to: MigrateEnd, options: { batch?: number; match?: string } = {}): Promise<VerifyResult> {
  const batch = checkOptions(options);
  checkTarget(to);
  await Promise.all([ready(from), ready(to)]);
  const target = to as unknown as { pipeline(o: { transaction: boolean }): Queueing };
  let checked = 0;
  let mismatched = 0;
  const examples: string[] = [];
  for (const conn of sourceConnections(from)) {
    let cursor = '0';
    do {
      const [next, keys] = await scanStep(conn, cursor, batch, options.match);
      cursor = next;
      if (keys.length === 0) continue;
      const mine = await dumpAll(conn, keys);
      const pipe = target.pipeline({ transaction: false });
      for (const k of keys) {
        pipe.queue('dumpBuffer', [k]);
        pipe.queue('pttl', [k]);
      }
      const theirs = await pipe.exec({ raiseOnError: false });
      keys.forEach((k, i) => {
        const m = mine[i];
        if (m === null) return; // gone from the source meanwhile
        checked++;
        const value = theirs[2 * i];
        const pttl = Number(theirs[2 * i + 1]);
        const same = Buffer.isBuffer(value) && value.equals(m.value) && (m.pttl > 0) === (pttl > 0);
        if (!same) {
          mismatched++;
          if (examples.length < 100) examples.push(k.toString());
        }
      });
    } while (cursor !== '0');
  }
  return { checked, mismatched, examples };
}

