/**
 * A store with Keyv's storage-adapter interface, so `new Keyv({ store: redisdbKeyvStore(backend) })`
 * (and cache-manager, which sits on Keyv) keeps its data on any redisdb backend, without redisdb
 * depending on Keyv.
 *
 * Keyv hands the store keys already prefixed with its namespace (`keyv:user:1`) and values it
 * has already serialized (strings), and sets `store.namespace`; `clear()` and `iterator()`
 * therefore work on `namespace:*` only. Values that are not strings are stored with the
 * cache's JSON serializer and come back as that JSON text.
 */
import { EventEmitter } from 'node:events';
import { jsonSerializer } from './serializer.js';
import { CacheTarget, type CacheBackend } from './target.js';

export interface KeyvStoreOptions {
  /** Namespace to start with (Keyv overwrites it with its own). */
  namespace?: string;
}

export interface KeyvEntry {
  key: string;
  value: unknown;
  ttl?: number;
}

/** How many keys one SCAN step asks for in clear() and iterator(). */
const SCAN_COUNT = 1000;

function globEscape(s: string): string {
  return s.replace(/[*?[\]\\]/g, '\\$&');
}

function toStored(value: unknown): string | Buffer {
  return typeof value === 'string' || Buffer.isBuffer(value) ? value : (jsonSerializer.dumps(value) as string);
}

export class RedisdbKeyvStore extends EventEmitter {
  namespace: string | undefined;
  /** Read by Keyv: the 'redis' dialect tells it this store can iterate. */
  readonly opts: { dialect: 'redis'; url: string };
  private readonly target: CacheTarget;

  constructor(backend: CacheBackend, options: KeyvStoreOptions = {}) {
    super();
    this.target = new CacheTarget(backend);
    this.namespace = options.namespace;
    const first = this.target.servers[0] as { address?: unknown };
    this.opts = { dialect: 'redis', url: `redis://${typeof first.address === 'string' ? first.address : 'redisdb'}` };
  }

  /** Errors are reported on 'error' (as Keyv stores do) and rethrown to the caller. */
  private failed(err: unknown): never {
    if (this.listenerCount('error') > 0) this.emit('error', err);
    throw err;
  }

  async get(key: string): Promise<string | undefined> {
    try {
      const v = await this.target.run('get', key);
      return v === null || v === undefined ? undefined : (v as string);
    } catch (err) {
      return this.failed(err);
    }
  }

  async getMany(keys: string[]): Promise<Array<string | undefined>> {
    try {
      const found = new Map<string, string>();
      const groups = this.target.groupByNode(keys);
      const replies = await Promise.all(groups.map((g) => this.target.run('mget', g) as Promise<Array<string | null>>));
      groups.forEach((g, gi) => g.forEach((k, i) => {
        const v = replies[gi]![i];
        if (v !== null && v !== undefined) found.set(k, v);
      }));
      return keys.map((k) => found.get(k));
    } catch (err) {
      return this.failed(err);
    }
  }

  /**
   * ttl in milliseconds; none (or not positive): no expiry, as Keyv means it. A failure is
   * thrown but not emitted: Keyv emits failed writes itself.
   */
  async set(key: string, value: unknown, ttl?: number): Promise<boolean> {
    const stored = toStored(value);
    const ok = await this.target.write('set', key, stored, typeof ttl === 'number' && ttl > 0 ? { px: Math.ceil(ttl) } : {});
    return ok === true;
  }

  /** Issued together, so each node gets its share in one round trip. */
  async setMany(entries: KeyvEntry[]): Promise<boolean[]> {
    const results = await Promise.allSettled(entries.map((e) => this.set(e.key, e.value, e.ttl)));
    return results.map((r) => r.status === 'fulfilled' && r.value);
  }

  async delete(key: string): Promise<boolean> {
    try {
      const n = await this.target.write('delete', key);
      return typeof n === 'number' && n > 0;
    } catch (err) {
      return this.failed(err);
    }
  }

  /** True when at least one of the keys was deleted. */
  async deleteMany(keys: string[]): Promise<boolean> {
    try {
      const replies = await Promise.all(this.target.groupByNode(keys).map((g) => this.target.run('delete', g)));
      return replies.some((r) => (Array.isArray(r) ? r.some((n) => typeof n === 'number' && n > 0) : typeof r === 'number' && r > 0));
    } catch (err) {
      return this.failed(err);
    }
  }

  async has(key: string): Promise<boolean> {
    try {
      return (await this.target.run('exists', key)) === true;
    } catch (err) {
      return this.failed(err);
    }
  }

  async hasMany(keys: string[]): Promise<boolean[]> {
    return Promise.all(keys.map((k) => this.has(k)));
  }

  /** The namespace's keys on every node (SCAN); without a namespace, FLUSHDB on every node. */
  async clear(): Promise<void> {
    try {
      if (this.namespace === undefined || this.namespace === '') {
        await Promise.all(this.target.servers.map((s) => this.target.runOn(s, 'flushdb')));
        return;
      }
      const match = `${globEscape(this.namespace)}:*`;
      await Promise.all(this.target.servers.map(async (server) => {
        for await (const keys of this.scan(server, match)) await this.target.runOn(server, 'unlink', keys);
      }));
    } catch (err) {
      this.failed(err);
    }
  }

  /** Every [key, value] of the namespace, each key once even when several nodes hold it. */
  async *iterator(namespace?: string): AsyncGenerator<[string, string], void> {
    const ns = namespace ?? this.namespace;
    const match = ns === undefined || ns === '' ? '*' : `${globEscape(ns)}:*`;
    const seen = new Set<string>();
    for (const server of this.target.servers) {
      for await (const batch of this.scan(server, match)) {
        const fresh = batch.filter((k) => !seen.has(k));
        for (const k of fresh) seen.add(k);
        if (fresh.length === 0) continue;
        const values = await this.getMany(fresh);
        for (let i = 0; i < fresh.length; i++) {
          const v = values[i];
          if (v !== undefined) yield [fresh[i]!, v];
        }
      }
    }
  }

  private async *scan(server: object, match: string): AsyncGenerator<string[], void> {
    let cursor: unknown = 0;
    do {
      const [next, keys] = (await this.target.runOn(server, 'scan', cursor, { match, count: SCAN_COUNT })) as [unknown, string[]];
      if (keys.length > 0) yield keys;
      cursor = next;
    } while (String(cursor) !== '0');
  }

  /** Closes the backend's connections (Keyv's disconnect()). */
  disconnect(): Promise<void> {
    return this.target.backend.close();
  }
}

/** A Keyv store over a redisdb backend: `new Keyv({ store: redisdbKeyvStore(ring) })`. */
export function redisdbKeyvStore(backend: CacheBackend, options?: KeyvStoreOptions): RedisdbKeyvStore {
  return new RedisdbKeyvStore(backend, options);
}
