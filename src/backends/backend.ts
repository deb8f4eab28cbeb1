/**
 * What RedisRing and RedisCopy share: one ConstRedis per node, the continuum, the routes
 * learned from the server, running a plan and combining its replies. Each backend adds only
 * its policy, `planFor`: where a command goes and how its replies come back.
 */
import { ConstRedisBase, commandProxy, type ConstRedis } from '../client/const-redis.js';
import { flat, type CommandSpec } from '../client/conventions.js';
import { ConnectionError } from '../errors.js';
import { Continuum } from '../hash/index.js';
import type { Reply } from '../resp/decode.js';
import { backendConfig, type BackendConfig, type Hashing } from './config.js';
import { NodesFailedError } from './errors.js';
import { commandName, mergeReplies, type EachPlan, type MergePlan, type OnePlan, type Plan } from './plan.js';
import { Placement } from './placement.js';
import { RouteTable, type Route } from './routes.js';
import type { LockOptions } from '../client/lock.js';
import { Lock } from '../client/lock.js';
import type { PipelineOptions } from '../client/pipeline.js';
import type { PubSubOptions } from '../client/pubsub.js';
import type { ScanIterOptions } from '../client/scan.js';
import type { Script } from '../client/script.js';
import type { TransactionFunction, TransactionOptions } from '../client/transaction.js';
import type { Bulk, Key } from '../client/types.js';
import { createBackendPipeline, runBackendTransaction, type BackendPipeline } from './pipeline.js';
import { BackendPubSub, publish } from './pubsub.js';
import { Redlock } from './redlock.js';
import { backendHscanIter, backendScanIter, backendSscanIter, backendZscanIter } from './scan.js';
import { createBackendScript } from './script.js';

/** Any command, by method name; the result's shape depends on the backend and the command. */
export type BackendMethod = (...args: unknown[]) => Promise<unknown>;

const wrapOne = (reply: unknown): unknown[] => [reply];

/**
 * The spec with its reply shaped into a list of one: cheaper than a second `then` on the
 * hot path of every single-node write.
 */
function listOfOne(spec: CommandSpec): CommandSpec {
  const shape = spec.reply;
  const out: CommandSpec = { argv: spec.argv, words: spec.words, reply: shape === null ? wrapOne : (r) => [shape(r)] };
  if (spec.buffers !== undefined) out.buffers = spec.buffers;
  if (spec.blockFor !== undefined) out.blockFor = spec.blockFor;
  return out;
}

export abstract class Backend {
  /** One client per node, in LOCATION order. */
  readonly nodes: readonly ConstRedis[];
  /**
   * The same clients without their command Proxy, for this class's own calls: going through
   * the Proxy on every internal property access would cost more than all the routing.
   */
  protected readonly clients: readonly ConstRedisBase[];
  /** Node addresses, in LOCATION order. */
  readonly addresses: readonly string[];
  readonly hashing: Hashing;
  readonly placement: Placement;
  readonly routes: RouteTable;
  /** Every node index, in order: where keyless commands go. */
  protected readonly everyIndex: readonly number[];
  protected readonly methodCache = new Map<string, BackendMethod>();
  /** 'RedisRing' or 'RedisCopy'. */
  readonly kind: string;

  protected constructor(kind: string, first: unknown, params: unknown) {
    this.kind = kind;
    const config: BackendConfig = backendConfig(kind, first, params);
    const continuum = new Continuum(
      config.nodes.map((n) => ({ name: n.name, weight: n.weight })),
      config.hashTag === undefined ? { mode: config.hashing } : { mode: config.hashing, hashTag: config.hashTag },
    );
    this.hashing = config.hashing;
    this.placement = new Placement(continuum);
    this.clients = Object.freeze(config.nodes.map((n) => new ConstRedisBase(n.options)));
    this.nodes = Object.freeze(this.clients.map((c) => commandProxy(c) as ConstRedis));
    this.addresses = Object.freeze(config.nodes.map((n) => n.address));
    this.everyIndex = Object.freeze(this.nodes.map((_, i) => i));
    // Commands are prepared on the first node, so it is told the command table once learned.
    this.routes = new RouteTable(this.clients, this.clients[0]!);
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

  /** The backend's policy: where a prepared command goes and how its replies come back. */
  abstract planFor(spec: CommandSpec, route: Route): Plan;

  /**
   * Told of each node's result of a command that a pipeline or transaction sent to the node
   * itself (outside execute), so a backend that repairs nodes (RedisCopy) learns of a write a
   * node missed. `plan` is null for a whole MULTI block. Nothing to do by default.
   */
  noteSent(_plan: Plan | null, _node: number, _spec: CommandSpec, _result: unknown): void {}

  /**
   * Turns a method call into the command to send, with the reference's conventions. Pure
   * except for multi-word names, which may need the command table (then it is a Promise).
   */
  prepare(method: string, args: readonly unknown[]): CommandSpec | Promise<CommandSpec> {
    return this.clients[0]!.prepare(method, args);
  }

  /** The plan for a method call, for callers that send in batches (pipelines). */
  async plan(method: string, args: readonly unknown[]): Promise<Plan> {
    const spec = await this.prepare(method, args);
    const route = await this.routes.routeFor(spec);
    return this.planFor(spec, route);
  }

  /** Runs a method by name (what the Proxy calls). */
  command(method: string, args: readonly unknown[]): Promise<unknown> {
    let spec: CommandSpec | Promise<CommandSpec>;
    try {
      spec = this.clients[0]!.prepare(method, args);
    } catch (err) {
      return Promise.reject(err);
    }
    if (spec instanceof Promise) return spec.then((s) => this.run(s));
    return this.run(spec);
  }

  /** Routes and runs a prepared command. */
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

  /** Sends a raw command, routed like any other, with no conventions and no reply shaping. */
  call(command: string, ...args: unknown[]): Promise<unknown> {
    return this.run({ argv: [command, ...flat(args)], words: 1, reply: null });
  }

  /** The reference's name for `call`. */
  execute_command(...args: unknown[]): Promise<unknown> {
    const argv = flat(args);
    if (argv.length === 0) return Promise.reject(new TypeError('execute_command: give the command and its arguments'));
    return this.run({ argv, words: 1, reply: null });
  }

  executeCommand(...args: unknown[]): Promise<unknown> {
    return this.execute_command(...args);
  }

  /** Runs a plan and shapes its result. */
  execute(plan: Plan): Promise<unknown> {
    switch (plan.kind) {
      case 'one':
        return this.runOne(plan);
      case 'each':
        return this.runEach(plan);
      case 'merge':
        return this.runMerge(plan);
    }
  }

  private runOne(plan: OnePlan): Promise<unknown> {
    if (plan.wrap) return this.clients[plan.node]!.dispatch(listOfOne(plan.spec));
    const reply = this.clients[plan.node]!.dispatch(plan.spec);
    return plan.failoverHash >= 0 ? reply.catch((err: unknown) => this.failover(plan, err)) : reply;
  }

  /**
   * A read whose node could not be reached goes to the next node holding the key, in the
   * order the continuum gives. Errors the server sent (ReplyError) are final.
   */
  private async failover(plan: OnePlan, first: unknown): Promise<unknown> {
    if (!(first instanceof ConnectionError)) throw first;
    const tried = [this.addresses[plan.node]!];
    const errors: Error[] = [first];
    for (const node of this.placement.failoverOrder(plan.failoverHash)) {
      if (node === plan.node) continue;
      try {
        return await this.clients[node]!.dispatch(plan.spec);
      } catch (err) {
        if (!(err instanceof ConnectionError)) throw err;
        tried.push(this.addresses[node]!);
        errors.push(err);
      }
    }
    throw new NodesFailedError(tried, errors, commandName(plan.spec));
  }

  /**
   * One result per node. A node's failure takes its slot as an Error; the call rejects only
   * when every node failed (with that one node's own error when there is only one).
   */
  private runEach(plan: EachPlan): Promise<unknown> {
    const { nodes, specs } = plan;
    if (nodes.length === 1) return this.clients[nodes[0]!]!.dispatch(listOfOne(specs[0]!));
    const pending: Promise<unknown>[] = new Array<Promise<unknown>>(nodes.length);
    for (let i = 0; i < nodes.length; i++) pending[i] = this.clients[nodes[i]!]!.dispatch(specs[i]!);
    return Promise.allSettled(pending).then((settled) => {
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
        throw new NodesFailedError(nodes.map((n) => this.addresses[n]!), results as Error[], commandName(specs[0]!));
      }
      return results;
    });
  }

  /** A split read needs every part: any node's failure fails the call. */
  private runMerge(plan: MergePlan): Promise<unknown> {
    const pending = plan.nodes.map((n, i) => this.clients[n]!.dispatch(plan.specs[i]!) as Promise<Reply>);
    return Promise.all(pending).then((replies) => mergeReplies(plan, replies));
  }

  /** Every node: one result each (a single node's result is still a list of one). */
  protected everyNode(spec: CommandSpec): Plan {
    if (this.nodes.length === 1) return { kind: 'one', node: 0, spec, wrap: true, failoverHash: -1 };
    return { kind: 'each', nodes: this.everyIndex, specs: this.everyIndex.map(() => spec) };
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

  // Pipelines, transactions, pub/sub, scans, scripts and locks: thin doors to their modules.

  /** RedisCopy: every node holds every key. */
  private get copiesEveryKey(): boolean {
    return this.kind === 'RedisCopy';
  }

  /** Commands grouped per node, sent in parallel; MULTI/EXEC on one node unless `transaction: false`. */
  pipeline(options?: PipelineOptions): BackendPipeline {
    return createBackendPipeline(this, this.copiesEveryKey, options);
  }

  /** WATCH/MULTI/EXEC with retries: on the watched keys' node (Ring), on every node (Copy). */
  transaction<T>(fn: TransactionFunction<T>, ...watches: Array<Key | readonly Key[] | TransactionOptions>): Promise<unknown> {
    return runBackendTransaction(this, this.copiesEveryKey, fn, watches);
  }

  /** PUBLISH on the channel's node only; resolves to the number of receivers. */
  publish(channel: string | Buffer, message: unknown): Promise<unknown> {
    return publish(this, channel, message);
  }

  /** Subscriptions on each channel's node (patterns on every node). */
  pubsub(options?: PubSubOptions): BackendPubSub {
    return new BackendPubSub(this, options);
  }

  scanIter(options?: ScanIterOptions): AsyncGenerator<Bulk, void, undefined> {
    return backendScanIter(this, this.copiesEveryKey, options);
  }

  scan_iter(options?: ScanIterOptions): AsyncGenerator<Bulk, void, undefined> {
    return this.scanIter(options);
  }

  hscanIter(name: Key, options?: ScanIterOptions): AsyncGenerator<[string, Bulk], void, undefined> {
    return backendHscanIter(this, name, options);
  }

  hscan_iter(name: Key, options?: ScanIterOptions): AsyncGenerator<[string, Bulk], void, undefined> {
    return this.hscanIter(name, options);
  }

  sscanIter(name: Key, options?: ScanIterOptions): AsyncGenerator<Bulk, void, undefined> {
    return backendSscanIter(this, name, options);
  }

  sscan_iter(name: Key, options?: ScanIterOptions): AsyncGenerator<Bulk, void, undefined> {
    return this.sscanIter(name, options);
  }

  zscanIter(name: Key, options?: ScanIterOptions): AsyncGenerator<[Bulk, unknown], void, undefined> {
    return backendZscanIter(this, name, options);
  }

  zscan_iter(name: Key, options?: ScanIterOptions): AsyncGenerator<[Bulk, unknown], void, undefined> {
    return this.zscanIter(name, options);
  }

  /** A callable Script routed by its keys (Ring) or run on every node (Copy, when it may write). */
  registerScript(lua: string): Script {
    return createBackendScript(this, lua);
  }

  register_script(lua: string): Script {
    return this.registerScript(lua);
  }

  /** Ring: a Lock on the node of its name. Copy: Redlock across the nodes. */
  lock(name: string, options?: LockOptions): Lock | Redlock {
    if (this.copiesEveryKey) return new Redlock(this.nodes, name, options);
    if (typeof name !== 'string' || name === '') throw new TypeError('lock: the name must be a non-empty string');
    return new Lock(this.nodeFor(name), name, options);
  }
}

/** Names that must never become commands: probed by `await`, inspect, JSON and test tools. */
const NOT_COMMANDS = new Set(['then', 'catch', 'finally', 'toJSON', 'inspect', 'constructor', 'asymmetricMatch', 'nodeType', 'valueOf', 'toString']);

/** Wraps a backend so that any property that is not one of its members runs that command. */
export function backendProxy<T extends Backend>(target: T): T {
  return new Proxy(target, {
    get(obj, prop, receiver) {
      // A command used before is one map lookup: only names that are not members get cached.
      const cache = obj['methodCache'];
      if (typeof prop === 'string') {
        const known = cache.get(prop);
        if (known !== undefined) return known;
      }
      if (typeof prop === 'symbol' || prop in obj) return Reflect.get(obj, prop, receiver);
      if (NOT_COMMANDS.has(prop)) return undefined;
      const fn = (...args: unknown[]): Promise<unknown> => obj.command(prop, args);
      cache.set(prop, fn);
      return fn;
    },
  });
}
