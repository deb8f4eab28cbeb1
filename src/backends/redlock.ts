/**
 * Redlock: a lock over independent nodes (RedisCopy's), with the same API as the single-node
 * Lock. One attempt sets the token on every node at once (SET NX PX), each node given only a
 * short time to answer; the lock is held when a majority took it and time remains of its
 * validity after the attempt's duration and an allowance for clock drift. A failed attempt is
 * undone on every node, then retried after `sleep` plus a little jitter, so rivals do not
 * keep colliding. Release and extend act on every node and only where the token is ours.
 */
import type { ConstRedis } from '../client/const-redis.ts';
import {
  EXTEND_SCRIPT, RELEASE_SCRIPT, acquireLoop, lockSeconds, lockSettings, runHolding,
  type AcquireOptions, type LockOptions, type LockSettings,
} from '../client/lock.ts';
import { createScript, type Script } from '../client/script.ts';
import { LockError, TimeoutError } from '../errors.ts';

/** Redis expires keys with up to ~1 ms of error; clocks drift by a fraction of the TTL. */
const DRIFT_FACTOR = 0.01;
const DRIFT_FIXED_MS = 2;

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
  /**
   * performance.now() until which the lock is known to be held (Infinity without a timeout, 0
   * when not held): durations are measured on the monotonic clock, which no clock step moves.
   */
  private heldUntil = 0;
  private readonly settings: LockSettings;
  private readonly release_: Script;
  private readonly extend_: Script;

  private readonly nodes: readonly ConstRedis[];
  constructor(
    nodes: readonly ConstRedis[],
    name: string,
    options: LockOptions = {},
  ) {
    this.nodes = nodes;
    const settings = lockSettings(name, options);
    this.settings = settings;
    this.name = settings.name;
    this.timeout = settings.timeout;
    this.sleep = settings.sleep;
    this.blockingTimeout = settings.blockingTimeout;
    this.quorum = Math.floor(nodes.length / 2) + 1;
    this.release_ = createScript(nodes[0]!, RELEASE_SCRIPT);
    this.extend_ = createScript(nodes[0]!, EXTEND_SCRIPT);
  }

  /**
   * The wall-clock time (as Date.now()) until which the lock is known to be held: now plus
   * what remains on the monotonic clock, so it stays right across a step of the system clock.
   */
  get validUntil(): number {
    if (this.heldUntil === 0 || this.heldUntil === Infinity) return this.heldUntil;
    return Date.now() + (this.heldUntil - performance.now());
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

  /** Like Lock#acquire; retries wait `sleep` plus up to 20% jitter, so rivals stop colliding. */
  async acquire(options: AcquireOptions = {}): Promise<boolean> {
    return (await acquireLoop(this.settings, options, (t) => this.attempt(t), 0.2)) !== null;
  }

  private async attempt(token: string): Promise<boolean> {
    const ttlMs = this.timeout === null ? null : Math.ceil(this.timeout * 1000);
    const options = ttlMs === null ? { nx: true } : { nx: true, px: ttlMs };
    const started = performance.now();
    const taken = await this.onEvery('SET NX', async (n) => (await n.set(this.name, token, options)) === true);
    const elapsed = performance.now() - started;
    const validity = ttlMs === null ? Infinity : ttlMs - elapsed - (ttlMs * DRIFT_FACTOR + DRIFT_FIXED_MS);
    if (taken >= this.quorum && validity > 0) {
      this.token = token;
      this.heldUntil = started + validity;
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
    this.heldUntil = 0;
    const released = await this.onEvery('release', async (n) => (await this.release_([this.name], [token], n)) === 1);
    if (released < this.quorum) {
      throw new LockError(`cannot release lock '${this.name}': only ${released} of ${this.nodes.length} nodes still held it (expired, or taken by another holder)`);
    }
  }

  /** Extends the lock on every node; LockError unless a majority agreed. */
  async extend(additionalTime: number, replaceTtl = false): Promise<true> {
    const s = lockSeconds('additional_time', additionalTime, false)!;
    if (typeof replaceTtl !== 'boolean') throw new TypeError('extend: replaceTtl must be true or false');
    const token = this.token;
    if (token === null) throw new LockError(`cannot extend lock '${this.name}': it is not held by this object`);
    if (this.timeout === null) throw new LockError(`cannot extend lock '${this.name}': it has no timeout`);
    const ms = Math.ceil(s * 1000);
    const started = performance.now();
    const extended = await this.onEvery('extend', async (n) => (await this.extend_([this.name], [token, ms, replaceTtl ? '1' : '0'], n)) === 1);
    if (extended < this.quorum) throw new LockError(`cannot extend lock '${this.name}': only ${extended} of ${this.nodes.length} nodes still held it`);
    if (replaceTtl) this.heldUntil = started + ms - (ms * DRIFT_FACTOR + DRIFT_FIXED_MS);
    else this.heldUntil += ms;
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

  run<T>(fn: () => T | Promise<T>, options: AcquireOptions = {}): Promise<T> {
    return runHolding(this, fn, options);
  }
}
