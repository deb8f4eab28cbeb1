/**
 * ConstRedis: the client for one server. Any method name is a command (through a Proxy), with
 * the reference's argument conventions and reply shapes where it documents them.
 */
import { EventEmitter } from 'node:events';
import { Connection } from '../connection/connection.js';
import { resolveOptions, type ClientOptions, type ResolvedOptions } from '../connection/options.js';
import type { Reply } from '../resp/decode.js';
import { CommandTable, type CommandInfo } from './command-table.js';
import { blockingTimeout, commandName, conventionFor, flat, type CommandSpec } from './conventions.js';
import { parseMethodName, type MethodName } from './method-name.js';
import type { Bulk, CommandMethod, Key, ReferenceCommands, ResponseCallback } from './types.js';
import { Lock, type LockOptions } from './lock.js';
import { createPipeline, type Pipeline, type PipelineOptions } from './pipeline.js';
import { PubSub, type PubSubOptions } from './pubsub.js';
import { hscanIter, scanIter, sscanIter, zscanIter, type ScanIterOptions } from './scan.js';
import { createScript, type Script } from './script.js';
import { runTransaction, type TransactionFunction, type TransactionOptions } from './transaction.js';

/** Names that must never become commands: they are probed by `await`, inspect, JSON, tests. */
const NOT_COMMANDS = new Set(['then', 'catch', 'finally', 'toJSON', 'inspect', 'constructor', 'asymmetricMatch', 'nodeType', 'valueOf', 'toString']);

/**
 * Commands that change the state of the connection they run on. On the shared connection they
 * would change it for every caller at once (or break the replies' order), so they are refused
 * there, with the way to do what was meant.
 */
const CONNECTION_STATE = new Map<string, string>([
  ['WATCH', 'use transaction(fn, ...keys): it WATCHes on a connection of its own'],
  ['UNWATCH', 'use transaction(fn, ...keys): it WATCHes on a connection of its own'],
  ['MULTI', 'use pipeline() or transaction()'],
  ['EXEC', 'use pipeline() or transaction()'],
  ['DISCARD', 'use pipeline() or transaction()'],
  ['SUBSCRIBE', 'use pubsub()'],
  ['PSUBSCRIBE', 'use pubsub()'],
  ['SSUBSCRIBE', 'use pubsub()'],
  ['MONITOR', 'it takes over the connection it runs on'],
  ['SELECT', "set the 'db' option: it is selected again on every reconnect"],
  ['RESET', 'it would undo AUTH, SELECT and CLIENT SETNAME for every caller'],
]);

/** Idle connections kept for blocking commands. */
const MAX_IDLE_BLOCKING = 4;

export class ConstRedisBase extends EventEmitter {
  readonly options: ResolvedOptions;
  /** The shared, pipelined connection every non-blocking command uses. */
  readonly connection: Connection;
  /** This server's command descriptions, learned on first need. */
  readonly commandTable: CommandTable;
  protected readonly resolved = new Map<string, string[]>();
  protected readonly idleBlocking: Connection[] = [];
  protected readonly allBlocking = new Set<Connection>();
  protected readonly methodCache = new Map<string, CommandMethod>();
  /** Reply shapes set with set_response_callback, by command name ('GET', 'CLIENT LIST'). */
  protected readonly responseCallbacks = new Map<string, ResponseCallback>();

  constructor(options: ClientOptions | string = {}, where?: string) {
    super();
    this.options = resolveOptions(typeof options === 'string' ? { url: options } : options, where);
    this.connection = new Connection(this.options);
    this.connection.on('ready', () => this.emit('ready'));
    this.connection.on('disconnect', (err: Error) => this.emit('disconnect', err));
    this.commandTable = new CommandTable((names) => this.connection.send(['COMMAND', 'INFO', ...names], { name: 'COMMAND INFO' }));
  }

  /** "host:port" (or the socket path). */
  get address(): string {
    return this.connection.address;
  }

  /** Connects now instead of on the first command. */
  connect(): Promise<void> {
    return this.connection.connect();
  }

  /**
   * Turns a method call into the command to send: the reference's conventions where it has
   * them, the arguments as given otherwise. Asynchronous only for multi-word names not yet
   * resolved against the server.
   */
  prepare(method: string, args: readonly unknown[]): CommandSpec | Promise<CommandSpec> {
    const spec = this.prepareShaped(method, args);
    if (this.responseCallbacks.size === 0) return spec;
    return spec instanceof Promise ? spec.then((s) => this.shapeByCallback(s)) : this.shapeByCallback(spec);
  }

  /** A callback set for the command replaces its reply shape: it gets the reply as sent. */
  private shapeByCallback(spec: CommandSpec): CommandSpec {
    const callback = this.responseCallbacks.get(commandName(spec).toUpperCase());
    if (callback !== undefined) spec.reply = callback;
    return spec;
  }

  /**
   * redis-py's set_response_callback: `callback` receives the command's reply as Redis sent it
   * (strings, or Buffers in buffers mode; integers; arrays; null), instead of the reference's
   * shaping, and what it returns is the command's result, in pipelines too. Error replies
   * still reject. Command names of several words are written with spaces ('CLIENT LIST').
   */
  set_response_callback(command: string, callback: ResponseCallback): void {
    if (typeof command !== 'string' || command.trim() === '') throw new TypeError('set_response_callback: the command name must be a non-empty string');
    if (typeof callback !== 'function') throw new TypeError('set_response_callback: the callback must be a function');
    this.responseCallbacks.set(command.trim().split(/\s+/).join(' ').toUpperCase(), callback);
  }

  setResponseCallback(command: string, callback: ResponseCallback): void {
    this.set_response_callback(command, callback);
  }

  private prepareShaped(method: string, args: readonly unknown[]): CommandSpec | Promise<CommandSpec> {
    const name = parseMethodName(method);
    const convention = name.literal ? undefined : conventionFor(name.key);
    if (convention !== undefined) {
      const spec = convention(args as unknown[], method);
      if (name.buffers) spec.buffers = true;
      return spec;
    }
    if (name.single !== null) return this.plainSpec([name.single], args, name);
    const known = this.resolved.get(name.key);
    if (known !== undefined) return this.specFor(known, args, name, method);
    if (name.literal) return this.plainSpec(name.words.map((w) => w.toUpperCase()), args, name);
    return this.resolveWords(name).then((words) => this.specFor(words, args, name, method));
  }

  /** After resolution, a name like hGetAll may turn out to be a command the reference shapes. */
  private specFor(words: string[], args: readonly unknown[], name: MethodName, method: string): CommandSpec {
    const convention = conventionFor(words.join('_').toLowerCase());
    if (convention === undefined) return this.plainSpec(words, args, name);
    const spec = convention(args as unknown[], method);
    if (name.buffers) spec.buffers = true;
    return spec;
  }

  private plainSpec(words: string[], args: readonly unknown[], name: MethodName): CommandSpec {
    const argv: unknown[] = words.length === 1 ? [words[0]] : words.slice();
    for (const a of args) {
      if (Array.isArray(a)) for (const x of a) argv.push(x);
      else argv.push(a);
    }
    const spec: CommandSpec = { argv, words: words.length, reply: null };
    if (name.buffers) spec.buffers = true;
    const blockFor = blockingTimeout(words[0]!, argv);
    if (blockFor !== undefined) spec.blockFor = blockFor;
    return spec;
  }

  /**
   * Multi-word names: CLIENT GETNAME (a container command and its subcommand), JSON.GET (a
   * module command), or a command written in camelCase (hGetAll → HGETALL). The server's
   * command table decides, in one COMMAND INFO round trip, remembered per name.
   */
  private async resolveWords(name: MethodName): Promise<string[]> {
    const [first, ...rest] = name.words as string[];
    const container = [first!.toUpperCase(), rest.join('-').toUpperCase()];
    const dotted = `${first}.${rest.join('_')}`;
    const joined = name.words.join('');
    const [head, dot, whole] = await Promise.all([
      this.commandTable.get(first!),
      this.commandTable.get(dotted),
      this.commandTable.get(joined),
    ]);
    let words: string[];
    if (head !== null && isContainerFor(head, `${first}|${rest.join('-')}`, whole)) words = container;
    else if (dot !== null) words = [dotted.toUpperCase()];
    else if (whole !== null) words = [joined.toUpperCase()];
    else words = container;
    if (!this.commandTable.unavailable) this.resolved.set(name.key, words);
    return words;
  }

  /** Sends a prepared command and shapes its reply. */
  dispatch(spec: CommandSpec): Promise<unknown> {
    if (spec.blockFor !== undefined) return this.dispatchBlocking(spec);
    const refused = spec.words === 1 ? CONNECTION_STATE.get(spec.argv[0] as string) : undefined;
    if (refused !== undefined) {
      return Promise.reject(new TypeError(`${spec.argv[0] as string} is not run on the shared connection: ${refused}`));
    }
    const opts = {
      buffers: spec.buffers,
      name: commandName(spec),
    };
    // Shaped as the reply arrives: one promise per command, not two.
    return spec.reply === null ? this.connection.send(spec.argv, opts) : this.connection.sendShaped(spec.argv, opts, spec.reply);
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
    const argv = flat(args);
    if (typeof argv[0] !== 'string' || argv[0] === '') {
      return Promise.reject(new TypeError('execute_command: the first argument must be the command name'));
    }
    const words = argv[0].trim().split(/\s+/).map((w) => w.toUpperCase());
    argv.splice(0, 1, ...words);
    const spec: CommandSpec = { argv, words: words.length, reply: null };
    const blockFor = blockingTimeout(words[0]!, argv);
    if (blockFor !== undefined) spec.blockFor = blockFor;
    return this.dispatch(spec) as Promise<Reply>;
  }

  executeCommand(...args: unknown[]): Promise<Reply> {
    return this.execute_command(...args);
  }

  /** The description of a command from the server's own table (null when unknown). */
  commandInfo(name: string): Promise<CommandInfo | null> {
    return this.commandTable.get(name);
  }

  /** Closes every connection after the commands already sent are answered. */
  async close(): Promise<void> {
    const blocking = [...this.allBlocking];
    this.allBlocking.clear();
    this.idleBlocking.length = 0;
    await Promise.all([this.connection.close(), ...blocking.map((c) => c.close())]);
  }

  /** Same as close(). */
  quit(): Promise<void> {
    return this.close();
  }

  /** Drops every connection at once; pending commands reject. */
  disconnect(): void {
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

function isContainerFor(head: CommandInfo, subName: string, whole: CommandInfo | null): boolean {
  if (head.subcommands !== null) return head.subcommands.has(subName) || whole === null;
  return whole === null;
}

/** A ConstRedis: the base class plus every Redis command as a method. */
export type ConstRedis = ConstRedisBase & ReferenceCommands & { [command: string]: CommandMethod };

export interface ConstRedisConstructor {
  new (options?: ClientOptions | string): ConstRedis;
  /** `redis://[[user]:password@]host:port/db`, `rediss://...`, `unix://[:password]@/path.sock?db=N`. */
  fromUrl(url: string, options?: ClientOptions): ConstRedis;
  from_url(url: string, options?: ClientOptions): ConstRedis;
}

/** Wraps a client so that any property that is not one of its members is a command. */
export function commandProxy<T extends ConstRedisBase>(target: T): T {
  const cache = target['methodCache'];
  return new Proxy(target, {
    get(obj, prop, receiver) {
      if (typeof prop === 'symbol') return Reflect.get(obj, prop, receiver);
      // A command called before: one map lookup, not a walk up the prototype chain. Only
      // names that are not members are cached, and defining a member drops its entry.
      const known = cache.get(prop);
      if (known !== undefined) return known;
      if (prop in obj) return Reflect.get(obj, prop, receiver);
      if (NOT_COMMANDS.has(prop)) return undefined;
      const fn = (...args: unknown[]) => obj.command(prop, args) as Promise<Reply>;
      cache.set(prop, fn);
      return fn;
    },
    defineProperty(obj, prop, descriptor) {
      if (typeof prop === 'string') cache.delete(prop);
      return Reflect.defineProperty(obj, prop, descriptor);
    },
  });
}

class ConstRedisClient extends ConstRedisBase {
  constructor(options?: ClientOptions | string) {
    super(options);
    // The instance is the Proxy, so unknown property names become commands.
    return commandProxy(this);
  }

  static fromUrl(url: string, options: ClientOptions = {}): ConstRedis {
    return new ConstRedisClient({ ...options, url }) as ConstRedis;
  }

  static from_url(url: string, options: ClientOptions = {}): ConstRedis {
    return new ConstRedisClient({ ...options, url }) as ConstRedis;
  }
}

export const ConstRedis = ConstRedisClient as unknown as ConstRedisConstructor;
