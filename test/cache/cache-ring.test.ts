import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { RedisRing } from '../../src/backends/index.ts';
import { Cache } from '../../src/cache/cache.ts';
import { ConstRedis } from '../../src/client/const-redis.ts';
import { useClients } from '../helpers/clients.ts';
import { useServers } from '../helpers/servers.ts';
import { facadeSuite } from './facade-suite.ts';

facadeSuite('Cache over a RedisRing of three nodes', 3, (servers) => new RedisRing(servers.map((s) => s.address)));

/** How many times each server ran a command, from INFO commandstats. */
async function calls(raw: ConstRedis[], command: string): Promise<number[]> {
  return Promise.all(raw.map(async (r) => {
    const info = await r.call('INFO', 'commandstats') as string;
    const m = new RegExp(`cmdstat_${command}:calls=(\\d+)`).exec(info);
    return m === null ? 0 : Number(m[1]);
  }));
}

/** Socket reads each server has processed (INFO stats total_reads_processed). */
async function reads(raw: ConstRedis[]): Promise<number[]> {
  return Promise.all(raw.map(async (r) => Number(/total_reads_processed:(\d+)/.exec(await r.call('INFO', 'stats') as string)![1])));
}

describe('Cache over a RedisRing: multi-key calls grouped per node', () => {
  const servers = useServers(3);
  let ring: RedisRing;
  let raw: ConstRedis[];
  useClients(() => {
    ring = new RedisRing(servers.map((s) => s.address));
    raw = servers.map((s) => new ConstRedis(s.url));
    return [ring, ...raw];
  });

  it('setMany puts each key on its node; getMany reads them with one MGET per node', async () => {
    const cache = new Cache(ring);
    const data: Record<string, number> = {};
    for (let i = 0; i < 300; i++) data[`user:${i}`] = i;
    assert.deepEqual(await cache.setMany(data), []);
    const perNode = [0, 0, 0];
    for (const key of Object.keys(data)) {
      const i = ring.nodeIndexFor(cache.makeKey(key));
      perNode[i]!++;
      assert.equal(await raw[i]!.get(cache.makeKey(key)), String(data[key]), `${key} is on its node`);
    }
    assert.ok(perNode.every((n) => n > 50), `keys spread over the nodes: ${perNode}`);
    await Promise.all(raw.map((r) => r.call('CONFIG', 'RESETSTAT')));
    assert.deepEqual(await cache.getMany(Object.keys(data)), data);
    assert.deepEqual(await calls(raw, 'mget'), [1, 1, 1]);
    assert.deepEqual(await calls(raw, 'get'), [0, 0, 0]);
  });

  it('setMany reaches each node in one round trip: its SETs arrive together', async () => {
    const cache = new Cache(ring);
    await cache.set('warm', 1); // the ring learns its command table first
    const data: Record<string, number> = {};
    for (let i = 0; i < 90; i++) data[`batch:${i}`] = i;
    const readsBefore = await reads(raw);
    assert.deepEqual(await cache.setMany(data, 60), []);
    const readsAfter = await reads(raw);
    // Each node read the ~30 SETs meant for it in one go (the INFO that measures is one more read).
    for (let i = 0; i < raw.length; i++) assert.ok(readsAfter[i]! - readsBefore[i]! <= 3, `node ${i}: ${readsAfter[i]! - readsBefore[i]!} reads`);
    assert.deepEqual(await cache.getMany(Object.keys(data)), data);
  });
});

describe('.cache on a backend made directly', () => {
  const servers = useServers(2);
  it('is the facade with default options, the same object each time', async () => {
    await import('../../src/cache/index.ts');
    const ring = new RedisRing(servers.map((s) => s.address));
    const single = new ConstRedis(servers[0]!.url);
    try {
      assert.ok(ring.cache instanceof Cache);
      assert.equal(ring.cache, ring.cache);
      assert.equal(ring.cache.options.timeout, 300);
      await ring.cache.set('direct', { ok: true });
      assert.deepEqual(await ring.cache.get('direct'), { ok: true });
      assert.equal(await ring.exists(':1:direct'), true, 'commands still work beside it');
      await single.cache.set('one', 1, null);
      assert.equal(await single.get(':1:one'), '1');
    } finally {
      await ring.close();
      await single.close();
    }
  });
});
