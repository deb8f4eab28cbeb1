/**
 * Where RedisRing and RedisCopy put keys, through their own configuration path, against the
 * vectors produced by independent implementations (libmemcached, nutcracker, Python hash_ring;
 * see scripts/vectors). Nothing here connects to a server.
 */
import { Buffer } from 'node:buffer';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { RedisCopy, RedisRing, type NodeOptions } from '../../src/backends/index.ts';
import { ConfigError } from '../../src/errors.ts';

interface VectorNode { name: string; weight: number }
interface VectorCase {
  id: string;
  nodes: VectorNode[];
  exclude?: number[];
  hashTag?: string | null;
  keys: Array<[string, number, number] | [string, number]>;
  hashes?: Array<[number, number]>;
}

function cases(file: string): VectorCase[] {
  const url = new URL(`../hash/vectors/${file}`, import.meta.url);
  return (JSON.parse(readFileSync(url, 'utf8')) as { cases: VectorCase[] }).cases;
}

/** Nodes as a backend takes them; unused ports, since nothing connects. */
function nodesOf(c: VectorCase, named: boolean): NodeOptions[] {
  return c.nodes.map((n, i) => {
    if (named) return { host: '127.0.0.1', port: 20000 + i, name: n.name, weight: n.weight };
    const [host, port] = n.name.split(':');
    return { host: host!, port: Number(port), weight: n.weight };
  });
}

function checkKeys(ring: RedisRing, c: VectorCase): void {
  let checked = 0;
  for (const entry of c.keys) {
    const key = entry[0];
    const expected = entry[entry.length - 1] as number;
    assert.equal(ring.nodeIndexFor(key), expected, `${c.id}: key ${JSON.stringify(key)}`);
    // Keys given as bytes land where their UTF-8 string does.
    assert.equal(ring.nodeIndexFor(Buffer.from(key)), expected, `${c.id}: key bytes ${JSON.stringify(key)}`);
    assert.equal(ring.nodeFor(key), ring.nodes[expected]);
    checked++;
  }
  assert.ok(checked > 200, `${c.id}: only ${checked} keys`);
}

describe('placement against independent vectors', () => {
  for (const c of cases('ketama-libmemcached.json')) {
    if ((c.exclude ?? []).length > 0) continue; // ejection is the continuum's business
    it(`ketama, libmemcached: ${c.id}`, async () => {
      const ring = new RedisRing({ nodes: nodesOf(c, true), hash_tag: null });
      try {
        checkKeys(ring, c);
        // Hashes on a point, one either side, 0 and 2^32 - 1 (wrapping to the first point).
        for (const [hash, expected] of c.hashes ?? []) assert.equal(ring.continuum.nodeForHash(hash), expected, `${c.id}: hash ${hash}`);
      } finally {
        await ring.close();
      }
    });
  }

  for (const c of cases('ketama-twemproxy.json')) {
    it(`ketama, nutcracker with hash_tag ${JSON.stringify(c.hashTag ?? null)}: ${c.id}`, async () => {
      // implicit-names: the nodes are named by their addresses, as nutcracker names them.
      const named = c.id !== 'implicit-names';
      const ring = new RedisRing({ nodes: nodesOf(c, named), hash_tag: c.hashTag ?? null });
      try {
        if (!named) assert.deepEqual(ring.continuum.nodes.map((n) => n.name), c.nodes.map((n) => n.name));
        checkKeys(ring, c);
      } finally {
        await ring.close();
      }
    });
  }

  for (const c of cases('hash-ring.json')) {
    if ((c.exclude ?? []).length > 0) continue;
    it(`hash_ring (django-redisdb 0.2.1): ${c.id}`, async () => {
      const location = c.nodes.map((_, i) => `127.0.0.1:${20000 + i}`);
      const weighted = c.nodes.some((n) => n.weight !== 1);
      const ring = weighted
        ? new RedisRing({ nodes: c.nodes.map((n, i) => ({ host: '127.0.0.1', port: 20000 + i, weight: n.weight })), hashing: 'hash_ring' })
        : new RedisRing(location, { OPTIONS: { hashing: 'hash_ring' } });
      try {
        assert.equal(ring.continuum.hashTag, null);
        checkKeys(ring, c);
        for (const [hash, expected] of c.hashes ?? []) assert.equal(ring.continuum.nodeForHash(hash), expected, `${c.id}: hash ${hash}`);
      } finally {
        await ring.close();
      }
    });
  }
});

describe('spread and movement', () => {
  const KEYS = 100_000;
  const location = (n: number): string[] => Array.from({ length: n }, (_, i) => `127.0.0.1:${20000 + i}`);

  for (const hashing of ['ketama', 'hash_ring'] as const) {
    it(`${hashing}: 3 equal nodes hold 33% ± 5% of ${KEYS} keys each; a fourth node moves at most 30%`, async () => {
      const three = new RedisRing(location(3), { OPTIONS: { hashing } });
      const four = new RedisRing(location(4), { OPTIONS: { hashing } });
      try {
        const counts = [0, 0, 0];
        let moved = 0;
        for (let i = 0; i < KEYS; i++) {
          const key = `key:${i}`;
          const before = three.nodeIndexFor(key);
          counts[before]!++;
          if (four.nodeIndexFor(key) !== before) moved++;
        }
        // ketama's 160 points per node keep each share within 33% ± 5%. hash_ring must keep
        // django-redisdb's 120 points per node to place keys as it does, and measures
        // 29% / 32% / 39% on these keys: checked against a looser bound.
        const [low, high] = hashing === 'ketama' ? [0.28, 0.38] : [0.25, 0.42];
        for (const count of counts) {
          const share = count / KEYS;
          assert.ok(share > low && share < high, `${hashing}: a node holds ${(share * 100).toFixed(1)}% (${counts.join(', ')})`);
        }
        // Ideally a quarter moves, all of it to the new node.
        assert.ok(moved / KEYS <= 0.3, `${hashing}: ${((moved / KEYS) * 100).toFixed(1)}% of keys moved`);
        assert.ok(moved / KEYS >= 0.15, `${hashing}: only ${((moved / KEYS) * 100).toFixed(1)}% moved; the new node is barely used`);
      } finally {
        await Promise.all([three.close(), four.close()]);
      }
    });
  }
});

describe('hash tags', () => {
  it('keys sharing a tag share a node; a tag of {} or none hashes the whole key', async () => {
    const ring = new RedisRing(Array.from({ length: 5 }, (_, i) => `127.0.0.1:${20000 + i}`));
    const off = new RedisRing(Array.from({ length: 5 }, (_, i) => `127.0.0.1:${20000 + i}`), { OPTIONS: { hash_tag: null } });
    try {
      for (let u = 0; u < 50; u++) {
        const node = ring.nodeIndexFor(`{user${u}}`);
        assert.equal(ring.nodeIndexFor(`user:{user${u}}:name`), ring.nodeIndexFor(`user${u}`));
        for (const field of ['name', 'mail', 'cart']) assert.equal(ring.nodeIndexFor(`{user${u}}:${field}`), node);
        assert.equal(ring.nodeIndexFor(Buffer.from(`{user${u}}:bytes`)), node);
      }
      assert.equal(ring.nodeIndexFor('a{}b'), off.nodeIndexFor('a{}b'));
      // Without tags the tagged keys spread like any others.
      const spread = new Set(Array.from({ length: 50 }, (_, f) => off.nodeIndexFor(`{user1}:${f}`)));
      assert.ok(spread.size > 1);
    } finally {
      await Promise.all([ring.close(), off.close()]);
    }
  });

  it('hashes raw bytes exactly, including bytes that are not UTF-8', async () => {
    const ring = new RedisRing({ nodes: Array.from({ length: 7 }, (_, i) => `127.0.0.1:${20000 + i}`), hash_tag: null });
    try {
      const counts = new Array<number>(7).fill(0);
      for (let i = 0; i < 2000; i++) {
        const bytes = Buffer.from([0xff, 0xfe, i & 0xff, i >> 8]);
        // A latin1 decoding would give other bytes and so other nodes; check against the continuum's own hash of these bytes.
        const index = ring.nodeIndexFor(bytes);
        assert.equal(index, ring.continuum.nodeForHash(ring.placement.hashOf(new Uint8Array(bytes))));
        counts[index]!++;
      }
      assert.ok(counts.every((c) => c > 100), `bytes keys spread: ${counts.join(', ')}`);
    } finally {
      await ring.close();
    }
  });
});

describe('failover order for RedisCopy reads', () => {
  it('is the key node, then every other node in the order their points follow round the continuum', async () => {
    const copy = new RedisCopy(Array.from({ length: 4 }, (_, i) => `127.0.0.1:${20000 + i}`));
    try {
      const points = copy.continuum.points();
      for (let i = 0; i < 500; i++) {
        const hash = copy.placement.hashOf(`key:${i}`);
        const order = copy.placement.failoverOrder(hash);
        // A plain walk from the first point >= hash.
        let p = points.findIndex((x) => x.point >= hash);
        if (p < 0) p = 0;
        const walk: number[] = [];
        for (let k = 0; walk.length < 4; k++) {
          const owner = points[(p + k) % points.length]!.index;
          if (!walk.includes(owner)) walk.push(owner);
        }
        assert.deepEqual(order, walk);
        assert.equal(order[0], copy.nodeIndexFor(`key:${i}`));
      }
    } finally {
      await copy.close();
    }
  });
});

describe('the empty key on a backend', () => {
  it('ketama hashes it to 0 as twemproxy by default, and with md5 as libmemcached when asked', () => {
    const nodes = ['127.0.0.1:7001', '127.0.0.1:7002', '127.0.0.1:7003', '127.0.0.1:7004'];
    const zero = new RedisRing(nodes);
    const md5 = new RedisRing(nodes, { OPTIONS: { empty_key_hash: 'md5' } });
    assert.equal(zero.continuum.emptyKeyHash, 'zero');
    assert.equal(md5.continuum.emptyKeyHash, 'md5');
    assert.equal(zero.placement.hashOf(''), 0);
    assert.equal(md5.placement.hashOf(''), 3649838548);
    assert.throws(() => new RedisRing(nodes, { OPTIONS: { hashing: 'hash_ring', empty_key_hash: 'zero' } }), ConfigError);
    assert.throws(() => new RedisRing({ nodes, emptyKeyHash: 'sha1' as never }), /empty_key_hash must be 'zero' or 'md5'/);
    zero.disconnect();
    md5.disconnect();
  });
});
