/**
 * RedisCopy: client-side master/master. Every write goes to every node through one write path
 * (replicate.ts) and returns one result per node; a read goes to the key's node on the
 * continuum and, when that node cannot answer (unreachable, LOADING, down, not yet repaired),
 * to the next healthy node round the continuum. A node that was away serves no read until it
 * is repaired (hints.ts, resync.ts), and a node whose connection dropped proves it is the same
 * server (its run_id) before it serves again.
 */
import type { LoadableScript } from '../client/command-queue.ts';
import { commandName, type CommandSpec } from '../client/conventions.ts';
import type { LockOptions } from '../client/lock.ts';
import { PipelineBase } from '../client/pipeline.ts';
import type { ScanIterOptions } from '../client/scan.ts';
import { runTransaction, transactionArguments, type TransactionFunction, type TransactionOptions } from '../client/transaction.ts';
import type { Bulk, Key } from '../client/types.ts';
import { ConnectionError, WatchError } from '../errors.ts';
import { Backend, backendProxy, type BackendWithCommands, type StrictBackend } from './backend.ts';
import { backendConfig, type BackendOptions, type ReferenceParams } from './config.ts';
import { NodesFailedError } from './errors.ts';
import { NodeHealth, readFromHealthy, runGuarded, unavailable } from './health.ts';
import { HintStore } from './hints.ts';
import { planAll } from './pipeline.ts';
import type { CopyWrite, OnePlan, Plan, ReplicatedPlan } from './plan.ts';
import { Redlock } from './redlock.ts';
import { Replicator } from './replicate.ts';
import { CopyRepair, type ResyncOptions } from './resync.ts';
import { keyArgs, keysOf, type Route } from './routes.ts';
import { scanOneOf } from './scan.ts';

export class RedisCopyBase extends Backend {
  /** Each node's health: server_failure_limit, server_retry_timeout. */
  readonly health: NodeHealth;
  /** What each node missed while it was away (hint_limit, hint_max_bytes). */
  readonly hints: HintStore;
  /** Nodes that must apply a write for it to resolve (from write_quorum). */
  readonly writeQuorum: number;
  private readonly replicator: Replicator;
  private readonly repair: CopyRepair;
  private warned = false;

  /** new RedisCopy(['host:port', ...], { DB, OPTIONS }) or new RedisCopy({ nodes, db, ...options }). */
  constructor(location: readonly (string | object)[] | string | BackendOptions, params?: ReferenceParams) {
    const config = backendConfig({ name: 'RedisCopy', copies: true }, location, params);
    super(config);
    const copy = config.copy!;
    this.health = new NodeHealth(this.clients, this.addresses, config.health, config.healthCheckTimeout);
    this.hints = new HintStore(this.nodes.length, copy);
    this.writeQuorum = copy.writeQuorum;
    this.replicator = new Replicator(this);
    this.repair = new CopyRepair(
      {
        clients: this.clients, addresses: this.addresses, health: this.health, unrecoverable: (m) => this.unrecoverable(m),
        settled: (fn) => this.replicator.settled(fn),
      },
      this.hints,
    );
    // A dropped connection may come back to a restarted, empty server: the node serves again
    // only after its repair has checked who it is (run_id, replication id) and copied what it lost.
    this.clients.forEach((client, i) => client.connection.on('disconnect', () => this.health.markDown(i, 0)));
  }

  /**
   * Copies every key with its TTL from a healthy node into a node (by index or address),
   * then puts it back in service. Reads avoid it meanwhile; writes for it are kept and
   * applied after the copy.
   */
  resync(node: number | string, options?: ResyncOptions): Promise<void> {
    const index = typeof node === 'number' ? node : this.addresses.indexOf(node);
    if (index < 0) return Promise.reject(new RangeError(`resync: no node '${String(node)}'; nodes are ${this.addresses.join(', ')}`));
    return this.repair.resync(index, options);
  }

  planFor(spec: CommandSpec, route: Route): Plan {
    const at = keysOf(route, spec);
    // A channel is not data to copy: published once, on the node its subscribers listen on.
    if (route.keys === 'channel') {
      const node = typeof at === 'number' && this.nodes.length > 1 ? this.placement.nodeOf(spec.argv[at]) : 0;
      return { kind: 'one', node, spec, wrap: false, failoverHash: -1 };
    }
    if (route.writes) {
      const keys = keyArgs(route, spec);
      const write: CopyWrite = {
        name: commandName(spec), specs: [spec], atomic: false, keys: keys.length > 0 ? keys : null,
        nondeterministic: route.nondeterministic,
      };
      return { kind: 'replicated', write };
    }
    const first = typeof at === 'number' ? at : at.length > 0 ? at[0]! : -1;
    if (first < 0) return this.everyNode(spec);
    if (this.nodes.length === 1) return { kind: 'one', node: 0, spec, wrap: false, failoverHash: -1 };
    // Every node holds every key, so a read of several keys is answered by the first key's node.
    const hash = this.placement.hashOf(spec.argv[first]);
    return { kind: 'one', node: this.continuum.nodeForHash(hash), spec, wrap: false, failoverHash: hash };
  }

  /** Reads go to healthy nodes only, failing over; writes take the one write path. */
  override execute(plan: Plan): Promise<unknown> {
    if (plan.kind === 'one' && plan.failoverHash >= 0) return this.read(plan);
    if (plan.kind === 'replicated' || this.health.quiet) return super.execute(plan);
    return runGuarded(this.health, plan, this.executeUnguarded);
  }

  private readonly executeUnguarded = (plan: Plan): Promise<unknown> => super.execute(plan);

  protected override replicate(plan: ReplicatedPlan): Promise<unknown> {
    return this.replicator.replicate(plan.write);
  }

  private read(plan: OnePlan): Promise<unknown> {
    // While every node is up and none has failed lately: the key's node, straight away.
    if (!this.health.quiet) return this.readFromHealthy(plan);
    return this.clients[plan.node]!.dispatch(plan.spec).catch((err: unknown) => (unavailable(err) ? this.readFromHealthy(plan) : Promise.reject(err)));
  }

  private readFromHealthy(plan: OnePlan): Promise<unknown> {
    const order = this.placement.failoverOrder(plan.failoverHash);
    return readFromHealthy(this.health, order, this.addresses, (n) => this.clients[n]!.dispatch(plan.spec));
  }

  /** The nodes that may serve reads now, in the order the continuum gives for `key`. */
  private healthyOrder(key: unknown): number[] {
    return this.healthy(key === undefined ? this.everyIndex : this.placement.failoverOrder(this.placement.hashOf(key)));
  }

  private healthy(order: readonly number[]): number[] {
    return order.filter((n) => this.health.refusal(n) === null);
  }

  protected override readNodeFor(key: Key): number {
    return this.healthyOrder(key)[0] ?? this.placement.nodeOf(key);
  }

  /**
   * Each command as a direct call would run, issued together (so each node's connection still
   * writes them in one batch). A MULTI block that writes is one replicated write; one that
   * only reads runs on one healthy node.
   */
  async runPipeline(specs: readonly CommandSpec[], transaction: boolean, _scripts: readonly LoadableScript[]): Promise<unknown[]> {
    const plans = await planAll(this, specs);
    if (!transaction) {
      const settled = await Promise.allSettled(plans.map((p) => this.execute(p)));
      return settled.map((s) => (s.status === 'fulfilled' ? s.value : (s.reason as Error)));
    }
    if (!plans.some((p) => p.kind === 'replicated')) return this.readBlock(specs, plans);
    const perNode = await this.replicator.replicate(await this.blockWrite(specs, 'MULTI'));
    return plans.map((plan, i) => {
      const slots = perNode.map((r) => (r instanceof Error ? r : (r as unknown[])[i]));
      if (plan.kind !== 'one' || plan.failoverHash < 0) return slots;
      // A read: the key's node answers, or the next one that applied the block.
      for (const n of this.placement.failoverOrder(plan.failoverHash)) if (!(perNode[n] instanceof Error)) return slots[n];
      return slots[plan.node];
    });
  }

  /** A MULTI block that only reads: on the first healthy node of its first key. */
  private async readBlock(specs: readonly CommandSpec[], plans: readonly Plan[]): Promise<unknown[]> {
    const firstRead = plans.find((p): p is OnePlan => p.kind === 'one' && p.failoverHash >= 0);
    const order = firstRead === undefined ? this.healthyOrder(undefined) : this.healthy(this.placement.failoverOrder(firstRead.failoverHash));
    const errors: Error[] = [];
    for (const n of order) {
      const block = new PipelineBase(this.clients[n]!, true);
      for (const spec of specs) block.queueSpec(spec);
      try {
        const results = await block.exec({ raiseOnError: false });
        return results.map((r, i) => (plans[i]!.kind === 'one' || r instanceof Error ? r : [r]));
      } catch (err) {
        if (!unavailable(err)) throw err;
        errors.push(err as Error);
      }
    }
    throw new NodesFailedError(order.map((n) => this.addresses[n]!), errors, 'transaction');
  }

  /** The commands of a MULTI block as one write: the keys of all of them (null if one has none). */
  private async blockWrite(specs: readonly CommandSpec[], name: string): Promise<CopyWrite> {
    let keys: unknown[] | null = [];
    for (const spec of specs) {
      const route = await this.routes.routeFor(spec);
      const args = keyArgs(route, spec);
      if (args.length > 0) keys?.push(...args);
      else if (route.writes && route.keys !== 'channel') keys = null;
    }
    return { name, specs, atomic: true, keys, nondeterministic: false };
  }

  /**
   * WATCH and `fn` run on one node, the first healthy node of the first watched key (the node
   * every client reads that key from); when its EXEC applies, the same block goes to every
   * other node through the one write path. Resolves to one entry per node.
   */
  async transaction<T>(fn: TransactionFunction<T>, ...watches: Array<Key | readonly Key[] | TransactionOptions>): Promise<unknown> {
    if (typeof fn !== 'function') throw new TypeError('transaction: the first argument must be a function');
    const { keys } = transactionArguments(watches);
    const candidates = this.healthyOrder(keys[0]).filter((n) => this.health.state(n) === 'up');
    const refusals: Error[] = [];
    // A block the first node refused (OOM, READONLY...) was applied nowhere: the next node may
    // take it, and then the refusing one is repaired like any node that missed a write.
    for (const first of candidates) {
      try {
        return await runTransaction(this.clients[first]!, fn, watches, null, async (exec, specs) => {
          const write = await this.blockWrite(specs, 'transaction');
          return this.replicator.replicateFrom(first, () => exec(), write, 'same').catch((err: unknown) => {
            throw err instanceof WatchError || !(err instanceof Error) || 'outcome' in err ? err : new RefusedFirst(err);
          });
        });
      } catch (err) {
        // Lost before its EXEC was sent (WATCH, fn's reads): nothing ran, the next node may.
        if (err instanceof ConnectionError) {
          refusals.push(err);
          continue;
        }
        if (!(err instanceof RefusedFirst)) throw err;
        refusals.push(err.refusal);
      }
    }
    const tried = refusals.length > 0 ? candidates : this.everyIndex;
    const errors = refusals.length > 0 ? refusals : this.everyIndex.map((i) => this.health.refusal(i) ?? new Error(`${this.addresses[i]} is away`));
    throw new NodesFailedError(tried.map((n) => this.addresses[n]!), errors, 'transaction', 'rejected');
  }

  /** One healthy node's keys: every node holds every key. */
  scanIter(options?: ScanIterOptions): AsyncGenerator<Bulk, void, undefined> {
    return scanOneOf(this.nodes, this.addresses, () => this.healthyOrder(undefined), options);
  }

  /** Redlock across the nodes. */
  lock(name: string, options?: LockOptions): Redlock {
    return new Redlock(this.nodes, name, options);
  }

  /**
   * Every node came back from being away and none could stand for the Copy: an 'unrecoverable'
   * event each time, and a process warning the first time.
   */
  private unrecoverable(message: string): void {
    this.health.emit('unrecoverable', message);
    if (this.warned) return;
    this.warned = true;
    process.emitWarning(message, { type: 'RedisCopyWarning', code: 'REDISDB_COPY_UNRECOVERABLE' });
  }
}

/** A transaction's block that its first node refused: applied nowhere, so another may take it. */
class RefusedFirst extends Error {
  readonly refusal: Error;
  constructor(refusal: Error) {
    super(refusal.message);
    this.refusal = refusal;
  }
}

/** A RedisCopy: the backend plus every Redis command as a method. */
export type RedisCopy = BackendWithCommands<RedisCopyBase>;

/** A RedisCopy without the index signature: a misspelt command is a type error. */
export type StrictCopy = StrictBackend<RedisCopyBase>;

export interface RedisCopyConstructor {
  new (location: readonly (string | object)[] | string, params?: ReferenceParams): RedisCopy;
  new (options: BackendOptions): RedisCopy;
}

class RedisCopyClient extends RedisCopyBase {
  constructor(location: readonly (string | object)[] | string | BackendOptions, params?: ReferenceParams) {
    super(location, params);
    return backendProxy(this);
  }
}

export const RedisCopy = RedisCopyClient as unknown as RedisCopyConstructor;
