/**
 * RedisCluster: Redis's own sharding, as a backend like RedisRing. Keys are placed by slot
 * (CRC16 of the key or its {hash tag}, mod 16384) on the primary the cluster's slot map names;
 * the same reply rules hold: a read returns the reply, a write `[reply]`, a keyless command one
 * result per primary. Multi-key commands the server lets split (MGET, MSET, DEL...) are split
 * per slot and merged in the caller's order; other commands whose keys span slots fail with
 * CrossSlotError before anything is sent.
 *
 * The slot map is read from CLUSTER SHARDS (CLUSTER SLOTS before 7.0), one read at a time
 * however many commands asked for it: at once on MOVED, CLUSTERDOWN, a refused, reset or
 * timed-out connection, and on a jittered timer. A command follows MOVED and ASK (with ASKING),
 * waits out TRYAGAIN, CLUSTERDOWN and a failover, within `max_redirections` and its retry
 * window; a write whose fate is unknown (its connection broke after it was sent) is never
 * sent again.
 */
import type { LoadableScript } from '../client/command-queue.ts';
import { commandName, type CommandSpec } from '../client/conventions.ts';
import { Lock, type LockOptions } from '../client/lock.ts';
import type { ScanIterOptions } from '../client/scan.ts';
import { runTransaction, transactionArguments, type TransactionFunction, type TransactionOptions } from '../client/transaction.ts';
import type { Bulk, Key } from '../client/types.ts';
import type { ClientOptions } from '../connection/options.ts';
import { ConnectionError, CrossSlotError, ReplyError, TimeoutError, unsent } from '../errors.ts';
import { slotOf, SLOT_COUNT } from '../hash/crc16.ts';
import { Continuum } from '../hash/index.ts';
import { Backend, backendProxy, type Recovery, type BackendWithCommands, type StrictBackend } from './backend.ts';
import { BusyWatchdog } from './health.ts';
import { DEFAULT_RETRY_WINDOW, splitClusterOptions, type ClusterConstructorOptions, type ClusterOptions, type ClusterParams } from './cluster-config.ts';
import { backoff, redirectOf } from './cluster-redirect.ts';
import { backendConfig, DEFAULT_HEALTH_CHECK_TIMEOUT } from './config.ts';
import { ClusterRefreshError, TooManyRedirectionsError } from './errors.ts';
import { runGrouped, runOnOneNode } from './pipeline.ts';
import { Placement } from './placement.ts';
import { sameKey, showKey, splitByNode, type Plan } from './plan.ts';
import { keysOf, type Route } from './routes.ts';
import { scanEvery } from './scan.ts';
import { nodeTls, parseShards, parseSlots, type SlotMap } from './slot-map.ts';
import { ClusterPubSub } from './cluster-pubsub.ts';
import type { PubSubOptions } from '../client/pubsub.ts';

/** Keys to nodes by slot: the primary of each slot, by node index (-1 while unknown). */
export class SlotPlacement extends Placement {
  readonly owners = new Int32Array(SLOT_COUNT).fill(-1);
  /** Each slot's replicas, by node index (one shared array per shard). */
  readonly replicas: Array<readonly number[]> = new Array<readonly number[]>(SLOT_COUNT).fill([]);

  override hashOf(key: unknown): number {
    return slotOf(key);
  }

  /** The primary of the key's slot; node 0 (a seed, which will redirect) while the slot is unknown. */
  override nodeOf(key: unknown): number {
    const owner = this.owners[slotOf(key)]!;
    return owner < 0 ? 0 : owner;
  }

  ownerOfSlot(slot: number): number {
    const owner = this.owners[slot]!;
    return owner < 0 ? 0 : owner;
  }
}

const ignore = (): void => {};

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms).unref());
}

export class RedisClusterBase extends Backend {
  readonly slots: SlotPlacement;
  readonly clusterOptions: ClusterOptions;
  /** Every primary serving slots, by node index, in address order: where keyless commands and SCAN go. */
  private primaryList: number[] = [];
  private readonly indexByAddress = new Map<string, number>();
  /** Client options every node shares (the first seed's, without its address). */
  private readonly shared: ClientOptions;
  private refreshing: Promise<void> | null = null;
  private lastRefresh = 0;
  private refreshes = 0;
  private loaded: Promise<void> | null = null;
  private timer: NodeJS.Timeout | null = null;
  private readonly watchdog: BusyWatchdog;
  private readonly checkTimeout: number;
  private readonly seedCount: number;
  private replicaTurn = 0;
  private closed = false;

  /** new RedisCluster(['host:port', ...], { OPTIONS }) or new RedisCluster({ nodes, ...options }). */
  constructor(location: readonly (string | object)[] | string | ClusterConstructorOptions, params?: ClusterParams) {
    const split = splitClusterOptions(location, params);
    const config = backendConfig({ name: 'RedisCluster', copies: false }, split.first, split.params);
    const slots = new SlotPlacement(new Continuum(config.nodes.map((n) => ({ name: n.name, weight: 1 }))));
    super(config, slots);
    this.slots = slots;
    this.clusterOptions = split.cluster;
    this.checkTimeout = config.healthCheckTimeout ?? DEFAULT_HEALTH_CHECK_TIMEOUT;
    const { host: _h, port: _p, path: _s, url: _u, ...shared } = config.nodes[0]!.options;
    this.shared = shared;
    this.seedCount = config.nodes.length;
    this.clients.forEach((_, i) => this.watch(i));
    this.addresses.forEach((a, i) => this.indexByAddress.set(a, i));
    // A node whose commands wait too long is PINGed; no answer in time and its socket is
    // reset, which fails its commands (and so triggers a map read) even without socket_timeout.
    this.watchdog = new BusyWatchdog(() => this.clients, this.checkTimeout);
  }

  /** The slot of a key: CRC16 of the key, or of its {hash tag}, mod 16384. */
  slotOf(key: Key | number): number {
    return slotOf(key);
  }

  /** Node indices of the primaries serving slots now. */
  get primaries(): readonly number[] {
    return this.primaryList;
  }

  /** How many slot map reads have completed or failed (one at a time, however many commands asked). */
  get slotRefreshes(): number {
    return this.refreshes;
  }

  /** Reads the slot map now (one read at a time); resolves when it is in place. */
  refreshSlots(): Promise<void> {
    if (this.refreshing !== null) return this.refreshing;
    const attempt = this.readSlotMap().finally(() => {
      this.refreshing = null;
      this.lastRefresh = performance.now();
      this.refreshes++;
      this.schedule();
    });
    this.refreshing = attempt;
    return attempt;
  }

  /** A map read in the background, unless one ended moments ago (a burst of MOVED asks once). */
  private refreshSoon(): void {
    if (this.closed || this.refreshing !== null || performance.now() - this.lastRefresh < 100) return;
    this.refreshSlots().catch(ignore);
  }

  /** The first map, read once before the first command. */
  private ready(): Promise<void> | null {
    if (this.primaryList.length > 0) return null;
    if (this.loaded === null) {
      const first = this.refreshSlots();
      this.loaded = first;
      first.catch(() => {
        this.loaded = null;
      });
    }
    return this.loaded;
  }

  private schedule(): void {
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
    const every = this.clusterOptions.refreshInterval;
    if (this.closed || every === 0) return;
    this.timer = setTimeout(() => this.refreshSoon(), every * (0.8 + Math.random() * 0.4));
    this.timer.unref();
  }

  /**
   * Asks a few nodes at a time, in parallel, and takes the first map from a node that says
   * cluster_state:ok without waiting for the others (one may be hung); when none says ok, the
   * map covering the most slots.
   */
  private async readSlotMap(): Promise<void> {
    const candidates = this.mapSources();
    const asked: string[] = [];
    const errors: Error[] = [];
    for (let from = 0; from < candidates.length; from += 3) {
      const batch = candidates.slice(from, from + 3);
      const best = await this.firstGoodMap(batch, asked, errors);
      if (best !== null && best.map.shards.length > 0) {
        this.apply(best.map);
        return;
      }
      if (best !== null) {
        asked.push(this.addresses[best.node]!);
        errors.push(new ConnectionError('it serves no slots (cluster not yet formed?)'));
      }
    }
    throw new ClusterRefreshError(asked, errors);
  }

  private firstGoodMap(
    batch: readonly number[], asked: string[], errors: Error[],
  ): Promise<{ map: SlotMap & { ok: boolean }; node: number } | null> {
    return new Promise((resolve) => {
      let best: { map: SlotMap & { ok: boolean }; node: number } | null = null;
      let left = batch.length;
      let done = false;
      const settle = (): void => {
        if (--left === 0 && !done) {
          done = true;
          resolve(best);
        }
      };
      for (const node of batch) {
        this.askSlotMap(node).then((map) => {
          if (done) return;
          if (map.ok && map.uncovered === 0) {
            done = true;
            resolve({ map, node });
            return;
          }
          const better = best === null || (map.ok && !best.map.ok) || (map.ok === best.map.ok && map.uncovered < best.map.uncovered);
          if (better) best = { map, node };
          settle();
        }, (err: unknown) => {
          if (!done) {
            asked.push(this.addresses[node]!);
            errors.push(err instanceof Error ? err : new Error(String(err)));
          }
          settle();
        });
      }
    });
  }

  /** Known primaries first (they know the map best), then every other node and seed, shuffled. */
  private mapSources(): number[] {
    const rest = this.addresses.map((_, i) => i).filter((i) => !this.primaryList.includes(i));
    const shuffle = (a: number[]): number[] => {
      for (let i = a.length - 1; i > 0; i--) {
        const j = Math.floor(Math.random() * (i + 1));
        [a[i], a[j]] = [a[j]!, a[i]!];
      }
      return a;
    };
    return [...shuffle(this.primaryList.slice()), ...shuffle(rest)];
  }

  private async askSlotMap(node: number): Promise<SlotMap & { ok: boolean }> {
    const client = this.clients[node]!;
    const opts = { timeout: this.checkTimeout, name: 'CLUSTER SHARDS' };
    const info = client.connection.send(['CLUSTER', 'INFO'], { timeout: this.checkTimeout, name: 'CLUSTER INFO' });
    const shards = client.connection.send(['CLUSTER', 'SHARDS'], opts);
    const host = client.options.host;
    const tls = client.options.tls !== null;
    const nat = this.clusterOptions.natMap;
    let map: SlotMap;
    try {
      map = parseShards(await shards, host, nat, tls);
    } catch (err) {
      info.catch(ignore);
      if (!(err instanceof ReplyError)) throw err;
      // Before Redis 7.0.
      map = parseSlots(await client.connection.send(['CLUSTER', 'SLOTS'], { ...opts, name: 'CLUSTER SLOTS' }), host, nat);
    }
    const state = String(await info);
    return { ...map, ok: state.includes('cluster_state:ok') };
  }

  private apply(map: SlotMap): void {
    const owners = this.slots.owners;
    const before = this.slotListeners.length > 0 || this.nearCached ? owners.slice() : null;
    owners.fill(-1);
    const primaries = new Set<number>();
    for (const shard of map.shards) {
      const primary = this.nodeIndexOf(shard.primary);
      const replicas = Object.freeze(shard.replicas.map((r) => this.nodeIndexOf(r)));
      primaries.add(primary);
      for (const [a, b] of shard.ranges) {
        owners.fill(primary, a, b + 1);
        this.slots.replicas.fill(replicas, a, b + 1);
      }
    }
    this.primaryList = [...primaries].sort((a, b) => (this.addresses[a]! < this.addresses[b]! ? -1 : 1));
    if (before !== null && before.some((n, slot) => n !== owners[slot])) {
      if (this.nearCached) this.flushNearCaches(before, owners);
      this.slotsChanged();
    }
  }

  /** A MOVED redirect's news: the slot is served by `node` now. */
  private moveSlot(slot: number, node: number): void {
    const owners = this.slots.owners;
    if (owners[slot] === node) return;
    const was = owners[slot]!;
    owners[slot] = node;
    if (this.nearCached) {
      for (const n of [was, node]) if (n >= 0) this.clients[n]?.nearCache?.flush('the cluster slot map changed for this node');
    }
    this.slotsChanged();
  }

  /** Whether the nodes keep near caches (the `nearCache` option). */
  private get nearCached(): boolean {
    return this.clients[0]?.nearCache != null;
  }

  /**
   * A node that lost or gained slots (a failover, a migration) drops what its near cache keeps:
   * a key it served before may come back to it after invalidations it never saw.
   */
  private flushNearCaches(before: ArrayLike<number>, after: ArrayLike<number>): void {
    const changed = new Set<number>();
    for (let slot = 0; slot < after.length; slot++) {
      if (before[slot] === after[slot]) continue;
      changed.add(before[slot]!);
      changed.add(after[slot]!);
    }
    for (const n of changed) if (n >= 0) this.clients[n]?.nearCache?.flush('the cluster slot map changed for this node');
  }

  private slotsChanged(): void {
    for (const listener of this.slotListeners.slice()) listener();
  }

  private readonly slotListeners: Array<() => void> = [];

  /** Calls `listener` after every slot map read that gave a slot another owner; returns how to stop. */
  onSlotsChanged(listener: () => void): () => void {
    this.slotListeners.push(listener);
    return () => {
      const i = this.slotListeners.indexOf(listener);
      if (i >= 0) this.slotListeners.splice(i, 1);
    };
  }

  /** The primary of a sharded channel's slot (where SSUBSCRIBE and SPUBLISH go). */
  shardNodeOf(channel: string): number {
    return this.slots.ownerOfSlot(slotOf(channel));
  }

  /** Classic subscriptions on one node: a published message reaches every node of a cluster. */
  override pubsubNode(): number {
    return this.primaryList[0] ?? 0;
  }

  /**
   * Pub/sub: SUBSCRIBE and PSUBSCRIBE on one node, SSUBSCRIBE on each channel's slot owner,
   * subscribed again wherever the map says after a failover or a moved slot.
   */
  override pubsub(options?: PubSubOptions): ClusterPubSub {
    return new ClusterPubSub(this, options);
  }

  /** The node index of an address, adding a client for a node not seen before. */
  private nodeIndexOf(address: string): number {
    const known = this.indexByAddress.get(address);
    if (known !== undefined) return known;
    const colon = address.lastIndexOf(':');
    let host = address.slice(0, colon);
    if (host.startsWith('[')) host = host.slice(1, -1);
    const tls = nodeTls(this.shared.tls, address, this.clusterOptions.natMap, this.addresses.slice(0, this.seedCount));
    const index = this.addNode({ ...this.shared, host, port: Number(address.slice(colon + 1)), ...(tls !== undefined ? { tls } : {}) }, address);
    this.indexByAddress.set(address, index);
    this.watch(index);
    return index;
  }

  /** A node's failures ask for a map read; with read_from, its connections may serve reads as a replica. */
  private watch(index: number): void {
    const conn = this.clients[index]!.connection;
    const failed = (): void => this.refreshSoon();
    conn.on('connect-failed', failed);
    conn.on('disconnect', failed);
    if (this.clusterOptions.readFrom !== 'primary') {
      // Sent first on every new connection, before what waited for it (harmless on a primary).
      conn.on('ready', () => {
        conn.send(['READONLY'], { name: 'READONLY' }).catch(ignore);
      });
    }
  }

  override nodeIndexFor(key: string | Uint8Array | number): number {
    return this.slots.nodeOf(key);
  }

  // Running commands: the first map before the first command, then Backend's steps.

  override run(spec: CommandSpec): Promise<unknown> {
    const wait = this.ready();
    if (wait !== null) return wait.then(() => super.run(spec));
    return super.run(spec);
  }

  planFor(spec: CommandSpec, route: Route): Plan {
    const at = keysOf(route, spec);
    const argv = spec.argv;
    if (typeof at === 'number') {
      const slot = slotOf(argv[at]);
      const node = route.writes || this.clusterOptions.readFrom === 'primary' ? this.slots.ownerOfSlot(slot) : this.reader(slot);
      return { kind: 'one', node, spec, wrap: route.writes, failoverHash: -1 };
    }
    if (at.length === 0) return this.everyPrimary(spec);
    const slotsOfKeys = new Array<number>(at.length);
    let together = true;
    for (let i = 0; i < at.length; i++) {
      slotsOfKeys[i] = slotOf(argv[at[i]!]);
      if (slotsOfKeys[i] !== slotsOfKeys[0]) together = false;
    }
    if (together) return { kind: 'one', node: this.slots.ownerOfSlot(slotsOfKeys[0]!), spec, wrap: route.writes, failoverHash: -1 };
    // Split per slot, not per node: a node refuses (CROSSSLOT) keys of two slots in one command.
    const split = route.splittable ? splitByNode(spec, at, slotsOfKeys, route.keyStep, route.writes) : null;
    if (split === null) throw crossSlotError(spec, at.map((p) => argv[p]), slotsOfKeys);
    const nodes = split.nodes.map((slot) => this.slots.ownerOfSlot(slot));
    if (route.writes) return { kind: 'each', nodes, specs: split.specs };
    return { kind: 'merge', nodes, specs: split.specs, merge: route.merge, order: split.order, total: at.length, finish: spec.reply };
  }

  /** A replica of the slot's primary, in turn; the primary when it has none known. */
  private reader(slot: number): number {
    const replicas = this.slots.replicas[slot]!;
    if (replicas.length === 0) return this.slots.ownerOfSlot(slot);
    return replicas[this.replicaTurn++ % replicas.length]!;
  }

  private everyPrimary(spec: CommandSpec): Plan {
    const nodes = this.primaryList.length > 0 ? this.primaryList : [0];
    return { kind: 'each', nodes, specs: nodes.map(() => spec) };
  }

  /** Runs a plan, each part following redirects and failovers on its own (see sendPart). */
  override execute(plan: Plan): Promise<unknown> {
    // Nothing chained per command for the redirects, which only a failure pays for.
    return plan.kind === 'one' ? this.runOne(plan, this.redirected) : super.execute(plan);
  }

  /** Made once, not per command: a failure follows the cluster's redirects and retries. */
  private readonly redirected: Recovery = (plan, err) =>
    this.recover(plan.spec, plan.node, err, plan.wrap).then((value) => (plan.wrap ? [value] : value));

  /** A part of an every-primary or split command, following redirects as a single command does. */
  protected override sendPart(spec: CommandSpec, node: number, writes: boolean): Promise<unknown> {
    return this.clients[node]!.dispatch(spec).catch((err: unknown) => this.recover(spec, node, err, writes));
  }

  /**
   * A command that failed on `node` with `first`: followed where the cluster says, or sent
   * again to its slot's owner once the map is read again, until it is answered, its retry
   * window ends or it met `max_redirections` redirects. A write is sent again only when it
   * surely did not run (a redirect, or a connection that never took it).
   */
  private async recover(spec: CommandSpec, node: number, first: unknown, writes: boolean): Promise<unknown> {
    const timeout = this.clients[node]!.options.socketTimeout;
    const windowMs = this.clusterOptions.retryWindow ?? timeout ?? DEFAULT_RETRY_WINDOW;
    // A first attempt that timed out has used its timeout of the window already.
    const deadline = performance.now() + windowMs - (first instanceof TimeoutError ? timeout ?? 0 : 0);
    const max = this.clusterOptions.maxRedirections;
    let err = first;
    let redirects = 0;
    let waits = 0;
    /** Nodes this command could not reach: a MOVED there (from a replica of a dead primary) means wait for the failover. */
    const unreachable = new Set<number>();
    for (;;) {
      let asking = false;
      let redirect = redirectOf(err, this.clients[node]!.options.host, this.clusterOptions.natMap);
      if (err instanceof ConnectionError) unreachable.add(node);
      if (redirect?.kind === 'moved' && unreachable.has(this.indexByAddress.get(redirect.address) ?? -1)) {
        // Not run (a redirect), and not worth following: waited out as the failover it is.
        err = unsent(new ConnectionError(`${commandName(spec)}: slot ${redirect.slot} is still on ${redirect.address}, which cannot be reached (${(err as Error).message})`));
        redirect = null;
      }
      if (redirect !== null) {
        if (++redirects > max) {
          throw new TooManyRedirectionsError(`${commandName(spec)}: still redirected after ${max} redirects (max_redirections); last: ${(err as Error).message}`, { cause: err });
        }
        if (redirect.kind === 'moved') {
          node = this.nodeIndexOf(redirect.address);
          this.moveSlot(redirect.slot, node);
          this.refreshSoon();
          // Sent back and forth (nodes that disagree while a slot moves): give them time to agree.
          if (redirects > 2) {
            if (performance.now() >= deadline) throw windowEnded(spec, windowMs, err);
            await backoff(waits++);
          }
        } else if (redirect.kind === 'ask') {
          node = this.nodeIndexOf(redirect.address);
          asking = true;
        } else {
          if (redirect.kind === 'clusterdown') this.refreshSoon();
          if (performance.now() >= deadline) throw err;
          await backoff(waits++);
          node = this.ownerOf(spec, node);
        }
      } else if (err instanceof ConnectionError && (!writes || err.neverSent)) {
        // The node is gone or hung: wait for the map to name another owner (a failover).
        const left = deadline - performance.now();
        if (left <= 0 || this.closed) {
          this.refreshSoon();
          throw err;
        }
        await Promise.race([this.refreshSlots().catch(ignore), delay(left)]);
        // Short waits: the slot is served again as soon as the map names the promoted replica.
        await backoff(waits++, 100);
        node = this.ownerOf(spec, node);
      } else {
        if (err instanceof ConnectionError) this.refreshSoon();
        throw err;
      }
      // Past the deadline a command still follows a redirect it was given; it only waits no more.
      if (this.closed) throw err;
      const client = this.clients[node]!;
      // ASKING holds for the next command on the same connection: both go out in this tick, in order.
      if (asking) client.connection.send(['ASKING'], { name: 'ASKING' }).catch(ignore);
      try {
        return await client.dispatch(spec);
      } catch (e) {
        err = e;
      }
    }
  }

  /** The owner now of the slot of the command's first key; `fallback` for a keyless command. */
  private ownerOf(spec: CommandSpec, fallback: number): number {
    const route = this.routes.routeFor(spec);
    if (route instanceof Promise) return fallback;
    const at = keysOf(route, spec);
    const key = typeof at === 'number' ? spec.argv[at] : at.length > 0 ? spec.argv[at[0]!] : undefined;
    if (key === undefined) return this.primaryList.includes(fallback) ? fallback : (this.primaryList[0] ?? fallback);
    return this.slots.ownerOfSlot(slotOf(key));
  }

  /**
   * Without MULTI: grouped per node and sent in parallel; a part that met MOVED/ASK/TRYAGAIN
   * (or a read whose node failed) is sent again alone. A MULTI block: within one slot.
   */
  async runPipeline(specs: readonly CommandSpec[], transaction: boolean, scripts: readonly LoadableScript[]): Promise<unknown[]> {
    await this.ready();
    if (transaction) {
      await this.checkOneSlot(specs, 'a transaction');
      return this.runBlock(specs, scripts);
    }
    return runGrouped(this, specs, scripts, (spec, node, reply) => {
      if (!(reply instanceof Error)) return null;
      const again = redirectOf(reply, this.clients[node]!.options.host, this.clusterOptions.natMap) !== null
        || (reply instanceof ConnectionError && reply.neverSent);
      if (!again && !(reply instanceof ConnectionError)) return null;
      const route = this.routes.routeFor(spec);
      const writes = route instanceof Promise ? true : route.writes;
      if (!again && writes) return null;
      return this.recover(spec, node, reply, writes);
    });
  }

  /**
   * A MULTI block on its slot's primary. A block refused while queuing because the slot moved
   * (MOVED) or is moving (ASK, TRYAGAIN) ran nothing: it is sent again where the map says, or
   * at once to the node an ASK names, as ASKING, MULTI, …, EXEC.
   */
  private async runBlock(specs: readonly CommandSpec[], scripts: readonly LoadableScript[]): Promise<unknown[]> {
    let asked: number | null = null;
    for (let attempt = 0; ; attempt++) {
      try {
        return await runOnOneNode(this, specs, scripts, asked);
      } catch (err) {
        asked = await this.blockRedirected(err, attempt);
      }
    }
  }

  /**
   * After a transaction's `attempt` failed with `err`: the node an ASK names (to be sent the
   * block with ASKING), or null to go where the map says (after a wait for TRYAGAIN and
   * CLUSTERDOWN, or for MOVED sent back and forth); `err` itself when it is no redirect.
   */
  private async blockRedirected(err: unknown, attempt: number): Promise<number | null> {
    const redirect = redirectOf(err, this.clients[0]!.options.host, this.clusterOptions.natMap);
    if (redirect === null || this.closed || attempt >= this.clusterOptions.maxRedirections) throw err;
    this.refreshSoon();
    if (redirect.kind === 'ask') return this.nodeIndexOf(redirect.address);
    if (redirect.kind === 'moved') {
      const node = this.nodeIndexOf(redirect.address);
      if (this.slots.owners[redirect.slot] === node) {
        // The map already says so (an importing node refusing what was not asked): wait.
        await backoff(attempt);
      } else {
        this.moveSlot(redirect.slot, node);
      }
      return null;
    }
    await backoff(attempt);
    return null;
  }

  /** Every key of these commands in one slot; CrossSlotError (before sending) otherwise. */
  private async checkOneSlot(specs: readonly CommandSpec[], what: string): Promise<number> {
    let slot = -1;
    let firstKey: unknown;
    for (const spec of specs) {
      const at = keysOf(await this.routes.routeFor(spec), spec);
      for (const p of typeof at === 'number' ? [at] : at) {
        const key = spec.argv[p];
        const s = slotOf(key);
        if (slot === -1) {
          slot = s;
          firstKey = key;
        } else if (s !== slot) {
          throw new CrossSlotError(
            `${what} needs all its keys in one slot, but ${showKey(firstKey)} is in slot ${slot} and ${showKey(key)} (${commandName(spec)}) ` +
            `in slot ${s}; give the keys a common hash tag (e.g. '{user1}:a', '{user1}:b') to keep them together`,
          );
        }
      }
    }
    return slot;
  }

  /** WATCH/MULTI/EXEC on the primary of the watched keys' slot; every key fn uses must be in it. */
  async transaction<T>(fn: TransactionFunction<T>, ...watches: Array<Key | readonly Key[] | TransactionOptions>): Promise<unknown> {
    if (typeof fn !== 'function') throw new TypeError('transaction: the first argument must be a function');
    const { keys } = transactionArguments(watches);
    if (keys.length === 0) throw new TypeError('transaction: on RedisCluster, give the keys to watch; their slot chooses the node it runs on');
    await this.ready();
    const watched: CommandSpec = { argv: ['WATCH', ...keys], words: 1, reply: null };
    const slot = await this.checkOneSlot([watched], 'a transaction');
    const check = async (spec: CommandSpec): Promise<void> => {
      await this.checkOneSlot([watched, spec], 'a transaction');
    };
    // On the node an ASK named, the watched keys are served when ASKING comes first; other keys
    // are not, until the migration ends (the node answers MOVED, and the transaction waits).
    const askingFor = (spec: CommandSpec): boolean => {
      const route = this.routes.routeFor(spec);
      if (route instanceof Promise) return false;
      const at = keysOf(route, spec);
      const positions = typeof at === 'number' ? [at] : at;
      return positions.length > 0 && positions.every((p) => keys.some((k) => sameKey(k, spec.argv[p])));
    };
    let asked: number | null = null;
    for (let attempt = 0; ; attempt++) {
      try {
        // fn runs again after a redirect, as after a WatchError: nothing of the attempt ran.
        return await runTransaction(this.clients[asked ?? this.slots.ownerOfSlot(slot)]!, fn, watches, check, null, asked === null ? null : askingFor);
      } catch (err) {
        asked = await this.blockRedirected(err, attempt);
      }
    }
  }

  /** Every primary's keys: each key lives on one primary, so each is yielded once. */
  override scanIter(options?: ScanIterOptions): AsyncGenerator<Bulk, void, undefined> {
    this.nodes[0]!.scanIter(options); // checks the options now, before anything is sent
    const self = this;
    return (async function* every(): AsyncGenerator<Bulk, void, undefined> {
      await self.ready();
      yield* scanEvery(self.primaryList.map((i) => self.nodes[i]!), options);
    })();
  }

  /** A Lock on the primary of its name's slot. */
  override lock(name: string, options?: LockOptions): Lock {
    if (typeof name !== 'string' || name === '') throw new TypeError('lock: the name must be a non-empty string');
    return new Lock(this.nodeFor(name), name, options);
  }

  override async connect(): Promise<void> {
    await this.ready();
    await Promise.all(this.primaryList.map((i) => this.clients[i]!.connect()));
  }

  override async close(): Promise<void> {
    this.stop();
    await super.close();
  }

  override disconnect(): void {
    this.stop();
    super.disconnect();
  }

  private stop(): void {
    this.closed = true;
    this.watchdog.stop();
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
  }

  /** Seeds given at construction (the first `seedCount` nodes). */
  get seeds(): readonly string[] {
    return this.addresses.slice(0, this.seedCount);
  }
}

function windowEnded(spec: CommandSpec, windowMs: number, last: unknown): TooManyRedirectionsError {
  return new TooManyRedirectionsError(
    `${commandName(spec)}: still redirected when its retry window of ${windowMs} ms ended; last: ${(last as Error).message}`, { cause: last },
  );
}

function crossSlotError(spec: CommandSpec, keys: readonly unknown[], slots: readonly number[]): CrossSlotError {
  const i = slots.findIndex((s) => s !== slots[0]);
  return new CrossSlotError(
    `${commandName(spec)} needs all its keys in one slot, but ${showKey(keys[0])} is in slot ${slots[0]} and ${showKey(keys[i])} ` +
    `in slot ${slots[i]}; give the keys a common hash tag (e.g. '{user1}:a', '{user1}:b') to keep them together`,
  );
}

/** A RedisCluster: the backend plus every Redis command as a method. */
export type RedisCluster = BackendWithCommands<RedisClusterBase>;

/** A RedisCluster without the index signature: a misspelt command is a type error. */
export type StrictCluster = StrictBackend<RedisClusterBase>;

export interface RedisClusterConstructor {
  new (seeds: readonly (string | object)[] | string, params?: ClusterParams): RedisCluster;
  new (options: ClusterConstructorOptions): RedisCluster;
}

class RedisClusterClient extends RedisClusterBase {
  constructor(location: readonly (string | object)[] | string | ClusterConstructorOptions, params?: ClusterParams) {
    super(location, params);
    // The instance is the Proxy, so unknown property names become commands.
    return backendProxy(this);
  }
}

export const RedisCluster = RedisClusterClient as unknown as RedisClusterConstructor;
