/**
 * Redlock: a lock over independent nodes (RedisCopy's), with the same API as the single-node
 * Lock. One attempt sets the token on every node at once (SET NX PX), each node given only a
 * short time to answer; the lock is held when a majority took it and time remains of its
 * validity after the attempt's duration and an allowance for clock drift. A failed attempt is
 * undone on every node, then retried after `sleep` plus a little jitter, so rivals do not
 * keep colliding. Release and extend act on every node and only where the token is ours.
 */
import { randomBytes } from 'node:crypto';
import type { ConstRedis } from '../client/const-redis.js';
import type { AcquireOptions, LockOptions } from '../client/lock.js';
import { createScript, type Script } from '../client/script.js';
import { LockError, TimeoutError } from '../errors.js';

const RELEASE = `if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) end return 0`;

const EXTEND = `if redis.call('get', KEYS[1]) ~= ARGV[1] then return 0 end
local ttl = redis.call('pttl', KEYS[1])
if ttl < 0 then return -1 end
local ms = tonumber(ARGV[2])
if ARGV[3] ~= '1' then ms = ms + ttl end
redis.call('pexpire', KEYS[1], ms)
return 1`;

/** Redis expires keys with up to ~1 ms of error; clocks drift by a fraction of the TTL. */
const DRIFT_FACTOR = 0.01;
const DRIFT_FIXED_MS = 2;

const OPTION_NAMES = ['timeout', 'sleep', 'blocking_timeout', 'blockingTimeout', 'thread_local', 'threadLocal', 'lock_class'];

function seconds(what: string, v: unknown, nullable: boolean): number | null {
  if (v === null && nullable) return null;
  if (typeof v !== 'number' || !Number.isFinite(v) || v < 0) {
    throw new RangeError(`lock: ${what} must be a non-negative number of seconds${nullable ? ' or null' : ''}, got ${String(v)}`);
  }
  return v;
}

/** Settles within `ms`: a node that does not answer in time counts as a failure. */
function within<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => reject(new TimeoutError(`${what} did not answer within ${ms} ms`)), ms);
    timer.unref();
    p.then(
      (v) => {
        clearTimeout(timer);
        resolve(v);
      },
      (e: unknown) => {
        clearTimeout(timer);
        reject(e);
      },
    );
  });
}

export class Redlock {
  readonly name: string;
  readonly timeout: number | null;
  readonly sleep: number;
  readonly blockingTimeout: number | null;
  /** Nodes needed to hold the lock: a majority. */
  readonly quorum: number;
  token: string | null = null;
  /** Date.now() until which the lock is known to be held (Infinity without a timeout). */
  validUntil = 0;
  private readonly release_: Script;
  private readonly extend_: Script;

  constructor(
    private readonly nodes: readonly ConstRedis[],
    name: string,
    options: LockOptions = {},
  ) {
    if (typeof name !== 'string' || name === '') throw new TypeError('lock: the name must be a non-empty string');
    if (typeof options !== 'object' || options === null) throw new TypeError('lock: options must be an object');
    for (const key of Object.keys(options)) {
      if (!OPTION_NAMES.includes(key)) throw new TypeError(`lock: unknown option '${key}'; expected one of: ${OPTION_NAMES.join(', ')}`);
    }
    const tl = options.thread_local ?? options.threadLocal ?? true;
    if (typeof tl !== 'boolean') throw new TypeError('lock: thread_local must be true or false');
    this.name = name;
    this.timeout = seconds('timeout', options.timeout ?? null, true);
    if (this.timeout === 0) throw new RangeError('lock: timeout must be more than 0 seconds (or null)');
    this.sleep = seconds('sleep', options.sleep ?? 0.1, false)!;
    this.blockingTimeout = seconds('blocking_timeout', options.blocking_timeout ?? options.blockingTimeout ?? null, true);
    this.quorum = Math.floor(nodes.length / 2) + 1;
    this.release_ = createScript(nodes[0]!, RELEASE);
    this.extend_ = createScript(nodes[0]!, EXTEND);
  }

  /** How long one node may take to answer: short next to the lock's life, as Redlock asks. */
  private get nodeWaitMs(): number {
    const ttl = this.timeout === null ? 10_000 : this.timeout * 1000;
    return Math.max(20, Math.min(1000, ttl / 10));
  }

  /** Runs `fn` on every node at once; resolves to how many succeeded (fn returned true). */
  private async onEvery(what: string, fn: (node: ConstRedis) => Promise<boolean>): Promise<number> {
    const settled = await Promise.allSettled(this.nodes.map((n) => within(fn(n), this.nodeWaitMs, `${what} on ${n.address}`)));
    return settled.filter((s) => s.status === 'fulfilled' && s.value).length;
  }

  async acquire(options: AcquireOptions = {}): Promise<boolean> {
    if (typeof options !== 'object' || options === null) throw new TypeError('acquire: options must be an object');
    const blocking = options.blocking ?? true;
    if (typeof blocking !== 'boolean') throw new TypeError('acquire: blocking must be true or false');
    const limit = options.blocking_timeout !== undefined || options.blockingTimeout !== undefined
      ? seconds('blocking_timeout', options.blocking_timeout ?? options.blockingTimeout ?? null, true)
      : this.blockingTimeout;
    const token = options.token ?? randomBytes(16).toString('hex');
    if (typeof token !== 'string' || token === '') throw new TypeError('acquire: token must be a non-empty string');
    const stopAt = limit === null ? Infinity : Date.now() + limit * 1000;
    for (;;) {
      if (await this.attempt(token)) return true;
      if (!blocking) return false;
      const wait = Math.min(this.sleep * 1000 * (1 + Math.random() * 0.2), stopAt - Date.now());
      if (wait <= 0) return false;
      await new Promise((r) => setTimeout(r, wait));
      if (Date.now() > stopAt) return false;
    }
  }

  private async attempt(token: string): Promise<boolean> {
    const ttlMs = this.timeout === null ? null : Math.ceil(this.timeout * 1000);
    const options = ttlMs === null ? { nx: true } : { nx: true, px: ttlMs };
    const started = Date.now();
    const taken = await this.onEvery('SET NX', async (n) => (await n.set(this.name, token, options)) === true);
    const elapsed = Date.now() - started;
    const validity = ttlMs === null ? Infinity : ttlMs - elapsed - (ttlMs * DRIFT_FACTOR + DRIFT_FIXED_MS);
    if (taken >= this.quorum && validity > 0) {
      this.token = token;
      this.validUntil = started + validity;
      return true;
    }
    // Undo the partial acquisition everywhere, so a minority does not block the next attempt.
    await this.onEvery('release', async (n) => (await this.release_([this.name], [token], n)) === 1);
    return false;
  }

  /** Releases on every node; LockError unless a majority still held our token. */
  async release(): Promise<void> {
    const token = this.token;
    if (token === null) throw new LockError(`cannot release lock '${this.name}': it is not held by this object`);
    this.token = null;
    this.validUntil = 0;
    const released = await this.onEvery('release', async (n) => (await this.release_([this.name], [token], n)) === 1);
    if (released < this.quorum) {
      throw new LockError(`cannot release lock '${this.name}': only ${released} of ${this.nodes.length} nodes still held it (expired, or taken by another holder)`);
    }
  }

  /** Extends the lock on every node; LockError unless a majority agreed. */
  async extend(additionalTime: number, replaceTtl = false): Promise<true> {
    const s = seconds('additional_time', additionalTime, false)!;
    if (typeof replaceTtl !== 'boolean') throw new TypeError('extend: replaceTtl must be true or false');
    const token = this.token;
    if (token === null) throw new LockError(`cannot extend lock '${this.name}': it is not held by this object`);
    if (this.timeout === null) throw new LockError(`cannot extend lock '${this.name}': it has no timeout`);
    const ms = Math.ceil(s * 1000);
    const started = Date.now();
    const extended = await this.onEvery('extend', async (n) => (await this.extend_([this.name], [token, ms, replaceTtl ? '1' : '0'], n)) === 1);
    if (extended < this.quorum) throw new LockError(`cannot extend lock '${this.name}': only ${extended} of ${this.nodes.length} nodes still held it`);
    if (replaceTtl) this.validUntil = started + ms - (ms * DRIFT_FACTOR + DRIFT_FIXED_MS);
    else this.validUntil += ms;
    return true;
  }

  /** Whether a majority of nodes hold the lock (anyone's). */
  async locked(): Promise<boolean> {
    return (await this.onEvery('GET', async (n) => (await n.get(this.name)) !== null)) >= this.quorum;
  }

  /** Whether a majority of nodes hold this object's token. */
  async owned(): Promise<boolean> {
    const token = this.token;
    if (token === null) return false;
    return (await this.onEvery('GET', async (n) => String(await n.get(this.name)) === token)) >= this.quorum;
  }

  async run<T>(fn: () => T | Promise<T>, options: AcquireOptions = {}): Promise<T> {
    if (!(await this.acquire(options))) throw new LockError(`could not acquire lock '${this.name}' in time`);
    try {
      return await fn();
    } finally {
      await this.release();
    }
  }
}
