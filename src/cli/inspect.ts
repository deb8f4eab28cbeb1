/**
 * What operators ask of a group of servers: where a key lives and why, and how the keys and
 * memory spread over the nodes.
 */
import { Backend } from '../backends/backend.ts';
import { RedisClusterBase } from '../backends/cluster.ts';
import type { CacheBackend } from '../cache/target.ts';
import type { ConstRedis } from '../client/const-redis.ts';
import type { Continuum } from '../hash/index.ts';

export interface KeyHolder {
  node: string;
  exists: boolean | null;
  error?: string;
}

export interface WhichNode {
  key: string;
  backend: string;
  /** The part of the key that was hashed (the hash tag's content, or the whole key). */
  hashed: string | null;
  hash: number | null;
  /** The continuum point that claims the hash. */
  point: number | null;
  hashing: string | null;
  /** Index in LOCATION and address of the node the key is read from. */
  index: number;
  node: string;
  /** Where writes of this key go. */
  writesTo: string[];
  /** Copy: the nodes that serve reads, in order, when the ones before them are down. */
  readOrder: string[];
  /** Whether each node holds the key now (null when it could not be asked). */
  holders: KeyHolder[];
  why: string;
}

const RING_SIZE = 2 ** 32;

function hex(n: number): string {
  return `0x${n.toString(16).padStart(8, '0')}`;
}

/** The servers holding the keys: a cluster's primaries (its replicas hold copies), every node of the others. */
function serversOf(backend: CacheBackend): ConstRedis[] {
  if (backend instanceof RedisClusterBase) return backend.primaries.map((i) => backend.nodes[i]!);
  return (backend instanceof Backend ? backend.nodes : [backend]) as ConstRedis[];
}

function addressesOf(backend: CacheBackend): string[] {
  if (backend instanceof RedisClusterBase) return backend.primaries.map((i) => backend.addresses[i]!);
  return backend instanceof Backend ? [...backend.addresses] : [(backend as unknown as ConstRedis).address];
}

/** A cluster's answer: the key's slot and the primary serving it. */
function clusterNode(backend: RedisClusterBase, kind: string, key: string, holders: KeyHolder[]): WhichNode {
  const slot = backend.slotOf(key);
  const index = backend.nodeIndexFor(key);
  const node = backend.addresses[index]!;
  const open = key.indexOf('{');
  const close = open < 0 ? -1 : key.indexOf('}', open + 1);
  const hashed = close > open + 1 ? key.slice(open + 1, close) : key;
  const replicas = (backend.slots.replicas[slot] ?? []).map((i) => backend.addresses[i]!);
  const why = `CRC16 of ${hashed !== key ? `the hash tag '${hashed}'` : 'the key'} mod 16384 is slot ${slot}, served by the primary ${node}` +
    (replicas.length > 0 ? `; its replicas: ${replicas.join(', ')}` : '');
  return {
    key, backend: kind, hashed, hash: slot, point: null, hashing: 'cluster slot (CRC16)', index, node,
    writesTo: [node], readOrder: [node], holders, why,
  };
}

export async function whichNode(backend: CacheBackend, kind: string, key: string): Promise<WhichNode> {
  if (backend instanceof RedisClusterBase) await backend.connect(); // reads the slot map
  const servers = serversOf(backend);
  const addresses = addressesOf(backend);
  const holders = await Promise.all(servers.map(async (s, i): Promise<KeyHolder> => {
    try {
      return { node: addresses[i]!, exists: (await s.exists(key)) === true };
    } catch (err) {
      return { node: addresses[i]!, exists: null, error: (err as Error).message };
    }
  }));
  if (backend instanceof RedisClusterBase) return clusterNode(backend, kind, key, holders);
  if (!(backend instanceof Backend)) {
    return {
      key, backend: kind, hashed: null, hash: null, point: null, hashing: null, index: 0, node: addresses[0]!,
      writesTo: addresses, readOrder: addresses, holders, why: 'a single server holds every key',
    };
  }
  const placement = backend.continuum.locate(key);
  const node = addresses[placement.index]!;
  const copy = kind === 'RedisCopy';
  const tagged = placement.hashedKey !== key;
  const why = `md5 of ${tagged ? `the hash tag '${placement.hashedKey}'` : 'the key'} gives ${placement.hash} (${hex(placement.hash)}); ` +
    `the first ring point ${backend.hashing === 'hash_ring' ? 'above' : 'at or above'} it is ${placement.point} (${hex(placement.point)}), owned by node ${placement.index} (${node})` +
    (copy ? '; writes go to every node, reads to this one first' : '');
  return {
    key, backend: kind, hashed: placement.hashedKey, hash: placement.hash, point: placement.point, hashing: backend.hashing,
    index: placement.index, node,
    writesTo: copy ? addresses : [node],
    readOrder: copy ? backend.placement.failoverOrder(placement.hash).map((i) => addresses[i]!) : [node],
    holders, why,
  };
}

export interface NodeStats {
  node: string;
  keys: number | null;
  expires: number | null;
  usedMemory: number | null;
  usedMemoryHuman: string | null;
  /** This node's share of all keys, 0..1. */
  share: number | null;
  /** The share of the hash space its ring points own, 0..1 (what it should get). */
  expectedShare: number | null;
  /**
   * The server's side of near caches (CLIENT TRACKING): clients tracking, and the keys, items
   * and BCAST prefixes it remembers to invalidate.
   */
  tracking: { clients: number | null; keys: number | null; items: number | null; prefixes: number | null } | null;
  error?: string;
}

export interface Stats {
  backend: string;
  nodes: NodeStats[];
  totalKeys: number;
  totalMemory: number;
  /** Largest node's key count over the mean (1 is perfectly even). */
  imbalance: number | null;
  /** Standard deviation of key counts over their mean. */
  variation: number | null;
}

/** How much of the 32-bit hash space each node's points claim. */
export function ringShares(continuum: Continuum): number[] {
  const shares = new Array<number>(continuum.nodes.length).fill(0);
  const points = continuum.points();
  if (points.length === 0) return shares;
  // Each point claims the arc since the previous point; the first also claims the wrap-around.
  for (let i = 0; i < points.length; i++) {
    const from = i === 0 ? points[points.length - 1]!.point - RING_SIZE : points[i - 1]!.point;
    shares[points[i]!.index]! += (points[i]!.point - from) / RING_SIZE;
  }
  return shares;
}

function num(v: unknown): number | null {
  const n = typeof v === 'number' ? v : typeof v === 'string' ? Number(v) : NaN;
  return Number.isFinite(n) ? n : null;
}

export async function stats(backend: CacheBackend, kind: string): Promise<Stats> {
  if (backend instanceof RedisClusterBase) await backend.connect(); // reads the slot map
  const servers = serversOf(backend);
  const addresses = addressesOf(backend);
  const expected = backend instanceof Backend && kind === 'RedisRing' ? ringShares(backend.continuum) : null;
  const nodes = await Promise.all(servers.map(async (s, i): Promise<NodeStats> => {
    const base = { node: addresses[i]!, share: null, expectedShare: expected === null ? null : expected[i]! };
    try {
      const db = s.options.db;
      const [keys, memory, keyspace, clients, counters] = await Promise.all([s.dbsize(), s.info('memory'), s.info('keyspace'), s.info('clients'), s.info('stats')]);
      const space = keyspace[`db${db}`];
      return {
        ...base, keys,
        tracking: {
          clients: num(clients['tracking_clients']),
          keys: num(counters['tracking_total_keys']),
          items: num(counters['tracking_total_items']),
          prefixes: num(counters['tracking_total_prefixes']),
        },
        expires: typeof space === 'object' ? num(space['expires']) ?? 0 : 0,
        usedMemory: num(memory['used_memory']),
        usedMemoryHuman: typeof memory['used_memory_human'] === 'string' ? memory['used_memory_human'] : null,
      };
    } catch (err) {
      return { ...base, keys: null, expires: null, usedMemory: null, usedMemoryHuman: null, tracking: null, error: (err as Error).message };
    }
  }));
  const counts = nodes.map((n) => n.keys).filter((k): k is number => k !== null);
  const totalKeys = counts.reduce((a, b) => a + b, 0);
  const totalMemory = nodes.reduce((a, n) => a + (n.usedMemory ?? 0), 0);
  for (const n of nodes) if (n.keys !== null && totalKeys > 0) n.share = n.keys / totalKeys;
  let imbalance: number | null = null;
  let variation: number | null = null;
  if (counts.length > 0 && totalKeys > 0) {
    const mean = totalKeys / counts.length;
    imbalance = Math.max(...counts) / mean;
    variation = Math.sqrt(counts.reduce((a, c) => a + (c - mean) ** 2, 0) / counts.length) / mean;
  }
  return { backend: kind, nodes, totalKeys, totalMemory, imbalance, variation };
}
