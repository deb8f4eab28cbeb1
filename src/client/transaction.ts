/**
 * `transaction(fn, ...watches)`: optimistic locking as the reference describes it. The keys
 * are WATCHed on a connection of its own (WATCH state belongs to a connection, so other
 * callers' commands must not share it); `fn` reads through that connection, then queues its
 * writes after `multi()`; EXEC runs them, and a WatchError (a watched key changed) runs the
 * whole function again, a bounded number of times.
 */
import type { Connection } from '../connection/connection.ts';
import { WatchError } from '../errors.ts';
import { validateArgs } from '../resp/encode.ts';
import { isPlainObject } from '../util/options.ts';
import { commandProxy } from '../util/proxy.ts';
import { commandName, type CommandSpec } from './conventions.ts';
import type { NodeClient } from './node-client.ts';
import { pipelineProxy, PipelineBase, sendSpec, type Pipeline, type SpecCheck } from './pipeline.ts';
import type { CommandMethod, Key, ReferenceCommands } from './types.ts';

export interface TransactionOptions {
  /** Resolve to what `fn` returned instead of the EXEC replies (redis-py's value_from_callable). */
  valueFromCallable?: boolean;
  value_from_callable?: boolean;
  /** How many times a WatchError runs `fn` again before it is thrown (default 10). */
  maxRetries?: number;
  max_retries?: number;
  /** Seconds to wait before each retry (redis-py's watch_delay; default none). */
  watch_delay?: number;
  /** Milliseconds to wait before each retry. */
  watchDelay?: number;
}

const DEFAULT_MAX_RETRIES = 10;

/**
 * What `fn` receives. Its command methods run at once on the watched connection (reads that
 * decide what to write); `multi()` starts the MULTI block, and from then on commands are
 * queued for EXEC, on this object as in redis-py or on the pipeline `multi()` returns.
 * `watch()` adds keys while still before `multi()`.
 */
export class WatchedPipelineBase {
  private block: PipelineBase | null = null;
  private blockProxy: Pipeline | null = null;
  private finished = false;
  /**
   * The first misuse inside `fn` (bad arguments, watch() after multi()): the transaction
   * rejects with it instead of running EXEC, even when `fn` never looked at the promise.
   */
  private misuse: Error | null = null;
  /** Commands run at once whose names are still being resolved against the server. */
  private readonly resolving = new Set<Promise<CommandSpec>>();

  readonly client: NodeClient;
  private readonly conn: Connection;
  private readonly checkSpec: SpecCheck | null;
  private readonly execBlock: ExecBlock | null;
  private readonly askingFor: AskingFor | null;
  constructor(
    client: NodeClient,
    conn: Connection,
    checkSpec: SpecCheck | null = null,
    execBlock: ExecBlock | null = null,
    askingFor: AskingFor | null = null,
  ) {
    this.client = client;
    this.conn = conn;
    this.checkSpec = checkSpec;
    this.execBlock = execBlock;
    this.askingFor = askingFor;
  }

  /**
   * Before multi(): runs a command now on the watched connection. After it: queues the command
   * for EXEC and returns the pipeline (redis-py's idiom), so calls chain as on a pipeline.
   */
  command(method: string, args: readonly unknown[]): Promise<unknown> | Pipeline {
    try {
      this.usable(method);
      if (this.block !== null) return this.block.queue(method, args) as Pipeline;
      const spec = this.client.builder.build(method, args);
      if (!(spec instanceof Promise)) {
        validateArgs(spec.argv, commandName(spec));
        return this.send(spec);
      }
      // Checked before finish() decides on EXEC, though the name resolves later.
      this.resolving.add(spec);
      void spec.finally(() => this.resolving.delete(spec)).catch(() => {});
      const sent: Promise<unknown> = spec.then((s) => {
        try {
          validateArgs(s.argv, commandName(s));
        } catch (err) {
          this.noteMisuse(err);
          sent.catch(() => {});
          throw err;
        }
        return this.send(s);
      });
      return sent;
    } catch (err) {
      return this.refuse(err);
    }
  }

  /** A misuse: remembered for the transaction to reject with; its own promise never goes unhandled. */
  private refuse(err: unknown): Promise<never> {
    this.noteMisuse(err);
    const p = Promise.reject(err);
    p.catch(() => {});
    return p;
  }

  private noteMisuse(err: unknown): void {
    if (!this.finished) this.misuse ??= err instanceof Error ? err : new Error(String(err));
  }

  private async send(spec: CommandSpec): Promise<unknown> {
    if (this.checkSpec !== null) await this.checkSpec(spec);
    if (this.askingFor?.(spec) === true) sendAsking(this.conn);
    this.client.nearCache?.noteWrites([spec]);
    return sendSpec(this.conn, spec);
  }

  /** WATCHes more keys (only before multi()). */
  watch(...keys: Array<Key | readonly Key[]>): Promise<unknown> {
    if (this.block !== null) return this.refuse(new TypeError('watch() after multi(): keys can only be watched before multi()'));
    return this.command('watch', keys) as Promise<unknown>;
  }

  /** Forgets the watched keys (only before multi()). */
  unwatch(): Promise<unknown> {
    if (this.block !== null) return this.refuse(new TypeError('unwatch() after multi(): it must come before multi()'));
    return this.command('unwatch', []) as Promise<unknown>;
  }

  /** Starts the MULTI block: the commands queued on the returned pipeline run at EXEC. */
  multi(): Pipeline {
    this.usable('multi');
    if (this.block !== null) throw new TypeError('multi() was already called in this transaction');
    const block = new PipelineBase(this.client, true, this.conn, this.checkSpec);
    block.asking = this.askingFor !== null;
    this.block = block;
    this.blockProxy = pipelineProxy(block);
    return this.blockProxy;
  }

  /** EXEC (or UNWATCH when fn queued nothing); afterwards this object refuses commands. */
  async finish(): Promise<unknown[]> {
    if (this.resolving.size > 0) await Promise.allSettled([...this.resolving]);
    this.finished = true;
    if (this.misuse !== null) throw this.misuse;
    if (this.block === null || this.block.length === 0) {
      await this.conn.send(['UNWATCH']);
      return [];
    }
    if (this.execBlock !== null) {
      const block = this.block;
      return this.execBlock(() => block.exec({ raiseOnError: false }), await block.specs());
    }
    return this.block.exec();
  }

  private usable(method: string): void {
    if (this.finished) throw new TypeError(`${method}(): this transaction is already over`);
  }
}

/** Commands run at once, with the reference's types where it has them. */
export type WatchedPipeline = WatchedPipelineBase & ReferenceCommands & { [command: string]: CommandMethod };

function watchedProxy(target: WatchedPipelineBase): WatchedPipeline {
  return commandProxy(target, (name) => ((...args: unknown[]) => target.command(name, args)) as CommandMethod) as WatchedPipeline;
}

/**
 * Runs the EXEC of a transaction's block in place of the plain one: `exec` sends it on the
 * watched connection; a backend that copies writes to other nodes sends `specs` there after.
 */
export type ExecBlock = (exec: () => Promise<unknown[]>, specs: readonly CommandSpec[]) => Promise<unknown[]>;

export type TransactionFunction<T> = (pipe: WatchedPipeline) => T | Promise<T>;

/**
 * A transaction sent to a cluster node importing its slot (after an ASK): ASKING goes before
 * WATCH and before MULTI (it holds to EXEC), and before each command run at once for which
 * this says yes (the node serves those keys only when asked so; others it answers MOVED).
 */
export type AskingFor = (spec: CommandSpec) => boolean;

/** ASKING, written in the same tick as the command it is for (ASKING covers one command). */
function sendAsking(conn: Connection): void {
  conn.send(['ASKING'], { name: 'ASKING' }).catch(() => {});
}

function isOptions(v: unknown): v is TransactionOptions {
  return isPlainObject(v);
}

export interface TransactionArguments {
  keys: unknown[];
  valueFromCallable: boolean;
  maxRetries: number;
  delayMs: number;
}

const OPTION_NAMES = ['valueFromCallable', 'value_from_callable', 'maxRetries', 'max_retries', 'watch_delay', 'watchDelay'];

/** Splits `...watches, options?` into the watched keys and the checked options. */
export function transactionArguments(watchesAndOptions: readonly unknown[]): TransactionArguments {
  const rest = watchesAndOptions.slice();
  const last = rest[rest.length - 1];
  const o: TransactionOptions = isOptions(last) ? (rest.pop() as TransactionOptions) : {};
  for (const key of Object.keys(o)) {
    if (!OPTION_NAMES.includes(key)) throw new TypeError(`transaction: unknown option '${key}'; expected one of: ${OPTION_NAMES.join(', ')}`);
  }
  const keys: unknown[] = [];
  for (const k of rest) {
    for (const key of Array.isArray(k) ? k : [k]) {
      if (typeof key !== 'string' && !(key instanceof Uint8Array)) throw new TypeError(`transaction: a watched key must be a string or a Buffer, got ${typeof key}`);
      keys.push(key);
    }
  }
  const valueFromCallable = o.valueFromCallable ?? o.value_from_callable ?? false;
  if (typeof valueFromCallable !== 'boolean') throw new TypeError('transaction: valueFromCallable must be true or false');
  const maxRetries = o.maxRetries ?? o.max_retries ?? DEFAULT_MAX_RETRIES;
  if (!Number.isInteger(maxRetries) || maxRetries < 0) throw new RangeError(`transaction: maxRetries must be a non-negative integer, got ${String(maxRetries)}`);
  const delayMs = o.watchDelay ?? (o.watch_delay !== undefined ? o.watch_delay * 1000 : 0);
  if (typeof delayMs !== 'number' || !Number.isFinite(delayMs) || delayMs < 0) throw new RangeError('transaction: watch_delay must be a non-negative number');
  return { keys, valueFromCallable, maxRetries, delayMs };
}

/**
 * Runs `fn` as a transaction while watching `keys`; retries on WatchError up to maxRetries
 * times, then throws it. Resolves to the EXEC replies, or to fn's value with valueFromCallable.
 */
export async function runTransaction<T>(
  client: NodeClient, fn: TransactionFunction<T>, watchesAndOptions: readonly unknown[], checkSpec: SpecCheck | null = null,
  execBlock: ExecBlock | null = null, askingFor: AskingFor | null = null,
): Promise<unknown> {
  if (typeof fn !== 'function') throw new TypeError('transaction: the first argument must be a function');
  const o = transactionArguments(watchesAndOptions);
  for (let attempt = 0; ; attempt++) {
    const conn = client.borrowConnection();
    // Only a connection whose WATCH state is known to be cleared goes back to the pool.
    let clean = false;
    try {
      if (o.keys.length > 0) {
        if (askingFor !== null) sendAsking(conn);
        await conn.send(['WATCH', ...o.keys]);
      }
      const pipe = new WatchedPipelineBase(client, conn, checkSpec, execBlock, askingFor);
      const value = await fn(watchedProxy(pipe));
      const results = await pipe.finish();
      clean = true;
      return o.valueFromCallable ? value : results;
    } catch (err) {
      if (!(err instanceof WatchError)) throw err;
      clean = true; // an aborted EXEC clears the watches too
      if (attempt >= o.maxRetries) {
        err.message = `${err.message} (gave up after ${attempt + 1} attempts)`;
        throw err;
      }
    } finally {
      client.releaseConnection(conn, clean);
    }
    if (o.delayMs > 0) await new Promise((r) => setTimeout(r, o.delayMs));
  }
}
