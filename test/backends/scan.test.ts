import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { ConstRedis } from '../../src/client/const-redis.ts';
import { RedisCopy, RedisRing } from '../../src/backends/index.ts';
import { useClients } from '../helpers/clients.ts';
import { useServers } from '../helpers/servers.ts';
import { collect } from '../helpers/wait.ts';

describe('scan iterators on backends', () => {
  const servers = useServers(3);
  let ring: RedisRing;
  let copy: RedisCopy;

  useClients(() => {
    ring = new RedisRing(servers.map((s) => s.address), { DB: 0 });
    copy = new RedisCopy(servers.map((s) => s.address), { DB: 1 });
    return [ring, copy];
  });
  before(async () => {
    const pipe = ring.pipeline({ transaction: false });
    for (let i = 0; i < 10_000; i++) pipe.set(`k:${i}`, i);
    await pipe.exec();
  });

  it('a scan over 10,000 keys spread on 3 Ring nodes yields each exactly once', async () => {
    const perNode = await Promise.all(ring.nodes.map((n) => n.dbsize()));
    assert.ok(perNode.every((n) => (n as number) > 2000), `keys per node: ${perNode}`);
    const keys = (await collect(ring.scan_iter({ count: 500 }))).map(String);
    assert.equal(keys.length, 10_000);
    const unique = new Set(keys);
    assert.equal(unique.size, 10_000);
    for (let i = 0; i < 10_000; i++) assert.ok(unique.has(`k:${i}`));
  });

  it('filters with match on every node', async () => {
    const keys = (await collect(ring.scanIter({ match: 'k:99??', count: 1000 }))).map(String).sort();
    assert.deepEqual(keys, Array.from({ length: 100 }, (_, i) => `k:${9900 + i}`).sort());
  });

  it('RedisCopy scans one node, since each holds every key', async () => {
    for (let i = 0; i < 50; i++) await copy.set(`c:${i}`, i);
    const keys = (await collect(copy.scan_iter())).map(String);
    assert.equal(keys.length, 50);
    assert.equal(new Set(keys).size, 50);
  });

  it('RedisCopy scans from the next healthy node when the first is down', async () => {
    const dead = servers[0]!;
    const lonely = new RedisCopy([dead.address, servers[1]!.address], { DB: 2, OPTIONS: { socket_connect_timeout: 1 } });
    try {
      await lonely.set('x:1', 1);
      await lonely.set('x:2', 2);
      await dead.kill();
      const keys = (await collect(lonely.scan_iter())).map(String).sort();
      assert.deepEqual(keys, ['x:1', 'x:2']);
    } finally {
      await dead.start();
      await lonely.close();
    }
  });

  it('hscan / sscan / zscan walk one key on its node', async () => {
    await ring.hset('h', { a: '1', b: '2' });
    await ring.sadd('s', 'x', 'y', 'z');
    await ring.zadd('z', { m: 1.5 });
    assert.deepEqual((await collect(ring.hscan_iter('h'))).sort(), [['a', '1'], ['b', '2']]);
    assert.deepEqual((await collect(ring.sscan_iter('s'))).sort(), ['x', 'y', 'z']);
    assert.deepEqual(await collect(ring.zscan_iter('z')), [['m', 1.5]]);
    const node = new ConstRedis(servers[ring.nodeIndexFor('h')]!.url);
    try {
      assert.deepEqual(await node.hgetall('h'), { a: '1', b: '2' });
    } finally {
      await node.close();
    }
  });

  it('refuses bad options before sending', () => {
    assert.throws(() => ring.scan_iter({ count: -1 }), RangeError);
    assert.throws(() => ring.hscan_iter(5 as never), TypeError);
  });
});
