import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { RedisRing } from '../../src/backends/index.ts';
import { redisdbKeyvStore, type RedisdbKeyvStore } from '../../src/cache/keyv-store.ts';
import { ConstRedis } from '../../src/client/const-redis.ts';
import { useServers } from '../helpers/servers.ts';

// Keyv itself is exercised in scripts/keyv-check; this checks the store's own contract.
describe('RedisdbKeyvStore on a RedisRing', () => {
  const servers = useServers(2);
  let ring: RedisRing;
  let raw: ConstRedis[];
  let store: RedisdbKeyvStore;
  before(() => {
    ring = new RedisRing(servers.map((s) => s.address));
    raw = servers.map((s) => new ConstRedis(s.url));
    store = redisdbKeyvStore(ring, { namespace: 'ns' });
  });
  after(async () => {
    await store.disconnect();
    await Promise.all(raw.map((r) => r.close()));
  });

  it('keeps strings as given, with ttl in milliseconds', async () => {
    assert.equal(await store.set('ns:a', '{"value":1}', 3000), true);
    assert.equal(await store.get('ns:a'), '{"value":1}');
    const pttl = Math.max(...(await Promise.all(raw.map((r) => r.pttl('ns:a')))));
    assert.ok(pttl > 2000 && pttl <= 3000, `pttl ${pttl}`);
    assert.equal(await store.has('ns:a'), true);
    assert.equal(await store.get('ns:missing'), undefined);
  });

  it('getMany answers in the order asked; deleteMany says whether any was deleted', async () => {
    await store.setMany(Array.from({ length: 20 }, (_, i) => ({ key: `ns:k${i}`, value: `v${i}` })));
    assert.deepEqual(await store.getMany(['ns:k3', 'ns:none', 'ns:k19']), ['v3', undefined, 'v19']);
    assert.equal(await store.deleteMany(['ns:k3', 'ns:none']), true);
    assert.equal(await store.deleteMany(['ns:none']), false);
    assert.equal(await store.delete('ns:k4'), true);
    assert.equal(await store.delete('ns:k4'), false);
  });

  it('clear() removes its namespace only', async () => {
    await raw[0]!.set('other:x', '1');
    await store.set('ns:y', '1');
    await store.clear();
    assert.equal(await store.get('ns:y'), undefined);
    assert.equal(await store.get('ns:k5'), undefined);
    assert.equal(await raw[0]!.get('other:x'), '1');
  });

  it('reports failures on its error event and rejects', async () => {
    const broken = redisdbKeyvStore(new RedisRing(['127.0.0.1:1'], { OPTIONS: { socket_connect_timeout: 0.5 } }));
    const seen: unknown[] = [];
    broken.on('error', (e) => seen.push(e));
    await assert.rejects(broken.get('x'));
    assert.equal(seen.length, 1);
    await broken.disconnect();
  });
});

describe('RedisdbKeyvStore under Keyv 6: bare keys, the namespace left to the store', () => {
  const servers = useServers(2);
  let ring: RedisRing;
  let raw: ConstRedis[];
  before(() => {
    ring = new RedisRing(servers.map((s) => s.address));
    raw = servers.map((s) => new ConstRedis(s.url));
  });
  after(async () => {
    await ring.close();
    await Promise.all(raw.map((r) => r.close()));
  });

  /** What Keyv 6 does with a store: reads its capabilities, then sets its namespace. */
  const adopted = (namespace?: string): RedisdbKeyvStore => {
    const store = redisdbKeyvStore(ring);
    assert.equal(store.capabilities, undefined);
    store.namespace = namespace;
    return store;
  };
  const holder = async (key: string): Promise<string | null> => {
    for (const r of raw) {
      const v = await r.get(key);
      if (v !== null) return String(v);
    }
    return null;
  };

  it('stores namespace:key, the layout Keyv 5 makes, so namespaces do not collide', async () => {
    const a = adopted('a');
    const b = adopted('b');
    await a.set('same', 'from a');
    await b.set('same', 'from b');
    assert.equal(await a.get('same'), 'from a');
    assert.equal(await b.get('same'), 'from b');
    assert.equal(await holder('a:same'), 'from a');
    assert.equal(await holder('same'), null);
    // A store under Keyv 5 (keys prefixed by Keyv) reads the same data.
    assert.equal(await redisdbKeyvStore(ring, { namespace: 'a' }).get('a:same'), 'from a');
    await a.setMany([{ key: 'k1', value: 'v1' }, { key: 'k2', value: 'v2', ttl: 5000 }]);
    assert.deepEqual(await a.getMany(['k1', 'none', 'k2']), ['v1', undefined, 'v2']);
    assert.deepEqual(await a.hasMany(['k1', 'none']), [true, false]);
    assert.ok(Math.max(...(await Promise.all(raw.map((r) => r.pttl('a:k2'))))) > 4000);
    assert.equal(await a.delete('k1'), true);
    assert.equal(await a.deleteMany(['k2', 'none']), true);
    assert.equal(await a.has('k2'), false);
  });

  it('iterates over its namespace with the keys as Keyv 6 handed them, and clears only it', async () => {
    const it6 = adopted('it');
    const other = adopted('other');
    for (let i = 0; i < 30; i++) await it6.set(`k${i}`, `v${i}`);
    await other.set('k0', 'not mine');
    const seen = new Map<string, string>();
    for await (const [key, value] of it6.iterator('it')) seen.set(key, value);
    assert.equal(seen.size, 30);
    assert.equal(seen.get('k7'), 'v7');
    await it6.clear();
    assert.equal(await it6.get('k3'), undefined);
    assert.equal(await other.get('k0'), 'not mine');
    assert.equal(await holder('it:k3'), null);
  });

  it('clear() without a namespace deletes what the store wrote and nothing else, never FLUSHDB', async () => {
    await raw[0]!.set('foreign:1', 'stays');
    await raw[1]!.set('foreign:2', 'stays');
    await Promise.all(raw.map((r) => r.call('CONFIG', 'RESETSTAT')));
    for (const store of [adopted(), redisdbKeyvStore(ring)]) {
      for (let i = 0; i < 20; i++) await store.set(`bare${i}`, `v${i}`);
      await store.delete('bare0');
      const listed: string[] = [];
      for await (const [key] of store.iterator()) listed.push(key);
      assert.deepEqual(listed.sort(), Array.from({ length: 19 }, (_, i) => `bare${i + 1}`).sort());
      await store.clear();
      for (let i = 0; i < 20; i++) assert.equal(await holder(`bare${i}`), null);
    }
    assert.equal(await raw[0]!.get('foreign:1'), 'stays');
    assert.equal(await raw[1]!.get('foreign:2'), 'stays');
    for (const r of raw) assert.doesNotMatch(await r.call('INFO', 'commandstats') as string, /cmdstat_flushdb/);
  });
});
