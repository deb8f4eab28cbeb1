/**
 * The reference's Configuration and Quick usage guide, run as written: its CACHES setting
 * (with the two test servers in place of localhost:6379 and localhost:6380) and the replies
 * it documents.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { RedisCopy, RedisRing } from '../../src/backends/index.ts';
import { ConstRedis } from '../../src/client/const-redis.ts';
import { createCaches, type Caches } from '../../src/config/index.ts';
import { useServers } from '../helpers/servers.ts';

describe("the reference's configuration and quick usage guide", () => {
  const servers = useServers(2);
  let caches: Caches;
  let raw: ConstRedis[];

  before(() => {
    const [a, b] = servers.map((s) => s.address);
    const CACHES = {
      'redis_ring': {
        'BACKEND': 'redisdb.backends.RedisRing', // sharding backend
        'DB': 0,
        'LOCATION': [
          a!,
          b!,
        ],
        'OPTIONS': {
          'socket_timeout': 5,
          'socket_connect_timeout': 5,
        },
      },
      'redis_copy': {
        'BACKEND': 'redisdb.backends.RedisCopy', // copying backend
        'DB': 0,
        'LOCATION': [
          a!,
          b!,
        ],
        'OPTIONS': {
          'socket_timeout': 5,
          'socket_connect_timeout': 5,
        },
      },
    };
    caches = createCaches(CACHES);
    raw = servers.map((s) => new ConstRedis(s.url));
  });
  after(async () => {
    await caches.closeAll();
    await Promise.all(raw.map((r) => r.close()));
  });

  it('builds the backends with the options as given (seconds)', () => {
    const ring = caches['redis_ring'] as unknown as RedisRing;
    const copy = caches['redis_copy'] as unknown as RedisCopy;
    assert.equal(ring.nodes.length, 2);
    assert.equal(copy.nodes.length, 2);
    for (const node of [...ring.nodes, ...copy.nodes]) {
      assert.equal(node.options.socketTimeout, 5000);
      assert.equal(node.options.connectTimeout, 5000);
      assert.equal(node.options.db, 0);
    }
    assert.deepEqual(caches.aliases, ['redis_ring', 'redis_copy']);
  });

  it("set: [True] on the ring (one node), [True, True] on the copy (every node)", async () => {
    assert.deepEqual(await caches['redis_ring'].set('one_key', 123), [true]);
    assert.deepEqual(await caches['redis_copy'].set('other_key', 234), [true, true]);
    const ring = caches['redis_ring'] as unknown as RedisRing;
    const home = ring.nodeIndexFor('one_key');
    assert.equal(await raw[home]!.get('one_key'), '123');
    assert.equal(await raw[1 - home]!.get('one_key'), null, 'the ring stores a key on one node only');
    for (const r of raw) assert.equal(await r.get('other_key'), '234');
  });

  it('sorted sets through the copy: one ZADD result per node, then ZRANGE', async () => {
    // The reference's session shows [0, 1]: its first node already held the members.
    await raw[0]!.zadd('myzset', { one: 1, two: 2, three: 3 });
    assert.deepEqual(await caches['redis_copy'].zadd('myzset', 1, 'one'), [0, 1]);
    assert.deepEqual(await caches['redis_copy'].zadd('myzset', 2, 'two'), [0, 1]);
    assert.deepEqual(await caches['redis_copy'].zadd('myzset', 3, 'three'), [0, 1]);
    assert.deepEqual(await caches['redis_copy'].zrange('myzset', 0, -1), ['one', 'two', 'three']);
    assert.deepEqual(await caches['redis_copy'].zrange('myzset', 0, -1, { withscores: true }), [['one', 1], ['two', 2], ['three', 3]]);
  });

  it('return values: a save to the copy answers for each node', async () => {
    assert.deepEqual(await caches['redis_copy'].set('key1', 2), [true, true]);
  });

  it('the same aliases give the Django cache facade as .cache', async () => {
    const cache = caches['redis_copy'].cache;
    await cache.set('greeting', 'hello', 30);
    assert.equal(await cache.get('greeting'), 'hello');
    for (const r of raw) assert.equal(await r.get(':1:greeting'), '"hello"');
    assert.equal(await caches['redis_ring'].cache.add('ring-only', 'x'), true);
    assert.equal(await caches['redis_ring'].cache.add('ring-only', 'y'), false);
  });
});
