/**
 * The one place a command is built. Every door — a method call, `call` / `execute_command`,
 * a pipeline, a transaction, a backend — turns `(name, args)` into a CommandSpec here, so the
 * same rules apply whichever door a command comes in by:
 *   - the command words (`client_getname` → CLIENT GETNAME, resolved once against the server's
 *     command table, which the builder owns and a backend shares with its nodes);
 *   - the reference's conventions (arguments and reply shapes, conventions.ts);
 *   - the blocking rule: commands that wait on the server carry how long (`blockFor`), so they
 *     run on a connection of their own and are not timed out early;
 *   - the connection-state rule: commands that change what a connection answers carry why they
 *     need a connection of their own (`exclusive`), and the shared connection refuses them.
 */
import { CommandTable, type CommandInfo } from './command-table.ts';
import type { Reply } from '../resp/decode.ts';
import { blockingTimeout, commandName, conventionFor, flat, type CommandSpec } from './conventions.ts';
import { parseMethodName, type MethodName } from './method-name.ts';
import type { ResponseCallback } from './types.ts';

const TRANSACTION = 'use transaction(fn, ...keys): it WATCHes on a connection of its own';
const PIPELINE = 'use pipeline() or transaction()';
const PUBSUB = 'use pubsub()';
const OWN_CLIENT = 'run it on a ConstRedis of its own, not on one that other callers share';

/**
 * Commands that change the state of the connection they run on: on the shared connection
 * they would change it for every caller at once, or break the order replies are matched in.
 */
const EXCLUSIVE = new Map<string, string>([
  ['WATCH', TRANSACTION],
  ['UNWATCH', TRANSACTION],
  ['MULTI', PIPELINE],
  ['EXEC', PIPELINE],
  ['DISCARD', PIPELINE],
  ['SUBSCRIBE', PUBSUB],
  ['PSUBSCRIBE', PUBSUB],
  ['SSUBSCRIBE', PUBSUB],
  ['MONITOR', `it takes over the connection it runs on; ${OWN_CLIENT}`],
  ['SELECT', "set the 'db' option: it is selected again on every reconnect"],
  ['RESET', 'it would undo AUTH, SELECT and CLIENT SETNAME for every caller'],
  ['HELLO', 'it changes the protocol and the login for every caller; set username, password and client_name in the options instead (they are sent on every connect)'],
]);

/** CLIENT subcommands of the same kind. */
const EXCLUSIVE_CLIENT = new Map<string, string>([
  ['REPLY', `with replies skipped or off, the replies other callers wait for would be matched to the wrong commands; ${OWN_CLIENT}`],
  ['TRACKING', `invalidation messages would arrive on the connection every caller shares; ${OWN_CLIENT}`],
]);

/**
 * Why a command must not run on a shared connection, or undefined when it may. The builder
 * writes command words in upper case, so the first word needs no case folding here.
 */
function exclusiveReason(argv: readonly unknown[]): string | undefined {
  const first = argv[0] as string;
  const hit = EXCLUSIVE.get(first);
  if (hit !== undefined) return hit;
  if (first === 'CLIENT' && argv.length > 1) return EXCLUSIVE_CLIENT.get(String(argv[1]).toUpperCase());
  return undefined;
}

export class CommandBuilder {
  /** The server's command descriptions, learned on first need; shared by a backend's nodes. */
  readonly table: CommandTable;
  /** Multi-word method names already resolved against the table. */
  private readonly resolved = new Map<string, string[]>();
  /** Reply shapes set with set_response_callback, by command name ('GET', 'CLIENT LIST'). */
  private readonly callbacks = new Map<string, ResponseCallback>();

  constructor(table: CommandTable) {
    this.table = table;
  }

  /**
   * A method call → the command to send: the reference's conventions where it has them, the
   * arguments as given otherwise. Asynchronous only for a multi-word name not yet resolved.
   */
  build(method: string, args: readonly unknown[]): CommandSpec | Promise<CommandSpec> {
    const spec = this.buildShaped(method, args);
    if (this.callbacks.size === 0) return spec;
    return spec instanceof Promise ? spec.then((s) => this.shapeByCallback(s)) : this.shapeByCallback(spec);
  }

  /** A callback set for a command replaces its reply shape: it gets the reply as sent. */
  setResponseCallback(command: string, callback: ResponseCallback): void {
    if (typeof command !== 'string' || command.trim() === '') throw new TypeError('set_response_callback: the command name must be a non-empty string');
    if (typeof callback !== 'function') throw new TypeError('set_response_callback: the callback must be a function');
    this.callbacks.set(command.trim().split(/\s+/).join(' ').toUpperCase(), callback);
  }

  private shapeByCallback(spec: CommandSpec): CommandSpec {
    const callback = this.callbacks.get(commandName(spec).toUpperCase());
    if (callback !== undefined) spec.reply = callback as (reply: Reply) => unknown;
    return spec;
  }

  private buildShaped(method: string, args: readonly unknown[]): CommandSpec | Promise<CommandSpec> {
    const name = parseMethodName(method);
    const convention = name.literal ? undefined : conventionFor(name.key);
    if (convention !== undefined) return finish(convention(args as unknown[], method), name.buffers);
    if (name.single !== null) return this.plainSpec([name.single], args, name.buffers);
    const known = this.resolved.get(name.key);
    if (known !== undefined) return this.specFor(known, args, name, method);
    if (name.literal) return this.plainSpec(name.words.map((w) => w.toUpperCase()), args, name.buffers);
    return this.resolveWords(name).then((words) => this.specFor(words, args, name, method));
  }

  /**
   * A raw command (`execute_command('CLIENT GETNAME')`, `call('GET', k)`): the words first,
   * then the arguments, flattened one level; no conventions and no reply shaping.
   */
  raw(args: readonly unknown[], what = 'execute_command'): CommandSpec {
    const argv = flat(args);
    if (typeof argv[0] !== 'string' || argv[0].trim() === '') {
      throw new TypeError(`${what}: the first argument must be the command name`);
    }
    const words = argv[0].trim().split(/\s+/).map((w) => w.toUpperCase());
    argv.splice(0, 1, ...words);
    return finish({ argv, words: words.length, reply: null }, false);
  }

  /** After resolution, a name like hGetAll may turn out to be a command the reference shapes. */
  private specFor(words: string[], args: readonly unknown[], name: MethodName, method: string): CommandSpec {
    const convention = conventionFor(words.join('_').toLowerCase());
    if (convention === undefined) return this.plainSpec(words, args, name.buffers);
    return finish(convention(args as unknown[], method), name.buffers);
  }

  private plainSpec(words: string[], args: readonly unknown[], buffers: boolean): CommandSpec {
    const argv: unknown[] = words.length === 1 ? [words[0]] : words.slice();
    for (const a of args) {
      if (Array.isArray(a)) for (const x of a) argv.push(x);
      else argv.push(a);
    }
    return finish({ argv, words: words.length, reply: null }, buffers);
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
    const [head, dot, whole] = await Promise.all([this.table.get(first!), this.table.get(dotted), this.table.get(joined)]);
    let words: string[];
    if (head !== null && isContainerFor(head, `${first}|${rest.join('-')}`, whole)) words = container;
    else if (dot !== null) words = [dotted.toUpperCase()];
    else if (whole !== null) words = [joined.toUpperCase()];
    else words = container;
    if (!this.table.unavailable) this.resolved.set(name.key, words);
    return words;
  }
}

/** The rules every spec gets, whoever built it: Buffer replies, blocking, connection state. */
function finish(spec: CommandSpec, buffers: boolean): CommandSpec {
  if (buffers) spec.buffers = true;
  if (spec.blockFor === undefined) {
    const blockFor = blockingTimeout(spec.argv[0] as string, spec.argv);
    if (blockFor !== undefined) spec.blockFor = blockFor;
  }
  const exclusive = exclusiveReason(spec.argv);
  if (exclusive !== undefined) spec.exclusive = exclusive;
  return spec;
}

function isContainerFor(head: CommandInfo, subName: string, whole: CommandInfo | null): boolean {
  if (head.subcommands !== null) return head.subcommands.has(subName) || whole === null;
  return whole === null;
}
