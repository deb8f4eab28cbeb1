/**
 * register_script(lua) → a callable Script. It runs EVALSHA (the script's text is sent once
 * per server, not on every call) and, when the server answers NOSCRIPT (restarted, SCRIPT
 * FLUSH, a new node), loads the script and runs it again. Queued on a pipeline, the pipeline
 * loads it before its batch is sent.
 */
import { Buffer } from 'node:buffer';
import { ReplyError } from '../errors.ts';
import { sha1Hex } from '../hash/sha1.ts';
import type { Reply } from '../resp/decode.ts';
import type { LoadableScript } from './command-queue.ts';

/** Anything that runs commands by method name: a ConstRedis, or a backend. */
export interface CommandRunner {
  command(method: string, args: readonly unknown[]): Promise<unknown>;
}

export type ScriptArg = string | number | bigint | Buffer | Uint8Array;

/** A pipeline (a node's or a backend's): it queues EVALSHA and loads the script before exec. */
export interface ScriptQueue {
  queueScript(script: LoadableScript, keys: readonly unknown[], args: readonly unknown[]): unknown;
}

export interface Script {
  /** Runs the script on the client it was registered with (or on `client`). */
  (keys?: readonly ScriptArg[], args?: readonly ScriptArg[], client?: CommandRunner): Promise<Reply>;
  /** Queues the script on a pipeline; its reply comes with the pipeline's. */
  <P extends ScriptQueue>(keys: readonly ScriptArg[], args: readonly ScriptArg[], pipeline: P): P;
  /** SHA1 of the script, as the server names it. */
  readonly sha: string;
  readonly script: string;
}

function checkList(what: string, list: unknown): readonly unknown[] {
  if (list === undefined) return [];
  if (!Array.isArray(list)) throw new TypeError(`script: ${what} must be an array`);
  for (const v of list) {
    if (typeof v !== 'string' && typeof v !== 'number' && typeof v !== 'bigint' && !(v instanceof Uint8Array)) {
      throw new TypeError(`script: ${what} may hold strings, numbers and Buffers, got ${v === null ? 'null' : typeof v}`);
    }
  }
  return list;
}

/** The SHA1 a server gives a script's text. */
export function scriptSha(lua: string): string {
  return sha1Hex(lua);
}

/** Runs EVALSHA, and on NOSCRIPT loads the script and runs EVALSHA again. */
export async function evalScript(runner: CommandRunner, sha: string, lua: string, keys: readonly unknown[], args: readonly unknown[]): Promise<Reply> {
  const argv = [sha, keys.length, ...keys, ...args];
  try {
    return (await runner.command('evalsha', argv)) as Reply;
  } catch (err) {
    if (!(err instanceof ReplyError) || err.code !== 'NOSCRIPT') throw err;
  }
  await runner.command('script_load', [lua]);
  return (await runner.command('evalsha', argv)) as Reply;
}

export function createScript(owner: CommandRunner, lua: string): Script {
  if (typeof lua !== 'string' || lua === '') throw new TypeError('register_script: the script must be a non-empty string');
  const sha = scriptSha(lua);
  function run(keys?: readonly ScriptArg[], args?: readonly ScriptArg[], target?: CommandRunner | ScriptQueue): Promise<Reply> | unknown {
    const k = checkList('keys', keys);
    const a = checkList('args', args);
    // `in` sees only real members, not the command names a pipeline's Proxy makes up.
    if (typeof target === 'object' && target !== null && 'queueScript' in target) return target.queueScript({ sha, script: lua }, k, a);
    if (target !== undefined && (typeof target !== 'object' || typeof (target as CommandRunner).command !== 'function')) {
      throw new TypeError('script: the third argument must be a client or a pipeline');
    }
    return evalScript(target ?? owner, sha, lua, k, a);
  }
  Object.defineProperty(run, 'sha', { value: sha, enumerable: true });
  Object.defineProperty(run, 'script', { value: lua, enumerable: true });
  return run as Script;
}
