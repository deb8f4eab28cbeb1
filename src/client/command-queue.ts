/**
 * What every pipeline shares (one node's, a backend's): commands queued by method name through
 * the same `prepare` as direct calls, raw commands, scripts to load before sending, and the
 * refusal of transaction control commands inside a transaction.
 */
import { validateArgs } from '../resp/encode.js';
import { commandName, flat, type CommandSpec } from './conventions.js';
import type { ExecOptions, LoadableScript, PipelineOf } from './pipeline.js';

/** A queued command: its spec, or the promise of one while a multi-word name resolves. */
export type Queued = CommandSpec | Promise<CommandSpec>;

/** Commands that manage a transaction themselves and make no sense queued in one. */
const TRANSACTION_CONTROL = new Set(['MULTI', 'EXEC', 'DISCARD', 'WATCH', 'UNWATCH']);

export abstract class CommandQueue {
  /** The commands queued so far, in order. */
  protected queued: Queued[] = [];
  protected readonly scripts = new Map<string, LoadableScript>();
  /** The Proxy around this queue (set by pipelineProxy): what chained calls return. */
  protected proxy: unknown = this;

  constructor(readonly transaction: boolean) {}

  /** Prepares a command by method name, as a direct call on the owner would. */
  protected abstract prepareSpec(method: string, args: readonly unknown[]): Queued;

  /** Sends the checked commands (scripts loaded first where needed); one result per command. */
  protected abstract send(specs: CommandSpec[], scripts: readonly LoadableScript[]): Promise<unknown[]>;

  /**
   * Sends every queued command and resolves to their shaped replies, in order. Failures take
   * their slots, and with raiseOnError (the default) the first one is thrown after everything
   * ran. The pipeline is empty afterwards and may be reused.
   */
  async exec(options: ExecOptions = {}): Promise<unknown[]> {
    const raise = raiseOnErrorOf(options);
    const queued = this.queued;
    const scripts = [...this.scripts.values()];
    this.reset();
    if (queued.length === 0) return [];
    // Most commands are prepared synchronously: wait only when some name needed resolving.
    const specs = queued.some((q) => q instanceof Promise) ? await Promise.all(queued) : (queued as CommandSpec[]);
    for (const spec of specs) this.check(spec);
    const results = await this.send(specs, scripts);
    if (raise) {
      const failed = results.find((r) => r instanceof Error);
      if (failed !== undefined) throw failed;
    }
    return results;
  }

  /** The reference's name for exec(). */
  execute(options: ExecOptions = {}): Promise<unknown[]> {
    return this.exec(options);
  }

  /** Number of queued commands. */
  get length(): number {
    return this.queued.length;
  }

  /** Queues a command by method name; bad arguments throw here, before anything is sent. */
  queue(method: string, args: readonly unknown[]): PipelineOf<this> {
    const spec = this.prepareSpec(method, args);
    if (spec instanceof Promise) spec.catch(() => {}); // exec() reports it; until then it must not go unhandled
    else this.check(spec);
    this.queued.push(spec);
    return this.proxy as PipelineOf<this>;
  }

  /** Queues a raw command, with no conventions and no reply shaping. */
  call(command: string, ...args: unknown[]): PipelineOf<this> {
    if (typeof command !== 'string' || command === '') throw new TypeError('call: the command name must be a non-empty string');
    return this.queueSpec({ argv: [command, ...flat(args)], words: 1, reply: null });
  }

  /** The reference's name for call(). */
  execute_command(...args: unknown[]): PipelineOf<this> {
    const [command, ...rest] = flat(args);
    return this.call(String(command), ...rest);
  }

  /** Queues a command already prepared. */
  queueSpec(spec: CommandSpec): PipelineOf<this> {
    this.check(spec);
    this.queued.push(spec);
    return this.proxy as PipelineOf<this>;
  }

  /** Makes exec() load a script first where the server lacks it. */
  needScript(script: LoadableScript): void {
    this.scripts.set(script.sha, script);
  }

  /** Queues EVALSHA for a script, which exec() loads first where the server lacks it. */
  queueScript(script: LoadableScript, keys: readonly unknown[], args: readonly unknown[]): PipelineOf<this> {
    this.scripts.set(script.sha, script);
    this.queued.push({ argv: ['EVALSHA', script.sha, keys.length, ...keys, ...args], words: 1, reply: null });
    return this.proxy as PipelineOf<this>;
  }

  /** Forgets every queued command. */
  reset(): void {
    this.queued = [];
    this.scripts.clear();
  }

  /** Same as reset(): nothing was sent yet, so there is nothing to discard on the server. */
  discard(): void {
    this.reset();
  }

  protected check(spec: CommandSpec): void {
    // Here, not when sent: one bad argument in MULTI/EXEC must not leave the others to commit.
    validateArgs(spec.argv, commandName(spec));
    const name = String(spec.argv[0]).toUpperCase();
    if (this.transaction && TRANSACTION_CONTROL.has(name)) {
      throw new TypeError(`${name} cannot be queued in a transactional pipeline; use transaction(fn, ...keys) to watch keys`);
    }
  }
}

/** exec()'s raiseOnError / raise_on_error option (default true), checked. */
export function raiseOnErrorOf(options: ExecOptions): boolean {
  if (typeof options !== 'object' || options === null) throw new TypeError('exec: options must be an object');
  const v = options.raiseOnError ?? options.raise_on_error ?? true;
  if (typeof v !== 'boolean') throw new TypeError(`exec: raiseOnError must be true or false, got ${String(v)}`);
  return v;
}
