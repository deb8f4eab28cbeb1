/**
 * Routes: what the server's command table says about a command, and what happens when the
 * server says nothing (COMMAND renamed away, or a server from before key specs and tips).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseCommandInfo } from '../../src/client/command-table.ts';
import { RedisCopy, RedisRing, routeOf } from '../../src/backends/index.ts';
import type { Reply } from '../../src/resp/decode.ts';
import { useServers } from '../helpers/servers.ts';

/** A COMMAND INFO entry as Redis 6 sends it: name, arity, flags, first key, last key, step, categories. */
function redis6(name: string, arity: number, flags: string[], first: number, last: number, step: number): Reply {
  return [name, arity, flags, first, last, step, ['@keyspace']];
}

describe('routes from servers before Redis 7 (no key specs, no tips)', () => {
  const route = (r: Reply) => routeOf(parseCommandInfo(r));

  it('one key at a fixed place: the fast path', () => {
    const get = route(redis6('get', 2, ['readonly', 'fast'], 1, 1, 1));
    assert.equal(get.keys, 'fixed');
    assert.equal(get.keyIndex, 1);
    assert.equal(get.writes, false);
    assert.equal(route(redis6('set', -3, ['write', 'denyoom'], 1, 1, 1)).writes, true);
  });

  it('MGET, MSET, DEL, UNLINK, EXISTS, TOUCH split per node; MSETNX and RENAME do not', () => {
    const mget = route(redis6('mget', -2, ['readonly', 'fast'], 1, -1, 1));
    assert.deepEqual([mget.splittable, mget.merge, mget.keyStep], [true, 'ordered', 1]);
    const mset = route(redis6('mset', -3, ['write', 'denyoom'], 1, -1, 2));
    assert.deepEqual([mset.splittable, mset.keyStep, mset.writes], [true, 2, true]);
    for (const name of ['del', 'unlink', 'exists', 'touch']) {
      const r = route(redis6(name, -2, name === 'exists' || name === 'touch' ? ['readonly'] : ['write'], 1, -1, 1));
      assert.deepEqual([r.splittable, r.merge], [true, 'sum'], name);
    }
    assert.equal(route(redis6('msetnx', -3, ['write', 'denyoom'], 1, -1, 2)).splittable, false);
    assert.equal(route(redis6('rename', 3, ['write'], 1, 2, 1)).splittable, false);
  });

  it('no keys: every node; movable keys it cannot find: the first argument', () => {
    assert.equal(route(redis6('dbsize', 1, ['readonly', 'fast'], 0, 0, 0)).keys, 'none');
    assert.equal(route(redis6('zunionstore', -4, ['write', 'denyoom', 'movablekeys'], 0, 0, 0)).keys, 'first');
  });

  it('a command the server does not know is a write whose first argument is the key', () => {
    const unknown = routeOf(null);
    assert.deepEqual([unknown.keys, unknown.writes, unknown.splittable], ['first', true, false]);
  });

  it('Redis 7 tips win: MSETNX is tagged multi_shard, yet its all-or-nothing min keeps it whole', () => {
    const msetnx = route([
      'msetnx', -3, ['write', 'denyoom'], 1, -1, 2, ['@write'], ['request_policy:multi_shard', 'response_policy:agg_min'],
      [['flags', ['OW', 'insert'], 'begin_search', ['type', 'index', 'spec', ['index', 1]], 'find_keys', ['type', 'range', 'spec', ['lastkey', -1, 'keystep', 2, 'limit', 0]]]],
      [],
    ]);
    assert.deepEqual([msetnx.keys, msetnx.merge, msetnx.splittable], ['search', 'min', false]);
  });
});

describe('a server whose COMMAND is renamed away', () => {
  const servers = useServers(2, ['--rename-command', 'COMMAND', '']);

  it('routes with the table shipped with redisdb: the same keys, nodes and reply shapes as when the server says', async () => {
    const ring = new RedisRing(servers.map((s) => s.address));
    const copy = new RedisCopy(servers.map((s) => s.address));
    try {
      assert.deepEqual(await ring.set('k', 'v'), [true]);
      assert.equal(await ring.get('k'), 'v');
      assert.deepEqual(await ring.nodeFor('k').get('k'), 'v');
      assert.equal(await ring.nodes[1 - ring.nodeIndexFor('k')]!.get('k'), null);
      // MSET and MGET split per node, each key on its own node, replies in the caller's order.
      const other = Array.from({ length: 50 }, (_, i) => `o${i}`).find((x) => ring.nodeIndexFor(x) !== ring.nodeIndexFor('k'))!;
      await ring.mset({ k: 'v2', [other]: 'w' });
      assert.equal(await ring.nodeFor(other).get(other), 'w');
      assert.equal(await ring.nodeFor('k').get('k'), 'v2');
      assert.deepEqual(await ring.mget('k', other), ['v2', 'w']);
      assert.deepEqual(await copy.set('c', 1), [true, true]);
      assert.equal(await copy.get('c'), '1');
      // No arguments, so no key: every node answers.
      assert.deepEqual(await ring.ping(), [true, true]);
    } finally {
      await Promise.all([ring.close(), copy.close()]);
    }
  });
});

describe('an ACL user that may not run COMMAND', () => {
  const servers = useServers(2);

  it('routes with the table shipped with redisdb', async () => {
    for (const s of servers) {
      const admin = new RedisRing([s.address]);
      await admin.call('ACL', 'SETUSER', 'app', 'on', '>app-secret', '~*', '&*', '+@all', '-command');
      await admin.close();
    }
    const ring = new RedisRing({ nodes: servers.map((s) => s.address), username: 'app', password: 'app-secret' });
    try {
      await assert.rejects(ring.nodes[0]!.call('COMMAND', 'COUNT'), /NOPERM/);
      const keys = Array.from({ length: 20 }, (_, i) => `acl:${i}`);
      await ring.mset(Object.fromEntries(keys.map((k) => [k, k])));
      for (const k of keys) assert.equal(await ring.nodeFor(k).get(k), k);
      assert.deepEqual(await ring.mget(keys), keys);
      assert.equal(await ring.get(keys[0]!), keys[0]);
    } finally {
      await ring.close();
    }
  });
});
