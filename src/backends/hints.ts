/**
 * RedisCopy's writes: sent to every node that is up, counted against `write_quorum`, and kept
 * as hints for the nodes that could not take them (hinted handoff), to be replayed in order
 * when those nodes come back, before they serve reads again.
 *
 * What is kept, and when a node needs a full resync instead:
 *   - a write that was never sent to a node (the node was down or being repaired) is a hint;
 *   - a write that was sent but not answered (timeout, connection lost) may or may not have
 *     been applied, and replaying INCR twice would be wrong: its keys are copied from a
 *     healthy node instead (and so are those keys in every later hint); a keyless one (FLUSHDB)
 *     marks the node for a full resync;
 *   - hints are bounded per node by count (`hint_limit`, default 10,000 writes) and size
 *     (`hint_max_bytes`, default 16 MiB of arguments); on overflow the node's hints are dropped
 *     and the node is marked for resync, so memory stays bounded however long it is away.
 */
import type { ConstRedis } from '../client/const-redis.js';
import type { CommandSpec } from '../client/conventions.js';
import { AuthError, ConfigError, ConnectionError, NodeDownError, RedisError } from '../errors.js';
import { NodesFailedError } from './errors.js';
import { commandName } from './plan.js';

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
  /** The write's outcome on that node is unknown: copy its keys from a healthy node, do not replay it. */
  readonly copy?: boolean;
}

/** A key as a Map/Set key, bytes and text kept apart. */
export function keyId(key: unknown): string {
  return Buffer.isBuffer(key) ? `b:${key.toString('latin1')}` : `s:${String(key)}`;
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

  constructor(nodeCount: number, private readonly limits: Pick<CopyOptions, 'hintLimit' | 'hintMaxBytes'>) {
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

  /**
   * Records a write that failed on a node with a connection error. Never sent: the node missed
   * it for sure, so it is replayed. Sent but unanswered: maybe applied, maybe not, so its keys
   * are copied from a healthy node (the whole node when the write names no keys).
   */
  missed(node: number, hint: Hint, error: ConnectionError): boolean {
    if (neverSent(error)) return this.add(node, hint);
    if (hint.keys !== null) return this.add(node, { ...hint, copy: true });
    this.markForResync(node);
    return false;
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

/** Hints left at which a repair takes its last round, holding new writes meanwhile. */
const LAST_ROUND_HINTS = 1000;
/** Rounds after which it does so anyway: under steady load the queue need not get empty. */
const MAX_OPEN_ROUNDS = 3;

/**
 * Replays a node's hints until none are left, a round at a time. Each round takes every
 * hint kept so far; writes that arrive meanwhile (the node is still 'returning') join the
 * next round. Under steady load the queue never empties by itself, so the last round holds
 * new writes (see HintStore.holdWrites) until everything it repairs has been sent, then lets
 * them follow: when this resolves no hint is left, and the caller marks the node up and
 * removes the gate in the same turn.
 *
 * Hints whose outcome was unknown, and with `copyEverything` all hints with keys (after a
 * full copy), are repaired by copying their keys from a healthy node (`copyFrom`) instead
 * of replaying them; from then on every later hint touching those keys is a copy too, since
 * the copy already holds those writes. In a round the replayed writes go first, in order and
 * pipelined, then each copied key once: a copy reads the healthy node's current state, which
 * includes every write before it. A reply error (WRONGTYPE...) is what the other nodes
 * answered too and does not stop the replay; a lost connection does.
 */
export async function replayHints(
  store: HintStore, node: number, client: ConstRedis,
  copyFrom: (keys: readonly unknown[], issued: () => void) => Promise<unknown>, copyEverything = false,
): Promise<number> {
  let replayed = 0;
  const copied = new Set<string>();
  const fail = (err: unknown): never => {
    // Which writes were applied is unknown now: only a full copy is safe.
    store.markForResync(node);
    throw err;
  };
  for (let round = 1; ; round++) {
    if (store.needsResync(node)) throw new RedisError(`the hints for ${client.address} overflowed during its repair`);
    const last = round >= MAX_OPEN_ROUNDS || store.count(node) <= LAST_ROUND_HINTS;
    const release = last ? store.holdWrites(node) : () => {};
    try {
      const hints = store.take(node, Number.MAX_SAFE_INTEGER);
      const sends: Array<Promise<unknown>> = [];
      const copies = new Map<string, unknown>();
      for (const hint of hints) {
        const keys = hint.keys;
        if (keys !== null && (copyEverything || hint.copy === true || keys.some((k) => copied.has(keyId(k))))) {
          for (const k of keys) {
            const id = keyId(k);
            copied.add(id);
            copies.set(id, k);
          }
        } else {
          sends.push(client.dispatch(hint.spec));
        }
      }
      const copying = copies.size > 0 ? copyFrom([...copies.values()], release) : null;
      if (copying === null) release(); // the replayed writes are sent already
      const results = await Promise.allSettled(sends);
      for (const r of results) if (r.status === 'rejected' && r.reason instanceof ConnectionError) fail(r.reason);
      if (copying !== null) await copying.catch(fail);
      replayed += hints.length;
    } finally {
      release();
    }
    if (last) return replayed;
  }
}

/**
 * True for the errors a command gets when it never left this process: the node was out, or
 * the connection it waited for could not be made (authentication refused included).
 */
export function neverSent(err: ConnectionError): boolean {
  return err.neverSent || err instanceof NodeDownError || err instanceof AuthError;
}

/** What the write path needs from the backend. */
export interface WriteTarget {
  readonly nodes: readonly ConstRedis[];
  readonly addresses: readonly string[];
  /** Called after a write failed on some node (its miss already recorded). */
  missedWrite(): void;
  /** True when the node takes writes directly now. */
  writable(node: number): boolean;
  /** The error for a node that is not writable. */
  refusal(node: number): Error;
}

/**
 * Sends a write to every node (through `send`), keeps hints for the nodes that are away, and
 * applies the quorum. Resolves with one result per node (an Error in a failed node's place).
 */
export function replicateWrite(
  target: WriteTarget, hint: Hint, store: HintStore, quorum: number,
  send: (node: number, spec: CommandSpec) => Promise<unknown>,
): Promise<unknown[]> {
  const count = target.nodes.length;
  let everyNodeUp = true;
  for (let i = 0; i < count && everyNodeUp; i++) everyNodeUp = target.writable(i);
  if (!everyNodeUp) return replicateAround(target, hint, store, quorum, send);
  // The common case: every node takes the write directly. One promise for the caller and no
  // bookkeeping unless a node fails.
  return new Promise<unknown[]>((resolve, reject) => {
    const results: unknown[] = new Array<unknown>(count);
    let left = count;
    let failed = false;
    const done = (): void => {
      if (!failed) {
        resolve(results);
        return;
      }
      const settled = results.map((r): PromiseSettledResult<unknown> =>
        r instanceof Error ? { status: 'rejected', reason: r } : { status: 'fulfilled', value: r });
      try {
        resolve(conclude(target, hint, store, quorum, settled, new Array<boolean>(count).fill(false), new Array<boolean>(count).fill(false)));
      } catch (err) {
        reject(err);
      }
    };
    for (let i = 0; i < count; i++) {
      send(i, hint.spec).then(
        (value) => {
          results[i] = value;
          if (--left === 0) done();
        },
        (err: unknown) => {
          results[i] = err instanceof Error ? err : new Error(String(err));
          failed = true;
          if (--left === 0) done();
        },
      );
    }
  });
}

/** A write while some node is away or being repaired: hints, gates and every outcome. */
async function replicateAround(
  target: WriteTarget, hint: Hint, store: HintStore, quorum: number,
  send: (node: number, spec: CommandSpec) => Promise<unknown>,
): Promise<unknown[]> {
  const count = target.nodes.length;
  const pending: Array<Promise<unknown>> = new Array<Promise<unknown>>(count);
  const hinted: boolean[] = new Array<boolean>(count).fill(false);
  const away: boolean[] = new Array<boolean>(count).fill(false);
  for (let i = 0; i < count; i++) {
    const gate = target.writable(i) ? null : store.gate(i);
    if (target.writable(i)) {
      pending[i] = send(i, hint.spec);
    } else if (gate !== null) {
      // The node's repair is in its last round: this write follows it.
      pending[i] = gate.then(() => send(i, hint.spec));
    } else {
      // Kept now, not after the other nodes answer, so hints stay in the order of the writes.
      away[i] = true;
      hinted[i] = store.add(i, hint);
      pending[i] = Promise.reject(target.refusal(i));
    }
  }
  return conclude(target, hint, store, quorum, await Promise.allSettled(pending), hinted, away);
}

/** Results per node from the settled sends: missed writes recorded, the quorum applied. */
function conclude(
  target: WriteTarget, hint: Hint, store: HintStore, quorum: number,
  settled: readonly PromiseSettledResult<unknown>[], hinted: boolean[], away: readonly boolean[],
): unknown[] {
  const count = settled.length;
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
    if (error instanceof ConnectionError && !away[i]) hinted[i] = store.missed(i, hint, error);
    results[i] = error;
    outcomes[i] = { node, ok: false, error, hinted: hinted[i]! };
  }
  if (acknowledged < count) target.missedWrite();
  if (acknowledged === 0) throw new NodesFailedError(target.addresses, results as Error[], commandName(hint.spec));
  if (acknowledged < quorum) throw new WriteQuorumError(commandName(hint.spec), outcomes, quorum);
  return results;
}
