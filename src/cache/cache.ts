/**
 * Django's low-level cache API over any redisdb backend, with Django's semantics: keys made as
 * `prefix:version:key`, a default timeout of 300 s (null: never expires; zero or less: the
 * value is not kept), `add` that only writes absent keys, `incr` that refuses missing keys.
 *
 * Writes and reads go through the backend, so on RedisCopy writes reach every node and reads
 * fail over, exactly as raw commands do; on RedisRing multi-key calls are grouped per node.
 */
import { Buffer } from 'node:buffer';
import { RedisError } from '../errors.ts';
import { checkTimeout, checkVersion, expiryMillis, resolveCacheOptions, type CacheOptions, type ResolvedCacheOptions } from './options.ts';
import { CacheTarget, type CacheBackend } from './target.ts';

/** Django's ValueError for incr/decr/incrVersion on a key that is not in the cache. */
export class KeyNotFoundError extends RedisError {
  override name = 'KeyNotFoundError';
  readonly key: string;
  constructor(key: string) {
    super(`Key '${key}' not found`);
    this.key = key;
  }
}

/** How many keys one SCAN step asks for when clear() looks for a prefix. */
const SCAN_COUNT = 1000;

function checkKey(key: unknown, method: string): asserts key is string {
  if (typeof key !== 'string') throw new TypeError(`cache.${method}: a key must be a string, got ${key === null ? 'null' : typeof key}`);
}

function checkDelta(delta: unknown, method: string): asserts delta is number {
  if (typeof delta !== 'number' || !Number.isSafeInteger(delta)) {
    throw new TypeError(`cache.${method}: delta must be an integer, got ${String(delta)}`);
  }
}

/** Longest key memcached takes, in characters, as Django counts them. */
const MEMCACHE_MAX_KEY_LENGTH = 250;
/** Characters memcached refuses in keys: controls, space and DEL (Django's memcached_error_chars_re). */
const MEMCACHE_ERROR_CHARS = /[\x00-\x20\x7f]/;

/**
 * Django's validate_key: keys that would break on memcached give a CacheKeyWarning, so code
 * stays portable between cache backends; Redis takes them, so nothing is refused.
 */
function warnKey(key: string): void {
  if (key.length > MEMCACHE_MAX_KEY_LENGTH && [...key].length > MEMCACHE_MAX_KEY_LENGTH) {
    process.emitWarning(`Cache key will cause errors if used with memcached: ${JSON.stringify(key)} (longer than ${MEMCACHE_MAX_KEY_LENGTH})`, 'CacheKeyWarning');
  }
  if (MEMCACHE_ERROR_CHARS.test(key)) {
    process.emitWarning(`Cache key contains characters that will cause errors if used with memcached: ${JSON.stringify(key)}`, 'CacheKeyWarning');
  }
}

function globEscape(s: string): string {
  return s.replace(/[*?[\]\\]/g, '\\$&');
}

export class Cache {
  readonly options: ResolvedCacheOptions;
  readonly backend: CacheBackend;
  private readonly target: CacheTarget;

  constructor(backend: CacheBackend, options: CacheOptions = {}) {
    this.target = new CacheTarget(backend);
    this.backend = backend;
    this.options = resolveCacheOptions(options);
  }

  /** The Redis key for a cache key: `keyFunction(key, keyPrefix, version)`. */
  makeKey(key: string, version?: number): string {
    checkKey(key, 'makeKey');
    const v = version ?? this.options.version;
    checkVersion(v, 'cache version');
    const made = this.options.keyFunction(key, this.options.keyPrefix, v);
    if (typeof made !== 'string') throw new TypeError('cache keyFunction must return a string');
    return made;
  }

  /** makeKey, then Django's validate_key: a key memcached could not take is warned about. */
  private validKey(key: string, version?: number): string {
    const made = this.makeKey(key, version);
    warnKey(made);
    return made;
  }

  private timeoutOf(timeout: number | null | undefined, method: string): number | null {
    return timeout === undefined ? this.options.timeout : checkTimeout(timeout, `cache.${method}: timeout`);
  }

  private get readMethod(): string {
    return this.options.serializer.binary === true ? 'getBuffer' : 'get';
  }

  private decode(raw: unknown): unknown {
    return this.options.serializer.loads(raw as string | Buffer);
  }

  private encode(value: unknown): string | Buffer {
    return this.options.serializer.dumps(value);
  }

  /** The value stored under key, or `defaultValue` (null unless given) when there is none. */
  async get<T = unknown>(key: string, defaultValue: T | null = null, version?: number): Promise<T | null> {
    const k = this.validKey(key, version);
    const raw = await this.target.run(this.readMethod, k);
    return raw === null || raw === undefined ? defaultValue : (this.decode(raw) as T);
  }

  /** Stores the value (a timeout of zero or less removes the key instead). Returns nothing. */
  async set(key: string, value: unknown, timeout?: number | null, version?: number): Promise<void> {
    const k = this.validKey(key, version);
    const data = this.encode(value);
    const ms = expiryMillis(this.timeoutOf(timeout, 'set'));
    if (ms === 0) await this.target.write('delete', k);
    else await this.target.write('set', k, data, ms === null ? {} : { px: ms });
  }

  /**
   * Stores the value only if the key is absent; true when it was stored. With a timeout of zero
   * or less it answers as if stored and then removes it, as Django does. On RedisCopy the
   * answer is the key's read node's, since that is the value later reads return.
   */
  async add(key: string, value: unknown, timeout?: number | null, version?: number): Promise<boolean> {
    const k = this.validKey(key, version);
    const data = this.encode(value);
    const ms = expiryMillis(this.timeoutOf(timeout, 'add'));
    const stored = (await this.target.write('set', k, data, ms === null || ms === 0 ? { nx: true } : { nx: true, px: ms })) === true;
    if (stored && ms === 0) await this.target.write('delete', k);
    return stored;
  }

  /**
   * The value under key; when absent, `defaultValue` (or what it returns, if a function) is
   * added with the timeout and the stored value read back, so concurrent callers agree.
   */
  async getOrSet<T = unknown>(key: string, defaultValue: T | (() => T | Promise<T>), timeout?: number | null, version?: number): Promise<T> {
    const missing = Symbol('missing');
    const found = await this.get<T | typeof missing>(key, missing, version);
    if (found !== missing) return found as T;
    const value = typeof defaultValue === 'function' ? await (defaultValue as () => T | Promise<T>)() : defaultValue;
    await this.add(key, value, timeout, version);
    return (await this.get<T>(key, value, version)) as T;
  }

  /** The keys that are in the cache, with their values; absent keys are left out. */
  async getMany(keys: Iterable<string>, version?: number): Promise<Record<string, unknown>> {
    const byMade = new Map<string, string>();
    for (const key of keys) byMade.set(this.validKey(key, version), key);
    const made = [...byMade.keys()];
    const method = this.options.serializer.binary === true ? 'mgetBuffer' : 'mget';
    const groups = this.target.groupByNode(made);
    const replies = await Promise.all(groups.map((g) => this.target.run(method, g)));
    const out: Record<string, unknown> = {};
    groups.forEach((group, gi) => {
      const values = replies[gi] as unknown[];
      group.forEach((k, i) => {
        const raw = values[i];
        if (raw !== null && raw !== undefined) out[byMade.get(k)!] = this.decode(raw);
      });
    });
    return out;
  }

  /**
   * Stores every entry; returns the keys that could not be stored (empty when all were). The
   * writes are issued together, so each node receives its share in one round trip.
   */
  async setMany(data: Record<string, unknown> | Map<string, unknown>, timeout?: number | null, version?: number): Promise<string[]> {
    if (typeof data !== 'object' || data === null) throw new TypeError('cache.setMany: data must be an object or a Map');
    const entries = data instanceof Map ? [...data] : Object.entries(data);
    const ms = expiryMillis(this.timeoutOf(timeout, 'setMany'));
    // Everything is checked and serialized before anything is sent.
    const writes = entries.map(([key, value]) => [key, this.validKey(key, version), this.encode(value)] as const);
    const results = await Promise.allSettled(writes.map(([, k, v]) => {
      if (ms === 0) return this.target.write('delete', k);
      return this.target.write('set', k, v, ms === null ? {} : { px: ms });
    }));
    return writes.filter((_, i) => results[i]!.status === 'rejected').map(([key]) => key);
  }

  /** True when the key was there and is now gone. */
  async delete(key: string, version?: number): Promise<boolean> {
    const n = await this.target.write('delete', this.validKey(key, version));
    return typeof n === 'number' && n > 0;
  }

  /** Deletes every key given, one command per node. Returns nothing. */
  async deleteMany(keys: Iterable<string>, version?: number): Promise<void> {
    const made = [...new Set(Array.from(keys, (k) => this.validKey(k, version)))];
    await Promise.all(this.target.groupByNode(made).map((g) => this.target.run('delete', g)));
  }

  async hasKey(key: string, version?: number): Promise<boolean> {
    return this.exists(this.validKey(key, version));
  }

  private async exists(made: string): Promise<boolean> {
    const r = await this.target.run('exists', made);
    return r === true || (typeof r === 'number' && r > 0);
  }

  /**
   * Adds delta to an integer value and returns the result; the key's expiry is kept. A missing
   * key is an error (KeyNotFoundError), as Django's ValueError; a non-integer value is the
   * server's ReplyError.
   */
  async incr(key: string, delta = 1, version?: number): Promise<number> {
    checkDelta(delta, 'incr');
    const k = this.validKey(key, version);
    // Django checks existence first too: INCRBY alone would create the key from zero.
    if (!(await this.exists(k))) throw new KeyNotFoundError(key);
    return (await this.target.write('incrby', k, delta)) as number;
  }

  async decr(key: string, delta = 1, version?: number): Promise<number> {
    checkDelta(delta, 'decr');
    return this.incr(key, -delta, version);
  }

  /** Gives the key a new timeout (null: never expires); true when the key exists. */
  async touch(key: string, timeout?: number | null, version?: number): Promise<boolean> {
    const k = this.validKey(key, version);
    const ms = expiryMillis(this.timeoutOf(timeout, 'touch'));
    const r = ms === null ? await this.target.write('persist', k) : await this.target.write('pexpire', k, ms);
    if (ms !== null) return r === true;
    // PERSIST answers false for a key without expiry; Django's touch is about the key existing.
    return r === true || this.exists(k);
  }

  /** Seconds the key has left; null when it never expires, 0 when it is not there. */
  async ttl(key: string, version?: number): Promise<number | null> {
    const t = (await this.target.run('ttl', this.validKey(key, version))) as number;
    if (t === -1) return null;
    return t < 0 ? 0 : t;
  }

  /**
   * Moves the value to version + delta and returns the new version; a missing key is a
   * KeyNotFoundError. The stored bytes and the remaining expiry move unchanged.
   */
  async incrVersion(key: string, delta = 1, version?: number): Promise<number> {
    checkDelta(delta, 'incrVersion');
    const from = version ?? this.options.version;
    checkVersion(from, 'cache version');
    const to = from + delta;
    const oldKey = this.validKey(key, from);
    const newKey = this.validKey(key, to);
    const [raw, pttl] = await Promise.all([this.target.run('getBuffer', oldKey), this.target.run('pttl', oldKey)]);
    if (raw === null || raw === undefined) throw new KeyNotFoundError(key);
    const ms = pttl as number;
    await this.target.write('set', newKey, raw, ms > 0 ? { px: ms } : {});
    await this.target.write('delete', oldKey);
    return to;
  }

  async decrVersion(key: string, delta = 1, version?: number): Promise<number> {
    checkDelta(delta, 'decrVersion');
    return this.incrVersion(key, -delta, version);
  }

  /**
   * With a key prefix: deletes this cache's keys only, found by SCAN on every node, so other
   * data sharing the database stays. Without a prefix: FLUSHDB on every node, as Django's
   * Redis cache does (everything in the database goes).
   */
  async clear(): Promise<void> {
    const prefix = this.options.keyPrefix;
    if (prefix === '') {
      await Promise.all(this.target.servers.map((s) => this.target.runOn(s, 'flushdb')));
      return;
    }
    const match = `${globEscape(prefix)}${this.options.defaultKeyFunction ? ':' : ''}*`;
    await Promise.all(this.target.servers.map((s) => this.clearServer(s, match)));
  }

  private async clearServer(server: object, match: string): Promise<void> {
    let cursor: unknown = 0;
    do {
      const [next, keys] = (await this.target.runOn(server, 'scan', cursor, { match, count: SCAN_COUNT })) as [unknown, string[]];
      if (keys.length > 0) await this.target.runOn(server, 'unlink', keys);
      cursor = next;
    } while (String(cursor) !== '0');
  }

  /**
   * Django calls close() after every request and goes on using the cache: the sockets end
   * once their commands are answered, and the next call connects again. The backend's own
   * close() is the one that ends it for good.
   */
  close(): Promise<void> {
    return this.target.release();
  }
}
