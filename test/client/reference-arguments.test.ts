import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { ConstRedis } from '../../src/client/const-redis.js';
import { useServers } from '../helpers/servers.js';

describe("ConstRedis: the reference's arguments", () => {
  const servers = useServers(1);
  let r: ConstRedis;
  before(() => {
    r = new ConstRedis({ port: servers[0]!.port });
  });
  after(async () => {
    await r.close();
  });

  it('zinterstore / zunionstore take keys as a { key: weight } mapping, with aggregate as a keyword', async () => {
    await r.zadd('w:a', { x: 1, y: 1 });
    await r.zadd('w:b', { x: 2, y: 2 });
    await r.zadd('w:c', { x: 3 });
    assert.equal(await r.zinterstore('w:d', { 'w:a': 1, 'w:b': 2, 'w:c': 3 }), 1);
    assert.deepEqual(await r.zrange('w:d', 0, -1, { withscores: true }), [['x', 1 + 4 + 9]]);
    assert.equal(await r.zunionstore('w:u', { 'w:a': 1, 'w:b': 2, 'w:c': 3 }), 2);
    assert.deepEqual(await r.zrange('w:u', 0, -1, { withscores: true }), [['y', 5], ['x', 14]]);
    assert.equal(await r.zunionstore('w:m', { 'w:a': 1, 'w:b': 2, 'w:c': 3 }, { aggregate: 'MAX' }), 2);
    assert.deepEqual(await r.zrange('w:m', 0, -1, { withscores: true }), [['y', 4], ['x', 9]]);
    assert.equal(await r.zinterstore('w:n', ['w:a', 'w:b'], { aggregate: 'MIN' }), 2);
    assert.deepEqual(await r.zrange('w:n', 0, -1, { withscores: true }), [['x', 1], ['y', 1]]);
    assert.equal(await r.zinterstore('w:p', { 'w:a': 2, 'w:b': 1 }, 'MAX'), 2);
    assert.deepEqual(await r.zrange('w:p', 0, -1, { withscores: true }), [['x', 2], ['y', 2]]);
    // A key named like the keyword is still a key of the mapping.
    await r.zadd('aggregate', { x: 5 });
    assert.equal(await r.zunionstore('w:q', { aggregate: 2 }), 1);
    assert.deepEqual(await r.zrange('w:q', 0, -1, { withscores: true }), [['x', 10]]);
  });
});
