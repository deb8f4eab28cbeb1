/**
 * RedisCopy's writes: sent to every node that is up, counted against `write_quorum`, and kept
 * as hints for the nodes that could not take them (hinted handoff), to be replayed in order
 * when those nodes come back, before they serve reads again.
 *
 * What is kept, and when a node needs a full resync instead:
 *   - a write that was never sent to a node (the node was down or being repaired) is a hint;
 *   - a write that was sent but not answered (timeout, connection lost) may or may not have
 *     been applied, and replaying INCR twice would be wrong, so the node is marked for resync;
 *   - hints are bounded per node by count (`hint_limit`, default 10,000 writes) and size
 *     (`hint_max_bytes`, default 16 MiB of arguments); on overflow the node's hints are dropped
 *     and the node is marked for resync, so memory stays bounded however long it is away.
 */
import type { ConstRedis } from '../client/const-redis.js';
import type { CommandSpec } from '../client/conventions.js';
import { AuthError, ConfigError, ConnectionError, NodeDownError, RedisError } from '../errors.js';
import { NodesFailedError } from './errors.js';

export type WriteQuorum = number | 'all' | 'majority';

export interface CopyOptions {
  /** Nodes that must take a write for it to succeed: a number, 'majority' or 'all' (default 1). */
  readonly writeQuorum: WriteQuorum;
  /** Most writes kept per node while it is away. */
  readonly hintLimit: number;
  /** Most bytes of arguments kept per node while it is away. */
  readonly hintMaxBytes: number;
}

/** RedisCopy's write options as given. */
export interface CopyWriteOptions {
  write_quorum?: WriteQuorum;
  writeQuorum?: WriteQuorum;
  hint_limit?: number;
  hintLimit?: number;
  hint_max_bytes?: number;
  hintMaxBytes?: number;
}

export const COPY_OPTION_NAMES: readonly string[] = [
  'write_quorum', 'writeQuorum', 'hint_limit', 'hintLimit', 'hint_max_bytes', 'hintMaxBytes',
];

export const DEFAULT_COPY: CopyOptions = Object.freeze({ writeQuorum: 1, hintLimit: 10_000, hintMaxBytes: 16 * 1024 * 1024 });

function pick(options: Record<string, unknown>, kind: string, snake: string, camel: string): unknown {
  if (options[snake] !== undefined && options[camel] !== undefined) {
    throw new ConfigError(`${kind}: give ${snake} or ${camel}, not both`);
  }
  return options[snake] ?? options[camel];
}

/** Reads and checks RedisCopy's write options (RedisRing accepts none of them). */
export function copyOptions(kind: string, options: Record<string, unknown>, nodeCount: number): CopyOptions {
  const given = COPY_OPTION_NAMES.some((n) => options[n] !== undefined);
  if (given && kind !== 'RedisCopy') {
    throw new ConfigError(`${kind}: write_quorum, hint_limit and hint_max_bytes are RedisCopy options`);
  }
  const quorum = pick(options, kind, 'write_quorum', 'writeQuorum') ?? DEFAULT_COPY.writeQuorum;
  if (quorum !== 'all' && quorum !== 'majority' && (typeof quorum !== 'number' || !Number.isInteger(quorum) || quorum < 1 || quorum > nodeCount)) {
    throw new ConfigError(`${kind}: write_quorum must be 'all', 'majority' or an integer from 1 to ${nodeCount} (the number of nodes), got ${JSON.stringify(quorum)}`);
  }
  const limit = pick(options, kind, 'hint_limit', 'hintLimit') ?? DEFAULT_COPY.hintLimit;
  if (typeof limit !== 'number' || !Number.isInteger(limit) || limit < 0) {
    throw new ConfigError(`${kind}: hint_limit must be a non-negative integer, got ${String(limit)}`);
  }
  const bytes = pick(options, kind, 'hint_max_bytes', 'hintMaxBytes') ?? DEFAULT_COPY.hintMaxBytes;
  if (typeof bytes !== 'number' || !Number.isInteger(bytes) || bytes < 0) {
    throw new ConfigError(`${kind}: hint_max_bytes must be a non-negative integer, got ${String(bytes)}`);
  }
  return Object.freeze({ writeQuorum: quorum, hintLimit: limit, hintMaxBytes: bytes });
}

/** The number of nodes a quorum asks for, out of `nodeCount`. */
export function quorumSize(quorum: WriteQuorum, nodeCount: number): number {
  if (quorum === 'all') return nodeCount;
  if (quorum === 'majority') return Math.floor(nodeCount / 2) + 1;
  return Math.min(quorum, nodeCount);
}

/** One node's part in a write. */
export type WriteOutcome =
  | { readonly node: string; readonly ok: true; readonly value: unknown }
  | { readonly node: string; readonly ok: false; readonly error: Error; readonly hinted: boolean };

/** A write reached fewer nodes than `write_quorum`; `outcomes` holds every node's part. */
export class WriteQuorumError extends RedisError {
  override name = 'WriteQuorumError';
  readonly outcomes: readonly WriteOutcome[];
  readonly acknowledged: number;
  readonly quorum: number;

  constructor(what: string, outcomes: readonly WriteOutcome[], quorum: number) {
    const acknowledged = outcomes.filter((o) => o.ok).length;
    const detail = outcomes.map((o) => `${o.node}: ${o.ok ? 'ok' : `${o.error.message}${o.hinted ? ' (kept as a hint)' : ''}`}`).join('; ');
    super(`${what} reached ${acknowledged} of the ${quorum} nodes write_quorum asks for (${detail})`);
    this.outcomes = Object.freeze(outcomes.slice());
    this.acknowledged = acknowledged;
    this.quorum = quorum;
  }
}

function argBytes(argv: readonly unknown[]): number {
  let n = 0;
  for (const a of argv) n += typeof a === 'string' ? a.length * 3 : a instanceof Uint8Array ? a.byteLength : 24;
  return n + 16 * argv.length;
}

/** A write a node missed, with its keys (null when the command has none) for a resync to re-copy. */
export interface Hint {
  readonly spec: CommandSpec;
  readonly keys: readonly unknown[] | null;
}

/** The writes each node missed, in order, within the limits. */
export class HintStore {
  private readonly queues: Hint[][];
  private readonly bytes: number[];
  private readonly overflowed: boolean[];
  /** Writes dropped because of the limits, per node (for monitoring). */
  readonly dropped: number[];

  constructor(nodeCount: number, private readonly limits: Pick<CopyOptions, 'hintLimit' | 'hintMaxBytes'>) {
    this.queues = Array.from({ length: nodeCount }, () => []);
    this.bytes = new Array<number>(nodeCount).fill(0);
    this.overflowed = new Array<boolean>(nodeCount).fill(false);
    this.dropped = new Array<number>(nodeCount).fill(0);
  }

  /** Keeps a write for a node; false when the limits were hit (the node then needs a resync). */
  add(node: number, hint: Hint): boolean {
    if (this.overflowed[node]) {
      this.dropped[node]!++;
      return false;
    }
    const size = argBytes(hint.spec.argv);
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

  /** After a resync: the node is whole again and hints may be kept anew. */
  clearResync(node: number): void {
    this.overflowed[node] = false;
  }

  count(node: number): number {
    return this.queues[node]!.length;
  }

  /** Takes up to `max` of a node's oldest hints. */
  take(node: number, max: number): Hint[] {
    const queue = this.queues[node]!;
    const batch = queue.splice(0, max);
    for (const hint of batch) this.bytes[node]! -= argBytes(hint.spec.argv);
    return batch;
  }
}

/** How many hints are replayed per round trip. */
const REPLAY_BATCH = 256;

/**
 * Replays a node's hints in order, pipelined a batch at a time, until none are left. Writes
 * that arrive meanwhile join the end of the queue (the node is still 'returning'), so the
 * queue is empty exactly when the caller may mark the node up. A reply error (WRONGTYPE...)
 * is what the other nodes answered too and does not stop the replay; a lost connection does.
 */
export async function replayHints(store: HintStore, node: number, client: ConstRedis): Promise<number> {
  let replayed = 0;
  for (;;) {
    if (store.needsResync(node)) return replayed;
    const batch = store.take(node, REPLAY_BATCH);
    if (batch.length === 0) return replayed;
    const results = await Promise.allSettled(batch.map((hint) => client.dispatch(hint.spec)));
    for (const r of results) {
      if (r.status === 'rejected' && r.reason instanceof ConnectionError) {
        // Which of the batch were applied is unknown: only a full copy is safe now.
        store.markForResync(node);
        throw r.reason;
      }
    }
    replayed += batch.length;
  }
}

/**
 * True for the errors a command gets when it never left this process: the node was out, or
 * the connection it waited for could not be made (the messages of connection.ts's connect
 * path: refused, timed out or closed while connecting, authentication refused, queue full).
 */
export function neverSent(err: ConnectionError): boolean {
  if (err instanceof NodeDownError || err instanceof AuthError) return true;
  return /^(cannot connect to |connecting to \S+ timed out|connection to \S+ closed while connecting|connection to \S+ is not ready and its offline queue is full)/.test(err.message);
}

/** What the write path needs from the backend. */
export interface WriteTarget {
  readonly nodes: readonly ConstRedis[];
  readonly addresses: readonly string[];
  /** True when the node takes writes directly now. */
  writable(node: number): boolean;
  /** The error for a node that is not writable. */
  refusal(node: number): Error;
}

/**
 * Sends a write to every node (through `send`), keeps hints for the nodes that are away, and
 * applies the quorum. Resolves with one result per node (an Error in a failed node's place).
 */
export async function replicateWrite(
  target: WriteTarget, hint: Hint, what: string, store: HintStore, quorum: number,
  send: (node: number, spec: CommandSpec) => Promise<unknown>,
): Promise<unknown[]> {
  const count = target.nodes.length;
  const pending: Array<Promise<unknown>> = new Array<Promise<unknown>>(count);
  const hinted: boolean[] = new Array<boolean>(count).fill(false);
  const away: boolean[] = new Array<boolean>(count).fill(false);
  for (let i = 0; i < count; i++) {
    if (target.writable(i)) {
      pending[i] = send(i, hint.spec);
    } else {
      // Kept now, not after the other nodes answer, so hints stay in the order of the writes.
      away[i] = true;
      hinted[i] = store.add(i, hint);
      pending[i] = Promise.reject(target.refusal(i));
    }
  }
  const settled = await Promise.allSettled(pending);
  const results: unknown[] = new Array<unknown>(count);
  const outcomes: WriteOutcome[] = new Array<WriteOutcome>(count);
  let acknowledged = 0;
  for (let i = 0; i < count; i++) {
    const s = settled[i]!;
    const node = target.addresses[i]!;
    if (s.status === 'fulfilled') {
      acknowledged++;
      results[i] = s.value;
      outcomes[i] = { node, ok: true, value: s.value };
      continue;
    }
    const error = s.reason instanceof Error ? s.reason : new Error(String(s.reason));
    if (error instanceof ConnectionError) {
      // Never sent: the node missed it for sure. Sent but unanswered: maybe applied, maybe
      // not, and only a full copy repairs that safely.
      if (!neverSent(error)) store.markForResync(i);
      else if (!away[i]) hinted[i] = store.add(i, hint);
    }
    results[i] = error;
    outcomes[i] = { node, ok: false, error, hinted: hinted[i]! };
  }
  if (acknowledged === 0) throw new NodesFailedError(target.addresses, results as Error[], what);
  if (acknowledged < quorum) throw new WriteQuorumError(what, outcomes, quorum);
  return results;
}
