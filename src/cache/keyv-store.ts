/**
 * A store with Keyv's storage-adapter interface, so `new Keyv({ store: redisdbKeyvStore(backend) })`
 * (and cache-manager, which sits on Keyv) keeps its data on any redisdb backend, without redisdb
 * depending on Keyv.
 *
 * Keyv hands the store values it has already serialized (strings) and sets `store.namespace`.
 * Keyv 5 prefixes keys with the namespace itself (`keyv:user:1`); Keyv 6 hands them over bare
 * and leaves the namespace to the store, which then stores `namespace:key`, the same layout, so
 * both majors share data. `clear()` and `iterator()` work on `namespace:*`; without a
 * namespace, on the keys written without one, never on the rest of the database. Values that are not strings are
 * stored with the cache's JSON serializer and come back as that JSON text.
 */
import { Buffer } from 'node:buffer';
import { EventEmitter } from 'node:events';
import { jsonSerializer } from './serializer.ts';
import { CacheTarget, type CacheBackend } from './target.ts';

export interface KeyvStoreOptions {
  /** Namespace to start with (Keyv overwrites it with its own). */
  namespace?: string;
}

export interface KeyvEntry {
  key: string;
  value: unknown;
  ttl?: number;
}

/** How many keys one SCAN step asks for in clear() and iterator(), and one UNLINK / MGET takes. */
const SCAN_COUNT = 1000;

/**
 * Per backend, the keys its Keyv stores wrote while they had no namespace: clear() without one
 * deletes these, never the rest of the database (which may hold data that is not Keyv's).
 * Shared by the stores of a backend, as Keyv makes a store per instance; held in this process,
 * one entry per distinct key, until deleted or cleared.
 */
const WRITTEN = new WeakMap<object, Set<string>>();

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
  /** Set once Keyv 6 adopts the store: keys then come bare, and the store adds the namespace. */
  private prefixing = false;
  /** Keys written without a namespace by the Keyv stores of this backend (see WRITTEN). */
  private readonly written: Set<string>;

  constructor(backend: CacheBackend, options: KeyvStoreOptions = {}) {
    super();
    this.target = new CacheTarget(backend);
    this.namespace = options.namespace;
    let written = WRITTEN.get(backend);
    if (written === undefined) WRITTEN.set(backend, (written = new Set()));
    this.written = written;
    const first = this.target.servers[0] as { address?: unknown };
    this.opts = { dialect: 'redis', url: `redis://${typeof first.address === 'string' ? first.address : 'redisdb'}` };
  }

  /**
   * Keyv 6 asks a store for its `capabilities` when it adopts it (Keyv 5 never does), and from
   * then on hands keys over without the namespace. None are declared, so Keyv 6 keeps calling
   * the store as Keyv 5 does (a ttl in milliseconds), only with bare keys.
   */
  get capabilities(): undefined {
    this.prefixing = true;
    return undefined;
  }

  /** The Redis key for a key as Keyv hands it over. */
  private stored(key: string): string {
    const ns = this.namespace;
    return this.prefixing && ns !== undefined && ns !== '' ? `${ns}:${key}` : key;
  }

  private get hasNamespace(): boolean {
    return this.namespace !== undefined && this.namespace !== '';
  }

  /** Errors are reported on 'error' (as Keyv stores do) and rethrown to the caller. */
  private failed(err: unknown): never {
    if (this.listenerCount('error') > 0) this.emit('error', err);
    throw err;
  }

  async get(key: string): Promise<string | undefined> {
    try {
      const v = await this.target.run('get', this.stored(key));
      return v === null || v === undefined ? undefined : (v as string);
    } catch (err) {
      return this.failed(err);
    }
  }

  async getMany(keys: string[]): Promise<Array<string | undefined>> {
    try {
      return await this.rawMany(keys.map((k) => this.stored(k)));
    } catch (err) {
      return this.failed(err);
    }
  }

  /**
   * ttl in milliseconds; none (or not positive): no expiry, as Keyv means it. A failure is
   * thrown but not emitted: Keyv emits failed writes itself.
   */
  async set(key: string, value: unknown, ttl?: number): Promise<boolean> {
    const data = toStored(value);
    const k = this.stored(key);
    if (!this.hasNamespace) this.written.add(k);
    const ok = await this.target.write('set', k, data, typeof ttl === 'number' && ttl > 0 ? { px: Math.ceil(ttl) } : {});
    return ok === true;
  }

  /** Issued together, so each node gets its share in one round trip. */
  async setMany(entries: KeyvEntry[]): Promise<boolean[]> {
    const results = await Promise.allSettled(entries.map((e) => this.set(e.key, e.value, e.ttl)));
    return results.map((r) => r.status === 'fulfilled' && r.value);
  }

  async delete(key: string): Promise<boolean> {
    try {
      const k = this.stored(key);
      this.written.delete(k);
      const n = await this.target.write('delete', k);
      return typeof n === 'number' && n > 0;
    } catch (err) {
      return this.failed(err);
    }
  }

  /** True when at least one of the keys was deleted. */
  async deleteMany(keys: string[]): Promise<boolean> {
    try {
      const made = keys.map((k) => this.stored(k));
      for (const k of made) this.written.delete(k);
      const replies = await Promise.all(this.target.groupByNode(made).map((g) => this.target.run('delete', g)));
      return replies.some((r) => (Array.isArray(r) ? r.some((n) => typeof n === 'number' && n > 0) : typeof r === 'number' && r > 0));
    } catch (err) {
      return this.failed(err);
    }
  }

  async has(key: string): Promise<boolean> {
    try {
      return (await this.target.run('exists', this.stored(key))) === true;
    } catch (err) {
      return this.failed(err);
    }
  }

  async hasMany(keys: string[]): Promise<boolean[]> {
    return Promise.all(keys.map((k) => this.has(k)));
  }

  /**
   * The namespace's keys on every node (SCAN); without a namespace, the keys written without
   * one (WRITTEN), and nothing else: the database may hold data that is not Keyv's.
   */
  async clear(): Promise<void> {
    try {
      const ns = this.namespace;
      if (ns === undefined || ns === '') {
        const keys = [...this.written];
        this.written.clear();
        for (let i = 0; i < keys.length; i += SCAN_COUNT) {
          await Promise.all(this.target.groupByNode(keys.slice(i, i + SCAN_COUNT)).map((g) => this.target.run('unlink', g)));
        }
        return;
      }
      const match = `${globEscape(ns)}:*`;
      await Promise.all(this.target.servers.map(async (server) => {
        for await (const keys of this.scan(server, match)) await this.target.runOn(server, 'unlink', keys);
      }));
    } catch (err) {
      this.failed(err);
    }
  }

  /**
   * Every [key, value] of the namespace, each key once even when several nodes hold it (without
   * a namespace: of the keys written without one, as for clear()). Keys come back as Keyv handed
   * them over: with the namespace for Keyv 5, without for Keyv 6.
   */
  async *iterator(namespace?: string): AsyncGenerator<[string, string], void> {
    const ns = namespace ?? this.namespace;
    if (ns === undefined || ns === '') {
      const keys = [...this.written];
      for (let i = 0; i < keys.length; i += SCAN_COUNT) {
        const batch = keys.slice(i, i + SCAN_COUNT);
        const values = await this.rawMany(batch);
        for (let j = 0; j < batch.length; j++) {
          const v = values[j];
          if (v !== undefined) yield [batch[j]!, v];
        }
      }
      return;
    }
    const match = `${globEscape(ns)}:*`;
    const strip = this.prefixing ? ns.length + 1 : 0;
    const seen = new Set<string>();
    for (const server of this.target.servers) {
      for await (const batch of this.scan(server, match)) {
        const fresh = batch.filter((k) => !seen.has(k));
        for (const k of fresh) seen.add(k);
        if (fresh.length === 0) continue;
        const values = await this.rawMany(fresh);
        for (let i = 0; i < fresh.length; i++) {
          const v = values[i];
          if (v !== undefined) yield [fresh[i]!.slice(strip), v];
        }
      }
    }
  }

  /** Values of Redis keys as they are (no namespace added). */
  private async rawMany(keys: string[]): Promise<Array<string | undefined>> {
    const groups = this.target.groupByNode(keys);
    const replies = await Promise.all(groups.map((g) => this.target.run('mget', g) as Promise<Array<string | null>>));
    const found = new Map<string, string>();
    groups.forEach((g, gi) => g.forEach((k, i) => {
      const v = replies[gi]![i];
      if (v !== null && v !== undefined) found.set(k, v);
    }));
    return keys.map((k) => found.get(k));
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
