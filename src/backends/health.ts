/**
 * Node health for RedisRing and RedisCopy, after twemproxy's `server_failure_limit`,
 * `server_retry_timeout` and `auto_eject_hosts`, with go-redis Ring's background PING.
 *
 * Failures are counted from each node's connection events (a refused or failed connect, a
 * reset, a timeout), so the command path pays nothing while all is well; a reply after a
 * failure clears the count. After `server_failure_limit` consecutive failures the node is
 * down: commands for it reject at once with NodeDownError (or, on a Ring with
 * `auto_eject_hosts`, its keys move to the next node on the continuum). Every
 * `server_retry_timeout` ms a PING is tried; when it answers, the node is back (RedisCopy
 * first repairs it, see hints.ts and resync.ts).
 */
import { EventEmitter } from 'node:events';
import type { NodeClient } from '../client/node-client.ts';
import type { Connection } from '../connection/connection.ts';
import { AuthError, ConnectionError, NodeDownError, ReplyError } from '../errors.ts';
import { DEFAULT_HEALTH, DEFAULT_HEALTH_CHECK_TIMEOUT, type HealthOptions } from './config.ts';
import { NodesFailedError } from './errors.ts';
import { Placement } from './placement.ts';

export type { HealthOptions } from './config.ts';

/**
 * up: serves everything. down: ejected, waiting for its PING. returning: answers again but
 * is being repaired (RedisCopy): takes writes through its repair, serves no reads.
 */
export type NodeState = 'up' | 'down' | 'returning';

/**
 * Whether a busy node's connection can be PINGed by a watchdog. One still being set up cannot;
 * when the server took it but holds its handshake (AUTH, HELLO) past `checkTimeout` with
 * commands waiting, it is hung as a PING would find, and is reset so that they fail.
 */
function readyToPing(conn: Connection, checkTimeout: number): boolean {
  if (conn.isReady) return true;
  if (conn.pendingCount > 0 && conn.handshakeWaited > checkTimeout) conn.reset(`its handshake got no answer within ${checkTimeout} ms`);
  return false;
}

/**
 * A node with commands waiting is PINGed every `checkTimeout`, at most one PING at a time,
 * with that timeout: a server that does not answer (SIGSTOPped, hung) has its connection
 * reset, which fails what was in flight, even without socket_timeout. `nodes` is asked each
 * round, so a backend that learns nodes as it runs (RedisCluster) has them watched too.
 */
export class BusyWatchdog {
  private readonly nodes: () => readonly NodeClient[];
  private readonly checkTimeout: number;
  private readonly pinging = new Set<NodeClient>();
  private readonly timer: NodeJS.Timeout;

  constructor(nodes: () => readonly NodeClient[], checkTimeout: number) {
    this.nodes = nodes;
    this.checkTimeout = checkTimeout;
    this.timer = setInterval(() => this.check(), checkTimeout);
    this.timer.unref();
  }

  private check(): void {
    for (const node of this.nodes()) {
      const conn = node.connection;
      if (!readyToPing(conn, this.checkTimeout) || this.pinging.has(node) || conn.pendingCount === 0) continue;
      this.pinging.add(node);
      const answered = (): void => {
        this.pinging.delete(node);
      };
      conn.send(['PING'], { timeout: this.checkTimeout, name: 'PING (health check)' }).then(answered, answered);
    }
  }

  stop(): void {
    clearInterval(this.timer);
  }
}

/**
 * Decides whether a node that answers again may serve at once (resolve true) or stays
 * 'returning' until whoever repairs it calls markUp. RedisRing has nothing to repair.
 */
export type ReturnHandler = (node: number) => Promise<boolean>;

export class NodeHealth extends EventEmitter {
  readonly options: HealthOptions;
  private readonly nodes: readonly NodeClient[];
  private readonly addresses: readonly string[];
  private readonly states: NodeState[];
  private readonly failures: number[];
  private readonly downSince: number[];
  private readonly timers: Array<NodeJS.Timeout | null>;
  /** Nodes not 'up', and nodes up with failures counted: for the fast check on every command. */
  private notUp = 0;
  private suspects = 0;
  private onReturn: ReturnHandler = () => Promise.resolve(true);
  /** The server's refusal of the last handshake, per node (null when it went through). */
  private readonly handshakeErrors: Array<Error | null>;
  /** Times each node was taken out: a repair that copied from a node checks it stayed in. */
  private readonly outages: number[];
  private readonly watchdog: BusyWatchdog;
  /** Milliseconds a health-check PING may take (health_check_timeout). */
  readonly checkTimeout: number;
  private ejectedPlacement: { key: string; placement: Placement } | null = null;
  private stopped = false;

  constructor(
    nodes: readonly NodeClient[], addresses: readonly string[], options: HealthOptions = DEFAULT_HEALTH,
    checkTimeout = DEFAULT_HEALTH_CHECK_TIMEOUT,
  ) {
    super();
    this.checkTimeout = checkTimeout;
    this.handshakeErrors = nodes.map(() => null);
    this.outages = nodes.map(() => 0);
    this.options = options;
    this.nodes = nodes;
    this.addresses = addresses;
    this.states = nodes.map(() => 'up');
    this.failures = nodes.map(() => 0);
    this.downSince = nodes.map(() => 0);
    this.timers = nodes.map(() => null);
    nodes.forEach((node, i) => {
      const failed = (): void => this.failed(i);
      node.connection.on('connect-failed', (err: Error) => {
        // A refusal in the handshake (a bad DB index, a wrong password) is not cured by
        // waiting: commands for the node fail with it, as the server said it.
        if (err instanceof AuthError || err instanceof ReplyError) this.handshakeErrors[i] = err;
        failed();
      });
      node.connection.on('disconnect', failed);
      node.connection.on('ready', () => {
        this.handshakeErrors[i] = null;
      });
    });
    // Nodes out of service too: a repair's commands, and the writes its gate lets through, wait there.
    this.watchdog = new BusyWatchdog(() => nodes, checkTimeout);
  }

  /** Lets RedisCopy repair a node before it serves reads again. */
  setReturnHandler(handler: ReturnHandler): void {
    this.onReturn = handler;
  }

  state(node: number): NodeState {
    return this.states[node]!;
  }

  address(node: number): string {
    return this.addresses[node]!;
  }

  /** True when every node is up. */
  get allUp(): boolean {
    return this.notUp === 0;
  }

  /** True when every node is up and none has failed lately: the common case, checked first. */
  get quiet(): boolean {
    return this.notUp === 0 && this.suspects === 0;
  }

  /** True when the node has failed lately without being taken out: a reply should clear that. */
  isSuspect(node: number): boolean {
    return this.failures[node]! > 0 && this.states[node] === 'up';
  }

  /** The error a command for this node fails with now, or null when it may be sent. */
  refusal(node: number): Error | null {
    if (this.notUp === 0 || this.states[node] === 'up') return null;
    const refused = this.handshakeErrors[node];
    if (refused !== null && refused !== undefined) return refused;
    const address = this.addresses[node]!;
    if (this.states[node] === 'returning') return new NodeDownError(address, `node ${address} is being repaired and serves no reads yet`);
    const back = Math.max(0, this.downSince[node]! + this.options.retryTimeout - performance.now());
    return new NodeDownError(address, `node ${address} is down after ${this.options.failureLimit} consecutive failures; next retry in ${back} ms`);
  }

  /** A command on this node was answered. */
  succeeded(node: number): void {
    if (this.states[node] === 'up' && this.failures[node]! > 0) {
      this.failures[node] = 0;
      this.suspects--;
    }
  }

  /** A connection to this node failed (connect refused, reset, timeout). */
  failed(node: number): void {
    if (this.stopped || this.states[node] !== 'up') return;
    if (this.failures[node]!++ === 0) this.suspects++;
    if (this.failures[node]! >= this.options.failureLimit) this.markDown(node);
  }

  /**
   * Takes a node out now; its PING is tried after `retryIn` ms (by default the retry
   * timeout; 0 when it answers but must be repaired, as after a write that went unanswered).
   */
  markDown(node: number, retryIn = this.options.retryTimeout): void {
    this.checkIndex('markDown', node);
    if (typeof retryIn !== 'number' || !(retryIn >= 0)) throw new RangeError(`markDown: retryIn must be a non-negative number of milliseconds, got ${String(retryIn)}`);
    const previous = this.states[node]!;
    if (previous === 'down') return;
    if (previous === 'up') {
      this.outages[node]!++;
      this.notUp++;
      if (this.failures[node]! > 0) this.suspects--;
      this.failures[node] = 0;
    }
    this.states[node] = 'down';
    this.downSince[node] = performance.now();
    this.ejectedPlacement = null;
    this.schedulePing(node, retryIn);
    this.emit('down', node, this.addresses[node]);
  }

  /**
   * Changes each time the node is taken out of service: equal before and after a copy from
   * it means the node served throughout (it was not itself being repaired, or emptied).
   */
  epoch(node: number): number {
    return this.states[node] === 'up' ? this.outages[node]! : -1;
  }

  /** Puts a repaired node back in service. */
  markUp(node: number): void {
    this.checkIndex('markUp', node);
    if (this.states[node] === 'up') return;
    this.states[node] = 'up';
    this.notUp--;
    this.failures[node] = 0;
    this.ejectedPlacement = null;
    this.clearTimer(node);
    this.emit('up', node, this.addresses[node]);
  }

  /**
   * The placement keys follow now: without the down nodes when auto_eject_hosts is on (and
   * some node is still up), the full continuum otherwise.
   */
  placement(base: Placement): Placement {
    if (!this.options.autoEject || this.notUp === 0) return base;
    const down: number[] = [];
    for (let i = 0; i < this.states.length; i++) if (this.states[i] === 'down') down.push(i);
    if (down.length === 0 || down.length === this.states.length) return base;
    const key = down.join(',');
    if (this.ejectedPlacement?.key !== key) {
      this.ejectedPlacement = { key, placement: new Placement(base.continuum.without(down)) };
    }
    return this.ejectedPlacement.placement;
  }

  private checkIndex(what: string, node: unknown): void {
    if (typeof node !== 'number' || !Number.isInteger(node) || node < 0 || node >= this.states.length) {
      throw new RangeError(`${what}: node must be an index from 0 to ${this.states.length - 1}, got ${String(node)}`);
    }
  }

  /** Stops the background PINGs (when the backend closes). */
  stop(): void {
    this.stopped = true;
    this.watchdog.stop();
    for (let i = 0; i < this.timers.length; i++) this.clearTimer(i);
  }

  private schedulePing(node: number, delay = this.options.retryTimeout): void {
    this.clearTimer(node);
    if (this.stopped) return;
    const timer = setTimeout(() => {
      this.timers[node] = null;
      void this.ping(node);
    }, delay);
    timer.unref();
    this.timers[node] = timer;
  }

  private clearTimer(node: number): void {
    const t = this.timers[node];
    if (t !== null && t !== undefined) clearTimeout(t);
    this.timers[node] = null;
  }

  private async ping(node: number): Promise<void> {
    const client = this.nodes[node]!;
    if (this.stopped || client.connection.isClosed || this.states[node] !== 'down') return;
    const timeout = client.options.socketTimeout ?? this.checkTimeout;
    try {
      await client.connection.send(['PING'], { timeout, name: 'PING (health check)' });
    } catch {
      this.downSince[node] = performance.now();
      this.schedulePing(node);
      return;
    }
    if (this.stopped || this.states[node] !== 'down') return;
    this.states[node] = 'returning';
    this.ejectedPlacement = null;
    this.emit('returning', node, this.addresses[node]);
    let ready: boolean;
    try {
      ready = await this.onReturn(node);
    } catch (err) {
      // The repair failed: out again, and another try after the retry timeout.
      this.emit('repair-failed', node, this.addresses[node], err);
      if (this.states[node] === 'returning') {
        this.states[node] = 'down';
        this.downSince[node] = performance.now();
        this.schedulePing(node);
      }
      return;
    }
    if (ready) this.markUp(node);
  }
}

/** Where a command goes, as far as health is concerned (the shapes of plan.ts). */
type GuardedPlan =
  | { readonly kind: 'one'; readonly node: number }
  | { readonly kind: 'each'; readonly nodes: readonly number[]; readonly specs: readonly unknown[] }
  | { readonly kind: 'merge'; readonly nodes: readonly number[] };

/**
 * Runs a plan through `run` unless it needs a node that is out: a command for one node
 * rejects at once with NodeDownError; a command for every node runs on the others and gets
 * the NodeDownError in that node's place; a split read needs every part and rejects.
 * Answers clear the failure counts of the nodes that gave them.
 */
export function runGuarded<P extends GuardedPlan>(health: NodeHealth, plan: P, run: (plan: P) => Promise<unknown>): Promise<unknown> {
  if (health.quiet) return run(plan);
  const nodes = plan.kind === 'one' ? [plan.node] : plan.nodes;
  if (!health.allUp) {
    const refused = new Map<number, Error>();
    for (let i = 0; i < nodes.length; i++) {
      const err = health.refusal(nodes[i]!);
      if (err !== null) refused.set(i, err);
    }
    if (refused.size > 0) {
      if (plan.kind !== 'each') return Promise.reject(refused.values().next().value);
      if (refused.size === nodes.length) {
        const errors = [...refused.values()];
        return Promise.reject(new NodesFailedError(nodes.map((n) => health.address(n)), errors, 'command'));
      }
      const keep = nodes.map((_, i) => i).filter((i) => !refused.has(i));
      const each = plan as GuardedPlan & { kind: 'each' };
      const reduced = { ...each, nodes: keep.map((i) => each.nodes[i]!), specs: keep.map((i) => each.specs[i]) } as unknown as P;
      const merged = (partial: readonly unknown[]): unknown[] => {
        const results: unknown[] = new Array<unknown>(nodes.length);
        keep.forEach((i, j) => {
          results[i] = partial[j];
        });
        for (const [i, err] of refused) results[i] = err;
        return results;
      };
      return run(reduced).then(
        (partial) => merged(partial as unknown[]),
        (err: unknown) => {
          // The nodes still up failed too: every node failed, each with its own error.
          const own = err instanceof NodesFailedError ? err.errors : keep.map(() => err as Error);
          const errors = merged(own) as Error[];
          throw new NodesFailedError(nodes.map((n) => health.address(n)), errors, 'command');
        },
      );
    }
  }
  const result = run(plan);
  if (!nodes.some((n) => health.isSuspect(n))) return result;
  return result.then((value) => {
    for (const n of nodes) health.succeeded(n);
    return value;
  });
}

/**
 * A read for a key every node holds (RedisCopy): tried on the healthy nodes only, in the
 * continuum's order for the key, moving on when a node cannot be reached. A node that is
 * down or still being repaired is never asked.
 */
/** The server answered that it is still loading its data. */
export function isLoading(err: unknown): boolean {
  return err instanceof ReplyError && err.code === 'LOADING';
}

/** The node could not answer this time (unreachable, or still loading its data): ask another. */
export function unavailable(err: unknown): boolean {
  return err instanceof ConnectionError || isLoading(err);
}

export async function readFromHealthy(
  health: NodeHealth, order: readonly number[], addresses: readonly string[],
  send: (node: number) => Promise<unknown>,
): Promise<unknown> {
  const tried: string[] = [];
  const errors: Error[] = [];
  for (const node of order) {
    const refused = health.refusal(node);
    if (refused !== null) {
      tried.push(addresses[node]!);
      errors.push(refused);
      continue;
    }
    try {
      const value = await send(node);
      if (health.isSuspect(node)) health.succeeded(node);
      return value;
    } catch (err) {
      if (!unavailable(err)) throw err;
      tried.push(addresses[node]!);
      errors.push(err as Error);
    }
  }
  throw new NodesFailedError(tried, errors, 'read');
}
