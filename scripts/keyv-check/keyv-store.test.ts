/**
 * redisdb's Keyv store under Keyv's own usage and under cache-manager, against real servers.
 * Run with `npm install && npm test` in this directory.
 */
import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, it } from 'node:test';
import Keyv from 'keyv';
import { createCache } from 'cache-manager';
import { RedisCopy, RedisRing } from '../../src/backends/index.ts';
import { redisdbKeyvStore } from '../../src/cache/keyv-store.ts';
import { ConstRedis } from '../../src/client/const-redis.ts';
import { useServers } from '../../test/helpers/servers.ts';

for (const kind of ['RedisRing', 'RedisCopy'] as const) {
  describe(`Keyv on a ${kind} of three nodes`, () => {
    const servers = useServers(3);
    let backend: RedisRing | RedisCopy;
    let raw: ConstRedis[];
    before(() => {
      const location = servers.map((s) => s.address);
      backend = kind === 'RedisRing' ? new RedisRing(location) : new RedisCopy(location);
      raw = servers.map((s) => new ConstRedis(s.url));
    });
    after(async () => {
      await backend.close();
      await Promise.all(raw.map((r) => r.close()));
    });
    beforeEach(async () => {
      await Promise.all(raw.map((r) => r.flushdb()));
    });

    /** How many servers hold a key. */
    const holders = async (key: string): Promise<number> => (await Promise.all(raw.map((r) => r.exists(key)))).filter(Boolean).length;

    it('set / get / has / delete, with Keyv serializing the values', async () => {
      const keyv = new Keyv({ store: redisdbKeyvStore(backend) });
      assert.equal(await keyv.set('user:1', { name: 'Ada', tags: ['x'] }), true);
      assert.deepEqual(await keyv.get('user:1'), { name: 'Ada', tags: ['x'] });
      assert.equal(await keyv.has('user:1'), true);
      assert.equal(await keyv.has('user:2'), false);
      assert.equal(await keyv.get('user:2'), undefined);
      assert.equal(await holders('keyv:user:1'), kind === 'RedisRing' ? 1 : 3);
      assert.equal(await keyv.delete('user:1'), true);
      assert.equal(await keyv.delete('user:1'), false);
      assert.equal(await keyv.get('user:1'), undefined);
    });

    it('ttl in milliseconds becomes the key\'s expiry in Redis', async () => {
      const keyv = new Keyv({ store: redisdbKeyvStore(backend) });
      await keyv.set('short', 'v', 5000);
      await keyv.set('forever', 'v');
      const pttls = await Promise.all(raw.map((r) => r.pttl('keyv:short')));
      const pttl = Math.max(...pttls);
      assert.ok(pttl > 4000 && pttl <= 5000, `pttl ${pttl}`);
      assert.equal(Math.max(...(await Promise.all(raw.map((r) => r.pttl('keyv:forever'))))), -1);
    });

    it('getMany / setMany / deleteMany', async () => {
      const keyv = new Keyv({ store: redisdbKeyvStore(backend) });
      const entries = Array.from({ length: 30 }, (_, i) => ({ key: `k${i}`, value: i }));
      assert.deepEqual(await keyv.setMany(entries), entries.map(() => true));
      assert.deepEqual(await keyv.getMany(['k0', 'k7', 'nope', 'k29']), [0, 7, undefined, 29]);
      assert.equal(await keyv.deleteMany(['k0', 'k7']), true);
      assert.deepEqual(await keyv.get(['k0', 'k1']), [undefined, 1]);
    });

    it('namespaces are isolated, and clear() empties only its own', async () => {
      const a = new Keyv({ store: redisdbKeyvStore(backend), namespace: 'a' });
      const b = new Keyv({ store: redisdbKeyvStore(backend), namespace: 'b' });
      await a.set('same', 'from a');
      await b.set('same', 'from b');
      assert.equal(await a.get('same'), 'from a');
      assert.equal(await b.get('same'), 'from b');
      for (let i = 0; i < 50; i++) await a.set(`n${i}`, i);
      await raw[0]!.set('unrelated', 'stays');
      await a.clear();
      assert.equal(await a.get('same'), undefined);
      assert.equal(await a.get('n3'), undefined);
      assert.equal(await b.get('same'), 'from b');
      assert.equal(await raw[0]!.get('unrelated'), 'stays');
    });

    it('iterates over its namespace, each key once', async () => {
      const keyv = new Keyv({ store: redisdbKeyvStore(backend), namespace: 'it' });
      const other = new Keyv({ store: redisdbKeyvStore(backend), namespace: 'other' });
      for (let i = 0; i < 25; i++) await keyv.set(`k${i}`, i);
      await other.set('k0', 'not mine');
      assert.ok(keyv.iterator !== undefined, 'Keyv sees the store as iterable');
      const seen = new Map<string, unknown>();
      for await (const [key, value] of keyv.iterator!()) {
        assert.equal(seen.has(key as string), false, `${String(key)} once`);
        seen.set(key as string, value);
      }
      assert.equal(seen.size, 25);
      assert.equal(seen.get('k7'), 7);
    });

    it('errors reach Keyv\'s error event', async () => {
      const broken = new RedisRing(['127.0.0.1:1'], { OPTIONS: { socket_connect_timeout: 0.5, maxReconnectDelay: 10 } });
      const keyv = new Keyv({ store: redisdbKeyvStore(broken), throwOnErrors: false });
      const errors: unknown[] = [];
      keyv.on('error', (e) => errors.push(e));
      assert.equal(await keyv.get('x'), undefined);
      assert.ok(errors.length >= 1, 'the failed read was reported');
      await broken.close();
    });

    it('cache-manager on top of Keyv: set / get / ttl / wrap / mget / del / clear', async () => {
      const keyv = new Keyv({ store: redisdbKeyvStore(backend), namespace: 'cm' });
      const cache = createCache({ stores: [keyv], ttl: 60_000 });
      assert.deepEqual(await cache.set('user:1', { id: 1 }), { id: 1 });
      assert.deepEqual(await cache.get('user:1'), { id: 1 });
      const expires = await cache.ttl('user:1');
      assert.ok(expires !== undefined && expires > Date.now() + 55_000, 'expiry time from the default ttl');
      let computed = 0;
      const load = async (): Promise<string> => { computed++; return 'fresh'; };
      assert.equal(await cache.wrap('page', load), 'fresh');
      assert.equal(await cache.wrap('page', load), 'fresh');
      assert.equal(computed, 1, 'wrap computes once, then reads the cache');
      await cache.mset([{ key: 'a', value: 1 }, { key: 'b', value: 2 }]);
      assert.deepEqual(await cache.mget(['a', 'b', 'c']), [1, 2, undefined]);
      assert.equal(await cache.del('a'), true);
      assert.equal(await cache.get('a'), undefined);
      await cache.clear();
      assert.equal(await cache.get('b'), undefined);
      assert.equal(await holders('cm:b'), 0);
    });
  });
}
