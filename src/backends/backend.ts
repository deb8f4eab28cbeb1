/**
 * What every backend shares: one ConstRedis per node, one CommandBuilder and one route table
 * for all of them, the continuum, and running a plan. A command, whichever door it comes in by
 * (a method, `call`, `execute_command`, a pipeline, a script), is built by the builder, routed
 * by the route table and placed by the backend's `planFor`; `execute` runs the plan. A backend
 * supplies its placement and its policy: `planFor`, and how it runs pipelines, transactions,
 * scans and locks.
 */
import { Buffer } from 'node:buffer';
import { CommandBuilder } from '../client/command-builder.ts';
import type { LoadableScript } from '../client/command-queue.ts';
import { fallbackCommandInfo } from '../client/command-specs.ts';
import { CommandTable } from '../client/command-table.ts';
import type { BackendCommands } from '../client/commands.ts';
import { ConstRedisBase, clientProxy, type ConstRedis } from '../client/const-redis.ts';
import { commandName, type CommandSpec } from '../client/conventions.ts';
import type { NearCacheStats } from '../client/near-cache/near-cache.ts';
import type { Lock, LockOptions } from '../client/lock.ts';
import type { PubSubOptions } from '../client/pubsub.ts';
import type { ScanIterOptions } from '../client/scan.ts';
import type { Script } from '../client/script.ts';
import type { TransactionFunction, TransactionOptions } from '../client/transaction.ts';
import type { Bulk, Key, ResponseCallback } from '../client/types.ts';
import type { ClientOptions } from '../connection/options.ts';
import { Continuum } from '../hash/index.ts';
import type { Reply } from '../resp/decode.ts';
import { commandProxy } from '../util/proxy.ts';
import type { BackendConfig, Hashing } from './config.ts';
import type { BackendCore } from './core.ts';
import { NodesFailedError } from './errors.ts';
import { mergeReplies, type EachPlan, type MergePlan, type OnePlan, type Plan, type ReplicatedPlan } from './plan.ts';
import { Placement } from './placement.ts';
import { createBackendPipeline, type BackendPipeline } from './pipeline.ts';
import { BackendPubSub, publish } from './pubsub.ts';
import type { Redlock } from './redlock.ts';
import { askAnyNode, RouteTable, type Route } from './routes.ts';
import { checkScanKey } from './scan.ts';
import { createBackendScript } from './script.ts';

/** Any command, by method name; the result's shape depends on the backend and the command. */
export type BackendMethod = (...args: unknown[]) => Promise<unknown>;

/** A backend class's instances with every Redis command declared: a misspelt command is a type error. */
export type StrictBackend<B> = B & Omit<BackendCommands, keyof B>;

/** The same, plus the index signature the Proxy makes true: any other name is a command too. */
export type BackendWithCommands<B> = StrictBackend<B> & { [command: string]: BackendMethod };

const wrapOne = (reply: unknown): unknown[] => [reply];

/**
 * The spec with its reply shaped into a list of one: cheaper than a second `then` on the
 * hot path of every single-node write.
 */
function listOfOne(spec: CommandSpec): CommandSpec {
  const shape = spec.reply;
  return { ...spec, reply: shape === null ? wrapOne : (r) => [shape(r)] };
}

/** Answers a one-node command's failure instead, with what the command would have resolved to. */
export type Recovery = (plan: OnePlan, err: Error) => Promise<unknown>;

export abstract class Backend implements BackendCore {
  /** One client per node, in LOCATION order. */
  readonly nodes: readonly ConstRedis[];
  /**
   * The same clients without their command Proxy, for the backend's own calls: going through
   * the Proxy on every internal property access would cost more than all the routing.
   */
  readonly clients: readonly ConstRedisBase[];
  /** Node addresses, in LOCATION order. */
  readonly addresses: readonly string[];
  readonly hashing: Hashing;
  readonly placement: Placement;
  /** The command table learned from whichever node answers, shared by every node's builder. */
  readonly builder: CommandBuilder;
  readonly routes: RouteTable;
  /** Every node index, in order: where keyless commands go. */
  protected readonly everyIndex: readonly number[];
  protected readonly methodCache = new Map<string, BackendMethod>();

  /**
   * @param placement how keys become nodes; by default the ketama continuum of the configured
   *   nodes (RedisCluster gives its slot placement).
   */
  protected constructor(config: BackendConfig, placement?: Placement) {
    this.hashing = config.hashing;
    this.placement = placement ?? new Placement(new Continuum(
      config.nodes.map((n) => ({ name: n.name, weight: n.weight })),
      config.hashTag === undefined
        ? { mode: config.hashing, emptyKeyHash: config.emptyKeyHash }
        : { mode: config.hashing, hashTag: config.hashTag, emptyKeyHash: config.emptyKeyHash },
    ));
    const ask = (argv: string[]): Promise<Reply> => askAnyNode(this.clients, argv);
    const table = new CommandTable((names) => ask(['COMMAND', 'INFO', ...names]), fallbackCommandInfo);
    this.builder = new CommandBuilder(table);
    const growable = placement !== undefined;
    const clients = config.nodes.map((n) => new ConstRedisBase(n.options, this.builder));
    const nodes = clients.map((c) => clientProxy(c) as ConstRedis);
    const addresses = config.nodes.map((n) => n.address);
    // A backend that learns its nodes as it runs (RedisCluster) adds to these through addNode.
    this.clients = growable ? clients : Object.freeze(clients);
    this.nodes = growable ? nodes : Object.freeze(nodes);
    this.addresses = growable ? addresses : Object.freeze(addresses);
    this.everyIndex = Object.freeze(this.nodes.map((_, i) => i));
    this.routes = new RouteTable(table, ask);
  }

  /** A node learned while running (RedisCluster): its index in `nodes`, `clients` and `addresses`. */
  protected addNode(options: ClientOptions, address: string): number {
    const client = new ConstRedisBase(options, this.builder);
    (this.clients as ConstRedisBase[]).push(client);
    (this.nodes as ConstRedis[]).push(clientProxy(client) as ConstRedis);
    (this.addresses as string[]).push(address);
    return this.clients.length - 1;
  }

  get continuum(): Continuum {
    return this.placement.continuum;
  }

  /** Index in `nodes` of the node a key belongs to (where it is read from). */
  nodeIndexFor(key: string | Uint8Array | number): number {
    return this.placement.nodeOf(key);
  }

  /** The client of the node a key belongs to (where it is read from). */
  nodeFor(key: string | Uint8Array | number): ConstRedis {
    return this.nodes[this.placement.nodeOf(key)]!;
  }

  /** The reference's name for `nodeFor`. */
  get_node(key: string | Uint8Array | number): ConstRedis {
    return this.nodeFor(key);
  }

  getNode(key: string | Uint8Array | number): ConstRedis {
    return this.nodeFor(key);
  }

  /** The backend's policy: where a built command goes and how its replies come back. */
  abstract planFor(spec: CommandSpec, route: Route): Plan;

  /** How the backend runs a pipeline's commands (see BackendCore). */
  abstract runPipeline(specs: readonly CommandSpec[], transaction: boolean, scripts: readonly LoadableScript[]): Promise<unknown[]>;

  /** WATCH/MULTI/EXEC with retries, where the backend runs it. */
  abstract transaction<T>(fn: TransactionFunction<T>, ...watches: Array<Key | readonly Key[] | TransactionOptions>): Promise<unknown>;

  /** Every key once. */
  abstract scanIter(options?: ScanIterOptions): AsyncGenerator<Bulk, void, undefined>;

  /** The node a key is read from now (where HSCAN and the like walk it). */
  protected readNodeFor(key: Key): number {
    return this.placement.nodeOf(key);
  }

  /** A lock, as the backend can hold one. */
  abstract lock(name: string, options?: LockOptions): Lock | Redlock;

  /** A command by method name (what the Proxy calls). */
  command(method: string, args: readonly unknown[]): Promise<unknown> {
    let spec: CommandSpec | Promise<CommandSpec>;
    try {
      spec = this.builder.build(method, args);
    } catch (err) {
      return Promise.reject(err);
    }
    if (spec instanceof Promise) return spec.then((s) => this.run(s));
    return this.run(spec);
  }

  /** Routes, plans and runs a built command. */
  run(spec: CommandSpec): Promise<unknown> {
    const route = this.routes.routeFor(spec);
    if (route instanceof Promise) return route.then((r) => this.execute(this.planFor(spec, r)));
    let plan: Plan;
    try {
      plan = this.planFor(spec, route);
    } catch (err) {
      return Promise.reject(err);
    }
    return this.execute(plan);
  }

  /** How every node of this backend shapes a command's reply (see ConstRedisBase.set_response_callback). */
  set_response_callback(command: string, callback: ResponseCallback): void {
    this.builder.setResponseCallback(command, callback);
  }

  setResponseCallback(command: string, callback: ResponseCallback): void {
    this.builder.setResponseCallback(command, callback);
  }

  /** A raw command, routed like any other, with no conventions and no reply shaping. */
  call(command: string, ...args: unknown[]): Promise<unknown> {
    return this.runRaw([command, ...args], 'call');
  }

  /** The reference's name for `call`. */
  execute_command(...args: unknown[]): Promise<unknown> {
    return this.runRaw(args, 'execute_command');
  }

  executeCommand(...args: unknown[]): Promise<unknown> {
    return this.execute_command(...args);
  }

  private runRaw(args: readonly unknown[], what: string): Promise<unknown> {
    let spec: CommandSpec;
    try {
      spec = this.builder.raw(args, what);
    } catch (err) {
      return Promise.reject(err);
    }
    return this.run(spec);
  }

  /** Runs a plan and shapes its result (no node health: the backends add their own). */
  execute(plan: Plan): Promise<unknown> {
    switch (plan.kind) {
      case 'one':
        return this.runOne(plan);
      case 'each':
        return this.runEach(plan);
      case 'merge':
        return this.runMerge(plan);
      case 'replicated':
        return this.replicate(plan);
    }
  }

  /** A write every node must hold; only a backend whose nodes hold copies plans one. */
  protected replicate(plan: ReplicatedPlan): Promise<unknown> {
    return Promise.reject(new TypeError(`${plan.write.name}: this backend does not replicate writes`));
  }

  /**
   * A command for one node: one promise, settled by the connection's callbacks, a write's
   * reply wrapped in its per-node list. `recover` may answer a failure instead (a ring's wait
   * for LOADING, a cluster's redirects), with what this call would have resolved to.
   */
  protected runOne(plan: OnePlan, recover: Recovery | null = null): Promise<unknown> {
    const { spec, node, wrap } = plan;
    return new Promise<unknown>((resolve, reject) => {
      const answered = wrap ? (value: unknown): void => resolve([value]) : resolve;
      const failed = recover === null ? reject : (err: Error): void => {
        recover(plan, err).then(resolve, reject);
      };
      this.clients[node]!.dispatchWith(spec, answered, failed);
    });
  }

  /**
   * One result per node. A node's failure takes its slot as an Error; the call rejects only
   * when every node failed (with that one node's own error when there is only one).
   */
  private runEach(plan: EachPlan): Promise<unknown> {
    const { nodes, specs } = plan;
    if (nodes.length === 1) return this.sendPart(listOfOne(specs[0]!), nodes[0]!, true);
    const pending: Promise<unknown>[] = new Array<Promise<unknown>>(nodes.length);
    for (let i = 0; i < nodes.length; i++) pending[i] = this.sendPart(specs[i]!, nodes[i]!, true);
    return Promise.allSettled(pending).then((settled) => eachResult(this.addresses, plan, settled));
  }

  /** A split read needs every part: any node's failure fails the call. */
  private runMerge(plan: MergePlan): Promise<unknown> {
    const pending = plan.nodes.map((n, i) => this.sendPart(plan.specs[i]!, n, false) as Promise<Reply>);
    return Promise.all(pending).then((replies) => mergeReplies(plan, replies));
  }

  /**
   * One part of an every-node or split command on one node. `writes`: the part may change
   * data (a backend that sends a failed part again must know it may have run).
   */
  protected sendPart(spec: CommandSpec, node: number, _writes: boolean): Promise<unknown> {
    return this.clients[node]!.dispatch(spec);
  }

  /** Every node: one result each (a single node's result is still a list of one). */
  protected everyNode(spec: CommandSpec): Plan {
    if (this.nodes.length === 1) return { kind: 'one', node: 0, spec, wrap: true, failoverHash: -1 };
    return { kind: 'each', nodes: this.everyIndex, specs: this.everyIndex.map(() => spec) };
  }

  /**
   * The near caches' figures (the `nearCache` option): the sum over the nodes, and each
   * node's own by address; null when the option is off.
   */
  nearCacheStats(): (NearCacheStats & { nodes: Record<string, NearCacheStats> }) | null {
    if (this.clients.every((c) => c.nearCache === null)) return null;
    const total: NearCacheStats = {
      hits: 0, misses: 0, invalidations: 0, flushes: 0, evictions: 0, expirations: 0, uncached: 0, entries: 0, bytes: 0, tracking: true,
    };
    const nodes: Record<string, NearCacheStats> = {};
    this.clients.forEach((c, i) => {
      const s = c.nearCache?.stats();
      if (s === undefined) return;
      nodes[this.addresses[i]!] = s;
      for (const k of ['hits', 'misses', 'invalidations', 'flushes', 'evictions', 'expirations', 'uncached', 'entries', 'bytes'] as const) total[k] += s[k];
      total.tracking &&= s.tracking;
    });
    return { ...total, nodes };
  }

  /** Connects every node now instead of on first use. */
  async connect(): Promise<void> {
    await Promise.all(this.clients.map((n) => n.connect()));
  }

  /** Ends every node's connections after the commands already sent are answered. */
  async close(): Promise<void> {
    await Promise.all(this.clients.map((n) => n.close()));
  }

  quit(): Promise<void> {
    return this.close();
  }

  /** Drops every node's connections at once; pending commands reject. */
  disconnect(): void {
    for (const n of this.clients) n.disconnect();
  }

  // Pipelines, pub/sub, scans and scripts: thin doors to their modules.

  /** Commands sent together; MULTI/EXEC unless `transaction: false` (see runPipeline). */
  pipeline(options?: { transaction?: boolean; shard_hint?: unknown; shardHint?: unknown }): BackendPipeline {
    return createBackendPipeline(this, options);
  }

  /** PUBLISH on the channel's node only; resolves to the number of receivers. */
  publish(channel: string | Buffer, message: unknown): Promise<unknown> {
    return publish(this, channel, message);
  }

  /** The one node every subscription goes to, or -1: each channel on its own node (see BackendCore). */
  pubsubNode(): number {
    return -1;
  }

  /** Subscriptions on each channel's node (patterns on every node). */
  pubsub(options?: PubSubOptions): BackendPubSub {
    return new BackendPubSub(this, options);
  }

  scan_iter(options?: ScanIterOptions): AsyncGenerator<Bulk, void, undefined> {
    return this.scanIter(options);
  }

  hscanIter(name: Key, options?: ScanIterOptions): AsyncGenerator<[string, Bulk], void, undefined> {
    return this.nodes[this.readNodeFor(checkScanKey('hscan_iter', name))]!.hscanIter(name, options);
  }

  hscan_iter(name: Key, options?: ScanIterOptions): AsyncGenerator<[string, Bulk], void, undefined> {
    return this.hscanIter(name, options);
  }

  sscanIter(name: Key, options?: ScanIterOptions): AsyncGenerator<Bulk, void, undefined> {
    return this.nodes[this.readNodeFor(checkScanKey('sscan_iter', name))]!.sscanIter(name, options);
  }

  sscan_iter(name: Key, options?: ScanIterOptions): AsyncGenerator<Bulk, void, undefined> {
    return this.sscanIter(name, options);
  }

  zscanIter(name: Key, options?: ScanIterOptions): AsyncGenerator<[Bulk, unknown], void, undefined> {
    return this.nodes[this.readNodeFor(checkScanKey('zscan_iter', name))]!.zscanIter(name, options);
  }

  zscan_iter(name: Key, options?: ScanIterOptions): AsyncGenerator<[Bulk, unknown], void, undefined> {
    return this.zscanIter(name, options);
  }

  /** A callable Script, routed by its keys like any command. */
  registerScript(lua: string): Script {
    return createBackendScript(this, lua);
  }

  register_script(lua: string): Script {
    return this.registerScript(lua);
  }
}

/** The result of a command every node of a plan ran: one entry each, or every node's error. */
function eachResult(addresses: readonly string[], plan: EachPlan, settled: readonly PromiseSettledResult<unknown>[]): unknown[] {
  const results: unknown[] = new Array<unknown>(settled.length);
  let failed = 0;
  for (let i = 0; i < settled.length; i++) {
    const s = settled[i]!;
    if (s.status === 'fulfilled') {
      results[i] = s.value;
    } else {
      results[i] = s.reason instanceof Error ? s.reason : new Error(String(s.reason));
      failed++;
    }
  }
  if (failed === results.length) {
    throw new NodesFailedError(plan.nodes.map((n) => addresses[n]!), results as Error[], commandName(plan.specs[0]!));
  }
  return results;
}

/** Wraps a backend so that any property that is not one of its members runs that command. */
export function backendProxy<T extends Backend>(target: T): T {
  return commandProxy(target, (name) => ((...args: unknown[]) => target.command(name, args)) as BackendMethod, target['methodCache']);
}
