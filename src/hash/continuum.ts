/**
 * Consistent hashing of keys onto nodes: the continuum (hash ring) and
 * nothing else. Two placements are provided, each bit-for-bit compatible with
 * an existing client so data written by it can be read back:
 *
 * - `'ketama'`: weighted ketama with MD5 as libmemcached
 *   (MEMCACHED_BEHAVIOR_KETAMA_WEIGHTED) and twemproxy (`distribution: ketama`,
 *   `hash: md5`) build it. Node `name` ("host:port" or an explicit name) gets
 *   points from md5(`${name}-${k}`), four per digest, 160 per node when the
 *   weights are equal. A key belongs to the first point >= its hash.
 * - `'hash_ring'`: the Python `hash_ring` package as django-redisdb uses it,
 *   where node i is called "i". Node i gets floor(40 * N * w / sum(w)) digests
 *   of md5(`${i}-${j}`), three points per digest. A key belongs to the first
 *   point > its hash (Python's bisect_right).
 *
 * In both, a key's hash is the little-endian uint32 of the first four bytes of
 * md5(utf8(key)), and a hash past the last point wraps to the first. The empty
 * key is the exception (`emptyKeyHash`): in ketama mode it hashes to 0 by
 * default, as twemproxy does, or to md5("") as libmemcached does.
 */

import { hashTagSpan, validateHashTag } from './hash-tag.ts';
import { md5Words, md5WordsOfRange } from './md5.ts';

export type DistributionMode = 'ketama' | 'hash_ring';

/**
 * The hash of the empty key `''`: `'zero'` is twemproxy's (it hashes a key of
 * length 0 to 0 without calling its hash function), `'md5'` is libmemcached's
 * and Python hash_ring's (md5("") like any other key).
 */
export type EmptyKeyHash = 'zero' | 'md5';

export interface ContinuumNode {
  /**
   * Identifies the node; in ketama mode its points are derived from it.
   * libmemcached and twemproxy use "host:port" (just "host" when the port is
   * 11211) unless a server is given an explicit name.
   */
  readonly name: string;
  /** Relative share of the keys; a positive finite number. */
  readonly weight: number;
}

export interface ContinuumOptions {
  /** Placement algorithm; `'ketama'` by default. */
  readonly mode?: DistributionMode;
  /**
   * Two characters delimiting the hashed part of a key, or `null` to always
   * hash the whole key. Defaults to `'{}'` in ketama mode and `null` in
   * hash_ring mode (the Python client has no hash tags).
   */
  readonly hashTag?: string | null;
  /**
   * Indices into `nodes` to leave off the continuum (ejected hosts). The
   * continuum is built from the remaining nodes alone, as twemproxy rebuilds
   * it from its live servers; lookups still return indices into `nodes`.
   */
  readonly exclude?: Iterable<number>;
  /**
   * How the empty key `''` is hashed: `'zero'` (twemproxy, the default in
   * ketama mode) or `'md5'` (libmemcached; the only choice in hash_ring mode,
   * where the Python client hashes it like any key). Where `''` lands matters
   * beyond odd keys: keyless commands go to the node of `''`.
   */
  readonly emptyKeyHash?: EmptyKeyHash;
}

/** Where a hash lands: the continuum point that claims it and that point's node. */
export interface HashPlacement {
  /** The 32-bit hash that was looked up. */
  readonly hash: number;
  /** The continuum point the hash maps to. */
  readonly point: number;
  /** Index into `nodes` of the node owning that point. */
  readonly index: number;
}

/** Where a key lands, with the part of it that was hashed. */
export interface KeyPlacement extends HashPlacement {
  readonly key: string;
  /** The key itself, or its hash-tagged part. */
  readonly hashedKey: string;
}

/** A point on the continuum and the index of the node that owns it. */
export interface ContinuumPoint {
  readonly point: number;
  readonly index: number;
}

const KETAMA_POINTS_PER_SERVER = 160;
const KETAMA_POINTS_PER_DIGEST = 4;
const HASH_RING_DIGESTS_PER_NODE = 40;
const HASH_RING_POINTS_PER_DIGEST = 3;

// Sort keys pack `point * 2^20 + index` into a float64, which stays exact
// below 2^52; that caps the node count.
const INDEX_BITS = 20;
const MAX_NODES = 1 << INDEX_BITS;
const INDEX_SCALE = 2 ** INDEX_BITS;

const MAX_HASH = 0xffffffff;
// libmemcached and twemproxy keep weights in 32-bit integers.
const MAX_KETAMA_WEIGHT = 0xffffffff;

const digest = new Uint32Array(4);
// The hash being looked up travels through this array rather than as an
// argument or return value: V8 boxes numbers of 2^30 and more that cross a
// call it did not inline.
const keyDigest = new Uint32Array(4);
const tagSpan = new Int32Array(2);

/**
 * Ketama's points for one node, computed in float32 the way the C clients do:
 *
 *   float pct = (float)weight / (float)total_weight;
 *   points = floorf((float)(pct * 160 / 4 * (float)live + 0.0000000001)) * 4;
 *
 * Emulating the float arithmetic matters: at some weight ratios it decides
 * whether a node gets one more group of four points.
 */
export function ketamaPointsFor(weight: number, totalWeight: number, liveNodes: number): number {
  const f = Math.fround;
  const pct = f(f(weight) / f(totalWeight));
  const scaled = f(f(f(pct * KETAMA_POINTS_PER_SERVER) / 4) * f(liveNodes));
  // The C epsilon is added in double and rounded back to float, so it never
  // changes the result; it is kept for fidelity.
  return Math.floor(f(scaled + 0.0000000001)) * KETAMA_POINTS_PER_DIGEST;
}

/** Python hash_ring's number of digests for one node: floor(40 * N * w / sum(w)). */
export function hashRingDigestsFor(weight: number, totalWeight: number, liveNodes: number): number {
  return Math.floor((HASH_RING_DIGESTS_PER_NODE * liveNodes * weight) / totalWeight);
}

export class Continuum {
  readonly mode: DistributionMode;
  readonly hashTag: string | null;
  /** How the empty key is hashed (see ContinuumOptions.emptyKeyHash). */
  readonly emptyKeyHash: EmptyKeyHash;
  /** The nodes as given (copied and frozen); lookups return indices into this list. */
  readonly nodes: readonly ContinuumNode[];
  /** Sorted indices of the nodes left off the continuum. */
  readonly excluded: readonly number[];

  readonly #points: Uint32Array;
  readonly #owners: Int32Array;
  readonly #allotted: Int32Array;
  // hash_ring looks for the first point strictly above the hash.
  readonly #strict: boolean;
  readonly #emptyIsZero: boolean;
  readonly #open: string;
  readonly #close: string;

  constructor(nodes: readonly ContinuumNode[], options: ContinuumOptions = {}) {
    const mode = options.mode ?? 'ketama';
    if (mode !== 'ketama' && mode !== 'hash_ring') {
      throw new TypeError(`continuum mode must be 'ketama' or 'hash_ring', got ${String(mode)}`);
    }
    this.mode = mode;
    this.hashTag = validateHashTag(options.hashTag === undefined ? (mode === 'ketama' ? '{}' : null) : options.hashTag);
    this.#open = this.hashTag === null ? '' : this.hashTag.charAt(0);
    this.#close = this.hashTag === null ? '' : this.hashTag.charAt(1);
    this.#strict = mode === 'hash_ring';
    this.emptyKeyHash = validateEmptyKeyHash(options.emptyKeyHash, mode);
    this.#emptyIsZero = this.emptyKeyHash === 'zero';
    this.nodes = Object.freeze(validateNodes(nodes, mode));
    this.excluded = Object.freeze(validateExcluded(options.exclude, this.nodes.length));

    const live: number[] = [];
    const isExcluded = new Set(this.excluded);
    let totalWeight = 0;
    for (let i = 0; i < this.nodes.length; i++) {
      if (isExcluded.has(i)) continue;
      live.push(i);
      totalWeight += this.nodes[i]!.weight;
    }
    if (live.length === 0) throw new RangeError('continuum: every node is excluded');

    const built = mode === 'ketama' ? this.#ketama(live, totalWeight) : this.#hashRing(live, totalWeight);
    this.#allotted = built.allotted;
    const { points, owners } = sortPoints(built.keys, mode === 'ketama');
    this.#points = points;
    this.#owners = owners;
  }

  #ketama(live: readonly number[], totalWeight: number): { keys: Float64Array; allotted: Int32Array } {
    const allotted = new Int32Array(this.nodes.length);
    let total = 0;
    for (const i of live) {
      const points = ketamaPointsFor(this.nodes[i]!.weight, totalWeight, live.length);
      // Weights beyond float32's range turn the C arithmetic into NaN.
      if (!(points >= 0)) throw new RangeError(`continuum: weights out of range for ketama: ${this.nodes[i]!.weight}`);
      allotted[i] = points;
      total += points;
    }
    const keys = new Float64Array(total);
    let n = 0;
    for (const i of live) {
      const name = this.nodes[i]!.name;
      for (let k = 0, groups = allotted[i]! / KETAMA_POINTS_PER_DIGEST; k < groups; k++) {
        md5Words(`${name}-${k}`, digest);
        for (let x = 0; x < KETAMA_POINTS_PER_DIGEST; x++) keys[n++] = digest[x]! * INDEX_SCALE + i;
      }
    }
    return { keys, allotted };
  }

  #hashRing(live: readonly number[], totalWeight: number): { keys: Float64Array; allotted: Int32Array } {
    const allotted = new Int32Array(this.nodes.length);
    let total = 0;
    for (const i of live) {
      allotted[i] = hashRingDigestsFor(this.nodes[i]!.weight, totalWeight, live.length) * HASH_RING_POINTS_PER_DIGEST;
      total += allotted[i]!;
    }
    const keys = new Float64Array(total);
    let n = 0;
    for (const i of live) {
      for (let j = 0, digests = allotted[i]! / HASH_RING_POINTS_PER_DIGEST; j < digests; j++) {
        // The Python client names node i by str(i), whatever its address.
        md5Words(`${i}-${j}`, digest);
        for (let x = 0; x < HASH_RING_POINTS_PER_DIGEST; x++) keys[n++] = digest[x]! * INDEX_SCALE + i;
      }
    }
    return { keys, allotted };
  }

  /** Number of distinct points on the continuum. */
  get pointCount(): number {
    return this.#points.length;
  }

  /** Points each node was given (0 for excluded nodes), indexed like `nodes`. */
  pointsPerNode(): number[] {
    return Array.from(this.#allotted);
  }

  /** The continuum in ascending order, for inspection and tests. */
  points(): ContinuumPoint[] {
    const out: ContinuumPoint[] = [];
    for (let p = 0; p < this.#points.length; p++) out.push({ point: this.#points[p]!, index: this.#owners[p]! });
    return out;
  }

  /** The 32-bit hash of `key` after hash tagging. */
  hashOf(key: string): number {
    this.#hashKey(key);
    return keyDigest[0]!;
  }

  /** Index into `nodes` of the node that `key` belongs to. Allocation-free. */
  nodeFor(key: string): number {
    this.#hashKey(key);
    return this.#owners[this.#claimant()]!;
  }

  /** Leaves the hash of `key` (after hash tagging) in keyDigest[0]. */
  #hashKey(key: string): void {
    if (typeof key !== 'string') throw new TypeError('continuum: key must be a string');
    if (this.#open !== '' && hashTagSpan(key, this.#open, this.#close, tagSpan)) {
      md5WordsOfRange(key, tagSpan[0]!, tagSpan[1]!, keyDigest);
    } else if (key.length === 0 && this.#emptyIsZero) {
      // twemproxy hashes an empty key to 0 rather than md5(""). Tags are never empty.
      keyDigest[0] = 0;
    } else {
      md5WordsOfRange(key, 0, key.length, keyDigest);
    }
  }

  /** Index into `nodes` of the node that a raw 32-bit hash belongs to. */
  nodeForHash(hash: number): number {
    keyDigest[0] = checkHash(hash);
    return this.#owners[this.#claimant()]!;
  }

  /** Explains where `key` lands: the hashed text, its hash, the point and the node. */
  locate(key: string): KeyPlacement {
    this.#hashKey(key);
    const hash = keyDigest[0]!;
    const p = this.#claimant();
    const hashedKey =
      this.#open !== '' && hashTagSpan(key, this.#open, this.#close, tagSpan) ? key.slice(tagSpan[0], tagSpan[1]) : key;
    return { key, hashedKey, hash, point: this.#points[p]!, index: this.#owners[p]! };
  }

  /** Explains where a raw 32-bit hash lands. */
  locateHash(hash: number): HashPlacement {
    keyDigest[0] = checkHash(hash);
    const p = this.#claimant();
    return { hash, point: this.#points[p]!, index: this.#owners[p]! };
  }

  /**
   * A continuum without the given nodes (indices into `nodes`, added to any
   * already excluded). It is rebuilt from the remaining nodes with their
   * names and weights, as twemproxy does when it ejects a host, and its
   * lookups keep returning indices into the original `nodes`.
   */
  without(indices: Iterable<number>): Continuum {
    return new Continuum(this.nodes, {
      mode: this.mode,
      hashTag: this.hashTag,
      emptyKeyHash: this.emptyKeyHash,
      exclude: [...this.excluded, ...indices],
    });
  }

  /**
   * Every live node once, in the order its first point follows `hash` round the
   * continuum: the hash's own node first. This is the order in which the other
   * nodes stand in for the hash's node.
   */
  ownersFrom(hash: number): number[] {
    keyDigest[0] = checkHash(hash);
    const start = this.#claimant();
    const points = this.#points.length;
    const live = this.nodes.length - this.excluded.length;
    const seen = new Uint8Array(this.nodes.length);
    const order: number[] = [];
    for (let i = 0; i < points && order.length < live; i++) {
      const owner = this.#owners[(start + i) % points]!;
      if (seen[owner] === 0) {
        seen[owner] = 1;
        order.push(owner);
      }
    }
    return order;
  }

  /**
   * The one search of the continuum: the position of the point that claims the
   * hash in keyDigest[0], wrapping past the end to 0. The hash is read from
   * keyDigest rather than passed, so it stays unboxed on the hot path.
   */
  #claimant(): number {
    const points = this.#points;
    // "First point > hash" is "first point >= hash + 1"; above 2^32 - 1 it wraps.
    const target = this.#strict ? keyDigest[0]! + 1 : keyDigest[0]!;
    let lo = 0;
    let hi = points.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (points[mid]! < target) lo = mid + 1;
      else hi = mid;
    }
    return lo === points.length ? 0 : lo;
  }
}

/**
 * Sorts packed `point * 2^20 + index` keys and collapses points claimed by
 * more than one node to a single entry. Which node keeps a shared point
 * follows each original client: ketama keeps the lowest index (libmemcached
 * orders equal points by server index and twemproxy's qsort, a stable merge
 * sort in glibc, keeps insertion order, and both search for the first point
 * >= hash); hash_ring keeps the highest index (its point -> node dict is
 * written in node order, so the last writer wins).
 */
function sortPoints(keys: Float64Array, lowestWins: boolean): { points: Uint32Array; owners: Int32Array } {
  keys.sort();
  const points = new Uint32Array(keys.length);
  const owners = new Int32Array(keys.length);
  let n = 0;
  for (let k = 0; k < keys.length; k++) {
    const key = keys[k]!;
    const point = Math.floor(key / INDEX_SCALE);
    const index = key - point * INDEX_SCALE;
    if (n > 0 && points[n - 1] === point) {
      if (!lowestWins) owners[n - 1] = index;
      continue;
    }
    points[n] = point;
    owners[n] = index;
    n++;
  }
  return n === keys.length ? { points, owners } : { points: points.slice(0, n), owners: owners.slice(0, n) };
}

function validateNodes(nodes: readonly ContinuumNode[], mode: DistributionMode): ContinuumNode[] {
  if (!Array.isArray(nodes)) throw new TypeError('continuum: nodes must be an array');
  if (nodes.length === 0) throw new RangeError('continuum: at least one node is required');
  if (nodes.length > MAX_NODES) throw new RangeError(`continuum: at most ${MAX_NODES} nodes are supported`);
  const seen = new Set<string>();
  return nodes.map((node: unknown, i) => {
    if (typeof node !== 'object' || node === null) throw new TypeError(`continuum: node ${i} must be an object`);
    const { name, weight } = node as { name?: unknown; weight?: unknown };
    if (typeof name !== 'string' || name === '') {
      throw new TypeError(`continuum: node ${i} must have a non-empty string name`);
    }
    if (typeof weight !== 'number') throw new TypeError(`continuum: node ${i} (${name}) weight must be a number`);
    if (!Number.isFinite(weight) || weight <= 0) {
      throw new RangeError(`continuum: node ${i} (${name}) weight must be a positive finite number, got ${weight}`);
    }
    if (mode === 'ketama' && weight > MAX_KETAMA_WEIGHT) {
      throw new RangeError(
        `continuum: node ${i} (${name}) weight must be at most ${MAX_KETAMA_WEIGHT} in ketama mode, got ${weight}`,
      );
    }
    if (seen.has(name)) throw new RangeError(`continuum: duplicate node name ${JSON.stringify(name)}`);
    seen.add(name);
    return Object.freeze({ name, weight });
  });
}

function validateEmptyKeyHash(value: unknown, mode: DistributionMode): EmptyKeyHash {
  if (value === undefined) return mode === 'ketama' ? 'zero' : 'md5';
  if (value !== 'zero' && value !== 'md5') {
    throw new TypeError(`continuum: emptyKeyHash must be 'zero' or 'md5', got ${JSON.stringify(value) ?? String(value)}`);
  }
  if (mode === 'hash_ring' && value === 'zero') {
    throw new RangeError("continuum: emptyKeyHash 'zero' is twemproxy's ketama rule; hash_ring hashes '' with md5");
  }
  return value;
}

function validateExcluded(exclude: Iterable<number> | undefined, count: number): number[] {
  if (exclude === undefined) return [];
  const out = new Set<number>();
  for (const i of exclude) {
    if (!Number.isInteger(i) || i < 0 || i >= count) {
      throw new RangeError(`continuum: excluded index ${String(i)} is not a node index (0..${count - 1})`);
    }
    out.add(i);
  }
  return [...out].sort((a, b) => a - b);
}

function checkHash(hash: number): number {
  if (!Number.isInteger(hash) || hash < 0 || hash > MAX_HASH) {
    throw new RangeError(`continuum: hash must be an integer in 0..${MAX_HASH}, got ${hash}`);
  }
  return hash;
}
