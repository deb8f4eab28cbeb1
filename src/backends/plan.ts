/**
 * Where a command goes and how its replies come back: the one thing backends decide
 * differently. A plan is plain data, so a pipeline can group plans by node and send them in
 * batches, then combine the replies with the same rules.
 */
import { Buffer } from 'node:buffer';
import { commandName, type CommandSpec, type ReplyTransform } from '../client/conventions.ts';
import { CrossNodeError, RedisError } from '../errors.ts';
import type { Reply } from '../resp/decode.ts';
import type { Merge } from './routes.ts';

/** One node runs the command. */
export interface OnePlan {
  readonly kind: 'one';
  readonly node: number;
  readonly spec: CommandSpec;
  /** The result is `[reply]`: a write (one result per node written) or a keyless command. */
  readonly wrap: boolean;
  /** A read's key hash when other nodes hold the key too and may answer instead (RedisCopy); -1 otherwise. */
  readonly failoverHash: number;
}

/** Several nodes run a command each; the result has one entry per node, in `nodes` order. */
export interface EachPlan {
  readonly kind: 'each';
  readonly nodes: readonly number[];
  readonly specs: readonly CommandSpec[];
}

/** A read whose keys were split across nodes; the replies become one result. */
export interface MergePlan {
  readonly kind: 'merge';
  readonly nodes: readonly number[];
  readonly specs: readonly CommandSpec[];
  readonly merge: Merge;
  /** For 'ordered': for each node, the caller's positions of the keys it was sent. */
  readonly order: readonly (readonly number[])[];
  /** Number of keys in the caller's command. */
  readonly total: number;
  /** The command's own reply shape, applied to the merged reply. */
  readonly finish: ReplyTransform | null;
}

/**
 * A write that every node must hold (RedisCopy): sent, classified and repaired by the
 * backend's one write path. The result has one entry per node.
 */
export interface ReplicatedPlan {
  readonly kind: 'replicated';
  readonly write: CopyWrite;
}

/** One write as it is replicated: what each node is sent, and what it may change. */
export interface CopyWrite {
  /** For messages: 'SET', 'transaction'. */
  readonly name: string;
  /** One command, or with `atomic` the commands of one MULTI/EXEC block. */
  readonly specs: readonly CommandSpec[];
  readonly atomic: boolean;
  /** The keys it may change; null when it may change any (FLUSHDB, keys the server cannot name). */
  readonly keys: readonly unknown[] | null;
  /**
   * Its effect may differ from node to node (SPOP, the server's `nondeterministic_output`):
   * it runs on one node, and its keys are then copied from there to the others.
   */
  readonly nondeterministic: boolean;
}

export type Plan = OnePlan | EachPlan | MergePlan | ReplicatedPlan;

/** A command's keys cut into one command per node. */
export interface Split {
  readonly nodes: number[];
  readonly specs: CommandSpec[];
  readonly order: number[][];
}

/**
 * Cuts a multi-key command into one command per node: the arguments before the first key,
 * each key with the `step - 1` arguments that follow it (MSET's values), then the rest.
 * Returns null when the keys are not one regular run and so cannot be cut safely.
 */
export function splitByNode(
  spec: CommandSpec, positions: readonly number[], owners: readonly number[], step: number, keepReply: boolean,
): Split | null {
  const argv = spec.argv;
  const first = positions[0]!;
  for (let i = 1; i < positions.length; i++) if (positions[i] !== first + i * step) return null;
  const tail = first + positions.length * step;
  if (tail > argv.length) return null;
  const prefix = argv.slice(0, first);
  const suffix = argv.slice(tail);
  const byNode = new Map<number, { argv: unknown[]; order: number[] }>();
  for (let i = 0; i < positions.length; i++) {
    const node = owners[i]!;
    let part = byNode.get(node);
    if (part === undefined) {
      part = { argv: prefix.slice(), order: [] };
      byNode.set(node, part);
    }
    for (let k = 0; k < step; k++) part.argv.push(argv[positions[i]! + k]);
    part.order.push(i);
  }
  const nodes = [...byNode.keys()].sort((a, b) => a - b);
  const specs: CommandSpec[] = [];
  const order: number[][] = [];
  for (const node of nodes) {
    const part = byNode.get(node)!;
    for (const x of suffix) part.argv.push(x);
    const s: CommandSpec = { argv: part.argv, words: spec.words, reply: keepReply ? spec.reply : null };
    if (spec.buffers) s.buffers = true;
    specs.push(s);
    order.push(part.order);
  }
  return { nodes, specs, order };
}

/** Combines the replies of a split read. */
export function mergeReplies(plan: MergePlan, replies: readonly Reply[]): unknown {
  let merged: unknown;
  switch (plan.merge) {
    case 'ordered': {
      const out: Reply[] = new Array<Reply>(plan.total);
      replies.forEach((reply, j) => {
        const order = plan.order[j]!;
        if (!Array.isArray(reply) || reply.length !== order.length) {
          throw new RedisError(`${commandName(plan.specs[j]!)}: expected one reply per key from each node, got ${describe(reply)}`);
        }
        for (let k = 0; k < order.length; k++) out[order[k]!] = reply[k] as Reply;
      });
      merged = out;
      break;
    }
    case 'sum':
      merged = replies.reduce<number>((acc, r) => acc + Number(r), 0);
      break;
    case 'min':
      merged = Math.min(...replies.map(Number));
      break;
    case 'max':
      merged = Math.max(...replies.map(Number));
      break;
    case 'and':
      merged = replies.every((r) => Number(r) !== 0) ? 1 : 0;
      break;
    case 'or':
      merged = replies.some((r) => Number(r) !== 0) ? 1 : 0;
      break;
  }
  return plan.finish === null ? merged : plan.finish(merged as Reply);
}

/** The error for keys that must share a node and do not, raised before anything is sent. */
export function crossNodeError(spec: CommandSpec, keys: readonly unknown[], owners: readonly number[], addresses: readonly string[]): CrossNodeError {
  const a = owners[0]!;
  const i = owners.findIndex((o) => o !== a);
  const b = owners[i]!;
  return new CrossNodeError(
    `${commandName(spec)} needs all its keys on one node, but ${showKey(keys[0])} is on ${addresses[a]} and ` +
    `${showKey(keys[i])} is on ${addresses[b]}; give the keys a common hash tag (e.g. '{user1}:a', '{user1}:b') to keep them together`,
  );
}

export { commandName };

/** Whether two command arguments name the same key (a string, bytes or a number as given). */
export function sameKey(a: unknown, b: unknown): boolean {
  if (typeof a === 'string' && typeof b === 'string') return a === b;
  const bytes = (k: unknown): Buffer => (k instanceof Uint8Array ? Buffer.from(k.buffer, k.byteOffset, k.byteLength) : Buffer.from(String(k)));
  return bytes(a).equals(bytes(b));
}

/** A key for a message: quoted, and cut short when long. */
export function showKey(k: unknown): string {
  const s = k instanceof Uint8Array ? Buffer.from(k.buffer, k.byteOffset, k.byteLength).toString() : String(k);
  return JSON.stringify(s.length > 60 ? `${s.slice(0, 57)}...` : s);
}

function describe(r: Reply): string {
  if (Array.isArray(r)) return `an array of ${r.length}`;
  return r === null ? 'null' : typeof r;
}
