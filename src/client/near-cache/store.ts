/**
 * The near cache's entries: replies as the server sent them, each under the whole command that
 * read it (name and arguments), grouped under the key it read so that one invalidation drops
 * every entry of that key. Bounded by count and by estimated bytes, least recently used first
 * out; no entry is served past its maximum age.
 */
import { Buffer } from 'node:buffer';
import type { Reply } from '../../resp/decode.ts';

interface Entry {
  readonly sig: string;
  readonly key: string;
  readonly value: Reply;
  readonly bytes: number;
  /** performance.now() after which it is not served. */
  readonly expires: number;
}

/**
 * What an entry costs besides its signature and reply: the entry object, its slots in two maps
 * and its key's group. Measured: a GET of a 12-byte key holding 20 bytes takes about 475
 * bytes of heap (scripts/bench, scenario j).
 */
export const ENTRY_OVERHEAD = 360;

/** Estimated bytes a reply holds in memory (strings at two bytes a character, the worst case). */
export function replyBytes(r: Reply): number {
  if (r === null || typeof r === 'number' || typeof r === 'bigint') return 8;
  if (typeof r === 'string') return 16 + 2 * r.length;
  if (Buffer.isBuffer(r)) return 96 + r.length;
  if (Array.isArray(r)) {
    let n = 16 + 8 * r.length;
    for (const x of r) n += replyBytes(x);
    return n;
  }
  return 32;
}

/** A copy no caller can change the stored reply through: arrays and Buffers copied, the rest shared. */
export function copyReply(r: Reply): Reply {
  if (r === null || typeof r !== 'object') return r;
  if (Buffer.isBuffer(r)) return Buffer.from(r);
  if (Array.isArray(r)) return r.map(copyReply);
  return r;
}

export interface StoreLimits {
  readonly maxEntries: number;
  readonly maxBytes: number;
  /** Milliseconds an entry is served at most. */
  readonly ttl: number;
}

export class NearStore {
  /** Every entry by signature, least recently used first (a Map keeps insertion order). */
  private readonly entries = new Map<string, Entry>();
  /** The entries of each key. */
  private readonly byKey = new Map<string, Set<Entry>>();
  private total = 0;
  /** Entries dropped to stay within maxEntries / maxBytes. */
  evictions = 0;
  /** Entries found past their maximum age. */
  expirations = 0;
  private readonly limits: StoreLimits;

  constructor(limits: StoreLimits) {
    this.limits = limits;
  }

  get size(): number {
    return this.entries.size;
  }

  /** Estimated bytes held. */
  get bytes(): number {
    return this.total;
  }

  /** The reply kept for a command, or undefined; a hit becomes the most recently used. */
  get(sig: string, now: number): Reply | undefined {
    const e = this.entries.get(sig);
    if (e === undefined) return undefined;
    if (now >= e.expires) {
      this.remove(e);
      this.expirations++;
      return undefined;
    }
    // Most recently used last.
    this.entries.delete(sig);
    this.entries.set(sig, e);
    return e.value;
  }

  /** Keeps a reply (the caller hands over a copy no one else holds). */
  set(sig: string, key: string, value: Reply, now: number): void {
    const old = this.entries.get(sig);
    if (old !== undefined) this.remove(old);
    const bytes = ENTRY_OVERHEAD + 2 * sig.length + replyBytes(value);
    if (bytes > this.limits.maxBytes) return;
    const e: Entry = { sig, key, value, bytes, expires: now + this.limits.ttl };
    this.entries.set(sig, e);
    addToGroup(this.byKey, key, e);
    this.total += bytes;
    while (this.entries.size > this.limits.maxEntries || this.total > this.limits.maxBytes) {
      const oldest = this.entries.values().next().value as Entry;
      this.remove(oldest);
      this.evictions++;
    }
  }

  /** Drops every entry of a key; returns how many there were. */
  dropKey(key: string): number {
    const group = this.byKey.get(key);
    if (group === undefined) return 0;
    const n = group.size;
    for (const e of group) {
      this.entries.delete(e.sig);
      this.total -= e.bytes;
    }
    this.byKey.delete(key);
    return n;
  }

  /** Drops everything; returns how many entries there were. */
  clear(): number {
    const n = this.entries.size;
    this.entries.clear();
    this.byKey.clear();
    this.total = 0;
    return n;
  }

  private remove(e: Entry): void {
    this.entries.delete(e.sig);
    this.total -= e.bytes;
    const group = this.byKey.get(e.key);
    if (group === undefined) return;
    group.delete(e);
    if (group.size === 0) this.byKey.delete(e.key);
  }
}

/** Adds `item` to the set kept under `key`, making the set on first use. */
export function addToGroup<T>(groups: Map<string, Set<T>>, key: string, item: T): void {
  let group = groups.get(key);
  if (group === undefined) {
    group = new Set();
    groups.set(key, group);
  }
  group.add(item);
}
