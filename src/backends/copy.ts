/**
 * RedisCopy: client-side master/master. Every write goes to every node at once and returns
 * one result per node (a node's failure is an Error in its place; the call rejects only when
 * no node took the write). A read goes to the key's node on the continuum and, when that node
 * cannot be reached, to the next node round the continuum.
 */
import type { ReferenceParams, BackendOptions } from './config.js';
import type { CommandSpec } from '../client/conventions.js';
import { Backend, backendProxy, type BackendMethod } from './backend.js';
import { NodeHealth, healthOptions, readFromHealthy, runGuarded, sharedOptionsOf } from './health.js';
import { HintStore, copyOptions, quorumSize, replicateWrite, type Hint, type WriteTarget } from './hints.js';
import type { Plan } from './plan.js';
import { CopyRepair, type ResyncOptions } from './resync.js';
import { keysOf, type Route } from './routes.js';
import { ConnectionError, NodeDownError } from '../errors.js';

export class RedisCopyBase extends Backend {
  /** Each node's health: server_failure_limit, server_retry_timeout. */
  readonly health: NodeHealth;
  /** Writes kept for nodes that are away (hint_limit, hint_max_bytes). */
  readonly hints: HintStore;
  /** Nodes that must take a write (from write_quorum). */
  readonly writeQuorum: number;
  private readonly repair: CopyRepair;

  /** new RedisCopy(['host:port', ...], { DB, OPTIONS }) or new RedisCopy({ nodes, db, ...options }). */
  constructor(location: readonly (string | object)[] | string | BackendOptions, params?: ReferenceParams) {
    super('RedisCopy', location, params);
    const shared = sharedOptionsOf(location, params);
    const copy = copyOptions('RedisCopy', shared, this.nodes.length);
    this.health = new NodeHealth(this.nodes, this.addresses, healthOptions('RedisCopy', shared));
    this.hints = new HintStore(this.nodes.length, copy);
    this.writeQuorum = quorumSize(copy.writeQuorum, this.nodes.length);
    this.repair = new CopyRepair(this, this.hints);
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

  /** Writes go to the healthy nodes and count toward write_quorum; reads only to healthy nodes. */
  override execute(plan: Plan): Promise<unknown> {
    const write = writeOf(plan);
    if (write !== undefined) return this.replicate(write);
    if (this.health.quiet) return super.execute(plan);
    if (plan.kind === 'one' && plan.failoverHash >= 0) {
      const order = this.placement.failoverOrder(plan.failoverHash);
      return readFromHealthy(this.health, order, this.addresses, (n) => this.nodes[n]!.dispatch(plan.spec));
    }
    return runGuarded(this.health, plan, this.executeUnguarded);
  }

  private readonly executeUnguarded = (plan: Plan): Promise<unknown> => super.execute(plan);

  /** What replicateWrite needs of this backend: made once, not per write. */
  private readonly target: WriteTarget = {
    nodes: this.nodes,
    addresses: this.addresses,
    writable: (i: number) => this.health.state(i) === 'up',
    refusal: (i: number) => this.health.refusal(i) ?? new NodeDownError(this.addresses[i]!),
    missedWrite: () => this.holdBackUnrepaired(),
  };

  private readonly sendTo = (i: number, spec: CommandSpec): Promise<unknown> => {
    const reply = this.clients[i]!.dispatch(spec);
    return this.health.isSuspect(i) ? reply.then((v) => (this.health.succeeded(i), v)) : reply;
  };

  private replicate(write: Hint): Promise<unknown> {
    return replicateWrite(this.target, write, this.hints, this.writeQuorum, this.sendTo);
  }

  /**
   * A node that missed a write serves no more reads until it is repaired: by its hints when
   * the write never reached it, by copying keys when it went unanswered (it may or may not
   * have been applied). The repair starts as soon as the node answers a PING.
   */
  private holdBackUnrepaired(): void {
    for (let i = 0; i < this.nodes.length; i++) {
      if (this.health.state(i) === 'up' && (this.hints.needsResync(i) || this.hints.count(i) > 0)) this.health.markDown(i, 0);
    }
  }

  /** A write a pipeline sent that a node may have missed gets the repair a direct write would. */
  override noteSent(plan: Plan | null, node: number, spec: CommandSpec, result: unknown): void {
    if (!(result instanceof ConnectionError)) return;
    if (plan === null) {
      this.hints.markForResync(node); // a MULTI block: which of its writes ran is unknown
    } else {
      const write = writeOf(plan);
      if (write === undefined) return; // a read: nothing was missed
      this.hints.missed(node, write, result);
    }
    this.holdBackUnrepaired();
  }

  planFor(spec: CommandSpec, route: Route): Plan {
    if (route.writes) {
      const at = keysOf(route, spec);
      const keys = typeof at === 'number' ? [spec.argv[at]] : at.length > 0 ? at.map((p) => spec.argv[p]) : null;
      const write: Hint = { spec, keys };
      const plan: WritePlan = this.nodes.length === 1
        ? { kind: 'one', node: 0, spec, wrap: true, failoverHash: -1, write }
        : { kind: 'each', nodes: this.everyIndex, specs: this.everyIndex.map(() => spec), write };
      return plan;
    }
    const at = keysOf(route, spec);
    const first = typeof at === 'number' ? at : at.length > 0 ? at[0]! : -1;
    if (first < 0) return this.everyNode(spec);
    if (this.nodes.length === 1) return { kind: 'one', node: 0, spec, wrap: false, failoverHash: -1 };
    // Every node holds every key, so a read of several keys is answered by the first key's node.
    const hash = this.placement.hashOf(spec.argv[first]);
    return { kind: 'one', node: this.continuum.nodeForHash(hash), spec, wrap: false, failoverHash: hash };
  }
}

/** A write's plan: every node, and the write itself, kept for the repair of a node that misses it. */
type WritePlan = Plan & { readonly write: Hint };

function writeOf(plan: Plan): Hint | undefined {
  return (plan as Partial<WritePlan>).write;
}

/** A RedisCopy: the backend plus every Redis command as a method. */
export type RedisCopy = RedisCopyBase & { [command: string]: BackendMethod };

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
