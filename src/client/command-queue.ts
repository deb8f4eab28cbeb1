/**
 * What every pipeline shares (one node's, a backend's): commands queued through the same
 * CommandBuilder as direct calls, raw commands, scripts to load before sending, the refusal of
 * commands that need a connection of their own, and the Proxy that makes any name a command.
 */
import { validateArgs } from '../resp/encode.ts';
import { commandProxy } from '../util/proxy.ts';
import type { CommandBuilder } from './command-builder.ts';
import { commandName, type CommandSpec } from './conventions.ts';
import type { ReferenceCommands } from './types.ts';

export interface ExecOptions {
  /**
   * true (default): when a command failed, exec rejects with the first failure (a
   * ReplyError), after every command has run. false: exec resolves, and each failed
   * command's slot holds its error instead of a reply.
   */
  raiseOnError?: boolean;
  raise_on_error?: boolean;
}

/** Something a pipeline can hold besides commands: a script it must make sure is loaded. */
export interface LoadableScript {
  readonly sha: string;
  readonly script: string;
}

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

  /** The owner's builder: a command queued here is built exactly as a direct call's. */
  protected readonly builder: CommandBuilder;
  readonly transaction: boolean;
  constructor(
    builder: CommandBuilder,
    transaction: boolean,
  ) {
    this.builder = builder;
    this.transaction = transaction;
  }

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
    // Most commands are prepared synchronously, and were checked when queued: wait (and
    // check) only those whose name needed resolving.
    let specs = queued as CommandSpec[];
    if (queued.some((q) => q instanceof Promise)) {
      specs = await Promise.all(queued);
      for (let i = 0; i < specs.length; i++) if (queued[i] instanceof Promise) this.check(specs[i]!);
    }
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

  /** The queued commands, built, without sending them. */
  specs(): Promise<CommandSpec[]> {
    return Promise.all(this.queued);
  }

  /** Number of queued commands. */
  get length(): number {
    return this.queued.length;
  }

  /** Queues a command by method name; bad arguments throw here, before anything is sent. */
  queue(method: string, args: readonly unknown[]): PipelineOf<this> {
    const spec = this.builder.build(method, args);
    if (spec instanceof Promise) spec.catch(() => {}); // exec() reports it; until then it must not go unhandled
    else this.check(spec);
    this.queued.push(spec);
    return this.proxy as PipelineOf<this>;
  }

  /** Queues a raw command, with no conventions and no reply shaping. */
  call(command: string, ...args: unknown[]): PipelineOf<this> {
    return this.queueSpec(this.builder.raw([command, ...args], 'call'));
  }

  /** The reference's name for call(). */
  execute_command(...args: unknown[]): PipelineOf<this> {
    return this.queueSpec(this.builder.raw(args));
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
    return this.queueSpec({ argv: ['EVALSHA', script.sha, keys.length, ...keys, ...args], words: 1, reply: null, script: script.script });
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
    validateArgs(spec.argv, spec.words === 1 ? String(spec.argv[0]) : commandName(spec));
    if (this.transaction) {
      const name = String(spec.argv[0]).toUpperCase();
      if (TRANSACTION_CONTROL.has(name)) {
        throw new TypeError(`${name} cannot be queued in a transactional pipeline; use transaction(fn, ...keys) to watch keys`);
      }
    }
    if (spec.exclusive !== undefined) throw new TypeError(`${commandName(spec)} cannot be queued in a pipeline: ${spec.exclusive}`);
  }
}

/** The argument lists of a method with up to two overloads (Parameters<> sees only the last). */
type ArgumentsOf<F> = F extends { (...a: infer A1): unknown; (...a: infer A2): unknown } ? A1 | A2 : never;

/**
 * A pipeline of some kind (one node's, a backend's): its own members plus every Redis command
 * as a chainable method, the reference's typed by their arguments.
 */
export type PipelineOf<B> = B &
  { [K in keyof ReferenceCommands]: (...args: ArgumentsOf<ReferenceCommands[K]>) => PipelineOf<B> } &
  { [command: string]: (...args: unknown[]) => PipelineOf<B> };

/** Wraps a pipeline so that any property that is not one of its members queues a command. */
export function pipelineProxy<T extends CommandQueue>(target: T): PipelineOf<T> {
  const proxy = commandProxy(target, (name) => (...args: unknown[]): unknown => target.queue(name, args));
  // queue() returns this Proxy, so calls chain with command methods.
  target['proxy'] = proxy;
  return proxy as PipelineOf<T>;
}

/** exec()'s raiseOnError / raise_on_error option (default true), checked. */
export function raiseOnErrorOf(options: ExecOptions): boolean {
  if (typeof options !== 'object' || options === null) throw new TypeError('exec: options must be an object');
  const v = options.raiseOnError ?? options.raise_on_error ?? true;
  if (typeof v !== 'boolean') throw new TypeError(`exec: raiseOnError must be true or false, got ${String(v)}`);
  return v;
}
