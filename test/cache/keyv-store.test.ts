import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { RedisRing } from '../../src/backends/index.js';
import { redisdbKeyvStore, type RedisdbKeyvStore } from '../../src/cache/keyv-store.js';
import { ConstRedis } from '../../src/client/const-redis.js';
import { useServers } from '../helpers/servers.js';

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
