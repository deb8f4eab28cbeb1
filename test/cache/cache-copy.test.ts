import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { RedisCopy } from '../../src/backends/index.ts';
import { Cache } from '../../src/cache/cache.ts';
import { ConstRedis } from '../../src/client/const-redis.ts';
import { useClients } from '../helpers/clients.ts';
import { useServers } from '../helpers/servers.ts';
import { facadeSuite } from './facade-suite.ts';

facadeSuite('Cache over a RedisCopy of two nodes', 2, (servers) => new RedisCopy(servers.map((s) => s.address)));

describe('Cache over a RedisCopy: writes everywhere, reads fail over', () => {
  const servers = useServers(2);
  let copy: RedisCopy;
  let raw: ConstRedis[];
  useClients(() => {
    copy = new RedisCopy(servers.map((s) => s.address), { OPTIONS: { socket_connect_timeout: 1, maxReconnectDelay: 50 } });
    raw = servers.map((s) => new ConstRedis(s.url));
    return [copy, ...raw];
  });

  it('set reaches every node; add answers with what the key\'s read node did', async () => {
    const cache = new Cache(copy);
    await cache.set('both', [1, 2]);
    for (const r of raw) assert.equal(await r.get(':1:both'), '[1,2]');

    // Nodes that drifted apart: only the read node has the key.
    const key = cache.makeKey('drift');
    const read = copy.nodeIndexFor(key);
    await raw[read]!.set(key, '"old"');
    assert.equal(await cache.add('drift', 'new'), false, 'the read node kept its value');
    assert.equal(await raw[1 - read]!.get(key), '"new"', 'the other node was written');
    assert.equal(await cache.get('drift'), 'old');
  });

  it('with one node killed, reads fail over and writes still land on the live node', async () => {
    const cache = new Cache(copy);
    const values: Record<string, number> = {};
    for (let i = 0; i < 20; i++) values[`k${i}`] = i;
    assert.deepEqual(await cache.setMany(values), []);
    await servers[0]!.kill();
    try {
      assert.deepEqual(await cache.getMany(Object.keys(values)), values);
      for (const k of Object.keys(values)) assert.equal(await cache.get(k), values[k]);
      await cache.set('after', 'kill');
      assert.equal(await raw[1]!.get(':1:after'), '"kill"');
      assert.equal(await cache.get('after'), 'kill');
      assert.equal(await cache.incr('k5', 10), 15);
    } finally {
      await servers[0]!.start();
    }
  });
});
