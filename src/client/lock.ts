/**
 * A lock with redis-py's semantics: a key holding a random token, taken with SET NX PX,
 * released and extended by scripts that act only while the key still holds our token, so a
 * holder whose lock expired cannot release or extend the next holder's.
 */
import { Buffer } from 'node:buffer';
import { LockError } from '../errors.ts';
import type { Reply } from '../resp/decode.ts';
import { createScript, type CommandRunner, type Script } from './script.ts';

/**
 * 16 random bytes as hex, from Web Crypto: present in every runtime the library runs on, and,
 * unlike node:crypto, loaded only when a lock is first taken rather than with the library.
 */
function randomToken(): string {
  return Buffer.from(crypto.getRandomValues(new Uint8Array(16))).toString('hex');
}

export interface LockOptions {
  /** Seconds the lock lives at most (null: until released). */
  timeout?: number | null;
  /** Seconds between attempts while blocking (default 0.1). */
  sleep?: number;
  /** Seconds acquire() may block at most (null: forever). */
  blocking_timeout?: number | null;
  blockingTimeout?: number | null;
  /**
   * redis-py keeps the token per thread. A Node process runs one thread and a Lock object is
   * never shared between worker threads, so the token always belongs to this object.
   */
  thread_local?: boolean;
  threadLocal?: boolean;
  /** Accepted for compatibility with the reference; there is one lock class. */
  lock_class?: unknown;
}

export interface AcquireOptions {
  /** false: one attempt only (default true). */
  blocking?: boolean;
  blocking_timeout?: number | null;
  blockingTimeout?: number | null;
  /** The token to store (default: 16 random bytes, hex). */
  token?: string;
}

/** Deletes the lock only while it holds our token. ARGV: token. */
export const RELEASE_SCRIPT = `if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) end return 0`;

/** Extends the lock only while it holds our token. ARGV: token, ms, '1' to replace the TTL. */
export const EXTEND_SCRIPT = `if redis.call('get', KEYS[1]) ~= ARGV[1] then return 0 end
local ttl = redis.call('pttl', KEYS[1])
if ttl < 0 then return -1 end
local ms = tonumber(ARGV[2])
if ARGV[3] ~= '1' then ms = ms + ttl end
redis.call('pexpire', KEYS[1], ms)
return 1`;

// ARGV: token, milliseconds.
const REACQUIRE = `if redis.call('get', KEYS[1]) ~= ARGV[1] then return 0 end
redis.call('pexpire', KEYS[1], ARGV[2])
return 1`;

const OPTION_NAMES = ['timeout', 'sleep', 'blocking_timeout', 'blockingTimeout', 'thread_local', 'threadLocal', 'lock_class'];

export function lockSeconds(what: string, v: unknown, nullable: boolean): number | null {
  if (v === null && nullable) return null;
  if (typeof v !== 'number' || !Number.isFinite(v) || v < 0) {
    throw new RangeError(`lock: ${what} must be a non-negative number of seconds${nullable ? ' or null' : ''}, got ${String(v)}`);
  }
  return v;
}

/** A lock's checked settings, shared by Lock and Redlock. */
export interface LockSettings {
  readonly name: string;
  /** Seconds, or null for no expiry. */
  readonly timeout: number | null;
  readonly sleep: number;
  readonly blockingTimeout: number | null;
}

export function lockSettings(name: unknown, options: LockOptions): LockSettings {
  if (typeof name !== 'string' || name === '') throw new TypeError('lock: the name must be a non-empty string');
  if (typeof options !== 'object' || options === null) throw new TypeError('lock: options must be an object');
  for (const key of Object.keys(options)) {
    if (!OPTION_NAMES.includes(key)) throw new TypeError(`lock: unknown option '${key}'; expected one of: ${OPTION_NAMES.join(', ')}`);
  }
  const tl = options.thread_local ?? options.threadLocal ?? true;
  if (typeof tl !== 'boolean') throw new TypeError('lock: thread_local must be true or false');
  const timeout = lockSeconds('timeout', options.timeout ?? null, true);
  if (timeout === 0) throw new RangeError('lock: timeout must be more than 0 seconds (or null)');
  return {
    name,
    timeout,
    sleep: lockSeconds('sleep', options.sleep ?? 0.1, false)!,
    blockingTimeout: lockSeconds('blocking_timeout', options.blocking_timeout ?? options.blockingTimeout ?? null, true),
  };
}

/**
 * The acquire loop: `attempt(token)` until it succeeds, every `sleep` seconds (stretched by up
 * to `jitter` of itself, so rivals stop colliding) until blocking_timeout passes. Resolves to
 * the token that was taken, or null.
 */
export async function acquireLoop(
  settings: LockSettings,
  options: AcquireOptions,
  attempt: (token: string) => Promise<boolean>,
  jitter = 0,
): Promise<string | null> {
  if (typeof options !== 'object' || options === null) throw new TypeError('acquire: options must be an object');
  const blocking = options.blocking ?? true;
  if (typeof blocking !== 'boolean') throw new TypeError('acquire: blocking must be true or false');
  const limit = options.blocking_timeout !== undefined || options.blockingTimeout !== undefined
    ? lockSeconds('blocking_timeout', options.blocking_timeout ?? options.blockingTimeout ?? null, true)
    : settings.blockingTimeout;
  const token = options.token ?? randomToken();
  if (typeof token !== 'string' || token === '') throw new TypeError('acquire: token must be a non-empty string');
  // The monotonic clock: a step of the system clock must not stretch (or cut) the wait.
  const stopAt = limit === null ? Infinity : performance.now() + limit * 1000;
  for (;;) {
    if (await attempt(token)) return token;
    if (!blocking) return null;
    const wait = Math.min(settings.sleep * 1000 * (1 + Math.random() * jitter), stopAt - performance.now());
    if (wait < 0 || (wait === 0 && stopAt !== Infinity)) return null;
    await new Promise((r) => setTimeout(r, wait));
    if (performance.now() > stopAt) return null;
  }
}

/** Runs `fn` while holding a lock: acquire, then release however fn ends. */
export async function runHolding<T>(
  lock: { readonly name: string; acquire(o: AcquireOptions): Promise<boolean>; release(): Promise<void> },
  fn: () => T | Promise<T>,
  options: AcquireOptions,
): Promise<T> {
  if (!(await lock.acquire(options))) throw new LockError(`could not acquire lock '${lock.name}' in time`);
  try {
    return await fn();
  } finally {
    await lock.release();
  }
}

function isText(t: unknown): boolean {
  return typeof t === 'string' || Buffer.isBuffer(t);
}

export class Lock {
  readonly name: string;
  /** Seconds, or null for no expiry. */
  readonly timeout: number | null;
  readonly sleep: number;
  readonly blockingTimeout: number | null;
  /** The token while held by this object. */
  token: string | null = null;
  private readonly runner: CommandRunner;
  private readonly settings: LockSettings;
  private readonly release_: Script;
  private readonly extend_: Script;
  private readonly reacquire_: Script;

  constructor(runner: CommandRunner, name: string, options: LockOptions = {}) {
    const settings = lockSettings(name, options);
    this.settings = settings;
    this.runner = runner;
    this.name = settings.name;
    this.timeout = settings.timeout;
    this.sleep = settings.sleep;
    this.blockingTimeout = settings.blockingTimeout;
    this.release_ = createScript(runner, RELEASE_SCRIPT);
    this.extend_ = createScript(runner, EXTEND_SCRIPT);
    this.reacquire_ = createScript(runner, REACQUIRE);
  }

  /**
   * Takes the lock. Blocking (the default) retries every `sleep` seconds until it succeeds or
   * blocking_timeout passes; resolves to whether it was taken.
   */
  async acquire(options: AcquireOptions = {}): Promise<boolean> {
    const token = await acquireLoop(this.settings, options, (t) => this.tryTake(t));
    if (token === null) return false;
    this.token = token;
    return true;
  }

  private async tryTake(token: string): Promise<boolean> {
    const options = this.timeout === null ? { nx: true } : { nx: true, px: Math.ceil(this.timeout * 1000) };
    return (await this.runner.command('set', [this.name, token, options])) === true;
  }

  /** Whether anyone holds the lock. */
  async locked(): Promise<boolean> {
    return (await this.runner.command('get', [this.name])) !== null;
  }

  /** Whether this object holds it (the key still holds its token). */
  async owned(): Promise<boolean> {
    if (this.token === null) return false;
    const stored = (await this.runner.command('get', [this.name])) as Reply;
    return isText(stored) && String(stored) === this.token;
  }

  /** Releases the lock; LockError if this object does not hold it (any more). */
  async release(): Promise<void> {
    const token = this.token;
    if (token === null) throw new LockError(`cannot release lock '${this.name}': it is not held by this object`);
    this.token = null;
    const deleted = await this.release_([this.name], [token]);
    if (deleted !== 1) throw new LockError(`cannot release lock '${this.name}': it is no longer owned (expired, or taken by another holder)`);
  }

  /**
   * Adds `additionalTime` seconds to the lock's remaining life, or sets its life to that when
   * `replaceTtl`. LockError when not owned, or when the lock has no timeout.
   */
  async extend(additionalTime: number, replaceTtl = false): Promise<true> {
    const s = lockSeconds('additional_time', additionalTime, false)!;
    if (typeof replaceTtl !== 'boolean') throw new TypeError('extend: replaceTtl must be true or false');
    if (this.token === null) throw new LockError(`cannot extend lock '${this.name}': it is not held by this object`);
    if (this.timeout === null) throw new LockError(`cannot extend lock '${this.name}': it has no timeout`);
    const r = await this.extend_([this.name], [this.token, Math.ceil(s * 1000), replaceTtl ? '1' : '0']);
    if (r === 0) throw new LockError(`cannot extend lock '${this.name}': it is no longer owned`);
    if (r === -1) throw new LockError(`cannot extend lock '${this.name}': it has no expiry on the server`);
    return true;
  }

  /** Resets the lock's life to its full timeout. */
  async reacquire(): Promise<true> {
    if (this.token === null) throw new LockError(`cannot reacquire lock '${this.name}': it is not held by this object`);
    if (this.timeout === null) throw new LockError(`cannot reacquire lock '${this.name}': it has no timeout`);
    const r = await this.reacquire_([this.name], [this.token, Math.ceil(this.timeout * 1000)]);
    if (r !== 1) throw new LockError(`cannot reacquire lock '${this.name}': it is no longer owned`);
    return true;
  }

  /** Runs `fn` while holding the lock (acquire, then release however fn ends). */
  run<T>(fn: () => T | Promise<T>, options: AcquireOptions = {}): Promise<T> {
    return runHolding(this, fn, options);
  }
}
