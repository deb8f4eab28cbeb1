/**
 * Pipelines on a backend. A pipeline queues commands through the backend's builder, exactly as
 * direct calls are built, and hands them to the backend's `runPipeline`, which decides how they
 * travel. The pieces here are what a backend may use for that:
 *   - runGrouped: each command planned as a direct call would be (same routes, same splits),
 *     the parts grouped per node, each node's group sent as one pipeline, all nodes in
 *     parallel, results put back in the caller's order with the backend's shapes;
 *   - runOnOneNode: a MULTI block on the one node all its keys live on (CrossNodeError before
 *     anything is sent when they live on several).
 */
import { Buffer } from 'node:buffer';
import { CommandQueue, pipelineProxy, type LoadableScript, type PipelineOf } from '../client/command-queue.ts';
import type { CommandSpec } from '../client/conventions.ts';
import { PipelineBase } from '../client/pipeline.ts';
import { CrossNodeError } from '../errors.ts';
import type { BackendCore } from './core.ts';
import { NodesFailedError } from './errors.ts';
import { commandName, mergeReplies, type Plan } from './plan.ts';
import { keysOf } from './routes.ts';

/** Where one part of a planned command went: which node group, which slot in it. */
interface Part {
  node: number;
  slot: number;
}

export class BackendPipelineBase extends CommandQueue {
  readonly backend: BackendCore;
  constructor(backend: BackendCore, transaction: boolean) {
    super(backend.builder, transaction);
    this.backend = backend;
  }

  protected send(specs: CommandSpec[], scripts: readonly LoadableScript[]): Promise<unknown[]> {
    return this.backend.runPipeline(specs, this.transaction, scripts);
  }
}

/** Every command's plan, made before anything is sent: a CrossNodeError stops the pipeline. */
export function planAll(backend: BackendCore, specs: readonly CommandSpec[]): Promise<Plan[]> {
  return Promise.all(specs.map(async (spec) => backend.planFor(spec, await backend.routes.routeFor(spec))));
}

function groupFor(backend: BackendCore, groups: Map<number, PipelineBase>, node: number, transaction: boolean, scripts: readonly LoadableScript[]): PipelineBase {
  let pipe = groups.get(node);
  if (pipe === undefined) {
    pipe = new PipelineBase(backend.clients[node]!, transaction);
    for (const s of scripts) pipe.needScript(s);
    groups.set(node, pipe);
  }
  return pipe;
}

/** Runs each node's group; a group that failed as a whole gives its error to each slot. */
async function runGroups(groups: Map<number, PipelineBase>): Promise<Map<number, unknown[]>> {
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

/**
 * A part's second chance (RedisCluster): given a part's spec, the node it went to and its
 * reply, a promise of the reply to use instead (the part sent again alone, where the server
 * said), or null to keep the reply.
 */
export type RetryPart = (spec: CommandSpec, node: number, reply: unknown) => Promise<unknown> | null;

/** Without MULTI: parts grouped per node, groups in parallel, results reassembled. */
export async function runGrouped(
  backend: BackendCore, specs: readonly CommandSpec[], scripts: readonly LoadableScript[], retry?: RetryPart,
): Promise<unknown[]> {
  const plans = await planAll(backend, specs);
  const groups = new Map<number, PipelineBase>();
  /** Each node's specs in the order they were queued, for retries. */
  const sent = new Map<number, CommandSpec[]>();
  const parts: Part[][] = plans.map((plan) => {
    if (plan.kind === 'replicated') throw new TypeError(`${plan.write.name}: a replicated write is not sent in node groups`);
    const pairs: Array<[number, CommandSpec]> =
      plan.kind === 'one' ? [[plan.node, plan.spec]] : plan.nodes.map((n, i) => [n, plan.specs[i]!]);
    return pairs.map(([node, spec]) => {
      const pipe = groupFor(backend, groups, node, false, scripts);
      pipe.queueSpec(spec);
      if (retry !== undefined) {
        const list = sent.get(node);
        if (list === undefined) sent.set(node, [spec]);
        else list.push(spec);
      }
      return { node, slot: pipe.length - 1 };
    });
  });
  const replies = await runGroups(groups);
  if (retry !== undefined) await retryParts(sent, replies, retry);
  const at = (p: Part): unknown => replies.get(p.node)![p.slot];
  return plans.map((plan, i) => assemble(backend, plan, parts[i]!.map(at)));
}

/** Each part's reply replaced by its retry's, where `retry` asks for one; retries run in parallel. */
async function retryParts(sent: Map<number, CommandSpec[]>, replies: Map<number, unknown[]>, retry: RetryPart): Promise<void> {
  const pending: Promise<void>[] = [];
  for (const [node, specs] of sent) {
    const out = replies.get(node)!;
    specs.forEach((spec, i) => {
      const again = retry(spec, node, out[i]);
      if (again !== null) pending.push(again.then((r) => { out[i] = r; }, (err: unknown) => { out[i] = err instanceof Error ? err : new Error(String(err)); }));
    });
  }
  await Promise.all(pending);
}

/** One command's result from its parts' replies, with the backend's shapes. */
function assemble(backend: BackendCore, plan: Plan, parts: unknown[]): unknown {
  switch (plan.kind) {
    case 'one': {
      const r = parts[0];
      return plan.wrap && !(r instanceof Error) ? [r] : r;
    }
    case 'each': {
      if (parts.every((r) => r instanceof Error)) {
        return parts.length === 1 ? parts[0] : new NodesFailedError(plan.nodes.map((n) => backend.addresses[n]!), parts as Error[], commandName(plan.specs[0]!));
      }
      return parts;
    }
    case 'replicated':
      return parts;
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

/** The whole MULTI block on the one node all its keys live on. */
export async function runOnOneNode(
  backend: BackendCore, specs: readonly CommandSpec[], scripts: readonly LoadableScript[], asked: number | null = null,
): Promise<unknown[]> {
  const plans = await planAll(backend, specs);
  // `asked`: the node an ASK named for the block's slot, sent the block with ASKING first.
  const node = asked ?? (await transactionNode(backend, specs, plans));
  const pipe = new PipelineBase(backend.clients[node]!, true);
  pipe.asking = asked !== null;
  for (const s of scripts) pipe.needScript(s);
  for (const spec of specs) pipe.queueSpec(spec);
  const results = await pipe.exec({ raiseOnError: false });
  // Writes and keyless commands keep the backend's shape: one entry per node that ran them.
  return results.map((r, i) => {
    const plan = plans[i]!;
    const wrap = plan.kind === 'one' ? plan.wrap : true;
    return wrap && !(r instanceof Error) ? [r] : r;
  });
}

/**
 * The one node every key (and channel) of a transaction lives on (node 0 when it has none);
 * a CrossNodeError naming two keys that disagree otherwise.
 */
export async function transactionNode(backend: BackendCore, specs: readonly CommandSpec[], plans?: readonly Plan[]): Promise<number> {
  let node = -1;
  let firstKey: unknown;
  for (let i = 0; i < specs.length; i++) {
    const spec = specs[i]!;
    const at = keysOf(await backend.routes.routeFor(spec), spec);
    for (const p of typeof at === 'number' ? [at] : at) {
      const key = spec.argv[p];
      const owner = plans?.[i]?.kind === 'one' ? (plans[i] as { node: number }).node : backend.placement.nodeOf(key);
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

function show(k: unknown): string {
  return JSON.stringify(k instanceof Uint8Array ? Buffer.from(k).toString() : String(k));
}

export type BackendPipeline = PipelineOf<BackendPipelineBase>;

export function createBackendPipeline(backend: BackendCore, options: { transaction?: boolean; shard_hint?: unknown; shardHint?: unknown } = {}): BackendPipeline {
  if (typeof options !== 'object' || options === null) throw new TypeError('pipeline: options must be an object');
  for (const key of Object.keys(options)) {
    if (key !== 'transaction' && key !== 'shard_hint' && key !== 'shardHint') throw new TypeError(`pipeline: unknown option '${key}'; expected transaction or shard_hint`);
  }
  const transaction = options.transaction ?? true;
  if (typeof transaction !== 'boolean') throw new TypeError('pipeline: transaction must be true or false');
  // The same Proxy as a node's pipeline: any unknown name queues that command.
  return pipelineProxy(new BackendPipelineBase(backend, transaction));
}
