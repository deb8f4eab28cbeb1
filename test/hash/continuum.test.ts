import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, it } from 'node:test';

import { Continuum, ketamaPointsFor } from '../../src/hash/continuum.ts';
import type { ContinuumNode } from '../../src/hash/continuum.ts';
import { md5FirstWord } from '../../src/hash/md5.ts';

interface ContinuumCase {
  readonly id: string;
  readonly nodes: ContinuumNode[];
  readonly exclude: number[];
  readonly pointsPerNode?: number[];
  /** Either the continuum itself, or its size and checksum when big. */
  readonly points?: number[];
  readonly owners?: number[];
  readonly pointCount?: number;
  readonly pointsMd5?: string;
  readonly keys: Array<[string, number, number]>;
  readonly hashes: Array<[number, number]>;
}

interface RoutingCase {
  readonly id: string;
  readonly nodes: ContinuumNode[];
  readonly hashTag: string | null;
  readonly keys: Array<[string, number]>;
}

function load<T>(name: string): { source: string; cases: T[] } {
  return JSON.parse(readFileSync(new URL(`./vectors/${name}`, import.meta.url), 'utf8')) as {
    source: string;
    cases: T[];
  };
}

const libmemcached = load<ContinuumCase>('ketama-libmemcached.json');
const twemproxy = load<RoutingCase>('ketama-twemproxy.json');
const hashRing = load<ContinuumCase>('hash-ring.json');

/** Collapses repeated points the way lookups see them: `keep` picks the owner of a run. */
function distinct(points: number[], owners: number[], keep: 'first' | 'last'): Array<{ point: number; index: number }> {
  const out: Array<{ point: number; index: number }> = [];
  points.forEach((point, i) => {
    const last = out[out.length - 1];
    if (last !== undefined && last.point === point) {
      if (keep === 'last') last.index = owners[i]!;
    } else {
      out.push({ point, index: owners[i]! });
    }
  });
  return out;
}

function checkContinuumCase(c: ContinuumCase, continuum: Continuum, keep: 'first' | 'last'): void {
  if (c.points !== undefined && c.owners !== undefined) {
    assert.deepEqual(continuum.points(), distinct(c.points, c.owners, keep), `${c.id}: continuum`);
  } else {
    const text = continuum
      .points()
      .map((p) => `${p.point} ${p.index}\n`)
      .join('');
    assert.equal(continuum.pointCount, c.pointCount, `${c.id}: point count`);
    assert.equal(createHash('md5').update(text).digest('hex'), c.pointsMd5, `${c.id}: continuum checksum`);
  }
  for (const [key, hash, index] of c.keys) {
    assert.equal(md5FirstWord(key), hash, `${c.id}: hash of ${JSON.stringify(key)}`);
    assert.equal(continuum.hashOf(key), hash, `${c.id}: hashOf ${JSON.stringify(key)}`);
    assert.equal(continuum.nodeFor(key), index, `${c.id}: node for ${JSON.stringify(key)}`);
  }
  for (const [hash, index] of c.hashes) {
    assert.equal(continuum.nodeForHash(hash), index, `${c.id}: node for hash ${hash}`);
  }
}

function equalNodes(count: number, prefix = 'node'): ContinuumNode[] {
  return Array.from({ length: count }, (_, i) => ({ name: `${prefix}-${i}`, weight: 1 }));
}

describe('Continuum, ketama mode', () => {
  it(`matches libmemcached (${libmemcached.source})`, () => {
    assert.ok(libmemcached.cases.length >= 10);
    for (const c of libmemcached.cases) {
      // libmemcached has no hash tags: compare on whole keys.
      const continuum = new Continuum(c.nodes, { mode: 'ketama', hashTag: null, exclude: c.exclude });
      assert.deepEqual(continuum.pointsPerNode(), c.pointsPerNode, `${c.id}: points per node`);
      checkContinuumCase(c, continuum, 'first');
    }
  });

  it(`routes like ${twemproxy.source}, hash tags included`, () => {
    assert.ok(twemproxy.cases.length >= 5);
    for (const c of twemproxy.cases) {
      const continuum = new Continuum(c.nodes, { hashTag: c.hashTag });
      for (const [key, index] of c.keys) {
        assert.equal(continuum.nodeFor(key), index, `${c.id}: node for ${JSON.stringify(key)}`);
      }
    }
  });

  it('covers wrapping keys and hashes on, just below and just above points', () => {
    for (const c of libmemcached.cases.filter((x) => x.nodes.length > 1)) {
      const points = c.points ?? [];
      const last = points[points.length - 1]!;
      assert.ok(c.keys.some(([, hash]) => hash > last), `${c.id}: no wrapping key`);
      assert.ok(c.hashes.some(([hash]) => hash === 0xffffffff));
      const onPoint = c.hashes.filter(([hash]) => points.includes(hash));
      assert.ok(onPoint.length >= 10, `${c.id}: too few hashes on points`);
    }
  });

  it('gives 160 points per node for equal weights, in float32 like the C clients', () => {
    assert.deepEqual(new Continuum(equalNodes(3)).pointsPerNode(), [160, 160, 160]);
    assert.equal(new Continuum(equalNodes(3)).pointCount, 480);
    // Double arithmetic would round these down by one group of four.
    assert.equal(ketamaPointsFor(1, 7, 7), 160);
    assert.equal(ketamaPointsFor(8, 14, 7), 640);
    assert.equal(ketamaPointsFor(1, 25, 25), 156);
  });

  it('lets the lowest node index own a point two nodes share', () => {
    // Both names' first digests contain the 32-bit word 3596398895.
    const a = { name: '10.20.115.70:6379', weight: 1 };
    const b = { name: '10.20.157.239:6379', weight: 1 };
    const shared = 3596398895;
    for (const nodes of [[a, b], [b, a]]) {
      const continuum = new Continuum(nodes);
      assert.equal(continuum.pointCount, 319);
      assert.deepEqual(continuum.locateHash(shared), { hash: shared, point: shared, index: 0 });
      assert.equal(continuum.nodeForHash(shared - 1), 0);
      // Without the lower index the other node owns it.
      assert.equal(continuum.without([0]).nodeForHash(shared), 1);
    }
  });

  it('finds the first point >= hash', () => {
    const continuum = new Continuum(equalNodes(2));
    const [first, second] = continuum.points();
    assert.ok(first !== undefined && second !== undefined);
    assert.equal(continuum.locateHash(first.point).point, first.point);
    assert.equal(continuum.locateHash(first.point + 1).point, second.point);
    assert.equal(continuum.locateHash(0).point, first.point);
    const lastPoint = continuum.points().at(-1)!.point;
    assert.equal(continuum.locateHash(lastPoint).point, lastPoint);
    if (lastPoint < 0xffffffff) assert.equal(continuum.locateHash(lastPoint + 1).point, first.point);
  });

  it('hashes the tagged part of a key by default', () => {
    const continuum = new Continuum(equalNodes(4));
    assert.equal(continuum.hashTag, '{}');
    assert.equal(continuum.hashOf('user:{42}:name'), md5FirstWord('42'));
    const groups = new Set(['a', 'b', 'c', 'd', 'e'].map((field) => continuum.nodeFor(`user:{1001}:${field}`)));
    assert.equal(groups.size, 1);
    assert.equal(continuum.hashOf('user:{}:x'), md5FirstWord('user:{}:x'));
    assert.equal(new Continuum(equalNodes(4), { hashTag: null }).hashOf('user:{42}:name'), md5FirstWord('user:{42}:name'));
    assert.equal(new Continuum(equalNodes(4), { hashTag: '$$' }).hashOf('a$b$c{d}'), md5FirstWord('b'));
  });

  it('hashes the empty key to 0, as twemproxy does', () => {
    const continuum = new Continuum(equalNodes(5));
    assert.equal(continuum.hashOf(''), 0);
    assert.equal(continuum.nodeFor(''), continuum.nodeForHash(0));
  });

  it("hashes the empty key with md5 under emptyKeyHash 'md5', where libmemcached puts it", () => {
    // libmemcached 1.1.4's memcached_generate_hash(memc, "", 0) on each vector case's nodes,
    // asked through scripts/vectors/ketama-libmemcached.c with the line "K ": the node index.
    const libmemcachedEmptyKey: Record<string, number> = {
      'equal-2': 1, 'equal-3': 0, 'equal-4-named': 3, 'equal-5': 4, 'equal-7': 5, 'equal-25': 0, 'single': 0,
      'weighted-1-2-3': 2, 'weighted-100-250-50-600': 1, 'weighted-7-one-heavy': 1, 'shared-point': 0,
      'shared-point-reversed': 1, 'without-1-of-4': 3, 'without-2-of-4-weighted': 3,
    };
    const md5OfEmpty = 3649838548; // the little-endian first word of md5("") = d41d8cd9...
    assert.equal(md5FirstWord(''), md5OfEmpty);
    let differs = 0;
    for (const c of libmemcached.cases) {
      const expected = libmemcachedEmptyKey[c.id];
      assert.notEqual(expected, undefined, `${c.id}: no libmemcached answer recorded`);
      const md5 = new Continuum(c.nodes, { exclude: c.exclude, emptyKeyHash: 'md5' });
      assert.equal(md5.emptyKeyHash, 'md5');
      assert.equal(md5.hashOf(''), md5OfEmpty, c.id);
      assert.equal(md5.nodeFor(''), expected, `${c.id}: node of ''`);
      assert.equal(md5.locate('').hash, md5OfEmpty, c.id);
      // Other keys are hashed as before, and the default stays twemproxy's 0.
      assert.equal(md5.hashOf('a'), md5FirstWord('a'));
      const zero = new Continuum(c.nodes, { exclude: c.exclude });
      assert.equal(zero.emptyKeyHash, 'zero');
      assert.equal(zero.nodeFor(''), zero.nodeForHash(0), c.id);
      assert.equal(new Continuum(c.nodes, { exclude: c.exclude, emptyKeyHash: 'zero' }).hashOf(''), 0);
      if (zero.nodeFor('') !== md5.nodeFor('')) differs++;
    }
    assert.ok(differs > 0, 'the two rules place the empty key differently on some continuum');
  });

  it('keeps emptyKeyHash through without(), and checks it', () => {
    const md5 = new Continuum(equalNodes(4), { emptyKeyHash: 'md5' }).without([1]);
    assert.equal(md5.emptyKeyHash, 'md5');
    assert.equal(md5.hashOf(''), md5FirstWord(''));
    assert.equal(new Continuum(equalNodes(4)).without([1]).hashOf(''), 0);
    assert.throws(() => new Continuum(equalNodes(2), { emptyKeyHash: 'crc' as never }), /emptyKeyHash must be 'zero' or 'md5'/);
    // hash_ring hashes '' with md5, as the Python client does; twemproxy's rule is not its own.
    assert.equal(new Continuum(equalNodes(2), { mode: 'hash_ring' }).emptyKeyHash, 'md5');
    assert.equal(new Continuum(equalNodes(2), { mode: 'hash_ring', emptyKeyHash: 'md5' }).hashOf(''), md5FirstWord(''));
    assert.throws(() => new Continuum(equalNodes(2), { mode: 'hash_ring', emptyKeyHash: 'zero' }), RangeError);
  });

  it('explains a placement', () => {
    const continuum = new Continuum(equalNodes(4));
    const placement = continuum.locate('user:{42}:name');
    assert.equal(placement.key, 'user:{42}:name');
    assert.equal(placement.hashedKey, '42');
    assert.equal(placement.hash, md5FirstWord('42'));
    assert.ok(placement.point >= placement.hash || placement.point === continuum.points()[0]!.point);
    assert.equal(placement.index, continuum.nodeFor('user:{42}:name'));
    assert.deepEqual(continuum.locate('plain'), {
      key: 'plain',
      hashedKey: 'plain',
      ...continuum.locateHash(md5FirstWord('plain')),
    });
  });
});

describe('Continuum, hash_ring mode', () => {
  it(`matches the hash_ring algorithm (${hashRing.source})`, () => {
    assert.ok(hashRing.cases.length >= 9);
    for (const c of hashRing.cases) {
      const continuum = new Continuum(c.nodes, { mode: 'hash_ring', exclude: c.exclude });
      checkContinuumCase(c, continuum, 'last');
    }
  });

  it('gives 40 digests of 3 points per node for equal weights, and ignores node names', () => {
    const a = new Continuum(equalNodes(3, 'a'), { mode: 'hash_ring' });
    const b = new Continuum(equalNodes(3, 'b'), { mode: 'hash_ring' });
    assert.deepEqual(a.pointsPerNode(), [120, 120, 120]);
    assert.deepEqual(a.points(), b.points());
    assert.equal(a.hashTag, null);
    assert.equal(a.hashOf('user:{42}:name'), md5FirstWord('user:{42}:name'));
    assert.equal(a.hashOf(''), md5FirstWord(''));
  });

  it('lets the highest node index own a point two nodes share', () => {
    // Digests "313-*" and "396-23" share the 32-bit word 3960841790.
    const shared = 3960841790;
    const continuum = new Continuum(equalNodes(397), { mode: 'hash_ring' });
    assert.equal(continuum.pointCount, 397 * 120 - 1);
    assert.deepEqual(continuum.locateHash(shared - 1), { hash: shared - 1, point: shared, index: 396 });
    assert.notEqual(continuum.locateHash(shared).point, shared);
    assert.equal(continuum.without([396]).nodeForHash(shared - 1), 313);
  });

  it('finds the first point strictly above the hash', () => {
    const continuum = new Continuum(equalNodes(2), { mode: 'hash_ring' });
    const points = continuum.points();
    assert.equal(continuum.locateHash(points[0]!.point).point, points[1]!.point);
    assert.equal(continuum.locateHash(points[0]!.point - 1).point, points[0]!.point);
    assert.equal(continuum.locateHash(0xffffffff).point, points[0]!.point);
  });
});

describe('Continuum distribution', () => {
  const KEYS = 100_000;

  function shares(continuum: Continuum): number[] {
    const counts = continuum.nodes.map(() => 0);
    for (let i = 0; i < KEYS; i++) counts[continuum.nodeFor(`user:${i}`)]!++;
    return counts.map((count) => count / KEYS);
  }

  it('spreads 100,000 keys over 3 equal nodes within 33% ± 5% each (ketama)', () => {
    for (const prefix of ['10.0.0', 'redis', 'cache-eu']) {
      const split = shares(new Continuum(equalNodes(3, prefix)));
      for (const share of split) assert.ok(Math.abs(share - 1 / 3) <= 0.05, `${prefix}: ${split.join(', ')}`);
    }
  });

  it('spreads 100,000 keys over 3 equal nodes within 33% ± 8% each (hash_ring)', () => {
    // hash_ring has 120 points per node, and as nodes are named by index its
    // 3-node split is fixed (about 29/32/40%): the reference gives the same.
    const split = shares(new Continuum(equalNodes(3), { mode: 'hash_ring' }));
    for (const share of split) assert.ok(Math.abs(share - 1 / 3) <= 0.08, split.join(', '));
  });

  it('moves at most 30% of keys when a fourth node is added, all of them to the new node', () => {
    for (const mode of ['ketama', 'hash_ring'] as const) {
      const three = new Continuum(equalNodes(3, '10.0.0'), { mode });
      const four = new Continuum(equalNodes(4, '10.0.0'), { mode });
      let moved = 0;
      for (let i = 0; i < KEYS; i++) {
        const before = three.nodeFor(`user:${i}`);
        const after = four.nodeFor(`user:${i}`);
        if (before !== after) {
          moved++;
          assert.equal(after, 3, `${mode}: key user:${i} moved between old nodes`);
        }
      }
      assert.ok(moved / KEYS <= 0.3, `${mode}: ${moved} keys moved`);
      assert.ok(moved > 0);
    }
  });

  it('follows the weights', () => {
    const continuum = new Continuum([
      { name: 'small', weight: 1 },
      { name: 'large', weight: 3 },
    ]);
    let large = 0;
    for (let i = 0; i < KEYS; i++) if (continuum.nodeFor(`k${i}`) === 1) large++;
    assert.ok(Math.abs(large / KEYS - 0.75) <= 0.05, String(large));
  });
});

describe('Continuum.without', () => {
  it('keeps original indices and leaves keys of the remaining nodes in place', () => {
    for (const mode of ['ketama', 'hash_ring'] as const) {
      const full = new Continuum(equalNodes(4), { mode });
      const reduced = full.without([2]);
      assert.deepEqual(reduced.excluded, [2]);
      assert.equal(reduced.nodes, reduced.nodes);
      assert.deepEqual(reduced.nodes, full.nodes);
      assert.equal(reduced.pointsPerNode()[2], 0);
      for (let i = 0; i < 20_000; i++) {
        const key = `session:${i}`;
        const before = full.nodeFor(key);
        const after = reduced.nodeFor(key);
        assert.notEqual(after, 2);
        if (before !== 2) assert.equal(after, before, `${mode}: ${key}`);
      }
      const fewer = reduced.without(new Set([0]));
      assert.deepEqual(fewer.excluded, [0, 2]);
      for (let i = 0; i < 2000; i++) assert.ok([1, 3].includes(fewer.nodeFor(`k${i}`)));
    }
  });

  it('rebuilds with the remaining weights, like a continuum of the remaining nodes', () => {
    const nodes = [
      { name: 'a:1', weight: 3 },
      { name: 'b:1', weight: 1 },
      { name: 'c:1', weight: 2 },
    ];
    const reduced = new Continuum(nodes).without([0]);
    const direct = new Continuum(nodes.slice(1));
    assert.deepEqual(
      reduced.points(),
      direct.points().map((p) => ({ point: p.point, index: p.index + 1 })),
    );
  });

  it('refuses to exclude every node or an unknown index', () => {
    const continuum = new Continuum(equalNodes(2));
    assert.throws(() => continuum.without([0, 1]), /every node is excluded/);
    assert.throws(() => continuum.without([2]), RangeError);
    assert.throws(() => continuum.without([-1]), RangeError);
    assert.throws(() => continuum.without([0.5]), RangeError);
  });
});

describe('Continuum#ownersFrom', () => {
  /** A plain walk over points(): owners in order from the point that claims `hash`, each once. */
  function walk(continuum: Continuum, hash: number): number[] {
    const points = continuum.points();
    const claims = (p: number): boolean => (continuum.mode === 'hash_ring' ? p > hash : p >= hash);
    let start = points.findIndex((x) => claims(x.point));
    if (start < 0) start = 0;
    const order: number[] = [];
    for (let k = 0; k < points.length; k++) {
      const owner = points[(start + k) % points.length]!.index;
      if (!order.includes(owner)) order.push(owner);
    }
    return order;
  }

  it('walks every live node once from the hash, in both modes and with nodes excluded', () => {
    const continua = [
      new Continuum(equalNodes(5)),
      new Continuum(equalNodes(5), { mode: 'hash_ring' }),
      new Continuum(equalNodes(5), { exclude: [1, 3] }),
      new Continuum(equalNodes(5), { mode: 'hash_ring', exclude: [0] }),
    ];
    for (const continuum of continua) {
      const points = continuum.points();
      const last = points[points.length - 1]!.point;
      // On, just below and just above points, and past the last one (wrapping).
      const hashes = [0, 0xffffffff, last, last + 1, points[0]!.point, points[7]!.point - 1, points[7]!.point + 1];
      for (let i = 0; i < 300; i++) hashes.push(continuum.hashOf(`key:${i}`));
      const live = continuum.nodes.length - continuum.excluded.length;
      for (const hash of hashes) {
        const order = continuum.ownersFrom(hash);
        assert.deepEqual(order, walk(continuum, hash), `${continuum.mode} excluding [${continuum.excluded}]: hash ${hash}`);
        assert.equal(order.length, live);
        assert.equal(order[0], continuum.nodeForHash(hash));
        for (const i of continuum.excluded) assert.ok(!order.includes(i));
      }
    }
  });

  it('checks the hash', () => {
    const continuum = new Continuum(equalNodes(2));
    assert.throws(() => continuum.ownersFrom(-1), RangeError);
    assert.throws(() => continuum.ownersFrom(2 ** 32), RangeError);
  });
});

describe('Continuum validation', () => {
  it('requires at least one node', () => {
    assert.throws(() => new Continuum([]), RangeError);
    assert.throws(() => new Continuum(null as unknown as ContinuumNode[]), TypeError);
  });

  it('requires positive finite numeric weights', () => {
    for (const weight of [0, -1, Number.NaN, Number.POSITIVE_INFINITY]) {
      assert.throws(() => new Continuum([{ name: 'a', weight }]), RangeError, String(weight));
    }
    assert.throws(() => new Continuum([{ name: 'a', weight: '1' as unknown as number }]), TypeError);
    assert.throws(() => new Continuum([{ name: 'a', weight: 2 ** 32 }]), RangeError);
    assert.equal(new Continuum([{ name: 'a', weight: 2 ** 40 }], { mode: 'hash_ring' }).pointsPerNode()[0], 120);
    assert.throws(
      () => new Continuum([{ name: 'a', weight: 1e-50 }, { name: 'b', weight: 1e-50 }]),
      /weights out of range for ketama/,
    );
    // Fractional and very uneven weights are fine.
    assert.deepEqual(new Continuum([{ name: 'a', weight: 0.5 }, { name: 'b', weight: 1.5 }]).pointsPerNode(), [80, 240]);
    assert.deepEqual(
      new Continuum([{ name: 'a', weight: 1 }, { name: 'b', weight: 0xffffffff }]).pointsPerNode(),
      [0, 320],
    );
  });

  it('requires unique non-empty names and names the duplicate', () => {
    assert.throws(
      () =>
        new Continuum([
          { name: '10.0.0.1:6379', weight: 1 },
          { name: '10.0.0.2:6379', weight: 1 },
          { name: '10.0.0.1:6379', weight: 2 },
        ]),
      { name: 'RangeError', message: /duplicate node name "10\.0\.0\.1:6379"/ },
    );
    assert.throws(() => new Continuum([{ name: '', weight: 1 }]), TypeError);
    assert.throws(() => new Continuum([{ weight: 1 } as unknown as ContinuumNode]), TypeError);
    assert.throws(() => new Continuum([null as unknown as ContinuumNode]), TypeError);
  });

  it('checks the mode, the hash tag, keys and raw hashes', () => {
    const nodes = equalNodes(2);
    assert.throws(() => new Continuum(nodes, { mode: 'modula' as unknown as 'ketama' }), TypeError);
    assert.throws(() => new Continuum(nodes, { hashTag: '{' }), TypeError);
    const continuum = new Continuum(nodes);
    assert.throws(() => continuum.nodeFor(1 as unknown as string), TypeError);
    for (const hash of [-1, 2 ** 32, 1.5, Number.NaN]) {
      assert.throws(() => continuum.nodeForHash(hash), RangeError, String(hash));
    }
  });

  it('copies and freezes the node list', () => {
    const nodes = equalNodes(2);
    const continuum = new Continuum(nodes);
    nodes[0] = { name: 'changed', weight: 5 };
    assert.equal(continuum.nodes[0]!.name, 'node-0');
    assert.ok(Object.isFrozen(continuum.nodes) && Object.isFrozen(continuum.nodes[0]));
  });
});

describe('Continuum#nodeFor allocation', () => {
  it('runs 2,000,000 lookups without triggering a garbage collection', () => {
    const probe = fileURLToPath(new URL('./fixtures/gc-probe.ts', import.meta.url));
    for (const mode of ['ketama', 'hash_ring']) {
      // Same runtime flags (the TypeScript loader) as this test process;
      // optimizing on the main thread keeps a loaded machine from measuring
      // unoptimized code.
      const flags = ['--trace-gc', '--no-concurrent-recompilation', '--no-concurrent-osr'];
      const child = spawnSync(process.execPath, [...process.execArgv, ...flags, probe, mode, '2000000'], {
        encoding: 'utf8',
      });
      assert.equal(child.status, 0, child.stderr);
      const lines = child.stdout.split('\n');
      const start = lines.findIndex((line) => line.startsWith('GC-PROBE-START'));
      const end = lines.findIndex((line) => line.startsWith('GC-PROBE-END'));
      assert.ok(start >= 0 && end > start, child.stdout);
      // 2M lookups boxing even one number each would need several scavenges.
      const collections = lines.slice(start + 1, end).filter((line) => /Scavenge|Mark-Compact/.test(line));
      assert.ok(collections.length <= 1, `${mode}: ${collections.join('\n')}`);
    }
  });
});
