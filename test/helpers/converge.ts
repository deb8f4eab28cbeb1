/**
 * The convergence checker every RedisCopy fault test ends with: through a raw connection to
 * each node, every key of every node compared — its type, its value (read by type, so two
 * nodes holding the same set in a different internal order compare equal) and its TTL,
 * within a second.
 */
import assert from 'node:assert/strict';
import { ConstRedis } from '../../src/client/const-redis.ts';

export interface NodeImage {
  readonly address: string;
  /** key (latin1) → type and value */
  readonly keys: Map<string, { type: string; value: unknown; pttl: number }>;
}

async function valueOf(c: ConstRedis, key: string, type: string): Promise<unknown> {
  switch (type) {
    case 'string':
      return ((await c.call('GET', key)) as string | null) ?? null;
    case 'list':
      return c.call('LRANGE', key, 0, -1);
    case 'set':
      return ((await c.call('SMEMBERS', key)) as string[]).sort();
    case 'zset':
      return c.call('ZRANGE', key, 0, -1, 'WITHSCORES');
    case 'hash': {
      const flat = (await c.call('HGETALL', key)) as string[];
      const pairs: string[] = [];
      for (let i = 0; i < flat.length; i += 2) pairs.push(`${flat[i]}=${flat[i + 1]}`);
      return pairs.sort();
    }
    case 'stream':
      return c.call('XRANGE', key, '-', '+');
    default:
      return `(${type})`;
  }
}

/** Every key of one node, read through a connection of its own. */
export async function imageOf(address: string, db = 0): Promise<NodeImage> {
  const [host, port] = [address.slice(0, address.lastIndexOf(':')), Number(address.slice(address.lastIndexOf(':') + 1))];
  const c = new ConstRedis({ host, port, db, socket_timeout: 5 });
  try {
    const keys = new Map<string, { type: string; value: unknown; pttl: number }>();
    let cursor = '0';
    do {
      const [next, batch] = (await c.call('SCAN', cursor, 'COUNT', 1000)) as [string, string[]];
      cursor = String(next);
      for (const key of batch) {
        const type = String(await c.call('TYPE', key));
        if (type === 'none') continue;
        keys.set(key, { type, value: await valueOf(c, key, type), pttl: Number(await c.call('PTTL', key)) });
      }
    } while (cursor !== '0');
    return { address, keys };
  } finally {
    c.disconnect();
  }
}

/**
 * Asserts that every node holds the same keys with the same types, values and TTLs (within
 * `ttlSlackMs`). Returns the first node's image for further checks.
 */
export async function assertConverged(addresses: readonly string[], options: { db?: number; ttlSlackMs?: number } = {}): Promise<NodeImage> {
  const slack = options.ttlSlackMs ?? 1000;
  const images = await Promise.all(addresses.map((a) => imageOf(a, options.db)));
  const [first, ...rest] = images;
  for (const other of rest) {
    const missing = [...first!.keys.keys()].filter((k) => !other.keys.has(k));
    const extra = [...other.keys.keys()].filter((k) => !first!.keys.has(k));
    assert.deepEqual({ missing: missing.slice(0, 10), extra: extra.slice(0, 10) }, { missing: [], extra: [] },
      `${other.address} differs from ${first!.address} in its keys (${missing.length} missing, ${extra.length} extra)`);
    for (const [key, a] of first!.keys) {
      const b = other.keys.get(key)!;
      assert.equal(b.type, a.type, `${key}: type on ${first!.address} vs ${other.address}`);
      assert.deepEqual(b.value, a.value, `${key}: value on ${first!.address} vs ${other.address}`);
      const ttlA = a.pttl < 0 ? a.pttl : Math.floor(a.pttl);
      const ttlB = b.pttl < 0 ? b.pttl : Math.floor(b.pttl);
      assert.ok(ttlA < 0 ? ttlA === ttlB : ttlB >= 0 && Math.abs(ttlA - ttlB) <= slack, `${key}: PTTL ${ttlA} on ${first!.address} vs ${ttlB} on ${other.address}`);
    }
  }
  return first!;
}
