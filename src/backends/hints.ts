/**
 * What each RedisCopy node is owed: the writes it missed (hinted handoff), kept in the order of
 * the writes, bounded, and replayed — or their keys copied from a node that holds them — before
 * the node serves reads again.
 *
 * A hint says how its node is repaired:
 *   - 'replay': the write never reached the node, so sending it now is exact;
 *   - 'copy': the node may or may not have applied it (sent, never answered), or answered it
 *     with an error while other nodes applied it: its keys are copied from a node that holds
 *     them (and a keyless one marks the node for a full resync);
 *   - 'pending': kept when the write was issued, so hints stay in the order of the writes, but
 *     the write is not concluded yet: a write that every node refused is withdrawn, since a
 *     rejected write must never be applied later. Replay waits for the decision.
 * Hints are bounded per node by count (`hint_limit`) and size (`hint_max_bytes`); on overflow
 * the node's hints are dropped and it is marked for a full resync, so memory stays bounded
 * however long it is away.
 */
import { Buffer } from 'node:buffer';
import type { CommandSpec } from '../client/conventions.ts';
import type { NodeClient } from '../client/node-client.ts';
import { PipelineBase } from '../client/pipeline.ts';
import { ConnectionError, RedisError, ReplyError } from '../errors.ts';
import type { CopyOptions } from './config.ts';
import type { CopyWrite } from './plan.ts';

export type HintMode = 'replay' | 'copy' | 'pending' | 'withdrawn';

export class Hint {
  private settle: (() => void) | null = null;
  /** Resolves when a pending hint is decided (null once it is). */
  decided: Promise<void> | null = null;

  /** Nodes that applied the write, when it was concluded. */
  appliedOn: readonly number[] = [];

  readonly write: CopyWrite;
  public mode: HintMode;
  public acknowledged: boolean;
  /**
   * @param acknowledged the write was applied on some other node: its node lacks a write the
   *   Copy holds. False for a write applied nowhere that its node may or may not have run.
   */
  constructor(write: CopyWrite, mode: HintMode, acknowledged = true) {
    this.write = write;
    this.mode = mode;
    this.acknowledged = acknowledged;
    if (mode === 'pending') {
      this.decided = new Promise<void>((resolve) => {
        this.settle = resolve;
      });
    }
  }

  /** Decides a pending hint: how its node is to be repaired, or withdrawn. */
  decide(mode: 'replay' | 'copy' | 'withdrawn', acknowledged = this.acknowledged): void {
    this.mode = mode;
    this.acknowledged = acknowledged;
    this.decided = null;
    this.settle?.();
    this.settle = null;
  }
}

/** Bytes a write's arguments take, roughly, for hint_max_bytes. */
export function writeBytes(write: CopyWrite): number {
  let n = 0;
  for (const spec of write.specs) {
    for (const a of spec.argv) n += typeof a === 'string' ? a.length * 3 : a instanceof Uint8Array ? a.byteLength : 24;
    n += 16 * spec.argv.length;
  }
  return n;
}

/** A key as a Map/Set key, bytes and text kept apart. */
export function keyId(key: unknown): string {
  return Buffer.isBuffer(key) ? `b:${key.toString('latin1')}` : `s:${String(key)}`;
}

/** Sends a write to one node: its command, or its MULTI/EXEC block (one result per command). */
export function sendWrite(client: NodeClient, write: CopyWrite): Promise<unknown> {
  if (!write.atomic) return client.dispatch(write.specs[0]!);
  const block = new PipelineBase(client, true);
  for (const spec of write.specs) block.queueSpec(spec);
  return block.exec({ raiseOnError: false });
}

/** The writes each node missed, in order, within the limits. */
export class HintStore {
  private readonly queues: Hint[][];
  private readonly bytes: number[];
  private readonly overflowed: boolean[];
  /** Writes dropped because of the limits, per node (for monitoring). */
  readonly dropped: number[];
  /** Set during a repair's last round: writes for the node wait for it instead of becoming hints. */
  private readonly gates: Array<Promise<void> | null>;

  private readonly limits: Pick<CopyOptions, 'hintLimit' | 'hintMaxBytes'>;
  constructor(nodeCount: number, limits: Pick<CopyOptions, 'hintLimit' | 'hintMaxBytes'>) {
    this.limits = limits;
    this.queues = Array.from({ length: nodeCount }, () => []);
    this.bytes = new Array<number>(nodeCount).fill(0);
    this.overflowed = new Array<boolean>(nodeCount).fill(false);
    this.dropped = new Array<number>(nodeCount).fill(0);
    this.gates = new Array<Promise<void> | null>(nodeCount).fill(null);
  }

  /** The gate writes for this node wait at, or null when there is none. */
  gate(node: number): Promise<void> | null {
    return this.gates[node]!;
  }

  /**
   * From now on, writes for the node wait instead of becoming hints; the returned function
   * lets them through (they are then sent after everything the repair has sent so far).
   * The gate stays, open, until `removeGate`, when the node is back in service.
   */
  holdWrites(node: number): () => void {
    let open!: () => void;
    this.gates[node] = new Promise<void>((resolve) => {
      open = resolve;
    });
    return open;
  }

  removeGate(node: number): void {
    this.gates[node] = null;
  }

  /** Keeps a hint for a node; false when the limits were hit (the node then needs a resync). */
  add(node: number, hint: Hint): boolean {
    if (this.overflowed[node]) {
      this.dropped[node]!++;
      return false;
    }
    const size = writeBytes(hint.write);
    const queue = this.queues[node]!;
    if (queue.length + 1 > this.limits.hintLimit || this.bytes[node]! + size > this.limits.hintMaxBytes) {
      this.dropped[node]! += queue.length + 1;
      this.markForResync(node);
      return false;
    }
    queue.push(hint);
    this.bytes[node]! += size;
    return true;
  }

  /** Drops a node's hints: it will be copied whole instead. */
  markForResync(node: number): void {
    this.queues[node] = [];
    this.bytes[node] = 0;
    this.overflowed[node] = true;
  }

  needsResync(node: number): boolean {
    return this.overflowed[node]!;
  }

  /**
   * True when the node lacks no write the Copy acknowledged: what it is owed are only writes
   * applied nowhere (their outcome unknown), so its data may stand for the Copy's.
   */
  holdsEveryAcknowledged(node: number): boolean {
    return !this.overflowed[node] && this.queues[node]!.every((h) => h.mode === 'withdrawn' || (h.decided === null && !h.acknowledged));
  }

  /** After a resync: the node is whole again and hints may be kept anew. */
  clearResync(node: number): void {
    this.overflowed[node] = false;
  }

  count(node: number): number {
    return this.queues[node]!.length;
  }

  /** A node's hints, oldest first, left in place. */
  owed(node: number): readonly Hint[] {
    return this.queues[node]!.slice();
  }

  /** Takes up to `max` of a node's oldest hints. */
  take(node: number, max: number): Hint[] {
    const queue = this.queues[node]!;
    const batch = queue.splice(0, max);
    for (const hint of batch) this.bytes[node]! -= writeBytes(hint.write);
    return batch;
  }
}

/** Hints left at which a repair takes its last round, holding new writes meanwhile. */
const LAST_ROUND_HINTS = 1000;
/** Rounds after which it does so anyway: under steady load the queue need not get empty. */
const MAX_OPEN_ROUNDS = 3;

/** Runs `fn` once every write issued before it has concluded, holding later writes until it is done. */
export type Exclusive = <T>(fn: () => Promise<T>) => Promise<T>;

/** Copies keys from a healthy node into the node being repaired; null when no node can serve. */
export type CopyFrom = ((keys: readonly unknown[], issued: () => void) => Promise<unknown>) | null;

/**
 * Replays a node's hints until none are left, a round at a time; writes that arrive meanwhile
 * join the next round. Under steady load the queue never empties by itself, so the last round
 * holds new writes (HintStore.holdWrites) until everything it repairs has been issued, then
 * lets them follow: when this resolves no hint is left, and the caller marks the node up and
 * removes the gate in the same turn.
 *
 * In a round the replayed writes go first, in order and pipelined; then each key to copy once
 * (from 'copy' hints, from writes the node answered with an error — OOM, READONLY: it still
 * missed them — and with `copyEverything`, after a full copy, from every hint): a copy reads
 * the healthy node's current state, which includes every write before it. From then on every
 * later hint touching a copied key is a copy too. With no node to copy from (`copyFrom`
 * null: every node was away and this one kept its data), copies are skipped: its data is
 * what there is. A lost connection stops the repair; the node is then copied whole next time.
 *
 * The last round issues everything in the turn it closes the gate, waiting for nothing in
 * between: a write let through the gate must reach the healthy node after the copy read it,
 * or the node being repaired would get it twice (once in the copy, once from the gate). It
 * starts once every write issued before it has concluded (`settled`): a write still on its way
 * may yet be refused or go unanswered on the source, which must not be copied from as if it
 * held it.
 */
export async function replayHints(
  store: HintStore, node: number, client: NodeClient, copyFrom: CopyFrom, copyEverything = false,
  settled: Exclusive = (fn) => fn(),
): Promise<number> {
  let replayed = 0;
  const copied = new Set<string>();
  const address = client.connection.address;
  /** Adds keys to copy; every later hint touching them is a copy too. */
  const toCopy = (keys: readonly unknown[], copies: Map<string, unknown>): void => {
    for (const k of keys) {
      const id = keyId(k);
      copied.add(id);
      copies.set(id, k);
    }
  };
  /** Sorts hints into writes to replay and keys to copy (adding to `copies`). */
  const sort = (hints: readonly Hint[], copies: Map<string, unknown>): Hint[] => {
    const replays: Hint[] = [];
    for (const hint of hints) {
      if (hint.mode === 'withdrawn') continue;
      const keys = hint.write.keys;
      const copy = copyEverything || hint.mode !== 'replay' || (keys !== null && keys.some((k) => copied.has(keyId(k))));
      if (!copy) {
        replays.push(hint);
        continue;
      }
      if (keys === null) {
        store.markForResync(node);
        throw new RedisError(`a write without keys (${hint.write.name}) may have been missed by ${address}: it needs a full copy`);
      }
      toCopy(keys, copies);
    }
    return replays;
  };
  for (let round = 1; ; round++) {
    if (store.needsResync(node)) throw new RedisError(`the hints for ${address} overflowed during its repair`);
    const last = round >= MAX_OPEN_ROUNDS || store.count(node) <= LAST_ROUND_HINTS;
    try {
      if (last) return replayed + (await lastRound());
      const hints = store.take(node, Number.MAX_SAFE_INTEGER);
      const undecided = hints.filter((h) => h.decided !== null).map((h) => h.decided);
      if (undecided.length > 0) await Promise.all(undecided);
      const copies = new Map<string, unknown>();
      const replays = sort(hints, copies);
      // Every send has its handler from the start: a failure part-way is one rejection here.
      const settled = await Promise.allSettled(replays.map((h) => sendWrite(client, h.write)));
      for (let i = 0; i < settled.length; i++) {
        const r = settled[i]!;
        if (r.status === 'fulfilled') {
          replayed++;
          continue;
        }
        const keys = replays[i]!.write.keys;
        if (!(r.reason instanceof ReplyError) || keys === null) throw r.reason;
        toCopy(keys, copies); // the node answered with an error: it still misses the write
      }
      if (copies.size > 0 && copyFrom !== null) await copyFrom([...copies.values()], () => {});
    } catch (err) {
      // Which writes were applied is unknown now: only a full copy is safe.
      if (!store.needsResync(node)) store.markForResync(node);
      throw err;
    }
  }

  /**
   * The last round: once every write issued before it has concluded (so every hint is decided
   * and a source that missed one is out of service), the gate closes and every replay and copy
   * is issued in that same turn, exclusively, so no write gets between the copy's read of the
   * healthy node and the node.
   */
  async function lastRound(): Promise<number> {
    let outcome: Promise<PromiseSettledResult<unknown>[]> = Promise.resolve([]);
    let replays: Hint[] = [];
    await settled(() => new Promise<void>((issued, refuse) => {
      const release = store.holdWrites(node);
      const done = (): void => {
        release();
        issued();
      };
      try {
        const copies = new Map<string, unknown>();
        replays = sort(store.take(node, Number.MAX_SAFE_INTEGER), copies);
        const sends = replays.map((h) => sendWrite(client, h.write));
        const copying = copies.size > 0 && copyFrom !== null ? copyFrom([...copies.values()], done) : null;
        outcome = Promise.allSettled(copying === null ? sends : [...sends, copying]);
        if (copying === null) done();
        else void outcome.then(done); // a copy that failed before it was issued opens the gate too
      } catch (err) {
        release();
        refuse(err);
      }
    }));
    const failed = (await outcome).find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed !== undefined) throw failed.reason;
    return replays.length;
  }
}
