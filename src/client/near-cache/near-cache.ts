/**
 * A node's near cache: replies of one-key reads kept in this process, dropped when the server
 * says their key changed (CLIENT TRACKING), when this client writes the key, and whenever
 * what the server would have said may have been lost.
 *
 * It sits in front of the node's shared data connection (ConstRedisBase.dispatch asks it
 * first), so every door that sends a command there — a method, `call`, `execute_command`, a
 * backend's plan — reads and writes through it alike. Pipelines and transactions only tell it
 * their writes (their reads go to the server).
 *
 * The races the server's documentation names are closed by an in-flight placeholder per
 * command: a read whose key is invalidated (or the cache flushed) before its reply arrives
 * gives its reply to its callers but does not keep it, and only reads sent while tracking is
 * known to be on are kept at all. Identical reads in flight share one request.
 */
import { Buffer, isUtf8 } from 'node:buffer';
import { EventEmitter } from 'node:events';
import type { Connection, HandshakeSend, Settle } from '../../connection/connection.ts';
import type { NearCacheSettings } from '../../connection/near-cache-options.ts';
import type { ResolvedOptions } from '../../connection/options.ts';
import { ConnectionError } from '../../errors.ts';
import type { Reply } from '../../resp/decode.ts';
import type { CommandInfo, CommandTable } from '../command-table.ts';
import { commandName, type CommandSpec, type ReplyTransform } from '../conventions.ts';
import { nearRole, writtenKeys, type NearRole } from './cacheable.ts';
import { PushSource, RedirectSource, type InvalidationEvents, type InvalidationSource } from './invalidation.ts';
import { addToGroup, copyReply, NearStore } from './store.ts';

/** One node's figures (a backend sums its nodes'). */
export interface NearCacheStats {
  /** Reads answered from the cache. */
  hits: number;
  /** Cacheable reads sent to the server (while tracking was on). */
  misses: number;
  /** Keys the server said changed. */
  invalidations: number;
  /** Times every entry was dropped: a connection lost, a failover, FLUSHALL / FLUSHDB. */
  flushes: number;
  /** Entries dropped to stay within maxEntries / maxBytes. */
  evictions: number;
  /** Entries found past their maximum age (ttl). */
  expirations: number;
  /** Replies not kept because their key was invalidated (or the cache flushed) while they were on their way. */
  uncached: number;
  entries: number;
  /** Estimated bytes held. */
  bytes: number;
  /** Whether the server tracks this client's reads now (false: reads go to the server). */
  tracking: boolean;
}

/** A container command (OBJECT, XGROUP ...): its role is its subcommand's. */
type Role = NearRole | { readonly kind: 'container'; readonly info: CommandInfo };

interface Waiter {
  readonly shape: ReplyTransform | null;
  readonly resolve: Settle<unknown>;
  readonly reject: Settle<Error>;
  readonly slot: number;
}

/** A cacheable read on its way: its reply is kept only if nothing invalidated its key meanwhile. */
interface Flight {
  readonly sig: string;
  readonly key: string;
  poisoned: boolean;
  readonly waiters: Waiter[];
}

const UNKNOWN: Role = Object.freeze({ kind: 'flush' });
const ignore = (): void => {};

const wellFormed = (String.prototype as unknown as { isWellFormed?: (this: string) => boolean }).isWellFormed;
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/**
 * The key a key argument (or an invalidated key's bytes) stands for: the same string for the
 * same bytes on the wire. A string key is itself; bytes that are UTF-8 are their text; other
 * bytes are marked binary. null: a string the wire cannot carry faithfully (a lone surrogate),
 * or an argument of another type: never cached.
 */
export function keyOf(arg: unknown): string | null {
  if (typeof arg === 'string') {
    const ok = wellFormed !== undefined ? wellFormed.call(arg) : !LONE_SURROGATE.test(arg);
    return ok ? arg : null;
  }
  if (typeof arg === 'number' || typeof arg === 'bigint') return String(arg);
  if (arg instanceof Uint8Array) return bytesKey(arg);
  return null;
}

function bytesKey(b: Uint8Array): string {
  const buf = Buffer.isBuffer(b) ? b : Buffer.from(b.buffer, b.byteOffset, b.length);
  return isUtf8(buf) ? buf.toString('utf8') : `\u0000${buf.toString('latin1')}`;
}

/**
 * The whole command as one string, different for every different command: each argument
 * tagged with its type and length. null when an argument is of no type the cache keys.
 */
export function signature(argv: readonly unknown[], buffers: boolean): string | null {
  let s = buffers ? 'B' : 'S';
  for (const a of argv) {
    if (typeof a === 'string') s += `"${a.length}:${a}`;
    else if (typeof a === 'number' || typeof a === 'bigint') s += `#${String(a)};`;
    else if (a instanceof Uint8Array) s += `'${a.length}:${Buffer.from(a.buffer, a.byteOffset, a.length).toString('latin1')}`;
    else return null;
  }
  return s;
}

/** The CLIENT TRACKING command that makes the server track this client's reads for the cache. */
export function trackingCommand(settings: NearCacheSettings, redirect: number | null): unknown[] {
  const argv: unknown[] = ['CLIENT', 'TRACKING', 'on'];
  if (redirect !== null) argv.push('REDIRECT', redirect);
  if (settings.mode === 'bcast') {
    argv.push('BCAST');
    for (const p of settings.prefixes) argv.push('PREFIX', p);
  } else if (settings.mode === 'optin') {
    argv.push('OPTIN');
  }
  return argv;
}

export class NearCache extends EventEmitter {
  readonly settings: NearCacheSettings;
  private readonly store: NearStore;
  private readonly conn: Connection;
  private readonly table: CommandTable;
  private readonly options: ResolvedOptions;
  readonly source: InvalidationSource;
  private readonly roles = new Map<string, Role>();
  private readonly learning = new Set<string>();
  private tableAsked = false;
  /** Flights not invalidated yet, by signature (what an identical read may join). */
  private readonly flights = new Map<string, Flight>();
  /** The same flights by key. */
  private readonly flightsByKey = new Map<string, Set<Flight>>();
  /** Whether the data connection's tracking is on, and where it redirects to. */
  private tracked = false;
  private trackedBy: number | null = null;
  /** Counts re-pointings, so that the answer of an older one is not taken for the newest's. */
  private repoints = 0;
  /** The id a re-pointing under way redirects to. */
  private repointing: number | null | undefined = undefined;
  private active = false;
  private closed = false;
  /** Why the server refused tracking, when it did. */
  private refusal: string | null = null;
  private hits = 0;
  private misses = 0;
  private invalidations = 0;
  private flushes = 0;
  private uncached = 0;

  constructor(conn: Connection, table: CommandTable, options: ResolvedOptions, settings: NearCacheSettings) {
    super();
    this.conn = conn;
    this.table = table;
    this.options = options;
    this.settings = settings;
    this.store = new NearStore(settings);
    const events: InvalidationEvents = {
      invalidate: (keys) => this.onInvalidate(keys),
      up: (id) => this.onSourceUp(id),
      down: (reason) => this.onSourceDown(reason),
    };
    this.source = options.protocol === 3
      ? new PushSource(conn, options, settings.pingInterval, events)
      : new RedirectSource(options, settings.pingInterval, events);
    conn.onHandshake = (send) => this.handshake(send);
    conn.on('ready', () => {
      this.learnTable();
      this.reconcile();
    });
    // The server forgets what a connection tracked when it goes: nothing kept can be trusted.
    conn.on('disconnect', () => this.lost('its data connection was lost'));
    conn.on('released', () => this.lost('its data connection was released'));
  }

  private lost(reason: string): void {
    this.tracked = false;
    this.update();
    this.flush(reason);
  }

  /** Whether replies are kept now: the data connection tracked, by the source listening now. */
  get isTracking(): boolean {
    return this.active;
  }

  stats(): NearCacheStats {
    return {
      hits: this.hits, misses: this.misses, invalidations: this.invalidations, flushes: this.flushes,
      evictions: this.store.evictions, expirations: this.store.expirations, uncached: this.uncached,
      entries: this.store.size, bytes: this.store.bytes, tracking: this.active,
    };
  }

  /** Why tracking could not be turned on, when the server refused it (an ACL, a server before 6). */
  get refused(): string | null {
    return this.refusal;
  }

  /**
   * Answers `spec` from the cache, or sends it as a read to keep: true when it took the
   * command (its callbacks will be called). false: the caller sends it; if it may write,
   * what is kept for its keys has been dropped already (this client reads its own writes).
   */
  serve(spec: CommandSpec, resolve: Settle<unknown>, reject: Settle<Error>, slot = -1): boolean {
    const role = this.roleOf(spec);
    if (role.kind !== 'read') {
      this.noteRole(role, spec);
      return false;
    }
    if (!this.active || spec.blockFor !== undefined || spec.script !== undefined || spec.exclusive !== undefined) return false;
    const key = keyOf(spec.argv[role.keyIndex]);
    if (key === null || !this.wanted(key)) return false;
    const buffers = spec.buffers ?? this.options.returnBuffers;
    const sig = signature(spec.argv, buffers);
    if (sig === null) return false;
    const kept = this.store.get(sig, performance.now());
    if (kept !== undefined) {
      this.hits++;
      deliver(spec.reply, copyReply(kept), resolve, reject, slot);
      return true;
    }
    this.misses++;
    const waiter: Waiter = { shape: spec.reply, resolve, reject, slot };
    const joined = this.flights.get(sig);
    if (joined !== undefined) {
      joined.waiters.push(waiter);
      return true;
    }
    const flight: Flight = { sig, key, poisoned: false, waiters: [waiter] };
    this.flights.set(sig, flight);
    addToGroup(this.flightsByKey, key, flight);
    if (this.settings.mode === 'optin') {
      // Written just before the read, on the same connection: the server tracks that read only.
      this.conn.sendWithCallbacks(['CLIENT', 'CACHING', 'yes'], { name: 'CLIENT CACHING' }, null, ignore, () => {
        this.poison(flight);
      });
    }
    this.conn.sendWithCallbacks(
      spec.argv, { buffers, name: commandName(spec) }, null,
      (reply) => this.land(flight, reply as Reply),
      (err) => this.crash(flight, err),
    );
    return true;
  }

  /** A pipeline's or transaction's commands, before they are sent: their writes drop what is kept for their keys. */
  noteWrites(specs: readonly CommandSpec[]): void {
    for (const spec of specs) {
      const role = this.roleOf(spec);
      if (role.kind !== 'read') this.noteRole(role, spec);
    }
  }

  /** Drops every entry, and keeps no reply already on its way. */
  flush(reason: string): void {
    const had = this.store.size > 0 || this.flights.size > 0;
    for (const f of this.flights.values()) this.poisonOnly(f);
    this.flights.clear();
    this.flightsByKey.clear();
    this.store.clear();
    if (!had) return;
    this.flushes++;
    this.emit('flush', reason);
  }

  async close(): Promise<void> {
    this.closed = true;
    this.conn.onHandshake = null;
    this.active = false;
    this.flush('the client was closed');
    await this.source.close();
  }

  private wanted(key: string): boolean {
    const prefixes = this.settings.prefixes;
    if (prefixes.length === 0) return true;
    for (const p of prefixes) if (key.startsWith(p)) return true;
    return false;
  }

  private roleOf(spec: CommandSpec): NearRole {
    const name = spec.argv[0] as string;
    let role = this.roles.get(name);
    if (role === undefined) role = this.learn(name);
    if (role.kind !== 'container') return role;
    const sub = spec.argv[1];
    if (sub === undefined) return nearRole(role.info);
    const info = role.info.subcommands!.get(`${role.info.name}|${String(sub).toLowerCase()}`);
    return info === undefined ? nearRole(role.info) : nearRole(info);
  }

  /**
   * Reads every command's description once (a backend's route table may have already): until
   * a command is described, a read of it is not kept and a write of it drops everything.
   */
  private learnTable(): void {
    if (this.tableAsked || this.table.isComplete || this.table.unavailable) return;
    this.tableAsked = true;
    this.conn.send(['COMMAND'], { name: 'COMMAND' }).then(
      (reply) => this.table.learnAll(reply),
      (err: unknown) => {
        // Refused: each name is asked (or taken from the shipped table) when first used.
        if (err instanceof ConnectionError) this.tableAsked = false;
      },
    );
  }

  /** The role of a command not seen yet: from the table when it knows it, else (until it does) one that drops everything. */
  private learn(name: string): Role {
    const known = this.table.peek(name);
    if (known !== undefined) return this.remember(name, known);
    if (!this.learning.has(name)) {
      this.learning.add(name);
      this.table.get(name).then(
        (info) => {
          this.learning.delete(name);
          this.remember(name, info);
        },
        () => this.learning.delete(name),
      );
    }
    return UNKNOWN;
  }

  private remember(name: string, info: CommandInfo | null): Role {
    const role: Role = info !== null && info.subcommands !== null && info.subcommands.size > 0 ? { kind: 'container', info } : nearRole(info);
    this.roles.set(name, role);
    return role;
  }

  private noteRole(role: NearRole, spec: CommandSpec): void {
    if (role.kind === 'none') return;
    if (this.store.size === 0 && this.flights.size === 0) return;
    if (role.kind === 'flush') {
      this.flush(`${commandName(spec)} may change keys it does not name`);
      return;
    }
    if (role.kind !== 'write') return;
    const argv = spec.argv;
    for (const at of writtenKeys(role.info, argv)) {
      const key = keyOf(argv[at]);
      if (key !== null) this.drop(key);
      // A key the cache cannot name was never kept.
    }
  }

  /** Drops a key's entries; its reads on their way will not be kept. */
  private drop(key: string): number {
    const flights = this.flightsByKey.get(key);
    if (flights !== undefined) {
      for (const f of flights) this.poisonOnly(f);
      this.flightsByKey.delete(key);
    }
    return this.store.dropKey(key);
  }

  private poisonOnly(f: Flight): void {
    if (f.poisoned) return;
    f.poisoned = true;
    if (this.flights.get(f.sig) === f) this.flights.delete(f.sig);
  }

  private poison(f: Flight): void {
    this.poisonOnly(f);
    const same = this.flightsByKey.get(f.key);
    if (same !== undefined) {
      same.delete(f);
      if (same.size === 0) this.flightsByKey.delete(f.key);
    }
  }

  private land(f: Flight, reply: Reply): void {
    const kept = !f.poisoned && this.active;
    if (!f.poisoned) this.poison(f);
    else this.uncached++;
    if (kept) this.store.set(f.sig, f.key, copyReply(reply), performance.now());
    const waiters = f.waiters;
    deliver(waiters[0]!.shape, reply, waiters[0]!.resolve, waiters[0]!.reject, waiters[0]!.slot);
    for (let i = 1; i < waiters.length; i++) {
      const w = waiters[i]!;
      deliver(w.shape, copyReply(reply), w.resolve, w.reject, w.slot);
    }
  }

  private crash(f: Flight, err: Error): void {
    this.poison(f);
    for (const w of f.waiters) w.reject(err, w.slot);
  }

  private onInvalidate(keys: readonly Buffer[] | null): void {
    if (keys === null) {
      this.flush('the server flushed its keys (FLUSHALL / FLUSHDB)');
      this.emit('invalidate', null);
      return;
    }
    const names: string[] = new Array<string>(keys.length);
    for (let i = 0; i < keys.length; i++) {
      const k = keys[i]!;
      const key = typeof k === 'string' ? k : bytesKey(k);
      names[i] = key;
      this.invalidations++;
      this.drop(key);
    }
    this.emit('invalidate', names);
  }

  /** On every (re)connect of the data connection: tracking on, redirected to the source listening now. */
  private async handshake(send: HandshakeSend): Promise<void> {
    // A new socket is a new client to the server: whatever the old one tracked is forgotten.
    this.lost('its data connection was made again');
    let id: number | null;
    try {
      id = await this.source.ready();
    } catch {
      // No source yet: the connection serves without the cache, and is pointed at the source once it listens.
      return;
    }
    try {
      await send(trackingCommand(this.settings, id), 'CLIENT TRACKING');
    } catch (err) {
      if (err instanceof ConnectionError) throw err;
      this.refusal = (err as Error).message;
      return;
    }
    this.refusal = null;
    this.tracked = true;
    this.trackedBy = id;
  }

  private onSourceUp(_id: number | null): void {
    this.reconcile();
  }

  /**
   * Brings the data connection's tracking to the source listening now: after the source
   * reconnected (a new id), or after a handshake that could not reach it.
   */
  private reconcile(): void {
    if (this.closed) return;
    const id = this.source.id;
    if (!this.conn.isReady || id === undefined || (this.tracked && this.trackedBy === id) || this.repointing === id) {
      this.update();
      return;
    }
    const turn = ++this.repoints;
    this.repointing = id;
    this.tracked = false;
    this.update();
    // Off first: the server refuses a BCAST prefix the client has already.
    this.conn.send(['CLIENT', 'TRACKING', 'off'], { name: 'CLIENT TRACKING' }).catch(ignore);
    this.conn.send(trackingCommand(this.settings, id), { name: 'CLIENT TRACKING' }).then(
      () => {
        if (turn !== this.repoints) return;
        this.repointing = undefined;
        this.refusal = null;
        this.tracked = true;
        this.trackedBy = id;
        this.update();
      },
      (err: unknown) => {
        if (turn === this.repoints) this.repointing = undefined;
        if (!(err instanceof ConnectionError)) this.refusal = (err as Error).message;
      },
    );
  }

  private onSourceDown(reason: string): void {
    this.update();
    this.flush(reason);
  }

  private update(): void {
    this.active = !this.closed && this.tracked && this.conn.isReady && this.source.id !== undefined && this.trackedBy === this.source.id;
  }
}

function deliver(shape: ReplyTransform | null, reply: Reply, resolve: Settle<unknown>, reject: Settle<Error>, slot: number): void {
  if (shape === null) {
    resolve(reply, slot);
    return;
  }
  let value: unknown;
  try {
    value = shape(reply);
  } catch (err) {
    reject(err as Error, slot);
    return;
  }
  resolve(value, slot);
}
