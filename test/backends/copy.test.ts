/**
 * RedisCopy on real servers: writes on every node at once with one result each, reads from
 * the key's node and from the next node when it is gone, and the reference's usage guide.
 */
import assert from 'node:assert/strict';
import { beforeEach, describe, it } from 'node:test';
import { ConstRedis } from '../../src/client/const-redis.ts';
import { NodesFailedError, RedisCopy } from '../../src/backends/index.ts';
import { ConnectionError, ReplyError } from '../../src/errors.ts';
import { useClients } from '../helpers/clients.ts';
import { useServers } from '../helpers/servers.ts';
import { eventually } from '../helpers/wait.ts';

describe('RedisCopy on two servers', () => {
  const servers = useServers(2);
  let copy: RedisCopy;
  let direct: ConstRedis[];

  useClients(() => {
    copy = new RedisCopy(servers.map((s) => s.address), { DB: 0, OPTIONS: { socket_timeout: 5, socket_connect_timeout: 5 } });
    direct = servers.map((s) => new ConstRedis(s.url));
    return [copy, ...direct];
  });
  beforeEach(async () => {
    await Promise.all(direct.map((d) => d.flushdb()));
  });

  it('follows the reference quick usage guide, with its return values', async () => {
    assert.deepEqual(await copy.set('other_key', 234), [true, true]);
    assert.deepEqual(await copy.set('key1', 2), [true, true]);
    // The guide shows [0, 1] for each zadd: the member was already in the set on its first
    // node (a run before, or a node that had seen it) and new on the second. Two fresh
    // servers would give [1, 1]; put each member on node 0 first to reproduce the guide.
    for (const [score, member] of [[1, 'one'], [2, 'two'], [3, 'three']] as const) {
      await direct[0]!.zadd('myzset', score, member);
      assert.deepEqual(await copy.zadd('myzset', score, member), [0, 1]);
    }
    assert.deepEqual(await copy.zrange('myzset', 0, -1), ['one', 'two', 'three']);
    assert.deepEqual(await copy.zrange('myzset', 0, -1, { withscores: true }), [['one', 1], ['two', 2], ['three', 3]]);
  });

  it('after a write, every node holds the same value', async () => {
    assert.deepEqual(await copy.set('same', 'value'), [true, true]);
    assert.deepEqual(await copy.hset('h', { a: 1, b: 2 }), [2, 2]);
    assert.deepEqual(await copy.incr('n', 5), [5, 5]);
    assert.deepEqual(await copy.mset({ m1: 'x', m2: 'y' }), [true, true]);
    assert.deepEqual(await copy.rpush('l', 'a', 'b'), [2, 2]);
    for (const d of direct) {
      assert.equal(await d.get('same'), 'value');
      assert.deepEqual(await d.hgetall('h'), { a: '1', b: '2' });
      assert.equal(await d.get('n'), '5');
      assert.deepEqual(await d.mget('m1', 'm2'), ['x', 'y']);
      assert.deepEqual(await d.lrange('l', 0, -1), ['a', 'b']);
    }
  });

  it('reads come from the key node alone, and return the reply itself', async () => {
    // Different values per node show which node answered.
    const keys = Array.from({ length: 20 }, (_, i) => `r:${i}`);
    await Promise.all(direct.map((d, n) => d.mset(Object.fromEntries(keys.map((k) => [k, `node${n}`])))));
    for (const k of keys) assert.equal(await copy.get(k), `node${copy.nodeIndexFor(k)}`);
    assert.ok(new Set(keys.map((k) => copy.nodeIndexFor(k))).size === 2);
    // Several keys: every node has them all, so the first key's node answers.
    assert.deepEqual(await copy.mget(keys.slice(0, 3)), keys.slice(0, 3).map(() => `node${copy.nodeIndexFor(keys[0]!)}`));
    assert.equal(await copy.exists(keys), keys.length);
  });

  it('commands this library never names: getex writes everywhere, object_encoding reads one node', async () => {
    await copy.set('gx', 'v');
    assert.deepEqual(await copy.getex('gx', 'PX', 100_000), ['v', 'v']);
    for (const d of direct) assert.ok(((await d.pttl('gx')) as number) > 90_000);
    await copy.rpush('{q}a', 'x');
    assert.deepEqual(await copy.lmpop(2, '{q}a', '{q}b', 'LEFT'), [['{q}a', ['x']], ['{q}a', ['x']]]);
    for (const d of direct) assert.equal(await d.exists('{q}a'), false);
    assert.equal(await copy.object_encoding('gx'), 'embstr');
  });

  it('commands without keys run on every node', async () => {
    await copy.set('k', 1);
    assert.deepEqual(await copy.ping(), [true, true]);
    assert.deepEqual(await copy.dbsize(), [1, 1]);
    assert.deepEqual(await copy.keys('*'), [['k'], ['k']]);
    assert.deepEqual(await copy.flushdb(), [true, true]);
  });

  it("a node's error takes its slot; the call rejects only when every node failed", async () => {
    await direct[1]!.set('t', 'not a list');
    const results = (await copy.rpush('t', 'x')) as unknown[];
    assert.equal(results[0], 1);
    assert.ok(results[1] instanceof ReplyError && results[1].code === 'WRONGTYPE');
    // Node 1 missed a write node 0 applied: it is repaired from node 0 before it serves again.
    await eventually(() => copy.health.allUp && copy.hints.count(1) === 0, 5000, 'node 1 repaired');
    assert.deepEqual(await direct[1]!.lrange('t', 0, -1), ['x']);
    await direct[0]!.set('t2', 'string');
    await direct[1]!.set('t2', 'string');
    await assert.rejects(copy.rpush('t2', 'x'), (err: unknown) => {
      assert.ok(err instanceof NodesFailedError);
      assert.equal(err.errors.length, 2);
      assert.ok(err.errors.every((e) => e instanceof ReplyError && e.code === 'WRONGTYPE'));
      assert.deepEqual(err.nodes, copy.addresses);
      assert.match(err.message, /^RPUSH failed on every node \(127\.0\.0\.1:\d+: WRONGTYPE/);
      return true;
    });
  });

  it('an error the server sends for a read is final: no other node is asked', async () => {
    const key = 'wrongtype';
    const own = copy.nodeIndexFor(key);
    await direct[own]!.set(key, 'string');
    await direct[1 - own]!.rpush(key, 'a');
    await assert.rejects(copy.lrange(key, 0, -1), (err: unknown) => err instanceof ReplyError && err.code === 'WRONGTYPE');
  });

  it('a write with a bad argument is a TypeError before anything is sent to any node', async () => {
    await copy.set('bad', 'before');
    await assert.rejects(copy.call('SET', 'bad', { x: 1 }), (e: unknown) => e instanceof TypeError && /argument 2 is an object/.test(e.message));
    assert.deepEqual(await Promise.all(direct.map((d) => d.get('bad'))), ['before', 'before']);
    assert.ok(copy.health.allUp);
  });

  it('writes are sent to every node at once, not one after the other', async () => {
    // BLPOP is a write, so each node runs it, and each waits out its 0.5 s timeout on an
    // empty list: in parallel the call takes about 0.5 s, one after the other at least 1 s.
    const started = performance.now();
    const popped = await copy.blpop('never', 0.5);
    const took = performance.now() - started;
    assert.deepEqual(popped, [null, null]);
    assert.ok(took >= 450 && took < 950, `two 500 ms waits took ${took.toFixed(0)} ms`);
  });
});

describe('RedisCopy with nodes going down', () => {
  const servers = useServers(3);

  it('reads succeed with the key node killed, from the next node round the continuum', async () => {
    const copy = new RedisCopy(servers.map((s) => s.address), { OPTIONS: { socket_timeout: 2, socket_connect_timeout: 2 } });
    try {
      const keys = Array.from({ length: 30 }, (_, i) => `k:${i}`);
      for (const k of keys) assert.deepEqual(await copy.set(k, k), [true, true, true]);
      const victim = copy.nodeIndexFor(keys[0]!);
      await servers[victim]!.kill();
      for (const k of keys) assert.equal(await copy.get(k), k);
      assert.equal(await copy.exists(keys[0]!), true);
      // A write still lands on the live nodes; the dead one's slot holds its error.
      const results = (await copy.set('after', 1)) as unknown[];
      results.forEach((r, n) => {
        if (n === victim) assert.ok(r instanceof ConnectionError, String(r));
        else assert.equal(r, true);
      });
      // With a second node gone, the last one still answers every read.
      const second = [0, 1, 2].find((n) => n !== victim)!;
      await servers[second]!.kill();
      for (const k of keys) assert.equal(await copy.get(k), k);
      // A backend made now learns its routes from the node still up, whichever it is.
      const fresh = new RedisCopy(servers.map((s) => s.address), { OPTIONS: { socket_connect_timeout: 2 } });
      try {
        for (const k of keys) assert.equal(await fresh.get(k), k);
        assert.equal(await fresh.object_encoding(keys[0]!), 'embstr');
        assert.deepEqual(await fresh.mget(keys.slice(0, 3)), keys.slice(0, 3));
      } finally {
        await fresh.close();
      }
      const last = [0, 1, 2].find((n) => n !== victim && n !== second)!;
      await servers[last]!.kill();
      await assert.rejects(copy.get(keys[0]!), (err: unknown) => {
        assert.ok(err instanceof NodesFailedError, String(err));
        assert.equal(err.errors.length, 3);
        assert.ok(err.errors.every((e) => e instanceof ConnectionError));
        return true;
      });
      await assert.rejects(copy.set('nowhere', 1), NodesFailedError);
    } finally {
      await copy.close();
    }
  });
});

describe('RedisCopy with a node that hangs', () => {
  const servers = useServers(2);

  it('answers within socket_timeout: the write has an error in that slot, the read fails over', async () => {
    const copy = new RedisCopy(servers.map((s) => s.address), { OPTIONS: { socket_timeout: 0.5, socket_connect_timeout: 1 } });
    try {
      const key = Array.from({ length: 50 }, (_, i) => `hang:${i}`).find((k) => copy.nodeIndexFor(k) === 0)!;
      assert.deepEqual(await copy.set(key, 'v'), [true, true]);
      servers[0]!.pause();
      try {
        let started = performance.now();
        const results = (await copy.set(key, 'w')) as unknown[];
        let took = performance.now() - started;
        assert.ok(results[0] instanceof ConnectionError, `the hung node's slot: ${String(results[0])}`);
        assert.equal(results[1], true);
        assert.ok(took < 1500, `the write took ${took.toFixed(0)} ms`);
        started = performance.now();
        assert.equal(await copy.get(key), 'w');
        took = performance.now() - started;
        assert.ok(took < 1500, `the read took ${took.toFixed(0)} ms`);
      } finally {
        servers[0]!.resume();
      }
    } finally {
      await copy.close();
    }
  });
});

describe('RedisCopy whose first node hangs before anything was learned', () => {
  const servers = useServers(2);

  it('learns its routes from the next node within the connect timeout, even without socket_timeout', async () => {
    const copy = new RedisCopy(servers.map((s) => s.address), { OPTIONS: { socket_connect_timeout: 0.5 } });
    try {
      const key = Array.from({ length: 50 }, (_, i) => `h:${i}`).find((k) => copy.nodeIndexFor(k) === 1)!;
      await copy.nodes[1]!.set(key, 'from node 1');
      servers[0]!.pause();
      try {
        const started = performance.now();
        assert.equal(await copy.get(key), 'from node 1');
        const took = performance.now() - started;
        assert.ok(took < 2000, `the first read took ${took.toFixed(0)} ms`);
      } finally {
        servers[0]!.resume();
      }
    } finally {
      await copy.close();
    }
  });
});
