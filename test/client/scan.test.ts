import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { ConstRedis } from '../../src/client/const-redis.ts';
import { useClients } from '../helpers/clients.ts';
import { useServers } from '../helpers/servers.ts';
import { collect } from '../helpers/wait.ts';

describe('scan iterators on one node', () => {
  const servers = useServers(1);
  let client: ConstRedis;

  useClients(() => {
    client = new ConstRedis({ port: servers[0]!.port, socketTimeout: 2000 });
    return [client];
  });
  before(async () => {
    const pipe = client.pipeline({ transaction: false });
    for (let i = 0; i < 2000; i++) pipe.set(`s:key:${i}`, i);
    for (let i = 0; i < 300; i++) pipe.hset('s:hash', `f${i}`, `v${i}`);
    for (let i = 0; i < 300; i++) pipe.sadd('s:set', `m${i}`);
    for (let i = 0; i < 300; i++) pipe.zadd('s:zset', i / 2, `z${i}`);
    pipe.rpush('s:list', 'x');
    await pipe.exec();
  });

  it('scan_iter walks the whole keyspace, every key once, over many cursor steps', async () => {
    const keys = (await collect(client.scan_iter({ count: 50 }))).map(String);
    assert.equal(keys.length, 2004);
    assert.equal(new Set(keys).size, 2004);
    assert.ok(keys.includes('s:key:1999'));
  });

  it('scanIter filters with match and type', async () => {
    const ones = (await collect(client.scanIter({ match: 's:key:1??', count: 100 }))).map(String).sort();
    assert.deepEqual(ones, Array.from({ length: 100 }, (_, i) => `s:key:${100 + i}`).sort());
    const hashes = await collect(client.scanIter({ type: 'hash' }));
    assert.deepEqual(hashes, ['s:hash']);
  });

  it('hscan_iter yields [field, value] pairs', async () => {
    const pairs = await collect(client.hscan_iter('s:hash', { count: 20 }));
    assert.equal(pairs.length, 300);
    assert.deepEqual(Object.fromEntries(pairs), Object.fromEntries(Array.from({ length: 300 }, (_, i) => [`f${i}`, `v${i}`])));
    const matched = await collect(client.hscanIter('s:hash', { match: 'f1?' }));
    assert.equal(matched.length, 10);
  });

  it('sscan_iter yields members', async () => {
    const members = (await collect(client.sscan_iter('s:set', { count: 30 }))).map(String).sort();
    assert.deepEqual(members, Array.from({ length: 300 }, (_, i) => `m${i}`).sort());
  });

  it('zscan_iter yields [member, score] with numeric scores, or cast ones', async () => {
    const pairs = await collect(client.zscan_iter('s:zset', { count: 30 }));
    assert.equal(pairs.length, 300);
    assert.deepEqual(pairs.find(([m]) => m === 'z7'), ['z7', 3.5]);
    const cast = await collect(client.zscanIter('s:zset', { match: 'z7', score_cast_func: (s) => `<${s}>` }));
    assert.deepEqual(cast, [['z7', '<3.5>']]);
  });

  it('ends at once on an empty or missing key', async () => {
    assert.deepEqual(await collect(client.sscan_iter('s:missing')), []);
    assert.deepEqual(await collect(client.scan_iter({ match: 'nothing-matches-*' })), []);
  });

  it('refuses bad options when the iterator is made, before anything is sent', () => {
    assert.throws(() => client.scan_iter({ count: 0 }), RangeError);
    assert.throws(() => client.scan_iter({ count: 1.5 }), RangeError);
    assert.throws(() => client.scan_iter({ match: 5 } as never), TypeError);
    assert.throws(() => client.scan_iter({ cout: 5 } as never), TypeError);
    assert.throws(() => client.hscan_iter(42 as never), TypeError);
    assert.throws(() => client.sscan_iter('k', { type: 'set' } as never), TypeError);
  });

  it('reports a wrong-type key as the server does', async () => {
    await assert.rejects(collect(client.hscan_iter('s:list')), /WRONGTYPE/);
  });
});
