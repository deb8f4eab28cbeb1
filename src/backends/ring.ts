/**
 * RedisRing: every key lives on one node, chosen on the continuum. A read returns the reply;
 * a write returns one result per node written; a command without keys runs on every node.
 * Keys on several nodes are split per node when the server says the command allows it
 * (MGET, MSET, DEL...), and otherwise rejected before anything is sent.
 */
import type { LoadableScript } from '../client/command-queue.ts';
import type { CommandSpec } from '../client/conventions.ts';
import { Lock, type LockOptions } from '../client/lock.ts';
import type { ScanIterOptions } from '../client/scan.ts';
import { runTransaction, transactionArguments, type TransactionFunction, type TransactionOptions } from '../client/transaction.ts';
import type { Bulk, Key } from '../client/types.ts';
import { Backend, backendProxy, type Recovery, type BackendWithCommands, type StrictBackend } from './backend.ts';
import { backendConfig, type BackendOptions, type ReferenceParams } from './config.ts';
import { NodeHealth, isLoading, runGuarded } from './health.ts';
import { runGrouped, runOnOneNode, transactionNode } from './pipeline.ts';
import { crossNodeError, showKey, splitByNode, type Plan } from './plan.ts';
import { CrossNodeError } from '../errors.ts';
import type { Placement } from './placement.ts';
import { keysOf, type Route } from './routes.ts';
import { scanEvery } from './scan.ts';

/** How long a command waits for a node that is loading its data, without socket_timeout. */
const LOADING_WAIT_MS = 10_000;

export class RedisRingBase extends Backend {
  /** Each node's health: server_failure_limit, server_retry_timeout, auto_eject_hosts. */
  readonly health: NodeHealth;

  /** new RedisRing(['host:port', ...], { DB, OPTIONS }) or new RedisRing({ nodes, db, ...options }). */
  constructor(location: readonly (string | object)[] | string | BackendOptions, params?: ReferenceParams) {
    const config = backendConfig({ name: 'RedisRing', copies: false }, location, params);
    super(config);
    this.health = new NodeHealth(this.clients, this.addresses, config.health, config.healthCheckTimeout);
  }

  /**
   * Commands for a node that is out reject at once with NodeDownError. A node still loading its
   * data (LOADING) is asked again until it has loaded, within the command's deadline.
   */
  override execute(plan: Plan): Promise<unknown> {
    if (plan.kind !== 'one') return this.executeOnce(plan);
    if (!this.health.quiet) return this.executeOnce(plan).catch((err: unknown) => this.whileLoading(plan, err));
    // The common case: no promise chained per command for the LOADING wait, only a failure pays.
    return this.runOne(plan, this.loadingWait);
  }

  /** Made once, not per command: a failure waits out LOADING (and is thrown again otherwise). */
  private readonly loadingWait: Recovery = (plan, err) => this.whileLoading(plan, err);

  private executeOnce(plan: Plan): Promise<unknown> {
    // While every node is up (nearly always), nothing to guard.
    if (this.health.quiet || plan.kind === 'replicated') return super.execute(plan);
    return runGuarded(this.health, plan, this.executeUnguarded);
  }

  private async whileLoading(plan: Plan & { kind: 'one' }, first: unknown): Promise<unknown> {
    if (!isLoading(first)) throw first;
    const deadline = performance.now() + (this.clients[plan.node]!.options.socketTimeout ?? LOADING_WAIT_MS);
    let last: unknown = first;
    while (performance.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 50).unref());
      try {
        return await this.executeOnce(plan);
      } catch (err) {
        if (!isLoading(err)) throw err;
        last = err;
      }
    }
    throw last;
  }

  private readonly executeUnguarded = (plan: Plan): Promise<unknown> => super.execute(plan);

  planFor(spec: CommandSpec, route: Route): Plan {
    // With auto_eject_hosts, the keys of a node that is out go to the next node on the continuum.
    const placement = this.health.placement(this.placement);
    if ((route.name === 'sort' || route.name === 'sort_ro') && this.nodes.length > 1) checkSortKeys(spec, placement, this.addresses);
    const at = keysOf(route, spec);
    if (typeof at === 'number') {
      const node = this.nodes.length === 1 ? 0 : placement.nodeOf(spec.argv[at]);
      return { kind: 'one', node, spec, wrap: route.writes, failoverHash: -1 };
    }
    if (at.length === 0) return this.everyNode(spec);
    const argv = spec.argv;
    const owners = new Array<number>(at.length);
    let together = true;
    for (let i = 0; i < at.length; i++) {
      owners[i] = this.nodes.length === 1 ? 0 : placement.nodeOf(argv[at[i]!]);
      if (owners[i] !== owners[0]) together = false;
    }
    if (together) return { kind: 'one', node: owners[0]!, spec, wrap: route.writes, failoverHash: -1 };
    const split = route.splittable ? splitByNode(spec, at, owners, route.keyStep, route.writes) : null;
    if (split === null) throw crossNodeError(spec, at.map((p) => argv[p]), owners, this.addresses);
    if (route.writes) return { kind: 'each', nodes: split.nodes, specs: split.specs };
    return {
      kind: 'merge', nodes: split.nodes, specs: split.specs, merge: route.merge, order: split.order, total: at.length, finish: spec.reply,
    };
  }

  /** Grouped per node and sent in parallel; a MULTI block on the one node its keys live on. */
  runPipeline(specs: readonly CommandSpec[], transaction: boolean, scripts: readonly LoadableScript[]): Promise<unknown[]> {
    return transaction ? runOnOneNode(this, specs, scripts) : runGrouped(this, specs, scripts);
  }

  /**
   * On the node of the watched keys, which must share it; every command fn sends or queues
   * must have its keys there too (CrossNodeError otherwise, before it is sent).
   */
  async transaction<T>(fn: TransactionFunction<T>, ...watches: Array<Key | readonly Key[] | TransactionOptions>): Promise<unknown> {
    if (typeof fn !== 'function') throw new TypeError('transaction: the first argument must be a function');
    const { keys } = transactionArguments(watches);
    if (keys.length === 0) throw new TypeError('transaction: on RedisRing, give the keys to watch; they choose the node it runs on');
    const watched: CommandSpec = { argv: ['WATCH', ...keys], words: 1, reply: null };
    const node = await transactionNode(this, [watched]);
    const check = async (spec: CommandSpec): Promise<void> => {
      await transactionNode(this, [watched, spec]);
    };
    return runTransaction(this.clients[node]!, fn, watches, check);
  }

  /** Every node's keys: each key lives on one node, so each is yielded once. */
  scanIter(options?: ScanIterOptions): AsyncGenerator<Bulk, void, undefined> {
    return scanEvery(this.nodes, options);
  }

  /** A Lock on the node of its name. */
  lock(name: string, options?: LockOptions): Lock {
    if (typeof name !== 'string' || name === '') throw new TypeError('lock: the name must be a non-empty string');
    return new Lock(this.nodeFor(name), name, options);
  }
}

/**
 * SORT names keys the server's key specs do not: STORE's destination, and the keys its BY and
 * GET patterns stand for. All must live on the sorted key's node; a pattern can be placed only
 * when its hash tag decides its node and its `*` falls outside the tag (so the substituted
 * part cannot move it). Anything else is a CrossNodeError, before anything is sent.
 */
function checkSortKeys(spec: CommandSpec, placement: Placement, addresses: readonly string[]): void {
  const argv = spec.argv;
  const key = argv[1];
  const node = placement.nodeOf(key);
  const tag = placement.continuum.hashTag;
  const refuse = (what: string, reason: string): never => {
    throw new CrossNodeError(
      `SORT ${showKey(key)} (on ${addresses[node]}): ${what} ${reason}; give them the key's hash tag ` +
      `(e.g. '{user1}:list', 'weight_{user1}:*' with the tag before the '*') to keep them on its node`,
    );
  };
  for (let i = 2; i + 1 < argv.length; i++) {
    const word = String(argv[i]).toUpperCase();
    if (word !== 'BY' && word !== 'GET' && word !== 'STORE') continue;
    const arg = argv[++i];
    if (word === 'STORE') {
      const at = placement.nodeOf(arg);
      if (at !== node) refuse(`STORE ${showKey(arg)}`, `is on ${addresses[at]}`);
      continue;
    }
    const pattern = String(arg);
    if (pattern === '#' || (word === 'BY' && pattern.toLowerCase() === 'nosort')) continue;
    const keyPart = pattern.split('->')[0]!;
    const star = keyPart.indexOf('*');
    if (star >= 0) {
      const open = tag === null ? -1 : keyPart.indexOf(tag.charAt(0));
      const close = open < 0 ? -1 : keyPart.indexOf(tag!.charAt(1), open + 1);
      if (close <= open + 1 || star < close) refuse(`the ${word} pattern ${showKey(pattern)}`, 'stands for keys that may be on any node');
    }
    const at = placement.nodeOf(keyPart);
    if (at !== node) refuse(`the ${word} pattern ${showKey(pattern)}`, `names keys on ${addresses[at]}`);
  }
}

/** A RedisRing: the backend plus every Redis command as a method. */
export type RedisRing = BackendWithCommands<RedisRingBase>;

/** A RedisRing without the index signature: a misspelt command is a type error. */
export type StrictRing = StrictBackend<RedisRingBase>;

export interface RedisRingConstructor {
  new (location: readonly (string | object)[] | string, params?: ReferenceParams): RedisRing;
  new (options: BackendOptions): RedisRing;
}

class RedisRingClient extends RedisRingBase {
  constructor(location: readonly (string | object)[] | string | BackendOptions, params?: ReferenceParams) {
    super(location, params);
    // The instance is the Proxy, so unknown property names become commands.
    return backendProxy(this);
  }
}

export const RedisRing = RedisRingClient as unknown as RedisRingConstructor;
