/**
 * Pipelines and transactions on a backend. A pipeline plans every command as a direct call
 * would (same routes, same splits), groups the parts by node, sends each node's group as one
 * pipeline, all nodes in parallel, and puts the results back in the caller's order with the
 * backend's shapes.
 *
 * A transaction must run on one node: RedisRing refuses one whose keys live on several nodes
 * with a CrossNodeError before anything is sent (hash tags keep keys together). On RedisCopy
 * every node holds every key, so the MULTI block runs on every node: a write's result has one
 * entry per node, a read's comes from the key's node.
 */
import { CommandQueue, type Queued } from '../client/command-queue.js';
import type { CommandSpec } from '../client/conventions.js';
import {
  PipelineBase, pipelineProxy, type LoadableScript, type PipelineOf, type PipelineOptions,
} from '../client/pipeline.js';
import { runTransaction, transactionArguments, type TransactionFunction } from '../client/transaction.js';
import { ConnectionError, CrossNodeError } from '../errors.js';
import type { Backend } from './backend.js';
import { NodesFailedError } from './errors.js';
import { commandName, mergeReplies, type Plan } from './plan.js';
import { planOf } from './pubsub.js';
import { keysOf } from './routes.js';

/** Where one part of a planned command went: which node group, which slot in it. */
interface Part {
  node: number;
  slot: number;
}

export class BackendPipelineBase extends CommandQueue {
  constructor(
    readonly backend: Backend,
    transaction: boolean,
    /** RedisCopy: every node holds every key, so a transaction runs on all of them. */
    private readonly copies: boolean,
  ) {
    super(transaction);
  }

  protected prepareSpec(method: string, args: readonly unknown[]): Queued {
    return this.backend.prepare(method, args);
  }

  protected async send(specs: CommandSpec[], scripts: readonly LoadableScript[]): Promise<unknown[]> {
    // Every plan is made first: a CrossNodeError stops the pipeline before anything is sent.
    const plans = await Promise.all(specs.map((spec) => planOf(this.backend, spec)));
    if (!this.transaction) return this.execGrouped(plans, scripts);
    if (this.copies) return this.execOnEveryNode(specs, plans, scripts);
    return this.execOnOneNode(specs, plans, scripts);
  }

  private groupFor(groups: Map<number, PipelineBase>, node: number, transaction: boolean, scripts: readonly LoadableScript[]): PipelineBase {
    let pipe = groups.get(node);
    if (pipe === undefined) {
      pipe = new PipelineBase(this.backend.nodes[node]!, transaction);
      for (const s of scripts) pipe.needScript(s);
      groups.set(node, pipe);
    }
    return pipe;
  }

  /** Runs each node's group; a group that failed as a whole gives its error to each slot. */
  private static async runGroups(groups: Map<number, PipelineBase>): Promise<Map<number, unknown[]>> {
    const out = new Map<number, unknown[]>();
    await Promise.all(
      [...groups].map(async ([node, pipe]) => {
        const size = pipe.length;
        try {
          out.set(node, await pipe.exec({ raiseOnError: false }));
        } catch (err) {
          out.set(node, new Array<unknown>(size).fill(err instanceof Error ? err : new Error(String(err))));
        }
      }),
    );
    return out;
  }

  /** Without MULTI: parts grouped per node, groups in parallel, results reassembled. */
  private async execGrouped(plans: Plan[], scripts: readonly LoadableScript[]): Promise<unknown[]> {
    const groups = new Map<number, PipelineBase>();
    const parts: Part[][] = plans.map((plan) => {
      const pairs: Array<[number, CommandSpec]> =
        plan.kind === 'one' ? [[plan.node, plan.spec]] : plan.nodes.map((n, i) => [n, plan.specs[i]!]);
      return pairs.map(([node, spec]) => {
        const pipe = this.groupFor(groups, node, false, scripts);
        pipe.queueSpec(spec);
        return { node, slot: pipe.length - 1 };
      });
    });
    const replies = await BackendPipelineBase.runGroups(groups);
    const at = (p: Part): unknown => replies.get(p.node)![p.slot];
    plans.forEach((plan, i) => {
      for (const part of parts[i]!) this.backend.noteSent(plan, part.node, specOf(plan, part.node), at(part));
    });
    return Promise.all(plans.map((plan, i) => this.assemble(plan, parts[i]!.map(at))));
  }

  /** One command's result from its parts' replies, with the backend's shapes. */
  private async assemble(plan: Plan, parts: unknown[]): Promise<unknown> {
    switch (plan.kind) {
      case 'one': {
        const r = parts[0];
        // A read another node can answer (RedisCopy) goes there, as a direct call would.
        if (r instanceof ConnectionError && plan.failoverHash >= 0) {
          try {
            return await this.backend.execute(plan);
          } catch (err) {
            return err as Error;
          }
        }
        return plan.wrap && !(r instanceof Error) ? [r] : r;
      }
      case 'each': {
        if (parts.every((r) => r instanceof Error)) {
          return parts.length === 1 ? parts[0] : new NodesFailedError(plan.nodes.map((n) => this.backend.addresses[n]!), parts as Error[], commandName(plan.specs[0]!));
        }
        return parts;
      }
      case 'merge': {
        const failed = parts.find((r) => r instanceof Error);
        if (failed !== undefined) return failed;
        try {
          return mergeReplies(plan, parts as never[]);
        } catch (err) {
          return err as Error;
        }
      }
    }
  }

  /** RedisRing: the whole MULTI block on the one node all its keys live on. */
  private async execOnOneNode(specs: CommandSpec[], plans: Plan[], scripts: readonly LoadableScript[]): Promise<unknown[]> {
    const node = await transactionNode(this.backend, specs, plans);
    const pipe = new PipelineBase(this.backend.nodes[node]!, true);
    for (const s of scripts) pipe.needScript(s);
    for (const spec of specs) pipe.queueSpec(spec);
    const results = await pipe.exec({ raiseOnError: false });
    // Writes and keyless commands keep the ring's shape: one entry per node that ran them.
    return results.map((r, i) => {
      const plan = plans[i]!;
      const wrap = plan.kind === 'one' ? plan.wrap : true;
      return wrap && !(r instanceof Error) ? [r] : r;
    });
  }

  /** RedisCopy: the same MULTI block on every node, in parallel. */
  private async execOnEveryNode(specs: CommandSpec[], plans: Plan[], scripts: readonly LoadableScript[]): Promise<unknown[]> {
    const nodes = this.backend.nodes.map((_, i) => i);
    const groups = new Map<number, PipelineBase>();
    for (const node of nodes) {
      const pipe = this.groupFor(groups, node, true, scripts);
      for (const spec of specs) pipe.queueSpec(spec);
    }
    const replies = await BackendPipelineBase.runGroups(groups);
    for (const n of nodes) {
      // A MULTI block lost on a node may or may not have run there: the node is repaired whole.
      const lost = replies.get(n)!.find((r) => r instanceof ConnectionError);
      if (lost !== undefined) this.backend.noteSent(null, n, { argv: ['MULTI'], words: 1, reply: null }, lost);
    }
    if (nodes.every((n) => replies.get(n)!.every((r) => r instanceof Error))) {
      const errors = nodes.map((n) => replies.get(n)![0] as Error);
      throw new NodesFailedError(nodes.map((n) => this.backend.addresses[n]!), errors, 'transaction');
    }
    return plans.map((plan, i) => {
      const perNode = nodes.map((n) => replies.get(n)![i]);
      if (plan.kind !== 'one' || plan.wrap) return perNode;
      // A read: the key's node answers, or the next one that could.
      const first = perNode[plan.node];
      if (!(first instanceof ConnectionError)) return first;
      return perNode.find((r) => !(r instanceof Error)) ?? first;
    });
  }
}

/**
 * The one node every key of a transaction lives on (node 0 when it has no keys); a
 * CrossNodeError naming two keys that disagree otherwise.
 */
async function transactionNode(backend: Backend, specs: readonly CommandSpec[], plans?: readonly Plan[]): Promise<number> {
  let node = -1;
  let firstKey: unknown;
  for (let i = 0; i < specs.length; i++) {
    const spec = specs[i]!;
    const route = await backend.routes.routeFor(spec);
    const plan = plans?.[i];
    // PUBLISH routes by channel rather than by key.
    const placed: Array<[unknown, number]> = [];
    if (plan !== undefined && plan.kind === 'one' && String(spec.argv[0]).toUpperCase().endsWith('PUBLISH')) {
      placed.push([spec.argv[1], plan.node]);
    } else {
      const at = keysOf(route, spec);
      for (const p of typeof at === 'number' ? [at] : at) placed.push([spec.argv[p], backend.nodeIndexFor(spec.argv[p] as string)]);
    }
    for (const [key, owner] of placed) {
      if (node === -1) {
        node = owner;
        firstKey = key;
      } else if (owner !== node) {
        throw new CrossNodeError(
          `a transaction needs all its keys on one node, but ${show(firstKey)} is on ${backend.addresses[node]} and ` +
          `${show(key)} (${commandName(spec)}) is on ${backend.addresses[owner]}; give the keys a common hash tag (e.g. '{user1}:a', '{user1}:b') to keep them together`,
        );
      }
    }
  }
  return node === -1 ? 0 : node;
}

/** The spec a plan sent to one node. */
function specOf(plan: Plan, node: number): CommandSpec {
  return plan.kind === 'one' ? plan.spec : plan.specs[plan.nodes.indexOf(node)]!;
}

function show(k: unknown): string {
  return JSON.stringify(k instanceof Uint8Array ? Buffer.from(k).toString() : String(k));
}

export type BackendPipeline = PipelineOf<BackendPipelineBase>;

export function createBackendPipeline(backend: Backend, copies: boolean, options: PipelineOptions = {}): BackendPipeline {
  if (typeof options !== 'object' || options === null) throw new TypeError('pipeline: options must be an object');
  for (const key of Object.keys(options)) {
    if (key !== 'transaction' && key !== 'shard_hint' && key !== 'shardHint') throw new TypeError(`pipeline: unknown option '${key}'; expected transaction or shard_hint`);
  }
  const transaction = options.transaction ?? true;
  if (typeof transaction !== 'boolean') throw new TypeError('pipeline: transaction must be true or false');
  // The same Proxy as a node's pipeline: any unknown name queues that command.
  return pipelineProxy(new BackendPipelineBase(backend, transaction, copies));
}

/**
 * transaction(fn, ...watches) on a backend. RedisRing: on the node of the watched keys
 * (which must share it), and every command fn sends or queues must have its keys there too.
 * RedisCopy: on every node, each with its own WATCH and retries, so `fn` runs once per node;
 * the result has one entry per node.
 */
export async function runBackendTransaction<T>(backend: Backend, copies: boolean, fn: TransactionFunction<T>, watchesAndOptions: readonly unknown[]): Promise<unknown> {
  if (typeof fn !== 'function') throw new TypeError('transaction: the first argument must be a function');
  const { keys } = transactionArguments(watchesAndOptions);
  if (copies) {
    const settled = await Promise.allSettled(backend.nodes.map((n) => runTransaction(n, fn, watchesAndOptions)));
    if (settled.every((s) => s.status === 'rejected')) {
      const errors = settled.map((s) => (s as PromiseRejectedResult).reason as Error);
      if (errors.length === 1) throw errors[0];
      throw new NodesFailedError(backend.addresses, errors, 'transaction');
    }
    return settled.map((s) => (s.status === 'fulfilled' ? s.value : (s.reason as Error)));
  }
  if (keys.length === 0) throw new TypeError('transaction: on RedisRing, give the keys to watch; they choose the node it runs on');
  const watched: CommandSpec = { argv: ['WATCH', ...keys], words: 1, reply: null };
  const node = await transactionNode(backend, [watched]);
  // Throws a CrossNodeError for a command whose keys are not on the watched keys' node.
  const check = async (spec: CommandSpec): Promise<void> => {
    await transactionNode(backend, [watched, spec]);
  };
  return runTransaction(backend.nodes[node]!, fn, watchesAndOptions, check);
}
