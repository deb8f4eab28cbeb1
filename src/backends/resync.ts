/**
 * Repairing a RedisCopy node that comes back: replaying its hints when it kept its data and
 * missed only what the hints hold, or copying every key with its TTL from a healthy node
 * (SCAN + DUMP/RESTORE, pipelined) when its data may be gone (a new run_id or replication
 * id: restarted without persistence, or made a replica of another server) or its hints
 * overflowed.
 *
 * When every node was away, no node is healthy to copy from: a node that kept its data and
 * lacks no acknowledged write stands for the Copy, and the others are repaired from it (see
 * returnWithoutSource). When none can, the Copy says so ('unrecoverable' event and a process
 * warning) and repairs from the node that lacks the fewest writes, or, if every node
 * restarted, serves what is there.
 *
 * While a node is repaired it serves no reads, and writes for it are kept as hints. After a
 * full copy, each hinted write's keys are copied again from the healthy node rather than the
 * write replayed: the copy may already hold the write, and INCR applied twice would be wrong.
 * That repeats until no hint is left, the last round holding new writes until it has sent
 * its own (replayHints); the node is then marked up in the same turn as the writes are let
 * through, so no write slips between the repair and the node's return.
 */
import { Buffer } from 'node:buffer';
import type { NodeClient } from '../client/node-client.ts';
import { RedisError } from '../errors.ts';
import type { NodeHealth } from './health.ts';
import { Hint, replayHints, type CopyFrom, type Exclusive, type HintStore } from './hints.ts';

export interface ResyncProgress {
  /** The node being repaired, and the node copied from. */
  readonly node: string;
  readonly source: string;
  /** Keys seen by SCAN on the source so far. */
  readonly scanned: number;
  /** Keys written to the node (RESTORE, or DEL for keys gone meanwhile). */
  readonly copied: number;
  /** True on the last report. */
  readonly done: boolean;
}

export interface ResyncOptions {
  /** Called after every batch, and once at the end with done: true. */
  onProgress?: (progress: ResyncProgress) => void;
  /** Keys per SCAN call and per pipelined batch (default 500). */
  batch?: number;
}

/**
 * Copies keys from source to target, pipelined: DUMP and PTTL on the source, then RESTORE
 * ... REPLACE (or DEL when the key is gone) on the target. Returns the number of keys written.
 */
export async function copyKeys(
  source: NodeClient, target: NodeClient, keys: readonly unknown[], issued?: () => void,
): Promise<number> {
  if (keys.length === 0) {
    issued?.();
    return 0;
  }
  const from = source.connection;
  const to = target.connection;
  // All at once, so every promise has a handler from the start: a failure part-way through
  // is one rejection here, never an unhandled one.
  const reads = await Promise.all(keys.map((k) => Promise.all([from.send(['DUMP', k], { buffers: true }), from.send(['PTTL', k])])));
  const writes = reads.map(([dump, pttl], i) => {
    const key = keys[i]!;
    if (dump === null || pttl === -2) return to.send(['DEL', key]);
    return to.send(['RESTORE', key, typeof pttl === 'number' && pttl > 0 ? pttl : 0, dump as Buffer, 'REPLACE']);
  });
  // Whatever the target is sent from now on goes after these writes.
  issued?.();
  await Promise.all(writes);
  return keys.length;
}

/** Empties target's database, then copies every key of source's into it. */
export async function copyAll(
  source: NodeClient, target: NodeClient, names: { node: string; source: string }, options: ResyncOptions = {},
): Promise<ResyncProgress> {
  const batch = options.batch ?? 500;
  if (!Number.isInteger(batch) || batch < 1) throw new RangeError(`resync: batch must be a positive integer, got ${String(batch)}`);
  await target.connection.send(['FLUSHDB']);
  let cursor = '0';
  let scanned = 0;
  let copied = 0;
  do {
    const [next, keys] = (await source.connection.send(['SCAN', cursor, 'COUNT', batch], { buffers: true })) as [Buffer, Buffer[]];
    cursor = next.toString();
    scanned += keys.length;
    copied += await copyKeys(source, target, keys);
    options.onProgress?.({ ...names, scanned, copied, done: false });
  } while (cursor !== '0');
  const last = { ...names, scanned, copied, done: true };
  options.onProgress?.(last);
  return last;
}

/** No healthy node to copy from. */
export class ResyncError extends RedisError {
  override name = 'ResyncError';
}

/** What the repair needs from RedisCopy. */
export interface RepairTarget {
  readonly clients: readonly NodeClient[];
  readonly addresses: readonly string[];
  readonly health: NodeHealth;
  /** Told once when every node restarted and there is no copy to repair from. */
  unrecoverable(message: string): void;
  /**
   * Runs a repair's last round once every write issued before it has concluded, holding later
   * writes until it is done: its source then holds every write it acknowledged, and no write
   * it is yet to miss.
   */
  settled: Exclusive;
}

/** Repairs RedisCopy nodes as they come back; see the file comment. */
export class CopyRepair {
  /** Each node's identity (run_id and replication id) when last seen: a new one means its data may be gone. */
  private readonly identities: Array<string | null>;
  private readonly running = new Map<number, Promise<void>>();
  /**
   * Nodes back while every other node was away, that could not stand for the Copy: each
   * waits for one that can (true when it restarted).
   */
  private readonly waiting = new Map<number, boolean>();
  /**
   * Nodes whose data is not whole: restarted without it, or emptied by a copy that has not
   * completed. Such a node never stands for the Copy while another might.
   */
  private readonly emptied: boolean[];

  private readonly copy: RepairTarget;
  readonly hints: HintStore;
  constructor(copy: RepairTarget, hints: HintStore) {
    this.copy = copy;
    this.hints = hints;
    this.identities = copy.clients.map(() => null);
    this.emptied = copy.clients.map(() => false);
    copy.clients.forEach((node, i) => {
      // Who the node is when first seen; later, it is checked again before the node serves.
      node.connection.on('ready', () => {
        if (this.identities[i] === null) void this.learnIdentity(i).catch(() => {});
      });
    });
    copy.health.setReturnHandler((node) => this.onReturn(node));
    copy.health.on('up', () => this.waiting.clear());
  }

  /**
   * Who the node is: its process (run_id) and its replication history (master_replid, which
   * changes when it became a replica and took another server's data, or was promoted). A
   * change in either means its data may not be what it was. Bounded even without
   * socket_timeout: a hung node must not hold this check, nor the commands queued behind it.
   */
  private async identityOf(node: number): Promise<{ id: string; replica: boolean }> {
    const client = this.copy.clients[node]!;
    const options = { name: 'INFO (identity)', timeout: client.options.socketTimeout ?? client.options.connectTimeout };
    const [server, replication] = (await Promise.all([
      client.connection.send(['INFO', 'server'], options),
      client.connection.send(['INFO', 'replication'], options),
    ])) as [string, string];
    const runId = /run_id:([0-9a-f]+)/.exec(server)?.[1] ?? '';
    const replid = /master_replid:([0-9a-f]+)/.exec(replication)?.[1] ?? '';
    return { id: `${runId}/${replid}`, replica: /role:slave/.test(replication) };
  }

  private async learnIdentity(node: number): Promise<void> {
    const { id } = await this.identityOf(node);
    if (this.identities[node] === null) this.identities[node] = id;
  }

  /** Called by the health monitor when a down node answers PING again. */
  private async onReturn(node: number): Promise<boolean> {
    const running = this.running.get(node);
    if (running !== undefined) {
      await running;
      return false; // that resync marks it up
    }
    const { id, replica } = await this.identityOf(node);
    if (replica) {
      throw new RedisError(`${this.copy.addresses[node]} is a replica now (read-only): it takes no writes, so it stays out until it is a primary again`);
    }
    const known = this.identities[node];
    const restarted = known !== null && known !== id;
    this.identities[node] = id;
    if (restarted) {
      this.hints.markForResync(node);
      this.emptied[node] = true;
    }
    if (this.sourceFor(node) === null) return this.returnWithoutSource(node, this.emptied[node]! || known === null);
    if (this.hints.needsResync(node)) {
      await this.resync(node);
      return false; // resync marked it up
    }
    const target = this.copy.clients[node]!;
    const source = this.pickSource(node);
    const epoch = this.copy.health.epoch(source);
    try {
      await replayHints(this.hints, node, target, this.copier(node, source, epoch), false, this.copy.settled);
      this.checkSource(node, source, epoch);
    } catch (err) {
      this.hints.removeGate(node);
      throw err;
    }
    this.backInService(node);
    return false;
  }

  /**
   * Copies keys from `source` into `node`, after checking the source is still in service: a
   * write it missed meanwhile (refused, unanswered) took it out, and it must not be copied from.
   */
  private copier(node: number, source: number, epoch: number): CopyFrom {
    return (keys, issued) => {
      this.checkSource(node, source, epoch);
      return copyKeys(this.copy.clients[source]!, this.copy.clients[node]!, keys, issued);
    };
  }

  /**
   * A node copied from must have served throughout the copy: taken out meanwhile, it may have
   * been emptied by a repair of its own, and what was copied from it cannot be trusted.
   */
  private checkSource(node: number, source: number, epoch: number): void {
    if (this.copy.health.epoch(source) === epoch) return;
    this.hints.markForResync(node);
    throw new ResyncError(`${this.copy.addresses[source]} went out of service while ${this.copy.addresses[node]} was copied from it; the copy starts over`);
  }

  /**
   * Every other node is away. A node that kept its data and lacks no acknowledged write (what
   * it is owed are only writes whose outcome was unknown) holds what the Copy holds: it serves
   * again, and the others are repaired from it. Any other node waits for such a node — unless
   * every node came back and none is one: then the Copy takes the node that kept its data and
   * lacks the fewest acknowledged writes, or, if every node restarted, serves what there is,
   * and says so once.
   */
  private async returnWithoutSource(node: number, restarted: boolean): Promise<boolean> {
    const { clients, health, addresses } = this.copy;
    if (!restarted && this.hints.holdsEveryAcknowledged(node)) {
      this.standFor(node);
      return false;
    }
    this.waiting.set(node, restarted);
    if (this.waiting.size < clients.length) {
      throw new ResyncError(`${addresses[node]} lacks writes only another node holds, and every other node is away; it waits for one to copy from`);
    }
    const kept = [...this.waiting].filter(([, r]) => !r).map(([n]) => n);
    const owed = (n: number): number => (this.hints.needsResync(n) ? Number.MAX_SAFE_INTEGER : this.hints.count(n));
    const best = kept.sort((a, b) => owed(a) - owed(b))[0];
    this.waiting.clear();
    if (best === undefined) {
      this.copy.unrecoverable(
        `every node of the RedisCopy (${addresses.join(', ')}) restarted without its data while the others were away; ` +
        'there is no copy to repair from, so each node now serves what it holds',
      );
      for (let i = 0; i < clients.length; i++) {
        this.hints.take(i, Number.MAX_SAFE_INTEGER);
        this.hints.clearResync(i);
        this.emptied[i] = false;
        if (i !== node && health.state(i) !== 'up') health.markUp(i);
      }
      this.hints.removeGate(node);
      return true;
    }
    this.copy.unrecoverable(
      `every node of the RedisCopy came back lacking writes that only another node had applied; ${addresses[best]} kept its data ` +
      'and lacks the fewest: it takes those writes\' keys from the nodes that applied them, and the others are repaired from it',
    );
    // While it takes them, its own return waits for this (see onReturn), so it cannot serve early.
    const standing = (async (): Promise<void> => {
      await this.takeFromAppliers(best);
      this.hints.clearResync(best);
      this.standFor(best);
    })().finally(() => this.running.delete(best));
    this.running.set(best, standing);
    await standing;
    if (best === node) return false;
    throw new ResyncError(`${addresses[node]} is repaired from ${addresses[best]}`);
  }

  /**
   * Before `node` stands for the Copy: the keys of each acknowledged write it lacks are copied,
   * in the order of the writes, from a node that applied it (back, though not yet in service).
   */
  private async takeFromAppliers(node: number): Promise<void> {
    // Read, not taken: if a copy fails, what the node is owed is still there for the next try.
    for (const hint of this.hints.owed(node)) {
      const from = hint.appliedOn.find((n) => n !== node);
      if (!hint.acknowledged || from === undefined || hint.write.keys === null || hint.mode === 'withdrawn') continue;
      await copyKeys(this.copy.clients[from]!, this.copy.clients[node]!, hint.write.keys);
    }
  }

  /**
   * `node` serves again as it is, and its data is the Copy's: the keys of the writes it may or
   * may not have run (their outcome unknown) are copied from it to every other node when they
   * come back, so all converge on its values.
   */
  private standFor(node: number): void {
    const owed = this.hints.take(node, Number.MAX_SAFE_INTEGER);
    for (let i = 0; i < this.copy.clients.length; i++) {
      if (i === node) continue;
      for (const hint of owed) {
        if (hint.mode === 'withdrawn') continue;
        if (hint.write.keys === null) this.hints.markForResync(i);
        else this.hints.add(i, new Hint(hint.write, 'copy', false));
      }
    }
    this.backInService(node);
  }

  /** No hint is left and writes wait at the gate: both change in this one turn. */
  private backInService(node: number): void {
    this.copy.health.markUp(node);
    this.hints.removeGate(node);
  }

  /**
   * Copies every key from a healthy node into `node`, then brings it back into service.
   * Runs once per node at a time; a second call waits for the first.
   */
  resync(node: number, options: ResyncOptions = {}): Promise<void> {
    const current = this.running.get(node);
    if (current !== undefined) return current;
    const run = this.runResync(node, options).finally(() => this.running.delete(node));
    this.running.set(node, run);
    return run;
  }

  private async runResync(node: number, options: ResyncOptions): Promise<void> {
    const { clients, addresses, health } = this.copy;
    if (!Number.isInteger(node) || node < 0 || node >= clients.length) {
      throw new RangeError(`resync: node must be an index from 0 to ${clients.length - 1}, got ${String(node)}`);
    }
    // Reads stop and writes turn into hints before the copy starts.
    if (health.state(node) === 'up') health.markDown(node, 0);
    const source = this.pickSource(node);
    const epoch = health.epoch(source);
    const target = clients[node]!;
    // Hints kept so far are superseded by the copy; the ones that arrive during it are kept.
    this.hints.take(node, Number.MAX_SAFE_INTEGER);
    this.hints.clearResync(node);
    try {
      // From the FLUSHDB on, until the copy completes, the node holds only part of the data.
      this.emptied[node] = true;
      await copyAll(clients[source]!, target, { node: addresses[node]!, source: addresses[source]! }, options);
      // The writes that arrived during the copy: their keys copied again (see the file comment).
      await replayHints(this.hints, node, target, this.copier(node, source, epoch), true, this.copy.settled);
      this.checkSource(node, source, epoch);
    } catch (err) {
      // Half copied is worse than stale: the next attempt starts over.
      this.hints.removeGate(node);
      this.hints.markForResync(node);
      throw err;
    }
    this.emptied[node] = false;
    this.backInService(node);
  }

  /** A node up to copy from, other than `node`; null when there is none. */
  sourceFor(node: number): number | null {
    const { clients, health } = this.copy;
    for (let i = 0; i < clients.length; i++) if (i !== node && health.state(i) === 'up') return i;
    return null;
  }

  private pickSource(node: number): number {
    const source = this.sourceFor(node);
    if (source === null) throw new ResyncError(`resync of ${this.copy.addresses[node]}: no healthy node to copy from`);
    return source;
  }
}
