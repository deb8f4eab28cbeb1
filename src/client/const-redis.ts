/**
 * ConstRedis: the client for one server. Any method name is a command (through a Proxy), with
 * the reference's argument conventions and reply shapes where it documents them.
 */
import { Buffer } from 'node:buffer';
import { EventEmitter } from 'node:events';
import { Connection, type Settle } from '../connection/connection.ts';
import { resolveOptions, type ClientOptions, type ResolvedOptions } from '../connection/options.ts';
import { ConnectionError, ReplyError } from '../errors.ts';
import type { Reply } from '../resp/decode.ts';
import type { EncodedCommand } from '../resp/encode.ts';
import { commandProxy } from '../util/proxy.ts';
import { CommandBuilder } from './command-builder.ts';
import { fallbackCommandInfo } from './command-specs.ts';
import { CommandTable, type CommandInfo } from './command-table.ts';
import { commandName, type CommandSpec } from './conventions.ts';
import { NearCache, type NearCacheStats } from './near-cache/near-cache.ts';
import type { NodeClient } from './node-client.ts';
import type { RedisCommands } from './commands.ts';
import type { Bulk, CommandMethod, Key, ResponseCallback } from './types.ts';
import { Lock, type LockOptions } from './lock.ts';
import { createPipeline, type Pipeline, type PipelineOptions } from './pipeline.ts';
import { PubSub, type PubSubOptions } from './pubsub.ts';
import { hscanIter, scanIter, sscanIter, zscanIter, type ScanIterOptions } from './scan.ts';
import { createScript, type Script } from './script.ts';
import { runTransaction, type TransactionFunction, type TransactionOptions } from './transaction.ts';

/** A command that goes on the shared connection as it is: not blocking, not refused there, no script text to fall back to. */
function isPlain(spec: CommandSpec): boolean {
  return spec.blockFor === undefined && spec.exclusive === undefined && spec.script === undefined;
}

/** The refusal of a command that needs a connection of its own. */
export function exclusiveError(spec: CommandSpec): TypeError {
  return new TypeError(`${commandName(spec)} is not run on the shared connection: ${spec.exclusive!}`);
}

/** Idle connections kept for blocking commands. */
const MAX_IDLE_BLOCKING = 4;

export class ConstRedisBase extends EventEmitter implements NodeClient {
  readonly options: ResolvedOptions;
  /** The shared, pipelined connection every non-blocking command uses. */
  readonly connection: Connection;
  /** Builds every command this client sends (a backend's nodes share their backend's). */
  readonly builder: CommandBuilder;
  protected readonly idleBlocking: Connection[] = [];
  protected readonly allBlocking = new Set<Connection>();
  protected readonly methodCache = new Map<string, CommandMethod>();
  /** The near cache in front of the shared connection (the `nearCache` option); null when off. */
  readonly nearCache: NearCache | null;

  /**
   * @param builder given by a backend, so that its nodes share one command table; a client of
   *   its own learns the table from its own server.
   */
  constructor(options: ClientOptions | string = {}, builder?: CommandBuilder) {
    super();
    this.options = resolveOptions(typeof options === 'string' ? { url: options } : options);
    this.connection = new Connection(this.options);
    this.connection.on('ready', () => this.emit('ready'));
    this.connection.on('disconnect', (err: Error) => this.emit('disconnect', err));
    this.builder = builder ?? new CommandBuilder(
      new CommandTable((names) => this.connection.send(['COMMAND', 'INFO', ...names], { name: 'COMMAND INFO' }), fallbackCommandInfo),
    );
    const near = this.options.nearCache;
    this.nearCache = near === null ? null : new NearCache(this.connection, this.builder.table, this.options, near);
  }

  /** The near cache's figures; null when it is off. */
  nearCacheStats(): NearCacheStats | null {
    return this.nearCache === null ? null : this.nearCache.stats();
  }

  /** This server's command descriptions, learned on first need. */
  get commandTable(): CommandTable {
    return this.builder.table;
  }

  /** "host:port" (or the socket path). */
  get address(): string {
    return this.connection.address;
  }

  /** Connects now instead of on the first command. */
  connect(): Promise<void> {
    return this.connection.connect();
  }

  /** A method call → the command to send (see CommandBuilder). */
  prepare(method: string, args: readonly unknown[]): CommandSpec | Promise<CommandSpec> {
    return this.builder.build(method, args);
  }

  /**
   * redis-py's set_response_callback: `callback` receives the command's reply as Redis sent it
   * (strings, or Buffers in buffers mode; integers; arrays; null), instead of the reference's
   * shaping, and what it returns is the command's result, in pipelines too. Error replies
   * still reject. Command names of several words are written with spaces ('CLIENT LIST').
   * A backend's nodes share one builder, so a callback set on one applies to all of them.
   */
  set_response_callback(command: string, callback: ResponseCallback): void {
    this.builder.setResponseCallback(command, callback);
  }

  setResponseCallback(command: string, callback: ResponseCallback): void {
    this.builder.setResponseCallback(command, callback);
  }

  /** Sends a prepared command and shapes its reply. */
  dispatch(spec: CommandSpec): Promise<unknown> {
    const near = this.nearCache;
    if (near !== null) return this.dispatchNear(near, spec);
    if (!isPlain(spec)) return this.dispatchSpecial(spec);
    const opts = { buffers: spec.buffers, name: commandName(spec) };
    // Shaped as the reply arrives: one promise per command, not two.
    return spec.reply === null ? this.connection.send(spec.argv, opts) : this.connection.sendShaped(spec.argv, opts, spec.reply);
  }

  /**
   * dispatch() calling back instead of returning a promise, for a caller that settles one
   * promise of its own for several nodes (a RedisCopy write). `encoded` is the same command
   * as another node's connection wrote it; returns where this one's bytes are (see
   * Connection.sendWithCallbacks), or null.
   */
  dispatchWith(
    spec: CommandSpec, resolve: Settle<unknown>, reject: Settle<Error>, encoded: EncodedCommand | null = null, slot = -1,
  ): EncodedCommand | null {
    // Through the near cache: answered from it, or a write that drops its keys first.
    if (this.nearCache !== null && this.nearCache.serve(spec, resolve, reject, slot)) return null;
    if (!isPlain(spec)) {
      this.dispatchSpecial(spec).then((v) => resolve(v, slot), (e: Error) => reject(e, slot));
      return null;
    }
    return this.connection.sendWithCallbacks(spec.argv, { buffers: spec.buffers, name: commandName(spec) }, spec.reply, resolve, reject, encoded, slot);
  }

  /** dispatch() with a near cache: answered from it, or sent once it has dropped what the command may change. */
  private dispatchNear(near: NearCache, spec: CommandSpec): Promise<unknown> {
    let taken = false;
    const served = new Promise<unknown>((resolve, reject) => {
      taken = near.serve(spec, resolve, reject);
    });
    if (taken) return served;
    if (!isPlain(spec)) return this.dispatchSpecial(spec);
    const opts = { buffers: spec.buffers, name: commandName(spec) };
    return spec.reply === null ? this.connection.send(spec.argv, opts) : this.connection.sendShaped(spec.argv, opts, spec.reply);
  }

  /** A blocking command, one refused on the shared connection, or a script that may be missing. */
  private dispatchSpecial(spec: CommandSpec): Promise<unknown> {
    if (spec.blockFor !== undefined) return this.dispatchBlocking(spec);
    if (spec.exclusive !== undefined) return Promise.reject(exclusiveError(spec));
    return this.dispatchScript(spec, { buffers: spec.buffers, name: commandName(spec) });
  }

  /** EVALSHA, and EVAL with the script's text when the server does not have it (NOSCRIPT). */
  private async dispatchScript(spec: CommandSpec, opts: { buffers?: boolean | undefined; name: string }): Promise<unknown> {
    let reply: unknown;
    try {
      reply = await this.connection.send(spec.argv, opts);
    } catch (err) {
      if (!(err instanceof ReplyError) || err.code !== 'NOSCRIPT') throw err;
      reply = await this.connection.send(['EVAL', spec.script, ...spec.argv.slice(2)], opts);
    }
    return spec.reply === null ? reply : spec.reply(reply as Reply);
  }

  /**
   * A blocking command runs on a connection of its own, so it never stalls other callers,
   * and may wait as long as its server-side timeout (plus socket_timeout for the reply).
   */
  private async dispatchBlocking(spec: CommandSpec): Promise<unknown> {
    const conn = this.idleBlocking.pop() ?? this.newBlockingConnection();
    const st = this.options.socketTimeout;
    const timeout = spec.blockFor === null || spec.blockFor === undefined || st === null ? null : spec.blockFor + st;
    let healthy = false;
    try {
      const reply = await conn.send(spec.argv, { buffers: spec.buffers, timeout, name: String(spec.argv[0]) });
      healthy = true;
      return spec.reply === null ? reply : spec.reply(reply);
    } catch (err) {
      healthy = err instanceof Error && err.name === 'ReplyError';
      throw err;
    } finally {
      if (healthy && !conn.isClosed && this.idleBlocking.length < MAX_IDLE_BLOCKING && !this.connection.isClosed) {
        this.idleBlocking.push(conn);
      } else {
        this.allBlocking.delete(conn);
        void conn.close();
      }
    }
  }

  private newBlockingConnection(): Connection {
    // After close(), a new connection would be one nobody closes.
    if (this.connection.isClosed) throw new ConnectionError(`connection to ${this.address} is closed`);
    const conn = new Connection(this.options);
    this.allBlocking.add(conn);
    return conn;
  }

  /** Runs a method by name (what the Proxy calls). */
  command(method: string, args: readonly unknown[]): Promise<unknown> {
    let spec: CommandSpec | Promise<CommandSpec>;
    try {
      spec = this.prepare(method, args);
    } catch (err) {
      return Promise.reject(err);
    }
    if (spec instanceof Promise) return spec.then((s) => this.dispatch(s));
    return this.dispatch(spec);
  }

  /**
   * Sends a raw command with no conventions and no reply shaping:
   * `call('CLIENT', 'GETNAME')`, `call('JSON.GET', key)`.
   */
  call(command: string, ...args: unknown[]): Promise<Reply> {
    return this.execute_command(command, ...args);
  }

  /** The reference's name for `call`: the command's words first, then its arguments. */
  execute_command(...args: unknown[]): Promise<Reply> {
    let spec: CommandSpec;
    try {
      spec = this.builder.raw(args);
    } catch (err) {
      return Promise.reject(err);
    }
    return this.dispatch(spec) as Promise<Reply>;
  }

  executeCommand(...args: unknown[]): Promise<Reply> {
    return this.execute_command(...args);
  }

  /** The description of a command from the server's own table (null when unknown). */
  commandInfo(name: string): Promise<CommandInfo | null> {
    return this.commandTable.get(name);
  }

  /**
   * Closes every connection: the shared one once the commands already sent are answered
   * (within socket_timeout, else a couple of seconds); blocking commands, transactions and
   * subscribers at once, their pending commands rejected with ConnectionError.
   */
  async close(): Promise<void> {
    const blocking = [...this.allBlocking];
    this.allBlocking.clear();
    this.idleBlocking.length = 0;
    await Promise.all([this.connection.close(), ...blocking.map((c) => c.close(false)), this.nearCache?.close()]);
  }

  /** Same as close(). */
  quit(): Promise<void> {
    return this.close();
  }

  /** Drops every connection at once; pending commands reject. */
  disconnect(): void {
    // Nothing waits for it: a failure to close must not become an unhandled rejection.
    this.nearCache?.close().catch(() => {});
    this.connection.destroy();
    for (const c of this.allBlocking) c.destroy();
    this.allBlocking.clear();
    this.idleBlocking.length = 0;
  }

  // Pipelines, transactions, pub/sub, scans, scripts and locks: thin doors to their modules.

  /** A connection of its own, from the blocking commands' pool, for state no one may share. */
  borrowConnection(): Connection {
    return this.idleBlocking.pop() ?? this.newBlockingConnection();
  }

  /** Gives a borrowed connection back: kept for reuse when `reusable`, else closed. */
  releaseConnection(conn: Connection, reusable: boolean): Promise<void> {
    if (reusable && !conn.isClosed && this.idleBlocking.length < MAX_IDLE_BLOCKING && !this.connection.isClosed && this.allBlocking.has(conn)) {
      this.idleBlocking.push(conn);
      return Promise.resolve();
    }
    this.allBlocking.delete(conn);
    return conn.close();
  }

  /** Commands queued and sent together; MULTI/EXEC unless `transaction: false`. */
  pipeline(options?: PipelineOptions): Pipeline {
    return createPipeline(this, options);
  }

  /**
   * WATCHes `watches` on a connection of its own, runs `fn`, EXECs what it queued after
   * `pipe.multi()`, and runs it all again when a watched key changed (up to maxRetries).
   */
  transaction<T>(fn: TransactionFunction<T>, ...watches: Array<Key | readonly Key[] | TransactionOptions>): Promise<unknown> {
    return runTransaction(this, fn, watches);
  }

  /** A publish/subscribe object on a connection of its own. */
  pubsub(options?: PubSubOptions): PubSub {
    return new PubSub(this, options);
  }

  scanIter(options?: ScanIterOptions): AsyncGenerator<Bulk, void, undefined> {
    return scanIter((m, a) => this.command(m, a), options);
  }

  scan_iter(options?: ScanIterOptions): AsyncGenerator<Bulk, void, undefined> {
    return this.scanIter(options);
  }

  hscanIter(name: Key, options?: ScanIterOptions): AsyncGenerator<[string, Bulk], void, undefined> {
    return hscanIter((m, a) => this.command(m, a), name, options);
  }

  hscan_iter(name: Key, options?: ScanIterOptions): AsyncGenerator<[string, Bulk], void, undefined> {
    return this.hscanIter(name, options);
  }

  sscanIter(name: Key, options?: ScanIterOptions): AsyncGenerator<Bulk, void, undefined> {
    return sscanIter((m, a) => this.command(m, a), name, options);
  }

  sscan_iter(name: Key, options?: ScanIterOptions): AsyncGenerator<Bulk, void, undefined> {
    return this.sscanIter(name, options);
  }

  zscanIter(name: Key, options?: ScanIterOptions): AsyncGenerator<[Bulk, unknown], void, undefined> {
    return zscanIter((m, a) => this.command(m, a), name, options);
  }

  zscan_iter(name: Key, options?: ScanIterOptions): AsyncGenerator<[Bulk, unknown], void, undefined> {
    return this.zscanIter(name, options);
  }

  /** A callable Script: EVALSHA, loading the script when the server does not have it. */
  registerScript(lua: string): Script {
    return createScript(this, lua);
  }

  register_script(lua: string): Script {
    return this.registerScript(lua);
  }

  /** A Lock on key `name`, with redis-py's semantics (timeout, sleep, blocking_timeout in seconds). */
  lock(name: string, options?: LockOptions): Lock {
    return new Lock(this, name, options);
  }
}

/**
 * A ConstRedis: the base class plus every Redis command as a method, and any other name as a
 * command through the index signature (module commands, commands newer than this library).
 * S is what a bulk reply becomes: a string, or a Buffer with `returnBuffers: true`.
 */
export type ConstRedis<S extends Bulk = string> = StrictRedis<S> & { [command: string]: CommandMethod };

/** A ConstRedis without the index signature: a misspelt command is a type error. */
export type StrictRedis<S extends Bulk = string> = ConstRedisBase & Omit<RedisCommands<S>, keyof ConstRedisBase>;

/** Options that make every bulk reply a Buffer. */
type BufferOptions = ClientOptions & { returnBuffers: true };

export interface ConstRedisConstructor {
  new (options: BufferOptions): ConstRedis<Buffer>;
  new (options?: ClientOptions | string): ConstRedis;
  /** `redis://[[user]:password@]host:port/db`, `rediss://...`, `unix://[:password]@/path.sock?db=N`. */
  fromUrl(url: string, options: BufferOptions): ConstRedis<Buffer>;
  fromUrl(url: string, options?: ClientOptions): ConstRedis;
  from_url(url: string, options: BufferOptions): ConstRedis<Buffer>;
  from_url(url: string, options?: ClientOptions): ConstRedis;
}

/** Wraps a client so that any property that is not one of its members is a command. */
export function clientProxy<T extends ConstRedisBase>(target: T): T {
  return commandProxy(target, (name) => ((...args: unknown[]) => target.command(name, args)) as CommandMethod, target['methodCache']);
}

class ConstRedisClient extends ConstRedisBase {
  constructor(options?: ClientOptions | string) {
    super(options);
    // The instance is the Proxy, so unknown property names become commands.
    return clientProxy(this);
  }

  static fromUrl(url: string, options: ClientOptions = {}): ConstRedis {
    return new ConstRedisClient({ ...options, url }) as ConstRedis;
  }

  static from_url(url: string, options: ClientOptions = {}): ConstRedis {
    return new ConstRedisClient({ ...options, url }) as ConstRedis;
  }
}

export const ConstRedis = ConstRedisClient as unknown as ConstRedisConstructor;
